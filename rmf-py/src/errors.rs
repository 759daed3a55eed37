//! rmf-core errors as the Python exceptions people expect.

use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyMemoryError, PyOSError, PyPermissionError,
    PyValueError,
};
use pyo3::prelude::*;

pyo3::create_exception!(
    rmf,
    RmfError,
    PyOSError,
    "A damaged or unreadable RMF file. Attributes: `file`, `stream` (or None), `offset` (byte \
     offset or None), `kind` (not_rmf, unsupported_version, truncated, checksum, malformed, too_large, \
     writer_failed, encoder_behind, encrypted (no key given), wrong_key, authentication (sealed \
     bytes changed))."
);

pyo3::create_exception!(
    rmf,
    RemoteError,
    PyOSError,
    "A request to an object store failed (after retries when the failure was transient). \
     Attributes: `url`, `op` (get, put, list, verify), `range` ((start, end) or None), \
     `status` (HTTP status or None), `attempts`."
);

/// Converts an rmf-core error: missing file -> FileNotFoundError, caller mistakes -> ValueError,
/// damaged files -> RmfError (an OSError) carrying file and byte offset.
pub fn to_py(e: rmf_core::Error) -> PyErr {
    to_py_in(e, None)
}

/// [`to_py`], naming the stream being read in the message and in `RmfError.stream`.
pub fn to_py_in(e: rmf_core::Error, stream: Option<&str>) -> PyErr {
    use rmf_core::Error as E;
    let msg = match stream {
        Some(s) if e.is_data_error() => format!("stream {s:?}: {e}"),
        _ => e.to_string(),
    };
    let kind = match &e {
        E::Remote {
            url,
            op,
            range,
            status,
            attempts,
            ..
        } => {
            return match status {
                Some(404) => PyFileNotFoundError::new_err(msg),
                Some(401 | 403) => PyPermissionError::new_err(msg),
                _ => Python::attach(|py| {
                    let err = RemoteError::new_err(msg);
                    let value = err.value(py);
                    // Best effort: the message names all of it too.
                    let _ = value.setattr("url", url.as_str());
                    let _ = value.setattr("op", *op);
                    let _ = value.setattr("range", *range);
                    let _ = value.setattr("status", *status);
                    let _ = value.setattr("attempts", *attempts);
                    err
                }),
            };
        }
        E::Io { source, .. } => {
            return match source.kind() {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(msg),
                std::io::ErrorKind::AlreadyExists => PyFileExistsError::new_err(msg),
                std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(msg),
                _ => PyOSError::new_err(msg),
            }
        }
        E::OverBudget { .. } | E::OutOfMemory { .. } => return PyMemoryError::new_err(msg),
        E::UnknownStream { .. }
        | E::DuplicateStream { .. }
        | E::TimeWentBackwards { .. }
        | E::Mismatch { .. }
        | E::InvalidArgument(_)
        | E::NoSampleNear { .. }
        | E::WriterFinished { .. } => return PyValueError::new_err(msg),
        E::NotRmf { .. } => "not_rmf",
        E::UnsupportedVersion { .. } => "unsupported_version",
        E::Truncated { .. } => "truncated",
        E::Checksum { .. } => "checksum",
        E::Malformed { .. } => "malformed",
        E::TooLarge { .. } => "too_large",
        E::WriterFailed { .. } => "writer_failed",
        E::EncoderBehind { .. } => "encoder_behind",
        E::Encrypted { .. } => "encrypted",
        E::WrongKey { .. } => "wrong_key",
        E::Authentication { .. } => "authentication",
        _ => "other",
    };
    let file = match &e {
        E::NotRmf { file, .. }
        | E::UnsupportedVersion { file, .. }
        | E::Truncated { file, .. }
        | E::Checksum { file, .. }
        | E::Malformed { file, .. }
        | E::TooLarge { file, .. }
        | E::Encrypted { file, .. }
        | E::WrongKey { file, .. }
        | E::Authentication { file, .. } => Some(file.clone()),
        E::WriterFailed { path, .. } => Some(path.display().to_string()),
        _ => None,
    };
    let offset = e.offset();
    Python::attach(|py| {
        let err = RmfError::new_err(msg);
        let value = err.value(py);
        // Attributes are best effort: the message already carries file and offset.
        let _ = value.setattr("kind", kind);
        let _ = value.setattr("file", file);
        let _ = value.setattr("offset", offset);
        let _ = value.setattr("stream", stream);
        err
    })
}

/// `Result<T, rmf_core::Error>` into `PyResult<T>`.
pub trait IntoPy<T> {
    /// Converts the error with [`to_py`].
    fn py_err(self) -> PyResult<T>;
    /// Converts the error with [`to_py_in`].
    fn py_err_in(self, stream: &str) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, rmf_core::Error> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
    fn py_err_in(self, stream: &str) -> PyResult<T> {
        self.map_err(|e| to_py_in(e, Some(stream)))
    }
}

/// A bad dtype, pixel format or codec name (or a codec setting given to the wrong codec) is a
/// `ValueError`, as the same error from rmf-core is.
impl<T> IntoPy<T> for Result<T, rmf_core::codecs::InvalidName> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(|e| to_py(e.into()))
    }
    fn py_err_in(self, stream: &str) -> PyResult<T> {
        self.map_err(|e| to_py_in(e.into(), Some(stream)))
    }
}
