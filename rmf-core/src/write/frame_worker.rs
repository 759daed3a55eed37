//! Background encoding of frame streams: one thread per frame stream, fed through a bounded
//! queue, so that `write_frame` costs a copy of the pixels, not an image or video encode.
//!
//! The worker owns the stream's open chunk (and so its video encoder) and hands finished chunk
//! records back; the writer appends them to the file on its own thread, so the file is only
//! ever written from one place. When the queue is full the caller either waits for room or gets
//! an error naming the stream and the queue depth ([`QueueFull`]): a frame is never dropped
//! without the caller knowing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::kind::OpenChunk;
use crate::schema::StreamInfo;
use crate::write::{build_chunk, ReadyChunk, MAX_CHUNK_DECODED_BYTES};
use rmf_codecs::column::{CodecOptions, PcoHint};

/// What `write_frame` does when a frame stream's encoder queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueFull {
    /// Wait until the encoder takes a frame (about one frame's encoding time when the encoder
    /// keeps up on average). Waits are counted in [`FrameQueueReport`].
    #[default]
    Block,
    /// Return [`Error::EncoderBehind`] at once; the frame is not written and the caller
    /// decides (retry, skip and log, slow down).
    Error,
}

/// How a frame stream's encoder queue fared, in [`crate::WriteSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameQueueReport {
    /// The stream.
    pub stream: String,
    /// Frames the queue holds at most.
    pub capacity: usize,
    /// Most frames waiting at once.
    pub peak: usize,
    /// Times a frame found the queue full.
    pub full: u64,
    /// Time `write_frame` spent waiting for room in all.
    pub waited: Duration,
}

enum Job {
    Frame {
        t: i64,
        pixels: Vec<u8>,
    },
    /// Close the open chunk now (flush rules, `flush()`, `finish()`); answered by `Flushed`.
    Flush,
}

enum Done {
    Chunk(ReadyChunk),
    Flushed,
    Failed(Error),
}

/// The writer's handle on one frame stream's encoder thread.
pub(crate) struct FrameWorker {
    jobs: Option<SyncSender<Job>>,
    /// In a mutex only to make the writer `Sync` (one thread uses it at a time).
    done: Mutex<Receiver<Done>>,
    thread: Option<JoinHandle<()>>,
    queued: Arc<AtomicUsize>,
    flushes_pending: usize,
    /// The first failure the worker reported and nobody was told of yet.
    error: Option<Error>,
    report: FrameQueueReport,
    policy: QueueFull,
}

impl FrameWorker {
    pub(crate) fn spawn(
        id: u32,
        info: &StreamInfo,
        codec: CodecOptions,
        chunk_bytes: usize,
        capacity: usize,
        policy: QueueFull,
    ) -> Result<Self> {
        let (jobs_tx, jobs_rx) = mpsc::sync_channel(capacity);
        let (done_tx, done_rx) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let worker = Worker {
            id,
            info: info.clone(),
            codec,
            chunk_bytes,
            open: OpenChunk::new(info),
            hints: Vec::new(),
            done: done_tx,
            queued: queued.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("rmf-encode {}", info.name))
            .spawn(move || worker.run(jobs_rx))
            .map_err(|e| {
                Error::Encode(format!(
                    "stream {:?}: cannot start its encoder thread: {e}",
                    info.name
                ))
            })?;
        Ok(FrameWorker {
            jobs: Some(jobs_tx),
            done: Mutex::new(done_rx),
            thread: Some(thread),
            queued,
            flushes_pending: 0,
            error: None,
            report: FrameQueueReport {
                stream: info.name.clone(),
                capacity,
                peak: 0,
                full: 0,
                waited: Duration::ZERO,
            },
            policy,
        })
    }

