//! Many episodes: `rmf index` (the dataset index) and `rmf stats` (normalization statistics).

use crate::commands::ExitCode;
use std::path::PathBuf;

use std::collections::BTreeMap;

use rmf_core::Error;
use rmf_dataset::{
    build_index_at, merged_stats, read_index_at, IndexedEpisode, MergedStats, INDEX_FILE,
};
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

#[derive(clap::Args)]
pub struct StatsArgs {
    /// The dataset directory, or an object-store prefix (`s3://bucket/data/`).
    dir: PathBuf,
    /// Only this stream (repeatable; default every signal stream).
    #[arg(long = "stream", value_name = "S")]
    streams: Vec<String>,
    /// Only this episode, by id or file (repeatable; default every episode).
    #[arg(long = "episode", value_name = "E")]
    episodes: Vec<String>,
}

pub fn stats(ctx: &Ctx, a: StatsArgs) -> CliResult {
    let dir = Location::from(a.dir.as_path());
    let report = build_index_at(&dir, ctx.store())?;
    let mut episodes = read_index_at(&dir, ctx.store())?;
    for want in &a.episodes {
        if !episodes.iter().any(|e| &e.id == want || &e.file == want) {
            return Err(Error::InvalidArgument(format!(
                "{dir}: no episode {want:?} in the index (ids and files are accepted)"
            )));
        }
    }
    if !a.episodes.is_empty() {
        episodes.retain(|e| a.episodes.iter().any(|w| w == &e.id || w == &e.file));
    }
    if !a.streams.is_empty() {
        // Statistics of other streams are left out before merging (they may disagree).
        for e in &mut episodes {
            if let Some(stats) = e.signal_stats.as_mut() {
                stats.retain(|s| a.streams.contains(&s.stream));
            }
        }
    }
    let stats = merged_stats(&dir.to_string(), &episodes)?;
    if let Some(missing) = a
        .streams
        .iter()
        .find(|n| !stats.iter().any(|s| &&s.stream == n))
    {
        return Err(Error::InvalidArgument(format!(
            "{dir}: no signal stream {missing:?} with statistics in the episodes chosen"
        )));
    }
    let names = axis_names(ctx, &dir, &episodes, &stats);
    ctx.spinner_done();
    if ctx.json() {
        let v: Vec<serde_json::Value> = stats
            .iter()
            .map(|s| {
                let mut o = serde_json::json!({
                    "stream": s.stream, "names": names.get(&s.stream),
                    "count": s.count, "non_finite": s.non_finite,
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
        // Rows are named by the stream's axis names (fx, fy, ...), else numbered.
        let label = |j: usize| {
            names
                .get(&s.stream)
                .and_then(|n| n.get(j).cloned())
                .unwrap_or_else(|| j.to_string())
        };
        let w = (0..s.count.len())
            .map(|j| label(j).chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        println!(
            "  {:>w$} {:>10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "elem", "count", "mean", "std", "min", "q01", "q50", "q99", "max"
        );
        for j in 0..s.count.len() {
            let q = |k: usize| s.quantiles.get(k).map_or(f64::NAN, |(_, v)| v[j]);
            println!(
                "  {:>w$} {:>10} {:>12.5} {:>12.5} {:>12.5} {:>12.5} {:>12.5} {:>12.5} {:>12.5}",
                label(j),
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

/// Each stream's axis names, from the first chosen episode that has the stream (one footer
/// read); streams without names are left out.
fn axis_names(
    ctx: &Ctx,
    dir: &Location,
    episodes: &[IndexedEpisode],
    stats: &[MergedStats],
) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for s in stats {
        let Some(e) = episodes.iter().find(|e| e.stream(&s.stream).is_some()) else {
            continue;
        };
        let Ok(reader) = ctx.open_location(&dir.join(&e.file)) else {
            continue;
        };
        if let Ok(info) = reader.stream(&s.stream) {
            if info.names.len() == s.count.len() {
                out.insert(s.stream.clone(), info.names.clone());
            }
        }
    }
    out
}
