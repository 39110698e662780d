//! Reference SDEs with exact solutions: Ornstein–Uhlenbeck and geometric Brownian motion.
//!
//! They ignore the learning rate (time is plain step time) and report the loss `½ x²`, so an
//! ensemble summary of them checks the second moment against the closed forms here.

use std::fmt;

use super::{DiffusionDerivative, ModelError, SdeModel, check};

/// Ornstein–Uhlenbeck process `dX = θ (μ − X) dt + σ dW`, `X(0) = x0`; loss `½ X²`.
///
/// ```
/// use lrsde::model::Ou;
/// let ou = Ou::new(1.0, 0.0, 1.0, 1.0).unwrap();
/// assert!((ou.mean(1.0) - (-1.0f64).exp()).abs() < 1e-15);
/// assert!((ou.variance(1.0) - 0.5 * (1.0 - (-2.0f64).exp())).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ou {
    /// Mean-reversion rate `θ ≥ 0`.
    pub theta: f64,
    /// Long-run mean `μ`.
    pub mu: f64,
    /// Noise amplitude `σ ≥ 0`.
    pub sigma: f64,
    /// Initial value.
    pub x0: f64,
}

impl Default for Ou {
    fn default() -> Self {
        Self {
            theta: 1.0,
            mu: 0.0,
            sigma: 1.0,
            x0: 1.0,
        }
    }
}

impl Ou {
    /// Validated constructor.
    pub fn new(theta: f64, mu: f64, sigma: f64, x0: f64) -> Result<Self, ModelError> {
        let ou = Self {
            theta,
            mu,
            sigma,
            x0,
        };
        ou.validate()?;
        Ok(ou)
    }

    /// Checks the parameters.
    ///
    /// ```
    /// assert!(lrsde::model::Ou { sigma: -1.0, ..Default::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ModelError> {
        check(
            self.theta.is_finite() && self.theta >= 0.0,
            "ou",
            "theta",
            self.theta,
            "must be finite and >= 0",
        )?;
        check(self.mu.is_finite(), "ou", "mu", self.mu, "must be finite")?;
        check(
            self.sigma.is_finite() && self.sigma >= 0.0,
            "ou",
            "sigma",
            self.sigma,
            "must be finite and >= 0",
        )?;
        check(self.x0.is_finite(), "ou", "x0", self.x0, "must be finite")
    }

    /// Exact `E[X(t)] = μ + (x0 − μ) e^{−θ t}`.
    pub fn mean(&self, t: f64) -> f64 {
        self.mu + (self.x0 - self.mu) * (-self.theta * t).exp()
    }

    /// Exact `Var[X(t)] = σ² (1 − e^{−2θt}) / (2θ)` (`σ² t` for `θ = 0`).
    pub fn variance(&self, t: f64) -> f64 {
        if self.theta == 0.0 {
            self.sigma * self.sigma * t
        } else {
            // −expm1 keeps full precision for small θt.
            self.sigma * self.sigma * -(-2.0 * self.theta * t).exp_m1() / (2.0 * self.theta)
        }
    }

    /// Exact one-step transition: `X(t+dt)` from `X(t) = x` and a standard normal `z`.
    pub fn transition(&self, x: f64, dt: f64, z: f64) -> f64 {
        let decay = (-self.theta * dt).exp();
        self.mu + (x - self.mu) * decay + (self.variance(dt)).sqrt() * z
    }
}

impl fmt::Display for Ou {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "theta={},mu={},sigma={},x0={}",
            self.theta, self.mu, self.sigma, self.x0
        )
    }
}

impl SdeModel for Ou {
    fn dim(&self) -> usize {
        1
    }
    fn init(&self, x: &mut [f64]) {
        x.fill(self.x0);
    }
    #[inline]
    fn drift(&self, x: &[f64], _lr: f64, out: &mut [f64]) {
        for (o, xi) in out.iter_mut().zip(x) {
            *o = self.theta * (self.mu - xi);
        }
    }
    #[inline]
    fn diffusion(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(self.sigma);
    }
    #[inline]
    fn loss(&self, x: &[f64]) -> f64 {
        0.5 * x.iter().map(|v| v * v).sum::<f64>()
    }
}

