//! Loss-curve predictors behind one trait: the SDE surrogate (the product's own) and the
//! published Multi-Power, momentum and power laws as baselines.
//!
//! Every law maps a parameter vector and an LR grid to predicted losses at observed steps
//! ([`LossLaw::predict`]), declares its parameters with bounds ([`LossLaw::params`]), learns its
//! data-dependent scales from the curves it will be fitted to ([`LossLaw::configure`]) and offers
//! data-driven starting points for multi-start fitting ([`LossLaw::initial_guesses`]).
//!
//! | law | type | parameters | LR units |
//! |---|---|---|---|
//! | `sde` | [`SdeSurrogate`] | `L0, log_kappa_max, p, log_s, log_w0, q` | `lr / lr_ref` |
//! | `mpl` | [`MultiPowerLaw`] | `L0, A, alpha, B, C, beta, gamma` | raw |
//! | `momentum` | [`MomentumLaw`] | `L0, A, alpha, C` | `lr / lr_ref` |
//! | `power` | [`PowerLaw`] | `L0, A, alpha` | `lr / lr_ref` |
//!
//! Every law also provides exact derivatives ([`LossLaw::predict_jacobian`]) for gradient-based
//! fitting, at 1× (`momentum`, `power`), a few × (`mpl`: four running sums instead of one) to ~4×
//! (`sde`) the cost of a prediction.
//!
//! `lr_ref` is the largest LR in the curves given to [`LossLaw::configure`] (1 until then); it is
//! part of the law's serialized state, so a fitted law predicts new schedules on the same scale.
//!
//! ```
//! use lrsde::law::{AnyLaw, LossLaw};
//! let law: AnyLaw = "power".parse().unwrap();
//! let lrs = lrsde::schedule::LrGrid::new(vec![1.0; 100]).unwrap();
//! let mut out = [0.0; 2];
//! law.predict(&[2.0, 1.0, 0.5], &lrs, &[1, 100], &mut out).unwrap();
//! assert!((out[0] - 3.0).abs() < 1e-12 && (out[1] - 2.1).abs() < 1e-12);
//! ```

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use thiserror::Error;

use crate::data::TrainingCurve;
use crate::schedule::{BatchGrid, LrGrid};
use crate::spec::{self, SpecError};

mod batched;
mod momentum;
mod mpl;
mod mpl_many;
mod mpl_sweep;
mod power;
mod saturate;
mod sde;
mod sde_table;
pub mod simulated;
mod soe;

pub use momentum::MomentumLaw;
pub use mpl::MultiPowerLaw;
pub use power::PowerLaw;
pub use saturate::Saturated;
pub use sde::SdeSurrogate;

pub(crate) use batched::Batched;
pub(crate) use sde_table::Tabulated;
pub use simulated::{BuiltinFamily, ModelFamily, MonteCarlo, SimModelKind, Simulated};

/// How a parameter is constrained and transformed for fitting.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParamSpec {
    /// Parameter name (stable: it appears in fit files).
    pub name: &'static str,
    /// Lower bound (inclusive).
    pub lower: f64,
    /// Upper bound (inclusive).
    pub upper: f64,
    /// The parameter is positive and spans orders of magnitude: an optimiser should work on
    /// `ln(value)` (then `lower > 0`). Parameters already stored as logarithms (`log_*`) say
    /// `false`.
    pub log_scale: bool,
    /// What the parameter means, in words, for reports (empty if undocumented).
    #[serde(skip)]
    pub description: &'static str,
}

impl ParamSpec {
    /// A parameter searched on a linear scale.
    pub const fn linear(name: &'static str, lower: f64, upper: f64) -> Self {
        Self {
            name,
            lower,
            upper,
            log_scale: false,
            description: "",
        }
    }

    /// A positive parameter searched on a log scale (`lower > 0`).
    pub const fn log(name: &'static str, lower: f64, upper: f64) -> Self {
        Self {
            name,
            lower,
            upper,
            log_scale: true,
            description: "",
        }
    }

    /// The same parameter with a description in words (shown by `lrsde fit`).
    ///
    /// ```
    /// let p = lrsde::law::ParamSpec::linear("L0", 0.0, 10.0).described("irreducible loss");
    /// assert_eq!(p.description, "irreducible loss");
    /// ```
    #[must_use]
    pub const fn described(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// `value` clamped into `[lower, upper]`.
    pub fn clamp(&self, value: f64) -> f64 {
        value.clamp(self.lower, self.upper)
    }
}

/// A loss-curve law: parameters ↔ predicted loss for an LR grid.
///
/// Object safe: the fitter holds `Box<dyn LossLaw>` / `&dyn LossLaw`.
pub trait LossLaw: Send + Sync {
    /// Short stable identifier (`"sde"`, `"mpl"`, `"momentum"`, `"power"`).
    fn name(&self) -> &'static str;

