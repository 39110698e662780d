//! `--law auto`: choose the law by held-out evidence from the fit curves themselves.

use std::str::FromStr;

use super::calibrate::{CalibrationOptions, disagreement_k2, predictive_from_errors};
use super::segment::segment_errors;
use crate::data::TrainingCurve;
use crate::fit::{
    Disagreement, FitError, FitOptions, FittedLaw, LawScore, LawSelection, Predictive,
    SegmentError, fit_law,
};
use crate::law::{AnyLaw, LawError, LossLaw};

/// The laws `auto` chooses among, fewest parameters first. `mpl` is left out: its prediction
/// costs O(points × LR changes) and each choice runs three fits per law; `power` has no
/// LR-decay term. `momentum:sat=1` (the momentum law on a saturating effective LR, see
/// [`crate::law::Saturated`]) is for runs near the edge of stability, whose progress per unit
/// of LR area falls at high LR.
pub const AUTO_CANDIDATES: [&str; 3] = ["momentum", "momentum:sat=1", "sde"];

/// Significance level of the F test that lets a law with more parameters replace a simpler
/// one.
const F_LEVEL: f64 = 0.10;

/// The index of the chosen law among scored candidates (in [`AUTO_CANDIDATES`] order, fewest
/// parameters first): the first scored law, replaced by a later one only when the ratio of
/// their mean squared held-out errors exceeds the `1 − F_LEVEL` quantile of the F
/// distribution with their error counts as degrees of freedom. A handful of held-out errors
/// cannot tell two laws apart that differ by less than about 2× in RMS error; the simpler law
/// then stays (it extrapolates more predictably, and has the tighter evidence of the two).
fn choose(scored: &[(AnyLaw, f64, Vec<crate::fit::SegmentError>)]) -> Option<usize> {
    use statrs::distribution::{ContinuousCDF, FisherSnedecor};
    let mut best: Option<usize> = None;
    for (i, (_, score, errors)) in scored.iter().enumerate() {
        if !score.is_finite() {
            continue;
        }
        let Some(b) = best else {
            best = Some(i);
            continue;
        };
        let (b_score, b_n) = (scored[b].1, scored[b].2.len() as f64);
        let n = errors.len() as f64;
        let critical = FisherSnedecor::new(b_n.max(1.0), n.max(1.0))
            .map(|f| f.inverse_cdf(1.0 - F_LEVEL))
            .unwrap_or(f64::INFINITY);
        if *score == 0.0 && b_score > 0.0 || (b_score / score).powi(2) > critical {
            best = Some(i);
        }
    }
    best
}

/// The law choice `lrsde fit` uses when none is named (the CLI's `--law` default and the Python
/// package's `law=` default follow it).
///
/// ```
/// use lrsde::assess::{DEFAULT_LAW, LawChoice};
/// assert_eq!(DEFAULT_LAW.parse::<LawChoice>().unwrap(), LawChoice::Auto);
/// ```
pub const DEFAULT_LAW: &str = "auto";

/// A law given by the user, or `auto` (the `--law` flag).
///
/// ```
/// use lrsde::assess::LawChoice;
/// assert_eq!("auto".parse::<LawChoice>().unwrap(), LawChoice::Auto);
/// assert!(matches!("sde:dim=32".parse::<LawChoice>().unwrap(), LawChoice::Law(_)));
/// assert!("nope".parse::<LawChoice>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum LawChoice {
    /// Choose among [`AUTO_CANDIDATES`] by their leave-last-segment-out errors (F test).
    Auto,
    /// This law.
    Law(AnyLaw),
}

