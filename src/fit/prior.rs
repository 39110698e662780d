//! A prior over a law's parameters: Gaussian in `ln θ`, learned from fits of other runs, for
//! parameters the fit curves cannot identify (e.g. the decay response of a single constant-LR
//! run).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FitError;

/// One parameter's prior: `ln θ ~ N(mean_ln, sd_ln²)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorTerm {
    /// The law's parameter name (as in [`crate::law::ParamSpec`]).
    pub param: String,
    /// Mean of `ln θ`.
    pub mean_ln: f64,
    /// Standard deviation of `ln θ` (> 0).
    pub sd_ln: f64,
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
            }],
            source: format!("{} fits", ln.len()),
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

    /// `(parameter index, mean_ln, sd_ln)` of each term, for a law with these parameter names.
    ///
    /// # Errors
    /// [`FitError::InvalidOption`] for an unknown parameter name or a non-positive or
    /// non-finite spread.
    pub(crate) fn resolve(&self, names: &[String]) -> Result<Vec<(usize, f64, f64)>, FitError> {
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
                Ok((k, t.mean_ln, t.sd_ln))
            })
            .collect()
    }
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
}
