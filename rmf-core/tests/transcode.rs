//! `transcode`: frame streams re-encoded, every other stream copied chunk for chunk (values
//! identical), the input untouched, and what cannot be re-encoded kept and said so.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use common::{psnr, tempdir};
use rmf_core::*;
use rmf_testkit::demo::{record_demo, DemoOptions};

#[test]
fn raw_cameras_become_h264_and_everything_else_is_copied_exactly() {
    let dir = tempdir();
    let input = dir.path().join("raw.rmf");
    let output = dir.path().join("h264.rmf");
    let demo = DemoOptions {
        seconds: 1.0,
        width: 160,
        height: 120,
        ..DemoOptions::default()
    };
    record_demo(&input, &demo, WriteOptions::default()).unwrap();
    let before = std::fs::read(&input).unwrap();

    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = calls.clone();
    let opts = TranscodeOptions::new(FrameCodec::H264 { qp: 22, gop: 10 }).with_write(
        WriteOptions::default().with_progress(rmf_core::Progress::new(move |done, total| {
            seen.lock().unwrap().push((done, total))
        })),
    );
    let report = transcode(&input, &output, &opts).unwrap();
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is not modified"
    );
    assert!(report.output_bytes * 5 < report.input_bytes);
    // Progress counts bytes of input chunks, frame by frame while re-encoding.
    let calls = calls.lock().unwrap().clone();
    let input_chunks: u64 = EpisodeReader::open(&input)
        .unwrap()
        .chunks()
        .iter()
        .map(|c| c.length)
        .sum();
    assert_eq!(*calls.last().unwrap(), (input_chunks, input_chunks));
    assert!(
        calls.windows(2).all(|w| w[0].0 <= w[1].0),
        "never goes back"
    );
    assert!(
        calls.len() >= 61,
        "at least once per frame of both cameras (30 + 31)"
    );

    let (a, b) = (
        EpisodeReader::open(&input).unwrap(),
        EpisodeReader::open(&output).unwrap(),
    );
    assert_eq!(a.meta().id, b.meta().id);
    assert!(b.meta().extra.contains_key("transcoded_from"));
    for s in a.streams() {
        let r = report.streams.iter().find(|r| r.name == s.name).unwrap();
        match &s.kind {
            StreamKind::Frames { .. } => {
                assert_eq!(r.from, Some(FrameCodec::Raw));
                assert!(r.bytes_after < r.bytes_before);
                let (t0, x) = a.frames_range(&s.name, i64::MIN, i64::MAX).unwrap();
                let (t1, y) = b.frames_range(&s.name, i64::MIN, i64::MAX).unwrap();
                assert_eq!(t0, t1);
                let p = psnr(&x, &y);
                // Measured 36.5-36.8 dB at qp 22 on 160x120 demo frames.
                assert!(p > 33.0, "{}: {p:.1} dB", s.name);
                let new = b.stream(&s.name).unwrap();
                assert!(matches!(
                    new.kind,
                    StreamKind::Frames {
                        codec: FrameCodec::H264 { qp: 22, gop: 10 },
                        ..
                    }
                ));
                assert_eq!((new.rate_hz, &new.tags), (s.rate_hz, &s.tags));
            }
            _ => {
                assert_eq!(r.from, None);
                assert!(r.kept_because.is_some());
                assert_eq!(
                    r.bytes_before, r.bytes_after,
                    "{}: copied chunk for chunk",
                    s.name
                );
                assert_eq!(
                    a.read_all(&s.name).unwrap(),
                    b.read_all(&s.name).unwrap(),
                    "{}",
                    s.name
                );
            }
        }
        assert_eq!(
            a.stream(&s.name).unwrap().sensitivity,
            b.stream(&s.name).unwrap().sensitivity
        );
    }
    assert!(validate(&output).unwrap().is_ok());
}

#[test]
fn depth_stays_lossless_unselected_streams_stay_and_bad_requests_fail_cleanly() {
    let dir = tempdir();
    let input = dir.path().join("in.rmf");
    let mut w = EpisodeWriter::create(&input, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let rgb = w
        .add_stream(StreamInfo::frames("rgb", 32, 16, PixelFormat::Rgb8))
        .unwrap();
    let other = w
        .add_stream(StreamInfo::frames("other", 32, 16, PixelFormat::Rgb8))
        .unwrap();
    let depth = w
        .add_stream(StreamInfo::frames("depth", 32, 16, PixelFormat::Gray16).with_units(["mm"]))
        .unwrap();
    for i in 0..5u8 {
        w.write_frame(rgb, i as i64, &[i * 40; 32 * 16 * 3])
            .unwrap();
        w.write_frame(other, i as i64, &[i; 32 * 16 * 3]).unwrap();
        w.write_frame(depth, i as i64, &[i; 32 * 16 * 2]).unwrap();
    }
    w.finish().unwrap();

    let output = dir.path().join("out.rmf");
    let opts = TranscodeOptions::new(FrameCodec::JPEG).with_streams(["rgb", "depth"]);
    let report = transcode(&input, &output, &opts).unwrap();
    let by = |n: &str| report.streams.iter().find(|s| s.name == n).unwrap().clone();
    assert_eq!(by("rgb").from, Some(FrameCodec::Raw));
    assert_eq!(by("other").kept_because.as_deref(), Some("not selected"));
    assert!(by("depth").kept_because.unwrap().contains("gray16"));
    let r = EpisodeReader::open(&output).unwrap();
    let (_, d) = r.frames_range("depth", i64::MIN, i64::MAX).unwrap();
    let (_, d0) = EpisodeReader::open(&input)
        .unwrap()
        .frames_range("depth", i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(d, d0, "depth is copied, lossless");

    // Unknown stream, output = input: errors, and nothing is left behind.
    let e = transcode(
        &input,
        dir.path().join("x.rmf"),
        &TranscodeOptions::new(FrameCodec::H264).with_streams(["nope"]),
    );
    assert!(matches!(e, Err(Error::UnknownStream { .. })));
    assert!(transcode(&input, &input, &TranscodeOptions::new(FrameCodec::Png),).is_err());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}
