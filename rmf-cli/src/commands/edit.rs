//! The edit commands: trim, split, merge, redact, drop-stream, rename-stream, relabel. Each
//! writes a new file (never in place) and prints a one-line summary or, with --json, the same
//! as JSON.

use std::path::{Path, PathBuf};

use rmf_core::edit::{event_times, Relabel, RewriteReport, StreamPlan};
use rmf_core::{Error, Sensitivity};

use super::when::{episode_start, When};
use super::{bytes, CliResult, ExitCode};
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct TrimArgs {
    /// The episode to read (not modified).
    input: PathBuf,
    /// The new episode.
    output: PathBuf,
    /// First time kept: `1000.2s`, `250ms`, `123ns` on the episode clock, or `+1.5s` after the
    /// episode's first sample.
    #[arg(long = "from", allow_hyphen_values = true, value_name = "TIME")]
    from: When,
    /// First time after the kept range (as --from).
    #[arg(long = "to", allow_hyphen_values = true, value_name = "TIME")]
    to: When,
}

#[derive(clap::Args)]
pub struct SplitArgs {
    /// The episode to read (not modified).
    input: PathBuf,
    /// The directory for the parts.
    outdir: PathBuf,
    /// A split time (`1000.2s`, `250ms`, `123ns`, or `+1.5s` after the episode's first
    /// sample); repeat for more.
    #[arg(long, allow_hyphen_values = true, value_name = "TIME")]
    at: Vec<When>,
    /// Split at every event of this kind, in any events stream.
    #[arg(long)]
    at_event: Option<String>,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The episodes to join.
    #[arg(required = true, num_args = 2..)]
    inputs: Vec<PathBuf>,
    /// The new episode.
    #[arg(long, short)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct RedactArgs {
    /// The episode to read (not modified).
    input: PathBuf,
    /// The new file.
    output: PathBuf,
    /// The stream to blank.
    #[arg(long)]
    stream: String,
    /// First time blanked (`1000.2s`, `250ms`, `123ns`, or `+1.5s` after the episode's first
    /// sample).
    #[arg(long = "from", allow_hyphen_values = true, value_name = "TIME")]
    from: When,
    /// First time after the blanked range (as --from).
    #[arg(long = "to", allow_hyphen_values = true, value_name = "TIME")]
    to: When,
    /// Why (kept in the log).
    #[arg(long, default_value = "")]
    reason: String,
}

#[derive(clap::Args)]
pub struct DropStreamArgs {
    /// The episode to read.
    input: PathBuf,
    /// The new file.
    output: PathBuf,
    /// A stream to leave out (repeat for more).
    #[arg(long = "stream", required = true)]
    streams: Vec<String>,
}

#[derive(clap::Args)]
pub struct RenameStreamArgs {
    /// The episode to read.
    input: PathBuf,
    /// The new file.
    output: PathBuf,
    /// The stream's name.
    from: String,
    /// Its new name.
    to: String,
}

#[derive(clap::Args)]
pub struct RelabelArgs {
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
}

/// Prints the summary of an edit: "`verb` OUT (...)".
fn edited(ctx: &Ctx, verb: &str, r: &RewriteReport) -> ExitCode {
    let kept = r.streams.iter().filter(|s| s.plan != StreamPlan::Drop);
    let dropped = r.streams.len() - kept.clone().count();
    let samples: u64 = kept.map(|s| s.samples).sum();
    ctx.say(
        format!(
            "{verb} {} ({} streams, {} dropped; {} -> {})",
            r.output.display(),
            r.streams.len() - dropped,
            dropped,
            bytes(r.input_bytes),
            bytes(r.output_bytes)
        ),
        serde_json::json!({
            "output": r.output, "input_bytes": r.input_bytes, "output_bytes": r.output_bytes,
            "streams": r.streams.len() - dropped, "dropped": dropped, "input_samples": samples,
        }),
    );
    ExitCode::SUCCESS
}

/// A time of the command line on `input`'s clock (opening it only for a relative time).
fn on_clock(ctx: &Ctx, input: &Path, w: When) -> Result<i64, Error> {
    w.resolve(|| episode_start(&ctx.open(input)?))
}

