//! SDE models of training.
//!
//! A model gives the drift and the diagonal diffusion of an Itô SDE in *step time* (one unit of
//! time = one optimizer update), both depending on the current learning rate. Euler–Maruyama with
//! `dt = 1` on such a model is SGD with Gaussian gradient noise.
//!
//! All methods work on caller-owned slices: nothing allocates per step.

use thiserror::Error;

/// An Itô SDE `dX = f(X, η) dt + g(X, η) ⊙ dW` with diagonal noise, in step time.
///
/// ```
/// use lrsde::model::SdeModel;
/// /// dX = -η X dt + η dW on one coordinate.
/// struct Decay;
/// impl SdeModel for Decay {
///     fn dim(&self) -> usize { 1 }
///     fn init(&self, x: &mut [f64]) { x[0] = 1.0 }
///     fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]) { out[0] = -lr * x[0] }
///     fn diffusion(&self, _x: &[f64], lr: f64, out: &mut [f64]) { out[0] = lr }
///     fn loss(&self, x: &[f64]) -> f64 { 0.5 * x[0] * x[0] }
/// }
/// let mut x = [0.0];
/// Decay.init(&mut x);
/// assert_eq!(Decay.loss(&x), 0.5);
/// ```
pub trait SdeModel: Sync {
    /// Length of the state vector.
    fn dim(&self) -> usize;
    /// Writes the initial state (the same on every path).
    fn init(&self, x: &mut [f64]);
    /// Writes the drift `f(x, lr)` per unit step time.
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]);
    /// Writes the diagonal diffusion `g(x, lr)`: coordinate `i` receives `g_i dW_i`.
    fn diffusion(&self, x: &[f64], lr: f64, out: &mut [f64]);
    /// The training loss of a state.
    fn loss(&self, x: &[f64]) -> f64;
}

/// What Milstein needs beyond [`SdeModel`]: the derivative of each diagonal diffusion entry
/// with respect to its own coordinate, `∂g_i/∂x_i`.
pub trait DiffusionDerivative: SdeModel {
    /// Writes `∂g_i/∂x_i (x, lr)` for every coordinate.
    fn diffusion_derivative(&self, x: &[f64], lr: f64, out: &mut [f64]);
}

/// Errors in model specs and parameters.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A model parameter is outside its valid range.
    #[error("model parameter `{key}` = {value} is invalid: {reason}")]
    BadParam {
        /// Parameter name as written in a model spec.
        key: String,
        /// The offending value.
        value: f64,
        /// What the valid range is.
        reason: String,
    },
}
