//! Many paths in parallel, reproducibly, with streaming summaries.

use thiserror::Error;

/// Errors setting up or running an ensemble.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnsembleError {
    /// A configuration value is invalid.
    #[error("invalid ensemble setting `{key}`: {reason}")]
    BadSetting {
        /// The setting (builder method / CLI flag name).
        key: &'static str,
        /// Why it is invalid.
        reason: String,
    },
}
