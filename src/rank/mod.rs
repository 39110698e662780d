//! Choosing a schedule: ranking candidates, searching inside a family, continued training, and
//! the Step Law prior for the peak learning rate and batch size.
//!
//! All entry points take a [`Predictor`](crate::fit::Predictor) (a fit and its law, checked
//! against each other when it was built) alone:
//!
//! | task | call | returns |
//! |---|---|---|
//! | rank candidate schedules | [`rank`] (`lrsde rank --schedule …`) | [`Ranking`]: best first, gap, paired significance, divergence, warnings |
//! | best schedule of a family | [`search`] with a [`SearchSpec`] (`wsd:peak=3e-4,steps=24000,decay=0.05..0.5`) | [`SearchResult`] |
//! | continue a run after a fork | [`continue_from`] | [`Continuation`]: curve after the fork, level-corrected |
//! | peak LR / batch prior | [`step_law`] | [`StepLaw`] |
//!
//! **Common random numbers.** Every prediction's band comes from the same stored parameter
//! draws of the fit, so candidates are compared draw by draw (see [`rank`]).
//!
//! **Extrapolation** beyond the fit's LRs or steps is allowed and reported as a warning on each
//! entry ("extrapolating to N steps, fit saw up to M").

mod continued;
mod error;
mod eval;
mod ranking;
mod search;
pub mod steplaw;

pub use continued::{
    Continuation, ContinueOptions, LevelCorrection, continue_from, continued_schedule, fork_prefix,
};
pub use error::RankError;
pub use eval::extrapolation_warnings;
pub use ranking::{Candidate, RankEntry, RankOptions, Ranking, rank};
pub use search::{
    DefaultPeak, SearchEdge, SearchOptions, SearchPoint, SearchResult, SearchSpec, search,
};
pub use steplaw::{StepLaw, step_law};
