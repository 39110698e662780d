//! `lrsde.simulate`: an SDE ensemble under a schedule, summarised at save points (the CLI's
//! `simulate`).

use crate::batch::batch_grid;
use crate::blocking::{self, Cancel};
use crate::errors;
use crate::frame::frame;
use crate::schedule::candidate;
use lrsde::ensemble::budget::{DEFAULT_MAX_SECONDS, Limits};
use lrsde::ensemble::{Ensemble, Parallelism, Progress, Summary};
use lrsde::model::ModelSpec;
use lrsde::schedule::LrSchedule;
use lrsde::solver::Method;
use numpy::IntoPyArray;
use pyo3::prelude::*;

/// Simulates an SDE ensemble under a schedule and returns its summary at save points.
///
/// Same arguments, defaults and numbers as ``lrsde simulate`` (the same seed gives the same
/// table bit for bit, for any ``threads``). Returns a DataFrame (a dict of numpy arrays
/// without pandas) with the columns ``step, lr, mean, std, se, p05, p50, p95, diverged``.
///
/// ``schedule`` is a :class:`Schedule`, a spec string or a file with an ``lr`` column;
/// ``threads=None`` uses every core; ``max_memory`` is in GiB; ``force=True`` runs even when
/// the estimated time exceeds 24 hours. ``batch_schedule`` (the CLI's ``--batch-schedule``)
/// gives per-update batch sizes: a :class:`Schedule` or spec string read as batch sizes, a
/// file with a ``batch_size`` column, or a 1-D array; update ``t`` runs with noise variance ×
/// ``batch / B_t`` (the model's ``batch`` key over ``B_t``), the last batch holding past its
/// end. The GIL is released while it runs; Ctrl-C stops it.
///
/// >>> df = lrsde.simulate(model="nqm:dim=8", schedule="cosine:peak=0.5,steps=100", paths=64)
/// >>> list(df.columns)
/// ['step', 'lr', 'mean', 'std', 'se', 'p05', 'p50', 'p95', 'diverged']
/// >>> ramp = lrsde.simulate(model="nqm:dim=8,batch=16", schedule="cosine:peak=0.5,steps=100",
/// ...                       paths=64, batch_schedule="constant:peak=16,steps=100,warmup=50")
/// >>> len(ramp["step"]) == len(df["step"])
/// True
#[pyfunction]
#[pyo3(signature = (
    model = "nqm", schedule = None, *, paths = 1024, method = "em", seed = 0, threads = None,
    save_every = 10, substeps = 1, max_memory = 8.0, force = false, batch_schedule = None
))]
#[allow(clippy::too_many_arguments)]
pub fn simulate<'py>(
    py: Python<'py>,
    model: &str,
    schedule: Option<&Bound<'py, PyAny>>,
    paths: usize,
    method: &str,
    seed: u64,
    threads: Option<usize>,
    save_every: usize,
    substeps: usize,
    max_memory: f64,
    force: bool,
    batch_schedule: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let model: ModelSpec = model
        .parse()
        .map_err(|e| errors::with_context("model", &e))?;
    let method: Method = method
        .parse()
        .map_err(|e| errors::with_context("method", &e))?;
    let schedule = schedule.ok_or_else(|| errors::value_error("schedule: required"))?;
    let candidate = candidate(schedule)?;
    let parallelism = match threads {
        None => Parallelism::Global,
        Some(0) => return Err(errors::value_error("threads must be at least 1")),
        Some(1) => Parallelism::Sequential,
        Some(n) => Parallelism::Threads(n),
    };
    if !(max_memory.is_finite() && max_memory > 0.0) {
        return Err(errors::value_error(format!(
            "max_memory: `{max_memory}` is not a positive number of GiB"
        )));
    }
    let max_bytes = (max_memory * (1u64 << 30) as f64).min(u64::MAX as f64) as u64;
    let batch = batch_schedule
        .map(|b| batch_grid(b, max_bytes))
        .transpose()?;
    if batch.is_some() && model.batch().is_none() {
        return Err(errors::value_error(format!(
            "batch_schedule: model `{}` has no `batch` key, so its noise does not scale with \
             1/batch; use nqm, momentum, adam or lossnoise",
            model.name()
        )));
    }
    let ensemble = Ensemble::builder()
        .paths(paths)
        .seed(seed)
        .save_every(save_every)
        .substeps(substeps)
        .parallelism(parallelism)
        .build()
        .map_err(|e| errors::to_py(&e))?;
    let estimate = ensemble
        .estimate_spec(&model, candidate.schedule.steps())
        .map_err(|e| errors::with_context("model", &e))?;
    let limits = Limits {
        max_memory: max_bytes,
        max_seconds: (!force).then_some(DEFAULT_MAX_SECONDS),
    };
    estimate.check(&limits).map_err(|e| errors::to_py(&e))?;
    let cancel = Cancel::default();
    let stop = cancel.clone();
    let summary = blocking::run(py, &cancel, move || {
        let lrs = candidate.schedule.grid();
        ensemble.run_spec_batched_observed(
            &model,
            method,
            &lrs,
            batch.as_ref(),
            &mut |_: &Progress| stop.check(),
        )
    })?
    .map_err(|e| errors::to_py(&e))?;
    if let Some(d) = &summary.divergence {
        let warnings = py.import("warnings")?;
        warnings.call_method1(
            "warn",
            (format!(
                "{} of {} paths diverged (first: path {} at step {}); they are excluded from the \
                 statistics and counted in the `diverged` column",
                d.count, summary.paths, d.first_path, d.first_step
            ),),
        )?;
    }
    table(py, summary)
}

/// The summary's columns, each moved into one numpy array.
fn table(py: Python<'_>, summary: Summary) -> PyResult<Bound<'_, PyAny>> {
    let rows = &summary.rows;
    let col =
        |f: fn(&lrsde::ensemble::SummaryRow) -> f64| -> Vec<f64> { rows.iter().map(f).collect() };
    let step: Vec<u64> = rows.iter().map(|r| r.step).collect();
    let diverged: Vec<u64> = rows.iter().map(|r| r.diverged as u64).collect();
    frame(
        py,
        vec![
            ("step", step.into_pyarray(py).into_any()),
            ("lr", col(|r| r.lr).into_pyarray(py).into_any()),
            ("mean", col(|r| r.mean).into_pyarray(py).into_any()),
            ("std", col(|r| r.std).into_pyarray(py).into_any()),
            ("se", col(|r| r.se).into_pyarray(py).into_any()),
            ("p05", col(|r| r.p05).into_pyarray(py).into_any()),
            ("p50", col(|r| r.p50).into_pyarray(py).into_any()),
            ("p95", col(|r| r.p95).into_pyarray(py).into_any()),
            ("diverged", diverged.into_pyarray(py).into_any()),
        ],
    )
}
