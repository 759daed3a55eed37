//! The `rmf` command: record a demo episode, inspect, validate and recover RMF files; edit,
//! share, import and export them.
//!
//! Thin over the library crates: every check and every byte layout lives there. This file
//! parses the command line and dispatches; `commands/` holds one module per group of commands
//! and `context` what one run shares. Errors print one line and exit 2; there is no panic on
//! bad input.

// The doc comments of the commands are their `--help` text, written for a terminal.
#![allow(rustdoc::invalid_html_tags)]

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod commands;
mod context;

use commands::{dataset, edit, export, import, info, inspect, record, share, transcode, CliResult};
use context::Ctx;

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
    /// A setting of object stores (s3://, gs://, az://, http(s):// URLs), e.g.
    /// `aws_endpoint=http://127.0.0.1:9000` or `aws_region=eu-west-1`; over the environment
    /// (AWS_ENDPOINT_URL, AWS_ALLOW_HTTP, AWS_ACCESS_KEY_ID, GOOGLE_*, AZURE_*). Repeatable.
    #[arg(long = "storage-option", global = true, value_name = "KEY=VALUE")]
    storage_options: Vec<String>,
    /// Replace output files that exist (every command that writes one; without it they are
    /// refused). `--force` is an older name for it.
    #[arg(long, global = true, alias = "force")]
    overwrite: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Record a synthetic multimodal episode: two 640x480 cameras at 30 fps, 1 kHz force/torque,
    /// 100 Hz joints, 30 Hz actions, 16 kHz audio and intervention events.
    Demo(record::DemoArgs),
    /// Print metadata, streams (kind, rate, count, duration, bytes, compression) and events.
    Info(info::InfoArgs),
    /// Write a new random 32-byte key to FILE (64 hex digits; the file is readable by its owner
    /// only) and print its key id. Episodes recorded with it encrypt their private streams.
    Keygen(share::KeygenArgs),
    /// Copy a dataset for sharing: only streams labelled up to --max-label, minus --drop-stream,
    /// from episodes carrying every --require-tag; each copy records its provenance (source id
    /// and content hashes, what was dropped and why). Encrypted (private) streams never leave.
    Share(share::ShareArgs),
    /// Check a shared episode against its source: same source id and content hash, and every
    /// kept stream byte for byte the source's. Exit 1 on any mismatch.
    VerifyProvenance(share::VerifyProvenanceArgs),
    /// Copy an episode, or a directory / URL prefix ending in `/` with everything under it,
    /// between local disk and object stores. Each copy appears whole or not at all and is
    /// verified (size, bytes read back) before the next.
    Cp(inspect::CpArgs),
    /// Check magic, version, every checksum, the index and every chunk; exit 1 if anything is
    /// wrong, naming stream, chunk and byte offset.
    Validate(inspect::ValidateArgs),
    /// Write a complete file holding every intact chunk of a truncated or damaged one.
    Recover(inspect::RecoverArgs),
    /// Write a new file with frame streams re-encoded (e.g. the densest H.264 setting after
    /// recording with a fast one); every other stream is copied chunk for chunk. IN is not
    /// modified; OUT is written beside its name, synced, then renamed into place.
    Transcode(transcode::TranscodeArgs),
    /// Build or refresh DIR/episodes.parquet, the dataset index: one row per .rmf episode under
    /// DIR (sub-folders included), read from the files' footers. Files whose size and time did
    /// not change are not read again.
    Index(dataset::DirArgs),
    /// Normalization statistics of every signal stream of a dataset (count, mean, std, min,
    /// max, quantiles 1/5/50/95/99 %), merged from DIR/episodes.parquet without reading the
    /// episodes; builds or refreshes the index first. Rows are named by the stream's axis
    /// names; --stream and --episode limit what is merged.
    Stats(dataset::StatsArgs),
    /// Write a new episode with only the samples of FROM <= t < TO (every stream). Times take a
    /// unit (`1000.2s`, `250ms`, `123ns`) or count from the episode's first sample (`+1.5s`).
    /// Chunks inside the range are copied; the two at its edges are decoded and written again.
    Trim(edit::TrimArgs),
    /// Split an episode into parts OUTDIR/<name>-part000.rmf, ... at the given times and/or at
    /// every event of a kind (e.g. --at-event takeover_start).
    Split(edit::SplitArgs),
    /// Join episodes with the same streams into one, in time order (they must not overlap);
    /// chunks are copied byte for byte.
    Merge(edit::MergeArgs),
    /// Blank a stream's samples in FROM <= t < TO (black frames, silence, NaN or 0, event text
    /// removed) into a new file, logged as a `redaction` event in `rmf/redactions`.
    Redact(edit::RedactArgs),
    /// Import a LeRobot dataset (v2.x/v3.0) or a robomimic/ALOHA HDF5 file: runs the Python
    /// importer `python -m rmf.convert lerobot|hdf5 SRC DST [OPTIONS]` (needs the rmf Python
    /// package with av and h5py). The `rmf` that pip installs runs it in its own interpreter;
    /// else RMF_PYTHON names one (default python3). Options after DST go to it, e.g.
    /// `--rate 50` (hdf5) or `--codec jpeg`.
    Import(import::ImportArgs),
    /// Write a new file without some streams (IN is not modified; OUT is renamed into place).
    DropStream(edit::DropStreamArgs),
    /// Write a new file with a stream renamed.
    RenameStream(edit::RenameStreamArgs),
    /// Write a new file with new sensitivity labels, stream tags or episode metadata; samples
    /// are copied unchanged.
    Relabel(edit::RelabelArgs),
    /// Write a frame stream's frames to OUTDIR as other tools read them: for h264 one H.264
    /// elementary stream (frames.h264; e.g. `ffmpeg -r 30 -i frames.h264 -c copy out.mp4`), for
    /// jpeg and png one image file per frame as stored, for raw one PNG per frame; and
    /// timestamps.csv (frame, file, t in ns).
    ExportFrames(export::ExportFramesArgs),
    /// Write a stream as a table: Parquet (DuckDB, polars, pandas read it; any stream) or CSV
    /// (signals and events), chosen by OUT's extension or --format. Columns: t (ns), then the
    /// elements (named by the stream's axis names), or kind, operator, text, payload (events),
    /// samples (audio: interleaved, per block), frame (decoded pixels).
    Export(export::ExportArgs),
    /// Make an episode with one audio stream from a WAV file (16-bit integer or 32-bit float,
    /// any number of channels). Sample i is at START + i / rate on the episode clock.
    ImportWav(import::ImportWavArgs),
    /// Make an episode from an MCAP file of ROS 2 messages (a ROS 2 bag): Image and
    /// CompressedImage become frames, JointState, Imu and WrenchStamped float64 signals, other
    /// types `raw` events (unless --skip-unknown). Samples are stamped with the message header's
    /// stamp (or the log time with --log-time); prints what became of every topic.
    ImportMcap(import::ImportMcapArgs),
    /// Write an audio stream to a WAV file, sample-exact; prints the episode-clock time of the
    /// first sample. Gaps between blocks are an error unless --fill-gaps.
    ExportWav(export::ExportWavArgs),
}

