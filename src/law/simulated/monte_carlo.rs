//! The Monte Carlo mean loss of a model on fixed Brownian paths (common random numbers).

use rayon::prelude::*;

use crate::model::{DiffusionDerivative, SdeModel};
use crate::rng::PathNormals;
use crate::schedule::LrGrid;
use crate::solver::{EulerMaruyama, Method, Milstein, Stepper, TimeStep, Workspace};

/// A path whose loss exceeds this is diverged: its loss counts as `+∞` from then on.
const DIVERGED: f64 = 1e150;

/// How a simulated law estimates an expected loss that has no exact recursion: the mean over
/// `paths` Brownian paths drawn from `(seed, path index)` with the crate's generators.
///
/// The same paths serve every parameter vector and every LR grid (common random numbers), so
/// the estimate is a smooth function of the parameters (finite differences work) and two
/// schedules are compared on the same noise. Results do not depend on the thread count.
///
/// ```
/// use lrsde::law::MonteCarlo;
/// use lrsde::model::Nqm;
/// use lrsde::nqm::NqmParams;
/// let mc = MonteCarlo { paths: 64, seed: 1, method: Default::default() };
/// let model = Nqm::new(NqmParams::default()).unwrap();
/// let mut out = [0.0; 2];
/// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 100]).unwrap();
/// mc.mean_loss(&model, &lrs, &[10, 100], None, &mut out);
/// assert!(out[1] < out[0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MonteCarlo {
    /// Number of paths (≥ 1).
    pub paths: usize,
    /// Seed of the paths.
    pub seed: u64,
    /// Scheme (one step of `dt = 1` per update).
    pub method: Method,
}

impl Default for MonteCarlo {
    /// 8 paths, seed 0, Euler–Maruyama. With the Monte Carlo models' default `dim` of 4 this
    /// keeps a fit on two 24,000-step curves to seconds on one core (`adam` ~7 s, `lossnoise`
    /// ~12 s of CPU; docs/performance.md): at 16 paths and `dim` 8 an `adam` fit on the
    /// MultiPowerLaw split took over three minutes before the batched updates.
    fn default() -> Self {
        Self {
            paths: 8,
            seed: 0,
            method: Method::Em,
        }
    }
}

impl MonteCarlo {
    /// Writes the mean loss over the paths after `steps[j]` updates into `out[j]`.
    ///
    /// `lrs[t]` is the LR of update `t + 1` (as the model sees it); `steps` are 1-based,
    /// strictly increasing and within `lrs` (the caller checks). `init`, if given, overwrites
    /// the state coordinates from `offset` on after [`SdeModel::init`] (a per-coordinate start).
    /// A path whose loss stops being finite or exceeds 1e150 is diverged and makes the mean
    /// `+∞` from that step on.
    pub fn mean_loss<M: DiffusionDerivative>(
        &self,
        model: &M,
        lrs: &LrGrid,
        steps: &[u64],
        init: Option<(usize, &[f64])>,
        out: &mut [f64],
    ) {
        self.mean_loss_scaled(model, lrs, steps, init, None, out);
    }

    /// [`Self::mean_loss`] with update `t`'s diffusion multiplied by `noise[t]` (a batch
    /// schedule's `√(B_ref/B_t)`, aligned with `lrs`); `None` is [`Self::mean_loss`].
    pub(crate) fn mean_loss_scaled<M: DiffusionDerivative>(
        &self,
        model: &M,
        lrs: &[f64],
        steps: &[u64],
        init: Option<(usize, &[f64])>,
        noise: Option<&[f64]>,
        out: &mut [f64],
    ) {
        let per_path = self.path_losses_scaled(model, lrs, steps, init, noise);
        // Summed in path order: the mean does not depend on the thread count.
        out.fill(0.0);
        for losses in &per_path {
            for (o, l) in out.iter_mut().zip(losses) {
                *o += l;
            }
        }
        let n = self.paths as f64;
        out.iter_mut().for_each(|o| *o /= n);
    }

    /// The loss of every path (in path order) after `steps[j]` updates: `result[p][j]`, `+∞`
    /// from where path `p` diverged; [`mean_loss`](Self::mean_loss) is their mean. Two LR grids
    /// run on the same paths, so path-by-path differences are paired.
    ///
    /// ```
    /// use lrsde::law::MonteCarlo;
    /// use lrsde::model::Nqm;
    /// use lrsde::nqm::NqmParams;
    /// let mc = MonteCarlo { paths: 4, ..Default::default() };
    /// let model = Nqm::new(NqmParams::default()).unwrap();
    /// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 100]).unwrap();
    /// let per_path = mc.path_losses(&model, &lrs, &[100], None);
    /// let mut mean = [0.0];
    /// mc.mean_loss(&model, &lrs, &[100], None, &mut mean);
    /// let avg = per_path.iter().map(|p| p[0]).sum::<f64>() / 4.0;
    /// assert!((avg - mean[0]).abs() <= 1e-12 * mean[0]);
    /// ```
    pub fn path_losses<M: DiffusionDerivative>(
        &self,
        model: &M,
        lrs: &LrGrid,
        steps: &[u64],
        init: Option<(usize, &[f64])>,
    ) -> Vec<Vec<f64>> {
        self.path_losses_scaled(model, lrs, steps, init, None)
    }

    /// [`Self::path_losses`] with per-update diffusion multipliers (as
    /// [`Self::mean_loss_scaled`]).
    pub(crate) fn path_losses_scaled<M: DiffusionDerivative>(
        &self,
        model: &M,
        lrs: &[f64],
        steps: &[u64],
        init: Option<(usize, &[f64])>,
        noise: Option<&[f64]>,
    ) -> Vec<Vec<f64>> {
        let run = Run {
            seed: self.seed,
            lrs,
            steps,
            init,
            noise,
        };
        (0..self.paths as u64)
            .into_par_iter()
            .map(|p| match self.method {
                Method::Em => path_losses(model, EulerMaruyama, &run, p),
                Method::Milstein => path_losses(model, Milstein, &run, p),
            })
            .collect()
    }
}

