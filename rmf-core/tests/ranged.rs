//! Reading through range requests (a file in an object store): the same values as a local
//! read, one request to open, only the chunks a query needs, and every damaged or short
//! response an error, never a wrong value.

use std::sync::Arc;

use rmf_core::*;
use rmf_testkit::fixtures::{self as common, RemoteLike};

fn remote(data: &[u8], opts: ReadOptions) -> (Arc<RemoteLike>, Result<EpisodeReader>) {
    let src = Arc::new(RemoteLike::new(data.to_vec(), "mem://small.rmf"));
    let r = EpisodeReader::open_source(src.clone(), opts);
    (src, r)
}

/// The tail that holds exactly the footer and trailer of `data`.
fn footer_tail(data: &[u8]) -> u64 {
    let n = data.len();
    let t = &data[n - 32..];
    let footer_len = u64::from_le_bytes(t[8..16].try_into().expect("8 bytes"));
    footer_len + 32
}

#[test]
fn a_remote_read_equals_the_local_one_and_opens_with_one_request() {
    let (_dir, path, written) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let (src, r) = remote(
        &data,
        ReadOptions::default().with_tail_bytes(footer_tail(&data)),
    );
    let r = r.expect("open");
    assert_eq!(src.requests(), 1, "open is one tail read");
    assert_eq!(src.bytes(), footer_tail(&data));
    assert!(r.recovery().is_none());
    assert_eq!(common::read_small(&r).expect("read"), written);
    let local = EpisodeReader::open(&path).expect("open");
    for s in local.streams() {
        assert_eq!(local.read_all(&s.name).ok(), r.read_all(&s.name).ok());
        assert_eq!(local.times(&s.name).ok(), r.times(&s.name).ok());
    }
    for t in [0, 1_000, 7_000_123, 99_000_000, 250_000_000] {
        assert_eq!(local.at("ft", t).ok(), r.at("ft", t).ok());
        assert_eq!(local.nearest("cam", t).ok(), r.nearest("cam", t).ok());
    }
}

#[test]
fn a_footer_longer_than_the_tail_read_costs_a_second_request() {
    let (_dir, path, written) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let (src, r) = remote(&data, ReadOptions::default().with_tail_bytes(64));
    let r = r.expect("open");
    assert_eq!(src.requests(), 2);
    assert_eq!(common::read_small(&r).expect("read"), written);
}

#[test]
fn a_query_fetches_only_its_chunks_coalesced() {
    let (_dir, path, _) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    // No coalescing: one request per chunk record, plus the file header with the first.
    let opts = ReadOptions::default()
        .with_tail_bytes(footer_tail(&data))
        .with_coalescing(0, 1 << 20);
    let (src, r) = remote(&data, opts);
    let r = r.expect("open");
    let ft = r.position("ft").expect("ft");
    let want: u64 = r.chunks_of(ft).iter().map(|&i| r.chunks()[i].length).sum();
    r.read_all("ft").expect("ft");
    let (requests, bytes) = (src.requests() - 1, src.bytes() - footer_tail(&data));
    assert_eq!(
        bytes,
        want + 16,
        "the ft chunks and the 16-byte file header"
    );
    assert!(requests <= r.chunks_of(ft).len() as u64 + 1);
    // Read again: from the range cache, no request.
    let before = src.requests();
    r.read_all("ft").expect("ft");
    assert_eq!(src.requests(), before);

    // With the default gap, close chunks come in far fewer requests.
    let (src2, r2) = remote(
        &data,
        ReadOptions::default().with_tail_bytes(footer_tail(&data)),
    );
    let r2 = r2.expect("open");
    r2.read_all("ft").expect("ft");
    assert!(
        src2.requests() - 1 < requests,
        "coalesced: {}",
        src2.requests()
    );
}

/// A file with large frames, so that a frame chunk is much longer than its timestamps, and
/// chunks (of a second, 480 KiB) lie further apart than the coalescing gap.
fn big_frames(path: &std::path::Path) {
    let opts = WriteOptions::default()
        .with_chunk_duration_ns(1_000_000_000)
        .with_overwrite(true);
    let mut w = EpisodeWriter::create(path, EpisodeMeta::new(), opts).expect("create");
    let cam = w
        .add_stream(StreamInfo::frames("cam", 128, 128, PixelFormat::Gray8).with_rate(30.0))
        .expect("cam");
    let mut x = 12345u32;
    for i in 0..150i64 {
        let px: Vec<u8> = (0..128 * 128)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        w.write_frame(cam, i * 33_333_333, &px).expect("frame");
    }
    w.finish().expect("finish");
}

