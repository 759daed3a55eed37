//! Reading a file by range requests (a file in an object store): the records a query needs are
//! fetched, close ones together, and kept in a small cache bounded in bytes; everything fetched
//! is checked against the file's CRCs as a local file is.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::atomic::AtomicBool;
use std::sync::{Condvar, OnceLock};

use super::*;
use crate::format::read_record_header_only;
use crate::source::{read_exact, RangeSource};

/// Bytes read from the end of a file when it opens (one request). A footer longer than this
/// costs a second request; 64 KiB holds the index of about 800 chunks (spec/format.md, footer).
pub const DEFAULT_TAIL_BYTES: u64 = 64 << 10;
/// Records closer than this are fetched in one request: a request costs a round trip (tens of
/// ms on an object store), while 64 KiB more on the wire costs about a millisecond.
pub const DEFAULT_COALESCE_GAP: u64 = 64 << 10;
/// No coalesced request grows beyond this (the records inside it are still fetched whole).
pub const DEFAULT_MAX_REQUEST_BYTES: u64 = 8 << 20;
/// Fetched records a reader keeps (least recently used dropped first), so that a GOP read frame
/// by frame or a sample's chunks prefetched together are fetched once.
pub const DEFAULT_RANGE_CACHE_BYTES: u64 = 64 << 20;

/// The range-request state of a reader whose source is not in memory.
pub(super) struct Ranged {
    pub(super) len: u64,
    /// The bytes read when the file opened (its tail, or from the footer on), at `tail_base`.
    tail: bytes::Bytes,
    tail_base: u64,
    /// The whole file, once something needed all of it (a recovery scan, validation).
    whole: OnceLock<bytes::Bytes>,
    /// Whether the file header (magic and major version) was checked: it is fetched with the
    /// first records a query needs, when opening did not already read it.
    header_checked: AtomicBool,
    cache: Mutex<RecordCache>,
    /// Records being fetched by some thread now (by offset): another thread that needs one
    /// waits for it instead of fetching it again (a loader's threads start on neighbouring
    /// samples, which share chunks).
    in_flight: Mutex<HashSet<u64>>,
    landed: Condvar,
}

impl Ranged {
    pub(super) fn new(len: u64, tail: bytes::Bytes, tail_base: u64, whole: bool) -> Self {
        let r = Ranged {
            len,
            header_checked: AtomicBool::new(tail_base == 0),
            whole: OnceLock::new(),
            tail: tail.clone(),
            tail_base,
            cache: Mutex::new(RecordCache::default()),
            in_flight: Mutex::new(HashSet::new()),
            landed: Condvar::new(),
        };
        if whole {
            let _ = r.whole.set(tail);
        }
        r
    }
}

impl Ranged {
    /// Returns once no thread is fetching any of the records at `offsets`. Each wait ends when
    /// a fetch ends, and fetching threads always release their claims ([`Claims`]). A record
    /// whose fetch failed is fetched again when it is read.
    fn wait_for(&self, offsets: &[u64]) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut busy = self.in_flight.lock().map_err(|_| poisoned())?;
        while offsets.iter().any(|o| busy.contains(o)) {
            busy = self.landed.wait(busy).map_err(|_| poisoned())?;
        }
        Ok(())
    }
}

/// Records a thread claimed to fetch: released (and the waiting threads woken) when dropped,
/// whether the fetch succeeded, failed or panicked.
struct Claims<'a> {
    r: &'a Ranged,
    offsets: Vec<u64>,
}

impl Drop for Claims<'_> {
    fn drop(&mut self) {
        let mut busy = self.r.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        for o in &self.offsets {
            busy.remove(o);
        }
        drop(busy);
        self.r.landed.notify_all();
    }
}

/// Fetched records by file offset, least recently used dropped first. Lookups are by hash
/// (a long recording's cache holds thousands of small signal records); `order` lists uses
/// oldest first, with stale entries (a record used again later) skipped when evicting.
#[derive(Default)]
struct RecordCache {
    map: HashMap<u64, (bytes::Bytes, u64)>,
    order: VecDeque<(u64, u64)>,
    tick: u64,
    bytes: u64,
}

