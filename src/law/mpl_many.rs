//! The Multi-Power Law at many parameter vectors (a band's draws) in one pass over the steps.
//!
//! Run per draw, [`super::mpl_sweep`] spends half its exponentials on the per-update decay
//! `e^(−v_j η_t)`, which depends only on the schedule and the node grid. Here all draws run on
//! one grid covering every draw's range of `Z` (the kernel's error bound holds for any `Z` in a
//! grid's range, [`super::soe`]), so the decay exponentials, the LR changes, the LR area, `ln η`
//! and `ln S1` are computed once per update for all of them; only the entering terms'
//! exponentials `e^(−v_j / a_k)` and the running sums are per draw. The powers `a_k^(−β)`,
//! `1/a_k` and `S1^(−α)` come from the shared logarithms by one `exp` each instead of `powf`:
//! a few ulps of difference, far inside the kernel's stated `2e-8`.
//!
//! Draws with the same `(C, β, γ)` share one [`Kernel`] (the sum `LD`; each draw adds its own
//! `L0 + A S1^(−α) − B LD`): a band varies only the directions the data determine, so a fit with
//! these on bounds runs one kernel for all 200 draws. Kernels run in groups of [`GROUP`] with
//! their node sums interleaved, so the node loop is one 4-wide operation across kernels
//! (compiled again for AVX2 and AVX-512 and picked at run time, [`crate::simd::arch`]; without
//! FMA contraction every copy computes the same bits). Nodes that
//! every live term has outgrown (`v_j Z > U_MAX` for the smallest `Z`, that of the newest LR
//! change, once warmup's tiny LRs have aged) are dropped from the loop and zeroed, the same
//! criterion that ends the grid.

use std::collections::HashMap;

use rayon::prelude::*;

use super::mpl_sweep::LANES;
use super::soe::{Grid, P_MAX, PowerSoe, TAIL, tail_sum};
use super::{LawError, LossLaw, MultiPowerLaw, check_grid, check_params, predict_each};
use crate::schedule::LrGrid;

/// The annealing sum for one `(C, β, γ)`, shared by every draw with those values (a band varies
/// only the directions the data determine, so parameters on a bound are the same in every draw).
struct Kernel {
    beta: f64,
    gamma: f64,
    ln_c: f64,
    soe: PowerSoe,
    /// `Σ_k w_k z_k^m` for the closed-form tail.
    moments: [f64; TAIL],
    fixed: f64,
    pending: f64,
    /// `LD` at each output: the loss is `L0 + A S1^(−α) − B LD`.
    ld: Vec<f64>,
}

/// Kernels whose node sums are interleaved.
const GROUP: usize = 4;
/// Lanes of one group's entering exponentials: `LANES` updates × `GROUP` kernels,
/// `[l * GROUP + d]`.
const WIDE: usize = LANES * GROUP;

/// `GROUP` kernels (the last group padded with copies of its last kernel, whose results are
/// dropped) and their node sums.
struct Group {
    kernels: Vec<Kernel>,
    /// How many of `kernels` are real.
    real: usize,
    /// Per node, per kernel: `Σ_k w_k e^(−v_j Z_k)`.
    nodes: Vec<[f64; GROUP]>,
    /// Per node, per kernel: the weight `coef_j`.
    coef: Vec<[f64; GROUP]>,
}

/// `ln(1/a_k) = γ ln η_k − ln C`, or `None` where `a_k = C η_k^(−γ)` is infinite (an LR cut to
/// zero with `γ > 0`, or an overflow), as [`super::mpl_sweep::Sweep`] decides with `powf`.
#[inline(always)]
fn ln_inv_a(gamma: f64, ln_c: f64, ln_lr: f64) -> Option<f64> {
    let x = if gamma == 0.0 {
        -ln_c
    } else {
        gamma * ln_lr - ln_c
    };
    (-x < f64::MAX.ln()).then_some(x)
}

