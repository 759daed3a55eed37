//! The episode reader: open (trailer and footer only), then time queries that touch only the
//! chunks they need. A file without a usable footer opens in recovery mode: its records are
//! scanned, every chunk whose checksums hold is indexed, and [`EpisodeReader::recovery`] says
//! where and why the rest stopped.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;

use crate::chunk::{ChunkHeader, ChunkView};
use crate::crypt::{DataKey, KeyRecord, Secret, StreamCipher, NONCE_LEN, TAG_LEN};
use crate::error::{Error, Result};
use crate::footer::{decode_footer, ChunkEntry, Footer, SkippedStream};
use crate::format::{
    check_file_header, read_record, read_record_header, Bytes, RecordKind, Trailer,
    FILE_HEADER_LEN, RECORD_HEADER_LEN, RECORD_OVERHEAD, TRAILER_LEN,
};
use crate::kind::{decode_times, expected_stats_len, BatchBuilder};
use crate::recover::{scan, RecoveryReport};
use crate::schema::{EpisodeMeta, StreamInfo, StreamKind};
use crate::source::RangeSource;
use rmf_codecs::with_dtype;
use rmf_codecs::DType;

mod budget;
mod chunks;
mod open;
mod ranged;
mod stats;
mod stream;
pub(crate) mod typed;

pub use budget::{default_read_budget, memory_available};
use ranged::Ranged;
pub use ranged::{
    coalesce, DEFAULT_COALESCE_GAP, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_RANGE_CACHE_BYTES,
    DEFAULT_TAIL_BYTES,
};
pub use stream::Stream;

/// Default cap on the decoded size of one chunk (1 GiB). A file claiming more is refused with
/// [`Error::TooLarge`] before anything is allocated.
pub const DEFAULT_MAX_CHUNK_BYTES: u64 = 1 << 30;

/// Reader settings: [`ReadOptions::default`] and its `with_` setters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    pub(crate) max_chunk_bytes: u64,
    pub(crate) secret: Option<Secret>,
    pub(crate) tail_bytes: u64,
    pub(crate) coalesce_gap: u64,
    pub(crate) max_request_bytes: u64,
    pub(crate) range_cache_bytes: u64,
    pub(crate) max_read_bytes: Option<u64>,
    pub(crate) max_kdf_cost: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
            secret: None,
            tail_bytes: DEFAULT_TAIL_BYTES,
            coalesce_gap: DEFAULT_COALESCE_GAP,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            range_cache_bytes: DEFAULT_RANGE_CACHE_BYTES,
            max_read_bytes: None,
            max_kdf_cost: crate::DEFAULT_MAX_KDF_COST,
        }
    }
}

impl ReadOptions {
    /// Opens encrypted streams with `secret`. Without a secret, everything else reads as usual
    /// and reading an encrypted stream is [`Error::Encrypted`]; with a wrong one, `open` fails
    /// with [`Error::WrongKey`].
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Refuses chunks that decode to more than `bytes`, and remote footers longer than it
    /// (bounds memory on hostile files; default [`DEFAULT_MAX_CHUNK_BYTES`]).
    pub fn with_max_chunk_bytes(mut self, bytes: u64) -> Self {
        self.max_chunk_bytes = bytes;
        self
    }

    /// Refuses a read (of a range, or of a whole stream) whose chunks claim to decode to more
    /// than `bytes` in all, with [`Error::OverBudget`], before decoding any. By default the
    /// budget is [`default_read_budget`]: half the memory this process can still use.
    pub fn with_max_read_bytes(mut self, bytes: u64) -> Self {
        self.max_read_bytes = Some(bytes);
        self
    }

    /// The budget of one read: the one set, else [`default_read_budget`] now.
    pub fn max_read_bytes(&self) -> Option<u64> {
        self.max_read_bytes.or_else(budget::default_read_budget)
    }

