//! Simulated laws: a loss law backed by an SDE model of training (the `sim:` law).
//!
//! A [`Simulated`] law predicts `L(k) = L0 + e^{log_scale} · E[ℓ(X_k)]`: the expected model loss
//! `ℓ` after `k` updates, mapped to the observed loss by an offset `L0` (the irreducible loss)
//! and a scale (the model's loss is in arbitrary units). The model sees every LR in units of
//! the reference LR `lr_ref` (the largest LR of the fitted curves), so its parameters do not
//! depend on the LR's magnitude. The expectation is the exact moment recursion of
//! [`crate::nqm`] ([`crate::nqm::DiagonalMoments`], [`crate::nqm::MomentumMoments`]) where
//! the model has one (`nqm`, `momentum`), otherwise the mean over a fixed set of Brownian
//! paths ([`MonteCarlo`], common random numbers: the same paths for every parameter vector and
//! schedule, so the prediction is smooth in the parameters).
//!
//! Parameters: `L0`, `log_scale`, then the model family's own ([`ModelFamily::params`]).
//! The Jacobian is by finite differences of the model part (central for exact models,
//! forward on the Monte Carlo paths), analytic for `L0` and `log_scale`, so the fitter runs
//! Levenberg–Marquardt.
//!
//! The built-in families ([`BuiltinFamily`], text form `sim:model=NAME,…`) are listed there;
//! any type implementing [`ModelFamily`] (e.g. around a user's own [`SdeModel`](crate::model::SdeModel))
//! is fitted the same way through [`Simulated::new`] and [`crate::fit::fit`].

mod builtin;
mod kernels;
mod monte_carlo;

pub(crate) use builtin::parse;
pub use builtin::{BuiltinFamily, SimModelKind};
pub use monte_carlo::MonteCarlo;

use rayon::prelude::*;

use super::sde::score;
use super::{DataScale, LawError, LossLaw, ParamSpec, check_inputs, clamp_all};
use crate::data::TrainingCurve;
use crate::schedule::{BatchGrid, LrGrid};

/// A parametric family of SDE models: what a [`Simulated`] law needs to fit one.
///
/// `theta` holds the family's parameters in the order of [`params`](Self::params); LRs passed
/// to [`expected_loss`](Self::expected_loss) are in units of the reference LR.
///
/// ```
/// use lrsde::law::{LawError, ModelFamily, MonteCarlo, ParamSpec};
/// use lrsde::model::Nqm;
/// use lrsde::nqm::{NqmParams, QuadraticParams};
/// use lrsde::schedule::LrGrid;
/// /// A one-parameter family: the NQM with a fitted noise level.
/// struct Noisy;
/// impl ModelFamily for Noisy {
///     fn name(&self) -> &'static str { "noisy" }
///     fn params(&self) -> Vec<ParamSpec> { vec![ParamSpec::log("noise", 1e-4, 10.0)] }
///     fn initial_guesses(&self) -> Vec<Vec<f64>> { vec![vec![0.1]] }
///     fn expected_loss(&self, theta: &[f64], lrs: &LrGrid, steps: &[u64], mc: &MonteCarlo,
///                      out: &mut [f64]) -> Result<(), LawError> {
///         let quad = QuadraticParams { dim: 4, noise: theta[0], ..Default::default() };
///         let model = Nqm::new(NqmParams { quad, ..Default::default() })?;
///         mc.mean_loss(&model, lrs, steps, None, out);
///         Ok(())
///     }
/// }
/// let mut out = [0.0];
/// let lrs = LrGrid::new(vec![0.5; 10]).unwrap();
/// Noisy.expected_loss(&[0.1], &lrs, &[10], &MonteCarlo::default(), &mut out).unwrap();
/// assert!(out[0] > 0.0);
/// ```
pub trait ModelFamily: Send + Sync {
    /// Short name of the family (e.g. the model's spec name).
    fn name(&self) -> &'static str;

