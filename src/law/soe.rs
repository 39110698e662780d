//! The power kernel `Z^(−p)` as a sum of exponentials, accurate on a stated range of `Z`: what
//! lets the Multi-Power Law run as one recursion over the steps instead of a double sum.
//!
//! `Z^(−p) = (1/Γ(p)) ∫ e^(p y) e^(−e^y Z) dy` over the real line; the trapezoid rule in `y`
//! (step `h`) converges exponentially for this integrand, analytic in the strip `|Im y| < π/2`.
//! Nodes `y_j = y_0 + j h`, `j = 0..n`, cover `[ln(U_MIN / z_max), ln(U_MAX / z_min)]`; the
//! trapezoid terms left of `y_0` are summed in closed form (geometric series) after a Taylor
//! expansion of `e^(−e^y Z)` to order [`TAIL`] − 1 (there `e^y Z ≤ U_MIN`), those right of the
//! last node are dropped (`e^y Z ≥ U_MAX`). So
//!
//! ```text
//! Z^(−p) ≈ Σ_j coef_j e^(−v_j Z) + Σ_{m<TAIL} tail_m Z^m,   v_j = e^(y_j)
//! ```
//!
//! with a relative error below [`REL_ERROR`] for every `Z ∈ [z_min, z_max]` and `p ∈ (0, P_MAX]`
//! (tested in this module against `powf` on a dense sweep). The step is `h = ln 2 / k`, so
//! `v_{j+k} = 2 v_j` and `e^(−v_j x)` for all nodes costs `k` calls of `exp_m1` and one multiply
//! per node ([`Grid::exps`]).

use statrs::function::gamma::ln_gamma;

/// Taylor terms of the closed-form left tail.
pub(crate) const TAIL: usize = 3;
/// Left end of the nodes: `e^(y_0) z_max`. The first dropped tail term is below
/// `U_MIN^TAIL / TAIL!`.
const U_MIN: f64 = 1e-3;
/// Largest exponent with a tabulated node spacing; beyond it callers evaluate exactly.
pub(crate) const P_MAX: f64 = 10.0;
/// Most nodes a grid may have; a wider `z` range (absurd parameters) is evaluated exactly.
pub(crate) const MAX_NODES: usize = 640;
/// The relative error of [`PowerSoe`] on its range, for `p ∈ (0, P_MAX]` (about 10× the worst
/// measured: 1.6e-10 at `p = 10`, 1.5e-9 at `p = 3` with two chains).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const REL_ERROR: f64 = 2e-8;

/// Node positions shared by every kernel evaluated on one sweep.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    /// `y_0`, the first node's `ln v`.
    y0: f64,
    /// Node spacing in `y`.
    h: f64,
    /// `k`: nodes `j` and `j + k` differ by a factor 2 in `v`.
    chains: usize,
    /// `v_j = e^(y_j)`.
    v: Vec<f64>,
}

