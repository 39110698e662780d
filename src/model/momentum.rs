//! Heavy-ball momentum on the NQM.

use std::fmt;

use super::{
    DiagonalForm, DiffusionDerivative, ModelError, NqmDiffusion, QuadraticParams, SdeModel, check,
    quadratic_loss,
};

/// Parameters of [`Momentum`]: the NQM parameters plus the momentum coefficient `mu`.
///
/// ```
/// use lrsde::model::MomentumParams;
/// assert_eq!(MomentumParams::default().mu, 0.9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MomentumParams {
    /// Spectrum, noise, batch and initial value.
    pub quad: QuadraticParams,
    /// Momentum coefficient `μ ∈ [0, 1)` (default 0.9).
    pub mu: f64,
}

impl Default for MomentumParams {
    fn default() -> Self {
        Self {
            quad: QuadraticParams::default(),
            mu: 0.9,
        }
    }
}

impl fmt::Display for MomentumParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},mu={}", self.quad, self.mu)
    }
}

/// Heavy-ball SGD on the NQM, as an SDE whose Euler–Maruyama step at `dt = 1` *is* heavy ball.
///
/// State `[x, p]` (length `2D`), `p` the previous iterate, both starting at `x0` (zero velocity):
///
/// ```text
/// dX = [ μ (X − P) − η h ⊙ X ] ds + η s ⊙ dW
/// dP = (X − P) ds
/// ```
///
/// At `dt = 1`, EM gives `x' = x + μ(x − p) − η(h x + s z)` and `p' = x`: heavy ball
/// `v' = μ v − η g`, `x' = x + v'` with `v = x − p`, whose quadratic stability condition is
/// `0 < η h < 2(1 + μ)`. (EM on the naive velocity form `dV = [−(1−μ)V − η∇f] ds`, `dX = V ds`
/// updates `x` with the *old* velocity and is a different, wrongly-stable recursion.) In terms of
/// `V = X − P` this SDE is `dV = [−(1−μ)V − η h X] ds + η s dW`, `dX = (μ V − η h X) ds + η s dW`:
/// the same first-order SDE limit up to `O(η)` terms. Only `x` is noisy; the diffusion does not
/// depend on the state, so Milstein equals EM.
///
/// ```
/// use lrsde::model::{Momentum, MomentumParams, SdeModel};
/// let m = Momentum::new(MomentumParams::default()).unwrap();
/// assert_eq!((m.dim(), m.noise_dim()), (64, 32));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum {
    params: MomentumParams,
    h: Vec<f64>,
    s: Vec<f64>,
}

impl Momentum {
    /// Validates the parameters and precomputes the spectrum.
    pub fn new(params: MomentumParams) -> Result<Self, ModelError> {
        params.quad.validate("momentum")?;
        check(
            params.mu.is_finite() && (0.0..1.0).contains(&params.mu),
            "momentum",
            "mu",
            params.mu,
            "must be in [0, 1)",
        )?;
        let (h, s) = params.quad.spectrum();
        Ok(Self { params, h, s })
    }

    /// The parameters.
    pub fn params(&self) -> &MomentumParams {
        &self.params
    }

    /// Curvatures `h_i`.
    pub fn curvatures(&self) -> &[f64] {
        &self.h
    }
}

impl SdeModel for Momentum {
    fn dim(&self) -> usize {
        2 * self.h.len()
    }

    fn noise_dim(&self) -> usize {
        self.h.len()
    }

    fn init(&self, x: &mut [f64]) {
        x.fill(self.params.quad.x0);
    }

    #[inline]
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        let d = self.h.len();
        let (xs, ps) = x.split_at(d);
        let (fx, fp) = out.split_at_mut(d);
        let mu = self.params.mu;
        for i in 0..d.min(xs.len()).min(ps.len()).min(fx.len()).min(fp.len()) {
            let v = xs[i] - ps[i];
            fx[i] = mu * v - (lr * self.h[i]) * xs[i];
            fp[i] = v;
        }
    }

    #[inline]
    fn diffusion(&self, _x: &[f64], lr: f64, out: &mut [f64]) {
        for (o, si) in out.iter_mut().zip(&self.s) {
            *o = lr * si;
        }
    }

    #[inline]
    fn loss(&self, x: &[f64]) -> f64 {
        quadratic_loss(&self.h, x)
    }

    fn diagonal_form(&self) -> Option<DiagonalForm<'_>> {
        Some(DiagonalForm {
            curvature: &self.h,
            noise_scale: &self.s,
            diffusion: NqmDiffusion::Additive,
            momentum: Some(self.params.mu),
        })
    }
}

impl DiffusionDerivative for Momentum {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(0.0);
    }
}