impl RecordCache {
    fn touch(&mut self, offset: u64) -> u64 {
        self.tick += 1;
        self.order.push_back((offset, self.tick));
        if self.order.len() > 4 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(o, t)| map.get(o).is_some_and(|e| e.1 == *t));
        }
        self.tick
    }

    fn get(&mut self, offset: u64) -> Option<bytes::Bytes> {
        self.map.get(&offset)?;
        let tick = self.touch(offset);
        let e = self.map.get_mut(&offset)?;
        e.1 = tick;
        Some(e.0.clone())
    }

    fn contains(&self, offset: u64) -> bool {
        self.map.contains_key(&offset)
    }

    fn put(&mut self, offset: u64, b: bytes::Bytes, cap: u64) {
        if self.contains(offset) {
            return;
        }
        let tick = self.touch(offset);
        self.bytes += b.len() as u64;
        self.map.insert(offset, (b, tick));
        while self.bytes > cap && self.map.len() > 1 {
            let Some((o, t)) = self.order.pop_front() else {
                break;
            };
            if self.map.get(&o).is_some_and(|e| e.1 == t) {
                if let Some((old, _)) = self.map.remove(&o) {
                    self.bytes -= old.len() as u64;
                }
            }
        }
    }
}

/// Bytes of the file around one record: the whole file, or a fetched window of it.
pub(super) enum Window<'a> {
    Whole(&'a [u8]),
    Part(bytes::Bytes, u64),
}

impl Window<'_> {
    pub(super) fn bytes<'b>(&'b self, name: &'b str) -> Bytes<'b> {
        match self {
            Window::Whole(d) => Bytes::new(d, name),
            Window::Part(d, base) => Bytes::at(d, name, *base),
        }
    }
}

/// Merges `ranges` (sorted by start) that overlap or whose gaps are at most `gap` into
/// requests of at most `max` bytes (a single range longer than `max` stays one request).
pub fn coalesce(ranges: &[Range<u64>], gap: u64, max: u64) -> Vec<Range<u64>> {
    let mut out: Vec<Range<u64>> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last)
                if r.start <= last.end.saturating_add(gap)
                    && r.end.max(last.end) - last.start <= max =>
            {
                last.end = last.end.max(r.end);
            }
            _ => out.push(r.clone()),
        }
    }
    out
}

impl EpisodeReader {
    fn ranged(&self) -> Option<&Ranged> {
        self.ranged.as_ref()
    }

    /// The whole file in memory, if it is (a local file, or a remote one something needed
    /// whole).
    pub(super) fn whole(&self) -> Option<&[u8]> {
        self.src
            .as_slice()
            .or_else(|| self.ranged().and_then(|r| r.whole.get().map(|b| &b[..])))
    }

    /// The file's bytes, all of them: in place for a local file, fetched once (one request) for
    /// a remote one. Validation and whole-record copies use it.
    pub fn file_bytes(&self) -> Result<&[u8]> {
        if let Some(w) = self.whole() {
            return Ok(w);
        }
        let Some(r) = self.ranged() else {
            return Ok(&[]);
        };
        let all = fetch_one(&*self.src, 0..r.len)?;
        check_file_header(&all, &self.name)?;
        Ok(&r.whole.get_or_init(|| all)[..])
    }