impl Grid {
    /// Nodes for exponents up to `p_max` on `Z ∈ [z_min, z_max]`, or `None` when that needs more
    /// than [`MAX_NODES`] nodes or the inputs are outside the tabulated range.
    pub(crate) fn new(p_max: f64, z_min: f64, z_max: f64) -> Option<Self> {
        if !(p_max > 0.0 && p_max <= P_MAX && z_min > 0.0 && z_max >= z_min && z_max.is_finite()) {
            return None;
        }
        // Spacings measured to keep the trapezoid error ≤ 2e-9 relative (see the tests).
        let chains = if p_max <= 3.0 { 2 } else { 3 };
        let h = std::f64::consts::LN_2 / chains as f64;
        // Beyond `U_MAX` the integrand `u^p e^(−u)` is below 1e-16 of the integral.
        let u_max = 40.0 + 4.0 * p_max;
        let y0 = (U_MIN / z_max).ln();
        let y1 = (u_max / z_min).ln();
        let span = ((y1 - y0) / h).ceil();
        if !(span.is_finite() && span < MAX_NODES as f64) {
            return None;
        }
        let n = span as usize + 1;
        let mut v = Vec::with_capacity(n);
        for j in 0..n {
            v.push(if j < chains {
                (y0 + j as f64 * h).exp()
            } else {
                2.0 * v[j - chains]
            });
        }
        Some(Self { y0, h, chains, v })
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    /// `out[j][l] = e^(−v_j x_l)` for `x_l ≥ 0`, each to a few ulps relative: `exp_m1` on the
    /// first `k` nodes, then along each chain `e^(−2a) − 1 = m (2 + m)` with `m = e^(−a) − 1`
    /// while `e^(−a) > 1/2` (`m` keeps its relative accuracy where `e ≈ 1`), and
    /// `e^(−2a) = (e^(−a))²` after (relative accuracy where `e ≪ 1`, whose error large weights
    /// would amplify). `LANES` arguments at once: the chains are serial in `j`, so independent
    /// lanes are what keeps the multiplier busy.
    pub(crate) fn exps<const LANES: usize>(&self, x: [f64; LANES], out: &mut [[f64; LANES]]) {
        let k = self.chains;
        let mut m = [[0.0f64; LANES]; 4];
        for ((o, v), m) in out.iter_mut().zip(&self.v).zip(m.iter_mut()).take(k) {
            for l in 0..LANES {
                m[l] = (-v * x[l]).exp_m1();
                o[l] = 1.0 + m[l];
            }
        }
        let mut c = 0;
        for j in k..out.len() {
            let prev = out[j - k];
            let m = &mut m[c];
            let mut e = [0.0; LANES];
            for l in 0..LANES {
                m[l] *= 2.0 + m[l];
                // Once a lane has switched to squaring, its `m` (→ −1) is no longer used.
                e[l] = if prev[l] > 0.5 {
                    1.0 + m[l]
                } else {
                    prev[l] * prev[l]
                };
            }
            out[j] = e;
            c = if c + 1 == k { 0 } else { c + 1 };
        }
    }
}

/// Weights of `Z^(−p)` (and of its derivative in `p`) on a [`Grid`].
#[derive(Debug, Clone)]
pub(crate) struct PowerSoe {
    /// `coef_j`.
    pub(crate) coef: Vec<f64>,
    /// `tail_m`: `Z^(−p) ≈ Σ coef_j e^(−v_j Z) + Σ tail_m Z^m`.
    pub(crate) tail: [f64; TAIL],
    /// `∂coef_j/∂p`: `Σ dcoef_j e^(−v_j Z) + Σ dtail_m Z^m ≈ −Z^(−p) ln Z`.
    pub(crate) dcoef: Vec<f64>,
    /// `∂tail_m/∂p`.
    pub(crate) dtail: [f64; TAIL],
}

impl PowerSoe {
    /// The weights for exponent `0 < p ≤` the grid's `p_max`.
    pub(crate) fn new(grid: &Grid, p: f64) -> Self {
        let lg = ln_gamma(p);
        let psi = digamma(p);
        let h = grid.h;
        let (mut coef, mut dcoef) = (
            Vec::with_capacity(grid.len()),
            Vec::with_capacity(grid.len()),
        );
        for &v in &grid.v {
            let y = v.ln();
            let c = h * (p * y - lg).exp();
            coef.push(c);
            dcoef.push(c * (y - psi));
        }
        // Σ_{i ≥ 1} h e^((p+m)(y_0 − i h)) (−Z)^m / m! / Γ(p), summed in closed form.
        let (mut tail, mut dtail) = ([0.0; TAIL], [0.0; TAIL]);
        let mut fact = 1.0;
        for m in 0..TAIL {
            if m > 0 {
                fact *= m as f64;
            }
            let q = p + m as f64;
            let em1 = (q * h).exp_m1();
            let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
            let t = sign * h * (q * grid.y0 - lg).exp() / em1 / fact;
            tail[m] = t;
            // d/dp ln(e^(q y0) / (e^(q h) − 1) / Γ(p)) = y0 − h e^(qh)/(e^(qh) − 1) − ψ(p).
            dtail[m] = t * (grid.y0 - h * (1.0 + 1.0 / em1) - psi);
        }
        Self {
            coef,
            tail,
            dcoef,
            dtail,
        }
    }
}

/// The digamma function `ψ(x)` for `x > 0` to ~1e-15 (statrs' is good to ~1e-8 only, which
/// would show in `∂/∂p`): shift to `x ≥ 10`, then the asymptotic series to `x^(−14)`.
fn digamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    let series = r
        * (1.0 / 12.0
            - r * (1.0 / 120.0
                - r * (1.0 / 252.0
                    - r * (1.0 / 240.0 - r * (1.0 / 132.0 - r * (691.0 / 32760.0 - r / 12.0))))));
    acc + x.ln() - 0.5 / x - series
}

