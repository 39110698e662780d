//! Many parameter vectors of the `sde` law on one LR grid, through a table over the curvature.
//!
//! The law's excess loss separates by direction, and a direction sees the schedule only
//! through its curvature κ: `w_i = v_i P(κ_i) + s N(κ_i)` with `P(κ) = Π_t (1 − u_t κ)²` and
//! `N ← (1 − u κ)² N + u² κ`, `N(0) = 0`. A fit's band needs the law at ~200 parameter draws,
//! that is at ~12,800 curvatures, on one schedule. Instead of running the recursion once per
//! draw (`dim` directions each), it runs once on a uniform grid in `ln κ` that covers every
//! draw's curvatures, and each draw interpolates `P` and `N` (6-point Lagrange, error
//! `O(h⁶)`): the loss of a draw at a step is then one dot product with a row of the table.
//!
//! The table is only used where every factor `1 − u_t κ` lies in `[0, 1]`
//! (`κ ≤ lr_ref / max lr`, stencil included): there `P` and `N` are smooth and bounded by
//! 1 and `Σ u²κ`. A direction with a larger curvature (a steep law, or a schedule above the LR
//! the law was fitted on) is computed exactly, by the same recursion as `predict`, for its
//! draw alone.

use rayon::prelude::*;

use super::sde::SdeSurrogate;
use super::{LawError, LossLaw, check_grid, check_params, predict_each};
use crate::moments::dot;

/// Grid spacing in `ln κ`. The interpolation error is about `h⁶ max|f⁽⁶⁾| / 720 · 10`: with
/// `P = exp(−c e^x)`, `|f⁽⁶⁾| ≲ 300`, this is ≈ 6e-11 of a direction's initial excess at
/// `h = 0.05` (`tests/law_sde.rs` checks 1e-8 of the excess loss on fitted draws).
const SPACING: f64 = 0.1;

/// Fewer vectors than this are predicted one by one: the table costs about as much as
/// `2 · nodes / dim` predictions.
const MIN_VECTORS: usize = 16;

/// Most table entries (steps × 2 × nodes) held at once (32 MiB).
const MAX_TABLE: usize = 1 << 22;

/// Interpolation stencil: the `STENCIL` nodes around `x`, `HALF − 1` below its interval
/// `[x_f, x_{f+1})` and `HALF` above.
const STENCIL: usize = 10;
const HALF: usize = STENCIL / 2;

/// Lagrange weights of the nodes at offsets `1 − HALF ..= HALF` for a point at offset
/// `t ∈ [0, 1)`.
fn lagrange(t: f64) -> [f64; STENCIL] {
    let node = |a: usize| a as f64 + 1.0 - HALF as f64;
    let d: [f64; STENCIL] = std::array::from_fn(|a| t - node(a));
    // Prefix and suffix products of the differences leave out one factor each.
    let mut pre = [1.0; STENCIL];
    for a in 1..STENCIL {
        pre[a] = pre[a - 1] * d[a - 1];
    }
    let mut suf = [1.0; STENCIL];
    for a in (0..STENCIL - 1).rev() {
        suf[a] = suf[a + 1] * d[a + 1];
    }
    std::array::from_fn(|a| {
        let den: f64 = (0..STENCIL)
            .filter(|&b| b != a)
            .map(|b| node(a) - node(b))
            .product();
        pre[a] * suf[a] / den
    })
}

/// A draw split into its parts: level, spectrum, noise scale, and which directions are
/// interpolated (`x = ln κ` given) or computed exactly.
struct Draw {
    l0: f64,
    kappa: Vec<f64>,
    v: Vec<f64>,
    s: f64,
    /// `ln κ_i` of every direction, `None` for one computed exactly.
    x: Vec<Option<f64>>,
}

impl Draw {
    fn new(law: &SdeSurrogate, theta: &[f64], ln_i: &[f64], x_cap: f64) -> Self {
        let (kappa, v) = law.spectrum(theta[1], theta[2], theta[4], theta[5]);
        let x = ln_i
            .iter()
            .map(|li| {
                let x = theta[1] - theta[2] * li;
                (x + HALF as f64 * SPACING <= x_cap).then_some(x)
            })
            .collect();
        Self {
            l0: theta[0],
            kappa,
            v,
            s: theta[3].exp(),
            x,
        }
    }
}

