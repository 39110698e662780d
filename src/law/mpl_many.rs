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

use rayon::prelude::*;

use super::mpl_sweep::LANES;
use super::soe::{Grid, P_MAX, PowerSoe, TAIL, tail_sum};
use super::{LawError, LossLaw, MultiPowerLaw, check_grid, check_params, predict_each};
use crate::schedule::LrGrid;

/// One draw's parameters and running sums.
struct Draw<'a> {
    /// Position in the caller's list.
    index: usize,
    p: &'a [f64],
    ln_c: f64,
    soe: PowerSoe,
    /// Per node: `Σ_k w_k e^(−v_j Z_k)`.
    nodes: Vec<f64>,
    /// `Σ_k w_k z_k^m` for the closed-form tail.
    moments: [f64; TAIL],
    fixed: f64,
    pending: f64,
    out: Vec<f64>,
}

/// `ln(1/a_k) = γ ln η_k − ln C`, or `None` where `a_k = C η_k^(−γ)` is infinite (an LR cut to
/// zero with `γ > 0`, or an overflow), as [`super::mpl_sweep::Sweep`] decides with `powf`.
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
        if Grid::new(beta, range.0, range.1).is_none() {
            continue;
        }
        shared[i] = true;
        ranges.push((beta, range.0, range.1));
    }
    let p_max = ranges.iter().map(|r| r.0).fold(0.0, f64::max);
    let z_min = ranges.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let z_max = ranges.iter().map(|r| r.2).fold(0.0, f64::max);
    let Some(grid) = (ranges.len() >= 2)
        .then(|| Grid::new(p_max, z_min, z_max))
        .flatten()
    else {
        return predict_each(law, params, lrs, steps);
    };
    let mut draws: Vec<Draw<'_>> = params
        .iter()
        .enumerate()
        .filter(|(i, _)| shared[*i])
        .map(|(index, p)| Draw {
            index,
            p,
            ln_c: p[4].ln(),
            soe: PowerSoe::new(&grid, p[5]),
            nodes: vec![0.0; grid.len()],
            moments: [0.0; TAIL],
            fixed: 0.0,
            pending: 0.0,
            out: vec![0.0; steps.len()],
        })
        .collect();
    // Each thread runs the shared pass for its share of the draws; a draw's arithmetic does not
    // depend on which share it is in, so neither do the results.
    let per = draws.len().div_ceil(rayon::current_num_threads().max(1));
    let zero_area = draws
        .par_chunks_mut(per)
        .map(|chunk| run(&grid, chunk, lrs, last, steps))
        .reduce(|| None, |a, b| a.or(b));
    let rest: Vec<Vec<f64>> = params
        .iter()
        .zip(&shared)
        .filter(|(_, s)| !**s)
        .map(|(p, _)| p.clone())
        .collect();
    let mut others = predict_each(law, &rest, lrs, steps).into_iter();
    let mut draws = draws.into_iter();
    (0..params.len())
        .map(|i| {
            if shared[i] {
                let d = draws.next().expect("one state per shared draw");
                debug_assert_eq!(d.index, i);
                match zero_area {
                    Some(step) => Err(LawError::ZeroLrArea { law: "mpl", step }),
                    None => Ok(d.out),
                }
            } else {
                others.next().expect("one result per other draw")
            }
        })
        .collect()
}

