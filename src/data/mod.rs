//! Observed training curves and their readers (CSV, JSONL, W&B-style JSON).

use thiserror::Error;

/// One observed training run: the LR of every update and the losses observed at some steps.
///
/// `lrs[t]` is the LR of update `t + 1`; `steps` are 1-based update counts, strictly
/// increasing, each `<= lrs.len()`; `losses[j]` was observed after `steps[j]` updates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingCurve {
    /// A human-readable name (file name or run id).
    pub name: String,
    /// Per-update learning rates.
    pub lrs: Vec<f64>,
    /// Observed steps (1-based).
    pub steps: Vec<u64>,
    /// Observed losses, one per entry of `steps`.
    pub losses: Vec<f64>,
}

/// Errors reading curve files.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// An I/O failure on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}
