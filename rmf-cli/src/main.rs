//! The `rmf` command: record a demo episode, inspect, validate and recover RMF files.
//!
//! Thin over rmf-core: every check and every byte layout lives there. Errors print one line and
//! exit non-zero; there is no panic on bad input.

use std::path::PathBuf;
use std::process::ExitCode;

mod edits;
mod mcap;
use rmf_import::wav;

use clap::{Parser, Subcommand};
use rmf_core::{EpisodeReader, Key, ReadOptions, Secret, Sensitivity, StreamKind, WriteOptions};
use rmf_dataset::share::{share, verify_provenance, ShareOptions};
use rmf_testkit::demo::{record_demo, DemoOptions};

#[derive(Parser)]
#[command(
    name = "rmf",
    version,
    about = "Robot Multimodal Format: record, inspect, validate and recover episode files",
    after_help = "Exit codes:\n  0  success\n  1  the command ran and found a problem: validate (the file is damaged), \
verify-provenance (a mismatch), index (some files unreadable)\n  2  error: bad arguments, an unreadable or damaged \
input, a wrong or missing key; the message names the file, stream and byte offset (with --json also as \
{\"error\": ..., \"offset\": ...} on stdout)"
)]
struct Cli {
    /// Key file that opens encrypted streams (32 raw bytes or 64 hex digits, as `rmf keygen`
    /// writes); else the environment: RMF_KEY (hex), RMF_KEY_FILE, or RMF_PASSPHRASE.
    #[arg(long, global = true, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Print one JSON object (the result, or {"error": ...}) instead of text, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// Whether this run prints JSON.
static JSON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

pub(crate) fn json_mode() -> bool {
    JSON.get().copied().unwrap_or(false)
}

/// The spinner of a long command, shown on stderr until it prints its result.
static SPINNER: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Shows "`what` ... elapsed" on stderr while a long command works (not with --json; indicatif
/// draws nothing when stderr is not a terminal).
fn start_spinner(what: &str) {
    if json_mode() {
        return;
    }
    let pb = indicatif::ProgressBar::new_spinner().with_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.set_message(what.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    if let Ok(mut s) = SPINNER.lock() {
        *s = Some(pb);
    }
}

/// A callback that turns this command's spinner into a bar of bytes done (for commands whose
/// work rmf-core can measure: edits, transcode, share, import-mcap).
pub(crate) fn progress() -> rmf_core::Progress {
    let styled = std::sync::atomic::AtomicBool::new(false);
    rmf_core::Progress::new(move |done, total| {
        let Some(pb) = SPINNER.lock().ok().and_then(|s| s.clone()) else {
            return;
        };
        if !styled.swap(true, std::sync::atomic::Ordering::Relaxed) {
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes}, {bytes_per_sec}, {eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
        }
        pb.set_length(total);
        pb.set_position(done);
    })
}

/// Clears the spinner before a command prints.
pub(crate) fn spinner_done() {
    if let Some(pb) = SPINNER.lock().ok().and_then(|mut s| s.take()) {
        pb.finish_and_clear();
    }
}

/// Prints a command's result: `text` for people, or `value` as one line of JSON.
pub(crate) fn say(text: impl std::fmt::Display, value: serde_json::Value) {
    spinner_done();
    if json_mode() {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// The key or passphrase of this run, from --key-file or the environment.
static SECRET: std::sync::OnceLock<Option<Secret>> = std::sync::OnceLock::new();

/// Opens an episode with this run's key, if any.
pub(crate) fn open(path: &std::path::Path) -> Result<EpisodeReader, rmf_core::Error> {
    EpisodeReader::open_with(path, read_options())
}

fn read_options() -> ReadOptions {
    ReadOptions {
        secret: SECRET.get().cloned().flatten(),
        ..ReadOptions::default()
    }
}

fn secret_from(key_file: Option<&std::path::Path>) -> Result<Option<Secret>, rmf_core::Error> {
    match key_file {
        Some(path) => Key::from_file(path).map(|k| Some(Secret::Key(k))),
        None => Secret::from_env(),
    }
}

/// Settings of the lossy frame codecs.
#[derive(clap::Args)]
struct CodecSettings {
    /// JPEG quality, 1-100 (default 90).
    #[arg(long)]
    quality: Option<u8>,
    /// H.264 quantizer, 0-51, lower is better and bigger (default 22).
    #[arg(long)]
    qp: Option<u8>,
    /// H.264 keyframe interval in frames (default 8).
    #[arg(long)]
    gop: Option<u32>,
}

impl CodecSettings {
    /// The codec named `name` with these settings (a setting of another codec is an error).
    fn codec(&self, name: &str) -> Result<rmf_core::FrameCodec, rmf_core::Error> {
        Ok(rmf_core::FrameCodec::parse_with(
            name,
            self.quality,
            self.qp,
            self.gop,
        )?)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Record a synthetic multimodal episode: two 640x480 cameras at 30 fps, 1 kHz force/torque,
    /// 100 Hz joints, 30 Hz actions, 16 kHz audio and intervention events.
    Demo {
        /// Output file (replaced if it exists).
        out: PathBuf,
        /// Length of the episode in seconds.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Seed of the synthetic data.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// How the cameras are stored: h264 (video, the recording default), jpeg, png or raw
        /// (zstd per frame).
        #[arg(long, default_value = "h264")]
        codec: String,
        #[command(flatten)]
        settings: CodecSettings,
    },
    /// Print metadata, streams (kind, rate, count, duration, bytes, compression) and events.
    Info {
        /// The file.
        file: PathBuf,
    },
    /// Write a new random 32-byte key to FILE (64 hex digits; the file is readable by its owner
    /// only) and print its key id. Episodes recorded with it encrypt their private streams.
    Keygen {
        /// The key file to create (must not exist).
        file: PathBuf,
    },
    /// Copy a dataset for sharing: only streams labelled up to --max-label, minus --drop-stream,
    /// from episodes carrying every --require-tag; each copy records its provenance (source id
    /// and content hashes, what was dropped and why). Encrypted (private) streams never leave.
    Share {
        /// The dataset directory to read (not modified).
        input: PathBuf,
        /// The directory of the shared copy (same layout).
        output: PathBuf,
        /// public or internal.
        #[arg(long)]
        max_label: String,
        /// A stream to leave out whatever its label (repeat for more).
        #[arg(long = "drop-stream")]
        drop_streams: Vec<String>,
        /// An episode tag (in the episode's extra.tags) that must be present (repeat for more).
        #[arg(long = "require-tag")]
        require_tags: Vec<String>,
    },
    /// Check a shared episode against its source: same source id and content hash, and every
    /// kept stream byte for byte the source's. Exit 1 on any mismatch.
    VerifyProvenance {
        /// The shared episode.
        shared: PathBuf,
        /// The source episode.
        source: PathBuf,
    },
    /// Check magic, version, every checksum, the index and every chunk; exit 1 if anything is
    /// wrong, naming stream, chunk and byte offset.
    Validate {
        /// The file.
        file: PathBuf,
    },
    /// Write a complete file holding every intact chunk of a truncated or damaged one.
    Recover {
        /// The damaged file (not modified).
        input: PathBuf,
        /// The new file.
        output: PathBuf,
    },
    /// Write a new file with frame streams re-encoded (e.g. the densest H.264 setting after
    /// recording with a fast one); every other stream is copied chunk for chunk. IN is not
    /// modified; OUT is written beside its name, synced, then renamed into place.
    Transcode {
        /// The episode to read (not modified).
        input: PathBuf,
        /// The new file.
        output: PathBuf,
        /// The frame codec: h264, jpeg, png or raw.
        #[arg(long)]
        codec: String,
        #[command(flatten)]
        settings: CodecSettings,
        /// Re-encode only this frame stream (repeat for more; default: every frame stream).
        #[arg(long = "stream")]
        streams: Vec<String>,
        /// zstd level of what is written anew, raw frames above all: -7..=22 (default 3);
        /// negative levels store raw frames almost as they are and read them fastest.
        #[arg(long, allow_hyphen_values = true)]
        zstd_level: Option<i32>,
    },
    /// Build or refresh DIR/episodes.parquet, the dataset index: one row per .rmf episode under
    /// DIR (sub-folders included), read from the files' footers. Files whose size and time did
    /// not change are not read again.
    Index {
        /// The dataset directory.
        dir: PathBuf,
    },
    /// Normalization statistics of every signal stream of a dataset (count, mean, std, min,
    /// max, quantiles 1/5/50/95/99 %), merged from DIR/episodes.parquet without reading the
    /// episodes; builds or refreshes the index first.
    Stats {
        /// The dataset directory.
        dir: PathBuf,
    },
    /// Write a new episode with only the samples of FROM_NS <= t < TO_NS (every stream). Chunks
    /// inside the range are copied; the two at its edges are decoded and written again.
    Trim {
        /// The episode to read (not modified).
        input: PathBuf,
        /// The new episode.
        output: PathBuf,
        /// First time kept, ns on the episode clock.
        #[arg(long = "from", allow_hyphen_values = true)]
        from_ns: i64,
        /// First time after the kept range, ns.
        #[arg(long = "to", allow_hyphen_values = true)]
        to_ns: i64,
    },
    /// Split an episode into parts OUTDIR/<name>-part000.rmf, ... at the given times and/or at
    /// every event of a kind (e.g. --at-event takeover_start).
    Split {
        /// The episode to read (not modified).
        input: PathBuf,
        /// The directory for the parts.
        outdir: PathBuf,
        /// A split time, ns (repeat for more).
        #[arg(long, allow_hyphen_values = true)]
        at: Vec<i64>,
        /// Split at every event of this kind, in any events stream.
        #[arg(long)]
        at_event: Option<String>,
    },
    /// Join episodes with the same streams into one, in time order (they must not overlap);
    /// chunks are copied byte for byte.
    Merge {
        /// The episodes to join.
        #[arg(required = true, num_args = 2..)]
        inputs: Vec<PathBuf>,
        /// The new episode.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Blank a stream's samples in FROM_NS <= t < TO_NS (black frames, silence, NaN or 0, event
    /// text removed) into a new file, logged as a `redaction` event in `rmf/redactions`.
    Redact {
        /// The episode to read (not modified).
        input: PathBuf,
        /// The new file.
        output: PathBuf,
        /// The stream to blank.
        #[arg(long)]
        stream: String,
        /// First time blanked, ns.
        #[arg(long = "from", allow_hyphen_values = true)]
        from_ns: i64,
        /// First time after the blanked range, ns.
        #[arg(long = "to", allow_hyphen_values = true)]
        to_ns: i64,
        /// Why (kept in the log).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Import a LeRobot dataset (v2.x/v3.0) or a robomimic/ALOHA HDF5 file: runs the Python
    /// importer `python -m rmf.convert lerobot|hdf5 SRC DST [OPTIONS]` (needs the rmf Python
    /// package with av and h5py; RMF_PYTHON names the interpreter, default python3). Options
    /// after DST go to it, e.g. `--rate 50` (hdf5) or `--codec jpeg`.
    Import {
        /// lerobot or hdf5.
        format: String,
        /// Source, destination and the importer's options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        args: Vec<String>,
    },
    /// Write a new file without some streams (IN is not modified; OUT is renamed into place).
    DropStream {
        /// The episode to read.
        input: PathBuf,
        /// The new file.
        output: PathBuf,
        /// A stream to leave out (repeat for more).
        #[arg(long = "stream", required = true)]
        streams: Vec<String>,
    },
    /// Write a new file with a stream renamed.
    RenameStream {
        /// The episode to read.
        input: PathBuf,
        /// The new file.
        output: PathBuf,
        /// The stream's name.
        from: String,
        /// Its new name.
        to: String,
    },
    /// Write a new file with new sensitivity labels, stream tags or episode metadata; samples
    /// are copied unchanged.
    Relabel {
        /// The episode to read.
        input: PathBuf,
        /// The new file.
        output: PathBuf,
        /// STREAM=public|internal|private (repeat for more).
        #[arg(long = "sensitivity")]
        sensitivity: Vec<String>,
        /// STREAM:KEY=VALUE sets a stream tag; an empty VALUE removes it (repeat for more).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// KEY=VALUE sets episode metadata: robot, task, operator, or a free key (VALUE is
        /// JSON if it parses, else a string; `null` removes a free key).
        #[arg(long = "meta")]
        meta: Vec<String>,
        /// An episode tag to add to extra.tags, e.g. licence:CC-BY-4.0 (repeat for more).
        #[arg(long = "add-tag")]
        add_tags: Vec<String>,
        /// An episode tag to remove from extra.tags (repeat for more).
        #[arg(long = "remove-tag")]
        remove_tags: Vec<String>,
    },
    /// Write a frame stream's frames to OUTDIR as other tools read them: for h264 one H.264
    /// elementary stream (frames.h264; e.g. `ffmpeg -r 30 -i frames.h264 -c copy out.mp4`), for
    /// jpeg and png one image file per frame as stored, for raw one PNG per frame; and
    /// timestamps.csv (frame, file, t_ns).
    ExportFrames {
        /// The episode.
        file: PathBuf,
        /// The frame stream.
        #[arg(long)]
        stream: String,
        /// The output directory (created; must not hold files of a previous export).
        outdir: PathBuf,
    },
    /// Write a stream as a table: Parquet (DuckDB, polars, pandas read it; any stream) or CSV
    /// (signals and events), chosen by OUT's extension or --format. Columns: t_ns, then the
    /// elements (named by the stream's axis names), or kind, operator, text, payload (events),
    /// samples (audio: interleaved, per block), frame (decoded pixels).
    Export {
        /// The episode.
        file: PathBuf,
        /// The stream.
        #[arg(long)]
        stream: String,
        /// The table file to write (must not exist).
        out: PathBuf,
        /// parquet or csv (default: from OUT's extension).
        #[arg(long)]
        format: Option<String>,
    },
    /// Make an episode with one audio stream from a WAV file (16-bit integer or 32-bit float,
    /// any number of channels). Sample i is at START + i / rate on the episode clock.
    ImportWav {
        /// The WAV file.
        wav: PathBuf,
        /// The new episode file.
        out: PathBuf,
        /// Name of the audio stream.
        #[arg(long, default_value = "mic")]
        stream: String,
        /// Episode-clock time of the first sample, ns.
        #[arg(long, default_value_t = 0)]
        start_ns: i64,
        /// Block length in milliseconds (each block is stamped with its first sample's time).
        #[arg(long, default_value_t = 20)]
        block_ms: u32,
        /// Replace OUT if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Make an episode from an MCAP file of ROS 2 messages (a ROS 2 bag): Image and
    /// CompressedImage become frames, JointState, Imu and WrenchStamped float64 signals, other
    /// types `raw` events (unless --skip-unknown). Samples are stamped with the message header's
    /// stamp (or the log time with --log-time); prints what became of every topic.
    ImportMcap {
        /// The MCAP file.
        input: PathBuf,
        /// The new episode file.
        output: PathBuf,
        /// Stamp samples with the MCAP log time (when recorded) instead of the header stamp.
        #[arg(long)]
        log_time: bool,
        /// Skip topics of types that are not mapped, instead of keeping them as raw events.
        #[arg(long)]
        skip_unknown: bool,
        /// Import only this topic (repeat for more).
        #[arg(long = "topic", value_name = "T")]
        topics: Vec<String>,
        /// Codec of rgb8 and gray8 images: h264 (default), jpeg, png or raw; depth (gray16)
        /// is always lossless (png).
        #[arg(long)]
        codec: Option<String>,
        #[command(flatten)]
        settings: CodecSettings,
        /// Replace OUTPUT if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Write an audio stream to a WAV file, sample-exact; prints the episode-clock time of the
    /// first sample. Gaps between blocks are an error unless --fill-gaps.
    ExportWav {
        /// The episode.
        file: PathBuf,
        /// The WAV file to write.
        wav: PathBuf,
        /// The audio stream (default: the episode's only one).
        #[arg(long)]
        stream: Option<String>,
        /// Export blocks starting at or after this time, ns.
        #[arg(long, default_value_t = i64::MIN, allow_hyphen_values = true)]
        start_ns: i64,
        /// Export blocks starting before this time, ns.
        #[arg(long, default_value_t = i64::MAX, allow_hyphen_values = true)]
        end_ns: i64,
        /// Write silence for gaps between blocks instead of failing.
        #[arg(long)]
        fill_gaps: bool,
    },
}

fn main() -> ExitCode {
    sigpipe::reset();
    let cli = Cli::parse();
    let _ = JSON.set(cli.json);
    match secret_from(cli.key_file.as_deref()) {
        Ok(secret) => {
            let _ = SECRET.set(secret);
        }
        Err(e) => {
            eprintln!("rmf: error: {e}");
            return ExitCode::from(2);
        }
    }
    let long = match &cli.command {
        Command::Share { .. } => Some("sharing"),
        Command::Transcode { .. } => Some("transcoding"),
        Command::Trim { .. } => Some("trimming"),
        Command::Split { .. } => Some("splitting"),
        Command::Merge { .. } => Some("merging"),
        Command::Redact { .. } => Some("redacting"),
        Command::Validate { .. } => Some("validating"),
        Command::Recover { .. } => Some("recovering"),
        Command::Index { .. } | Command::Stats { .. } => Some("indexing"),
        Command::ImportMcap { .. } => Some("importing"),
        Command::Export { .. } | Command::ExportFrames { .. } | Command::ExportWav { .. } => {
            Some("exporting")
        }
        Command::ImportWav { .. } => Some("importing"),
        Command::DropStream { .. } | Command::RenameStream { .. } | Command::Relabel { .. } => {
            Some("copying")
        }
        _ => None,
    };
    if let Some(what) = long {
        start_spinner(what);
    }
    let result = match cli.command {
        Command::Keygen { file } => keygen(&file),
        Command::Share { input, output, max_label, drop_streams, require_tags } => {
            share_cmd(&input, &output, &max_label, drop_streams, require_tags)
        }
        Command::VerifyProvenance { shared, source } => verify_provenance(&shared, &source).map(|c| {
            if json_mode() {
                println!("{}", serde_json::json!({
                    "shared": c.shared, "source": c.source, "ok": c.is_ok(),
                    "verified_streams": c.verified_streams, "problems": c.problems,
                }));
            } else {
                print!("{c}");
            }
            if c.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }),
        Command::Import { format, args } => python_import(&format, &args),
        Command::Trim { input, output, from_ns, to_ns } => {
            edits::trim(&input, &output, from_ns, to_ns)
        }
        Command::Split { input, outdir, at, at_event } => edits::split(&input, &outdir, &at, at_event.as_deref()),
        Command::Merge { inputs, output } => {
            rmf_core::edit::merge(&inputs, &output, edits::write_options()).map(|r| edits::edited("merged", &r))
        }
        Command::Redact { input, output, stream, from_ns, to_ns, reason } => {
            edits::redact(&input, &output, &stream, from_ns, to_ns, &reason)
        }
        Command::Demo { out, seconds, seed, codec, settings } => {
            demo(out, seconds, seed, &codec, &settings)
        }
        Command::Info { file } => info::run(&file, json_mode()),
        Command::Validate { file } => validate(file),
        Command::Recover { input, output } => recover(input, output),
        Command::Index { dir } => index(&dir, json_mode()),
        Command::Export { file, stream, out, format } => export(&file, &stream, &out, format.as_deref()),
        Command::ExportFrames { file, stream, outdir } => export_frames(&file, &stream, &outdir),
        Command::DropStream { input, output, streams } => {
            rmf_core::edit::drop_streams(&input, &output, &streams, edits::write_options()).map(|r| edits::edited("wrote", &r))
        }
        Command::RenameStream { input, output, from, to } => {
            rmf_core::edit::rename_stream(&input, &output, &from, &to, edits::write_options()).map(|r| edits::edited("wrote", &r))
        }
        Command::Relabel { input, output, sensitivity, tags, meta, add_tags, remove_tags } => {
            relabel(&input, &output, &sensitivity, &tags, &meta, &add_tags, &remove_tags)
        }
        Command::Stats { dir } => stats(&dir, json_mode()),
        Command::Transcode { input, output, codec, settings, streams, zstd_level } => {
            transcode(&input, &output, &codec, &settings, streams, zstd_level)
        }
        Command::ImportWav { wav, out, stream, start_ns, block_ms, force } => {
            wav::import(&wav, &out, &stream, start_ns, block_ms, force).map(|i| {
                say(
                    format!(
                        "imported {} frames of {} x {} Hz {} into {} (stream {stream:?}, {} blocks, first sample at {start_ns} ns)",
                        i.frames, i.channels, i.sample_rate, i.dtype, out.display(), i.blocks
                    ),
                    serde_json::json!({
                        "output": out, "stream": stream, "frames": i.frames, "channels": i.channels,
                        "sample_rate": i.sample_rate, "dtype": i.dtype.to_string(), "blocks": i.blocks,
                        "start_ns": start_ns,
                    }),
                );
                ExitCode::SUCCESS
            })
        }
        Command::ImportMcap { input, output, log_time, skip_unknown, topics, codec, settings, force } => mcap::import(mcap::Args { input: &input, output: &output, log_time, skip_unknown, topics, codec: codec.as_deref(), settings: &settings, force }),
        Command::ExportWav { file, wav, stream, start_ns, end_ns, fill_gaps } => {
            open(&file).and_then(|r| wav::export(&r, stream.as_deref(), &wav, start_ns, end_ns, fill_gaps, Some(&progress()))).map(|e| {
                let first = e.first_ns.map_or("-".to_string(), |t| format!("{t} ns"));
                say(
                    format!(
                        "wrote {} frames to {} (first sample at {first}; {} frames of silence filled)",
                        e.frames,
                        wav.display(),
                        e.filled_frames
                    ),
                    serde_json::json!({
                        "output": wav, "frames": e.frames, "first_ns": e.first_ns,
                        "filled_frames": e.filled_frames,
                    }),
                );
                ExitCode::SUCCESS
            })
        }
    };
    spinner_done();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rmf: error: {e}");
            if json_mode() {
                println!(
                    "{}",
                    serde_json::json!({"error": e.to_string(), "offset": e.offset()})
                );
            }
            ExitCode::from(2)
        }
    }
}

type CliResult = Result<ExitCode, rmf_core::Error>;

fn demo(out: PathBuf, seconds: f64, seed: u64, codec: &str, settings: &CodecSettings) -> CliResult {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        return Err(rmf_core::Error::InvalidArgument(format!(
            "--seconds must be in (0, 3600], got {seconds}"
        )));
    }
    let opts = DemoOptions {
        seconds,
        seed,
        frame_codec: settings.codec(codec)?,
        ..DemoOptions::default()
    };
    let started = std::time::Instant::now();
    let summary = record_demo(&out, &opts, WriteOptions::default().with_overwrite(true))?;
    let samples: u64 = summary.samples.iter().map(|(_, n)| n).sum();
    say(
        format!(
            "recorded {} ({:.1} s episode, {} streams, {} samples, {} chunks, {}) in {:.2} s",
            out.display(),
            seconds,
            summary.samples.len(),
            samples,
            summary.chunks,
            info::bytes(summary.bytes),
            started.elapsed().as_secs_f64()
        ),
        serde_json::json!({
            "output": out, "seconds": seconds, "bytes": summary.bytes, "chunks": summary.chunks,
            "samples": summary.samples.iter().map(|(n, c)| (n.clone(), *c)).collect::<std::collections::BTreeMap<_, _>>(),
        }),
    );
    Ok(ExitCode::SUCCESS)
}

fn validate(file: PathBuf) -> CliResult {
    let report = rmf_core::validate_with(&file, read_options())?;
    spinner_done();
    if json_mode() {
        println!(
            "{}",
            serde_json::json!({
                "file": report.file, "ok": report.is_ok(), "finished": report.finished,
                "streams": report.streams, "chunks_checked": report.chunks_checked,
                "samples": report.samples, "sealed_unopened": report.sealed_unopened,
                "problems": report.problems.iter().map(|p| serde_json::json!({
                    "offset": p.offset, "stream": p.stream, "chunk": p.chunk, "message": p.message,
                })).collect::<Vec<_>>(),
            })
        );
    } else {
        print!("{report}");
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn keygen(file: &std::path::Path) -> CliResult {
    use std::io::Write;
    let key = Key::generate()?;
    let mut oo = std::fs::OpenOptions::new();
    oo.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut oo, 0o600);
    let mut f = oo.open(file).map_err(|e| rmf_core::Error::Io {
        path: file.to_path_buf(),
        op: "create key file",
        source: e,
    })?;
    let hex = key.to_hex();
    f.write_all(format!("{}\n", hex.as_str()).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| rmf_core::Error::Io {
            path: file.to_path_buf(),
            op: "write key file",
            source: e,
        })?;
    say(
        format!(
            "wrote key {} to {} (keep it secret; without it encrypted streams cannot be read)",
            key.id(),
            file.display()
        ),
        serde_json::json!({"file": file, "key_id": key.id()}),
    );
    Ok(ExitCode::SUCCESS)
}

fn share_cmd(
    input: &std::path::Path,
    output: &std::path::Path,
    max_label: &str,
    drop_streams: Vec<String>,
    require_tags: Vec<String>,
) -> CliResult {
    let json = json_mode();
    let opts = ShareOptions {
        max_label: Sensitivity::parse(max_label)?,
        drop_streams,
        require_tags,
        progress: Some(progress()),
    };
    let r = share(input, output, &opts)?;
    spinner_done();
    if json {
        let v = serde_json::json!({
            "shared": r.shared.iter().map(|(src, out, p)| serde_json::json!({
                "source": src, "output": out, "provenance": p,
            })).collect::<Vec<_>>(),
            "left_out": r.left_out.iter().map(|(f, why)| serde_json::json!({"file": f, "reason": why})).collect::<Vec<_>>(),
        });
        println!("{v}");
    } else {
        for (_, out, p) in &r.shared {
            let dropped: Vec<String> = p
                .dropped
                .iter()
                .map(|d| format!("{} ({})", d.stream, d.reason))
                .collect();
            println!(
                "  {}: kept {}, dropped {}",
                out.display(),
                p.streams.keys().cloned().collect::<Vec<_>>().join(", "),
                if dropped.is_empty() {
                    "nothing".to_string()
                } else {
                    dropped.join(", ")
                }
            );
        }
        for (f, why) in &r.left_out {
            println!("  left out {f}: {why}");
        }
        println!(
            "shared {} episodes into {} ({} left out)",
            r.shared.len(),
            output.display(),
            r.left_out.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the Python importers (`rmf.convert`), which use PyAV and h5py.
fn python_import(format: &str, args: &[String]) -> CliResult {
    if !matches!(format, "lerobot" | "hdf5") {
        return Err(rmf_core::Error::InvalidArgument(format!(
            "import takes lerobot or hdf5 (MCAP: rmf import-mcap), not {format:?}"
        )));
    }
    let python = std::env::var("RMF_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = std::process::Command::new(&python);
    cmd.args(["-m", "rmf.convert", format]).args(args);
    if json_mode() {
        cmd.arg("--json");
    }
    let status = cmd.status().map_err(|e| rmf_core::Error::Io {
        path: PathBuf::from(&python),
        op: "run the Python importer (set RMF_PYTHON to an interpreter with the rmf package)",
        source: e,
    })?;
    // The importer exits 1 on an error and 2 on a usage error: both are errors (2) here.
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        _ => ExitCode::from(2),
    })
}

fn recover(input: PathBuf, output: PathBuf) -> CliResult {
    let report = rmf_core::recover(&input, &output)?;
    spinner_done();
    if json_mode() {
        println!(
            "{}",
            serde_json::json!({
                "output": output, "why": report.why, "streams": report.streams,
                "chunks": report.chunks, "samples": report.samples,
                "damage": report.damage.iter().map(|d| serde_json::json!({
                    "offset": d.offset, "length": d.length, "reason": d.reason,
                })).collect::<Vec<_>>(),
            })
        );
    } else {
        print!("{report}");
        println!("wrote {}", output.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn index(dir: &std::path::Path, json: bool) -> CliResult {
    let r = rmf_dataset::build_index(dir)?;
    spinner_done();
    if json {
        let v = serde_json::json!({
            "index": dir.join(rmf_dataset::INDEX_FILE),
            "episodes": r.episodes,
            "added": r.added,
            "updated": r.updated,
            "removed": r.removed,
            "failed": r.failed.iter().map(|(f, why)| serde_json::json!({"file": f, "error": why})).collect::<Vec<_>>(),
        });
        println!("{v}");
    } else {
        for (f, why) in &r.failed {
            println!("  skipped {f}: {why}");
        }
        println!(
            "{}: {} episodes ({} added, {} updated, {} removed, {} unreadable)",
            dir.join(rmf_dataset::INDEX_FILE).display(),
            r.episodes,
            r.added.len(),
            r.updated.len(),
            r.removed.len(),
            r.failed.len()
        );
    }
    Ok(if r.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn stats(dir: &std::path::Path, json: bool) -> CliResult {
    let report = rmf_dataset::build_index(dir)?;
    let episodes = rmf_dataset::read_index(dir)?;
    let stats = rmf_dataset::merged_stats(dir, &episodes)?;
    spinner_done();
    if json {
        let v: Vec<serde_json::Value> = stats
            .iter()
            .map(|s| {
                let mut o = serde_json::json!({
                    "stream": s.stream, "count": s.count, "non_finite": s.non_finite,
                    "mean": s.mean, "std": s.std, "min": s.min, "max": s.max,
                });
                for (q, vals) in &s.quantiles {
                    o[format!("q{:02}", (q * 100.0).round() as u32)] = serde_json::json!(vals);
                }
                o
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"episodes": episodes.len(), "streams": v})
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} episodes ({} unreadable files skipped)",
        episodes.len(),
        report.failed.len()
    );
    for s in &stats {
        println!("\n{}", s.stream);
        println!(
            "  {:>4} {:>10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "elem", "count", "mean", "std", "min", "q01", "q50", "q99", "max"
        );
        for j in 0..s.count.len() {
            let q = |k: usize| s.quantiles.get(k).map_or(f64::NAN, |(_, v)| v[j]);
            println!(
                "  {:>4} {:>10} {:>12.5} {:>12.5} {:>12.5} {:>12.5} {:>12.5} {:>12.5} {:>12.5}",
                j,
                s.count[j],
                s.mean[j],
                s.std[j],
                s.min[j],
                q(0),
                q(2),
                q(4),
                s.max[j]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export(
    file: &std::path::Path,
    stream: &str,
    out: &std::path::Path,
    format: Option<&str>,
) -> CliResult {
    use rmf_dataset::export::{export_stream, TableFormat};
    let format = match format {
        Some("parquet") => TableFormat::Parquet,
        Some("csv") => TableFormat::Csv,
        Some(other) => {
            return Err(rmf_core::Error::InvalidArgument(format!(
                "--format must be parquet or csv, not {other:?}"
            )))
        }
        None => TableFormat::from_path(out).ok_or_else(|| {
            rmf_core::Error::InvalidArgument(format!(
                "{}: say --format parquet or csv (the extension does not)",
                out.display()
            ))
        })?,
    };
    let r = open(file)?;
    let rows = export_stream(&r, stream, out, format)?;
    say(
        format!("exported {rows} rows of {stream:?} to {}", out.display()),
        serde_json::json!({"output": out, "stream": stream, "rows": rows}),
    );
    Ok(ExitCode::SUCCESS)
}

fn export_frames(file: &std::path::Path, stream: &str, outdir: &std::path::Path) -> CliResult {
    use std::io::Write as _;
    let r = open(file)?;
    let info = r.stream(stream)?.clone();
    let StreamKind::Frames { codec, .. } = info.kind else {
        return Err(rmf_core::Error::InvalidArgument(format!(
            "stream {stream:?} is a {} stream, not frames",
            info.kind.name()
        )));
    };
    let io = |what: &'static str| {
        move |e: std::io::Error| rmf_core::Error::Io {
            path: outdir.to_path_buf(),
            op: what,
            source: e,
        }
    };
    std::fs::create_dir_all(outdir).map_err(io("create the output directory"))?;
    let frames = r.stored_frames(stream)?;
    let total: u64 = frames.iter().map(|(_, f)| f.len() as u64).sum();
    let (progress, mut written) = (progress(), 0u64);
    let mut csv = String::from("frame,file,t_ns\n");
    if codec.is_video() {
        let path = outdir.join("frames.h264");
        let mut f = std::fs::File::create_new(&path).map_err(io("create frames.h264"))?;
        for (i, (t, unit)) in frames.iter().enumerate() {
            f.write_all(unit).map_err(io("write frames.h264"))?;
            csv.push_str(&format!("{i},frames.h264,{t}\n"));
            written += unit.len() as u64;
            progress.report(written, total);
        }
        f.sync_all().map_err(io("sync frames.h264"))?;
    } else {
        let ext = match codec {
            rmf_core::FrameCodec::Jpeg { .. } => "jpg",
            _ => "png",
        };
        let spec = info.frame_spec().ok_or_else(|| {
            rmf_core::Error::InvalidArgument(format!("stream {stream:?} holds no frames"))
        })?;
        let as_png = rmf_core::FrameSpec {
            codec: rmf_core::FrameCodec::Png,
            ..spec
        };
        for (i, (t, stored)) in frames.iter().enumerate() {
            let name = format!("{i:06}.{ext}");
            let bytes = match codec {
                rmf_core::FrameCodec::Raw => {
                    let pixels = rmf_core::codecs::frame::decode(&spec, stored)
                        .map_err(|e| rmf_core::Error::Encode(format!("frame {i}: {}", e.0)))?;
                    rmf_core::codecs::frame::encode(&as_png, &pixels, &Default::default())
                        .map_err(|e| rmf_core::Error::Encode(format!("frame {i}: {}", e.0)))?
                }
                _ => stored.clone(),
            };
            std::fs::File::create_new(outdir.join(&name))
                .and_then(|mut f| f.write_all(&bytes))
                .map_err(io("write a frame file"))?;
            csv.push_str(&format!("{i},{name},{t}\n"));
            written += stored.len() as u64;
            progress.report(written, total);
        }
    }
    std::fs::write(outdir.join("timestamps.csv"), csv).map_err(io("write timestamps.csv"))?;
    say(
        format!(
            "exported {} frames of {stream:?} ({}) to {}",
            frames.len(),
            codec.name(),
            outdir.display()
        ),
        serde_json::json!({
            "output": outdir, "stream": stream, "codec": codec.name(), "frames": frames.len(),
        }),
    );
    Ok(ExitCode::SUCCESS)
}

fn relabel(
    input: &std::path::Path,
    output: &std::path::Path,
    sensitivity: &[String],
    tags: &[String],
    meta: &[String],
    add_tags: &[String],
    remove_tags: &[String],
) -> CliResult {
    let bad = |what: &str, v: &str| {
        rmf_core::Error::InvalidArgument(format!(
            "{what} {v:?}: expected {}",
            match what {
                "--sensitivity" => "STREAM=public|internal|private",
                "--tag" => "STREAM:KEY=VALUE",
                _ => "KEY=VALUE",
            }
        ))
    };
    let mut changes = rmf_core::edit::Relabel {
        add_tags: add_tags.to_vec(),
        remove_tags: remove_tags.to_vec(),
        ..Default::default()
    };
    for s in sensitivity {
        let (stream, label) = s.rsplit_once('=').ok_or_else(|| bad("--sensitivity", s))?;
        changes
            .sensitivity
            .push((stream.to_string(), rmf_core::Sensitivity::parse(label)?));
    }
    for t in tags {
        let (sk, v) = t.split_once('=').ok_or_else(|| bad("--tag", t))?;
        let (stream, k) = sk.rsplit_once(':').ok_or_else(|| bad("--tag", t))?;
        changes
            .tags
            .push((stream.to_string(), k.to_string(), v.to_string()));
    }
    for m in meta {
        let (k, v) = m.split_once('=').ok_or_else(|| bad("--meta", m))?;
        let value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
        changes.meta.push((k.to_string(), value));
    }
    rmf_core::edit::relabel(input, output, &changes, edits::write_options())
        .map(|r| edits::edited("wrote", &r))
}

/// "3.2x smaller" or "1.5x larger".
fn size_change(before: u64, after: u64) -> String {
    if after > before {
        format!("{:.1}x larger", after as f64 / before.max(1) as f64)
    } else {
        format!("{:.1}x smaller", before as f64 / after.max(1) as f64)
    }
}

fn transcode(
    input: &std::path::Path,
    output: &std::path::Path,
    codec: &str,
    settings: &CodecSettings,
    streams: Vec<String>,
    zstd_level: Option<i32>,
) -> CliResult {
    let mut write = rmf_core::WriteOptions::default().with_progress(progress());
    if let Some(level) = zstd_level {
        write = write.with_zstd_level(level);
    }
    let opts = rmf_core::TranscodeOptions::new(settings.codec(codec)?)
        .with_streams(streams)
        .with_write(write);
    let started = std::time::Instant::now();
    let report = rmf_core::transcode(input, output, &opts)?;
    spinner_done();
    if json_mode() {
        println!(
            "{}",
            serde_json::json!({
                "output": report.output, "input_bytes": report.input_bytes,
                "output_bytes": report.output_bytes, "seconds": started.elapsed().as_secs_f64(),
                "streams": report.streams.iter().map(|s| serde_json::json!({
                    "name": s.name, "from": s.from.map(|c| c.name()),
                    "kept_because": s.kept_because, "samples": s.samples,
                    "bytes_before": s.bytes_before, "bytes_after": s.bytes_after,
                })).collect::<Vec<_>>(),
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    for s in &report.streams {
        match (&s.from, &s.kept_because) {
            (Some(from), _) => println!(
                "  {:<16} {} -> {}: {} frames, {} -> {} ({})",
                s.name,
                from.name(),
                opts.codec().name(),
                s.samples,
                info::bytes(s.bytes_before),
                info::bytes(s.bytes_after),
                size_change(s.bytes_before, s.bytes_after)
            ),
            (None, Some(why)) => println!("  {:<16} copied ({why})", s.name),
            (None, None) => println!("  {:<16} copied", s.name),
        }
    }
    println!(
        "transcoded {} -> {} ({} -> {}) in {:.1} s",
        input.display(),
        report.output.display(),
        info::bytes(report.input_bytes),
        info::bytes(report.output_bytes),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

mod info {
    use super::*;
    use std::fmt::Write as _;

    pub(crate) fn bytes(n: u64) -> String {
        let n = n as f64;
        if n >= 1e9 {
            format!("{:.2} GB", n / 1e9)
        } else if n >= 1e6 {
            format!("{:.1} MB", n / 1e6)
        } else if n >= 1e3 {
            format!("{:.1} kB", n / 1e3)
        } else {
            format!("{n} B")
        }
    }

    fn details(kind: &StreamKind) -> String {
        match kind {
            StreamKind::Signal { dtype, shape } => format!("{dtype} {shape:?}"),
            StreamKind::Frames {
                width,
                height,
                pixel_format,
                codec,
            } => {
                let q = match codec {
                    rmf_core::FrameCodec::Jpeg { quality } => format!(" q{quality}"),
                    rmf_core::FrameCodec::H264 { qp, gop } => format!(" qp{qp} gop{gop}"),
                    _ => String::new(),
                };
                format!(
                    "{width}x{height} {} {}{q}",
                    pixel_format.name(),
                    codec.name()
                )
            }
            StreamKind::Audio {
                sample_rate,
                channels,
                dtype,
            } => format!("{sample_rate} Hz x{channels} {dtype}"),
            StreamKind::Events => String::new(),
        }
    }

    fn secs(ns: i64) -> String {
        format!("{:.3}", ns as f64 * 1e-9)
    }

    pub(crate) fn run(file: &std::path::Path, json: bool) -> CliResult {
        let r = crate::open(file)?;
        if json {
            println!("{}", to_json(&r)?);
            return Ok(ExitCode::SUCCESS);
        }
        let m = r.meta();
        let mut o = String::new();
        let status = match r.recovery() {
            None => "finished".to_string(),
            Some(rep) => format!("NOT finished, opened by scanning: {} chunks kept, {} damaged stretches (run `rmf recover`)", rep.chunks, rep.damage.len()),
        };
        let _ = writeln!(
            o,
            "file      {} ({}, {status})",
            r.file_name(),
            bytes(r.file_len())
        );
        let _ = writeln!(o, "episode   {}", m.id);
        let _ = writeln!(o, "start     {} (clock: {})", m.start_time_utc, m.clock);
        for (k, v) in [
            ("robot", &m.robot),
            ("task", &m.task),
            ("operator", &m.operator),
        ] {
            if !v.is_empty() {
                let _ = writeln!(o, "{k:<9} {v}");
            }
        }
        let _ = writeln!(o, "writer    {} {}", m.writer.library, m.writer.version);
        if !m.extra.is_empty() {
            let _ = writeln!(
                o,
                "extra     {}",
                serde_json::Value::Object(m.extra.clone())
            );
        }
        if let Some((a, b)) = r.time_range() {
            let _ = writeln!(
                o,
                "duration  {} s (t = {} .. {} s)",
                secs(b - a),
                secs(a),
                secs(b)
            );
        }
        let _ = writeln!(o, "\nstreams");
        let _ = writeln!(
            o,
            "  {:<16} {:<7} {:<30} {:>16} {:>8} {:>9} {:>10} {:>7}  label",
            "name", "kind", "details", "rate nom/meas Hz", "count", "duration", "stored", "ratio",
        );
        for s in r.streams() {
            let sum = r.summary(&s.name)?;
            let dur = match (sum.t_min, sum.t_max) {
                (Some(a), Some(b)) => b - a,
                _ => 0,
            };
            let meas = if sum.count > 1 && dur > 0 {
                format!("{:.1}", (sum.count - 1) as f64 / (dur as f64 * 1e-9))
            } else {
                "-".into()
            };
            let nom = s.rate_hz.map_or("-".to_string(), |h| format!("{h}"));
            let ratio = if sum.stored_bytes > 0 {
                format!("{:.1}x", sum.decoded_bytes as f64 / sum.stored_bytes as f64)
            } else {
                "-".into()
            };
            let _ = writeln!(
                o,
                "  {:<16} {:<7} {:<30} {:>16} {:>8} {:>8}s {:>10} {:>7}  {}",
                s.name,
                s.kind.name(),
                details(&s.kind),
                format!("{nom} / {meas}"),
                sum.count,
                secs(dur),
                bytes(sum.stored_bytes),
                ratio,
                match (&s.encryption, r.is_readable(&s.name)?) {
                    (None, _) => s.sensitivity.name().to_string(),
                    (Some(_), true) => format!("{} (encrypted)", s.sensitivity.name()),
                    (Some(_), false) => format!("{} (encrypted, no key)", s.sensitivity.name()),
                }
            );
        }
        for s in r
            .streams()
            .iter()
            .filter(|s| matches!(s.kind, StreamKind::Events))
        {
            if !r.is_readable(&s.name)? {
                let _ = writeln!(
                    o,
                    "\nevents in {:?}: encrypted (give the key to list them)",
                    s.name
                );
                continue;
            }
            let events = r.events_range(&s.name, i64::MIN, i64::MAX)?;
            let _ = writeln!(o, "\nevents in {:?}: {}", s.name, events.len());
            let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
            for (_, e) in &events {
                *kinds.entry(e.kind.as_str()).or_default() += 1;
            }
            let _ = writeln!(
                o,
                "  by kind: {}",
                kinds
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for (t, e) in events.iter().take(20) {
                let payload = if e.payload.is_null() {
                    String::new()
                } else {
                    e.payload.to_string()
                };
                let _ = writeln!(
                    o,
                    "  {} s  {:<15} {:<8} {} {}",
                    secs(*t),
                    e.kind,
                    e.operator,
                    e.text,
                    payload
                );
            }
            if events.len() > 20 {
                let _ = writeln!(o, "  ... {} more", events.len() - 20);
            }
        }
        print!("{o}");
        Ok(ExitCode::SUCCESS)
    }

    fn to_json(r: &EpisodeReader) -> Result<String, rmf_core::Error> {
        let mut streams = Vec::new();
        for s in r.streams() {
            let sum = r.summary(&s.name)?;
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("count".into(), sum.count.into());
                obj.insert("chunks".into(), sum.chunks.into());
                obj.insert("t_min".into(), sum.t_min.into());
                obj.insert("t_max".into(), sum.t_max.into());
                obj.insert("stored_bytes".into(), sum.stored_bytes.into());
                obj.insert("decoded_bytes".into(), sum.decoded_bytes.into());
            }
            streams.push(v);
        }
        let out = serde_json::json!({
            "file": r.file_name(),
            "file_bytes": r.file_len(),
            "finished": r.recovery().is_none(),
            "episode": r.meta(),
            "streams": streams,
        });
        Ok(serde_json::to_string_pretty(&out).unwrap_or_default())
    }
}
