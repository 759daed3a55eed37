//! `audio` streams: PCM blocks. A block is stamped with the time of its first sample; sample `i`
//! of a block stamped `t` is at `t + i * 1e9 / sample_rate` ns. On disk one buffer per channel
//! (planar, so each channel compresses as one waveform); in Arrow a list of interleaved samples
//! per block.
//!
//! Buffers: 0 timestamps, 1 block lengths in frames (u32), 2.. one per channel.

use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, ListArray, PrimitiveArray};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::Field;

use crate::chunk::{ChunkView, EncodedBuffer};
use crate::error::{Error, Result};
use crate::schema::{StreamInfo, StreamKind};
use rmf_codecs::column::{CodecOptions, PcoHint};
use rmf_codecs::with_dtype;
use rmf_codecs::CodecError;
use rmf_codecs::{DType, Element};

/// One block of audio as read back: its start time and interleaved samples.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioBlock<T> {
    /// Time of the first sample, ns.
    pub t: i64,
    /// Interleaved samples (`frames * channels`).
    pub samples: Vec<T>,
}

/// Blocks waiting to become a chunk, interleaved as written.
#[derive(Debug)]
pub(crate) struct AudioBuffer {
    pub(crate) t: Vec<i64>,
    pub(crate) lens: Vec<u32>,
    /// Sum of `lens`, kept so that the flush check costs O(1).
    frames: usize,
    dtype: DType,
    channels: usize,
    samples: Box<dyn Any + Send + Sync>,
}

impl AudioBuffer {
    pub(crate) fn new(dtype: DType, channels: usize) -> Self {
        let samples: Box<dyn Any + Send + Sync> =
            with_dtype!(dtype, T => Box::new(Vec::<T>::new()));
        AudioBuffer {
            t: Vec::new(),
            lens: Vec::new(),
            frames: 0,
            dtype,
            channels,
            samples,
        }
    }

    pub(crate) fn samples_mut<T: Element>(&mut self) -> Option<&mut Vec<T>> {
        self.samples.downcast_mut::<Vec<T>>()
    }

    pub(crate) fn dtype(&self) -> DType {
        self.dtype
    }

    pub(crate) fn sample_bytes(&self) -> usize {
        self.frames * self.channels * self.dtype.size()
    }

    /// Records one block of `frames` frames (the samples are pushed by the caller).
    pub(crate) fn push_block(&mut self, t: i64, frames: u32) {
        self.t.push(t);
        self.lens.push(frames);
        self.frames += frames as usize;
    }

    pub(crate) fn clear(&mut self) {
        self.t.clear();
        self.lens.clear();
        self.frames = 0;
        with_dtype!(self.dtype, T => {
            if let Some(v) = self.samples.downcast_mut::<Vec<T>>() {
                v.clear();
            }
        })
    }

    pub(crate) fn encode(
        &self,
        opts: &CodecOptions,
        hints: &mut Vec<PcoHint>,
        out: &mut Vec<EncodedBuffer>,
    ) -> Result<(), CodecError> {
        out.push(EncodedBuffer::numbers(&self.lens, opts)?);
        with_dtype!(self.dtype, T => {
            let samples = self
                .samples
                .downcast_ref::<Vec<T>>()
                .ok_or_else(|| CodecError("audio buffer holds the wrong element type".into()))?;
            let mut plane = Vec::with_capacity(samples.len() / self.channels.max(1));
            for c in 0..self.channels {
                plane.clear();
                plane.extend(samples.iter().skip(c).step_by(self.channels).copied());
                let h = crate::kind::hint(hints, out.len());
                out.push(EncodedBuffer::numbers_hinted(&plane, opts, h)?);
            }
            Ok(())
        })
    }
}

/// Blocks of audio chunks gathered into one list array.
pub(crate) struct AudioAcc {
    dtype: DType,
    offsets: Vec<i32>,
    samples: Box<dyn Any>,
}

impl AudioAcc {
    pub(crate) fn new(dtype: DType) -> Self {
        let samples: Box<dyn Any> = with_dtype!(dtype, T => Box::new(Vec::<T>::new()));
        AudioAcc {
            dtype,
            offsets: vec![0],
            samples,
        }
    }

    pub(crate) fn append(
        &mut self,
        view: &ChunkView<'_>,
        n: u64,
        info: &StreamInfo,
        rows: Range<usize>,
    ) -> Result<()> {
        let channels = match &info.kind {
            StreamKind::Audio { channels, .. } => *channels as usize,
            _ => return Err(view.malformed("internal: not an audio stream".into())),
        };
        let lens: Vec<u32> = view.numbers(1, n)?;
        let total: u64 = lens.iter().map(|&l| l as u64).sum();
        with_dtype!(self.dtype, T => {
            let out = self
                .samples
                .downcast_mut::<Vec<T>>()
                .ok_or_else(|| view.malformed("internal: accumulator type".into()))?;
            let first: usize = lens[..rows.start].iter().map(|&l| l as usize).sum();
            let frames: usize = lens[rows.clone()].iter().map(|&l| l as usize).sum();
            let base = out.len();
            out.resize(base + frames * channels, <T as bytemuck::Zeroable>::zeroed());
            for c in 0..channels {
                let plane: Vec<T> = view.numbers(2 + c, total)?;
                for (i, &v) in plane[first..first + frames].iter().enumerate() {
                    out[base + i * channels + c] = v;
                }
            }
        });
        let mut last = self.offsets.last().copied().unwrap_or(0) as i64;
        for &l in &lens[rows] {
            last += l as i64 * channels as i64;
            let off = i32::try_from(last).map_err(|_| Error::Mismatch {
                stream: info.name.clone(),
                detail: "more than 2^31 samples in one read; read a shorter time range".into(),
            })?;
            self.offsets.push(off);
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<ArrayRef> {
        with_dtype!(self.dtype, T => {
            let samples = self
                .samples
                .downcast::<Vec<T>>()
                .map_err(|_| Error::InvalidArgument("internal: accumulator type".into()))?;
            finish_typed::<T>(*samples, self.offsets)
        })
    }
}

fn finish_typed<T: Element>(samples: Vec<T>, offsets: Vec<i32>) -> Result<ArrayRef> {
    let values = PrimitiveArray::<T::Arrow>::new(ScalarBuffer::from(samples), None);
    let field = Arc::new(Field::new("item", T::DTYPE.arrow(), false));
    let list = ListArray::try_new(
        field,
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Arc::new(values),
        None,
    )
    .map_err(|e| crate::kind::arrow_error("audio", e))?;
    Ok(Arc::new(list))
}
