//! Test helper shared by the kernel tests: a model wrapper that hides the fast path.

use lrsde::model::{DiffusionDerivative, SdeModel};

/// Delegates everything except `diagonal_form`, so the ensemble takes the generic kernel.
pub struct Generic<M>(pub M);

impl<M: SdeModel> SdeModel for Generic<M> {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn noise_dim(&self) -> usize {
        self.0.noise_dim()
    }
    fn init(&self, x: &mut [f64]) {
        self.0.init(x)
    }
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        self.0.drift(x, lr, out)
    }
    fn diffusion(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        self.0.diffusion(x, lr, out)
    }
    fn loss(&self, x: &[f64]) -> f64 {
        self.0.loss(x)
    }
}

impl<M: DiffusionDerivative> DiffusionDerivative for Generic<M> {
    fn diffusion_derivative(&self, x: &[f64], lr: f64, out: &mut [f64]) {
        self.0.diffusion_derivative(x, lr, out)
    }
    fn milstein_product(&self, x: &[f64], lr: f64, g: &[f64], out: &mut [f64]) {
        self.0.milstein_product(x, lr, g, out)
    }
}
