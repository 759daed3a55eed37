//! `rmf._rmf`: the native half of the `rmf` Python package. Thin wrappers over rmf-core; the
//! Python facade (`python/rmf/__init__.py`) re-exports them.
//!
//! Every decode and I/O call runs with the GIL released (`py.detach`), sample arrays are numpy
//! arrays that own the Rust vectors they were decoded into (no copy), and Arrow data goes to
//! pyarrow through the C stream interface.

mod convert;
mod dataset;
mod edits;
mod errors;
mod formats;
mod inspect;
mod interrupt;
mod keys;
mod reader;
mod share;
mod storage;
mod stream;
mod writer;

use pyo3::prelude::*;

/// Decoded frames are large, short-lived buffers (a 640x480 RGB frame is 900 KiB, a training
/// sample holds two or more). glibc's malloc hands such blocks back to the kernel when they are
/// freed, depending on what the process allocated before, and then zero-fills fresh pages for
/// the next sample, which made JPEG sampling up to a third slower on some datasets; mimalloc
/// reuses them (benches/README.md, "Numbers behind the defaults").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The native module.
#[pymodule]
fn _rmf(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("RmfError", m.py().get_type::<errors::RmfError>())?;
    m.add("RemoteError", m.py().get_type::<errors::RemoteError>())?;
    m.add_function(wrap_pyfunction!(reader::copy, m)?)?;
    m.add_class::<writer::EpisodeWriter>()?;
    m.add_class::<reader::Episode>()?;
    m.add_class::<stream::Stream>()?;
    m.add_class::<inspect::RecoveryReport>()?;
    m.add_class::<dataset::DatasetCore>()?;
    m.add_class::<dataset::SampleStream>()?;
    m.add_function(wrap_pyfunction!(dataset::build_index, m)?)?;
    m.add_function(wrap_pyfunction!(dataset::index_table, m)?)?;
    m.add_function(wrap_pyfunction!(reader::open, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::recover, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::validate, m)?)?;
    m.add_function(wrap_pyfunction!(inspect::cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(share::share, m)?)?;
    m.add_function(wrap_pyfunction!(share::verify_provenance, m)?)?;
    m.add_function(wrap_pyfunction!(keys::generate_key, m)?)?;
    m.add_function(wrap_pyfunction!(edits::trim, m)?)?;
    m.add_function(wrap_pyfunction!(edits::split, m)?)?;
    m.add_function(wrap_pyfunction!(edits::merge, m)?)?;
    m.add_function(wrap_pyfunction!(edits::redact, m)?)?;
    m.add_function(wrap_pyfunction!(keys::key_id, m)?)?;
    m.add_function(wrap_pyfunction!(edits::transcode, m)?)?;
    m.add_function(wrap_pyfunction!(edits::drop_streams, m)?)?;
    m.add_function(wrap_pyfunction!(edits::rename_stream, m)?)?;
    m.add_function(wrap_pyfunction!(edits::relabel, m)?)?;
    m.add_function(wrap_pyfunction!(formats::export, m)?)?;
    m.add_function(wrap_pyfunction!(formats::import_mcap, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