    /// The bytes holding `[offset, offset + len)`: in place, from the tail read at open, from
    /// the cache, or fetched now.
    pub(super) fn window(&self, offset: u64, len: u64) -> Result<Window<'_>> {
        if let Some(w) = self.whole() {
            return Ok(Window::Whole(w));
        }
        let Some(r) = self.ranged() else {
            return Ok(Window::Whole(&[]));
        };
        if offset >= r.tail_base {
            return Ok(Window::Part(r.tail.clone(), r.tail_base));
        }
        if let Some(b) = r.cache.lock().ok().and_then(|mut c| c.get(offset)) {
            return Ok(Window::Part(b, offset));
        }
        // Being fetched by another thread: wait for it rather than fetch it twice.
        r.wait_for(&[offset])?;
        if let Some(b) = r.cache.lock().ok().and_then(|mut c| c.get(offset)) {
            return Ok(Window::Part(b, offset));
        }
        let end = offset.saturating_add(len).min(r.len);
        let mut got = self.fetch_records(std::slice::from_ref(&(offset..end)))?;
        Ok(match got.pop() {
            Some((o, b)) => Window::Part(b, o),
            None => Window::Whole(&[]),
        })
    }

    /// Fetches the records of chunks `chunks` (indices into [`EpisodeReader::chunks`]) that are
    /// not at hand yet, in as few requests as the coalescing rules allow, so that the reads
    /// after it cost no request. A local file needs nothing fetched: this returns at once.
    /// Fetches at most what the range cache holds.
    pub fn prefetch(&self, chunks: &[usize]) -> Result<()> {
        let Some(r) = self.ranged() else {
            return Ok(());
        };
        if self.whole().is_some() {
            return Ok(());
        }
        let mut want: Vec<Range<u64>> = Vec::with_capacity(chunks.len());
        {
            let cache = r.cache.lock().map_err(|_| poisoned())?;
            for &i in chunks {
                let c = self.chunk_entry(i)?;
                if c.offset < r.tail_base && !cache.contains(c.offset) {
                    want.push(c.offset..c.offset.saturating_add(c.length).min(r.len));
                }
            }
        }
        want.sort_by_key(|x| x.start);
        want.dedup();
        let mut budget = self.opts.range_cache_bytes;
        want.retain(|x| {
            let n = x.end - x.start;
            let keep = n <= budget;
            budget = budget.saturating_sub(n);
            keep
        });
        if want.is_empty() {
            return Ok(());
        }
        // Claim the records no other thread is fetching; wait for the others' afterwards.
        let (mine, theirs): (Vec<_>, Vec<_>) = {
            let mut busy = r.in_flight.lock().map_err(|_| poisoned())?;
            want.into_iter().partition(|x| busy.insert(x.start))
        };
        {
            let _claims = Claims {
                r,
                offsets: mine.iter().map(|x| x.start).collect(),
            };
            self.fetch_records(&mine)?;
        }
        r.wait_for(&theirs.iter().map(|x| x.start).collect::<Vec<_>>())
    }

    fn fetch_records(&self, records: &[Range<u64>]) -> Result<Vec<(u64, bytes::Bytes)>> {
        self.fetch_ranges(records, true)
    }

    /// Fetches `records` (sorted, disjoint file ranges), coalesced, checks the file header with
    /// the first fetch, and caches each range when `keep`; returns them by offset.
    fn fetch_ranges(&self, records: &[Range<u64>], keep: bool) -> Result<Vec<(u64, bytes::Bytes)>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let Some(r) = self.ranged() else {
            return Ok(Vec::new());
        };
        let with_header = !r.header_checked.load(Ordering::Relaxed);
        let mut wanted: Vec<Range<u64>> = Vec::with_capacity(records.len() + 1);
        if with_header {
            wanted.push(0..(FILE_HEADER_LEN as u64).min(r.len));
        }
        wanted.extend(records.iter().cloned());
        wanted.sort_by_key(|x| x.start);
        let requests = coalesce(&wanted, self.opts.coalesce_gap, self.opts.max_request_bytes);
        let bodies = read_exact(&*self.src, &requests)?;
        let piece = |x: &Range<u64>| -> Option<bytes::Bytes> {
            // The request holding `x` (ranges of a hostile index may overlap: any will do).
            let k = requests
                .iter()
                .position(|q| q.start <= x.start && x.end <= q.end)?;
            let (q, b) = (requests.get(k)?, bodies.get(k)?);
            Some(b.slice((x.start - q.start) as usize..(x.end - q.start) as usize))
        };
        if with_header {
            let head = piece(&(0..(FILE_HEADER_LEN as u64).min(r.len))).unwrap_or_default();
            check_file_header(&head, &self.name)?;
            r.header_checked.store(true, Ordering::Relaxed);
        }
        let mut out = Vec::with_capacity(records.len());
        let mut cache = r.cache.lock().map_err(|_| poisoned())?;
        for x in records {
            let b = piece(x).ok_or_else(|| Error::Malformed {
                file: self.name.clone(),
                what: "range request",
                offset: x.start,
                detail: "the fetched ranges do not cover the records asked for".into(),
            })?;
            if keep {
                cache.put(x.start, b.clone(), self.opts.range_cache_bytes);
            }
            out.push((x.start, b));
        }
        Ok(out)
    }
}

