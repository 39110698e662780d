//! Many parameter vectors of the `sde` law on one LR grid, through a table over the curvature.
//!
//! The law's excess loss separates by direction, and a direction sees the schedule only
//! through its curvature κ: `w_i = v_i P(κ_i) + s N(κ_i)` with `P(κ) = Π_t (1 − u_t κ)²` and
//! `N ← (1 − u κ)² N + u² κ`, `N(0) = 0`. A fit's band needs the law at ~200 parameter draws,
//! that is at ~12,800 curvatures, on one schedule. Instead of running the recursion once per
//! draw (`dim` directions each), it runs once on a uniform grid in `ln κ` that covers every
//! draw's curvatures, and each draw interpolates `P` and `N` (10-point Lagrange): the loss of
//! a draw at a step is then one dot product with a row of the table.
//!
//! The table is only used where every factor `1 − u_t κ` lies in `[0, 1]`
//! (`κ ≤ lr_ref / max lr`, stencil included): there `P` and `N` are smooth and bounded by
//! 1 and `Σ u²κ`. A direction with a larger curvature (a steep law, or a schedule above the LR
//! the law was fitted on) is computed exactly, by the same recursion as `predict`, for its
//! draw alone.

use rayon::prelude::*;

use super::sde::SdeSurrogate;
use super::{LawError, LossLaw, check_grid, check_params, predict_each};
use crate::nqm::dot;
use crate::schedule::LrGrid;

/// Grid spacing in `ln κ`. `P(x) = F(x + ln S)` keeps its shape as the LR area `S` grows,
/// so one spacing serves every step. Measured on the draws of the bundled fit over six
/// schedules: at most 3.6e-10 of the excess loss with 10 points at 0.1 (a 6-point stencil
/// needs 0.05 for 2e-9, and falls as `h⁶`); `tests/law_sde.rs` and `tests/rank_band.rs` check
/// 1e-8. Wider spacing trades accuracy for nodes: 12 points at 0.15 measured 3.7e-9.
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
    std::array::from_fn(|a| pre[a] * suf[a] * INV_DEN[a])
}

/// `1 / ∏_{b≠a} (x_a − x_b)` for the stencil's nodes (spacing 1).
const INV_DEN: [f64; STENCIL] = {
    let mut out = [1.0; STENCIL];
    let mut a = 0;
    while a < STENCIL {
        let mut b = 0;
        while b < STENCIL {
            if b != a {
                out[a] *= a as f64 - b as f64;
            }
            b += 1;
        }
        out[a] = 1.0 / out[a];
        a += 1;
    }
    out
};

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
/// row `j` holds `P(x_k), N(x_k)` pairs, node after node. Rows are stored four at a time,
/// interleaved (`blocks[(b · width + column) · 4 + q]` is row `4b + q`, zero past the last
/// row), so that a product with a coefficient vector runs along four rows at once.
struct Table {
    x0: f64,
    nodes: usize,
    blocks: Vec<f64>,
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
        let mut blocks = vec![0.0; steps.len().div_ceil(4) * 4 * width];
        law.advance(theta, &kappa, &sk, &mut w, lrs, steps, |j, w| {
            let (b, q) = (j / 4, j % 4);
            let block = &mut blocks[b * 4 * width..(b + 1) * 4 * width];
            for (t, &v) in block.chunks_exact_mut(4).zip(w) {
                t[q] = v;
            }
        });
        Self { x0, nodes, blocks }
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

    /// Rows `4b .. 4b + 4` of the table, columns `lo..hi`, interleaved.
    fn block(&self, b: usize, lo: usize, hi: usize) -> &[f64] {
        let start = b * 8 * self.nodes;
        &self.blocks[start + 4 * lo..start + 4 * hi]
    }

    /// `out[j] += coef · row_j` over the columns `lo..hi`.
    fn accumulate(&self, coef: &[f64], lo: usize, hi: usize, out: &mut [f64]) {
        for (b, o) in out.chunks_mut(4).enumerate() {
            for (o, v) in o
                .iter_mut()
                .zip(dots4(&coef[lo..hi], self.block(b, lo, hi)))
            {
                *o += v;
            }
        }
    }
}

