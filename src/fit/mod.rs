//! Fitting loss laws to observed curves.
//!
//! [`fit_law`] does the whole job for one of the crate's laws ([`AnyLaw`]): it learns the law's
//! data scales ([`LossLaw::configure`]), starts from the law's own data-driven guesses
//! ([`LossLaw::initial_guesses`]) and returns a [`FittedLaw`] that records the configured law,
//! so [`Predictor::from_fitted`] (or [`Predictor::load`] after a save) rebuilds it: a
//! [`Predictor`] is the one value `predict`, `rank` and `search` take.
//! [`fit`] is the engine underneath: it fits any [`LossLaw`] (also one defined outside the
//! crate) as it is, from the starts given in [`FitOptions`].
//!
//! Both fit one or more [`TrainingCurve`]s jointly: one parameter set, each curve predicted on
//! its own LR grid at its own observed steps.
//!
//! ## Objective
//!
//! `Σ_curves Σ_points w · Huber_δ(ln L_obs − ln L_pred)`, δ = 1e-3 by default (the recipe of the
//! Multi-Power-Law and momentum-law papers). A non-finite or non-positive prediction is charged
//! as a log residual of 1000, and so is every point of a curve the law refuses to predict (a
//! [`LawError`](crate::law::LawError)): far above any real fit but finite, so the optimiser
//! backs off instead of failing. The optimiser sees this sum divided by `δ·Σw` (≈ the mean |log residual|),
//! an O(1) scale on which its unit first step and its tolerances make sense.
//!
//! ## Optimiser
//!
//! Parameters are mapped to an unconstrained space ([`Transform`]: logistic for two-sided
//! bounds — on `ln x` for [log-scale](crate::law::ParamSpec::log_scale) parameters — log for
//! one-sided, identity when unbounded). From every start, argmin's L-BFGS with a More–Thuente
//! line search runs on exact gradients when the law has a Jacobian
//! ([`LossLaw::predict_jacobian`]; one law call gives cost and gradient), else on
//! central-difference gradients (the `2p` evaluations in parallel); when it stops without
//! converging (iteration limit, failed line search) a Nelder–Mead polish continues from its best
//! point. For laws with a Jacobian (all of the crate's), each start first runs
//! Levenberg–Marquardt on the iteratively reweighted Gauss–Newton model of the Huber cost
//! ([`FitOptions::gauss_newton`]), which needs tens of Jacobian calls where L-BFGS needs
//! hundreds; L-BFGS then only continues a start it did not finish. Starts run in parallel; the best is the
//! lowest cost, the earliest start on ties, so the result is bit-identical for any rayon
//! thread count. [`FitReport`] lists every start; a fit that fails says so
//! (`converged == false` with the reason) rather than returning an error.
//!
//! ## Uncertainty
//!
//! A **Laplace (Gauss–Newton) approximation**, chosen over a bootstrap because it costs one
//! Jacobian call (or `2p` law evaluations without one) instead of dozens of refits (the SDE law must fit in under a second),
//! works for any law, and is deterministic. At the optimum `û` (unconstrained) the Jacobian `J`
//! of the weighted log residuals gives the covariance `σ²(JᵀJ)⁺` with
//! `σ² = Σ w r² / (n − p)`; directions with eigenvalue below 1e-10 of the largest are not
//! determined by the data and get no variance (pseudo-inverse). The covariance is sampled into
//! `draws` parameter vectors (`N(û, Σ)` in the unconstrained space, then mapped back, so draws
//! respect the bounds), each from its own seeded Xoshiro256++ stream. A band is the
//! per-step quantile (default 5 % / 95 %) of the law's predictions over the draws
//! ([`LossLaw::predict_many`]: one call for all draws; the `sde` law evaluates them through
//! one table over the curvature, within about 1e-9 of the excess loss of each draw): a
//! *confidence* band of the mean curve, which narrows as data grow and widens where the fit
//! extrapolates (farther steps, other LRs). It treats the Huber fit as least squares, which is
//! the usual approximation; with heavy outliers `σ²` grows and the band is conservative.
//!
//! ## Files
//!
//! [`FittedLaw`] is serialised as versioned JSON (`"format": "lrsde-fit"`, `"version": 1`);
//! [`FittedLaw::load`] rejects other formats and newer versions with a typed error.