    /// The family's parameters, with bounds (the law adds `L0` and `log_scale` in front).
    fn params(&self) -> Vec<ParamSpec>;

    /// Starting points for fitting (each inside the bounds). Never empty.
    fn initial_guesses(&self) -> Vec<Vec<f64>>;

    /// Writes the expected model loss after `steps[j]` updates into `out[j]` (`+∞` where the
    /// model diverges). `steps` are valid for `lrs` and `theta` is finite (the law checks).
    ///
    /// # Errors
    /// A [`LawError`] for parameters the model rejects.
    fn expected_loss(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        mc: &MonteCarlo,
        out: &mut [f64],
    ) -> Result<(), LawError>;

    /// [`expected_loss`](Self::expected_loss) at each of `thetas` (`result[k][j]`): the
    /// Jacobian's base point and shifted points. The default evaluates them one by one, in
    /// parallel; a Monte Carlo family may advance them together on one draw of the paths.
    ///
    /// ```
    /// use lrsde::law::{BuiltinFamily, ModelFamily, MonteCarlo, SimModelKind};
    /// let adam = BuiltinFamily { kind: SimModelKind::Adam { beta1: 0.9, beta2: 0.999, eps: 1e-8 }, dim: 4 };
    /// let (mc, lrs) = (MonteCarlo::default(), lrsde::schedule::LrGrid::new(vec![0.5; 100]).unwrap());
    /// let thetas = [vec![3.0, 1.0, 2.0, 0.0], vec![3.0, 1.5, 2.0, 0.0]];
    /// let both = adam.expected_losses(&thetas, &lrs, &[50, 100], &mc).unwrap();
    /// let mut alone = [0.0; 2];
    /// adam.expected_loss(&thetas[1], &lrs, &[50, 100], &mc, &mut alone).unwrap();
    /// assert_eq!(both[1], alone);
    /// ```
    ///
    /// # Errors
    /// As [`expected_loss`](Self::expected_loss).
    fn expected_losses(
        &self,
        thetas: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Vec<Vec<f64>>, LawError> {
        expected_losses_each(self, thetas, lrs, steps, mc)
    }

    /// The model loss on each of `mc`'s paths (`result[p][j]`, as
    /// [`MonteCarlo::path_losses`]) for a Monte Carlo family, whose
    /// [`expected_loss`](Self::expected_loss) is their mean; `None` (the default) for an
    /// exact family or one that does not expose its paths.
    ///
    /// # Errors
    /// As [`expected_loss`](Self::expected_loss).
    fn path_losses(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        let _ = (theta, lrs, steps, mc);
        Ok(None)
    }

    /// [`expected_loss`](Self::expected_loss) under a batch-size schedule: update `t`'s
    /// gradient-noise variance multiplied by `noise_var[t]` (`B_ref / B_t`, aligned with
    /// `lrs`). The default refuses ([`LawError::NoBatchTerm`]): a family whose noise scales
    /// with `1/batch` overrides it.
    ///
    /// # Errors
    /// As [`expected_loss`](Self::expected_loss); [`LawError::NoBatchTerm`] by default.
    fn expected_loss_batched(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        noise_var: &[f64],
        steps: &[u64],
        mc: &MonteCarlo,
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let _ = (theta, lrs, noise_var, steps, mc, out);
        Err(LawError::NoBatchTerm { law: "sim" })
    }

    /// [`path_losses`](Self::path_losses) under a batch-size schedule (as
    /// [`expected_loss_batched`](Self::expected_loss_batched)); the default refuses.
    ///
    /// # Errors
    /// As [`expected_loss_batched`](Self::expected_loss_batched).
    fn path_losses_batched(
        &self,
        theta: &[f64],
        lrs: &LrGrid,
        noise_var: &[f64],
        steps: &[u64],
        mc: &MonteCarlo,
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        let _ = (theta, lrs, noise_var, steps, mc);
        Err(LawError::NoBatchTerm { law: "sim" })
    }

    /// Whether [`expected_loss`](Self::expected_loss) is exact (deterministic, no paths):
    /// decides the finite-difference scheme. Default `false`.
    fn is_exact(&self) -> bool {
        false
    }

    /// The model (as a `name:key=value` spec where there is one) at `theta`, for records.
    fn describe(&self, theta: &[f64]) -> String {
        let _ = theta;
        self.name().to_string()
    }
}

/// [`ModelFamily::expected_losses`] one parameter vector at a time, in parallel.
fn expected_losses_each<F: ModelFamily + ?Sized>(
    family: &F,
    thetas: &[Vec<f64>],
    lrs: &LrGrid,
    steps: &[u64],
    mc: &MonteCarlo,
) -> Result<Vec<Vec<f64>>, LawError> {
    thetas
        .par_iter()
        .map(|t| {
            let mut e = vec![0.0; steps.len()];
            family.expected_loss(t, lrs, steps, mc, &mut e)?;
            Ok(e)
        })
        .collect()
}

/// A loss law backed by a model family (see the [module docs](self)).
///
/// ```
/// use lrsde::law::{LossLaw, Simulated, BuiltinFamily};
/// let law = Simulated::new(BuiltinFamily::default());
/// let names: Vec<_> = law.params().iter().map(|p| p.name).collect();
/// assert_eq!(names, ["L0", "log_scale", "log_hmax", "power", "log_noise", "q"]);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Simulated<F> {
    family: F,
    scale: DataScale,
    mc: MonteCarlo,
    /// The batch size the fitted noise refers to: the largest batch of the fitted curves'
    /// batch schedules (`None` when none had one). A batch schedule scales update `t`'s noise
    /// variance by `batch_ref / B_t`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batch_ref: Option<f64>,
}

