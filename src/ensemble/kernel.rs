//! The inner loop: a block of [`BLOCK`] paths advanced one segment (save point to save point) at
//! a time.
//!
//! Every block owns a [`Lanes`] generator whose lane `l` is path `first + l`'s own streams
//! ([`PathNormals`]): a path's normals depend only on `(seed, path index)`, never on the block it
//! sits in or the thread that runs it.
//!
//! Two kernels share that generator:
//!
//! * **rows** (models with a [`DiagonalForm`] under EM or Milstein — the NQM family, workload W):
//!   the block's state is stored dimension-major, one `[f64; BLOCK]` row per coordinate, so every
//!   operation is a loop over the block's paths on contiguous memory that LLVM vectorises. Per
//!   (sub)step: the normals of every coordinate and path in one generator pass
//!   ([`Lanes::fill_rows`]), then per coordinate the update and the loss accumulated on the fly
//!   (the divergence check needs the loss after every update; fused into the update it costs no
//!   extra pass over the state). The arithmetic repeats the generic model + stepper operations
//!   in the same order, so both kernels give identical bits. The segment runs under
//!   [`pulp::Arch::dispatch`], which compiles it again for AVX2 and for AVX-512 and picks a copy
//!   at run time ([`crate::simd::arch`]: the best the CPU has, unless `LRSDE_SIMD` caps it; a
//!   portable build otherwise only gets SSE2); without FMA contraction in Rust, every copy
//!   computes the same bits.
//! * **paths** (everything else): path after path through the whole segment with its state in
//!   L1, calling the model and stepper per step, as before.

use crate::model::{DiagonalForm, NqmDiffusion, SdeModel};
use crate::rng::{Lanes, Tables, tables};
use crate::solver::{Method, Stepper, TimeStep, Workspace};

/// `diverged_at` of a path that has not diverged.
pub(crate) const LIVE: u64 = u64::MAX;

/// Paths per block: the unit of parallel work and the SIMD width of the row kernel (32 paths ×
/// 32 coordinates of `f64` is 8 KiB, resident in L1). Results do not depend on it.
pub(crate) const BLOCK: usize = 32;

type Row = [f64; BLOCK];

/// Whether a loss marks its path as diverged: not finite (NaN included), or above the bound.
#[inline(always)]
fn out_of_bounds(loss: f64, bound: f64) -> bool {
    !loss.is_finite() || loss > bound
}

/// The block's path states in the layout of its kernel.
enum States {
    /// `rows[i][l]`: coordinate `i` of path `first + l` (row kernel).
    Rows(Vec<Row>),
    /// `paths[l * dim + i]` (path kernel).
    Paths(Vec<f64>),
}

/// A block of paths with everything they need resident: states, generator lanes, divergence
/// flags, the latest losses and scratch space. Allocated once per run, so the step loop never
/// allocates.
pub(crate) struct Block {
    /// Paths in use (`BLOCK` except in the last block); the other lanes run along unused.
    n: usize,
    dim: usize,
    rng: Lanes<BLOCK>,
    states: States,
    diverged_at: [u64; BLOCK],
    losses: Row,
    ws: Workspace,
    z: Vec<f64>,
    /// Row kernel scratch: one step's normals and their main-stream words, per coordinate.
    z_rows: Vec<Row>,
    words: Vec<[u64; BLOCK]>,
}

/// What every block needs to advance a segment.
pub(crate) struct SegmentCtx<'a, M: ?Sized, S> {
    pub model: &'a M,
    pub stepper: S,
    /// The model's closed form and the scheme, when the row kernel applies.
    pub fast: Option<(DiagonalForm<'a>, Method)>,
    pub lrs: &'a [f64],
    /// Per-update diffusion multipliers `√(B_ref/B_t)` of a batch schedule (aligned with `lrs`);
    /// `None`: no batch schedule.
    pub noise: Option<&'a [f64]>,
    pub ts: TimeStep,
    pub substeps: usize,
    pub bound: f64,
}

