//! `lrsde.fit` and `lrsde.Fit`: fit a loss law to observed curves, save and load the CLI's
//! fit file, predict and rank schedules.

use crate::blocking::{self, Cancel};
use crate::curve::curves;
use crate::errors;
use crate::frame::frame;
use crate::schedule::candidate;
use lrsde::assess::{CalibrationOptions, LawChoice, check_prior, fit_choice};
use lrsde::data::TrainingCurve;
use lrsde::fit::{FitOptions, FittedLaw, ParamPrior, Predictor};
use lrsde::law::AnyLaw;
use lrsde::rank::RankOptions;
use lrsde::schedule::LrSchedule;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::Arc;

/// A fitted loss law: the parameters, the fit report, and what the fit needs to predict.
///
/// Made by :func:`fit` or :func:`load_fit`. Saved with :meth:`save` as the same ``fit.json``
/// the CLI writes and reads.
#[pyclass(module = "lrsde._lrsde", frozen)]
pub struct Fit {
    inner: Arc<Predictor>,
    /// The curves it was fitted to and the options (for `validate`); empty after `load_fit`.
    curves: Arc<Vec<TrainingCurve>>,
    options: FitOptions,
}

/// Fits a loss law to observed curves (``lrsde fit``).
///
/// ``curves``: :class:`Curve` objects or paths of curve files. ``law``: a law name with
/// options as the CLI's ``--law`` (``None``: the CLI's default, ``lrsde.DEFAULT_LAW``).
/// ``seed``, ``max_iters``, ``level`` and ``seed_noise`` as ``--seed``, ``--max-iters``,
/// ``--level`` (the predictive band's nominal coverage) and ``--seed-noise``. ``prior``: as
/// ``--prior``, a prior file's path or the same content as a dict (``{"law": "momentum",
/// "source": "...", "terms": [{"param": "C", "mean_ln": -8.5, "sd_ln": 0.3}]}``); a prior for
/// another law or on an unknown parameter raises ``ValueError``. A fit that does not converge
/// raises ``ValueError`` unless ``allow_unconverged=True``. ``weigh``: as ``--weigh``,
/// ``"points"`` (every observed point the same) or ``"curves"`` (every curve the same in total,
/// whatever its length or logging frequency). The GIL is released while it runs;
/// Ctrl-C interrupts it.
///
/// >>> fit = lrsde.fit([lrsde.read_curve(p) for p in paths], law="mpl")  # doctest: +SKIP
/// >>> fit.predict("wsd:peak=3e-4,steps=24000,warmup=2160").tail(1)    # doctest: +SKIP
#[pyfunction]
#[pyo3(signature = (curves, law = None, *, seed = 0, max_iters = None, level = 0.9, seed_noise = None, prior = None, allow_unconverged = false, weigh = "points"))]
#[allow(clippy::too_many_arguments)]
pub fn fit(
    py: Python<'_>,
    curves: &Bound<'_, PyAny>,
    law: Option<&str>,
    seed: u64,
    max_iters: Option<u64>,
    level: f64,
    seed_noise: Option<f64>,
    prior: Option<&Bound<'_, PyAny>>,
    allow_unconverged: bool,
    weigh: &str,
) -> PyResult<Fit> {
    let curve_weighting: lrsde::fit::CurveWeighting = weigh
        .parse()
        .map_err(|e: String| errors::value_error(format!("weigh: {e}")))?;
    let choice: LawChoice = law
        .unwrap_or(lrsde::assess::DEFAULT_LAW)
        .parse()
        .map_err(|e| errors::with_context("law", &e))?;
    let prior = prior.map(|p| read_prior(p, &choice)).transpose()?;
    let calibration = CalibrationOptions {
        level,
        noise_sd: seed_noise,
        ..CalibrationOptions::default()
    };
    if max_iters == Some(0) {
        return Err(errors::value_error("max_iters must be at least 1"));
    }
    let curves = self::curves(curves)?;
    if lrsde::fit::distinct_shapes(&curves) < 2 {
        warn(
            py,
            "all curves share one schedule shape; the fit cannot tell how the loss responds to \
             LR decay. Add a run with a different schedule (e.g. constant and cosine) for \
             trustworthy predictions of other schedules.",
        )?;
    }
    let defaults = FitOptions::default().for_curves(&curves);
    let options = FitOptions {
        seed,
        max_iters: max_iters.unwrap_or(defaults.max_iters),
        polish_max_iters: max_iters.unwrap_or(defaults.polish_max_iters),
        prior,
        curve_weighting,
        ..defaults
    };
    let curves = Arc::new(curves);
    let (work_curves, work_options) = (Arc::clone(&curves), options.clone());
    let fitted = blocking::run(py, &Cancel::default(), move || {
        fit_choice(&choice, &work_curves, &work_options, &calibration)
    })?
    .map_err(|e| errors::to_py(&e))?;
    for w in &fitted.report.warnings {
        warn(py, w)?;
    }
    if !fitted.report.converged {
        let message = format!("the fit did not converge: {}", fitted.report.termination);
        if !allow_unconverged {
            return Err(errors::value_error(format!(
                "{message} (more curves, another law or a larger max_iters may help; \
                 allow_unconverged=True keeps it anyway)"
            )));
        }
        warn(
            py,
            &format!("{message}; kept anyway: predictions are unreliable"),
        )?;
    }
    Ok(Fit {
        inner: Arc::new(predictor(fitted)?),
        curves,
        options,
    })
}

