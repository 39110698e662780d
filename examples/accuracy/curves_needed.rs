//! How many fit curves, and which, a law needs to predict the other MPL schedules' final losses
//! (docs/accuracy.md, "How many curves a fit needs"): per model size, every fit set made of the
//! two-curve split's curves plus `k` of the other seven, scored on the curves left out; for
//! `auto` also its calibrated band's coverage of those finals.

use super::bands::{calibration, median, mpl_assess};
use super::suites::{MPL_SIZES, MPL_TEST, TWO_FIT, fit_options, mpl_curve, mpl_suite};
use lrsde::assess::LawChoice;
use lrsde::law::AnyLaw;
use rayon::prelude::*;
use std::path::Path;

/// The curves that may join the two-curve split's fit set (every other MPL curve).
fn extra_pool() -> Vec<&'static str> {
    let mut pool = vec!["wsdcon_9"];
    pool.extend(MPL_TEST);
    pool
}

/// Every subset of `pool` with `k` members, in lexicographic order of positions.
fn subsets<'a>(pool: &[&'a str], k: usize) -> Vec<Vec<&'a str>> {
    fn grow<'a>(
        pool: &[&'a str],
        k: usize,
        from: usize,
        cur: &mut Vec<&'a str>,
        out: &mut Vec<Vec<&'a str>>,
    ) {
        if cur.len() == k {
            out.push(cur.clone());
            return;
        }
        for i in from..pool.len() {
            cur.push(pool[i]);
            grow(pool, k, i + 1, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    grow(pool, k, 0, &mut Vec::new(), &mut out);
    out
}

/// One fit set's held-out final-loss errors, per model size (order of [`MPL_SIZES`]).
struct SetScore {
    extras: Vec<&'static str>,
    /// Per size: every held-out curve's final-loss error (predicted − observed).
    errors: Vec<Vec<(String, f64)>>,
    /// `auto` only: held-out finals inside the 90 % band, and held-out finals.
    covered: Option<(usize, usize)>,
    /// `auto` only: the law it chose, per size.
    chosen: Vec<String>,
    /// `auto` only: band width at every held-out final.
    widths: Vec<f64>,
    /// `auto` with `LRSDE_ACC_LOCO=1` only: covered and widths of the experimental band.
    loco: Option<(usize, Vec<f64>)>,
}

/// What a row fits: one law (point predictions), or `auto` with its calibrated band.
enum Fitter {
    Law(AnyLaw),
    Auto(LawChoice),
}

impl Fitter {
    fn parse(name: &str) -> Self {
        if name == "auto" {
            Fitter::Auto(name.parse().expect("auto"))
        } else {
            Fitter::Law(name.parse().expect("law name"))
        }
    }
}

impl SetScore {
    /// Held-out final-loss MAE per size.
    fn mae(&self) -> Vec<f64> {
        self.errors
            .iter()
            .map(|e| e.iter().map(|(_, x)| x.abs()).sum::<f64>() / e.len() as f64)
            .collect()
    }

    fn mean(&self) -> f64 {
        let m = self.mae();
        m.iter().sum::<f64>() / m.len() as f64
    }

    /// `|error|` of held-out curve `curve` at size index `i`, if it was held out.
    fn abs_error(&self, i: usize, curve: &str) -> Option<f64> {
        self.errors[i]
            .iter()
            .find(|(n, _)| n == curve)
            .map(|(_, x)| x.abs())
    }
}

fn score_set(root: &Path, fitter: &Fitter, extras: Vec<&'static str>) -> SetScore {
    let fit: Vec<&str> = TWO_FIT
        .iter()
        .copied()
        .chain(extras.iter().copied())
        .collect();
    let test: Vec<&str> = extra_pool()
        .into_iter()
        .filter(|c| !extras.contains(c))
        .collect();
    let errors_of = |e: &lrsde::assess::metrics::Evaluation| -> Vec<(String, f64)> {
        e.held_out
            .iter()
            .map(|(n, m)| (n.clone(), m.final_err))
            .collect()
    };
    match fitter {
        Fitter::Law(law) => SetScore {
            extras,
            errors: MPL_SIZES
                .iter()
                .map(|&size| errors_of(&mpl_suite(root, law, size, &fit, &test)))
                .collect(),
            covered: None,
            chosen: Vec::new(),
            widths: Vec::new(),
            loco: None,
        },
        Fitter::Auto(choice) => {
            let (mut errors, mut covered, mut total) = (Vec::new(), 0, 0);
            let (mut chosen, mut widths) = (Vec::new(), Vec::new());
            let experiment = std::env::var_os("LRSDE_ACC_LOCO").is_some();
            let mut loco = experiment.then(|| (0, Vec::new()));
            for &size in &MPL_SIZES {
                let a = mpl_assess(root, choice, size, &fit, &test);
                chosen.push(a.fitted.law.clone());
                errors.push(errors_of(&a.evaluation));
                covered += a.finals.iter().filter(|(_, b)| b.covers()).count();
                widths.extend(a.finals.iter().map(|(_, b)| b.width()));
                total += a.finals.len();
                if let Some((c, w)) = loco.as_mut() {
                    let (lc, lw) = loco_band(root, size, &fit, &test, &a.fitted);
                    *c += lc;
                    w.extend(lw);
                }
            }
            SetScore {
                extras,
                errors,
                covered: Some((covered, total)),
                chosen,
                widths,
                loco,
            }
        }
    }
}

/// Experiment (`LRSDE_ACC_LOCO=1`): `fitted`'s band with the discrepancy also learned from
/// leave-one-curve-out errors, where every fit curve left out still leaves two schedule shapes:
/// the chosen law refitted without each curve predicts that curve's final loss (`h` = 1: a
/// shape never seen, at the fitted horizon). Returns the held-out finals covered and the band
/// widths there.
fn loco_band(
    root: &Path,
    size: u32,
    fit: &[&str],
    test: &[&str],
    fitted: &lrsde::fit::FittedLaw,
) -> (usize, Vec<f64>) {
    use lrsde::fit::{Predictor, SegmentError, distinct_shapes};
    let curves: Vec<_> = fit.iter().map(|n| mpl_curve(root, size, n)).collect();
    let tests: Vec<_> = test.iter().map(|n| mpl_curve(root, size, n)).collect();
    let old = fitted.predictive.clone().expect("auto's band");
    let law = fitted.law().expect("law");
    let rows = lrsde::assess::leave_one_out(&law, &curves, &fit_options(), &mut |_| {})
        .expect("leave-one-curve-out refits");
    let mut errors = old.segment_errors.clone();
    for (i, (held, row)) in curves.iter().zip(&rows).enumerate() {
        let mut rest = curves.clone();
        rest.remove(i);
        // A refit on one schedule shape cannot tell a decay's gain: no evidence about shapes.
        if distinct_shapes(&rest) < 2 {
            continue;
        }
        let step = *held.steps.last().unwrap();
        errors.push(SegmentError {
            curve: row.name.clone(),
            // One error per refit: a `seen` of its own keeps it out of the shared part's
            // pairs, and `h` = √(step / seen) stays 1 to within 1e-4.
            seen: step.saturating_sub(i as u64 + 1).max(1),
            step,
            error: row.final_err,
        });
    }
    let mut new = lrsde::assess::predictive_from_errors(fitted, &curves, errors, &calibration())
        .expect("predictive");
    new.disagreement = old.disagreement.clone();
    let mut f = fitted.clone();
    f.predictive = Some(new);
    let p = Predictor::from_fitted(f).expect("predictor");
    let (mut covered, mut widths) = (0, Vec::new());
    for t in &tests {
        let (step, obs) = (*t.steps.last().unwrap(), *t.losses.last().unwrap());
        let b = p.predict_band(&t.lrs, &[step]).expect("band");
        covered += usize::from(b.lo[0] <= obs && obs <= b.hi[0]);
        widths.push(b.hi[0] - b.lo[0]);
    }
    (covered, widths)
}

fn joined(v: &[f64]) -> String {
    v.iter()
        .map(|m| format!("{m:.4}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Per size, the mean over the pool's curves of each curve's mean `|error|` over the fit sets
/// that hold it out: every curve weighs the same whatever `k`, so the rows compare (a plain
/// mean over sets would score fewer and different curves as `k` grows).
fn curve_balanced_mae(scores: &[SetScore]) -> Vec<f64> {
    (0..MPL_SIZES.len())
        .map(|i| {
            let per_curve: Vec<f64> = extra_pool()
                .iter()
                .filter_map(|c| {
                    let v: Vec<f64> = scores.iter().filter_map(|s| s.abs_error(i, c)).collect();
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect();
            per_curve.iter().sum::<f64>() / per_curve.len() as f64
        })
        .collect()
}

/// `auto`'s extra cell of a row: its band's coverage and median width over every held-out final
/// of the row's fit sets, the experiment's (`LRSDE_ACC_LOCO=1`), and the laws it chose; empty
/// for a single law.
fn auto_cells(scores: &[SetScore]) -> String {
    let (covered, total) = scores
        .iter()
        .filter_map(|s| s.covered)
        .fold((0, 0), |(c, t), (a, b)| (c + a, t + b));
    if total == 0 {
        return String::new();
    }
    let percent = |c: usize| 100.0 * c as f64 / total as f64;
    let mut laws: Vec<&str> = scores
        .iter()
        .flat_map(|s| s.chosen.iter().map(String::as_str))
        .collect();
    laws.sort_unstable();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for l in laws {
        match counts.last_mut() {
            Some((last, n)) if *last == l => *n += 1,
            _ => counts.push((l, 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(l, n)| format!("{l} {n}")).collect();
    let mut widths: Vec<f64> = scores.iter().flat_map(|s| s.widths.clone()).collect();
    let (mut loco_covered, mut loco_widths) = (0, Vec::new());
    for (c, w) in scores.iter().filter_map(|s| s.loco.as_ref()) {
        loco_covered += c;
        loco_widths.extend_from_slice(w);
    }
    let loco = if loco_widths.is_empty() {
        String::new()
    } else {
        format!(
            "; with leave-one-curve-out errors {loco_covered}/{total} ({:.0} %), median width \
             {:.4}",
            percent(loco_covered),
            median(&mut loco_widths)
        )
    };
    format!(
        " {covered}/{total} ({:.0} %) in the 90 % band, median width {:.4}{loco}; chose {} |",
        percent(covered),
        median(&mut widths),
        counts.join(", ")
    )
}

/// Prints, per law and number of extra curves `k` (0 to `LRSDE_ACC_MAX_EXTRA`, default 5),
/// the held-out final-loss error over every fit set of that size, and what each single extra
/// curve gains on the others (`k` = 1 against `k` = 0, on the same curves).
pub fn print_curves_needed(root: &Path, laws: &[String]) {
    let max_k: usize = std::env::var("LRSDE_ACC_MAX_EXTRA")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .min(extra_pool().len() - 1);
    let laws: Vec<String> = if laws.is_empty() {
        vec!["momentum".into()]
    } else {
        laws.to_vec()
    };
    for name in &laws {
        let fitter = Fitter::parse(name);
        println!(
            "\n### {name}: fit cosine_24000 + constant_24000 + k of the other 7 MPL curves, \
             predict the rest\n"
        );
        println!(
            "| k | fit sets | per-curve MAE (25M / 100M / 400M) | mean | sets with MAE ≤ 0.005 | \
             best set (in hindsight) | its MAE on the rest |\n|---|---|---|---|---|---|---|"
        );
        let mut by_k: Vec<Vec<SetScore>> = Vec::new();
        for k in 0..=max_k {
            let started = std::time::Instant::now();
            let mut scores: Vec<SetScore> = subsets(&extra_pool(), k)
                .into_par_iter()
                .map(|extras| score_set(root, &fitter, extras))
                .collect();
            let balanced = curve_balanced_mae(&scores);
            let mean = balanced.iter().sum::<f64>() / balanced.len() as f64;
            let within = scores.iter().filter(|s| s.mean() <= 0.005).count();
            scores.sort_by(|a, b| a.mean().total_cmp(&b.mean()));
            let best = &scores[0];
            let coverage = auto_cells(&scores);
            println!(
                "| {k} | {} | {} | {mean:.4} | {within} | {} | {:.4} ({}) |{coverage}",
                scores.len(),
                joined(&balanced),
                if best.extras.is_empty() {
                    "—".to_string()
                } else {
                    best.extras.join(" + ")
                },
                best.mean(),
                joined(&best.mae()),
            );
            eprintln!("    k = {k}: {:.0} s", started.elapsed().as_secs_f64());
            by_k.push(scores);
        }
        let (Some(base), Some(singles)) = (by_k.first().and_then(|s| s.first()), by_k.get(1))
        else {
            continue;
        };
        println!(
            "\nOne extra curve (k = 1): MAE on the six curves still held out, without → with it \
             (25M / 100M / 400M), best first:\n\n| added to the fit | without | with | mean \
             without → with |\n|---|---|---|---|"
        );
        let mut rows: Vec<(f64, String)> = singles
            .iter()
            .map(|s| {
                let added = s.extras[0];
                let mae_of = |score: &SetScore| -> Vec<f64> {
                    (0..MPL_SIZES.len())
                        .map(|i| {
                            let v: Vec<f64> = extra_pool()
                                .iter()
                                .filter(|c| **c != added)
                                .filter_map(|c| score.abs_error(i, c))
                                .collect();
                            v.iter().sum::<f64>() / v.len() as f64
                        })
                        .collect()
                };
                let (without, with) = (mae_of(base), mae_of(s));
                let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
                (
                    mean(&with),
                    format!(
                        "| {added} | {} | {} | {:.4} → {:.4} |",
                        joined(&without),
                        joined(&with),
                        mean(&without),
                        mean(&with)
                    ),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, row) in rows {
            println!("{row}");
        }
    }
}
