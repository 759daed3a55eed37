//! `signal` streams: fixed-shape numeric samples. On disk one buffer per element ("axis"), so
//! that each axis compresses as the smooth series it is; in Arrow a `FixedSizeList` per row.

use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, FixedSizeListArray, PrimitiveArray};
use arrow_schema::Field;

use crate::chunk::{ChunkView, EncodedBuffer};
use crate::codec::{CodecError, CodecOptions, PcoHint};
use crate::error::{Error, Result};
use crate::schema::{DType, Element};
use crate::with_dtype;

/// Samples of a signal stream waiting to become a chunk, row-major.
#[derive(Debug)]
pub(crate) struct SignalBuffer {
    pub(crate) t: Vec<i64>,
    dtype: DType,
    width: usize,
    /// A `Vec<T>` of the stream's element type.
    values: Box<dyn Any + Send + Sync>,
}

impl SignalBuffer {
    pub(crate) fn new(dtype: DType, width: usize) -> Self {
        let values: Box<dyn Any + Send + Sync> = with_dtype!(dtype, T => Box::new(Vec::<T>::new()));
        SignalBuffer {
            t: Vec::new(),
            dtype,
            width,
            values,
        }
    }

    /// The typed value vector, if `T` is the stream's element type.
    pub(crate) fn values_mut<T: Element>(&mut self) -> Option<&mut Vec<T>> {
        self.values.downcast_mut::<Vec<T>>()
    }

    pub(crate) fn dtype(&self) -> DType {
        self.dtype
    }

    pub(crate) fn value_bytes(&self) -> usize {
        self.t.len() * self.width * self.dtype.size()
    }

    pub(crate) fn clear(&mut self) {
        self.t.clear();
        with_dtype!(self.dtype, T => {
            if let Some(v) = self.values.downcast_mut::<Vec<T>>() {
                v.clear();
            }
        })
    }

    /// Appends one buffer per axis and returns the per-axis min/max statistics.
    pub(crate) fn encode(
        &self,
        opts: &CodecOptions,
        hints: &mut Vec<PcoHint>,
        out: &mut Vec<EncodedBuffer>,
    ) -> Result<Vec<u8>, CodecError> {
        with_dtype!(self.dtype, T => {
            let values = self
                .values
                .downcast_ref::<Vec<T>>()
                .ok_or_else(|| CodecError("signal buffer holds the wrong element type".into()))?;
            let mut axis = Vec::with_capacity(self.t.len());
            for j in 0..self.width {
                axis.clear();
                axis.extend(values.iter().skip(j).step_by(self.width).copied());
                let h = crate::kind::hint(hints, out.len());
                out.push(EncodedBuffer::numbers_hinted(&axis, opts, h)?);
            }
            Ok(signal_stats(values, self.width))
        })
    }
}

/// Per-axis minimum then maximum, in the element type, little-endian (NaN is ignored; an axis
/// of only NaN has NaN bounds). Empty input gives empty statistics.
pub(crate) fn signal_stats<T: Element>(values: &[T], width: usize) -> Vec<u8> {
    if values.is_empty() || width == 0 {
        return Vec::new();
    }
    let mut mins: Vec<T> = values[..width].to_vec();
    let mut maxs: Vec<T> = values[..width].to_vec();
    for row in values.chunks_exact(width) {
        for (j, &v) in row.iter().enumerate() {
            #[allow(clippy::eq_op)] // v != v is the NaN test that works for every T
            let is_nan = v != v;
            if is_nan {
                continue;
            }
            #[allow(clippy::eq_op)]
            let min_nan = mins[j] != mins[j];
            if min_nan || v < mins[j] {
                mins[j] = v;
            }
            #[allow(clippy::eq_op)]
            let max_nan = maxs[j] != maxs[j];
            if max_nan || v > maxs[j] {
                maxs[j] = v;
            }
        }
    }
    let mut out = Vec::with_capacity(2 * width * std::mem::size_of::<T>());
    out.extend_from_slice(bytemuck::cast_slice(&mins));
    out.extend_from_slice(bytemuck::cast_slice(&maxs));
    out
}

/// Rows of signal chunks gathered into one interleaved vector.
pub(crate) struct SignalAcc {
    dtype: DType,
    values: Box<dyn Any>,
}

impl SignalAcc {
    pub(crate) fn new(dtype: DType) -> Self {
        let values: Box<dyn Any> = with_dtype!(dtype, T => Box::new(Vec::<T>::new()));
        SignalAcc { dtype, values }
    }

    pub(crate) fn append(
        &mut self,
        view: &ChunkView<'_>,
        n: u64,
        width: usize,
        rows: Range<usize>,
    ) -> Result<()> {
        with_dtype!(self.dtype, T => {
            let out = self
                .values
                .downcast_mut::<Vec<T>>()
                .ok_or_else(|| view.malformed("internal: accumulator type".into()))?;
            append_rows::<T>(view, n, width, rows, out)
        })
    }

    /// The gathered values, if `T` is their element type.
    /// The values as little-endian bytes (the element type is `self.dtype`).
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        let dtype = self.dtype;
        with_dtype!(dtype, T => self
            .into_vec::<T>()
            .map(|v| bytemuck::cast_slice::<T, u8>(&v).to_vec())
            .unwrap_or_default())
    }

    pub(crate) fn into_vec<T: Element>(self) -> Option<Vec<T>> {
        self.values.downcast::<Vec<T>>().ok().map(|b| *b)
    }

    pub(crate) fn finish(self, width: usize) -> Result<ArrayRef> {
        with_dtype!(self.dtype, T => {
            let values = self
                .values
                .downcast::<Vec<T>>()
                .map_err(|_| Error::InvalidArgument("internal: accumulator type".into()))?;
            finish_typed::<T>(*values, width)
        })
    }
}

fn append_rows<T: Element>(
    view: &ChunkView<'_>,
    n: u64,
    width: usize,
    rows: Range<usize>,
    out: &mut Vec<T>,
) -> Result<()> {
    let base = out.len();
    out.resize(
        base + rows.len() * width,
        <T as bytemuck::Zeroable>::zeroed(),
    );
    for j in 0..width {
        let axis: Vec<T> = view.numbers(1 + j, n)?;
        let dst = &mut out[base..];
        for (r, &v) in axis[rows.clone()].iter().enumerate() {
            dst[r * width + j] = v;
        }
    }
    Ok(())
}

fn finish_typed<T: Element>(values: Vec<T>, width: usize) -> Result<ArrayRef> {
    let array = PrimitiveArray::<T::Arrow>::new(values.into(), None);
    let field = Arc::new(Field::new("item", T::DTYPE.arrow(), false));
    let list = FixedSizeListArray::try_new(field, width as i32, Arc::new(array), None)
        .map_err(|e| crate::kind::arrow_error("signal", e))?;
    Ok(Arc::new(list))
}
