//! Many paths in parallel, reproducibly, with streaming summaries.
//!
//! An [`Ensemble`] is a validated set of run options (paths, seed, save points, sub-steps,
//! parallelism, divergence bound) built with [`EnsembleBuilder`]; it runs any model with any
//! scheme over an LR grid and returns a [`Summary`] of the loss at the save points.
//!
//! # How a run works
//!
//! All `M` path states stay resident (`M × dim` floats) together with two xoshiro256++ streams
//! per path, seeded from `(seed, path)` ([`PathNormals::new(seed, path)`](crate::rng::PathNormals):
//! the main stream has the words of [`path_rng`](crate::rng::path_rng), one per normal; the aux
//! stream serves the ziggurat's rare slow path); normals come from the crate's ziggurat.
//! The run advances every path from one save point to the next (in parallel over fixed blocks of
//! 32 paths), then reduces the `M` losses of that save point sequentially in path order. So
//!
//! * memory is `O(M·dim)`, independent of the number of steps and save points;
//! * a path's numbers depend only on `(seed, path index)` — not on its block, nor on the thread
//!   that runs it: any thread count, and any [`Parallelism`], gives bit-identical summaries;
//! * the same seed gives the same Brownian paths to every schedule (common random numbers),
//!   which is what ranking schedules needs.
//!
//! # Fast path
//!
//! Models that expose a [`DiagonalForm`](crate::model::DiagonalForm) (the built-in NQM and
//! momentum models) under [`EulerMaruyama`] or [`Milstein`] run on a blocked kernel: 32 paths at
//! a time, state stored coordinate-major in L1, normals drawn for all 32 paths at once by a
//! vectorised ziggurat, loss (for the divergence check) accumulated within the update. It gives
//! exactly the numbers of the generic per-path kernel, several times faster
//! (`docs/performance.md`). Every other model or scheme takes the generic kernel.
//!
//! # Save points
//!
//! Rows are written after every `save_every` updates and always after the final update;
//! [`EnsembleBuilder::save_initial`] adds a row for step 0 (the initial state, before any update),
//! off by default.
//!
//! # Divergence
//!
//! After every update a path's loss is checked: if it is not finite or exceeds
//! [`EnsembleBuilder::divergence_bound`] (default `1e6`), the path is marked diverged at that
//! step, frozen, and excluded from all later rows; rows count diverged paths and the
//! [`Summary::divergence`] report names the first `(path, step)`.

pub mod budget;
mod kernel;
mod summary;

pub use summary::{DivergenceReport, Summary, SummaryRow};

use rayon::prelude::*;
use thiserror::Error;

use crate::model::{DiffusionDerivative, ModelError, ModelSpec, ModelVisitor, SdeModel};
use crate::schedule::{BatchGrid, LrGrid};
use crate::solver::{EulerMaruyama, Method, Milstein, Stepper, TimeStep};
use kernel::{BLOCK, Block, LIVE, SegmentCtx, fast_form};

/// Largest accepted `paths × dim`.
const MAX_STATE_FLOATS: usize = 1 << 33;

/// Errors setting up or running an ensemble.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnsembleError {
    /// A configuration value is invalid.
    #[error("invalid ensemble setting `{key}`: {reason}")]
    BadSetting {
        /// The setting (builder method / CLI flag name).
        key: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The LR grid has no updates.
    #[error("the learning-rate grid is empty: nothing to simulate")]
    EmptyGrid,
    /// The model reports an unusable shape.
    #[error("model has dim = {dim} and noise_dim = {noise_dim}; need 1 <= noise_dim <= dim")]
    BadModel {
        /// `SdeModel::dim()`.
        dim: usize,
        /// `SdeModel::noise_dim()`.
        noise_dim: usize,
    },
    /// The path states do not fit in memory (or exceed 2^33 floats).
    #[error("cannot allocate {paths} paths × {dim} state coordinates (limit 2^33 floats)")]
    TooLarge {
        /// Number of paths.
        paths: usize,
        /// State dimension.
        dim: usize,
    },
    /// A model spec was invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A batch schedule's per-update noise multipliers do not fit the LR grid or the scheme.
    #[error("batch schedule: {reason}")]
    BadBatch {
        /// What is wrong.
        reason: String,
    },
    /// The thread pool could not be built.
    #[error("cannot build a thread pool with {threads} threads: {reason}")]
    ThreadPool {
        /// Requested thread count.
        threads: usize,
        /// The pool builder's message.
        reason: String,
    },
}

