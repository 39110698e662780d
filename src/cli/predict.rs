//! `lrsde predict`: the predicted loss curve of a schedule, with its uncertainty band.

use super::args::{MemoryArgs, ScheduleArg, candidate_with, check_output, check_predict_len};
use super::error::{CliError, CliResult};
use lrsde::ensemble::budget::Bytes;
use lrsde::fit::{FittedLaw, Predictor};
use lrsde::schedule::LrSchedule;
use std::path::{Path, PathBuf};

/// Arguments of `lrsde predict`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  lrsde predict --fit fit.json -o pred.csv --every 100 --plot pred.png \\\n    --schedule wsd:peak=3e-4,steps=24000,warmup=2160"
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
    batch: super::args::BatchScheduleArgs,
    #[command(flatten)]
    read: super::args::CurveReadArgs,
    #[command(flatten)]
    memory: MemoryArgs,
    /// Output CSV `step,lr,loss,loss_lo,loss_hi` (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write every K-th step only (the last step is always written), for smaller files.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = parse_every)]
    every: u64,
    /// Also draw the predicted curve (PNG or SVG by extension).
    #[cfg(feature = "plot")]
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// First step the --plot shows (default: where the schedule's warmup ends).
    #[cfg(feature = "plot")]
    #[arg(long, value_name = "STEP", requires = "plot")]
    from_step: Option<u64>,
}

/// Runs `lrsde predict`.
pub fn run(args: &Args) -> CliResult<()> {
    check_output(args.output.as_deref())?;
    #[cfg(feature = "plot")]
    super::args::check_plot(args.plot.as_deref())?;
    let predictor = load_fit(&args.fit)?;
    if let (Some(resume), Some(at)) = (&args.resume, args.at) {
        return continue_run(args, predictor, resume, at);
    }
    let predictor = args.batch.apply(predictor, None)?;
    let fitted = predictor.fitted();
    let candidate = candidate_with(&args.schedule, "--schedule", &args.read)?;
    let len = candidate.schedule.steps();
    let k = args.steps.unwrap_or(len);
    if k == 0 {
        return Err(CliError::user("--steps must be at least 1"));
    }
    if k > len {
        return Err(CliError::user(format!(
            "--steps {k} is longer than the schedule `{}` ({len} steps); give a longer schedule",
            candidate.label
        )));
    }
    check_predict_len(len, "--schedule", &args.schedule)?;
    #[cfg(feature = "plot")]
    super::args::check_from_step(args.from_step, k)?;
    check_band_memory(fitted, len, k, args.memory.max_memory)?;
    let sched = ScheduleArg::from_candidate(&candidate);
    let grid = sched.grid.prefix(k as usize);
    let lrs = grid.as_slice();
    // The schedule's peak, not the predicted prefix's: `--steps` inside a warmup is still a
    // prediction of that schedule.
    let peak = sched.grid.as_slice().iter().copied().fold(0.0, f64::max);
    for w in lrsde::rank::extrapolation_warnings(fitted, peak, lrs.len() as u64) {
        eprintln!("warning: {w}");
    }
    let steps: Vec<u64> = (1..=k).collect();
    let pb = super::progress::spinner("predicting");
    let band = predictor.predict_band(&grid, &steps)?;
    pb.finish_and_clear();
    if let Some(why) = divergence(&band.loss, &band.steps) {
        return Err(CliError::user(format!(
            "--schedule {}: {why}; nothing written (`lrsde rank` shows diverging schedules \
             among others)",
            sched.label
        )));
    }
    // The picture is drawn before the CSV is written, so a plot that fails leaves nothing.
    #[cfg(feature = "plot")]
    let rendered = match &args.plot {
        Some(plot) => {
            let (labels, common) = lrsde::plot::legend_labels(&[sched.label.as_str()]);
            let mut chart = lrsde::plot::CurveChart::new(format!(
                "Predicted loss ({} law, {})",
                fitted.law,
                super::charts::band_label(fitted)
            ))
            .with_curve(
                lrsde::plot::PredictedCurve::new(
                    labels[0].clone(),
                    band.steps.clone(),
                    band.loss.clone(),
                )
                .with_band(band.lo.clone(), band.hi.clone()),
            )
            .with_lr_trace(labels[0].clone(), lrs.to_vec());
            if let Some(common) = common {
                chart = chart.with_subtitle(common);
            }
            if let Some(step) = args.from_step {
                chart = chart.from_step(step);
            }
            vec![chart.rendered(plot).map_err(super::charts::plot_error)?]
        }
        None => Vec::new(),
    };
    super::output::emit(args.output.as_deref(), |w| {
        write_band(w, &band, lrs, args.every)
    })?;
    summary(args.output.as_deref(), &band);
    #[cfg(feature = "plot")]
    super::charts::write_all(&rendered)?;
    Ok(())
}