impl<F: ModelFamily> Simulated<F> {
    /// A law on `family` with the default [`MonteCarlo`] settings and `lr_ref = 1` (until
    /// [`LossLaw::configure`]).
    pub fn new(family: F) -> Self {
        Self {
            family,
            scale: DataScale::default(),
            mc: MonteCarlo::default(),
            batch_ref: None,
        }
    }

    /// With other Monte Carlo settings.
    ///
    /// # Errors
    /// [`LawError::BadOption`] for `paths == 0`.
    pub fn with_monte_carlo(mut self, mc: MonteCarlo) -> Result<Self, LawError> {
        if mc.paths == 0 || mc.paths > MAX_PATHS {
            return Err(LawError::BadOption {
                law: "sim",
                key: "paths".into(),
                value: mc.paths.to_string(),
                reason: "must be in 1..=65536",
            });
        }
        self.mc = mc;
        Ok(self)
    }

    /// The model family.
    pub fn family(&self) -> &F {
        &self.family
    }

    /// The Monte Carlo settings.
    pub fn monte_carlo(&self) -> MonteCarlo {
        self.mc
    }

    /// The data scales in use.
    pub fn scale(&self) -> DataScale {
        self.scale
    }

    /// The reference LR.
    pub fn lr_ref(&self) -> f64 {
        self.scale.lr_ref
    }

    /// The batch size the fitted noise refers to (see [`Self::set_batch_ref`]).
    pub fn batch_ref(&self) -> Option<f64> {
        self.batch_ref
    }

    /// Sets the batch size the noise parameters refer to; [`LossLaw::configure`] sets it to
    /// the largest batch of the curves' batch schedules. A curve without a schedule runs at
    /// `batch_ref`.
    ///
    /// ```
    /// use lrsde::law::{BuiltinFamily, LossLaw, Simulated};
    /// use lrsde::schedule::BatchGrid;
    /// let mut law = Simulated::new(BuiltinFamily::default());
    /// let ramp = BatchGrid::new(vec![32.0, 64.0]).unwrap();
    /// assert!(law.check_batch(&ramp).is_err()); // no reference batch yet
    /// law.set_batch_ref(Some(64.0)).unwrap();
    /// assert!(law.check_batch(&ramp).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`LawError::BadOption`] unless finite and positive.
    pub fn set_batch_ref(&mut self, batch_ref: Option<f64>) -> Result<(), LawError> {
        if let Some(b) = batch_ref
            && !(b.is_finite() && b > 0.0)
        {
            return Err(LawError::BadOption {
                law: "sim",
                key: "batch_ref".into(),
                value: b.to_string(),
                reason: "must be finite and > 0",
            });
        }
        self.batch_ref = batch_ref;
        Ok(())
    }

