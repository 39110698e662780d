//! Fitting loss laws to observed curves.

use thiserror::Error;

/// Errors fitting laws or reading fit files.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FitError {
    /// Not enough observed points to fit.
    #[error("too few observed points to fit: {found} (need at least {needed})")]
    TooFewPoints {
        /// Points given.
        found: usize,
        /// Points needed.
        needed: usize,
    },
}
