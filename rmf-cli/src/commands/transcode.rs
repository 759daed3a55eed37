//! `rmf transcode`: frame streams re-encoded into a new file, every other stream copied.

use crate::commands::ExitCode;
use std::path::PathBuf;

use rmf_core::TranscodeOptions;

use super::{bytes, CliResult, CodecSettings};
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct TranscodeArgs {
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
}

/// "3.2x smaller" or "1.5x larger".
fn size_change(before: u64, after: u64) -> String {
    if after > before {
        format!("{:.1}x larger", after as f64 / before.max(1) as f64)
    } else {
        format!("{:.1}x smaller", before as f64 / after.max(1) as f64)
    }
}

pub fn transcode(ctx: &Ctx, a: TranscodeArgs) -> CliResult {
    // With the key (--key / RMF_KEY), sealed streams are read and sealed again in the output.
    let mut write = ctx.write_options();
    if let Some(level) = a.zstd_level {
        write = write.with_zstd_level(level);
    }
    let opts = TranscodeOptions::new(a.settings.codec(&a.codec)?)
        .with_streams(a.streams)
        .with_write(write);
    let started = std::time::Instant::now();
    let report = rmf_core::transcode(&a.input, &a.output, &opts)?;
    ctx.spinner_done();
    if ctx.json() {
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
                bytes(s.bytes_before),
                bytes(s.bytes_after),
                size_change(s.bytes_before, s.bytes_after)
            ),
            (None, Some(why)) => println!("  {:<16} copied ({why})", s.name),
            (None, None) => println!("  {:<16} copied", s.name),
        }
    }
    println!(
        "transcoded {} -> {} ({} -> {}) in {:.1} s",
        a.input.display(),
        report.output.display(),
        bytes(report.input_bytes),
        bytes(report.output_bytes),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
