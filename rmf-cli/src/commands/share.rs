//! What leaves the building: `rmf keygen`, `rmf share` and `rmf verify-provenance`.

use crate::commands::ExitCode;
use std::io::Write as _;
use std::path::PathBuf;

use rmf_core::{Key, Sensitivity};
use rmf_dataset::share::{share_at, verify_provenance, ShareOptions};
use rmf_store::Location;

use super::{io_error, CliResult};
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// The key file to create (must not exist).
    file: PathBuf,
}

#[derive(clap::Args)]
pub struct ShareArgs {
    /// The dataset directory to read (not modified), or an object-store prefix.
    input: PathBuf,
    /// The directory of the shared copy (same layout), or an object-store prefix.
    output: PathBuf,
    /// public or internal.
    #[arg(long)]
    max_label: String,
    /// A stream to leave out whatever its label (repeat for more).
    #[arg(long = "drop-stream")]
    drop_streams: Vec<String>,
    /// An episode tag (in the episode's extra.tags) that must be present (repeat for more).
    #[arg(long = "require-tag")]
    require_tags: Vec<String>,
}

#[derive(clap::Args)]
pub struct VerifyProvenanceArgs {
    /// The shared episode.
    shared: PathBuf,
    /// The source episode.
    source: PathBuf,
}

pub fn keygen(ctx: &Ctx, a: KeygenArgs) -> CliResult {
    let file = a.file.as_path();
    let key = Key::generate()?;
    let mut oo = std::fs::OpenOptions::new();
    oo.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut oo, 0o600);
    let mut f = oo.open(file).map_err(io_error(file, "create key file"))?;
    let hex = key.to_hex();
    f.write_all(format!("{}\n", hex.as_str()).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io_error(file, "write key file"))?;
    ctx.say(
        format!(
            "wrote key {} to {} (keep it secret; without it encrypted streams cannot be read)",
            key.id(),
            file.display()
        ),
        serde_json::json!({"file": file, "key_id": key.id()}),
    );
    Ok(ExitCode::SUCCESS)
}

pub fn share_dataset(ctx: &Ctx, a: ShareArgs) -> CliResult {
    let opts = ShareOptions::new(Sensitivity::parse(&a.max_label)?)
        .with_drop_streams(a.drop_streams)
        .with_require_tags(a.require_tags)
        .with_progress(ctx.progress());
    let (input, output) = (
        Location::from(a.input.as_path()),
        Location::from(a.output.as_path()),
    );
    let r = share_at(&input, &output, &opts, ctx.store())?;
    ctx.spinner_done();
    if ctx.json() {
        let v = serde_json::json!({
            "shared": r.shared.iter().map(|(src, out, p)| serde_json::json!({
                "source": src, "output": out, "provenance": p,
            })).collect::<Vec<_>>(),
            "left_out": r.left_out.iter().map(|(f, why)| serde_json::json!({"file": f, "reason": why})).collect::<Vec<_>>(),
        });
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    for (_, out, p) in &r.shared {
        let dropped: Vec<String> = p
            .dropped
            .iter()
            .map(|d| format!("{} ({})", d.stream, d.reason))
            .collect();
        println!(
            "  {}: kept {}, dropped {}",
            out.display(),
            p.streams.keys().cloned().collect::<Vec<_>>().join(", "),
            if dropped.is_empty() {
                "nothing".to_string()
            } else {
                dropped.join(", ")
            }
        );
    }
    for (f, why) in &r.left_out {
        println!("  left out {f}: {why}");
    }
    println!(
        "shared {} episodes into {} ({} left out)",
        r.shared.len(),
        a.output.display(),
        r.left_out.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(ctx: &Ctx, a: VerifyProvenanceArgs) -> CliResult {
    let c = verify_provenance(&a.shared, &a.source)?;
    ctx.spinner_done();
    if ctx.json() {
        println!(
            "{}",
            serde_json::json!({
                "shared": c.shared, "source": c.source, "ok": c.is_ok(),
                "verified_streams": c.verified_streams, "problems": c.problems,
            })
        );
    } else {
        print!("{c}");
    }
    Ok(if c.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
