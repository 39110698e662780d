//! The crate-level error: one variant per layer, each carrying that layer's typed error.
//!
//! Every layer has its own `thiserror` enum whose variants carry the file, line, column, key or
//! flag that went wrong; this enum only gathers them so callers can use `?` across layers.

use thiserror::Error;

/// Any error raised by `lrsde`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A schedule spec or schedule file is invalid.
    #[error(transparent)]
    Schedule(#[from] crate::schedule::ScheduleError),
    /// A model spec or model parameter is invalid.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A simulation could not be set up or run.
    #[error(transparent)]
    Ensemble(#[from] crate::ensemble::EnsembleError),
    /// A simulation would exceed its memory or time limit.
    #[error(transparent)]
    Budget(#[from] crate::ensemble::budget::BudgetError),
    /// The exact moment recursion was given invalid parameters.
    #[error(transparent)]
    Moments(#[from] crate::nqm::MomentsError),
    /// A training-curve file could not be read.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// A loss law was given invalid parameters or input.
    #[error(transparent)]
    Law(#[from] crate::law::LawError),
    /// Ranking or searching schedules failed.
    #[error(transparent)]
    Rank(#[from] crate::rank::RankError),
    /// Fitting failed or a fit file is invalid.
    #[error(transparent)]
    Fit(#[from] crate::fit::FitError),
}