mod bad_prediction;
mod error;
mod fitted;
mod objective;
mod optimize;
mod options;
pub mod predictive;
mod predictor;
pub mod prior;
mod report;
mod selection;
mod shapes;
mod transform;
mod uncertainty;

pub use crate::huber::huber;
pub use bad_prediction::{BadPrediction, BadPredictionKind};
pub use error::FitError;
pub use fitted::{Band, CurveSummary, FIT_FORMAT, FIT_VERSION, FittedLaw};
pub use options::{CurveWeighting, FitOptions, UncertaintyMethod};
pub(crate) use predictive::quantiles_of_level;
pub use predictive::{Disagreement, Predictive, SegmentError, z_of_level};
pub use predictor::Predictor;
pub use prior::{ParamPrior, PriorTerm};
pub use report::{CurveReport, FitReport, StartReport};
pub use selection::{LawScore, LawSelection};
pub use shapes::{SINGLE_SHAPE_LAW_STARTS, distinct_shapes};
pub use transform::Transform;
pub use uncertainty::Uncertainty;

use std::collections::BTreeMap;

use rand::RngExt;

use crate::assess::metrics::ErrorSums;
use crate::data::TrainingCurve;
use crate::law::{AnyLaw, LossLaw, Tabulated};
use objective::Objective;

/// Path-index offset of the random-start streams (draws use indices from 0).
const START_STREAM: u64 = 1 << 40;

/// Checks one curve: lengths, steps, losses, LRs.
fn validate_curve(c: &TrainingCurve) -> Result<(), FitError> {
    if c.steps.len() != c.losses.len() {
        return Err(FitError::LengthMismatch {
            curve: c.name.clone(),
            steps: c.steps.len(),
            losses: c.losses.len(),
        });
    }
    let mut prev = 0;
    for (index, &step) in c.steps.iter().enumerate() {
        let reason = if step == 0 {
            Some("steps are 1-based".to_string())
        } else if step <= prev {
            Some(format!("not after the previous step {prev}"))
        } else if step as usize > c.lrs.len() {
            Some(format!("beyond the LR grid of {} updates", c.lrs.len()))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(FitError::InvalidStep {
                curve: c.name.clone(),
                index,
                step,
                reason,
            });
        }
        prev = step;
    }
    for (index, (&value, &step)) in c.losses.iter().zip(&c.steps).enumerate() {
        if !(value.is_finite() && value > 0.0) {
            return Err(FitError::InvalidLoss {
                curve: c.name.clone(),
                index,
                step,
                value,
            });
        }
    }
    Ok(())
}

/// Point weights, checked against the curves (`weighting`'s when none are given).
fn weights(
    curves: &[TrainingCurve],
    given: Option<&Vec<Vec<f64>>>,
    weighting: CurveWeighting,
) -> Result<Vec<Vec<f64>>, FitError> {
    let Some(w) = given else {
        let counts: Vec<usize> = curves.iter().map(|c| c.steps.len()).collect();
        return Ok(weighting
            .point_weights(&counts)
            .into_iter()
            .zip(&counts)
            .map(|(w, &n)| vec![w; n])
            .collect());
    };
    let bad = |reason: String| FitError::InvalidOption {
        option: "weights",
        reason,
    };
    if w.len() != curves.len() {
        return Err(bad(format!(
            "{} weight vectors for {} curves",
            w.len(),
            curves.len()
        )));
    }
    for (c, wc) in curves.iter().zip(w) {
        if wc.len() != c.steps.len() {
            return Err(bad(format!(
                "curve `{}`: {} weights for {} points",
                c.name,
                wc.len(),
                c.steps.len()
            )));
        }
        if let Some(x) = wc.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
            return Err(bad(format!(
                "curve `{}`: weight {x} is not finite and >= 0",
                c.name
            )));
        }
    }
    if w.iter().flatten().sum::<f64>() <= 0.0 {
        return Err(bad("all weights are zero".into()));
    }
    Ok(w.clone())
}