/// `c · row_q` for the four interleaved rows of `t` (`t[4k + q]` is column `k` of row `q`):
/// each coefficient multiplies four rows at once (whole vectors, no shuffles), and four
/// columns in flight keep sixteen independent sums (one running sum would wait on the adder's
/// latency).
fn dots4(c: &[f64], t: &[f64]) -> [f64; 4] {
    let (cc, ct) = c.as_chunks::<4>();
    let (tt, tr) = t.as_chunks::<16>();
    let mut acc = [[0.0f64; 4]; 4];
    // Zipped iterators: no bounds checks, so the sums stay in vector registers.
    for (ck, tk) in cc.iter().zip(tt) {
        for u in 0..4 {
            for q in 0..4 {
                acc[u][q] += ck[u] * tk[4 * u + q];
            }
        }
    }
    let mut out: [f64; 4] =
        std::array::from_fn(|q| (acc[0][q] + acc[1][q]) + (acc[2][q] + acc[3][q]));
    for (ck, tk) in ct.iter().zip(tr.chunks_exact(4)) {
        for q in 0..4 {
            out[q] += ck * tk[q];
        }
    }
    out
}

/// One draw of [`predict_many`]: the loss without the table's part (`L0` plus the exactly
/// computed directions) at every step, and its coefficients on the table columns `lo..hi`.
struct Part {
    base: Vec<f64>,
    coef: Vec<f64>,
    lo: usize,
    hi: usize,
}

/// [`LossLaw::predict_many`] of the `sde` law (see the module docs).
pub(super) fn predict_many(
    law: &SdeSurrogate,
    params: &[Vec<f64>],
    lrs: &LrGrid,
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
    // Each draw's exact directions and table coefficients, in parallel, collected in draw
    // order (independent of the thread count).
    let parts: Vec<Option<Part>> = draws
        .par_iter()
        .zip(params)
        .map(|(d, theta)| {
            let d = d.as_ref()?;
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
            Some(Part {
                base: out,
                coef,
                lo,
                hi,
            })
        })
        .collect();
    // The products draw × row, four rows at a time with the draws inside: the four rows stay
    // in L1 while the coefficients stream by. Parallel over blocks of rows.
    let n_draws = params.len();
    let blocks: Vec<Vec<[f64; 4]>> = (0..m.div_ceil(4))
        .into_par_iter()
        .map(|b| {
            parts
                .iter()
                .map(|p| match p {
                    Some(p) => dots4(&p.coef[p.lo..p.hi], table.block(b, p.lo, p.hi)),
                    None => [0.0; 4],
                })
                .collect()
        })
        .collect();
    debug_assert!(blocks.iter().all(|b| b.len() == n_draws));
    parts
        .into_iter()
        .zip(params)
        .enumerate()
        .map(|(k, (part, theta))| {
            let Some(Part { base: mut out, .. }) = part else {
                // Invalid parameters: the same error `predict` gives.
                let mut out = vec![0.0; m];
                return law.predict(theta, lrs, steps, &mut out).map(|()| out);
            };
            for (j, o) in out.iter_mut().enumerate() {
                *o += blocks[j / 4][k][j % 4];
            }
            Ok(out)
        })
        .collect()
}

/// Lagrange weights as [`lagrange`] and their derivatives by `t`.
fn lagrange_with_derivative(t: f64) -> ([f64; STENCIL], [f64; STENCIL]) {
    let node = |a: usize| a as f64 + 1.0 - HALF as f64;
    let d: [f64; STENCIL] = std::array::from_fn(|a| t - node(a));
    let mut w = [0.0; STENCIL];
    let mut dw = [0.0; STENCIL];
    for a in 0..STENCIL {
        // ∏_{c≠a} (t − x_c) and its derivative by t, factor by factor (product rule).
        let (mut prod, mut dprod) = (1.0, 0.0);
        for c in (0..STENCIL).filter(|&c| c != a) {
            dprod = dprod * d[c] + prod;
            prod *= d[c];
        }
        w[a] = prod * INV_DEN[a];
        dw[a] = dprod * INV_DEN[a];
    }
    (w, dw)
}

/// One curve of a [`Tabulated`] law: its grid (borrowed from the curve) and table, and the
/// range of `ln κ` the table interpolates.
struct CurveTable<'a> {
    lrs: &'a [f64],
    steps: &'a [u64],
    table: Table,
    x_range: (f64, f64),
}

