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

/// Significance level of the tests that let a law with more parameters replace a simpler one:
/// the F test on held-out errors and the likelihood-ratio test on the full fits.
const F_LEVEL: f64 = 0.10;

/// The index of the chosen law among the scored candidates at the indices `among` (in
/// [`AUTO_CANDIDATES`] order, fewest parameters first): the first scored one, replaced by a
/// later one only when the ratio of their mean squared held-out errors exceeds the
/// `1 − F_LEVEL` quantile of the F distribution with their error counts as degrees of
/// freedom. A handful of held-out errors cannot tell two laws apart that differ by less than
/// about 2× in RMS error; the simpler law then stays (it extrapolates more predictably, and
/// has the tighter evidence of the two).
fn choose(
    scored: &[(AnyLaw, f64, Vec<crate::fit::SegmentError>)],
    among: &[usize],
) -> Option<usize> {
    let mut best: Option<usize> = None;
    for &i in among {
        let (_, score, errors) = &scored[i];
        if !score.is_finite() {
            continue;
        }
        let Some(b) = best else {
            best = Some(i);
            continue;
        };
        if f_favours((*score, errors.len()), (scored[b].1, scored[b].2.len())) {
            best = Some(i);
        }
    }
    best
}

/// Whether held-out RMS error `a` (with its count of errors) is significantly lower than `b`:
/// the ratio of their mean squares exceeds the `1 − F_LEVEL` quantile of F(n_b, n_a). Also
/// true when `a` is exactly 0 and `b` is not; false when either is not finite.
fn f_favours(a: (f64, usize), b: (f64, usize)) -> bool {
    use statrs::distribution::{ContinuousCDF, FisherSnedecor};
    if !a.0.is_finite() || !b.0.is_finite() {
        return false;
    }
    let critical = FisherSnedecor::new((b.1 as f64).max(1.0), (a.1 as f64).max(1.0))
        .map(|f| f.inverse_cdf(1.0 - F_LEVEL))
        .unwrap_or(f64::INFINITY);
    a.0 == 0.0 && b.0 > 0.0 || (b.0 / a.0).powi(2) > critical
}

/// The evidence from the full fits for a law's saturating variant over the plain law
/// ([`nested_evidence`]).
#[derive(Debug, Clone, PartialEq)]
struct NestedEvidence {
    /// Likelihood-ratio statistic `n_eff · ln(RSS_plain / RSS_sat)` of the log residuals.
    lr: f64,
    /// Effective number of independent residuals behind it.
    n_eff: f64,
    /// The `1 − F_LEVEL` quantile of χ²₁ that `lr` must exceed.
    critical: f64,
    /// Why the saturating fit cannot be trusted (parameters on a collapse bound), if so.
    degenerate: Option<String>,
    /// The held-out refits significantly favour the plain law (F test).
    refits_against: bool,
    /// The fit curves share one peak LR: the likelihood ratio and the refits decide. Across
    /// peaks only a degenerate fit rejects the saturating law ([`nested_evidence`]).
    one_peak: bool,
}

impl NestedEvidence {
    /// The evidence when the refits alone refute the saturating law (its full fit unmade).
    fn refuted() -> Self {
        Self {
            lr: f64::NAN,
            n_eff: 0.0,
            critical: chi2_critical(),
            degenerate: None,
            refits_against: true,
            one_peak: true,
        }
    }

    /// Whether the saturating law is kept.
    fn keeps_saturated(&self) -> bool {
        if !self.one_peak {
            return self.degenerate.is_none() && !self.lr.is_nan();
        }
        self.lr > self.critical && self.degenerate.is_none() && !self.refits_against
    }
}

/// The `1 − F_LEVEL` quantile of χ²₁: the likelihood ratio one extra parameter must exceed.
fn chi2_critical() -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    ChiSquared::new(1.0)
        .map(|c| c.inverse_cdf(1.0 - F_LEVEL))
        .unwrap_or(f64::INFINITY)
}

