//! `signal` streams: fixed-shape numeric samples. On disk one buffer per element ("axis"), so
//! that each axis compresses as the smooth series it is; in Arrow a `FixedSizeList` per row.

use std::any::Any;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, FixedSizeListArray, PrimitiveArray};
use arrow_schema::Field;

use crate::chunk::{ChunkView, EncodedBuffer};
use crate::error::{Error, Result};
use rmf_codecs::column::{CodecOptions, PcoHint};
use rmf_codecs::with_dtype;
use rmf_codecs::CodecError;
use rmf_codecs::{DType, Element};

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
            // Columns in one pass over the rows, then statistics per contiguous column: the
            // row-wise statistics loop and a strided gather per axis took 5-7 % of the writer's
            // time on the signal benchmark.
            let columns = transpose(values, self.width);
            let rows = values.len().checked_div(self.width).unwrap_or(0);
            let mut mins = Vec::with_capacity(self.width);
            let mut maxs = Vec::with_capacity(self.width);
            for j in 0..self.width {
                let axis = &columns[j * rows..(j + 1) * rows];
                let h = crate::kind::hint(hints, out.len());
                out.push(EncodedBuffer::numbers_hinted(axis, opts, h)?);
                if let Some((lo, hi)) = min_max(axis) {
                    mins.push(lo);
                    maxs.push(hi);
                }
            }
            Ok(stats_bytes(&mins, &maxs))
        })
    }
}

/// Row-major `values` (`width` per row) as columns back to back.
fn transpose<T: Element>(values: &[T], width: usize) -> Vec<T> {
    let mut columns = Vec::with_capacity(values.len());
    for j in 0..width {
        columns.extend(values.chunks_exact(width).map(|row| row[j]));
    }
    columns
}

/// Minimum and maximum of `values` ignoring NaN (NaN bounds if all are NaN); `None` if empty.
/// Ties keep the first value seen (so of -0.0 and 0.0 the one that came first).
fn min_max<T: Element>(values: &[T]) -> Option<(T, T)> {
    #[allow(clippy::eq_op)] // v == v is the not-NaN test that works for every T
    let Some(start) = values.iter().position(|&v| v == v) else {
        return values.first().map(|&v| (v, v));
    };
    let (mut lo, mut hi) = (values[start], values[start]);
    // Comparisons with NaN are false, so NaN never replaces a bound: no branch per value.
    for &v in &values[start + 1..] {
        lo = if v < lo { v } else { lo };
        hi = if v > hi { v } else { hi };
    }
    Some((lo, hi))
}

fn stats_bytes<T: Element>(mins: &[T], maxs: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity((mins.len() + maxs.len()) * std::mem::size_of::<T>());
    out.extend_from_slice(bytemuck::cast_slice(mins));
    out.extend_from_slice(bytemuck::cast_slice(maxs));
    out
}

/// Per-axis minimum then maximum, in the element type, little-endian (NaN is ignored; an axis
/// of only NaN has NaN bounds). Empty input gives empty statistics.
pub(crate) fn signal_stats<T: Element>(values: &[T], width: usize) -> Vec<u8> {
    if values.is_empty() || width == 0 {
        return Vec::new();
    }
    let columns = transpose(values, width);
    let rows = values.len() / width;
    let (mut mins, mut maxs) = (Vec::with_capacity(width), Vec::with_capacity(width));
    for j in 0..width {
        let axis = &columns[j * rows..(j + 1) * rows];
        if let Some((lo, hi)) = min_max(axis) {
            mins.push(lo);
            maxs.push(hi);
        }
    }
    stats_bytes(&mins, &maxs)
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

    /// Sets aside room for about `bytes` more bytes of values.
    pub(crate) fn try_reserve(&mut self, bytes: usize) -> std::result::Result<(), ()> {
        with_dtype!(self.dtype, T => {
            match self.values.downcast_mut::<Vec<T>>() {
                Some(v) => v.try_reserve_exact(bytes / std::mem::size_of::<T>()).map_err(|_| ()),
                None => Ok(()),
            }
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-by-row definition the statistics follow (the writer's faster path must agree).
    fn reference<T: Element>(values: &[T], width: usize) -> Vec<u8> {
        let mut mins: Vec<T> = values[..width].to_vec();
        let mut maxs: Vec<T> = values[..width].to_vec();
        for row in values.chunks_exact(width) {
            for (j, &v) in row.iter().enumerate() {
                #[allow(clippy::eq_op)]
                let (v_nan, lo_nan, hi_nan) = (v != v, mins[j] != mins[j], maxs[j] != maxs[j]);
                if !v_nan && (lo_nan || v < mins[j]) {
                    mins[j] = v;
                }
                if !v_nan && (hi_nan || v > maxs[j]) {
                    maxs[j] = v;
                }
            }
        }
        stats_bytes(&mins, &maxs)
    }

    #[test]
    fn statistics_ignore_nan_and_keep_the_first_of_equal_values() {
        let nan = f32::from_bits(0x7fc0_1234);
        let v = vec![
            nan, 0.0, nan, //
            -0.0, -0.0, nan, //
            2.0, 0.0, nan, //
            nan, -1.0, nan,
        ];
        assert_eq!(signal_stats(&v, 3), reference(&v, 3));
        let bits: Vec<u32> = bytemuck::cast_slice::<u8, f32>(&signal_stats(&v, 3))
            .iter()
            .map(|x| x.to_bits())
            .collect();
        // Axis 0: -0.0 .. 2.0; axis 1: -1.0 .. 0.0 (the first zero seen); axis 2: all NaN.
        let expect = [(-0.0f32).to_bits(), (-1.0f32).to_bits(), nan.to_bits()];
        assert_eq!(&bits[..3], &expect);
        assert_eq!(
            &bits[3..],
            &[2.0f32.to_bits(), 0.0f32.to_bits(), nan.to_bits()]
        );

        let ints: Vec<i16> = (0..300).map(|i| ((i * 7919) % 601 - 300) as i16).collect();
        assert_eq!(signal_stats(&ints, 4), reference(&ints, 4));
        assert!(signal_stats::<f64>(&[], 2).is_empty());
    }

    #[test]
    fn encoded_axes_are_the_columns() {
        let mut b = SignalBuffer::new(DType::Float32, 3);
        b.t.extend(0..5);
        if let Some(v) = b.values_mut::<f32>() {
            v.extend((0..15).map(|i| i as f32));
        }
        let mut out = Vec::new();
        let stats = b
            .encode(&CodecOptions::default(), &mut Vec::new(), &mut out)
            .unwrap();
        assert_eq!(
            stats,
            reference(&(0..15).map(|i| i as f32).collect::<Vec<_>>(), 3)
        );
        assert_eq!(out.len(), 3);
        for (j, buf) in out.iter().enumerate() {
            let axis: Vec<f32> =
                rmf_codecs::column::decode_numbers(buf.encoding, &buf.data, 5).unwrap();
            assert_eq!(axis, (0..5).map(|i| (i * 3 + j) as f32).collect::<Vec<_>>());
        }
    }
}
