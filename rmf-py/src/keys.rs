//! Keys from Python: 32 raw bytes, a path to a key file, or a passphrase.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rmf_core::{Key, ReadOptions, Secret, WriteOptions};

use crate::errors::IntoPy;

/// `key`: bytes (32 raw bytes), str or os.PathLike (a key file); `passphrase`: str. At most one.
pub fn secret(
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
) -> PyResult<Option<Secret>> {
    match (key, passphrase) {
        (Some(_), Some(_)) => Err(PyTypeError::new_err("give key or passphrase, not both")),
        (None, Some(p)) => Ok(Some(Secret::passphrase(p))),
        (None, None) => Ok(None),
        (Some(k), None) => {
            if let Ok(b) = k.cast::<PyBytes>() {
                return Key::from_bytes(b.as_bytes())
                    .py_err()
                    .map(|k| Some(Secret::Key(k)));
            }
            match k.extract::<PathBuf>() {
                Ok(path) => Key::from_file(&path).py_err().map(|k| Some(Secret::Key(k))),
                Err(_) => Err(PyTypeError::new_err(
                    "key must be 32 bytes or a path to a key file",
                )),
            }
        }
    }
}

/// Reader settings that open encrypted streams with the key or passphrase given, if any.
pub fn read_options(
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
) -> PyResult<ReadOptions> {
    Ok(match secret(key, passphrase)? {
        Some(s) => ReadOptions::default().with_secret(s),
        None => ReadOptions::default(),
    })
}

/// `opts` with the key or passphrase given, if any (private streams are encrypted under it).
pub fn with_secret(
    opts: WriteOptions,
    key: Option<&Bound<'_, PyAny>>,
    passphrase: Option<String>,
) -> PyResult<WriteOptions> {
    Ok(match secret(key, passphrase)? {
        Some(s) => opts.with_secret(s),
        None => opts,
    })
}

/// A new random key: 32 bytes from the operating system. Write it with `rmf keygen FILE` or
/// keep the bytes somewhere safe: without it, encrypted streams cannot be read.
#[pyfunction]
pub fn generate_key(py: Python<'_>) -> PyResult<Py<PyBytes>> {
    let k = Key::generate().py_err()?;
    Ok(PyBytes::new(py, k.as_bytes()).unbind())
}

/// The public id (16 hex digits) of a key given as in `secret`.
#[pyfunction]
pub fn key_id(key: &Bound<'_, PyAny>) -> PyResult<String> {
    match secret(Some(key), None)? {
        Some(Secret::Key(k)) => Ok(k.id()),
        _ => Err(PyTypeError::new_err(
            "key must be 32 bytes or a path to a key file",
        )),
    }
}
