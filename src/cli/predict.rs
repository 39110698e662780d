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
    #[arg(long, value_name = "K", conflicts_with = "resume")]
    steps: Option<u64>,
    /// Continued training: an observed run (CSV, JSONL or W&B JSON) whose LRs are used for
    /// updates 1..=K (`--at K`); `--schedule` then runs from update K+1.
    #[arg(long, value_name = "FILE", requires = "at")]
    resume: Option<PathBuf>,
    /// Fork step K of `--resume`.
    #[arg(long, value_name = "K", requires = "resume")]
    at: Option<u64>,
    /// With `--resume`: shift the continuation by the mean residual of the run's last N
    /// observed points before the fork (0: no shift). Helps when the fit came from other runs.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "resume")]
    level_points: usize,
    #[command(flatten)]
    read: super::args::CurveReadArgs,
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
    if let (Some(resume), Some(at)) = (&args.resume, args.at) {
        return continue_run(args, &fitted, &law, resume, at);
    }
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
    super::output::emit(args.output.as_deref(), |w| write_band(w, &band, lrs))?;
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

/// `predict --resume FILE --at K`: the observed run's LRs up to K, then `--schedule`.
fn continue_run(
    args: &Args,
    fitted: &FittedLaw,
    law: &lrsde::law::AnyLaw,
    resume: &std::path::Path,
    at: u64,
) -> CliResult<()> {
    use lrsde::rank::{ContinueOptions, LevelCorrection};
    let observed =
        super::args::read_curves(std::slice::from_ref(&resume.to_path_buf()), &args.read)?
            .pop()
            .ok_or_else(|| CliError::Internal("no curve read".into()))?;
    let schedule = super::args::candidate(&args.schedule, "--schedule")?.schedule;
    let total = at + lrsde::schedule::LrSchedule::steps(&schedule);
    let options = ContinueOptions {
        level_correction: if args.level_points == 0 {
            LevelCorrection::None
        } else {
            LevelCorrection::MeanResidual {
                points: args.level_points,
            }
        },
        steps: Some((1..=total).collect()),
        ..ContinueOptions::default()
    };
    let c = lrsde::rank::continue_from(fitted, law, &observed, at, &schedule, &options)
        .map_err(lrsde::Error::from)?;
    for w in &c.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(step) = c.diverged {
        eprintln!("warning: the prediction diverges at step {step}");
    }
    super::output::emit(args.output.as_deref(), |w| {
        write_band(w, &c.band, c.grid.as_slice())
    })
}

/// Writes the `predict` contract `step,lr,loss,loss_lo,loss_hi`; `lrs[t]` is the LR of update
/// `t + 1`, floats in shortest round-trip form.
fn write_band(
    w: &mut dyn std::io::Write,
    band: &lrsde::fit::Band,
    lrs: &[f64],
) -> std::io::Result<()> {
    writeln!(w, "step,lr,loss,loss_lo,loss_hi")?;
    for (i, step) in band.steps.iter().enumerate() {
        let lr = lrs[*step as usize - 1];
        writeln!(
            w,
            "{step},{lr:?},{:?},{:?},{:?}",
            band.loss[i], band.lo[i], band.hi[i]
        )?;
    }
    Ok(())
}