/// [`LossLaw::predict_many`] for the Multi-Power Law: draws the sum of exponentials applies to
/// go through one shared pass, the others through [`LossLaw::predict`] (which falls back to
/// the direct sum). Results in draw order, independent of the thread count.
pub(super) fn predict_many(
    law: &MultiPowerLaw,
    params: &[Vec<f64>],
    lrs: &LrGrid,
    steps: &[u64],
) -> Vec<Result<Vec<f64>, LawError>> {
    let Ok(last) = check_grid("mpl", lrs, steps, steps.len()) else {
        return predict_each(law, params, lrs, steps);
    };
    if last == 0 || params.len() < 2 {
        return predict_each(law, params, lrs, steps);
    }
    let specs = law.params();
    // The LRs of the updates that change it, for each draw's range of Z: 1/a_k + η_k grows
    // with η_k (γ ≥ 0), so the smallest and largest changed LR bound it.
    let (mut lo, mut lo_pos, mut hi, mut area, mut prev) =
        (f64::INFINITY, f64::INFINITY, 0.0f64, 0.0, 0.0);
    for &lr in &lrs[..last] {
        area += lr;
        if lr != prev {
            lo = lo.min(lr);
            hi = hi.max(lr);
            if lr > 0.0 {
                lo_pos = lo_pos.min(lr);
            }
        }
        prev = lr;
    }
    let mut ranges = Vec::new();
    let mut shared = vec![false; params.len()];
    for (i, p) in params.iter().enumerate() {
        if check_params("mpl", &specs, p).is_err() {
            continue;
        }
        let (c, beta, gamma) = (p[4], p[5], p[6]);
        if !(c > 0.0 && beta > 0.0 && beta <= P_MAX) {
            continue;
        }
        // Z ≥ 1/a_k + η_k over the changes with a finite a_k (all of them when γ = 0).
        let eta_lo = if gamma == 0.0 { lo } else { lo_pos };
        let range = if hi > 0.0 || gamma == 0.0 {
            let z_min = eta_lo.powf(gamma) / c + eta_lo;
            let z_max = hi.powf(gamma) / c + area;
            (z_min, z_max)
        } else {
            (1.0, 1.0)
        };
        if !(range.0.is_finite() && range.0 > 0.0 && range.1.is_finite()) {
            continue;
        }
        // A draw whose own grid would be refused goes to the direct sum, as in `predict`.
        if Grid::new(beta, beta, range.0, range.1).is_none() {
            continue;
        }
        shared[i] = true;
        ranges.push((beta, range.0, range.1));
    }
    let p_min = ranges.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
    let p_max = ranges.iter().map(|r| r.0).fold(0.0, f64::max);
    let z_min = ranges.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let z_max = ranges.iter().map(|r| r.2).fold(0.0, f64::max);
    let Some(grid) = (ranges.len() >= 2)
        .then(|| Grid::new(p_min, p_max, z_min, z_max))
        .flatten()
    else {
        return predict_each(law, params, lrs, steps);
    };
    // One kernel per distinct (C, β, γ), in order of first appearance.
    let mut keys: HashMap<[u64; 3], usize> = HashMap::new();
    let mut kernels: Vec<Kernel> = Vec::new();
    let kernel_of: Vec<usize> = params
        .iter()
        .zip(&shared)
        .map(|(p, &s)| {
            if !s {
                return usize::MAX;
            }
            let key = [p[4].to_bits(), p[5].to_bits(), p[6].to_bits()];
            *keys.entry(key).or_insert_with(|| {
                kernels.push(Kernel {
                    beta: p[5],
                    gamma: p[6],
                    ln_c: p[4].ln(),
                    soe: PowerSoe::new(&grid, p[5]),
                    moments: [0.0; TAIL],
                    fixed: 0.0,
                    pending: 0.0,
                    ld: vec![0.0; steps.len()],
                });
                kernels.len() - 1
            })
        })
        .collect();
    let mut groups = group(kernels, grid.len());
    // Each thread runs the shared pass for its share of the groups; a kernel's arithmetic does
    // not depend on which group or share it is in, so neither do the results.
    let per = groups.len().div_ceil(rayon::current_num_threads().max(1));
    let zero_area = groups
        .par_chunks_mut(per)
        .map(|chunk| {
            crate::simd::arch().dispatch(Pass {
                grid: &grid,
                groups: chunk,
                lrs,
                last,
                steps,
            })
        })
        .reduce(|| None, |a, b| a.or(b));
    let mut kernels: Vec<Kernel> = groups
        .into_iter()
        .flat_map(|g| g.kernels.into_iter().take(g.real))
        .collect();
    // ln S1 at each output: the same additions as the pass, so the same bits.
    let mut ln_areas = Vec::with_capacity(steps.len());
    let mut area = 0.0;
    let mut outs = steps.iter().peekable();
    for (i, &lr) in lrs[..last].iter().enumerate() {
        area += lr;
        if outs.next_if(|&&s| s == i as u64 + 1).is_some() {
            ln_areas.push(f64::ln(area));
        }
    }
    let mut uses = vec![0usize; kernels.len()];
    for &k in kernel_of.iter().filter(|&&k| k != usize::MAX) {
        uses[k] += 1;
    }
    let rest: Vec<Vec<f64>> = params
        .iter()
        .zip(&shared)
        .filter(|(_, s)| !**s)
        .map(|(p, _)| p.clone())
        .collect();
    let mut others = predict_each(law, &rest, lrs, steps).into_iter();
    (0..params.len())
        .map(|i| {
            if !shared[i] {
                return others.next().expect("one result per other draw");
            }
            if let Some(step) = zero_area {
                return Err(LawError::ZeroLrArea { law: "mpl", step });
            }
            let k = kernel_of[i];
            let &[l0, a, alpha, b, ..] = params[i].as_slice() else {
                unreachable!("checked by check_params")
            };
            let loss = |ld: f64, ln_s1: f64| l0 + a * (-alpha * ln_s1).exp() - b * ld;
            uses[k] -= 1;
            Ok(if uses[k] == 0 {
                // The kernel's last draw reuses its buffer.
                let mut out = std::mem::take(&mut kernels[k].ld);
                for (x, &ln_s1) in out.iter_mut().zip(&ln_areas) {
                    *x = loss(*x, ln_s1);
                }
                out
            } else {
                kernels[k]
                    .ld
                    .iter()
                    .zip(&ln_areas)
                    .map(|(&ld, &ln_s1)| loss(ld, ln_s1))
                    .collect()
            })
        })
        .collect()
}

