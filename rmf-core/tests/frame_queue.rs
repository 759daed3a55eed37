//! Frame streams encoded on background threads: the same file contents as encoding inline,
//! a full queue that either waits or says so (never drops a frame silently), `flush()` that
//! puts queued frames on disk, and a report of how the queues fared.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use common::tempdir;
use rmf_core::*;

/// `n` moving-gradient frames of `w` x `h` RGB with a little noise.
fn frames(w: usize, h: usize, n: usize) -> Vec<Vec<u8>> {
    let mut rng = 7u64;
    (0..n)
        .map(|i| {
            (0..w * h * 3)
                .map(|k| {
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let (x, y) = ((k / 3) % w, (k / 3) / w);
                    ((x + 3 * i + y) as u8).wrapping_add((rng >> 62) as u8)
                })
                .collect()
        })
        .collect()
}

fn write(
    path: &std::path::Path,
    opts: WriteOptions,
    codec: FrameCodec,
    data: &[Vec<u8>],
) -> WriteSummary {
    let mut w = EpisodeWriter::create(path, EpisodeMeta::new(), opts.with_overwrite(true)).unwrap();
    let a = w
        .add_stream(StreamInfo::frames("cam/a", 64, 48, PixelFormat::Rgb8).with_codec(codec))
        .unwrap();
    let b = w
        .add_stream(StreamInfo::frames("cam/b", 64, 48, PixelFormat::Rgb8).with_codec(codec))
        .unwrap();
    let ft = w
        .add_stream(StreamInfo::signal("ft", DType::Float32, &[6]))
        .unwrap();
    for (i, f) in data.iter().enumerate() {
        let t = i as i64 * 33_333_333;
        w.write_frame(a, t, f).unwrap();
        w.write_frame(b, t + 1_000, f).unwrap();
        w.write_signal(ft, t, &[i as f32; 6]).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn background_encoding_reads_back_exactly_as_inline_encoding() {
    let data = frames(64, 48, 150); // 5 s at 30 fps: two chunks per stream at the 4 s default
    let dir = tempdir();
    for codec in [FrameCodec::H264, FrameCodec::Png, FrameCodec::JPEG] {
        let inline = dir.path().join("inline.rmf");
        let background = dir.path().join("background.rmf");
        let s0 = write(
            &inline,
            WriteOptions::default().with_frame_queue(0),
            codec,
            &data,
        );
        let s1 = write(
            &background,
            WriteOptions::default().with_frame_queue(4),
            codec,
            &data,
        );
        assert!(s0.frame_queues.is_empty());
        assert_eq!(s1.frame_queues.len(), 2);
        assert_eq!(s1.frame_queues[0].stream, "cam/a");
        assert_eq!(s1.frame_queues[0].capacity, 4);
        assert!(s1.frame_queues[0].peak <= 4);
        assert_eq!(s0.samples, s1.samples);
        assert_eq!(s0.chunks, s1.chunks);
        let (r0, r1) = (
            EpisodeReader::open(&inline).unwrap(),
            EpisodeReader::open(&background).unwrap(),
        );
        for name in ["cam/a", "cam/b"] {
            let x = r0.frames_range(name, i64::MIN, i64::MAX).unwrap();
            let y = r1.frames_range(name, i64::MIN, i64::MAX).unwrap();
            assert_eq!(x.0.len(), 150);
            assert!(x == y, "{name} ({codec:?}) differs");
        }
        assert!(validate(&background).unwrap().is_ok());
    }
}

#[test]
fn a_full_queue_says_so_and_every_accepted_frame_is_in_the_file() {
    // PNG of large noisy frames is slow to encode: a queue of one overflows at once.
    let big: Vec<u8> = {
        let mut rng = 3u64;
        (0..640 * 480 * 3)
            .map(|_| {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
                (rng >> 56) as u8
            })
            .collect()
    };
    let dir = tempdir();
    let path = dir.path().join("behind.rmf");
    let opts = WriteOptions::default()
        .with_frame_queue(1)
        .with_queue_full(QueueFull::Error);
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), opts).unwrap();
    let cam = w
        .add_stream(
            StreamInfo::frames("cam", 640, 480, PixelFormat::Rgb8).with_codec(FrameCodec::Png),
        )
        .unwrap();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..12i64 {
        match w.write_frame(cam, i, &big) {
            Ok(()) => accepted.push(i),
            Err(Error::EncoderBehind { stream, queued }) => {
                assert_eq!((stream.as_str(), queued), ("cam", 1));
                refused += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    let summary = w.finish().unwrap();
    assert!(refused > 0, "the queue never overflowed");
    assert_eq!(summary.frame_queues[0].full, refused);
    let (ts, px) = EpisodeReader::open(&path)
        .unwrap()
        .frames_range("cam", i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(ts, accepted, "exactly the accepted frames are stored");
    assert!(px.chunks_exact(big.len()).all(|f| f == big));
}

#[test]
fn a_full_queue_waits_by_default_and_loses_nothing() {
    let data = frames(64, 48, 60);
    let dir = tempdir();
    let path = dir.path().join("block.rmf");
    let s = write(
        &path,
        WriteOptions::default().with_frame_queue(1),
        FrameCodec::JPEG,
        &data,
    );
    assert_eq!(s.frame_queues[0].capacity, 1);
    let r = EpisodeReader::open(&path).unwrap();
    assert_eq!(r.times("cam/a").unwrap().len(), 60);
    assert_eq!(r.times("cam/b").unwrap().len(), 60);
}

#[test]
fn flush_puts_queued_frames_in_the_file() {
    let data = frames(64, 48, 10);
    let dir = tempdir();
    let path = dir.path().join("flushed.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let cam = w
        .add_stream(
            StreamInfo::frames("cam", 64, 48, PixelFormat::Rgb8).with_codec(FrameCodec::H264),
        )
        .unwrap();
    for (i, f) in data.iter().enumerate() {
        w.write_frame(cam, i as i64, f).unwrap();
    }
    w.flush().unwrap();
    // The file as a crash would leave it now: no footer, every frame in a chunk.
    let bytes = std::fs::read(&path).unwrap();
    let r = EpisodeReader::from_bytes(bytes, "flushed.rmf", ReadOptions::default()).unwrap();
    assert!(r.recovery().is_some());
    assert_eq!(r.times("cam").unwrap(), (0..10).collect::<Vec<i64>>());
    w.finish().unwrap();
}
