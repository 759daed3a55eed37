//! `rmf.open`, `rmf.Episode`, `rmf.Stream`, `rmf.recover`, `rmf.validate`.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::pyarrow::ToPyArrow;
use numpy::ndarray::IxDyn;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rmf_core::{with_dtype, DType, EpisodeReader, PixelFormat, StreamInfo, StreamKind};

use crate::convert::from_json;
use crate::errors::IntoPy;

/// Decoded bytes read per call before Python gets a chance to handle Ctrl-C.
const BYTES_BETWEEN_SIGNAL_CHECKS: u64 = 64 << 20;

fn unknown_stream(py: Python<'_>, name: &str, known: &[String]) -> PyErr {
    let msg = format!(
        "no stream named {name:?} in this episode (streams: {})",
        known.join(", ")
    );
    match py
        .import("rmf")
        .and_then(|m| m.getattr("UnknownStreamError"))
    {
        Ok(cls) => match cls.call1((msg.clone(),)) {
            Ok(e) => PyErr::from_value(e),
            Err(e) => e,
        },
        Err(_) => PyValueError::new_err(msg),
    }
}

/// Runs `work` on its own thread while this one waits without the GIL and checks for Ctrl-C
/// every 50 ms: whole-file scans (a damaged file's open, `validate`, `recover`) can take minutes
/// on large files. On Ctrl-C the work is abandoned (it finishes in the background; `recover`
/// still only ever renames a complete output into place).
pub(crate) fn interruptible<T: Send + 'static>(
    py: Python<'_>,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    let mut rx = rx;
    loop {
        // The receiver moves into the GIL-free closure and back (it is Send, not Sync).
        let (got, back) = py.detach(move || {
            let got = rx.recv_timeout(std::time::Duration::from_millis(50));
            (got, rx)
        });
        rx = back;
        match got {
            Ok(v) => return Ok(v),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "the worker thread panicked",
                ))
            }
        }
    }
}

/// Opens an RMF file (memory-mapped; reads only its footer). A file without a footer (a crash)
/// opens by scanning its chunks; `Episode.recovery` then says what was kept. `key` (32 bytes or
/// a key-file path) or `passphrase` opens encrypted (private) streams; without it they raise
/// `RmfError` with kind "encrypted", and a wrong one raises kind "wrong_key" here.
#[pyfunction]
#[pyo3(signature = (path, key=None, passphrase=None))]
pub fn open(
    py: Python<'_>,
    path: PathBuf,
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
) -> PyResult<Episode> {
    let p = path.clone();
    let opts = rmf_core::ReadOptions {
        secret: crate::keys::secret(key, passphrase)?,
        ..rmf_core::ReadOptions::default()
    };
    let reader = interruptible(py, move || EpisodeReader::open_with(&p, opts))?.py_err()?;
    Ok(Episode {
        reader: Arc::new(reader),
        path,
    })
}

/// Writes a complete copy of a truncated or damaged file to `output`, holding every intact
/// chunk; returns a `RecoveryReport`.
#[pyfunction]
pub fn recover(py: Python<'_>, input: PathBuf, output: PathBuf) -> PyResult<RecoveryReport> {
    let report = interruptible(py, move || rmf_core::recover(&input, &output))?.py_err()?;
    Ok(RecoveryReport { inner: report })
}

/// Writes `output`: `input` with its frame streams re-encoded with `codec` ("h264", "jpeg",
/// "png" or "raw"; `quality` for jpeg, `qp` and `gop` for h264), all of them or those named in
/// `streams`; every other stream is copied chunk for chunk, and gray16 (depth) stays lossless.
/// `zstd_level` (-7..=22, default 3) compresses what is written anew, raw frames above all.
/// `input` is not modified; `output` is renamed into place when complete. Returns a dict:
/// input_bytes, output_bytes, and per stream (name, from codec or None if copied, why it was
/// copied, samples, bytes before, bytes after).
#[pyfunction]
#[pyo3(signature = (input, output, codec, quality=None, qp=None, gop=None, streams=None, zstd_level=None))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn transcode<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    codec: &str,
    quality: Option<u8>,
    qp: Option<u8>,
    gop: Option<u32>,
    streams: Option<Vec<String>>,
    zstd_level: Option<i32>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut write = rmf_core::WriteOptions::default();
    if let Some(level) = zstd_level {
        write = write.with_zstd_level(level);
    }
    let codec = rmf_core::FrameCodec::parse_with(codec, quality, qp, gop).py_err()?;
    let opts = rmf_core::TranscodeOptions::new(codec)
        .with_streams(streams.unwrap_or_default())
        .with_write(write);
    let report =
        interruptible(py, move || rmf_core::transcode(&input, &output, &opts))?.py_err()?;
    let d = PyDict::new(py);
    d.set_item("input_bytes", report.input_bytes)?;
    d.set_item("output_bytes", report.output_bytes)?;
    let list = PyList::empty(py);
    for s in report.streams {
        list.append((
            s.name,
            s.from.map(|c| c.name()),
            s.kept_because,
            s.samples,
            s.bytes_before,
            s.bytes_after,
        ))?;
    }
    d.set_item("streams", list)?;
    Ok(d)
}

