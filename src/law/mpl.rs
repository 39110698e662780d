//! The Multi-Power Law of Luo et al. (ICLR 2025, arXiv 2503.12811), with the conventions of the
//! released code (thu-yao-01-luo/MultiPowerLaw @ 8da9f19).

use super::mpl_sweep::{Sums, Sweep, dot};
use super::soe::{PowerSoe, tail_sum};
use super::{
    DataScale, LawError, LossLaw, ParamSpec, check_inputs, clamp_all, huber_log, observed_points,
    power_guess,
};
use crate::data::TrainingCurve;
use crate::schedule::LrGrid;

/// The Multi-Power Law (MPL) on raw LRs.
///
/// With `η_k = lrs[k − 1]` the LR of update `k` (1-based) and **`η_0 = 0`**, after `t` updates:
///
/// ```text
/// L(t)    = L0 + A · S1(t)^(−α) − B · LD(t)
/// S1(t)   = Σ_{τ=1..t} η_τ                              (warmup included)
/// LD(t)   = Σ_{k=1..t} (η_{k−1} − η_k) · G(η_k^(−γ) · S_k(t))
/// S_k(t)  = Σ_{τ=k..t} η_τ
/// G(x)    = 1 − (C x + 1)^(−β)
/// ```
///
/// The sum in `LD` runs over every update including a warmup ramp (whose LR increases enter with
/// negative differences), and the first term is `−η_1 · G(…)` because `η_0 = 0`. This is exactly
/// what the released code computes (`cumsum(lrs)[s]`, `lr_gap[1:s+1]`, with the code's array
/// starting at a warmup LR of 0 and its step `s` indexing that array); the published parameters
/// are only valid with it. In this crate's grid convention the code's array is `[0] ++ lrs` and
/// its step `s` is our step `s`.
///
/// A term with `η_k = 0` and a non-zero difference (an LR cut to zero) has `G = 1` once any LR
/// area follows and `G = 0` before.
///
/// Parameters, in order: `L0, A, alpha, B, C, beta, gamma`.
///
/// Cost per call: `O(steps × nodes)`, one pass over the updates whatever the number of outputs
/// (`nodes` ≈ 60 for fitted parameters, see below), instead of the direct double sum's
/// `O(LR changes × outputs)`. The kernel `(1 + x)^(−β)` is evaluated as a sum of exponentials
/// in the LR area, each a running sum over the updates; its relative error is below `2e-8` for
/// `0 < β ≤ 9` (`≤ 10` in predictions), so a prediction differs from the direct sum by at most
/// `2e-8 · |B| · Σ_k |η_{k−1} − η_k|` (≈ `1e-8` for the published 400M fit, whose loss is ≈ 2.7)
/// plus rounding. Parameters outside that range (`C ≤ 0`, `β ≤ 0`, `β > 10`, or an LR-area
/// range beyond 1e250) are evaluated by the direct sum.
///
/// ```
/// use lrsde::law::{LossLaw, MultiPowerLaw};
/// let law = MultiPowerLaw::default();
/// // Constant LR from the first update: only the first term (η_0 = 0 → η_1) enters LD.
/// let (l0, a, al, b, c, be, ga) = (2.0, 0.5, 0.5, 10.0, 1.0, 0.5, 0.5);
/// let lrs = lrsde::schedule::LrGrid::new(vec![0.01; 4]).unwrap();
/// let mut out = [0.0];
/// law.predict(&[l0, a, al, b, c, be, ga], &lrs, &[4], &mut out).unwrap();
/// let s1: f64 = 0.04;
/// let g = 1.0 - (c * 0.01f64.powf(-ga) * s1 + 1.0).powf(-be);
/// let expect = l0 + a * s1.powf(-al) - b * (0.0 - 0.01) * g;
/// // Within the stated bound 2e-8 · B · Σ|η_{k−1} − η_k| = 2e-9.
/// assert!((out[0] - expect).abs() <= 2e-9);
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultiPowerLaw {
    scale: DataScale,
}

impl MultiPowerLaw {
    /// The data scales in use (`lr_ref` only sizes bounds and guesses; predictions use raw LRs).
    pub fn scale(&self) -> DataScale {
        self.scale
    }

