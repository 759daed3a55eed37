//! `rmf.EpisodeWriter`: declare streams, write samples from numpy, close.

use std::path::PathBuf;

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use rmf_core::{
    with_dtype, DType, EpisodeMeta, Event, PixelFormat, Sensitivity, StreamId, StreamInfo,
    StreamKind, WriteOptions,
};

use crate::convert::{to_json, with_array};
use crate::errors::IntoPy;

/// Bytes written between checks for Ctrl-C.
const BYTES_BETWEEN_SIGNAL_CHECKS: usize = 64 << 20;

/// Runs `write` on consecutive row ranges of about 64 MiB without the GIL, checking for Ctrl-C
/// between them (rows written before an interrupt stay written).
fn in_groups(
    py: Python<'_>,
    rows: usize,
    row_bytes: usize,
    mut write: impl FnMut(std::ops::Range<usize>) -> rmf_core::Result<()> + Send,
) -> PyResult<()> {
    let step = (BYTES_BETWEEN_SIGNAL_CHECKS / row_bytes.max(1)).max(1);
    let mut start = 0;
    while start < rows {
        let end = (start + step).min(rows);
        py.detach(|| write(start..end)).py_err()?;
        py.check_signals()?;
        start = end;
    }
    Ok(())
}

/// A dtype given as a name ("float32") or as anything numpy.dtype() takes (np.float32).
fn dtype_name(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.extract::<String>() {
        return Ok(s);
    }
    obj.py()
        .import("numpy")?
        .call_method1("dtype", (obj,))
        .and_then(|d| d.getattr("name"))
        .and_then(|n| n.extract())
        .map_err(|e| PyValueError::new_err(format!("not a dtype: {e}")))
}