    /// The parameters in the order `predict` takes them, with their bounds.
    ///
    /// Bounds may depend on the scales learnt by [`Self::configure`] (e.g. `L0 ≤ max loss`).
    fn params(&self) -> Vec<ParamSpec>;

    /// Writes the predicted loss after `steps[j]` updates into `out[j]`.
    ///
    /// `lrs[t]` is the LR of update `t + 1`; `steps` are 1-based, strictly increasing, each
    /// `<= lrs.len()`; `out.len() == steps.len()`. Parameters are not clamped to their bounds.
    /// A prediction may be `+∞` where the law itself diverges (an unstable LR for `sde`).
    ///
    /// # Errors
    /// [`LawError`] for a wrong parameter count, non-finite parameters, mismatched lengths,
    /// invalid steps, or a zero LR area where the law needs `S1 > 0`.
    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError>;

    /// Learns data-dependent scales (reference LR, loss range) from the curves to be fitted.
    ///
    /// Call once before fitting; the scales are part of the law's state (and its serde form).
    ///
    /// # Errors
    /// [`LawError::NoData`] if the curves hold no positive LR or no finite loss.
    fn configure(&mut self, curves: &[TrainingCurve]) -> Result<(), LawError>;

    /// Data-driven starting points for multi-start fitting, best first, each inside the bounds
    /// of [`Self::params`]. Never empty.
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>>;

    /// The fewest of [`Self::initial_guesses`] a fit should start from, whatever
    /// `max_law_starts` asks (a law whose fit surface has several basins needs one start in
    /// each). Default 1.
    ///
    /// ```
    /// use lrsde::law::{AnyLaw, LossLaw};
    /// assert_eq!("momentum".parse::<AnyLaw>().unwrap().min_starts(), 1);
    /// assert_eq!("momentum:sat=1".parse::<AnyLaw>().unwrap().min_starts(), 4);
    /// ```
    fn min_starts(&self) -> usize {
        1
    }

    /// The fewest iterations per start a fit should allow, whatever `max_iters` asks (a law
    /// whose best basin lies along a long, flat valley needs more than the default 200).
    /// Default 0: no floor.
    ///
    /// ```
    /// use lrsde::law::{AnyLaw, LossLaw};
    /// assert_eq!("momentum".parse::<AnyLaw>().unwrap().min_iters(), 0);
    /// assert_eq!("mpl".parse::<AnyLaw>().unwrap().min_iters(), 1000);
    /// ```
    fn min_iters(&self) -> u64 {
        0
    }

    /// Like [`Self::predict`], and also writes the Jacobian `∂out[j]/∂params[k]` into
    /// `jac[j * params.len() + k]` (row-major, `jac.len() == steps.len() * params.len()`), if the
    /// law has analytic derivatives.
    ///
    /// Returns `Ok(false)` (and leaves `out` and `jac` untouched) when it has none: the fitter then
    /// falls back to finite differences. The default has none.
    ///
    /// # Errors
    /// As [`Self::predict`], plus [`LawError::OutputLength`] for a wrongly sized `jac`.
    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        let _ = (params, lrs, steps, out, jac);
        Ok(false)
    }