/// The closed form if the row kernel can run `model` with `stepper`: a built-in scheme and a
/// form whose shapes agree with the model's.
///
/// With a batch schedule (`batched`), the multiplicative `√(1+x²)` form takes the path kernel:
/// there the generic stepper scales `η s_i √(1+x_i²)` by `c` after the product, an order the
/// row kernel's per-row coefficient `η s_i c` cannot reproduce bit for bit.
pub(crate) fn fast_form<'a, M, S>(
    model: &'a M,
    stepper: &S,
    batched: bool,
) -> Option<(DiagonalForm<'a>, Method)>
where
    M: SdeModel + ?Sized,
    S: Stepper<M>,
{
    let form = model.diagonal_form()?;
    let method = stepper.method()?;
    if batched && form.momentum.is_none() && form.diffusion == NqmDiffusion::Sqrt1px2 {
        return None;
    }
    let d = form.curvature.len();
    let state = if form.momentum.is_some() { 2 * d } else { d };
    (form.noise_scale.len() == d && model.noise_dim() == d && model.dim() == state)
        .then_some((form, method))
}

impl Block {
    /// Paths `first..first + n` (`n <= BLOCK`), initialised, in the layout of the row kernel if
    /// `rows`. Returns `None` if memory cannot be reserved.
    pub(crate) fn new<M: SdeModel + ?Sized>(
        model: &M,
        seed: u64,
        first: usize,
        n: usize,
        bound: f64,
        rows: bool,
    ) -> Option<Self> {
        let dim = model.dim();
        let mut flat = Vec::new();
        flat.try_reserve_exact(BLOCK.checked_mul(dim)?).ok()?;
        flat.resize(BLOCK * dim, 0.0);
        let mut diverged_at = [LIVE; BLOCK];
        let mut losses = [0.0; BLOCK];
        for (l, x) in flat.chunks_exact_mut(dim).enumerate() {
            model.init(x);
            losses[l] = model.loss(x);
            if out_of_bounds(losses[l], bound) || !x.iter().all(|v| v.is_finite()) {
                diverged_at[l] = 0;
            }
        }
        let noise = model.noise_dim().min(dim);
        let (mut z_rows, mut words) = (Vec::new(), Vec::new());
        let states = if rows {
            let mut r = Vec::new();
            r.try_reserve_exact(dim).ok()?;
            r.extend((0..dim).map(|i| std::array::from_fn(|l| flat[l * dim + i])));
            z_rows.try_reserve_exact(noise).ok()?;
            z_rows.resize(noise, [0.0; BLOCK]);
            words.try_reserve_exact(noise).ok()?;
            words.resize(noise, [0; BLOCK]);
            States::Rows(r)
        } else {
            States::Paths(flat)
        };
        Some(Self {
            n,
            dim,
            rng: Lanes::new(seed, first as u64),
            states,
            diverged_at,
            losses,
            ws: Workspace::new(model),
            z: vec![0.0; noise],
            z_rows,
            words,
        })
    }

    /// `(loss, diverged_at)` of the block's paths, in path order.
    pub(crate) fn results(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.losses[..self.n]
            .iter()
            .copied()
            .zip(self.diverged_at[..self.n].iter().copied())
    }

    /// Advances every live path through updates `from..to` and records its loss at `to`.
    pub(crate) fn advance<M, S>(&mut self, ctx: &SegmentCtx<'_, M, S>, from: usize, to: usize)
    where
        M: SdeModel + ?Sized,
        S: Stepper<M>,
    {
        match (&ctx.fast, matches!(self.states, States::Rows(_))) {
            (Some((form, method)), true) => self.advance_rows(form, *method, ctx, from, to),
            _ => self.advance_paths(ctx, from, to),
        }
    }

    /// The row kernel over updates `from..to`.
    fn advance_rows<M: ?Sized, S>(
        &mut self,
        form: &DiagonalForm<'_>,
        method: Method,
        ctx: &SegmentCtx<'_, M, S>,
        from: usize,
        to: usize,
    ) {
        let States::Rows(rows) = &mut self.states else {
            return;
        };
        let mut live = 0u64;
        for (l, d) in self.diverged_at[..self.n].iter().enumerate() {
            live |= u64::from(*d == LIVE) << l;
        }
        if live == 0 {
            return;
        }
        let mut seg = RowSegment {
            rng: &mut self.rng,
            t: tables(),
            rows,
            z: &mut self.z_rows,
            words: &mut self.words,
            form,
            lrs: &ctx.lrs[from..to],
            noise: ctx.noise.map(|n| &n[from..to]),
            from,
            substeps: ctx.substeps,
            bound: ctx.bound,
            live,
            diverged_at: &mut self.diverged_at,
            losses: &mut self.losses,
        };
        let sqrt = form.diffusion == NqmDiffusion::Sqrt1px2;
        match (method, sqrt, form.momentum.is_some()) {
            (Method::Em, false, false) => seg.run::<false, false, false>(ctx.ts),
            (Method::Em, true, false) => seg.run::<false, true, false>(ctx.ts),
            (Method::Milstein, false, false) => seg.run::<true, false, false>(ctx.ts),
            (Method::Milstein, true, false) => seg.run::<true, true, false>(ctx.ts),
            (Method::Em, _, true) => seg.run::<false, false, true>(ctx.ts),
            (Method::Milstein, _, true) => seg.run::<true, false, true>(ctx.ts),
        }
        let live = seg.live;
        // A path whose loss stayed finite but whose state did not (a coordinate the loss does
        // not see) is caught at the save point, as in the path kernel.
        let mut bad = 0u64;
        for row in rows.iter() {
            for (l, v) in row.iter().enumerate() {
                bad |= u64::from(!v.is_finite()) << l;
            }
        }
        mark(&mut self.diverged_at, bad & live, to);
    }

    /// The path kernel over updates `from..to`.
    fn advance_paths<M, S>(&mut self, ctx: &SegmentCtx<'_, M, S>, from: usize, to: usize)
    where
        M: SdeModel + ?Sized,
        S: Stepper<M>,
    {
        let States::Paths(states) = &mut self.states else {
            return;
        };
        let dim = self.dim;
        let lrs = &ctx.lrs[from..to];
        let noise = ctx.noise.map(|n| &n[from..to]);
        for (l, (x, div)) in states
            .chunks_exact_mut(dim)
            .zip(&mut self.diverged_at)
            .take(self.n)
            .enumerate()
        {
            if *div != LIVE {
                continue;
            }
            // The path runs through the whole segment before the next one starts: its state,
            // stream and scratch stay in L1 for the entire segment.
            let mut loss = self.losses[l];
            let mut normals = self.rng.get(l);
            for (k, &lr) in lrs.iter().enumerate() {
                if let Some(n) = noise {
                    self.ws.noise = n[k];
                }
                for _ in 0..ctx.substeps {
                    normals.fill(&mut self.z);
                    ctx.stepper
                        .step(ctx.model, x, lr, ctx.ts, &self.z, &mut self.ws);
                }
                loss = ctx.model.loss(x);
                if out_of_bounds(loss, ctx.bound) {
                    *div = (from + k + 1) as u64;
                    break;
                }
            }
            self.rng.set(l, &normals);
            if *div == LIVE && !x.iter().all(|v| v.is_finite()) {
                *div = to as u64;
            }
            self.losses[l] = loss;
        }
    }
}

/// Records `step` as the divergence step of the lanes in `mask`.
fn mark(diverged_at: &mut [u64; BLOCK], mut mask: u64, step: usize) {
    while mask != 0 {
        let l = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        diverged_at[l] = step as u64;
    }
}

/// One segment of the row kernel.
struct RowSegment<'a, 'f> {
    rng: &'a mut Lanes<BLOCK>,
    t: &'static Tables,
    rows: &'a mut [Row],
    z: &'a mut [Row],
    words: &'a mut [[u64; BLOCK]],
    form: &'a DiagonalForm<'f>,
    lrs: &'a [f64],
    /// This segment's batch-schedule diffusion multipliers, if any.
    noise: Option<&'a [f64]>,
    from: usize,
    substeps: usize,
    bound: f64,
    /// Lanes (paths in use) that have not diverged.
    live: u64,
    diverged_at: &'a mut [u64; BLOCK],
    losses: &'a mut Row,
}

/// A row segment as a [`pulp::WithSimd`] operation: `with_simd` is instantiated once per
/// instruction set, and everything it calls is `#[inline(always)]` so it is compiled for that set.
struct Segment<'s, 'a, 'f, const MIL: bool, const SQRT: bool, const MOM: bool> {
    seg: &'s mut RowSegment<'a, 'f>,
    ts: TimeStep,
}

impl<const MIL: bool, const SQRT: bool, const MOM: bool> pulp::WithSimd
    for Segment<'_, '_, '_, MIL, SQRT, MOM>
{
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Self { seg, ts } = self;
        if seg.substeps == 1 {
            // dt = √dt = 1: the constant multiplications fold away (x·1 = x exactly).
            seg.steps::<MIL, SQRT, MOM>(1.0, 1.0, 0.5);
        } else {
            seg.steps::<MIL, SQRT, MOM>(ts.dt(), ts.sqrt_dt(), 0.5 * ts.dt());
        }
    }
}

impl RowSegment<'_, '_> {
    /// Runs the segment; `MIL`: Milstein (else EM), `SQRT`: `ψ(x) = √(1+x²)`, `MOM`: heavy ball.
    fn run<const MIL: bool, const SQRT: bool, const MOM: bool>(&mut self, ts: TimeStep) {
        crate::simd::arch().dispatch(Segment::<MIL, SQRT, MOM> { seg: self, ts });
    }

    /// Every update of the segment. Each expression mirrors, operation for operation, the
    /// generic [`EulerMaruyama`](crate::solver::EulerMaruyama) / [`Milstein`](crate::solver::Milstein)
    /// step on [`Nqm`](crate::model::Nqm) / [`Momentum`](crate::model::Momentum) and
    /// `quadratic_loss`, so the two kernels agree to the bit.
    #[inline(always)]
    fn steps<const MIL: bool, const SQRT: bool, const MOM: bool>(
        &mut self,
        dt: f64,
        sdt: f64,
        half_dt: f64,
    ) {
        let (h, s) = (self.form.curvature, self.form.noise_scale);
        let mu = self.form.momentum.unwrap_or(0.0);
        let d = h.len();
        let full = d - d % 4;
        let (xs, ps) = self.rows.split_at_mut(d);
        let t = self.t;
        for (k, &lr) in self.lrs.iter().enumerate() {
            let nc = self.noise.map_or(1.0, |n| n[k]);
            let mut acc = [[0.0; BLOCK]; 4];
            let mut tail = [0.0; BLOCK];
            for sub in 0..self.substeps {
                let last = sub + 1 == self.substeps;
                self.rng.fill_rows(t, self.z, self.words);
                // Coordinates four at a time, partial sum `j` for coordinate `4g + j`: the
                // order of `quadratic_loss`, with the four sums at fixed places (registers).
                let k = [mu, dt, sdt, half_dt];
                for g in 0..full / 4 {
                    for (j, dst) in acc.iter_mut().enumerate() {
                        let i = 4 * g + j;
                        update::<MIL, SQRT, MOM>(xs, ps, &self.z[i], i, lr, h[i], s[i], nc, k);
                        if last {
                            accumulate_loss(dst, &xs[i], h[i]);
                        }
                    }
                }
                for i in full..d {
                    update::<MIL, SQRT, MOM>(xs, ps, &self.z[i], i, lr, h[i], s[i], nc, k);
                    if last {
                        accumulate_loss(&mut tail, &xs[i], h[i]);
                    }
                }
            }
            let mut bad = 0u64;
            for l in 0..BLOCK {
                let loss = 0.5 * ((acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]) + tail[l]);
                self.losses[l] = loss;
                bad |= u64::from(out_of_bounds(loss, self.bound)) << l;
            }
            let newly = bad & self.live;
            if newly != 0 {
                mark(self.diverged_at, newly, self.from + k + 1);
                self.live &= !newly;
                if self.live == 0 {
                    return;
                }
            }
        }
    }
}

