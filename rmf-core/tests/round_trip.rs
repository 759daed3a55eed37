//! Round trips: every stream kind and element type comes back exactly, and the time queries
//! (range, as-of, nearest, iteration) answer what the spec says.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use arrow_array::{Array, FixedSizeListArray, Int64Array};
use common::*;
use rmf_core::*;

#[test]
fn every_kind_round_trips_exactly() {
    let (_dir, path, written) = small_file();
    let r = EpisodeReader::open(&path).unwrap();
    assert!(r.recovery().is_none());
    assert_eq!(read_small(&r).unwrap(), written);
    assert_eq!(r.meta().robot, "test-arm");
    assert_eq!(r.meta().extra["k"], 1);
    assert_eq!(r.meta().writer.library, "rmf-core");
    assert_eq!(r.streams().len(), 5);
    // 200 ms of 1 kHz in 50 ms chunks: several chunks per stream.
    assert!(r.summary("ft").unwrap().chunks >= 4);
    assert!(validate(&path).unwrap().is_ok());
}

fn round_trip_dtype<T: Element + Copy>(values: Vec<T>) {
    let dir = tempdir();
    let path = dir.path().join("d.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let id = w
        .add_stream(StreamInfo::signal("x", T::DTYPE, &[2, 2]))
        .unwrap();
    let n = values.len() / 4;
    let ts: Vec<i64> = (0..n as i64).map(|i| -500 + i * 3).collect();
    w.write_signals(id, &ts, &values).unwrap();
    w.finish().unwrap();
    let r = EpisodeReader::open(&path).unwrap();
    let (t, v) = r.signal_range::<T>("x", i64::MIN, i64::MAX).unwrap();
    assert_eq!(t, ts);
    assert_eq!(
        bytemuck::cast_slice::<T, u8>(&v),
        bytemuck::cast_slice::<T, u8>(&values),
        "{}",
        T::DTYPE
    );
    assert!(validate(&path).unwrap().is_ok());
}

#[test]
fn every_element_type_round_trips_bit_exactly() {
    let n: usize = 1000;
    round_trip_dtype::<u8>((0..n * 4).map(|i| (i * 7) as u8).collect());
    round_trip_dtype::<i8>((0..n * 4).map(|i| (i as i8).wrapping_mul(3)).collect());
    round_trip_dtype::<u16>((0..n * 4).map(|i| (i * 31) as u16).collect());
    round_trip_dtype::<i16>((0..n * 4).map(|i| (i as i16).wrapping_mul(-77)).collect());
    round_trip_dtype::<u32>(
        (0..n * 4)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761))
            .collect(),
    );
    round_trip_dtype::<i32>((0..n * 4).map(|i| i as i32 - 2000).collect());
    round_trip_dtype::<u64>(
        (0..n * 4)
            .map(|i| (i as u64) << 40 | 7)
            .chain([u64::MAX; 4])
            .collect(),
    );
    round_trip_dtype::<i64>((0..n * 4).map(|i| i64::MIN + i as i64).collect());
    let mut f: Vec<f32> = (0..n * 4).map(|i| (i as f32 * 0.1).sin() * 1e3).collect();
    f[..8].copy_from_slice(&[
        f32::NAN,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE / 2.0,
        f32::from_bits(0x7fa0_0001),
        1.0,
        2.0,
    ]);
    round_trip_dtype::<f32>(f);
    let mut d: Vec<f64> = (0..n * 4).map(|i| (i as f64 * 0.01).cos()).collect();
    d[..4].copy_from_slice(&[f64::NAN, -0.0, f64::MAX, f64::from_bits(1)]);
    round_trip_dtype::<f64>(d);
}