    /// The most Argon2id work (KiB of memory times passes) spent opening a file with a
    /// passphrase (default [`crate::DEFAULT_MAX_KDF_COST`], twice the writer's): a key record
    /// asking more is refused before any is done. Raise it for files from a trusted source
    /// written with a higher cost.
    pub fn with_max_kdf_cost(mut self, kib_passes: u64) -> Self {
        self.max_kdf_cost = kib_passes;
        self
    }

    /// The largest decoded chunk accepted.
    pub fn max_chunk_bytes(&self) -> u64 {
        self.max_chunk_bytes
    }

    /// The key or passphrase of encrypted streams, if any.
    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// Files read by range requests: bytes read from the end when the file opens (default
    /// [`DEFAULT_TAIL_BYTES`]). A dataset index that knows an episode's footer length sets it
    /// to exactly that, so that opening costs one request.
    pub fn with_tail_bytes(mut self, bytes: u64) -> Self {
        self.tail_bytes = bytes;
        self
    }

    /// Files read by range requests: records closer than `gap` bytes are fetched in one
    /// request of at most `max_request` bytes (defaults [`DEFAULT_COALESCE_GAP`] and
    /// [`DEFAULT_MAX_REQUEST_BYTES`]).
    pub fn with_coalescing(mut self, gap: u64, max_request: u64) -> Self {
        self.coalesce_gap = gap;
        self.max_request_bytes = max_request;
        self
    }

    /// Files read by range requests: bytes of fetched records kept for later reads (default
    /// [`DEFAULT_RANGE_CACHE_BYTES`]).
    pub fn with_range_cache_bytes(mut self, bytes: u64) -> Self {
        self.range_cache_bytes = bytes;
        self
    }

    /// See [`ReadOptions::with_tail_bytes`].
    pub fn tail_bytes(&self) -> u64 {
        self.tail_bytes
    }

    /// See [`ReadOptions::with_coalescing`]: the gap, then the largest request.
    pub fn coalescing(&self) -> (u64, u64) {
        (self.coalesce_gap, self.max_request_bytes)
    }

    /// See [`ReadOptions::with_range_cache_bytes`].
    pub fn range_cache_bytes(&self) -> u64 {
        self.range_cache_bytes
    }
}

/// Bytes of a memory-mapped file a reader touches before it lets the kernel drop the pages it
/// has mapped: file-backed pages count in the process's resident memory until unmapped, so a
/// training process sampling frames across many large files would otherwise grow by every page
/// it ever read (they stay in the page cache; only this process's mapping of them goes). The
/// kernel maps more than the bytes counted (whole pages, and pages around each fault), so the
/// step is small: smaller steps lowered the JPEG sampling benchmark's peak memory at the same
/// speed (benches/README.md, "Numbers behind the defaults").
const RELEASE_PAGES_AFTER: u64 = 1 << 18;

/// Decrypted chunk bodies a reader keeps, so that reading a sealed chunk row by row (a video
/// GOP frame by frame) decrypts it once: at most this many, which bounds the memory to this
/// many chunks (each at most [`crate::MAX_CHUNK_DECODED_BYTES`] stored, usually far less).
const PLAIN_CACHE_CHUNKS: usize = 4;

/// What the chunk index says about one stream (no chunk is read to answer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamSummary {
    /// Samples.
    pub count: u64,
    /// Chunks.
    pub chunks: usize,
    /// First timestamp, if any sample.
    pub t_min: Option<i64>,
    /// Last timestamp, if any sample.
    pub t_max: Option<i64>,
    /// Bytes the stream's chunk records take in the file.
    pub stored_bytes: u64,
    /// Bytes of the samples in Arrow form.
    pub decoded_bytes: u64,
}

/// Where a sample is: chunk (index into the file's chunk index), row, and its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRef {
    /// Index into [`EpisodeReader::chunks`].
    pub chunk: usize,
    /// Row within the chunk.
    pub row: usize,
    /// The sample's timestamp.
    pub t: i64,
}

