//! The per-path inner loop: a fixed-size chunk of resident paths advanced one segment at a time.

use rand_distr::{Distribution, StandardNormal};

use crate::model::SdeModel;
use crate::rng::{Xoshiro256PlusPlus, path_rng};
use crate::solver::{Stepper, TimeStep, Workspace};

/// `diverged_at` of a path that has not diverged.
pub(crate) const LIVE: u64 = u64::MAX;

/// Whether a loss marks its path as diverged: not finite (NaN included), or above the bound.
#[inline]
fn out_of_bounds(loss: f64, bound: f64) -> bool {
    !loss.is_finite() || loss > bound
}

/// Paths per chunk: the unit of parallel work. Results do not depend on it (every path owns its
/// stream and its state), only scheduling granularity does.
pub(crate) const CHUNK: usize = 32;

/// A chunk of paths with everything they need resident: states, RNGs, divergence flags, the
/// latest losses and scratch space. Allocated once per run, so the step loop never allocates.
pub(crate) struct Chunk {
    dim: usize,
    states: Vec<f64>,
    rngs: Vec<Xoshiro256PlusPlus>,
    pub(crate) diverged_at: Vec<u64>,
    pub(crate) losses: Vec<f64>,
    ws: Workspace,
    z: Vec<f64>,
}

/// What every chunk needs to advance a segment.
pub(crate) struct SegmentCtx<'a, M: ?Sized, S> {
    pub model: &'a M,
    pub stepper: S,
    pub lrs: &'a [f64],
    pub ts: TimeStep,
    pub substeps: usize,
    pub bound: f64,
}

impl Chunk {
    /// Paths `first..first + n`, initialised. Returns `None` if memory cannot be reserved.
    pub(crate) fn new<M: SdeModel + ?Sized>(
        model: &M,
        seed: u64,
        first: usize,
        n: usize,
        bound: f64,
    ) -> Option<Self> {
        let dim = model.dim();
        let mut states = Vec::new();
        states.try_reserve_exact(n.checked_mul(dim)?).ok()?;
        states.resize(n * dim, 0.0);
        let mut chunk = Self {
            dim,
            states,
            rngs: (0..n).map(|p| path_rng(seed, (first + p) as u64)).collect(),
            diverged_at: vec![LIVE; n],
            losses: vec![0.0; n],
            ws: Workspace::new(model),
            z: vec![0.0; model.noise_dim().min(dim)],
        };
        for p in 0..n {
            let x = &mut chunk.states[p * dim..(p + 1) * dim];
            model.init(x);
            let l = model.loss(x);
            chunk.losses[p] = l;
            if out_of_bounds(l, bound) || !x.iter().all(|v| v.is_finite()) {
                chunk.diverged_at[p] = 0;
            }
        }
        Some(chunk)
    }

    /// Advances every live path through updates `from..to` and records its loss at `to`.
    pub(crate) fn advance<M, S>(&mut self, ctx: &SegmentCtx<'_, M, S>, from: usize, to: usize)
    where
        M: SdeModel + ?Sized,
        S: Stepper<M>,
    {
        let dim = self.dim;
        let lrs = &ctx.lrs[from..to];
        for (p, ((x, rng), div)) in self
            .states
            .chunks_exact_mut(dim)
            .zip(&mut self.rngs)
            .zip(&mut self.diverged_at)
            .enumerate()
        {
            if *div != LIVE {
                continue;
            }
            // The path runs through the whole segment before the next one starts: its state,
            // RNG and scratch stay in L1 for the entire segment.
            let mut loss = self.losses[p];
            // A local copy of the generator: through `&mut` into the RNG vector the compiler
            // cannot rule out aliasing with the normals buffer, and reloads and stores the
            // 256-bit state around every draw.
            let mut local = rng.clone();
            for (k, &lr) in lrs.iter().enumerate() {
                for _ in 0..ctx.substeps {
                    for zi in self.z.iter_mut() {
                        *zi = StandardNormal.sample(&mut local);
                    }
                    ctx.stepper
                        .step(ctx.model, x, lr, ctx.ts, &self.z, &mut self.ws);
                }
                loss = ctx.model.loss(x);
                if out_of_bounds(loss, ctx.bound) {
                    *div = (from + k + 1) as u64;
                    break;
                }
            }
            *rng = local;
            if *div == LIVE && !x.iter().all(|v| v.is_finite()) {
                *div = to as u64;
            }
            self.losses[p] = loss;
        }
    }
}