#[test]
fn audio_in_float32_and_many_channels() {
    let dir = tempdir();
    let path = dir.path().join("a.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let id = w
        .add_stream(StreamInfo::audio("mic", 44_100, 3, DType::Float32))
        .unwrap();
    let mut blocks = Vec::new();
    for b in 0..30i64 {
        let len = 3 * (100 + (b as usize % 5) * 17); // blocks of varying length
        let samples: Vec<f32> = (0..len)
            .map(|k| ((k as f32) * 0.01 + b as f32).sin())
            .collect();
        let t = b * 10_000_000;
        w.write_audio(id, t, &samples).unwrap();
        blocks.push(AudioBlock { t, samples });
    }
    w.finish().unwrap();
    let r = EpisodeReader::open(&path).unwrap();
    assert_eq!(
        r.audio_range::<f32>("mic", i64::MIN, i64::MAX).unwrap(),
        blocks
    );
    assert_eq!(
        r.audio_range::<f32>("mic", 50_000_000, 70_000_000).unwrap(),
        blocks[5..7]
    );
}

#[test]
fn queries_follow_the_spec() {
    let (_dir, path, w) = small_file();
    let r = EpisodeReader::open(&path).unwrap();
    let t = |i: usize| w.ft_t[i];

    // read_range is half-open.
    let (ts, _) = r.signal_range::<f32>("ft", t(10), t(20)).unwrap();
    assert_eq!(ts, w.ft_t[10..20]);
    let (ts, _) = r.signal_range::<f32>("ft", t(10) + 1, t(20) + 1).unwrap();
    assert_eq!(ts, w.ft_t[11..21]);
    // Ranges that cross chunk boundaries (chunks are 50 ms = 50 samples).
    let (ts, v) = r.signal_range::<f32>("ft", t(45), t(155)).unwrap();
    assert_eq!(ts, w.ft_t[45..155]);
    assert_eq!(v, w.ft_v[45 * 3..155 * 3]);
    // Empty and inverted ranges.
    assert_eq!(r.read_range("ft", t(5), t(5)).unwrap().num_rows(), 0);
    assert_eq!(r.read_range("ft", t(9), t(5)).unwrap().num_rows(), 0);
    assert_eq!(r.read_range("ft", i64::MIN, 0).unwrap().num_rows(), 0);

    // at: last at or before.
    assert_eq!(
        r.signal_at::<f32>("ft", t(99)).unwrap().unwrap(),
        (t(99), w.ft_v[297..300].to_vec())
    );
    assert_eq!(
        r.signal_at::<f32>("ft", t(99) + 999_999)
            .unwrap()
            .unwrap()
            .0,
        t(99)
    );
    assert_eq!(r.signal_at::<f32>("ft", t(0) - 1).unwrap(), None);
    assert_eq!(
        r.signal_at::<f32>("ft", i64::MAX).unwrap().unwrap().0,
        t(199)
    );
    // Between chunks: the last sample of the earlier chunk.
    assert_eq!(r.find_at("ft", t(50) - 1).unwrap().unwrap().t, t(49));

    // nearest: closer side, earlier on a tie.
    assert_eq!(
        r.find_nearest("ft", t(30) + 400_000).unwrap().unwrap().t,
        t(30)
    );
    assert_eq!(
        r.find_nearest("ft", t(30) + 600_000).unwrap().unwrap().t,
        t(31)
    );
    assert_eq!(
        r.find_nearest("ft", t(30) + 500_000).unwrap().unwrap().t,
        t(30)
    );
    assert_eq!(
        r.find_nearest("ft", t(49) + 700_000).unwrap().unwrap().t,
        t(50)
    );
    assert_eq!(r.find_nearest("ft", i64::MIN).unwrap().unwrap().t, t(0));
    assert_eq!(r.find_nearest("ft", i64::MAX).unwrap().unwrap().t, t(199));

    // Frames and events through the Arrow API.
    let (ft, px) = r.frame_at("cam", w.cam_t[3] + 10).unwrap().unwrap();
    assert_eq!(ft, w.cam_t[3]);
    assert_eq!(px, w.cam[3 * 24..4 * 24]);
    let batch = r.nearest("log", w.events[1].0 + 1).unwrap().unwrap();
    let ts = batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(ts.value(0), w.events[1].0);
    assert_eq!(batch.schema(), r.stream("log").unwrap().arrow_schema());

    // Iteration yields every chunk in time order.
    let mut all = Vec::new();
    for b in r.iter("counter").unwrap() {
        let b = b.unwrap();
        let ts = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        all.extend(ts.values().iter().copied());
    }
    assert_eq!(all, w.counter_t);
    assert_eq!(r.times("counter").unwrap(), w.counter_t);
    let scalar = r.read_all("counter").unwrap();
    let list = scalar
        .column(1)
        .as_any()
        .downcast_ref::<FixedSizeListArray>()
        .unwrap();
    assert_eq!(list.value_length(), 1);
}

#[test]
fn equal_timestamps_are_kept_in_order_and_as_of_takes_the_last() {
    let dir = tempdir();
    let path = dir.path().join("dup.rmf");
    let opts = WriteOptions::default().with_chunk_bytes(64); // a chunk every few samples
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), opts).unwrap();
    let id = w
        .add_stream(StreamInfo::signal("s", DType::Int32, &[1]))
        .unwrap();
    let ts = [0i64, 5, 5, 5, 5, 5, 5, 5, 5, 9];
    let vs: Vec<i32> = (0..10).collect();
    w.write_signals(id, &ts, &vs).unwrap();
    w.finish().unwrap();
    let r = EpisodeReader::open(&path).unwrap();
    assert!(r.summary("s").unwrap().chunks > 1);
    assert_eq!(r.signal_at::<i32>("s", 5).unwrap().unwrap(), (5, vec![8]));
    assert_eq!(
        r.signal_range::<i32>("s", 5, 6).unwrap().1,
        (1..9).collect::<Vec<_>>()
    );
    assert!(validate(&path).unwrap().is_ok());
}

