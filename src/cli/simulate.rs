//! `lrsde simulate`: an SDE ensemble under a schedule, summarised at save points.

use super::args::{MemoryArgs, ScheduleArg, batch_schedule, candidate, check_output};
use super::error::{CliError, CliResult};
use lrsde::ensemble::budget::{
    BudgetError, Bytes, DEFAULT_MAX_SECONDS, Estimate, HumanDuration, Limits, THROUGHPUT_PER_THREAD,
};
use lrsde::ensemble::{Ensemble, Parallelism, Progress};
use lrsde::model::ModelSpec;
use lrsde::schedule::LrSchedule;
use lrsde::solver::Method;
use std::path::PathBuf;

/// The most `--threads` accepted, far above any machine's cores.
const MAX_THREADS: usize = 1024;

/// Arguments of `lrsde simulate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (workload W of the benchmarks):\n  lrsde simulate --model nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1 \\\n    --schedule cosine:peak=0.5,steps=2000,warmup=20 \\\n    --paths 4096 --method em -o sim.csv"
)]
pub struct Args {
    /// Model spec, e.g. nqm:dim=32,hmax=1,power=1,noise=1,batch=16,x0=1 (also momentum:,
    /// adam:, lossnoise:, ou:, gbm:).
    #[arg(long, value_name = "SPEC", default_value = "nqm")]
    model: String,
    /// Schedule: a spec (family:key=value,…) or a curve file with an `lr` column.
    #[arg(long, value_name = "SPEC|FILE")]
    schedule: String,
    /// Batch-size schedule: a spec in the schedule grammar read as batch sizes (peak = largest
    /// batch, in the unit of the model's `batch` key) or a file with a `batch_size` column.
    /// Update t runs with noise variance × batch/B_t; past its end the last batch holds.
    #[arg(long, value_name = "SPEC|FILE")]
    batch_schedule: Option<String>,
    /// Number of Monte Carlo paths.
    #[arg(long, value_name = "M", default_value_t = 1024)]
    paths: usize,
    /// Integration scheme: em (Euler–Maruyama) or milstein.
    #[arg(long, value_name = "METHOD", default_value = "em")]
    method: String,
    /// Worker threads, at most 1024 (default: all cores). Output is identical for any count.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Seed of the random streams.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Write a summary row every K updates (the final step is always written).
    #[arg(long, value_name = "K", default_value_t = 10)]
    save_every: usize,
    /// Sub-steps per update (dt = 1/n) to approach the SDE limit; 1 is SGD with Gaussian noise.
    #[arg(long, value_name = "N", default_value_t = 1)]
    substeps: usize,
    /// Output CSV `step,lr,mean,std,se,p05,p50,p95,diverged` (default: stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    memory: MemoryArgs,
    /// Run even when the estimated time exceeds 24 hours.
    #[arg(long)]
    force: bool,
}

