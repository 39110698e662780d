//! One step of a numerical SDE scheme.
//!
//! Schemes advance a state by one (sub)step of length `dt` in step time, given the standard
//! normals `z` that make up the Brownian increments `ΔW = √dt·z`. Taking `z` from the caller
//! (rather than an RNG) lets the ensemble own the random streams and lets convergence tests drive
//! several step sizes with the same Brownian path.
//!
//! With `dt = 1` (one step per update) Euler–Maruyama *is* SGD with Gaussian gradient noise; with
//! `n` sub-steps per update (`dt = 1/n`, same LR throughout the update) both schemes approach the
//! SDE limit.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::model::{DiffusionDerivative, SdeModel};

/// A step length `dt` with its square root computed once.
///
/// ```
/// let ts = lrsde::solver::TimeStep::substeps(4);
/// assert_eq!((ts.dt(), ts.sqrt_dt()), (0.25, 0.5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeStep {
    dt: f64,
    sqrt_dt: f64,
}

impl TimeStep {
    /// A step of length `dt` (callers pass a positive, finite `dt`).
    pub fn new(dt: f64) -> Self {
        Self {
            dt,
            sqrt_dt: dt.sqrt(),
        }
    }

    /// `dt = 1/n`: `n` sub-steps per update (`n = 0` is treated as 1).
    pub fn substeps(n: usize) -> Self {
        Self::new(1.0 / n.max(1) as f64)
    }

    /// The step length.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// `√dt`.
    pub fn sqrt_dt(&self) -> f64 {
        self.sqrt_dt
    }
}

/// Scratch buffers a scheme needs for one model; allocate once, reuse for every step.
///
/// ```
/// use lrsde::{model::Nqm, solver::Workspace};
/// let m = Nqm::new(Default::default()).unwrap();
/// let ws = Workspace::new(&m);
/// # let _ = ws;
/// ```
#[derive(Debug, Clone)]
pub struct Workspace {
    drift: Vec<f64>,
    diffusion: Vec<f64>,
    correction: Vec<f64>,
    /// Multiplier of the diffusion for the next step (a batch schedule's `√(B_ref/B_t)`); 1
    /// leaves the step's arithmetic untouched.
    pub(crate) noise: f64,
}

impl Workspace {
    /// Applies the batch schedule's diffusion multiplier `c` to `g` (and `c²` to the Milstein
    /// coefficient `g ∂g/∂x`, which is quadratic in the noise scale). Skipped at `c = 1`, so
    /// runs without a batch schedule compute exactly what they did before.
    #[inline(always)]
    fn scale_noise(&mut self, milstein: bool) {
        let c = self.noise;
        if c != 1.0 {
            for g in &mut self.diffusion {
                *g *= c;
            }
            if milstein {
                let c2 = c * c;
                for g in &mut self.correction {
                    *g *= c2;
                }
            }
        }
    }

    /// Buffers sized for `model`.
    pub fn new<M: SdeModel + ?Sized>(model: &M) -> Self {
        let (d, n) = (model.dim(), model.noise_dim().min(model.dim()));
        Self {
            drift: vec![0.0; d],
            diffusion: vec![0.0; n],
            correction: vec![0.0; n],
            noise: 1.0,
        }
    }
}

/// A one-step scheme for models of type `M`.
///
/// Implemented by [`EulerMaruyama`] for every [`SdeModel`] and by [`Milstein`] for models with a
/// [`DiffusionDerivative`], so asking for Milstein on a model without the derivative is a compile
/// error rather than a silent drop to order ½.
///
/// ```
/// use lrsde::model::Ou;
/// use lrsde::solver::{EulerMaruyama, Stepper, TimeStep, Workspace};
/// let ou = Ou::new(1.0, 0.0, 0.0, 1.0).unwrap();
/// let mut ws = Workspace::new(&ou);
/// let mut x = [1.0];
/// EulerMaruyama.step(&ou, &mut x, 0.0, TimeStep::new(0.5), &[0.3], &mut ws);
/// assert_eq!(x[0], 0.5);
/// ```
pub trait Stepper<M: SdeModel + ?Sized>: Copy + Send + Sync {
    /// Scheme name (`"em"` or `"milstein"`).
    const NAME: &'static str;
    /// Strong order of convergence for diagonal, commutative noise.
    const STRONG_ORDER: f64;
    /// Weak order of convergence.
    const WEAK_ORDER: f64;