    /// The MPL authors' published fit of their `size_m`-million-parameter model (25, 100 or
    /// 400; `None` otherwise), in this law's parameter order `L0, A, alpha, B, C, beta, gamma`
    /// with raw LRs (thu-yao-01-luo/MultiPowerLaw @ 8da9f19, `src/config.py`). A reference
    /// point: it reproduces the authors' own predictions of their held-out schedules.
    ///
    /// ```
    /// use lrsde::law::{LossLaw, MultiPowerLaw};
    /// let p = MultiPowerLaw::published_fit(400).unwrap();
    /// assert_eq!(p.len(), MultiPowerLaw::default().params().len());
    /// assert!(MultiPowerLaw::published_fit(7).is_none());
    /// ```
    pub fn published_fit(size_m: u32) -> Option<[f64; 7]> {
        match size_m {
            25 => Some([
                3.04045406,
                0.52468604,
                0.50786857,
                363.78751622,
                2.06560812,
                0.58279013,
                0.64142257,
            ]),
            100 => Some([
                2.6514477,
                0.60115152,
                0.45295811,
                437.9464276,
                2.13245612,
                0.59785199,
                0.65523644,
            ]),
            400 => Some([
                2.37474466,
                0.65421216,
                0.42878731,
                523.42464371,
                2.02462735,
                0.59350493,
                0.63472457,
            ]),
            _ => None,
        }
    }
}

/// `G(x) = 1 − (1 + x)^(−β)` with `x = C η^(−γ) S`, accurate for small `x`.
#[inline(always)]
fn kernel(x: f64, beta: f64) -> f64 {
    -(-beta * x.ln_1p()).exp_m1()
}

