//! The power kernel `Z^(−p)` as a sum of exponentials, accurate on a stated range of `Z`: what
//! lets the Multi-Power Law run as one recursion over the steps instead of a double sum.
//!
//! `Z^(−p) = (1/Γ(p)) ∫ e^(p y) e^(−e^y Z) dy` over the real line; the trapezoid rule in `y`
//! (step `h`) converges exponentially for this integrand, analytic in the strip `|Im y| < π/2`.
//! Nodes `y_j = y_0 + j h`, `j = 0..n`, cover `[ln(U / z_max), ln(U_MAX / z_min)]`; the
//! trapezoid terms left of `y_0` are summed in closed form (geometric series) after a Taylor
//! expansion of `e^(−e^y Z)` to order [`TAIL`] − 1 (there `e^y Z ≤ U`, with `U` from 1e-3 to 0.5
//! as the exponents allow, [`left_end`]), those right of the
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
/// Smallest left end of the nodes, `e^(y_0) z_max` (what exponents near 0 and near 1.5 need).
const U_MIN: f64 = 1e-3;
/// Largest left end: beyond it the tail's Taylor terms would grow with their order.
const U_CAP: f64 = 0.5;
/// Budget of the tail's truncation in the relative error (a small part of [`REL_ERROR`]).
const TAIL_ERROR: f64 = 1e-9;
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
    /// `U_MAX`: nodes end where `v_j z_min` passes it.
    u_max: f64,
}

