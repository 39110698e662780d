//! Loss-curve predictors behind one trait: the SDE surrogate (the product's own) and the
//! published Multi-Power, momentum and power laws as baselines.

use thiserror::Error;

/// How a parameter is constrained and transformed for fitting.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParamSpec {
    /// Parameter name (stable: it appears in fit files).
    pub name: &'static str,
    /// Lower bound (inclusive).
    pub lower: f64,
    /// Upper bound (inclusive).
    pub upper: f64,
}

/// A loss-curve law: parameters ↔ predicted loss for an LR grid.
pub trait LossLaw: Send + Sync {
    /// Short stable identifier (`"sde"`, `"mpl"`, `"momentum"`, `"power"`).
    fn name(&self) -> &'static str;
    /// The parameters in the order `predict` takes them, with their bounds.
    fn params(&self) -> Vec<ParamSpec>;
    /// Writes the predicted loss after `steps[j]` updates into `out[j]`.
    ///
    /// `lrs[t]` is the LR of update `t + 1`; `steps` are 1-based, strictly increasing, each
    /// `<= lrs.len()`; `out.len() == steps.len()`.
    fn predict(&self, params: &[f64], lrs: &[f64], steps: &[u64], out: &mut [f64]);
}

/// Errors in law parameters and inputs.
#[derive(Debug, Error)]
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
}
