//! `rmf.Stream`: one stream of an open episode, read by time into numpy arrays or pyarrow.

use std::sync::Arc;

use arrow::pyarrow::ToPyArrow;
use numpy::ndarray::IxDyn;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rmf_core::{with_dtype, DType, EpisodeReader, PixelFormat, StreamInfo, StreamKind};

use crate::convert::from_json;
use crate::errors::IntoPy;
use crate::interrupt::interruptible;

/// Decoded bytes read per call before Python gets a chance to handle Ctrl-C.
const BYTES_BETWEEN_SIGNAL_CHECKS: u64 = 64 << 20;

/// One stream of an episode: its declaration and time queries.
#[pyclass(module = "rmf._rmf", frozen)]
pub struct Stream {
    reader: Arc<EpisodeReader>,
    pub(crate) info: StreamInfo,
}

impl Stream {
    /// The stream `info` of the episode `reader` holds.
    pub(crate) fn new(reader: Arc<EpisodeReader>, info: StreamInfo) -> Self {
        Stream { reader, info }
    }
}

/// Time boundaries that split [t0, t1) at chunk starts so that each piece decodes about
/// `BYTES_BETWEEN_SIGNAL_CHECKS`: Ctrl-C is checked between pieces.
fn pieces(reader: &EpisodeReader, name: &str, t0: i64, t1: i64) -> Vec<(i64, i64)> {
    let mut cuts = vec![t0];
    let mut acc = 0u64;
    for c in reader.chunks() {
        if reader.stream_of(c).map(|s| s.name.as_str()) != Some(name)
            || c.t_max < t0
            || c.t_min >= t1
        {
            continue;
        }
        if acc >= BYTES_BETWEEN_SIGNAL_CHECKS && c.t_min > *cuts.last().unwrap_or(&t0) {
            cuts.push(c.t_min);
            acc = 0;
        }
        acc += c.decoded_bytes;
    }
    cuts.push(t1);
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Appends `more` to `acc`, moving it when `acc` is empty (the common single-piece read).
/// Growing `acc` is fallible (MemoryError, not an abort): the first growth sets aside the
/// whole read's claimed size, `claimed` bytes, at once.
fn append<T: Copy>(acc: &mut Vec<T>, more: Vec<T>, claimed: u64) -> PyResult<()> {
    if acc.is_empty() {
        *acc = more;
        return Ok(());
    }
    if acc.capacity() - acc.len() < more.len() {
        let whole =
            usize::try_from(claimed).unwrap_or(usize::MAX) / std::mem::size_of::<T>().max(1);
        let want = more.len().max(whole.saturating_sub(acc.len()));
        acc.try_reserve_exact(want)
            .or_else(|_| acc.try_reserve_exact(more.len()))
            .map_err(|_| {
                PyMemoryError::new_err(format!(
                    "cannot allocate {} bytes for the samples read: out of memory",
                    (acc.len() + more.len()) * std::mem::size_of::<T>()
                ))
            })?;
    }
    acc.extend_from_slice(&more);
    Ok(())
}

impl Stream {
    /// The value of the sample found (None: none), with its time when `with_time`.
    fn found_value<'py>(
        &self,
        py: Python<'py>,
        found: Option<rmf_core::SampleRef>,
        with_time: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(r) = found else { return Ok(None) };
        let t = r.t;
        match self.sample_value(py, r)? {
            Some(v) if with_time => Ok(Some((t, v).into_pyobject(py)?.into_any())),
            other => Ok(other),
        }
    }

    fn frame_shape(&self) -> Vec<usize> {
        match &self.info.kind {
            StreamKind::Frames {
                width,
                height,
                pixel_format,
                ..
            } => {
                let mut s = vec![*height as usize, *width as usize];
                if pixel_format.channels() > 1 {
                    s.push(pixel_format.channels());
                }
                s
            }
            _ => Vec::new(),
        }
    }

    /// Frames' pixels (raw bytes, row-major) as an ndarray of `[n] + frame_shape`.
    fn frames_array<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        bytes: Vec<u8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut shape = vec![n];
        shape.extend(self.frame_shape());
        let gray16 = matches!(
            self.info.kind,
            StreamKind::Frames {
                pixel_format: PixelFormat::Gray16,
                ..
            }
        );
        if gray16 {
            let v: Vec<u16> = bytemuck::pod_collect_to_vec(&bytes);
            Ok(PyArray1::from_vec(py, v).reshape(IxDyn(&shape))?.into_any())
        } else {
            Ok(PyArray1::from_vec(py, bytes)
                .reshape(IxDyn(&shape))?
                .into_any())
        }
    }

    /// Shape of one sample as `read` returns it (after the leading sample axis).
    fn sample_shape(&self) -> Vec<usize> {
        match &self.info.kind {
            StreamKind::Signal { shape, .. } => shape.clone(),
            StreamKind::Frames { .. } => self.frame_shape(),
            StreamKind::Audio { channels, .. } => vec![*channels as usize],
            StreamKind::Events => Vec::new(),
            _ => Vec::new(),
        }
    }

    fn signal_shape(&self) -> Vec<usize> {
        match &self.info.kind {
            StreamKind::Signal { shape, .. } => shape.clone(),
            _ => Vec::new(),
        }
    }

    /// One sample found by `find`, as the value `at`/`nearest` return.
    fn sample_value<'py>(
        &self,
        py: Python<'py>,
        r: rmf_core::SampleRef,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        if matches!(self.info.kind, StreamKind::Frames { .. }) {
            // Decoded straight into the array numpy takes over.
            let pixels = py
                .detach(|| reader.read_frame_ref(name, r))
                .py_err_in(name)?;
            return self.frames_array(py, 1, pixels)?.get_item(0).map(Some);
        }
        let batch = py
            .detach(|| reader.read_sample_ref(name, r))
            .py_err_in(name)?;
        self.batch_value(py, &batch, 0).map(Some)
    }

    /// Row `i` of a decoded batch as a Python value.
    fn batch_value<'py>(
        &self,
        py: Python<'py>,
        batch: &arrow::record_batch::RecordBatch,
        i: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        use arrow::array::{
            Array, FixedSizeBinaryArray, FixedSizeListArray, ListArray, PrimitiveArray, StringArray,
        };
        let col = batch.column(1);
        let bad = || PyValueError::new_err("unexpected Arrow layout");
        match &self.info.kind {
            StreamKind::Signal { dtype, .. } => with_dtype!(dtype, T => {
                let list = col.as_any().downcast_ref::<FixedSizeListArray>().ok_or_else(bad)?;
                let vals = list.value(i);
                let prim = vals.as_any().downcast_ref::<PrimitiveArray<<T as rmf_core::Element>::Arrow>>().ok_or_else(bad)?;
                let v: Vec<T> = prim.values().to_vec();
                Ok(PyArray1::from_vec(py, v).reshape(IxDyn(&self.signal_shape()))?.into_any())
            }),
            StreamKind::Frames { .. } => {
                let f = col
                    .as_any()
                    .downcast_ref::<FixedSizeBinaryArray>()
                    .ok_or_else(bad)?;
                let arr = self.frames_array(py, 1, f.value(i).to_vec())?;
                arr.get_item(0)
            }
            StreamKind::Audio {
                dtype, channels, ..
            } => with_dtype!(dtype, T => {
                let list = col.as_any().downcast_ref::<ListArray>().ok_or_else(bad)?;
                let vals = list.value(i);
                let prim = vals.as_any().downcast_ref::<PrimitiveArray<<T as rmf_core::Element>::Arrow>>().ok_or_else(bad)?;
                let v: Vec<T> = prim.values().to_vec();
                let n = v.len() / (*channels as usize).max(1);
                Ok(PyArray1::from_vec(py, v).reshape(IxDyn(&[n, *channels as usize]))?.into_any())
            }),
            StreamKind::Events => {
                let d = PyDict::new(py);
                let t = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .ok_or_else(bad)?;
                d.set_item("t", t.value(i))?;
                for (k, name) in ["kind", "operator", "text", "payload"].iter().enumerate() {
                    let s = batch
                        .column(1 + k)
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .ok_or_else(bad)?;
                    if *name == "payload" {
                        let v: serde_json::Value =
                            serde_json::from_str(s.value(i)).unwrap_or(serde_json::Value::Null);
                        d.set_item(*name, from_json(py, &v)?)?;
                    } else {
                        d.set_item(*name, s.value(i))?;
                    }
                }
                Ok(d.into_any())
            }
            other => Err(PyValueError::new_err(format!(
                "{} streams are not supported by this version of rmf",
                other.name()
            ))),
        }
    }
}