/// Runs `lrsde simulate`.
pub fn run(args: &Args) -> CliResult<()> {
    let model: ModelSpec = args
        .model
        .parse()
        .map_err(|e| CliError::user(format!("--model: {e}")))?;
    let method: Method = args
        .method
        .parse()
        .map_err(|e| CliError::user(format!("--method: {e}")))?;
    let candidate = candidate(&args.schedule, "--schedule")?;
    let batch = args
        .batch_schedule
        .as_deref()
        .map(|t| batch_schedule(t, "--batch-schedule"))
        .transpose()?;
    if batch.is_some() && model.batch().is_none() {
        return Err(CliError::user(format!(
            "--batch-schedule: model `{}` has no `batch` key, so its noise does not scale with \
             1/batch; use nqm, momentum, adam or lossnoise",
            model.name()
        )));
    }
    let parallelism = match args.threads {
        None => Parallelism::Global,
        Some(0) => return Err(CliError::user("--threads must be at least 1")),
        // Each thread is a real OS thread with its own stack: a typo such as 100000 would try
        // to spawn them all before any work.
        Some(n) if n > MAX_THREADS => {
            return Err(CliError::user(format!(
                "--threads {n}: at most {MAX_THREADS}"
            )));
        }
        Some(1) => Parallelism::Sequential,
        Some(n) => Parallelism::Threads(n),
    };
    let ensemble = Ensemble::builder()
        .paths(args.paths)
        .seed(args.seed)
        .save_every(args.save_every)
        .substeps(args.substeps)
        .parallelism(parallelism)
        .build()
        .map_err(|e| CliError::user(flagged(&e.to_string())))?;
    check_output(args.output.as_deref())?;
    // Before the LR grid or any path exists: an absurd request ends here with its estimate.
    let estimate = ensemble
        .estimate_spec(&model, candidate.schedule.steps())
        .map_err(|e| CliError::user(format!("--model: {e}")))?;
    let limits = Limits {
        max_memory: args.memory.max_memory,
        max_seconds: (!args.force).then_some(DEFAULT_MAX_SECONDS),
    };
    estimate
        .check(&limits)
        .map_err(|e| CliError::user(refusal(&e, &args.schedule)))?;
    let sched = ScheduleArg::from_candidate(&candidate);
    let lrs = sched.grid.as_slice();
    let start = std::time::Instant::now();
    let pb = super::progress::bar(lrs.len() as u64, "simulate");
    let summary = ensemble
        .run_spec_batched_observed(
            &model,
            method,
            &sched.grid,
            batch.as_ref(),
            &mut |p: &Progress| pb.set_position(p.steps_done),
        )
        .map_err(|e| CliError::user(flagged(&e.to_string())))?;
    pb.finish_and_clear();
    if let Some(d) = &summary.divergence {
        eprintln!(
            "warning: {} of {} paths diverged (first: path {} at step {}); they are excluded from \
             the statistics and counted in the `diverged` column",
            d.count, summary.paths, d.first_path, d.first_step
        );
    }
    super::output::emit(args.output.as_deref(), |w| summary.write_csv(w))?;
    // The progress bar is hidden when stderr is not a terminal (logs, CI) and cleared when
    // done: this line says what ran and where it ended.
    if let Some(last) = summary.last() {
        let place = match &args.output {
            Some(p) if p.as_os_str() != "-" => format!("wrote {}: ", p.display()),
            _ => String::new(),
        };
        eprintln!(
            "{place}{} paths × {} steps ({}) in {:.2} s; final loss mean {:.4e} (5–95 %: \
             {:.4e} – {:.4e}), {} diverged",
            summary.paths,
            last.step,
            args.method,
            start.elapsed().as_secs_f64(),
            last.mean,
            last.p05,
            last.p95,
            last.diverged
        );
    }
    Ok(())
}

/// The budget refusal in the flags' terms, with what to change.
fn refusal(e: &BudgetError, schedule: &str) -> String {
    let size = |est: &Estimate| {
        format!(
            "--paths {} × model state dim {} × --schedule {schedule} ({} steps)",
            est.paths, est.state_dim, est.steps
        )
    };
    match e {
        BudgetError::Memory {
            estimate: est,
            limit,
        } => format!(
            "{}: needs ~{} of memory ({} for the path states, {} for {} saved rows of \
             --save-every {}, {} for the LR grid); the limit is --max-memory {}. Use fewer \
             --paths, a larger --save-every or a shorter schedule, or raise --max-memory",
            size(est),
            Bytes(est.memory_bytes()),
            Bytes(est.state_bytes),
            Bytes(est.rows_bytes),
            est.rows,
            est.save_every,
            Bytes(est.grid_bytes),
            Bytes(*limit as f64)
        ),
        BudgetError::Time {
            estimate: est,
            limit,
        } => format!(
            "{} × --substeps {}: {:.2e} path-dimension-steps take at least ~{} on {} threads \
             (at {THROUGHPUT_PER_THREAD:.0e} per thread and second, above the fastest kernel's \
             speed); the limit is {}. Use fewer --paths or a shorter schedule, or pass --force \
             to run anyway",
            size(est),
            est.substeps,
            est.work,
            HumanDuration(est.seconds),
            est.threads,
            HumanDuration(*limit)
        ),
        other => other.to_string(),
    }
}

/// Library settings are named like the builder methods; the CLI user knows them as flags.
fn flagged(msg: &str) -> String {
    msg.replace("`save_every`", "--save-every")
        .replace("`paths`", "--paths")
        .replace("`substeps`", "--substeps")
}
