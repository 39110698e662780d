//! Leave-one-curve-out refits: whether the observed curves suffice to predict a schedule the
//! fit has not seen (the CLI's `fit --validate` and the Python package's `Fit.validate`).

use super::{FitError, FitOptions, fit_law};
use crate::data::TrainingCurve;
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
/// use lrsde::fit::{FitOptions, leave_one_out};
/// let c = TrainingCurve { name: "a".into(), lrs: vec![0.1; 8], steps: vec![4, 8], losses: vec![3.0, 2.5] };
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
        let fitted = fit_law(law.clone(), &rest, options)?;
        let refit_law = fitted.law()?;
        let mut pred = vec![0.0; held.steps.len()];
        refit_law.predict(&fitted.params_vec(), &held.lrs, &held.steps, &mut pred)?;
        let mae = pred
            .iter()
            .zip(&held.losses)
            .map(|(p, o)| (p - o).abs())
            .sum::<f64>()
            / held.losses.len() as f64;
        let final_err = pred.last().copied().unwrap_or(f64::NAN)
            - held.losses.last().copied().unwrap_or(f64::NAN);
        rows.push(HeldOut {
            name: held.name.clone(),
            mae,
            final_err,
            converged: fitted.report.converged,
        });
        on_refit(rows.len());
    }
    Ok(rows)
}
