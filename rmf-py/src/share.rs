//! `rmf.share` and `rmf.verify_provenance`: what leaves the building, and proof of where it
//! came from.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::from_json;
use crate::errors::IntoPy;
use crate::interrupt::interruptible;

/// Copies the episodes of `input` that carry every tag of `require_tags` into `output`, keeping
/// only streams labelled up to `max_label` ("public" or "internal") and not in `drop_streams`;
/// each copy records its provenance. Returns a dict: `shared` (list of dicts: source, output,
/// provenance) and `left_out` (list of (file, reason)). `input` and `output` may be
/// object-store prefixes (`s3://...`).
#[pyfunction]
#[pyo3(signature = (input, output, max_label, drop_streams=None, require_tags=None, storage_options=None))]
#[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
pub fn share<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: PathBuf,
    max_label: &str,
    drop_streams: Option<Vec<String>>,
    require_tags: Option<Vec<String>>,
    storage_options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let store = crate::storage::store_options(storage_options)?;
    let (input, output) = (
        rmf_store::Location::from(input.as_path()),
        rmf_store::Location::from(output.as_path()),
    );
    let opts =
        rmf_dataset::share::ShareOptions::new(rmf_core::Sensitivity::parse(max_label).py_err()?)
            .with_drop_streams(drop_streams.unwrap_or_default())
            .with_require_tags(require_tags.unwrap_or_default());
    let r = interruptible(py, move || {
        rmf_dataset::share::share_at(&input, &output, &opts, &store)
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
