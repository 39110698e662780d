//! The one noisy-quadratic parameter type, its validation and its spectrum.

use std::fmt;

use thiserror::Error;

/// Largest accepted `dim`: a guard against specs that would allocate absurd amounts of memory.
const MAX_DIM: usize = 1 << 24;

/// A noisy-quadratic parameter outside its domain. [`crate::model::ModelError::BadParam`] and
/// [`crate::nqm::MomentsError::InvalidParameter`] carry the same fields.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("model `{model}`: parameter `{key}` = {value} is invalid: {reason}")]
pub struct ParamError {
    /// Model name as written in a spec (`nqm`, `momentum`, …).
    pub model: &'static str,
    /// Parameter name as written in a model spec.
    pub key: &'static str,
    /// The offending value.
    pub value: f64,
    /// What the valid range is.
    pub reason: &'static str,
}

fn check(
    ok: bool,
    model: &'static str,
    key: &'static str,
    value: f64,
    reason: &'static str,
) -> Result<(), ParamError> {
    if ok {
        Ok(())
    } else {
        Err(ParamError {
            model,
            key,
            value,
            reason,
        })
    }
}

/// `scale·(i+1)^(−power)`: entry `i` (0-based) of the noisy quadratic's power-law spectrum.
///
/// The one definition of that spectrum: the curvatures of every NQM-family model
/// ([`QuadraticParams::curvature`]), the `sde` law's `κ_i` and start `w_i(0)`, and the start
/// shape of the `sim:` laws all come from here.
///
/// ```
/// use lrsde::nqm::power_law_at;
/// assert_eq!(power_law_at(3.0, 2.0, 1), 0.75);
/// ```
#[inline]
pub fn power_law_at(scale: f64, power: f64, i: usize) -> f64 {
    scale * ((i + 1) as f64).powf(-power)
}

/// The first `dim` entries of [`power_law_at`].
///
/// ```
/// use lrsde::nqm::power_law;
/// assert_eq!(power_law(2.0, 1.0, 3), [2.0, 1.0, 2.0 / 3.0]);
/// ```
pub fn power_law(scale: f64, power: f64, dim: usize) -> Vec<f64> {
    (0..dim).map(|i| power_law_at(scale, power, i)).collect()
}

/// The parameters every NQM-family model shares (keys `dim, hmax, power, noise, batch, x0`).
///
/// Curvatures follow a power law `h_i = hmax·(i+1)^(−power)`, `i = 0..dim`; the per-example
/// gradient-noise variance is `noise·h_i` ("Fisher ≈ Hessian"), so a batch of `batch` examples
/// has noise scale `s_i = √(noise·h_i / batch)`. Every coordinate starts at `x0`.
///
/// ```
/// use lrsde::nqm::QuadraticParams;
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
    /// use lrsde::nqm::QuadraticParams;
    /// let bad = QuadraticParams { batch: 0.0, ..Default::default() };
    /// assert!(bad.validate("nqm").unwrap_err().to_string().contains("batch"));
    /// ```
    pub fn validate(&self, model: &'static str) -> Result<(), ParamError> {
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

    /// Curvature `h_i = hmax·(i+1)^(−power)` ([`power_law_at`]).
    pub fn curvature(&self, i: usize) -> f64 {
        power_law_at(self.hmax, self.power, i)
    }

    /// Noise variance `s_i² = noise·h_i / batch`.
    pub fn noise_variance(&self, i: usize) -> f64 {
        self.noise * self.curvature(i) / self.batch
    }

    /// Noise scale `s_i = √(noise·h_i / batch)`.
    pub fn noise_scale(&self, i: usize) -> f64 {
        self.noise_variance(i).sqrt()
    }

    /// All curvatures `h_i`, `i = 0..dim`.
    pub fn curvatures(&self) -> Vec<f64> {
        (0..self.dim).map(|i| self.curvature(i)).collect()
    }

    /// All noise variances `s_i²`, `i = 0..dim`.
    pub fn noise_variances(&self) -> Vec<f64> {
        (0..self.dim).map(|i| self.noise_variance(i)).collect()
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

/// Parameters of the [`Nqm`](crate::model::Nqm) model and of its exact moments: the shared quadratic parameters plus the diffusion form.
///
/// ```
/// use lrsde::nqm::{NqmDiffusion, NqmParams};
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
