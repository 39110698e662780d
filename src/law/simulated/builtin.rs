//! The built-in model families of the `sim:` law and their text form.

use std::fmt;

use super::kernels::{AdamBatch, LossNoiseBatch};
use super::{ModelFamily, MonteCarlo, Simulated};
use crate::law::{LawError, ParamSpec};
use crate::model::{Adam, AdamParams, LossNoise, ModelEntries, ModelError, MomentumParams};
use crate::nqm::{
    DiagonalMoments, MomentRecursion, MomentumMoments, NqmDiffusion, QuadraticParams, power_law,
};
use crate::schedule::LrGrid;
use crate::solver::Method;
use crate::spec::Tokens;

/// Which built-in model a `sim:` law simulates, with its fixed (not fitted) hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum SimModelKind {
    /// Gaussian-noise SGD on the NQM ([`crate::model::Nqm`]); exact moments.
    Nqm,
    /// Heavy-ball SGD ([`crate::model::Momentum`]); exact moments.
    Momentum {
        /// Momentum coefficient `μ ∈ [0, 1)`.
        mu: f64,
    },
    /// Adam ([`Adam`]); Monte Carlo.
    Adam {
        /// First-moment EMA coefficient.
        beta1: f64,
        /// Second-moment EMA coefficient.
        beta2: f64,
        /// Denominator floor.
        eps: f64,
    },
    /// Loss-proportional gradient noise ([`LossNoise`]); Monte Carlo.
    #[serde(rename = "lossnoise")]
    LossNoise,
}

impl SimModelKind {
    /// The model's spec name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Nqm => "nqm",
            Self::Momentum { .. } => "momentum",
            Self::Adam { .. } => "adam",
            Self::LossNoise => "lossnoise",
        }
    }
}

/// A built-in model as a family of the `sim:` law: `dim` directions, curvatures
/// `h_i = hmax·(i+1)^(−power)`, noise variance `noise·h_i` (batch 1: the batch size is not
/// separately identifiable from a loss curve), start `x_i(0) = x0·(i+1)^(−q/2)` (so
/// `E[x_i²](0) ∝ (i+1)^(−q)`, the `sde` law's initial spectrum), LRs in units of `lr_ref`.
///
/// | model | fitted parameters (after `L0`, `log_scale`) | fixed | prediction |
/// |---|---|---|---|
/// | `nqm` | `log_hmax, power, log_noise, q` (x0 = 1) | | exact moments ([`DiagonalMoments`]) |
/// | `momentum` | `log_hmax, power, log_noise, q` (x0 = 1) | `mu` (0.9) | exact moments ([`MomentumMoments`]) |
/// | `adam` | `log_x0, power, log_noise, q` (hmax = 1) | `beta1` (0.9), `beta2` (0.999), `eps` (1e-8) | Monte Carlo |
/// | `lossnoise` | `log_hmax, power, log_noise, q` (x0 = 1) | | Monte Carlo |
///
/// For `adam` the curvature scale is not identifiable (Adam's step is invariant to rescaling
/// the gradient), so `hmax = 1` and the distance to the optimum `x0` (in units of one
/// peak-LR step) is fitted instead. `nqm` with parameters `(L0, log_scale, log_hmax, power,
/// log_noise, q)` is the `sde` law with `(L0, log_kappa_max, p, log_s, log_w0, q) =
/// (L0, log_hmax, power, log_noise + log_scale, log_scale, q)`: the same numbers
/// (`tests/law_sim.rs`).
///
/// Text form (`--law`): `sim:model=NAME[,dim=D][,paths=N][,seed=S][,method=em|milstein]` plus
/// the model's fixed keys (`mu`; `beta1`, `beta2`, `eps`). Defaults: `dim` 64 for the exact
/// models, 4 for the Monte Carlo ones; [`MonteCarlo::default`] for the paths.
///
/// ```
/// use lrsde::law::{AnyLaw, LossLaw};
/// let law: AnyLaw = "sim:model=momentum,mu=0.95,dim=16".parse().unwrap();
/// assert_eq!(law.name(), "sim");
/// assert!("sim:model=sgd".parse::<AnyLaw>().unwrap_err().to_string().contains("sgd"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BuiltinFamily {
    /// The model and its fixed hyper-parameters.
    pub kind: SimModelKind,
    /// Number of directions `D`.
    pub dim: usize,
}

