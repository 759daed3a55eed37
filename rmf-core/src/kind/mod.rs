//! Stream kinds: how each kind's samples are buffered by the writer, laid out as chunk buffers,
//! and read back as Arrow arrays. Buffer 0 of every chunk is the int64 timestamp column; the
//! rest are per kind (spec/streams.md).

mod audio;
mod events;
mod frames;
mod signal;

use std::ops::Range;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};

pub use audio::AudioBlock;
pub use events::Event;
pub(crate) use frames::{stored as stored_frames, FramesBuffer};
pub(crate) use signal::{signal_stats, SignalBuffer};

use crate::chunk::{ChunkView, EncodedBuffer};
use crate::error::{Error, Result};
use crate::schema::{StreamInfo, StreamKind};
use rmf_codecs::column::{CodecOptions, PcoHint};

/// Samples of one stream waiting to become a chunk.
#[derive(Debug)]
pub(crate) enum OpenChunk {
    Signal(SignalBuffer),
    Frames(FramesBuffer),
    Audio(audio::AudioBuffer),
    Events(events::EventsBuffer),
}

impl OpenChunk {
    pub(crate) fn new(info: &StreamInfo) -> Self {
        match &info.kind {
            StreamKind::Signal { dtype, .. } => {
                OpenChunk::Signal(SignalBuffer::new(*dtype, info.signal_width()))
            }
            StreamKind::Frames { .. } => OpenChunk::Frames(FramesBuffer::new(info)),
            StreamKind::Audio {
                dtype, channels, ..
            } => OpenChunk::Audio(audio::AudioBuffer::new(*dtype, *channels as usize)),
            StreamKind::Events => OpenChunk::Events(events::EventsBuffer::default()),
        }
    }

    pub(crate) fn times(&self) -> &[i64] {
        match self {
            OpenChunk::Signal(b) => &b.t,
            OpenChunk::Frames(b) => &b.t,
            OpenChunk::Audio(b) => &b.t,
            OpenChunk::Events(b) => &b.t,
        }
    }

    /// Bytes held in memory, the measure the flush policy bounds.
    pub(crate) fn buffered_bytes(&self) -> usize {
        let t = self.times().len() * 8;
        t + match self {
            OpenChunk::Signal(b) => b.value_bytes(),
            OpenChunk::Frames(b) => b.payload.len() + b.lens.len() * 8,
            OpenChunk::Audio(b) => b.sample_bytes() + b.lens.len() * 4,
            OpenChunk::Events(b) => b.text_bytes(),
        }
    }

    /// The chunk's statistics bytes and buffers.
    /// `hints` holds the stream's pco choices per buffer, reused across its chunks.
    pub(crate) fn encode(
        &self,
        opts: &CodecOptions,
        hints: &mut Vec<PcoHint>,
    ) -> Result<(Vec<u8>, Vec<EncodedBuffer>)> {
        let wrap = |e: rmf_codecs::CodecError| Error::Encode(e.0);
        let mut buffers =
            vec![EncodedBuffer::times(self.times(), opts, hint(hints, 0)).map_err(wrap)?];
        let stats = match self {
            OpenChunk::Signal(b) => b.encode(opts, hints, &mut buffers).map_err(wrap)?,
            OpenChunk::Frames(b) => {
                b.encode(opts, &mut buffers).map_err(wrap)?;
                Vec::new()
            }
            OpenChunk::Audio(b) => {
                b.encode(opts, hints, &mut buffers).map_err(wrap)?;
                Vec::new()
            }
            OpenChunk::Events(b) => {
                b.encode(opts, &mut buffers).map_err(wrap)?;
                Vec::new()
            }
        };
        Ok((stats, buffers))
    }

    pub(crate) fn clear(&mut self) {
        match self {
            OpenChunk::Signal(b) => b.clear(),
            OpenChunk::Frames(b) => b.clear(),
            OpenChunk::Audio(b) => b.clear(),
            OpenChunk::Events(b) => b.clear(),
        }
    }
}

/// Statistics bytes a chunk of this stream carries.
pub(crate) fn expected_stats_len(info: &StreamInfo, rows: u64) -> usize {
    match &info.kind {
        StreamKind::Signal { dtype, .. } if rows > 0 => 2 * info.signal_width() * dtype.size(),
        _ => 0,
    }
}

/// The size of a chunk's samples in Arrow form, the `decoded_bytes` of its index entry: the sum
/// of the decoded buffer sizes, except that frames count as `rows * (8 + frame_bytes)`
/// (timestamps plus decoded pixels: their payloads are stored compressed).
pub(crate) fn chunk_decoded_bytes(info: &StreamInfo, view: &ChunkView<'_>) -> u64 {
    let rows = view.header.rows;
    match &info.kind {
        StreamKind::Frames { .. } => rows * (8 + info.frame_bytes() as u64),
        _ => view.decoded_len(),
    }
}

/// The pco hint of buffer `i`, created on first use.
pub(crate) fn hint(hints: &mut Vec<PcoHint>, i: usize) -> &mut PcoHint {
    if hints.len() <= i {
        hints.resize_with(i + 1, PcoHint::default);
    }
    &mut hints[i]
}