    /// Predictions for many parameter vectors on one LR grid: entry `d` is what
    /// [`Self::predict`] writes for `params[d]` (as a vector), or its error.
    ///
    /// This is what a fit's uncertainty band costs: one prediction per stored parameter draw.
    /// The default calls [`Self::predict`] for each vector, in parallel (results in input
    /// order, so they do not depend on the thread count). A law may share work between the
    /// vectors instead; it must then document how closely it agrees with [`Self::predict`]
    /// (the `sde` law tabulates its recursion over the curvature once per grid, see
    /// [`SdeSurrogate`]).
    ///
    /// ```
    /// use lrsde::law::{LossLaw, PowerLaw};
    /// let law = PowerLaw::new(1.0).unwrap();
    /// let draws = vec![vec![2.0, 1.0, 0.5], vec![2.0, 2.0, 0.5]];
    /// let preds = law.predict_many(&draws, &lrsde::schedule::LrGrid::new(vec![1.0; 4]).unwrap(), &[1, 4]);
    /// assert_eq!(preds[1].as_ref().unwrap(), &vec![4.0, 3.0]);
    /// ```
    fn predict_many(
        &self,
        params: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Vec<Result<Vec<f64>, LawError>> {
        predict_each(self, params, lrs, steps)
    }

    /// Whether a Jacobian costs several predictions (finite differences over model runs): the
    /// fitter then prices a Levenberg–Marquardt trial with [`Self::predict`] alone and asks for
    /// the Jacobian only once the trial lowers the cost. A law that says `true` must write in
    /// `predict` the bits that [`Self::predict_jacobian`] writes in `out`, so the fit takes the
    /// same steps either way. Default `false`.
    ///
    /// ```
    /// use lrsde::law::{AnyLaw, LossLaw};
    /// let sim: AnyLaw = "sim:model=momentum".parse().unwrap();
    /// let mc: AnyLaw = "sim:model=adam".parse().unwrap();
    /// let power: AnyLaw = "power".parse().unwrap();
    /// assert!(sim.jacobian_is_costly());
    /// assert!(!mc.jacobian_is_costly() && !power.jacobian_is_costly());
    /// ```
    fn jacobian_is_costly(&self) -> bool {
        false
    }

    /// For a law whose prediction is a mean over fixed Monte Carlo paths: the prediction on
    /// each path, `result[p][j]` after `steps[j]` updates (their mean is what
    /// [`Self::predict`] writes, up to rounding). The paths are the same for every LR grid, so
    /// two schedules' path-by-path differences are paired (`rank` uses them). `None` for a law
    /// without paths (the default).
    ///
    /// ```
    /// use lrsde::law::{AnyLaw, LossLaw};
    /// let law: AnyLaw = "power".parse().unwrap();
    /// let lrs = lrsde::schedule::LrGrid::new(vec![1.0; 4]).unwrap();
    /// assert!(law.path_predictions(&[2.0, 1.0, 0.5], &lrs, &[4]).unwrap().is_none());
    /// ```
    ///
    /// # Errors
    /// As [`Self::predict`].
    fn path_predictions(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        let _ = (params, lrs, steps);
        Ok(None)
    }

    /// Predicts at every observed step of `curve`, under its batch schedule if it has one (a
    /// convenience over [`Self::predict_batched`]).
    ///
    /// # Errors
    /// As [`Self::predict_batched`].
    fn predict_curve(&self, params: &[f64], curve: &TrainingCurve) -> Result<Vec<f64>, LawError> {
        let mut out = vec![0.0; curve.steps.len()];
        self.predict_batched(
            params,
            &curve.lrs,
            curve.batch.as_ref(),
            &curve.steps,
            &mut out,
        )?;
        Ok(out)
    }

    /// Whether predictions can follow the batch-size schedule `batch`. The default (a law
    /// without a batch term) accepts only a constant grid, which changes nothing.
    ///
    /// ```
    /// use lrsde::{law::{AnyLaw, LossLaw}, schedule::BatchGrid};
    /// let law: AnyLaw = "power".parse().unwrap();
    /// assert!(law.check_batch(&BatchGrid::new(vec![64.0; 3]).unwrap()).is_ok());
    /// let ramp = BatchGrid::new(vec![32.0, 64.0]).unwrap();
    /// assert!(law.check_batch(&ramp).unwrap_err().to_string().contains("sim:"));
    /// ```
    ///
    /// # Errors
    /// [`LawError::NoBatchTerm`] for a non-constant grid.
    fn check_batch(&self, batch: &BatchGrid) -> Result<(), LawError> {
        no_batch_term(self.name(), batch)
    }

    /// [`Self::predict`] under a batch-size schedule: update `t` draws its gradient noise from
    /// `batch.at(t)` samples (`None`: the batch the law was fitted at throughout). The default
    /// checks [`Self::check_batch`] and predicts without it.
    ///
    /// # Errors
    /// As [`Self::predict`] and [`Self::check_batch`].
    fn predict_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        batch.map_or(Ok(()), |b| self.check_batch(b))?;
        self.predict(params, lrs, steps, out)
    }

    /// [`Self::predict_jacobian`] under a batch-size schedule (as [`Self::predict_batched`]).
    ///
    /// # Errors
    /// As [`Self::predict_jacobian`] and [`Self::check_batch`].
    fn predict_jacobian_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        batch.map_or(Ok(()), |b| self.check_batch(b))?;
        self.predict_jacobian(params, lrs, steps, out, jac)
    }

    /// [`Self::path_predictions`] under a batch-size schedule (as [`Self::predict_batched`]).
    ///
    /// # Errors
    /// As [`Self::path_predictions`] and [`Self::check_batch`].
    fn path_predictions_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        batch.map_or(Ok(()), |b| self.check_batch(b))?;
        self.path_predictions(params, lrs, steps)
    }
}