impl Grid {
    /// Nodes for exponents in `[p_min, p_max]` on `Z ∈ [z_min, z_max]`, or `None` when that
    /// needs more than [`MAX_NODES`] nodes or the inputs are outside the tabulated range.
    pub(crate) fn new(p_min: f64, p_max: f64, z_min: f64, z_max: f64) -> Option<Self> {
        if !(p_min > 0.0
            && p_max >= p_min
            && p_max <= P_MAX
            && z_min > 0.0
            && z_max >= z_min
            && z_max.is_finite())
        {
            return None;
        }
        // Spacings measured to keep the trapezoid error ≤ 2e-9 relative (see the tests).
        let chains = if p_max <= 3.0 { 2 } else { 3 };
        let h = std::f64::consts::LN_2 / chains as f64;
        // Beyond `U_MAX` the integrand `u^p e^(−u)` is below 1e-16 of the integral.
        let u_max = 40.0 + 4.0 * p_max;
        let y0 = (left_end(p_min, p_max) / z_max).ln();
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
        Some(Self {
            y0,
            h,
            chains,
            v,
            u_max,
        })
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
    /// lanes are what keeps the multiplier busy. Only as many nodes as `out` has.
    #[inline(always)]
    pub(crate) fn exps<const LANES: usize>(&self, x: [f64; LANES], out: &mut [[f64; LANES]]) {
        let k = self.chains;
        let n = out.len();
        let mut m = [[0.0f64; LANES]; 4];
        for ((o, v), m) in out.iter_mut().zip(&self.v).zip(m.iter_mut()).take(k) {
            for l in 0..LANES {
                m[l] = (-v * x[l]).exp_m1();
                o[l] = 1.0 + m[l];
            }
        }
        // A lane takes the `m` step at node `j` while `v_(j−k) x < ln 2` (its previous `e` above
        // 1/2), then squares: monotone in `j` and in `x`, so the nodes split into a prefix where
        // every lane takes the `m` step, a suffix where every lane squares, and a mixed middle.
        let (mut x_lo, mut x_hi) = (x[0], x[0]);
        for &x in &x[1..] {
            x_lo = if x < x_lo { x } else { x_lo };
            x_hi = if x > x_hi { x } else { x_hi };
        }
        let all_m = (self.v.partition_point(|&v| v * x_hi < SWITCH) + k).clamp(k, n.max(k));
        let all_sq = (self.v.partition_point(|&v| v * x_lo < SWITCH) + k).clamp(all_m, n.max(k));
        let mut c = 0;
        for j in k..n {
            let prev = out[j - k];
            let m = &mut m[c];
            let mut e = [0.0; LANES];
            if j < all_m {
                for l in 0..LANES {
                    m[l] *= 2.0 + m[l];
                    e[l] = 1.0 + m[l];
                }
            } else if j >= all_sq {
                for l in 0..LANES {
                    e[l] = prev[l] * prev[l];
                }
            } else {
                let v = self.v[j - k];
                for l in 0..LANES {
                    m[l] *= 2.0 + m[l];
                    // Once a lane has switched to squaring, its `m` (→ −1) is no longer used.
                    e[l] = if v * x[l] < SWITCH {
                        1.0 + m[l]
                    } else {
                        prev[l] * prev[l]
                    };
                }
            }
            out[j] = e;
            c = if c + 1 == k { 0 } else { c + 1 };
        }
    }

    /// The largest `v_j` a term with `Z ≥ z_lo` still needs: nodes above it hold less than
    /// `e^(−U_MAX)` of every such term (the criterion that ends the grid at `z_min`). Returns
    /// how many nodes that is, one node past the criterion as [`Grid::new`] does.
    pub(crate) fn needed(&self, z_lo: f64) -> usize {
        let cut = self.u_max / z_lo;
        (self.v.partition_point(|&v| v < cut) + 1).min(self.v.len())
    }
}

/// Where a chain switches from the `m` step to squaring: `v x = ln 2`, i.e. `e = 1/2`.
const SWITCH: f64 = std::f64::consts::LN_2;

/// A bound on the relative error of the closed-form tail starting at `u = U` (in the value, and in
/// the derivative relative to `Z^(−p) (1 + |ln Z|)`). Each trapezoid term left of the nodes drops
/// at most `u_i^TAIL / TAIL!` of `e^(−u_i)` (alternating series), and
/// `h Σ_{i ≥ 1} (U e^(−i h))^(p + TAIL) ≤ U^(p + TAIL) / (p + TAIL)`; the derivative's weights
/// carry `y − ψ(p)` with `|y| ≤ |ln U| + |ln Z|`, and `1/(p + TAIL)` from integrating `u^q ln u`.
fn tail_error(p: f64, u: f64) -> f64 {
    let q = p + TAIL as f64;
    let fact: f64 = (1..=TAIL).map(|m| m as f64).product();
    let ln_size = q * u.ln() - (fact * q).ln() - ln_gamma(p);
    ln_size.exp() * (2.0 + u.ln().abs() + digamma(p).abs() + 1.0 / q)
}

/// The left end `U` of the nodes for exponents in `[p_min, p_max]`: the largest of a geometric
/// ladder from [`U_CAP`] down to [`U_MIN`] whose [`tail_error`] is within [`TAIL_ERROR`] at
/// every exponent sampled in the range. Exponents near 0 need `U` near [`U_MIN`]; `β = 5` allows
/// `U ≈ 0.1`, ~20 nodes fewer.
fn left_end(p_min: f64, p_max: f64) -> f64 {
    // The error is smooth in `p`: 17 geometric samples, plus `p ≈ 1.46` (where `1/Γ` peaks).
    let mut ps: Vec<f64> = (0..=16)
        .map(|i| p_min * (p_max / p_min).powf(i as f64 / 16.0))
        .collect();
    if p_min < 1.46 && 1.46 < p_max {
        ps.push(1.46);
    }
    let mut u = U_CAP;
    while u > U_MIN && ps.iter().any(|&p| tail_error(p, u) > TAIL_ERROR) {
        u *= 0.8;
    }
    u.max(U_MIN)
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
#[inline(always)]
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
                let grid = Grid::new(p, p, z_min, z_max).unwrap();
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

    /// A grid for a range of exponents (a band's draws) keeps the stated error at each of them,
    /// though its left end is chosen for the whole range.
    #[test]
    fn shared_grid_within_stated_error_for_every_exponent() {
        let (z_min, z_max) = (1e-7, 25.0);
        for &(p_min, p_max) in &[(4.0, 5.0), (0.01, 5.0), (1.0, 2.0), (5.0, 10.0), (0.3, 0.9)] {
            let grid = Grid::new(p_min, p_max, z_min, z_max).unwrap();
            for i in 0..=8 {
                let p = p_min * (p_max / p_min).powf(i as f64 / 8.0);
                let soe = PowerSoe::new(&grid, p);
                for k in 0..=300 {
                    let z = z_min * (z_max / z_min).powf(k as f64 / 300.0);
                    let exact = z.powf(-p);
                    let (f, df) = eval(&grid, &soe, z);
                    let rel = (f / exact - 1.0).abs();
                    assert!(rel <= REL_ERROR, "[{p_min}, {p_max}] p={p} z={z}: {rel:e}");
                    let drel = (df + exact * z.ln()).abs() / (exact * (1.0 + z.ln().abs()));
                    assert!(
                        drel <= REL_ERROR,
                        "[{p_min}, {p_max}] p={p} z={z}: d {drel:e}"
                    );
                }
            }
        }
    }

    /// The left end moves right for large exponents (fewer nodes), never past the tail budget.
    #[test]
    fn left_end_follows_the_tail_bound() {
        assert!(left_end(5.0, 5.0) > 0.05, "{}", left_end(5.0, 5.0));
        assert!(left_end(0.01, 5.0) <= left_end(5.0, 5.0));
        for &(a, b) in &[(1e-3, 1e-3), (0.5, 2.0), (5.0, 5.0), (10.0, 10.0)] {
            let u = left_end(a, b);
            assert!((U_MIN..=U_CAP).contains(&u));
            assert!(u == U_MIN || tail_error(a, u) <= TAIL_ERROR);
            assert!(u == U_MIN || tail_error(b, u) <= TAIL_ERROR);
        }
        let narrow = Grid::new(5.0, 5.0, 1e-7, 25.0).unwrap().len();
        let wide = Grid::new(1e-3, 5.0, 1e-7, 25.0).unwrap().len();
        assert!(narrow + 15 <= wide, "{narrow} vs {wide}");
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
        let grid = Grid::new(0.6, 0.6, 1e-4, 30.0).unwrap();
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

    /// The split into all-`m`, mixed and all-squaring nodes gives every lane what the per-lane
    /// choice gives, bit for bit, whatever mix of small and large arguments shares a call.
    #[test]
    fn staged_exps_equal_the_mixed_step() {
        let grid = Grid::new(5.0, 5.0, 1e-7, 25.0).unwrap();
        let n = grid.len();
        for xs in [
            [1e-12, 2e-12, 3e-12, 4e-12],
            [1e-12, 0.0, 3e-4, 30.0],
            [0.3, 1.0, 25.0, 7.0],
        ] {
            let mut got = vec![[0.0; 4]; n];
            grid.exps(xs, &mut got);
            let k = grid.chains;
            let mut want = vec![[0.0; 4]; n];
            let mut m = vec![[0.0; 4]; k];
            for j in 0..n {
                for l in 0..4 {
                    if j < k {
                        m[j][l] = (-grid.v[j] * xs[l]).exp_m1();
                        want[j][l] = 1.0 + m[j][l];
                    } else {
                        let (c, prev) = (j % k, want[j - k][l]);
                        m[c][l] *= 2.0 + m[c][l];
                        want[j][l] = if grid.v[j - k] * xs[l] < SWITCH {
                            1.0 + m[c][l]
                        } else {
                            prev * prev
                        };
                    }
                }
            }
            let bits = |v: &[[f64; 4]]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "{xs:?}");
        }
    }

    /// Nodes past `needed(z)` hold below `e^(−U_MAX)` of a term with `Z ≥ z`; the count falls as
    /// `z` grows and never exceeds the grid.
    #[test]
    fn needed_nodes_follow_the_smallest_z() {
        let grid = Grid::new(5.0, 5.0, 1e-7, 25.0).unwrap();
        assert_eq!(grid.needed(1e-7), grid.len());
        let mut last = grid.len();
        for &z in &[1e-6, 3e-5, 3e-4, 0.1, 25.0] {
            let k = grid.needed(z);
            assert!(k <= last && k >= 1, "z={z}: {k}");
            assert!(grid.v[k - 1] >= grid.u_max / z || k == grid.len(), "z={z}");
            assert!(k < 2 || grid.v[k - 2] < grid.u_max / z, "z={z}");
            last = k;
        }
        assert!(grid.needed(3e-4) + 25 <= grid.len());
    }

    #[test]
    fn out_of_range_inputs_have_no_grid() {
        assert!(Grid::new(0.0, 0.0, 1e-3, 1.0).is_none());
        assert!(Grid::new(1.0, P_MAX * 1.5, 1e-3, 1.0).is_none());
        assert!(Grid::new(2.0, 1.0, 1e-3, 1.0).is_none());
        assert!(Grid::new(1.0, 1.0, 0.0, 1.0).is_none());
        assert!(Grid::new(1.0, 1.0, 1e-300, 1e300).is_none());
    }
}
