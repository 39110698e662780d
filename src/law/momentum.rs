//! The LR-annealing ("momentum") law of Tissue, Wang & Wang (NeurIPS 2025, arXiv 2408.11029).

use super::{
    DataScale, LawError, LossLaw, ParamSpec, check_grid, check_inputs, check_lr_ref, check_params,
    clamp_all, observed_points, power_guess, predict_each, sde::score,
};
use crate::data::TrainingCurve;
use crate::schedule::LrGrid;
use rayon::prelude::*;

/// `L(s) = L0 + A · S1^(−α) − C · S2`, with LRs in units of the reference LR
/// (`η_i = lrs[i − 1] / lr_ref`, the LR of update `i`):
///
/// ```text
/// S1(s) = Σ_{i=1..s} η_i                        ("forward area")
/// m_i   = λ · m_{i−1} + (η_{i−1} − η_i),  m_0 = 0
/// S2(s) = Σ_{i=1..s} m_i                        ("annealing area")
/// ```
///
/// with **`η_0 = η_1`** (the first LR), so a run that starts at its peak has `S2 = 0` until the LR
/// first drops, and the two limits of the research note hold exactly: `λ = 0` gives
/// `S2 = η_1 − η_s`, `λ → 1` gives `S2 = Σ_i (η_1 − η_i)`. LR *increases* (a warmup ramp)
/// enter with negative differences, as in the formula; their contribution saturates at
/// `−Δη/(1 − λ)` and is absorbed by `L0`.
///
/// Parameters, in order: `L0 ∈ [0, max loss]`, `A ∈ [1e−8, 1e8]` (log), `alpha ∈ [0.01, 3]`,
/// `C ∈ [1e−12, 10 · max loss]` (log). `λ` is fixed (default 0.999), not fitted.
///
/// ```
/// use lrsde::law::{LossLaw, MomentumLaw};
/// let law = MomentumLaw::new(0.5, 1.0).unwrap();
/// // η = 1, 1, 0.5: m = 0, 0, 0.5 → S2 = 0.5; S1 = 2.5.
/// let mut out = [0.0];
/// let lrs = lrsde::schedule::LrGrid::new(vec![1.0, 1.0, 0.5]).unwrap();
/// law.predict(&[1.0, 1.0, 1.0, 0.2], &lrs, &[3], &mut out).unwrap();
/// assert!((out[0] - (1.0 + 1.0 / 2.5 - 0.2 * 0.5)).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MomentumLaw {
    lambda: f64,
    scale: DataScale,
}

impl Default for MomentumLaw {
    /// `λ = 0.999`, `lr_ref = 1` until [`LossLaw::configure`].
    fn default() -> Self {
        Self {
            lambda: 0.999,
            scale: DataScale::default(),
        }
    }
}

impl MomentumLaw {
    /// A momentum law with decay `lambda ∈ [0, 1)` and reference LR `lr_ref`.
    ///
    /// # Errors
    /// [`LawError::BadOption`] for `lambda` outside `[0, 1)` or a non-positive `lr_ref`.
    pub fn new(lambda: f64, lr_ref: f64) -> Result<Self, LawError> {
        if !(lambda.is_finite() && (0.0..1.0).contains(&lambda)) {
            return Err(LawError::BadOption {
                law: "momentum",
                key: "lambda".into(),
                value: lambda.to_string(),
                reason: "must be in [0, 1)",
            });
        }
        let mut l = Self {
            lambda,
            ..Self::default()
        };
        l.set_lr_ref(lr_ref)?;
        Ok(l)
    }

    /// The decay factor `λ`.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The reference LR.
    pub fn lr_ref(&self) -> f64 {
        self.scale.lr_ref
    }

    /// Sets the reference LR.
    ///
    /// # Errors
    /// [`LawError::BadOption`] unless finite and positive.
    pub fn set_lr_ref(&mut self, lr_ref: f64) -> Result<(), LawError> {
        self.scale.lr_ref = check_lr_ref("momentum", lr_ref)?;
        Ok(())
    }

    /// The data scales in use.
    pub fn scale(&self) -> DataScale {
        self.scale
    }
}

impl MomentumLaw {
    /// Calls `each(i, S1, S2)` with the LR area `S1` and the momentum-weighted annealing area
    /// `S2` after update `steps[i]`: the one summation behind [`LossLaw::predict`] and
    /// [`LossLaw::predict_many`].
    fn for_each_area<E>(
        &self,
        lrs: &[f64],
        steps: &[u64],
        mut each: impl FnMut(usize, f64, f64) -> Result<(), E>,
    ) -> Result<usize, E> {
        let inv = 1.0 / self.scale.lr_ref;
        let lam = self.lambda;
        let (mut s1, mut s2, mut m) = (0.0, 0.0, 0.0);
        let mut prev = lrs.first().map_or(0.0, |&x| x * inv);
        let mut pos = 0usize;
        for (i, &step) in steps.iter().enumerate() {
            let n = step as usize;
            for &lr in &lrs[pos..n] {
                let eta = lr * inv;
                m = lam * m + (prev - eta);
                s1 += eta;
                s2 += m;
                prev = eta;
            }
            pos = n;
            each(i, s1, s2)?;
        }
        Ok(pos)
    }

