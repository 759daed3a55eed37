//! Data in from and out to other formats: `rmf.export` (a stream as a Parquet or CSV table) and
//! `rmf.import_mcap` (a ROS 2 bag as an episode), with the options of `rmf export` and
//! `rmf import-mcap`.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rmf_dataset::export::{export_stream_with, TableFormat};
use rmf_import::mcap::{import_mcap as import, McapImportOptions, TimeSource};

use crate::convert::from_json;
use crate::errors::IntoPy;
use crate::interrupt::interruptible;

/// Writes stream `stream` of episode `file` as a table to `output` (an existing file only with
/// `overwrite`): Parquet (any stream) or CSV (signals and events), chosen by `format`
/// ("parquet" or "csv") or else by `output`'s extension. Columns: `t` (int64 ns), then the
/// elements (named by the stream's axis names), or kind, operator, text, payload (events),
/// samples (audio), frame (decoded pixels). Returns a dict: output, stream, rows.
#[pyfunction]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
#[pyo3(signature = (file, stream, output, format=None, key=None, passphrase=None, overwrite=false))]
pub fn export<'py>(
    py: Python<'py>,
    file: PathBuf,
    stream: String,
    output: PathBuf,
    format: Option<&str>,
    key: Option<&Bound<'py, PyAny>>,
    passphrase: Option<String>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let format = match format {
        Some("parquet") => TableFormat::Parquet,
        Some("csv") => TableFormat::Csv,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "format must be \"parquet\" or \"csv\", not {other:?}"
            )))
        }
        None => TableFormat::from_path(&output).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{}: give format=\"parquet\" or \"csv\" (the extension does not say)",
                output.display()
            ))
        })?,
    };
    let opts = crate::keys::read_options(key, passphrase)?;
    let (out, name) = (output.clone(), stream.clone());
    let rows = interruptible(py, move || {
        let r = rmf_core::EpisodeReader::open_with(&file, opts)?;
        export_stream_with(&r, &name, &out, format, overwrite)
    })?
    .py_err_in(&stream)?;
    let d = PyDict::new(py);
    d.set_item("output", output)?;
    d.set_item("stream", stream)?;
    d.set_item("rows", rows)?;
    Ok(d)
}

/// Makes the episode `output` from the MCAP file `input` (a ROS 2 bag), as `rmf import-mcap`
/// does: Image and CompressedImage become frames, JointState, Imu and WrenchStamped float64
/// signals, audio_common_msgs audio; other types `raw` events unless `skip_unknown`. Samples
/// are stamped with the header stamp, or the MCAP log time with `log_time=True`. `topics`
/// selects topics; `codec` ("h264" default, "jpeg", "png", "raw") with `quality` / `qp` /
/// `gop` stores rgb8 and gray8 images (depth stays png). Returns the import report as a dict
/// (what became of every topic).
#[pyfunction]
#[pyo3(signature = (input, output, log_time=false, skip_unknown=false, topics=None, codec=None, quality=None, qp=None, gop=None, overwrite=false))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn import_mcap<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    log_time: bool,
    skip_unknown: bool,
    topics: Option<Vec<String>>,
    codec: Option<&str>,
    quality: Option<u8>,
    qp: Option<u8>,
    gop: Option<u32>,
    overwrite: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let time = if log_time {
        TimeSource::LogTime
    } else {
        TimeSource::HeaderStamp
    };
    let mut opts = McapImportOptions::default()
        .with_time_source(time)
        .with_keep_unknown(!skip_unknown)
        .with_codec_settings(quality, qp, gop)
        .with_overwrite(overwrite);
    for topic in topics.unwrap_or_default() {
        opts = opts.with_topic(topic);
    }
    if let Some(codec) = codec {
        opts = opts.with_color_codec(rmf_core::FrameCodec::parse(codec).py_err()?);
    }
    let report = interruptible(py, move || import(&input, &output, &opts))?.py_err()?;
    let json = serde_json::to_value(&report)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    from_json(py, &json)
}