#[test]
fn queries_read_only_the_chunks_they_need() {
    let dir = tempdir();
    let path = dir.path().join("long.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let id = w
        .add_stream(StreamInfo::signal("ft", DType::Float32, &[6]).with_rate(1000.0))
        .unwrap();
    let n = 480_000i64; // eight minutes at 1 kHz: 120 chunks of 4 s
    let ts: Vec<i64> = (0..n).map(|i| i * 1_000_000).collect();
    let vs: Vec<f32> = (0..n * 6)
        .map(|i| ((i % 977) as f32 * 0.37).sin())
        .collect();
    w.write_signals(id, &ts, &vs).unwrap();
    w.finish().unwrap();

    let r = EpisodeReader::open(&path).unwrap();
    let file_len = std::fs::metadata(&path).unwrap().len();
    let opened = r.bytes_read();
    assert_eq!(r.chunks().len(), 120);
    let largest_chunk = r.chunks().iter().map(|c| c.length).max().unwrap();
    let footer = opened;
    assert!(
        footer < file_len / 20,
        "open read {footer} of {file_len} bytes"
    );

    let v = r.signal_at::<f32>("ft", 61_234_567_890).unwrap().unwrap();
    assert_eq!(v.0, 61_234_000_000);
    assert_eq!(v.1, vs[61_234 * 6..61_235 * 6]);
    let one_query = r.bytes_read() - opened;
    // signal_at = find (timestamps of one chunk) + read of that sample's chunk.
    assert!(
        one_query <= 2 * largest_chunk,
        "as-of read {one_query} bytes; one chunk is at most {largest_chunk}"
    );

    let before = r.bytes_read();
    let b = r.read_range("ft", 10_000_000_000, 13_000_000_000).unwrap();
    assert_eq!(b.num_rows(), 3000);
    let range = r.bytes_read() - before;
    assert!(range <= 4 * largest_chunk, "3 s range read {range} bytes");
}

#[test]
fn caller_mistakes_are_clear_errors() {
    let dir = tempdir();
    let path = dir.path().join("e.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let s = w
        .add_stream(StreamInfo::signal("s", DType::Float32, &[3]))
        .unwrap();
    let f = w
        .add_stream(StreamInfo::frames("f", 2, 2, PixelFormat::Rgb8))
        .unwrap();

    let e = w.write_signal(s, 0, &[1.0f64, 2.0, 3.0]).unwrap_err();
    assert!(
        matches!(e, Error::Mismatch { .. }) && e.to_string().contains("float64"),
        "{e}"
    );
    let e = w.write_signal(s, 0, &[1.0f32, 2.0]).unwrap_err();
    assert!(e.to_string().contains("shape [3]"), "{e}");
    let e = w.write_frame(f, 0, &[0u8; 11]).unwrap_err();
    assert!(e.to_string().contains("expected 12"), "{e}");
    let e = w.write_audio(f, 0, &[0i16; 4]).unwrap_err();
    assert!(
        e.to_string().contains("write_audio on a frames stream"),
        "{e}"
    );

    w.write_signal(s, 100, &[1.0f32, 2.0, 3.0]).unwrap();
    let e = w.write_signal(s, 99, &[1.0f32, 2.0, 3.0]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TimeWentBackwards {
                previous: 100,
                got: 99,
                ..
            }
        ),
        "{e}"
    );
    // A refused sample leaves the stream as it was.
    w.write_signal(s, 100, &[4.0f32, 5.0, 6.0]).unwrap();

    assert!(matches!(
        w.add_stream(StreamInfo::events("s")),
        Err(Error::DuplicateStream { .. })
    ));
    assert!(w.add_stream(StreamInfo::events("bad//name")).is_err());
    assert!(w
        .add_stream(StreamInfo::signal("z", DType::Float32, &[0]))
        .is_err());
    assert!(w
        .add_stream(StreamInfo::audio("a", 16000, 1, DType::Int32))
        .is_err());
    assert!(matches!(
        w.stream_id("nope"),
        Err(Error::UnknownStream { .. })
    ));
    w.finish().unwrap();

    // The file exists: refused without overwrite.
    let e = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default())
        .err()
        .unwrap();
    assert!(e.to_string().contains("exists"), "{e}");

    let r = EpisodeReader::open(&path).unwrap();
    let e = r.read_all("nope").unwrap_err();
    assert!(e.to_string().contains("streams: s, f"), "{e}");
    assert!(matches!(
        r.signal_range::<f64>("s", 0, 1),
        Err(Error::Mismatch { .. })
    ));
    assert_eq!(
        r.signal_range::<f32>("s", 0, 1000).unwrap().1,
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    );

    let e = EpisodeReader::open(dir.path().join("missing.rmf")).unwrap_err();
    assert!(
        matches!(&e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{e}"
    );
}

#[test]
fn a_dropped_writer_finishes_the_file() {
    let dir = tempdir();
    let path = dir.path().join("drop.rmf");
    {
        let mut w =
            EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
        let s = w.add_stream(StreamInfo::events("log")).unwrap();
        w.write_event(s, 1, &Event::new("note")).unwrap();
    }
    let r = EpisodeReader::open(&path).unwrap();
    assert!(r.recovery().is_none());
    assert_eq!(r.events_range("log", 0, 10).unwrap()[0].1.kind, "note");
}

#[test]
fn an_empty_episode_is_a_valid_file() {
    let dir = tempdir();
    let path = dir.path().join("empty.rmf");
    let w = EpisodeWriter::create(
        &path,
        EpisodeMeta::new().with_task("nothing"),
        WriteOptions::default(),
    )
    .unwrap();
    let summary = w.finish().unwrap();
    assert_eq!(summary.chunks, 0);
    let r = EpisodeReader::open(&path).unwrap();
    assert_eq!(r.meta().task, "nothing");
    assert!(r.streams().is_empty() && r.time_range().is_none());
    assert!(validate(&path).unwrap().is_ok());
}

#[test]
fn sparse_streams_are_flushed_when_the_episode_clock_moves_on() {
    // An event written early must reach the file within one chunk duration of episode time,
    // even if its own stream writes nothing more: a crash must not lose it.
    let dir = tempdir();
    let path = dir.path().join("sparse.rmf");
    let opts = WriteOptions::default().with_flush_events(false);
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), opts).unwrap();
    let ev = w.add_stream(StreamInfo::events("log")).unwrap();
    let s = w
        .add_stream(StreamInfo::signal("s", DType::Float32, &[1]))
        .unwrap();
    w.write_event(ev, 0, &Event::new("takeover_start")).unwrap();
    for i in 0..5500i64 {
        w.write_signal(s, i * 1_000_000, &[i as f32]).unwrap();
    }
    // Simulate a crash: read the file as it is now, without finish().
    let bytes = std::fs::read(&path).unwrap();
    std::mem::forget(w);
    let r = EpisodeReader::from_bytes(bytes, "crashed", ReadOptions::default()).unwrap();
    assert!(r.recovery().is_some());
    assert_eq!(r.events_range("log", i64::MIN, i64::MAX).unwrap().len(), 1);
    // The signal's first chunk duration is on disk too.
    assert!(
        r.summary("s").unwrap().count >= 4000,
        "{:?} {}",
        r.summary("s").unwrap(),
        r.recovery().unwrap()
    );
}

