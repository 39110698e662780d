//! `lrsde fit`: fit a loss law to observed curves and save the versioned fit file.

use super::args::{CurveReadArgs, check_output, read_curves};
use super::error::{CliError, CliResult};
use lrsde::assess::{CalibrationOptions, LawChoice, check_prior, fit_choice};
use lrsde::data::TrainingCurve;
use lrsde::fit::FitError;
use lrsde::fit::{CurveWeighting, FitOptions, ParamPrior, Predictor, distinct_shapes};
use lrsde::law::LossLaw;
use std::path::{Path, PathBuf};

/// Arguments of `lrsde fit`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  lrsde fit --curve cosine.csv --curve constant.csv -o fit.json\n  lrsde fit --curve run.json --law mpl --loss-column val_loss \\\n    -o fit.json --validate"
)]
pub struct Args {
    /// Observed training curve (CSV, JSONL or W&B JSON); repeat for a joint fit.
    #[arg(long = "curve", value_name = "FILE", required = true)]
    curves: Vec<PathBuf>,
    /// Loss law: auto (default: momentum; replaced by sde only when sde predicted the held-out
    /// last part of the given curves significantly better, by momentum:sat=1 only when its
    /// fit of the curves is significantly better and not degenerate; the fit report says
    /// why), sde (the SDE surrogate), mpl, momentum, power, or a simulated model
    /// sim:model=nqm|momentum|adam|lossnoise[,paths=N,seed=S,method=em|milstein,dim=D];
    /// options after a colon, e.g. sde:dim=64; sat=1 on a closed-form law adds a saturating
    /// effective LR (one more parameter, eta_c).
    #[arg(long, value_name = "LAW", default_value = lrsde::assess::DEFAULT_LAW)]
    law: String,
    /// Nominal coverage of the predictive band that predict and rank report (loss_lo,
    /// loss_hi), in (0, 1).
    #[arg(long, value_name = "P", default_value_t = 0.9)]
    level: f64,
    /// Run-to-run (seed) noise of an observed loss, as a standard deviation in loss units
    /// (default: estimated from the scatter of the fit residuals).
    #[arg(long, value_name = "SD")]
    seed_noise: Option<f64>,
    /// Prior over parameters the curves cannot identify (a JSON file written by `lrsde
    /// prior`), e.g. the momentum law's decay response C when the only curve is one
    /// constant-LR run. Applied when its law is the one fitted (with --law auto: the matching
    /// candidate).
    #[arg(long, value_name = "FILE")]
    prior: Option<PathBuf>,
    /// How the curves weigh against each other: points (every observed point the same, so a
    /// curve logged more often or run longer weighs more) or curves (every curve the same in
    /// total, whatever its length or logging frequency).
    #[arg(long, value_name = "HOW", default_value = "points")]
    weigh: CurveWeighting,
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
    /// Iteration limit of each optimiser run (Levenberg–Marquardt, L-BFGS, Nelder–Mead polish)
    /// per start (default: the library's, 200; a law whose fit needs more raises it to its
    /// floor: mpl 1000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_iters: Option<u64>,
    /// Save the fit even when it did not converge (`predict` and `rank` then warn); without
    /// it, a fit that does not converge is an error and nothing is written.
    #[arg(long)]
    allow_unconverged: bool,
    /// Also draw each curve over the fitted law's prediction of it, with a residual panel
    /// (PNG or SVG by extension).
    #[cfg(feature = "plot")]
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
}

