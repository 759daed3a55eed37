//! The episode reader: open (trailer and footer only), then time queries that touch only the
//! chunks they need. A file without a usable footer opens in recovery mode: its records are
//! scanned, every chunk whose checksums hold is indexed, and [`EpisodeReader::recovery`] says
//! where and why the rest stopped.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
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
use crate::kind::{decode_times, BatchBuilder};
use crate::recover::{scan, RecoveryReport};
use crate::schema::{EpisodeMeta, StreamInfo, StreamKind};
use rmf_codecs::with_dtype;
use rmf_codecs::DType;

pub(crate) mod typed;

/// Default cap on the decoded size of one chunk (1 GiB). A file claiming more is refused with
/// [`Error::TooLarge`] before anything is allocated.
pub const DEFAULT_MAX_CHUNK_BYTES: u64 = 1 << 30;

/// Reader settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest decoded chunk the reader accepts (bounds memory on hostile files).
    pub max_chunk_bytes: u64,
    /// The key or passphrase of encrypted streams. Without it, everything else reads as
    /// usual and reading an encrypted stream is [`Error::Encrypted`]; with a wrong one, `open`
    /// fails with [`Error::WrongKey`].
    pub secret: Option<Secret>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
            secret: None,
        }
    }
}

impl ReadOptions {
    /// Opens encrypted streams with `secret`.
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }
}

/// Bytes of a memory-mapped file a reader touches before it lets the kernel drop the pages it
/// has mapped: file-backed pages count in the process's resident memory until unmapped, so a
/// training process sampling frames across many large files would otherwise grow by every page
/// it ever read (they stay in the page cache; only this process's mapping of them goes). The
/// kernel maps more than the bytes counted (whole pages, and pages around each fault): the JPEG
/// sampling benchmark peaked 138 MiB above its baseline without releasing, 97 MiB with 1 MiB here
/// and 56 MiB with 256 KiB, at the same speed (README, training samples).
const RELEASE_PAGES_AFTER: u64 = 1 << 18;

/// Decrypted chunk bodies a reader keeps, so that reading a sealed chunk row by row (a video
/// GOP frame by frame) decrypts it once: at most this many, which bounds the memory to this
/// many chunks (each at most [`crate::MAX_CHUNK_DECODED_BYTES`] stored, usually far less).
const PLAIN_CACHE_CHUNKS: usize = 4;