/// Where the paths run.
///
/// Results are bit-identical for every choice; only wall time differs.
///
/// ```
/// use lrsde::ensemble::Parallelism;
/// assert_eq!(Parallelism::default(), Parallelism::Global);
/// let p: Parallelism = "4".parse().unwrap();
/// assert_eq!(p, Parallelism::Threads(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// On the calling thread only.
    Sequential,
    /// On a dedicated rayon pool of this many threads (≥ 1), built per run.
    Threads(usize),
    /// On the current rayon pool (the global pool, or the one a caller `install`ed).
    #[default]
    Global,
}

impl std::str::FromStr for Parallelism {
    type Err = EnsembleError;

    /// `"global"`/`"auto"`, `"sequential"`/`"seq"`, or a thread count (`"1"` is sequential).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "global" | "auto" => Ok(Self::Global),
            "sequential" | "seq" => Ok(Self::Sequential),
            t => match t.parse::<usize>() {
                Ok(0) | Err(_) => Err(EnsembleError::BadSetting {
                    key: "threads",
                    reason: format!("`{s}` is not a thread count >= 1, `global` or `sequential`"),
                }),
                Ok(1) => Ok(Self::Sequential),
                Ok(n) => Ok(Self::Threads(n)),
            },
        }
    }
}

/// Progress after one segment (save point to save point).
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Updates done so far.
    pub steps_done: u64,
    /// Updates in the run.
    pub steps_total: u64,
    /// The row just computed.
    pub row: &'a SummaryRow,
}

/// Receives progress during a run (the library never prints). Closures `FnMut(&Progress)`
/// are observers.
///
/// ```
/// use lrsde::ensemble::{Ensemble, Progress};
/// use lrsde::model::Ou;
/// use lrsde::solver::EulerMaruyama;
/// let mut seen = Vec::new();
/// let ens = Ensemble::builder().paths(8).save_every(2).build().unwrap();
/// let lrs = lrsde::schedule::LrGrid::new(vec![1.0; 5]).unwrap();
/// ens.run_observed(&Ou::default(), EulerMaruyama, &lrs, &mut |p: &Progress| {
///     seen.push((p.steps_done, p.steps_total))
/// })
/// .unwrap();
/// assert_eq!(seen, [(2, 5), (4, 5), (5, 5)]);
/// ```
pub trait Observer {
    /// Called after each save point's row is computed, on the calling thread.
    fn on_segment(&mut self, progress: &Progress<'_>);
}

impl<F: FnMut(&Progress<'_>)> Observer for F {
    fn on_segment(&mut self, progress: &Progress<'_>) {
        self(progress)
    }
}

/// An observer that ignores progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn on_segment(&mut self, _progress: &Progress<'_>) {}
}

