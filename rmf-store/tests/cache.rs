//! The local cache of fetched bytes: a second reader of the same object is served from disk,
//! reads the same values, and the cache stays within its size.

use std::sync::Arc;

use rmf_core::{EpisodeReader, RangeSource, ReadOptions};
use rmf_store::CachedSource;
use rmf_testkit::fixtures::{self as common, RemoteLike};

#[test]
fn a_second_reader_is_served_from_the_cache() {
    let (_dir, path, written) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let cache = common::tempdir();
    let opts = ReadOptions::default().with_tail_bytes(1024);
    let first = Arc::new(RemoteLike::new(data.clone(), "mem://cached.rmf"));
    let src: Arc<dyn RangeSource> =
        Arc::new(CachedSource::new(first.clone(), cache.path(), 1 << 30));
    let r = EpisodeReader::open_source(src, opts.clone()).expect("open");
    assert_eq!(common::read_small(&r).expect("read"), written);
    assert!(first.requests() > 1);

    let second = Arc::new(RemoteLike::new(data.clone(), "mem://cached.rmf"));
    let src: Arc<dyn RangeSource> =
        Arc::new(CachedSource::new(second.clone(), cache.path(), 1 << 30));
    let r = EpisodeReader::open_source(src, opts.clone()).expect("open");
    assert_eq!(common::read_small(&r).expect("read"), written);
    assert_eq!(second.requests(), 0, "everything came from the cache");

    // Another object (another URL) is not served from this one's entries.
    let plain = Arc::new(RemoteLike::new(data.clone(), "mem://plain.rmf"));
    EpisodeReader::open_source(plain.clone(), opts.clone()).expect("open");
    let other = Arc::new(RemoteLike::new(data, "mem://other.rmf"));
    let src: Arc<dyn RangeSource> =
        Arc::new(CachedSource::new(other.clone(), cache.path(), 1 << 30));
    EpisodeReader::open_source(src, opts).expect("open");
    assert!(plain.requests() > 0);
    assert_eq!(other.requests(), plain.requests());
}

#[test]
fn the_cache_stays_within_its_size() {
    let (_dir, path, written) = common::small_file();
    let data = std::fs::read(&path).expect("read");
    let cache = common::tempdir();
    let limit = 4096;
    let src = Arc::new(RemoteLike::new(data, "mem://small-cache.rmf"));
    let cached: Arc<dyn RangeSource> = Arc::new(CachedSource::new(src, cache.path(), limit));
    let r = EpisodeReader::open_source(
        cached,
        ReadOptions::default()
            .with_tail_bytes(1024)
            .with_coalescing(0, 1 << 20),
    )
    .expect("open");
    assert_eq!(common::read_small(&r).expect("read"), written);
    let held: u64 = walk(cache.path());
    // Trimmed after every 1/16 of the limit written: at most the limit and the last write.
    assert!(held <= 2 * limit + 20_000, "{held} bytes cached");
}

fn walk(dir: &std::path::Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let m = e.metadata().expect("meta");
        n += if m.is_dir() { walk(&e.path()) } else { m.len() };
    }
    n
}