fn sensitivity(s: &str) -> PyResult<Sensitivity> {
    Sensitivity::parse(s).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Fills the fields every stream kind shares.
fn common(
    mut info: StreamInfo,
    rate_hz: Option<f64>,
    units: Option<Vec<String>>,
    sens: &str,
    tags: Option<&Bound<'_, PyDict>>,
) -> PyResult<StreamInfo> {
    info.rate_hz = rate_hz;
    if let Some(u) = units {
        info.units = u;
    }
    info.sensitivity = sensitivity(sens)?;
    if let Some(tags) = tags {
        for (k, v) in tags.iter() {
            info.tags.insert(k.str()?.to_string(), v.str()?.to_string());
        }
    }
    Ok(info)
}

/// Episode metadata from a dict: `id`, `start_time_unix_ns`, `clock`, `robot`, `task` and
/// `operator` are fields; every other key goes to `extra`.
fn meta_from(metadata: Option<&Bound<'_, PyDict>>) -> PyResult<EpisodeMeta> {
    let mut meta = EpisodeMeta::new();
    let Some(d) = metadata else {
        return Ok(meta);
    };
    let serde_json::Value::Object(map) = to_json(d.as_any())? else {
        return Err(PyValueError::new_err("metadata must be a dict"));
    };
    for (k, v) in map {
        let text = || {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        };
        match k.as_str() {
            "robot" => meta.robot = text(),
            "task" => meta.task = text(),
            "operator" => meta.operator = text(),
            "clock" => meta.clock = text(),
            "id" => {
                meta.id = text()
                    .parse()
                    .map_err(|e| PyValueError::new_err(format!("metadata id is not a UUID: {e}")))?
            }
            "start_time_unix_ns" => {
                let ns = v.as_i64().ok_or_else(|| {
                    PyValueError::new_err("start_time_unix_ns must be an integer")
                })?;
                meta = meta.with_start_time_unix_ns(ns);
            }
            _ => {
                meta.extra.insert(k, v);
            }
        }
    }
    Ok(meta)
}

/// Writes one RMF episode file.
///
/// ```python
/// with rmf.EpisodeWriter("ep.rmf", metadata={"task": "pick cup"}) as w:
///     w.add_signal("ft/wrist", dtype="float32", shape=(6,), rate_hz=1000)
///     w.write("ft/wrist", t_ns, values)
/// ```
///
/// Samples of one stream must come in time order (int64 ns on the episode's clock); streams run
/// at their own rates. Data reaches the file in chunks (every 4 s of episode time or 4 MiB per
/// stream, events at once); after a crash, `rmf.recover` keeps every chunk written.
///
/// Arguments: `path`; `metadata`, a dict (robot, task, operator, clock, id,
/// start_time_unix_ns; other keys are kept as free key/values); `compression_level`, the zstd
/// level for frames and text (1-22); `chunk_seconds`, the most of a stream a crash can lose
/// (default 4); `overwrite`, replace an existing file (readers of the old file keep it);
/// `fsync`, sync after every chunk so that chunks also survive a power cut.
///
/// One writer is used from one thread at a time.
#[pyclass(module = "rmf._rmf")]
pub struct EpisodeWriter {
    inner: Option<rmf_core::EpisodeWriter>,
    path: PathBuf,
    /// What `close()` returned, kept for `summary` (a `with` block drops the return value).
    summary: Option<Py<PyDict>>,
}

impl EpisodeWriter {
    fn writer(&mut self) -> PyResult<&mut rmf_core::EpisodeWriter> {
        self.inner.as_mut().ok_or_else(|| {
            PyValueError::new_err(format!("{}: the writer is closed", self.path.display()))
        })
    }

    fn id_and_info(&mut self, name: &str) -> PyResult<(StreamId, StreamInfo)> {
        let w = self.writer()?;
        let id = w
            .stream_id(name)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let info = w
            .stream_info(id)
            .cloned()
            .ok_or_else(|| PyKeyError::new_err(name.to_string()))?;
        Ok((id, info))
    }
}

#[pymethods]
impl EpisodeWriter {
    /// Creates `path`. `metadata`: a dict (robot, task, operator, clock, id, start_time_unix_ns;
    /// other keys are kept as free key/values). `compression_level`: zstd level for frames and
    /// text (1-22). `chunk_seconds`: the most of a stream a crash can lose (default 4).
    /// `overwrite`: replace an existing file. `fsync`: sync after every chunk.
    /// `frame_queue`: frames each frame stream may queue for its encoder thread (default 8; 0
    /// encodes in the calling thread). `on_queue_full`: "block" (wait for room, the default)
    /// or "error" (raise `rmf.RmfError` with kind "encoder_behind"; the frame is not written).
    /// `key` (32 bytes, or a key-file path) or `passphrase`: encrypt every stream declared with
    /// `sensitivity="private"` (spec/encryption.md); without one, private is only a label.
    #[new]
    #[pyo3(signature = (path, metadata=None, compression_level=3, chunk_seconds=None, overwrite=false, fsync=false, frame_queue=rmf_core::DEFAULT_FRAME_QUEUE, on_queue_full="block", key=None, passphrase=None))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
    fn new(
        py: Python<'_>,
        path: PathBuf,
        metadata: Option<&Bound<'_, PyDict>>,
        compression_level: i32,
        chunk_seconds: Option<f64>,
        overwrite: bool,
        fsync: bool,
        frame_queue: usize,
        on_queue_full: &str,
        key: Option<&Bound<'_, PyAny>>,
        passphrase: Option<String>,
    ) -> PyResult<Self> {
        let meta = meta_from(metadata)?;
        let policy = match on_queue_full {
            "block" => rmf_core::QueueFull::Block,
            "error" => rmf_core::QueueFull::Error,
            other => {
                return Err(PyValueError::new_err(format!(
                    "on_queue_full must be \"block\" or \"error\", got {other:?}"
                )))
            }
        };
        let opts = WriteOptions::default()
            .with_zstd_level(compression_level)
            .with_overwrite(overwrite)
            .with_fsync_chunks(fsync)
            .with_frame_queue(frame_queue)
            .with_queue_full(policy);
        let mut opts = crate::keys::with_secret(opts, key, passphrase)?;
        if let Some(s) = chunk_seconds {
            if !(s.is_finite() && s > 0.0) {
                return Err(PyValueError::new_err("chunk_seconds must be positive"));
            }
            opts = opts.with_chunk_duration_ns((s * 1e9) as i64);
        }
        let p = path.clone();
        let inner = py
            .detach(move || rmf_core::EpisodeWriter::create(&p, meta, opts))
            .py_err()?;
        Ok(EpisodeWriter {
            inner: Some(inner),
            path,
            summary: None,
        })
    }

    /// The file being written.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Declares a numeric stream: `dtype` ("float32", "int16", ...), `shape` of one sample
    /// ((6,) for force/torque, () for a scalar), per-element `names` and `units`.
    #[pyo3(signature = (name, dtype, shape=None, names=None, units=None, rate_hz=None, sensitivity="internal", tags=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_signal(
        &mut self,
        py: Python<'_>,
        name: String,
        dtype: &Bound<'_, PyAny>,
        shape: Option<Vec<usize>>,
        names: Option<Vec<String>>,
        units: Option<Vec<String>>,
        rate_hz: Option<f64>,
        sensitivity: &str,
        tags: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let dtype = DType::parse(&dtype_name(dtype)?).py_err()?;
        let mut info = StreamInfo::signal(name, dtype, &shape.unwrap_or_default());
        if let Some(n) = names {
            info.names = n;
        }
        let info = common(info, rate_hz, units, sensitivity, tags)?;
        let w = self.writer()?;
        py.detach(|| w.add_stream(info)).py_err().map(|_| ())
    }

    /// Declares an image stream: `pixel_format` "rgb8" (HxWx3 uint8), "gray8" (HxW uint8) or
    /// "gray16" (HxW uint16, e.g. depth in mm: pass units=["mm"]). `codec`: "raw" (zstd per
    /// frame, lossless), "png" (lossless), "jpeg" (lossy, 8-bit only; `quality` 1-100,
    /// default 90) or "h264" (video, lossy, 8-bit only, even width and height; `qp` 0-51,
    /// lower is better and bigger, default 22; a keyframe every `gop` frames, default 8, so a
    /// random frame decodes at most `gop` frames). Reading returns the same array types
    /// whatever the codec.
    #[pyo3(signature = (name, width, height, pixel_format="rgb8", rate_hz=None, units=None, sensitivity="internal", tags=None, codec="raw", quality=None, qp=None, gop=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_frames(
        &mut self,
        py: Python<'_>,
        name: String,
        width: u32,
        height: u32,
        pixel_format: &str,
        rate_hz: Option<f64>,
        units: Option<Vec<String>>,
        sensitivity: &str,
        tags: Option<&Bound<'_, PyDict>>,
        codec: &str,
        quality: Option<u8>,
        qp: Option<u8>,
        gop: Option<u32>,
    ) -> PyResult<()> {
        let pf = PixelFormat::parse(pixel_format).py_err()?;
        let codec = rmf_core::FrameCodec::parse_with(codec, quality, qp, gop).py_err()?;
        let info = common(
            StreamInfo::frames(name, width, height, pf).with_codec(codec),
            rate_hz,
            units,
            sensitivity,
            tags,
        )?;
        let w = self.writer()?;
        py.detach(|| w.add_stream(info)).py_err().map(|_| ())
    }

    /// Declares an audio stream of PCM blocks ("int16" or "float32", interleaved channels).
    #[pyo3(signature = (name, sample_rate, channels=1, dtype=None, sensitivity="internal", tags=None))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
    fn add_audio(
        &mut self,
        py: Python<'_>,
        name: String,
        sample_rate: u32,
        channels: u16,
        dtype: Option<&Bound<'_, PyAny>>,
        sensitivity: &str,
        tags: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let dtype = match dtype {
            Some(d) => DType::parse(&dtype_name(d)?).py_err()?,
            None => DType::Int16,
        };
        let info = common(
            StreamInfo::audio(name, sample_rate, channels, dtype),
            None,
            None,
            sensitivity,
            tags,
        )?;
        let w = self.writer()?;
        py.detach(|| w.add_stream(info)).py_err().map(|_| ())
    }

    /// Declares an event stream (interventions, notes, failures).
    #[pyo3(signature = (name, sensitivity="internal", tags=None))]
    fn add_events(
        &mut self,
        py: Python<'_>,
        name: String,
        sensitivity: &str,
        tags: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let info = common(StreamInfo::events(name), None, None, sensitivity, tags)?;
        let w = self.writer()?;
        py.detach(|| w.add_stream(info)).py_err().map(|_| ())
    }

    /// Writes one sample at `t_ns`: a signal value of the stream's shape, or a frame
    /// (HxWx3 / HxW array).
    fn write(
        &mut self,
        py: Python<'_>,
        name: &str,
        t_ns: i64,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (_, info) = self.id_and_info(name)?;
        let dtype = match &info.kind {
            StreamKind::Signal { dtype, .. } => *dtype,
            StreamKind::Frames {
                pixel_format: PixelFormat::Gray16,
                ..
            } => DType::Uint16,
            _ => DType::Uint8,
        };
        let np = py.import("numpy")?;
        // A list or scalar takes the stream's dtype; an ndarray keeps its own (checked later).
        let value = if value.is_instance(&np.getattr("ndarray")?)? {
            value.clone()
        } else {
            np.call_method1("asarray", (value, dtype.name()))?
        };
        let ts = PyTuple::new(py, [t_ns])?;
        let values = np.call_method1("expand_dims", (value, 0))?;
        self.write_many(py, name, ts.as_any(), &values)
    }

    /// Writes many samples: `ts_ns` int64[n] and `values` [n, *shape] (signals) or
    /// [n, H, W(, 3)] (frames).
    fn write_many(
        &mut self,
        py: Python<'_>,
        name: &str,
        ts_ns: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (id, info) = self.id_and_info(name)?;
        let w = self.writer()?;
        with_array::<i64, _>(ts_ns, DType::Int64, "timestamps", |ts, ts_shape| {
            if ts_shape.len() > 1 {
                return Err(PyValueError::new_err(format!(
                    "timestamps must be 1-D, got shape {ts_shape:?}"
                )));
            }
            match &info.kind {
                StreamKind::Signal { dtype, shape } => with_dtype!(dtype, T => {
                    with_array::<T, _>(values, *dtype, name, |v, vshape| {
                        let want: Vec<usize> = std::iter::once(ts.len()).chain(shape.iter().copied()).collect();
                        let scalar_run = shape.is_empty() && vshape == [ts.len()];
                        if vshape != want.as_slice() && !scalar_run {
                            return Err(PyValueError::new_err(format!(
                                "stream {name:?}: values of shape {vshape:?}, expected {want:?}"
                            )));
                        }
                        let width = v.len() / ts.len().max(1);
                        in_groups(py, ts.len(), width * std::mem::size_of::<T>() + 8, |rows| {
                            w.write_signals::<T>(id, &ts[rows.clone()], &v[rows.start * width..rows.end * width])
                        })
                    })
                }),
                StreamKind::Frames {
                    width,
                    height,
                    pixel_format,
                    ..
                } => {
                    let (h, wd) = (*height as usize, *width as usize);
                    let mut want = vec![ts.len(), h, wd];
                    if pixel_format.channels() > 1 {
                        want.push(pixel_format.channels());
                    }
                    let check = |vshape: &[usize]| {
                        if vshape != want.as_slice() {
                            return Err(PyValueError::new_err(format!(
                                "stream {name:?}: frames of shape {vshape:?}, expected {want:?} ({} {wd}x{h})",
                                pixel_format.name()
                            )));
                        }
                        Ok(())
                    };
                    let per = info.frame_bytes();
                    if *pixel_format == PixelFormat::Gray16 {
                        with_array::<u16, _>(values, DType::Uint16, name, |v, vshape| {
                            check(vshape)?;
                            let bytes: &[u8] = bytemuck::cast_slice(v);
                            in_groups(py, ts.len(), per, |rows| {
                                for i in rows {
                                    w.write_frame(id, ts[i], &bytes[i * per..(i + 1) * per])?;
                                }
                                Ok(())
                            })
                        })
                    } else {
                        with_array::<u8, _>(values, DType::Uint8, name, |v, vshape| {
                            check(vshape)?;
                            in_groups(py, ts.len(), per, |rows| {
                                for i in rows {
                                    w.write_frame(id, ts[i], &v[i * per..(i + 1) * per])?;
                                }
                                Ok(())
                            })
                        })
                    }
                }
                StreamKind::Audio { .. } => Err(PyValueError::new_err(format!(
                    "stream {name:?} is audio: use write_audio(name, t_ns, samples)"
                ))),
                StreamKind::Events => Err(PyValueError::new_err(format!(
                    "stream {name:?} holds events: use write_event(name, t_ns, kind=...)"
                ))),
                other => Err(PyValueError::new_err(format!(
                    "{} streams are not supported by this version of rmf",
                    other.name()
                ))),
            }
        })
    }

    /// Writes one block of audio stamped with the time of its first sample: int16/float32
    /// samples of shape [n] (mono) or [n, channels].
    fn write_audio(
        &mut self,
        py: Python<'_>,
        name: &str,
        t_ns: i64,
        samples: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (id, info) = self.id_and_info(name)?;
        let StreamKind::Audio {
            dtype, channels, ..
        } = info.kind
        else {
            return Err(PyValueError::new_err(format!(
                "stream {name:?} is not an audio stream"
            )));
        };
        let w = self.writer()?;
        with_dtype!(dtype, T => {
            with_array::<T, _>(samples, dtype, name, |v, shape| {
                let ok = match shape {
                    [_] => channels == 1,
                    [_, c] => *c == channels as usize,
                    _ => false,
                };
                if !ok {
                    return Err(PyValueError::new_err(format!(
                        "stream {name:?}: samples of shape {shape:?}, expected [n] or [n, {channels}]"
                    )));
                }
                py.detach(|| w.write_audio::<T>(id, t_ns, v)).py_err()
            })
        })
    }

    /// Writes one event: `kind` ("takeover_start", "takeover_end", "note", "failure", ...),
    /// the `operator`, free `text`, and any JSON-serialisable `payload`.
    #[pyo3(signature = (name, t_ns, kind, operator="", text="", payload=None))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
    fn write_event(
        &mut self,
        py: Python<'_>,
        name: &str,
        t_ns: i64,
        kind: &str,
        operator: &str,
        text: &str,
        payload: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let (id, _) = self.id_and_info(name)?;
        let payload = match payload {
            Some(p) => to_json(p)?,
            None => serde_json::Value::Null,
        };
        let e = Event::new(kind)
            .with_operator(operator)
            .with_text(text)
            .with_payload(payload);
        let w = self.writer()?;
        py.detach(|| w.write_event(id, t_ns, &e)).py_err()
    }

    /// Writes every open chunk to the file now.
    fn flush(&mut self, py: Python<'_>) -> PyResult<()> {
        let w = self.writer()?;
        py.detach(|| w.flush()).py_err()
    }

    /// What `close()` returned (None while the writer is open): after a `with` block, the
    /// summary of the file it wrote.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyDict>> {
        self.summary.as_ref().map(|d| d.bind(py).clone())
    }

    /// Finishes the file (footer, trailer, sync) and returns a summary dict. Idempotent: a
    /// second call returns the same summary.
    fn close<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        if let Some(d) = &self.summary {
            return Ok(d.bind(py).clone());
        }
        let d = PyDict::new(py);
        d.set_item("path", self.path.clone())?;
        if let Some(w) = self.inner.take() {
            let s = py.detach(|| w.finish()).py_err()?;
            d.set_item("bytes", s.bytes)?;
            d.set_item("chunks", s.chunks)?;
            let samples = PyDict::new(py);
            for (k, n) in s.samples {
                samples.set_item(k, n)?;
            }
            d.set_item("samples", samples)?;
            let queues = PyList::empty(py);
            for q in s.frame_queues {
                let e = PyDict::new(py);
                e.set_item("stream", q.stream)?;
                e.set_item("capacity", q.capacity)?;
                e.set_item("peak", q.peak)?;
                e.set_item("full", q.full)?;
                e.set_item("waited_s", q.waited.as_secs_f64())?;
                queues.append(e)?;
            }
            d.set_item("frame_queues", queues)?;
            self.summary = Some(d.clone().unbind());
        }
        Ok(d)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&mut self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "EpisodeWriter({:?}, {})",
            self.path.display().to_string(),
            if self.inner.is_some() {
                "open"
            } else {
                "closed"
            }
        )
    }
}
