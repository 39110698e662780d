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
/// The stochastic gradient of update `k` is `g_k = h ⊙ x_{k−1} + s ⊙ z_k`, and Adam is
///
/// ```text
/// m_k = β₁ m_{k−1} + (1−β₁) g_k        v_k = β₂ v_{k−1} + (1−β₂) g_k²
/// x_k = x_{k−1} − η_k m̂_k / (√v̂_k + ε)   m̂_k = m_k / (1 − β₁ᵏ),  v̂_k = v_k / (1 − β₂ᵏ)
/// ```
///
/// (Kingma & Ba; the bias-corrected form whose SDE limit Malladi, Lyu, Panigrahi & Arora 2022
/// derive). The noise enters `m` only, linearly; `v` needs the *sampled* `g_k²` and `x` the new
/// `m_k`, which one diagonal-noise step cannot give. So the state lags one update behind:
/// `[m_k, m_{k−1}, v_{k−1}, x_{k−1}, η_k, β₁ᵏ, β₂ᵏ]` (length `4D + 3`, `m` the noisy part), from
/// which `g_k = (m_k − β₁ m_{k−1}) / (1−β₁)`, `v_k` and `x_k` follow exactly; the loss is
/// `½ Σ h_i x_{k,i}²` of that `x_k`. The drift of each auxiliary coordinate is its one-update
/// increment, so the model is defined by its `dt = 1` step (sub-steps do not refine it towards
/// a continuous limit). The diffusion `(1−β₁) s_i` does not depend on the state: Milstein
/// equals EM.
///
/// `tests/sim_adam.rs` checks the ensemble's mean loss against a direct discrete Adam within a
/// few standard errors.
///
/// ```
/// use lrsde::model::{Adam, AdamParams, SdeModel};
/// let m = Adam::new(AdamParams::default()).unwrap();
/// assert_eq!((m.dim(), m.noise_dim()), (4 * 32 + 3, 32));
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
        Ok(Self { params, h, s })
    }

    /// The parameters.
    pub fn params(&self) -> &AdamParams {
        &self.params
    }
}

/// Bias-correction factors of the lagged state: `None` before the first update, else
/// `(η_k / (1 − β₁ᵏ), 1 / (1 − β₂ᵏ))`.
#[inline]
fn gains(x: &[f64], d: usize) -> Option<(f64, f64)> {
    let (eta, b1, b2) = (x[4 * d], x[4 * d + 1], x[4 * d + 2]);
    (b1 != 1.0).then(|| (eta / (1.0 - b1), 1.0 / (1.0 - b2)))
}

impl Adam {
    /// `(x_{k,i}, v_{k,i})` from the lagged state (`gains` from [`gains`]).
    #[inline(always)]
    fn current(&self, x: &[f64], i: usize, gains: Option<(f64, f64)>) -> (f64, f64) {
        let d = self.h.len();
        let AdamParams {
            beta1, beta2, eps, ..
        } = self.params;
        let (m, mp, v, y) = (x[i], x[d + i], x[2 * d + i], x[3 * d + i]);
        match gains {
            // No update yet: x_0 and v_0 = 0.
            None => (y, 0.0),
            Some((gain, vcorr)) => {
                let g = (m - beta1 * mp) / (1.0 - beta1);
                let v_new = beta2 * v + (1.0 - beta2) * g * g;
                (y - gain * m / ((v_new * vcorr).sqrt() + eps), v_new)
            }
        }
    }
}

impl SdeModel for Adam {
    fn dim(&self) -> usize {
        4 * self.h.len() + 3
    }

    fn noise_dim(&self) -> usize {
        self.h.len()
    }

    fn init(&self, x: &mut [f64]) {
        let d = self.h.len();
        x.fill(0.0);
        x[3 * d..4 * d].fill(self.params.quad.x0);
        x[4 * d + 1] = 1.0;
        x[4 * d + 2] = 1.0;
    }

    #[inline]
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        let d = self.h.len();
        let AdamParams { beta1, beta2, .. } = self.params;
        let gains = gains(x, d);
        for i in 0..d {
            let (xk, vk) = self.current(x, i, gains);
            let (m, mp, v, y) = (x[i], x[d + i], x[2 * d + i], x[3 * d + i]);
            out[i] = (1.0 - beta1) * (self.h[i] * xk - m);
            out[d + i] = m - mp;
            out[2 * d + i] = vk - v;
            out[3 * d + i] = xk - y;
        }
        out[4 * d] = lr - x[4 * d];
        out[4 * d + 1] = (beta1 - 1.0) * x[4 * d + 1];
        out[4 * d + 2] = (beta2 - 1.0) * x[4 * d + 2];
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
        let gains = gains(x, d);
        let mut acc = 0.0;
        for i in 0..d {
            let xk = self.current(x, i, gains).0;
            acc += self.h[i] * xk * xk;
        }
        0.5 * acc
    }
}

impl DiffusionDerivative for Adam {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(0.0);
    }
}
