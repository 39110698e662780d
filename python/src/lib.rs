//! `lrsde._lrsde`: the Python extension module behind `import lrsde`.
//!
//! A thin layer over the `lrsde` library: arguments are converted, the library does the work
//! with the GIL released, results come back as numpy arrays (wrapped in pandas DataFrames when
//! pandas is installed). Nothing here computes what the library computes.

mod batch;
mod blocking;
mod convert;
mod curve;
mod errors;
mod fit;
mod frame;
mod schedule;
mod simulate;

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The Step Law's optimal peak LR and batch size (Li et al. 2025) for `params` non-embedding
/// parameters and `tokens` training tokens, as a dict `{"peak_lr", "batch_tokens"}`.
///
/// >>> lrsde.steplaw(params=1e9, tokens=1e11)["peak_lr"]  # doctest: +ELLIPSIS
/// 0.00...
#[pyfunction]
#[pyo3(signature = (*, params, tokens))]
fn steplaw(py: Python<'_>, params: f64, tokens: f64) -> PyResult<Bound<'_, PyDict>> {
    let law = lrsde::rank::step_law(params, tokens).ok_or_else(|| {
        errors::value_error(format!(
            "params and tokens must be positive and finite (got {params} and {tokens})"
        ))
    })?;
    let out = PyDict::new(py);
    out.set_item("peak_lr", law.peak_lr)?;
    out.set_item("batch_tokens", law.batch_tokens)?;
    Ok(out)
}

#[pymodule]
fn _lrsde(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<schedule::Schedule>()?;
    m.add_class::<curve::Curve>()?;
    m.add_class::<fit::Fit>()?;
    m.add_function(wrap_pyfunction!(simulate::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(curve::read_curve, m)?)?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(fit::load_fit, m)?)?;
    m.add_function(wrap_pyfunction!(steplaw, m)?)?;
    m.add("DEFAULT_LAW", lrsde::assess::DEFAULT_LAW)?;
    m.add(
        "DEFAULT_LOSS_COLUMNS",
        lrsde::data::DEFAULT_LOSS_COLUMNS.to_vec(),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
