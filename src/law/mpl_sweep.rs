//! The Multi-Power Law's annealing sum in one pass over the steps.
//!
//! `Σ_k d_k (1 + a_k S_k(t))^(−β)` with `a_k = C η_k^(−γ)` is `Σ_k w_k Z_k(t)^(−β)` with
//! `w_k = d_k a_k^(−β)` and `Z_k(t) = 1/a_k + S_k(t)`. Writing `Z^(−β)` as a sum of exponentials
//! in `Z` ([`super::soe`]), each node's share `Σ_k w_k e^(−v Z_k(t))` is a running sum that every
//! update multiplies by `e^(−v η_t)`, because `Z_k` grows by the LR of each update. So the sum at
//! every step costs `O(nodes)` per update instead of `O(LR changes)` per output.

use super::LawError;
use super::soe::{Grid, TAIL};

/// One LR change: `η_{k−1} − η_k` at 0-based update `k`, with `1/a_k` unless `a_k` is infinite
/// (an LR cut to zero: then `G` is a step function, not part of the sum).
#[derive(Debug, Clone, Copy)]
struct Change {
    index: usize,
    diff: f64,
    inv_a: Option<f64>,
}

/// The running sums at one output step, for `K` weightings of the changes.
pub(super) struct Sums<'a, const K: usize> {
    /// `S1`: the LR area so far.
    pub(super) area: f64,
    /// `Σ d_k` over the changes so far whose `G` is not constant 0, i.e. `LD = fixed − Σ d_k E_k`.
    pub(super) fixed: f64,
    /// Per weighting, per node: `Σ_k wt_k e^(−v_j Z_k)`.
    pub(super) nodes: &'a [Vec<f64>; K],
    /// Per weighting: `Σ_k wt_k z_k^m` with `Z_k = area + z_k`, for the closed-form tail.
    pub(super) moments: &'a [[f64; TAIL]; K],
}

/// The grid and LR changes for one parameter vector, or `None` where the sum of exponentials
/// does not apply (`C ≤ 0`, an exponent outside `(0, P_MAX]`, a `Z` range too wide).
pub(super) struct Sweep {
    grid: Grid,
    changes: Vec<Change>,
}

impl Sweep {
    /// Prepares a sweep over `lrs[..last]` for `C = c`, `γ = gamma` and exponents in
    /// `[p_min, p_max]`.
    pub(super) fn new(
        lrs: &[f64],
        last: usize,
        c: f64,
        gamma: f64,
        p_min: f64,
        p_max: f64,
    ) -> Option<Self> {
        // Parameters are finite (checked by the caller).
        if c <= 0.0 {
            return None;
        }
        let mut changes = Vec::new();
        let (mut z_min, mut inv_max) = (f64::INFINITY, 0.0f64);
        let mut prev = 0.0;
        let mut area = 0.0;
        for (index, &lr) in lrs[..last].iter().enumerate() {
            area += lr;
            let diff = prev - lr;
            prev = lr;
            if diff == 0.0 {
                continue;
            }
            let scale = c * lr.powf(-gamma);
            let inv_a = scale.is_finite().then(|| 1.0 / scale);
            if let Some(inv) = inv_a {
                // Z_k ≥ 1/a_k + η_k: the area of update k itself is always in S_k.
                z_min = z_min.min(inv + lr);
                inv_max = inv_max.max(inv);
            }
            changes.push(Change { index, diff, inv_a });
        }
        let grid = if z_min.is_finite() {
            Grid::new(p_min, p_max, z_min, inv_max + area)?
        } else {
            Grid::new(p_min, p_max, 1.0, 1.0)?
        };
        Some(Self { grid, changes })
    }