/// The largest batch size of the curves' batch schedules (the reference batch of a law fitted
/// to them), `None` when no curve has one.
pub(crate) fn largest_batch(curves: &[TrainingCurve]) -> Option<f64> {
    curves
        .iter()
        .filter_map(|c| c.batch.as_ref())
        .flat_map(|b| b.as_slice().iter().copied())
        .reduce(f64::max)
}

/// [`LossLaw::check_batch`] of a law without a batch term: only a constant grid.
pub(crate) fn no_batch_term(law: &'static str, batch: &BatchGrid) -> Result<(), LawError> {
    if batch.is_constant_at(batch.at(0)) {
        Ok(())
    } else {
        Err(LawError::NoBatchTerm { law })
    }
}

/// [`LossLaw::predict_many`] by one [`LossLaw::predict`] per parameter vector, in parallel and
/// collected in input order.
pub(crate) fn predict_each<L: LossLaw + ?Sized>(
    law: &L,
    params: &[Vec<f64>],
    lrs: &LrGrid,
    steps: &[u64],
) -> Vec<Result<Vec<f64>, LawError>> {
    params
        .par_iter()
        .map(|theta| {
            let mut out = vec![0.0; steps.len()];
            law.predict(theta, lrs, steps, &mut out).map(|()| out)
        })
        .collect()
}

/// Errors in law parameters and inputs.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum LawError {
    /// A parameter vector has the wrong length.
    #[error("law `{law}` takes {expected} parameters, got {found}")]
    ParamCount {
        /// Law name.
        law: &'static str,
        /// Expected count.
        expected: usize,
        /// Given count.
        found: usize,
    },
    /// A parameter is NaN or infinite.
    #[error("law `{law}`: parameter `{name}` is not finite ({value})")]
    NonFiniteParam {
        /// Law name.
        law: &'static str,
        /// Parameter name.
        name: &'static str,
        /// The value.
        value: f64,
    },
    /// A finite parameter outside its domain (a scale that must be positive).
    #[error("law `{law}`: parameter `{name}` is {value}; it must be {must}")]
    ParamOutOfDomain {
        /// Law name.
        law: &'static str,
        /// Parameter name.
        name: &'static str,
        /// The value.
        value: f64,
        /// The domain, as words (e.g. `> 0`).
        must: &'static str,
    },
    /// `out` and `steps` differ in length.
    #[error("law `{law}`: output has {found} slots for {expected} steps")]
    OutputLength {
        /// Law name.
        law: &'static str,
        /// `steps.len()`.
        expected: usize,
        /// `out.len()`.
        found: usize,
    },
    /// A requested step is 0, not increasing, or beyond the LR grid.
    #[error("law `{law}`: step {step} (entry {index}) is invalid: {reason}")]
    BadStep {
        /// Law name.
        law: &'static str,
        /// Position in `steps`.
        index: usize,
        /// The step.
        step: u64,
        /// Why.
        reason: &'static str,
    },
    /// The LR area `S1` is zero at a step where the law raises it to a negative power.
    #[error(
        "law `{law}`: the LR area is zero at step {step}; the law needs at least one positive LR"
    )]
    ZeroLrArea {
        /// Law name.
        law: &'static str,
        /// The step.
        step: u64,
    },
    /// The curves given to `configure` carry nothing to learn scales from.
    #[error("law `{law}`: {reason}")]
    NoData {
        /// Law name.
        law: &'static str,
        /// What is missing.
        reason: &'static str,
    },
    /// A law option is invalid (constructor or `name:key=value` spec).
    #[error("law `{law}`: invalid option `{key}` = `{value}`: {reason}")]
    BadOption {
        /// Law name.
        law: &'static str,
        /// Option key.
        key: String,
        /// Option value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// A non-constant batch-size schedule for a law whose prediction has no batch term.
    #[error(
        "law `{law}` has no batch-size term, so it cannot follow a changing batch size; \
         batch schedules need a law whose gradient noise scales with 1/batch: sde (without \
         LR exponents) or sim:model=nqm, momentum, adam or lossnoise"
    )]
    NoBatchTerm {
        /// Law name.
        law: &'static str,
    },
    /// A batch-size schedule for a law fitted on curves without batch sizes.
    #[error(
        "law `{law}` was fitted on curves without batch sizes, so a batch schedule has no \
         reference batch to scale the noise from; refit on curves with a batch_size column \
         (--batch-column)"
    )]
    NoBatchReference {
        /// Law name.
        law: &'static str,
    },
    /// An unknown law name.
    #[error("unknown law `{0}` (expected sde, mpl, momentum, power or sim:model=NAME)")]
    UnknownLaw(String),
    /// A simulated law's spec or model is invalid (the message names the key and value).
    #[error("{0}")]
    Simulation(String),
    /// A law spec `name:key=value,…` breaks the rules of [`crate::spec`] (a malformed entry,
    /// an unknown or repeated key, a value that does not parse).
    #[error("law `{law}`: {source}")]
    Spec {
        /// The law's name as written.
        law: String,
        /// What is wrong.
        #[source]
        source: SpecError,
    },
}