/// Checks a file completely (every checksum, the index, every chunk). Returns a list of problem
/// strings: empty when the file is valid. Without `key` / `passphrase`, chunks of encrypted
/// streams are checked by their checksums only.
#[pyfunction]
#[pyo3(signature = (path, key=None, passphrase=None))]
pub fn validate(
    py: Python<'_>,
    path: PathBuf,
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
) -> PyResult<Vec<String>> {
    let opts = rmf_core::ReadOptions {
        secret: crate::keys::secret(key, passphrase)?,
        ..rmf_core::ReadOptions::default()
    };
    let report = interruptible(py, move || rmf_core::validate_with(&path, opts))?.py_err()?;
    Ok(report.problems.iter().map(ToString::to_string).collect())
}

/// Copies the episodes of `input` that carry every tag of `require_tags` into `output`, keeping
/// only streams labelled up to `max_label` ("public" or "internal") and not in `drop_streams`;
/// each copy records its provenance. Returns a dict: `shared` (list of dicts: source, output,
/// provenance) and `left_out` (list of (file, reason)).
#[pyfunction]
#[pyo3(signature = (input, output, max_label, drop_streams=None, require_tags=None))]
pub fn share<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    max_label: &str,
    drop_streams: Option<Vec<String>>,
    require_tags: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = rmf_dataset::share::ShareOptions {
        max_label: rmf_core::Sensitivity::parse(max_label).py_err()?,
        drop_streams: drop_streams.unwrap_or_default(),
        require_tags: require_tags.unwrap_or_default(),
        progress: None,
    };
    let r = interruptible(py, move || {
        rmf_dataset::share::share(&input, &output, &opts)
    })?
    .py_err()?;
    let json = serde_json::json!({
        "shared": r.shared.iter().map(|(src, out, p)| serde_json::json!({
            "source": src, "output": out, "provenance": p,
        })).collect::<Vec<_>>(),
        "left_out": r.left_out,
    });
    from_json(py, &json)?
        .cast_into::<PyDict>()
        .map_err(|e| pyo3::exceptions::PyTypeError::new_err(e.to_string()))
}

/// Checks a shared episode against its source (ids, content hashes, every kept stream byte for
/// byte). Returns a list of problem strings: empty when everything matches.
#[pyfunction]
pub fn verify_provenance(
    py: Python<'_>,
    shared: PathBuf,
    source: PathBuf,
) -> PyResult<Vec<String>> {
    let check = interruptible(py, move || {
        rmf_dataset::share::verify_provenance(&shared, &source)
    })?
    .py_err()?;
    Ok(check.problems)
}

/// What recovery kept and lost.
#[pyclass(module = "rmf._rmf", frozen)]
pub struct RecoveryReport {
    inner: rmf_core::RecoveryReport,
}

#[pymethods]
impl RecoveryReport {
    /// Why the file was scanned.
    #[getter]
    fn why(&self) -> String {
        self.inner.why.clone()
    }
    /// Intact chunks kept.
    #[getter]
    fn chunks(&self) -> usize {
        self.inner.chunks
    }
    /// Samples in the kept chunks.
    #[getter]
    fn samples(&self) -> u64 {
        self.inner.samples
    }
    /// Streams declared by intact stream records.
    #[getter]
    fn streams(&self) -> usize {
        self.inner.streams
    }
    /// Whether the episode metadata record was intact.
    #[getter]
    fn episode_intact(&self) -> bool {
        self.inner.episode_intact
    }
    /// Damaged stretches: a list of (offset, length, reason).
    #[getter]
    fn damage(&self) -> Vec<(u64, u64, String)> {
        self.inner
            .damage
            .iter()
            .map(|d| (d.offset, d.length, d.reason.clone()))
            .collect()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "RecoveryReport(chunks={}, samples={}, damage={})",
            self.inner.chunks,
            self.inner.samples,
            self.inner.damage.len()
        )
    }
}

/// An open episode: metadata, streams by name, time span.
#[pyclass(module = "rmf._rmf", frozen)]
pub struct Episode {
    reader: Arc<EpisodeReader>,
    path: PathBuf,
}

impl Episode {
    fn names(&self) -> Vec<String> {
        self.reader
            .streams()
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    fn stream_obj(&self, py: Python<'_>, name: &str) -> PyResult<Stream> {
        match self.reader.stream(name) {
            Ok(info) => Ok(Stream {
                reader: self.reader.clone(),
                info: info.clone(),
            }),
            Err(_) => Err(unknown_stream(py, name, &self.names())),
        }
    }
}

#[pymethods]
impl Episode {
    /// The file.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Episode metadata as a dict (id, start time, clock, robot, task, operator, extra, writer).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(self.reader.meta())
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        from_json(py, &v)
    }

