//! Conversions between Python objects and rmf-core values: JSON through Python's `json`, numbers
//! through numpy (borrowed when the array is contiguous and of the right dtype).

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A Python object (dict, list, number, ...) as JSON.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let text: String = obj
        .py()
        .import("json")?
        .call_method1("dumps", (obj,))
        .map_err(|e| PyValueError::new_err(format!("not JSON-serialisable: {e}")))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A JSON value as a Python object.
pub fn from_json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (v.to_string(),))
}

/// Runs `f` on the elements of `obj` as `T` (row-major) and its shape. An ndarray must already
/// have dtype `T` (no silent casts); lists and scalars are converted with `numpy.asarray`.
pub fn with_array<T, R>(
    obj: &Bound<'_, PyAny>,
    dtype: rmf_core::DType,
    what: &str,
    f: impl FnOnce(&[T], &[usize]) -> PyResult<R>,
) -> PyResult<R>
where
    T: numpy::Element + Copy,
{
    let py = obj.py();
    let np = py.import("numpy")?;
    let is_array = obj.is_instance(&np.getattr("ndarray")?)?;
    let converted;
    let source = if is_array {
        obj
    } else {
        converted = np
            .call_method1("asarray", (obj, dtype.name()))
            .map_err(|e| {
                PyValueError::new_err(format!(
                    "{what}: cannot convert to a {} array: {e}",
                    dtype.name()
                ))
            })?;
        &converted
    };
    let array = source.cast::<PyArrayDyn<T>>().map_err(|_| {
        let found = source
            .getattr("dtype")
            .map(|d| d.to_string())
            .unwrap_or_else(|_| "?".into());
        PyValueError::new_err(format!(
            "{what}: expected a {} array, got dtype {found}",
            dtype.name()
        ))
    })?;
    let ro = array.readonly();
    let shape = ro.shape().to_vec();
    match ro.as_slice() {
        Ok(slice) => f(slice, &shape),
        Err(_) => {
            let owned: Vec<T> = ro.as_array().iter().copied().collect();
            f(&owned, &shape)
        }
    }
}
