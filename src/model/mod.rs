//! SDE models of training.
//!
//! A model gives the drift and the diagonal diffusion of an Itô SDE in *step time* (one unit of
//! time = one optimizer update), both depending on the current learning rate. Euler–Maruyama with
//! `dt = 1` on such a model is SGD with Gaussian gradient noise.
//!
//! All methods work on caller-owned slices: nothing allocates per step. Models are plain generic
//! parameters of the solvers and of [`crate::ensemble`], so the per-step path is monomorphised;
//! [`ModelSpec`] (the `name:key=value,…` text form) dispatches once into that generic code through
//! a [`ModelVisitor`].
//!
//! Built in:
//!
//! | spec name | type | state | noise |
//! |---|---|---|---|
//! | `nqm` | [`Nqm`] | `x` (D) | `η s_i` (additive) or `η s_i √(1+x_i²)` |
//! | `momentum` | [`Momentum`] | `[x, x_prev]` (2D) | `η s_i` on `x` |
//! | `adam` | [`Adam`] | `[m, m_prev, v, x_prev, η, β₁ᵗ, β₂ᵗ]` (4D+3) | `(1−β₁) s_i` on `m` |
//! | `lossnoise` | [`LossNoise`] | `x` (D) | `η s_i √(2 L(x))` |
//! | `ou` | [`Ou`] | scalar | `σ` |
//! | `gbm` | [`Gbm`] | scalar | `σ x` |

mod adam;
mod loss_noise;
mod momentum;
mod nqm;
mod reference;
mod spec;

pub(crate) use crate::nqm::{NqmDiffusion, NqmParams, QuadraticParams};
pub use adam::{Adam, AdamParams};
pub use loss_noise::LossNoise;
pub use momentum::{Momentum, MomentumParams};
pub use nqm::Nqm;
pub use reference::{Gbm, Ou};
pub(crate) use spec::ModelEntries;
pub use spec::{ModelSpec, ModelVisitor};

use thiserror::Error;

/// An Itô SDE `dX = f(X, η) dt + g(X, η) ⊙ dW` with diagonal noise, in step time.
///
/// Only the first [`noise_dim`](SdeModel::noise_dim) coordinates receive noise (auxiliary state
/// such as a previous iterate or a second-moment estimate is noiseless); the solvers draw exactly
/// `noise_dim()` standard normals per (sub)step.
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
    /// Number of leading state coordinates that receive noise (`<= dim()`); the rest have zero
    /// diffusion. Defaults to `dim()`.
    fn noise_dim(&self) -> usize {
        self.dim()
    }
    /// Writes the initial state (the same on every path). `x.len() == dim()`.
    fn init(&self, x: &mut [f64]);
    /// Writes the drift `f(x, lr)` per unit step time. `out.len() == dim()`.
    fn drift(&self, x: &[f64], lr: f64, out: &mut [f64]);
    /// Writes the diagonal diffusion `g(x, lr)` of the noisy coordinates: coordinate `i` receives
    /// `g_i dW_i`. `out.len() == noise_dim()`.
    fn diffusion(&self, x: &[f64], lr: f64, out: &mut [f64]);
    /// The training loss of a state.
    fn loss(&self, x: &[f64]) -> f64;

    /// The closed form of a built-in NQM-family model, which lets the ensemble run it on its
    /// blocked, vectorised fast path instead of calling [`drift`](Self::drift),
    /// [`diffusion`](Self::diffusion) and [`loss`](Self::loss) per path and step.
    ///
    /// The default, `None`, keeps the generic path (every user model). [`DiagonalForm`] cannot
    /// be built outside this crate: the fast path reproduces the built-in models' arithmetic
    /// operation by operation, so it gives bit-for-bit the numbers of the generic path.
    ///
    /// ```
    /// use lrsde::model::{Nqm, Ou, SdeModel};
    /// assert!(Nqm::new(Default::default()).unwrap().diagonal_form().is_some());
    /// assert!(Ou::default().diagonal_form().is_none());
    /// ```
    fn diagonal_form(&self) -> Option<DiagonalForm<'_>> {
        None
    }
}

/// What the ensemble's fast path needs to know of an NQM-family model (see
/// [`SdeModel::diagonal_form`]): per noisy coordinate `i < D`,
///
/// * drift `−(η h_i) x_i`, or with heavy-ball momentum `μ (x_i − p_i) − (η h_i) x_i` and
///   `p_i` (state coordinate `D + i`) drifting by `x_i − p_i`;
/// * diffusion `η s_i` or `η s_i √(1 + x_i²)`, Milstein coefficient `0` or `(η s_i)² x_i`;
/// * loss `½ Σ h_i x_i²` over the first `D` coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct DiagonalForm<'a> {
    /// Curvatures `h_i` (length `D`, the noise dimension).
    pub curvature: &'a [f64],
    /// Noise scales `s_i` (length `D`).
    pub noise_scale: &'a [f64],
    /// State dependence of the noise.
    pub diffusion: NqmDiffusion,
    /// Heavy-ball coefficient `μ`, with state `[x, p]` (length `2D`); `None`: state `x` only.
    pub momentum: Option<f64>,
}

