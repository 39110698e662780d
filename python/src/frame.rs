//! Tables returned to Python: a pandas DataFrame when pandas is installed, else a dict of
//! numpy arrays (same column names and order either way).

use pyo3::exceptions::PyImportError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Builds the table from `(column, array)` pairs without copying the arrays into pandas.
pub fn frame<'py>(
    py: Python<'py>,
    columns: Vec<(&str, Bound<'py, PyAny>)>,
) -> PyResult<Bound<'py, PyAny>> {
    let dict = PyDict::new(py);
    for (name, values) in columns {
        dict.set_item(name, values)?;
    }
    match py.import("pandas") {
        Ok(pd) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("copy", false)?;
            pd.getattr("DataFrame")?.call((dict,), Some(&kwargs))
        }
        Err(e) if e.is_instance_of::<PyImportError>(py) => Ok(dict.into_any()),
        Err(e) => Err(e),
    }
}