    /// `(ln S1, S2)` at each of `steps`, or `None` where `S1` is not positive (then each
    /// prediction reports the error).
    fn areas(&self, lrs: &[f64], steps: &[u64]) -> Option<Vec<(f64, f64)>> {
        let mut out = Vec::with_capacity(steps.len());
        self.for_each_area(lrs, steps, |_, s1, s2| {
            if s1 <= 0.0 {
                return Err(());
            }
            out.push((f64::ln(s1), s2));
            Ok(())
        })
        .ok()?;
        Some(out)
    }
}

impl LossLaw for MomentumLaw {
    fn name(&self) -> &'static str {
        "momentum"
    }

    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("L0", 0.0, self.scale.loss_max).described(
                "loss left after infinitely long training (the floor the curve approaches)",
            ),
            ParamSpec::log("A", 1e-8, 1e8)
                .described("scale of the power-law decrease with the LR area"),
            ParamSpec::linear("alpha", 0.01, 3.0)
                .described("power of that decrease (larger: faster early progress)"),
            ParamSpec::log("C", 1e-12, 10.0 * self.scale.loss_max.max(1e-12))
                .described("loss drop per unit of annealing area (the gain from LR decay)"),
        ]
    }

    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let last = check_inputs("momentum", &self.params(), params, lrs, steps, out)?;
        let (l0, a, alpha, c) = (params[0], params[1], params[2], params[3]);
        let pos = self.for_each_area(lrs, steps, |i, s1, s2| {
            if s1 <= 0.0 {
                return Err(LawError::ZeroLrArea {
                    law: "momentum",
                    step: steps[i],
                });
            }
            out[i] = l0 + a * s1.powf(-alpha) - c * s2;
            Ok(())
        })?;
        debug_assert_eq!(pos, last);
        Ok(())
    }

    /// `S1` and `S2` do not depend on the parameters: `(ln S1, S2)` once per step for all
    /// vectors, then one `exp` per step and vector (a few ulps from [`LossLaw::predict`]'s
    /// `powf`).
    fn predict_many(
        &self,
        params: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Vec<Result<Vec<f64>, LawError>> {
        let areas = match check_grid("momentum", lrs, steps, steps.len()) {
            Ok(_) => self.areas(lrs, steps),
            Err(_) => None,
        };
        let Some(areas) = areas else {
            return predict_each(self, params, lrs, steps);
        };
        let specs = self.params();
        params
            .par_iter()
            .map(|p| {
                check_params("momentum", &specs, p)?;
                let (l0, a, alpha, c) = (p[0], p[1], p[2], p[3]);
                Ok(areas
                    .iter()
                    .map(|&(ln_s1, s2)| l0 + a * (-alpha * ln_s1).exp() - c * s2)
                    .collect())
            })
            .collect()
    }

    /// Exact derivatives: `(1, S1^(−α), −A S1^(−α) ln S1, −S2)`.
    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        check_inputs("momentum", &self.params(), params, lrs, steps, out)?;
        if jac.len() != steps.len() * 4 {
            return Err(LawError::OutputLength {
                law: "momentum",
                expected: steps.len() * 4,
                found: jac.len(),
            });
        }
        let (l0, a, alpha, c) = (params[0], params[1], params[2], params[3]);
        self.for_each_area(lrs, steps, |i, s1, s2| {
            if s1 <= 0.0 {
                return Err(LawError::ZeroLrArea {
                    law: "momentum",
                    step: steps[i],
                });
            }
            let pw = s1.powf(-alpha);
            out[i] = l0 + a * pw - c * s2;
            jac[4 * i..4 * i + 4].copy_from_slice(&[1.0, pw, -a * pw * s1.ln(), -s2]);
            Ok(())
        })?;
        Ok(true)
    }

    fn configure(&mut self, curves: &[TrainingCurve]) -> Result<(), LawError> {
        self.scale = DataScale::from_curves("momentum", curves)?;
        Ok(())
    }

    /// `L0 ∈ L_min · {0.7, 0.85, 0.95}` with `(A, α)` from the regression of
    /// `ln(L − L_min + 0.01)` on `ln S1`, × `C = c₀ · {0.1, 1, 10}` where `c₀ = 0.1 · (loss
    /// range) · (1 − λ)` makes a full decay worth a tenth of the observed range; ranked by
    /// Huber-on-log residuals, best first.
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        let specs = self.params();
        let pts = observed_points(curves, self.scale.lr_ref);
        if pts.is_empty() {
            let mut g = vec![0.5 * self.scale.loss_min, 1.0, 0.5, 1e-4];
            clamp_all(&specs, &mut g);
            return vec![g];
        }
        let (lmin, lmax) = pts.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
        let c0 = 0.1 * (lmax - lmin).max(1e-3 * lmax) * (1.0 - self.lambda);
        let mut scored = Vec::new();
        for f in [0.7, 0.85, 0.95] {
            let l0 = f * lmin;
            let (a, alpha) = power_guess(&pts, l0);
            for fc in [0.1, 1.0, 10.0] {
                let mut g = vec![l0, a, alpha, c0 * fc];
                clamp_all(&specs, &mut g);
                scored.push((score(self, &g, curves), g));
            }
        }
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        scored.into_iter().map(|(_, g)| g).collect()
    }
}