#[test]
fn timestamps_come_from_the_starts_of_chunks_not_whole_chunks() {
    let dir = common::tempdir();
    let path = dir.path().join("frames.rmf");
    big_frames(&path);
    let data = std::fs::read(&path).expect("read");
    let (src, r) = remote(
        &data,
        ReadOptions::default().with_tail_bytes(footer_tail(&data)),
    );
    let r = r.expect("open");
    let stored = r.summary("cam").expect("cam").stored_bytes;
    let local = EpisodeReader::open(&path).expect("open");
    assert_eq!(
        r.times("cam").expect("times"),
        local.times("cam").expect("times")
    );
    let fetched = src.bytes() - footer_tail(&data);
    assert!(
        fetched * 10 < stored,
        "{fetched} bytes fetched for the timestamps of {stored} stored"
    );
    // One frame: its chunk alone.
    let t = local.times("cam").expect("times")[45];
    let before = src.bytes();
    let at = r.at("cam", t).expect("at");
    assert_eq!(at, local.at("cam", t).expect("at"));
    let i = r.find_at("cam", t).expect("find").expect("some").chunk;
    assert_eq!(src.bytes() - before, r.chunks()[i].length);
}

#[test]
fn a_byte_flipped_on_the_wire_is_a_checksum_error_never_a_value() {
    let (_dir, path, _) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let local = EpisodeReader::open(&path).expect("open");
    let ft = local.position("ft").expect("ft");
    let c = &local.chunks()[local.chunks_of(ft)[1]];
    // Every byte of the chunk record but its trailing body CRC, which a reader of buffers does
    // not need: each flip must be caught.
    for k in (0..c.length - 4).step_by(7) {
        let mut src = RemoteLike::new(data.clone(), "mem://flip.rmf");
        src.flip = Some(c.offset + k);
        let r = EpisodeReader::open_source(
            Arc::new(src),
            ReadOptions::default().with_tail_bytes(footer_tail(&data)),
        )
        .expect("open");
        let got = r.read_all("ft");
        assert!(
            got.is_err(),
            "flip at +{k} of the chunk read as {:?}",
            got.map(|b| b.num_rows())
        );
    }
}

#[test]
fn a_short_body_is_an_error() {
    let (_dir, path, _) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let mut src = RemoteLike::new(data.clone(), "mem://short.rmf");
    src.short = true;
    let r = EpisodeReader::open_source(Arc::new(src), ReadOptions::default().with_tail_bytes(64));
    match r {
        Err(Error::Truncated { what, .. }) => assert_eq!(what, "range request"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a short footer read opened"),
    }
}

#[test]
fn an_unfinished_remote_file_is_fetched_whole_and_recovered() {
    let (_dir, path, _) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let cut = &data[..data.len() - 100];
    let (src, r) = remote(cut, ReadOptions::default().with_tail_bytes(256));
    let r = r.expect("open");
    assert!(r.recovery().is_some());
    assert_eq!(src.requests(), 2, "the tail, then the whole file");
    let local =
        EpisodeReader::from_bytes(cut.to_vec(), "cut", ReadOptions::default()).expect("open");
    assert_eq!(local.chunks(), r.chunks());
    assert_eq!(common::read_small(&local).ok(), common::read_small(&r).ok());
}

#[test]
fn a_file_of_another_major_version_is_refused_at_its_first_read() {
    let (_dir, path, _) = common::small_file();
    let mut data = std::fs::read(&path).expect("read");
    data[8] = 9; // major version 9
    let (_src, r) = remote(
        &data,
        ReadOptions::default().with_tail_bytes(footer_tail(&data)),
    );
    let r = r.expect("the footer alone does not say the version");
    match r.read_all("ft") {
        Err(Error::UnsupportedVersion { found, .. }) => assert_eq!(found, 9),
        other => panic!(
            "expected UnsupportedVersion, got {:?}",
            other.map(|b| b.num_rows())
        ),
    }
}

#[test]
fn validation_of_a_remote_file_fetches_it_once() {
    let (_dir, path, _) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let (src, r) = remote(
        &data,
        ReadOptions::default().with_tail_bytes(footer_tail(&data)),
    );
    let r = r.expect("open");
    let v = validate_reader(&r).expect("validate");
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(src.requests(), 2);
}