    /// Advances `x` by one step of length `ts.dt()` at learning rate `lr`, with standard normals
    /// `z` (`z.len() == model.noise_dim()`).
    fn step(&self, model: &M, x: &mut [f64], lr: f64, ts: TimeStep, z: &[f64], ws: &mut Workspace);

    /// Which built-in scheme this is, if any. The ensemble's blocked fast path (for models with a
    /// [`DiagonalForm`](crate::model::DiagonalForm)) reproduces exactly the built-in schemes, so
    /// it is taken only for steppers that return `Some`; the default `None` keeps user schemes on
    /// the generic path.
    ///
    /// ```
    /// use lrsde::solver::{EulerMaruyama, Method, Stepper};
    /// assert_eq!(Stepper::<lrsde::model::Ou>::method(&EulerMaruyama), Some(Method::Em));
    /// ```
    fn method(&self) -> Option<Method> {
        None
    }
}

/// Euler–Maruyama: `x += f dt + g √dt z` (Itô, diagonal noise).
///
/// ```
/// use lrsde::solver::{EulerMaruyama, Stepper};
/// assert_eq!(<EulerMaruyama as Stepper<lrsde::model::Ou>>::NAME, "em");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EulerMaruyama;

impl<M: SdeModel + ?Sized> Stepper<M> for EulerMaruyama {
    const NAME: &'static str = "em";
    const STRONG_ORDER: f64 = 0.5;
    const WEAK_ORDER: f64 = 1.0;

    fn method(&self) -> Option<Method> {
        Some(Method::Em)
    }

    #[inline]
    fn step(&self, model: &M, x: &mut [f64], lr: f64, ts: TimeStep, z: &[f64], ws: &mut Workspace) {
        let n = ws.diffusion.len();
        model.drift(x, lr, &mut ws.drift);
        model.diffusion(x, lr, &mut ws.diffusion);
        ws.scale_noise(false);
        let (dt, sdt) = (ts.dt, ts.sqrt_dt);
        let (xn, xr) = x.split_at_mut(n.min(x.len()));
        for (((xi, fi), gi), zi) in xn.iter_mut().zip(&ws.drift).zip(&ws.diffusion).zip(z) {
            *xi += fi * dt + gi * sdt * zi;
        }
        for (xi, fi) in xr.iter_mut().zip(&ws.drift[n..]) {
            *xi += fi * dt;
        }
    }
}

/// Milstein for diagonal noise (Itô): `x += f dt + g √dt z + ½ g ∂g/∂x dt (z² − 1)`.
///
/// ```
/// use lrsde::model::Gbm;
/// use lrsde::solver::{Milstein, Stepper, TimeStep, Workspace};
/// let g = Gbm::new(0.0, 1.0, 1.0).unwrap();
/// let mut ws = Workspace::new(&g);
/// let mut x = [1.0];
/// Milstein.step(&g, &mut x, 0.0, TimeStep::new(1.0), &[1.0], &mut ws);
/// assert_eq!(x[0], 2.0); // 1 + 1·1 + ½·1·(1 − 1)
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milstein;

impl<M: DiffusionDerivative + ?Sized> Stepper<M> for Milstein {
    const NAME: &'static str = "milstein";
    const STRONG_ORDER: f64 = 1.0;
    const WEAK_ORDER: f64 = 1.0;

    fn method(&self) -> Option<Method> {
        Some(Method::Milstein)
    }

