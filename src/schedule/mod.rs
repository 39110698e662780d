//! Learning-rate schedules and their text form.
//!
//! A schedule maps an update index `t` (0-based: the LR of update `t + 1`) to a learning rate.
//! Every family of the spec grammar `family:key=value,…` (see `docs/` and DESIGN) implements
//! [`LrSchedule`]; simulations and laws consume the precomputed [`LrGrid`].

use thiserror::Error;

/// A learning-rate schedule over a fixed number of updates.
///
/// ```
/// use lrsde::schedule::{LrGrid, LrSchedule};
/// struct Halving;
/// impl LrSchedule for Halving {
///     fn lr(&self, t: u64) -> f64 { if t < 5 { 1.0 } else { 0.5 } }
///     fn steps(&self) -> u64 { 10 }
/// }
/// let grid = LrGrid::from_schedule(&Halving);
/// assert_eq!(grid.len(), 10);
/// assert_eq!(grid.as_slice()[5], 0.5);
/// ```
pub trait LrSchedule {
    /// The LR of update `t + 1` (`t` counted from 0). Defined for every `t < steps()`.
    fn lr(&self, t: u64) -> f64;
    /// The number of updates the schedule covers.
    fn steps(&self) -> u64;
}

/// A schedule evaluated once per update: `as_slice()[t]` is the LR of update `t + 1`.
///
/// Hot loops read this grid instead of calling [`LrSchedule::lr`], so no dynamic dispatch or
/// transcendental function sits on the per-step path.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LrGrid {
    lrs: Vec<f64>,
}

impl LrGrid {
    /// Evaluates `schedule` at every update.
    pub fn from_schedule<S: LrSchedule + ?Sized>(schedule: &S) -> Self {
        Self {
            lrs: (0..schedule.steps()).map(|t| schedule.lr(t)).collect(),
        }
    }

    /// Wraps per-update LRs, rejecting non-finite or negative values.
    ///
    /// ```
    /// let grid = lrsde::schedule::LrGrid::new(vec![0.1, 0.2]).unwrap();
    /// assert_eq!(grid.len(), 2);
    /// assert!(lrsde::schedule::LrGrid::new(vec![f64::NAN]).is_err());
    /// ```
    pub fn new(lrs: Vec<f64>) -> Result<Self, ScheduleError> {
        if let Some((t, &lr)) = lrs
            .iter()
            .enumerate()
            .find(|(_, lr)| !lr.is_finite() || **lr < 0.0)
        {
            return Err(ScheduleError::BadLr {
                step: t as u64 + 1,
                lr,
            });
        }
        Ok(Self { lrs })
    }

    /// The per-update LRs.
    pub fn as_slice(&self) -> &[f64] {
        &self.lrs
    }

    /// Number of updates.
    pub fn len(&self) -> usize {
        self.lrs.len()
    }

    /// Whether the grid has no updates.
    pub fn is_empty(&self) -> bool {
        self.lrs.is_empty()
    }

    /// The largest LR on the grid (0 for an empty grid).
    pub fn max_lr(&self) -> f64 {
        self.lrs.iter().copied().fold(0.0, f64::max)
    }

    /// Consumes the grid, returning the LRs.
    pub fn into_vec(self) -> Vec<f64> {
        self.lrs
    }
}

impl LrSchedule for LrGrid {
    fn lr(&self, t: u64) -> f64 {
        self.lrs[t as usize]
    }
    fn steps(&self) -> u64 {
        self.lrs.len() as u64
    }
}

/// Errors in schedule specs, values and schedule files.
#[derive(Debug, Error)]
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
}
