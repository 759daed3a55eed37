//! Any bytes: opening, reading every stream with every query, and validating must return
//! values or typed errors, never panic, and never allocate past the reader's limit.
//!
//! ```text
//! cargo install cargo-fuzz
//! cargo fuzz run reader -- -max_total_time=60            # seeds: testdata/**/*.rmf
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmf_core::{validate_reader, EpisodeReader, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions::default().with_max_chunk_bytes(64 << 20);
    let Ok(r) = EpisodeReader::from_bytes(data.to_vec(), "fuzz", opts) else {
        return;
    };
    let names: Vec<String> = r.streams().iter().map(|s| s.name.clone()).collect();
    for name in &names {
        let _ = r.read_all(name);
        let _ = r.at(name, 0);
        let _ = r.nearest(name, i64::MAX / 2);
        let _ = r.read_range(name, -1_000, 1_000_000_000);
        let _ = r.times(name);
        let _ = r.signal_bounds(name);
        if let Ok(it) = r.iter(name) {
            for b in it {
                let _ = b;
            }
        }
    }
    let _ = validate_reader(&r);
});
