//! Choosing a schedule: ranking candidates, searching inside a family, and the Step Law prior
//! for the peak learning rate and batch size.

pub mod steplaw;

pub use steplaw::{StepLaw, step_law};