/// Decodes the timestamp column of a chunk and checks it against the chunk header.
pub(crate) fn decode_times(view: &ChunkView<'_>) -> Result<Vec<i64>> {
    let t: Vec<i64> = view.numbers(0, view.header.rows)?;
    if let (Some(first), Some(last)) = (t.first(), t.last()) {
        if *first != view.header.t_min || *last != view.header.t_max {
            return Err(view.malformed(format!(
                "timestamps run {first}..{last} but the header says {}..{}",
                view.header.t_min, view.header.t_max
            )));
        }
    }
    if let Some(w) = t.windows(2).position(|w| w[1] < w[0]) {
        return Err(view.malformed(format!(
            "timestamps decrease at row {}: {} after {}",
            w + 1,
            t[w + 1],
            t[w]
        )));
    }
    Ok(t)
}

/// Builds one Arrow batch from row ranges of one or more chunks of a stream.
pub(crate) struct BatchBuilder<'s> {
    info: &'s StreamInfo,
    t: Vec<i64>,
    data: KindAcc,
}

enum KindAcc {
    Signal(signal::SignalAcc),
    Frames(Vec<u8>),
    Audio(audio::AudioAcc),
    Events(events::EventsAcc),
}

impl<'s> BatchBuilder<'s> {
    pub(crate) fn new(info: &'s StreamInfo) -> Self {
        let data = match &info.kind {
            StreamKind::Signal { dtype, .. } => KindAcc::Signal(signal::SignalAcc::new(*dtype)),
            StreamKind::Frames { .. } => KindAcc::Frames(Vec::new()),
            StreamKind::Audio { dtype, .. } => KindAcc::Audio(audio::AudioAcc::new(*dtype)),
            StreamKind::Events => KindAcc::Events(events::EventsAcc::default()),
        };
        BatchBuilder {
            info,
            t: Vec::new(),
            data,
        }
    }

    /// Sets aside room for `rows` more timestamps and about `bytes` more of values, failing
    /// with [`Error::OutOfMemory`] instead of aborting (the sizes come from the file's index).
    /// Audio and events grow as they go.
    pub(crate) fn try_reserve(&mut self, rows: u64, bytes: u64) -> Result<()> {
        let oom = |what: &str, n: u64| Error::OutOfMemory {
            what: format!("{what} of stream {:?}", self.info.name),
            bytes: n,
        };
        let rows_n =
            usize::try_from(rows).map_err(|_| oom("timestamps", rows.saturating_mul(8)))?;
        self.t
            .try_reserve_exact(rows_n)
            .map_err(|_| oom("timestamps", rows.saturating_mul(8)))?;
        let bytes_n = usize::try_from(bytes).map_err(|_| oom("samples", bytes))?;
        match &mut self.data {
            KindAcc::Frames(out) => out
                .try_reserve_exact(bytes_n)
                .map_err(|_| oom("frames", bytes))?,
            KindAcc::Signal(acc) => acc.try_reserve(bytes_n).map_err(|_| oom("values", bytes))?,
            KindAcc::Audio(_) | KindAcc::Events(_) => {}
        }
        Ok(())
    }

    /// Appends rows `rows` of a chunk whose timestamps are `times`.
    pub(crate) fn append(
        &mut self,
        view: &ChunkView<'_>,
        times: &[i64],
        rows: Range<usize>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let n = view.header.rows;
        match &mut self.data {
            KindAcc::Signal(acc) => acc.append(view, n, self.info.signal_width(), rows.clone())?,
            KindAcc::Frames(out) => frames::append(view, n, self.info, rows.clone(), out)?,
            KindAcc::Audio(acc) => acc.append(view, n, self.info, rows.clone())?,
            KindAcc::Events(acc) => acc.append(view, n, rows.clone())?,
        }
        self.t.extend_from_slice(&times[rows]);
        Ok(())
    }

    /// Signal rows as plain vectors (timestamps, row-major values), without Arrow.
    pub(crate) fn into_signal<T: rmf_codecs::Element>(self) -> Option<(Vec<i64>, Vec<T>)> {
        match self.data {
            KindAcc::Signal(acc) => acc.into_vec::<T>().map(|v| (self.t, v)),
            _ => None,
        }
    }

    /// Signal or frame rows as bytes (timestamps, each row's elements or pixels back to back,
    /// little-endian), without Arrow; `None` for other kinds.
    pub(crate) fn into_row_bytes(self) -> Option<(Vec<i64>, Vec<u8>)> {
        match self.data {
            KindAcc::Signal(acc) => Some((self.t, acc.into_bytes())),
            KindAcc::Frames(bytes) => Some((self.t, bytes)),
            _ => None,
        }
    }

    /// Frames as plain vectors (timestamps, decoded pixels back to back), without Arrow.
    pub(crate) fn into_frames(self) -> Option<(Vec<i64>, Vec<u8>)> {
        match self.data {
            KindAcc::Frames(bytes) => Some((self.t, bytes)),
            _ => None,
        }
    }

    pub(crate) fn finish(self) -> Result<RecordBatch> {
        let schema = self.info.arrow_schema();
        let t: ArrayRef = std::sync::Arc::new(Int64Array::from(self.t));
        let mut columns = vec![t];
        match self.data {
            KindAcc::Signal(acc) => columns.push(acc.finish(self.info.signal_width())?),
            KindAcc::Frames(bytes) => columns.push(frames::finish(bytes, self.info.frame_bytes())?),
            KindAcc::Audio(acc) => columns.push(acc.finish()?),
            KindAcc::Events(acc) => columns.extend(acc.finish()?),
        }
        RecordBatch::try_new(schema, columns).map_err(|e| arrow_error(&self.info.name, e))
    }
}

pub(crate) fn arrow_error(stream: &str, e: arrow_schema::ArrowError) -> Error {
    Error::Mismatch {
        stream: stream.to_string(),
        detail: format!("building Arrow arrays: {e}"),
    }
}
