//! The `batch_schedule` argument of `lrsde.simulate`: per-update batch sizes built by the
//! library's own constructors (the CLI's `--batch-schedule`).

use crate::convert::f64_vec;
use crate::errors;
use crate::schedule::Schedule;
use lrsde::schedule::{BatchGrid, LrSchedule, ScheduleSpec};
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::path::Path;

/// A batch schedule argument: a [`Schedule`] or spec string read as batch sizes, a path to a
/// file with a `batch_size` column, or a 1-D array of per-update batch sizes.
///
/// A spec's grid is evaluated in full, so one whose grid alone would exceed `max_bytes` is
/// refused before it is built (an absurd `steps` must not abort the interpreter).
pub fn batch_grid(arg: &Bound<'_, PyAny>, max_bytes: u64) -> PyResult<BatchGrid> {
    const CTX: &str = "batch_schedule";
    let from_schedule = |s: &dyn LrSchedule, label: &str| -> PyResult<BatchGrid> {
        let bytes = s.steps().saturating_mul(8);
        if bytes > max_bytes {
            return Err(errors::value_error(format!(
                "{CTX} {label}: {} steps need {bytes} bytes for the batch grid alone, more than \
                 max_memory",
                s.steps()
            )));
        }
        BatchGrid::from_schedule(s).map_err(|e| errors::with_context(&format!("{CTX} {label}"), &e))
    };
    if let Ok(s) = arg.cast::<Schedule>() {
        let s = s.get();
        return from_schedule(&*s.inner, &s.label);
    }
    let text = if let Ok(text) = arg.cast::<PyString>() {
        Some(text.extract::<String>()?)
    } else if arg.hasattr("__fspath__")? {
        Some(
            arg.extract::<std::path::PathBuf>()?
                .to_string_lossy()
                .into_owned(),
        )
    } else {
        None
    };
    if let Some(text) = text {
        // As a schedule argument: a file wins, and text without `:` is a path, never a spec.
        let path = Path::new(&text);
        if path.is_file() || !text.contains(':') {
            return lrsde::data::read_batch_column(path).map_err(|e| errors::with_context(CTX, &e));
        }
        let spec: ScheduleSpec = text.parse().map_err(|e| errors::with_context(CTX, &e))?;
        return from_schedule(&spec, text.trim());
    }
    BatchGrid::new(f64_vec(arg, CTX)?).map_err(|e| errors::with_context(CTX, &e))
}