    /// Per-update noise-variance factors of `batch` for the first `last` updates; `None` when
    /// the schedule changes nothing (no grid, or a constant one at `batch_ref`), so those
    /// predictions are the unscaled ones bit for bit.
    fn noise_factors(
        &self,
        batch: Option<&BatchGrid>,
        last: usize,
    ) -> Result<Option<Vec<f64>>, LawError> {
        let Some(grid) = batch else {
            return Ok(None);
        };
        match self.batch_ref {
            Some(b) if grid.is_constant_at(b) => Ok(None),
            Some(b) => Ok(Some(grid.variance_factors(b, last))),
            // Without a reference only "the same batch throughout" has a meaning.
            None if grid.is_constant_at(grid.at(0)) => Ok(None),
            None => Err(LawError::NoBatchReference { law: "sim" }),
        }
    }

    /// Sets the reference LR.
    ///
    /// # Errors
    /// [`LawError::BadOption`] unless finite and positive.
    pub fn set_lr_ref(&mut self, lr_ref: f64) -> Result<(), LawError> {
        self.scale.lr_ref = super::check_lr_ref("sim", lr_ref)?;
        Ok(())
    }

    /// The model at the full parameter vector `params` (as [`ModelFamily::describe`]).
    pub fn describe(&self, params: &[f64]) -> String {
        self.family.describe(params.get(2..).unwrap_or(&[]))
    }

    /// Expected model loss (before the map to observed loss) on LRs in units of `lr_ref`,
    /// under the noise-variance factors `v` if any.
    fn model_loss(
        &self,
        theta: &[f64],
        u: &LrGrid,
        v: Option<&[f64]>,
        steps: &[u64],
    ) -> Result<Vec<f64>, LawError> {
        let mut e = vec![0.0; steps.len()];
        match v {
            None => self
                .family
                .expected_loss(theta, u, steps, &self.mc, &mut e)?,
            Some(v) => self
                .family
                .expected_loss_batched(theta, u, v, steps, &self.mc, &mut e)?,
        }
        Ok(e)
    }

    fn predict_with(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let last = check_inputs("sim", &self.params(), params, lrs, steps, out)?;
        let v = self.noise_factors(batch, last)?;
        let u = self.scaled_lrs(lrs, last);
        let e = self.model_loss(&params[2..], &u, v.as_deref(), steps)?;
        let scale = params[1].exp();
        for (o, e) in out.iter_mut().zip(e) {
            *o = observed(params[0], scale, e);
        }
        Ok(())
    }

