//! NQM with loss-proportional (multiplicative) gradient noise.

use super::{DiffusionDerivative, ModelError, QuadraticParams, SdeModel, quadratic_loss};

/// The NQM with gradient-noise covariance proportional to the current loss, `Σ = (2L/B)·noise·H`
/// (Mori, Liu, Liu & Ueda 2022, for mean-square losses near a minimum):
///
/// ```text
/// dX_i = −η h_i X_i ds + η s_i √(2 L(X)) dW_i,   s_i = √(noise·h_i / batch),   L = ½ Σ h_j X_j²
/// ```
///
/// The noise vanishes at the minimum and grows with the loss, so Milstein and EM differ.
/// [`DiffusionDerivative`] is exact: `∂g_i/∂x_i = η s_i h_i x_i / √(2L)` (0 at `L = 0`) and
/// `g_i ∂g_i/∂x_i = η² s_i² h_i x_i`. Because `g_i` depends on every coordinate through `L`, the
/// noise is not commutative: diagonal Milstein drops the cross terms and keeps strong order ½
/// (weak order 1) on this model.
///
/// ```
/// use lrsde::model::{LossNoise, SdeModel};
/// use lrsde::nqm::QuadraticParams;
/// let m = LossNoise::new(QuadraticParams { dim: 1, ..Default::default() }).unwrap();
/// let mut g = [0.0];
/// m.diffusion(&[2.0], 1.0, &mut g); // 2L = 4, s = 1/4
/// assert_eq!(g[0], 0.5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LossNoise {
    params: QuadraticParams,
    h: Vec<f64>,
    s: Vec<f64>,
}

impl LossNoise {
    /// Validates the parameters and precomputes the spectrum.
    pub fn new(params: QuadraticParams) -> Result<Self, ModelError> {
        params.validate("lossnoise")?;
        let (h, s) = params.spectrum();
        Ok(Self { params, h, s })
    }

    /// The parameters.
    pub fn params(&self) -> &QuadraticParams {
        &self.params
    }
}

impl SdeModel for LossNoise {
    fn dim(&self) -> usize {
        self.h.len()
    }

    fn init(&self, x: &mut [f64]) {
        x.fill(self.params.x0);
    }

    #[inline]
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        for ((o, hi), xi) in out.iter_mut().zip(&self.h).zip(x) {
            *o = -(lr * hi) * xi;
        }
    }

    #[inline]
    fn diffusion(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        let amp = lr * (2.0 * quadratic_loss(&self.h, x)).sqrt();
        for (o, si) in out.iter_mut().zip(&self.s) {
            *o = amp * si;
        }
    }

    #[inline]
    fn loss(&self, x: &[f64]) -> f64 {
        quadratic_loss(&self.h, x)
    }
}

impl DiffusionDerivative for LossNoise {
    fn diffusion_derivative(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        let root = (2.0 * quadratic_loss(&self.h, x)).sqrt();
        if root > 0.0 {
            for (((o, si), hi), xi) in out.iter_mut().zip(&self.s).zip(&self.h).zip(x) {
                *o = lr * si * hi * xi / root;
            }
        } else {
            // At the minimum √(2L) has no derivative; 0 is its subgradient in every direction.
            out.fill(0.0);
        }
    }

    #[inline]
    fn milstein_product(&self, x: &[f64], lr: f64, _g: &[f64], out: &mut [f64]) {
        let lr2 = lr * lr;
        for (((o, si), hi), xi) in out.iter_mut().zip(&self.s).zip(&self.h).zip(x) {
            *o = lr2 * si * si * hi * xi;
        }
    }
}
