//! `rmf validate`, `rmf recover` and `rmf cp`: is a file whole, what of a damaged one can be
//! kept, and copies between disk and object stores.

use crate::commands::ExitCode;
use std::path::PathBuf;

use super::CliResult;
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The file.
    file: PathBuf,
}

#[derive(clap::Args)]
pub struct CpArgs {
    /// A file or directory, or an object-store URL (a prefix ends in `/`).
    src: String,
    /// Where to: a file name, or a directory / prefix ending in `/`.
    dst: String,
}

#[derive(clap::Args)]
pub struct RecoverArgs {
    /// The damaged file (not modified).
    input: PathBuf,
    /// The new file.
    output: PathBuf,
}

pub fn validate(ctx: &Ctx, a: ValidateArgs) -> CliResult {
    let report = rmf_core::validate_reader(&ctx.open(&a.file)?)?;
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
    let report = rmf_core::recover_with(&a.input, &a.output, &ctx.write_options())?;
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

pub fn cp(ctx: &Ctx, a: CpArgs) -> CliResult {
    let (src, dst) = (
        rmf_store::Location::parse(&a.src),
        rmf_store::Location::parse(&a.dst),
    );
    let report = rmf_store::copy(&src, &dst, ctx.store())?;
    let files: Vec<_> = report
        .files
        .iter()
        .map(|(s, d, n)| serde_json::json!({"from": s, "to": d, "bytes": n}))
        .collect();
    let text = report
        .files
        .iter()
        .map(|(s, d, n)| format!("{s} -> {d} ({n} bytes)"))
        .chain([format!(
            "copied {} file(s), {} bytes, verified",
            report.files.len(),
            report.bytes()
        )])
        .collect::<Vec<_>>()
        .join("\n");
    ctx.say(
        text,
        serde_json::json!({"files": files, "bytes": report.bytes()}),
    );
    Ok(ExitCode::SUCCESS)
}
