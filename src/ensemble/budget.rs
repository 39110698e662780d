//! What a simulation will cost, known before anything is allocated.
//!
//! [`Ensemble::estimate`] turns the run options, the model's shape and the number of updates
//! into an [`Estimate`] of memory (path states and per-block buffers, the LR grid, the saved
//! rows) and of wall time; [`Estimate::check`] refuses it against [`Limits`]. The CLI calls both
//! before it builds the LR grid, so `--paths 1e12` or `steps=1e15` ends in a one-line refusal
//! with the numbers instead of an allocator abort hours later.
//!
//! Time is estimated from the work, `paths × state dim × steps × substeps` path-dimension-steps,
//! at [`THROUGHPUT_PER_THREAD`]: twice the speed of the fastest kernel as measured (workload W
//! of `docs/performance.md`: 2.6·10⁸ path-dimension-steps in 0.18 s on one thread of a 2.6 GHz
//! Zen 5 with AVX-512, 1.5·10⁹ per second), which leaves room for faster cores. Slower models
//! and machines only take longer, so the estimated time is a lower bound and a refusal is never
//! a false alarm.

use std::fmt;

use thiserror::Error;

use super::summary::SummaryRow;
use super::{Ensemble, Parallelism};
use crate::model::{DiffusionDerivative, ModelError, ModelSpec, ModelVisitor, SdeModel};

/// Path-dimension-steps per second and thread of the fastest kernel (an upper bound on speed,
/// so estimated times are lower bounds).
pub const THROUGHPUT_PER_THREAD: f64 = 3e9;

/// Default memory limit of [`Limits`]: 8 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 8 << 30;

/// Default time limit of [`Limits`]: 24 hours.
pub const DEFAULT_MAX_SECONDS: f64 = 24.0 * 3600.0;

/// Bytes a block of paths needs besides its states: 32 generator lanes of 4 words, divergence
/// steps and losses, vector headers (the model-sized scratch is counted per coordinate).
const BLOCK_OVERHEAD: f64 = 2048.0;

/// Paths per block (the kernel's unit of work; the last block is padded).
const BLOCK: f64 = super::BLOCK as f64;

/// The resources one simulation needs. Byte counts are `f64` so that absurd requests
/// (`1e12` paths) are estimated rather than overflowing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Paths.
    pub paths: usize,
    /// State coordinates per path (the model's `dim()`).
    pub state_dim: usize,
    /// Updates (the LR grid's length).
    pub steps: u64,
    /// Sub-steps per update.
    pub substeps: usize,
    /// Updates between saved rows.
    pub save_every: usize,
    /// Saved rows (save points).
    pub rows: u64,
    /// Threads the estimate assumes (never more than there are blocks of paths).
    pub threads: usize,
    /// Bytes of the path states and the per-block buffers (resident for the whole run).
    pub state_bytes: f64,
    /// Bytes of the per-update LR grid.
    pub grid_bytes: f64,
    /// Bytes of the saved rows held until the run ends (the output).
    pub rows_bytes: f64,
    /// Path-dimension-steps: `paths × state_dim × steps × substeps`.
    pub work: f64,
    /// Path-rows: `paths × rows`, the statistics of every saved row, gathered on one thread.
    pub row_work: f64,
    /// Lower bound on the wall time in seconds: `work` over the threads and `row_work` on one,
    /// each at [`THROUGHPUT_PER_THREAD`].
    pub seconds: f64,
}

impl Estimate {
    /// All the memory the run holds at once.
    pub fn memory_bytes(&self) -> f64 {
        self.state_bytes + self.grid_bytes + self.rows_bytes
    }

    /// Checks the estimate against `limits`: memory first, then time.
    ///
    /// ```
    /// use lrsde::ensemble::{Ensemble, budget::Limits};
    /// let ens = Ensemble::builder().paths(1_000_000_000).build().unwrap();
    /// let est = ens.estimate(32, 32, 1000);
    /// let err = est.check(&Limits::default()).unwrap_err();
    /// assert!(err.to_string().contains("GiB"), "{err}");
    /// ```
    ///
    /// # Errors
    /// [`BudgetError::Memory`] or [`BudgetError::Time`], carrying the estimate.
    pub fn check(&self, limits: &Limits) -> Result<(), BudgetError> {
        if self.memory_bytes() > limits.max_memory as f64 {
            return Err(BudgetError::Memory {
                estimate: *self,
                limit: limits.max_memory,
            });
        }
        if let Some(max) = limits.max_seconds
            && self.seconds > max
        {
            return Err(BudgetError::Time {
                estimate: *self,
                limit: max,
            });
        }
        Ok(())
    }
}

/// Limits a simulation must stay within.
///
/// ```
/// use lrsde::ensemble::budget::Limits;
/// let l = Limits::default();
/// assert_eq!(l.max_memory, 8 << 30);
/// assert_eq!(l.max_seconds, Some(86_400.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Most bytes the run may hold at once.
    pub max_memory: u64,
    /// Longest estimated wall time in seconds; `None`: no limit.
    pub max_seconds: Option<f64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_memory: DEFAULT_MAX_MEMORY,
            max_seconds: Some(DEFAULT_MAX_SECONDS),
        }
    }
}

