//! Edits from Python: trim, split, merge, redact, transcode, drop_streams, rename_stream and
//! relabel (each writes new files; inputs are never modified). A key or passphrase lets an
//! edit decode encrypted streams it must rewrite.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rmf_core::edit::RewriteReport;
use rmf_core::WriteOptions;

use crate::convert::to_json;
use crate::errors::IntoPy;
use crate::interrupt::interruptible;

/// The writer settings of an edit: its key and whether `output` may replace a file
/// (`overwrite`, as everywhere: refused by default).
fn options(
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<WriteOptions> {
    let opts = WriteOptions::default().with_overwrite(overwrite);
    crate::keys::with_secret(opts, key, passphrase)
}

fn report<'py>(py: Python<'py>, r: &RewriteReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("output", &r.output)?;
    d.set_item("input_bytes", r.input_bytes)?;
    d.set_item("output_bytes", r.output_bytes)?;
    Ok(d)
}

/// Writes `output`: a new episode with the samples of `from_ns <= t < to_ns` of every stream.
/// Returns a dict: output, input_bytes, output_bytes.
#[pyfunction]
#[pyo3(signature = (input, output, from_ns, to_ns, key=None, passphrase=None, overwrite=false))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn trim<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    from_ns: i64,
    to_ns: i64,
    key: Option<&Bound<'py, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options(key, passphrase, overwrite)?;
    let r = interruptible(py, move || {
        rmf_core::edit::trim(&input, &output, from_ns, to_ns, opts)
    })?
    .py_err()?;
    report(py, &r)
}

/// Splits `input` at the times `at_ns` (and at every event of kind `at_event`) into
/// `out_dir/<name>-part000.rmf`, ...; returns the files written.
#[pyfunction]
#[pyo3(signature = (input, out_dir, at_ns=None, at_event=None, key=None, passphrase=None, overwrite=false))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn split(
    py: Python<'_>,
    input: PathBuf,
    out_dir: PathBuf,
    at_ns: Option<Vec<i64>>,
    at_event: Option<String>,
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Vec<PathBuf>> {
    let opts = options(key, passphrase, overwrite)?;
    let parts = interruptible(py, move || {
        let mut cuts = at_ns.unwrap_or_default();
        if let Some(kind) = at_event {
            let r = rmf_core::EpisodeReader::open_with(&input, opts.read_options())?;
            cuts.extend(rmf_core::edit::event_times(&r, &kind)?);
        }
        rmf_core::edit::split(&input, &out_dir, &cuts, opts)
    })?
    .py_err()?;
    Ok(parts.into_iter().map(|p| p.output).collect())
}

/// Joins episodes with the same streams into `output`, in time order (they must not overlap).
#[pyfunction]
#[pyo3(signature = (inputs, output, overwrite=false))]
pub fn merge<'py>(
    py: Python<'py>,
    inputs: Vec<PathBuf>,
    output: PathBuf,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = WriteOptions::default().with_overwrite(overwrite);
    let r = interruptible(py, move || rmf_core::edit::merge(&inputs, &output, opts))?.py_err()?;
    report(py, &r)
}

/// Writes `output`: `input` with stream `stream` blanked in `from_ns <= t < to_ns`, logged
/// as a `redaction` event in the `rmf/redactions` stream.
#[pyfunction]
#[pyo3(signature = (input, output, stream, from_ns, to_ns, reason="", key=None, passphrase=None, overwrite=false))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn redact<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    stream: String,
    from_ns: i64,
    to_ns: i64,
    reason: &str,
    key: Option<&Bound<'py, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options(key, passphrase, overwrite)?;
    let reason = reason.to_string();
    let r = interruptible(py, move || {
        rmf_core::edit::redact(&input, &output, &stream, from_ns, to_ns, &reason, opts)
    })?
    .py_err()?;
    report(py, &r)
}

