//! The noisy quadratic: the one parameter type ([`QuadraticParams`], validated in one place) and
//! its exact moment recursions ([`DiagonalMoments`], [`MomentumMoments`]).
//!
//! Every noisy-quadratic consumer goes through here: the models of [`crate::model`] are built from
//! these parameters, the ensemble's oracle tests and the `sim:model=nqm|momentum` law use these
//! recursions, and the `sde` law ([`crate::law::SdeSurrogate`]) advances its second moments with
//! the same update and the same closed-form rule ([`advance_second_moments`]).

mod moments;
pub(crate) use moments::MomentRecursion;
mod params;

pub use moments::{
    AffinePower, CLOSED_FORM_MIN_RUN, DiagonalMoments, MomentsError, MomentumMoments,
    SecondMomentRun, advance_second_moments, expected_loss_at, expected_loss_every_step,
    power_and_geometric_sum,
};
pub(crate) use moments::{dot, for_each_run};
pub use params::{NqmDiffusion, NqmParams, ParamError, QuadraticParams, power_law, power_law_at};
