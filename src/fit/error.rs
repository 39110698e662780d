//! The typed errors of fitting and of fit files.

use thiserror::Error;

/// Errors fitting laws or reading fit files.
///
/// Impossible inputs (no curves, too few points, mismatched lengths, non-positive losses, bad
/// options) are errors; an optimisation that merely fails to converge is *not* an error: it is
/// reported through [`FitReport::converged`](super::FitReport::converged) so callers can warn.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FitError {
    /// No curves were given.
    #[error("no training curves to fit")]
    NoCurves,
    /// The law has no parameters to fit.
    #[error("law `{law}` has no parameters to fit")]
    NoParameters {
        /// Law name.
        law: String,
    },
    /// Not enough observed points to fit.
    #[error("too few observed points to fit: {found} (need at least {needed})")]
    TooFewPoints {
        /// Points given.
        found: usize,
        /// Points needed.
        needed: usize,
    },
    /// A curve has a different number of steps and losses.
    #[error("curve `{curve}`: {steps} steps but {losses} losses")]
    LengthMismatch {
        /// Curve name.
        curve: String,
        /// Number of steps.
        steps: usize,
        /// Number of losses.
        losses: usize,
    },
    /// A curve's observed step is invalid (zero, not increasing, or beyond its LR grid).
    #[error("curve `{curve}`: step {step} at position {index}: {reason}")]
    InvalidStep {
        /// Curve name.
        curve: String,
        /// Position in the curve's `steps`.
        index: usize,
        /// The offending step.
        step: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// An observed loss is not finite and positive (log residuals need `loss > 0`).
    #[error(
        "curve `{curve}`: loss {value} at step {step} (position {index}) is not finite and positive"
    )]
    InvalidLoss {
        /// Curve name.
        curve: String,
        /// Position in the curve's `losses`.
        index: usize,
        /// The step of that loss.
        step: u64,
        /// The offending value.
        value: f64,
    },
    /// A parameter's bounds are unusable (NaN, or lower above upper).
    #[error("parameter `{param}`: invalid bounds [{lower}, {upper}]")]
    InvalidBounds {
        /// Parameter name.
        param: String,
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// A log-scale parameter (see [`ParamSpec::log_scale`](crate::law::ParamSpec::log_scale))
    /// whose lower bound is not positive.
    #[error(
        "parameter `{param}` is searched on a log scale but its lower bound {lower} is not > 0"
    )]
    InvalidLogBounds {
        /// Parameter name.
        param: String,
        /// Lower bound.
        lower: f64,
    },
    /// A starting point is unusable.
    #[error("start {start}: {reason}")]
    InvalidStart {
        /// Index of the start in `FitOptions::starts`.
        start: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A fitting option is out of range.
    #[error("fit option `{option}`: {reason}")]
    InvalidOption {
        /// Option name.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A prior file ([`super::ParamPrior::load`]) is unreadable as a prior: not JSON, not the
    /// prior schema (the message names the line and column, or the key), or a bad term.
    #[error("{path}: invalid prior file: {reason}")]
    BadPrior {
        /// The file.
        path: String,
        /// What is wrong, with line and column where the JSON parser gives them.
        reason: String,
    },
    /// A fit file was made for another law than the one given.
    #[error("the fit is for law `{fitted}`, not `{given}`")]
    LawMismatch {
        /// Law named in the fit.
        fitted: String,
        /// Law given.
        given: String,
    },
    /// The law's parameters differ from those stored in the fit.
    #[error("law `{law}` takes parameters {given:?} but the fit stores {fitted:?}")]
    ParamMismatch {
        /// Law name.
        law: String,
        /// Parameter names stored in the fit.
        fitted: Vec<String>,
        /// Parameter names of the given law.
        given: Vec<String>,
    },
    /// The law refused its inputs (e.g. a schedule whose LR area is zero).
    #[error(transparent)]
    Law(#[from] crate::law::LawError),
    /// A fit file does not record the law's configuration (written by [`fit`](super::fit)
    /// rather than [`fit_law`](super::fit_law)), so the law cannot be rebuilt from it.
    #[error("the fit of law `{law}` stores no law configuration; rebuild the law yourself")]
    NoLawConfig {
        /// Law name.
        law: String,
    },
    /// A fit file's `law_config` is not a valid configuration of a known law.
    #[error("invalid law configuration for law `{law}`: {source}")]
    BadLawConfig {
        /// Law name.
        law: String,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// Steps asked of a prediction are invalid.
    #[error("prediction step {step} at position {index}: {reason}")]
    InvalidPredictionStep {
        /// Position in `steps`.
        index: usize,
        /// The offending step.
        step: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing a fit file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A fit file is not valid JSON or does not match the fit schema (the message names the
    /// line and column, or the missing key).
    #[error("{path}: invalid fit file: {source}")]
    Json {
        /// The file (or `<string>`).
        path: String,
        /// The underlying error, with line and column.
        source: serde_json::Error,
    },
    /// A JSON document that is not an `lrsde` fit file.
    #[error("{path}: not an lrsde fit file (format {found:?}, expected \"lrsde-fit\")")]
    WrongFormat {
        /// The file (or `<string>`).
        path: String,
        /// The `format` found.
        found: String,
    },
    /// A required top-level key is missing or has the wrong type.
    #[error("{path}: key `{key}`: {reason}")]
    BadKey {
        /// The file (or `<string>`).
        path: String,
        /// The key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A fit file written by a newer (or unknown) format version.
    #[error(
        "{path}: fit file version {found} is not supported (this build reads version {supported}); upgrade lrsde"
    )]
    UnsupportedVersion {
        /// The file (or `<string>`).
        path: String,
        /// Version found.
        found: u64,
        /// Version this build reads and writes.
        supported: u32,
    },
}
