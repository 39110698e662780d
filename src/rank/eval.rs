//! Shared prediction machinery: one schedule's curve, band, per-draw final losses, divergence
//! and extrapolation warnings.

use crate::fit::{Band, FitError, FittedLaw, Predictor};
use crate::law::LossLaw;
use crate::schedule::LrGrid;

/// How a predicted curve is judged to have diverged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DivergenceRule {
    pub factor: f64,
    pub max_loss: Option<f64>,
}

impl DivergenceRule {
    fn violated(&self, value: f64, running_min: f64) -> bool {
        !value.is_finite()
            || (running_min.is_finite() && value > self.factor * running_min)
            || self.max_loss.is_some_and(|m| value > m)
    }
}

/// One schedule evaluated under a fit.
#[derive(Debug, Clone)]
pub(crate) struct Evaluated {
    /// Curve at evenly spaced steps, ending at the last update.
    pub band: Band,
    /// Final loss of every stored draw (NaN where a draw failed or predicted a non-finite or
    /// non-positive loss), in draw order; empty when the central curve diverged.
    pub finals: Vec<f64>,
    /// First step where the central prediction diverged.
    pub diverged: Option<u64>,
    /// Extrapolation and band warnings.
    pub warnings: Vec<String>,
    /// Standard deviation of the final loss's error that no other candidate shares (own model
    /// discrepancy and run-to-run noise of the fit's predictive model; 0 without one).
    pub own_sd: f64,
    /// `k·(other − chosen)` at the final step ([`crate::fit::Disagreement::shift`]; 0
    /// without the term): one standard normal factor, shared by every candidate, times this.
    pub shift: f64,
    /// Final loss on each of the law's Monte Carlo paths at the fitted parameters (empty for a
    /// law without paths or a diverged prediction): paired with every other candidate's.
    pub path_finals: Vec<f64>,
}

impl Evaluated {
    pub fn final_loss(&self) -> f64 {
        self.band.loss.last().copied().unwrap_or(f64::NAN)
    }
}