/// A simulation refused for its size; the message gives the estimate and the limit.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The run would hold more memory than allowed.
    #[error(
        "{} paths × {} state coordinates × {} steps needs ~{} of memory ({}); the limit is {}",
        estimate.paths,
        estimate.state_dim,
        estimate.steps,
        Bytes(estimate.memory_bytes()),
        Breakdown(estimate),
        Bytes(*limit as f64)
    )]
    Memory {
        /// The estimate.
        estimate: Estimate,
        /// The limit in bytes.
        limit: u64,
    },
    /// The run would take longer than allowed.
    #[error(
        "{} paths × {} state coordinates × {} steps × {} substeps is {:.2e} path-dimension-steps: \
         at least ~{} on {} threads at {:.0e} per thread and second; the limit is {}",
        estimate.paths,
        estimate.state_dim,
        estimate.steps,
        estimate.substeps,
        estimate.work,
        HumanDuration(estimate.seconds),
        estimate.threads,
        THROUGHPUT_PER_THREAD,
        HumanDuration(*limit)
    )]
    Time {
        /// The estimate.
        estimate: Estimate,
        /// The limit in seconds.
        limit: f64,
    },
}

impl Ensemble {
    /// What running a model with `state_dim` coordinates (`noise_dim` noise dimensions) over
    /// `steps` updates would cost with these options. Allocates nothing.
    ///
    /// ```
    /// use lrsde::ensemble::Ensemble;
    /// let ens = Ensemble::builder().paths(4096).save_every(10).build().unwrap();
    /// let est = ens.estimate(32, 32, 2000);
    /// assert_eq!(est.rows, 200);
    /// assert!(est.state_bytes >= 4096.0 * 32.0 * 8.0);
    /// assert!(est.memory_bytes() < 2e6);
    /// ```
    pub fn estimate(&self, state_dim: usize, noise_dim: usize, steps: u64) -> Estimate {
        let c = self.cfg;
        let paths = c.paths as f64;
        let dim = state_dim as f64;
        let blocks = (paths / BLOCK).ceil();
        let state_bytes = blocks * (BLOCK * dim * 8.0 + BLOCK_OVERHEAD + (dim + 3.0 * noise_dim as f64) * 8.0)
                // The losses of the live paths, gathered at every save point.
                + paths * 8.0;
        let rows = steps.div_ceil(c.save_every.max(1) as u64) + u64::from(c.save_initial);
        let threads = match c.parallelism {
            Parallelism::Sequential => 1,
            Parallelism::Threads(n) => n,
            Parallelism::Global => rayon::current_num_threads(),
        }
        .clamp(1, (blocks as usize).max(1));
        let work = paths * dim * steps as f64 * c.substeps as f64;
        let row_work = paths * rows as f64;
        Estimate {
            paths: c.paths,
            state_dim,
            steps,
            substeps: c.substeps,
            save_every: c.save_every,
            rows,
            threads,
            state_bytes,
            grid_bytes: steps as f64 * 8.0,
            rows_bytes: rows as f64 * std::mem::size_of::<SummaryRow>() as f64,
            work,
            row_work,
            seconds: (work / threads as f64 + row_work) / THROUGHPUT_PER_THREAD,
        }
    }

    /// [`Self::estimate`] for a [`ModelSpec`] (builds the model to learn its shape; the model
    /// itself is small next to the paths).
    ///
    /// ```
    /// use lrsde::ensemble::Ensemble;
    /// let ens = Ensemble::builder().paths(64).build().unwrap();
    /// let est = ens.estimate_spec(&"momentum:dim=4".parse().unwrap(), 100).unwrap();
    /// assert_eq!(est.state_dim, 8);
    /// ```
    ///
    /// # Errors
    /// The spec's [`ModelError`].
    pub fn estimate_spec(&self, spec: &ModelSpec, steps: u64) -> Result<Estimate, ModelError> {
        struct Shape;
        impl ModelVisitor for Shape {
            type Output = (usize, usize);
            fn visit<M: DiffusionDerivative>(self, model: &M) -> (usize, usize) {
                (model.dim(), model.noise_dim())
            }
        }
        let (dim, noise) = spec.with_model(Shape)?;
        Ok(self.estimate(dim, noise, steps))
    }

    /// [`Self::estimate`] for a model value.
    ///
    /// ```
    /// use lrsde::ensemble::Ensemble;
    /// use lrsde::model::Ou;
    /// let est = Ensemble::builder().paths(10).build().unwrap().estimate_model(&Ou::default(), 5);
    /// assert_eq!(est.state_dim, 1);
    /// ```
    pub fn estimate_model<M: SdeModel + ?Sized>(&self, model: &M, steps: u64) -> Estimate {
        self.estimate(model.dim(), model.noise_dim(), steps)
    }
}