    /// The grid the sums are on.
    pub(super) fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Runs the recursion; at each requested step calls `emit(output index, sums)`.
    /// `weights(η_k, d_k, 1/a_k)` gives change `k`'s `K` weights.
    pub(super) fn run<const K: usize>(
        &self,
        lrs: &[f64],
        steps: &[u64],
        weights: impl Fn(f64, f64, f64) -> [f64; K],
        mut emit: impl FnMut(usize, &Sums<'_, K>) -> Result<(), LawError>,
    ) -> Result<(), LawError> {
        let grid = &self.grid;
        let n = grid.len();
        let mut nodes: [Vec<f64>; K] = std::array::from_fn(|_| vec![0.0; n]);
        let mut moments = [[0.0; TAIL]; K];
        // The exponentials of four updates at a time (see `Grid::exps`).
        let (mut fresh, mut decay) = (vec![[0.0; LANES]; n], vec![[1.0; LANES]; n]);
        let mut decay_lrs = [0.0; LANES];
        let (mut area, mut fixed, mut pending) = (0.0, 0.0, 0.0);
        let mut changes = self.changes.iter().peekable();
        let mut next_out = 0usize;
        let last = steps.last().map_or(0, |&s| s as usize);
        for (block, lrs) in lrs[..last].chunks(LANES).enumerate() {
            let first = block * LANES;
            let mut block_lrs = [0.0; LANES];
            block_lrs[..lrs.len()].copy_from_slice(lrs);
            let mut block_changes = [None; LANES];
            let mut inv_as = [0.0; LANES];
            for (l, slot) in block_changes.iter_mut().enumerate().take(lrs.len()) {
                *slot = changes.next_if(|ch| ch.index == first + l);
                if let Some(Change {
                    inv_a: Some(inv), ..
                }) = slot
                {
                    inv_as[l] = *inv;
                }
            }
            if inv_as.iter().any(|&x| x != 0.0) {
                grid.exps(inv_as, &mut fresh);
            }
            if block_lrs != decay_lrs {
                grid.exps(block_lrs, &mut decay);
                decay_lrs = block_lrs;
            }
            for (l, &lr) in lrs.iter().enumerate() {
                match block_changes[l] {
                    Some(&Change {
                        diff,
                        inv_a: Some(inv_a),
                        ..
                    }) => {
                        let wt = weights(lr, diff, inv_a);
                        for (h, &w) in nodes.iter_mut().zip(&wt) {
                            for (h, f) in h.iter_mut().zip(&fresh) {
                                *h += w * f[l];
                            }
                        }
                        let z = inv_a - area;
                        for (m, &w) in moments.iter_mut().zip(&wt) {
                            m[0] += w;
                            m[1] += w * z;
                            m[2] += w * z * z;
                        }
                        fixed += diff;
                    }
                    // G = 1 once any LR area follows, 0 before.
                    Some(&Change {
                        diff, inv_a: None, ..
                    }) => pending += diff,
                    None => {}
                }
                if lr != 0.0 {
                    for h in nodes.iter_mut() {
                        for (h, d) in h.iter_mut().zip(&decay) {
                            *h *= d[l];
                        }
                    }
                    fixed += pending;
                    pending = 0.0;
                }
                area += lr;
                if steps.get(next_out) == Some(&((first + l) as u64 + 1)) {
                    emit(
                        next_out,
                        &Sums {
                            area,
                            fixed,
                            nodes: &nodes,
                            moments: &moments,
                        },
                    )?;
                    next_out += 1;
                }
            }
        }
        Ok(())
    }
}

/// Updates whose exponentials are computed together.
pub(super) const LANES: usize = 4;

/// `Σ_j coef_j x_j`.
#[inline]
pub(super) fn dot(coef: &[f64], x: &[f64]) -> f64 {
    // Four partial sums: vectorises, and fixes the summation order (determinism).
    let mut acc = [0.0; 4];
    let (c4, ct) = coef.split_at(coef.len() / 4 * 4);
    let (x4, xt) = x.split_at(c4.len());
    for (c, x) in c4.chunks_exact(4).zip(x4.chunks_exact(4)) {
        for l in 0..4 {
            acc[l] += c[l] * x[l];
        }
    }
    let tail: f64 = ct.iter().zip(xt).map(|(c, x)| c * x).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