#[pymethods]
impl Stream {
    /// Stream name.
    #[getter]
    fn name(&self) -> String {
        self.info.name.clone()
    }
    /// "signal", "frames", "audio" or "events".
    #[getter]
    fn kind(&self) -> &'static str {
        self.info.kind.name()
    }
    /// numpy dtype name of the samples ("float32", "uint8" for rgb8/gray8 frames, "uint16" for
    /// gray16), or None for events.
    #[getter]
    fn dtype(&self) -> Option<&'static str> {
        match &self.info.kind {
            StreamKind::Signal { dtype, .. } | StreamKind::Audio { dtype, .. } => {
                Some(dtype.name())
            }
            StreamKind::Frames {
                pixel_format: PixelFormat::Gray16,
                ..
            } => Some(DType::Uint16.name()),
            StreamKind::Frames { .. } => Some(DType::Uint8.name()),
            StreamKind::Events => None,
            _ => None,
        }
    }
    /// Shape of one sample: the signal's shape, (H, W, 3) / (H, W) for frames, (channels,) for
    /// audio, () for events.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
        pyo3::types::PyTuple::new(py, self.sample_shape())
    }

    /// Per-element names.
    #[getter]
    fn names(&self) -> Vec<String> {
        self.info.names.clone()
    }
    /// Units (one per element, or one for the stream).
    #[getter]
    fn units(&self) -> Vec<String> {
        self.info.units.clone()
    }
    /// Nominal rate in Hz, if declared.
    #[getter]
    fn rate_hz(&self) -> Option<f64> {
        self.info.rate_hz
    }
    /// Audio sample rate in Hz, or None.
    #[getter]
    fn sample_rate(&self) -> Option<u32> {
        match &self.info.kind {
            StreamKind::Audio { sample_rate, .. } => Some(*sample_rate),
            _ => None,
        }
    }
    /// "public", "internal" or "private".
    #[getter]
    fn sensitivity(&self) -> String {
        format!("{:?}", self.info.sensitivity).to_lowercase()
    }
    /// Free tags.
    #[getter]
    fn tags(&self) -> std::collections::BTreeMap<String, String> {
        self.info.tags.clone()
    }
    /// The stream declaration as stored (a dict).
    #[getter]
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v =
            serde_json::to_value(&self.info).map_err(|e| PyValueError::new_err(e.to_string()))?;
        from_json(py, &v)
    }
    /// A frame stream's frames as stored, without decoding: (timestamps int64[n], list of
    /// bytes). For h264 each item is an access unit (together an H.264 elementary stream that
    /// FFmpeg reads), for jpeg/png an image file, for raw a zstd frame. Each is checked
    /// against its checksum.
    fn stored_frames<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyArray1<i64>>, Bound<'py, PyList>)> {
        let reader = self.reader.clone();
        let name = self.info.name.clone();
        let frames = interruptible(py, move || reader.stored_frames(&name))?
            .map_err(|e| crate::errors::to_py_in(e, Some(&self.info.name)))?;
        let (times, units): (Vec<i64>, Vec<Vec<u8>>) = frames.into_iter().unzip();
        let list = PyList::empty(py);
        for u in units {
            list.append(pyo3::types::PyBytes::new(py, &u))?;
        }
        Ok((PyArray1::from_vec(py, times), list))
    }

    /// Number of samples (audio: blocks).
    #[getter]
    fn count(&self) -> PyResult<u64> {
        Ok(self.reader.summary(&self.info.name).py_err()?.count)
    }
    /// First timestamp (ns), or None.
    #[getter]
    fn start_ns(&self) -> PyResult<Option<i64>> {
        Ok(self.reader.summary(&self.info.name).py_err()?.t_min)
    }
    /// Last timestamp (ns), or None.
    #[getter]
    fn end_ns(&self) -> PyResult<Option<i64>> {
        Ok(self.reader.summary(&self.info.name).py_err()?.t_max)
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(self.count()? as usize)
    }

    /// Samples with t0 <= t < t1 (all when omitted). Signals: (int64[n], values[n, *shape]);
    /// frames: (int64[n], uint8/uint16[n, H, W(, 3)]); audio: (int64[n] per-sample times,
    /// samples[n, channels]); events: a pyarrow.Table.
    ///
    /// A read whose chunks claim to decode to more than `max_bytes` (default: half the memory
    /// this process can still use) raises MemoryError before decoding anything.
    #[pyo3(signature = (t0=None, t1=None, *, max_bytes=None))]
    fn read<'py>(
        &self,
        py: Python<'py>,
        t0: Option<i64>,
        t1: Option<i64>,
        max_bytes: Option<u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (t0, t1) = (t0.unwrap_or(i64::MIN), t1.unwrap_or(i64::MAX));
        let name = self.info.name.as_str();
        let reader = &self.reader;
        let claimed = reader
            .check_read_budget(name, t0, t1, max_bytes)
            .py_err_in(name)?;
        match &self.info.kind {
            StreamKind::Signal { dtype, shape } => with_dtype!(dtype, T => {
                let mut ts: Vec<i64> = Vec::new();
                let mut vs: Vec<T> = Vec::new();
                for (a, b) in pieces(reader, name, t0, t1) {
                    let (t, v) = py.detach(|| reader.signal_range_within::<T>(name, a, b, max_bytes)).py_err_in(name)?;
                    append(&mut ts, t, claimed)?;
                    append(&mut vs, v, claimed)?;
                    py.check_signals()?;
                }
                let n = ts.len();
                let mut dims = vec![n];
                dims.extend(shape.iter().copied());
                let values = PyArray1::from_vec(py, vs).reshape(IxDyn(&dims))?;
                Ok((PyArray1::from_vec(py, ts), values).into_pyobject(py)?.into_any())
            }),
            StreamKind::Frames { .. } => {
                let mut ts: Vec<i64> = Vec::new();
                let mut px: Vec<u8> = Vec::new();
                for (a, b) in pieces(reader, name, t0, t1) {
                    let (t, p) = py
                        .detach(|| reader.frames_range_within(name, a, b, max_bytes))
                        .py_err_in(name)?;
                    append(&mut ts, t, claimed)?;
                    append(&mut px, p, claimed)?;
                    py.check_signals()?;
                }
                let n = ts.len();
                let frames = self.frames_array(py, n, px)?;
                Ok((PyArray1::from_vec(py, ts), frames)
                    .into_pyobject(py)?
                    .into_any())
            }
            StreamKind::Audio {
                dtype,
                channels,
                sample_rate,
            } => with_dtype!(dtype, T => {
                // Samples, not blocks, are selected by time: start from the block that holds
                // t0 (the last one starting at or before it) and keep t0 <= t < t1.
                let first = py.detach(|| reader.find_at(name, t0)).py_err_in(name)?.map_or(t0, |r| r.t);
                let blocks = py.detach(|| reader.audio_range::<T>(name, first, t1)).py_err_in(name)?;
                let ch = (*channels as usize).max(1);
                let total: usize = blocks.iter().map(|b| b.samples.len()).sum();
                let mut ts = Vec::with_capacity(total / ch);
                let mut vs: Vec<T> = Vec::with_capacity(total);
                let hi = if t1 == i64::MAX { i64::MAX } else { t1 - 1 };
                for b in blocks {
                    for (i, frame) in b.samples.chunks_exact(ch).enumerate() {
                        let t = b.t.saturating_add((i as i128 * 1_000_000_000 / *sample_rate as i128) as i64);
                        if t >= t0 && t <= hi {
                            ts.push(t);
                            vs.extend_from_slice(frame);
                        }
                    }
                }
                let n = ts.len();
                let values = PyArray1::from_vec(py, vs).reshape(IxDyn(&[n, ch]))?;
                Ok((PyArray1::from_vec(py, ts), values).into_pyobject(py)?.into_any())
            }),
            StreamKind::Events => self.to_arrow(py, Some(t0), Some(t1)),
            other => Err(PyValueError::new_err(format!(
                "{} streams are not supported by this version of rmf",
                other.name()
            ))),
        }
    }

    /// Every timestamp of the stream (audio: block start times), int64[n].
    fn times<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        let t = py.detach(|| reader.times(name)).py_err_in(name)?;
        Ok(PyArray1::from_vec(py, t))
    }

    /// The last sample at or before `t_ns` (as-of), or None before the first sample. Signals:
    /// an array of the stream's shape; frames: HxW(x3); audio: the block [n, channels];
    /// events: a dict. With `with_time=True`, a tuple (the sample's time in ns, the value).
    #[pyo3(signature = (t_ns, *, with_time=false))]
    fn at<'py>(
        &self,
        py: Python<'py>,
        t_ns: i64,
        with_time: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        let found = py.detach(|| reader.find_at(name, t_ns)).py_err_in(name)?;
        self.found_value(py, found, with_time)
    }

    /// The sample nearest to `t_ns` (the earlier one on a tie), or None for an empty stream.
    /// With `with_time=True`, a tuple (the sample's time in ns, the value).
    #[pyo3(signature = (t_ns, *, with_time=false))]
    fn nearest<'py>(
        &self,
        py: Python<'py>,
        t_ns: i64,
        with_time: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        let found = py
            .detach(|| reader.find_nearest(name, t_ns))
            .py_err_in(name)?;
        self.found_value(py, found, with_time)
    }

    /// Time of the sample `at(t_ns)` would return, or None.
    fn time_at(&self, py: Python<'_>, t_ns: i64) -> PyResult<Option<i64>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        Ok(py
            .detach(|| reader.find_at(name, t_ns))
            .py_err_in(name)?
            .map(|r| r.t))
    }

    /// Time of the sample `nearest(t_ns)` would return, or None.
    fn time_nearest(&self, py: Python<'_>, t_ns: i64) -> PyResult<Option<i64>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        Ok(py
            .detach(|| reader.find_nearest(name, t_ns))
            .py_err_in(name)?
            .map(|r| r.t))
    }

    /// Samples with t0 <= t < t1 as a pyarrow.Table (schema: spec/streams.md), passed through
    /// the Arrow C stream interface.
    #[pyo3(signature = (t0=None, t1=None))]
    pub(crate) fn to_arrow<'py>(
        &self,
        py: Python<'py>,
        t0: Option<i64>,
        t1: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        let (t0, t1) = (t0.unwrap_or(i64::MIN), t1.unwrap_or(i64::MAX));
        let mut batches = Vec::new();
        for (a, b) in pieces(reader, name, t0, t1) {
            let batch = py
                .detach(|| reader.read_range(name, a, b))
                .py_err_in(name)?;
            let batch = match self.info.kind {
                StreamKind::Events => null_payloads(batch)?,
                _ => batch,
            };
            batches.push(batch.to_pyarrow(py)?);
            py.check_signals()?;
        }
        // `pieces` always yields at least one range, so the table has a schema.
        py.import("pyarrow")?
            .getattr("Table")?
            .call_method1("from_batches", (PyList::new(py, batches)?,))
    }

    fn __repr__(&self) -> String {
        format!(
            "Stream({:?}, kind={}, dtype={}, shape={:?})",
            self.info.name,
            self.info.kind.name(),
            self.dtype().unwrap_or("None"),
            self.sample_shape()
        )
    }
}

/// An event without a payload has the JSON text `null` in the file's column; Python gets a
/// null, as the Parquet export writes it (and `Stream.at` gives `None`).
fn null_payloads(
    batch: arrow::record_batch::RecordBatch,
) -> PyResult<arrow::record_batch::RecordBatch> {
    use arrow::array::{Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    let schema = batch.schema();
    let Ok(k) = schema.index_of("payload") else {
        return Ok(batch);
    };
    let Some(text) = batch.column(k).as_any().downcast_ref::<StringArray>() else {
        return Ok(batch);
    };
    let nulled: StringArray = text
        .iter()
        .map(|v| v.filter(|v| v.trim() != "null"))
        .collect();
    let mut columns = batch.columns().to_vec();
    columns[k] = std::sync::Arc::new(nulled);
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = f.as_ref().clone();
            if i == k {
                f.with_nullable(true)
            } else {
                f
            }
        })
        .collect();
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    arrow::record_batch::RecordBatch::try_new(std::sync::Arc::new(schema), columns)
        .map_err(|e| PyValueError::new_err(format!("event payloads: {e}")))
}
