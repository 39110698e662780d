//! A prior over a law's parameters: Gaussian in `ln θ`, learned from fits of other runs, for
//! parameters the fit curves cannot identify (e.g. the decay response of a single constant-LR
//! run).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FitError;

/// The smallest spread [`ParamPrior::by_peak`] gives: a line that passes exactly through
/// the per-peak means (or one with only two peaks to check it on) still extrapolates with
/// some error.
pub const BY_PEAK_MIN_SD_LN: f64 = 0.01;

/// One parameter's prior: `ln θ ~ N(mean_ln, sd_ln²)`, or, with a slope,
/// `ln θ ~ N(mean_ln + slope_ln_peak · (ln peak − ln_peak_ref), sd_ln²)` where `peak` is the
/// largest LR of the curves being fitted.
///
/// ```
/// use lrsde::fit::PriorTerm;
/// let t = PriorTerm { param: "C".into(), mean_ln: -8.5, sd_ln: 0.2,
///     slope_ln_peak: Some(0.25), ln_peak_ref: Some((1e-3f64).ln()) };
/// assert!((t.mean_ln_at(1e-3) + 8.5).abs() < 1e-12);
/// assert!((t.mean_ln_at(1e-3 * std::f64::consts::E) + 8.25).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorTerm {
    /// The law's parameter name (as in [`crate::law::ParamSpec`]).
    pub param: String,
    /// Mean of `ln θ` (at `ln_peak_ref` when there is a slope).
    pub mean_ln: f64,
    /// Standard deviation of `ln θ` (> 0).
    pub sd_ln: f64,
    /// Growth of the mean of `ln θ` per unit of `ln` peak LR (absent: the mean is constant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope_ln_peak: Option<f64>,
    /// The `ln` peak LR at which the mean is `mean_ln` (required with `slope_ln_peak`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ln_peak_ref: Option<f64>,
}

impl PriorTerm {
    /// Mean of `ln θ` for a run whose largest LR is `peak` (`mean_ln` itself, whatever `peak`,
    /// without a slope).
    pub fn mean_ln_at(&self, peak: f64) -> f64 {
        match (self.slope_ln_peak, self.ln_peak_ref) {
            (Some(slope), Some(r)) => self.mean_ln + slope * (peak.ln() - r),
            _ => self.mean_ln,
        }
    }
}

/// A prior over some parameters of one law (see the [module docs](self)).
///
/// It enters the fit ([`super::FitOptions::prior`]) as the penalty `W · Σ z² / 2`,
/// `z = (ln θ − mean_ln) / sd_ln`, with `W = δ² · Σw` (the Huber threshold squared times the
/// total point weight): the prior weighs as much as the whole data set at the Huber scale, so
/// a parameter the curves touch only through transients (a warmup) stays near the prior, while
/// one they determine (an LR decay in the fit set) moves freely. In the Laplace uncertainty the
/// prior *replaces* the data's information on its parameters: their draws spread as the prior
/// does, which widens the band by the prior's spread.
///
/// ```
/// use lrsde::fit::ParamPrior;
/// let p = ParamPrior::from_samples("momentum", "C", &[1e-4, 2e-4, 4e-4]).unwrap();
/// assert_eq!(p.terms[0].param, "C");
/// assert!((p.terms[0].mean_ln - (2e-4f64).ln()).abs() < 1e-12);
/// assert!((p.terms[0].sd_ln - 2f64.ln()).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamPrior {
    /// The law it applies to (its name, e.g. `momentum`); other laws ignore it.
    pub law: String,
    /// One term per constrained parameter.
    pub terms: Vec<PriorTerm>,
    /// Where it was learned from (stated in reports).
    pub source: String,
}