    /// Streams by name, in declaration order.
    #[getter]
    fn streams<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for s in self.reader.streams() {
            d.set_item(&s.name, self.stream_obj(py, &s.name)?)?;
        }
        Ok(d)
    }

    /// First timestamp of any stream (ns), or None for an empty episode.
    #[getter]
    fn start_ns(&self) -> Option<i64> {
        self.reader.time_range().map(|r| r.0)
    }

    /// Last timestamp of any stream (ns), or None for an empty episode.
    #[getter]
    fn end_ns(&self) -> Option<i64> {
        self.reader.time_range().map(|r| r.1)
    }

    /// Streams this version cannot read (a kind, codec or pixel format from a newer version):
    /// a list of (id, name, reason). The other streams read normally.
    #[getter]
    fn skipped_streams(&self) -> Vec<(u32, String, String)> {
        self.reader
            .skipped_streams()
            .iter()
            .map(|k| (k.id, k.name.clone(), k.reason.clone()))
            .collect()
    }

    /// None for a finished file; for a file opened by scanning, what recovery kept.
    #[getter]
    fn recovery(&self) -> Option<RecoveryReport> {
        self.reader
            .recovery()
            .map(|r| RecoveryReport { inner: r.clone() })
    }

    /// Events of an event stream as a pyarrow.Table (t, kind, operator, text, payload). Without
    /// a name, the episode's only event stream.
    #[pyo3(signature = (name=None, t0=None, t1=None))]
    fn events<'py>(
        &self,
        py: Python<'py>,
        name: Option<&str>,
        t0: Option<i64>,
        t1: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = match name {
            Some(n) => n.to_string(),
            None => {
                let ev: Vec<&StreamInfo> = self
                    .reader
                    .streams()
                    .iter()
                    .filter(|s| matches!(s.kind, StreamKind::Events))
                    .collect();
                match ev.as_slice() {
                    [one] => one.name.clone(),
                    _ => {
                        return Err(PyValueError::new_err(format!(
                            "the episode has {} event streams: name one",
                            ev.len()
                        )))
                    }
                }
            }
        };
        let s = self.stream_obj(py, &name)?;
        if !matches!(s.info.kind, StreamKind::Events) {
            return Err(PyValueError::new_err(format!(
                "stream {name:?} is not an event stream"
            )));
        }
        s.to_arrow(py, t0, t1)
    }

    fn __getitem__(&self, py: Python<'_>, name: &str) -> PyResult<Stream> {
        self.stream_obj(py, name)
    }

    fn __contains__(&self, name: &str) -> bool {
        self.reader.stream(name).is_ok()
    }

    fn __len__(&self) -> usize {
        self.reader.streams().len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.names())?.call_method0("__iter__")
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Episode({:?}, streams=[{}]{})",
            self.path.display().to_string(),
            self.names().join(", "),
            if self.reader.recovery().is_some() {
                ", recovered"
            } else {
                ""
            }
        )
    }
}

/// One stream of an episode: its declaration and time queries.
#[pyclass(module = "rmf._rmf", frozen)]
pub struct Stream {
    reader: Arc<EpisodeReader>,
    info: StreamInfo,
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
fn append<T: Copy>(acc: &mut Vec<T>, more: Vec<T>) {
    if acc.is_empty() {
        *acc = more;
    } else {
        acc.extend_from_slice(&more);
    }
}

impl Stream {
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
    #[pyo3(signature = (t0=None, t1=None))]
    fn read<'py>(
        &self,
        py: Python<'py>,
        t0: Option<i64>,
        t1: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (t0, t1) = (t0.unwrap_or(i64::MIN), t1.unwrap_or(i64::MAX));
        let name = self.info.name.as_str();
        let reader = &self.reader;
        match &self.info.kind {
            StreamKind::Signal { dtype, shape } => with_dtype!(dtype, T => {
                let mut ts: Vec<i64> = Vec::new();
                let mut vs: Vec<T> = Vec::new();
                for (a, b) in pieces(reader, name, t0, t1) {
                    let (t, v) = py.detach(|| reader.signal_range::<T>(name, a, b)).py_err_in(name)?;
                    append(&mut ts, t);
                    append(&mut vs, v);
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
                        .detach(|| reader.frames_range(name, a, b))
                        .py_err_in(name)?;
                    append(&mut ts, t);
                    append(&mut px, p);
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
    /// events: a dict.
    fn at<'py>(&self, py: Python<'py>, t_ns: i64) -> PyResult<Option<Bound<'py, PyAny>>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        match py.detach(|| reader.find_at(name, t_ns)).py_err_in(name)? {
            Some(r) => self.sample_value(py, r),
            None => Ok(None),
        }
    }

    /// The sample nearest to `t_ns` (the earlier one on a tie), or None for an empty stream.
    fn nearest<'py>(&self, py: Python<'py>, t_ns: i64) -> PyResult<Option<Bound<'py, PyAny>>> {
        let name = self.info.name.as_str();
        let reader = &self.reader;
        match py
            .detach(|| reader.find_nearest(name, t_ns))
            .py_err_in(name)?
        {
            Some(r) => self.sample_value(py, r),
            None => Ok(None),
        }
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
    fn to_arrow<'py>(
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