/// An open episode file.
pub struct EpisodeReader {
    /// Where the bytes come from (a mapped file, memory, an object store).
    src: Arc<dyn RangeSource>,
    /// For a source not in memory: what was fetched, and the range cache.
    ranged: Option<Ranged>,
    /// Bytes of the footer record and trailer, when the file has a usable footer.
    footer_tail: Option<u64>,
    name: String,
    meta: EpisodeMeta,
    streams: Vec<StreamInfo>,
    ids: HashMap<u32, usize>,
    by_name: HashMap<String, usize>,
    chunks: Vec<ChunkEntry>,
    per_stream: Vec<Vec<usize>>,
    recovery: Option<RecoveryReport>,
    skipped: Vec<SkippedStream>,
    opts: ReadOptions,
    bytes_read: AtomicU64,
    /// Process-unique id of this open file (see [`ChunkView::source`]).
    source: u64,
    /// The wrapped data key of an encrypted file.
    key: Option<KeyRecord>,
    /// The data key, when the reader was given the right secret.
    data_key: Option<DataKey>,
    /// Per stream (in `streams` order): the cipher of an encrypted stream the reader can open.
    ciphers: Vec<Option<StreamCipher>>,
    /// Recently decrypted chunk bodies, by record offset, most recent last.
    plain_cache: Mutex<VecDeque<(u64, Arc<Vec<u8>>)>>,
    /// Bytes touched since the source was last told to release pages.
    touched_since_release: AtomicU64,
}

/// Ids of open files, never reused within a process.
static NEXT_SOURCE: AtomicU64 = AtomicU64::new(1);

impl std::fmt::Debug for EpisodeReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpisodeReader")
            .field("file", &self.name)
            .field("streams", &self.streams.len())
            .field("chunks", &self.chunks.len())
            .field("recovered", &self.recovery.is_some())
            .finish()
    }
}

impl EpisodeReader {
    /// The file's name as given to `open`.
    pub fn file_name(&self) -> &str {
        &self.name
    }

    /// Size of the file in bytes.
    pub fn file_len(&self) -> u64 {
        match (&self.ranged, self.src.as_slice()) {
            (_, Some(d)) => d.len() as u64,
            (Some(r), None) => r.len,
            (None, None) => 0,
        }
    }

    /// Bytes of the footer record and trailer (`None` for a file opened by a recovery scan):
    /// the tail read that opens the file with one range request
    /// ([`ReadOptions::with_tail_bytes`]); dataset indexes record it.
    pub fn footer_bytes(&self) -> Option<u64> {
        self.footer_tail
    }

    /// The source the reader reads from.
    pub fn source(&self) -> &Arc<dyn RangeSource> {
        &self.src
    }

    /// Episode metadata.
    pub fn meta(&self) -> &EpisodeMeta {
        &self.meta
    }

    /// Streams in declaration order.
    pub fn streams(&self) -> &[StreamInfo] {
        &self.streams
    }