/// The unconstrained starts: the given ones (checked), else the box centre, plus random ones.
fn starts(
    transforms: &[Transform],
    names: &[String],
    opts: &FitOptions,
) -> Result<Vec<Vec<f64>>, FitError> {
    let p = transforms.len();
    let mut out = Vec::with_capacity(opts.starts.len() + opts.random_starts + 1);
    for (start, x) in opts.starts.iter().enumerate() {
        if x.len() != p {
            return Err(FitError::InvalidStart {
                start,
                reason: format!("{} values for {p} parameters", x.len()),
            });
        }
        let mut u = Vec::with_capacity(p);
        for ((t, &xi), name) in transforms.iter().zip(x).zip(names) {
            let (lo, hi) = t.bounds();
            let outside =
                !xi.is_finite() || lo.is_some_and(|l| xi < l) || hi.is_some_and(|h| xi > h);
            if outside {
                return Err(FitError::InvalidStart {
                    start,
                    reason: format!("`{name}` = {xi} is outside its bounds {lo:?}..{hi:?}"),
                });
            }
            u.push(t.start_to_unconstrained(xi));
        }
        out.push(u);
    }
    if out.is_empty() {
        out.push(vec![0.0; p]);
    }
    for i in 0..opts.random_starts {
        let mut rng = crate::rng::path_rng(opts.seed, START_STREAM + i as u64);
        out.push((0..p).map(|_| 4.0 * rng.random::<f64>() - 2.0).collect());
    }
    Ok(out)
}

