//! The noisy quadratic model (NQM) and the parameters shared by its variants.

use std::fmt;

use super::{DiagonalForm, DiffusionDerivative, ModelError, SdeModel, check, quadratic_loss};

/// Largest accepted `dim`: a guard against specs that would allocate absurd amounts of memory.
pub(crate) const MAX_DIM: usize = 1 << 24;

/// The parameters every NQM-family model shares (keys `dim, hmax, power, noise, batch, x0`).
///
/// Curvatures follow a power law `h_i = hmax·(i+1)^(−power)`, `i = 0..dim`; the per-example
/// gradient-noise variance is `noise·h_i` ("Fisher ≈ Hessian"), so a batch of `batch` examples
/// has noise scale `s_i = √(noise·h_i / batch)`. Every coordinate starts at `x0`.
///
/// ```
/// use lrsde::model::QuadraticParams;
/// let p = QuadraticParams::default();
/// assert_eq!(p.to_string(), "dim=32,hmax=1,power=1,noise=1,batch=16,x0=1");
/// assert_eq!(p.curvature(1), 0.5);
/// assert_eq!(p.noise_scale(0), 0.25);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuadraticParams {
    /// Number of coordinates `D` (≥ 1).
    pub dim: usize,
    /// Largest curvature `h_0` (> 0).
    pub hmax: f64,
    /// Spectrum exponent (≥ 0).
    pub power: f64,
    /// Per-example gradient-noise variance per unit curvature (≥ 0).
    pub noise: f64,
    /// Batch size (> 0; fractional values are accepted as a noise scale).
    pub batch: f64,
    /// Initial value of every coordinate.
    pub x0: f64,
}

impl Default for QuadraticParams {
    fn default() -> Self {
        Self {
            dim: 32,
            hmax: 1.0,
            power: 1.0,
            noise: 1.0,
            batch: 16.0,
            x0: 1.0,
        }
    }
}

impl QuadraticParams {
    /// The keys these parameters are written with.
    pub const KEYS: [&'static str; 6] = ["dim", "hmax", "power", "noise", "batch", "x0"];

    /// Checks every parameter; `model` names the model in the error.
    ///
    /// ```
    /// use lrsde::model::QuadraticParams;
    /// let bad = QuadraticParams { batch: 0.0, ..Default::default() };
    /// assert!(bad.validate("nqm").unwrap_err().to_string().contains("batch"));
    /// ```
    pub fn validate(&self, model: &'static str) -> Result<(), ModelError> {
        check(self.dim >= 1, model, "dim", self.dim as f64, "must be >= 1")?;
        check(
            self.dim <= MAX_DIM,
            model,
            "dim",
            self.dim as f64,
            "must be <= 16777216",
        )?;
        check(
            self.hmax.is_finite() && self.hmax > 0.0,
            model,
            "hmax",
            self.hmax,
            "must be finite and > 0",
        )?;
        check(
            self.power.is_finite() && self.power >= 0.0,
            model,
            "power",
            self.power,
            "must be finite and >= 0",
        )?;
        check(
            self.noise.is_finite() && self.noise >= 0.0,
            model,
            "noise",
            self.noise,
            "must be finite and >= 0",
        )?;
        check(
            self.batch.is_finite() && self.batch > 0.0,
            model,
            "batch",
            self.batch,
            "must be finite and > 0",
        )?;
        check(self.x0.is_finite(), model, "x0", self.x0, "must be finite")
    }

    /// Curvature `h_i = hmax·(i+1)^(−power)`.
    pub fn curvature(&self, i: usize) -> f64 {
        self.hmax * ((i + 1) as f64).powf(-self.power)
    }

    /// Noise scale `s_i = √(noise·h_i / batch)`.
    pub fn noise_scale(&self, i: usize) -> f64 {
        (self.noise * self.curvature(i) / self.batch).sqrt()
    }

    pub(crate) fn spectrum(&self) -> (Vec<f64>, Vec<f64>) {
        let h = (0..self.dim).map(|i| self.curvature(i)).collect();
        let s = (0..self.dim).map(|i| self.noise_scale(i)).collect();
        (h, s)
    }
}

impl fmt::Display for QuadraticParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dim={},hmax={},power={},noise={},batch={},x0={}",
            self.dim, self.hmax, self.power, self.noise, self.batch, self.x0
        )
    }
}

/// How the NQM's gradient noise depends on the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NqmDiffusion {
    /// `g_i = η s_i` (spec `diffusion=additive`, the default): Milstein equals EM.
    #[default]
    Additive,
    /// `g_i = η s_i √(1 + x_i²)` (spec `diffusion=sqrt1px2`): the state-dependent noise of
    /// workload W's Milstein variant, where `g_i ∂g_i/∂x_i = η² s_i² x_i`.
    Sqrt1px2,
}

impl NqmDiffusion {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Additive => "additive",
            Self::Sqrt1px2 => "sqrt1px2",
        }
    }
}

/// Parameters of [`Nqm`]: the shared quadratic parameters plus the diffusion form.
///
/// ```
/// use lrsde::model::{NqmDiffusion, NqmParams};
/// let p = NqmParams::default();
/// assert_eq!(p.diffusion, NqmDiffusion::Additive);
/// assert_eq!(p.quad.dim, 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct NqmParams {
    /// Spectrum, noise, batch and initial value.
    pub quad: QuadraticParams,
    /// State dependence of the noise.
    pub diffusion: NqmDiffusion,
}

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
/// use lrsde::model::{Nqm, NqmParams, SdeModel};
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
