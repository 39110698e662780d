//! Errors of the `rank` layer.

use thiserror::Error;

use crate::data::DataError;
use crate::fit::FitError;
use crate::schedule::ScheduleError;

/// Errors in ranking, searching and continued-training predictions.
///
/// Layer errors are boxed to keep `Result<_, RankError>` small. Every variant names what went wrong (the candidate's label, the search spec's key and value,
/// the option), so a CLI can print it as a one-line message.
///
/// ```
/// use lrsde::rank::{RankError, SearchSpec};
/// let err = "wsd:peak=1e-3,steps=1000,decay=0.5..0.1".parse::<SearchSpec>().unwrap_err();
/// assert!(matches!(err, RankError::SearchSpec { ref key, .. } if key == "decay"));
/// assert!(err.to_string().contains("0.5..0.1"));
/// ```
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RankError {
    /// `rank` was called without candidates.
    #[error("no candidate schedules to rank")]
    NoCandidates,
    /// The fit does not belong to the law, or a prediction failed.
    #[error("{context}: {source}")]
    Fit {
        /// What was being predicted (a candidate label, `search`, `continued training`).
        context: String,
        /// The fit layer's error.
        #[source]
        source: Box<FitError>,
    },
    /// A schedule could not be built (e.g. a concatenation for continued training).
    #[error("{context}: {source}")]
    Schedule {
        /// What was being built.
        context: String,
        /// The schedule layer's error.
        #[source]
        source: Box<ScheduleError>,
    },
    /// A schedule file given as a candidate could not be read.
    #[error("schedule file `{path}`: {source}")]
    Data {
        /// The file as given.
        path: String,
        /// The data layer's error.
        #[source]
        source: Box<DataError>,
    },
    /// A search spec is malformed: a bad range, choice list or key.
    #[error("search spec `{spec}`: `{key}={value}`: {reason}")]
    SearchSpec {
        /// The whole search spec.
        spec: String,
        /// The offending key.
        key: String,
        /// Its value as written.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A search spec without a `family:` prefix or with an empty body.
    #[error("search spec `{spec}`: {reason}")]
    MalformedSearch {
        /// The whole search spec.
        spec: String,
        /// Why it is rejected.
        reason: String,
    },
    /// No point of a search gave a valid, finite prediction.
    #[error("search `{spec}`: no valid schedule in the search box ({evaluated} points tried)")]
    NothingValid {
        /// The search spec.
        spec: String,
        /// Points evaluated.
        evaluated: usize,
    },
    /// An option is out of range.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option name.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// The fork step of a continued-training prediction is not covered by the observed run.
    #[error(
        "fork step {fork_step} is beyond the observed run `{curve}`, which has LRs for {updates} updates"
    )]
    ForkBeyondRun {
        /// The observed run's name.
        curve: String,
        /// The fork step asked for.
        fork_step: u64,
        /// Updates with a known LR in the observed run.
        updates: usize,
    },
}
