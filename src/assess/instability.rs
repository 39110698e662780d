//! Observed instability: where a fit curve's loss rose while training, and at which LR.

use serde::{Deserialize, Serialize};

use crate::data::TrainingCurve;

/// Points in the running median that smooths single noisy evaluations.
const SMOOTH: usize = 5;

/// A sustained rise of an observed loss (see [`observed_instability`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instability {
    /// The curve whose loss rose.
    pub curve: String,
    /// Step at which the (smoothed) loss stood highest above its earlier minimum.
    pub step: u64,
    /// Rise above the earlier minimum of the smoothed loss.
    pub rise: f64,
    /// Smallest LR of the updates between the minimum and the rise: training at or above it
    /// made the loss go up.
    pub lr: f64,
}

/// The largest sustained rise of the loss over every curve: the running median of 5 points
/// climbing above its earlier minimum by more than `max(1 % of the loss, 4 · noise_sd)` after
/// the first fifth of the curve (warmup and early transients excluded). Loss should only fall
/// under a non-increasing LR; a rise means training was at or past the edge of stability (or
/// something else went wrong), which no quadratic surrogate reproduces. `None` when no curve
/// rose.
///
/// ```
/// use lrsde::assess::observed_instability;
/// use lrsde::data::TrainingCurve;
/// let steps: Vec<u64> = (1..=40).map(|k| 100 * k).collect();
/// // Falls to 3.0 at step 2500, then climbs by 0.3 while the LR is 2e-3.
/// let losses: Vec<f64> = steps.iter()
///     .map(|&s| if s <= 2500 { 4.0 - s as f64 / 2500.0 } else { 3.0 + (s - 2500) as f64 / 5000.0 })
///     .collect();
/// let c = TrainingCurve { name: "hot".into(), lrs: lrsde::schedule::LrGrid::new(vec![2e-3; 4000]).unwrap(), steps, losses, batch: None };
/// let i = observed_instability(&[c], 0.0).unwrap();
/// assert_eq!(i.lr, 2e-3);
/// assert!(i.rise > 0.2);
/// ```
pub fn observed_instability(curves: &[TrainingCurve], noise_sd: f64) -> Option<Instability> {
    let mut best: Option<Instability> = None;
    for c in curves {
        let n = c.losses.len();
        if n < 2 * SMOOTH {
            continue;
        }
        let smooth: Vec<f64> = (0..n)
            .map(|i| {
                let lo = i.saturating_sub(SMOOTH / 2);
                let hi = (i + SMOOTH / 2 + 1).min(n);
                let mut w: Vec<f64> = c.losses[lo..hi].to_vec();
                crate::quantile::quantile_select(&mut w, 0.5)
            })
            .collect();
        let mut argmin = n / 5;
        for i in n / 5..n {
            if smooth[i] < smooth[argmin] {
                argmin = i;
            }
            let rise = smooth[i] - smooth[argmin];
            let threshold = (0.01 * smooth[argmin]).max(4.0 * noise_sd);
            if rise > threshold && best.as_ref().is_none_or(|b| rise > b.rise) {
                let from = c.steps[argmin] as usize;
                let to = (c.steps[i] as usize).min(c.lrs.len());
                let lr = c.lrs[from.min(to)..to]
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min);
                if lr.is_finite() && lr > 0.0 {
                    best = Some(Instability {
                        curve: c.name.clone(),
                        step: c.steps[i],
                        rise,
                        lr,
                    });
                }
            }
        }
    }
    best
}