/// The kernels in groups of [`GROUP`], their node weights interleaved.
fn group(kernels: Vec<Kernel>, n: usize) -> Vec<Group> {
    let mut groups = Vec::with_capacity(kernels.len().div_ceil(GROUP));
    let mut kernels = kernels.into_iter().peekable();
    while kernels.peek().is_some() {
        let mut members: Vec<Kernel> = kernels.by_ref().take(GROUP).collect();
        let real = members.len();
        while members.len() < GROUP {
            let last = &members[real - 1];
            members.push(Kernel {
                soe: last.soe.clone(),
                ld: vec![0.0; last.ld.len()],
                ..*last
            });
        }
        let coef = (0..n)
            .map(|j| std::array::from_fn(|d| members[d].soe.coef[j]))
            .collect();
        groups.push(Group {
            kernels: members,
            real,
            nodes: vec![[0.0; GROUP]; n],
            coef,
        });
    }
    groups
}

/// The pass for a share of the groups, as a [`pulp::WithSimd`] operation: compiled once per
/// instruction set, with everything it calls `#[inline(always)]`.
struct Pass<'g> {
    grid: &'g Grid,
    groups: &'g mut [Group],
    lrs: &'g [f64],
    last: usize,
    steps: &'g [u64],
}

impl pulp::WithSimd for Pass<'_> {
    type Output = Option<u64>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Option<u64> {
        run(self.grid, self.groups, self.lrs, self.last, self.steps)
    }
}

/// The pass over `lrs[..last]` for `groups`; returns the first output step with no LR area (an
/// error for every draw), else fills each kernel's `ld`.
#[inline(always)]
fn run(grid: &Grid, groups: &mut [Group], lrs: &[f64], last: usize, steps: &[u64]) -> Option<u64> {
    let n = grid.len();
    let (mut fresh, mut decay) = (vec![[0.0; WIDE]; n], vec![[1.0; LANES]; n]);
    let (mut decay_lrs, mut decay_len) = ([0.0; LANES], 0);
    let (mut area, mut prev) = (0.0, 0.0);
    // The LR area before the newest change: every term's `Z` is at least `area − newest`.
    let mut newest: Option<f64> = None;
    let mut live = 0usize;
    let mut next_out = 0usize;
    for (block, chunk) in lrs[..last].chunks(LANES).enumerate() {
        let first = block * LANES;
        let mut block_lrs = [0.0; LANES];
        block_lrs[..chunk.len()].copy_from_slice(chunk);
        // Shared per update: the change, ln η, the area before it, the output slot and `S1`.
        let mut diff = [0.0; LANES];
        let mut ln_lr = [0.0; LANES];
        let mut before = [0.0; LANES];
        let mut slot = [None; LANES];
        let mut z_lo = f64::INFINITY;
        for (l, &lr) in chunk.iter().enumerate() {
            diff[l] = prev - lr;
            prev = lr;
            if diff[l] != 0.0 {
                ln_lr[l] = lr.ln();
                newest = Some(area);
            }
            before[l] = area;
            area += lr;
            if let Some(b) = newest {
                z_lo = z_lo.min(area - b);
            }
            if steps.get(next_out) == Some(&((first + l) as u64 + 1)) {
                if area <= 0.0 {
                    return Some(steps[next_out]);
                }
                slot[l] = Some((next_out, area));
                next_out += 1;
            }
        }
        // Nodes no live term needs any more hold less than the grid's own truncation: zero them,
        // so that they start afresh if a smaller `Z` needs them again.
        let needed = if z_lo > 0.0 { grid.needed(z_lo) } else { n };
        if needed < live {
            for g in groups.iter_mut() {
                g.nodes[needed..live].fill([0.0; GROUP]);
            }
        }
        live = needed;
        if block_lrs != decay_lrs || decay_len < live {
            grid.exps(block_lrs, &mut decay[..live]);
            (decay_lrs, decay_len) = (block_lrs, live);
        }
        for g in groups.iter_mut() {
            let mut x = [0.0; WIDE];
            let mut w = [[0.0; GROUP]; LANES];
            let mut preps = [Prep::default(); GROUP];
            for (d, kernel) in g.kernels.iter_mut().enumerate() {
                let prep = prepare(kernel, chunk.len(), &diff, &ln_lr, &before);
                for l in 0..LANES {
                    x[l * GROUP + d] = prep.inv_as[l];
                    w[l][d] = prep.w[l];
                }
                preps[d] = prep;
            }
            if x.iter().any(|&v| v != 0.0) {
                grid.exps(x, &mut fresh[..live]);
            }
            let dots = advance(
                &mut g.nodes[..live],
                &g.coef[..live],
                &fresh[..live],
                &decay[..live],
                &w,
            );
            for (d, kernel) in g.kernels.iter_mut().enumerate() {
                let prep = &preps[d];
                for (l, &lr) in chunk.iter().enumerate() {
                    if diff[l] != 0.0 {
                        if prep.entering[l] {
                            kernel.fixed += diff[l];
                        } else {
                            // G = 1 once any LR area follows, 0 before.
                            kernel.pending += diff[l];
                        }
                    }
                    if lr != 0.0 {
                        kernel.fixed += kernel.pending;
                        kernel.pending = 0.0;
                    }
                    if let Some((j, s1)) = slot[l] {
                        let e = dots[l][d] + tail_sum(&kernel.soe.tail, &prep.moments_at[l], s1);
                        kernel.ld[j] = kernel.fixed - e;
                    }
                }
            }
        }
    }
    None
}