/// The `sde` law on a fixed set of curves, through one table over the curvature per curve:
/// the fit's search evaluates the law hundreds of times on the same LR grids, and a
/// prediction or Jacobian from the table costs a few dot products per observed point instead
/// of the recursion over every update.
///
/// The table spans the curvatures the law's bounds allow (`log_kappa_max`, `p`), up to the
/// stability cap `κ ≤ lr_ref / max lr` of the curve; directions outside that are computed
/// exactly. Predictions agree with the law to about 1e-9 of the excess loss, Jacobians (from
/// the derivative of the interpolant) to about 1e-7: enough to find the optimum, not to report
/// it; the fitter polishes the result with the exact law (see `fit_law`). A grid that is not
/// one of the curves' is predicted by the law itself.
pub(crate) struct Tabulated<'a> {
    law: &'a SdeSurrogate,
    curves: Vec<CurveTable<'a>>,
}

impl<'a> Tabulated<'a> {
    /// Tables for `curves` (built in parallel, one per curve), or `None` for a law with LR
    /// exponents (the exponents change the recursion itself), curves whose batch changes the
    /// noise (the tables hold the recursion at the reference batch; the law follows a ramp as
    /// `sim:model=nqm` does) or curves that fail the law's input checks.
    pub(crate) fn new(
        law: &'a SdeSurrogate,
        curves: &'a [crate::data::TrainingCurve],
    ) -> Option<Self> {
        let ramped = curves
            .iter()
            .any(|c| c.batch.as_ref().is_some_and(|b| !law.neutral(b)));
        if law.lr_exponents() || ramped {
            return None;
        }
        let specs = law.params();
        let ((lk_lo, lk_hi), (p_lo, p_hi)) = (
            (specs[1].lower, specs[1].upper),
            (specs[2].lower, specs[2].upper),
        );
        let ln_dim = (law.dim() as f64).ln();
        // x = ln κ_i = log_kappa_max − p ln i over the box and i = 1..=dim.
        let x_min = lk_lo - p_hi.max(0.0) * ln_dim;
        let x_max = lk_hi - p_lo.min(0.0) * ln_dim;
        let centre: Vec<f64> = specs.iter().map(|s| 0.5 * (s.lower + s.upper)).collect();
        let tables: Vec<Option<CurveTable<'a>>> = curves
            .par_iter()
            .map(|c| {
                let last = check_grid("sde", &c.lrs, &c.steps, c.steps.len()).ok()?;
                let u_max = c.lrs[..last].iter().copied().fold(0.0, f64::max) / law.lr_ref();
                let x_cap = if u_max > 0.0 {
                    -u_max.ln()
                } else {
                    f64::INFINITY
                };
                let hi = x_max.min(x_cap - HALF as f64 * SPACING);
                let range = (x_min, hi.max(x_min));
                Some(CurveTable {
                    lrs: &c.lrs,
                    steps: &c.steps,
                    table: Table::build(law, &centre, range, &c.lrs, &c.steps),
                    x_range: (x_min, hi),
                })
            })
            .collect();
        Some(Self {
            law,
            curves: tables.into_iter().collect::<Option<Vec<_>>>()?,
        })
    }

    /// The table of the curve with exactly this grid.
    fn find(&self, lrs: &[f64], steps: &[u64]) -> Option<&CurveTable<'a>> {
        // The fitter passes the curves' own slices: pointer equality is the fast path.
        self.curves.iter().find(|c| {
            (std::ptr::eq(c.lrs, lrs) || c.lrs == lrs)
                && (std::ptr::eq(c.steps, steps) || c.steps == steps)
        })
    }

    /// The draw-like split of `theta` for table `ct`: directions inside its range are
    /// interpolated, the others computed exactly.
    fn split(&self, ct: &CurveTable<'_>, theta: &[f64]) -> Draw {
        let (kappa, v) = self.law.spectrum(theta[1], theta[2], theta[4], theta[5]);
        let x = (1..=self.law.dim())
            .map(|i| {
                let x = theta[1] - theta[2] * (i as f64).ln();
                (x >= ct.x_range.0 && x <= ct.x_range.1).then_some(x)
            })
            .collect();
        Draw {
            l0: theta[0],
            kappa,
            v,
            s: theta[3].exp(),
            x,
        }
    }
}