impl ParamPrior {
    /// The prior of one parameter from fitted values of it on other runs: mean and sample
    /// standard deviation of `ln θ` (`None` with fewer than 2 positive finite values or no
    /// spread).
    pub fn from_samples(law: &str, param: &str, values: &[f64]) -> Option<Self> {
        let ln: Vec<f64> = values
            .iter()
            .filter(|v| v.is_finite() && **v > 0.0)
            .map(|v| v.ln())
            .collect();
        if ln.len() < 2 {
            return None;
        }
        let n = ln.len() as f64;
        let mean = ln.iter().sum::<f64>() / n;
        let sd = (ln.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        (sd > 0.0).then(|| ParamPrior {
            law: law.to_string(),
            terms: vec![PriorTerm {
                param: param.to_string(),
                mean_ln: mean,
                sd_ln: sd,
                slope_ln_peak: None,
                ln_peak_ref: None,
            }],
            source: format!("{} fits", ln.len()),
        })
    }

    /// The prior of one parameter whose `ln θ` follows the peak LR, from `(peak LR, fitted θ)`
    /// of other runs: the least-squares line of the per-peak means of `ln θ` on `ln peak`
    /// (every distinct peak weighs the same however many runs it has), with spread the RMS
    /// error of predicting each peak's mean from the line through the other peaks
    /// (leave-one-peak-out), at least [`BY_PEAK_MIN_SD_LN`]. `ln_peak_ref` is the mean
    /// `ln peak`, where the line's value is `mean_ln`.
    ///
    /// ```
    /// use lrsde::fit::ParamPrior;
    /// // ln C = -7 + 0.25 ln peak exactly.
    /// let s: Vec<(f64, f64)> = [1e-4, 1e-3, 1e-2]
    ///     .map(|p: f64| (p, (-7.0 + 0.25 * p.ln()).exp())).to_vec();
    /// let p = ParamPrior::by_peak("momentum", "C", &s).unwrap();
    /// let t = &p.terms[0];
    /// assert!((t.slope_ln_peak.unwrap() - 0.25).abs() < 1e-12);
    /// assert!((t.mean_ln_at(1.0) + 7.0).abs() < 1e-12);
    /// assert!(ParamPrior::by_peak("momentum", "C", &s[..2]).unwrap_err().contains("3 runs"));
    /// ```
    ///
    /// # Errors
    /// A sentence: fewer than 3 samples, a peak or value that is not finite and > 0 (naming
    /// its position, from 1), or a single distinct peak.
    pub fn by_peak(law: &str, param: &str, samples: &[(f64, f64)]) -> Result<Self, String> {
        if samples.len() < 3 {
            return Err(format!(
                "a by-peak prior needs at least 3 runs (got {})",
                samples.len()
            ));
        }
        for (i, (peak, v)) in samples.iter().enumerate() {
            if !(peak.is_finite() && *peak > 0.0 && v.is_finite() && *v > 0.0) {
                return Err(format!(
                    "run {}: peak LR {peak:e} and `{param}` {v:e} must both be finite and > 0",
                    i + 1
                ));
            }
        }
        let points = peak_means(samples);
        if points.len() < 2 {
            return Err(format!(
                "a by-peak prior needs runs at 2 or more distinct peak LRs (all {} are at {:e})",
                samples.len(),
                samples[0].0
            ));
        }
        let (mx, my, slope) = line(&points);
        let loo: f64 = (0..points.len())
            .map(|q| {
                let rest: Vec<(f64, f64)> = points
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != q)
                    .map(|(_, p)| *p)
                    .collect();
                let (rx, ry, rs) = line(&rest);
                (ry + rs * (points[q].0 - rx) - points[q].1).powi(2)
            })
            .sum();
        let sd = (loo / points.len() as f64).sqrt().max(BY_PEAK_MIN_SD_LN);
        Ok(ParamPrior {
            law: law.to_string(),
            terms: vec![PriorTerm {
                param: param.to_string(),
                mean_ln: my,
                sd_ln: sd,
                slope_ln_peak: Some(slope),
                ln_peak_ref: Some(mx),
            }],
            source: format!(
                "{} fits at {} peak LRs, ln {param} linear in ln peak LR",
                samples.len(),
                points.len()
            ),
        })
    }