impl From<crate::model::ModelError> for LawError {
    fn from(e: crate::model::ModelError) -> Self {
        LawError::Simulation(e.to_string())
    }
}

/// Data-dependent scales shared by the laws: reference LR and observed loss range.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataScale {
    /// The largest LR in the curves (LRs are divided by it where a law says so).
    pub lr_ref: f64,
    /// Smallest finite observed loss.
    pub loss_min: f64,
    /// Largest finite observed loss.
    pub loss_max: f64,
}

impl Default for DataScale {
    /// `lr_ref = 1`, losses in `[0, 10]`: a neutral scale for unconfigured laws.
    fn default() -> Self {
        Self {
            lr_ref: 1.0,
            loss_min: 0.0,
            loss_max: 10.0,
        }
    }
}

impl DataScale {
    /// Scales of `curves`: peak LR over all updates, finite-loss range over all observations.
    ///
    /// ```
    /// use lrsde::{data::TrainingCurve, law::DataScale};
    /// let c = TrainingCurve { name: "a".into(), lrs: lrsde::schedule::LrGrid::new(vec![0.1, 0.3, 0.2]).unwrap(),
    ///     steps: vec![1, 3], losses: vec![4.0, 3.0], batch: None };
    /// let s = DataScale::from_curves("doc", &[c]).unwrap();
    /// assert_eq!((s.lr_ref, s.loss_min, s.loss_max), (0.3, 3.0, 4.0));
    /// ```
    ///
    /// # Errors
    /// [`LawError::NoData`] without a positive finite LR or a finite positive loss.
    pub fn from_curves(law: &'static str, curves: &[TrainingCurve]) -> Result<Self, LawError> {
        let lr_ref = curves
            .iter()
            .flat_map(|c| c.lrs.iter().copied())
            .filter(|x| x.is_finite())
            .fold(0.0f64, f64::max);
        if lr_ref <= 0.0 {
            return Err(LawError::NoData {
                law,
                reason: "the curves hold no positive finite LR",
            });
        }
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &l in curves.iter().flat_map(|c| c.losses.iter()) {
            if l.is_finite() && l > 0.0 {
                lo = lo.min(l);
                hi = hi.max(l);
            }
        }
        if !lo.is_finite() {
            return Err(LawError::NoData {
                law,
                reason: "the curves hold no finite positive loss",
            });
        }
        Ok(Self {
            lr_ref,
            loss_min: lo,
            loss_max: hi,
        })
    }
}

/// Checks the common `predict` contract; returns the largest requested step.
pub(crate) fn check_inputs(
    law: &'static str,
    specs: &[ParamSpec],
    params: &[f64],
    lrs: &[f64],
    steps: &[u64],
    out: &[f64],
) -> Result<usize, LawError> {
    check_params(law, specs, params)?;
    check_grid(law, lrs, steps, out.len())
}

/// The parameter half of [`check_inputs`]: count and finiteness.
pub(crate) fn check_params(
    law: &'static str,
    specs: &[ParamSpec],
    params: &[f64],
) -> Result<(), LawError> {
    if params.len() != specs.len() {
        return Err(LawError::ParamCount {
            law,
            expected: specs.len(),
            found: params.len(),
        });
    }
    if let Some((s, &v)) = specs.iter().zip(params).find(|(_, v)| !v.is_finite()) {
        return Err(LawError::NonFiniteParam {
            law,
            name: s.name,
            value: v,
        });
    }
    Ok(())
}

/// The grid half of [`check_inputs`]: output length and steps (the LRs are an [`LrGrid`]'s,
/// valid by construction); returns the largest step.
pub(crate) fn check_grid(
    law: &'static str,
    lrs: &[f64],
    steps: &[u64],
    out_len: usize,
) -> Result<usize, LawError> {
    if out_len != steps.len() {
        return Err(LawError::OutputLength {
            law,
            expected: steps.len(),
            found: out_len,
        });
    }
    let mut prev = 0u64;
    for (index, &step) in steps.iter().enumerate() {
        let reason = if step == 0 {
            Some("steps are 1-based")
        } else if step <= prev {
            Some("steps must be strictly increasing")
        } else if step > lrs.len() as u64 {
            Some("step beyond the end of the LR grid")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(LawError::BadStep {
                law,
                index,
                step,
                reason,
            });
        }
        prev = step;
    }
    Ok(prev as usize)
}

