//! A saturating effective LR over any law (`LAW:sat=1`): progress per unit of LR area falls
//! at high LR, as near the edge of stability where the effective step is capped.

use super::{AnyLaw, DataScale, LawError, LossLaw, ParamSpec, check_params};
use crate::data::TrainingCurve;
use crate::schedule::{BatchGrid, LrGrid};

/// `eta_c` guesses with the inner law's best start; a fit starts from each
/// ([`LossLaw::min_starts`]). The fit surface has several basins — the plain law
/// (`eta_c` at its upper bound), a collapse where every positive LR counts alike (`eta_c` and
/// `C` at their lower bounds), and the saturated fits between. On the 124M grid the final-loss
/// MAE was 0.151 from one start at 1e4, 0.0527 from one at 10, 0.0085 from these four
/// (docs/accuracy.md, "The instability regime").
const ETA_C_GUESSES: [f64; 4] = [10.0, 1e4, 1.0, 0.3];

/// Relative step in `eta_c` of the central difference behind its Jacobian column (the inner
/// law gives no derivative in the LRs): ~1e−10 relative error at losses of order 1.
const FD_STEP: f64 = 1e-5;

/// The inner law evaluated on the effective LRs
///
/// ```text
/// η_eff = η · (1 + 1/c) / (1 + (η / lr_ref) / c)
/// ```
///
/// where `c = eta_c` is the LR, in units of the reference LR `lr_ref` (the largest LR of the
/// fit curves), at which an update's progress per unit LR is half of a small LR's. The factor `1 + 1/c` keeps `η_eff(lr_ref) = lr_ref`, so the inner law's scales
/// and starting points stay valid; `c → ∞` is the inner law itself. Parameters: the inner
/// law's, then `eta_c ∈ [1e−3, 1e4]` (log).
///
/// A fit over a constant and a cosine run sees LRs from the peak down to near 0, so `eta_c`
/// is identified only when saturation bends the curves at the LRs they visit.
///
/// ```
/// use lrsde::law::{AnyLaw, LossLaw};
/// let plain: AnyLaw = "power:lr_ref=2".parse().unwrap();
/// let sat: AnyLaw = "power:lr_ref=2,sat=1".parse().unwrap();
/// let lrs = lrsde::schedule::LrGrid::new(vec![1.0; 10]).unwrap();
/// let (mut a, mut b) = ([0.0], [0.0]);
/// plain.predict(&[2.0, 1.0, 0.5], &lrs, &[10], &mut a).unwrap();
/// sat.predict(&[2.0, 1.0, 0.5, 1e300], &lrs, &[10], &mut b).unwrap();
/// assert!((a[0] - b[0]).abs() < 1e-12);
/// // c = 1: η/lr_ref = 0.5 counts as 0.5 · 2 / 1.5 of lr_ref per update.
/// let mut c = [0.0];
/// sat.predict(&[2.0, 1.0, 0.5, 1.0], &lrs, &[10], &mut c).unwrap();
/// assert!((c[0] - (2.0 + (10.0 * 2.0 / 3.0f64).powf(-0.5))).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Saturated {
    inner: Box<AnyLaw>,
    lr_ref: f64,
}

impl Saturated {
    /// `inner` with a saturating LR, reference LR `lr_ref` until [`LossLaw::configure`].
    ///
    /// ```
    /// use lrsde::law::{AnyLaw, Saturated};
    /// let sat = Saturated::new("momentum".parse().unwrap(), 3e-4).unwrap();
    /// let lrs = lrsde::schedule::LrGrid::new(vec![3e-4, 1.5e-4]).unwrap();
    /// // eta_c = 1: the reference LR counts as itself, half of it as 2/3 of the reference.
    /// let eff = sat.effective(1.0, &lrs);
    /// assert!((eff[0] - 3e-4).abs() < 1e-18);
    /// assert!((eff[1] - 2e-4).abs() < 1e-18);
    /// assert!(Saturated::new(AnyLaw::Saturated(sat), 1.0).is_err());
    /// ```
    ///
    /// # Errors
    /// [`LawError::BadOption`] for a non-positive `lr_ref` or an `inner` law that is already
    /// saturated or simulated (its LRs enter a simulation, not a closed form).
    pub fn new(inner: AnyLaw, lr_ref: f64) -> Result<Self, LawError> {
        if matches!(inner, AnyLaw::Saturated(_) | AnyLaw::Sim(_)) {
            return Err(LawError::BadOption {
                law: inner.name(),
                key: "sat".into(),
                value: "1".into(),
                reason: "applies to sde, mpl, momentum and power only",
            });
        }
        Ok(Self {
            inner: Box::new(inner),
            lr_ref: super::check_lr_ref("sat", lr_ref)?,
        })
    }

    /// The law evaluated on the effective LRs.
    pub fn inner(&self) -> &AnyLaw {
        &self.inner
    }

    /// The reference LR of the saturation (the inner law keeps its own).
    pub fn lr_ref(&self) -> f64 {
        self.lr_ref
    }

    /// Sets the reference LR of both the saturation and the inner law.
    ///
    /// # Errors
    /// [`LawError::BadOption`] unless finite and positive.
    pub fn set_lr_ref(&mut self, lr_ref: f64) -> Result<(), LawError> {
        self.lr_ref = super::check_lr_ref("sat", lr_ref)?;
        self.inner.set_lr_ref(lr_ref)
    }