/// Checks that `prior` can apply to a fit of `choice`: its law is the given law (for
/// [`LawChoice::Auto`]: one of [`AUTO_CANDIDATES`]) and it names only that law's parameters.
/// Returns what is wrong as a sentence (a fit would otherwise ignore a prior for another law).
///
/// ```
/// use lrsde::assess::{check_prior, LawChoice};
/// let p = lrsde::fit::ParamPrior::from_samples("momentum", "C", &[1e-4, 2e-4]).unwrap();
/// assert!(check_prior(&p, &LawChoice::Auto).is_ok());
/// let sde: LawChoice = "sde".parse().unwrap();
/// assert!(check_prior(&p, &sde).unwrap_err().contains("not `sde`"));
/// ```
///
/// # Errors
/// A sentence naming the laws, or the unknown parameter and the law's parameters.
pub fn check_prior(prior: &crate::fit::ParamPrior, choice: &LawChoice) -> Result<(), String> {
    let law: AnyLaw = match choice {
        LawChoice::Law(law) => law.clone(),
        LawChoice::Auto => {
            let name_of = |c: &&str| c.parse::<AnyLaw>().map(|l| l.name());
            let Some(law) = AUTO_CANDIDATES
                .iter()
                .find(|c| name_of(c).is_ok_and(|n| n == prior.law))
            else {
                return Err(format!(
                    "the prior is for law `{}`, which --law auto does not fit (it chooses among \
                     {}); give --law {}",
                    prior.law,
                    AUTO_CANDIDATES.join(", "),
                    prior.law
                ));
            };
            law.parse().map_err(|e| format!("{e}"))?
        }
    };
    let names: Vec<String> = law.params().iter().map(|p| p.name.to_string()).collect();
    prior.check_law(law.name(), &names)
}

impl FromStr for LawChoice {
    type Err = LawError;
    fn from_str(s: &str) -> Result<Self, LawError> {
        if s.trim() == "auto" {
            Ok(LawChoice::Auto)
        } else {
            s.parse().map(LawChoice::Law)
        }
    }
}

/// Root mean square of the finite errors (`NaN` when there are none).
fn rms(errors: &[crate::fit::SegmentError]) -> f64 {
    let e: Vec<f64> = errors
        .iter()
        .map(|e| e.error)
        .filter(|e| e.is_finite())
        .collect();
    if e.is_empty() {
        return f64::NAN;
    }
    (e.iter().map(|x| x * x).sum::<f64>() / e.len() as f64).sqrt()
}