    /// Finite differences over the model's parameters (central with relative step 1e-6 for
    /// exact models, forward with 1e-4 on the shared paths otherwise), in parallel; `L0` and
    /// `log_scale` are exact.
    fn jacobian_with(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        let specs = self.params();
        let last = check_inputs("sim", &specs, params, lrs, steps, out)?;
        let np = specs.len();
        if jac.len() != steps.len() * np {
            return Err(LawError::OutputLength {
                law: "sim",
                expected: steps.len() * np,
                found: jac.len(),
            });
        }
        let v = self.noise_factors(batch, last)?;
        let v = v.as_deref();
        let u = self.scaled_lrs(lrs, last);
        let theta = &params[2..];
        let exact = self.family.is_exact();
        let rel = if exact { 1e-6 } else { 1e-4 };
        // Job 0: the base point; job 2k+1 / 2k+2: parameter k shifted up / down.
        let jobs: Vec<(usize, f64)> = std::iter::once((0, 0.0))
            .chain((0..theta.len()).flat_map(|k| {
                let h = rel * theta[k].abs().max(1.0);
                let down = if exact { Some((k, -h)) } else { None };
                std::iter::once((k, h)).chain(down)
            }))
            .collect();
        let thetas: Vec<Vec<f64>> = jobs
            .iter()
            .enumerate()
            .map(|(j, &(k, h))| {
                let mut t = theta.to_vec();
                if j > 0 {
                    t[k] += h;
                }
                t
            })
            .collect();
        // Without a batch schedule the family evaluates all points together (shared paths and
        // normals); under one, each point runs with its noise factors.
        let evals: Vec<Vec<f64>> = match v {
            None => self.family.expected_losses(&thetas, &u, steps, &self.mc)?,
            Some(v) => thetas
                .par_iter()
                .map(|t| self.model_loss(t, &u, Some(v), steps))
                .collect::<Result<_, _>>()?,
        };
        let (l0, scale) = (params[0], params[1].exp());
        let base = &evals[0];
        for (j, o) in out.iter_mut().enumerate() {
            *o = observed(l0, scale, base[j]);
            let row = &mut jac[j * np..(j + 1) * np];
            row[0] = 1.0;
            row[1] = scale * base[j];
            for k in 0..theta.len() {
                row[2 + k] = if exact {
                    let (up, down) = (&evals[1 + 2 * k], &evals[2 + 2 * k]);
                    let h = jobs[1 + 2 * k].1;
                    scale * (up[j] - down[j]) / (2.0 * h)
                } else {
                    let h = jobs[1 + k].1;
                    scale * (evals[1 + k][j] - base[j]) / h
                };
            }
        }
        Ok(true)
    }

    fn paths_with(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        // Only its length is checked: the law writes no means here.
        let out = vec![0.0; steps.len()];
        let last = check_inputs("sim", &self.params(), params, lrs, steps, &out)?;
        let v = self.noise_factors(batch, last)?;
        let u = self.scaled_lrs(lrs, last);
        let theta = &params[2..];
        let paths = match &v {
            None => self.family.path_losses(theta, &u, steps, &self.mc)?,
            Some(v) => self
                .family
                .path_losses_batched(theta, &u, v, steps, &self.mc)?,
        };
        let Some(paths) = paths else {
            return Ok(None);
        };
        let (l0, scale) = (params[0], params[1].exp());
        Ok(Some(
            paths
                .into_iter()
                .map(|p| p.into_iter().map(|e| observed(l0, scale, e)).collect())
                .collect(),
        ))
    }

    /// The first `last` LRs in units of `lr_ref`. An LR beyond `f64::MAX` in those units
    /// saturates there (the model diverges either way), so the result is a valid grid.
    fn scaled_lrs(&self, lrs: &[f64], last: usize) -> LrGrid {
        LrGrid::from_validated(
            lrs[..last]
                .iter()
                .map(|l| (l / self.scale.lr_ref).min(f64::MAX))
                .collect(),
        )
    }
}

/// Most paths a `sim` law accepts.
const MAX_PATHS: usize = 1 << 16;

/// `L0 + e^{log_scale} · e`, `+∞` for a non-finite or negative model loss.
fn observed(l0: f64, scale: f64, e: f64) -> f64 {
    if e.is_finite() && e >= 0.0 {
        l0 + scale * e
    } else {
        f64::INFINITY
    }
}

