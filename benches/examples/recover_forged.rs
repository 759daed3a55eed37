//! Time per MB of `recover` and of opening (which scans an unfinished file) on files built to
//! make recovery's resynchronisation slow: after a damaged header, a forged record header every
//! 32 bytes, each claiming a body to the end of the file (issue 19). Linear recovery keeps the
//! time per MB flat as the file grows.
//!
//! ```text
//! cargo run --release -p rmf-benches --example recover_forged -- [MB ...]   # default 1 4 16 64
//! ```

use std::time::Instant;

use rmf_testkit::fixtures::forged_headers;

fn main() {
    let sizes: Vec<usize> = {
        let given: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if given.is_empty() {
            vec![1, 4, 16, 64]
        } else {
            given
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("temporary directory: {e}");
            std::process::exit(2);
        }
    };
    println!("| MB | recover s | recover ms/MB | open s | open ms/MB |");
    println!("|---|---|---|---|---|");
    for mb in sizes {
        let input = dir.path().join(format!("forged-{mb}.rmf"));
        let output = dir.path().join(format!("forged-{mb}.recovered.rmf"));
        if let Err(e) = std::fs::write(&input, forged_headers(mb << 20)) {
            eprintln!("{}: {e}", input.display());
            std::process::exit(2);
        }
        let t = Instant::now();
        if let Err(e) = rmf_core::recover(&input, &output) {
            eprintln!("recover: {e}");
            std::process::exit(1);
        }
        let recover_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        // The forged file has no episode record, so opening it ends in an error after the scan.
        let _ = rmf_core::EpisodeReader::open(&input);
        let open_s = t.elapsed().as_secs_f64();
        println!(
            "| {mb} | {recover_s:.3} | {:.2} | {open_s:.3} | {:.2} |",
            recover_s * 1e3 / mb as f64,
            open_s * 1e3 / mb as f64
        );
    }
}
