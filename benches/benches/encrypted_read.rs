//! The cost of encryption on reads: the same private streams read from a file written without
//! a key and from one written with a key, in one run (the issue's goal: at most 1.2x).
//!
//! ```text
//! cargo bench -p rmf-benches --bench encrypted_read
//! ```
//!
//! Reading with the key includes opening the file (unwrapping the data key: no KDF, a raw key)
//! and decrypting every chunk it touches; the frame case reads single frames at random times,
//! where a sealed chunk must be decrypted whole before one frame of it is decoded.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rmf_benches::synthetic_ft;
use rmf_core::*;
use rmf_testkit::demo::{demo_streams, DemoOptions};

fn write(path: &Path, key: Option<&Key>, ft: &rmf_benches::SignalData, frames: &[Vec<u8>]) {
    let mut opts = WriteOptions::default().with_overwrite(true);
    if let Some(k) = key {
        opts = opts.with_secret(k.clone());
    }
    let mut w = EpisodeWriter::create(path, EpisodeMeta::new(), opts).expect("create");
    let s = w
        .add_stream(
            StreamInfo::signal("ft", DType::Float32, &[6]).with_sensitivity(Sensitivity::Private),
        )
        .expect("stream");
    w.write_signals(s, &ft.t, &ft.values).expect("write");
    let cam = demo_streams(&DemoOptions::default())
        .remove(0)
        .with_codec(FrameCodec::H264)
        .with_sensitivity(Sensitivity::Private);
    let cam = w.add_stream(cam).expect("stream");
    for (i, f) in frames.iter().enumerate() {
        w.write_frame(cam, i as i64 * 33_333_333, f).expect("write");
    }
    w.finish().expect("finish");
}

fn encrypted_read(c: &mut Criterion) {
    let ft = synthetic_ft(600);
    let frames = rmf_benches::demo_frames(2.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let key = Key::generate().expect("key");
    let plain = dir.path().join("plain.rmf");
    let sealed = dir.path().join("sealed.rmf");
    write(&plain, None, &ft, &frames);
    write(&sealed, Some(&key), &ft, &frames);
    let cases = [
        ("plain", &plain, ReadOptions::default()),
        (
            "encrypted",
            &sealed,
            ReadOptions::default().with_secret(key),
        ),
    ];

    let mut g = c.benchmark_group("signal_read_all_600s_1kHz");
    g.sample_size(10);
    for (name, path, opts) in &cases {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let r = EpisodeReader::open_with(path, opts.clone()).expect("open");
                r.read_all("ft").expect("read").num_rows()
            })
        });
    }
    g.finish();

    // Single frames at pseudo-random times, each from a freshly opened file (no warm cache).
    let mut g = c.benchmark_group("h264_random_frame");
    g.sample_size(20);
    for (name, path, opts) in &cases {
        let mut x = 12345u64;
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let t = ((x >> 33) % 60) as i64 * 33_333_333;
                let r = EpisodeReader::open_with(path, opts.clone()).expect("open");
                r.frame_at("cam/front", t).expect("read").map(|f| f.1.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, encrypted_read);
criterion_main!(benches);