/// `(S1 at step, loss, LR of the last update)` of all finite positive observations with a
/// positive LR area, LRs divided by `lr_ref`.
pub(crate) fn observed_points(curves: &[TrainingCurve], lr_ref: f64) -> Vec<(f64, f64, f64)> {
    let mut pts = Vec::new();
    for c in curves {
        let mut acc = 0.0;
        let mut pos = 0usize;
        for (&s, &l) in c.steps.iter().zip(&c.losses) {
            let s = s as usize;
            if s < pos || s == 0 || s > c.lrs.len() {
                continue;
            }
            acc += c.lrs[pos..s].iter().sum::<f64>() / lr_ref;
            pos = s;
            if l.is_finite() && l > 0.0 && acc > 0.0 {
                pts.push((acc, l, c.lrs[s - 1] / lr_ref));
            }
        }
    }
    pts
}

/// Least-squares slope and intercept of `y` on `x`.
pub(crate) fn linear_fit(xy: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = xy.len() as f64;
    if xy.len() < 2 {
        return None;
    }
    let (mx, my) = xy
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = xy.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    (sxx > 0.0).then(|| {
        let slope = sxy / sxx;
        (slope, my - slope * mx)
    })
}

/// Guesses of `(A, alpha)` for `L ≈ L0 + A S1^(−alpha)` at a given `L0` by the MPL recipe:
/// regress `ln(L − L_min + 0.01)` on `ln S1`.
pub(crate) fn power_guess(pts: &[(f64, f64, f64)], l0: f64) -> (f64, f64) {
    let lmin = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let xy: Vec<(f64, f64)> = pts
        .iter()
        .map(|&(s, l, _)| (s.ln(), (l - lmin + 0.01).ln()))
        .collect();
    let (alpha, a) = match linear_fit(&xy) {
        Some((slope, icpt)) if slope < 0.0 => (-slope, icpt.exp()),
        _ => (0.5, 1.0),
    };
    // The regression is on L − L_min; rescale A so the curve passes the mean excess over L0.
    let excess_fit: f64 = pts.iter().map(|&(s, _, _)| a * s.powf(-alpha)).sum();
    let excess_obs: f64 = pts.iter().map(|&(_, l, _)| (l - l0).max(1e-6)).sum();
    let a = if excess_fit > 0.0 {
        a * excess_obs / excess_fit
    } else {
        a
    };
    (a, alpha)
}

/// Huber (δ = 1e-3, the fit's default) on log residuals: the scoring the literature fits with,
/// used to rank guesses; a prediction with no logarithm scores worst.
pub(crate) fn huber_log(pred: f64, obs: f64) -> f64 {
    if !(pred > 0.0 && pred.is_finite()) {
        return f64::INFINITY;
    }
    crate::huber::huber(obs.ln() - pred.ln(), 1e-3)
}

/// Clamps every coordinate of `guess` into its bounds.
pub(crate) fn clamp_all(specs: &[ParamSpec], guess: &mut [f64]) {
    for (g, s) in guess.iter_mut().zip(specs) {
        *g = s.clamp(*g);
    }
}

/// Which law, without its configuration (the `--law` flag).
///
/// ```
/// use lrsde::law::LawKind;
/// let k: LawKind = "mpl".parse().unwrap();
/// assert_eq!(k, LawKind::Mpl);
/// assert_eq!(k.to_string(), "mpl");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LawKind {
    /// [`SdeSurrogate`].
    Sde,
    /// [`MultiPowerLaw`].
    Mpl,
    /// [`MomentumLaw`].
    Momentum,
    /// [`PowerLaw`].
    Power,
    /// [`Simulated`] on a built-in model (`sim:model=NAME`).
    Sim,
}

impl LawKind {
    /// All kinds, in documentation order.
    pub const ALL: [LawKind; 5] = [
        LawKind::Sde,
        LawKind::Mpl,
        LawKind::Momentum,
        LawKind::Power,
        LawKind::Sim,
    ];

    /// The stable name (`"sde"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            LawKind::Sde => "sde",
            LawKind::Mpl => "mpl",
            LawKind::Momentum => "momentum",
            LawKind::Power => "power",
            LawKind::Sim => "sim",
        }
    }
}

impl fmt::Display for LawKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LawKind {
    type Err = LawError;
    fn from_str(s: &str) -> Result<Self, LawError> {
        LawKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| LawError::UnknownLaw(s.to_string()))
    }
}

