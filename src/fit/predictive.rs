//! The predictive band: how far the observed loss of a *new run* may fall from the prediction.
//!
//! Three independent variance components, added at every step:
//!
//! - **parameters**: the variance of the law over the fit's stored parameter draws (Laplace);
//! - **model discrepancy**: how wrong this law was when it extrapolated curves of the fit set
//!   (learned by [`crate::assess::calibrate`] from leave-last-segment-out refits, never from
//!   held-out data), split into a part *shared* by every schedule (a level error that moves all
//!   predictions together and cancels in comparisons) and a part *own* to each schedule; both
//!   grow with the distance from what the fit observed, `h = √(t / horizon) · max(1, peak LR /
//!   largest LR seen)`;
//! - **run-to-run noise**: the scatter of an observed loss around its run's trend (estimated
//!   from the fit curves' residuals, or given).
//!
//! With `--law auto` a fourth, when the fit curves have more than one schedule shape:
//!
//! - **disagreement**: `(k·(other − chosen))²`, the other candidate law's prediction of the
//!   same schedule minus the chosen law's ([`Disagreement`]). Both laws fit the observed
//!   shapes; where they part on a new schedule, at least one extrapolates wrongly, which the
//!   fit curves' own refits cannot show for a shape none of them has. `k` is learned from the
//!   refits ([`crate::assess::calibrate`]).
//!
//! The band is `loss ± z·sd` with `z` the normal quantile of the nominal [`Predictive::level`]:
//! centred on the prediction by construction, never clamped.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::law::{AnyLaw, LossLaw};
use crate::schedule::LrGrid;

/// The error of one leave-last-segment-out prediction (see [`crate::assess::calibrate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentError {
    /// The curve whose last segment was held out.
    pub curve: String,
    /// Longest step the refit saw (over all its curves).
    pub seen: u64,
    /// The curve's last observed step (where the error is taken).
    pub step: u64,
    /// Predicted minus observed loss at `step`.
    pub error: f64,
}

/// The stored model of a fit's predictive band (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictive {
    /// Nominal coverage of the band (e.g. 0.9).
    pub level: f64,
    /// Run-to-run noise: standard deviation of one observed loss around its run's trend.
    pub noise_sd: f64,
    /// Where `noise_sd` came from (`"fit residuals"` or `"given"`).
    pub noise_source: String,
    /// Discrepancy standard deviation shared by all schedules at `h = 1`.
    pub shared_sd: f64,
    /// Discrepancy standard deviation own to each schedule at `h = 1`.
    pub own_sd: f64,
    /// Steps the discrepancy is scaled against (the fit's longest curve).
    pub horizon: u64,
    /// Largest LR the fit saw (LRs above it widen the discrepancy).
    pub lr_seen: f64,
    /// How the discrepancy was learned.
    pub method: String,
    /// The held-out errors of the fit curves it was learned from.
    pub segment_errors: Vec<SegmentError>,
    /// The other candidate law of `--law auto` and the weight of its disagreement; `None` for
    /// a law chosen by the user, a fit of one schedule shape, and files of older builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<Disagreement>,
}

/// The other candidate law of `--law auto`, fitted on the same curves, whose disagreement with
/// the chosen law adds `(k·(other − chosen))²` to the band's variance at every step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disagreement {
    /// The other law's name.
    pub law: String,
    /// The other law's configuration (its [`AnyLaw`] serde form).
    pub law_config: serde_json::Value,
    /// The other law's fitted parameters, in its own order.
    pub params: Vec<f64>,
    /// Weight of the disagreement (standard deviations per unit of `other − chosen`).
    pub k: f64,
    /// Paired refit predictions `k` was learned from.
    pub n_pairs: usize,
}