// The row updates work on local copies of the rows (registers, in effect) and store the result
// once: operating on `x` and `z` in place, LLVM could not prove that the two rows (both reached
// through `self`) do not overlap, fully unrolled the loop and kept it scalar.

/// Coordinate `i` of every path in the block through one (sub)step: the per-step coefficients
/// `η h_i`, `η s_i·c` once for the block (`c`: the batch schedule's diffusion multiplier, 1
/// without one: `x·1 = x` exactly), then the row update. `k = [μ, dt, √dt, dt/2]`; `ps` (the
/// previous iterates) is only read with momentum.
#[inline(always)]
#[allow(
    clippy::too_many_arguments,
    reason = "one row update's inputs, all by value"
)]
fn update<const MIL: bool, const SQRT: bool, const MOM: bool>(
    xs: &mut [Row],
    ps: &mut [Row],
    z: &Row,
    i: usize,
    lr: f64,
    hi: f64,
    si: f64,
    nc: f64,
    k: [f64; 4],
) {
    let [mu, dt, sdt, half_dt] = k;
    // `(η s_i)·c`: the generic steppers scale the model's `η s_i` by `c` in the same order.
    let (c, b) = (lr * hi, lr * si * nc);
    if MOM {
        momentum_row::<MIL>(&mut xs[i], &mut ps[i], z, [mu, c, b, dt, sdt, half_dt]);
    } else {
        diagonal_row::<MIL, SQRT>(&mut xs[i], z, [-c, b, b * b, dt, sdt, half_dt]);
    }
}

