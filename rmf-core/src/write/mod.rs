//! The episode writer: declare streams, append samples as they arrive, `finish()`.
//!
//! The file is written append-only. The header, the episode record and each stream record are
//! written at once; samples wait in one open chunk per stream until the chunk reaches
//! [`WriteOptions::chunk_bytes`] or spans [`WriteOptions::chunk_duration_ns`] of the episode
//! clock, then go to the file as one checksummed record. If the process dies, every chunk written
//! so far is recoverable (`recover`), so the writer's memory and the data at risk are both
//! bounded by the open chunks, not by the episode's length.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::crypt::{DataKey, KeyRecord, StreamCipher, StreamEncryption};
use crate::error::{Error, Result};
use crate::footer::{
    encode_episode, encode_footer, encode_key, encode_stream, ChunkEntry, Footer, StreamEntry,
};
use crate::format::{
    file_header_minor, write_record, RecordKind, Trailer, RECORD_HEADER_LEN, RECORD_OVERHEAD,
};
use crate::kind::{Event, OpenChunk};
use crate::schema::{EpisodeMeta, Sensitivity, StreamInfo, StreamKind, WriterInfo};
use rmf_codecs::column::PcoHint;
use rmf_codecs::Element;

mod build;
mod frame_worker;
mod options;

use crate::chunk::ChunkHeader;
use build::{build_chunk, raw_bytes, ReadyChunk};
use frame_worker::FrameWorker;
pub use frame_worker::{FrameQueueReport, QueueFull};
pub use options::{
    WriteOptions, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_DURATION_NS, DEFAULT_FRAME_QUEUE,
    MAX_CHUNK_DECODED_BYTES,
};

/// A declared stream, as returned by [`EpisodeWriter::add_stream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamId(pub(crate) u32);

impl StreamId {
    /// The id stored in the file.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// What `finish()` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteSummary {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Chunks written.
    pub chunks: usize,
    /// Samples written per stream, in declaration order.
    pub samples: Vec<(String, u64)>,
    /// The encoder queues of frame streams encoded in the background.
    pub frame_queues: Vec<FrameQueueReport>,
}

struct StreamState {
    info: StreamInfo,
    /// The open chunk, unless a worker holds it.
    open: OpenChunk,
    last_t: Option<i64>,
    samples: u64,
    hints: Vec<PcoHint>,
    /// A frame stream encoded in the background: the worker holds the open chunk, and the
    /// writer keeps what its flush rules need, the first time and row count sent since the
    /// last flush request.
    worker: Option<FrameWorker>,
    sent_first: Option<i64>,
    sent_rows: usize,
    /// Seals the stream's chunks, when it is encrypted and the writer holds the data key.
    cipher: Option<StreamCipher>,
}

impl StreamState {
    /// The first time of the open chunk.
    fn open_first(&self) -> Option<i64> {
        match self.worker {
            Some(_) => self.sent_first,
            None => self.open.times().first().copied(),
        }
    }

    /// Rows in the open chunk.
    fn open_rows(&self) -> usize {
        match self.worker {
            Some(_) => self.sent_rows,
            None => self.open.times().len(),
        }
    }
}

enum State {
    Open,
    Failed(String),
    Finished,
}

/// Writes one episode file. See the crate documentation for an example.
pub struct EpisodeWriter {
    path: PathBuf,
    file: File,
    offset: u64,
    meta: EpisodeMeta,
    streams: Vec<StreamState>,
    names: HashMap<String, u32>,
    index: Vec<ChunkEntry>,
    opts: WriteOptions,
    state: State,
    /// Earliest time at which some open chunk becomes older than the chunk duration.
    next_deadline: i64,
    /// The wrapped data key written to the file, if any, and the data key itself when the
    /// writer can seal new chunks (a copy of an encrypted file may only pass sealed ones on).
    key: Option<(KeyRecord, Option<DataKey>)>,
}

impl EpisodeWriter {
    /// Creates `path` and writes the header and episode record (and, with
    /// [`WriteOptions::secret`], the key record). Refuses an existing file unless
    /// [`WriteOptions::overwrite`] is set.
    pub fn create(path: impl AsRef<Path>, meta: EpisodeMeta, opts: WriteOptions) -> Result<Self> {
        let key = match &opts.secret {
            Some(secret) => {
                let data_key = DataKey::generate()?;
                Some((data_key.wrap(secret)?, Some(data_key)))
            }
            None => None,
        };
        Self::create_with_key(path, meta, opts, key)
    }

