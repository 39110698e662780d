//! The fitted law as a versioned JSON document that `predict` and `rank` read.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{FitError, FitReport, LawSelection, Predictive, Uncertainty};
use crate::law::{AnyLaw, LossLaw};
use crate::quantile::quantile_select;
use crate::schedule::LrGrid;

/// The `format` tag of fit files.
pub const FIT_FORMAT: &str = "lrsde-fit";
/// The fit-file version this build writes and reads.
pub const FIT_VERSION: u32 = 1;

/// What the fit saw of one curve (for extrapolation warnings downstream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveSummary {
    /// Curve name.
    pub name: String,
    /// Observed points.
    pub n_points: usize,
    /// First observed step.
    pub first_step: u64,
    /// Last observed step.
    pub last_step: u64,
    /// Smallest and largest LR among the updates up to `last_step`.
    pub lr_range: [f64; 2],
}

/// A fitted law: parameters, uncertainty, fit report and what data it saw.
///
/// Serialised as JSON (`save` / `load`, or serde directly):
///
/// ```json
/// { "format": "lrsde-fit", "version": 1, "law": "power", "law_config": null,
///   "params": {"A": 3.0, "L0": 2.0, "alpha": 0.5}, "param_order": ["L0", "A", "alpha"],
///   "bounds": [[0.0, 10.0], [0.0, null], [0.0, 2.0]],
///   "uncertainty": {"method": "laplace", "covariance": [...], "draws": [[...], ...], ...},
///   "band_quantiles": [0.05, 0.95], "report": {...},
///   "curves": [{"name": "cosine", "n_points": 100, "first_step": 20, "last_step": 2000,
///               "lr_range": [0.0, 1.0]}],
///   "lr_range_seen": [0.0, 1.0], "steps_seen": 2000 }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedLaw {
    /// Always [`FIT_FORMAT`].
    pub format: String,
    /// Always [`FIT_VERSION`] when written by this build.
    pub version: u32,
    /// The law's [`LossLaw::name`].
    pub law: String,
    /// The law's own configuration: for fits made by [`fit_law`](super::fit_law), the
    /// configured law's serde form (`{"law": "sde", "dim": 64, "scale": {...}}`, see
    /// [`AnyLaw`]), which [`FittedLaw::law`] rebuilds; `null` if none.
    #[serde(default)]
    pub law_config: serde_json::Value,
    /// Fitted parameters by name.
    pub params: BTreeMap<String, f64>,
    /// Parameter names in the order the law's `predict` takes them.
    pub param_order: Vec<String>,
    /// Bounds in `param_order` (`null` for an infinite bound).
    pub bounds: Vec<(Option<f64>, Option<f64>)>,
    /// Parameter uncertainty; `None` when disabled or unavailable (see the report's warnings).
    pub uncertainty: Option<Uncertainty>,
    /// Quantiles of the prediction band.
    pub band_quantiles: (f64, f64),
    /// How the fit went.
    pub report: FitReport,
    /// The fitted curves.
    pub curves: Vec<CurveSummary>,
    /// Smallest and largest LR the fit saw.
    pub lr_range_seen: [f64; 2],
    /// Largest observed step over all curves.
    pub steps_seen: u64,
    /// The predictive band's model (parameter, discrepancy and noise variance); `None` in fits
    /// made without calibration (and in files of older builds): the band is then the
    /// parameter band alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictive: Option<Predictive>,
    /// What `--law auto` chose and why; `None` for a law chosen by the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<LawSelection>,
    /// The prior over parameters this fit applied ([`super::FitOptions::prior`], when its law
    /// is this fit's law); `None` when the fit used none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<super::ParamPrior>,
    /// The largest sustained loss rise seen in the fit curves (training at the edge of
    /// stability), if any: `rank` warns about candidates that spend long at or above its LR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instability: Option<crate::assess::Instability>,
}

/// A predicted curve with its uncertainty band.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Steps predicted (1-based).
    pub steps: Vec<u64>,
    /// Prediction at the fitted parameters.
    pub loss: Vec<f64>,
    /// Lower edge of the band: with a [`Predictive`] model `loss − z·sd` (the predictive
    /// interval of a new run at the model's level); without one, `band_quantiles.0` over the
    /// draws (never above `loss`).
    pub lo: Vec<f64>,
    /// Upper edge of the band (`loss + z·sd`, resp. `band_quantiles.1` over the draws, never
    /// below `loss`).
    pub hi: Vec<f64>,
    /// Draws used for the band.
    pub draws_used: usize,
    /// Draws dropped because the law predicted a non-finite or non-positive loss for them.
    pub draws_dropped: usize,
}

