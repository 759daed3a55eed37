//! `rmf demo`: records the synthetic demo episode of `rmf-testkit`.

use crate::commands::ExitCode;
use std::path::PathBuf;

use rmf_core::{Error, WriteOptions};
use rmf_testkit::demo::{record_demo, DemoOptions};

use super::{bytes, CliResult, CodecSettings};
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct DemoArgs {
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
}

pub fn demo(ctx: &Ctx, a: DemoArgs) -> CliResult {
    let seconds = a.seconds;
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
        return Err(Error::InvalidArgument(format!(
            "--seconds must be in (0, 3600], got {seconds}"
        )));
    }
    let opts = DemoOptions {
        seconds,
        seed: a.seed,
        frame_codec: a.settings.codec(&a.codec)?,
        ..DemoOptions::default()
    };
    let started = std::time::Instant::now();
    let summary = record_demo(
        &a.out,
        &opts,
        WriteOptions::default().with_overwrite(ctx.overwrite()),
    )?;
    let samples: u64 = summary.samples.iter().map(|(_, n)| n).sum();
    let per_stream: std::collections::BTreeMap<_, _> = summary
        .samples
        .iter()
        .map(|(n, c)| (n.clone(), *c))
        .collect();
    ctx.say(
        format!(
            "recorded {} ({:.1} s episode, {} streams, {} samples, {} chunks, {}) in {:.2} s",
            a.out.display(),
            seconds,
            summary.samples.len(),
            samples,
            summary.chunks,
            bytes(summary.bytes),
            started.elapsed().as_secs_f64()
        ),
        serde_json::json!({
            "output": a.out, "seconds": seconds, "bytes": summary.bytes,
            "chunks": summary.chunks, "samples": per_stream,
        }),
    );
    Ok(ExitCode::SUCCESS)
}