impl Default for BuiltinFamily {
    /// `nqm` with 64 directions.
    fn default() -> Self {
        Self {
            kind: SimModelKind::Nqm,
            dim: 64,
        }
    }
}

/// Largest `dim` of a `sim:` law.
const MAX_DIM: usize = 4096;

/// Default `dim` of the Monte Carlo models: each costs `paths × dim` state updates per step.
const MC_DIM: usize = 4;

impl BuiltinFamily {
    /// `x_i(0) / x0 = (i+1)^(−q/2)`.
    fn start_shape(&self, q: f64) -> Vec<f64> {
        power_law(1.0, 0.5 * q, self.dim)
    }

    /// The NQM part at `theta` (hmax and x0 as the model fits them).
    fn quad(&self, theta: &[f64]) -> QuadraticParams {
        let (hmax, x0) = match self.kind {
            SimModelKind::Adam { .. } => (1.0, theta[0].exp()),
            _ => (theta[0].exp(), 1.0),
        };
        QuadraticParams {
            dim: self.dim,
            hmax,
            power: theta[1],
            noise: theta[2].exp(),
            batch: 1.0,
            x0,
        }
    }

    /// The Adam model at `theta` and its start `x(0)`.
    fn adam(
        &self,
        theta: &[f64],
        beta1: f64,
        beta2: f64,
        eps: f64,
    ) -> Result<(Adam, Vec<f64>), LawError> {
        let quad = self.quad(theta);
        let model = Adam::new(AdamParams {
            quad,
            beta1,
            beta2,
            eps,
        })?;
        let x0 = self
            .start_shape(theta[3])
            .iter()
            .map(|s| s * quad.x0)
            .collect();
        Ok((model, x0))
    }

    /// Expected model loss at `theta`, each update's noise variance times `v[t]` when given
    /// (`None`: the unscaled recursion, bit for bit).
    fn expected(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        v: Option<&[f64]>,
        steps: &[u64],
        mc: &MonteCarlo,
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let shape = self.start_shape(theta[3]);
        match self.kind {
            SimModelKind::Nqm => {
                let p = self.quad(theta);
                p.validate("nqm").map_err(sim_err)?;
                let second = shape.iter().map(|x| x * x).collect();
                let mut m = DiagonalMoments::from_spectrum(
                    p.curvatures(),
                    p.noise_variances(),
                    shape,
                    second,
                    NqmDiffusion::Additive,
                    Method::Em,
                )
                .map_err(sim_err)?;
                exact_losses(&mut m, lrs, v, steps, out)?;
            }
            SimModelKind::Momentum { mu } => {
                let mut m = MomentumMoments::new(&self.quad(theta), mu)
                    .map_err(sim_err)?
                    .starting_at(&shape)
                    .map_err(sim_err)?
                    .loss_only();
                exact_losses(&mut m, lrs, v, steps, out)?;
            }
            // Without a batch schedule: the direct batched updates (`kernels.rs`).
            SimModelKind::Adam { .. } | SimModelKind::LossNoise if v.is_none() => {
                if let Some(means) = self.mc_means(&[theta.to_vec()], lrs, steps, mc)? {
                    out.copy_from_slice(&means[0]);
                }
            }
            SimModelKind::Adam { beta1, beta2, eps } => {
                let (model, x0) = self.adam(theta, beta1, beta2, eps)?;
                let c = v.map(diffusion);
                let init = Some((3 * self.dim, x0.as_slice()));
                mc.mean_loss_scaled(&model, lrs, steps, init, c.as_deref(), out);
            }
            SimModelKind::LossNoise => {
                let model = LossNoise::new(self.quad(theta))?;
                let c = v.map(diffusion);
                mc.mean_loss_scaled(&model, lrs, steps, Some((0, &shape)), c.as_deref(), out);
            }
        }
        Ok(())
    }