/// A byte count in binary units (`7.8 KiB`, `238.4 GiB`).
///
/// ```
/// use lrsde::ensemble::budget::Bytes;
/// assert_eq!(Bytes(512.0).to_string(), "512 B");
/// assert_eq!(Bytes(3.0 * 1024.0 * 1024.0 * 1024.0).to_string(), "3.0 GiB");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bytes(pub f64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 7] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"];
        let mut v = self.0;
        if v < 1024.0 {
            return write!(f, "{v:.0} B");
        }
        let mut unit = UNITS[0];
        for u in UNITS {
            v /= 1024.0;
            unit = u;
            if v < 1024.0 {
                break;
            }
        }
        write!(f, "{v:.1} {unit}")
    }
}

/// A duration in the largest fitting unit (`40 s`, `3.2 h`, `12.0 days`).
///
/// ```
/// use lrsde::ensemble::budget::HumanDuration;
/// assert_eq!(HumanDuration(90_000.0).to_string(), "25.0 h");
/// assert_eq!(HumanDuration(3e7).to_string(), "347.2 days");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HumanDuration(pub f64);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s < 120.0 {
            write!(f, "{s:.0} s")
        } else if s < 7200.0 {
            write!(f, "{:.1} min", s / 60.0)
        } else if s < 4.0 * 86_400.0 {
            write!(f, "{:.1} h", s / 3600.0)
        } else if s < 1e3 * 365.25 * 86_400.0 {
            write!(f, "{:.1} days", s / 86_400.0)
        } else {
            write!(f, "{:.1e} years", s / (365.25 * 86_400.0))
        }
    }
}

/// The parts of the memory estimate, in words.
struct Breakdown<'a>(&'a Estimate);

impl fmt::Display for Breakdown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        write!(
            f,
            "{} for the path states, {} for {} saved rows (one every {} steps), {} for the LR grid",
            Bytes(e.state_bytes),
            Bytes(e.rows_bytes),
            e.rows,
            e.save_every,
            Bytes(e.grid_bytes)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_counts_states_rows_and_grid() {
        let ens = Ensemble::builder()
            .paths(33)
            .save_every(10)
            .parallelism(Parallelism::Threads(4))
            .build()
            .unwrap();
        let e = ens.estimate(2, 1, 95);
        // Two blocks (33 paths pad to 64), 2 coordinates each.
        assert_eq!(
            e.state_bytes,
            2.0 * (32.0 * 2.0 * 8.0 + BLOCK_OVERHEAD + 5.0 * 8.0) + 33.0 * 8.0
        );
        assert_eq!(e.rows, 10);
        assert_eq!(
            e.rows_bytes,
            10.0 * std::mem::size_of::<SummaryRow>() as f64
        );
        assert_eq!(e.grid_bytes, 95.0 * 8.0);
        assert_eq!(e.threads, 2, "no more threads than blocks");
        assert_eq!(e.work, 33.0 * 2.0 * 95.0);
        assert_eq!(e.row_work, 33.0 * 10.0);
        assert_eq!(
            e.seconds,
            (e.work / 2.0 + e.row_work) / THROUGHPUT_PER_THREAD
        );
    }

    #[test]
    fn huge_requests_are_refused_with_numbers() {
        let ens = Ensemble::builder()
            .paths(1 << 40)
            .parallelism(Parallelism::Sequential)
            .build()
            .unwrap();
        let err = ens
            .estimate(32, 32, 1000)
            .check(&Limits::default())
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, BudgetError::Memory { .. }));
        // 2^40 paths × (32 × 8 B of state + (2048 + 128 × 8) B per 32-path block + 8 B of
        // gathered loss) = 2^40 × 360 B = 360 TiB.
        assert!(msg.contains("360.0 TiB for the path states"), "{msg}");
        assert!(msg.contains("the limit is 8.0 GiB"), "{msg}");

        let ens = Ensemble::builder()
            .paths(1000)
            .parallelism(Parallelism::Sequential)
            .build()
            .unwrap();
        // 1000 × 32 × 1e10 = 3.2e14 pds, plus 1000 × 1e9 path-rows: 1.07e5 s at 3e9/s > 24 h.
        let err = ens.estimate(32, 32, 10_000_000_000);
        let err = err
            .check(&Limits {
                max_memory: u64::MAX,
                ..Limits::default()
            })
            .unwrap_err();
        assert!(matches!(err, BudgetError::Time { .. }));
        assert!(err.to_string().contains("29.7 h"), "{err}");
        assert!(
            ens.estimate(32, 32, 10_000_000_000)
                .check(&Limits {
                    max_memory: u64::MAX,
                    max_seconds: None
                })
                .is_ok()
        );
    }

    #[test]
    fn absurd_sizes_do_not_overflow() {
        let ens = Ensemble::builder()
            .paths(usize::MAX)
            .save_every(1)
            .build()
            .unwrap();
        let e = ens.estimate(1 << 24, 1 << 24, u64::MAX);
        assert!(e.memory_bytes().is_finite() && e.memory_bytes() > 1e26);
        assert!(e.check(&Limits::default()).is_err());
        assert!(Bytes(e.memory_bytes()).to_string().contains("ZiB"));
        assert!(HumanDuration(e.seconds).to_string().contains("years"));
    }
}
