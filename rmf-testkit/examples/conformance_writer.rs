//! Writes the conformance files in `testdata/` (or, with `--verify`, checks that the committed
//! files are exactly what this version writes, and that every file is listed in
//! testdata/README.md).
//!
//! ```text
//! cargo run -p rmf-testkit --example conformance_writer -- testdata          # regenerate
//! cargo run -p rmf-testkit --example conformance_writer -- testdata --verify # check
//! ```

use rmf_testkit::conformance as cases;

use std::path::Path;
use std::process::ExitCode;

use rmf_core::{EpisodeReader, ReadOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = Path::new(args.first().map(String::as_str).unwrap_or("testdata"));
    let verify = args.iter().any(|a| a == "--verify");
    let mut problems = Vec::new();
    let mut put = |path: &Path, bytes: &[u8]| {
        if verify {
            match std::fs::read(path) {
                Ok(old) if old == bytes => {}
                Ok(_) => problems.push(format!("{} is outdated: regenerate it", path.display())),
                Err(_) => problems.push(format!("{} is missing", path.display())),
            }
        } else if let Err(e) = std::fs::write(path, bytes) {
            problems.push(format!("{}: {e}", path.display()));
        }
    };
    for case in cases::cases() {
        let bytes = cases::case_bytes(&case);
        let json = match EpisodeReader::from_bytes(bytes.clone(), case.name, ReadOptions::default())
        {
            Ok(r) => cases::canonical_json(&r),
            Err(e) => {
                eprintln!("{}: {e}", case.name);
                return ExitCode::FAILURE;
            }
        };
        let base = dir.join("conformance").join(case.name);
        put(&base.with_extension("rmf"), &bytes);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default() + "\n";
        put(&base.with_extension("json"), text.as_bytes());
    }
    for inv in cases::invalid() {
        let bytes = (inv.bytes)();
        let base = dir.join("invalid").join(inv.name);
        put(&base.with_extension("rmf"), &bytes);
        let text = serde_json::to_string_pretty(&(inv.expect)()).unwrap_or_default() + "\n";
        put(&base.with_extension("json"), text.as_bytes());
    }
    if problems.is_empty() {
        println!(
            "{} conformance files {}",
            dir.display(),
            if verify { "verified" } else { "written" }
        );
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        ExitCode::FAILURE
    }
}
