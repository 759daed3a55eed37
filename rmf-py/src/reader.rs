//! `rmf.open` and `rmf.Episode`; the helpers every reading call shares (Ctrl-C while waiting,
//! the unknown-stream error).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rmf_core::{EpisodeReader, StreamInfo, StreamKind};
use rmf_store::Location;

use crate::convert::from_json;
use crate::errors::IntoPy;
use crate::inspect::RecoveryReport;
use crate::interrupt::interruptible;
use crate::stream::Stream;

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

/// Opens an RMF file: a path (memory-mapped; reads only its footer) or an object-store URL
/// (`s3://`, `gs://`, `az://`, `http(s)://`: one range request for the footer, then only the
/// chunks read). A file without a footer (a crash) opens by scanning its chunks;
/// `Episode.recovery` then says what was kept. `key` (32 bytes or a key-file path) or
/// `passphrase` opens encrypted (private) streams; without it they raise `RmfError` with kind
/// "encrypted", and a wrong one raises kind "wrong_key" here.
#[pyfunction]
#[pyo3(signature = (path, key=None, passphrase=None, storage_options=None, max_kdf_cost=None))]
pub fn open(
    py: Python<'_>,
    path: PathBuf,
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
    storage_options: Option<&Bound<'_, PyDict>>,
    max_kdf_cost: Option<u64>,
) -> PyResult<Episode> {
    let loc = Location::from(path.as_path());
    let mut opts = crate::keys::read_options(key, passphrase)?;
    if let Some(cost) = max_kdf_cost {
        opts = opts.with_max_kdf_cost(cost);
    }
    let store = crate::storage::store_options(storage_options)?;
    let l = loc.clone();
    let reader = interruptible(py, move || rmf_store::open(&l, opts, &store))?.py_err()?;
    if let Some(r) = reader.recovery() {
        // A crash's file reads, but the user should know it was not whole.
        let msg = format!(
            "{loc}: {}; opened by scanning its records: {} intact chunks ({} samples) kept, {} damaged stretches ({} bytes) skipped. Episode.recovery has the details; rmf.recover writes a complete copy",
            r.why,
            r.chunks,
            r.samples,
            r.damage.len(),
            r.damaged_bytes(),
        );
        let category = py.get_type::<pyo3::exceptions::PyRuntimeWarning>();
        PyErr::warn(
            py,
            &category,
            &std::ffi::CString::new(msg).unwrap_or_default(),
            1,
        )?;
    }
    Ok(Episode {
        reader: Arc::new(reader),
        path: loc,
    })
}

/// Copies an episode, or a directory / URL prefix ending in `/` with everything under it,
/// between local disk and object stores; each copy appears whole or not at all and is verified.
/// Returns `{"files": [{"from", "to", "bytes"}], "bytes": total}`.
#[pyfunction]
#[pyo3(signature = (src, dst, storage_options=None))]
pub fn copy<'py>(
    py: Python<'py>,
    src: PathBuf,
    dst: PathBuf,
    storage_options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let store = crate::storage::store_options(storage_options)?;
    // A trailing `/` says "into this directory"; PathBuf keeps it.
    let (s, d) = (
        Location::parse(&src.to_string_lossy()),
        Location::parse(&dst.to_string_lossy()),
    );
    let report = interruptible(py, move || rmf_store::copy(&s, &d, &store))?.py_err()?;
    let out = PyDict::new(py);
    let files = PyList::empty(py);
    for (from, to, n) in &report.files {
        let f = PyDict::new(py);
        f.set_item("from", from)?;
        f.set_item("to", to)?;
        f.set_item("bytes", n)?;
        files.append(f)?;
    }
    out.set_item("files", files)?;
    out.set_item("bytes", report.bytes())?;
    Ok(out)
}

/// An open episode: metadata, streams by name, time span.
#[pyclass(module = "rmf._rmf", frozen)]
pub struct Episode {
    reader: Arc<EpisodeReader>,
    path: Location,
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
            Ok(s) => Ok(Stream::new(self.reader.clone(), s.info().clone())),
            Err(_) => Err(unknown_stream(py, name, &self.names())),
        }
    }
}

#[pymethods]
impl Episode {
    /// The file: a `pathlib.Path`, or the URL (`str`) of an object in a store.
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.path {
            Location::Local(p) => p.clone().into_pyobject(py).map(|o| o.into_any()),
            Location::Remote(u) => Ok(pyo3::types::PyString::new(py, u).into_any()),
        }
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
            self.path.to_string(),
            self.names().join(", "),
            if self.reader.recovery().is_some() {
                ", recovered"
            } else {
                ""
            }
        )
    }
}
