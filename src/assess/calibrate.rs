//! The predictive band's calibration: discrepancy from leave-last-segment-out errors, noise
//! from the fit residuals.

use super::segment::{DEFAULT_CUTS, segment_errors};
use crate::data::TrainingCurve;
use crate::fit::{FitError, FitOptions, FittedLaw, Predictive, SegmentError};
use crate::law::LossLaw;

/// How [`calibrate`] builds the predictive band.
///
/// ```
/// let o = lrsde::assess::CalibrationOptions::default();
/// assert_eq!((o.level, o.noise_sd), (0.9, None));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationOptions {
    /// Nominal coverage of the band, in (0, 1).
    pub level: f64,
    /// Run-to-run noise standard deviation of an observed loss; `None`: estimated from the fit
    /// curves' residuals ([`residual_noise_sd`]).
    pub noise_sd: Option<f64>,
    /// Fractions of each curve kept by the leave-last-segment-out refits.
    pub cuts: Vec<f64>,
}

impl Default for CalibrationOptions {
    fn default() -> Self {
        Self {
            level: 0.9,
            noise_sd: None,
            cuts: DEFAULT_CUTS.to_vec(),
        }
    }
}

impl CalibrationOptions {
    pub(crate) fn validate(&self) -> Result<(), FitError> {
        let bad = |option, reason: &str| {
            Err(FitError::InvalidOption {
                option,
                reason: reason.to_string(),
            })
        };
        if !(self.level > 0.0 && self.level < 1.0) {
            return bad("level", "must be in (0, 1)");
        }
        if let Some(s) = self.noise_sd
            && !(s.is_finite() && s >= 0.0)
        {
            return bad("noise_sd", "must be finite and >= 0");
        }
        if self.cuts.iter().any(|c| !(*c > 0.0 && *c < 1.0)) {
            return bad("cuts", "every cut must be in (0, 1)");
        }
        Ok(())
    }
}

/// Run-to-run noise of the fit curves: the scatter of the residuals from one observed point
/// to the next, `1.4826 · median |Δr| / √2` over every curve's points after its first 10 %
/// (a trend error changes slowly from point to point and cancels in `Δr`; the noise does not).
/// `0` when no curve has two such points.
///
/// ```
/// use lrsde::assess::residual_noise_sd;
/// // Residuals alternating ±0.01 around the law: |Δr| = 0.02 everywhere.
/// let obs = [2.01, 1.99, 2.01, 1.99, 2.01, 1.99, 2.01, 1.99, 2.01, 1.99, 2.01];
/// let pred = [2.0; 11];
/// let s = residual_noise_sd(&[(&obs[..], &pred[..])]);
/// assert!((s - 1.4826 * 0.02 / 2f64.sqrt()).abs() < 1e-9);
/// ```
pub fn residual_noise_sd(curves: &[(&[f64], &[f64])]) -> f64 {
    let mut diffs: Vec<f64> = Vec::new();
    for (obs, pred) in curves {
        let n = obs.len().min(pred.len());
        let r: Vec<f64> = (n / 10..n).map(|i| obs[i] - pred[i]).collect();
        diffs.extend(r.windows(2).map(|w| (w[1] - w[0]).abs()));
    }
    diffs.retain(|d| d.is_finite());
    if diffs.is_empty() {
        return 0.0;
    }
    let median = crate::quantile::quantile_select(&mut diffs, 0.5);
    1.4826 * median / std::f64::consts::SQRT_2
}

/// The discrepancy components from leave-last-segment-out errors, given the run-to-run noise
/// `noise_sd` that each error also contains: an error at distance `h = √(step / seen)` has
/// `E[e²] = d²·h² + noise²`, so `u = (e² − noise²) / h²` estimates the total discrepancy
/// variance `d²` (their mean, clamped at 0), and the mean of `e·e' / (h·h')` over pairs of
/// curves of the same refit its shared part (clamped to `[0, d²]`); the rest is each
/// schedule's own. Returns `(shared_sd, own_sd)`; zeros when there are no errors.
pub(crate) fn discrepancy(errors: &[SegmentError], noise_sd: f64) -> (f64, f64) {
    let e: Vec<(u64, f64, f64)> = errors
        .iter()
        .filter(|e| e.error.is_finite() && e.seen > 0 && e.step > 0)
        .map(|e| (e.seen, e.error, (e.step as f64 / e.seen as f64).sqrt()))
        .collect();
    if e.is_empty() {
        return (0.0, 0.0);
    }
    let n2 = noise_sd * noise_sd;
    let total = (e
        .iter()
        .map(|(_, x, h)| (x * x - n2) / (h * h))
        .sum::<f64>()
        / e.len() as f64)
        .max(0.0);
    let (mut sum, mut pairs) = (0.0, 0usize);
    for i in 0..e.len() {
        for j in i + 1..e.len() {
            // Errors of one refit share its parameter error: the shared part of a comparison.
            if e[i].0 == e[j].0 {
                sum += e[i].1 * e[j].1 / (e[i].2 * e[j].2);
                pairs += 1;
            }
        }
    }
    let shared = if pairs > 0 {
        (sum / pairs as f64).clamp(0.0, total)
    } else {
        0.0
    };
    (shared.sqrt(), (total - shared).sqrt())
}

