//! Per-update batch sizes (batch-size ramps) and the gradient-noise scale they imply.
//!
//! A batch schedule is written in the LR spec grammar, read as batch sizes instead of learning
//! rates: `peak` is the largest batch, in whatever unit the model's `batch` key uses (samples or
//! tokens; only the ratio matters), e.g. `constant:peak=1024,steps=10000,warmup=2000` ramps
//! linearly from 1024/2000 up to 1024 over 2000 updates and then holds it, and
//! `constant:peak=256,steps=1000; @1000 constant:peak=512,steps=1000` doubles the batch at
//! update 1000. Values need not be whole numbers (a fractional batch is a noise scale).
//!
//! Gradient noise has variance ∝ 1/batch, so update `t` of a model whose `batch` key is
//! `B_ref` runs with its noise variance multiplied by `B_ref / B_t` (its diffusion by the square
//! root). A constant batch schedule equal to `B_ref` therefore changes nothing, bit for bit.

use super::{LrSchedule, ScheduleError};

/// A validated per-update batch grid: `as_slice()[t]` is the batch size of update `t + 1`.
///
/// Every value is finite and `> 0`. Updates beyond the grid hold its last batch size, as every
/// LR schedule holds its last LR.
///
/// ```
/// use lrsde::schedule::{BatchGrid, ScheduleSpec};
/// let spec: ScheduleSpec = "constant:peak=64,steps=4,warmup=2".parse().unwrap();
/// let grid = BatchGrid::from_schedule(&spec).unwrap();
/// assert_eq!(grid.as_slice(), &[32.0, 64.0, 64.0, 64.0]);
/// // The model's `batch` key is 64: the first update is twice as noisy (variance).
/// assert_eq!(grid.variance_factors(64.0, 5), vec![2.0, 1.0, 1.0, 1.0, 1.0]);
/// assert!(BatchGrid::new(vec![8.0, 0.0]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BatchGrid {
    batch: Vec<f64>,
}

impl BatchGrid {
    /// Wraps per-update batch sizes, rejecting an empty grid and values that are not finite and
    /// `> 0` ([`ScheduleError::BadBatch`] names the 1-based update).
    pub fn new(batch: Vec<f64>) -> Result<Self, ScheduleError> {
        if batch.is_empty() {
            return Err(ScheduleError::EmptyBatch);
        }
        if let Some((t, &b)) = batch
            .iter()
            .enumerate()
            .find(|(_, b)| !b.is_finite() || **b <= 0.0)
        {
            return Err(ScheduleError::BadBatch {
                step: t as u64 + 1,
                batch: b,
            });
        }
        Ok(Self { batch })
    }

    /// Evaluates a schedule (read as batch sizes) at every update and validates the values (a
    /// decay to `final=0` is rejected at its first zero).
    pub fn from_schedule<S: LrSchedule + ?Sized>(schedule: &S) -> Result<Self, ScheduleError> {
        Self::new((0..schedule.steps()).map(|t| schedule.lr(t)).collect())
    }

    /// The per-update batch sizes.
    pub fn as_slice(&self) -> &[f64] {
        &self.batch
    }

    /// Number of updates the grid covers.
    pub fn len(&self) -> usize {
        self.batch.len()
    }

    /// Always `false`: a grid has at least one update.
    pub fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }

    /// The batch size of update `t + 1` (the last one for `t` beyond the grid).
    pub fn at(&self, t: usize) -> f64 {
        self.batch[t.min(self.batch.len() - 1)]
    }

    /// Whether every update uses the batch size `b` (then the grid changes nothing for a model
    /// whose `batch` key is `b`).
    pub fn is_constant_at(&self, b: f64) -> bool {
        self.batch.iter().all(|&x| x == b)
    }

    /// Noise-variance multipliers `batch_ref / B_t` for updates `0..steps`.
    pub fn variance_factors(&self, batch_ref: f64, steps: usize) -> Vec<f64> {
        (0..steps).map(|t| batch_ref / self.at(t)).collect()
    }

    /// Diffusion multipliers `√(batch_ref / B_t)` for updates `0..steps` (exactly 1 where
    /// `B_t == batch_ref`).
    pub fn diffusion_factors(&self, batch_ref: f64, steps: usize) -> Vec<f64> {
        (0..steps)
            .map(|t| (batch_ref / self.at(t)).sqrt())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ScheduleSpec;

    #[test]
    fn multi_phase_doubling_and_hold() {
        let spec: ScheduleSpec = "constant:peak=2,steps=3; @3 constant:peak=4,steps=2"
            .parse()
            .unwrap();
        let g = BatchGrid::from_schedule(&spec).unwrap();
        assert_eq!(g.as_slice(), &[2.0, 2.0, 2.0, 4.0, 4.0]);
        assert_eq!(g.at(99), 4.0);
        assert_eq!(
            g.variance_factors(4.0, 6),
            vec![2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
        );
        let d = g.diffusion_factors(4.0, 6);
        assert_eq!(d[0], 2f64.sqrt());
        assert_eq!(d[5], 1.0);
    }

    #[test]
    fn decay_to_zero_and_bad_values_name_the_step() {
        let spec: ScheduleSpec = "linear:peak=8,steps=4".parse().unwrap();
        let err = BatchGrid::from_schedule(&spec).unwrap_err();
        assert_eq!(
            err,
            ScheduleError::BadBatch {
                step: 4,
                batch: 0.0
            }
        );
        assert!(err.to_string().contains("step 4"));
        for bad in [f64::NAN, f64::INFINITY, -1.0] {
            assert!(matches!(
                BatchGrid::new(vec![1.0, bad]),
                Err(ScheduleError::BadBatch { step: 2, .. })
            ));
        }
        assert_eq!(BatchGrid::new(vec![]), Err(ScheduleError::EmptyBatch));
    }

    #[test]
    fn constant_at_reference_gives_unit_factors() {
        let g = BatchGrid::new(vec![48.0; 3]).unwrap();
        assert!(g.is_constant_at(48.0) && !g.is_constant_at(47.0));
        assert!(g.diffusion_factors(48.0, 5).iter().all(|&c| c == 1.0));
    }
}