enum Data {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Data {
    fn bytes(&self) -> &[u8] {
        match self {
            Data::Mapped(m) => m,
            Data::Owned(v) => v,
        }
    }
}

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
    data: Data,
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
    /// Mapped bytes touched since the mapping's pages were last released.
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
    /// Opens a file (memory-mapped) with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, ReadOptions::default())
    }

    /// Opens a file (memory-mapped).
    pub fn open_with(path: impl AsRef<Path>, opts: ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(path, "stat", e))?
            .len();
        let data = if len == 0 {
            Data::Owned(Vec::new())
        } else {
            // SAFETY: the map is read-only. RMF files are written append-only and never edited
            // in place, so the mapped bytes do not change under the reader; a file truncated by
            // another process while mapped is outside what this library supports (as for every
            // mmap-based reader).
            #[allow(unsafe_code)]
            let map =
                unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, "mmap", e))?;
            Data::Mapped(map)
        };
        Self::from_data(data, path.display().to_string(), opts)
    }

    /// Reads an episode held in memory; `name` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: impl Into<String>, opts: ReadOptions) -> Result<Self> {
        Self::from_data(Data::Owned(bytes), name.into(), opts)
    }

    fn from_data(data: Data, name: String, opts: ReadOptions) -> Result<Self> {
        let b = Bytes::new(data.bytes(), &name);
        check_file_header(b.data, &name)?;
        let opts_secret = opts.secret.clone();
        let name_for_key = name.clone();
        let mut read = FILE_HEADER_LEN as u64;
        let (footer, recovery) = match footer_of(&b, &mut read) {
            Ok(f) => (f, None),
            Err(why) => {
                let s = scan(&b, opts.max_chunk_bytes)?;
                read = b.len();
                let report = s.report(&name, b.len(), why);
                (s.into_footer(), Some(report))
            }
        };
        let mut reader = EpisodeReader {
            name,
            meta: footer.episode,
            ids: HashMap::new(),
            by_name: HashMap::new(),
            streams: Vec::new(),
            per_stream: Vec::new(),
            chunks: Vec::new(),
            recovery,
            skipped: Vec::new(),
            opts,
            bytes_read: AtomicU64::new(read),
            source: NEXT_SOURCE.fetch_add(1, Ordering::Relaxed),
            data,
            data_key: match (&footer.key, &opts_secret) {
                (Some(record), Some(secret)) => {
                    Some(DataKey::unwrap(record, secret, &name_for_key)?)
                }
                _ => None,
            },
            key: footer.key,
            ciphers: Vec::new(),
            plain_cache: Mutex::new(VecDeque::new()),
            touched_since_release: AtomicU64::new(0),
        };
        for s in footer.streams {
            reader.ids.insert(s.id, reader.streams.len());
            reader
                .by_name
                .insert(s.info.name.clone(), reader.streams.len());
            let cipher = match (&s.info.encryption, &reader.data_key) {
                (Some(enc), Some(dk)) => Some(dk.stream_cipher(enc)?),
                _ => None,
            };
            reader.ciphers.push(cipher);
            reader.streams.push(s.info);
            reader.per_stream.push(Vec::new());
        }
        reader.skipped = footer.skipped;
        // Chunks of skipped streams stay out of the index.
        let skipped_ids: Vec<u32> = reader.skipped.iter().map(|k| k.id).collect();
        let mut kept = Vec::with_capacity(footer.chunks.len());
        for c in footer.chunks {
            if !skipped_ids.contains(&c.stream_id) {
                kept.push(c);
            }
        }
        for (i, c) in kept.iter().enumerate() {
            if let Some(&s) = reader.ids.get(&c.stream_id) {
                reader.per_stream[s].push(i);
            }
        }
        reader.chunks = kept;
        for list in &mut reader.per_stream {
            list.sort_by_key(|&i| (reader.chunks[i].t_min, reader.chunks[i].offset));
        }
        Ok(reader)
    }

    /// The file's name as given to `open`.
    pub fn file_name(&self) -> &str {
        &self.name
    }

    /// Size of the file in bytes.
    pub fn file_len(&self) -> u64 {
        self.data.bytes().len() as u64
    }

    /// Episode metadata.
    pub fn meta(&self) -> &EpisodeMeta {
        &self.meta
    }

    /// Streams in declaration order.
    pub fn streams(&self) -> &[StreamInfo] {
        &self.streams
    }

    /// The declaration of stream `name`.
    pub fn stream(&self, name: &str) -> Result<&StreamInfo> {
        self.stream_index(name).map(|i| &self.streams[i])
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
        let s = self.stream_index(name)?;
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
        Ok(sum)
    }

    /// Per-element minimum and maximum of a signal stream over the whole episode, from the
    /// chunk statistics in the index (no chunk is read). `None` for other kinds or no samples.
    pub fn signal_bounds(&self, name: &str) -> Result<Option<(Vec<f64>, Vec<f64>)>> {
        let s = self.stream_index(name)?;
        let info = &self.streams[s];
        let StreamKind::Signal { dtype, .. } = &info.kind else {
            return Ok(None);
        };
        let width = info.signal_width();
        let mut bounds: Option<(Vec<f64>, Vec<f64>)> = None;
        for &i in &self.per_stream[s] {
            let stats = self.chunk_stats(i)?;
            let Some((lo, hi)) = stats_as_f64(&stats, *dtype, width) else {
                continue;
            };
            bounds = Some(match bounds {
                None => (lo, hi),
                Some((mut a, mut b)) => {
                    for j in 0..width {
                        a[j] = nan_min(a[j], lo[j]);
                        b[j] = nan_max(b[j], hi[j]);
                    }
                    (a, b)
                }
            });
        }
        Ok(bounds)
    }

    /// The statistics of chunk `i` (spec/chunks.md), opened when its stream is encrypted.
    pub fn chunk_stats(&self, i: usize) -> Result<Cow<'_, [u8]>> {
        let c = self.chunk_entry(i)?;
        let s = self.stream_position_of(c)?;
        if self.streams[s].encryption.is_none() {
            return Ok(Cow::Borrowed(&c.stats));
        }
        let cipher = self.cipher(s)?;
        if c.stats.is_empty() {
            // A recovered file keeps no statistics of sealed chunks: they are in the chunk.
            return self.with_chunk(i, |view| Ok(Cow::Owned(view.stats.to_vec())));
        }
        let header = ChunkHeader {
            stream_id: c.stream_id,
            t_min: c.t_min,
            t_max: c.t_max,
            rows: c.rows,
        };
        cipher
            .open_stats(
                &header,
                &c.stats,
                &self.name,
                &self.streams[s].name,
                c.offset,
            )
            .map(Cow::Owned)
    }

    /// Whether the file has encrypted streams, and the wrapped key they need.
    pub fn key_record(&self) -> Option<&KeyRecord> {
        self.key.as_ref()
    }

    /// Whether stream `name`'s samples can be read: not encrypted, or opened with its key.
    pub fn is_readable(&self, name: &str) -> Result<bool> {
        let s = self.stream_index(name)?;
        Ok(self.streams[s].encryption.is_none() || self.ciphers[s].is_some())
    }

    /// Chunk indices of stream `s` in time order.
    pub fn chunks_of(&self, s: usize) -> &[usize] {
        &self.per_stream[s]
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

    /// The cipher of encrypted stream `s`, or why there is none.
    fn cipher(&self, s: usize) -> Result<&StreamCipher> {
        self.ciphers[s].as_ref().ok_or_else(|| Error::Encrypted {
            file: self.name.clone(),
            stream: self.streams[s].name.clone(),
        })
    }

    /// The decrypted body of the sealed chunk record at `offset` with body length `body_len`.
    fn open_sealed(&self, s: usize, offset: u64, body_len: u64) -> Result<Arc<Vec<u8>>> {
        let cipher = self.cipher(s)?;
        let cached = self
            .plain_cache
            .lock()
            .ok()
            .and_then(|c| c.iter().find(|(o, _)| *o == offset).map(|(_, p)| p.clone()));
        if let Some(plain) = cached {
            return Ok(plain);
        }
        let b = Bytes::new(self.data.bytes(), &self.name);
        let body_offset = offset + RECORD_HEADER_LEN as u64;
        let body = b.slice(body_offset, body_len + 4, "sealed chunk")?;
        let (body, crc) = body.split_at(body_len as usize);
        let (stored, computed) = (crate::format::le_u32(crc), crc32c::crc32c(body));
        if stored != computed {
            return Err(Error::Checksum {
                file: self.name.clone(),
                what: "sealed chunk",
                offset: body_offset,
                stored,
                computed,
            });
        }
        let plain =
            Arc::new(cipher.open_chunk(body, &self.name, &self.streams[s].name, body_offset)?);
        if let Ok(mut cache) = self.plain_cache.lock() {
            if cache.len() >= PLAIN_CACHE_CHUNKS {
                cache.pop_front();
            }
            cache.push_back((offset, plain.clone()));
        }
        Ok(plain)
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
        let s = self.stream_index(name)?;
        self.read_inclusive(s, i64::MIN..=i64::MAX)
    }

    /// The last sample at or before `t` (as-of), as a one-row batch; `None` before the first.
    pub fn at(&self, name: &str, t: i64) -> Result<Option<RecordBatch>> {
        let s = self.stream_index(name)?;
        match self.locate_at(s, t)? {
            Some(r) => self.read_sample(s, r).map(Some),
            None => Ok(None),
        }
    }

    /// The sample nearest to `t` (the earlier one on a tie), as a one-row batch.
    pub fn nearest(&self, name: &str, t: i64) -> Result<Option<RecordBatch>> {
        let s = self.stream_index(name)?;
        match self.locate_nearest(s, t)? {
            Some(r) => self.read_sample(s, r).map(Some),
            None => Ok(None),
        }
    }

    /// Where the last sample at or before `t` is.
    pub fn find_at(&self, name: &str, t: i64) -> Result<Option<SampleRef>> {
        let s = self.stream_index(name)?;
        self.locate_at(s, t)
    }

    /// Where the sample nearest to `t` is.
    pub fn find_nearest(&self, name: &str, t: i64) -> Result<Option<SampleRef>> {
        let s = self.stream_index(name)?;
        self.locate_nearest(s, t)
    }

    /// One chunk's samples at a time, in time order.
    pub fn iter(&self, name: &str) -> Result<impl Iterator<Item = Result<RecordBatch>> + '_> {
        let s = self.stream_index(name)?;
        Ok(self.per_stream[s].iter().map(move |&i| {
            self.with_chunk(i, |view| {
                let times = decode_times(view)?;
                let mut b = BatchBuilder::new(&self.streams[s]);
                b.append(view, &times, 0..times.len())?;
                b.finish()
            })
        }))
    }

    /// Every timestamp of a stream (decodes only the timestamp buffers).
    pub fn times(&self, name: &str) -> Result<Vec<i64>> {
        let s = self.stream_index(name)?;
        let mut out = Vec::new();
        for &i in &self.per_stream[s] {
            out.extend(self.with_chunk(i, decode_times)?);
        }
        Ok(out)
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

    /// The file's bytes (memory-mapped or owned), for copying chunk records whole.
    pub fn file_bytes(&self) -> &[u8] {
        self.data.bytes()
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

    /// The samples of stream `s` in `range`, decoded but not yet made into Arrow arrays.
    pub(crate) fn gather(&self, s: usize, range: RangeInclusive<i64>) -> Result<BatchBuilder<'_>> {
        let (lo, hi) = (*range.start(), *range.end());
        let list = &self.per_stream[s];
        let first = list.partition_point(|&i| self.chunks[i].t_max < lo);
        let chunks: Vec<usize> = list[first..]
            .iter()
            .copied()
            .take_while(|&i| self.chunks[i].t_min <= hi)
            .collect();
        let mut b = BatchBuilder::new(&self.streams[s]);
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

    /// Decrypts chunk `i` of encrypted stream `s` into the plaintext cache.
    fn decrypt_ahead(&self, s: usize, i: usize) -> Result<()> {
        let c = self.chunk_entry(i)?;
        let b = Bytes::new(self.data.bytes(), &self.name);
        let (_, body_len) = read_record_header(&b, c.offset)?;
        self.open_sealed(s, c.offset, body_len).map(|_| ())
    }

    /// Rows of stream `s` by their position in the stream (time order), given ascending and
    /// without repeats: each chunk holding some is decoded once, in runs of consecutive rows.
    pub(crate) fn gather_rows(&self, s: usize, rows: &[usize]) -> Result<BatchBuilder<'_>> {
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
        let name = self.stream_name(s);
        self.gather_rows(s, rows)?
            .into_row_bytes()
            .ok_or_else(|| Error::Mismatch {
                stream: name,
                detail: "only signal and frame streams have rows of bytes".into(),
            })
    }

    /// Every row of chunk `i` of a signal or frame stream, as [`EpisodeReader::row_bytes`].
    pub fn chunk_row_bytes(&self, i: usize) -> Result<(Vec<i64>, Vec<u8>)> {
        let name = self
            .chunks
            .get(i)
            .and_then(|c| self.stream_of(c))
            .map(|s| s.name.clone())
            .unwrap_or_default();
        self.decode_chunk(i)?
            .into_row_bytes()
            .ok_or_else(|| Error::Mismatch {
                stream: name,
                detail: "only signal and frame streams have rows of bytes".into(),
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
        let s = self.stream_index(name)?;
        let hi = if t1 == i64::MAX { i64::MAX } else { t1 - 1 };
        Ok((
            s,
            (t0 <= hi && (t1 > t0 || t1 == i64::MAX)).then_some(t0..=hi),
        ))
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
        let s = self.stream_index(name)?;
        self.read_sample(s, r)
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

    /// Parses chunk `i` and runs `f` on it, counting the bytes it touched. A sealed chunk is
    /// decrypted (and authenticated) whole first.
    fn with_chunk<R>(&self, i: usize, f: impl FnOnce(&ChunkView<'_>) -> Result<R>) -> Result<R> {
        let c = self.chunk_entry(i)?;
        let s = self.stream_position_of(c)?;
        let sealed = self.streams[s].encryption.is_some();
        let b = Bytes::new(self.data.bytes(), &self.name);
        let (kind, body_len) = read_record_header(&b, c.offset)?;
        let want = if sealed {
            RecordKind::SealedChunk
        } else {
            RecordKind::Chunk
        };
        if kind != want as u8 || body_len + RECORD_OVERHEAD as u64 != c.length {
            return Err(Error::Malformed {
                file: self.name.clone(),
                what: "chunk index",
                offset: c.offset,
                detail: format!(
                    "the index points at a record of kind {kind} and {} bytes, expected a {} of {} bytes",
                    body_len + RECORD_OVERHEAD as u64,
                    want.name(),
                    c.length
                ),
            });
        }
        let body_offset = c.offset + RECORD_HEADER_LEN as u64;
        let plain;
        let mut view = if sealed {
            plain = self.open_sealed(s, c.offset, body_len)?;
            let pb = Bytes::new(&plain, &self.name);
            let mut v = ChunkView::parse(&pb, 0, plain.len() as u64, self.opts.max_chunk_bytes)?;
            v.body_offset = body_offset;
            v
        } else {
            ChunkView::parse(&b, body_offset, body_len, self.opts.max_chunk_bytes)?
        };
        view.source = self.source;
        let h = view.header;
        if (h.stream_id != c.stream_id && !sealed)
            || h.rows != c.rows
            || h.t_min != c.t_min
            || h.t_max != c.t_max
        {
            return Err(view.malformed(format!(
                "chunk header (stream {}, {} rows, {}..{}) disagrees with the index (stream {}, {} rows, {}..{})",
                h.stream_id, h.rows, h.t_min, h.t_max, c.stream_id, c.rows, c.t_min, c.t_max
            )));
        }
        let result = f(&view);
        let touched = if sealed {
            c.length
        } else {
            RECORD_HEADER_LEN as u64 + view.bytes_touched()
        };
        self.bytes_read.fetch_add(touched, Ordering::Relaxed);
        self.release_pages_if_due(touched);
        result
    }

    /// Lets the kernel drop this process's mapping of the file's pages once
    /// [`RELEASE_PAGES_AFTER`] bytes were touched (see there).
    fn release_pages_if_due(&self, touched: u64) {
        let Data::Mapped(map) = &self.data else {
            return;
        };
        let since = self
            .touched_since_release
            .fetch_add(touched, Ordering::Relaxed)
            + touched;
        if since < RELEASE_PAGES_AFTER {
            return;
        }
        self.touched_since_release.store(0, Ordering::Relaxed);
        #[cfg(unix)]
        {
            // SAFETY: the map is read-only and file-backed, and RMF files are not modified in
            // place: dropping its pages loses nothing, and the next access faults them in again
            // from the page cache or the file, with the same bytes.
            #[allow(unsafe_code)]
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
        #[cfg(not(unix))]
        let _ = map;
    }
}

/// Reads the trailer and footer; the error string says why the footer cannot be used.
fn footer_of(b: &Bytes<'_>, read: &mut u64) -> std::result::Result<Footer, String> {
    let trailer = match Trailer::read(b) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return Err(
                "the file has no trailer: the writer did not finish (crash or kill?)".into(),
            )
        }
        Err(e) => return Err(format!("the trailer is damaged: {e}")),
    };
    *read += TRAILER_LEN as u64;
    let rec = read_record(b, trailer.footer_offset)
        .map_err(|e| format!("the footer is unusable: {e}"))?;
    *read += rec.len();
    if rec.kind != RecordKind::Footer as u8 || rec.len() != trailer.footer_len {
        return Err(format!(
            "the trailer points at a record of kind {} and {} bytes, not the footer",
            rec.kind,
            rec.len()
        ));
    }
    let footer = decode_footer(rec.body, b.file, rec.body_offset())
        .map_err(|e| format!("the footer is unusable: {e}"))?;
    check_footer(&footer, trailer.footer_offset)
        .map_err(|e| format!("the footer is inconsistent: {e}"))?;
    Ok(footer)
}

/// The footer's promises that the reader relies on without reading chunks.
fn check_footer(f: &Footer, footer_offset: u64) -> std::result::Result<(), String> {
    let mut ids = HashMap::new();
    let mut names = HashMap::new();
    for s in &f.streams {
        if ids.insert(s.id, &s.info).is_some() {
            return Err(format!("stream id {} appears twice", s.id));
        }
        if names.insert(s.info.name.as_str(), ()).is_some() {
            return Err(format!("stream name {:?} appears twice", s.info.name));
        }
    }
    let mut last_t: HashMap<u32, i64> = HashMap::new();
    for (i, c) in f.chunks.iter().enumerate() {
        if f.skipped.iter().any(|k| k.id == c.stream_id) {
            continue; // a stream of a newer kind: not indexed
        }
        if let Some(&prev) = last_t.get(&c.stream_id) {
            if c.t_min < prev {
                return Err(format!(
                    "chunk {i} starts at {} ns, before the previous chunk of its stream ends ({prev} ns)",
                    c.t_min
                ));
            }
        }
        last_t.insert(c.stream_id, c.t_max);
        let Some(info) = ids.get(&c.stream_id) else {
            return Err(format!(
                "chunk {i} names undeclared stream id {}",
                c.stream_id
            ));
        };
        let inside = c.offset >= FILE_HEADER_LEN as u64
            && c.length >= RECORD_OVERHEAD as u64
            && c.offset
                .checked_add(c.length)
                .is_some_and(|e| e <= footer_offset);
        if !inside {
            return Err(format!(
                "chunk {i} at {}+{} lies outside the chunk area",
                c.offset, c.length
            ));
        }
        if c.rows == 0 {
            return Err(format!("chunk {i} has no rows"));
        }
        let want = expected_stats_len(info, c.rows);
        // A sealed chunk's statistics are sealed (nonce and tag added), or absent.
        let sealed_ok = info.encryption.is_some()
            && (c.stats.is_empty() || c.stats.len() == want + NONCE_LEN + TAG_LEN);
        if c.stats.len() != want && !sealed_ok {
            return Err(format!(
                "chunk {i} has {} stats bytes, its stream needs {want}",
                c.stats.len()
            ));
        }
    }
    Ok(())
}

/// Statistics bytes a chunk of this stream carries.
pub(crate) fn expected_stats_len(info: &StreamInfo, rows: u64) -> usize {
    match &info.kind {
        StreamKind::Signal { dtype, .. } if rows > 0 => 2 * info.signal_width() * dtype.size(),
        _ => 0,
    }
}

/// Decodes signal statistics bytes to f64 (for display and merging).
pub(crate) fn stats_as_f64(
    stats: &[u8],
    dtype: DType,
    width: usize,
) -> Option<(Vec<f64>, Vec<f64>)> {
    if stats.len() != 2 * width * dtype.size() {
        return None;
    }
    with_dtype!(dtype, T => {
        let vals: Vec<T> = bytemuck::pod_collect_to_vec(stats);
        let f: Vec<f64> = vals.iter().map(|v| rmf_codecs::Element::to_f64(*v)).collect();
        Some((f[..width].to_vec(), f[width..].to_vec()))
    })
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() {
        a
    } else {
        a.min(b)
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() {
        a
    } else {
        a.max(b)
    }
}
