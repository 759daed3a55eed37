//! How a writer writes: chunk sizes, codec levels, the frame queue, the key.

use crate::crypt::Secret;
use crate::progress::Progress;
use crate::write::QueueFull;
use rmf_codecs::column::CodecOptions;

use crate::error::{Error, Result};

/// Largest decoded size (samples in Arrow form) the writer puts in one chunk, whatever the
/// options: well under the reader's default limit ([`crate::DEFAULT_MAX_CHUNK_BYTES`], 1 GiB),
/// so that every file this writer makes reads with default options. Matters for frames, whose
/// buffered (compressed) size can be thousands of times smaller than their pixels.
pub const MAX_CHUNK_DECODED_BYTES: u64 = 256 << 20;

/// Default flush size of an open chunk: 4 MiB of buffered samples.
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;
/// Default longest time span of a chunk: 4 s of episode clock. A chunk older than this is
/// flushed as soon as any stream's clock passes it, so at most this much of a stream is at risk
/// in a crash. Shorter chunks of a 100 Hz stream hold too few values for the numeric codecs to
/// beat plain zstd (measured on real IMU logs: benches/README.md, "Numbers behind the defaults"). Event streams are flushed at every event
/// regardless (see [`WriteOptions::flush_events`]).
pub const DEFAULT_CHUNK_DURATION_NS: i64 = 4_000_000_000;

/// Default depth of a frame stream's encoder queue: 8 frames (7.4 MB of 640x480 RGB, a quarter
/// second at 30 fps) absorb an encoder hiccup without holding up the caller.
pub const DEFAULT_FRAME_QUEUE: usize = 8;

/// How the writer compresses and when it flushes: [`WriteOptions::default`] and its `with_`
/// setters (fields are private so that new options never break a caller).
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOptions {
    /// Compression levels.
    pub(crate) codec: CodecOptions,
    /// Flush a stream's open chunk when it buffers this many bytes.
    pub(crate) chunk_bytes: usize,
    /// Flush a stream's open chunk when it spans this much time (ns).
    pub(crate) chunk_duration_ns: i64,
    /// `fsync` after every chunk, so that chunks also survive a power cut (costs one sync per
    /// chunk). `finish()` always syncs.
    pub(crate) fsync_chunks: bool,
    /// Replace an existing file instead of refusing.
    pub(crate) overwrite: bool,
    /// Write every event to the file as its own chunk at once: events are rare and are the
    /// most valuable record of a session (interventions), so none waits in memory.
    pub(crate) flush_events: bool,
    /// Frames each frame stream may queue for its encoder thread; 0 encodes in the caller's
    /// thread instead (no threads; the file's chunk order is then fully deterministic).
    pub(crate) frame_queue: usize,
    /// What `write_frame` does when the queue is full.
    pub(crate) queue_full: QueueFull,
    /// Encrypts every private stream under this key or passphrase (spec/encryption.md).
    /// Without it, private streams are labelled but stored in the clear.
    pub(crate) secret: Option<Secret>,
    /// Told the bytes of input done by operations that write a file from others (edits,
    /// transcoding, sharing); a recording writer has no total and never calls it.
    pub(crate) progress: Option<Progress>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            codec: CodecOptions::default(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            chunk_duration_ns: DEFAULT_CHUNK_DURATION_NS,
            fsync_chunks: false,
            overwrite: false,
            flush_events: true,
            frame_queue: DEFAULT_FRAME_QUEUE,
            queue_full: QueueFull::Block,
            secret: None,
            progress: None,
        }
    }
}

impl WriteOptions {
    /// Sets the zstd level (frames, text).
    pub fn with_zstd_level(mut self, level: i32) -> Self {
        self.codec.zstd_level = level;
        self
    }

    /// Sets the pco level (numbers), 0..=12.
    pub fn with_pco_level(mut self, level: usize) -> Self {
        self.codec.pco_level = level;
        self
    }

    /// Sets the flush size.
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes;
        self
    }

    /// Sets the longest chunk time span.
    pub fn with_chunk_duration_ns(mut self, ns: i64) -> Self {
        self.chunk_duration_ns = ns;
        self
    }

    /// Syncs after every chunk.
    pub fn with_fsync_chunks(mut self, on: bool) -> Self {
        self.fsync_chunks = on;
        self
    }

    /// Whether events are written at once (default) or chunked like other streams.
    pub fn with_flush_events(mut self, on: bool) -> Self {
        self.flush_events = on;
        self
    }

    /// Sets the encoder queue depth of frame streams (0: encode in the caller's thread).
    pub fn with_frame_queue(mut self, frames: usize) -> Self {
        self.frame_queue = frames;
        self
    }

    /// Sets what `write_frame` does when an encoder queue is full.
    pub fn with_queue_full(mut self, policy: QueueFull) -> Self {
        self.queue_full = policy;
        self
    }

    /// Encrypts private streams under `secret`.
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Reports progress of an edit to `progress`.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Allows replacing an existing file.
    pub fn with_overwrite(mut self, on: bool) -> Self {
        self.overwrite = on;
        self
    }

    /// Compression levels.
    pub fn codec(&self) -> &CodecOptions {
        &self.codec
    }

    /// Flush size of an open chunk, bytes.
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_bytes
    }

    /// Longest time span of a chunk, ns.
    pub fn chunk_duration_ns(&self) -> i64 {
        self.chunk_duration_ns
    }

    /// Whether every chunk is synced.
    pub fn fsync_chunks(&self) -> bool {
        self.fsync_chunks
    }

    /// Whether an existing file may be replaced.
    pub fn overwrite(&self) -> bool {
        self.overwrite
    }

    /// Whether events are written at once.
    pub fn flush_events(&self) -> bool {
        self.flush_events
    }

    /// Encoder queue depth of frame streams.
    pub fn frame_queue(&self) -> usize {
        self.frame_queue
    }

    /// What `write_frame` does when an encoder queue is full.
    pub fn queue_full(&self) -> QueueFull {
        self.queue_full
    }

    /// The key or passphrase private streams are encrypted under, if any.
    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }

    /// The progress callback of an edit, if any.
    pub fn progress(&self) -> Option<&Progress> {
        self.progress.as_ref()
    }

    /// Reader settings that open what this writer seals (its secret, if any): how an edit
    /// reads its input.
    pub fn read_options(&self) -> crate::ReadOptions {
        match &self.secret {
            Some(s) => crate::ReadOptions::default().with_secret(s.clone()),
            None => crate::ReadOptions::default(),
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if !(-7..=22).contains(&self.codec.zstd_level) {
            return Err(Error::InvalidArgument(format!(
                "zstd level {} is outside -7..=22",
                self.codec.zstd_level
            )));
        }
        if self.codec.pco_level > 12 {
            return Err(Error::InvalidArgument(format!(
                "pco level {} is outside 0..=12",
                self.codec.pco_level
            )));
        }
        if self.chunk_bytes == 0 || self.chunk_duration_ns <= 0 {
            return Err(Error::InvalidArgument(
                "chunk_bytes and chunk_duration_ns must be positive".into(),
            ));
        }
        Ok(())
    }
}
