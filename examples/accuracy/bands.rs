//! Predictive-band coverage and the `auto` law on the public tables (docs/accuracy.md,
//! "Predictive bands"). Shared by `examples/accuracy` (`bands` mode) and
//! `tests/calibration_shared.rs`.
#![allow(dead_code)]

use crate::suites::{
    GridSet, MPL_WARMUP, cooldown_branches, fit_options, mean, mean_tau, mpl_curve,
};
use lrsde::assess::{Assessment, CalibrationOptions, LawChoice, assess};
use lrsde::data::TrainingCurve;
use std::path::Path;

/// The calibration of every suite: the defaults, with `LRSDE_ACC_CUTS` (fractions separated
/// by `/`, if set) as the leave-last-segment-out cuts.
pub fn calibration() -> CalibrationOptions {
    let mut c = CalibrationOptions::default();
    if let Ok(v) = std::env::var("LRSDE_ACC_CUTS") {
        c.cuts = v.split('/').map(|x| x.parse().expect("cut")).collect();
    }
    c
}

/// Fits `choice` with a calibrated band on the `fit` curves of one MPL size, scores `test`.
pub fn mpl_assess(
    root: &Path,
    choice: &LawChoice,
    size: u32,
    fit: &[&str],
    test: &[&str],
) -> Assessment {
    let fit: Vec<_> = fit.iter().map(|n| mpl_curve(root, size, n)).collect();
    let test: Vec<_> = test.iter().map(|n| mpl_curve(root, size, n)).collect();
    assess_set(choice, &fit, &test, MPL_WARMUP, &format!("{size}M"))
}

/// The same for one cell of the 124M grid.
pub fn grid_assess(set: &GridSet, choice: &LawChoice) -> Assessment {
    let label = format!("124M lr {} T {}", set.peak, set.horizon);
    assess_set(choice, &set.fit, &set.test, 300, &label)
}

/// `choice` fitted with a calibrated band on `fit`, scored on `test` (R² from step
/// `r2_from_step`, after the warmup); panics with `label` on an error.
pub fn assess_set(
    choice: &LawChoice,
    fit: &[TrainingCurve],
    test: &[TrainingCurve],
    r2_from_step: u64,
    label: &str,
) -> Assessment {
    assess(
        choice,
        fit,
        test,
        &fit_options(),
        &calibration(),
        r2_from_step,
    )
    .unwrap_or_else(|e| panic!("{label}: {e}"))
}

/// Headline numbers of several assessments of one law on one table.
#[derive(Debug, Clone, Default)]
pub struct BandSummary {
    /// Rows (sizes, cells).
    pub rows: usize,
    /// Mean over rows of the mean held-out final-loss absolute error.
    pub final_mae: f64,
    /// Mean over rows of the mean Kendall τ over groups of equal length.
    pub tau: f64,
    /// Held-out final losses inside their band.
    pub covered: usize,
    /// Held-out final losses.
    pub total: usize,
    /// Median band width at the final step over all held-out curves.
    pub median_width: f64,
}

impl BandSummary {
    /// Fraction covered.
    pub fn coverage(&self) -> f64 {
        self.covered as f64 / self.total.max(1) as f64
    }
}

/// Mean Kendall τ of one assessment over its groups of equal length.
pub fn tau(a: &Assessment) -> f64 {
    mean_tau(&a.evaluation)
}

/// The median of `values` (sorted in place); `NaN` when empty.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => 0.5 * (values[n / 2 - 1] + values[n / 2]),
    }
}

/// Pools assessments into a [`BandSummary`].
pub fn summarise(rows: &[&Assessment]) -> BandSummary {
    let mut widths: Vec<f64> = rows
        .iter()
        .flat_map(|a| a.finals.iter().map(|(_, b)| b.width()))
        .collect();
    let median_width = median(&mut widths);
    BandSummary {
        rows: rows.len(),
        final_mae: mean(
            &rows
                .iter()
                .map(|a| a.evaluation.mean(|m| m.final_err.abs()))
                .collect::<Vec<_>>(),
        ),
        tau: mean(&rows.iter().map(|a| tau(a)).collect::<Vec<_>>()),
        covered: rows
            .iter()
            .map(|a| a.finals.iter().filter(|(_, b)| b.covers()).count())
            .sum(),
        total: rows.iter().map(|a| a.finals.len()).sum(),
        median_width,
    }
}

/// Header of [`band_row`] tables.
pub const BAND_HEADER: &str = "| data | law | chosen | final-loss MAE | Kendall τ | in 90 % band | median width | fit time |\n|---|---|---|---|---|---|---|---|";