    /// Stream `name`: its declaration (through `Deref`) and its reads, without looking the
    /// name up again; [`Error::UnknownStream`] lists the streams there are.
    pub fn stream(&self, name: &str) -> Result<Stream<'_>> {
        self.stream_index(name).map(|s| Stream::new(self, s))
    }

    /// The chunk index, in file order.
    pub fn chunks(&self) -> &[ChunkEntry] {
        &self.chunks
    }

    /// The stream a chunk of the index belongs to.
    pub fn stream_of(&self, chunk: &ChunkEntry) -> Option<&StreamInfo> {
        self.ids.get(&chunk.stream_id).map(|&i| &self.streams[i])
    }

    /// Streams declared with a kind, codec or pixel format this version does not know (written
    /// by a newer version): skipped, with their chunks, while the rest reads normally.
    pub fn skipped_streams(&self) -> &[SkippedStream] {
        &self.skipped
    }

    /// `Some` when the file had no usable footer and was opened by scanning its records.
    pub fn recovery(&self) -> Option<&RecoveryReport> {
        self.recovery.as_ref()
    }

    /// File bytes read so far (header, trailer, footer, and the parts of chunks queries used).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// First and last timestamp over all streams, from the index.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let lo = self.chunks.iter().map(|c| c.t_min).min()?;
        let hi = self.chunks.iter().map(|c| c.t_max).max()?;
        Some((lo, hi))
    }

    /// Counts, time span and sizes of a stream, from the index.
    pub fn summary(&self, name: &str) -> Result<StreamSummary> {
        Ok(self.summary_of(self.stream_index(name)?))
    }

    fn summary_of(&self, s: usize) -> StreamSummary {
        let mut sum = StreamSummary::default();
        for &i in &self.per_stream[s] {
            let c = &self.chunks[i];
            sum.count += c.rows;
            sum.chunks += 1;
            sum.stored_bytes += c.length;
            sum.decoded_bytes += c.decoded_bytes;
            sum.t_min = Some(sum.t_min.map_or(c.t_min, |t| t.min(c.t_min)));
            sum.t_max = Some(sum.t_max.map_or(c.t_max, |t| t.max(c.t_max)));
        }
        sum
    }

    /// Whether the file has encrypted streams, and the wrapped key they need.
    pub fn key_record(&self) -> Option<&KeyRecord> {
        self.key.as_ref()
    }

    /// Whether stream `name`'s samples can be read: not encrypted, or opened with its key.
    pub fn is_readable(&self, name: &str) -> Result<bool> {
        Ok(self.stream(name)?.is_readable())
    }

    /// Chunk indices of stream `s` in time order.
    pub fn chunks_of(&self, s: usize) -> &[usize] {
        &self.per_stream[s]
    }

    /// The settings this reader was opened with.
    pub fn read_options(&self) -> &ReadOptions {
        &self.opts
    }

    /// A process-unique id of this open file.
    pub fn source_id(&self) -> u64 {
        self.source
    }

    pub(crate) fn data_key(&self) -> Option<&DataKey> {
        self.data_key.as_ref()
    }

    fn chunk_entry(&self, i: usize) -> Result<&ChunkEntry> {
        self.chunks.get(i).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "chunk {i} does not exist ({} chunks)",
                self.chunks.len()
            ))
        })
    }

    fn stream_position_of(&self, c: &ChunkEntry) -> Result<usize> {
        self.ids
            .get(&c.stream_id)
            .copied()
            .ok_or_else(|| Error::Malformed {
                file: self.name.clone(),
                what: "chunk",
                offset: c.offset,
                detail: format!("stream id {} is not declared", c.stream_id),
            })
    }

    /// Samples with `t0 <= t < t1`, as one Arrow batch (schema: [`StreamInfo::arrow_schema`]).
    /// `t1 = i64::MAX` reads to the end, a sample at `i64::MAX` included.
    pub fn read_range(&self, name: &str, t0: i64, t1: i64) -> Result<RecordBatch> {
        match self.half_open(name, t0, t1)? {
            (s, Some(range)) => self.read_inclusive(s, range),
            (s, None) => BatchBuilder::new(&self.streams[s]).finish(),
        }
    }

    /// Every sample of a stream.
    pub fn read_all(&self, name: &str) -> Result<RecordBatch> {
        self.stream(name)?.range(..)
    }

    /// The last sample at or before `t` (as-of), as a one-row batch; `None` before the first.
    pub fn at(&self, name: &str, t: i64) -> Result<Option<RecordBatch>> {
        self.stream(name)?.at(t)
    }

    /// The sample nearest to `t` (the earlier one on a tie), as a one-row batch.
    pub fn nearest(&self, name: &str, t: i64) -> Result<Option<RecordBatch>> {
        self.stream(name)?.nearest(t)
    }

    /// Where the last sample at or before `t` is.
    pub fn find_at(&self, name: &str, t: i64) -> Result<Option<SampleRef>> {
        self.stream(name)?.find_at(t)
    }

    /// Where the sample nearest to `t` is.
    pub fn find_nearest(&self, name: &str, t: i64) -> Result<Option<SampleRef>> {
        self.stream(name)?.find_nearest(t)
    }

    /// One chunk's samples at a time, in time order.
    pub fn iter(&self, name: &str) -> Result<impl Iterator<Item = Result<RecordBatch>> + '_> {
        Ok(self.stream(name)?.iter())
    }

    /// Every timestamp of a stream (decodes only the timestamp buffers).
    pub fn times(&self, name: &str) -> Result<Vec<i64>> {
        self.stream(name)?.times()
    }

    /// Decodes chunk `i` of the index completely (used by `validate`).
    pub fn read_chunk(&self, i: usize) -> Result<RecordBatch> {
        self.decode_chunk(i)?.finish()
    }

    /// The frames of chunk `i`: timestamps and decoded pixels back to back, without Arrow.
    pub(crate) fn chunk_frames(&self, i: usize) -> Result<(Vec<i64>, Vec<u8>)> {
        let name = self
            .chunks
            .get(i)
            .and_then(|c| self.stream_of(c))
            .map(|s| s.name.clone());
        self.decode_chunk(i)?
            .into_frames()
            .ok_or_else(|| Error::Mismatch {
                stream: name.unwrap_or_default(),
                detail: "not a frame stream".into(),
            })
    }

    pub(crate) fn decode_chunk(&self, i: usize) -> Result<BatchBuilder<'_>> {
        let c = self.chunks.get(i).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "chunk {i} does not exist ({} chunks)",
                self.chunks.len()
            ))
        })?;
        let s = *self.ids.get(&c.stream_id).ok_or_else(|| Error::Malformed {
            file: self.name.clone(),
            what: "chunk",
            offset: c.offset,
            detail: format!("stream id {} is not declared", c.stream_id),
        })?;
        self.with_chunk(i, |view| {
            let times = decode_times(view)?;
            let mut b = BatchBuilder::new(&self.streams[s]);
            b.append(view, &times, 0..times.len())?;
            Ok(b)
        })
    }

    /// Position in [`EpisodeReader::streams`] of the stream with file id `id`.
    pub fn stream_index_of_id(&self, id: u32) -> Option<usize> {
        self.ids.get(&id).copied()
    }

    fn stream_index(&self, name: &str) -> Result<usize> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownStream {
                name: name.to_string(),
                known: self
                    .streams
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    fn read_inclusive(&self, s: usize, range: RangeInclusive<i64>) -> Result<RecordBatch> {
        self.gather(s, range)?.finish()
    }

    /// The chunks of stream `s` with samples in `lo..=hi`, in time order.
    fn chunks_overlapping(&self, s: usize, lo: i64, hi: i64) -> Vec<usize> {
        let list = &self.per_stream[s];
        let first = list.partition_point(|&i| self.chunks[i].t_max < lo);
        list[first..]
            .iter()
            .copied()
            .take_while(|&i| self.chunks[i].t_min <= hi)
            .collect()
    }

    /// The decoded bytes `chunks` of stream `s` claim in all, or [`Error::OverBudget`] when
    /// that is over `budget`.
    fn within_budget(&self, s: usize, chunks: &[usize], budget: Option<u64>) -> Result<u64> {
        let claimed = chunks
            .iter()
            .map(|&i| self.chunks[i].decoded_bytes)
            .fold(0u64, u64::saturating_add);
        match budget {
            Some(budget) if claimed > budget => Err(Error::OverBudget {
                stream: self.streams[s].name.clone(),
                claimed,
                budget,
            }),
            _ => Ok(claimed),
        }
    }

    /// Checks a read of `name` with `t0 <= t < t1` against `budget` (`None`: the reader's,
    /// [`ReadOptions::max_read_bytes`]) before anything is decoded, for callers that read a
    /// range in pieces; returns the decoded bytes its chunks claim.
    pub fn check_read_budget(
        &self,
        name: &str,
        t0: i64,
        t1: i64,
        budget: Option<u64>,
    ) -> Result<u64> {
        let budget = budget.or_else(|| self.opts.max_read_bytes());
        match self.half_open(name, t0, t1)? {
            (s, Some(r)) => {
                let chunks = self.chunks_overlapping(s, *r.start(), *r.end());
                self.within_budget(s, &chunks, budget)
            }
            (_, None) => Ok(0),
        }
    }

    /// The samples of stream `s` in `range`, decoded but not yet made into Arrow arrays.
    pub(crate) fn gather(&self, s: usize, range: RangeInclusive<i64>) -> Result<BatchBuilder<'_>> {
        self.gather_within(s, range, None)
    }

    /// [`Self::gather`] with a budget (`None`: the reader's).
    pub(crate) fn gather_within(
        &self,
        s: usize,
        range: RangeInclusive<i64>,
        budget: Option<u64>,
    ) -> Result<BatchBuilder<'_>> {
        let (lo, hi) = (*range.start(), *range.end());
        let chunks = self.chunks_overlapping(s, lo, hi);
        let budget = budget.or_else(|| self.opts.max_read_bytes());
        let claimed = self.within_budget(s, &chunks, budget)?;
        self.prefetch(&chunks)?;
        let mut b = BatchBuilder::new(&self.streams[s]);
        let rows = chunks.iter().map(|&i| self.chunks[i].rows).sum();
        b.try_reserve(rows, claimed.saturating_sub(rows.saturating_mul(8)))?;
        let decode = |b: &mut BatchBuilder<'_>, i: usize| {
            self.with_chunk(i, |view| {
                let times = decode_times(view)?;
                let start = times.partition_point(|&t| t < lo);
                let end = times.partition_point(|&t| t <= hi);
                b.append(view, &times, start..end)
            })
        };
        if self.ciphers[s].is_none() || chunks.len() < 2 {
            for &i in &chunks {
                decode(&mut b, i)?;
            }
            return Ok(b);
        }
        // Sealed chunks: a second thread decrypts the next chunk (into the plaintext cache)
        // while this one decodes the current, so decryption hides behind decoding.
        std::thread::scope(|scope| {
            let (ready, decrypted) = std::sync::mpsc::sync_channel::<Result<()>>(1);
            let ahead = &chunks[1..];
            scope.spawn(move || {
                for &i in ahead {
                    if ready.send(self.decrypt_ahead(s, i)).is_err() {
                        break; // the reader stopped early (an error)
                    }
                }
            });
            decode(&mut b, chunks[0])?;
            for &i in ahead {
                // If the helper has ended, decode decrypts the chunk itself.
                if let Ok(r) = decrypted.recv() {
                    r?;
                }
                decode(&mut b, i)?;
            }
            Ok::<(), Error>(())
        })?;
        Ok(b)
    }

    /// Rows of stream `s` by their position in the stream (time order), given ascending and
    /// without repeats: each chunk holding some is decoded once, in runs of consecutive rows.
    pub(crate) fn gather_rows(&self, s: usize, rows: &[usize]) -> Result<BatchBuilder<'_>> {
        if self.ranged.is_some() {
            self.prefetch(&self.chunks_holding(s, rows))?;
        }
        let mut b = BatchBuilder::new(&self.streams[s]);
        let mut first = 0usize; // stream row of the chunk's row 0
        let mut next = 0usize; // rows[next] is the next row to find
        for &i in &self.per_stream[s] {
            if next == rows.len() {
                break;
            }
            let n = self.chunks[i].rows as usize;
            if rows[next] >= first + n {
                first += n;
                continue;
            }
            self.with_chunk(i, |view| {
                let times = decode_times(view)?;
                while next < rows.len() && rows[next] < first + n {
                    let start = rows[next] - first;
                    let mut end = start + 1;
                    next += 1;
                    while end < n && next < rows.len() && rows[next] == first + end {
                        end += 1;
                        next += 1;
                    }
                    b.append(view, &times, start..end)?;
                }
                Ok(())
            })?;
            first += n;
        }
        if next < rows.len() {
            return Err(Error::InvalidArgument(format!(
                "row {} of stream {:?} does not exist ({first} rows)",
                rows[next], self.streams[s].name
            )));
        }
        Ok(b)
    }

    /// The chunks of stream `s` whose time span meets `[lo, hi]`, and the last one starting
    /// at or before `lo` (where an as-of read of `lo` looks), from the index alone: what to
    /// [`prefetch`](EpisodeReader::prefetch) before sampling around a time.
    pub fn chunks_around(&self, s: usize, lo: i64, hi: i64) -> Vec<usize> {
        let Some(list) = self.per_stream.get(s) else {
            return Vec::new();
        };
        let first = list
            .partition_point(|&i| self.chunks[i].t_min <= lo)
            .saturating_sub(1);
        list[first..]
            .iter()
            .copied()
            .take_while(|&i| self.chunks[i].t_min <= hi)
            .collect()
    }

    /// Whether reads fetch from a remote source (range requests) rather than memory.
    pub fn is_remote(&self) -> bool {
        self.ranged.is_some() && self.whole().is_none()
    }

    /// The chunks of stream `s` that hold rows `rows` (ascending), from the index alone.
    pub fn chunks_holding(&self, s: usize, rows: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        let (mut first, mut next) = (0usize, 0usize);
        for &i in self.per_stream.get(s).map_or(&[][..], |v| &v[..]) {
            let n = self.chunks[i].rows as usize;
            if next < rows.len() && rows[next] < first + n {
                out.push(i);
                while next < rows.len() && rows[next] < first + n {
                    next += 1;
                }
            }
            first += n;
        }
        out
    }

    /// The stored frames of frame stream `name` (see `stored_frames`).
    pub(crate) fn stored_frames_of(&self, name: &str) -> Result<Vec<(i64, Vec<u8>)>> {
        let s = self.stream_index(name)?;
        let mut out = Vec::new();
        for &i in &self.per_stream[s] {
            self.with_chunk(i, |view| {
                let times = decode_times(view)?;
                let frames = crate::kind::stored_frames(view, view.header.rows)?;
                out.extend(times.into_iter().zip(frames));
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// Position of stream `name` in [`EpisodeReader::streams`]: the index the row-level
    /// methods take, so that a caller sampling many times looks the name up once.
    pub fn position(&self, name: &str) -> Result<usize> {
        self.stream_index(name)
    }

    /// Rows `rows` (positions in the stream, ascending, without repeats) of signal or frame
    /// stream `s`: their times and their values back to back as little-endian bytes (a row's
    /// elements, or a frame's pixels). Each chunk holding some is decoded once.
    pub fn row_bytes(&self, s: usize, rows: &[usize]) -> Result<(Vec<i64>, Vec<u8>)> {
        self.gather_rows(s, rows)?
            .into_row_bytes()
            .ok_or_else(|| no_row_bytes(self.stream_name(s)))
    }

    /// Every row of chunk `i` of a signal or frame stream, as [`EpisodeReader::row_bytes`].
    pub fn chunk_row_bytes(&self, i: usize) -> Result<(Vec<i64>, Vec<u8>)> {
        self.decode_chunk(i)?.into_row_bytes().ok_or_else(|| {
            let name = self.chunks.get(i).and_then(|c| self.stream_of(c));
            no_row_bytes(name.map(|s| s.name.clone()).unwrap_or_default())
        })
    }

    fn stream_name(&self, s: usize) -> String {
        self.streams
            .get(s)
            .map(|i| i.name.clone())
            .unwrap_or_default()
    }

    /// Position of stream `name` and the inclusive range of a half-open `[t0, t1)` (`t1 =
    /// i64::MAX` meaning "to the end", inclusive), or `None` when the range is empty.
    pub(crate) fn half_open(
        &self,
        name: &str,
        t0: i64,
        t1: i64,
    ) -> Result<(usize, Option<RangeInclusive<i64>>)> {
        Ok((self.stream_index(name)?, crate::time::half_open(t0, t1)))
    }

    fn locate_at(&self, s: usize, t: i64) -> Result<Option<SampleRef>> {
        let list = &self.per_stream[s];
        let k = list.partition_point(|&i| self.chunks[i].t_min <= t);
        if k == 0 {
            return Ok(None);
        }
        let chunk = list[k - 1];
        let times = self.with_chunk(chunk, decode_times)?;
        let row = times.partition_point(|&x| x <= t);
        Ok(row.checked_sub(1).map(|row| SampleRef {
            chunk,
            row,
            t: times[row],
        }))
    }

    /// The first sample strictly after `t`.
    fn locate_after(&self, s: usize, t: i64) -> Result<Option<SampleRef>> {
        let list = &self.per_stream[s];
        let k = list.partition_point(|&i| self.chunks[i].t_max <= t);
        let Some(&chunk) = list.get(k) else {
            return Ok(None);
        };
        let times = self.with_chunk(chunk, decode_times)?;
        let row = times.partition_point(|&x| x <= t);
        Ok(times.get(row).map(|&x| SampleRef { chunk, row, t: x }))
    }

    fn locate_nearest(&self, s: usize, t: i64) -> Result<Option<SampleRef>> {
        let before = self.locate_at(s, t)?;
        if before.is_some_and(|b| b.t == t) {
            return Ok(before);
        }
        let after = self.locate_after(s, t)?;
        Ok(match (before, after) {
            (Some(b), Some(a)) => {
                let db = (t as i128) - (b.t as i128);
                let da = (a.t as i128) - (t as i128);
                Some(if da < db { a } else { b })
            }
            (b, a) => b.or(a),
        })
    }

    /// Reads one sample found by a `find_*` call, as a one-row batch.
    pub fn read_sample_ref(&self, name: &str, r: SampleRef) -> Result<RecordBatch> {
        self.stream(name)?.read(r)
    }

    fn read_sample(&self, s: usize, r: SampleRef) -> Result<RecordBatch> {
        self.sample_rows(s, r, |b| b.finish())
    }

    /// The pixels of the frame a `find_*` call found in frame stream `name`, decoded straight
    /// into the returned vector (no Arrow batch, no copy).
    pub fn read_frame_ref(&self, name: &str, r: SampleRef) -> Result<Vec<u8>> {
        let s = self.stream_index(name)?;
        let not_frames =
            || Error::InvalidArgument(format!("stream {name:?} is not a frame stream"));
        // Checked before decoding anything.
        if !matches!(self.streams[s].kind, StreamKind::Frames { .. }) {
            return Err(not_frames());
        }
        self.sample_rows(s, r, |b| {
            b.into_frames().map(|(_, px)| px).ok_or_else(not_frames)
        })
    }

    /// Decodes the one row `r` of stream `s` and hands it to `finish`.
    fn sample_rows<R>(
        &self,
        s: usize,
        r: SampleRef,
        finish: impl FnOnce(BatchBuilder<'_>) -> Result<R>,
    ) -> Result<R> {
        self.with_chunk(r.chunk, |view| {
            let times = decode_times(view)?;
            if r.row >= times.len() {
                return Err(view.malformed(format!("row {} of {} rows", r.row, times.len())));
            }
            let mut b = BatchBuilder::new(&self.streams[s]);
            b.append(view, &times, r.row..r.row + 1)?;
            finish(b)
        })
    }
}

/// The error for rows of bytes asked of a stream kind that has none (audio, events). Built only
/// on failure: the row methods are on the sampling hot path.
fn no_row_bytes(stream: String) -> Error {
    Error::Mismatch {
        stream,
        detail: "only signal and frame streams have rows of bytes".into(),
    }
}