impl From<LawKind> for AnyLaw {
    fn from(k: LawKind) -> Self {
        match k {
            LawKind::Sde => AnyLaw::Sde(SdeSurrogate::default()),
            LawKind::Mpl => AnyLaw::Mpl(MultiPowerLaw::default()),
            LawKind::Momentum => AnyLaw::Momentum(MomentumLaw::default()),
            LawKind::Power => AnyLaw::Power(PowerLaw::default()),
            LawKind::Sim => AnyLaw::Sim(Simulated::new(BuiltinFamily::default())),
        }
    }
}

/// Any of the laws, with its configuration: the serde form stored in fit files
/// (`{"law": "sde", ...fields}`) and the `FromStr` form of the CLI.
///
/// Text form: `name[:key=value,...]`, e.g. `sde`, `sde:dim=32`, `momentum:lambda=0.99`.
/// Options: `sde` — `dim`, `exponents` (0 or 1: fit LR exponents, see [`SdeSurrogate`]);
/// `sim` — `model` (required), `dim`, `paths`, `seed`, `method` and the model's fixed keys
/// (see [`BuiltinFamily`]; `lr_ref` does not apply);
/// `momentum` — `lambda`; every law — `lr_ref` (sets the reference LR for predicting without
/// [`LossLaw::configure`], which overwrites it); every law but `sim` — `sat` (0 or 1: evaluate
/// the law on a saturating effective LR with one more parameter, see [`Saturated`]).
///
/// ```
/// use lrsde::law::{AnyLaw, LossLaw};
/// let law: AnyLaw = "momentum:lambda=0.99".parse().unwrap();
/// assert_eq!(law.name(), "momentum");
/// let json = serde_json::to_string(&law).unwrap();
/// let back: AnyLaw = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, law);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "law", rename_all = "lowercase")]
pub enum AnyLaw {
    /// The SDE surrogate.
    Sde(SdeSurrogate),
    /// The Multi-Power Law.
    Mpl(MultiPowerLaw),
    /// Tissue et al.'s momentum law.
    Momentum(MomentumLaw),
    /// The plain power law in the LR area.
    Power(PowerLaw),
    /// A simulated law on a built-in model (`sim:model=NAME,…`, see [`BuiltinFamily`]).
    Sim(Simulated<BuiltinFamily>),
    /// A closed-form law on a saturating effective LR (`LAW:sat=1`, see [`Saturated`]).
    Saturated(Saturated),
}

impl AnyLaw {
    /// The kind of law (of a [`Saturated`] law: its inner law's).
    pub fn kind(&self) -> LawKind {
        match self {
            AnyLaw::Saturated(l) => l.inner().kind(),
            AnyLaw::Sde(_) => LawKind::Sde,
            AnyLaw::Mpl(_) => LawKind::Mpl,
            AnyLaw::Momentum(_) => LawKind::Momentum,
            AnyLaw::Power(_) => LawKind::Power,
            AnyLaw::Sim(_) => LawKind::Sim,
        }
    }