/// `predict --resume FILE --at K`: the observed run's LRs up to K, then `--schedule`.
fn continue_run(
    args: &Args,
    predictor: Predictor,
    resume: &std::path::Path,
    at: u64,
) -> CliResult<()> {
    use lrsde::rank::{ContinueOptions, LevelCorrection};
    let (observed, at) = super::args::read_resume(resume, at, &args.read)?;
    let predictor = &args.batch.apply(predictor, Some((&observed, at)))?;
    let schedule = candidate_with(&args.schedule, "--schedule", &args.read)?.schedule;
    let total = at.saturating_add(schedule.steps());
    check_predict_len(
        total,
        "--at + --schedule",
        &format!("{at} + {}", schedule.steps()),
    )?;
    #[cfg(feature = "plot")]
    super::args::check_from_step(args.from_step, total)?;
    check_band_memory(predictor.fitted(), total, total, args.memory.max_memory)?;
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
    let c = lrsde::rank::continue_from(predictor, &observed, at, &schedule, &options)
        .map_err(lrsde::Error::from)?;
    for w in &c.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(step) = c.diverged {
        return Err(CliError::user(format!(
            "--schedule {} after --at {at}: the predicted loss diverges at step {step} (it \
             exceeds twice its lowest earlier value or is not finite); nothing written",
            args.schedule
        )));
    }
    #[cfg(feature = "plot")]
    let rendered = match &args.plot {
        Some(plot) => vec![continued_plot(
            args,
            predictor.fitted(),
            &observed,
            at,
            &c,
            plot,
        )?],
        None => Vec::new(),
    };
    super::output::emit(args.output.as_deref(), |w| {
        write_band(w, &c.band, c.grid.as_slice(), args.every)
    })?;
    summary(args.output.as_deref(), &c.band);
    #[cfg(feature = "plot")]
    super::charts::write_all(&rendered)?;
    Ok(())
}

/// The picture of a continued run: the observed losses up to the fork as points, the
/// prediction of the whole continued run with its band, and its LRs (the run's, then
/// `--schedule`'s), so the fork and what follows it can be judged against the run's history.
#[cfg(feature = "plot")]
fn continued_plot(
    args: &Args,
    fitted: &FittedLaw,
    observed: &lrsde::data::TrainingCurve,
    at: u64,
    c: &lrsde::rank::Continuation,
    plot: &Path,
) -> CliResult<lrsde::plot::Rendered> {
    use lrsde::plot::{CurveChart, ObservedPoints, PredictedCurve, shorten};
    let label = format!("continued: {}", shorten(&args.schedule));
    let prefix = observed.steps.partition_point(|&s| s <= at);
    let mut chart = CurveChart::new(format!(
        "Continued training predicted ({} law, {})",
        fitted.law,
        super::charts::band_label(fitted)
    ))
    .with_subtitle(format!(
        "{} observed up to update {at}, then --schedule {}",
        shorten(&observed.name),
        args.schedule
    ))
    .with_curve(
        PredictedCurve::new(label.clone(), c.band.steps.clone(), c.band.loss.clone())
            .with_band(c.band.lo.clone(), c.band.hi.clone()),
    )
    .with_observed(ObservedPoints {
        label: format!("{} (observed to {at})", shorten(&observed.name)),
        steps: observed.steps[..prefix].to_vec(),
        losses: observed.losses[..prefix].to_vec(),
    })
    .with_lr_trace(label, c.grid.as_slice().to_vec());
    if let Some(step) = args.from_step {
        chart = chart.from_step(step);
    }
    chart.rendered(plot).map_err(super::charts::plot_error)
}