impl DiffusionDerivative for Ou {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(0.0);
    }
}

/// Geometric Brownian motion `dX = μ X dt + σ X dW`, `X(0) = x0`; loss `½ X²`.
///
/// Defaults are DifferentialEquations.jl's `prob_sde_linear` (`μ = 1.01`, `σ = 0.87`,
/// `x0 = 0.5`).
///
/// ```
/// use lrsde::model::Gbm;
/// let g = Gbm::default();
/// assert_eq!(g.solution(0.0, 0.0), 0.5);
/// assert!((g.mean(1.0) - 0.5 * 1.01f64.exp()).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Gbm {
    /// Drift rate `μ`.
    pub mu: f64,
    /// Volatility `σ ≥ 0`.
    pub sigma: f64,
    /// Initial value.
    pub x0: f64,
}

impl Default for Gbm {
    fn default() -> Self {
        Self {
            mu: 1.01,
            sigma: 0.87,
            x0: 0.5,
        }
    }
}

impl Gbm {
    /// Validated constructor.
    pub fn new(mu: f64, sigma: f64, x0: f64) -> Result<Self, ModelError> {
        let g = Self { mu, sigma, x0 };
        g.validate()?;
        Ok(g)
    }

    /// Checks the parameters.
    ///
    /// ```
    /// assert!(lrsde::model::Gbm { mu: f64::NAN, ..Default::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ModelError> {
        check(self.mu.is_finite(), "gbm", "mu", self.mu, "must be finite")?;
        check(
            self.sigma.is_finite() && self.sigma >= 0.0,
            "gbm",
            "sigma",
            self.sigma,
            "must be finite and >= 0",
        )?;
        check(self.x0.is_finite(), "gbm", "x0", self.x0, "must be finite")
    }

    /// Exact solution `x0 exp((μ − σ²/2) t + σ W(t))` for Brownian value `w = W(t)`.
    pub fn solution(&self, t: f64, w: f64) -> f64 {
        self.x0 * ((self.mu - 0.5 * self.sigma * self.sigma) * t + self.sigma * w).exp()
    }

    /// Exact `E[X(t)] = x0 e^{μ t}`.
    pub fn mean(&self, t: f64) -> f64 {
        self.x0 * (self.mu * t).exp()
    }

    /// Exact `E[X(t)²] = x0² e^{(2μ + σ²) t}`.
    pub fn second_moment(&self, t: f64) -> f64 {
        self.x0 * self.x0 * ((2.0 * self.mu + self.sigma * self.sigma) * t).exp()
    }
}

impl fmt::Display for Gbm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mu={},sigma={},x0={}", self.mu, self.sigma, self.x0)
    }
}

impl SdeModel for Gbm {
    fn dim(&self) -> usize {
        1
    }
    fn init(&self, x: &mut [f64]) {
        x.fill(self.x0);
    }
    #[inline]
    fn drift(&self, x: &[f64], _lr: f64, out: &mut [f64]) {
        for (o, xi) in out.iter_mut().zip(x) {
            *o = self.mu * xi;
        }
    }
    #[inline]
    fn diffusion(&self, x: &[f64], _lr: f64, out: &mut [f64]) {
        for (o, xi) in out.iter_mut().zip(x) {
            *o = self.sigma * xi;
        }
    }
    #[inline]
    fn loss(&self, x: &[f64]) -> f64 {
        0.5 * x.iter().map(|v| v * v).sum::<f64>()
    }
}

impl DiffusionDerivative for Gbm {
    fn diffusion_derivative(&self, _x: &[f64], _lr: f64, out: &mut [f64]) {
        out.fill(self.sigma);
    }
}
