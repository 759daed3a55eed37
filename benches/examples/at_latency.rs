//! Mean latency of `EpisodeReader::at` on one stream at random times, for comparison with the
//! same call from Python (`benches/python/bench_read.py` runs both on one file).
//!
//! ```text
//! cargo run --release -p rmf-benches --example at_latency -- FILE STREAM CALLS
//! ```

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(file), Some(stream)) = (args.first(), args.get(1)) else {
        eprintln!("usage: at_latency FILE STREAM [CALLS]");
        std::process::exit(2);
    };
    let calls: u64 = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(2000);
    let r = match rmf_core::EpisodeReader::open(file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let (Some(t0), Some(t1)) = r
        .summary(stream)
        .map(|s| (s.t_min, s.t_max))
        .unwrap_or((None, None))
    else {
        eprintln!("{stream}: no samples");
        std::process::exit(2);
    };
    let span = (t1 - t0).max(1) as u64;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let start = Instant::now();
    let mut found = 0;
    for _ in 0..calls {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = t0 + (x % span) as i64;
        if let Ok(Some(b)) = r.at(stream, t) {
            found += b.num_rows();
        }
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / calls as f64;
    println!("{us:.2} {found}");
}