    fn inner(&self) -> &dyn LossLaw {
        match self {
            AnyLaw::Sde(l) => l,
            AnyLaw::Mpl(l) => l,
            AnyLaw::Momentum(l) => l,
            AnyLaw::Power(l) => l,
            AnyLaw::Sim(l) => l,
            AnyLaw::Saturated(l) => l,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn LossLaw {
        match self {
            AnyLaw::Sde(l) => l,
            AnyLaw::Mpl(l) => l,
            AnyLaw::Momentum(l) => l,
            AnyLaw::Power(l) => l,
            AnyLaw::Sim(l) => l,
            AnyLaw::Saturated(l) => l,
        }
    }
}

impl FromStr for AnyLaw {
    type Err = LawError;
    fn from_str(s: &str) -> Result<Self, LawError> {
        let tokens = spec::tokenize(s).map_err(|source| LawError::Spec {
            law: s.split(':').next().unwrap_or_default().trim().to_owned(),
            source,
        })?;
        if tokens.name == "sim" {
            return simulated::parse(&tokens).map(AnyLaw::Sim);
        }
        let mut law = AnyLaw::from(
            tokens
                .name
                .parse::<LawKind>()
                .map_err(|_| LawError::UnknownLaw(tokens.raw_name.to_owned()))?,
        );
        let lname = law.name();
        let spec_err = |source| LawError::Spec {
            law: lname.to_owned(),
            source,
        };
        let keys: &[&'static str] = match law {
            AnyLaw::Sde(_) => &["dim", "exponents", "lr_ref", "sat"],
            AnyLaw::Momentum(_) => &["lambda", "lr_ref", "sat"],
            _ => &["lr_ref", "sat"],
        };
        let e = tokens.entries(keys).map_err(spec_err)?;
        let mut saturate = false;
        for key in e.keys() {
            let bad = |reason| LawError::BadOption {
                law: lname,
                key: key.to_owned(),
                value: e.raw(key).unwrap_or_default().to_owned(),
                reason,
            };
            match (&mut law, key) {
                (AnyLaw::Sde(l), "dim") => {
                    let n = e.usize(key).map_err(spec_err)?.unwrap_or(0);
                    if !(1..=1_000_000).contains(&n) {
                        return Err(bad("must be an integer in 1..=1000000"));
                    }
                    let ext = l.lr_exponents();
                    *l = SdeSurrogate::new(n, l.lr_ref())?.with_lr_exponents(ext);
                }
                (AnyLaw::Sde(l), "exponents") => {
                    let on = e.choice(key, &["0", "1"], "0 or 1").map_err(spec_err)?;
                    *l = l.clone().with_lr_exponents(on == Some("1"));
                }
                (AnyLaw::Momentum(l), "lambda") => {
                    let lambda = e.number(key).map_err(spec_err)?.unwrap_or(f64::NAN);
                    *l = MomentumLaw::new(lambda, l.lr_ref())?;
                }
                (_, "lr_ref") => law.set_lr_ref(e.number(key).map_err(spec_err)?.unwrap_or(0.0))?,
                (_, "sat") => {
                    saturate = e.choice(key, &["0", "1"], "0 or 1").map_err(spec_err)? == Some("1");
                }
                _ => return Err(bad("unknown option for this law")),
            }
        }
        if saturate {
            let lr_ref = e.number("lr_ref").map_err(spec_err)?.unwrap_or(1.0);
            law = AnyLaw::Saturated(Saturated::new(law, lr_ref)?);
        }
        Ok(law)
    }
}

impl AnyLaw {
    /// Fixes the reference LR (ignored by `mpl`, which uses raw LRs).
    ///
    /// # Errors
    /// [`LawError::BadOption`] unless `lr_ref` is finite and positive.
    pub fn set_lr_ref(&mut self, lr_ref: f64) -> Result<(), LawError> {
        match self {
            AnyLaw::Sde(l) => l.set_lr_ref(lr_ref),
            AnyLaw::Mpl(_) => Ok(()),
            AnyLaw::Momentum(l) => l.set_lr_ref(lr_ref),
            AnyLaw::Power(l) => l.set_lr_ref(lr_ref),
            AnyLaw::Sim(l) => l.set_lr_ref(lr_ref),
            AnyLaw::Saturated(l) => l.set_lr_ref(lr_ref),
        }
    }
}

impl LossLaw for AnyLaw {
    fn name(&self) -> &'static str {
        self.inner().name()
    }
    fn params(&self) -> Vec<ParamSpec> {
        self.inner().params()
    }
    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.inner().predict(params, lrs, steps, out)
    }
    fn configure(&mut self, curves: &[TrainingCurve]) -> Result<(), LawError> {
        self.inner_mut().configure(curves)
    }
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        self.inner().initial_guesses(curves)
    }
    fn min_starts(&self) -> usize {
        self.inner().min_starts()
    }
    fn min_iters(&self) -> u64 {
        self.inner().min_iters()
    }
    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        self.inner().predict_jacobian(params, lrs, steps, out, jac)
    }
    fn predict_many(
        &self,
        params: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Vec<Result<Vec<f64>, LawError>> {
        self.inner().predict_many(params, lrs, steps)
    }
    fn path_predictions(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.inner().path_predictions(params, lrs, steps)
    }
    fn jacobian_is_costly(&self) -> bool {
        self.inner().jacobian_is_costly()
    }
    fn check_batch(&self, batch: &BatchGrid) -> Result<(), LawError> {
        self.inner().check_batch(batch)
    }
    fn predict_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.inner().predict_batched(params, lrs, batch, steps, out)
    }
    fn predict_jacobian_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        self.inner()
            .predict_jacobian_batched(params, lrs, batch, steps, out, jac)
    }
    fn path_predictions_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.inner()
            .path_predictions_batched(params, lrs, batch, steps)
    }
}

pub(crate) fn check_lr_ref(law: &'static str, lr_ref: f64) -> Result<f64, LawError> {
    if lr_ref.is_finite() && lr_ref > 0.0 {
        Ok(lr_ref)
    } else {
        Err(LawError::BadOption {
            law,
            key: "lr_ref".into(),
            value: lr_ref.to_string(),
            reason: "must be finite and > 0",
        })
    }
}