/// A markdown row of one assessment.
pub fn band_row(label: &str, a: &Assessment) -> String {
    let s = summarise(&[a]);
    let chosen = match &a.fitted.selection {
        Some(sel) => format!(
            "{} ({})",
            sel.chosen,
            sel.candidates
                .iter()
                .map(|c| format!("{} {:.4}", c.law, c.score))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => a.fitted.law.clone(),
    };
    let chosen = match &a.fitted.instability {
        Some(i) => format!(
            "{chosen}; loss rose {:.3} on {} (step {}, LR ≥ {:.0e})",
            i.rise, i.curve, i.step, i.lr
        ),
        None => chosen,
    };
    format!(
        "| {label} | {} | {chosen} | {:.4} | {:.2} | {}/{} | {:.4} | {:.1} s |",
        a.evaluation.law,
        s.final_mae,
        s.tau,
        s.covered,
        s.total,
        s.median_width,
        a.evaluation.fit_seconds
    )
}

/// Header of [`summary_line`] tables.
pub const SUMMARY_HEADER: &str = "| law | rows | final-loss MAE | Kendall τ | in 90 % band | median width | width / MAE |\n|---|---|---|---|---|---|---|";

/// A markdown row of a table's summary for one law.
pub fn summary_line(law: &str, s: &BandSummary) -> String {
    format!(
        "| {law} | {} | {:.4} | {:.2} | {}/{} ({:.0} %) | {:.4} | {:.1} |",
        s.rows,
        s.final_mae,
        s.tau,
        s.covered,
        s.total,
        100.0 * s.coverage(),
        s.median_width,
        s.median_width / s.final_mae
    )
}

/// A reference for the width target (docs/accuracy.md, "Against the targets").
#[derive(Debug, Clone, Copy)]
pub struct OneWidthReference {
    /// The narrowest band of **one** width for every held-out final that still covers the
    /// requested share of them, chosen knowing their errors (a hindsight bound on bands of
    /// constant width, not a band anyone could build), ÷ the table's final-loss MAE (a mean of
    /// per-row MAEs).
    pub width_per_mae: f64,
    /// Finals inside one width of 4 × that MAE.
    pub covered_at_4: usize,
    /// Held-out finals.
    pub total: usize,
    /// The mean absolute final-loss error pooled over every final (each final weighs the same,
    /// however many its row has).
    pub pooled_mae: f64,
    /// [`Self::width_per_mae`]'s width ÷ the pooled MAE.
    pub width_per_pooled_mae: f64,
    /// The assessed bands' median width ÷ the pooled MAE.
    pub band_width_per_pooled_mae: f64,
}

/// The [`OneWidthReference`] of some assessments at coverage `level`, given their
/// [`summarise`]d `summary`; `None` without finals.
pub fn one_width_reference(
    rows: &[&Assessment],
    summary: &BandSummary,
    level: f64,
) -> Option<OneWidthReference> {
    let mut errors: Vec<f64> = rows
        .iter()
        .flat_map(|a| {
            a.finals
                .iter()
                .map(|(_, b)| (b.predicted - b.observed).abs())
        })
        .collect();
    errors.sort_by(f64::total_cmp);
    let n = errors.len();
    let needed = ((level * n as f64).ceil() as usize).clamp(1, n.max(1));
    let mae = summary.final_mae;
    let width = 2.0 * *errors.get(needed - 1)?;
    let pooled_mae = mean(&errors);
    Some(OneWidthReference {
        width_per_mae: width / mae,
        covered_at_4: errors.iter().filter(|&&e| 2.0 * e <= 4.0 * mae).count(),
        total: n,
        pooled_mae,
        width_per_pooled_mae: width / pooled_mae,
        band_width_per_pooled_mae: summary.median_width / pooled_mae,
    })
}

/// One fork of the continued-training table: the constant run up to the fork (the only fit
/// curve) and the cooldown branches started from it (points after the fork, LR grids from
/// step 1).
pub struct ForkSet {
    /// Parent run and fork step.
    pub label: String,
    /// Peak LR of the parent run.
    pub peak: f64,
    /// The constant run up to the fork.
    pub prefix: lrsde::data::TrainingCurve,
    /// The branches after the fork.
    pub branches: Vec<lrsde::data::TrainingCurve>,
}

/// Every fork of the 124M grid's cooldown branches whose parent run is in the data
/// ([`cooldown_branches`]), one set per (parent run, fork step).
pub fn fork_sets(root: &Path) -> Vec<ForkSet> {
    use lrsde::data::{ReadOptions, TrainingCurve, read_curve};
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(std::path::PathBuf, u64), Vec<std::path::PathBuf>> = BTreeMap::new();
    for b in cooldown_branches(root) {
        groups.entry((b.parent, b.fork)).or_default().push(b.path);
    }
    let opts = ReadOptions::default();
    groups
        .into_iter()
        .map(|((parent, fork), paths)| {
            let stable = read_curve(&parent, &opts).unwrap();
            let keep = stable.steps.iter().take_while(|&&s| s <= fork).count();
            let prefix = TrainingCurve {
                name: "constant".into(),
                lrs: stable.lrs.prefix(fork as usize),
                steps: stable.steps[..keep].to_vec(),
                losses: stable.losses[..keep].to_vec(),
                batch: None,
            };
            let branches = paths
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let c = read_curve(p, &opts).unwrap();
                    let after: Vec<usize> =
                        (0..c.steps.len()).filter(|&j| c.steps[j] > fork).collect();
                    TrainingCurve {
                        name: format!("branch-{k}"),
                        lrs: c.lrs.clone(),
                        steps: after.iter().map(|&j| c.steps[j]).collect(),
                        losses: after.iter().map(|&j| c.losses[j]).collect(),
                        batch: None,
                    }
                })
                .collect();
            let lr = stable.lrs.iter().copied().fold(0.0, f64::max);
            ForkSet {
                label: format!("lr {lr} fork {fork}"),
                peak: lr,
                prefix,
                branches,
            }
        })
        .collect()
}