impl Command {
    /// What a long command shows on its spinner while it works (None: it is quick).
    fn spinner(&self) -> Option<&'static str> {
        use Command::*;
        Some(match self {
            Share(_) => "sharing",
            Transcode(_) => "transcoding",
            Trim(_) => "trimming",
            Split(_) => "splitting",
            Merge(_) => "merging",
            Redact(_) => "redacting",
            Validate(_) => "validating",
            Cp(_) => "copying",
            Recover(_) => "recovering",
            Index(_) | Stats(_) => "indexing",
            ImportMcap(_) | ImportWav(_) => "importing",
            Export(_) | ExportFrames(_) | ExportWav(_) => "exporting",
            DropStream(_) | RenameStream(_) | Relabel(_) => "copying",
            Demo(_) | Info(_) | Keygen(_) | VerifyProvenance(_) | Import(_) => return None,
        })
    }

    fn run(self, ctx: &Ctx) -> CliResult {
        use Command::*;
        match self {
            Demo(a) => record::demo(ctx, a),
            Info(a) => info::info(ctx, a),
            Keygen(a) => share::keygen(ctx, a),
            Share(a) => share::share_dataset(ctx, a),
            VerifyProvenance(a) => share::verify(ctx, a),
            Validate(a) => inspect::validate(ctx, a),
            Cp(a) => inspect::cp(ctx, a),
            Recover(a) => inspect::recover(ctx, a),
            Transcode(a) => transcode::transcode(ctx, a),
            Index(a) => dataset::index(ctx, a),
            Stats(a) => dataset::stats(ctx, a),
            Trim(a) => edit::trim(ctx, a),
            Split(a) => edit::split(ctx, a),
            Merge(a) => edit::merge(ctx, a),
            Redact(a) => edit::redact(ctx, a),
            Import(a) => import::python(ctx, a),
            DropStream(a) => edit::drop_stream(ctx, a),
            RenameStream(a) => edit::rename_stream(ctx, a),
            Relabel(a) => edit::relabel(ctx, a),
            ExportFrames(a) => export::frames(ctx, a),
            Export(a) => export::table(ctx, a),
            ImportWav(a) => import::wav(ctx, a),
            ImportMcap(a) => import::mcap(ctx, a),
            ExportWav(a) => export::wav(ctx, a),
        }
    }
}

/// Runs the command line `args` (the program name first) as the `rmf` binary does and returns
/// its exit code: 0 success, 1 a problem found, 2 an error (printed on stderr, and with --json
/// also as `{"error": ..., "offset": ...}` on stdout).
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit 2.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let ctx = match Ctx::new(cli.json, cli.key_file.as_deref(), &cli.storage_options) {
        Ok(ctx) => ctx.with_overwrite(cli.overwrite),
        Err(e) => {
            eprintln!("rmf: error: {e}");
            return 2;
        }
    };
    if let Some(what) = cli.command.spinner() {
        ctx.start_spinner(what);
    }
    let result = cli.command.run(&ctx);
    ctx.spinner_done();
    match result {
        Ok(code) => code.0,
        Err(e) => {
            eprintln!("rmf: error: {e}");
            if ctx.json() {
                println!(
                    "{}",
                    serde_json::json!({"error": e.to_string(), "offset": e.offset()})
                );
            }
            2
        }
    }
}
