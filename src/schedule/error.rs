//! Errors of the `schedule` layer.

use thiserror::Error;

/// The family names accepted by the spec grammar, as listed in error messages.
pub(crate) const FAMILY_LIST: &str =
    "constant, cosine, linear, wsd, step, twostage, exp, invsqrt, poly";

/// Errors in schedule specs, values and schedule files.
///
/// Every spec error names the offending key and value and quotes the whole spec, so a CLI can print
/// it as a one-line message.
///
/// ```
/// use lrsde::schedule::{ScheduleError, ScheduleSpec};
/// let err = "cosine:peak=-1,steps=100".parse::<ScheduleSpec>().unwrap_err();
/// assert!(matches!(err, ScheduleError::InvalidValue { ref key, .. } if key == "peak"));
/// assert!(err.to_string().contains("peak=-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// An LR on a grid is negative or not finite.
    #[error("learning rate at step {step} is {lr}; learning rates must be finite and >= 0")]
    BadLr {
        /// 1-based update whose LR is bad.
        step: u64,
        /// The offending value.
        lr: f64,
    },
    /// A batch size on a batch grid is not finite or not > 0.
    #[error("batch size at step {step} is {batch}; batch sizes must be finite and > 0")]
    BadBatch {
        /// 1-based update whose batch size is bad.
        step: u64,
        /// The offending value.
        batch: f64,
    },
    /// [`BatchGrid::new`](super::BatchGrid::new) was given no batch sizes.
    #[error("batch schedule has no batch sizes; it needs at least one update")]
    EmptyBatch,
    /// The spec string is empty (or only whitespace).
    #[error(
        "empty schedule spec; expected `family:key=value,...`, e.g. `cosine:peak=3e-4,steps=10000` (families: {FAMILY_LIST})"
    )]
    EmptySpec,
    /// The family name before `:` is not one of the known families.
    #[error("unknown schedule family `{family}` in `{spec}`; known families: {FAMILY_LIST}")]
    UnknownFamily {
        /// The name as written.
        family: String,
        /// The whole spec.
        spec: String,
    },
    /// An entry between commas is not of the form `key=value`.
    #[error("malformed entry `{entry}` in schedule `{spec}`: expected `key=value`")]
    MalformedEntry {
        /// The entry as written.
        entry: String,
        /// The whole spec.
        spec: String,
    },
    /// A key that the family does not take.
    #[error(
        "unknown key `{key}` for schedule family `{family}` in `{spec}`; `{family}` takes: {allowed}"
    )]
    UnknownKey {
        /// The family name.
        family: String,
        /// The key as written.
        key: String,
        /// The keys the family takes, comma-separated.
        allowed: String,
        /// The whole spec.
        spec: String,
    },
    /// A key given twice.
    #[error("duplicate key `{key}` in schedule `{spec}`")]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// The whole spec.
        spec: String,
    },
    /// A required key (`peak`, `steps`, or `at` for `step`/`twostage`) is absent.
    #[error("missing required key `{key}` for schedule family `{family}` in `{spec}`")]
    MissingKey {
        /// The family name.
        family: String,
        /// The missing key.
        key: String,
        /// The whole spec.
        spec: String,
    },
    /// A value does not parse as the number (or word) the key needs.
    #[error("`{key}={value}` in schedule `{spec}`: `{value}` is not {expected}")]
    Unparsable {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// What the key needs, e.g. "a number".
        expected: String,
        /// The whole spec.
        spec: String,
    },
    /// A value parses but is out of its allowed range (or inconsistent with another key).
    #[error("invalid `{key}={value}` in schedule `{spec}`: {key} must be {expected}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value, as written in the spec (or formatted, for specs built in code).
        value: String,
        /// The allowed range, e.g. "a finite number > 0".
        expected: String,
        /// The whole spec.
        spec: String,
    },
    /// [`Tabulated::new`](super::Tabulated::new) was given no learning rates.
    #[error("tabulated schedule has no learning rates; it needs at least one update")]
    EmptyTable,
    /// [`Concat::new`](super::Concat::new) was asked to switch after its first schedule ends.
    #[error(
        "cannot switch schedules at update {switch_at}: the first schedule covers only {first_steps} updates"
    )]
    SwitchAfterEnd {
        /// The requested switch update index.
        switch_at: u64,
        /// The number of updates of the first schedule.
        first_steps: u64,
    },
    /// A concatenation would cover more updates than fit in `u64`.
    #[error("concatenated schedule is too long: {switch_at} + {second_steps} updates overflow")]
    TooLong {
        /// The switch update index.
        switch_at: u64,
        /// The number of updates of the second schedule.
        second_steps: u64,
    },
    /// An error inside one phase of a multi-phase spec (`a; @K b`).
    #[error("phase {phase} of schedule `{spec}`: {source}")]
    InPhase {
        /// 1-based phase number.
        phase: usize,
        /// The whole multi-phase spec.
        spec: String,
        /// The phase's own error (quoting the phase).
        source: Box<ScheduleError>,
    },
    /// A phase of a multi-phase spec starts outside the range its predecessor allows.
    #[error(
        "phase {phase} of schedule `{spec}` starts at `@{start}`, but must start in [{lo}, {hi}]: after the previous phase's start and no later than its end"
    )]
    PhaseBoundary {
        /// 1-based phase number.
        phase: usize,
        /// The requested start (updates before the phase).
        start: u64,
        /// The earliest allowed start.
        lo: u64,
        /// The latest allowed start: the end of the schedule before this phase.
        hi: u64,
        /// The whole multi-phase spec.
        spec: String,
    },
    /// The phases of a multi-phase spec together exceed [`MAX_STEPS`](super::MAX_STEPS).
    #[error(
        "phase {phase} of schedule `{spec}` ends after update {end}, beyond the longest schedule (9007199254740992 updates)"
    )]
    PhasesTooLong {
        /// 1-based phase number.
        phase: usize,
        /// The update the phase would end after.
        end: u64,
        /// The whole multi-phase spec.
        spec: String,
    },
    /// A phase of a multi-phase spec is empty or its `@K` boundary is malformed.
    #[error("phase {phase} `{text}` of schedule `{spec}`: {reason}")]
    MalformedPhase {
        /// 1-based phase number.
        phase: usize,
        /// The phase as written.
        text: String,
        /// What is wrong.
        reason: String,
        /// The whole multi-phase spec.
        spec: String,
    },
    /// A single-family edit (`with_peak`, …) was asked of a multi-phase spec.
    #[error("`{op}` edits a single-family schedule, not the multi-phase `{spec}`")]
    NotSinglePhase {
        /// The edit asked for.
        op: String,
        /// The multi-phase spec.
        spec: String,
    },
}

impl ScheduleError {
    /// Replaces the quoted spec by `spec`: validation renders a spec from its (possibly invalid)
    /// values, while parse errors should quote what the user actually wrote.
    pub(crate) fn with_spec(mut self, text: &str) -> Self {
        match &mut self {
            Self::UnknownFamily { spec, .. }
            | Self::MalformedEntry { spec, .. }
            | Self::UnknownKey { spec, .. }
            | Self::DuplicateKey { spec, .. }
            | Self::MissingKey { spec, .. }
            | Self::Unparsable { spec, .. }
            | Self::InvalidValue { spec, .. }
            | Self::InPhase { spec, .. }
            | Self::PhaseBoundary { spec, .. }
            | Self::PhasesTooLong { spec, .. }
            | Self::MalformedPhase { spec, .. }
            | Self::NotSinglePhase { spec, .. } => *spec = text.to_owned(),
            Self::BadLr { .. }
            | Self::BadBatch { .. }
            | Self::EmptyBatch
            | Self::EmptySpec
            | Self::EmptyTable
            | Self::SwitchAfterEnd { .. }
            | Self::TooLong { .. } => {}
        }
        self
    }
}
