//! The noisy quadratic model (NQM) as an [`SdeModel`]; its parameters live in [`crate::nqm`].

use super::{DiagonalForm, DiffusionDerivative, ModelError, SdeModel, quadratic_loss};
use crate::nqm::{NqmDiffusion, NqmParams};

/// The noisy quadratic model (Zhang et al. 2019) in step time:
///
/// `dX_i = −η h_i X_i ds + η s_i ψ(X_i) dW_i`, loss `L = ½ Σ h_i X_i²`,
///
/// with `ψ = 1` ([`NqmDiffusion::Additive`]) or `ψ(x) = √(1+x²)` ([`NqmDiffusion::Sqrt1px2`]).
/// Euler–Maruyama with `dt = 1` is exactly SGD with Gaussian gradient noise,
/// `x ← x − η (h x + s z)` (up to the sign of the symmetric noise), which is stable iff
/// `η·hmax < 2`.
///
/// ```
/// use lrsde::model::{Nqm, SdeModel};
/// use lrsde::nqm::NqmParams;
/// let m = Nqm::new(NqmParams::default()).unwrap();
/// let mut x = vec![0.0; m.dim()];
/// m.init(&mut x);
/// let mut f = vec![0.0; m.dim()];
/// m.drift(&x, 0.5, &mut f);
/// assert_eq!(f[0], -0.5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Nqm {
    params: NqmParams,
    h: Vec<f64>,
    s: Vec<f64>,
}

impl Nqm {
    /// Validates the parameters and precomputes the spectrum.
    pub fn new(params: NqmParams) -> Result<Self, ModelError> {
        params.quad.validate("nqm")?;
        let (h, s) = params.quad.spectrum();
        Ok(Self { params, h, s })
    }

    /// The parameters.
    pub fn params(&self) -> &NqmParams {
        &self.params
    }

    /// Curvatures `h_i`.
    pub fn curvatures(&self) -> &[f64] {
        &self.h
    }

    /// Noise scales `s_i`.
    pub fn noise_scales(&self) -> &[f64] {
        &self.s
    }
}

impl SdeModel for Nqm {
    fn dim(&self) -> usize {
        self.h.len()
    }

    fn init(&self, x: &mut [f64]) {
        x.fill(self.params.quad.x0);
    }

    #[inline]
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        for ((o, hi), xi) in out.iter_mut().zip(&self.h).zip(x) {
            *o = -(lr * hi) * xi;
        }
    }

    #[inline]
    fn diffusion(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        match self.params.diffusion {
            NqmDiffusion::Additive => {
                for (o, si) in out.iter_mut().zip(&self.s) {
                    *o = lr * si;
                }
            }
            NqmDiffusion::Sqrt1px2 => {
                for ((o, si), xi) in out.iter_mut().zip(&self.s).zip(x) {
                    *o = lr * si * (1.0 + xi * xi).sqrt();
                }
            }
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
            diffusion: self.params.diffusion,
            momentum: None,
        })
    }
}

impl DiffusionDerivative for Nqm {
    fn diffusion_derivative(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        match self.params.diffusion {
            NqmDiffusion::Additive => out.fill(0.0),
            NqmDiffusion::Sqrt1px2 => {
                for ((o, si), xi) in out.iter_mut().zip(&self.s).zip(x) {
                    *o = lr * si * xi / (1.0 + xi * xi).sqrt();
                }
            }
        }
    }

    #[inline]
    fn milstein_product(&self, x: &[f64], lr: f64, _g: &[f64], out: &mut [f64]) {
        match self.params.diffusion {
            NqmDiffusion::Additive => out.fill(0.0),
            NqmDiffusion::Sqrt1px2 => {
                for ((o, si), xi) in out.iter_mut().zip(&self.s).zip(x) {
                    let b = lr * si;
                    *o = b * b * xi;
                }
            }
        }
    }
}
