//! Charts the CLI draws for `rank`, `predict` and `demo`.

use super::error::{CliError, CliResult};
use lrsde::data::TrainingCurve;
use lrsde::fit::FittedLaw;
use lrsde::plot::{CurveChart, ObservedPoints, PredictedCurve, RankBar, RankChart, Rendered};
use lrsde::rank::{Candidate, Ranking};
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

/// A plot failure as a user error (the path is in the message).
pub fn plot_error(e: lrsde::plot::PlotError) -> CliError {
    CliError::user(e.to_string())
}

/// Writes charts rendered beforehand (see [`Rendered`]) and says so on one line.
pub fn write_all(rendered: &[Rendered]) -> CliResult<()> {
    for r in rendered {
        r.write().map_err(plot_error)?;
    }
    let names: Vec<String> = rendered
        .iter()
        .map(|r| r.path().display().to_string())
        .collect();
    if !names.is_empty() {
        eprintln!("wrote {}", names.join(" and "));
    }
    Ok(())
}

/// What the band of `fitted`'s predictions covers, e.g. `5–95 % band`: the fit file's band
/// quantiles, which `fit --level` sets.
pub fn band_label(fitted: &FittedLaw) -> String {
    let (lo, hi) = fitted.band_quantiles;
    format!("{}–{} % band", percent(lo), percent(hi))
}

/// `0.25` → `25`, `0.025` → `2.5`: no trailing zeros, and no float noise such as `2.5000000001`.
fn percent(q: f64) -> String {
    let s = format!("{:.4}", 100.0 * q);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The predicted curves of every ranked candidate over their LR schedules at `path`, the
/// ranking chart beside it, drawn but not yet written. Legends name each schedule by the keys
/// that differ; the keys all share go in the subtitle. The step axis starts at `from_step`
/// (default: after warmup).
pub fn ranking_plots(
    fitted: &FittedLaw,
    ranking: &Ranking,
    candidates: &[Candidate],
    from_step: Option<u64>,
    path: &Path,
) -> CliResult<Vec<Rendered>> {
    let (labels, common) = lrsde::plot::legend_labels(
        &ranking
            .entries
            .iter()
            .map(|e| e.label.as_str())
            .collect::<Vec<_>>(),
    );
    let mut chart = CurveChart::new(format!(
        "Predicted loss by schedule ({} law, {})",
        fitted.law,
        band_label(fitted)
    ));
    if let Some(common) = &common {
        chart = chart.with_subtitle(format!("schedule keys shared by all: {common}"));
    }
    if let Some(step) = from_step {
        chart = chart.from_step(step);
    }
    for (e, label) in ranking.entries.iter().zip(&labels) {
        let Some(curve) = &e.curve else { continue };
        if e.diverged.is_some() {
            continue;
        }
        chart = chart.with_curve(
            PredictedCurve::new(label.clone(), curve.steps.clone(), curve.loss.clone())
                .with_band(curve.lo.clone(), curve.hi.clone()),
        );
        if let Some(c) = candidates.iter().find(|c| c.label == e.label) {
            chart = chart.with_lr_trace(label.clone(), c.schedule.grid().into_vec());
        }
    }
    let curves = chart.rendered(path).map_err(plot_error)?;
    let bars = ranking
        .entries
        .iter()
        .zip(labels)
        .map(|(e, label)| RankBar {
            label,
            loss: e.final_loss,
            lo: e.loss_lo,
            hi: e.loss_hi,
            diverged: e.diverged.is_some(),
        })
        .collect();
    let rank_path = sibling(path, "-ranking");
    let title = match &common {
        Some(c) => format!("Predicted final loss (best at top; shared: {c})"),
        None => "Predicted final loss (best at top)".to_string(),
    };
    let ranks = RankChart::new(title, bars)
        .rendered(&rank_path)
        .map_err(plot_error)?;
    Ok(vec![curves, ranks])
}

/// The fitted law's curve (with its band) at every update of `curve`'s schedule up to its last
/// observed step.
pub fn band_over(
    predictor: &lrsde::fit::Predictor,
    curve: &TrainingCurve,
) -> CliResult<lrsde::fit::Band> {
    let last = curve
        .steps
        .last()
        .copied()
        .unwrap_or(0)
        .min(curve.lrs.len() as u64);
    let steps: Vec<u64> = (1..=last).collect();
    Ok(predictor.predict_band(&curve.lrs, &steps)?)
}

/// Each observed run over the prediction of its schedule (`bands[i]` predicts `observed[i]`),
/// with a residual panel and the runs' LR schedules, drawn but not yet written: `demo`'s
/// held-out check and `fit --plot`.
pub fn fitted_plot(
    title: &str,
    observed: &[TrainingCurve],
    bands: &[lrsde::fit::Band],
    path: &Path,
) -> CliResult<Rendered> {
    let mut chart = CurveChart::new(title);
    for (c, band) in observed.iter().zip(bands) {
        let label = lrsde::plot::shorten(&c.name);
        chart = chart
            .with_fitted(
                PredictedCurve::new(label.clone(), band.steps.clone(), band.loss.clone())
                    .with_band(band.lo.clone(), band.hi.clone()),
                ObservedPoints {
                    label: label.clone(),
                    steps: c.steps.clone(),
                    losses: c.losses.clone(),
                },
            )
            .with_lr_trace(label, c.lrs.to_vec());
    }
    chart.rendered(path).map_err(plot_error)
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentages_drop_trailing_zeros() {
        assert_eq!(super::percent(0.05), "5");
        assert_eq!(super::percent(0.25), "25");
        assert_eq!(super::percent(0.975), "97.5");
        assert_eq!(super::percent(0.0250000001), "2.5");
    }
}
