//! `lrsde predict`: the predicted loss curve of a schedule, with its uncertainty band.

use super::args::resolve_schedule;
use super::error::{CliError, CliResult};
use lrsde::fit::FittedLaw;
use std::path::PathBuf;

/// Arguments of `lrsde predict`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  lrsde predict --fit fit.json --schedule wsd:peak=3e-4,steps=24000,warmup=2160 -o pred.csv --plot pred.png"
)]
pub struct Args {
    /// Fit file written by `lrsde fit`.
    #[arg(long, value_name = "FILE")]
    fit: PathBuf,
    /// Schedule: a spec (family:key=value,…) or a curve file with an `lr` column.
    #[arg(long, value_name = "SPEC|FILE")]
    schedule: String,
    /// Number of steps to predict (default: the schedule's length).
    #[arg(long, value_name = "K")]
    steps: Option<u64>,
    /// Output CSV `step,lr,loss,loss_lo,loss_hi` (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also draw the predicted curve (PNG or SVG by extension).
    #[cfg(feature = "plot")]
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
}

/// Runs `lrsde predict`.
pub fn run(args: &Args) -> CliResult<()> {
    let fitted = FittedLaw::load(&args.fit)?;
    let law = fitted.law()?;
    let sched = resolve_schedule(&args.schedule, "--schedule")?;
    let len = sched.grid.len() as u64;
    let k = args.steps.unwrap_or(len);
    if k == 0 {
        return Err(CliError::user("--steps must be at least 1"));
    }
    if k > len {
        return Err(CliError::user(format!(
            "--steps {k} is longer than the schedule `{}` ({len} steps); give a longer schedule",
            sched.label
        )));
    }
    for w in super::warnings::extrapolation(&fitted, &sched.grid.as_slice()[..k as usize]) {
        eprintln!("warning: {w}");
    }
    let lrs = &sched.grid.as_slice()[..k as usize];
    let steps: Vec<u64> = (1..=k).collect();
    let pb = super::progress::spinner("predicting");
    let band = fitted.predict_band(&law, lrs, &steps)?;
    pb.finish_and_clear();
    super::output::emit(args.output.as_deref(), |w| {
        writeln!(w, "step,lr,loss,loss_lo,loss_hi")?;
        for (i, step) in band.steps.iter().enumerate() {
            writeln!(
                w,
                "{step},{:?},{:?},{:?},{:?}",
                lrs[i], band.loss[i], band.lo[i], band.hi[i]
            )?;
        }
        Ok(())
    })?;
    #[cfg(feature = "plot")]
    if let Some(plot) = &args.plot {
        let chart = lrsde::plot::CurveChart::new(format!("Predicted loss ({} law)", fitted.law))
            .with_curve(
                lrsde::plot::PredictedCurve::new(
                    sched.label.clone(),
                    band.steps.clone(),
                    band.loss.clone(),
                )
                .with_band(band.lo.clone(), band.hi.clone()),
            )
            .with_lr_trace(sched.label.clone(), lrs.to_vec())
            .from_step(k / 20);
        chart
            .render(plot)
            .map_err(|e| CliError::user(e.to_string()))?;
        eprintln!("wrote {}", plot.display());
    }
    Ok(())
}