/// Fits `choice` on a fork's constant prefix (every law start, as `lrsde fit` does for a
/// single schedule shape; `prior` on the law's parameters, if any) and scores the branches.
pub fn fork_assess(
    set: &ForkSet,
    choice: &LawChoice,
    prior: Option<lrsde::fit::ParamPrior>,
) -> Assessment {
    let opts = lrsde::fit::FitOptions {
        max_law_starts: 16,
        prior,
        ..fit_options()
    };
    assess(
        choice,
        std::slice::from_ref(&set.prefix),
        &set.branches,
        &opts,
        &calibration(),
        300,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", set.label))
}

/// Per held-out curve of one assessment: error and band half-width at the final step (printed
/// with `LRSDE_ACC_VERBOSE=1`, to see which predictions the band misses).
pub fn band_details(a: &Assessment) -> String {
    let model = a.fitted.predictive.as_ref().map_or(String::new(), |p| {
        let errors = p
            .segment_errors
            .iter()
            .map(|e| format!("{} {}/{} {:+.4}", e.curve, e.step, e.seen, e.error))
            .collect::<Vec<_>>()
            .join("; ");
        format!(
            "    sd: shared {:.4}, own {:.4}, noise {:.4}; errors (step/seen): {errors}\n",
            p.shared_sd, p.own_sd, p.noise_sd
        )
    });
    model
        + &a.finals
            .iter()
            .map(|(name, b)| {
                format!(
                    "    {name}: error {:+.4}, half-width {:.4}, |error|/half-width {:.2}{}",
                    b.predicted - b.observed,
                    0.5 * b.width(),
                    (b.predicted - b.observed).abs() / (0.5 * b.width()),
                    if b.covers() { "" } else { " MISSED" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
}

/// `chosen`'s bands widened by the disagreement of `other` (the same rows, fitted on the same
/// curves): the variance `(k·(other − chosen))²` added at each held-out final point, i.e. the
/// half-width `√(hw² + (z·k·Δ)²)` (the band is `± z·sd`, `z` of the stored level). Errors and
/// MAE are `chosen`'s; only coverage and width change. Used to measure the idea before it
/// reaches the library (docs/accuracy.md, "Disagreement between the laws").
pub fn with_disagreement(chosen: &[&Assessment], other: &[&Assessment], k: f64) -> BandSummary {
    let mut s = summarise(chosen);
    let (mut covered, mut total, mut widths) = (0, 0, Vec::new());
    for (a, b) in chosen.iter().zip(other) {
        let z = a.fitted.predictive.as_ref().map_or(1.645, |p| p.z());
        for (name, band) in &a.finals {
            let other_pred = b
                .finals
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, o)| o.predicted)
                .unwrap_or_else(|| panic!("{name} missing in the other law's rows"));
            let d = k * (other_pred - band.predicted);
            let hw = (0.25 * band.width().powi(2) + (z * d).powi(2)).sqrt();
            total += 1;
            covered += usize::from((band.predicted - band.observed).abs() <= hw);
            widths.push(2.0 * hw);
        }
    }
    s.median_width = median(&mut widths);
    s.covered = covered;
    s.total = total;
    s
}

/// The disagreement coefficient `k²` learned from the fit curves' leave-last-segment-out
/// refits, never from held-out data: both laws were refitted on the same shortened curves, so
/// each refit prediction has a disagreement `Δ = e_other − e_chosen`; with `u = e² − noise²`
/// of the chosen law at distance `h`, either (`joint = false`) the horizon discrepancy stays
/// as calibrated, `d²`, and `k² = Σ (u − d²h²)·Δ² / Σ Δ⁴` (clamped at 0) takes what it leaves,
/// or (`joint = true`) `u/h² = d² + k²·Δ²/h²` is fitted by least squares with both ≥ 0.
/// Returns `(d², k²)`; `None` without paired refit errors.
pub fn learned_k2(chosen: &Assessment, other: &Assessment, joint: bool) -> Option<(f64, f64)> {
    let (p, q) = (
        chosen.fitted.predictive.as_ref()?,
        other.fitted.predictive.as_ref()?,
    );
    let d2 = p.shared_sd.powi(2) + p.own_sd.powi(2);
    if !joint {
        // What `auto` does: the library's own regression.
        let (k2, _) =
            lrsde::assess::disagreement_k2(&p.segment_errors, &q.segment_errors, p.noise_sd, d2)?;
        return Some((d2, k2));
    }
    let n2 = p.noise_sd.powi(2);
    // (u / h², Δ² / h²) per paired refit prediction.
    let rows: Vec<(f64, f64)> = p
        .segment_errors
        .iter()
        .filter_map(|e| {
            let o = q
                .segment_errors
                .iter()
                .find(|o| o.curve == e.curve && o.seen == e.seen && o.step == e.step)?;
            let h2 = e.step as f64 / e.seen as f64;
            let delta = o.error - e.error;
            (e.error.is_finite() && delta.is_finite())
                .then(|| ((e.error.powi(2) - n2) / h2, delta.powi(2) / h2))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    // Non-negative least squares in two unknowns: the unconstrained solution, else the better
    // of the two one-coefficient fits.
    let n = rows.len() as f64;
    let (sx, sy) = (
        rows.iter().map(|r| r.1).sum::<f64>(),
        rows.iter().map(|r| r.0).sum::<f64>(),
    );
    let (sxx, sxy) = (
        rows.iter().map(|r| r.1 * r.1).sum::<f64>(),
        rows.iter().map(|r| r.1 * r.0).sum::<f64>(),
    );
    let det = n * sxx - sx * sx;
    if det > 0.0 {
        let (a, b) = ((sxx * sy - sx * sxy) / det, (n * sxy - sx * sy) / det);
        if a >= 0.0 && b >= 0.0 {
            return Some((a, b));
        }
    }
    let sse = |a: f64, b: f64| {
        rows.iter()
            .map(|r| (r.0 - a - b * r.1).powi(2))
            .sum::<f64>()
    };
    let only_d = ((sy / n).max(0.0), 0.0);
    let only_k = (0.0, if sxx > 0.0 { (sxy / sxx).max(0.0) } else { 0.0 });
    Some(if sse(only_d.0, only_d.1) <= sse(only_k.0, only_k.1) {
        only_d
    } else {
        only_k
    })
}

/// [`with_disagreement`] with `k²` (and, for `joint`, the horizon discrepancy `d²`) learned
/// per row by [`learned_k2`]. A row without paired refit errors keeps its band. The held-out
/// schedules of the public tables share the fit's peak LR, so a final point's distance is
/// `h = √(step / horizon)`. Also returns every row's `(d, k)`.
pub fn with_learned_disagreement(
    chosen: &[&Assessment],
    other: &[&Assessment],
    joint: bool,
) -> (BandSummary, Vec<(f64, f64)>) {
    let mut s = summarise(chosen);
    let (mut covered, mut total, mut widths, mut coefs) = (0, 0, Vec::new(), Vec::new());
    for (a, b) in chosen.iter().zip(other) {
        let p = a.fitted.predictive.as_ref().expect("calibrated");
        let z = p.z();
        let old_d2 = p.shared_sd.powi(2) + p.own_sd.powi(2);
        let (d2, k2) = learned_k2(a, b, joint).unwrap_or((old_d2, 0.0));
        coefs.push((d2.sqrt(), k2.sqrt()));
        for (name, band) in &a.finals {
            let other_pred = b
                .finals
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, o)| o.predicted)
                .expect("same held-out curves");
            let step = a
                .evaluation
                .finals
                .iter()
                .find(|f| &f.0 == name)
                .map(|f| f.1)
                .expect("final step");
            let h2 = step as f64 / p.horizon.max(1) as f64;
            let var = (0.5 * band.width() / z).powi(2)
                + (d2 - old_d2) * h2
                + k2 * (other_pred - band.predicted).powi(2);
            let hw = z * var.max(0.0).sqrt();
            total += 1;
            covered += usize::from((band.predicted - band.observed).abs() <= hw);
            widths.push(2.0 * hw);
        }
    }
    s.median_width = median(&mut widths);
    s.covered = covered;
    s.total = total;
    (s, coefs)
}

/// One gap of a ranking of observed runs by a fit: a candidate against the predicted best.
pub struct RankedGap {
    /// The candidate (a curve's name).
    pub label: String,
    /// Predicted gap to the predicted best.
    pub gap: f64,
    /// Observed final-loss difference to the run predicted best.
    pub observed: f64,
    /// Whether `rank` calls the gap significant.
    pub significant: bool,
    /// The candidate's probability of being the best.
    pub p_best: f64,
}

/// Ranks `curves` (their schedules up to their last observed step) by the predictive model of
/// `fitted`, prints every gap to the predicted best beside the observed difference, and asserts
/// that `p_best` sums to 1 and that no gap whose observed difference is within the fit's noise
/// estimate is called significant. Returns (significant gaps, gaps observed within the noise,
/// significant gaps whose observed difference has the other sign).
pub fn check_ranking(
    label: &str,
    fitted: &lrsde::fit::FittedLaw,
    curves: &[lrsde::data::TrainingCurve],
) -> (usize, usize, usize) {
    let noise = fitted.predictive.as_ref().unwrap().noise_sd;
    let (_, gaps) = ranked_gaps(label, fitted, curves);
    let (mut significant, mut within_noise, mut wrong_sign) = (0, 0, 0);
    for e in &gaps {
        let diff = e.observed;
        println!(
            "{label} {:<20} gap {:+.4} observed {diff:+.4} noise {noise:.4} p_best {:.3} {}",
            e.label,
            e.gap,
            e.p_best,
            if e.significant { "significant" } else { "tie" }
        );
        significant += usize::from(e.significant);
        wrong_sign += usize::from(e.significant && diff <= 0.0);
        if diff.abs() < noise {
            within_noise += 1;
            assert!(
                !e.significant,
                "{label} {}: observed difference {diff:+.4} is within the noise {noise:.4} but \
                 called significant",
                e.label
            );
        }
    }
    (significant, within_noise, wrong_sign)
}

/// Ranks `curves` (each by its own per-update LRs up to its last observed step) with `fitted`,
/// as `lrsde rank` does; returns the predicted best's name and every other candidate's gap
/// beside the observed difference. Panics when `p_best` does not sum to 1.
pub fn ranked_gaps(
    label: &str,
    fitted: &lrsde::fit::FittedLaw,
    curves: &[lrsde::data::TrainingCurve],
) -> (String, Vec<RankedGap>) {
    use lrsde::rank::{Candidate, RankOptions, rank};
    use lrsde::schedule::Tabulated;
    let candidates: Vec<Candidate> = curves
        .iter()
        .map(|c| {
            let last = *c.steps.last().unwrap() as usize;
            Candidate::new(
                c.name.clone(),
                Tabulated::new(c.lrs[..last].to_vec()).unwrap(),
            )
        })
        .collect();
    let predictor = lrsde::fit::Predictor::from_fitted(fitted.clone()).unwrap();
    let r = rank(&predictor, &candidates, &RankOptions::default()).unwrap();
    let observed = |name: &str| {
        *curves
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .losses
            .last()
            .unwrap()
    };
    let best = observed(&r.entries[0].label);
    let p_sum: f64 = r.entries.iter().map(|e| e.p_best).sum();
    assert!(
        (p_sum - 1.0).abs() < 1e-9,
        "{label}: p_best sums to {p_sum}"
    );
    let gaps = r.entries[1..]
        .iter()
        .map(|e| RankedGap {
            label: e.label.clone(),
            gap: e.gap,
            observed: observed(&e.label) - best,
            significant: e.significant,
            p_best: e.p_best,
        })
        .collect();
    (r.entries[0].label.clone(), gaps)
}