/// Consuming builder of an [`Ensemble`]; [`build`](Self::build) validates every setting.
///
/// Defaults: 1024 paths, seed 0, `save_every` 10, 1 sub-step, [`Parallelism::Global`],
/// divergence bound `1e6` (loss), no step-0 row.
///
/// ```
/// use lrsde::ensemble::{Ensemble, Parallelism};
/// let ens = Ensemble::builder()
///     .paths(4096)
///     .seed(42)
///     .save_every(10)
///     .substeps(1)
///     .parallelism(Parallelism::Threads(2))
///     .divergence_bound(1e6)
///     .build()
///     .unwrap();
/// assert_eq!(ens.paths(), 4096);
/// assert!(Ensemble::builder().paths(0).build().unwrap_err().to_string().contains("paths"));
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct EnsembleBuilder {
    cfg: Config,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Config {
    paths: usize,
    seed: u64,
    save_every: usize,
    substeps: usize,
    parallelism: Parallelism,
    bound: f64,
    save_initial: bool,
}

impl Default for EnsembleBuilder {
    fn default() -> Self {
        Self {
            cfg: Config {
                paths: 1024,
                seed: 0,
                save_every: 10,
                substeps: 1,
                parallelism: Parallelism::Global,
                bound: 1e6,
                save_initial: false,
            },
        }
    }
}

impl EnsembleBuilder {
    /// Number of Monte Carlo paths (≥ 1).
    pub fn paths(mut self, paths: usize) -> Self {
        self.cfg.paths = paths;
        self
    }

    /// Master seed; path `i` draws its normals from `PathNormals::new(seed, i)`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = seed;
        self
    }

    /// A row every `save_every` updates (≥ 1); the final update always gets a row.
    pub fn save_every(mut self, save_every: usize) -> Self {
        self.cfg.save_every = save_every;
        self
    }

    /// Sub-steps per update (≥ 1): `dt = 1/substeps`, same LR throughout the update. 1 is SGD.
    pub fn substeps(mut self, substeps: usize) -> Self {
        self.cfg.substeps = substeps;
        self
    }

    /// Where the paths run.
    pub fn parallelism(mut self, parallelism: Parallelism) -> Self {
        self.cfg.parallelism = parallelism;
        self
    }

    /// A path diverges when its loss exceeds this (> 0; `f64::INFINITY` flags only non-finite).
    pub fn divergence_bound(mut self, bound: f64) -> Self {
        self.cfg.bound = bound;
        self
    }

    /// Whether to emit a row for step 0 (the initial state).
    pub fn save_initial(mut self, yes: bool) -> Self {
        self.cfg.save_initial = yes;
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<Ensemble, EnsembleError> {
        let c = self.cfg;
        let bad = |key, reason: String| Err(EnsembleError::BadSetting { key, reason });
        if c.paths == 0 {
            return bad("paths", "must be >= 1, got 0".into());
        }
        if c.save_every == 0 {
            return bad("save_every", "must be >= 1, got 0".into());
        }
        if c.substeps == 0 {
            return bad("substeps", "must be >= 1, got 0".into());
        }
        if c.parallelism == Parallelism::Threads(0) {
            return bad("threads", "must be >= 1, got 0".into());
        }
        if c.bound.is_nan() || c.bound <= 0.0 {
            return bad(
                "divergence_bound",
                format!("must be > 0 (or infinite), got {}", c.bound),
            );
        }
        Ok(Ensemble { cfg: c })
    }
}

/// Validated run options; run any model with any scheme over an LR grid.
///
/// ```
/// use lrsde::ensemble::Ensemble;
/// use lrsde::model::Nqm;
/// use lrsde::nqm::NqmParams;
/// use lrsde::solver::EulerMaruyama;
/// let model = Nqm::new(NqmParams::default()).unwrap();
/// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 100]).unwrap();
/// let ens = Ensemble::builder().paths(256).seed(1).save_every(50).build().unwrap();
/// let summary = ens.run(&model, EulerMaruyama, &lrs).unwrap();
/// assert_eq!(summary.rows.len(), 2);
/// assert!(summary.rows[1].mean < summary.rows[0].mean * 2.0);
/// assert!(summary.divergence.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ensemble {
    cfg: Config,
}

impl Ensemble {
    /// A builder with the defaults.
    pub fn builder() -> EnsembleBuilder {
        EnsembleBuilder::default()
    }