/// Standard error of the mean path-by-path difference `a[p] − b[p]` (the Monte Carlo error of
/// a gap measured on shared paths); `None` unless both have the same number (≥ 2) of finite
/// paths.
pub(crate) fn paired_path_se(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len();
    if n < 2 || b.len() != n {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    if !d.iter().all(|x| x.is_finite()) {
        return None;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((var / n as f64).sqrt())
}

/// About `points` evenly spaced steps from `first` to `n`, both included, strictly increasing.
pub(crate) fn curve_steps(first: u64, n: u64, points: usize) -> Vec<u64> {
    let first = first.clamp(1, n.max(1));
    let span = n - first;
    let p = points.max(2) as u128;
    if (span as u128) < p {
        return (first..=n).collect();
    }
    let mut v: Vec<u64> = (0..p)
        .map(|i| first + (i * span as u128 / (p - 1)) as u64)
        .collect();
    v.dedup();
    v
}

/// The first update with a positive LR (1-based), so that laws raising the LR area to a
/// negative power are never asked about a zero area; `None` if all LRs are zero.
pub(crate) fn first_positive(lrs: &[f64]) -> Option<u64> {
    lrs.iter().position(|&x| x > 0.0).map(|i| i as u64 + 1)
}

/// The first step where the central prediction diverges, refined to the exact update by
/// bisection between the last good and the first bad evaluated step (the laws' predictions
/// grow monotonically once unstable, so bisection finds the onset).
pub(crate) fn first_divergence<L: LossLaw>(
    predictor: &Predictor<L>,
    lrs: &LrGrid,
    steps: &[u64],
    loss: &[f64],
    rule: DivergenceRule,
) -> Result<Option<u64>, FitError> {
    let mut running_min = f64::INFINITY;
    for (j, (&step, &value)) in steps.iter().zip(loss).enumerate() {
        if rule.violated(value, running_min) {
            let mut lo = if j == 0 { 0 } else { steps[j - 1] };
            let mut hi = step;
            let first = first_positive(lrs).unwrap_or(1);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if mid < first {
                    lo = mid;
                    continue;
                }
                let v = predictor.predict(lrs, &[mid])?[0];
                if rule.violated(v, running_min) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return Ok(Some(hi));
        }
        running_min = running_min.min(value);
    }
    Ok(None)
}

/// Share of a schedule's updates above which time at an LR where a fit curve's loss rose is
/// "long" (a short peak is normal: warmup ends there).
const UNSTABLE_SHARE: f64 = 0.1;

/// Share of the updates whose LR is at least `lr`.
fn share_at_or_above(lrs: &[f64], lr: f64) -> f64 {
    lrs.iter().filter(|&&v| v >= lr).count() as f64 / lrs.len().max(1) as f64
}

/// A warning when the schedule spends more than [`UNSTABLE_SHARE`] of its updates at or above
/// the LR at which a fit curve's loss rose ([`FittedLaw::instability`]).
pub(crate) fn instability_warning(fitted: &FittedLaw, lrs: &[f64]) -> Option<String> {
    let i = fitted.instability.as_ref()?;
    let share = share_at_or_above(lrs, i.lr);
    (share > UNSTABLE_SHARE).then(|| {
        format!(
            "spends {:.0} % of its updates at LR >= {:.3e}, where the loss of fit curve `{}` \
             rose by {:.4} (edge of stability): the predicted loss is likely too low",
            100.0 * share,
            i.lr,
            i.curve,
            i.rise
        )
    })
}

/// A warning when the fitted law saturates (`LAW:sat=1` with `eta_c` below 1: progress per unit
/// of LR halves below the largest fitted LR, the plateau of runs near the edge of stability) and
/// the schedule spends more than [`UNSTABLE_SHARE`] of its updates at or above the LR where it
/// halves. The prediction already counts the smaller gain; the warning says why such a schedule
/// loses, and that a run that hot is where instability starts, which no law here reproduces.
pub(crate) fn saturation_warning(fitted: &FittedLaw, lrs: &[f64]) -> Option<String> {
    let (c, half) = fitted.saturation()?;
    let share = share_at_or_above(lrs, half);
    (share > UNSTABLE_SHARE).then(|| {
        format!(
            "spends {:.0} % of its updates at LR >= {half:.3e}, where the fitted saturating law \
             credits less than half the progress per unit of LR (eta_c = {c:.3}): near the edge \
             of stability, where a run can also turn unstable, which no law here reproduces",
            100.0 * share
        )
    })
}

/// Warnings for a schedule of peak LR `peak` and `steps` updates outside what the fit saw:
/// a peak above the largest fitted LR, a peak that is no fit curve's peak, a horizon beyond the
/// fitted one. Extrapolation is allowed (the MPL literature tests 3× horizon extrapolation), so
/// these are warnings, not errors. `lrsde rank` and `lrsde predict` print them.
///
/// ```
/// # use lrsde::fit::{FitOptions, UncertaintyMethod, fit_law};
/// # let lrs = vec![1e-3; 2000];
/// # let steps: Vec<u64> = (1..=20).map(|k| k * 100).collect();
/// # let losses: Vec<f64> = steps.iter().map(|&s| 2.0 + 3.0 * (s as f64 * 1e-3).powf(-0.5)).collect();
/// # let curve = lrsde::data::TrainingCurve {
/// #     name: "constant".into(), lrs: lrsde::schedule::LrGrid::new(lrs).unwrap(), steps, losses,
/// #     batch: None,
/// # };
/// # let opts = FitOptions { uncertainty: UncertaintyMethod::None, ..FitOptions::default() };
/// let fitted = fit_law("power".parse().unwrap(), &[curve], &opts).unwrap();
/// assert!(lrsde::rank::extrapolation_warnings(&fitted, 1e-3, 2000).is_empty());
/// let w = lrsde::rank::extrapolation_warnings(&fitted, 5e-4, 8000);
/// assert!(w[0].contains("not the peak of any fit curve") && w[1].contains("8000 steps"));
/// ```
pub fn extrapolation_warnings(fitted: &FittedLaw, peak: f64, steps: u64) -> Vec<String> {
    let mut w = Vec::new();
    let seen = fitted.lr_range_seen[1];
    // A schedule at the fitted peak, up to a logged LR's single precision, does not warn.
    if seen > 0.0 && peak > seen * (1.0 + crate::schedule::SAME_LR_RTOL) {
        w.push(format!(
            "peak LR {peak} exceeds the largest LR the fit saw ({seen}): extrapolating in LR"
        ));
    } else if let Some(message) = other_peak(fitted, peak) {
        w.push(message);
    }
    // 5 % slack: curves are observed every few hundred steps, so a fit of a 15,000-step run
    // may have seen up to step 14,800; predicting its last update is not an extrapolation.
    if fitted.steps_seen > 0 && steps as f64 > fitted.steps_seen as f64 * 1.05 {
        w.push(format!(
            "extrapolating to {steps} steps, fit saw up to {}",
            fitted.steps_seen
        ));
    }
    w
}

/// The warning for a schedule whose `peak` is below the largest fitted LR but more than
/// [`crate::schedule::SAME_PEAK_RATIO`] from every fit curve's peak, with what the public data showed
/// (docs/accuracy.md, "Model-size sets").
fn other_peak(fitted: &FittedLaw, peak: f64) -> Option<String> {
    let peaks: Vec<f64> = fitted
        .curves
        .iter()
        .map(|c| c.lr_range[1])
        .filter(|p| *p > 0.0)
        .collect();
    let ratio = crate::schedule::SAME_PEAK_RATIO;
    let near = |p: &f64| peak <= p * ratio && *p <= peak * ratio;
    if peak <= 0.0 || peaks.is_empty() || peaks.iter().any(near) {
        return None;
    }
    let mut list: Vec<String> = peaks.iter().map(|p| format!("{p:.3e}")).collect();
    list.dedup();
    Some(format!(
        "peak LR {peak:.3e} is not the peak of any fit curve ({}): on the public 124M grid, \
         WSD cooldowns at half the fitted peak were predicted 0.033 too high on average (0.006 \
         at the fitted peak; docs/accuracy.md, \"Model-size sets\"); fit curves run at this peak \
         to compare schedules there",
        list.join(", ")
    ))
}

/// Predicts the curve of `lrs` (about `points` steps ending at the last update), its band,
/// divergence and the per-draw final losses.
pub(crate) fn evaluate<L: LossLaw>(
    predictor: &Predictor<L>,
    lrs: &LrGrid,
    points: usize,
    rule: DivergenceRule,
) -> Result<Evaluated, FitError> {
    let fitted = predictor.fitted();
    let n = lrs.len() as u64;
    let peak = lrs.iter().copied().fold(0.0, f64::max);
    let mut warnings = extrapolation_warnings(fitted, peak, n);
    warnings.extend(instability_warning(fitted, lrs));
    warnings.extend(saturation_warning(fitted, lrs));
    let Some(first) = first_positive(lrs) else {
        return Err(FitError::InvalidPredictionStep {
            index: 0,
            step: 1,
            reason: "every learning rate of the schedule is 0".into(),
        });
    };
    let steps = curve_steps(first, n, points);
    // The band's draws end at the last update: their last values are the per-draw finals.
    let (band, draws) = predictor.predict_band_with_draws(lrs, &steps)?;
    let diverged = first_divergence(predictor, lrs, &steps, &band.loss, rule)?;
    let finals = if diverged.is_none() {
        draws
            .iter()
            .map(|p| match p.as_ref().and_then(|p| p.last()) {
                Some(&v) if v.is_finite() && v > 0.0 => v,
                _ => f64::NAN,
            })
            .collect()
    } else {
        Vec::new()
    };
    if diverged.is_none() {
        let total = finals.len();
        let bad = finals.iter().filter(|x| x.is_nan()).count();
        if total == 0 {
            warnings.push(
                "the fit stores no parameter draws: no band, significance unknown".to_string(),
            );
        } else if bad > 0 {
            warnings.push(format!(
                "{bad} of {total} parameter draws diverged or failed; band and significance \
                 use the rest"
            ));
        }
    }
    let own_sd = fitted
        .predictive
        .as_ref()
        .map_or(0.0, |p| p.own_variance(p.distance(n, peak)).sqrt());
    let shift = match (&diverged, fitted.predictive.as_ref()) {
        (None, Some(p)) => p.disagreement.as_ref().map_or(0.0, |d| {
            d.shift(lrs, &[n], &band.loss[band.loss.len() - 1..])[0]
        }),
        _ => 0.0,
    };
    let path_finals = if diverged.is_none() {
        predictor
            .bound_law()
            .path_predictions(&fitted.params_vec(), lrs, &[n])?
            .map(|paths| {
                paths
                    .iter()
                    .map(|p| p.last().copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Evaluated {
        band,
        finals,
        diverged,
        warnings,
        own_sd,
        shift,
        path_finals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_steps_cover_ends() {
        assert_eq!(curve_steps(1, 5, 200), vec![1, 2, 3, 4, 5]);
        let v = curve_steps(1, 24000, 200);
        assert_eq!((v[0], *v.last().unwrap(), v.len()), (1, 24000, 200));
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(curve_steps(10, 10, 200), vec![10]);
    }

    #[test]
    fn paired_path_se_is_the_standard_error_of_the_differences() {
        // Identical paths: no Monte Carlo error at all.
        assert_eq!(
            paired_path_se(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]),
            Some(0.0)
        );
        // A constant shift: the paired differences do not vary.
        assert_eq!(
            paired_path_se(&[1.5, 2.5, 3.5], &[1.0, 2.0, 3.0]),
            Some(0.0)
        );
        // Differences 1, 3: sample variance 2, SE sqrt(2 / 2) = 1.
        let se = paired_path_se(&[2.0, 5.0], &[1.0, 2.0]).unwrap();
        assert!((se - 1.0).abs() < 1e-15);
        assert_eq!(paired_path_se(&[1.0], &[1.0]), None);
        assert_eq!(paired_path_se(&[1.0, 2.0], &[1.0]), None);
        assert_eq!(paired_path_se(&[1.0, f64::INFINITY], &[1.0, 2.0]), None);
    }
}
