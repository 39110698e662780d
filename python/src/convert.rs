//! Python values in: anything numpy can read as a one-dimensional float array.

use crate::errors;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

/// `values` (a list, numpy array, pandas Series, …) as float64 numbers; `what` names it in
/// the error.
pub fn f64_vec(values: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f64>> {
    let np = values.py().import("numpy")?;
    let array = np
        .call_method1("asarray", (values, "float64"))
        .map_err(|e| errors::value_error(format!("{what}: not numbers ({e})")))?;
    let array: PyReadonlyArray1<'_, f64> = array
        .extract()
        .map_err(|_| errors::value_error(format!("{what}: expected a one-dimensional array")))?;
    Ok(match array.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => array.as_array().iter().copied().collect(),
    })
}