    #[inline]
    fn step(&self, model: &M, x: &mut [f64], lr: f64, ts: TimeStep, z: &[f64], ws: &mut Workspace) {
        let n = ws.diffusion.len();
        model.drift(x, lr, &mut ws.drift);
        model.diffusion(x, lr, &mut ws.diffusion);
        model.milstein_product(x, lr, &ws.diffusion, &mut ws.correction);
        ws.scale_noise(true);
        let (dt, sdt) = (ts.dt, ts.sqrt_dt);
        let half_dt = 0.5 * dt;
        let (xn, xr) = x.split_at_mut(n.min(x.len()));
        for ((((xi, fi), gi), ci), zi) in xn
            .iter_mut()
            .zip(&ws.drift)
            .zip(&ws.diffusion)
            .zip(&ws.correction)
            .zip(z)
        {
            *xi += fi * dt + gi * sdt * zi + ci * half_dt * (zi * zi - 1.0);
        }
        for (xi, fi) in xr.iter_mut().zip(&ws.drift[n..]) {
            *xi += fi * dt;
        }
    }
}

/// A scheme chosen at run time (CLI `--method em|milstein`); the ensemble dispatches on it once.
///
/// ```
/// use lrsde::solver::Method;
/// let m: Method = "milstein".parse().unwrap();
/// assert_eq!(m, Method::Milstein);
/// assert_eq!(m.to_string(), "milstein");
/// assert!("rk4".parse::<Method>().unwrap_err().to_string().contains("rk4"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// [`EulerMaruyama`].
    #[default]
    Em,
    /// [`Milstein`].
    Milstein,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Em => "em",
            Self::Milstein => "milstein",
        })
    }
}

/// A scheme name that is not `em` or `milstein`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("unknown method `{0}`; expected `em` or `milstein`")]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "em" | "euler" | "euler-maruyama" => Ok(Self::Em),
            "milstein" => Ok(Self::Milstein),
            _ => Err(UnknownMethod(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Gbm, Momentum, MomentumParams, SdeModel};

    #[test]
    fn milstein_on_gbm_matches_formula() {
        let g = Gbm::new(0.3, 0.7, 1.5).unwrap();
        let mut ws = Workspace::new(&g);
        let ts = TimeStep::new(0.1);
        let z = 0.8;
        let mut x = [1.5];
        Milstein.step(&g, &mut x, 0.0, ts, &[z], &mut ws);
        let x0: f64 = 1.5;
        let want = x0
            + 0.3 * x0 * 0.1
            + 0.7 * x0 * 0.1f64.sqrt() * z
            + 0.5 * 0.7 * 0.7 * x0 * 0.1 * (z * z - 1.0);
        assert!((x[0] - want).abs() < 1e-14);
    }

    #[test]
    fn momentum_em_is_heavy_ball() {
        let p = MomentumParams {
            mu: 0.8,
            ..Default::default()
        };
        let m = Momentum::new(p).unwrap();
        let d = m.noise_dim();
        let mut ws = Workspace::new(&m);
        let mut state = vec![0.0; m.dim()];
        m.init(&mut state);
        let h = m.curvatures().to_vec();
        let s: Vec<f64> = (0..d).map(|i| p.quad.noise_scale(i)).collect();
        let (mut x, mut v) = (vec![1.0; d], vec![0.0; d]);
        for k in 0..50 {
            let lr = 0.1 + 0.01 * k as f64;
            let z: Vec<f64> = (0..d).map(|i| ((i * 7 + k) % 5) as f64 - 2.0).collect();
            EulerMaruyama.step(&m, &mut state, lr, TimeStep::new(1.0), &z, &mut ws);
            for i in 0..d {
                v[i] = 0.8 * v[i] - lr * h[i] * x[i] + lr * s[i] * z[i];
                x[i] += v[i];
            }
            for i in 0..d {
                assert!((state[i] - x[i]).abs() < 1e-12 * (1.0 + x[i].abs()));
            }
        }
    }
}