/// One draw's entering terms in a block of updates.
#[derive(Clone, Copy, Default)]
struct Prep {
    /// `1/a_k` per lane (0 without an entering term: `e^0 = 1`, weighted by 0).
    inv_as: [f64; LANES],
    /// `w_k = d_k a_k^(−β)` per lane (0 without an entering term).
    w: [f64; LANES],
    /// Whether the lane's LR change enters the sum (else its `G` is a step: `pending`).
    entering: [bool; LANES],
    /// The tail's moments as they stand after each lane (an output may follow any).
    moments_at: [[f64; TAIL]; LANES],
}

/// The entering terms of one block for kernel `d`, and its tail moments after each lane.
#[inline(always)]
fn prepare(
    d: &mut Kernel,
    lanes: usize,
    diff: &[f64; LANES],
    ln_lr: &[f64; LANES],
    before: &[f64; LANES],
) -> Prep {
    let (beta, gamma) = (d.beta, d.gamma);
    let mut prep = Prep::default();
    for l in 0..LANES {
        if l < lanes
            && diff[l] != 0.0
            && let Some(x) = ln_inv_a(gamma, d.ln_c, ln_lr[l])
        {
            let inv = x.exp();
            let w = diff[l] * (beta * x).exp();
            prep.inv_as[l] = inv;
            prep.w[l] = w;
            prep.entering[l] = true;
            let z = inv - before[l];
            let m = &mut d.moments;
            m[0] += w;
            m[1] += w * z;
            m[2] += w * z * z;
        }
        prep.moments_at[l] = d.moments;
    }
    prep
}

/// One block of updates for one group: lane by lane, each node's sum takes the entering term
/// `w e^(−v_j / a)` and decays by `e^(−v_j η_l)`; returns `Σ_j coef_j · sum_j` after each lane,
/// per draw. Lanes without an entering term add 0 and lanes without an LR area decay by
/// `e^0 = 1`, both exact, so every lane takes the same path. The innermost loop runs across the
/// group's draws (one vector operation); nodes are independent, so their chains overlap; the
/// summation order is fixed, so the result is deterministic.
#[inline(always)]
fn advance(
    nodes: &mut [[f64; GROUP]],
    coef: &[[f64; GROUP]],
    fresh: &[[f64; WIDE]],
    decay: &[[f64; LANES]],
    w: &[[f64; GROUP]; LANES],
) -> [[f64; GROUP]; LANES] {
    let mut acc = [[0.0; GROUP]; LANES];
    for (((h, c), f), e) in nodes.iter_mut().zip(coef).zip(fresh).zip(decay) {
        let mut x = *h;
        for l in 0..LANES {
            for d in 0..GROUP {
                x[d] = (x[d] + w[l][d] * f[l * GROUP + d]) * e[l];
                acc[l][d] += c[d] * x[d];
            }
        }
        *h = x;
    }
    acc
}