    /// Per-path model losses of the Monte Carlo models (as [`Self::expected`]); `None` for
    /// the exact ones.
    fn paths(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        v: Option<&[f64]>,
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        let c = v.map(diffusion);
        let c = c.as_deref();
        Ok(match self.kind {
            SimModelKind::Adam { .. } | SimModelKind::LossNoise if v.is_none() => {
                let thetas = [theta.to_vec()];
                let per_path = match self.batch(&thetas, mc)? {
                    Some(Batch::Adam(b)) => mc.batch_path_losses(&b, lrs, steps),
                    Some(Batch::LossNoise(b)) => mc.batch_path_losses(&b, lrs, steps),
                    None => return Ok(None),
                };
                // One member: `per_path[p][0]` is path p's losses.
                Some(per_path.into_iter().map(|mut p| p.swap_remove(0)).collect())
            }
            SimModelKind::Adam { beta1, beta2, eps } => {
                let (model, x0) = self.adam(theta, beta1, beta2, eps)?;
                let init = Some((3 * self.dim, x0.as_slice()));
                Some(mc.path_losses_scaled(&model, lrs, steps, init, c))
            }
            SimModelKind::LossNoise => {
                let shape = self.start_shape(theta[3]);
                let model = LossNoise::new(self.quad(theta))?;
                Some(mc.path_losses_scaled(&model, lrs, steps, Some((0, &shape)), c))
            }
            SimModelKind::Nqm | SimModelKind::Momentum { .. } => None,
        })
    }
}

/// Diffusion multipliers `√v` of variance factors `v` (as
/// [`crate::schedule::BatchGrid::diffusion_factors`], bit for bit).
fn diffusion(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| x.sqrt()).collect()
}

/// The direct updates of a Monte Carlo family at a batch of parameter vectors.
enum Batch {
    Adam(AdamBatch),
    LossNoise(LossNoiseBatch),
}

impl BuiltinFamily {
    /// The Monte Carlo batch at `thetas` (each validated as the model's constructor does);
    /// `None` for an exact model.
    fn batch(&self, thetas: &[Vec<f64>], mc: &MonteCarlo) -> Result<Option<Batch>, LawError> {
        let (mut h, mut s, mut x0) = (Vec::new(), Vec::new(), Vec::new());
        for theta in thetas {
            let start = match self.kind {
                SimModelKind::Adam { beta1, beta2, eps } => self.adam(theta, beta1, beta2, eps)?.1,
                SimModelKind::LossNoise => {
                    LossNoise::new(self.quad(theta))?;
                    self.start_shape(theta[3])
                }
                SimModelKind::Nqm | SimModelKind::Momentum { .. } => return Ok(None),
            };
            let (hk, sk) = self.quad(theta).spectrum();
            h.extend(hk);
            s.extend(sk);
            x0.extend(start);
        }
        let dim = self.dim;
        Ok(match self.kind {
            SimModelKind::Adam { beta1, beta2, eps } => Some(Batch::Adam(AdamBatch {
                dim,
                h,
                s,
                x0,
                beta1,
                beta2,
                eps,
            })),
            SimModelKind::LossNoise => Some(Batch::LossNoise(LossNoiseBatch {
                dim,
                h,
                s,
                x0,
                milstein: mc.method == Method::Milstein,
            })),
            SimModelKind::Nqm | SimModelKind::Momentum { .. } => None,
        })
    }

    /// Mean losses (`result[k][j]`) of the Monte Carlo family at each of `thetas` on the shared
    /// paths; `None` for an exact model.
    fn mc_means(
        &self,
        thetas: &[Vec<f64>],
        lrs: &[f64],
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        Ok(match self.batch(thetas, mc)? {
            Some(Batch::Adam(b)) => Some(mc.batch_mean_losses(&b, lrs, steps)),
            Some(Batch::LossNoise(b)) => Some(mc.batch_mean_losses(&b, lrs, steps)),
            None => None,
        })
    }
}