    /// Reads a prior file (the JSON form of this type, as written by [`ParamPrior::save`] or
    /// `lrsde prior`) and checks every term ([`ParamPrior::check_terms`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("prior.json");
    /// std::fs::write(&path, r#"{"law": "momentum", "source": "x",
    ///     "terms": [{"param": "C", "mean_ln": -8.5, "sd_ln": 0.3}]}"#).unwrap();
    /// let p = lrsde::fit::ParamPrior::load(&path).unwrap();
    /// assert_eq!((p.law.as_str(), p.terms[0].sd_ln), ("momentum", 0.3));
    /// std::fs::write(&path, r#"{"law": "momentum", "terms": []}"#).unwrap();
    /// let e = lrsde::fit::ParamPrior::load(&path).unwrap_err().to_string();
    /// assert!(e.contains("missing field `source`") && e.contains("line 1"), "{e}");
    /// ```
    ///
    /// # Errors
    /// [`FitError::Io`] for an unreadable file, [`FitError::BadPrior`] for anything else,
    /// naming the file (and line and column for JSON errors).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, FitError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FitError::Io {
            path: name.clone(),
            source,
        })?;
        let bad = |reason: String| FitError::BadPrior {
            path: name.clone(),
            reason,
        };
        let prior: ParamPrior = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        prior.check_terms().map_err(bad)?;
        Ok(prior)
    }

    /// Writes the prior as JSON, atomically (temporary file, then rename).
    ///
    /// # Errors
    /// [`FitError::Io`] naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FitError> {
        let path = path.as_ref();
        let text = serde_json::to_string_pretty(self).map_err(|e| FitError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        crate::io::write_atomic(path, |w| writeln!(w, "{text}")).map_err(|source| FitError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Checks the terms on their own: at least one, no parameter twice, every mean finite and
    /// every spread finite and > 0. Returns what is wrong.
    ///
    /// # Errors
    /// The first problem found, as a sentence naming the parameter.
    pub fn check_terms(&self) -> Result<(), String> {
        if self.law.trim().is_empty() {
            return Err("`law` is empty".to_string());
        }
        if self.terms.is_empty() {
            return Err("`terms` is empty: a prior constrains at least one parameter".to_string());
        }
        for (i, t) in self.terms.iter().enumerate() {
            if self.terms[..i].iter().any(|u| u.param == t.param) {
                return Err(format!("parameter `{}` appears twice", t.param));
            }
            if !(t.mean_ln.is_finite() && t.sd_ln.is_finite() && t.sd_ln > 0.0) {
                return Err(format!(
                    "`{}`: mean_ln must be finite and sd_ln finite and > 0 (got {}, {})",
                    t.param, t.mean_ln, t.sd_ln
                ));
            }
            match (t.slope_ln_peak, t.ln_peak_ref) {
                (None, None) => {}
                (Some(s), Some(r)) if s.is_finite() && r.is_finite() => {}
                (Some(_), None) => {
                    return Err(format!(
                        "`{}`: `slope_ln_peak` needs `ln_peak_ref` (the ln peak LR at which \
                         the mean is `mean_ln`)",
                        t.param
                    ));
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "`{}`: `ln_peak_ref` without `slope_ln_peak`",
                        t.param
                    ));
                }
                (Some(s), Some(r)) => {
                    return Err(format!(
                        "`{}`: `slope_ln_peak` and `ln_peak_ref` must be finite (got {s}, {r})",
                        t.param
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that the prior fits a law named `law` with parameters `names` (as
    /// [`crate::law::ParamSpec::name`]). Returns what is wrong.
    ///
    /// ```
    /// use lrsde::fit::ParamPrior;
    /// let p = ParamPrior::from_samples("momentum", "C", &[1e-4, 2e-4]).unwrap();
    /// let names = ["L0", "A", "alpha", "C"].map(String::from);
    /// assert!(p.check_law("momentum", &names).is_ok());
    /// assert!(p.check_law("sde", &names).unwrap_err().contains("for law `momentum`"));
    /// assert!(p.check_law("momentum", &names[..3]).unwrap_err().contains("no parameter `C`"));
    /// ```
    ///
    /// # Errors
    /// A sentence naming the laws or the unknown parameter and the law's parameters.
    pub fn check_law(&self, law: &str, names: &[String]) -> Result<(), String> {
        if self.law != law {
            return Err(format!("the prior is for law `{}`, not `{law}`", self.law));
        }
        for t in &self.terms {
            if !names.contains(&t.param) {
                return Err(format!(
                    "law `{law}` has no parameter `{}` (its parameters: {})",
                    t.param,
                    names.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// `(parameter index, mean_ln, sd_ln)` of each term, for a law with these parameter names
    /// and curves whose largest LR is `peak`.
    ///
    /// # Errors
    /// [`FitError::InvalidOption`] for an unknown parameter name, a non-positive or
    /// non-finite spread, or a slope on the peak LR when the curves have no positive LR.
    pub(crate) fn resolve(
        &self,
        names: &[String],
        peak: f64,
    ) -> Result<Vec<(usize, f64, f64)>, FitError> {
        self.terms
            .iter()
            .map(|t| {
                let bad = |reason: String| FitError::InvalidOption {
                    option: "prior",
                    reason,
                };
                let k = names
                    .iter()
                    .position(|n| *n == t.param)
                    .ok_or_else(|| bad(format!("the law has no parameter `{}`", t.param)))?;
                if !(t.sd_ln.is_finite() && t.sd_ln > 0.0 && t.mean_ln.is_finite()) {
                    return Err(bad(format!(
                        "`{}`: mean must be finite and sd finite and > 0",
                        t.param
                    )));
                }
                let mean = t.mean_ln_at(peak);
                if !mean.is_finite() {
                    return Err(bad(format!(
                        "`{}`: the prior's mean follows the peak LR, but the curves' largest LR \
                         is {peak:e}",
                        t.param
                    )));
                }
                Ok((k, mean, t.sd_ln))
            })
            .collect()
    }
}

/// `(ln peak, mean ln θ)` per distinct peak of `(peak, θ)` samples, by increasing peak.
fn peak_means(samples: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut peaks: Vec<f64> = samples.iter().map(|s| s.0).collect();
    peaks.sort_by(f64::total_cmp);
    peaks.dedup();
    peaks
        .into_iter()
        .map(|p| {
            let ln: Vec<f64> = samples
                .iter()
                .filter(|s| s.0 == p)
                .map(|s| s.1.ln())
                .collect();
            (p.ln(), ln.iter().sum::<f64>() / ln.len() as f64)
        })
        .collect()
}

/// `(mean x, mean y, slope)` of the least-squares line through `points` (slope 0 when all x
/// are equal).
fn line(points: &[(f64, f64)]) -> (f64, f64, f64) {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.0 / n, b + p.1 / n));
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (mx, my, if sxx > 0.0 { sxy / sxx } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TrainingCurve;
    use crate::fit::{FitOptions, fit_law};
    use crate::law::{AnyLaw, LossLaw};

    /// A constant-LR curve (no warmup: the annealing area is exactly 0, so `C` has no effect)
    /// and a curve with a linear decay, from the momentum law at `truth`.
    fn curves(truth: &[f64], decay: bool) -> Vec<TrainingCurve> {
        let n = 4000usize;
        let mut law: AnyLaw = "momentum".parse().unwrap();
        let mut lrs = vec![vec![1e-3; n]];
        if decay {
            lrs.push((0..n).map(|t| 1e-3 * (1.0 - t as f64 / n as f64)).collect());
        }
        let steps: Vec<u64> = (1..=40).map(|k| 100 * k).collect();
        let mut out: Vec<TrainingCurve> = lrs
            .into_iter()
            .enumerate()
            .map(|(i, lrs)| TrainingCurve {
                name: format!("c{i}"),
                lrs: crate::schedule::LrGrid::new(lrs).unwrap(),
                steps: steps.clone(),
                // Placeholder losses for `configure` (which only reads the LR and loss
                // ranges); the law's predictions replace them.
                losses: vec![3.0; steps.len()],
                batch: None,
            })
            .collect();
        law.configure(&out).unwrap();
        for c in &mut out {
            law.predict(truth, &c.lrs, &c.steps, &mut c.losses).unwrap();
        }
        out
    }

    fn prior(mean: f64, sd: f64) -> ParamPrior {
        ParamPrior {
            law: "momentum".into(),
            terms: vec![PriorTerm {
                param: "C".into(),
                mean_ln: mean.ln(),
                sd_ln: sd,
                slope_ln_peak: None,
                ln_peak_ref: None,
            }],
            source: "test".into(),
        }
    }

    #[test]
    fn an_unidentified_parameter_takes_the_prior_and_its_spread() {
        let data = curves(&[2.0, 3.0, 0.5, 0.02], false);
        let opts = FitOptions {
            prior: Some(prior(1e-3, 0.5)),
            ..FitOptions::default()
        };
        let fitted = fit_law("momentum".parse().unwrap(), &data, &opts).unwrap();
        let c = fitted.params["C"];
        assert!((c.ln() - (1e-3f64).ln()).abs() < 1e-3, "C = {c}");
        // The draws of ln C spread as the prior: sd 0.5 (200 draws: ±0.1 is > 4 standard
        // errors of a sample sd).
        let u = fitted.uncertainty.as_ref().unwrap();
        let k = fitted.param_order.iter().position(|n| n == "C").unwrap();
        let ln: Vec<f64> = u.draws.iter().map(|d| d[k].ln()).collect();
        let m = ln.iter().sum::<f64>() / ln.len() as f64;
        let sd = (ln.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (ln.len() - 1) as f64).sqrt();
        assert!((sd - 0.5).abs() < 0.1, "sd of ln C = {sd}");
        assert!(
            fitted
                .report
                .warnings
                .iter()
                .any(|w| w.contains("prior on ln C"))
        );
    }

    #[test]
    fn an_identified_parameter_follows_the_data_not_the_prior() {
        // C·S2 ≈ 0.2 at the end of the decay: an LR-decay gain the data pin down.
        let truth = [2.0, 3.0, 0.5, 2e-4];
        let data = curves(&truth, true);
        let opts = FitOptions {
            prior: Some(prior(1e-3, 0.5)),
            ..FitOptions::default()
        };
        let fitted = fit_law("momentum".parse().unwrap(), &data, &opts).unwrap();
        let c = fitted.params["C"];
        assert!((c / truth[3] - 1.0).abs() < 0.05, "C = {c}");
    }

    #[test]
    fn a_prior_on_an_unknown_parameter_is_an_error() {
        let data = curves(&[2.0, 3.0, 0.5, 0.02], false);
        let mut p = prior(1e-3, 0.5);
        p.terms[0].param = "nope".into();
        let opts = FitOptions {
            prior: Some(p),
            ..FitOptions::default()
        };
        let err = fit_law("momentum".parse().unwrap(), &data, &opts).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        // A prior for another law is ignored.
        let fitted = fit_law("power".parse().unwrap(), &data, &opts).unwrap();
        assert!(fitted.report.warnings.iter().all(|w| !w.contains("prior")));
    }

    /// Fits with `ln C` exactly on `a + b · ln peak`, unequally many per peak: the line comes
    /// back to rounding, and with no extrapolation error the spread is the floor.
    #[test]
    fn by_peak_recovers_an_exact_line() {
        let (a, b) = (-6.3, 0.27);
        let peaks = [1e-4, 5e-4, 5e-4, 1e-3, 1e-3, 1e-3, 2e-3];
        let s: Vec<(f64, f64)> = peaks
            .iter()
            .map(|&p: &f64| (p, (a + b * p.ln()).exp()))
            .collect();
        let p = ParamPrior::by_peak("momentum", "C", &s).unwrap();
        let t = &p.terms[0];
        let slope = t.slope_ln_peak.unwrap();
        let intercept = t.mean_ln - slope * t.ln_peak_ref.unwrap();
        assert!((slope - b).abs() < 1e-12, "{slope}");
        assert!((intercept - a).abs() < 1e-12, "{intercept}");
        let mean_x = [1e-4f64, 5e-4, 1e-3, 2e-3]
            .iter()
            .map(|p| p.ln())
            .sum::<f64>()
            / 4.0;
        assert!((t.ln_peak_ref.unwrap() - mean_x).abs() < 1e-12);
        assert_eq!(t.sd_ln, BY_PEAK_MIN_SD_LN);
        assert!(p.check_terms().is_ok());
    }

    /// The spread is the leave-one-peak-out RMS: with peaks at x = 0, 1, 2 and ln C = 0, 1, 0
    /// the lines through two points predict the third with errors 2, −1 and 2 (by hand), RMS √3.
    #[test]
    fn by_peak_spread_is_the_leave_one_peak_out_error() {
        let e = std::f64::consts::E;
        let s = [(1.0, 1.0), (e, e), (e * e, 1.0)];
        let t = &ParamPrior::by_peak("momentum", "C", &s).unwrap().terms[0];
        assert!((t.sd_ln - 3f64.sqrt()).abs() < 1e-12, "{}", t.sd_ln);
        assert!(t.slope_ln_peak.unwrap().abs() < 1e-12);
        assert!((t.mean_ln - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn by_peak_refuses_too_few_runs_or_one_peak() {
        let e = ParamPrior::by_peak("momentum", "C", &[(1e-3, 1e-4), (2e-3, 2e-4)]);
        assert!(e.unwrap_err().contains("at least 3 runs (got 2)"));
        let e = ParamPrior::by_peak("momentum", "C", &[(1e-3, 1e-4); 3]);
        assert!(e.unwrap_err().contains("2 or more distinct peak LRs"));
        let e = ParamPrior::by_peak("momentum", "C", &[(1e-3, 1e-4), (2e-3, 0.0), (3e-3, 1.0)]);
        assert!(e.unwrap_err().contains("run 2"));
    }

    #[test]
    fn a_slope_needs_a_finite_reference() {
        let mut p = prior(1e-3, 0.5);
        p.terms[0].slope_ln_peak = Some(0.25);
        assert!(
            p.check_terms()
                .unwrap_err()
                .contains("`slope_ln_peak` needs `ln_peak_ref`")
        );
        p.terms[0].ln_peak_ref = Some(f64::NAN);
        assert!(p.check_terms().unwrap_err().contains("must be finite"));
        p.terms[0].slope_ln_peak = None;
        p.terms[0].ln_peak_ref = Some(-7.0);
        assert!(
            p.check_terms()
                .unwrap_err()
                .contains("without `slope_ln_peak`")
        );
    }

    /// A prior file without a slope loads and saves back to the same text (the new keys are
    /// neither required nor written), so shipped priors are unchanged.
    #[test]
    fn a_prior_without_slope_round_trips_unchanged() {
        let shipped = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/priors/momentum-C-124m-grid.json"
        );
        let p = ParamPrior::load(shipped).unwrap();
        assert_eq!(p.terms[0].slope_ln_peak, None);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("p.json");
        p.save(&out).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            std::fs::read_to_string(shipped).unwrap()
        );
    }

    /// The fit applies a sloped prior at the curves' largest LR (1e-3 here): the same bits as
    /// a constant prior whose mean is the line's value there; and a zero slope gives the same
    /// bits as no slope at all.
    #[test]
    fn a_sloped_prior_is_applied_at_the_curves_peak() {
        let data = curves(&[2.0, 3.0, 0.5, 0.02], false);
        let run = |p: ParamPrior| {
            let opts = FitOptions {
                prior: Some(p),
                uncertainty: crate::fit::UncertaintyMethod::None,
                ..FitOptions::default()
            };
            let f = fit_law("momentum".parse().unwrap(), &data, &opts).unwrap();
            f.param_order
                .iter()
                .map(|n| f.params[n].to_bits())
                .collect::<Vec<_>>()
        };
        let mut sloped = prior(1e-3, 0.5);
        sloped.terms[0].mean_ln = -5.0;
        sloped.terms[0].slope_ln_peak = Some(0.3);
        sloped.terms[0].ln_peak_ref = Some((2e-3f64).ln());
        let at = sloped.terms[0].mean_ln_at(1e-3);
        assert!((at - (-5.0 + 0.3 * (0.5f64).ln())).abs() < 1e-12);
        let mut fixed = prior(1e-3, 0.5);
        fixed.terms[0].mean_ln = at;
        assert_eq!(run(sloped), run(fixed.clone()));
        let mut zero = fixed.clone();
        zero.terms[0].slope_ln_peak = Some(0.0);
        zero.terms[0].ln_peak_ref = Some(-3.0);
        assert_eq!(run(zero), run(fixed));
    }
}