/// The grid `x_k = x0 + k h`, `k < nodes`, and the table of `(P, N)` at every output step:
/// row `j` holds `P(x_k), N(x_k)` pairs, node after node.
struct Table {
    x0: f64,
    nodes: usize,
    rows: Vec<f64>,
}

impl Table {
    fn build(
        law: &SdeSurrogate,
        theta: &[f64],
        (x_min, x_max): (f64, f64),
        lrs: &[f64],
        steps: &[u64],
    ) -> Self {
        let x0 = x_min - HALF as f64 * SPACING;
        let nodes = ((x_max - x0) / SPACING).floor() as usize + HALF + 1;
        // Both entries of a pair follow w ← (1 − uκ)² w + u² sk: P with sk = 0 from 1, N with
        // sk = κ from 0.
        let kappa: Vec<f64> = (0..nodes)
            .flat_map(|k| [(x0 + k as f64 * SPACING).exp(); 2])
            .collect();
        let sk: Vec<f64> = kappa.chunks_exact(2).flat_map(|k| [0.0, k[1]]).collect();
        let mut w: Vec<f64> = (0..nodes).flat_map(|_| [1.0, 0.0]).collect();
        let width = 2 * nodes;
        let mut rows = vec![0.0; steps.len() * width];
        law.advance(theta, &kappa, &sk, &mut w, lrs, steps, |j, w| {
            rows[j * width..(j + 1) * width].copy_from_slice(w);
        });
        Self { x0, nodes, rows }
    }

    /// The draw's coefficients on the table columns (`½ κ v` on `P`, `½ κ s` on `N`, spread
    /// over each direction's stencil) and the column range they occupy.
    fn coefficients(&self, d: &Draw) -> (Vec<f64>, usize, usize) {
        let mut coef = vec![0.0; 2 * self.nodes];
        let (mut lo, mut hi) = (self.nodes, 0);
        for (i, x) in d.x.iter().enumerate() {
            let Some(x) = *x else { continue };
            let s = (x - self.x0) / SPACING;
            let f = s.floor();
            // s ≥ HALF and f + HALF < nodes by construction of the grid.
            let k0 = f as usize + 1 - HALF;
            let (a, b) = (0.5 * d.kappa[i] * d.v[i], 0.5 * d.kappa[i] * d.s);
            for (o, wt) in lagrange(s - f).into_iter().enumerate() {
                coef[2 * (k0 + o)] += a * wt;
                coef[2 * (k0 + o) + 1] += b * wt;
            }
            lo = lo.min(k0);
            hi = hi.max(k0 + STENCIL);
        }
        (coef, 2 * lo, 2 * hi.max(lo))
    }

    /// `out[j] += coef · row_j` over the columns `lo..hi`, four rows at a time: one load of
    /// `coef` serves four products, and four columns per row keep sixteen independent sums
    /// (a single running sum would wait on the adder's latency).
    fn accumulate(&self, coef: &[f64], lo: usize, hi: usize, out: &mut [f64]) {
        let width = 2 * self.nodes;
        let (cc, ct) = coef[lo..hi].as_chunks::<4>();
        let mut rows = self.rows.chunks_exact(width);
        let mut outs = out.chunks_exact_mut(4);
        for o in outs.by_ref() {
            let r: [(&[[f64; 4]], &[f64]); 4] = std::array::from_fn(|_| {
                rows.next().map_or(&[][..], |r| &r[lo..hi]).as_chunks::<4>()
            });
            let mut acc = [[0.0f64; 4]; 4];
            // Zipped iterators: no bounds checks, so the sums stay in vector registers.
            for ((((ck, r0), r1), r2), r3) in
                cc.iter().zip(r[0].0).zip(r[1].0).zip(r[2].0).zip(r[3].0)
            {
                for l in 0..4 {
                    acc[0][l] += ck[l] * r0[l];
                    acc[1][l] += ck[l] * r1[l];
                    acc[2][l] += ck[l] * r2[l];
                    acc[3][l] += ck[l] * r3[l];
                }
            }
            for q in 0..4 {
                let tail: f64 = ct.iter().zip(r[q].1).map(|(a, b)| a * b).sum();
                o[q] += (acc[q][0] + acc[q][1]) + (acc[q][2] + acc[q][3]) + tail;
            }
        }
        for (o, row) in outs.into_remainder().iter_mut().zip(rows) {
            *o += dot(&coef[lo..hi], &row[lo..hi]);
        }
    }
}

