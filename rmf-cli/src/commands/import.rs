//! Data in from other formats: `rmf import lerobot|hdf5` (the Python importers),
//! `rmf import-wav` and `rmf import-mcap` (rmf-import).

use crate::commands::ExitCode;
use std::path::PathBuf;

use rmf_core::{Error, FrameCodec};
use rmf_import::mcap::{import_mcap, McapImportOptions, TimeSource};

use super::when::When;
use super::{CliResult, CodecSettings};
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// lerobot or hdf5.
    format: String,
    /// Source, destination and the importer's options.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    args: Vec<String>,
}

#[derive(clap::Args)]
pub struct ImportWavArgs {
    /// The WAV file.
    wav: PathBuf,
    /// The new episode file.
    out: PathBuf,
    /// Name of the audio stream.
    #[arg(long, default_value = "mic")]
    stream: String,
    /// Episode-clock time of the first sample (`1000.2s`, `250ms`, `123ns`).
    #[arg(
        long,
        default_value = "0ns",
        allow_hyphen_values = true,
        value_name = "TIME"
    )]
    start: When,
    /// Block length in milliseconds (each block is stamped with its first sample's time).
    #[arg(long, default_value_t = 20)]
    block_ms: u32,
}

#[derive(clap::Args)]
pub struct ImportMcapArgs {
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
}

/// `python -m rmf.convert`, except that an interpreter without the package says what to do
/// (rather than a bare `ModuleNotFoundError`). Exit 2: a usage error, as the importer's own.
const RUN_IMPORTER: &str = "\
import runpy, sys
try:
    import rmf.convert
except ImportError as e:
    sys.exit(f'rmf: error: {sys.executable} cannot import the rmf Python package ({e}): '
             'install it (pip install rmf, or pip install ./rmf-py; that also puts `rmf` on '
             'PATH, whose importers run in its own interpreter), or set RMF_PYTHON to an '
             'interpreter that has it')
runpy.run_module('rmf.convert', run_name='__main__', alter_sys=True)
";

/// Runs the Python importers (`rmf.convert`), which use PyAV and h5py.
pub fn python(ctx: &Ctx, a: ImportArgs) -> CliResult {
    let format = a.format.as_str();
    if !matches!(format, "lerobot" | "hdf5") {
        return Err(Error::InvalidArgument(format!(
            "import takes lerobot or hdf5 (MCAP: rmf import-mcap), not {format:?}"
        )));
    }
    let python = std::env::var("RMF_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = std::process::Command::new(&python);
    cmd.args(["-c", RUN_IMPORTER, format]).args(&a.args);
    if ctx.json() {
        cmd.arg("--json");
    }
    let status = cmd.status().map_err(|e| Error::Io {
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

pub fn wav(ctx: &Ctx, a: ImportWavArgs) -> CliResult {
    let (out, stream) = (&a.out, &a.stream);
    let start_ns = a.start.resolve(|| {
        Err(Error::InvalidArgument(
            "--start is where the new episode begins: a time on its clock (e.g. 12.5s), not +..."
                .into(),
        ))
    })?;
    let i = rmf_import::wav::import(&a.wav, out, stream, start_ns, a.block_ms, ctx.overwrite())?;
    ctx.say(
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
    Ok(ExitCode::SUCCESS)
}

pub fn mcap(ctx: &Ctx, a: ImportMcapArgs) -> CliResult {
    let time = if a.log_time {
        TimeSource::LogTime
    } else {
        TimeSource::HeaderStamp
    };
    let mut opts = McapImportOptions::default()
        .with_time_source(time)
        .with_keep_unknown(!a.skip_unknown)
        .with_codec_settings(a.settings.quality, a.settings.qp, a.settings.gop)
        .with_overwrite(ctx.overwrite())
        .with_progress(ctx.progress());
    for topic in a.topics {
        opts = opts.with_topic(topic);
    }
    if let Some(codec) = &a.codec {
        opts = opts.with_color_codec(FrameCodec::parse(codec)?);
    }
    let report = import_mcap(&a.input, &a.output, &opts)?;
    let json = serde_json::to_value(&report).unwrap_or_default();
    ctx.say(report.to_string().trim_end(), json);
    Ok(ExitCode::SUCCESS)
}