/// Fits the chosen law (or, for [`LawChoice::Auto`], scores every law of [`AUTO_CANDIDATES`]
/// by leave-last-segment-out refits, then keeps the simplest unless a richer one erred
/// significantly less on the held-out final losses) and
/// calibrates its predictive band from the same refits ([`super::calibrate`]). An automatic
/// choice is recorded in [`FittedLaw::selection`] with every candidate's score. When both
/// candidates were scored (more than one schedule shape), the other one is fitted too and its
/// disagreement with the chosen law widens the band ([`crate::fit::Disagreement`], weight
/// learned from the paired refit errors; the other law is not fitted when that weight is 0).
///
/// ```no_run
/// use lrsde::assess::{fit_choice, CalibrationOptions, LawChoice};
/// use lrsde::data::{read_curve, ReadOptions};
/// use lrsde::fit::FitOptions;
///
/// let curves = [read_curve("cosine.csv".as_ref(), &ReadOptions::default())?,
///               read_curve("constant.csv".as_ref(), &ReadOptions::default())?];
/// let fitted = fit_choice(&LawChoice::Auto, &curves, &FitOptions::default(),
///                         &CalibrationOptions::default())?;
/// println!("{}", fitted.selection.unwrap().reason);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`fit_law`]. For `Auto`, curves too short to refit on their first half leave no
/// evidence: the simplest candidate is then fitted, with a warning in the report.
pub fn fit_choice(
    choice: &LawChoice,
    curves: &[TrainingCurve],
    options: &FitOptions,
    cal: &CalibrationOptions,
) -> Result<FittedLaw, FitError> {
    cal.validate()?;
    let (law, errors, selection, alternative) = match choice {
        LawChoice::Law(law) => {
            // A law the user chose is fitted even when its refits on shortened curves fail;
            // the band then lacks the discrepancy term, and the report says so.
            let errors = segment_errors(law, curves, options, &cal.cuts).unwrap_or_default();
            (law.clone(), errors, None, None)
        }
        LawChoice::Auto => {
            // With one schedule shape the refits only test how the law extrapolates that
            // shape in time, not how it responds to another LR schedule (measured on the 124M
            // constant prefixes: `sde` won those refits on 2 of 12 forks and then predicted
            // the cooldowns worse than `momentum`). Such evidence cannot justify the richer
            // law, so only the simplest is scored and kept.
            let single_shape = crate::fit::distinct_shapes(curves) < 2;
            let mut scored = Vec::new();
            for (i, name) in AUTO_CANDIDATES.iter().enumerate() {
                let law: AnyLaw = name.parse()?;
                if single_shape && i > 0 {
                    scored.push((law, f64::NAN, Vec::new()));
                    continue;
                }
                match segment_errors(&law, curves, options, &cal.cuts) {
                    Ok(errors) => scored.push((law, rms(&errors), errors)),
                    Err(_) => scored.push((law, f64::NAN, Vec::new())),
                }
            }
            // Curves too short for the refits leave no evidence: the simplest law is fitted
            // (its own errors, if any, surface from the full fit).
            let best = choose(&scored).unwrap_or(0);
            let candidates: Vec<LawScore> = scored
                .iter()
                .map(|(l, s, e)| LawScore {
                    law: l.name().to_string(),
                    score: *s,
                    n_errors: e.len(),
                })
                .collect();
            let chosen = scored[best].0.name().to_string();
            let others = candidates
                .iter()
                .filter(|c| c.law != chosen)
                .map(|c| format!("{} {:.4}", c.law, c.score))
                .collect::<Vec<_>>()
                .join(", ");
            let reason = if single_shape && scored[best].1.is_finite() {
                format!(
                    "all fit curves share one schedule shape, so held-out segments cannot show \
                     how a law responds to another schedule; kept the simplest law, {chosen} \
                     (RMS refit error {:.4})",
                    scored[best].1
                )
            } else if scored[best].1.is_finite() {
                format!(
                    "{chosen} predicted the held-out last part of the fit curves with RMS \
                     final-loss error {:.4} over {} refit predictions ({others}); a law with \
                     more parameters is chosen only when its squared error is lower at 10 % \
                     significance (F test)",
                    scored[best].1,
                    scored[best].2.len()
                )
            } else {
                format!(
                    "no refit on the shortened curves succeeded (too few points), so there is \
                     no evidence to choose by; kept the simplest law, {chosen}"
                )
            };
            let (law, _, errors) = scored.remove(best);
            // The first other scored candidate of another family (one with refit errors paired
            // to the chosen law's) supplies the disagreement term: a law and its saturating
            // variant (`momentum`, `momentum+sat`) agree wherever the fit saw no saturation,
            // so their disagreement says nothing about an unseen LR shape. One schedule shape
            // scores only one law.
            let family = |l: &AnyLaw| l.name().split('+').next().unwrap_or_default().to_string();
            let chosen_family = family(&law);
            let alternative = scored
                .into_iter()
                .find(|(l, s, e)| s.is_finite() && !e.is_empty() && family(l) != chosen_family);
            (
                law,
                errors,
                Some(LawSelection {
                    chosen,
                    candidates,
                    reason,
                }),
                alternative.map(|(l, _, e)| (l, e)),
            )
        }
    };
    let mut fitted = fit_law(law, curves, options)?;
    if errors.is_empty() {
        fitted.report.warnings.push(
            "no leave-last-segment-out refit succeeded (curves too short?): the predictive band \
             has no model-discrepancy term and is too narrow"
                .to_string(),
        );
    }
    let mut predictive = predictive_from_errors(&fitted, curves, errors, cal)?;
    if let Some((other, other_errors)) = alternative {
        predictive.disagreement = disagreement(&predictive, other, &other_errors, curves, options);
    }
    fitted.band_quantiles = crate::fit::quantiles_of_level(cal.level);
    fitted.instability = super::observed_instability(curves, predictive.noise_sd);
    if let Some(i) = &fitted.instability {
        fitted.report.warnings.push(format!(
            "the loss of `{}` rose by {:.4} by step {} at LRs >= {:.3e}: training near the edge \
             of stability, which the law cannot reproduce; predictions of schedules that spend \
             long at such LRs are too optimistic",
            i.curve, i.rise, i.step, i.lr
        ));
    }
    if let Some(w) = saturation_warning(&fitted) {
        fitted.report.warnings.push(w);
    }
    fitted.predictive = Some(predictive);
    fitted.selection = selection;
    Ok(fitted)
}