/// `fit(prior=…)`: a path of a prior file or a dict of the same content, checked against the
/// law(s) the fit may choose.
fn read_prior(value: &Bound<'_, PyAny>, choice: &LawChoice) -> PyResult<ParamPrior> {
    let prior = if let Ok(d) = value.cast::<PyDict>() {
        let text: String = value
            .py()
            .import("json")?
            .call_method1("dumps", (d,))?
            .extract()?;
        let prior: ParamPrior =
            serde_json::from_str(&text).map_err(|e| errors::value_error(format!("prior: {e}")))?;
        prior
            .check_terms()
            .map_err(|e| errors::value_error(format!("prior: {e}")))?;
        prior
    } else {
        let path: PathBuf = value
            .extract()
            .map_err(|_| errors::value_error("prior: expected a path or a dict"))?;
        ParamPrior::load(&path).map_err(|e| errors::with_context("prior", &e))?
    };
    check_prior(&prior, choice).map_err(|e| errors::value_error(format!("prior: {e}")))?;
    Ok(prior)
}

/// Loads a fit file written by ``lrsde fit`` or :meth:`Fit.save`.
#[pyfunction]
pub fn load_fit(py: Python<'_>, path: PathBuf) -> PyResult<Fit> {
    let fitted = FittedLaw::load(&path).map_err(|e| errors::to_py(&e))?;
    if !fitted.report.converged {
        warn(
            py,
            &format!(
                "{}: the fit did not converge ({}); its predictions are unreliable",
                path.display(),
                fitted.report.termination
            ),
        )?;
    }
    Ok(Fit {
        inner: Arc::new(predictor(fitted)?),
        curves: Arc::new(Vec::new()),
        options: FitOptions::default(),
    })
}

#[pymethods]
impl Fit {
    /// The law's name (e.g. ``"sde"``, ``"mpl"``).
    #[getter]
    fn law(&self) -> &str {
        &self.inner.fitted().law
    }