/// Expected losses at `steps` of an exact recursion advanced stretch by stretch (`v`: the
/// per-update noise factors of a batch schedule, if any).
fn exact_losses<M: MomentRecursion>(
    m: &mut M,
    lrs: &[f64],
    v: Option<&[f64]>,
    steps: &[u64],
    out: &mut [f64],
) -> Result<(), LawError> {
    let mut pos = 0usize;
    for (o, &s) in out.iter_mut().zip(steps) {
        let seg = pos..s as usize;
        match v {
            None => m.run_lrs(&lrs[seg]),
            Some(v) => m
                .run_batched_lrs(&lrs[seg.clone()], &v[seg])
                .map_err(sim_err)?,
        }
        pos = s as usize;
        *o = m.expected_loss();
    }
    Ok(())
}

fn sim_err(e: impl fmt::Display) -> LawError {
    LawError::Simulation(e.to_string())
}

impl ModelFamily for BuiltinFamily {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn params(&self) -> Vec<ParamSpec> {
        let first = match self.kind {
            SimModelKind::Adam { .. } => ParamSpec::linear("log_x0", 0.0, 1e6f64.ln()),
            SimModelKind::Momentum { mu } => {
                ParamSpec::linear("log_hmax", 1e-5f64.ln(), (1.99 * (1.0 + mu)).ln())
            }
            _ => ParamSpec::linear("log_hmax", 1e-5f64.ln(), 1.99f64.ln()),
        };
        vec![
            first,
            ParamSpec::linear("power", 0.05, 6.0),
            ParamSpec::linear("log_noise", -40.0, 40.0),
            ParamSpec::linear("q", -3.0, 6.0),
        ]
    }

    fn initial_guesses(&self) -> Vec<Vec<f64>> {
        let mut out = Vec::new();
        match self.kind {
            SimModelKind::Adam { .. } => {
                for x0 in [30.0f64, 300.0] {
                    for p in [1.0, 2.5] {
                        for rel_noise in [0.01f64, 0.3] {
                            out.push(vec![x0.ln(), p, (rel_noise * x0 * x0).ln(), 0.0]);
                        }
                    }
                }
            }
            SimModelKind::Nqm | SimModelKind::Momentum { .. } => {
                for hmax in [0.05f64, 0.5, 1.5] {
                    for p in [1.0, 2.5] {
                        for q in [0.0, 1.5] {
                            for noise in [0.003f64, 0.03] {
                                out.push(vec![hmax.ln(), p, noise.ln(), q]);
                            }
                        }
                    }
                }
            }
            SimModelKind::LossNoise => {
                for hmax in [0.05f64, 0.5, 1.5] {
                    for p in [1.0, 2.5] {
                        for noise in [0.01f64, 0.3] {
                            out.push(vec![hmax.ln(), p, noise.ln(), 0.0]);
                        }
                    }
                }
            }
        }
        out
    }

    fn is_exact(&self) -> bool {
        matches!(self.kind, SimModelKind::Nqm | SimModelKind::Momentum { .. })
    }

    fn expected_loss(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        mc: &MonteCarlo,
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.expected(theta, lrs, None, steps, mc, out)
    }

    /// Every built-in model's gradient noise scales with `1/batch`.
    fn expected_loss_batched(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        noise_var: &[f64],
        steps: &[u64],
        mc: &MonteCarlo,
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.expected(theta, lrs, Some(noise_var), steps, mc, out)
    }

    fn path_losses_batched(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        noise_var: &[f64],
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.paths(theta, lrs, Some(noise_var), steps, mc)
    }