impl LossLaw for MultiPowerLaw {
    fn name(&self) -> &'static str {
        "mpl"
    }

    fn params(&self) -> Vec<ParamSpec> {
        let lr = self.scale.lr_ref;
        vec![
            ParamSpec::linear("L0", 0.0, self.scale.loss_max).described(
                "loss left after infinitely long training (the floor the curve approaches)",
            ),
            ParamSpec::log("A", 1e-8, 1e6)
                .described("scale of the power-law decrease with the LR area"),
            ParamSpec::linear("alpha", 0.01, 3.0)
                .described("power of that decrease (larger: faster early progress)"),
            // B · η_peak is the size of the annealing drop: allow 1e−6 … 10 × the loss scale.
            ParamSpec::log("B", 1e-6 / lr, 10.0 * self.scale.loss_max.max(1.0) / lr)
                .described("size of the extra loss drop that LR decay brings"),
            ParamSpec::log("C", 1e-4, 1e4).described("how fast that drop builds up after a decay"),
            ParamSpec::linear("beta", 0.01, 5.0).described("power of the drop's saturation"),
            ParamSpec::linear("gamma", 0.0, 2.0)
                .described("how the drop's speed depends on the LR it decays to"),
        ]
    }

    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let last = check_inputs("mpl", &self.params(), params, lrs, steps, out)?;
        let &[l0, a, alpha, b, c, beta, gamma] = params else {
            unreachable!("length checked above")
        };
        let Some(sweep) = Sweep::new(lrs, last, c, gamma, beta, beta) else {
            return predict_exact(params, lrs, steps, out);
        };
        let soe = PowerSoe::new(sweep.grid(), beta);
        sweep.run(
            lrs,
            steps,
            |_, d, inv_a| [d * inv_a.powf(beta)],
            |j, s: &Sums<'_, 1>| {
                if s.area <= 0.0 {
                    return Err(LawError::ZeroLrArea {
                        law: "mpl",
                        step: steps[j],
                    });
                }
                // Σ_k d_k (1 + x_k)^(−β).
                let e = dot(&soe.coef, &s.nodes[0]) + tail_sum(&soe.tail, &s.moments[0], s.area);
                out[j] = l0 + a * s.area.powf(-alpha) - b * (s.fixed - e);
                Ok(())
            },
        )
    }

    /// Every parameter vector in one pass over the steps, sharing the node grid and the
    /// per-update exponentials between them (a band's draws); within the same stated bound of
    /// the direct sum as [`LossLaw::predict`].
    fn predict_many(
        &self,
        params: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Vec<Result<Vec<f64>, LawError>> {
        super::mpl_many::predict_many(self, params, lrs, steps)
    }

    /// Exact derivatives of the law as [`LossLaw::predict`] evaluates it, in the same pass: with
    /// `x = C η_k^(−γ) S_k`, `E_p = (1 + x)^(−p)`: `∂G/∂C = β (E_β − E_{β+1}) / C`,
    /// `∂G/∂β = E_β ln(1+x)`, `∂G/∂γ = −β (E_β − E_{β+1}) ln η_k`, each summed by the same
    /// recursion as the prediction (four running sums instead of one).
    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        let last = check_inputs("mpl", &self.params(), params, lrs, steps, out)?;
        if jac.len() != steps.len() * 7 {
            return Err(LawError::OutputLength {
                law: "mpl",
                expected: steps.len() * 7,
                found: jac.len(),
            });
        }
        let &[l0, a, alpha, b, c, beta, gamma] = params else {
            unreachable!("length checked above")
        };
        // γ = 0 with a zero LR: ln η_k = −∞ enters ∂/∂γ; only the exact form reproduces that.
        let zero_lr_ln = gamma == 0.0 && lrs[..last].contains(&0.0);
        let sweep = if zero_lr_ln || beta <= 0.0 {
            None
        } else {
            Sweep::new(lrs, last, c, gamma, beta, beta + 1.0)
        };
        let Some(sweep) = sweep else {
            return jacobian_exact(params, lrs, steps, out, jac);
        };
        let (p0, p1) = (
            PowerSoe::new(sweep.grid(), beta),
            PowerSoe::new(sweep.grid(), beta + 1.0),
        );
        let ln_c = c.ln();
        // Weightings: w, w/a, (w/a) ln η, w ln η with w = d a^(−β).
        sweep.run(
            lrs,
            steps,
            |lr, d, inv_a| {
                let w = d * inv_a.powf(beta);
                let ln_eta = lr.ln();
                [w, w * inv_a, w * inv_a * ln_eta, w * ln_eta]
            },
            |j, s: &Sums<'_, 4>| {
                if s.area <= 0.0 {
                    return Err(LawError::ZeroLrArea {
                        law: "mpl",
                        step: steps[j],
                    });
                }
                let eval = |soe: &PowerSoe, k: usize| {
                    dot(&soe.coef, &s.nodes[k]) + tail_sum(&soe.tail, &s.moments[k], s.area)
                };
                // Σ d E_β, Σ d E_β ln(1+x) = Σ w Z^(−β) (ln Z − ln(1/a)), Σ d E_{β+1}, …
                let e0 = eval(&p0, 0);
                let e0_ln_z =
                    -(dot(&p0.dcoef, &s.nodes[0]) + tail_sum(&p0.dtail, &s.moments[0], s.area));
                let e1 = eval(&p1, 1);
                let e1_ln_eta = eval(&p1, 2);
                let e0_ln_eta = eval(&p0, 3);
                let ld = s.fixed - e0;
                let d_c = beta / c * (e0 - e1);
                let d_beta = e0_ln_z - (gamma * e0_ln_eta - ln_c * e0);
                let d_gamma = -beta * (e0_ln_eta - e1_ln_eta);
                let s1 = s.area;
                let pw = s1.powf(-alpha);
                out[j] = l0 + a * pw - b * ld;
                jac[j * 7..j * 7 + 7].copy_from_slice(&[
                    1.0,
                    pw,
                    -a * pw * s1.ln(),
                    -ld,
                    -b * d_c,
                    -b * d_beta,
                    -b * d_gamma,
                ]);
                Ok(())
            },
        )?;
        Ok(true)
    }

    fn configure(&mut self, curves: &[TrainingCurve]) -> Result<(), LawError> {
        self.scale = DataScale::from_curves("mpl", curves)?;
        Ok(())
    }

    /// Three of [`Self::initial_guesses`]: from the top guess alone the fit stops in a
    /// basin about twice the best cost on the MultiPowerLaw curves (25M: 2.45e-4 against
    /// 1.40e-4; 100M: 2.23e-4 against 1.00e-4; docs/accuracy.md, Caveats).
    fn min_starts(&self) -> usize {
        3
    }

    /// 1000: the best basin lies along a flat valley in which `beta` falls toward its lower
    /// bound while `B` and `C` follow it; on the MultiPowerLaw 400M cosine + constant curves its
    /// start needs 519 iterations (docs/performance.md).
    fn min_iters(&self) -> u64 {
        1000
    }

    /// The released code's initialisation: `(A, α)` from the regression of
    /// `ln(L − L_min + 0.01)` on `ln S1`; a grid `L0 ∈ L_min + {−0.2, −0.1, 0, 0.1, 0.2}` ×
    /// `A × {0.5, 1, 2}` × `α × {0.8, 1, 1.25}` × `B ∈ {100, 550, 1000} · 3e−4/η_peak`, ranked by
    /// Huber-on-log residuals of the simplified law `L0 + A S1^(−α) − B (η_peak − η_t)` (the code
    /// then refines each with L-BFGS-B: that is the fitter's job); the best 8, each with
    /// `C = 1, β = 0.5, γ = 0.5`.
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        let specs = self.params();
        let scale = DataScale::from_curves("mpl", curves).unwrap_or(self.scale);
        // Points (S1 raw, loss, η_t raw).
        let pts = observed_points(curves, 1.0);
        let base = vec![
            scale.loss_min * 0.9,
            1.0,
            0.5,
            550.0 * 3e-4 / scale.lr_ref,
            1.0,
            0.5,
            0.5,
        ];
        if pts.is_empty() {
            let mut g = base;
            clamp_all(&specs, &mut g);
            return vec![g];
        }
        let lmin = scale.loss_min;
        let mut scored = Vec::new();
        for dl in [-0.2, -0.1, 0.0, 0.1, 0.2] {
            let l0 = (lmin + dl).max(0.0);
            let (a0, al0) = power_guess(&pts, l0);
            for fa in [0.5, 1.0, 2.0] {
                for fal in [0.8, 1.0, 1.25] {
                    for b in [100.0, 550.0, 1000.0] {
                        let b = b * 3e-4 / scale.lr_ref;
                        let (a, alpha) = (a0 * fa, al0 * fal);
                        let obj: f64 = pts
                            .iter()
                            .map(|&(s1, l, eta)| {
                                huber_log(l0 + a * s1.powf(-alpha) - b * (scale.lr_ref - eta), l)
                            })
                            .sum();
                        let mut g = vec![l0, a, alpha, b, 1.0, 0.5, 0.5];
                        clamp_all(&specs, &mut g);
                        scored.push((if obj.is_nan() { f64::INFINITY } else { obj }, g));
                    }
                }
            }
        }
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        scored.into_iter().take(8).map(|(_, g)| g).collect()
    }
}