/// [`LossLaw::predict_many`] of the `sde` law (see the module docs).
pub(super) fn predict_many(
    law: &SdeSurrogate,
    params: &[Vec<f64>],
    lrs: &[f64],
    steps: &[u64],
) -> Vec<Result<Vec<f64>, LawError>> {
    let specs = law.params();
    let valid: Vec<bool> = params
        .iter()
        .map(|p| check_params("sde", &specs, p).is_ok())
        .collect();
    let n_valid = valid.iter().filter(|v| **v).count();
    let Ok(last) = check_grid("sde", lrs, steps, steps.len()) else {
        return predict_each(law, params, lrs, steps);
    };
    if law.lr_exponents() || n_valid < MIN_VECTORS {
        return predict_each(law, params, lrs, steps);
    }
    let dim = law.dim();
    let u_max = lrs[..last].iter().copied().fold(0.0, f64::max) / law.lr_ref();
    let x_cap = if u_max > 0.0 {
        -u_max.ln()
    } else {
        f64::INFINITY
    };
    let ln_i: Vec<f64> = (1..=dim).map(|i| (i as f64).ln()).collect();
    let draws: Vec<Option<Draw>> = params
        .iter()
        .zip(&valid)
        .map(|(p, &ok)| ok.then(|| Draw::new(law, p, &ln_i, x_cap)))
        .collect();
    let (mut x_min, mut x_max) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut n_exact = 0usize;
    for d in draws.iter().flatten() {
        for x in &d.x {
            match x {
                Some(x) => {
                    x_min = x_min.min(*x);
                    x_max = x_max.max(*x);
                }
                None => n_exact += 1,
            }
        }
    }
    // Work in direction-updates: the table's recursion and dot products against the
    // recursion of every draw.
    let nodes = if x_min <= x_max {
        ((x_max - x_min) / SPACING) as usize + 2 * HALF + 1
    } else {
        0
    };
    let m = steps.len();
    let table_cost =
        (2 * nodes) as f64 * (last + n_valid * m) as f64 + n_exact as f64 * (last + m) as f64;
    let exact_cost = (n_valid * dim) as f64 * (last + m) as f64;
    if nodes == 0 || table_cost >= exact_cost || 2 * nodes * m > MAX_TABLE {
        return predict_each(law, params, lrs, steps);
    }
    let theta0 = params
        .iter()
        .zip(&valid)
        .find_map(|(p, &ok)| ok.then_some(p.as_slice()))
        .unwrap_or_default();
    let table = Table::build(law, theta0, (x_min, x_max), lrs, steps);
    // Parallel over draws, collected in input order: independent of the thread count.
    draws
        .par_iter()
        .zip(params)
        .map(|(d, theta)| {
            let Some(d) = d else {
                // Invalid parameters: the same error `predict` gives.
                let mut out = vec![0.0; m];
                return law.predict(theta, lrs, steps, &mut out).map(|()| out);
            };
            let mut out = vec![d.l0; m];
            let exact: Vec<usize> = (0..dim).filter(|&i| d.x[i].is_none()).collect();
            if !exact.is_empty() {
                let kappa: Vec<f64> = exact.iter().map(|&i| d.kappa[i]).collect();
                let sk: Vec<f64> = kappa.iter().map(|k| d.s * k).collect();
                let mut w: Vec<f64> = exact.iter().map(|&i| d.v[i]).collect();
                law.advance(theta, &kappa, &sk, &mut w, lrs, steps, |j, w| {
                    out[j] += 0.5 * dot(&kappa, w);
                });
            }
            let (coef, lo, hi) = table.coefficients(d);
            table.accumulate(&coef, lo, hi, &mut out);
            Ok(out)
        })
        .collect()
}