    /// The Monte Carlo models advance every parameter vector on one draw of the paths.
    fn expected_losses(
        &self,
        thetas: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Vec<Vec<f64>>, LawError> {
        match self.mc_means(thetas, lrs, steps, mc)? {
            Some(means) => Ok(means),
            None => super::expected_losses_each(self, thetas, lrs, steps, mc),
        }
    }

    fn path_losses(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.paths(theta, lrs, None, steps, mc)
    }
    /// The model spec at `theta` (LRs in units of `lr_ref`), and the start exponent `q`.
    fn describe(&self, theta: &[f64]) -> String {
        if theta.len() < 4 {
            return self.name().to_string();
        }
        let quad = self.quad(theta);
        let body = match self.kind {
            SimModelKind::Momentum { mu } => MomentumParams { quad, mu }.to_string(),
            SimModelKind::Adam { beta1, beta2, eps } => AdamParams {
                quad,
                beta1,
                beta2,
                eps,
            }
            .to_string(),
            _ => quad.to_string(),
        };
        format!("{}:{body} with x_i(0) ∝ (i+1)^-{}/2", self.name(), theta[3])
    }
}

/// Keys of the `sim:` text form.
const KEYS: [&str; 9] = [
    "model", "dim", "paths", "seed", "method", "mu", "beta1", "beta2", "eps",
];

/// Builds the law from the tokens of `sim:model=…,…` (e.g. `model=adam,paths=32`).
pub(crate) fn parse(tokens: &Tokens<'_>) -> Result<Simulated<BuiltinFamily>, LawError> {
    let spec_err = |e: ModelError| LawError::Simulation(format!("in `sim:` options: {e}"));
    let e = ModelEntries::new("sim", tokens, &KEYS).map_err(spec_err)?;
    let Some(name) = e.raw("model") else {
        return Err(LawError::Simulation(
            "`sim:` needs `model=NAME` (nqm, momentum, adam or lossnoise)".into(),
        ));
    };
    let kind = match name.to_ascii_lowercase().as_str() {
        "nqm" => SimModelKind::Nqm,
        "momentum" => SimModelKind::Momentum {
            mu: e
                .f64("mu", MomentumParams::default().mu)
                .map_err(spec_err)?,
        },
        "adam" => {
            let d = AdamParams::default();
            SimModelKind::Adam {
                beta1: e.f64("beta1", d.beta1).map_err(spec_err)?,
                beta2: e.f64("beta2", d.beta2).map_err(spec_err)?,
                eps: e.f64("eps", d.eps).map_err(spec_err)?,
            }
        }
        "lossnoise" => SimModelKind::LossNoise,
        other => {
            return Err(LawError::Simulation(format!(
                "`sim:` model `{other}` is not simulated; expected nqm, momentum, adam or lossnoise"
            )));
        }
    };
    let allowed: &[&str] = match kind {
        SimModelKind::Momentum { .. } => &["mu"],
        SimModelKind::Adam { .. } => &["beta1", "beta2", "eps"],
        _ => &[],
    };
    for key in ["mu", "beta1", "beta2", "eps"] {
        if e.raw(key).is_some() && !allowed.contains(&key) {
            return Err(LawError::Simulation(format!(
                "`sim:` option `{key}` does not apply to model `{name}`"
            )));
        }
    }
    let exact = matches!(kind, SimModelKind::Nqm | SimModelKind::Momentum { .. });
    let default_dim = if exact { 64 } else { MC_DIM };
    let dim = e.usize("dim", default_dim).map_err(spec_err)?;
    if !(1..=MAX_DIM).contains(&dim) {
        return Err(LawError::BadOption {
            law: "sim",
            key: "dim".into(),
            value: dim.to_string(),
            reason: "must be in 1..=4096",
        });
    }
    let d = MonteCarlo::default();
    let paths = e.usize("paths", d.paths).map_err(spec_err)?;
    let seed = match e.raw("seed") {
        None => d.seed,
        Some(v) => crate::spec::parse_whole(v).ok_or_else(|| LawError::BadOption {
            law: "sim",
            key: "seed".into(),
            value: v.into(),
            reason: "must be a whole number >= 0 that fits in 64 bits",
        })?,
    };
    let method = match e.raw("method") {
        None => d.method,
        Some(v) => v.parse::<Method>().map_err(|_| LawError::BadOption {
            law: "sim",
            key: "method".into(),
            value: v.into(),
            reason: "must be em or milstein",
        })?,
    };
    let family = BuiltinFamily { kind, dim };
    // The fixed hyper-parameters are checked by the model's own constructor.
    match kind {
        SimModelKind::Momentum { mu } => {
            crate::model::Momentum::new(MomentumParams {
                mu,
                ..Default::default()
            })?;
        }
        SimModelKind::Adam { beta1, beta2, eps } => {
            Adam::new(AdamParams {
                beta1,
                beta2,
                eps,
                ..Default::default()
            })?;
        }
        _ => {}
    }
    Simulated::new(family).with_monte_carlo(MonteCarlo {
        paths,
        seed,
        method,
    })
}
