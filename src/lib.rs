//! # lrsde — learning-rate schedules, simulated
//!
//! `lrsde` predicts how a training-loss curve responds to the learning-rate (LR) schedule before
//! anyone pays for the training run. It
//!
//! 1. integrates stochastic differential equations that approximate SGD (and momentum / Adam-like
//!    variants) under any LR schedule ([`schedule`], [`model`], [`solver`], [`ensemble`]), with the
//!    exact moment recursion of the noisy quadratic as oracle and fast path ([`nqm`], which also owns
//!    its one parameter type);
//! 2. fits loss-curve laws — its own SDE surrogate and the published Multi-Power, momentum and
//!    power laws — to a few observed training curves ([`data`], [`law`], [`fit`]);
//! 3. ranks candidate schedules by predicted final loss ([`rank`]).
//!
//! The library never prints: long work reports through observer traits, failures through typed
//! errors ([`Error`]).
//!
//! ## Conventions
//!
//! * An LR grid `lrs` holds one LR per update: `lrs[t]` is the LR of update `t + 1`
//!   (`t` counted from 0), so a curve's `step` `k` (1-based) has seen `lrs[0..k]`.
//! * Random streams depend only on `(seed, path index)`: results are bit-identical for any
//!   thread count.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod assess;
pub mod data;
pub mod ensemble;
pub mod error;
pub mod fit;
mod huber;
pub mod io;
pub mod law;
pub mod model;
pub mod nqm;
mod quantile;
pub mod rank;
pub mod rng;
pub mod schedule;
mod simd;
pub mod solver;
pub mod spec;

#[cfg(feature = "plot")]
pub mod plot;

pub use error::Error;