/// Fits `law` to `curves` jointly (one parameter set; each curve uses its own LR grid).
///
/// The law is used as it is: [`LossLaw::configure`] and [`LossLaw::initial_guesses`] are not
/// called (that is [`fit_law`]'s job), and starts come from `options.starts` plus
/// `options.random_starts`.
///
/// Returns the [`FittedLaw`] — parameters, uncertainty and [`FitReport`] — also when the
/// optimisation did not converge (`report.converged == false`, reason in
/// `report.termination`), so a caller can warn. The law's own configuration is not known here:
/// set it with [`FittedLaw::with_law_config`].
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::{fit, FitOptions};
/// use lrsde::law::{LawError, LossLaw, ParamSpec};
///
/// /// L(t) = L0 + A·exp(−k·S1(t)), S1 the LR area.
/// struct Exp;
/// impl LossLaw for Exp {
///     fn name(&self) -> &'static str { "exp" }
///     fn params(&self) -> Vec<ParamSpec> {
///         vec![ParamSpec::linear("L0", 0.0, 10.0),
///              ParamSpec::linear("A", 0.0, 10.0),
///              ParamSpec::linear("k", 0.0, f64::INFINITY)]
///     }
///     fn predict(&self, p: &[f64], lrs: &lrsde::schedule::LrGrid, steps: &[u64], out: &mut [f64])
///         -> Result<(), LawError> {
///         for (o, &s) in out.iter_mut().zip(steps) {
///             let s1: f64 = lrs[..s as usize].iter().sum();
///             *o = p[0] + p[1] * (-p[2] * s1).exp();
///         }
///         Ok(())
///     }
///     fn configure(&mut self, _: &[TrainingCurve]) -> Result<(), LawError> { Ok(()) }
///     fn initial_guesses(&self, _: &[TrainingCurve]) -> Vec<Vec<f64>> {
///         vec![vec![1.0, 1.0, 1.0]]
///     }
/// }
/// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 200]).unwrap();
/// let steps: Vec<u64> = (1..=20).map(|k| 10 * k).collect();
/// let losses = steps.iter().map(|&s| 2.0 + (-0.01 * 0.5 * s as f64).exp()).collect();
/// let curves = [TrainingCurve { name: "const".into(), lrs, steps, losses, batch: None }];
/// let fitted = fit(&Exp, &curves, &FitOptions::default())?;
/// assert!(fitted.report.converged, "{}", fitted.report.termination);
/// assert!((fitted.params["k"] - 0.01).abs() < 1e-6);
/// # Ok::<(), lrsde::fit::FitError>(())
/// ```
///
/// # Errors
/// Impossible inputs: no curves ([`FitError::NoCurves`]), a law without parameters, invalid
/// bounds, mismatched lengths, invalid steps, non-finite or non-positive losses,
/// fewer points than parameters + 1 ([`FitError::TooFewPoints`]), invalid options or starts.
pub fn fit<L: LossLaw + ?Sized>(
    law: &L,
    curves: &[TrainingCurve],
    options: &FitOptions,
) -> Result<FittedLaw, FitError> {
    options.validate()?;
    let specs = law.params();
    if specs.is_empty() {
        return Err(FitError::NoParameters {
            law: law.name().to_string(),
        });
    }
    let transforms = specs
        .iter()
        .map(Transform::from_spec)
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = specs.iter().map(|s| s.name.to_string()).collect();
    if curves.is_empty() {
        return Err(FitError::NoCurves);
    }
    curves.iter().try_for_each(validate_curve)?;
    // A law that cannot follow a curve's batch ramp says so here, not as a fit that fails on
    // every point.
    for batch in curves.iter().filter_map(|c| c.batch.as_ref()) {
        law.check_batch(batch)?;
    }
    let n_points: usize = curves.iter().map(|c| c.steps.len()).sum();
    let p = specs.len();
    if n_points < p + 1 {
        return Err(FitError::TooFewPoints {
            found: n_points,
            needed: p + 1,
        });
    }
    let weights = weights(curves, options.weights.as_ref(), options.curve_weighting)?;
    let mut starts = starts(&transforms, &names, options)?;

    let mut obj = Objective::new(
        law,
        curves,
        weights,
        transforms.clone(),
        options.huber_delta,
        options.fd_step,
    );
    let mut unpenalised_evaluations = 0;
    if let Some(prior) = options.prior.as_ref().filter(|p| p.law == law.name()) {
        let terms = prior.resolve(&names, peak_lr_seen(curves))?;
        // The fit without the prior is one more start of the fit with it. From a start far
        // from a tight prior's mean, the penalty dwarfs the data's cost, and Levenberg–Marquardt
        // can follow it into a corner of the other parameters: a `momentum` fit under
        // `ln alpha ~ N(·, 0.0012²)` stopped with `A` and `L0` on their bounds and loss
        // errors of 0.7, where the data's own optimum leads to the right one.
        let (plain, best) = optimize::multi_start(&obj, &starts, options);
        unpenalised_evaluations = plain.iter().map(|o| o.evaluations).sum::<u64>();
        if plain[best].cost.is_finite() {
            starts.push(plain[best].u.clone());
        }
        obj = obj.with_prior(terms);
    }
    let (outcomes, best) = optimize::multi_start(&obj, &starts, options);
    let u_hat = outcomes[best].u.clone();
    let theta = obj.theta(&u_hat);
    let (cost, bad_points) = obj.raw_cost(&u_hat, None);

    let mut evaluations: u64 =
        unpenalised_evaluations + outcomes.iter().map(|o| o.evaluations).sum::<u64>();
    let mut warnings = Vec::new();
    let uncertainty = match options.uncertainty {
        UncertaintyMethod::None => None,
        UncertaintyMethod::Laplace { draws } => {
            match uncertainty::laplace(&obj, &u_hat, draws, options.seed) {
                Ok((u, e)) => {
                    evaluations += e;
                    if u.rank < p {
                        warnings.push(format!(
                            "the data determine only {} of {p} parameter directions; the band \
                             ignores the others",
                            u.rank
                        ));
                    }
                    Some(u)
                }
                Err(reason) => {
                    warnings.push(format!("no uncertainty band: {reason}"));
                    None
                }
            }
        }
    };

    if let Some(prior) = options.prior.as_ref().filter(|p| p.law == law.name()) {
        warnings.push(format!(
            "prior on {} (learned from {}): the curves alone do not identify {}",
            prior
                .terms
                .iter()
                .map(|t| format!(
                    "ln {} ~ N({:.3}, {:.3}²)",
                    t.param,
                    t.mean_ln_at(peak_lr_seen(curves)),
                    t.sd_ln
                ))
                .collect::<Vec<_>>()
                .join(", "),
            prior.source,
            if prior.terms.len() == 1 { "it" } else { "them" }
        ));
    }
    if let Some([lo, hi]) = mixed_peaks(curves) {
        warnings.push(mixed_peaks_warning(lo, hi));
    }
    let params_at_bounds: Vec<String> = transforms
        .iter()
        .zip(&theta)
        .zip(&names)
        .filter(|((t, x), _)| t.at_bound(**x, 1e-6))
        .map(|(_, n)| n.clone())
        .collect();
    if !params_at_bounds.is_empty() {
        warnings.push(format!(
            "parameters on a bound: {}",
            params_at_bounds.join(", ")
        ));
    }

    let best_o = &outcomes[best];
    let mut converged = best_o.converged;
    let mut termination = best_o.termination.clone();
    if bad_points > 0 {
        converged = false;
        termination = format!(
            "the law predicts a non-finite or non-positive loss at {bad_points} of {n_points} \
             points at the best parameters ({termination})"
        );
    } else if !cost.is_finite() {
        converged = false;
        termination = format!("non-finite cost ({termination})");
    }
    if !converged {
        let n_conv = outcomes.iter().filter(|o| o.converged).count();
        warnings.push(format!(
            "fit did not converge ({n_conv} of {} starts converged)",
            outcomes.len()
        ));
    }

    let (curve_reports, totals) = metrics(law, curves, &theta);
    let start_reports = outcomes
        .iter()
        .map(|o| StartReport {
            initial: obj.theta(&o.u0),
            params: obj.theta(&o.u),
            cost: o.cost / obj.scale,
            iterations: o.iterations,
            evaluations: o.evaluations,
            converged: o.converged,
            termination: o.termination.clone(),
        })
        .collect();
    let report = FitReport {
        converged,
        termination,
        cost,
        huber_delta: options.huber_delta,
        curve_weighting: options.curve_weighting,
        iterations: best_o.iterations,
        evaluations,
        best_start: best,
        starts: start_reports,
        n_points,
        n_params: p,
        rmse_log: totals.0,
        mae: totals.1,
        max_rel_err: totals.2,
        bad_points,
        params_at_bounds,
        curves: curve_reports,
        warnings,
    };

    let summaries: Vec<CurveSummary> = curves
        .iter()
        .map(|c| {
            let last = c.steps.last().copied().unwrap_or(0);
            let seen = &c.lrs[..last as usize];
            CurveSummary {
                name: c.name.clone(),
                n_points: c.steps.len(),
                first_step: c.steps.first().copied().unwrap_or(0),
                last_step: last,
                lr_range: lr_range(seen),
            }
        })
        .collect();
    let all_lrs: Vec<f64> = summaries
        .iter()
        .filter(|s| s.n_points > 0)
        .flat_map(|s| s.lr_range)
        .collect();
    Ok(FittedLaw {
        format: FIT_FORMAT.to_string(),
        version: FIT_VERSION,
        law: law.name().to_string(),
        law_config: serde_json::Value::Null,
        params: names
            .iter()
            .cloned()
            .zip(theta.iter().copied())
            .collect::<BTreeMap<_, _>>(),
        param_order: names,
        bounds: transforms.iter().map(|t| t.bounds()).collect(),
        uncertainty,
        band_quantiles: options.band_quantiles,
        report,
        lr_range_seen: lr_range(&all_lrs),
        steps_seen: summaries.iter().map(|s| s.last_step).max().unwrap_or(0),
        curves: summaries,
        predictive: None,
        selection: None,
        prior: options.prior.clone().filter(|p| p.law == law.name()),
        instability: None,
    })
}

