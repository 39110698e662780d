//! `lrsde plot`: draw prediction CSVs (from `predict`) with their bands, observed curves as
//! points, and the LR panel.

use super::args::{CurveReadArgs, read_curves};
use super::error::{CliError, CliResult};
use lrsde::plot::{CurveChart, ObservedPoints, PredictedCurve};
use std::path::{Path, PathBuf};

/// Arguments of `lrsde plot`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  lrsde plot --pred wsd.csv --pred cosine.csv --curve observed.csv -o curves.png"
)]
pub struct Args {
    /// A prediction CSV written by `lrsde predict` (`step,lr,loss,loss_lo,loss_hi`); repeat.
    #[arg(long = "pred", value_name = "FILE", required = true)]
    preds: Vec<PathBuf>,
    /// An observed curve to draw as points; repeat.
    #[arg(long = "curve", value_name = "FILE")]
    curves: Vec<PathBuf>,
    #[command(flatten)]
    read: CurveReadArgs,
    /// Chart title.
    #[arg(long, default_value = "Predicted loss")]
    title: String,
    /// First step shown (hides the early transient; default: 5 % of the longest prediction).
    #[arg(long, value_name = "STEP")]
    from_step: Option<u64>,
    /// Loss axis: auto (log when the losses span more than 3×), log or linear.
    #[arg(long, value_name = "SCALE", default_value = "auto", value_parser = ["auto", "log", "linear"])]
    scale: String,
    /// Output picture (PNG or SVG by extension).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

/// Runs `lrsde plot`.
pub fn run(args: &Args) -> CliResult<()> {
    super::args::check_output(Some(&args.output))?;
    let mut chart = CurveChart::new(args.title.clone());
    let mut longest = 0;
    for path in &args.preds {
        let (curve, lrs) = read_prediction(path)?;
        longest = longest.max(curve.steps.last().copied().unwrap_or(0));
        let label = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        chart = chart.with_curve(curve).with_lr_trace(label, lrs);
    }
    for c in read_curves(&args.curves, &args.read)? {
        chart = chart.with_observed(ObservedPoints {
            label: c.name.clone(),
            steps: c.steps,
            losses: c.losses,
        });
    }
    chart = chart.from_step(args.from_step.unwrap_or(longest / 20));
    if args.scale != "auto" {
        chart = chart.with_log_loss(args.scale == "log");
    }
    chart
        .render(&args.output)
        .map_err(|e| CliError::user(e.to_string()))?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

/// Reads a `predict` CSV; errors name the file, line and column.
fn read_prediction(path: &Path) -> CliResult<(PredictedCurve, Vec<f64>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::user(format!("{}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches('\u{feff}')
        .trim();
    if header != "step,lr,loss,loss_lo,loss_hi" {
        return Err(CliError::user(format!(
            "{}:1: expected the header `step,lr,loss,loss_lo,loss_hi` written by `lrsde predict`, found `{header}`",
            path.display()
        )));
    }
    let (mut steps, mut lrs, mut loss, mut lo, mut hi) = (vec![], vec![], vec![], vec![], vec![]);
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.trim().split(',').collect();
        if cells.len() != 5 {
            return Err(CliError::user(format!(
                "{}:{}: expected 5 columns, found {}",
                path.display(),
                i + 2,
                cells.len()
            )));
        }
        let num = |col: usize| -> CliResult<f64> {
            cells[col]
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    CliError::user(format!(
                        "{}:{}: column {} is not a finite number: `{}`",
                        path.display(),
                        i + 2,
                        col + 1,
                        cells[col]
                    ))
                })
        };
        let step = num(0)?;
        // 2^53: beyond it whole numbers are not exact in f64.
        if !(step >= 1.0 && step.fract() == 0.0 && step <= 9_007_199_254_740_992.0)
            || steps.last().is_some_and(|&s| s >= step as u64)
        {
            return Err(CliError::user(format!(
                "{}:{}: step `{}` must be a whole number above the previous step",
                path.display(),
                i + 2,
                cells[0]
            )));
        }
        steps.push(step as u64);
        lrs.push(num(1)?);
        loss.push(num(2)?);
        lo.push(num(3)?);
        hi.push(num(4)?);
    }
    if steps.is_empty() {
        return Err(CliError::user(format!("{}: no data rows", path.display())));
    }
    let label = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((
        PredictedCurve::new(label, steps, loss).with_band(lo, hi),
        lrs,
    ))
}
