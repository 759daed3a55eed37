//! The edit commands: each writes a new file (never in place) and prints a one-line summary or,
//! with --json, the same as JSON.

use std::path::Path;
use std::process::ExitCode;

use rmf_core::edit::{event_times, RewriteReport, StreamPlan};
use rmf_core::WriteOptions;

use crate::{info, open, read_options, say, CliResult};

/// Write options carrying this run's key (so that edits can decode encrypted streams) and its
/// progress bar.
pub(crate) fn write_options() -> WriteOptions {
    WriteOptions {
        secret: read_options().secret,
        progress: Some(crate::progress()),
        ..WriteOptions::default()
    }
}

/// Prints the summary of an edit: "`verb` OUT (...)".
pub(crate) fn edited(verb: &str, r: &RewriteReport) -> ExitCode {
    let dropped = r
        .streams
        .iter()
        .filter(|s| s.plan == StreamPlan::Drop)
        .count();
    let samples: u64 = r
        .streams
        .iter()
        .filter(|s| s.plan != StreamPlan::Drop)
        .map(|s| s.samples)
        .sum();
    say(
        format!(
            "{verb} {} ({} streams, {} dropped; {} -> {})",
            r.output.display(),
            r.streams.len() - dropped,
            dropped,
            info::bytes(r.input_bytes),
            info::bytes(r.output_bytes)
        ),
        serde_json::json!({
            "output": r.output, "input_bytes": r.input_bytes, "output_bytes": r.output_bytes,
            "streams": r.streams.len() - dropped, "dropped": dropped, "input_samples": samples,
        }),
    );
    ExitCode::SUCCESS
}

pub(crate) fn trim(input: &Path, output: &Path, from: i64, to: i64) -> CliResult {
    rmf_core::edit::trim(input, output, from, to, write_options()).map(|r| edited("trimmed", &r))
}

pub(crate) fn split(input: &Path, outdir: &Path, at: &[i64], at_event: Option<&str>) -> CliResult {
    let mut cuts = at.to_vec();
    if let Some(kind) = at_event {
        cuts.extend(event_times(&open(input)?, kind)?);
    }
    if cuts.is_empty() {
        return Err(rmf_core::Error::InvalidArgument(
            "say where to split: --at T (ns) or --at-event KIND".into(),
        ));
    }
    let parts = rmf_core::edit::split(input, outdir, &cuts, write_options())?;
    crate::spinner_done();
    if !crate::json_mode() {
        for p in &parts {
            println!("  {} ({})", p.output.display(), info::bytes(p.output_bytes));
        }
    }
    say(
        format!(
            "split {} into {} parts in {}",
            input.display(),
            parts.len(),
            outdir.display()
        ),
        serde_json::json!({
            "parts": parts.iter().map(|p| serde_json::json!({
                "output": p.output, "bytes": p.output_bytes,
            })).collect::<Vec<_>>(),
        }),
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn redact(
    input: &Path,
    output: &Path,
    stream: &str,
    from: i64,
    to: i64,
    reason: &str,
) -> CliResult {
    rmf_core::edit::redact(input, output, stream, from, to, reason, write_options())
        .map(|r| edited("redacted", &r))
}