/// Fits one of the crate's laws to `curves` jointly: the whole job, for any law.
///
/// 1. `law.configure(curves)` learns the law's data scales (reference LR, loss range);
/// 2. unless `options.starts` is given, the starts are the law's best
///    [`FitOptions::max_law_starts`] data-driven guesses ([`LossLaw::initial_guesses`], ranked
///    best first) plus [`FitOptions::law_random_starts`] random ones (`options.random_starts`
///    is then not used); with explicit starts, as [`fit`];
/// 3. [`fit`] runs, and the configured law's serde form is stored in
///    [`FittedLaw::law_config`], so [`FittedLaw::law`] rebuilds exactly this law from a fit file.
///
/// For the `sde` law (without LR exponents) step 3 runs twice: every start is first optimised
/// on a copy of the law tabulated over the curvature for the given curves (predictions within
/// about 1e-9 of the excess loss, each costing a few dot products per observed point instead of
/// the recursion over every update), then restarted from where it ended on the exact law, which
/// reports the fit (parameters, cost, uncertainty). The exact restart starts at the optimum
/// and typically stops after one Levenberg–Marquardt iteration; on the bundled two-curve fit
/// the result agrees with an exact-only search to about 1e-6 of a standard error (test
/// `tests/fit_sde_search.rs`), in about a fifth of the time. `max_iters` applies to each phase; the
/// report adds up both phases' iterations and evaluations.
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::{fit_law, FitOptions};
/// use lrsde::law::AnyLaw;
///
/// // A power-law curve L = 2 + 3·S1^−0.5 (S1 = LR area in units of the peak LR).
/// let lrs = lrsde::schedule::LrGrid::new(vec![3e-4; 2000]).unwrap();
/// let steps: Vec<u64> = (1..=50).map(|k| 40 * k).collect();
/// let losses = steps.iter().map(|&s| 2.0 + 3.0 / (s as f64).sqrt()).collect();
/// let curves = [TrainingCurve { name: "constant".into(), lrs, steps, losses, batch: None }];
/// let law: AnyLaw = "power".parse()?;
/// let fitted = fit_law(law, &curves, &FitOptions::default())?;
/// assert!(fitted.report.converged, "{}", fitted.report.termination);
/// assert!((fitted.params["alpha"] - 0.5).abs() < 1e-4);
///
/// // The fit file alone is enough to predict a new schedule.
/// let back = lrsde::fit::Predictor::from_json_str(&fitted.to_json_string()?)?;
/// let band = back.predict_band(&lrsde::schedule::LrGrid::new(vec![3e-4; 8000])?, &[8000])?;
/// assert!((band.loss[0] - (2.0 + 3.0 / 8000f64.sqrt())).abs() < 1e-3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`fit`], plus [`FitError::Law`] when the law cannot learn its scales from the curves
/// (no positive LR, no finite loss).
pub fn fit_law(
    mut law: AnyLaw,
    curves: &[TrainingCurve],
    options: &FitOptions,
) -> Result<FittedLaw, FitError> {
    options.validate()?;
    // Checked before configure so bad data get the fit's typed errors, which name the curve.
    if curves.is_empty() {
        return Err(FitError::NoCurves);
    }
    curves.iter().try_for_each(validate_curve)?;
    law.configure(curves)?;
    let mut opts = options.clone();
    if opts.starts.is_empty() {
        let specs = law.params();
        opts.starts = law
            .initial_guesses(curves)
            .into_iter()
            // Guesses come from the law, not the user: a faulty one is repaired or skipped
            // rather than reported as an invalid start.
            .filter(|g| g.len() == specs.len() && g.iter().all(|x| x.is_finite()))
            .map(|mut g| {
                g.iter_mut().zip(&specs).for_each(|(x, s)| *x = s.clamp(*x));
                g
            })
            .take(options.max_law_starts.max(law.min_starts()))
            .collect();
        opts.random_starts = options.law_random_starts;
    }
    opts.max_iters = opts.max_iters.max(law.min_iters());
    let config = serde_json::to_value(&law).map_err(|source| FitError::BadLawConfig {
        law: law.name().to_string(),
        source,
    })?;
    let fitted = match &law {
        AnyLaw::Sde(sde) => match Tabulated::new(sde, curves) {
            Some(fast) => search_then_polish(&law, &fast, curves, &opts)?,
            None => fit(&law, curves, &opts)?,
        },
        _ => fit(&law, curves, &opts)?,
    };
    Ok(fitted.with_law_config(config))
}

