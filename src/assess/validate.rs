//! Leave-one-curve-out refits: whether the observed curves suffice to predict a schedule the
//! fit has not seen (the CLI's `fit --validate` and the Python package's `Fit.validate`).

use super::metrics::curve_metrics;
use crate::data::TrainingCurve;
use crate::fit::{FitError, FitOptions, Predictor, distinct_shapes, fit_law};
use crate::law::{AnyLaw, LossLaw};

/// Held-out error of one curve when the law is fitted on all the others.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeldOut {
    /// The held-out curve.
    pub name: String,
    /// Mean absolute error over its observed points.
    pub mae: f64,
    /// Predicted minus observed loss at its last observed point.
    pub final_err: f64,
    /// Whether the refit converged.
    pub converged: bool,
}

/// Refits `law` leaving each curve out in turn and predicts the held-out curve; `on_refit` is
/// called with the number of refits done after each. Fewer than two curves give no rows
/// (nothing to hold out).
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::assess::leave_one_out;
/// use lrsde::fit::FitOptions;
/// let c = TrainingCurve { name: "a".into(), lrs: lrsde::schedule::LrGrid::new(vec![0.1; 8]).unwrap(), steps: vec![4, 8], losses: vec![3.0, 2.5], batch: None };
/// let rows = leave_one_out(&"power".parse().unwrap(), &[c], &FitOptions::default(), &mut |_| {});
/// assert!(rows.unwrap().is_empty());
/// ```
///
/// # Errors
/// A refit's [`FitError`], or the law's error predicting a held-out curve.
pub fn leave_one_out(
    law: &AnyLaw,
    curves: &[TrainingCurve],
    options: &FitOptions,
    on_refit: &mut dyn FnMut(usize),
) -> Result<Vec<HeldOut>, FitError> {
    if curves.len() < 2 {
        return Ok(Vec::new());
    }
    let mut rows = Vec::with_capacity(curves.len());
    for (i, held) in curves.iter().enumerate() {
        let rest: Vec<TrainingCurve> = curves
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| c.clone())
            .collect();
        let refit = Predictor::from_fitted(fit_law(law.clone(), &rest, options)?)?;
        let mut pred = vec![0.0; held.steps.len()];
        refit.law().predict_batched(
            &refit.params(),
            &held.lrs,
            held.batch.as_ref(),
            &held.steps,
            &mut pred,
        )?;
        // R² is not reported here; 0 keeps every point in its sums.
        let m = curve_metrics(&held.steps, &held.losses, &pred, 0);
        rows.push(HeldOut {
            name: held.name.clone(),
            mae: m.mae,
            final_err: m.final_err,
            converged: refit.fitted().report.converged,
        });
        on_refit(rows.len());
    }
    Ok(rows)
}

/// Mean of the held-out MAEs of [`leave_one_out`]'s rows (`NaN` without rows).
///
/// ```
/// use lrsde::assess::{HeldOut, mean_held_out_mae};
/// let row = |mae| HeldOut { name: "c".into(), mae, final_err: 0.0, converged: true };
/// assert_eq!(mean_held_out_mae(&[row(0.1), row(0.3)]), 0.2);
/// assert!(mean_held_out_mae(&[]).is_nan());
/// ```
pub fn mean_held_out_mae(rows: &[HeldOut]) -> f64 {
    rows.iter().map(|r| r.mae).sum::<f64>() / rows.len() as f64
}

/// Fewest distinct schedule shapes for which leave-one-out refits see more than one shape.
const SHAPES_FOR_VALIDATION: usize = 3;

/// What to tell a user about [`leave_one_out`] on `curves`: with fewer than three distinct
/// schedule shapes each refit sees a single shape, so the held-out error overstates what more
/// runs would give.
///
/// ```
/// use lrsde::data::TrainingCurve;
/// let c = |name: &str, lr: f64| TrainingCurve {
///     name: name.into(), lrs: lrsde::schedule::LrGrid::new(vec![lr; 8]).unwrap(), steps: vec![4, 8], losses: vec![3.0, 2.5], batch: None };
/// assert!(lrsde::assess::validation_note(&[c("a", 0.1), c("b", 0.2)]).is_some());
/// ```
pub fn validation_note(curves: &[TrainingCurve]) -> Option<&'static str> {
    (distinct_shapes(curves) < SHAPES_FOR_VALIDATION).then_some(
        "with fewer than three distinct schedule shapes, each refit sees a single shape; \
         expect the held-out error to shrink as you add runs with other schedules.",
    )
}