/// Writes `output`: `input` with its frame streams re-encoded with `codec` ("h264", "jpeg",
/// "png" or "raw"; `quality` for jpeg, `qp` and `gop` for h264), all of them or those named in
/// `streams`; every other stream is copied chunk for chunk, and gray16 (depth) stays lossless.
/// `zstd_level` (-7..=22, default 3) compresses what is written anew, raw frames above all.
/// `input` is not modified; `output` is renamed into place when complete. Returns a dict:
/// input_bytes, output_bytes, and per stream (name, from codec or None if copied, why it was
/// copied, samples, bytes before, bytes after). Encrypted streams are read and sealed again
/// with `key` or `passphrase`.
#[pyfunction]
#[pyo3(signature = (input, output, codec, quality=None, qp=None, gop=None, streams=None, zstd_level=None, key=None, passphrase=None, overwrite=false))]
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
    key: Option<&Bound<'py, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mut write = options(key, passphrase, overwrite)?;
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

/// Writes `output`: `input` without the streams `streams`. Returns a dict: output,
/// input_bytes, output_bytes.
#[pyfunction]
#[pyo3(signature = (input, output, streams, key=None, passphrase=None, overwrite=false))]
pub fn drop_streams<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    streams: Vec<String>,
    key: Option<&Bound<'py, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options(key, passphrase, overwrite)?;
    let r = interruptible(py, move || {
        rmf_core::edit::drop_streams(&input, &output, &streams, opts)
    })?
    .py_err()?;
    report(py, &r)
}

/// Writes `output`: `input` with stream `old` named `new`. Returns a dict: output,
/// input_bytes, output_bytes.
#[pyfunction]
#[pyo3(signature = (input, output, old, new, key=None, passphrase=None, overwrite=false))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn rename_stream<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    old: String,
    new: String,
    key: Option<&Bound<'py, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options(key, passphrase, overwrite)?;
    let r = interruptible(py, move || {
        rmf_core::edit::rename_stream(&input, &output, &old, &new, opts)
    })?
    .py_err()?;
    report(py, &r)
}

/// Writes `output`: `input` with new labels, stream tags or episode metadata; samples are
/// copied unchanged. `sensitivity`: stream -> "public" | "internal" | "private"; `tags`:
/// stream -> {key: value} (an empty value removes the tag); `meta`: key -> value (`robot`,
/// `task`, `operator`, or a free key, which None removes); `add_tags` / `remove_tags`: episode
/// tags in `extra.tags`. With `key` / `passphrase`, a stream newly labelled private is
/// encrypted. Returns a dict: output, input_bytes, output_bytes.
#[pyfunction]
#[pyo3(signature = (input, output, sensitivity=None, tags=None, meta=None, add_tags=None, remove_tags=None, key=None, passphrase=None, overwrite=false))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn relabel<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    sensitivity: Option<Bound<'py, PyDict>>,
    tags: Option<Bound<'py, PyDict>>,
    meta: Option<Bound<'py, PyDict>>,
    add_tags: Option<Vec<String>>,
    remove_tags: Option<Vec<String>>,
    key: Option<&Bound<'py, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mut changes = rmf_core::edit::Relabel {
        add_tags: add_tags.unwrap_or_default(),
        remove_tags: remove_tags.unwrap_or_default(),
        ..Default::default()
    };
    for (stream, label) in sensitivity.iter().flat_map(|d| d.iter()) {
        let label: String = label.extract()?;
        let label = rmf_core::Sensitivity::parse(&label).py_err()?;
        changes.sensitivity.push((stream.extract()?, label));
    }
    for (stream, kv) in tags.iter().flat_map(|d| d.iter()) {
        let stream: String = stream.extract()?;
        let kv = kv
            .cast_into::<PyDict>()
            .map_err(|_| PyTypeError::new_err("tags maps a stream to a dict of its tags"))?;
        for (k, v) in kv.iter() {
            changes
                .tags
                .push((stream.clone(), k.extract()?, v.extract()?));
        }
    }
    for (k, v) in meta.iter().flat_map(|d| d.iter()) {
        changes.meta.push((k.extract()?, to_json(&v)?));
    }
    let opts = options(key, passphrase, overwrite)?;
    let r = interruptible(py, move || {
        rmf_core::edit::relabel(&input, &output, &changes, opts)
    })?
    .py_err()?;
    report(py, &r)
}