    /// Number of paths.
    pub fn paths(&self) -> usize {
        self.cfg.paths
    }

    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.cfg.seed
    }

    /// Sub-steps per update.
    pub fn substeps(&self) -> usize {
        self.cfg.substeps
    }

    /// The update indices (1-based steps) that get a row for a grid of `steps` updates.
    ///
    /// ```
    /// let e = lrsde::ensemble::Ensemble::builder().save_every(4).save_initial(true).build().unwrap();
    /// assert_eq!(e.save_points(10), [0, 4, 8, 10]);
    /// ```
    pub fn save_points(&self, steps: usize) -> Vec<u64> {
        let mut pts = Vec::new();
        if self.cfg.save_initial {
            pts.push(0);
        }
        let mut s = self.cfg.save_every;
        while s < steps {
            pts.push(s as u64);
            s = s.saturating_add(self.cfg.save_every);
        }
        if steps > 0 {
            pts.push(steps as u64);
        }
        pts
    }

    /// Runs `model` with `stepper` over `lrs` (`lrs[t]` = LR of update `t + 1`).
    pub fn run<M, S>(&self, model: &M, stepper: S, lrs: &LrGrid) -> Result<Summary, EnsembleError>
    where
        M: SdeModel + ?Sized,
        S: Stepper<M>,
    {
        self.run_observed(model, stepper, lrs, &mut NoObserver)
    }

    /// Runs a [`ModelSpec`] with a run-time [`Method`]: dispatches once into [`run`](Self::run).
    ///
    /// ```
    /// use lrsde::{ensemble::Ensemble, model::ModelSpec, solver::Method};
    /// let spec: ModelSpec = "nqm:dim=8,diffusion=sqrt1px2".parse().unwrap();
    /// let ens = Ensemble::builder().paths(32).build().unwrap();
    /// let lrs = lrsde::schedule::LrGrid::new(vec![0.3; 20]).unwrap();
    /// let s = ens.run_spec(&spec, Method::Milstein, &lrs).unwrap();
    /// assert_eq!(s.method, "milstein");
    /// ```
    pub fn run_spec(
        &self,
        spec: &ModelSpec,
        method: Method,
        lrs: &LrGrid,
    ) -> Result<Summary, EnsembleError> {
        self.run_spec_observed(spec, method, lrs, &mut NoObserver)
    }

    /// [`run_spec`](Self::run_spec) with an [`Observer`].
    pub fn run_spec_observed<O: Observer + ?Sized>(
        &self,
        spec: &ModelSpec,
        method: Method,
        lrs: &LrGrid,
        observer: &mut O,
    ) -> Result<Summary, EnsembleError> {
        self.run_spec_batched_observed(spec, method, lrs, None, observer)
    }

    /// [`run_spec_observed`](Self::run_spec_observed) under a batch schedule: update `t` runs
    /// with the gradient-noise variance multiplied by `B_ref / batch.at(t)`, `B_ref` the model's
    /// `batch` key (see [`BatchGrid`]). `None`, or a constant grid equal to `B_ref`, gives the
    /// same bits as no batch schedule.
    ///
    /// ```
    /// use lrsde::{ensemble::{Ensemble, NoObserver}, model::ModelSpec, schedule::BatchGrid, solver::Method};
    /// let spec: ModelSpec = "nqm:dim=4,batch=16".parse().unwrap();
    /// let ens = Ensemble::builder().paths(64).build().unwrap();
    /// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 50]).unwrap();
    /// let same = BatchGrid::new(vec![16.0]).unwrap();
    /// let a = ens.run_spec(&spec, Method::Em, &lrs).unwrap();
    /// let b = ens.run_spec_batched_observed(&spec, Method::Em, &lrs, Some(&same), &mut NoObserver).unwrap();
    /// assert_eq!(a.rows, b.rows);
    /// ```
    ///
    /// # Errors
    /// As [`run_spec`](Self::run_spec); [`EnsembleError::BadBatch`] for a model without a
    /// `batch` key (`ou`, `gbm`).
    pub fn run_spec_batched_observed<O: Observer + ?Sized>(
        &self,
        spec: &ModelSpec,
        method: Method,
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        observer: &mut O,
    ) -> Result<Summary, EnsembleError> {
        let factors = match batch {
            None => None,
            Some(grid) => {
                let b_ref = spec.batch().ok_or_else(|| EnsembleError::BadBatch {
                    reason: format!(
                        "model `{}` has no `batch` key, so its noise does not scale with 1/batch",
                        spec.name()
                    ),
                })?;
                Some(grid.diffusion_factors(b_ref, lrs.len()))
            }
        };
        struct Visit<'a, O: ?Sized> {
            ens: &'a Ensemble,
            method: Method,
            lrs: &'a LrGrid,
            noise: Option<&'a [f64]>,
            observer: &'a mut O,
        }
        impl<O: Observer + ?Sized> ModelVisitor for Visit<'_, O> {
            type Output = Result<Summary, EnsembleError>;
            fn visit<M: DiffusionDerivative>(self, model: &M) -> Self::Output {
                match self.method {
                    Method::Em => self.ens.run_inner(
                        model,
                        EulerMaruyama,
                        self.lrs,
                        self.noise,
                        self.observer,
                    ),
                    Method::Milstein => {
                        self.ens
                            .run_inner(model, Milstein, self.lrs, self.noise, self.observer)
                    }
                }
            }
        }
        spec.with_model(Visit {
            ens: self,
            method,
            lrs,
            noise: factors.as_deref(),
            observer,
        })?
    }

    /// [`run`](Self::run) with an [`Observer`] called after every save point.
    pub fn run_observed<M, S, O>(
        &self,
        model: &M,
        stepper: S,
        lrs: &LrGrid,
        observer: &mut O,
    ) -> Result<Summary, EnsembleError>
    where
        M: SdeModel + ?Sized,
        S: Stepper<M>,
        O: Observer + ?Sized,
    {
        self.run_inner(model, stepper, lrs, None, observer)
    }

    /// [`run_observed`](Self::run_observed) with the diffusion of update `t` multiplied by
    /// `noise[t]` — a batch schedule's `√(B_ref/B_t)` ([`BatchGrid::diffusion_factors`]), which
    /// is exact for every built-in model with a `batch` key (their noise is linear in the
    /// noise scale `s_i ∝ 1/√batch`) and is the assumption made for a user's model.
    ///
    /// ```
    /// use lrsde::{ensemble::{Ensemble, NoObserver}, model::Nqm, nqm::NqmParams, solver::EulerMaruyama};
    /// let m = Nqm::new(NqmParams::default()).unwrap();
    /// let ens = Ensemble::builder().paths(32).build().unwrap();
    /// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 20]).unwrap();
    /// let a = ens.run(&m, EulerMaruyama, &lrs).unwrap();
    /// let b = ens.run_batched_observed(&m, EulerMaruyama, &lrs, &[1.0; 20], &mut NoObserver).unwrap();
    /// assert_eq!(a.rows, b.rows);
    /// ```
    ///
    /// # Errors
    /// As [`run`](Self::run); [`EnsembleError::BadBatch`] if `noise` is not as long as `lrs`,
    /// has a value that is not finite and `> 0`, or `stepper` is not a built-in scheme (a
    /// user's scheme would not apply the multipliers).
    pub fn run_batched_observed<M, S, O>(
        &self,
        model: &M,
        stepper: S,
        lrs: &LrGrid,
        noise: &[f64],
        observer: &mut O,
    ) -> Result<Summary, EnsembleError>
    where
        M: SdeModel + ?Sized,
        S: Stepper<M>,
        O: Observer + ?Sized,
    {
        self.run_inner(model, stepper, lrs, Some(noise), observer)
    }

    fn run_inner<M, S, O>(
        &self,
        model: &M,
        stepper: S,
        lrs: &LrGrid,
        noise: Option<&[f64]>,
        observer: &mut O,
    ) -> Result<Summary, EnsembleError>
    where
        M: SdeModel + ?Sized,
        S: Stepper<M>,
        O: Observer + ?Sized,
    {
        let c = self.cfg;
        if lrs.is_empty() {
            return Err(EnsembleError::EmptyGrid);
        }
        if let Some(n) = noise {
            check_noise(n, lrs.len(), stepper.method().is_some())?;
        }
        let (dim, noise_dim) = (model.dim(), model.noise_dim());
        if dim == 0 || noise_dim == 0 || noise_dim > dim {
            return Err(EnsembleError::BadModel { dim, noise_dim });
        }
        let pool = match c.parallelism {
            Parallelism::Threads(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| EnsembleError::ThreadPool {
                        threads: n,
                        reason: e.to_string(),
                    })?,
            ),
            _ => None,
        };

        let too_large = || EnsembleError::TooLarge {
            paths: c.paths,
            dim,
        };
        // Beyond 2^33 state floats (64 GiB) a request is almost surely a typo; refusing it
        // beats letting the allocator abort the process.
        if c.paths
            .checked_mul(dim)
            .is_none_or(|n| n > MAX_STATE_FLOATS)
        {
            return Err(too_large());
        }
        let fast = fast_form(model, &stepper, noise.is_some());
        let mut chunks = Vec::new();
        chunks
            .try_reserve_exact(c.paths.div_ceil(BLOCK))
            .map_err(|_| too_large())?;
        for first in (0..c.paths).step_by(BLOCK) {
            let n = BLOCK.min(c.paths - first);
            chunks.push(
                Block::new(model, c.seed, first, n, c.bound, fast.is_some())
                    .ok_or_else(too_large)?,
            );
        }

        let ctx = SegmentCtx {
            model,
            stepper,
            fast,
            lrs,
            noise,
            ts: TimeStep::substeps(c.substeps),
            substeps: c.substeps,
            bound: c.bound,
        };
        let parallel = c.parallelism != Parallelism::Sequential;
        let advance = |chunks: &mut Vec<Block>, from: usize, to: usize| {
            if parallel {
                chunks
                    .par_iter_mut()
                    .for_each(|ch| ch.advance(&ctx, from, to));
            } else {
                chunks.iter_mut().for_each(|ch| ch.advance(&ctx, from, to));
            }
        };

        let total = lrs.len();
        let points = self.save_points(total);
        let mut rows = Vec::with_capacity(points.len());
        let mut live = Vec::with_capacity(c.paths);
        let mut done = 0usize;
        for &pt in &points {
            let to = pt as usize;
            if to > done {
                match &pool {
                    Some(pool) => pool.install(|| advance(&mut chunks, done, to)),
                    None => advance(&mut chunks, done, to),
                }
                done = to;
            }
            live.clear();
            for ch in &chunks {
                for (l, d) in ch.results() {
                    if d == LIVE {
                        live.push(l);
                    }
                }
            }
            let lr = lrs[to.saturating_sub(1)];
            let diverged = c.paths - live.len();
            let row = SummaryRow::from_losses(pt, lr, &mut live, diverged);
            observer.on_segment(&Progress {
                steps_done: pt,
                steps_total: total as u64,
                row: &row,
            });
            rows.push(row);
        }

        let mut divergence: Option<DivergenceReport> = None;
        for (ci, ch) in chunks.iter().enumerate() {
            for (p, (_, d)) in ch.results().enumerate() {
                if d == LIVE {
                    continue;
                }
                let path = ci * BLOCK + p;
                let r = divergence.get_or_insert(DivergenceReport {
                    count: 0,
                    first_path: path,
                    first_step: d,
                });
                r.count += 1;
                if d < r.first_step {
                    r.first_step = d;
                    r.first_path = path;
                }
            }
        }

        Ok(Summary {
            rows,
            divergence,
            paths: c.paths,
            seed: c.seed,
            method: S::NAME.to_owned(),
            substeps: c.substeps,
        })
    }
}