impl Disagreement {
    /// `k·(other − chosen)` at `steps` of `lrs`, given the chosen law's prediction `chosen`
    /// there: the signed shift one standard deviation of the term stands for. Zero where the
    /// other law refuses the schedule or predicts a non-finite loss (no evidence there), and
    /// everywhere when `k = 0`.
    ///
    /// ```
    /// use lrsde::fit::Disagreement;
    /// use lrsde::law::{AnyLaw, PowerLaw};
    /// use lrsde::schedule::LrGrid;
    /// // The power law L0 + A·S1^−α at L0 = 2, A = 3, α = 0.5 (S1 in units of the peak LR).
    /// let other = AnyLaw::Power(PowerLaw::new(1e-3)?);
    /// let d = Disagreement { law: "power".into(), law_config: serde_json::to_value(&other)?,
    ///     params: vec![2.0, 3.0, 0.5], k: 0.5, n_pairs: 4 };
    /// let lrs = LrGrid::new(vec![1e-3; 400])?;
    /// let shift = d.shift(&lrs, &[100, 400], &[2.2, 2.2]);
    /// assert!((shift[0] - 0.5 * (2.3 - 2.2)).abs() < 1e-12);
    /// assert!((shift[1] - 0.5 * (2.15 - 2.2)).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shift(&self, lrs: &LrGrid, steps: &[u64], chosen: &[f64]) -> Vec<f64> {
        let mut out = vec![f64::NAN; steps.len()];
        let ok = self.k != 0.0
            && serde_json::from_value::<AnyLaw>(self.law_config.clone())
                .ok()
                .is_some_and(|law| law.predict(&self.params, lrs, steps, &mut out).is_ok());
        if !ok {
            return vec![0.0; steps.len()];
        }
        out.iter()
            .zip(chosen)
            .map(|(o, c)| {
                let d = self.k * (o - c);
                if d.is_finite() { d } else { 0.0 }
            })
            .collect()
    }
}

impl Predictive {
    /// Distance factor `h` of a prediction at `step` of a schedule whose peak LR is `peak`.
    ///
    /// ```
    /// # use lrsde::fit::Predictive;
    /// let p = Predictive { level: 0.9, noise_sd: 0.0, noise_source: "given".into(),
    ///     shared_sd: 0.0, own_sd: 0.01, horizon: 1000, lr_seen: 1e-3,
    ///     method: String::new(), segment_errors: vec![], disagreement: None };
    /// assert_eq!(p.distance(1000, 1e-3), 1.0);
    /// assert_eq!(p.distance(4000, 2e-3), 4.0);
    /// ```
    pub fn distance(&self, step: u64, peak: f64) -> f64 {
        let t = step as f64 / self.horizon.max(1) as f64;
        let lr = if self.lr_seen > 0.0 && peak.is_finite() {
            (peak / self.lr_seen).max(1.0)
        } else {
            1.0
        };
        t.sqrt() * lr
    }

    /// Variance of the discrepancy plus noise at distance `h` (without the parameter part):
    /// `(shared² + own²)·h² + noise²`.
    pub fn variance(&self, h: f64) -> f64 {
        (self.shared_sd.powi(2) + self.own_sd.powi(2)) * h * h + self.noise_sd.powi(2)
    }

    /// Variance of the part of a prediction's error that is not shared with other schedules
    /// (own discrepancy and noise), at distance `h`: what separates two candidates.
    pub fn own_variance(&self, h: f64) -> f64 {
        self.own_sd.powi(2) * h * h + self.noise_sd.powi(2)
    }

    /// The two-sided normal quantile `z` of the level (1.645 for 0.9).
    pub fn z(&self) -> f64 {
        z_of_level(self.level)
    }
}

/// `Φ⁻¹((1 + level) / 2)`: half-width of a central normal interval in standard deviations.
///
/// ```
/// assert!((lrsde::fit::z_of_level(0.9) - 1.6449).abs() < 1e-4);
/// ```
pub fn z_of_level(level: f64) -> f64 {
    let n = Normal::standard();
    n.inverse_cdf(0.5 + 0.5 * level.clamp(0.0, 1.0 - 1e-12))
}

/// The band quantiles of a central interval at `level` (`(0.05, 0.95)` for 0.9).
pub(crate) fn quantiles_of_level(level: f64) -> (f64, f64) {
    (0.5 - 0.5 * level, 0.5 + 0.5 * level)
}
