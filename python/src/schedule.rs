//! `lrsde.Schedule`: a learning-rate schedule from the spec grammar or a per-update array.

use crate::convert::f64_vec;
use crate::errors;
use lrsde::rank::Candidate;
use lrsde::schedule::{LrSchedule, Schedule as LibSchedule, Tabulated};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::sync::Arc;

/// A learning-rate schedule: one LR per update.
///
/// Built from a spec string of the `family:key=value,…` grammar (the CLI's ``--schedule``) or
/// from an array with :meth:`Schedule.from_array`.
///
/// >>> s = lrsde.Schedule("wsd:peak=3e-4,steps=24000,warmup=2160")
/// >>> len(s), float(s.lr()[-1])
/// (24000, 0.0)
/// >>> lrsde.Schedule(str(s)) == s
/// True
#[pyclass(module = "lrsde._lrsde", frozen)]
pub struct Schedule {
    pub(crate) inner: Arc<LibSchedule>,
    /// The spec as given (tables and rankings show it).
    pub(crate) label: String,
}

#[pymethods]
impl Schedule {
    #[new]
    fn new(spec: &str) -> PyResult<Self> {
        let inner: LibSchedule = spec
            .parse()
            .map_err(|e| errors::with_context("schedule", &e))?;
        Ok(Self {
            inner: Arc::new(inner),
            label: spec.trim().to_owned(),
        })
    }

    /// A schedule from per-update learning rates (``lrs[t]`` is the LR of update ``t + 1``).
    ///
    /// >>> lrsde.Schedule.from_array([0.1, 0.1, 0.05]).lr().tolist()
    /// [0.1, 0.1, 0.05]
    #[staticmethod]
    fn from_array(lrs: &Bound<'_, PyAny>) -> PyResult<Self> {
        let table = Tabulated::new(f64_vec(lrs, "lrs")?)
            .map_err(|e| errors::with_context("schedule", &e))?;
        let inner = LibSchedule::from(table);
        Ok(Self {
            label: inner.label(),
            inner: Arc::new(inner),
        })
    }

    /// The LR of every update as a float64 numpy array.
    fn lr<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.inner.grid().into_vec().into_pyarray(py)
    }

    /// Number of updates.
    #[getter]
    fn steps(&self) -> u64 {
        self.inner.steps()
    }

    fn __len__(&self) -> usize {
        usize::try_from(self.inner.steps()).unwrap_or(usize::MAX)
    }

    fn __str__(&self) -> String {
        match &*self.inner {
            LibSchedule::Spec(s) => s.to_string(),
            other => other.label(),
        }
    }

    fn __repr__(&self) -> String {
        format!("Schedule({:?})", self.__str__())
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    /// Pickles as its JSON form (a spec string or the LR table).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String, String))> {
        let me = slf.get();
        let json = serde_json::to_string(&*me.inner).map_err(errors::value_error)?;
        let ctor = slf.get_type().getattr("_from_json")?;
        Ok((ctor, (json, me.label.clone())))
    }

    /// Inverse of the pickled form.
    #[staticmethod]
    fn _from_json(json: &str, label: String) -> PyResult<Self> {
        let inner: LibSchedule = serde_json::from_str(json).map_err(errors::value_error)?;
        Ok(Self {
            inner: Arc::new(inner),
            label,
        })
    }
}

/// A schedule argument: a [`Schedule`], or a string that is a spec or a file with an `lr`
/// column (as the CLI's `--schedule`).
pub fn candidate(arg: &Bound<'_, PyAny>) -> PyResult<Candidate> {
    if let Ok(s) = arg.cast::<Schedule>() {
        let s = s.get();
        return Ok(Candidate::new(s.label.clone(), (*s.inner).clone()));
    }
    if let Ok(text) = arg.cast::<PyString>() {
        let text: String = text.extract()?;
        return Candidate::from_arg(&text).map_err(|e| errors::with_context("schedule", &e));
    }
    if let Ok(path) = arg.extract::<std::path::PathBuf>() {
        let text = path.to_string_lossy();
        return Candidate::from_arg(&text).map_err(|e| errors::with_context("schedule", &e));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "schedule: expected a lrsde.Schedule, a spec string or a path, got {}",
        arg.get_type().name()?
    )))
}
