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
//! The band is `loss ± z·sd` with `z` the normal quantile of the nominal [`Predictive::level`]:
//! centred on the prediction by construction, never clamped.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

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
}

impl Predictive {
    /// Distance factor `h` of a prediction at `step` of a schedule whose peak LR is `peak`.
    ///
    /// ```
    /// # use lrsde::fit::Predictive;
    /// let p = Predictive { level: 0.9, noise_sd: 0.0, noise_source: "given".into(),
    ///     shared_sd: 0.0, own_sd: 0.01, horizon: 1000, lr_seen: 1e-3,
    ///     method: String::new(), segment_errors: vec![] };
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
