//! Many episodes: `rmf index` (the dataset index) and `rmf stats` (normalization statistics).

use crate::commands::ExitCode;
use std::path::PathBuf;

use rmf_dataset::{build_index_at, merged_stats, read_index_at, INDEX_FILE};
use rmf_store::Location;

use super::CliResult;
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct DirArgs {
    /// The dataset directory, or an object-store prefix (`s3://bucket/data/`).
    dir: PathBuf,
}

pub fn index(ctx: &Ctx, a: DirArgs) -> CliResult {
    let dir = Location::from(a.dir.as_path());
    let r = build_index_at(&dir, ctx.store())?;
    ctx.spinner_done();
    if ctx.json() {
        let v = serde_json::json!({
            "index": dir.join(INDEX_FILE).to_string(),
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
            dir.join(INDEX_FILE),
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

pub fn stats(ctx: &Ctx, a: DirArgs) -> CliResult {
    let dir = Location::from(a.dir.as_path());
    let report = build_index_at(&dir, ctx.store())?;
    let episodes = read_index_at(&dir, ctx.store())?;
    let stats = merged_stats(&dir.to_string(), &episodes)?;
    ctx.spinner_done();
    if ctx.json() {
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