/// Runs `lrsde fit`.
pub fn run(args: &Args) -> CliResult<()> {
    let choice: LawChoice = args
        .law
        .parse()
        .map_err(|e| CliError::user(format!("--law: {e}")))?;
    if !(args.level > 0.0 && args.level < 1.0) {
        return Err(CliError::user(format!(
            "--level: {} is not a probability in (0, 1)",
            args.level
        )));
    }
    if let Some(s) = args.seed_noise
        && !(s.is_finite() && s >= 0.0)
    {
        return Err(CliError::user(format!(
            "--seed-noise: {s} is not a standard deviation (finite, >= 0)"
        )));
    }
    let calibration = CalibrationOptions {
        level: args.level,
        noise_sd: args.seed_noise,
        ..CalibrationOptions::default()
    };
    let prior = args
        .prior
        .as_deref()
        .map(|p| load_prior(p, &choice))
        .transpose()?;
    check_output(Some(&args.output))?;
    #[cfg(feature = "plot")]
    super::args::check_plot(args.plot.as_deref())?;
    let curves = read_curves(&args.curves, &args.read)?;
    if let Some(w) = repeated_curve_warning(&args.curves) {
        eprintln!("warning: {w}");
    }
    if distinct_shapes(&curves) < 2 {
        warn_single_shape();
    }
    let defaults = FitOptions::default().for_curves(&curves);
    let options = FitOptions {
        seed: args.seed,
        max_iters: args.max_iters.unwrap_or(defaults.max_iters),
        polish_max_iters: args.max_iters.unwrap_or(defaults.polish_max_iters),
        prior,
        curve_weighting: args.weigh,
        ..defaults
    };
    let pb = super::progress::spinner(&format!("fitting {}", args.law.trim()));
    let fitted = fit_choice(&choice, &curves, &options, &calibration)
        .map_err(|e| with_files(e, &args.curves, &curves))?;
    pb.finish_and_clear();
    let predictor = Predictor::from_fitted(fitted)?;
    print_report(&predictor);
    let fitted = predictor.fitted();
    if !fitted.report.converged {
        let blow_up = first_bad_prediction(&predictor, &curves, &args.curves)
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        let message = format!(
            "the fit did not converge: {}{blow_up}",
            fitted.report.termination
        );
        if !args.allow_unconverged {
            return Err(CliError::user(format!(
                "{message}; {} not written (more curves, another --law or a larger --max-iters \
                 may help; --allow-unconverged saves it anyway)",
                args.output.display()
            )));
        }
        eprintln!(
            "warning: {message}; saved anyway (--allow-unconverged): predictions are unreliable"
        );
    }
    if args.validate {
        super::validate::leave_one_out(predictor.law(), &curves, &options)?;
    }
    // The picture is drawn before the fit file is written, so a plot that fails leaves nothing.
    #[cfg(feature = "plot")]
    let rendered = match &args.plot {
        Some(path) => {
            let bands = curves
                .iter()
                .map(|c| super::charts::band_over(&predictor, c))
                .collect::<CliResult<Vec<_>>>()?;
            let title = format!(
                "Observed runs (points) and the fitted {} law ({})",
                fitted.law,
                super::charts::band_label(fitted)
            );
            vec![super::charts::fitted_plot(&title, &curves, &bands, path)?]
        }
        None => Vec::new(),
    };
    fitted.save(&args.output)?;
    eprintln!("wrote {}", args.output.display());
    #[cfg(feature = "plot")]
    super::charts::write_all(&rendered)?;
    Ok(())
}

/// Reads `--prior` and checks it against the law(s) the fit may choose ([`check_prior`]).
fn load_prior(path: &Path, choice: &LawChoice) -> CliResult<ParamPrior> {
    let prior = ParamPrior::load(path).map_err(|e| CliError::user(format!("--prior: {e}")))?;
    check_prior(&prior, choice)
        .map_err(|reason| CliError::user(format!("--prior {}: {reason}", path.display())))?;
    Ok(prior)
}