/// [`fit`] in two phases: every start is optimised on `fast` (an approximation of `law` that
/// is cheaper to evaluate, without uncertainty), then restarted from where it ended on `law`
/// itself, which reports the fit. Near the optimum the exact Levenberg–Marquardt needs a few
/// iterations where the search from the law's guesses needs a hundred, so the result is the
/// exact law's optimum at a fraction of the cost. The report counts both phases' iterations
/// and evaluations, and keeps the original starting points.
fn search_then_polish<L: LossLaw + ?Sized, F: LossLaw + ?Sized>(
    law: &L,
    fast: &F,
    curves: &[TrainingCurve],
    opts: &FitOptions,
) -> Result<FittedLaw, FitError> {
    let search = fit(
        fast,
        curves,
        &FitOptions {
            uncertainty: UncertaintyMethod::None,
            ..opts.clone()
        },
    )?;
    let first = &search.report.starts;
    let polish_opts = FitOptions {
        starts: first
            .iter()
            .map(|s| {
                let ok = s.params.iter().all(|x| x.is_finite());
                if ok { &s.params } else { &s.initial }.clone()
            })
            .collect(),
        random_starts: 0,
        ..opts.clone()
    };
    let mut fitted = fit(law, curves, &polish_opts)?;
    let report = &mut fitted.report;
    for (s, f) in report.starts.iter_mut().zip(first) {
        s.initial.clone_from(&f.initial);
        s.iterations += f.iterations;
        s.evaluations += f.evaluations;
        s.termination = format!(
            "tabulated search: {}; exact polish: {}",
            f.termination, s.termination
        );
    }
    report.evaluations += search.report.evaluations;
    if let Some(best) = report.starts.get(report.best_start) {
        report.iterations = best.iterations;
        report.termination = format!("tabulated search, then {}", report.termination);
    }
    Ok(fitted)
}

