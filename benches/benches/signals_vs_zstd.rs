//! Signal size and writer time against the format a user would otherwise write: the same
//! samples as row-major records (int64 time + float32 values), cut into chunks of the same time
//! span as RMF's (DEFAULT_CHUNK_DURATION_NS), each compressed with plain zstd at the same level.
//! The zstd side is timed twice: compression alone, and compression plus writing the frames to
//! a new file and syncing it at the end, as RMF's writer does (a recorder keeps what it wrote).
//! Both are measured in one run (ratios, not absolute times, are what to compare on a shared
//! machine).
//!
//! ```text
//! cargo bench -p rmf-benches --bench signals_vs_zstd
//! ```

use std::time::Instant;

use rmf_benches::{imu_csv, synthetic_ft, SignalData};
use rmf_core::{DType, EpisodeMeta, EpisodeReader, EpisodeWriter, StreamInfo, WriteOptions};

const REPEATS: usize = 7;

fn best<F: FnMut() -> usize>(mut f: F) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let mut out = 0;
    for _ in 0..REPEATS {
        let start = Instant::now();
        out = f();
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, out)
}

/// Plain zstd of row-major records, one frame per chunk span; with `file`, each frame is written
/// to that new file as it is made and the file is synced at the end.
fn zstd_baseline(d: &SignalData, level: i32, file: Option<&std::path::Path>) -> usize {
    use std::io::Write;
    let mut out = file.map(|p| std::fs::File::create(p).expect("create"));
    let mut total = 0;
    let mut start = 0;
    while start < d.t.len() {
        let span = std::env::var("RMF_CHUNK_SECONDS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(rmf_core::DEFAULT_CHUNK_DURATION_NS as f64 * 1e-9);
        let span = (span * 1e9) as i64;
        let end = d.t[start..]
            .iter()
            .position(|&t| t - d.t[start] >= span)
            .map_or(d.t.len(), |p| start + p);
        let mut raw = Vec::with_capacity((end - start) * (8 + 4 * d.width));
        for i in start..end {
            raw.extend_from_slice(&d.t[i].to_le_bytes());
            for v in &d.values[i * d.width..(i + 1) * d.width] {
                raw.extend_from_slice(&v.to_le_bytes());
            }
        }
        let frame = zstd::bulk::compress(&raw, level).expect("compress");
        if let Some(f) = out.as_mut() {
            f.write_all(&frame).expect("write");
        }
        total += frame.len();
        start = end;
    }
    if let Some(f) = out {
        f.sync_all().expect("sync");
    }
    total
}

/// Writes the signal as one RMF stream (create, write, finish with its fsync).
fn rmf_write(d: &SignalData, path: &std::path::Path) {
    let mut opts = WriteOptions::default().with_overwrite(true);
    if let Some(s) = std::env::var("RMF_CHUNK_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
    {
        opts = opts.with_chunk_duration_ns((s * 1e9) as i64);
    }
    if let Some(l) = std::env::var("RMF_PCO_LEVEL")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        opts = opts.with_pco_level(l);
    }
    let mut w = EpisodeWriter::create(path, EpisodeMeta::new(), opts).expect("create");
    let id = w
        .add_stream(StreamInfo::signal("s", DType::Float32, &[d.width]).with_rate(d.rate_hz))
        .expect("stream");
    w.write_signals(id, &d.t, &d.values).expect("write");
    w.finish().expect("finish");
}

/// The bytes of the file's chunk records (headers, directories and checksums included).
fn chunk_bytes(path: &std::path::Path) -> usize {
    let r = EpisodeReader::open(path).expect("open");
    r.chunks().iter().map(|c| c.length as usize).sum()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Every run writes a new file, as a recorder does: replacing the previous run's file would
    // time its removal too (0.15-0.35 ms here).
    let mut runs = 0;
    let mut fresh_path = || {
        runs += 1;
        dir.path().join(format!("s{runs}.rmf"))
    };
    let mut sets = Vec::new();
    for (file, hz) in [
        ("fusion_sensor_data.csv", 100.0),
        ("gait_short_walk.csv", 400.0),
    ] {
        match imu_csv(file, hz) {
            Some(d) => sets.push(d),
            None => eprintln!(
                "skipping {file}: not found under {}",
                rmf_benches::sensor_data().display()
            ),
        }
    }
    sets.push(synthetic_ft(60));

    let (fixed, _) = best(|| {
        let w = EpisodeWriter::create(
            fresh_path(),
            EpisodeMeta::new(),
            WriteOptions::default().with_overwrite(true),
        )
        .expect("create");
        w.finish().expect("finish");
        0
    });
    println!(
        "fixed cost of creating and finishing (fsync) an empty file: {:.2} ms",
        fixed * 1e3
    );
    println!("signals (timestamps + values) vs row-major records + zstd-3 per chunk of the same span; best of {REPEATS} runs");
    println!(
        "zstd ms: compression alone; +file ms: compression, writing a new file and syncing it"
    );
    println!(
        "{:<26} {:>8} {:>10} {:>10} {:>10} {:>7} {:>9} {:>9} {:>9} {:>7} {:>8}",
        "data",
        "samples",
        "raw B",
        "zstd B",
        "rmf B",
        "size",
        "zstd ms",
        "+file ms",
        "rmf ms",
        "time",
        "vs file"
    );
    for d in &sets {
        let (zt, zb) = best(|| zstd_baseline(d, 3, None));
        let (zft, _) = best(|| zstd_baseline(d, 3, Some(&fresh_path().with_extension("zst"))));
        // Only the writer is timed; the size is read from the file afterwards.
        let mut path = fresh_path();
        let (rt, _) = best(|| {
            path = fresh_path();
            rmf_write(d, &path);
            0
        });
        let rb = chunk_bytes(&path);
        println!(
            "{:<26} {:>8} {:>10} {:>10} {:>10} {:>6.2}x {:>9.2} {:>9.2} {:>9.2} {:>6.2}x {:>7.2}x",
            d.name,
            d.t.len(),
            d.raw_bytes(),
            zb,
            rb,
            rb as f64 / zb as f64,
            zt * 1e3,
            zft * 1e3,
            rt * 1e3,
            rt / zt,
            rt / zft
        );
    }
}