/// `area[k] = Σ_{τ<k} lrs[τ]`: the LR area of the first `k` updates, `k = 0..=lrs.len()`
/// (summed left to right, as both direct evaluations need it).
fn lr_area(lrs: &[f64]) -> Vec<f64> {
    let mut area = Vec::with_capacity(lrs.len() + 1);
    let mut acc = 0.0;
    area.push(0.0);
    for &lr in lrs {
        acc += lr;
        area.push(acc);
    }
    area
}

/// The direct double sum, `O(LR changes × outputs)`: the reference the sweep is tested against,
/// and the fallback where the sum of exponentials does not apply. Inputs already checked.
fn predict_exact(
    params: &[f64],
    lrs: &[f64],
    steps: &[u64],
    out: &mut [f64],
) -> Result<(), LawError> {
    let last = steps.last().map_or(0, |&s| s as usize);
    let &[l0, a, alpha, b, c, beta, gamma] = params else {
        unreachable!("length checked above")
    };
    let area = lr_area(&lrs[..last]);
    // LR changes (0-based update index k, η_{k−1} − η_k, C η_k^(−γ)); η before update 1 is 0.
    let (mut idx, mut diff, mut scale) = (Vec::new(), Vec::new(), Vec::new());
    let mut prev = 0.0;
    for (k, &lr) in lrs[..last].iter().enumerate() {
        let d = prev - lr;
        if d != 0.0 {
            idx.push(k);
            diff.push(d);
            scale.push(c * lr.powf(-gamma));
        }
        prev = lr;
    }
    for (o, &step) in out.iter_mut().zip(steps) {
        let n = step as usize;
        let s1 = area[n];
        if s1 <= 0.0 {
            return Err(LawError::ZeroLrArea { law: "mpl", step });
        }
        let total = area[n];
        let m = idx.partition_point(|&k| k < n);
        let mut ld = 0.0;
        for j in 0..m {
            // S_k(t) = Σ_{τ=k..t} η_τ (1-based) = area[n] − area[k] (0-based k).
            let sk = total - area[idx[j]];
            let x = scale[j] * sk;
            let g = if x.is_finite() {
                kernel(x, beta)
            } else if sk > 0.0 {
                1.0
            } else {
                0.0
            };
            ld += diff[j] * g;
        }
        *o = l0 + a * s1.powf(-alpha) - b * ld;
    }
    Ok(())
}