pub fn trim(ctx: &Ctx, a: TrimArgs) -> CliResult {
    let (from, to) = (
        on_clock(ctx, &a.input, a.from)?,
        on_clock(ctx, &a.input, a.to)?,
    );
    let r = rmf_core::edit::trim(&a.input, &a.output, from, to, ctx.write_options())?;
    Ok(edited(ctx, "trimmed", &r))
}

pub fn split(ctx: &Ctx, a: SplitArgs) -> CliResult {
    let mut cuts =
        a.at.iter()
            .map(|&w| on_clock(ctx, &a.input, w))
            .collect::<Result<Vec<_>, _>>()?;
    if let Some(kind) = &a.at_event {
        cuts.extend(event_times(&ctx.open(&a.input)?, kind)?);
    }
    if cuts.is_empty() {
        return Err(Error::InvalidArgument(
            "say where to split: --at TIME (e.g. 12.5s or +3s) or --at-event KIND".into(),
        ));
    }
    let parts = rmf_core::edit::split(&a.input, &a.outdir, &cuts, ctx.write_options())?;
    ctx.spinner_done();
    if !ctx.json() {
        for p in &parts {
            println!("  {} ({})", p.output.display(), bytes(p.output_bytes));
        }
    }
    ctx.say(
        format!(
            "split {} into {} parts in {}",
            a.input.display(),
            parts.len(),
            a.outdir.display()
        ),
        serde_json::json!({
            "parts": parts.iter().map(|p| serde_json::json!({
                "output": p.output, "bytes": p.output_bytes,
            })).collect::<Vec<_>>(),
        }),
    );
    Ok(ExitCode::SUCCESS)
}

pub fn merge(ctx: &Ctx, a: MergeArgs) -> CliResult {
    let r = rmf_core::edit::merge(&a.inputs, &a.output, ctx.write_options())?;
    Ok(edited(ctx, "merged", &r))
}

pub fn redact(ctx: &Ctx, a: RedactArgs) -> CliResult {
    let (from, to) = (
        on_clock(ctx, &a.input, a.from)?,
        on_clock(ctx, &a.input, a.to)?,
    );
    let r = rmf_core::edit::redact(
        &a.input,
        &a.output,
        &a.stream,
        from,
        to,
        &a.reason,
        ctx.write_options(),
    )?;
    Ok(edited(ctx, "redacted", &r))
}

pub fn drop_stream(ctx: &Ctx, a: DropStreamArgs) -> CliResult {
    let r = rmf_core::edit::drop_streams(&a.input, &a.output, &a.streams, ctx.write_options())?;
    Ok(edited(ctx, "wrote", &r))
}

pub fn rename_stream(ctx: &Ctx, a: RenameStreamArgs) -> CliResult {
    let r =
        rmf_core::edit::rename_stream(&a.input, &a.output, &a.from, &a.to, ctx.write_options())?;
    Ok(edited(ctx, "wrote", &r))
}

pub fn relabel(ctx: &Ctx, a: RelabelArgs) -> CliResult {
    let bad = |what: &str, v: &str| {
        Error::InvalidArgument(format!(
            "{what} {v:?}: expected {}",
            match what {
                "--sensitivity" => "STREAM=public|internal|private",
                "--tag" => "STREAM:KEY=VALUE",
                _ => "KEY=VALUE",
            }
        ))
    };
    let mut changes = Relabel {
        add_tags: a.add_tags,
        remove_tags: a.remove_tags,
        ..Default::default()
    };
    for s in &a.sensitivity {
        let (stream, label) = s.rsplit_once('=').ok_or_else(|| bad("--sensitivity", s))?;
        changes
            .sensitivity
            .push((stream.to_string(), Sensitivity::parse(label)?));
    }
    for t in &a.tags {
        let (sk, v) = t.split_once('=').ok_or_else(|| bad("--tag", t))?;
        let (stream, k) = sk.rsplit_once(':').ok_or_else(|| bad("--tag", t))?;
        changes
            .tags
            .push((stream.to_string(), k.to_string(), v.to_string()));
    }
    for m in &a.meta {
        let (k, v) = m.split_once('=').ok_or_else(|| bad("--meta", m))?;
        let value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
        changes.meta.push((k.to_string(), value));
    }
    let r = rmf_core::edit::relabel(&a.input, &a.output, &changes, ctx.write_options())?;
    Ok(edited(ctx, "wrote", &r))
}