/// One coordinate of the NQM update over the block: `k = [−ηh_i, ηs_i, (ηs_i)², dt, √dt, dt/2]`.
#[inline(always)]
fn diagonal_row<const MIL: bool, const SQRT: bool>(x: &mut Row, z: &Row, k: [f64; 6]) {
    let [a, b, bb, dt, sdt, half_dt] = k;
    let (mut out, z) = (*x, *z);
    for (xl, &zi) in out.iter_mut().zip(&z) {
        let xi = *xl;
        let f = a * xi;
        let g = if SQRT { b * (1.0 + xi * xi).sqrt() } else { b };
        let mut inc = f * dt + g * sdt * zi;
        if MIL {
            let cc = if SQRT { bb * xi } else { 0.0 };
            inc += cc * half_dt * (zi * zi - 1.0);
        }
        *xl = xi + inc;
    }
    *x = out;
}

/// One coordinate of the heavy-ball update over the block (`p`: previous iterate):
/// `k = [μ, ηh_i, ηs_i, dt, √dt, dt/2]`.
#[inline(always)]
fn momentum_row<const MIL: bool>(x: &mut Row, p: &mut Row, z: &Row, k: [f64; 6]) {
    let [mu, c, b, dt, sdt, half_dt] = k;
    let (mut xo, mut po, z) = (*x, *p, *z);
    for ((xl, pl), &zi) in xo.iter_mut().zip(po.iter_mut()).zip(&z) {
        let (xi, pi) = (*xl, *pl);
        let v = xi - pi;
        let f = mu * v - c * xi;
        let mut inc = f * dt + b * sdt * zi;
        if MIL {
            inc += 0.0 * half_dt * (zi * zi - 1.0);
        }
        *xl = xi + inc;
        *pl = pi + v * dt;
    }
    (*x, *p) = (xo, po);
}

/// `dst += h_i x²` per path, in `quadratic_loss`'s operation order (`(h_i x) x`).
#[inline(always)]
fn accumulate_loss(dst: &mut Row, x: &Row, hi: f64) {
    let (mut out, x) = (*dst, *x);
    for (a, &xi) in out.iter_mut().zip(&x) {
        *a += hi * xi * xi;
    }
    *dst = out;
}
