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

/// The prior for a fork of a run at peak LR `peak`, learned only from grid cells of *other*
/// peak LRs (so no run of the predicted family, not even its constant run's cosine partner,
/// informs it). The fitted `ln C` grows with the peak LR (about `0.25 · ln peak`, measured by
/// `accuracy -- prior`), so its mean is [`ParamPrior::by_peak`]'s line (per-peak means of
/// `ln C` on `ln peak`) evaluated at `peak`, and its spread that function's leave-one-peak-out
/// RMS error (the error of extrapolating the trend to a peak LR not fitted).
pub fn prior_for_peak(responses: &[(f64, u64, f64)], peak: f64) -> Option<ParamPrior> {
    let others: Vec<(f64, f64)> = responses
        .iter()
        .filter(|r| (r.0 / peak - 1.0).abs() > 1e-6)
        .map(|r| (r.0, r.2))
        .collect();
    let n_peaks = {
        let mut p: Vec<f64> = others.iter().map(|r| r.0).collect();
        p.sort_by(f64::total_cmp);
        p.dedup();
        p.len()
    };
    if n_peaks < 3 {
        return None;
    }
    let line = ParamPrior::by_peak("momentum", PRIOR_PARAM, &others).ok()?;
    let t = &line.terms[0];
    // Fixed at this fork's peak (no slope), so the prior does not depend on the fork curve's
    // own largest LR.
    Some(ParamPrior {
        law: "momentum".into(),
        terms: vec![PriorTerm {
            param: PRIOR_PARAM.into(),
            mean_ln: t.mean_ln_at(peak),
            sd_ln: t.sd_ln,
            slope_ln_peak: None,
            ln_peak_ref: None,
        }],
        source: format!(
            "momentum fits of the 124M grid (constant + cosine) at {n_peaks} other peak LRs, ln \
             C linear in ln peak"
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
    // The by-peak prior over every cell (examples/priors/momentum-C-124m-grid-by-peak.json).
    let samples: Vec<(f64, f64)> = responses.iter().map(|r| (r.0, r.2)).collect();
    if let Ok(mut line) = ParamPrior::by_peak("momentum", PRIOR_PARAM, &samples) {
        line.source = format!(
            "momentum fits (constant + cosine) of the {} cells of the lr-scheduling 124M grid \
             (peak LR 1e-4 to 2e-3, 15k to 50k steps; data MIT-licensed, see \
             examples/priors/README.md); ln C linear in ln peak LR",
            samples.len()
        );
        println!(
            "\n{}",
            serde_json::to_string_pretty(&line).expect("prior serialises")
        );
    }
}