/// Bytes of a chunk record fetched to read its timestamps alone: the record and chunk headers,
/// the statistics (their length is in the index), a directory of up to 16 buffers and 4 KiB of
/// buffer 0, the timestamps (a few bytes a sample once compressed). A chunk whose timestamps
/// are longer is fetched whole.
fn times_prefix(c: &ChunkEntry) -> u64 {
    let want = (RECORD_HEADER_LEN + 40 + 16 * 32 + 4 + 4096) as u64 + c.stats.len() as u64;
    want.min(c.length)
}

impl EpisodeReader {
    /// Every timestamp of stream `s`. A remote file's chunks not at hand are not fetched whole:
    /// their starts are (coalesced), which hold the timestamps of all but unusually long chunks.
    pub(super) fn stream_times(&self, s: usize) -> Result<Vec<i64>> {
        let list = &self.per_stream[s];
        let sealed = self.streams[s].encryption.is_some();
        let mut out = Vec::new();
        let prefixes = match self.ranged() {
            Some(r) if self.whole().is_none() && !sealed => {
                let mut want = Vec::new();
                {
                    let cache = r.cache.lock().map_err(|_| poisoned())?;
                    for &i in list {
                        let c = &self.chunks[i];
                        if c.offset < r.tail_base && !cache.contains(c.offset) {
                            want.push(c.offset..c.offset + times_prefix(c));
                        }
                    }
                }
                want.sort_by_key(|x| x.start);
                let got = self.fetch_ranges(&want, false)?;
                // Prefixes that are whole records (small chunks: signals) serve later reads.
                let lengths: HashMap<u64, u64> = list
                    .iter()
                    .map(|&i| (self.chunks[i].offset, self.chunks[i].length))
                    .collect();
                let mut cache = r.cache.lock().map_err(|_| poisoned())?;
                for (offset, b) in &got {
                    if lengths.get(offset) == Some(&(b.len() as u64)) {
                        cache.put(*offset, b.clone(), self.opts.range_cache_bytes);
                    }
                }
                drop(cache);
                got
            }
            _ => Vec::new(),
        };
        for &i in list {
            let c = &self.chunks[i];
            let held = prefixes
                .binary_search_by_key(&c.offset, |(o, _)| *o)
                .ok()
                .map(|k| &prefixes[k].1);
            if let Some(prefix) = held {
                let b = Bytes::at(prefix, &self.name, c.offset);
                let body_len = self.record_of(&b, c, false, read_record_header_only)?;
                let body_offset = c.offset + RECORD_HEADER_LEN as u64;
                let view =
                    ChunkView::parse_held(&b, body_offset, body_len, self.opts.max_chunk_bytes)?;
                if view.holds(0) {
                    self.check_view(&view, c, false)?;
                    out.extend(decode_times(&view)?);
                    self.bytes_read.fetch_add(
                        RECORD_HEADER_LEN as u64 + view.bytes_touched(),
                        Ordering::Relaxed,
                    );
                    continue;
                }
            }
            out.extend(self.with_chunk(i, decode_times)?);
        }
        Ok(out)
    }
}

/// One range of `source`, its length checked.
pub(super) fn fetch_one(source: &dyn RangeSource, range: Range<u64>) -> Result<bytes::Bytes> {
    let got = read_exact(source, std::slice::from_ref(&range))?;
    Ok(got.into_iter().next().unwrap_or_default())
}

fn poisoned() -> Error {
    Error::InvalidArgument("a thread panicked while holding the reader's range cache".into())
}

#[cfg(test)]
mod tests {
    use super::coalesce;

    #[test]
    fn close_ranges_merge_and_far_ones_do_not() {
        let r = coalesce(&[0..10, 15..20, 100..110, 111..300], 5, 1000);
        assert_eq!(r, vec![0..20, 100..300]);
    }

    #[test]
    fn merged_requests_stay_under_the_size_cap() {
        let r = coalesce(&[0..40, 40..80, 80..120], 0, 100);
        assert_eq!(r, vec![0..80, 80..120]);
        // Overlapping ranges (a hostile index) merge instead of being fetched twice.
        assert_eq!(coalesce(&[0..50, 20..30, 40..60], 0, 100), vec![0..60]);
        // A record longer than the cap is one request of its own.
        assert_eq!(
            coalesce(&[0..500, 600..700], 0, 100),
            vec![0..500, 600..700]
        );
    }
}
