//! The plain power law in the LR area (a Chinchilla-style curve in "intrinsic time").

use super::{
    DataScale, LawError, LossLaw, ParamSpec, check_grid, check_inputs, check_lr_ref, check_params,
    clamp_all, observed_points, power_guess, predict_each, sde::score,
};
use crate::data::TrainingCurve;
use crate::schedule::LrGrid;
use rayon::prelude::*;

/// `L(t) = L0 + A · S1(t)^(−α)`, with `S1(t) = Σ_{τ=1..t} η_τ / lr_ref` the LR area of the
/// first `t` updates in units of the reference LR.
///
/// Parameters, in order: `L0 ∈ [0, max loss]`, `A ∈ [1e−8, 1e8]` (log scale),
/// `alpha ∈ [0.01, 3]`. The LR schedule enters only through its area, so the law cannot see an
/// annealing drop: it is the baseline the other laws must beat.
///
/// ```
/// use lrsde::law::{LossLaw, PowerLaw};
/// let law = PowerLaw::new(0.5).unwrap();
/// let mut out = [0.0];
/// // S1 = 4 × 0.5 / 0.5 = 4: L = 1 + 2 · 4^(−0.5) = 2.
/// let lrs = lrsde::schedule::LrGrid::new(vec![0.5; 4]).unwrap();
/// law.predict(&[1.0, 2.0, 0.5], &lrs, &[4], &mut out).unwrap();
/// assert!((out[0] - 2.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PowerLaw {
    scale: DataScale,
}

impl PowerLaw {
    /// A power law with reference LR `lr_ref`.
    ///
    /// # Errors
    /// [`LawError::BadOption`] unless `lr_ref` is finite and positive.
    pub fn new(lr_ref: f64) -> Result<Self, LawError> {
        let mut l = Self::default();
        l.set_lr_ref(lr_ref)?;
        Ok(l)
    }

    /// The reference LR.
    pub fn lr_ref(&self) -> f64 {
        self.scale.lr_ref
    }

    /// Sets the reference LR.
    ///
    /// # Errors
    /// [`LawError::BadOption`] unless finite and positive.
    pub fn set_lr_ref(&mut self, lr_ref: f64) -> Result<(), LawError> {
        self.scale.lr_ref = check_lr_ref("power", lr_ref)?;
        Ok(())
    }

    /// The data scales in use.
    pub fn scale(&self) -> DataScale {
        self.scale
    }
}

impl LossLaw for PowerLaw {
    fn name(&self) -> &'static str {
        "power"
    }

    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::linear("L0", 0.0, self.scale.loss_max).described(
                "loss left after infinitely long training (the floor the curve approaches)",
            ),
            ParamSpec::log("A", 1e-8, 1e8)
                .described("scale of the power-law decrease with the LR area"),
            ParamSpec::linear("alpha", 0.01, 3.0)
                .described("power of that decrease (larger: faster early progress)"),
        ]
    }

    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        check_inputs("power", &self.params(), params, lrs, steps, out)?;
        let (l0, a, alpha) = (params[0], params[1], params[2]);
        let (mut acc, mut pos) = (0.0, 0usize);
        for (o, &step) in out.iter_mut().zip(steps) {
            let n = step as usize;
            acc += lrs[pos..n].iter().sum::<f64>();
            pos = n;
            let s1 = acc / self.scale.lr_ref;
            if s1 <= 0.0 {
                return Err(LawError::ZeroLrArea { law: "power", step });
            }
            *o = l0 + a * s1.powf(-alpha);
        }
        Ok(())
    }

    /// The LR area does not depend on the parameters: `ln S1` once per step for all vectors,
    /// then one `exp` per step and vector (a few ulps from [`LossLaw::predict`]'s `powf`).
    fn predict_many(
        &self,
        params: &[Vec<f64>],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Vec<Result<Vec<f64>, LawError>> {
        let ln_s1 = match check_grid("power", lrs, steps, steps.len()) {
            Ok(_) => ln_areas(lrs, steps, self.scale.lr_ref),
            Err(_) => None,
        };
        let Some(ln_s1) = ln_s1 else {
            return predict_each(self, params, lrs, steps);
        };
        let specs = self.params();
        params
            .par_iter()
            .map(|p| {
                check_params("power", &specs, p)?;
                let (l0, a, alpha) = (p[0], p[1], p[2]);
                Ok(ln_s1.iter().map(|&l| l0 + a * (-alpha * l).exp()).collect())
            })
            .collect()
    }

    /// Exact derivatives: `(1, S1^(−α), −A S1^(−α) ln S1)`.
    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        if jac.len() != steps.len() * 3 {
            return Err(LawError::OutputLength {
                law: "power",
                expected: steps.len() * 3,
                found: jac.len(),
            });
        }
        check_inputs("power", &self.params(), params, lrs, steps, out)?;
        let (l0, a, alpha) = (params[0], params[1], params[2]);
        let (mut acc, mut pos) = (0.0, 0usize);
        for ((o, row), &step) in out.iter_mut().zip(jac.chunks_exact_mut(3)).zip(steps) {
            let n = step as usize;
            acc += lrs[pos..n].iter().sum::<f64>();
            pos = n;
            let s1 = acc / self.scale.lr_ref;
            if s1 <= 0.0 {
                return Err(LawError::ZeroLrArea { law: "power", step });
            }
            let pw = s1.powf(-alpha);
            *o = l0 + a * pw;
            row.copy_from_slice(&[1.0, pw, -a * pw * s1.ln()]);
        }
        Ok(true)
    }

    fn configure(&mut self, curves: &[TrainingCurve]) -> Result<(), LawError> {
        self.scale = DataScale::from_curves("power", curves)?;
        Ok(())
    }

    /// `L0 ∈ L_min · {0.5, 0.7, 0.8, 0.9, 0.95}`, each with `(A, α)` from the regression of
    /// `ln(L − L_min + 0.01)` on `ln S1` (rescaled to the mean excess over `L0`); ranked by
    /// Huber-on-log residuals, best first.
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        let specs = self.params();
        let pts = observed_points(curves, self.scale.lr_ref);
        let lmin = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        if pts.is_empty() {
            let mut g = vec![0.5 * self.scale.loss_min, 1.0, 0.5];
            clamp_all(&specs, &mut g);
            return vec![g];
        }
        let mut scored: Vec<(f64, Vec<f64>)> = [0.5, 0.7, 0.8, 0.9, 0.95]
            .into_iter()
            .map(|f| {
                let l0 = f * lmin;
                let (a, alpha) = power_guess(&pts, l0);
                let mut g = vec![l0, a, alpha];
                clamp_all(&specs, &mut g);
                (score(self, &g, curves), g)
            })
            .collect();
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        scored.into_iter().map(|(_, g)| g).collect()
    }
}

/// `ln S1` at each of `steps` (LR area in units of `lr_ref`, summed as [`LossLaw::predict`]
/// does), or `None` where an area is not positive (then each prediction reports the error).
fn ln_areas(lrs: &[f64], steps: &[u64], lr_ref: f64) -> Option<Vec<f64>> {
    let (mut acc, mut pos) = (0.0, 0usize);
    let mut out = Vec::with_capacity(steps.len());
    for &step in steps {
        let n = step as usize;
        acc += lrs[pos..n].iter().sum::<f64>();
        pos = n;
        let s1 = acc / lr_ref;
        if s1 <= 0.0 {
            return None;
        }
        out.push(s1.ln());
    }
    Some(out)
}
