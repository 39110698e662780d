//! Assessing fitted laws on curves they did not see: leave-one-curve-out refits
//! ([`leave_one_out`], the CLI's `fit --validate`), leave-last-segment-out refits, the
//! calibration of the predictive band from them, the automatic choice of a law, the coverage
//! of predictive bands on held-out curves, and the one set of accuracy metrics ([`metrics`])
//! that fitting, assessment, the accuracy example and the CLI report.
//!
//! Everything here learns only from the curves it is given to fit: a band calibrated by
//! [`calibrate`] or a law chosen by [`fit_choice`] never looks at the curves it is later
//! scored on ([`assess`]).

mod auto;
mod calibrate;
mod coverage;
mod instability;
pub mod metrics;
mod segment;
mod validate;

pub use auto::{AUTO_CANDIDATES, DEFAULT_LAW, LawChoice, check_prior, fit_choice};
pub use calibrate::{
    CalibrationOptions, calibrate, disagreement_k2, predictive_from_errors, residual_noise_sd,
};
pub use coverage::{Assessment, FinalBand, assess};
pub use instability::{Instability, observed_instability};
pub use segment::{DEFAULT_CUTS, segment_errors};
pub use validate::{HeldOut, leave_one_out, mean_held_out_mae, validation_note};