    /// The fitted parameters, by name, in the law's order.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (name, value) in self
            .inner
            .fitted()
            .param_order
            .iter()
            .zip(self.inner.fitted().params_vec())
        {
            out.set_item(name, value)?;
        }
        Ok(out)
    }

    /// The fit report (cost, errors per curve, starts, warnings) as a dict, as in fit.json.
    #[getter]
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json =
            serde_json::to_string(&self.inner.fitted().report).map_err(errors::value_error)?;
        py.import("json")?.call_method1("loads", (json,))
    }

    /// Whether the fit converged.
    #[getter]
    fn converged(&self) -> bool {
        self.inner.fitted().report.converged
    }

    /// The fit file's JSON text (what :meth:`save` writes).
    fn to_json(&self) -> PyResult<String> {
        self.inner
            .fitted()
            .to_json_string()
            .map_err(|e| errors::to_py(&e))
    }

    /// Writes the fit file (atomically), readable by ``lrsde predict --fit`` and
    /// :func:`load_fit`.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.inner.save(&path).map_err(|e| errors::to_py(&e))
    }

    /// The predicted loss curve of a schedule with its uncertainty band (``lrsde predict``):
    /// a table ``step, lr, loss, loss_lo, loss_hi`` for every update ``1..=steps``
    /// (``steps=None``: the whole schedule). ``batch_schedule`` (as in :func:`simulate`: a
    /// spec or :class:`Schedule` read as batch sizes, a file with a ``batch_size`` column, or
    /// an array) predicts under a batch-size ramp; only ``sim:`` laws fitted on curves with
    /// batch sizes accept a changing batch.
    #[pyo3(signature = (schedule, *, steps = None, batch_schedule = None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        schedule: &Bound<'py, PyAny>,
        steps: Option<u64>,
        batch_schedule: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let candidate = candidate(schedule)?;
        let len = candidate.schedule.steps();
        let k = steps.unwrap_or(len);
        if k == 0 {
            return Err(errors::value_error("steps must be at least 1"));
        }
        if k > len {
            return Err(errors::value_error(format!(
                "steps {k} is longer than the schedule `{}` ({len} steps); give a longer schedule",
                candidate.label
            )));
        }
        if len > lrsde::data::DEFAULT_MAX_STEPS {
            return Err(errors::value_error(format!(
                "schedule {}: {len} steps is more than predict accepts ({})",
                candidate.label,
                lrsde::data::DEFAULT_MAX_STEPS
            )));
        }
        let predictor = self.batched(batch_schedule)?;
        let label = candidate.label.clone();
        let (band, mut lrs, warnings) = blocking::run(py, &Cancel::default(), move || {
            let full = candidate.schedule.grid();
            let grid = full.prefix(k as usize);
            let steps: Vec<u64> = (1..=k).collect();
            // The warnings `lrsde predict` prints: an LR, peak or horizon the fit never saw
            // (the schedule's peak, also when `steps` ends inside its warmup).
            let peak = full.as_slice().iter().copied().fold(0.0, f64::max);
            let warnings = lrsde::rank::extrapolation_warnings(predictor.fitted(), peak, k);
            predictor
                .predict_band(&grid, &steps)
                .map(|b| (b, grid.into_vec(), warnings))
        })?
        .map_err(|e| errors::to_py(&e))?;
        for w in &warnings {
            warn(py, &format!("{label}: {w}"))?;
        }
        // Every update is a row: the LR column is the grid itself.
        lrs.truncate(band.steps.len());
        frame(
            py,
            vec![
                ("step", band.steps.into_pyarray(py).into_any()),
                ("lr", lrs.into_pyarray(py).into_any()),
                ("loss", band.loss.into_pyarray(py).into_any()),
                ("loss_lo", band.lo.into_pyarray(py).into_any()),
                ("loss_hi", band.hi.into_pyarray(py).into_any()),
            ],
        )
    }

    /// Ranks schedules by predicted final loss (``lrsde rank``): a table with the CLI's
    /// columns ``rank, schedule, final_loss, loss_lo, loss_hi, gap, significant, diverged``
    /// (``diverged``: the step where the prediction diverged, or None). ``batch_schedule``
    /// applies one batch-size schedule to every candidate (as in :meth:`predict`).
    #[pyo3(signature = (schedules, *, batch_schedule = None))]
    fn rank<'py>(
        &self,
        py: Python<'py>,
        schedules: &Bound<'py, PyAny>,
        batch_schedule: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let candidates = schedules
            .try_iter()?
            .map(|s| candidate(&s?))
            .collect::<PyResult<Vec<_>>>()?;
        if candidates.is_empty() {
            return Err(errors::value_error("give at least one schedule"));
        }
        let predictor = self.batched(batch_schedule)?;
        let ranking = blocking::run(py, &Cancel::default(), move || {
            lrsde::rank::rank(&predictor, &candidates, &RankOptions::default())
                .map_err(lrsde::Error::from)
        })?
        .map_err(|e| errors::to_py(&e))?;
        for e in &ranking.entries {
            for w in &e.warnings {
                warn(py, &format!("{}: {w}", e.label))?;
            }
        }
        let entries = &ranking.entries;
        let f =
            |g: fn(&lrsde::rank::RankEntry) -> f64| -> Vec<f64> { entries.iter().map(g).collect() };
        let rank: Vec<u64> = entries.iter().map(|e| e.rank as u64).collect();
        let labels: Vec<&str> = entries.iter().map(|e| e.label.as_str()).collect();
        let significant: Vec<bool> = entries.iter().map(|e| e.significant).collect();
        let diverged: Vec<Option<u64>> = entries.iter().map(|e| e.diverged).collect();
        frame(
            py,
            vec![
                ("rank", rank.into_pyarray(py).into_any()),
                ("schedule", PyList::new(py, labels)?.into_any()),
                (
                    "final_loss",
                    f(|e| e.final_loss).into_pyarray(py).into_any(),
                ),
                ("loss_lo", f(|e| e.loss_lo).into_pyarray(py).into_any()),
                ("loss_hi", f(|e| e.loss_hi).into_pyarray(py).into_any()),
                ("gap", f(|e| e.gap).into_pyarray(py).into_any()),
                ("significant", significant.into_pyarray(py).into_any()),
                ("diverged", PyList::new(py, diverged)?.into_any()),
                ("p_best", f(|e| e.p_best).into_pyarray(py).into_any()),
            ],
        )
    }

    /// Leave-one-curve-out validation (``lrsde fit --validate``): refits leaving each curve
    /// out and predicts it. A table ``curve, mae, final_err, converged``. ``curves``: the
    /// curves to use (default: those this fit was made from; required after :func:`load_fit`).
    #[pyo3(signature = (curves = None))]
    fn validate<'py>(
        &self,
        py: Python<'py>,
        curves: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let curves = match curves {
            Some(c) => Arc::new(self::curves(c)?),
            None if self.curves.is_empty() => {
                return Err(errors::value_error(
                    "validate: this fit holds no curves (it was loaded from a file); pass curves=[…]",
                ));
            }
            None => Arc::clone(&self.curves),
        };
        if curves.len() < 2 {
            return Err(errors::value_error(
                "validate: needs at least two curves (one to hold out, one to fit)",
            ));
        }
        let law: AnyLaw = self.inner.law().clone();
        let options = self.options.clone();
        let rows = blocking::run(py, &Cancel::default(), move || {
            lrsde::assess::leave_one_out(&law, &curves, &options, &mut |_| {})
        })?
        .map_err(|e| errors::to_py(&e))?;
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let mae: Vec<f64> = rows.iter().map(|r| r.mae).collect();
        let final_err: Vec<f64> = rows.iter().map(|r| r.final_err).collect();
        let converged: Vec<bool> = rows.iter().map(|r| r.converged).collect();
        frame(
            py,
            vec![
                ("curve", PyList::new(py, names)?.into_any()),
                ("mae", mae.into_pyarray(py).into_any()),
                ("final_err", final_err.into_pyarray(py).into_any()),
                ("converged", converged.into_pyarray(py).into_any()),
            ],
        )
    }

    /// Draws the predicted curves of ``schedules`` with their bands, and ``observed`` curves,
    /// with matplotlib (installed separately); returns the matplotlib Figure (saved to
    /// ``path`` when given).
    #[pyo3(signature = (schedules, *, observed = None, path = None))]
    fn plot<'py>(
        slf: &Bound<'py, Self>,
        schedules: &Bound<'py, PyAny>,
        observed: Option<&Bound<'py, PyAny>>,
        path: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("lrsde._plot")?
            .call_method1("plot_fit", (slf, schedules, observed, path))
    }

    fn __repr__(&self) -> String {
        format!(
            "Fit(law={:?}, params={:?}, converged={})",
            self.inner.fitted().law,
            self.inner.fitted().params,
            self.inner.fitted().report.converged
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String, String))> {
        let me = slf.get();
        let json = me.to_json()?;
        let curves = serde_json::to_string(&*me.curves).map_err(errors::value_error)?;
        Ok((slf.get_type().getattr("_from_state")?, (json, curves)))
    }

    /// Inverse of the pickled form.
    #[staticmethod]
    fn _from_state(json: &str, curves: &str) -> PyResult<Self> {
        let inner = FittedLaw::from_json_str(json).map_err(|e| errors::to_py(&e))?;
        let curves: Vec<TrainingCurve> =
            serde_json::from_str(curves).map_err(errors::value_error)?;
        Ok(Self {
            inner: Arc::new(predictor(inner)?),
            curves: Arc::new(curves),
            options: FitOptions::default(),
        })
    }
}

/// The fit paired with its law, checked once here so that `predict`, `rank` and `validate`
/// cannot meet a fit without a usable law.
impl Fit {
    /// The predictor, following `batch_schedule` when one is given.
    fn batched(&self, batch_schedule: Option<&Bound<'_, PyAny>>) -> PyResult<Arc<Predictor>> {
        let Some(b) = batch_schedule else {
            return Ok(Arc::clone(&self.inner));
        };
        // The grid is at most one value per update of a schedule predict accepts.
        let grid = crate::batch::batch_grid(b, 8 * lrsde::data::DEFAULT_MAX_STEPS)?;
        Predictor::clone(&self.inner)
            .with_batch_schedule(Some(grid))
            .map(Arc::new)
            .map_err(|e| errors::with_context("batch_schedule", &e))
    }
}

fn predictor(fitted: FittedLaw) -> PyResult<Predictor> {
    Predictor::from_fitted(fitted).map_err(|e| errors::to_py(&e))
}

/// A Python `UserWarning` (the CLI prints these as `warning: …`).
fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    py.import("warnings")?.call_method1("warn", (message,))?;
    Ok(())
}
