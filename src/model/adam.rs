//! Adam (β₁ momentum, β₂ second moment, bias correction) on the NQM.

use std::fmt;

use super::{DiffusionDerivative, ModelError, QuadraticParams, SdeModel, check};

/// Parameters of [`Adam`]: the NQM parameters plus `beta1`, `beta2` and `eps`.
///
/// ```
/// use lrsde::model::AdamParams;
/// let p = AdamParams::default();
/// assert_eq!((p.beta1, p.beta2, p.eps), (0.9, 0.999, 1e-8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamParams {
    /// Spectrum, noise, batch and initial value.
    pub quad: QuadraticParams,
    /// EMA coefficient of the first moment (momentum), in `[0, 1)` (default 0.9; 0 is RMSprop
    /// with bias correction).
    pub beta1: f64,
    /// EMA coefficient of the second-moment estimate, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// Denominator floor `ε > 0` (default 1e-8).
    pub eps: f64,
}

impl Default for AdamParams {
    fn default() -> Self {
        Self {
            quad: QuadraticParams::default(),
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl fmt::Display for AdamParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},beta1={},beta2={},eps={}",
            self.quad, self.beta1, self.beta2, self.eps
        )
    }
}

/// Adam on the NQM: first-moment momentum `β₁`, second-moment EMA `β₂`, bias correction of
/// both, as a step-time SDE whose Euler–Maruyama step at `dt = 1` is one Adam update.
///
/// The stochastic gradient is `g = h ⊙ x + s ⊙ z`. Discrete Adam is
///
/// ```text
/// m ← β₁ m + (1−β₁) g            v ← β₂ v + (1−β₂) E[g² | x]
/// x ← x − η m̂ / (√v̂ + ε)        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
/// ```
///
/// with the second moment tracked in mean field, `E[g_i² | x] = (h_i x_i)² + s_i²`, as in the
/// Adam SDE of Malladi, Lyu, Panigrahi & Arora (2022), where `v` follows a deterministic ODE
/// (an EMA over ~`1/(1−β₂)` updates averages the sampled `g²` out). The noise enters `m` only,
/// and `x` moves with the *new* `m`; so that one diagonal-noise EM step reproduces this order
/// exactly, the state is `[m, y, v, c, β₁ᵗ, β₂ᵗ]` (length `4D + 2`, `m` the noisy part) with
/// `y` the previous iterate and `c_i = η / ((1 − β₁ᵗ)(√v̂_i + ε))` the last step's gain: the
/// current iterate is `x = y − c ⊙ m` and the loss is `½ Σ h_i x_i²`. The drift of each
/// auxiliary coordinate is its one-update increment, so the model is defined by its `dt = 1`
/// step (sub-steps do not refine it towards a continuous limit). The diffusion `(1−β₁) s_i`
/// does not depend on the state: Milstein equals EM.
///
/// `tests/sim_adam.rs` checks the ensemble's mean loss against a direct discrete Adam (sampled
/// `g²` in `v`) within a few standard errors.
///
/// ```
/// use lrsde::model::{Adam, AdamParams, SdeModel};
/// let m = Adam::new(AdamParams::default()).unwrap();
/// assert_eq!((m.dim(), m.noise_dim()), (4 * 32 + 2, 32));
/// let mut x = vec![0.0; m.dim()];
/// m.init(&mut x);
/// assert_eq!(m.loss(&x), 0.5 * (1..=32).map(|i| 1.0 / i as f64).sum::<f64>());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    params: AdamParams,
    h: Vec<f64>,
    s: Vec<f64>,
}

impl Adam {
    /// Validates the parameters and precomputes the spectrum.
    pub fn new(params: AdamParams) -> Result<Self, ModelError> {
        params.quad.validate("adam")?;
        for (key, beta) in [("beta1", params.beta1), ("beta2", params.beta2)] {
            check(
                beta.is_finite() && (0.0..1.0).contains(&beta),
                "adam",
                key,
                beta,
                "must be in [0, 1)",
            )?;
        }
        check(
            params.eps.is_finite() && params.eps > 0.0,
            "adam",
            "eps",
            params.eps,
            "must be finite and > 0",
        )?;
        let (h, s) = params.quad.spectrum();
        Ok(Self {
            params,
            h,
            s,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &AdamParams {
        &self.params
    }

}

impl SdeModel for Adam {
    fn dim(&self) -> usize {
        4 * self.h.len() + 2
    }

    fn noise_dim(&self) -> usize {
        self.h.len()
    }

    fn init(&self, x: &mut [f64]) {
        let d = self.h.len();
        x.fill(0.0);
        x[d..2 * d].fill(self.params.quad.x0);
        x[4 * d] = 1.0;
        x[4 * d + 1] = 1.0;
    }

    #[inline]
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        let d = self.h.len();
        let AdamParams {
            beta1, beta2, eps, ..
        } = self.params;
        let (b1t, b2t) = (beta1 * x[4 * d], beta2 * x[4 * d + 1]);
        out[4 * d] = b1t - x[4 * d];
        out[4 * d + 1] = b2t - x[4 * d + 1];
        // Gain of this update: η / ((1 − β₁ᵗ)(√v̂ + ε)), with v̂ = v / (1 − β₂ᵗ).
        let (gain, vcorr) = (lr / (1.0 - b1t), 1.0 / (1.0 - b2t));
        let (m, rest) = x.split_at(d);
        let (y, rest) = rest.split_at(d);
        let (v, c) = rest.split_at(d);
        let (fm, rest) = out.split_at_mut(d);
        let (fy, rest) = rest.split_at_mut(d);
        let (fv, fc) = rest.split_at_mut(d);
        for i in 0..d {
            let xi = y[i] - c[i] * m[i];
            let g = self.h[i] * xi;
            let si = self.s[i];
            fm[i] = (1.0 - beta1) * (g - m[i]);
            fy[i] = xi - y[i];
            let dv = (1.0 - beta2) * (g * g + si * si - v[i]);
            fv[i] = dv;
            let vhat = (v[i] + dv) * vcorr;
            fc[i] = gain / (vhat.sqrt() + eps) - c[i];
        }
    }

    #[inline]
    fn diffusion(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        let k = 1.0 - self.params.beta1;
        for (o, si) in out.iter_mut().zip(&self.s) {
            *o = k * si;
        }
    }

    #[inline]
    fn loss(&self, x: &[f64]) -> f64 {
        let d = self.h.len();
        let (m, rest) = x.split_at(d);
        let (y, rest) = rest.split_at(d);
        let c = &rest[d..2 * d];
        let mut acc = 0.0;
        for i in 0..d {
            let xi = y[i] - c[i] * m[i];
            acc += self.h[i] * xi * xi;
        }
        0.5 * acc
    }
}

impl DiffusionDerivative for Adam {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(0.0);
    }
}