#[test]
fn events_reach_the_file_as_they_are_written() {
    let dir = tempdir();
    let path = dir.path().join("events.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let ev = w.add_stream(StreamInfo::events("log")).unwrap();
    w.write_event(ev, 7, &Event::new("takeover_start").with_text("slip"))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::mem::forget(w);
    let r = EpisodeReader::from_bytes(bytes, "crashed", ReadOptions::default()).unwrap();
    assert_eq!(r.events_range("log", 0, 10).unwrap()[0].1.text, "slip");
}

#[test]
fn default_flush_policy_bounds_chunks() {
    let dir = tempdir();
    let path = dir.path().join("policy.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let cam = w
        .add_stream(StreamInfo::frames("cam", 64, 64, PixelFormat::Rgb8))
        .unwrap();
    let mut rng = 1u64;
    for i in 0..300i64 {
        // Incompressible frames of 12 KiB: the 4 MiB size limit is not reached in 4 s.
        let px: Vec<u8> = (0..64 * 64 * 3)
            .map(|_| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (rng >> 56) as u8
            })
            .collect();
        w.write_frame(cam, i * 33_333_333, &px).unwrap();
    }
    w.finish().unwrap();
    let r = EpisodeReader::open(&path).unwrap();
    for c in r.chunks() {
        assert!(c.t_max - c.t_min < DEFAULT_CHUNK_DURATION_NS);
    }
    assert_eq!(r.chunks().len(), 3);
}

#[test]
#[cfg(all(feature = "png", feature = "jpeg"))]
fn png_frames_are_lossless_and_jpeg_frames_are_close() {
    use rmf_testkit::demo::{record_demo, DemoOptions};
    // Real-looking frames: the demo's rendered scene with sensor noise.
    let dir = tempdir();
    let demo = dir.path().join("demo.rmf");
    let small = DemoOptions {
        seconds: 0.2,
        width: 160,
        height: 120,
        ..DemoOptions::default()
    };
    record_demo(&demo, &small, WriteOptions::default()).unwrap();
    let (ts, rgb) = EpisodeReader::open(&demo)
        .unwrap()
        .frames_range("cam/front", i64::MIN, i64::MAX)
        .unwrap();
    let n = ts.len();
    assert!(n >= 5);
    let gray: Vec<u8> = rgb
        .chunks_exact(3)
        .map(|p| ((p[0] as u16 + p[1] as u16 + p[2] as u16) / 3) as u8)
        .collect();
    let depth: Vec<u8> = (0..n * 160 * 120)
        .flat_map(|i| ((i * 7919 % 65_536) as u16).to_le_bytes())
        .collect();

    let path = dir.path().join("codecs.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let streams = [
        ("png/rgb", PixelFormat::Rgb8, FrameCodec::Png, &rgb),
        ("png/gray", PixelFormat::Gray8, FrameCodec::Png, &gray),
        ("png/depth", PixelFormat::Gray16, FrameCodec::Png, &depth),
        ("jpeg/rgb", PixelFormat::Rgb8, FrameCodec::JPEG, &rgb),
        ("jpeg/gray", PixelFormat::Gray8, FrameCodec::JPEG, &gray),
    ];
    for (name, pf, codec, data) in &streams {
        let id = w
            .add_stream(StreamInfo::frames(*name, 160, 120, *pf).with_codec(*codec))
            .unwrap();
        let per = data.len() / n;
        for (i, &t) in ts.iter().enumerate() {
            w.write_frame(id, t, &data[i * per..(i + 1) * per]).unwrap();
        }
    }
    let e = w.add_stream(
        StreamInfo::frames("jpeg/depth", 4, 4, PixelFormat::Gray16).with_codec(FrameCodec::JPEG),
    );
    assert!(e
        .unwrap_err()
        .to_string()
        .contains("JPEG holds 8-bit images"));
    w.finish().unwrap();

    let r = EpisodeReader::open(&path).unwrap();
    for (name, _, codec, data) in &streams {
        let (t2, got) = r.frames_range(name, i64::MIN, i64::MAX).unwrap();
        assert_eq!(t2, ts);
        if *codec == FrameCodec::Png {
            assert!(got == **data, "{name}: PNG must be lossless");
        } else {
            // JPEG at the default quality (90) on rendered frames with sensor noise.
            let p = psnr(&got, data);
            assert!(p > 35.0, "{name}: PSNR {p:.1} dB");
        }
        // One frame alone decodes to the same pixels.
        let (_, one) = r.frame_at(name, ts[2]).unwrap().unwrap();
        assert_eq!(one, got[2 * got.len() / n..3 * got.len() / n]);
    }
    assert_eq!(
        r.stream("jpeg/rgb").unwrap().kind,
        StreamKind::Frames {
            width: 160,
            height: 120,
            pixel_format: PixelFormat::Rgb8,
            codec: FrameCodec::Jpeg { quality: 90 },
        }
    );
    assert!(validate(&path).unwrap().is_ok());
}
