//! The fitted law as one typed value: the fit and the configured law it was made with, checked
//! against each other once, at construction, so that `predict` and `rank` take it alone.

use std::path::Path;

use super::fitted::DrawPredictions;
use super::{Band, FitError, FittedLaw};
use crate::law::{AnyLaw, Batched, LossLaw};
use crate::schedule::{BatchGrid, LrGrid};

/// A fitted law ready to predict: a [`FittedLaw`] and its law `L`, whose name and parameters
/// were checked against the fit when it was built.
///
/// With a built-in law (`L` = [`AnyLaw`], the default) it is read from and written to the
/// versioned fit file (`fit.json`, [`FittedLaw`]'s format) with [`Predictor::load`] and
/// [`Predictor::save`]; a law of your own is paired with its fit by [`Predictor::with_law`].
///
/// ```
/// use lrsde::data::TrainingCurve;
/// use lrsde::fit::{fit_law, FitOptions, Predictor};
/// // L = 2 + 3·S1^−0.5, S1 the LR area in units of the peak LR.
/// let lrs = lrsde::schedule::LrGrid::new(vec![3e-4; 2000]).unwrap();
/// let steps: Vec<u64> = (1..=50).map(|k| 40 * k).collect();
/// let losses = steps.iter().map(|&s| 2.0 + 3.0 / (s as f64).sqrt()).collect();
/// let curve = TrainingCurve { name: "c".into(), lrs, steps, losses, batch: None };
/// let fitted = fit_law("power".parse()?, &[curve], &FitOptions::default())?;
///
/// // The fit file alone is enough to predict a new schedule.
/// let text = fitted.to_json_string()?;
/// let predictor = Predictor::from_json_str(&text)?;
/// let band = predictor.predict_band(&lrsde::schedule::LrGrid::new(vec![3e-4; 8000])?, &[8000])?;
/// assert!((band.loss[0] - (2.0 + 3.0 / 8000f64.sqrt())).abs() < 1e-3);
/// assert!(band.lo[0] <= band.loss[0] && band.loss[0] <= band.hi[0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Predictor<L = AnyLaw> {
    fitted: FittedLaw,
    law: L,
    /// The batch-size schedule every prediction follows (`None`: the fit's own batch).
    batch: Option<BatchGrid>,
}

impl Predictor<AnyLaw> {
    /// The fit with the built-in law it was made with, rebuilt from
    /// [`FittedLaw::law_config`].
    ///
    /// # Errors
    /// As [`FittedLaw::law`]: no or a bad law configuration, or one for another law.
    pub fn from_fitted(fitted: FittedLaw) -> Result<Self, FitError> {
        let law = fitted.law()?;
        Ok(Self {
            fitted,
            law,
            batch: None,
        })
    }

    /// Reads a fit file written by [`Predictor::save`] or [`FittedLaw::save`].
    ///
    /// # Errors
    /// As [`FittedLaw::load`], then as [`Predictor::from_fitted`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, FitError> {
        Self::from_fitted(FittedLaw::load(path)?)
    }

    /// Parses a fit from JSON text (as [`FittedLaw::from_json_str`]).
    ///
    /// # Errors
    /// As [`FittedLaw::from_json_str`], then as [`Predictor::from_fitted`].
    pub fn from_json_str(text: &str) -> Result<Self, FitError> {
        Self::from_fitted(FittedLaw::from_json_str(text)?)
    }
}

impl<L: LossLaw> Predictor<L> {
    /// Pairs a fit with the law it was fitted for (a law of your own, or a built-in one).
    ///
    /// ```
    /// use lrsde::fit::{fit, FitError, FitOptions, Predictor};
    /// use lrsde::data::TrainingCurve;
    /// use lrsde::law::{LawError, LossLaw, ParamSpec};
    ///
    /// /// L(t) = L0 + A·S1(t)^−0.5, S1 the LR area.
    /// struct Toy;
    /// impl LossLaw for Toy {
    ///     fn name(&self) -> &'static str { "toy" }
    ///     fn params(&self) -> Vec<ParamSpec> {
    ///         vec![ParamSpec::linear("L0", 0.0, 10.0),
    ///              ParamSpec::linear("A", 0.0, f64::INFINITY)]
    ///     }
    ///     fn predict(&self, p: &[f64], lrs: &lrsde::schedule::LrGrid, steps: &[u64], out: &mut [f64])
    ///         -> Result<(), LawError> {
    ///         let mut s1 = 0.0;
    ///         let mut t = 0;
    ///         for (o, &k) in out.iter_mut().zip(steps) {
    ///             while t < k as usize { s1 += lrs[t]; t += 1; }
    ///             *o = p[0] + p[1] / s1.sqrt();
    ///         }
    ///         Ok(())
    ///     }
    ///     fn configure(&mut self, _: &[TrainingCurve]) -> Result<(), LawError> { Ok(()) }
    ///     fn initial_guesses(&self, _: &[TrainingCurve]) -> Vec<Vec<f64>> {
    ///         vec![vec![1.0, 1.0]]
    ///     }
    /// }
    /// let lrs = lrsde::schedule::LrGrid::new(vec![1.0; 400]).unwrap();
    /// let steps: Vec<u64> = (1..=40).map(|k| 10 * k).collect();
    /// let losses = steps.iter().map(|&k| 2.0 + 3.0 / (k as f64).sqrt()).collect();
    /// let curve = TrainingCurve { name: "c".into(), lrs: lrs.clone(), steps, losses, batch: None };
    /// let fitted = fit(&Toy, &[curve], &FitOptions::default())?;
    /// assert!(fitted.report.converged);
    /// let predictor = Predictor::with_law(fitted.clone(), Toy)?;
    /// let band = predictor.predict_band(&lrsde::schedule::LrGrid::new(vec![1.0; 1000]).unwrap(), &[1000])?;
    /// assert!((band.loss[0] - (2.0 + 3.0 / 1000f64.sqrt())).abs() < 1e-6);
    /// assert!(band.lo[0] <= band.loss[0] && band.loss[0] <= band.hi[0]);
    /// // A fit is only ever paired with its own law.
    /// let other = Predictor::with_law(fitted, lrsde::law::PowerLaw::default());
    /// assert!(matches!(other, Err(FitError::LawMismatch { .. })));
    /// # Ok::<(), FitError>(())
    /// ```
    ///
    /// # Errors
    /// [`FitError::LawMismatch`] or [`FitError::ParamMismatch`] when `law` is not the law of
    /// `fitted` (name and parameter names).
    pub fn with_law(fitted: FittedLaw, law: L) -> Result<Self, FitError> {
        fitted.check_law(&law)?;
        Ok(Self {
            fitted,
            law,
            batch: None,
        })
    }