/// `Σ_m tail_m · Σ_k w_k Z_k^m` from the moments `mom[m] = Σ_k w_k z_k^m` with `Z_k = a + z_k`.
#[inline]
pub(crate) fn tail_sum(tail: &[f64; TAIL], mom: &[f64; TAIL], a: f64) -> f64 {
    let p0 = mom[0];
    let p1 = a * mom[0] + mom[1];
    let p2 = a * a * mom[0] + 2.0 * a * mom[1] + mom[2];
    tail[0] * p0 + tail[1] * p1 + tail[2] * p2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(Z^(−p) approximated, −Z^(−p) ln Z approximated)` for one `Z`.
    fn eval(grid: &Grid, soe: &PowerSoe, z: f64) -> (f64, f64) {
        let mut e4 = vec![[0.0; 1]; grid.len()];
        grid.exps([z], &mut e4);
        let e: Vec<f64> = e4.iter().map(|e| e[0]).collect();
        let mom = [1.0, z, z * z];
        let f: f64 = soe.coef.iter().zip(&e).map(|(c, e)| c * e).sum::<f64>()
            + tail_sum(&soe.tail, &mom, 0.0);
        let df: f64 = soe.dcoef.iter().zip(&e).map(|(c, e)| c * e).sum::<f64>()
            + tail_sum(&soe.dtail, &mom, 0.0);
        (f, df)
    }

    #[test]
    fn power_kernel_within_stated_error_over_range() {
        // Ranges like an MPL fit's (1/a ≈ 1e-3, area ≈ 20) and wider ones.
        for &(z_min, z_max) in &[(7e-4, 22.0), (1e-9, 100.0), (0.3, 0.31)] {
            for &p in &[
                1e-3, 0.01, 0.1, 0.58, 1.0, 1.6, 2.0, 3.0, 3.2, 5.0, 6.0, 10.0,
            ] {
                let grid = Grid::new(p, z_min, z_max).unwrap();
                let soe = PowerSoe::new(&grid, p);
                let steps = 400;
                for i in 0..=steps {
                    let z = z_min * (z_max / z_min).powf(i as f64 / steps as f64);
                    let exact = z.powf(-p);
                    let (f, df) = eval(&grid, &soe, z);
                    let rel = (f / exact - 1.0).abs();
                    assert!(rel <= REL_ERROR, "p={p} z={z}: {f} vs {exact} ({rel:e})");
                    // The derivative in p: −Z^(−p) ln Z, error relative to Z^(−p) (1 + |ln Z|).
                    let dexact = -exact * z.ln();
                    let drel = (df - dexact).abs() / (exact * (1.0 + z.ln().abs()));
                    assert!(
                        drel <= REL_ERROR,
                        "p={p} z={z}: d {df} vs {dexact} ({drel:e})"
                    );
                }
            }
        }
    }

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ_E, ψ(1/2) = −γ_E − 2 ln 2, ψ(x + 1) = ψ(x) + 1/x.
        let euler = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler).abs() < 1e-14);
        assert!((digamma(0.5) + euler + 2.0 * std::f64::consts::LN_2).abs() < 1e-14);
        for &x in &[0.01, 0.3, 2.7, 9.9, 10.0, 42.0] {
            assert!((digamma(x + 1.0) - digamma(x) - 1.0 / x).abs() < 1e-13 * (1.0 + 1.0 / x));
        }
    }

    #[test]
    fn exps_match_exp() {
        let grid = Grid::new(0.6, 1e-4, 30.0).unwrap();
        let mut e = vec![[0.0; 4]; grid.len()];
        for xs in [[0.0, 1e-7, 3e-4, 0.01], [0.3, 1.0, 25.0, 0.0]] {
            grid.exps(xs, &mut e);
            for (j, (got, &v)) in e.iter().zip(&grid.v).enumerate() {
                for (&got, &x) in got.iter().zip(&xs) {
                    let want = (-v * x).exp();
                    // Relative errors double with each squaring, until e underflows.
                    assert!(
                        (got - want).abs() <= 1e-11 * want + 1e-300,
                        "x={x} node {j}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn out_of_range_inputs_have_no_grid() {
        assert!(Grid::new(0.0, 1e-3, 1.0).is_none());
        assert!(Grid::new(P_MAX * 1.5, 1e-3, 1.0).is_none());
        assert!(Grid::new(1.0, 0.0, 1.0).is_none());
        assert!(Grid::new(1.0, 1e-300, 1e300).is_none());
    }
}
