//! `rmf validate` and `rmf recover`: is a file whole, and what of a damaged one can be kept.

use std::path::PathBuf;
use std::process::ExitCode;

use super::CliResult;
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The file.
    file: PathBuf,
}

#[derive(clap::Args)]
pub struct RecoverArgs {
    /// The damaged file (not modified).
    input: PathBuf,
    /// The new file.
    output: PathBuf,
}

pub fn validate(ctx: &Ctx, a: ValidateArgs) -> CliResult {
    let report = rmf_core::validate_with(&a.file, ctx.read_options())?;
    ctx.spinner_done();
    if ctx.json() {
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

pub fn recover(ctx: &Ctx, a: RecoverArgs) -> CliResult {
    let report = rmf_core::recover(&a.input, &a.output)?;
    ctx.spinner_done();
    if ctx.json() {
        println!(
            "{}",
            serde_json::json!({
                "output": a.output, "why": report.why, "streams": report.streams,
                "chunks": report.chunks, "samples": report.samples,
                "damage": report.damage.iter().map(|d| serde_json::json!({
                    "offset": d.offset, "length": d.length, "reason": d.reason,
                })).collect::<Vec<_>>(),
            })
        );
    } else {
        print!("{report}");
        println!("wrote {}", a.output.display());
    }
    Ok(ExitCode::SUCCESS)
}