    /// Makes every later prediction (and so every `rank`, `search` and continuation made with
    /// this predictor) follow the batch-size schedule `batch`: update `t` draws its gradient
    /// noise from `batch.at(t)` samples, the last batch held past the grid's end. `None`
    /// removes it. Only laws whose noise scales with `1/batch` (the `sim:` laws, fitted on
    /// curves with a batch column) accept a changing batch; a constant grid at the fit's
    /// reference batch changes no bit.
    ///
    /// ```
    /// use lrsde::data::TrainingCurve;
    /// use lrsde::fit::{fit_law, FitOptions, Predictor};
    /// use lrsde::schedule::{BatchGrid, LrGrid};
    /// let lrs = LrGrid::new(vec![1.0; 100])?;
    /// let steps: Vec<u64> = (1..=10).map(|k| 10 * k).collect();
    /// let losses = steps.iter().map(|&s| 2.0 + 3.0 / (s as f64).sqrt()).collect();
    /// let curve = TrainingCurve { name: "c".into(), lrs, steps, losses, batch: None };
    /// let predictor = Predictor::from_fitted(fit_law("power".parse()?, &[curve], &FitOptions::default())?)?;
    /// // The power law has no batch term: a ramp is refused, a constant batch is no change.
    /// let ramp = BatchGrid::new(vec![32.0, 64.0])?;
    /// assert!(predictor.clone().with_batch_schedule(Some(ramp)).is_err());
    /// let flat = predictor.clone().with_batch_schedule(Some(BatchGrid::new(vec![64.0])?))?;
    /// let half = LrGrid::new(vec![1.0; 50])?;
    /// assert_eq!(flat.predict(&half, &[50])?, predictor.predict(&half, &[50])?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`FitError::Law`] with [`crate::law::LawError::NoBatchTerm`] (a law without a batch
    /// term and a changing batch) or [`crate::law::LawError::NoBatchReference`] (a `sim:`
    /// law fitted on curves without batch sizes).
    pub fn with_batch_schedule(mut self, batch: Option<BatchGrid>) -> Result<Self, FitError> {
        if let Some(b) = &batch {
            self.law.check_batch(b)?;
        }
        self.batch = batch;
        Ok(self)
    }

    /// The batch-size schedule predictions follow, if any.
    pub fn batch_schedule(&self) -> Option<&BatchGrid> {
        self.batch.as_ref()
    }

    /// The law as predictions see it: under the batch schedule, if any.
    pub(crate) fn bound_law(&self) -> Batched<'_, L> {
        Batched::new(&self.law, self.batch.as_ref())
    }

    /// The fit: parameters, uncertainty, report and what data it saw.
    pub fn fitted(&self) -> &FittedLaw {
        &self.fitted
    }

    /// The law the fit was made with.
    pub fn law(&self) -> &L {
        &self.law
    }

    /// The fit, giving up the law.
    pub fn into_fitted(self) -> FittedLaw {
        self.fitted
    }

    /// The fitted parameters in the law's order.
    pub fn params(&self) -> Vec<f64> {
        self.fitted.params_vec()
    }

    /// Predicted loss at `steps` (1-based, increasing) under the LR grid `lrs` (one LR per
    /// update), at the fitted parameters.
    ///
    /// # Errors
    /// [`FitError::InvalidPredictionStep`] for invalid steps, or the law's own refusal of the
    /// schedule ([`FitError::Law`], e.g. a zero LR area).
    pub fn predict(&self, lrs: &LrGrid, steps: &[u64]) -> Result<Vec<f64>, FitError> {
        self.fitted.predict(&self.bound_law(), lrs, steps)
    }

    /// Predicted loss with its band: with the fit's predictive model, the predictive interval
    /// of a new run; without one, the `band_quantiles` of the law over the stored parameter
    /// draws (collapsing to the prediction without draws). Draws the law refuses, or predicts
    /// non-finite or non-positive losses for, are dropped (counted in [`Band::draws_dropped`]).
    ///
    /// # Errors
    /// As [`Predictor::predict`].
    pub fn predict_band(&self, lrs: &LrGrid, steps: &[u64]) -> Result<Band, FitError> {
        self.fitted.predict_band(&self.bound_law(), lrs, steps)
    }

    /// [`Self::predict_band`], also returning the law at every stored draw.
    pub(crate) fn predict_band_with_draws(
        &self,
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<(Band, DrawPredictions), FitError> {
        self.fitted
            .predict_band_with_draws(&self.bound_law(), lrs, steps)
    }

    /// Writes the fit file atomically (as [`FittedLaw::save`]).
    ///
    /// # Errors
    /// [`FitError::Io`] naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FitError> {
        self.fitted.save(path)
    }
}
