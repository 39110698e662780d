//! `lrsde plot`: draw prediction CSVs (from `predict`, or `simulate` summaries) with their bands, observed curves as
//! points, and the LR panel.

use super::args::{CurveReadArgs, read_curves};
use super::error::{CliError, CliResult};
use lrsde::plot::{CurveChart, ObservedPoints, PredictedCurve};
use std::path::{Path, PathBuf};

/// Arguments of `lrsde plot`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  lrsde plot --pred wsd.csv --pred cosine.csv --curve observed.csv \\\n    -o curves.png\n  lrsde plot --pred sim.csv --title \"Simulated loss\" -o sim.png"
)]
pub struct Args {
    /// A prediction CSV written by `lrsde predict` (`step,lr,loss,loss_lo,loss_hi`) or a
    /// summary written by `lrsde simulate` (its mean and 5–95 % band); repeat.
    #[arg(long = "pred", value_name = "FILE", required = true)]
    preds: Vec<PathBuf>,
    /// An observed curve to draw as points; repeat. Given as many times as --pred, the runs
    /// pair with the predictions in order (the first --curve is what the first --pred
    /// predicts): each pair shares one colour, and a residual panel (observed − predicted)
    /// appears; otherwise every file gets its own colour.
    #[arg(long = "curve", value_name = "FILE")]
    curves: Vec<PathBuf>,
    #[command(flatten)]
    read: CurveReadArgs,
    /// Chart title.
    #[arg(long, default_value = "Predicted loss")]
    title: String,
    /// First step shown (default: where the schedules' warmup ends, else 5 % of the longest).
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
    lrsde::plot::check_format(&args.output).map_err(|e| CliError::user(format!("-o {e}")))?;
    let mut chart = CurveChart::new(args.title.clone());
    let mut last = 0;
    let mut preds = Vec::with_capacity(args.preds.len());
    for path in &args.preds {
        let (mut curve, lrs) = read_prediction(path)?;
        last = last.max(curve.steps.last().copied().unwrap_or(0));
        curve.label = lrsde::plot::shorten(&curve.label);
        preds.push((curve, lrs));
    }
    let observed = read_curves(&args.curves, &args.read)?;
    for c in &observed {
        last = last.max(c.steps.last().copied().unwrap_or(0));
    }
    super::args::check_from_step(args.from_step, last)?;
    // As many runs as predictions: the i-th run is what the i-th prediction predicts, so each
    // pair shares a colour (and gets residuals); otherwise nothing says which goes with which.
    let paired = !observed.is_empty() && observed.len() == preds.len();
    let mut observed = observed.into_iter().map(|c| ObservedPoints {
        label: lrsde::plot::shorten(&c.name),
        steps: c.steps,
        losses: c.losses,
    });
    for (mut curve, lrs) in preds {
        chart = chart.with_lr_trace(curve.label.clone(), lrs);
        chart = match paired.then(|| observed.next()).flatten() {
            Some(obs) => {
                if obs.label != curve.label {
                    curve.label = format!("{} vs {}", curve.label, obs.label);
                }
                chart.with_fitted(curve, obs)
            }
            None => chart.with_curve(curve),
        };
    }
    for obs in observed {
        chart = chart.with_observed(obs);
    }
    if let Some(step) = args.from_step {
        chart = chart.from_step(step);
    }
    if args.scale != "auto" {
        chart = chart.with_log_loss(args.scale == "log");
    }
    chart
        .render(&args.output)
        .map_err(|e| CliError::user(e.to_string()))?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

/// The columns of a curve file `plot` draws: `predict`'s, or `simulate`'s summary (its mean,
/// with the 5–95 % quantiles of the paths as the band).
struct Layout {
    /// Index of the line, the band's lower and upper edge.
    loss: usize,
    lo: usize,
    hi: usize,
    columns: usize,
    /// Whether statistics may be NaN (a `simulate` row whose paths all diverged).
    nan_allowed: bool,
}

const PREDICT_HEADER: &str = "step,lr,loss,loss_lo,loss_hi";

/// Reads a `predict` or `simulate` CSV; errors name the file, line and column.
fn read_prediction(path: &Path) -> CliResult<(PredictedCurve, Vec<f64>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::user(format!("{}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches('\u{feff}')
        .trim();
    let layout = if header == PREDICT_HEADER {
        Layout {
            loss: 2,
            lo: 3,
            hi: 4,
            columns: 5,
            nan_allowed: false,
        }
    } else if header == lrsde::ensemble::Summary::CSV_HEADER {
        Layout {
            loss: 2,
            lo: 5,
            hi: 7,
            columns: 9,
            nan_allowed: true,
        }
    } else {
        return Err(CliError::user(format!(
            "{}:1: expected the header `{PREDICT_HEADER}` written by `lrsde predict` or `{}` \
             written by `lrsde simulate`, found `{header}`",
            path.display(),
            lrsde::ensemble::Summary::CSV_HEADER
        )));
    };
    let (mut steps, mut lrs, mut loss, mut lo, mut hi) = (vec![], vec![], vec![], vec![], vec![]);
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.trim().split(',').collect();
        if cells.len() != layout.columns {
            return Err(CliError::user(format!(
                "{}:{}: expected {} columns, found {}",
                path.display(),
                i + 2,
                layout.columns,
                cells.len()
            )));
        }
        let num = |col: usize, nan_allowed: bool| -> CliResult<f64> {
            cells[col]
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() || (nan_allowed && v.is_nan()))
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
        let step = num(0, false)?;
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
        lrs.push(num(1, false)?);
        loss.push(num(layout.loss, layout.nan_allowed)?);
        lo.push(num(layout.lo, layout.nan_allowed)?);
        hi.push(num(layout.hi, layout.nan_allowed)?);
    }
    if steps.is_empty() {
        return Err(CliError::user(format!("{}: no data rows", path.display())));
    }
    let label = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label = if layout.nan_allowed {
        format!("{label} (mean, 5–95 % of paths)")
    } else {
        label
    };
    let per_update = per_update_lrs(&steps, &lrs);
    Ok((
        PredictedCurve::new(label, steps, loss).with_band(lo, hi),
        per_update,
    ))
}

/// One LR per update from rows that may be thinned (`predict --every`, `simulate
/// --save-every`): linear between the written rows, so a thinned linear or cosine decay is
/// drawn as the line it is, not as a staircase that reads like a step schedule. Updates before
/// the first row take its LR.
fn per_update_lrs(steps: &[u64], lrs: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(steps.last().copied().unwrap_or(0) as usize);
    let (mut prev_step, mut prev_lr) = (0, lrs.first().copied().unwrap_or(0.0));
    for (&s, &lr) in steps.iter().zip(lrs) {
        let gap = s - prev_step;
        out.extend((1..=gap).map(|k| {
            if prev_step == 0 {
                lr
            } else {
                prev_lr + (lr - prev_lr) * k as f64 / gap as f64
            }
        }));
        (prev_step, prev_lr) = (s, lr);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thinned_lrs_are_joined_by_lines_not_steps() {
        let lrs = super::per_update_lrs(&[10, 20, 21], &[1.0, 0.5, 0.25]);
        assert_eq!(lrs.len(), 21);
        assert_eq!(&lrs[..10], &[1.0; 10]);
        assert_eq!(lrs[14], 0.75);
        assert_eq!(lrs[19], 0.5);
        assert_eq!(lrs[20], 0.25);
    }
}
