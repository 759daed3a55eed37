//! [`Stream`]: one stream of an open episode, looked up by name once and then read by time.

use std::ops::{Deref, RangeBounds};

use arrow_array::RecordBatch;

use super::{EpisodeReader, SampleRef, StreamSummary};
use crate::error::Result;
use crate::kind::{decode_times, BatchBuilder};
use crate::schema::StreamInfo;
use crate::time::{covered, Nanos};

/// A stream of an open episode: [`EpisodeReader::stream`] finds it by name once, then every
/// read goes straight to its chunks. It dereferences to the stream's [`StreamInfo`], so
/// `reader.stream("ft")?.kind` reads the declaration.
///
/// ```
/// # use rmf_core::*;
/// # fn main() -> rmf_core::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("rmf-doc-stream-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("ep.rmf");
/// # let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default().with_overwrite(true))?;
/// # let ft = w.add_stream(StreamInfo::signal("ft", DType::Float32, &[6]))?;
/// # for i in 0..100i64 { w.write_signal(ft, i * 1_000_000, &[i as f32; 6])?; }
/// # w.finish()?;
/// let r = EpisodeReader::open(&path)?;
/// let ft = r.stream("ft")?;
/// assert_eq!(ft.range(10_000_000..20_000_000)?.num_rows(), 10); // 10 ms <= t < 20 ms
/// assert_eq!(ft.range(..)?.num_rows(), 100);
/// assert_eq!(ft.summary().count, 100);
/// let last = ft.find_at(42_500_000)?.expect("a sample at or before t");
/// assert_eq!(last.t, 42_000_000);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct Stream<'r> {
    reader: &'r EpisodeReader,
    s: usize,
}

impl std::fmt::Debug for Stream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("name", &self.info().name)
            .field("position", &self.s)
            .finish()
    }
}

impl Deref for Stream<'_> {
    type Target = StreamInfo;

    fn deref(&self) -> &StreamInfo {
        self.info()
    }
}

impl<'r> Stream<'r> {
    pub(super) fn new(reader: &'r EpisodeReader, s: usize) -> Self {
        Stream { reader, s }
    }

    /// The stream's declaration.
    pub fn info(&self) -> &'r StreamInfo {
        &self.reader.streams[self.s]
    }

    /// Its position in [`EpisodeReader::streams`] (what the row-level methods take).
    pub fn position(&self) -> usize {
        self.s
    }

    /// What the chunk index says about it (no chunk is read).
    pub fn summary(&self) -> StreamSummary {
        self.reader.summary_of(self.s)
    }

    /// Positions in [`EpisodeReader::chunks`] of its chunks, in time order.
    pub fn chunks(&self) -> &'r [usize] {
        self.reader.chunks_of(self.s)
    }

    /// Whether its samples can be read here (false for an encrypted stream without its key).
    pub fn is_readable(&self) -> bool {
        self.reader.ciphers[self.s].is_some() || self.info().encryption.is_none()
    }

    /// Samples whose time lies in `range` (`a..b`, `a..=b`, `a..`, `..`), as one Arrow batch
    /// (schema: [`StreamInfo::arrow_schema`]).
    pub fn range(&self, range: impl RangeBounds<Nanos>) -> Result<RecordBatch> {
        match covered(range) {
            Some(r) => self.reader.gather(self.s, r)?.finish(),
            None => BatchBuilder::new(self.info()).finish(),
        }
    }

    /// The last sample at or before `t` (as-of), as a one-row batch; `None` before the first.
    pub fn at(&self, t: Nanos) -> Result<Option<RecordBatch>> {
        match self.find_at(t)? {
            Some(r) => self.read(r).map(Some),
            None => Ok(None),
        }
    }

    /// The sample nearest to `t` (the earlier one on a tie), as a one-row batch.
    pub fn nearest(&self, t: Nanos) -> Result<Option<RecordBatch>> {
        match self.find_nearest(t)? {
            Some(r) => self.read(r).map(Some),
            None => Ok(None),
        }
    }

    /// Where the last sample at or before `t` is.
    pub fn find_at(&self, t: Nanos) -> Result<Option<SampleRef>> {
        self.reader.locate_at(self.s, t)
    }

    /// Where the sample nearest to `t` is.
    pub fn find_nearest(&self, t: Nanos) -> Result<Option<SampleRef>> {
        self.reader.locate_nearest(self.s, t)
    }

    /// One sample found by [`Stream::find_at`] or [`Stream::find_nearest`], as a one-row batch.
    pub fn read(&self, r: SampleRef) -> Result<RecordBatch> {
        self.reader.read_sample(self.s, r)
    }

    /// Every timestamp (decodes only the timestamp buffers).
    pub fn times(&self) -> Result<Vec<Nanos>> {
        self.reader.stream_times(self.s)
    }

    /// One chunk's samples at a time, in time order.
    pub fn iter(&self) -> impl Iterator<Item = Result<RecordBatch>> + 'r {
        let (reader, s) = (self.reader, self.s);
        reader.per_stream[s].iter().map(move |&i| {
            reader.with_chunk(i, |view| {
                let times = decode_times(view)?;
                let mut b = BatchBuilder::new(&reader.streams[s]);
                b.append(view, &times, 0..times.len())?;
                b.finish()
            })
        })
    }
}