    /// The effective LR grid at `eta_c = c` (exact identity for `c = ∞`).
    pub fn effective(&self, c: f64, lrs: &LrGrid) -> LrGrid {
        let r = 1.0 / c;
        let (norm, k) = (1.0 + r, r / self.lr_ref);
        // η ≥ 0 and c > 0 keep every value finite and ≥ 0.
        LrGrid::from_validated(lrs.iter().map(|&e| e * norm / (1.0 + k * e)).collect())
    }

    /// Splits `params` into the inner law's and `eta_c`, checking count and finiteness.
    fn split<'a>(&self, params: &'a [f64]) -> Result<(&'a [f64], f64), LawError> {
        check_params(self.name(), &self.params(), params)?;
        let (inner, c) = params.split_at(params.len() - 1);
        if c[0] <= 0.0 {
            return Err(LawError::ParamOutOfDomain {
                law: self.name(),
                name: "eta_c",
                value: c[0],
                must: "> 0",
            });
        }
        Ok((inner, c[0]))
    }
}

/// The name of `inner` with saturation (a stable identifier, as the plain laws' names).
fn sat_name(inner: &AnyLaw) -> &'static str {
    match inner.name() {
        "sde" => "sde+sat",
        "mpl" => "mpl+sat",
        "momentum" => "momentum+sat",
        "power" => "power+sat",
        _ => "sat",
    }
}

impl LossLaw for Saturated {
    fn name(&self) -> &'static str {
        sat_name(&self.inner)
    }

    fn params(&self) -> Vec<ParamSpec> {
        let mut p = self.inner.params();
        p.push(ParamSpec::log("eta_c", 1e-3, 1e4).described(
            "LR, in units of the largest fitted LR, at which an update's progress halves \
             (saturation near the edge of stability; large: none)",
        ));
        p
    }

    fn predict(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let (inner, c) = self.split(params)?;
        self.inner
            .predict(inner, &self.effective(c, lrs), steps, out)
    }

    fn min_starts(&self) -> usize {
        ETA_C_GUESSES.len()
    }

    fn min_iters(&self) -> u64 {
        self.inner.min_iters()
    }

    fn configure(&mut self, curves: &[TrainingCurve]) -> Result<(), LawError> {
        self.lr_ref = DataScale::from_curves(self.name(), curves)?.lr_ref;
        self.inner.configure(curves)
    }

    /// The inner law's best start at each `eta_c` guess (10, 1e4, 1, 0.3), then its other
    /// starts at the first of them.
    fn initial_guesses(&self, curves: &[TrainingCurve]) -> Vec<Vec<f64>> {
        let inner = self.inner.initial_guesses(curves);
        let with = |g: &[f64], c: f64| [g, &[c]].concat();
        let mut out: Vec<Vec<f64>> = ETA_C_GUESSES.iter().map(|&c| with(&inner[0], c)).collect();
        out.extend(inner[1..].iter().map(|g| with(g, ETA_C_GUESSES[0])));
        out
    }

    /// The inner law's Jacobian on the effective grid; the `eta_c` column by a central
    /// difference in `ln eta_c` (two more predictions).
    fn predict_jacobian(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
        out: &mut [f64],
        jac: &mut [f64],
    ) -> Result<bool, LawError> {
        self.predict_jacobian_batched(params, lrs, None, steps, out, jac)
    }

    fn check_batch(&self, batch: &BatchGrid) -> Result<(), LawError> {
        self.inner.check_batch(batch)
    }

    fn predict_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
        out: &mut [f64],
    ) -> Result<(), LawError> {
        let (inner, c) = self.split(params)?;
        self.inner
            .predict_batched(inner, &self.effective(c, lrs), batch, steps, out)
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
        let (inner, c) = self.split(params)?;
        let (n, k) = (params.len(), params.len() - 1);
        if jac.len() != steps.len() * n {
            return Err(LawError::OutputLength {
                law: self.name(),
                expected: steps.len() * n,
                found: jac.len(),
            });
        }
        let mut inner_jac = vec![0.0; steps.len() * k];
        let eff = self.effective(c, lrs);
        if !self
            .inner
            .predict_jacobian_batched(inner, &eff, batch, steps, out, &mut inner_jac)?
        {
            return Ok(false);
        }
        let (hi, lo) = (c * FD_STEP.exp(), c * (-FD_STEP).exp());
        let (mut up, mut down) = (vec![0.0; steps.len()], vec![0.0; steps.len()]);
        self.inner
            .predict_batched(inner, &self.effective(hi, lrs), batch, steps, &mut up)?;
        self.inner
            .predict_batched(inner, &self.effective(lo, lrs), batch, steps, &mut down)?;
        for j in 0..steps.len() {
            jac[j * n..j * n + k].copy_from_slice(&inner_jac[j * k..(j + 1) * k]);
            jac[j * n + k] = (up[j] - down[j]) / (hi - lo);
        }
        Ok(true)
    }

    fn path_predictions_batched(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        batch: Option<&BatchGrid>,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        let (inner, c) = self.split(params)?;
        self.inner
            .path_predictions_batched(inner, &self.effective(c, lrs), batch, steps)
    }

    fn path_predictions(
        &self,
        params: &[f64],
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<Option<Vec<Vec<f64>>>, LawError> {
        self.path_predictions_batched(params, lrs, None, steps)
    }
}
