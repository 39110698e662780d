//! An Adam-like (RMSprop) preconditioned NQM.

use std::fmt;

use super::{DiffusionDerivative, ModelError, QuadraticParams, SdeModel, check, quadratic_loss};

/// Parameters of [`Adam`]: the NQM parameters plus `beta2` and `eps`.
///
/// ```
/// use lrsde::model::AdamParams;
/// let p = AdamParams::default();
/// assert_eq!((p.beta2, p.eps), (0.999, 1e-8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamParams {
    /// Spectrum, noise, batch and initial value.
    pub quad: QuadraticParams,
    /// EMA coefficient of the second-moment estimate, in `[0, 1)` (default 0.999).
    pub beta2: f64,
    /// Denominator floor `ε > 0` (default 1e-8).
    pub eps: f64,
}

impl Default for AdamParams {
    fn default() -> Self {
        Self {
            quad: QuadraticParams::default(),
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl fmt::Display for AdamParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},beta2={},eps={}", self.quad, self.beta2, self.eps)
    }
}

/// RMSprop-style preconditioned SGD on the NQM: the step-time form of the RMSprop SDE of
/// Malladi, Lyu, Panigrahi & Arora (2022), with a mean-field second-moment state.
///
/// State `[x, u]` (length `2D`); `u_i` tracks the expected squared gradient
/// `E[g_i² | x] = (h_i x_i)² + s_i²` with EMA rate `1 − β₂`:
///
/// ```text
/// dX_i = −η (h_i X_i ds + s_i dW_i) / (√u_i + ε)
/// du_i = (1 − β₂) ( (h_i X_i)² + s_i² − u_i ) ds
/// ```
///
/// `u` starts at its target `(h_i x0)² + s_i²`, which makes bias correction unnecessary. At
/// `dt = 1`, EM is `x ← x − η (h x + s z)/(√u + ε)`, `u ← β₂ u + (1−β₂)((h x)² + s²)`: RMSprop
/// (Adam with `β₁ = 0`) whose squared-gradient average uses the expected rather than the sampled
/// squared gradient, and the previous `u`. First-moment momentum is not modelled. In the
/// noise-dominated regime `u ≈ s²`, i.e. SGD preconditioned by `H^{-1/2}`. Only `x` is noisy and
/// `g_i` depends on `u_i`, not on `x_i`, so Milstein equals EM.
///
/// ```
/// use lrsde::model::{Adam, AdamParams, SdeModel};
/// let m = Adam::new(AdamParams::default()).unwrap();
/// let mut x = vec![0.0; m.dim()];
/// m.init(&mut x);
/// assert_eq!(x[32], 1.0 + 1.0 / 16.0); // u_0 = (h_0 x0)² + s_0²
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
        check(
            params.beta2.is_finite() && (0.0..1.0).contains(&params.beta2),
            "adam",
            "beta2",
            params.beta2,
            "must be in [0, 1)",
        )?;
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

impl SdeModel for Adam {
    fn dim(&self) -> usize {
        2 * self.h.len()
    }

    fn noise_dim(&self) -> usize {
        self.h.len()
    }

    fn init(&self, x: &mut [f64]) {
        let d = self.h.len();
        let x0 = self.params.quad.x0;
        let (xs, us) = x.split_at_mut(d);
        xs.fill(x0);
        for ((u, hi), si) in us.iter_mut().zip(&self.h).zip(&self.s) {
            let g = hi * x0;
            *u = g * g + si * si;
        }
    }

    #[inline]
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        let d = self.h.len();
        let (xs, us) = x.split_at(d);
        let (fx, fu) = out.split_at_mut(d);
        let rate = 1.0 - self.params.beta2;
        let eps = self.params.eps;
        for i in 0..d.min(xs.len()).min(us.len()).min(fx.len()).min(fu.len()) {
            let g = self.h[i] * xs[i];
            fx[i] = -lr * g / (us[i].sqrt() + eps);
            fu[i] = rate * (g * g + self.s[i] * self.s[i] - us[i]);
        }
    }

    #[inline]
    fn diffusion(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        let us = &x[self.h.len().min(x.len())..];
        for ((o, si), u) in out.iter_mut().zip(&self.s).zip(us) {
            *o = lr * si / (u.sqrt() + self.params.eps);
        }
    }

    #[inline]
    fn loss(&self, x: &[f64]) -> f64 {
        quadratic_loss(&self.h, x)
    }
}

impl DiffusionDerivative for Adam {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(0.0);
    }
}
