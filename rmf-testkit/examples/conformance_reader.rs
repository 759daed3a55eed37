//! Prints the canonical JSON of what a reader sees in an RMF file (the shape of the `.json`
//! files in testdata/conformance; see testdata/README.md). Another implementation can print the
//! same JSON and compare.
//!
//! ```text
//! cargo run -p rmf-testkit --example conformance_reader -- testdata/conformance/every-kind.rmf
//! ```

use rmf_testkit::conformance as cases;

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: conformance_reader FILE.rmf");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let json = match rmf_core::EpisodeReader::from_bytes(
        bytes.clone(),
        &*path,
        rmf_core::ReadOptions::default(),
    ) {
        Ok(r) => cases::canonical_json(&r),
        Err(_) => cases::invalid_json(bytes),
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    ExitCode::SUCCESS
}