/// [`predict_exact`] with exact derivatives in the same pass: with `x = C η_k^(−γ) S_k`,
/// `E = (1 + x)^(−β)`, `∂G/∂C = β E/(1+x) · η_k^(−γ) S_k`, `∂G/∂β = E ln(1+x)`,
/// `∂G/∂γ = −β E/(1+x) · x ln η_k`. Inputs already checked.
fn jacobian_exact(
    params: &[f64],
    lrs: &[f64],
    steps: &[u64],
    out: &mut [f64],
    jac: &mut [f64],
) -> Result<bool, LawError> {
    let last = steps.last().map_or(0, |&s| s as usize);
    if jac.len() != steps.len() * 7 {
        return Err(LawError::OutputLength {
            law: "mpl",
            expected: steps.len() * 7,
            found: jac.len(),
        });
    }
    let &[l0, a, alpha, b, c, beta, gamma] = params else {
        unreachable!("length checked above")
    };
    let area = lr_area(&lrs[..last]);
    // (update index, η_{k−1} − η_k, η_k^(−γ), ln η_k) at each LR change.
    let mut changes = Vec::new();
    let mut prev = 0.0;
    for (k, &lr) in lrs[..last].iter().enumerate() {
        let d = prev - lr;
        if d != 0.0 {
            changes.push((k, d, lr.powf(-gamma), lr.ln()));
        }
        prev = lr;
    }
    for ((o, row), &step) in out.iter_mut().zip(jac.chunks_exact_mut(7)).zip(steps) {
        let n = step as usize;
        let s1 = area[n];
        if s1 <= 0.0 {
            return Err(LawError::ZeroLrArea { law: "mpl", step });
        }
        let m = changes.partition_point(|ch| ch.0 < n);
        let (mut ld, mut d_c, mut d_beta, mut d_gamma) = (0.0, 0.0, 0.0, 0.0);
        for &(k, d, e, ln_eta) in &changes[..m] {
            let sk = s1 - area[k];
            let es = e * sk;
            let x = c * es;
            if !x.is_finite() {
                // η_k = 0: G is the constant 0 or 1, no parameter dependence.
                ld += if sk > 0.0 { d } else { 0.0 };
                continue;
            }
            let l = x.ln_1p();
            let g = -(-beta * l).exp_m1();
            let big_e = 1.0 - g;
            let gx = beta * big_e / (1.0 + x);
            ld += d * g;
            d_c += d * gx * es;
            d_beta += d * big_e * l;
            d_gamma -= d * gx * x * ln_eta;
        }
        let pw = s1.powf(-alpha);
        *o = l0 + a * pw - b * ld;
        row.copy_from_slice(&[
            1.0,
            pw,
            -a * pw * s1.ln(),
            -ld,
            -b * d_c,
            -b * d_beta,
            -b * d_gamma,
        ]);
    }
    Ok(true)
}
