//! The `wav_import` target: see `fuzz/bodies.rs` for what it does with an input.
//!
//! ```text
//! cargo install cargo-fuzz
//! cargo fuzz run wav_import fuzz/corpus/wav_import -- -max_total_time=60 -rss_limit_mb=2048
//! ```
#![no_main]

#[path = "../bodies.rs"]
#[allow(dead_code)] // each target uses one body
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::wav_import(data));