/// The disagreement weight `k²` from the refit errors of the chosen law (`chosen`) and of the
/// other candidate (`other`), refitted on the same shortened curves: each pair of predictions
/// of one point has a disagreement `Δ = e_other − e_chosen` and leaves, after the noise and the
/// horizon discrepancy `d²·h²` (`d² = shared² + own²`, `h² = step / seen`), the residual
/// `r = e_chosen² − noise² − d²·h²`; `k² = Σ r·Δ² / Σ Δ⁴` (least squares of `r` on `Δ²`),
/// clamped at 0. The horizon term keeps its own calibration: `k` only takes what it leaves
/// where the laws disagree. Returns `(k², pairs)`; `None` without a pair.
///
/// ```
/// use lrsde::assess::disagreement_k2;
/// use lrsde::fit::SegmentError;
/// let e = |error: f64| SegmentError { curve: "a".into(), seen: 50, step: 100, error };
/// // No noise, no horizon term: r = 0.02² over Δ² = 0.02², so k² = 1.
/// let (k2, pairs) = disagreement_k2(&[e(0.02)], &[e(0.04)], 0.0, 0.0).unwrap();
/// assert_eq!(pairs, 1);
/// assert!((k2 - 1.0).abs() < 1e-12);
/// assert!(disagreement_k2(&[e(0.02)], &[], 0.0, 0.0).is_none());
/// ```
pub fn disagreement_k2(
    chosen: &[SegmentError],
    other: &[SegmentError],
    noise_sd: f64,
    d2: f64,
) -> Option<(f64, usize)> {
    let (mut num, mut den, mut pairs) = (0.0, 0.0, 0usize);
    for e in chosen.iter().filter(|e| e.seen > 0) {
        let Some(o) = other
            .iter()
            .find(|o| o.curve == e.curve && o.seen == e.seen && o.step == e.step)
        else {
            continue;
        };
        let delta2 = (o.error - e.error).powi(2);
        let r = e.error.powi(2) - noise_sd.powi(2) - d2 * e.step as f64 / e.seen as f64;
        if delta2.is_finite() && r.is_finite() {
            num += r * delta2;
            den += delta2 * delta2;
            pairs += 1;
        }
    }
    (pairs > 0).then(|| {
        let k2 = if den > 0.0 { (num / den).max(0.0) } else { 0.0 };
        (k2, pairs)
    })
}

/// The predictive model of `fitted` from given leave-last-segment-out errors and the fit
/// curves (for the noise and the horizon).
///
/// # Errors
/// [`FitError::InvalidOption`] for bad [`CalibrationOptions`]; as [`FittedLaw::law`].
pub fn predictive_from_errors(
    fitted: &FittedLaw,
    curves: &[TrainingCurve],
    errors: Vec<SegmentError>,
    cal: &CalibrationOptions,
) -> Result<Predictive, FitError> {
    cal.validate()?;
    let (noise_sd, noise_source) = match cal.noise_sd {
        Some(s) => (s, "given".to_string()),
        None => {
            let law = fitted.law()?;
            let params = fitted.params_vec();
            let preds: Vec<Vec<f64>> = curves
                .iter()
                .map(|c| {
                    let mut out = vec![f64::NAN; c.steps.len()];
                    let _ =
                        law.predict_batched(&params, &c.lrs, c.batch.as_ref(), &c.steps, &mut out);
                    out
                })
                .collect();
            let pairs: Vec<(&[f64], &[f64])> = curves
                .iter()
                .zip(&preds)
                .map(|(c, p)| (c.losses.as_slice(), p.as_slice()))
                .collect();
            (residual_noise_sd(&pairs), "fit residuals".to_string())
        }
    };
    let (shared_sd, own_sd) = discrepancy(&errors, noise_sd);
    let refits = {
        let mut s: Vec<u64> = errors.iter().map(|e| e.seen).collect();
        s.dedup();
        s.len()
    };
    Ok(Predictive {
        level: cal.level,
        noise_sd,
        noise_source,
        shared_sd,
        own_sd,
        horizon: fitted.steps_seen,
        lr_seen: fitted.lr_range_seen[1],
        method: format!(
            "leave-last-segment-out: {refits} refits on the first {} of each curve, {} errors",
            cal.cuts
                .iter()
                .map(|c| format!("{:.0} %", 100.0 * c))
                .collect::<Vec<_>>()
                .join(" / "),
            errors.len()
        ),
        segment_errors: errors,
        disagreement: None,
    })
}