/// Log residuals `ln obs − ln pred` of a fit on each of its curves (`None` when the law cannot
/// be rebuilt or predicts a non-positive loss).
fn log_residuals(fitted: &FittedLaw, curves: &[TrainingCurve]) -> Option<Vec<Vec<f64>>> {
    let law = fitted.law().ok()?;
    let params = fitted.params_vec();
    curves
        .iter()
        .map(|c| {
            let mut out = vec![f64::NAN; c.steps.len()];
            law.predict_batched(&params, &c.lrs, c.batch.as_ref(), &c.steps, &mut out)
                .ok()?;
            let r: Vec<f64> = c
                .losses
                .iter()
                .zip(&out)
                .map(|(o, p)| o.ln() - p.ln())
                .collect();
            r.iter().all(|x| x.is_finite()).then_some(r)
        })
        .collect()
}

/// Whether the full fit of the saturating law `sat` (nesting `plain`: `eta_c → ∞`) is better
/// than chance, trustworthy, and not contradicted by the held-out refits (fit curves at one
/// peak LR), or only trustworthy (fit curves at two peaks). Why:
///
/// * The refits on curves cut at 50 % / 70 % give a 5-parameter law few points and a short
///   LR history; their errors measure the refit's own parameter error more than the law's,
///   so a handful of them rarely separates two nested laws (docs/accuracy.md: at lr 2e-3
///   T 15k / 25k they favoured `momentum` while `momentum:sat=1` predicted the cooldowns
///   far better). The full fits see every point, so the classical test of nested models
///   applies: the likelihood ratio `n · ln(RSS_plain / RSS_sat)` of Gaussian log residuals
///   against χ²₁ (one extra parameter) at level `F_LEVEL`. The residuals of a law that is
///   not exactly right are strongly autocorrelated (a smooth trend error), so `n` counts
///   effective points, `Σ n_c · (1 − ρ₁) / (1 + ρ₁)` with `ρ₁` the lag-1 autocorrelation
///   of the saturating fit's residuals within each curve (the variance inflation of an AR(1)
///   mean; not centred, as a per-curve offset is a correlated error too); the richer fit's
///   residuals are the closer estimate of the error process, as an F test takes its variance
///   from the unrestricted fit. `eta_c → ∞` sits on the edge of
///   the parameter space, where the statistic is ½χ²₀ + ½χ²₁; χ²₁ is the conservative
///   choice.
/// * A fit in the collapse basin of [`crate::law::Saturated`] (`eta_c` on its lower bound:
///   every positive LR counts alike, the schedule no longer matters) or with another
///   parameter on a bound that the plain fit is not on can lower the cost without being a
///   law of the LR response (on the 124M grid lr 1e-4 T 25k it gave a band 818 wide):
///   rejected whatever its cost.
/// * Refit errors significantly lower for the plain law (the F test [`choose`] uses) are
///   evidence against the saturating one that the full fit cannot see.
/// * Unless `one_peak` is false: a prediction from fit curves at two peak LRs extrapolates
///   exactly what the plain law assumes, that progress and a decay's gain grow in proportion
///   to the LR, while the refits only extrapolate in time and the likelihood ratio of
///   squared log residuals disagrees with the fits' own (Huber) costs there. On three such
///   public tables, keeping the saturating law whenever its fit was sound gave `auto` the
///   same or a lower error and a higher coverage than letting the ratio and the refits
///   decide, which kept the plain law on fits that predicted worse (docs/accuracy.md,
///   "Model-size sets"; chosen after seeing the three tables).
fn nested_evidence(
    plain: &FittedLaw,
    sat: &FittedLaw,
    curves: &[TrainingCurve],
    refit_plain: (f64, usize),
    refit_sat: (f64, usize),
    one_peak: bool,
) -> NestedEvidence {
    let critical = chi2_critical();
    let refits_against = f_favours(refit_plain, refit_sat);
    let degenerate = sat
        .report
        .params_at_bounds
        .iter()
        .filter(|name| {
            let value = sat.params.get(name.as_str()).copied().unwrap_or(f64::NAN);
            // `eta_c` on its upper bound is the plain law itself (no evidence either way).
            !(name.as_str() == "eta_c" && value >= 1.0)
                && (name.as_str() == "eta_c" || !plain.report.params_at_bounds.contains(name))
        })
        .map(|name| format!("{name} = {:.3e}", sat.params[name.as_str()]))
        .collect::<Vec<_>>();
    let degenerate = (!degenerate.is_empty())
        .then(|| format!("parameters on a bound: {}", degenerate.join(", ")));
    let (Some(r0), Some(r1)) = (log_residuals(plain, curves), log_residuals(sat, curves)) else {
        return NestedEvidence {
            lr: f64::NAN,
            n_eff: 0.0,
            critical,
            degenerate,
            refits_against,
            one_peak,
        };
    };
    let rss = |r: &[Vec<f64>]| r.iter().flatten().map(|x| x * x).sum::<f64>();
    let n_eff: f64 = r1
        .iter()
        .map(|r| {
            let (num, den) = r
                .windows(2)
                .fold((0.0, 0.0), |(n, d), w| (n + w[0] * w[1], d + w[0] * w[0]));
            let rho = if den > 0.0 {
                (num / den).clamp(0.0, 1.0)
            } else {
                0.0
            };
            r.len() as f64 * (1.0 - rho) / (1.0 + rho)
        })
        .sum();
    let (rss0, rss1) = (rss(&r0), rss(&r1));
    let lr = if rss1 > 0.0 {
        n_eff * (rss0 / rss1).ln()
    } else if rss0 > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    NestedEvidence {
        lr,
        n_eff,
        critical,
        degenerate,
        refits_against,
        one_peak,
    }
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
    /// Choose among [`AUTO_CANDIDATES`]: the family by leave-last-segment-out errors (F
    /// test), saturation by the full fits (likelihood ratio, see [`fit_choice`]).
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

/// The sentence of the fit report on [`nested_evidence`]'s decision between `scored[0]` (the
/// plain law) and `scored[1]` (its saturating variant): which evidence decided.
fn nested_reason(ev: &NestedEvidence, scored: &[(AnyLaw, f64, Vec<SegmentError>)]) -> String {
    let (plain, sat) = (scored[0].0.name(), scored[1].0.name());
    let lr = format!(
        "likelihood ratio {:.2} of the full fits' log residuals over {:.1} effective points \
         (lag-1 autocorrelation counted), χ²₁ 10 % critical value {:.2}",
        ev.lr, ev.n_eff, ev.critical
    );
    let refits = format!(
        "RMS refit error {plain} {:.4} over {}, {sat} {:.4} over {}",
        scored[0].1,
        scored[0].2.len(),
        scored[1].1,
        scored[1].2.len()
    );
    if ev.keeps_saturated() && !ev.one_peak {
        format!(
            "the fit curves peak at two LRs, so {sat} was kept because its fit has no \
             parameter on a collapse bound: a prediction across peaks extrapolates exactly what \
             {plain} assumes (progress and a decay's gain in proportion to the LR), and neither \
             the held-out refits ({refits}) nor the {lr} decide between them there \
             (docs/accuracy.md, \"Model-size sets\")"
        )
    } else if ev.keeps_saturated() {
        format!(
            "{sat} fits the curves better than {plain} beyond chance ({lr}), its fit has no \
             parameter on a collapse bound, and the held-out refits do not significantly \
             favour {plain} ({refits})"
        )
    } else if let Some(d) = &ev.degenerate {
        format!("kept {plain}: the fit of {sat} is degenerate ({d})")
    } else if ev.refits_against && ev.one_peak {
        format!(
            "kept {plain}: the held-out refits favour it significantly over {sat} ({refits}; F \
             test at 10 %)"
        )
    } else {
        format!("kept {plain}: {sat} does not fit the curves better beyond chance ({lr})")
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
/// by leave-last-segment-out refits, keeps `momentum` unless `sde` erred significantly less on
/// the held-out final losses, and then replaces it by `momentum:sat=1` when the full fits give
/// evidence for saturation: a likelihood ratio beyond chance over the residuals' effective
/// number of points, a fit not collapsed onto its bounds, refits not significantly against
/// it) and calibrates its predictive band from the same refits ([`super::calibrate`]). An
/// automatic choice is recorded in [`FittedLaw::selection`] with every candidate's score and a
/// sentence naming the evidence that decided. When both
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
    let (law, errors, selection, alternative, prefitted) = match choice {
        LawChoice::Law(law) => {
            // A law the user chose is fitted even when its refits on shortened curves fail;
            // the band then lacks the discrepancy term, and the report says so.
            let errors = segment_errors(law, curves, options, &cal.cuts).unwrap_or_default();
            (law.clone(), errors, None, None, None)
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
            // The family first: the plain law against the other family (`sde`) by their
            // held-out refit errors (F test). The saturating variant is left out of that
            // comparison: its refits on shortened curves are the unreliable evidence
            // [`nested_evidence`] replaces (at lr 2e-3 T 15k of the 124M grid its 0.0893 let
            // `sde`, 0.0404, replace it, error 0.0169 against its own 0.0060).
            let family = choose(&scored, &[0, 2]).unwrap_or(0);
            // Within the plain law's family its full fit and the saturating variant's decide.
            let mut full: Vec<Option<FittedLaw>> = vec![None; scored.len()];
            let mut nested = None;
            if !single_shape && family == 0 && scored[1].1.is_finite() {
                let count = |i: usize| (scored[i].1, scored[i].2.len());
                let one_peak = crate::fit::mixed_peaks(curves).is_none();
                if one_peak && f_favours(count(0), count(1)) {
                    // The refits veto the saturating law whatever its full fit shows: that
                    // fit (~100 × the plain law's cost) is skipped.
                    nested = Some(NestedEvidence::refuted());
                } else {
                    let plain = fit_law(scored[0].0.clone(), curves, options).ok();
                    let sat = fit_law(scored[1].0.clone(), curves, options).ok();
                    if let (Some(p), Some(s)) = (&plain, &sat) {
                        nested = Some(nested_evidence(p, s, curves, count(0), count(1), one_peak));
                    }
                    (full[0], full[1]) = (plain, sat);
                }
            }
            let best = match &nested {
                Some(ev) if ev.keeps_saturated() => 1,
                _ => family,
            };
            let candidates: Vec<LawScore> = scored
                .iter()
                .map(|(l, s, e)| LawScore {
                    law: l.name().to_string(),
                    score: *s,
                    n_errors: e.len(),
                })
                .collect();
            let chosen = scored[best].0.name().to_string();
            let (plain_name, other_name) = (scored[0].0.name(), scored[2].0.name());
            let reason = if single_shape && scored[best].1.is_finite() {
                format!(
                    "all fit curves share one schedule shape, so held-out segments cannot show \
                     how a law responds to another schedule; kept the simplest law, {chosen} \
                     (RMS refit error {:.4})",
                    scored[best].1
                )
            } else if family == 2 && !scored[0].1.is_finite() {
                format!(
                    "no refit of {plain_name} on the shortened curves succeeded; {chosen} \
                     predicted the held-out last part of the fit curves with RMS final-loss \
                     error {:.4} over {} refit predictions",
                    scored[2].1,
                    scored[2].2.len()
                )
            } else if family == 2 {
                format!(
                    "{chosen} predicted the held-out last part of the fit curves with RMS \
                     final-loss error {:.4} over {} refit predictions, significantly lower \
                     than {plain_name}'s {:.4} over {} (F test at 10 %)",
                    scored[2].1,
                    scored[2].2.len(),
                    scored[0].1,
                    scored[0].2.len()
                )
            } else if scored[0].1.is_finite() {
                let family_part = format!(
                    "{plain_name}'s RMS refit error on the held-out last part of the fit \
                     curves, {:.4} over {}, was not significantly beaten by {other_name}'s \
                     {:.4} over {} (F test at 10 %)",
                    scored[0].1,
                    scored[0].2.len(),
                    scored[2].1,
                    scored[2].2.len()
                );
                match &nested {
                    Some(ev) => format!("{family_part}; {}", nested_reason(ev, &scored)),
                    None => format!(
                        "{family_part}; {} was not compared (its refits or fit failed)",
                        scored[1].0.name()
                    ),
                }
            } else {
                format!(
                    "no refit on the shortened curves succeeded (too few points), so there is \
                     no evidence to choose by; kept the simplest law, {chosen}"
                )
            };
            let prefitted = full[best].take();
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
                prefitted,
            )
        }
    };
    let mut fitted = match prefitted {
        Some(f) => f,
        None => fit_law(law, curves, options)?,
    };
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
        assert_eq!(choose(&scored(&[(0.02, 4), (0.01, 4)]), &[0, 1]), Some(0));
        assert_eq!(choose(&scored(&[(0.021, 4), (0.01, 4)]), &[0, 1]), Some(1));
        // More evidence lowers the bar: F(40, 40) 90 % quantile = 1.51.
        assert_eq!(
            choose(&scored(&[(0.013, 40), (0.01, 40)]), &[0, 1]),
            Some(1)
        );
        // An unscored law is never chosen; none scored: none.
        assert_eq!(
            choose(&scored(&[(f64::NAN, 0), (0.5, 4)]), &[0, 1]),
            Some(1)
        );
        assert_eq!(choose(&scored(&[(f64::NAN, 0)]), &[0]), None);
    }

    /// A constant and a warmup-cosine run at peak 2e-3 (4000 updates, 80 points) from
    /// `momentum:sat=1` at `truth`, plus a deterministic scatter of ±1e-3 around it.
    fn sat_curves(truth: &[f64]) -> Vec<TrainingCurve> {
        use crate::schedule::LrGrid;
        let law: AnyLaw = "momentum:lr_ref=2e-3,sat=1".parse().unwrap();
        let (n, peak, w) = (4000usize, 2e-3, 200usize);
        let cosine = (0..n)
            .map(|t| {
                if t < w {
                    peak * (t + 1) as f64 / w as f64
                } else {
                    let x = (t - w) as f64 / (n - w) as f64;
                    peak * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
                }
            })
            .collect();
        let steps: Vec<u64> = (1..=80).map(|k| 50 * k).collect();
        [("constant", vec![peak; n]), ("cosine", cosine)]
            .into_iter()
            .enumerate()
            .map(|(c, (name, lrs))| {
                let lrs = LrGrid::new(lrs).unwrap();
                let mut losses = vec![0.0; steps.len()];
                law.predict(truth, &lrs, &steps, &mut losses).unwrap();
                // A scatter without a trend: (i·7 + c·3) mod 11, centred, ±1e-3.
                for (i, l) in losses.iter_mut().enumerate() {
                    *l += 2e-4 * (((i * 7 + c * 3) % 11) as f64 - 5.0);
                }
                TrainingCurve {
                    name: name.into(),
                    lrs,
                    steps: steps.clone(),
                    losses,
                    batch: None,
                }
            })
            .collect()
    }

    fn fits(curves: &[TrainingCurve]) -> (FittedLaw, FittedLaw) {
        let opts = FitOptions::default();
        let fit = |name: &str| fit_law(name.parse().unwrap(), curves, &opts).unwrap();
        (fit("momentum"), fit("momentum:sat=1"))
    }

    #[test]
    fn saturated_data_keep_the_saturating_law_unless_degenerate_or_refuted() {
        // Progress halves at 0.3 × the peak: the cosine's decay bends the curve away from
        // what the plain law's LR areas give.
        let curves = sat_curves(&[2.0, 3.0, 0.5, 0.01, 0.3]);
        let (plain, sat) = fits(&curves);
        let even = (0.01, 4);
        let ev = nested_evidence(&plain, &sat, &curves, even, even, true);
        assert!(ev.lr > ev.critical, "{ev:?}");
        assert!((ev.critical - 2.706).abs() < 1e-3, "χ²₁ 90 % quantile");
        // The scatter has no lag-1 correlation to speak of: nearly every point counts.
        assert!(ev.n_eff > 80.0 && ev.n_eff <= 160.0, "{ev:?}");
        assert!(ev.keeps_saturated(), "{ev:?}");

        // Refits that favour the plain law significantly (RMS ratio 3 > √4.107) refute it.
        let ev = nested_evidence(&plain, &sat, &curves, (0.01, 4), (0.03, 4), true);
        assert!(ev.refits_against && !ev.keeps_saturated(), "{ev:?}");
        // … except where the fit curves peak at two LRs: there the refits have no veto, and
        // the report says why they were overruled.
        let ev = nested_evidence(&plain, &sat, &curves, (0.01, 4), (0.03, 4), false);
        assert!(ev.refits_against && ev.keeps_saturated(), "{ev:?}");
        let why = nested_reason(&ev, &scored(&[(0.01, 4), (0.03, 4)]));
        assert!(
            why.contains("peak at two LRs") && why.contains("collapse bound"),
            "{why}"
        );

        // The collapse basin: `eta_c` and `C` on their lower bounds.
        let mut collapsed = sat.clone();
        collapsed.params.insert("eta_c".into(), 1e-3);
        collapsed.report.params_at_bounds = vec!["C".into(), "eta_c".into()];
        let ev = nested_evidence(&plain, &collapsed, &curves, even, even, true);
        let d = ev.degenerate.clone().expect("degenerate");
        assert!(d.contains("eta_c") && d.contains('C'), "{d}");
        assert!(!ev.keeps_saturated());
        // Across two peaks a degenerate fit is still rejected.
        let ev = nested_evidence(&plain, &collapsed, &curves, even, even, false);
        assert!(!ev.keeps_saturated(), "{ev:?}");
        // A parameter the plain fit has on the same bound is no sign of collapse, nor is
        // `eta_c` on its upper (no-saturation) bound.
        let mut plain_c = plain.clone();
        plain_c.report.params_at_bounds = vec!["C".into()];
        let mut at_top = sat.clone();
        at_top.params.insert("eta_c".into(), 1e4);
        at_top.report.params_at_bounds = vec!["C".into(), "eta_c".into()];
        assert_eq!(
            nested_evidence(&plain_c, &at_top, &curves, even, even, true).degenerate,
            None
        );
    }

    #[test]
    fn plain_data_keep_the_plain_law() {
        // `eta_c` = 1e4 (its upper bound) is the plain law to 1e-4 relative in the LRs.
        let curves = sat_curves(&[2.0, 3.0, 0.5, 0.01, 1e4]);
        let (plain, sat) = fits(&curves);
        let ev = nested_evidence(&plain, &sat, &curves, (0.01, 4), (0.01, 4), true);
        assert!(ev.lr <= ev.critical, "{ev:?}");
        assert!(!ev.keeps_saturated(), "{ev:?}");
        // Across two peaks no likelihood ratio is asked for: a sound saturating fit is kept
        // (at `eta_c` near its upper bound it predicts as the plain law, with its own band).
        let ev = nested_evidence(&plain, &sat, &curves, (0.01, 4), (0.01, 4), false);
        assert!(ev.lr <= ev.critical && ev.keeps_saturated(), "{ev:?}");
    }

    #[test]
    fn auto_says_which_evidence_chose_the_saturating_law() {
        let auto = |eta_c: f64| {
            fit_choice(
                &LawChoice::Auto,
                &sat_curves(&[2.0, 3.0, 0.5, 0.01, eta_c]),
                &FitOptions::default(),
                &CalibrationOptions::default(),
            )
            .unwrap()
        };
        let fitted = auto(0.3);
        let sel = fitted.selection.as_ref().unwrap();
        assert_eq!(
            (sel.chosen.as_str(), fitted.law.as_str()),
            ("momentum+sat", "momentum+sat")
        );
        assert!(
            sel.reason.contains("better than momentum beyond chance"),
            "{}",
            sel.reason
        );
        // The fit reused for the chosen law is the one the evidence came from.
        assert!(
            (fitted.params["eta_c"] - 0.3).abs() < 0.03,
            "{:?}",
            fitted.params
        );

        let fitted = auto(1e4);
        let sel = fitted.selection.as_ref().unwrap();
        assert_eq!(sel.chosen, "momentum", "{}", sel.reason);
        assert!(sel.reason.contains("kept momentum"), "{}", sel.reason);
    }
}
