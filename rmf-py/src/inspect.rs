//! `rmf.recover` and `rmf.validate`: whole-file checks, interruptible with Ctrl-C; and the `rmf`
//! command run in process.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::IntoPy;
use crate::interrupt::interruptible;

/// Writes a complete copy of a truncated or damaged file to `output`, holding every intact
/// chunk; returns a `RecoveryReport`.
/// `overwrite` replaces an existing `output` (refused by default, as everywhere).
#[pyfunction]
#[pyo3(signature = (input, output, overwrite=false))]
pub fn recover(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    overwrite: bool,
) -> PyResult<RecoveryReport> {
    let opts = rmf_core::WriteOptions::default().with_overwrite(overwrite);
    let report =
        interruptible(py, move || rmf_core::recover_with(&input, &output, &opts))?.py_err()?;
    Ok(RecoveryReport { inner: report })
}

/// Checks a file completely (every checksum, the index, every chunk). Returns a list of problem
/// strings: empty when the file is valid. Without `key` / `passphrase`, chunks of encrypted
/// streams are checked by their checksums only. `path` may be an object-store URL (with
/// `storage_options` as in `open`): the whole file is fetched, then checked.
#[pyfunction]
#[pyo3(signature = (path, key=None, passphrase=None, storage_options=None))]
pub fn validate(
    py: Python<'_>,
    path: PathBuf,
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
    storage_options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<String>> {
    let opts = crate::keys::read_options(key, passphrase)?;
    let store = crate::storage::store_options(storage_options)?;
    let loc = rmf_store::Location::from(path.as_path());
    let report = interruptible(py, move || {
        rmf_store::open(&loc, opts, &store).and_then(|r| rmf_core::validate_reader(&r))
    })?
    .py_err()?;
    Ok(report.problems.iter().map(ToString::to_string).collect())
}

/// What recovery kept and lost.
#[pyclass(module = "rmf._rmf", frozen)]
pub struct RecoveryReport {
    pub(crate) inner: rmf_core::RecoveryReport,
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

/// Runs the `rmf` command line `argv` (the program name first) in this process and returns its
/// exit code: what the `rmf` script that pip installs calls.
#[pyfunction]
pub fn cli_main(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> u8 {
    let code = py.detach(|| rmf_cli::run(argv));
    // Python exits without Rust's runtime: its buffered stdout is flushed here.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    code
}
