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
mod flush;
mod frame_worker;
mod options;
mod samples;

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
                    "create (the file exists: remove it, or ask to overwrite it: --overwrite, overwrite=True)",
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
            .ok_or_else(|| self.unknown_stream(name.to_string()))
    }

    /// The declaration of a stream.
    pub fn stream_info(&self, id: StreamId) -> Option<&StreamInfo> {
        self.streams.get(id.0 as usize).map(|s| &s.info)
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

    /// The error for a stream this writer does not have, listing those it has.
    fn unknown_stream(&self, name: String) -> Error {
        let known: Vec<&str> = self.streams.iter().map(|s| s.info.name.as_str()).collect();
        Error::UnknownStream {
            name,
            known: known.join(", "),
        }
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
            .ok_or_else(|| self.unknown_stream(format!("#{}", id.0)))
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