    /// [`EpisodeWriter::create`] with a given key record, as for a copy of an encrypted file:
    /// sealed chunks then copy as they are, and the data key, when known, seals new ones.
    pub(crate) fn create_with_key(
        path: impl AsRef<Path>,
        meta: EpisodeMeta,
        opts: WriteOptions,
        key: Option<(KeyRecord, Option<DataKey>)>,
    ) -> Result<Self> {
        opts.check()?;
        let path = path.as_ref().to_path_buf();
        if opts.overwrite {
            // Unlink rather than truncate: a reader that still maps the old file keeps its
            // bytes instead of faulting on a file cut from under it.
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, "replace", e)),
            }
        }
        let mut oo = OpenOptions::new();
        oo.write(true).create_new(true);
        let file = oo.open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::io(
                    &path,
                    "create (the file exists; set overwrite to replace it)",
                    e,
                )
            } else {
                Error::io(&path, "create", e)
            }
        })?;
        let mut meta = meta;
        meta.writer = WriterInfo::default();
        if meta.start_time_utc.is_empty() {
            meta = meta
                .clone()
                .with_start_time_unix_ns(meta.start_time_unix_ns);
        }
        let mut w = EpisodeWriter {
            path,
            file,
            offset: 0,
            meta,
            streams: Vec::new(),
            names: HashMap::new(),
            index: Vec::new(),
            opts,
            state: State::Open,
            next_deadline: i64::MAX,
            key: None,
        };
        w.write_head(key)?;
        Ok(w)
    }

    /// Writes the file header, the episode record and, for an encrypted file, the key record.
    fn write_head(&mut self, key: Option<(KeyRecord, Option<DataKey>)>) -> Result<()> {
        let minor = if key.is_some() { 1 } else { 0 };
        let mut head = file_header_minor(minor).to_vec();
        write_record(&mut head, RecordKind::Episode, &encode_episode(&self.meta));
        if let Some((record, _)) = &key {
            write_record(&mut head, RecordKind::Key, &encode_key(record));
        }
        self.key = key;
        self.append(&head, "write header")
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The episode metadata as stamped into the file.
    pub fn meta(&self) -> &EpisodeMeta {
        &self.meta
    }

    /// Declares a stream and writes its record. Streams may be added at any time.
    pub fn add_stream(&mut self, info: StreamInfo) -> Result<StreamId> {
        self.check_open()?;
        info.validate()?;
        let mut info = info;
        if info.sensitivity == Sensitivity::Private && info.encryption.is_none() {
            if let Some((_, Some(_))) = &self.key {
                info.encryption = Some(StreamEncryption::generate()?);
            }
        }
        let cipher = match (&info.encryption, &self.key) {
            (None, _) => None,
            (Some(enc), Some((_, Some(data_key)))) => Some(data_key.stream_cipher(enc)?),
            (Some(_), Some((_, None))) => None, // sealed chunks can only be copied in
            (Some(_), None) => {
                return Err(Error::InvalidArgument(format!(
                    "stream {:?} is declared encrypted, but the writer has no key (WriteOptions::with_secret)",
                    info.name
                )))
            }
        };
        if self.names.contains_key(&info.name) {
            return Err(Error::DuplicateStream { name: info.name });
        }
        let id = self.streams.len() as u32;
        let worker = match info.kind {
            StreamKind::Frames { .. } if self.opts.frame_queue > 0 => Some(FrameWorker::spawn(
                id,
                &info,
                self.opts.codec,
                self.opts.chunk_bytes,
                self.opts.frame_queue,
                self.opts.queue_full,
            )?),
            _ => None,
        };
        let mut rec = Vec::new();
        write_record(&mut rec, RecordKind::Stream, &encode_stream(id, &info));
        self.append(&rec, "write stream record")?;
        self.names.insert(info.name.clone(), id);
        self.streams.push(StreamState {
            open: OpenChunk::new(&info),
            info,
            last_t: None,
            samples: 0,
            hints: Vec::new(),
            worker,
            sent_first: None,
            sent_rows: 0,
            cipher,
        });
        Ok(StreamId(id))
    }

    /// The id of a declared stream.
    pub fn stream_id(&self, name: &str) -> Result<StreamId> {
        self.names
            .get(name)
            .map(|&i| StreamId(i))
            .ok_or_else(|| Error::UnknownStream {
                name: name.to_string(),
                known: self
                    .streams
                    .iter()
                    .map(|s| s.info.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The declaration of a stream.
    pub fn stream_info(&self, id: StreamId) -> Option<&StreamInfo> {
        self.streams.get(id.0 as usize).map(|s| &s.info)
    }

    /// Writes one signal sample (`value` has the stream's element count, row-major).
    pub fn write_signal<T: Element>(&mut self, id: StreamId, t: i64, value: &[T]) -> Result<()> {
        self.write_signals(id, &[t], value)
    }

    /// Writes many signal samples: `values` holds `ts.len()` samples, row-major.
    pub fn write_signals<T: Element>(
        &mut self,
        id: StreamId,
        ts: &[i64],
        values: &[T],
    ) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        let width = s.info.signal_width();
        match &s.info.kind {
            StreamKind::Signal { dtype, .. } if *dtype == T::DTYPE => {}
            StreamKind::Signal { dtype, .. } => {
                return Err(mismatch(
                    &s.info,
                    format!("values are {}, the stream holds {dtype}", T::DTYPE),
                ))
            }
            k => {
                return Err(mismatch(
                    &s.info,
                    format!("write_signal on a {} stream", k.name()),
                ))
            }
        }
        if values.len() != ts.len() * width {
            return Err(mismatch(
                &s.info,
                format!(
                    "{} values for {} samples of {width} elements (shape {:?})",
                    values.len(),
                    ts.len(),
                    shape_of(&s.info)
                ),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, ts)?;
        // Rows go in as runs that end where a flush rule fires, not one by one: a recorder
        // handing over a second of 1 kHz data pays the bookkeeping once per run.
        let row_bytes = 8 + width * T::DTYPE.size();
        let idx = id.0 as usize;
        let mut i = 0;
        while i < ts.len() {
            self.before_sample(id, ts[i])?;
            let st = &mut self.streams[idx];
            let was_empty = st.open.times().is_empty();
            let first = st.open.times().first().copied().unwrap_or(ts[i]);
            let rest = &ts[i..];
            let by_time =
                rest.partition_point(|&t| t.saturating_sub(first) < self.opts.chunk_duration_ns);
            let room = self
                .opts
                .chunk_bytes
                .saturating_sub(st.open.buffered_bytes());
            let by_bytes = room.div_ceil(row_bytes);
            let by_deadline = rest.partition_point(|&t| t < self.next_deadline) + 1;
            let n = by_time.min(by_bytes).min(by_deadline).clamp(1, rest.len());
            if let OpenChunk::Signal(b) = &mut st.open {
                let dtype = b.dtype();
                let v = b.values_mut::<T>().ok_or_else(|| Error::Mismatch {
                    stream: st.info.name.clone(),
                    detail: format!("internal: buffer holds {dtype}"),
                })?;
                v.extend_from_slice(&values[i * width..(i + n) * width]);
                b.t.extend_from_slice(&rest[..n]);
            }
            self.after_rows(id, n as u64, rest[n - 1], was_empty.then_some(first))?;
            i += n;
        }
        Ok(())
    }

    /// Writes one frame of raw pixels (row-major; `gray16` little-endian).
    pub fn write_frame(&mut self, id: StreamId, t: i64, pixels: &[u8]) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        if !matches!(s.info.kind, StreamKind::Frames { .. }) {
            return Err(mismatch(
                &s.info,
                format!("write_frame on a {} stream", s.info.kind.name()),
            ));
        }
        let want = s.info.frame_bytes();
        if pixels.len() != want {
            return Err(mismatch(
                &s.info,
                format!(
                    "frame of {} bytes, expected {want} ({})",
                    pixels.len(),
                    frame_desc(&s.info)
                ),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, &[t])?;
        self.before_sample(id, t)?;
        let codec = self.opts.codec;
        let st = &mut self.streams[id.0 as usize];
        if let Some(worker) = &mut st.worker {
            worker.send_frame(t, pixels)?;
            st.sent_first.get_or_insert(t);
            st.sent_rows += 1;
        } else if let OpenChunk::Frames(b) = &mut st.open {
            b.push(t, pixels, &codec, &st.info)
                .map_err(|e| Error::Mismatch {
                    stream: st.info.name.clone(),
                    detail: e.0,
                })?;
        }
        self.after_sample(id, t)
    }

    /// Writes one block of interleaved audio samples stamped with its first sample's time.
    pub fn write_audio<T: Element>(&mut self, id: StreamId, t: i64, samples: &[T]) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        let channels = match &s.info.kind {
            StreamKind::Audio {
                dtype, channels, ..
            } if *dtype == T::DTYPE => *channels as usize,
            StreamKind::Audio { dtype, .. } => {
                return Err(mismatch(
                    &s.info,
                    format!("samples are {}, the stream holds {dtype}", T::DTYPE),
                ))
            }
            k => {
                return Err(mismatch(
                    &s.info,
                    format!("write_audio on a {} stream", k.name()),
                ))
            }
        };
        if samples.is_empty()
            || !samples.len().is_multiple_of(channels)
            || samples.len() / channels > u32::MAX as usize
        {
            return Err(mismatch(
                &s.info,
                format!("a block of {} samples is not a whole, non-zero number of {channels}-channel frames", samples.len()),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, &[t])?;
        self.before_sample(id, t)?;
        let st = &mut self.streams[id.0 as usize];
        if let OpenChunk::Audio(b) = &mut st.open {
            let dtype = b.dtype();
            let v = b.samples_mut::<T>().ok_or_else(|| Error::Mismatch {
                stream: st.info.name.clone(),
                detail: format!("internal: buffer holds {dtype}"),
            })?;
            v.extend_from_slice(samples);
            b.push_block(t, (samples.len() / channels) as u32);
        }
        self.after_sample(id, t)
    }

    /// Writes one event.
    pub fn write_event(&mut self, id: StreamId, t: i64, event: &Event) -> Result<()> {
        self.check_open()?;
        let s = self.stream(id)?;
        if !matches!(s.info.kind, StreamKind::Events) {
            return Err(mismatch(
                &s.info,
                format!("write_event on a {} stream", s.info.kind.name()),
            ));
        }
        let longest = [&event.kind, &event.operator, &event.text]
            .iter()
            .map(|x| x.len())
            .max()
            .unwrap_or(0);
        if longest > u32::MAX as usize {
            return Err(mismatch(
                &s.info,
                "an event string is longer than 4 GiB".into(),
            ));
        }
        if event.kind.is_empty() {
            return Err(mismatch(
                &s.info,
                "an event needs a kind (e.g. \"note\")".into(),
            ));
        }
        crate::time::check_order(&s.info.name, s.last_t, &[t])?;
        self.before_sample(id, t)?;
        if let OpenChunk::Events(b) = &mut self.streams[id.0 as usize].open {
            b.push(t, event);
        }
        self.after_sample(id, t)?;
        if self.opts.flush_events {
            self.flush_stream(id.0 as usize)?;
        }
        Ok(())
    }

    /// Writes every open chunk to the file now.
    pub fn flush(&mut self) -> Result<()> {
        self.check_open()?;
        for i in 0..self.streams.len() {
            self.flush_stream(i)?;
        }
        self.append_worker_chunks(true)?;
        // A frame an encoder thread failed on, not reported yet by `write_frame`.
        match self
            .streams
            .iter_mut()
            .find_map(|s| s.worker.as_mut().and_then(FrameWorker::take_error))
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Flushes, writes the footer and trailer, syncs, and returns what was written.
    pub fn finish(mut self) -> Result<WriteSummary> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<WriteSummary> {
        // A frame an encoder thread could not encode is reported, after the file is complete.
        let encode_error = match self.flush() {
            Ok(()) => None,
            Err(e) if matches!(self.state, State::Open) => Some(e),
            Err(e) => return Err(e),
        };
        let frame_queues = self
            .streams
            .iter_mut()
            .filter_map(|s| s.worker.as_mut().map(FrameWorker::stop))
            .collect();
        let footer = Footer {
            episode: self.meta.clone(),
            streams: self
                .streams
                .iter()
                .enumerate()
                .map(|(i, s)| StreamEntry {
                    id: i as u32,
                    info: s.info.clone(),
                })
                .collect(),
            chunks: self.index.clone(),
            skipped: Vec::new(),
            key: self.key.as_ref().map(|(record, _)| record.clone()),
        };
        let mut tail = Vec::new();
        write_record(&mut tail, RecordKind::Footer, &encode_footer(&footer));
        let trailer = Trailer {
            footer_offset: self.offset,
            footer_len: tail.len() as u64,
        };
        tail.extend_from_slice(&trailer.to_bytes());
        self.append(&tail, "write footer")?;
        if let Err(e) = self.file.sync_all() {
            let err = Error::io(&self.path, "sync", e);
            self.state = State::Failed(err.to_string());
            return Err(err);
        }
        self.state = State::Finished;
        if let Some(e) = encode_error {
            return Err(e);
        }
        Ok(WriteSummary {
            path: self.path.clone(),
            bytes: self.offset,
            chunks: self.index.len(),
            samples: self
                .streams
                .iter()
                .map(|s| (s.info.name.clone(), s.samples))
                .collect(),
            frame_queues,
        })
    }

    /// How the encoder queues of background-encoded frame streams fare so far.
    pub fn frame_queues(&self) -> Vec<FrameQueueReport> {
        self.streams
            .iter()
            .filter_map(|s| s.worker.as_ref().map(FrameWorker::report))
            .collect()
    }

    fn check_open(&self) -> Result<()> {
        match &self.state {
            State::Open => Ok(()),
            State::Failed(reason) => Err(Error::WriterFailed {
                path: self.path.clone(),
                reason: reason.clone(),
            }),
            State::Finished => Err(Error::WriterFinished {
                path: self.path.clone(),
            }),
        }
    }

    fn stream(&self, id: StreamId) -> Result<&StreamState> {
        self.streams
            .get(id.0 as usize)
            .ok_or_else(|| Error::UnknownStream {
                name: format!("#{}", id.0),
                known: self
                    .streams
                    .iter()
                    .map(|s| s.info.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Flushes the stream's open chunk if `t` would make it span the chunk duration.
    fn before_sample(&mut self, id: StreamId, t: i64) -> Result<()> {
        let i = id.0 as usize;
        let first = self.streams[i].open_first();
        if let Some(first) = first {
            if t.saturating_sub(first) >= self.opts.chunk_duration_ns {
                self.flush_stream(i)?;
            }
        }
        Ok(())
    }

    /// Bookkeeping after a sample: size flush, and flushing other streams' stale chunks.
    fn after_sample(&mut self, id: StreamId, t: i64) -> Result<()> {
        let first = (self.streams[id.0 as usize].open_rows() == 1).then_some(t);
        self.after_rows(id, 1, t, first)
    }

    /// Bookkeeping after `rows` samples ending at `t`; `new_chunk_at` is the first time of the
    /// open chunk when these rows started it.
    fn after_rows(
        &mut self,
        id: StreamId,
        rows: u64,
        t: i64,
        new_chunk_at: Option<i64>,
    ) -> Result<()> {
        let i = id.0 as usize;
        let duration = self.opts.chunk_duration_ns;
        let st = &mut self.streams[i];
        st.last_t = Some(t);
        st.samples += rows;
        if let Some(first) = new_chunk_at {
            self.next_deadline = self.next_deadline.min(first.saturating_add(duration));
        }
        // Flush before the next frame could push the decoded size past the cap.
        let next_frame = match st.info.kind {
            StreamKind::Frames { .. } => 8 + st.info.frame_bytes() as u64,
            _ => 0,
        };
        if st.open.buffered_bytes() >= self.opts.chunk_bytes
            || raw_bytes(&st.open, &st.info) + next_frame > MAX_CHUNK_DECODED_BYTES
        {
            self.flush_stream(i)?;
        }
        if t >= self.next_deadline {
            let mut next = i64::MAX;
            for j in 0..self.streams.len() {
                if let Some(first) = self.streams[j].open_first() {
                    if t.saturating_sub(first) >= duration {
                        self.flush_stream(j)?;
                    } else {
                        next = next.min(first.saturating_add(duration));
                    }
                }
            }
            self.next_deadline = next;
        }
        self.append_worker_chunks(false)
    }

    /// Appends the chunks that encoder threads finished; with `wait`, first waits for every
    /// flush asked of them.
    fn append_worker_chunks(&mut self, wait: bool) -> Result<()> {
        let mut ready = Vec::new();
        for i in 0..self.streams.len() {
            if let Some(w) = &mut self.streams[i].worker {
                w.take_chunks(wait, &mut ready);
            }
            for c in ready.drain(..) {
                self.append_chunk(c)?;
            }
        }
        Ok(())
    }

    fn flush_stream(&mut self, i: usize) -> Result<()> {
        let st = &mut self.streams[i];
        if let Some(worker) = &mut st.worker {
            if st.sent_rows > 0 {
                worker.request_flush();
                st.sent_first = None;
                st.sent_rows = 0;
            }
            return Ok(());
        }
        let ready = build_chunk(
            i as u32,
            &st.info,
            &st.open,
            &self.opts.codec,
            &mut st.hints,
        )?;
        st.open.clear();
        match ready {
            Some(c) => self.append_chunk(c),
            None => Ok(()),
        }
    }

    /// Appends a chunk copied from another file (its body, already naming stream `id`; a chunk
    /// record or a sealed one), with that file's index entry; returns the record's length. The
    /// stream must have no open chunk, and the chunk must come after the stream's samples so
    /// far.
    pub(crate) fn copy_chunk(
        &mut self,
        id: StreamId,
        entry: &ChunkEntry,
        kind: RecordKind,
        body: &[u8],
    ) -> Result<u64> {
        self.check_open()?;
        let s = self.stream(id)?;
        crate::time::check_order(&s.info.name, s.last_t, &[entry.t_min])?;
        if s.open_rows() > 0 {
            return Err(mismatch(
                &s.info,
                "copying a chunk into a stream with an open chunk".into(),
            ));
        }
        if kind == RecordKind::SealedChunk && s.info.encryption.is_none() {
            return Err(mismatch(
                &s.info,
                "copying a sealed chunk into a stream that is not encrypted".into(),
            ));
        }
        let mut record = Vec::new();
        write_record(&mut record, kind, body);
        let before = self.offset;
        self.append_chunk(ReadyChunk {
            record,
            entry: ChunkEntry {
                stream_id: id.0,
                ..entry.clone()
            },
        })?;
        let st = &mut self.streams[id.0 as usize];
        st.last_t = Some(entry.t_max);
        st.samples += entry.rows;
        Ok(self.offset - before)
    }

    /// Appends a chunk record and indexes it, sealing it first when its stream is encrypted.
    fn append_chunk(&mut self, c: ReadyChunk) -> Result<()> {
        let c = self.seal_if_encrypted(c)?;
        let offset = self.offset;
        self.append(&c.record, "write chunk")?;
        if self.opts.fsync_chunks {
            if let Err(e) = self.file.sync_data() {
                let err = Error::io(&self.path, "sync chunk", e);
                self.state = State::Failed(err.to_string());
                return Err(err);
            }
        }
        self.index.push(ChunkEntry { offset, ..c.entry });
        Ok(())
    }

    /// The sealed form of a plain chunk record of an encrypted stream; other chunks as they are.
    fn seal_if_encrypted(&self, c: ReadyChunk) -> Result<ReadyChunk> {
        let st = &self.streams[c.entry.stream_id as usize];
        if c.record.first() != Some(&(RecordKind::Chunk as u8)) || st.info.encryption.is_none() {
            return Ok(c);
        }
        let Some(cipher) = &st.cipher else {
            return Err(Error::Encrypted {
                file: self.path.display().to_string(),
                stream: st.info.name.clone(),
            });
        };
        let header = ChunkHeader {
            stream_id: c.entry.stream_id,
            t_min: c.entry.t_min,
            t_max: c.entry.t_max,
            rows: c.entry.rows,
        };
        let body = &c.record[RECORD_HEADER_LEN..c.record.len() - 4];
        let sealed = cipher.seal_chunk(&header, body)?;
        let mut record = Vec::with_capacity(sealed.len() + RECORD_OVERHEAD);
        write_record(&mut record, RecordKind::SealedChunk, &sealed);
        Ok(ReadyChunk {
            entry: ChunkEntry {
                length: record.len() as u64,
                stats: cipher.seal_stats(&header, &c.entry.stats)?,
                ..c.entry
            },
            record,
        })
    }

    /// Appends bytes; on failure the writer refuses further writes, so the file never holds a
    /// record after a gap.
    fn append(&mut self, bytes: &[u8], op: &'static str) -> Result<()> {
        if let Err(e) = self.file.write_all(bytes) {
            let err = Error::io(&self.path, op, e);
            self.state = State::Failed(err.to_string());
            return Err(err);
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

impl Drop for EpisodeWriter {
    /// An unfinished writer finishes on drop (errors are lost; call `finish()` to see them).
    /// A failed one leaves the file as it is: every chunk before the failure is recoverable.
    fn drop(&mut self) {
        if matches!(self.state, State::Open) {
            let _ = self.finish_inner();
        }
    }
}

fn mismatch(info: &StreamInfo, detail: String) -> Error {
    Error::Mismatch {
        stream: info.name.clone(),
        detail,
    }
}

fn shape_of(info: &StreamInfo) -> Vec<usize> {
    match &info.kind {
        StreamKind::Signal { shape, .. } => shape.clone(),
        _ => Vec::new(),
    }
}

fn frame_desc(info: &StreamInfo) -> String {
    match &info.kind {
        StreamKind::Frames {
            width,
            height,
            pixel_format,
            ..
        } => format!("{width}x{height} {}", pixel_format.name()),
        _ => String::new(),
    }
}