/// The disagreement term of `predictive` (the chosen law's band) from the other candidate:
/// its weight learned from the paired refit errors ([`disagreement_k2`]), the other law fitted
/// on all `curves`. `None` when no refit error pairs up or the other law's fit fails (the band
/// then lacks the term, as a fit of one schedule shape does).
fn disagreement(
    predictive: &Predictive,
    other: AnyLaw,
    other_errors: &[SegmentError],
    curves: &[TrainingCurve],
    options: &FitOptions,
) -> Option<Disagreement> {
    let d2 = predictive.shared_sd.powi(2) + predictive.own_sd.powi(2);
    let (k2, n_pairs) = disagreement_k2(
        &predictive.segment_errors,
        other_errors,
        predictive.noise_sd,
        d2,
    )?;
    if k2 == 0.0 {
        // No term to compute: the other law's fit would only cost time.
        return Some(Disagreement {
            law: other.name().to_string(),
            law_config: serde_json::Value::Null,
            params: Vec::new(),
            k: 0.0,
            n_pairs,
        });
    }
    let fitted = fit_law(other, curves, options).ok()?;
    Some(Disagreement {
        law: fitted.law.clone(),
        law_config: fitted.law_config.clone(),
        params: fitted.params_vec(),
        k: k2.sqrt(),
        n_pairs,
    })
}

/// A fitted saturating law ([`crate::law::Saturated`]) whose progress per unit LR halves
/// below the largest fitted LR predicts diminishing returns from long stretches at high LR:
/// the fit report says at which LR, so a reader of `rank` knows why such schedules lose.
fn saturation_warning(fitted: &FittedLaw) -> Option<String> {
    let (c, half) = fitted.saturation()?;
    Some(format!(
        "saturating LR: progress per unit of LR halves at LR {half:.3e} (eta_c = {c:.3} × the \
         largest fitted LR); schedules that spend long above it gain less than their LR area \
         suggests (near the edge of stability)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::SegmentError;

    fn scored(scores: &[(f64, usize)]) -> Vec<(AnyLaw, f64, Vec<SegmentError>)> {
        scores
            .iter()
            .map(|&(s, n)| {
                let e = SegmentError {
                    curve: String::new(),
                    seen: 1,
                    step: 1,
                    error: s,
                };
                ("power".parse().unwrap(), s, vec![e; n])
            })
            .collect()
    }

    #[test]
    fn one_schedule_shape_keeps_the_simplest_law_without_scoring_the_others() {
        // A constant-LR curve: L = 2 + 3·S1^−0.5 with a small alternating wiggle.
        let lrs = vec![1e-3; 4000];
        let steps: Vec<u64> = (1..=40).map(|k| 100 * k).collect();
        let losses = steps
            .iter()
            .enumerate()
            .map(|(i, &s)| 2.0 + 3.0 / (s as f64).sqrt() + 1e-4 * ((i % 2) as f64 - 0.5))
            .collect();
        let curve = TrainingCurve {
            name: "constant".into(),
            lrs: crate::schedule::LrGrid::new(lrs).unwrap(),
            steps,
            losses,
            batch: None,
        };
        let fitted = fit_choice(
            &LawChoice::Auto,
            &[curve],
            &FitOptions::default(),
            &CalibrationOptions::default(),
        )
        .unwrap();
        let sel = fitted.selection.unwrap();
        assert_eq!(sel.chosen, AUTO_CANDIDATES[0]);
        assert!(sel.reason.contains("one schedule shape"), "{}", sel.reason);
        assert!(sel.candidates[0].score.is_finite());
        assert!(sel.candidates[1..].iter().all(|c| c.n_errors == 0));
        // Only one law was scored: there is nothing to disagree with.
        assert_eq!(fitted.predictive.unwrap().disagreement, None);
    }

    #[test]
    fn richer_law_needs_a_significantly_lower_error() {
        // F(4, 4) 90 % quantile = 4.107: an RMS ratio of 2 (variance ratio 4) is not enough,
        // 2.1 (4.41) is.
        assert_eq!(choose(&scored(&[(0.02, 4), (0.01, 4)])), Some(0));
        assert_eq!(choose(&scored(&[(0.021, 4), (0.01, 4)])), Some(1));
        // More evidence lowers the bar: F(40, 40) 90 % quantile = 1.51.
        assert_eq!(choose(&scored(&[(0.013, 40), (0.01, 40)])), Some(1));
        // An unscored law is never chosen; none scored: none.
        assert_eq!(choose(&scored(&[(f64::NAN, 0), (0.5, 4)])), Some(1));
        assert_eq!(choose(&scored(&[(f64::NAN, 0)])), None);
    }
}