    /// Queues one frame (already checked for size and time order). An earlier frame's failure
    /// is returned first, and then this frame is not queued.
    pub(crate) fn send_frame(&mut self, t: i64, pixels: &[u8]) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let job = Job::Frame {
            t,
            pixels: pixels.to_vec(),
        };
        let jobs = self.jobs.as_ref().ok_or_else(|| self.stopped())?;
        // Count before sending: the worker decrements when it takes the frame.
        let depth = self.queued.fetch_add(1, Ordering::Relaxed) + 1;
        let sent = match jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job)) => {
                self.report.full += 1;
                match self.policy {
                    QueueFull::Error => {
                        self.queued.fetch_sub(1, Ordering::Relaxed);
                        return Err(Error::EncoderBehind {
                            stream: self.report.stream.clone(),
                            queued: self.report.capacity,
                        });
                    }
                    QueueFull::Block => {
                        let started = Instant::now();
                        let r = jobs.send(job).map_err(|_| ());
                        self.report.waited += started.elapsed();
                        r
                    }
                }
            }
            Err(TrySendError::Disconnected(_)) => Err(()),
        };
        if sent.is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(self.stopped());
        }
        self.report.peak = self.report.peak.max(depth.min(self.report.capacity));
        Ok(())
    }

    /// Asks the worker to close its open chunk. A stopped worker has nothing left to flush
    /// (its failure was reported when it stopped).
    pub(crate) fn request_flush(&mut self) {
        if let Some(jobs) = &self.jobs {
            if jobs.send(Job::Flush).is_ok() {
                self.flushes_pending += 1;
            } else {
                self.jobs = None;
            }
        }
    }

    /// Finished chunks, in the order the worker made them, into `out`. With `wait`, waits until
    /// every flush asked for so far is done. A failure the worker reports (a frame it could not
    /// encode, which is in no chunk) is kept for [`FrameWorker::take_error`].
    pub(crate) fn take_chunks(&mut self, wait: bool, out: &mut Vec<ReadyChunk>) {
        let mut first_error = self.error.take();
        let done = match self.done.lock() {
            Ok(d) => d,
            Err(p) => p.into_inner(),
        };
        loop {
            let msg = if wait && self.flushes_pending > 0 {
                done.recv().ok()
            } else {
                done.try_recv().ok()
            };
            match msg {
                Some(Done::Chunk(c)) => out.push(c),
                Some(Done::Flushed) => self.flushes_pending -= 1,
                Some(Done::Failed(e)) => {
                    first_error.get_or_insert(e);
                }
                None => break,
            }
        }
        drop(done);
        if self.flushes_pending > 0 && wait {
            // The channel closed with flushes outstanding: the thread is gone.
            self.flushes_pending = 0;
            first_error.get_or_insert_with(|| self.stopped());
        }
        self.error = first_error;
    }

    /// The first failure not reported yet.
    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }

    /// Stops the thread after the queued jobs; call after the last flush was taken.
    pub(crate) fn stop(&mut self) -> FrameQueueReport {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.report.clone()
    }

    pub(crate) fn report(&self) -> FrameQueueReport {
        self.report.clone()
    }

    fn stopped(&self) -> Error {
        Error::Encode(format!(
            "stream {:?}: its encoder thread stopped; frames sent after its last chunk were not written",
            self.report.stream
        ))
    }
}

impl Drop for FrameWorker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The encoder thread's side.
struct Worker {
    id: u32,
    info: StreamInfo,
    codec: CodecOptions,
    chunk_bytes: usize,
    open: OpenChunk,
    hints: Vec<PcoHint>,
    done: mpsc::Sender<Done>,
    queued: Arc<AtomicUsize>,
}

impl Worker {
    fn run(mut self, jobs: Receiver<Job>) {
        for job in jobs {
            let step = match job {
                Job::Frame { t, pixels } => {
                    self.queued.fetch_sub(1, Ordering::Relaxed);
                    self.frame(t, &pixels)
                }
                Job::Flush => self.close_chunk().map(|()| {
                    let _ = self.done.send(Done::Flushed);
                }),
            };
            if let Err(e) = step {
                // The writer reports it at its next call; the encoder goes on with the next
                // frame (a frame that failed to encode is not a reference for later ones).
                let _ = self.done.send(Done::Failed(e));
            }
        }
    }

    fn frame(&mut self, t: i64, pixels: &[u8]) -> Result<()> {
        let OpenChunk::Frames(b) = &mut self.open else {
            return Err(Error::Encode(format!(
                "stream {:?} is not a frame stream",
                self.info.name
            )));
        };
        b.push(t, pixels, &self.codec, &self.info)
            .map_err(|e| Error::Mismatch {
                stream: self.info.name.clone(),
                detail: format!("the frame at t = {t} ns was not written: {}", e.0),
            })?;
        // The same size rules as the writer's own (see `EpisodeWriter::after_rows`).
        let frame = 8 + self.info.frame_bytes() as u64;
        let rows = self.open.times().len() as u64;
        if self.open.buffered_bytes() >= self.chunk_bytes
            || (rows + 1) * frame > MAX_CHUNK_DECODED_BYTES
        {
            self.close_chunk()?;
        }
        Ok(())
    }

    fn close_chunk(&mut self) -> Result<()> {
        if let Some(c) = build_chunk(
            self.id,
            &self.info,
            &self.open,
            &self.codec,
            &mut self.hints,
        )? {
            let _ = self.done.send(Done::Chunk(c));
        }
        self.open.clear();
        Ok(())
    }
}