impl LossLaw for Tabulated<'_> {
    fn name(&self) -> &'static str {
        self.law.name()
    }

    fn params(&self) -> Vec<super::ParamSpec> {
        self.law.params()
    }

    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let Some(ct) = self.find(lrs, steps) else {
            return self.law.predict(params, lrs, steps, out);
        };
        super::check_inputs("sde", &self.law.params(), params, lrs, steps, out)?;
        let d = self.split(ct, params);
        out.fill(d.l0);
        let exact: Vec<usize> = (0..d.x.len()).filter(|&i| d.x[i].is_none()).collect();
        if !exact.is_empty() {
            let kappa: Vec<f64> = exact.iter().map(|&i| d.kappa[i]).collect();
            let sk: Vec<f64> = kappa.iter().map(|k| d.s * k).collect();
            let mut w: Vec<f64> = exact.iter().map(|&i| d.v[i]).collect();
            self.law
                .advance(params, &kappa, &sk, &mut w, lrs, steps, |j, w| {
                    out[j] += 0.5 * dot(&kappa, w);
                });
        }
        let (coef, lo, hi) = ct.table.coefficients(&d);
        ct.table.accumulate(&coef, lo, hi, out);
        Ok(())
    }

    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        let Some(ct) = self.find(lrs, steps) else {
            return self.law.predict_jacobian(params, lrs, steps, out, jac);
        };
        let specs = self.law.params();
        super::check_inputs("sde", &specs, params, lrs, steps, out)?;
        let np = specs.len();
        if jac.len() != steps.len() * np {
            return Err(LawError::OutputLength {
                law: "sde",
                expected: steps.len() * np,
                found: jac.len(),
            });
        }
        let d = self.split(ct, params);
        let m = steps.len();
        // Columns of the Jacobian, then the prediction: value, ∂/∂log_kappa_max, ∂/∂p,
        // ∂/∂log_s, ∂/∂log_w0, ∂/∂q (∂/∂L0 = 1).
        let mut cols = vec![vec![0.0; m]; 6];
        let exact: Vec<usize> = (0..d.x.len()).filter(|&i| d.x[i].is_none()).collect();
        if !exact.is_empty() {
            self.law.jacobian_sums(params, &exact, lrs, steps, |j, g| {
                cols[0][j] += 0.5 * g[0];
                for k in 1..6 {
                    cols[k][j] += g[k];
                }
            });
        }
        let table = &ct.table;
        let width = 2 * table.nodes;
        let mut coef = vec![vec![0.0; width]; 6];
        let (mut lo, mut hi) = (table.nodes, 0);
        for (i, x) in d.x.iter().enumerate() {
            let Some(x) = *x else { continue };
            let s = (x - table.x0) / SPACING;
            let f = s.floor();
            let k0 = f as usize + 1 - HALF;
            let (w, dw) = lagrange_with_derivative(s - f);
            // ½ κ v on P and ½ κ s on N; κ = e^x, so ∂/∂x of a coefficient is the coefficient.
            let (a, b) = (0.5 * d.kappa[i] * d.v[i], 0.5 * d.kappa[i] * d.s);
            let ln_i = ((i + 1) as f64).ln();
            for o in 0..STENCIL {
                let (p, n) = (2 * (k0 + o), 2 * (k0 + o) + 1);
                let (wv, wx) = (w[o], w[o] + dw[o] / SPACING);
                coef[0][p] += a * wv;
                coef[0][n] += b * wv;
                coef[1][p] += a * wx;
                coef[1][n] += b * wx;
                coef[2][p] -= ln_i * a * wx;
                coef[2][n] -= ln_i * b * wx;
                coef[3][n] += b * wv;
                coef[4][p] += a * wv;
                coef[5][p] -= ln_i * a * wv;
            }
            lo = lo.min(k0);
            hi = hi.max(k0 + STENCIL);
        }
        let (lo, hi) = (2 * lo, 2 * hi.max(lo));
        for (c, col) in coef.iter().zip(cols.iter_mut()) {
            table.accumulate(c, lo, hi, col);
        }
        for (j, (o, row)) in out.iter_mut().zip(jac.chunks_exact_mut(np)).enumerate() {
            *o = d.l0 + cols[0][j];
            row[0] = 1.0;
            for k in 1..6 {
                row[k] = cols[k][j];
            }
        }
        Ok(true)
    }

    fn configure(&mut self, _: &[crate::data::TrainingCurve]) -> Result<(), LawError> {
        // Tabulated for an already configured law: its scales are fixed.
        Ok(())
    }

    fn initial_guesses(&self, curves: &[crate::data::TrainingCurve]) -> Vec<Vec<f64>> {
        self.law.initial_guesses(curves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TrainingCurve;

    fn curves() -> Vec<TrainingCurve> {
        let n = 3000;
        let peak = 3e-4;
        let warm = |t: usize| peak * (t + 1) as f64 / 100.0;
        let cosine: Vec<f64> = (0..n)
            .map(|t| {
                if t < 100 {
                    warm(t)
                } else {
                    let x = (t - 100) as f64 / (n - 100) as f64;
                    peak * (0.1 + 0.45 * (1.0 + (std::f64::consts::PI * x).cos()))
                }
            })
            .collect();
        let constant: Vec<f64> = (0..n)
            .map(|t| if t < 100 { warm(t) } else { peak })
            .collect();
        [("cosine", cosine), ("constant", constant)]
            .into_iter()
            .map(|(name, lrs)| TrainingCurve {
                name: name.into(),
                steps: (1..=30).map(|k| 100 * k).collect(),
                losses: vec![3.0; 30],
                lrs: crate::schedule::LrGrid::new(lrs).unwrap(),
                batch: None,
            })
            .collect()
    }

    #[test]
    fn lagrange_weights_reproduce_polynomials_and_their_derivatives() {
        for t in [0.0, 0.3, 0.999] {
            let (w, dw) = lagrange_with_derivative(t);
            for (a, b) in w.iter().zip(lagrange(t)) {
                assert!((a - b).abs() < 1e-15);
            }
            for deg in 0..STENCIL as i32 {
                let f = |x: f64| x.powi(deg);
                let nodes = (0..STENCIL).map(|a| a as f64 + 1.0 - HALF as f64);
                let (v, d): (f64, f64) = nodes
                    .zip(w.iter().zip(&dw))
                    .map(|(x, (w, dw))| (w * f(x), dw * f(x)))
                    .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
                let dexact = if deg == 0 {
                    0.0
                } else {
                    f64::from(deg) * t.powi(deg - 1)
                };
                assert!((v - f(t)).abs() < 1e-9, "deg {deg} t {t}: {v}");
                assert!(
                    (d - dexact).abs() < 1e-7,
                    "deg {deg} t {t}: {d} vs {dexact}"
                );
            }
        }
    }

    #[test]
    fn tabulated_law_matches_the_law_and_its_jacobian() {
        let curves = curves();
        let mut law = SdeSurrogate::new(64, 1.0).unwrap();
        law.configure(&curves).unwrap();
        let fast = Tabulated::new(&law, &curves).unwrap();
        // Flat to steep spectra; the last has directions above the stability cap (exact).
        let params = [
            [2.4, 0.003f64.ln(), 1.8, 4.9, 7.2, 0.0],
            [2.3, 0.2f64.ln(), 1.2, -3.0, 0.5, 0.4],
            [2.0, 1.5f64.ln(), 2.5, -2.0, 0.0, 1.0],
        ];
        for c in &curves {
            let m = c.steps.len();
            for p in &params {
                let (mut a, mut b) = (vec![0.0; m], vec![0.0; m]);
                let (mut ja, mut jb) = (vec![0.0; 6 * m], vec![0.0; 6 * m]);
                law.predict_jacobian(p, &c.lrs, &c.steps, &mut a, &mut ja)
                    .unwrap();
                fast.predict_jacobian(p, &c.lrs, &c.steps, &mut b, &mut jb)
                    .unwrap();
                let mut plain = vec![0.0; m];
                fast.predict(p, &c.lrs, &c.steps, &mut plain).unwrap();
                for j in 0..m {
                    let excess = a[j] - p[0];
                    assert!(
                        (a[j] - b[j]).abs() <= 1e-8 * excess,
                        "{}: {} vs {}",
                        c.name,
                        a[j],
                        b[j]
                    );
                    assert!((plain[j] - b[j]).abs() <= 1e-12 * b[j]);
                    for k in 0..6 {
                        let (x, y) = (ja[6 * j + k], jb[6 * j + k]);
                        assert!(
                            (x - y).abs() <= 1e-6 * excess,
                            "{} d{k}: {x} vs {y}",
                            c.name
                        );
                    }
                }
            }
        }
        // A grid that is not one of the curves': the law itself.
        let lrs = LrGrid::new(vec![2e-4; 500]).unwrap();
        let (mut a, mut b) = ([0.0; 2], [0.0; 2]);
        law.predict(&params[1], &lrs, &[10, 500], &mut a).unwrap();
        fast.predict(&params[1], &lrs, &[10, 500], &mut b).unwrap();
        assert_eq!(a, b);
        // Bad input: the law's own errors.
        assert!(
            fast.predict(
                &params[1][..5],
                &curves[0].lrs,
                &curves[0].steps,
                &mut [0.0; 30]
            )
            .is_err()
        );
    }
}