/// Parses `--every K`: a whole number of steps, at least 1.
fn parse_every(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(k) if k >= 1 => Ok(k),
        _ => Err(format!("`{text}` is not a whole number of steps >= 1")),
    }
}

/// One line on stderr after writing to a file: where, and the final predicted loss with its
/// band (stdout then carries only the CSV).
fn summary(output: Option<&Path>, band: &lrsde::fit::Band) {
    let Some(path) = output.filter(|p| p.as_os_str() != "-") else {
        return;
    };
    if let (Some(step), Some(loss), Some(lo), Some(hi)) = (
        band.steps.last(),
        band.loss.last(),
        band.lo.last(),
        band.hi.last(),
    ) {
        eprintln!(
            "wrote {}: final loss {loss:.4} at step {step}, band [{lo:.4}, {hi:.4}]",
            path.display()
        );
    }
}

/// Loads a fit file and warns when the fit it holds did not converge (saved with
/// `fit --allow-unconverged`): its predictions are not to be trusted.
pub fn load_fit(path: &Path) -> CliResult<Predictor> {
    let fitted = FittedLaw::load(path)?;
    if !fitted.report.converged {
        eprintln!(
            "warning: {}: the fit did not converge ({}); its predictions are unreliable",
            path.display(),
            fitted.report.termination
        );
    }
    Ok(Predictor::from_fitted(fitted)?)
}

/// Refuses a band whose working set (the grid, and every draw's curve over `k` steps) exceeds
/// `--max-memory`, before anything is allocated.
fn check_band_memory(fitted: &FittedLaw, len: u64, k: u64, max_memory: u64) -> CliResult<()> {
    let draws = fitted.uncertainty.as_ref().map_or(0, |u| u.draws.len());
    // The grid, plus per predicted step: its step number, loss, band ends, one value per draw.
    let bytes = 8.0 * len as f64 + 8.0 * k as f64 * (draws as f64 + 5.0);
    if bytes > max_memory as f64 {
        return Err(CliError::user(format!(
            "predicting {k} steps with {draws} parameter draws needs ~{}; the limit is \
             --max-memory {}. Predict fewer --steps or raise --max-memory",
            Bytes(bytes),
            Bytes(max_memory as f64)
        )));
    }
    Ok(())
}

/// The same rule `rank` applies: a curve has diverged where it is not finite and positive, or
/// exceeds twice the lowest loss predicted before it (training that doubles its loss has blown
/// up). Returns what happened, naming the step.
fn divergence(loss: &[f64], steps: &[u64]) -> Option<String> {
    let factor = lrsde::rank::RankOptions::default().divergence_factor;
    let mut lowest = f64::INFINITY;
    for (&v, &step) in loss.iter().zip(steps) {
        if !(v.is_finite() && v > 0.0) {
            return Some(format!("the predicted loss is {v} at step {step}"));
        }
        if v > factor * lowest {
            return Some(format!(
                "the predicted loss diverges at step {step} ({v:.4e}, more than {factor} × the \
                 lowest earlier value {lowest:.4e})"
            ));
        }
        lowest = lowest.min(v);
    }
    None
}

/// Writes the `predict` contract `step,lr,loss,loss_lo,loss_hi`; `lrs[t]` is the LR of update
/// `t + 1`, floats in shortest round-trip form. Only steps divisible by `every`, and the last
/// step, are written.
fn write_band(
    w: &mut dyn std::io::Write,
    band: &lrsde::fit::Band,
    lrs: &[f64],
    every: u64,
) -> std::io::Result<()> {
    writeln!(w, "step,lr,loss,loss_lo,loss_hi")?;
    let last = band.steps.last().copied();
    for (i, step) in band.steps.iter().enumerate() {
        if step % every != 0 && Some(*step) != last {
            continue;
        }
        let lr = lrs[*step as usize - 1];
        writeln!(
            w,
            "{step},{lr:?},{:?},{:?},{:?}",
            band.loss[i], band.lo[i], band.hi[i]
        )?;
    }
    Ok(())
}