/// Validates a batch schedule's diffusion multipliers against the LR grid and the scheme.
fn check_noise(noise: &[f64], steps: usize, builtin: bool) -> Result<(), EnsembleError> {
    let bad = |reason: String| Err(EnsembleError::BadBatch { reason });
    if noise.len() != steps {
        return bad(format!(
            "{} noise multipliers for {steps} learning-rate updates",
            noise.len()
        ));
    }
    if let Some((t, v)) = noise
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite() || **v <= 0.0)
    {
        return bad(format!(
            "noise multiplier at step {} is {v}; must be finite and > 0",
            t + 1
        ));
    }
    if !builtin {
        return bad("a user-defined scheme cannot apply per-update noise multipliers; use em or                     milstein"
            .to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Nqm, NqmParams, Ou};

    #[test]
    fn builder_rejects_bad_values() {
        let cases: [(EnsembleBuilder, &str); 5] = [
            (Ensemble::builder().paths(0), "paths"),
            (Ensemble::builder().save_every(0), "save_every"),
            (Ensemble::builder().substeps(0), "substeps"),
            (
                Ensemble::builder().parallelism(Parallelism::Threads(0)),
                "threads",
            ),
            (
                Ensemble::builder().divergence_bound(f64::NAN),
                "divergence_bound",
            ),
        ];
        for (b, key) in cases {
            let msg = b.build().unwrap_err().to_string();
            assert!(msg.contains(key), "{msg}");
        }
    }

    #[test]
    fn an_empty_grid_is_an_error() {
        let ens = Ensemble::builder().paths(2).build().unwrap();
        let m = Ou::default();
        assert!(matches!(
            ens.run(&m, EulerMaruyama, &LrGrid::new(vec![]).unwrap()),
            Err(EnsembleError::EmptyGrid)
        ));
    }

    #[test]
    fn initial_row_and_divergence_report() {
        let model = Nqm::new(NqmParams::default()).unwrap();
        let ens = Ensemble::builder()
            .paths(5)
            .save_every(100)
            .save_initial(true)
            .parallelism(Parallelism::Sequential)
            .build()
            .unwrap();
        let s = ens
            .run(&model, EulerMaruyama, &LrGrid::new(vec![2.5; 300]).unwrap())
            .unwrap();
        assert_eq!(s.rows[0].step, 0);
        assert_eq!(s.rows[0].diverged, 0);
        let rep = s.divergence.expect("η·hmax = 2.5 diverges");
        assert_eq!(rep.count, 5);
        assert!(rep.first_step > 0 && rep.first_step < 100);
        let last = s.last().unwrap();
        assert_eq!((last.diverged, last.live), (5, 0));
    }
}