/// The law at every stored draw, in draw order (`None` where the law refused the draw).
pub(crate) type DrawPredictions = Vec<Option<Vec<f64>>>;

fn check_steps(lrs: &[f64], steps: &[u64]) -> Result<(), FitError> {
    let mut prev = 0;
    for (index, &step) in steps.iter().enumerate() {
        let reason = if step == 0 {
            Some("steps are 1-based".to_string())
        } else if step <= prev {
            Some(format!("not after the previous step {prev}"))
        } else if step as usize > lrs.len() {
            Some(format!("beyond the LR grid of {} updates", lrs.len()))
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(FitError::InvalidPredictionStep {
                index,
                step,
                reason,
            });
        }
        prev = step;
    }
    Ok(())
}

/// Sample variance (0 for fewer than two values).
#[cfg(test)]
fn variance(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (n, sum) = values
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n < 2 {
        return 0.0;
    }
    let mean = sum / n as f64;
    values.map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
}

/// [`variance`] of every column `j` of `rows` (`rows[i][j]`, `j < len`), with the same sums in
/// the same order, so bit-identical to it; row by row, because a column walk touches one cache
/// line per row for every value (the band's 200 draws × 72,000 steps made that most of its cost).
pub(crate) fn column_variances(rows: &[&Vec<f64>], len: usize) -> Vec<f64> {
    let n = rows.len();
    if n < 2 {
        return vec![0.0; len];
    }
    let mut mean = vec![0.0; len];
    for row in rows {
        for (m, v) in mean.iter_mut().zip(row.iter()) {
            *m += v;
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    let mut acc = vec![0.0; len];
    for row in rows {
        for ((a, v), m) in acc.iter_mut().zip(row.iter()).zip(&mean) {
            *a += (v - m).powi(2);
        }
    }
    for a in &mut acc {
        *a /= (n - 1) as f64;
    }
    acc
}

/// Sizes and values of a stored uncertainty: `p × p` covariances with finite entries and
/// non-negative variances, a non-negative residual variance, draws of `p` finite values.
fn check_uncertainty(u: &Uncertainty, p: usize) -> Result<(), (&'static str, String)> {
    if !(u.sigma2_log.is_finite() && u.sigma2_log >= 0.0) {
        return Err((
            "uncertainty.sigma2_log",
            format!("{} is not a variance (finite, >= 0)", u.sigma2_log),
        ));
    }
    if u.rank > p {
        return Err((
            "uncertainty.rank",
            format!("{} exceeds the {p} parameters", u.rank),
        ));
    }
    for (key, m) in [
        ("uncertainty.covariance", &u.covariance),
        (
            "uncertainty.covariance_unconstrained",
            &u.covariance_unconstrained,
        ),
    ] {
        if m.len() != p || m.iter().any(|row| row.len() != p) {
            let cols = m.iter().map(Vec::len).max().unwrap_or(0);
            return Err((key, format!("is {} × {cols}, expected {p} × {p}", m.len())));
        }
        if let Some(v) = m.iter().flatten().find(|v| !v.is_finite()) {
            return Err((key, format!("holds {v}")));
        }
        if let Some((i, v)) = (0..p).map(|i| (i, m[i][i])).find(|(_, v)| *v < 0.0) {
            return Err((key, format!("variance {v} of parameter {i} is negative")));
        }
    }
    for (i, d) in u.draws.iter().enumerate() {
        if d.len() != p {
            return Err((
                "uncertainty.draws",
                format!("draw {i} has {} values for {p} parameters", d.len()),
            ));
        }
        if let Some(v) = d.iter().find(|v| !v.is_finite()) {
            return Err(("uncertainty.draws", format!("draw {i} holds {v}")));
        }
    }
    Ok(())
}

impl FittedLaw {
    /// The fitted parameters in `param_order`.
    pub fn params_vec(&self) -> Vec<f64> {
        self.param_order
            .iter()
            .map(|n| self.params.get(n).copied().unwrap_or(f64::NAN))
            .collect()
    }

    /// Sets the law's own configuration (stored opaquely, handed back to the law on load).
    #[must_use]
    pub fn with_law_config(mut self, config: serde_json::Value) -> Self {
        self.law_config = config;
        self
    }
    /// For a saturating law (`LAW:sat=1`) fitted with `eta_c < 1`: `eta_c` and the LR at which
    /// its progress per unit of LR halves (`eta_c` × the largest fitted LR). `None` otherwise,
    /// including a NaN `eta_c` (never written by a fit).
    pub(crate) fn saturation(&self) -> Option<(f64, f64)> {
        let c = *self.params.get("eta_c").filter(|c| **c < 1.0)?;
        let Ok(AnyLaw::Saturated(law)) = self.law() else {
            return None;
        };
        Some((c, c * law.lr_ref()))
    }

    /// The configured law this fit was made with, rebuilt from [`Self::law_config`] (and checked
    /// against [`Self::law`] and [`Self::param_order`]);
    /// [`Predictor::from_fitted`](super::Predictor::from_fitted) pairs the two for prediction.
    ///
    /// # Errors
    /// [`FitError::NoLawConfig`] for a fit without a configuration (made by
    /// [`fit`](super::fit)), [`FitError::BadLawConfig`] for one that is not a valid [`AnyLaw`],
    /// or [`FitError::LawMismatch`] / [`FitError::ParamMismatch`] when the configuration is
    /// for another law than the fit's.
    pub fn law(&self) -> Result<AnyLaw, FitError> {
        if self.law_config.is_null() {
            return Err(FitError::NoLawConfig {
                law: self.law.clone(),
            });
        }
        let law: AnyLaw = serde_json::from_value(self.law_config.clone()).map_err(|source| {
            FitError::BadLawConfig {
                law: self.law.clone(),
                source,
            }
        })?;
        self.check_law(&law)?;
        Ok(law)
    }

    /// Checks that `law` is the law this fit is for (name and parameter names).
    ///
    /// # Errors
    /// [`FitError::LawMismatch`] or [`FitError::ParamMismatch`].
    pub(crate) fn check_law<L: LossLaw + ?Sized>(&self, law: &L) -> Result<(), FitError> {
        if law.name() != self.law {
            return Err(FitError::LawMismatch {
                fitted: self.law.clone(),
                given: law.name().to_string(),
            });
        }
        let given: Vec<String> = law.params().iter().map(|s| s.name.to_string()).collect();
        if given != self.param_order {
            return Err(FitError::ParamMismatch {
                law: self.law.clone(),
                fitted: self.param_order.clone(),
                given,
            });
        }
        Ok(())
    }

    /// Predicted loss at `steps` under the LR grid `lrs`, at the fitted parameters.
    ///
    /// # Errors
    /// Invalid steps, or the law's own refusal of the schedule ([`FitError::Law`], e.g. a zero
    /// LR area). `law` is not checked here: every caller holds a law already checked
    /// against this fit (a [`Predictor`](super::Predictor), or [`Self::law`]).
    pub(crate) fn predict<L: LossLaw + ?Sized>(
        &self,
        law: &L,
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<Vec<f64>, FitError> {
        check_steps(lrs, steps)?;
        let mut out = vec![0.0; steps.len()];
        law.predict(&self.params_vec(), lrs, steps, &mut out)?;
        Ok(out)
    }

    /// Predicted loss with its band: the law evaluated at the fitted parameters and at every
    /// stored draw; `lo`/`hi` are the `band_quantiles` of the draws at each step. Without
    /// uncertainty the band collapses to the prediction. Draws the law refuses, or predicts
    /// non-finite or non-positive losses for, are dropped (counted in [`Band::draws_dropped`]).
    /// Public through [`Predictor::predict_band`](super::Predictor::predict_band), which
    /// pairs the fit with its law once.
    ///
    /// # Errors
    /// As [`FittedLaw::predict`].
    pub(crate) fn predict_band<L: LossLaw + ?Sized>(
        &self,
        law: &L,
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<Band, FitError> {
        Ok(self.predict_band_with_draws(law, lrs, steps)?.0)
    }

    /// [`Self::predict_band`], also returning the law at every stored draw (in draw order;
    /// `None` where the law refused the draw), which the band was made from.
    pub(crate) fn predict_band_with_draws<L: LossLaw + ?Sized>(
        &self,
        law: &L,
        lrs: &LrGrid,
        steps: &[u64],
    ) -> Result<(Band, DrawPredictions), FitError> {
        let loss = self.predict(law, lrs, steps)?;
        let draws: &[Vec<f64>] = self
            .uncertainty
            .as_ref()
            .map(|u| u.draws.as_slice())
            .unwrap_or(&[]);
        // One call for all draws: a law may share work between them (the `sde` law tabulates
        // its recursion once); results come in draw order, independent of the thread count.
        let preds: Vec<Option<Vec<f64>>> = if draws.is_empty() {
            Vec::new()
        } else {
            law.predict_many(draws, lrs, steps)
                .into_iter()
                .map(Result::ok)
                .collect()
        };
        let good: Vec<&Vec<f64>> = preds
            .iter()
            .flatten()
            .filter(|p| p.iter().all(|v| v.is_finite() && *v > 0.0))
            .collect();
        let (qlo, qhi) = self.band_quantiles;
        let mut lo = loss.clone();
        let mut hi = loss.clone();
        if let Some(pred) = &self.predictive {
            let peak = lrs.iter().copied().fold(0.0, f64::max);
            let z = pred.z();
            let param_var = column_variances(&good, steps.len());
            let shift = pred
                .disagreement
                .as_ref()
                .map(|d| d.shift(lrs, steps, &loss));
            for j in 0..steps.len() {
                let disagree = shift.as_ref().map_or(0.0, |s| s[j] * s[j]);
                let sd =
                    (param_var[j] + pred.variance(pred.distance(steps[j], peak)) + disagree).sqrt();
                lo[j] = loss[j] - z * sd;
                hi[j] = loss[j] + z * sd;
            }
            let band = Band {
                steps: steps.to_vec(),
                loss,
                lo,
                hi,
                draws_used: good.len(),
                draws_dropped: draws.len() - good.len(),
            };
            return Ok((band, preds));
        }
        let mut column = Vec::with_capacity(good.len());
        for j in 0..steps.len() {
            if good.is_empty() {
                break;
            }
            column.clear();
            column.extend(good.iter().map(|p| p[j]));
            lo[j] = quantile_select(&mut column, qlo).min(loss[j]);
            hi[j] = quantile_select(&mut column, qhi).max(loss[j]);
        }
        let band = Band {
            steps: steps.to_vec(),
            loss,
            lo,
            hi,
            draws_used: good.len(),
            draws_dropped: draws.len() - good.len(),
        };
        Ok((band, preds))
    }

    /// The fit as pretty-printed JSON.
    ///
    /// # Errors
    /// [`FitError::Json`] if a value cannot be serialised.
    pub fn to_json_string(&self) -> Result<String, FitError> {
        serde_json::to_string_pretty(self).map_err(|source| FitError::Json {
            path: "<string>".into(),
            source,
        })
    }

    /// Parses a fit from JSON text, checking `format` and `version` first.
    ///
    /// ```
    /// let err = lrsde::fit::FittedLaw::from_json_str(r#"{"format": "lrsde-fit", "version": 99}"#)
    ///     .unwrap_err();
    /// assert!(matches!(err, lrsde::fit::FitError::UnsupportedVersion { found: 99, .. }));
    /// ```
    ///
    /// # Errors
    /// [`FitError::Json`] (with line and column, or the missing key), [`FitError::WrongFormat`],
    /// [`FitError::BadKey`], [`FitError::UnsupportedVersion`].
    pub fn from_json_str(text: &str) -> Result<Self, FitError> {
        Self::parse(text, "<string>")
    }

    fn parse(text: &str, path: &str) -> Result<Self, FitError> {
        // Editors on Windows may save a byte-order mark; JSON itself has none.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let json = |source| FitError::Json {
            path: path.to_string(),
            source,
        };
        let bad_key = |key, reason: &str| FitError::BadKey {
            path: path.to_string(),
            key,
            reason: reason.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(json)?;
        let obj = value
            .as_object()
            .ok_or_else(|| bad_key("format", "the document is not a JSON object"))?;
        let format = obj
            .get("format")
            .ok_or_else(|| bad_key("format", "missing"))?;
        if format.as_str() != Some(FIT_FORMAT) {
            return Err(FitError::WrongFormat {
                path: path.to_string(),
                found: format
                    .as_str()
                    .map_or_else(|| format.to_string(), str::to_owned),
            });
        }
        let version = obj
            .get("version")
            .ok_or_else(|| bad_key("version", "missing"))?
            .as_u64()
            .ok_or_else(|| bad_key("version", "not a non-negative integer"))?;
        if version != u64::from(FIT_VERSION) {
            return Err(FitError::UnsupportedVersion {
                path: path.to_string(),
                found: version,
                supported: FIT_VERSION,
            });
        }
        drop(value);
        // From the text again rather than from the value: type errors then carry the line and
        // column of the offending value.
        let fitted: FittedLaw = serde_json::from_str(text).map_err(json)?;
        fitted.check_consistent(path)?;
        Ok(fitted)
    }

    /// Cross-field checks a hand-edited or corrupted file could fail: everything a prediction
    /// reads must be present, finite, in range and of the right size, so that a bad file is an
    /// error naming its key rather than a NaN curve, a panic or an absurd allocation later.
    fn check_consistent(&self, path: &str) -> Result<(), FitError> {
        let bad = |key, reason: String| FitError::BadKey {
            path: path.to_string(),
            key,
            reason,
        };
        let p = self.param_order.len();
        if p == 0 {
            return Err(bad("param_order", "no parameters".into()));
        }
        for name in &self.param_order {
            match self.params.get(name) {
                Some(v) if v.is_finite() => {}
                Some(v) => return Err(bad("params", format!("`{name}` = {v} is not finite"))),
                None => return Err(bad("params", format!("no value for `{name}`"))),
            }
        }
        if self.params.len() != p {
            return Err(bad(
                "params",
                format!("{} values for {p} names in param_order", self.params.len()),
            ));
        }
        if self.bounds.len() != p {
            return Err(bad(
                "bounds",
                format!("{} entries for {p} parameters", self.bounds.len()),
            ));
        }
        for (name, (lo, hi)) in self.param_order.iter().zip(&self.bounds) {
            if let (Some(lo), Some(hi)) = (lo, hi)
                && lo > hi
            {
                return Err(bad(
                    "bounds",
                    format!("`{name}` has lower bound {lo} above upper bound {hi}"),
                ));
            }
        }
        let (qlo, qhi) = self.band_quantiles;
        if !(0.0 <= qlo && qlo < qhi && qhi <= 1.0) {
            return Err(bad(
                "band_quantiles",
                format!("[{qlo}, {qhi}] must satisfy 0 <= lo < hi <= 1"),
            ));
        }
        let [lr_lo, lr_hi] = self.lr_range_seen;
        if !(lr_lo.is_finite() && lr_hi.is_finite() && 0.0 <= lr_lo && lr_lo <= lr_hi) {
            return Err(bad(
                "lr_range_seen",
                format!("[{lr_lo}, {lr_hi}] is not a range of learning rates >= 0"),
            ));
        }
        if let Some(u) = &self.uncertainty {
            check_uncertainty(u, p).map_err(|(key, reason)| bad(key, reason))?;
        }
        if let Some(pr) = &self.predictive {
            if !(pr.level > 0.0 && pr.level < 1.0) {
                return Err(bad(
                    "predictive.level",
                    format!("{} is not in (0, 1)", pr.level),
                ));
            }
            for (key, v) in [
                ("predictive.noise_sd", pr.noise_sd),
                ("predictive.shared_sd", pr.shared_sd),
                ("predictive.own_sd", pr.own_sd),
                ("predictive.lr_seen", pr.lr_seen),
            ] {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad(key, format!("{v} is not finite and >= 0")));
                }
            }
        }
        if let Some(d) = self
            .predictive
            .as_ref()
            .and_then(|p| p.disagreement.as_ref())
        {
            check_disagreement(d).map_err(|(key, reason)| bad(key, reason))?;
        }
        check_law_config(&self.law, &self.law_config).map_err(|reason| bad("law_config", reason))
    }
}

/// The other law of a disagreement term must predict: a weight `k` finite and ≥ 0 and, when
/// it is used (`k > 0`), a configuration of a built-in law with one finite value per parameter.
fn check_disagreement(d: &super::Disagreement) -> Result<(), (&'static str, String)> {
    if !(d.k.is_finite() && d.k >= 0.0) {
        return Err((
            "predictive.disagreement.k",
            format!("{} is not finite and >= 0", d.k),
        ));
    }
    if d.k == 0.0 {
        return Ok(());
    }
    let key = "predictive.disagreement.law_config";
    let law: AnyLaw =
        serde_json::from_value(d.law_config.clone()).map_err(|e| (key, e.to_string()))?;
    check_law_config(&d.law, &d.law_config).map_err(|reason| (key, reason))?;
    let n = law.params().len();
    if d.params.len() != n || !d.params.iter().all(|v| v.is_finite()) {
        return Err((
            "predictive.disagreement.params",
            format!(
                "{} values for law `{}`'s {n} parameters, all finite expected",
                d.params.len(),
                d.law
            ),
        ));
    }
    Ok(())
}

/// A configuration of a built-in law must rebuild a valid law: its dimension and scales
/// decide how much a prediction allocates and computes.
fn check_law_config(name: &str, config: &serde_json::Value) -> Result<(), String> {
    const BUILT_IN: [&str; 5] = ["sde", "mpl", "momentum", "power", "sim"];
    let base = name.strip_suffix("+sat").unwrap_or(name);
    if config.is_null() || !BUILT_IN.contains(&base) {
        return Ok(());
    }
    let law: AnyLaw = serde_json::from_value(config.clone()).map_err(|e| e.to_string())?;
    if law.name() != name {
        return Err(format!(
            "configures law `{}` but the fit is for `{}`",
            law.name(),
            name
        ));
    }
    let scale = checked_scale(&law)?;
    if !(scale.lr_ref.is_finite() && scale.lr_ref > 0.0) {
        return Err(format!("lr_ref {} is not finite and > 0", scale.lr_ref));
    }
    if !(scale.loss_min.is_finite()
        && scale.loss_max.is_finite()
        && scale.loss_min <= scale.loss_max)
    {
        return Err(format!(
            "loss range [{}, {}] is not a finite range",
            scale.loss_min, scale.loss_max
        ));
    }
    Ok(())
}

impl FittedLaw {
    /// Writes the fit atomically, as [`crate::io::write_atomic`]: to a temporary file in the same
    /// directory, then renamed over `path`, so readers never see a half-written fit.
    ///
    /// # Errors
    /// [`FitError::Io`] naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FitError> {
        let path = path.as_ref();
        let io = |source| FitError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut text = self.to_json_string()?;
        text.push('\n');
        crate::io::write_atomic(path, |w| w.write_all(text.as_bytes())).map_err(io)
    }

    /// Reads a fit file written by [`FittedLaw::save`].
    ///
    /// # Errors
    /// [`FitError::Io`], or as [`FittedLaw::from_json_str`], naming the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, FitError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| FitError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

/// The data scales of a built-in law's configuration, after the checks that bound what a
/// prediction with it allocates and computes.
fn checked_scale(law: &AnyLaw) -> Result<crate::law::DataScale, String> {
    Ok(match law {
        AnyLaw::Sde(l) => {
            // The CLI's `sde:dim=` accepts at most 10^6 directions.
            if !(1..=1_000_000).contains(&l.dim()) {
                return Err(format!("sde dim {} is not in 1..=1000000", l.dim()));
            }
            l.scale()
        }
        AnyLaw::Momentum(l) => {
            crate::law::MomentumLaw::new(l.lambda(), l.lr_ref()).map_err(|e| e.to_string())?;
            l.scale()
        }
        AnyLaw::Mpl(l) => l.scale(),
        AnyLaw::Power(l) => l.scale(),
        AnyLaw::Sim(l) => {
            // Rebuilt through the same checks as the `sim:` text form.
            let dim = l.family().dim;
            if !(1..=4096).contains(&dim) {
                return Err(format!("sim dim {dim} is not in 1..=4096"));
            }
            l.clone()
                .with_monte_carlo(l.monte_carlo())
                .map_err(|e| e.to_string())?;
            l.scale()
        }
        AnyLaw::Saturated(l) => {
            if !(l.lr_ref().is_finite() && l.lr_ref() > 0.0) {
                return Err(format!("sat lr_ref {} is not finite and > 0", l.lr_ref()));
            }
            crate::law::Saturated::new(l.inner().clone(), l.lr_ref()).map_err(|e| e.to_string())?;
            checked_scale(l.inner())?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-wise band variance is the per-column two-pass variance, bit for bit (the band
    /// must not change with the loop order).
    #[test]
    fn column_variances_equal_columnwise_variance_bitwise() {
        let rows: Vec<Vec<f64>> = (0..201u32)
            .map(|i| {
                (0..37u32)
                    .map(|j| {
                        let x = f64::from((i * 7919 + j * 104_729) % 1009) / 1009.0;
                        3.0 + 1e-3 * x + if i == 5 { 0.5 } else { 0.0 }
                    })
                    .collect()
            })
            .collect();
        for n in [0, 1, 2, 3, 201] {
            let refs: Vec<&Vec<f64>> = rows[..n].iter().collect();
            let got = column_variances(&refs, 37);
            for (j, g) in got.iter().enumerate() {
                let want = variance(refs.iter().map(|r| r[j]));
                assert_eq!(g.to_bits(), want.to_bits(), "n = {n}, column {j}");
            }
        }
    }
}
