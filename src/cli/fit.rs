//! `lrsde fit`: fit a loss law to observed curves and save the versioned fit file.

use super::args::{CurveReadArgs, read_curves};
use super::error::{CliError, CliResult};
use lrsde::data::TrainingCurve;
use lrsde::fit::{FitOptions, FittedLaw};
use lrsde::law::AnyLaw;
use std::path::PathBuf;

/// Arguments of `lrsde fit`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  lrsde fit --curve cosine.csv --curve constant.csv -o fit.json\n  lrsde fit --curve run.json --law mpl --loss-column val_loss -o fit.json --validate"
)]
pub struct Args {
    /// Observed training curve (CSV, JSONL or W&B JSON); repeat for a joint fit.
    #[arg(long = "curve", value_name = "FILE", required = true)]
    curves: Vec<PathBuf>,
    /// Loss law: sde (the SDE surrogate, default), mpl, momentum or power; options after a
    /// colon, e.g. sde:dim=64.
    #[arg(long, value_name = "LAW", default_value = "sde")]
    law: String,
    #[command(flatten)]
    read: CurveReadArgs,
    /// Output fit file (JSON).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Seed of random starts and uncertainty draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also refit leaving one curve out at a time and report the held-out error.
    #[arg(long)]
    validate: bool,
}

/// Runs `lrsde fit`.
pub fn run(args: &Args) -> CliResult<()> {
    let law: AnyLaw = args
        .law
        .parse()
        .map_err(|e| CliError::user(format!("--law: {e}")))?;
    let curves = read_curves(&args.curves, &args.read)?;
    let single_shape = distinct_shapes(&curves) < 2;
    if single_shape {
        warn_single_shape();
    }
    let options = FitOptions {
        seed: args.seed,
        // One schedule shape leaves the law poorly identified, and the best-ranked start alone
        // can end far off (measured on the 124M constant runs: cooldown predictions off by
        // nats); trying every law start costs time but finds the good basin.
        max_law_starts: if single_shape {
            16
        } else {
            FitOptions::default().max_law_starts
        },
        ..FitOptions::default()
    };
    let pb = super::progress::spinner(&format!("fitting {}", law.kind()));
    let fitted = lrsde::fit::fit_law(law.clone(), &curves, &options)?;
    pb.finish_and_clear();
    print_report(&fitted);
    if args.validate {
        super::validate::leave_one_out(&law, &curves, &options)?;
    }
    fitted.save(&args.output)?;
    eprintln!("wrote {}", args.output.display());
    if !fitted.report.converged {
        eprintln!(
            "warning: the fit did not converge ({}); its predictions are unreliable",
            fitted.report.termination
        );
    }
    Ok(())
}

/// One schedule shape cannot separate the effect of LR area from that of LR decay.
fn warn_single_shape() {
    eprintln!(
        "warning: all curves share one schedule shape; the fit cannot tell how the loss \
         responds to LR decay. Add a run with a different schedule (e.g. constant and cosine) \
         for trustworthy predictions of other schedules."
    );
}

/// Number of distinct LR shapes among the curves (LRs normalised by their peak and compared on
/// the common prefix).
pub fn distinct_shapes(curves: &[TrainingCurve]) -> usize {
    let shape = |c: &TrainingCurve| -> Vec<f64> {
        let peak = c
            .lrs
            .iter()
            .copied()
            .fold(0.0, f64::max)
            .max(f64::MIN_POSITIVE);
        c.lrs.iter().map(|v| v / peak).collect()
    };
    let mut shapes: Vec<Vec<f64>> = Vec::new();
    for c in curves {
        let s = shape(c);
        let same = shapes.iter().any(|t| {
            let n = s.len().min(t.len());
            n > 0
                && s[..n]
                    .iter()
                    .zip(&t[..n])
                    .all(|(a, b)| (a - b).abs() < 1e-3)
        });
        if !same {
            shapes.push(s);
        }
    }
    shapes.len()
}

fn print_report(fitted: &FittedLaw) {
    let r = &fitted.report;
    println!(
        "law {}: cost {:.6e}, {} points, {} parameters, {} iterations, {}",
        fitted.law,
        r.cost,
        r.n_points,
        r.n_params,
        r.iterations,
        if r.converged {
            "converged"
        } else {
            "NOT converged"
        }
    );
    println!(
        "  overall   MAE {:.5}   RMSE(log) {:.5}   max rel err {:.4}%",
        r.mae,
        r.rmse_log,
        100.0 * r.max_rel_err
    );
    for c in &r.curves {
        println!(
            "  {:<28} MAE {:.5}   RMSE(log) {:.5}   ({} points)",
            c.name, c.mae, c.rmse_log, c.n_points
        );
    }
    for (name, value) in fitted.param_order.iter().zip(fitted.params_vec()) {
        println!("  {name:<10} = {value:.6e}");
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
}

impl From<lrsde::fit::FitError> for CliError {
    fn from(e: lrsde::fit::FitError) -> Self {
        CliError::user(e.to_string())
    }
}
