//! Object-store settings from Python (`storage_options`, a local cache): shared by everything
//! that opens URLs (episodes, validate, datasets, share).

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use rmf_store::StoreOptions;

/// Settings of object stores from Python's `storage_options` (values as strings).
pub fn store_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<StoreOptions> {
    let mut o = StoreOptions::default();
    for (k, v) in options.into_iter().flat_map(|d| d.iter()) {
        o = o.with_option(k.str()?.to_string(), v.str()?.to_string());
    }
    Ok(o)
}

/// [`store_options`] with a local cache of fetched bytes (`cache_dir`, at most `cache_bytes`).
pub fn store_options_cached(
    options: Option<&Bound<'_, PyDict>>,
    cache_dir: Option<PathBuf>,
    cache_bytes: u64,
) -> PyResult<StoreOptions> {
    let o = store_options(options)?;
    Ok(match cache_dir {
        Some(d) => o.with_cache_dir(d, cache_bytes),
        None => o,
    })
}