/// Adds the predictive band to a fit of one of the crate's laws: leave-last-segment-out refits
/// of `curves` (the curves `fitted` was fitted on) give the model discrepancy, the residuals
/// the run-to-run noise (unless given).
/// [`Predictor::predict_band`](crate::fit::Predictor::predict_band) then returns the
/// predictive interval of a new run at `cal.level`.
///
/// ```
/// use lrsde::assess::{calibrate, CalibrationOptions};
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::{fit_law, FitOptions};
///
/// let lrs = lrsde::schedule::LrGrid::new(vec![1e-3; 2000]).unwrap();
/// let steps: Vec<u64> = (1..=40).map(|k| 50 * k).collect();
/// let losses = steps.iter().enumerate()
///     .map(|(i, &s)| 2.0 + 3.0 / (s as f64).sqrt() + 1e-3 * ((i % 2) as f64 - 0.5))
///     .collect();
/// let curves = [TrainingCurve { name: "c".into(), lrs, steps, losses, batch: None }];
/// let opts = FitOptions::default();
/// let fitted = fit_law("power".parse()?, &curves, &opts)?;
/// let fitted = calibrate(fitted, &curves, &opts, &CalibrationOptions::default())?;
/// let p = fitted.predictive.as_ref().unwrap();
/// assert!(p.noise_sd > 5e-4 && p.noise_sd < 2e-3, "{}", p.noise_sd);
/// let predictor = lrsde::fit::Predictor::from_fitted(fitted)?;
/// let band = predictor.predict_band(&lrsde::schedule::LrGrid::new(vec![1e-3; 4000])?, &[4000])?;
/// assert!(band.lo[0] < band.loss[0] && band.loss[0] < band.hi[0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`segment_errors`] and [`predictive_from_errors`].
pub fn calibrate(
    mut fitted: FittedLaw,
    curves: &[TrainingCurve],
    options: &FitOptions,
    cal: &CalibrationOptions,
) -> Result<FittedLaw, FitError> {
    cal.validate()?;
    let law = fitted.law()?;
    let errors = segment_errors(&law, curves, options, &cal.cuts)?;
    let predictive = predictive_from_errors(&fitted, curves, errors, cal)?;
    fitted.band_quantiles = crate::fit::quantiles_of_level(cal.level);
    fitted.predictive = Some(predictive);
    Ok(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(seen: u64, step: u64, error: f64) -> SegmentError {
        SegmentError {
            curve: String::new(),
            seen,
            step,
            error,
        }
    }

    #[test]
    fn discrepancy_splits_shared_and_own_parts() {
        // One refit, two curves at h = 2 with errors 0.02 and 0.06: scaled 0.01 and 0.03;
        // total = (0.01² + 0.03²) / 2 = 5e-4, shared = 0.01·0.03 = 3e-4, own = 2e-4.
        let (shared, own) = discrepancy(&[err(100, 400, 0.02), err(100, 400, 0.06)], 0.0);
        assert!((shared * shared - 3e-4).abs() < 1e-15, "{shared}");
        assert!((own * own - 2e-4).abs() < 1e-15, "{own}");
        // Errors of opposite sign share nothing.
        let (shared, own) = discrepancy(&[err(100, 100, 0.01), err(100, 100, -0.01)], 0.0);
        assert_eq!(shared, 0.0);
        assert!((own - 0.01).abs() < 1e-15);
    }

    #[test]
    fn disagreement_weight_is_the_least_squares_slope_of_the_residual_on_delta_squared() {
        // No noise, no horizon term: r = e². Pairs (e, e_other): (0.02, 0.00) → Δ² = 4e-4,
        // r = 4e-4; (0.01, 0.03) → Δ² = 4e-4, r = 1e-4. k² = (4e-4 + 1e-4)·4e-4 / (2·16e-8).
        let chosen = [err(100, 200, 0.02), err(100, 300, 0.01)];
        let other = [err(100, 300, 0.03), err(100, 200, 0.0)];
        let (k2, n) = disagreement_k2(&chosen, &other, 0.0, 0.0).unwrap();
        assert_eq!(n, 2);
        assert!((k2 - 5e-4 * 4e-4 / 32e-8).abs() < 1e-12, "{k2}");
        // The horizon term and the noise explain everything: nothing left for k.
        let (k2, _) = disagreement_k2(&chosen, &other, 0.01, 1e-4).unwrap();
        assert_eq!(k2, 0.0);
        // Unpaired errors (another refit or curve) give no evidence.
        assert_eq!(
            disagreement_k2(&chosen, &[err(50, 200, 0.0)], 0.0, 0.0),
            None
        );
    }

    #[test]
    fn discrepancy_removes_the_noise_in_the_errors() {
        // |e| = noise: no discrepancy left.
        assert_eq!(
            discrepancy(&[err(10, 10, 0.003), err(20, 20, -0.003)], 0.003),
            (0.0, 0.0)
        );
        assert_eq!(discrepancy(&[], 0.1), (0.0, 0.0));
    }
}
