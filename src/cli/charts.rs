//! Charts the CLI draws for `rank`, `predict` and `demo`.

use super::error::{CliError, CliResult};
use lrsde::data::TrainingCurve;
use lrsde::fit::FittedLaw;
use lrsde::plot::{CurveChart, ObservedPoints, PredictedCurve, RankBar, RankChart};
use lrsde::rank::{Candidate, Ranking};
use lrsde::schedule::LrGrid;
use std::path::{Path, PathBuf};

/// `curves.png` → `curves-ranking.png`.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}{suffix}{ext}"))
}

/// The predicted curves of every ranked candidate over their LR schedules, plus observed
/// points when given, at `path`; the ranking chart beside it.
pub fn ranking_plots(
    fitted: &FittedLaw,
    ranking: &Ranking,
    candidates: &[Candidate],
    path: &Path,
) -> CliResult<()> {
    ranking_plots_with(fitted, ranking, candidates, &[], path)
}

/// [`ranking_plots`] with observed curves drawn as points.
pub fn ranking_plots_with(
    fitted: &FittedLaw,
    ranking: &Ranking,
    candidates: &[Candidate],
    observed: &[TrainingCurve],
    path: &Path,
) -> CliResult<()> {
    let longest = candidates
        .iter()
        .map(|c| LrGrid::from_schedule(&c.schedule).len())
        .max()
        .unwrap_or(1);
    let mut chart = CurveChart::new(format!("Predicted loss by schedule ({} law)", fitted.law))
        .from_step(longest as u64 / 10);
    for e in &ranking.entries {
        let Some(curve) = &e.curve else { continue };
        if e.diverged.is_some() {
            continue;
        }
        chart = chart.with_curve(
            PredictedCurve::new(short(&e.label), curve.steps.clone(), curve.loss.clone())
                .with_band(curve.lo.clone(), curve.hi.clone()),
        );
        if let Some(c) = candidates.iter().find(|c| c.label == e.label) {
            chart = chart.with_lr_trace(
                short(&e.label),
                LrGrid::from_schedule(&c.schedule).into_vec(),
            );
        }
    }
    for c in observed {
        chart = chart.with_observed(ObservedPoints {
            label: format!("observed {}", c.name),
            steps: c.steps.clone(),
            losses: c.losses.clone(),
        });
    }
    chart
        .render(path)
        .map_err(|e| CliError::user(e.to_string()))?;
    let bars = ranking
        .entries
        .iter()
        .map(|e| RankBar {
            label: short(&e.label),
            loss: e.final_loss,
            lo: e.loss_lo,
            hi: e.loss_hi,
            diverged: e.diverged.is_some(),
        })
        .collect();
    let rank_path = sibling(path, "-ranking");
    RankChart::new("Predicted final loss (best at top)", bars)
        .render(&rank_path)
        .map_err(|e| CliError::user(e.to_string()))?;
    eprintln!("wrote {} and {}", path.display(), rank_path.display());
    Ok(())
}

/// Legends get crowded with long specs: cut labels past 48 characters with an ellipsis.
fn short(label: &str) -> String {
    if label.len() <= 48 {
        return label.to_string();
    }
    format!(
        "{}…",
        &label[..label.char_indices().nth(47).map_or(label.len(), |(i, _)| i)]
    )
}