/// `[min, max]` of a slice (`[0, 0]` when empty, keeping the JSON finite).
/// The largest LR any curve reaches up to its last observed step: the peak a prior's mean may
/// follow ([`PriorTerm::slope_ln_peak`]), the same value as [`FittedLaw::lr_range_seen`]`[1]`.
fn peak_lr_seen(curves: &[TrainingCurve]) -> f64 {
    curve_peaks(curves).fold(0.0, f64::max)
}

/// Each curve's largest LR up to its last observed step (curves without points left out).
fn curve_peaks(curves: &[TrainingCurve]) -> impl Iterator<Item = f64> + '_ {
    curves
        .iter()
        .filter(|c| !c.steps.is_empty())
        .map(|c| lr_range(&c.lrs[..c.steps.last().copied().unwrap_or(0) as usize])[1])
}

/// The smallest and largest of the fit curves' peak LRs ([`curve_peaks`]) when they lie more
/// than [`crate::schedule::SAME_PEAK_RATIO`] apart; `None` otherwise.
pub(crate) fn mixed_peaks(curves: &[TrainingCurve]) -> Option<[f64; 2]> {
    let peaks: Vec<f64> = curve_peaks(curves).filter(|p| *p > 0.0).collect();
    let [lo, hi] = lr_range(&peaks);
    (peaks.len() > 1 && hi > crate::schedule::SAME_PEAK_RATIO * lo).then_some([lo, hi])
}

/// What the public data showed about fits whose curves peak at different LRs
/// (docs/accuracy.md, "Model-size sets").
fn mixed_peaks_warning(lo: f64, hi: f64) -> String {
    format!(
        "the fit curves peak at different LRs ({lo:.3e} to {hi:.3e}); on the public data every \
         law predicted nearly every WSD cooldown at the lower peak too high when the cosine ran \
         at twice that peak, `auto` by 0.027-0.031 on average against 0.006 when every fit \
         curve ran at the predicted peak, its band 6 times as wide; with the cosine at other \
         multiples of the peak (1/20 to 1/2, or 4 to 20 times) it erred by 0.043 \
         (docs/accuracy.md, \"Model-size sets\"); compare schedules with fits of curves run \
         at their peak"
    )
}

fn lr_range(x: &[f64]) -> [f64; 2] {
    if x.is_empty() {
        return [0.0, 0.0];
    }
    let lo = x.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    [lo, hi]
}

/// Per-curve and overall (rmse_log, mae, max_rel_err) over points with a finite positive
/// prediction (NaN where there are none), by [`ErrorSums`].
fn metrics<L: LossLaw + ?Sized>(
    law: &L,
    curves: &[TrainingCurve],
    theta: &[f64],
) -> (Vec<CurveReport>, (f64, f64, f64)) {
    let mut all = ErrorSums::default();
    let reports = curves
        .iter()
        .map(|c| {
            let mut pred = vec![0.0; c.steps.len()];
            if law
                .predict_batched(theta, &c.lrs, c.batch.as_ref(), &c.steps, &mut pred)
                .is_err()
            {
                // Counted like non-finite predictions: no point of this curve has a residual.
                pred.fill(f64::NAN);
            }
            let mut sums = ErrorSums::default();
            sums.add(&c.losses, &pred);
            all.merge(&sums);
            let (rmse, mae, max) = sums.finish();
            CurveReport {
                name: c.name.clone(),
                n_points: c.steps.len(),
                rmse_log: rmse,
                mae,
                max_rel_err: max,
            }
        })
        .collect();
    (reports, all.finish())
}
