//! What a fit reports: cost, iterations, convergence, per-start and per-curve summaries.

use serde::{Deserialize, Serialize};

/// Serde for `f64` fields that may be non-finite: JSON has no NaN or infinity, so they are
/// written as `null` and read back as NaN.
pub(crate) mod nullable_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else {
            s.serialize_none()
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// One start of a multi-start fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartReport {
    /// Starting parameters (after moving starts on a bound inside).
    pub initial: Vec<f64>,
    /// Parameters this start ended at.
    pub params: Vec<f64>,
    /// Σ w·Huber(ln obs − ln pred) at `params`.
    #[serde(with = "nullable_f64")]
    pub cost: f64,
    /// L-BFGS plus Nelder–Mead iterations.
    pub iterations: u64,
    /// Law evaluations over the curve set: a prediction or a Jacobian call counts 1, a
    /// finite-difference gradient `2p`.
    pub evaluations: u64,
    /// Whether this start converged.
    pub converged: bool,
    /// Why it stopped, in words.
    pub termination: String,
}

/// Fit quality on one curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveReport {
    /// Curve name.
    pub name: String,
    /// Observed points.
    pub n_points: usize,
    /// Root-mean-square log residual.
    #[serde(with = "nullable_f64")]
    pub rmse_log: f64,
    /// Mean absolute error of the loss.
    #[serde(with = "nullable_f64")]
    pub mae: f64,
    /// Largest relative error `|obs − pred| / obs`.
    #[serde(with = "nullable_f64")]
    pub max_rel_err: f64,
}

/// The outcome of a fit: whether it converged, how well it fits, and every start.
///
/// A fit that fails says so: `converged == false` and `termination` gives the reason. Metrics
/// that cannot be computed (every prediction non-finite) are NaN (`null` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Whether the best start converged and its predictions are all finite and positive.
    pub converged: bool,
    /// Why the best start stopped, in words.
    pub termination: String,
    /// Σ w·Huber_δ(ln obs − ln pred) over all points at the fitted parameters.
    #[serde(with = "nullable_f64")]
    pub cost: f64,
    /// Huber threshold δ used.
    pub huber_delta: f64,
    /// How the curves weighed against each other when no point weights were given (fit files
    /// written before it was recorded read as `points`, what those fits used).
    #[serde(default)]
    pub curve_weighting: super::CurveWeighting,
    /// Iterations of the best start.
    pub iterations: u64,
    /// Law evaluations over all starts and the uncertainty estimate.
    pub evaluations: u64,
    /// Index of the best start in `starts`.
    pub best_start: usize,
    /// Every start, in order.
    pub starts: Vec<StartReport>,
    /// Observed points over all curves.
    pub n_points: usize,
    /// Fitted parameters.
    pub n_params: usize,
    /// Root-mean-square log residual over all points.
    #[serde(with = "nullable_f64")]
    pub rmse_log: f64,
    /// Mean absolute error of the loss over all points.
    #[serde(with = "nullable_f64")]
    pub mae: f64,
    /// Largest relative error over all points.
    #[serde(with = "nullable_f64")]
    pub max_rel_err: f64,
    /// Points whose prediction is non-finite or non-positive at the fitted parameters.
    pub bad_points: usize,
    /// Names of parameters that ended on (within 1e-6 of) a bound.
    pub params_at_bounds: Vec<String>,
    /// Per-curve quality.
    pub curves: Vec<CurveReport>,
    /// Anything the caller should know (no uncertainty, parameters at bounds, …).
    pub warnings: Vec<String>,
}