/// What Milstein needs beyond [`SdeModel`]: the derivative of each diagonal diffusion entry
/// with respect to its own coordinate, `∂g_i/∂x_i`.
///
/// The diagonal Milstein scheme uses only these own-coordinate derivatives. It has strong order 1
/// when `g_i` depends on no other *noisy* coordinate (as in every built-in model except
/// [`LossNoise`]); otherwise the dropped cross terms need Lévy areas and the scheme keeps strong
/// order ½ (weak order 1 either way).
///
/// ```
/// use lrsde::model::{DiffusionDerivative, SdeModel};
/// /// Geometric Brownian motion dX = 0.1 X dt + 0.2 X dW.
/// struct G;
/// impl SdeModel for G {
///     fn dim(&self) -> usize { 1 }
///     fn init(&self, x: &mut [f64]) { x[0] = 1.0 }
///     fn drift(&self, x: &[f64], _lr: f64, out: &mut [f64]) { out[0] = 0.1 * x[0] }
///     fn diffusion(&self, x: &[f64], _lr: f64, out: &mut [f64]) { out[0] = 0.2 * x[0] }
///     fn loss(&self, x: &[f64]) -> f64 { x[0] }
/// }
/// impl DiffusionDerivative for G {
///     fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) { out[0] = 0.2 }
/// }
/// let (g, mut gg) = ([0.4], [0.0]);
/// G.milstein_product(&[2.0], 1.0, &g, &mut gg);
/// assert!((gg[0] - 0.08).abs() < 1e-15);
/// ```
pub trait DiffusionDerivative: SdeModel {
    /// Writes `∂g_i/∂x_i (x, lr)` for every noisy coordinate. `out.len() == noise_dim()`.
    fn diffusion_derivative(&self, x: &[f64], lr: f64, out: &mut [f64]);

    /// Writes the Milstein coefficient `g_i ∂g_i/∂x_i`, given `g = diffusion(x, lr)`.
    ///
    /// The default multiplies [`diffusion_derivative`](Self::diffusion_derivative) by `g`;
    /// models override it where the product has a simpler or better-conditioned closed form
    /// (e.g. `g ∝ √L`, whose derivative alone is 0/0 at `L = 0`).
    fn milstein_product(&self, x: &[f64], lr: f64, g: &[f64], out: &mut [f64]) {
        self.diffusion_derivative(x, lr, out);
        for (o, gi) in out.iter_mut().zip(g) {
            *o *= gi;
        }
    }
}

/// Errors in model specs and parameters. Every message names the model, key and value.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelError {
    /// A model parameter is outside its valid range.
    #[error("model `{model}`: parameter `{key}` = {value} is invalid: {reason}")]
    BadParam {
        /// Model name as written in a spec.
        model: &'static str,
        /// Parameter name as written in a model spec.
        key: &'static str,
        /// The offending value.
        value: f64,
        /// What the valid range is.
        reason: &'static str,
    },
    /// The spec string is empty.
    #[error("empty model spec; expected `name:key=value,…` with name one of {known}")]
    Empty {
        /// The known model names.
        known: &'static str,
    },
    /// The model name is not known.
    #[error("unknown model `{name}`; known models: {known}")]
    UnknownModel {
        /// The name as written.
        name: String,
        /// The known model names.
        known: &'static str,
    },
    /// A key is not a parameter of the model.
    #[error("model `{model}`: unknown key `{key}`; valid keys: {known}")]
    UnknownKey {
        /// Model name.
        model: &'static str,
        /// The key as written.
        key: String,
        /// The model's valid keys.
        known: String,
    },
    /// A key appears twice.
    #[error("model `{model}`: key `{key}` given more than once")]
    DuplicateKey {
        /// Model name.
        model: &'static str,
        /// The repeated key.
        key: String,
    },
    /// An entry is not of the form `key=value`.
    #[error("model `{model}`: entry `{entry}` is not of the form key=value")]
    Malformed {
        /// Model name.
        model: &'static str,
        /// The entry as written.
        entry: String,
    },
    /// A value does not parse as the key's type.
    #[error("model `{model}`: key `{key}` has bad value `{value}`: expected {expected}")]
    BadValue {
        /// Model name.
        model: &'static str,
        /// The key.
        key: &'static str,
        /// The value as written.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

impl From<crate::nqm::ParamError> for ModelError {
    fn from(e: crate::nqm::ParamError) -> Self {
        Self::BadParam {
            model: e.model,
            key: e.key,
            value: e.value,
            reason: e.reason,
        }
    }
}

/// Checks a model parameter, building the [`ModelError::BadParam`] on failure.
pub(crate) fn check(
    ok: bool,
    model: &'static str,
    key: &'static str,
    value: f64,
    reason: &'static str,
) -> Result<(), ModelError> {
    if ok {
        Ok(())
    } else {
        Err(ModelError::BadParam {
            model,
            key,
            value,
            reason,
        })
    }
}

/// The quadratic loss `½ Σ h_i x_i²` shared by the NQM family.
#[inline]
pub(crate) fn quadratic_loss(h: &[f64], x: &[f64]) -> f64 {
    // Four independent accumulators: a single running sum is one long dependency chain of
    // additions, which costs more than the rest of an EM step; the fixed order keeps results
    // reproducible.
    let n = h.len().min(x.len());
    let (h, x) = (&h[..n], &x[..n]);
    let mut acc = [0.0f64; 4];
    let mut hc = h.chunks_exact(4);
    let mut xc = x.chunks_exact(4);
    for (hh, xx) in (&mut hc).zip(&mut xc) {
        for k in 0..4 {
            acc[k] += hh[k] * xx[k] * xx[k];
        }
    }
    let mut tail = 0.0;
    for (hi, xi) in hc.remainder().iter().zip(xc.remainder()) {
        tail += hi * xi * xi;
    }
    0.5 * ((acc[0] + acc[1]) + (acc[2] + acc[3]) + tail)
}