/// The pass over `lrs[..last]` for `draws`; returns the first output step with no LR area (an
/// error for every draw), else fills each draw's `out`.
fn run(
    grid: &Grid,
    draws: &mut [Draw<'_>],
    lrs: &[f64],
    last: usize,
    steps: &[u64],
) -> Option<u64> {
    let n = grid.len();
    let (mut fresh, mut decay) = (vec![[0.0; 2 * LANES]; n], vec![[1.0; LANES]; n]);
    let mut decay_lrs = [0.0; LANES];
    let (mut area, mut prev) = (0.0, 0.0);
    let mut next_out = 0usize;
    for (block, chunk) in lrs[..last].chunks(LANES).enumerate() {
        let first = block * LANES;
        let mut block_lrs = [0.0; LANES];
        block_lrs[..chunk.len()].copy_from_slice(chunk);
        // Shared per update: the change, ln η, the area before and after it, the output slot.
        let mut diff = [0.0; LANES];
        let mut ln_lr = [0.0; LANES];
        let mut before = [0.0; LANES];
        let mut ln_area = [0.0; LANES];
        let mut slot = [None; LANES];
        for (l, &lr) in chunk.iter().enumerate() {
            diff[l] = prev - lr;
            prev = lr;
            if diff[l] != 0.0 {
                ln_lr[l] = lr.ln();
            }
            before[l] = area;
            area += lr;
            if steps.get(next_out) == Some(&((first + l) as u64 + 1)) {
                if area <= 0.0 {
                    return Some(steps[next_out]);
                }
                ln_area[l] = area.ln();
                slot[l] = Some((next_out, area));
                next_out += 1;
            }
        }
        if block_lrs != decay_lrs {
            grid.exps(block_lrs, &mut decay);
            decay_lrs = block_lrs;
        }
        // Two draws at a time: their entering terms' exponentials in one 8-lane call, whose
        // chains (serial in the node index) then have twice the independent work per step.
        for pair in draws.chunks_mut(2) {
            let mut x = [0.0; 2 * LANES];
            let mut preps = [Prep::default(); 2];
            for (i, d) in pair.iter_mut().enumerate() {
                preps[i] = prepare(d, chunk.len(), &diff, &ln_lr, &before);
                x[i * LANES..(i + 1) * LANES].copy_from_slice(&preps[i].inv_as);
            }
            if x.iter().any(|&v| v != 0.0) {
                grid.exps(x, &mut fresh);
            }
            for (i, d) in pair.iter_mut().enumerate() {
                let prep = &preps[i];
                let dots = advance(&mut d.nodes, &d.soe.coef, &fresh, i * LANES, &decay, prep.w);
                let &[l0, a, alpha, b, ..] = d.p else {
                    unreachable!("checked by check_params")
                };
                for (l, &lr) in chunk.iter().enumerate() {
                    if diff[l] != 0.0 {
                        if prep.entering[l] {
                            d.fixed += diff[l];
                        } else {
                            // G = 1 once any LR area follows, 0 before.
                            d.pending += diff[l];
                        }
                    }
                    if lr != 0.0 {
                        d.fixed += d.pending;
                        d.pending = 0.0;
                    }
                    if let Some((j, s1)) = slot[l] {
                        let e = dots[l] + tail_sum(&d.soe.tail, &prep.moments_at[l], s1);
                        d.out[j] = l0 + a * (-alpha * ln_area[l]).exp() - b * (d.fixed - e);
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

/// The entering terms of one block for draw `d`, and its tail moments after each lane.
fn prepare(
    d: &mut Draw<'_>,
    lanes: usize,
    diff: &[f64; LANES],
    ln_lr: &[f64; LANES],
    before: &[f64; LANES],
) -> Prep {
    let (beta, gamma) = (d.p[5], d.p[6]);
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

/// One block of updates for one draw: lane by lane, each node's sum takes the entering term
/// `w_l e^(−v_j / a)` (lanes `off..off + LANES` of `fresh`) and decays by `e^(−v_j η_l)`;
/// returns `Σ_j coef_j · sum_j` after each lane. Lanes without an entering term add 0 and
/// lanes without an LR area decay by `e^0 = 1`, both exact, so every lane takes the same path.
/// Node-major (the lanes of a node are adjacent in memory, and nodes are independent), with two
/// partial dot products to hide the adder's latency; a fixed order, so deterministic.
#[inline]
fn advance(
    nodes: &mut [f64],
    coef: &[f64],
    fresh: &[[f64; 2 * LANES]],
    off: usize,
    decay: &[[f64; LANES]],
    w: [f64; LANES],
) -> [f64; LANES] {
    let mut acc = [[0.0; LANES]; 2];
    for (j, (((h, c), f), e)) in nodes.iter_mut().zip(coef).zip(fresh).zip(decay).enumerate() {
        let acc = &mut acc[j & 1];
        let f = &f[off..off + LANES];
        let mut x = *h;
        for l in 0..LANES {
            x = (x + w[l] * f[l]) * e[l];
            acc[l] += c * x;
        }
        *h = x;
    }
    std::array::from_fn(|l| acc[0][l] + acc[1][l])
}