/// What every path of one estimate shares.
#[derive(Clone, Copy)]
struct Run<'a> {
    seed: u64,
    lrs: &'a [f64],
    steps: &'a [u64],
    init: Option<(usize, &'a [f64])>,
    noise: Option<&'a [f64]>,
}

fn path_losses<M: SdeModel, S: Stepper<M>>(
    model: &M,
    stepper: S,
    run: &Run<'_>,
    path: u64,
) -> Vec<f64> {
    let Run {
        seed,
        lrs,
        steps,
        init,
        noise,
    } = *run;
    let mut x = vec![0.0; model.dim()];
    model.init(&mut x);
    if let Some((offset, values)) = init {
        x[offset..offset + values.len()].copy_from_slice(values);
    }
    let mut ws = Workspace::new(model);
    let mut z = vec![0.0; model.noise_dim()];
    let mut rng = PathNormals::new(seed, path);
    let ts = TimeStep::new(1.0);
    let mut out = vec![f64::INFINITY; steps.len()];
    let mut t = 0usize;
    for (o, &step) in out.iter_mut().zip(steps) {
        while t < step as usize {
            rng.fill(&mut z);
            if let Some(c) = noise {
                ws.noise = c[t];
            }
            stepper.step(model, &mut x, lrs[t], ts, &z, &mut ws);
            t += 1;
        }
        let l = model.loss(&x);
        if !(l.is_finite() && l <= DIVERGED) {
            break;
        }
        *o = l;
    }
    out
}

/// A built-in model's update written out directly, for a batch of parameter vectors at once
/// (the Jacobian's base and shifted points): the generic path (drift, diffusion and stepper
/// through a [`Workspace`], one parameter vector at a time) costs several times the arithmetic
/// at the law's small `dim`, and one vector's update is a chain of dependent square roots and
/// divisions that a batch's independent chains fill.
///
/// `step` must consume `z` as the model's Euler–Maruyama (or Milstein) step at `dt = 1`
/// consumes the same normals, so every member runs on the same Brownian paths as
/// [`MonteCarlo::path_losses`] on its model (`tests/law_sim_kernels.rs` compares them).
pub(crate) trait PathBatch: Sync {
    /// Number of parameter vectors.
    fn members(&self) -> usize;
    /// Normals per update (shared by all members).
    fn noise_dim(&self) -> usize;
    /// Length of the batch's state.
    fn state_len(&self) -> usize;
    /// Writes the start state.
    fn init(&self, state: &mut [f64]);
    /// One update of every member at LR `lr` with standard normals `z`.
    fn step(&self, state: &mut [f64], lr: f64, z: &[f64]);
    /// Writes each member's model loss into `out` (length [`members`](Self::members)).
    fn losses(&self, state: &[f64], out: &mut [f64]);
}

impl MonteCarlo {
    /// The loss of every path for every member of `batch` (`result[p][k][j]`, as
    /// [`path_losses`](Self::path_losses) per member), all members on one draw of the normals.
    pub(crate) fn batch_path_losses<B: PathBatch>(
        &self,
        batch: &B,
        lrs: &[f64],
        steps: &[u64],
    ) -> Vec<Vec<Vec<f64>>> {
        (0..self.paths as u64)
            .into_par_iter()
            .map(|p| batch_path(batch, self.seed, p, lrs, steps))
            .collect()
    }

    /// The mean loss over the paths for every member (`result[k][j]`), summed in path order
    /// as [`mean_loss`](Self::mean_loss).
    pub(crate) fn batch_mean_losses<B: PathBatch>(
        &self,
        batch: &B,
        lrs: &[f64],
        steps: &[u64],
    ) -> Vec<Vec<f64>> {
        let per_path = self.batch_path_losses(batch, lrs, steps);
        let mut out = vec![vec![0.0; steps.len()]; batch.members()];
        for path in &per_path {
            for (o, losses) in out.iter_mut().zip(path) {
                for (o, l) in o.iter_mut().zip(losses) {
                    *o += l;
                }
            }
        }
        let n = self.paths as f64;
        out.iter_mut().flatten().for_each(|o| *o /= n);
        out
    }
}

fn batch_path<B: PathBatch>(
    batch: &B,
    seed: u64,
    path: u64,
    lrs: &[f64],
    steps: &[u64],
) -> Vec<Vec<f64>> {
    let n = batch.members();
    let mut state = vec![0.0; batch.state_len()];
    batch.init(&mut state);
    // A diverged member keeps being stepped (its lanes are independent) but its losses stay
    // `+∞` from there, as in `path_losses`.
    let mut alive = vec![true; n];
    let mut losses = vec![0.0; n];
    let mut out = vec![vec![f64::INFINITY; steps.len()]; n];
    let mut z = vec![0.0; batch.noise_dim()];
    let mut rng = PathNormals::new(seed, path);
    let mut t = 0usize;
    for (j, &step) in steps.iter().enumerate() {
        if !alive.contains(&true) {
            break;
        }
        while t < step as usize {
            rng.fill(&mut z);
            batch.step(&mut state, lrs[t], &z);
            t += 1;
        }
        batch.losses(&state, &mut losses);
        for ((o, a), &l) in out.iter_mut().zip(alive.iter_mut()).zip(&losses) {
            *a = *a && l.is_finite() && l <= DIVERGED;
            if *a {
                o[j] = l;
            }
        }
    }
    out
}