impl<F: ModelFamily> LossLaw for Simulated<F> {
    fn name(&self) -> &'static str {
        "sim"
    }

    fn params(&self) -> Vec<ParamSpec> {
        let mut v = vec![
            ParamSpec::linear("L0", 0.0, self.scale.loss_max),
            ParamSpec::linear("log_scale", -30.0, 30.0),
        ];
        v.extend(self.family.params());
        v
    }

    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.predict_with(params, lrs, None, steps, out)
    }

    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        self.jacobian_with(params, lrs, None, steps, out, jac)
    }

    /// For an exact family: its Jacobian is one model run per shifted parameter, and `predict`
    /// runs the base point alone, with the bits of its run beside the shifted ones. Not for a
    /// Monte Carlo family, whose points advance together on each path's normals: their
    /// latency-bound updates make the whole batch cost little more than the base point alone
    /// (measured: pricing trials alone made `adam` and `lossnoise` fits slower).
    fn jacobian_is_costly(&self) -> bool {
        self.family.is_exact()
    }

    /// The prediction on each Monte Carlo path (`None` for an exact family).
    fn path_predictions(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.paths_with(params, lrs, None, steps)
    }

    /// Any batch schedule once the law has a reference batch (see
    /// [`Simulated::set_batch_ref`]); without one, only a constant grid.
    fn check_batch(&self, batch: &BatchGrid) -> Result<(), LawError> {
        self.noise_factors(Some(batch), 0).map(|_| ())
    }

    fn predict_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        self.predict_with(params, lrs, batch, steps, out)
    }

    fn predict_jacobian_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        self.jacobian_with(params, lrs, batch, steps, out, jac)
    }

    fn path_predictions_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.paths_with(params, lrs, batch, steps)
    }

    /// The data scales, and the reference batch: the largest batch size of the curves' batch
    /// schedules (unchanged when no curve has one).
    fn configure(&mut self, curves: &[TrainingCurve]) -> Result<(), LawError> {
        self.scale = DataScale::from_curves("sim", curves)?;
        if let Some(b) = super::largest_batch(curves) {
            self.set_batch_ref(Some(b))?;
        }
        Ok(())
    }

    /// Each of the family's guesses, completed with the `L0` and scale of a least-squares line
    /// through `(model loss, observed loss)` over all points (`L0` clamped into
    /// `[0, min loss]`), ranked by Huber (δ = 1e-3) on log residuals, best first.
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        let specs = self.params();
        let scale = DataScale::from_curves("sim", curves).unwrap_or(self.scale);
        let mut scored: Vec<(f64, Vec<f64>)> = self
            .family
            .initial_guesses()
            .into_par_iter()
            .map(|theta| {
                let mut pts = Vec::new();
                for c in curves {
                    let last = c.steps.last().copied().unwrap_or(0) as usize;
                    if last == 0 || last > c.lrs.len() {
                        continue;
                    }
                    let u = self.scaled_lrs(&c.lrs, last);
                    let Ok(v) = self.noise_factors(c.batch.as_ref(), last) else {
                        continue;
                    };
                    if let Ok(e) = self.model_loss(&theta, &u, v.as_deref(), &c.steps) {
                        pts.extend(e.into_iter().zip(c.losses.iter().copied()));
                    }
                }
                pts.retain(|(e, l)| e.is_finite() && *e > 0.0 && l.is_finite());
                let (mut l0, mut a) = match super::linear_fit(&pts) {
                    Some((slope, icpt)) if slope > 0.0 => (icpt, slope),
                    _ => (0.8 * scale.loss_min, 1.0),
                };
                if !(0.0..=scale.loss_min).contains(&l0) {
                    l0 = l0.clamp(0.0, 0.95 * scale.loss_min);
                    // Refit the scale alone through the mean excess.
                    let (se, sl): (f64, f64) = pts
                        .iter()
                        .fold((0.0, 0.0), |(a, b), (e, l)| (a + e, b + (l - l0)));
                    if se > 0.0 && sl > 0.0 {
                        a = sl / se;
                    }
                }
                let mut g = vec![l0, a.max(1e-300).ln()];
                g.extend(theta);
                clamp_all(&specs, &mut g);
                (score(self, &g, curves), g)
            })
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        scored.into_iter().map(|(_, g)| g).collect()
    }
}
