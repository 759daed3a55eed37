//! Write and read throughput per stream kind (MB/s of raw input), and the cost of an as-of
//! query on a one-hour 1 kHz 6-axis stream against decompressing one chunk of it.
//!
//! ```text
//! cargo bench -p rmf-benches --bench throughput
//! ```

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rmf_benches::synthetic_ft;
use rmf_core::*;
use rmf_testkit::demo::{demo_streams, DemoOptions};

fn opts() -> WriteOptions {
    WriteOptions::default().with_overwrite(true)
}

fn write_kind(path: &Path, kind: &str, ft: &rmf_benches::SignalData, frames: &[Vec<u8>]) {
    let mut w = EpisodeWriter::create(path, EpisodeMeta::new(), opts()).expect("create");
    match kind {
        "signal" => {
            let id = w
                .add_stream(StreamInfo::signal("s", DType::Float32, &[6]))
                .expect("stream");
            w.write_signals(id, &ft.t, &ft.values).expect("write");
        }
        "frames" | "frames-h264" => {
            let mut info = demo_streams(&DemoOptions::default()).remove(0);
            if kind == "frames-h264" {
                info = info.with_codec(rmf_core::FrameCodec::H264);
            }
            let id = w.add_stream(info).expect("stream");
            for (i, f) in frames.iter().enumerate() {
                w.write_frame(id, i as i64 * 33_333_333, f).expect("write");
            }
        }
        "audio" => {
            let id = w
                .add_stream(StreamInfo::audio("mic", 16_000, 1, DType::Int16))
                .expect("stream");
            for b in 0..3000i64 {
                let block: Vec<i16> = (0..320)
                    .map(|k| (((b * 320 + k) as f64 * 0.047).sin() * 9000.0) as i16)
                    .collect();
                w.write_audio(id, b * 20_000_000, &block).expect("write");
            }
        }
        _ => {
            let id = w.add_stream(StreamInfo::events("log")).expect("stream");
            let opts_text = "operator pressed the takeover button";
            for i in 0..2000i64 {
                let e = Event::new(if i % 2 == 0 {
                    "takeover_start"
                } else {
                    "takeover_end"
                })
                .with_operator("op-7")
                .with_text(opts_text);
                w.write_event(id, i * 10_000_000, &e).expect("write");
            }
        }
    }
    w.finish().expect("finish");
}

fn raw_bytes(kind: &str, ft: &rmf_benches::SignalData, frames: &[Vec<u8>]) -> u64 {
    match kind {
        "signal" => ft.raw_bytes() as u64,
        "frames" | "frames-h264" => frames.iter().map(|f| f.len() as u64 + 8).sum(),
        "audio" => 3000 * (8 + 640),
        _ => 2000 * (8 + 14 + 4 + 36 + 4),
    }
}

fn throughput(c: &mut Criterion) {
    let ft = synthetic_ft(60);
    let frames = rmf_benches::demo_frames(2.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("write");
    g.sample_size(10);
    for kind in ["signal", "frames", "frames-h264", "audio", "events"] {
        let path = dir.path().join(format!("w-{kind}.rmf"));
        g.throughput(Throughput::Bytes(raw_bytes(kind, &ft, &frames)));
        g.bench_function(BenchmarkId::from_parameter(kind), |b| {
            b.iter(|| write_kind(&path, kind, &ft, &frames))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("read_all");
    g.sample_size(10);
    for kind in ["signal", "frames", "frames-h264", "audio", "events"] {
        let path = dir.path().join(format!("r-{kind}.rmf"));
        write_kind(&path, kind, &ft, &frames);
        let name = match kind {
            "signal" => "s",
            "frames" | "frames-h264" => "cam/front",
            "audio" => "mic",
            _ => "log",
        };
        g.throughput(Throughput::Bytes(raw_bytes(kind, &ft, &frames)));
        g.bench_function(BenchmarkId::from_parameter(kind), |b| {
            b.iter(|| {
                let r = EpisodeReader::open(&path).expect("open");
                r.read_all(name).expect("read").num_rows()
            })
        });
    }
    g.finish();
}

/// One hour of 1 kHz 6-axis force/torque: `at()` at random times against decoding one chunk.
fn random_access(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hour.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), opts()).expect("create");
    let id = w
        .add_stream(StreamInfo::signal("ft", DType::Float32, &[6]).with_rate(1000.0))
        .expect("stream");
    let minute = synthetic_ft(60);
    for m in 0..60i64 {
        let t: Vec<i64> = minute.t.iter().map(|t| t + m * 60_000_000_000).collect();
        w.write_signals(id, &t, &minute.values).expect("write");
    }
    w.finish().expect("finish");
    let r = EpisodeReader::open(&path).expect("open");
    let n_chunks = r.chunks().len();

    let mut g = c.benchmark_group("one_hour_1khz_6axis");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    g.bench_function("at_random_time", |b| {
        b.iter(|| {
            let t = (next() % 3_600_000_000_000) as i64;
            r.at("ft", t).expect("at").map(|b| b.num_rows())
        })
    });
    g.bench_function("decode_one_chunk", |b| {
        b.iter(|| {
            let i = (next() % n_chunks as u64) as usize;
            r.read_chunk(i).expect("chunk").num_rows()
        })
    });
    g.finish();
}

criterion_group!(benches, throughput, random_access);
criterion_main!(benches);
