//! The momentum law's decay-response prior for continued training, learned from fits of the
//! 124M grid's constant + cosine runs (docs/accuracy.md, "Continued training").
#![allow(dead_code)]

use crate::suites::{GridSet, fit_options, grid_sets};
use lrsde::fit::{ParamPrior, PriorTerm, fit_law};
use std::path::Path;

/// The parameter the prior constrains: the momentum law's loss drop per unit of annealing
/// area, which a constant-LR run shows only through its warmup.
pub const PRIOR_PARAM: &str = "C";

/// `(peak LR, horizon, fitted C)` of the momentum law fitted on each grid cell's constant and
/// cosine runs (no uncertainty: only the optimum is used).
pub fn grid_decay_responses(sets: &[GridSet]) -> Vec<(f64, u64, f64)> {
    let opts = lrsde::fit::FitOptions {
        uncertainty: lrsde::fit::UncertaintyMethod::None,
        ..fit_options()
    };
    sets.iter()
        .filter_map(|s| {
            let fitted = fit_law("momentum".parse().ok()?, &s.fit, &opts).ok()?;
            let c = fitted.params.get(PRIOR_PARAM).copied()?;
            Some((s.peak, s.horizon, c))
        })
        .collect()
}

/// `(ln peak, mean ln C)` per peak LR of `responses`, skipping `exclude` (a peak LR).
fn peak_means(responses: &[(f64, u64, f64)], exclude: f64) -> Vec<(f64, f64)> {
    let mut peaks: Vec<f64> = responses.iter().map(|r| r.0).collect();
    peaks.sort_by(f64::total_cmp);
    peaks.dedup();
    peaks
        .into_iter()
        .filter(|p| (p / exclude - 1.0).abs() > 1e-6)
        .map(|p| {
            let ln: Vec<f64> = responses
                .iter()
                .filter(|r| r.0 == p)
                .map(|r| r.2.ln())
                .collect();
            (p.ln(), ln.iter().sum::<f64>() / ln.len() as f64)
        })
        .collect()
}

/// Least-squares line through `points`, evaluated at `x`.
fn line_at(points: &[(f64, f64)], x: f64) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.0 / n, b + p.1 / n));
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    my + slope * (x - mx)
}

/// The prior for a fork of a run at peak LR `peak`, learned only from grid cells of *other*
/// peak LRs (so no run of the predicted family, not even its constant run's cosine partner,
/// informs it). The fitted `ln C` grows with the peak LR (about `0.25 · ln peak`, measured by
/// `accuracy -- prior`), so its mean is the least-squares line of the per-peak means of
/// `ln C` on `ln peak`, evaluated at `peak`; its spread is the RMS error of the same
/// construction when each of those other peaks is left out in turn and predicted from the
/// rest (the error of extrapolating the trend to a peak LR not fitted).
pub fn prior_for_peak(responses: &[(f64, u64, f64)], peak: f64) -> Option<ParamPrior> {
    let points = peak_means(responses, peak);
    if points.len() < 3 {
        return None;
    }
    let mean = line_at(&points, peak.ln());
    let cv: Vec<f64> = (0..points.len())
        .map(|q| {
            let rest: Vec<(f64, f64)> = points
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != q)
                .map(|(_, p)| *p)
                .collect();
            line_at(&rest, points[q].0) - points[q].1
        })
        .collect();
    let sd = (cv.iter().map(|e| e * e).sum::<f64>() / cv.len() as f64).sqrt();
    Some(ParamPrior {
        law: "momentum".into(),
        terms: vec![PriorTerm {
            param: PRIOR_PARAM.into(),
            mean_ln: mean,
            sd_ln: sd,
        }],
        source: format!(
            "momentum fits of the 124M grid (constant + cosine) at {} other peak LRs, ln C \
             linear in ln peak",
            points.len()
        ),
    })
}

/// Every grid cell's decay response (all horizons), printed by `accuracy -- prior`.
pub fn print_responses(root: &Path) {
    let sets = grid_sets(root, u64::MAX);
    println!("| peak LR | horizon | momentum C | ln C |\n|---|---|---|---|");
    let responses = grid_decay_responses(&sets);
    for (p, t, c) in &responses {
        println!("| {p} | {t} | {c:.4e} | {:.3} |", c.ln());
    }
    // The prior over every cell (examples/priors/momentum-C-124m-grid.json): its spread holds
    // the peak-LR trend as well as the spread across horizons.
    let c: Vec<f64> = responses.iter().map(|r| r.2).collect();
    if let Some(mut all) = ParamPrior::from_samples("momentum", PRIOR_PARAM, &c) {
        all.source = format!(
            "momentum fits (constant + cosine) of the {} cells of the lr-scheduling 124M grid \
             (peak LR 1e-4 to 2e-3, 15k to 50k steps; data MIT-licensed, see \
             examples/priors/README.md)",
            c.len()
        );
        println!(
            "\n{}",
            serde_json::to_string_pretty(&all).expect("prior serialises")
        );
    }
}