/// Puts the file in front of fit errors that name a curve (the fit knows curves by their
/// names, the user by their files).
fn with_files(e: FitError, paths: &[PathBuf], curves: &[TrainingCurve]) -> CliError {
    let file_of = |name: &str| {
        curves
            .iter()
            .position(|c| c.name == name)
            .and_then(|i| paths.get(i))
            .map(|p| p.display().to_string())
    };
    let prefix = match &e {
        FitError::InvalidLoss { curve, .. }
        | FitError::InvalidStep { curve, .. }
        | FitError::LengthMismatch { curve, .. } => file_of(curve),
        FitError::TooFewPoints { .. } | FitError::NoCurves => Some(
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    };
    match prefix {
        Some(p) => CliError::user(format!("{p}: {e}")),
        None => CliError::user(e.to_string()),
    }
}

/// [`Predictor::first_bad_prediction`] with the curve's file path.
fn first_bad_prediction(
    predictor: &Predictor,
    curves: &[TrainingCurve],
    paths: &[PathBuf],
) -> Option<String> {
    let bad = predictor.first_bad_prediction(curves)?;
    let path = paths.get(bad.curve)?;
    Some(format!("{}: {}", path.display(), bad.kind))
}

/// One schedule shape cannot separate the effect of LR area from that of LR decay.
fn warn_single_shape() {
    eprintln!(
        "warning: all curves share one schedule shape; the fit cannot tell how the loss \
         responds to LR decay. Add a run with a different schedule (e.g. constant and cosine) \
         for trustworthy predictions of other schedules."
    );
}

fn print_report(predictor: &Predictor) {
    let fitted = predictor.fitted();
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
    // Curve names come last, so a long run name cannot push the columns apart.
    println!(
        "  MAE {:.5}   RMSE(log) {:.5}   {:>6} points   all curves (max rel err {:.4}%)",
        r.mae,
        r.rmse_log,
        r.n_points,
        100.0 * r.max_rel_err
    );
    for c in &r.curves {
        println!(
            "  MAE {:.5}   RMSE(log) {:.5}   {:>6} points   {}",
            c.mae, c.rmse_log, c.n_points, c.name
        );
    }
    if r.curve_weighting == CurveWeighting::Curves && r.curves.len() > 1 {
        println!("  every curve weighed the same in total (--weigh curves)");
    }
    let specs = predictor.law().params();
    let width = fitted
        .param_order
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    println!("parameters:");
    for (name, value) in fitted.param_order.iter().zip(fitted.params_vec()) {
        let about = specs
            .iter()
            .find(|p| p.name == name.as_str())
            .map_or("", |p| p.description);
        println!("  {name:<width$} = {value:>13.6e}   {about}");
    }
    if let Some(s) = &fitted.selection {
        println!("  auto: chose {}: {}", s.chosen, s.reason);
    }
    if let Some(p) = &fitted.prior {
        let terms: Vec<String> = p
            .terms
            .iter()
            .map(|t| {
                // A mean that follows the peak LR is shown at this fit's peak.
                let at = if t.slope_ln_peak.is_some() {
                    format!(" at peak LR {:e}", fitted.lr_range_seen[1])
                } else {
                    String::new()
                };
                format!(
                    "ln {} ~ N({:.4}, {:.4}²){at}",
                    t.param,
                    t.mean_ln_at(fitted.lr_range_seen[1]),
                    t.sd_ln
                )
            })
            .collect();
        println!("  prior: {} (from {})", terms.join(", "), p.source);
    }
    if let Some(p) = &fitted.predictive {
        println!(
            "  predictive band ({:.0} %): discrepancy sd {:.4} shared + {:.4} own at the fitted \
             horizon (growing as sqrt of the horizon ratio), noise sd {:.4} ({}); {}",
            100.0 * p.level,
            p.shared_sd,
            p.own_sd,
            p.noise_sd,
            p.noise_source,
            p.method
        );
        if let Some(d) = &p.disagreement {
            println!(
                "  disagreement: variance (k·({} − {}))² added to the band, k = {:.3} (from {} \
                 paired refit predictions of both laws{})",
                d.law,
                fitted.law,
                d.k,
                d.n_pairs,
                if d.k == 0.0 {
                    ": where they disagreed, the chosen law erred no more than its horizon term \
                     allows, so the term is zero"
                } else {
                    ""
                }
            );
        }
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

/// The warning for a curve file given more than once (by any path to it): every point of it
/// then weighs as many times in the fit, which is rarely meant. `None` without a repeat.
fn repeated_curve_warning(paths: &[std::path::PathBuf]) -> Option<String> {
    let mut seen: Vec<std::path::PathBuf> = Vec::new();
    let mut repeated: Vec<String> = Vec::new();
    for p in paths {
        let key = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        if seen.contains(&key) {
            let name = p.display().to_string();
            if !repeated.contains(&name) {
                repeated.push(name);
            }
        } else {
            seen.push(key);
        }
    }
    (!repeated.is_empty()).then(|| {
        format!(
            "--curve {} given more than once: its points weigh that many times in the fit",
            repeated.join(", ")
        )
    })
}
