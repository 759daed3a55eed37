//! Long calls that Ctrl-C can stop: the work runs on its own thread while the calling thread
//! waits without the GIL and lets Python handle signals.

use pyo3::prelude::*;

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
