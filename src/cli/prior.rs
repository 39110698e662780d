//! `lrsde prior`: learn a prior over a law's parameters from fits of other runs, for
//! `lrsde fit --prior`.

use super::args::check_output;
use super::error::{CliError, CliResult};
use lrsde::fit::{FittedLaw, ParamPrior};
use std::path::PathBuf;

/// Arguments of `lrsde prior`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  lrsde prior --fit run1.json --fit run2.json --fit run3.json --param C \\\n    -o prior.json\n  lrsde prior --fit a.json --fit b.json --fit c.json --param C --by-peak -o prior.json\n  lrsde fit --curve constant_prefix.csv --law momentum --prior prior.json -o fit.json"
)]
pub struct Args {
    /// A fit file of another run (`lrsde fit -o`); repeat, at least twice, all of one law.
    #[arg(long = "fit", value_name = "FILE", required = true)]
    fits: Vec<PathBuf>,
    /// Parameter to constrain (a name from the fits' `parameters:`); repeat for several.
    #[arg(long = "param", value_name = "NAME", required = true)]
    params: Vec<String>,
    /// Make each parameter's mean follow the peak LR: the least-squares line of its ln on
    /// ln peak (each fit's largest LR seen), fitted over the per-peak means; needs at least 3
    /// fits at 2 or more distinct peak LRs.
    #[arg(long = "by-peak")]
    by_peak: bool,
    /// Output prior file (JSON).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

/// Runs `lrsde prior`: for every `--param`, the mean and sample standard deviation of its
/// logarithm over the fits, or with `--by-peak` its line on the log peak LR
/// ([`ParamPrior::by_peak`]).
pub fn run(args: &Args) -> CliResult<()> {
    check_output(Some(&args.output))?;
    // A repeated name would give the prior two terms for one parameter, which `fit --prior`
    // refuses: better said here, naming the flag.
    for (i, name) in args.params.iter().enumerate() {
        if args.params[..i].contains(name) {
            return Err(CliError::user(format!(
                "--param {name}: given more than once"
            )));
        }
    }
    let fits = args
        .fits
        .iter()
        .map(|p| FittedLaw::load(p).map_err(|e| CliError::user(format!("--fit: {e}"))))
        .collect::<CliResult<Vec<_>>>()?;
    let law = fits[0].law.clone();
    for (f, path) in fits.iter().zip(&args.fits).skip(1) {
        if f.law != law {
            return Err(CliError::user(format!(
                "--fit {}: law `{}`, but {} is of law `{law}`: a prior is for one law",
                path.display(),
                f.law,
                args.fits[0].display()
            )));
        }
    }
    let mut terms = Vec::new();
    for name in &args.params {
        let mut values = Vec::with_capacity(fits.len());
        for (f, path) in fits.iter().zip(&args.fits) {
            let v = f.params.get(name).copied().ok_or_else(|| {
                CliError::user(format!(
                    "--param {name}: law `{law}` of {} has no parameter `{name}` (its \
                     parameters: {})",
                    path.display(),
                    f.param_order.join(", ")
                ))
            })?;
            values.push(v);
        }
        if args.by_peak {
            let samples: Vec<(f64, f64)> = fits
                .iter()
                .zip(&values)
                .map(|(f, v)| (f.lr_range_seen[1], *v))
                .collect();
            let one = ParamPrior::by_peak(&law, name, &samples).map_err(|reason| {
                CliError::user(format!(
                    "--param {name} --by-peak: {reason} (peak LR, {name} of the fits: {})",
                    samples
                        .iter()
                        .map(|(p, v)| format!("({p:e}, {v:.4e})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            terms.extend(one.terms);
            continue;
        }
        let one = ParamPrior::from_samples(&law, name, &values).ok_or_else(|| {
            CliError::user(format!(
                "--param {name}: need at least 2 fits with a positive value and some spread \
                 (values: {})",
                values
                    .iter()
                    .map(|v| format!("{v:.4e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        terms.extend(one.terms);
    }
    let names: Vec<String> = args
        .fits
        .iter()
        .map(|p| {
            p.file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
        })
        .collect();
    let prior = ParamPrior {
        law,
        terms,
        source: format!(
            "lrsde prior over {} fits: {}",
            names.len(),
            names.join(", ")
        ),
    };
    prior.save(&args.output)?;
    for t in &prior.terms {
        match (t.slope_ln_peak, t.ln_peak_ref) {
            (Some(slope), Some(r)) => println!(
                "prior of {} `{}`: ln ~ N({:.4} + {slope:.4}·(ln peak − ln {:e}), {:.4}²)",
                prior.law,
                t.param,
                t.mean_ln,
                r.exp(),
                t.sd_ln
            ),
            _ => println!(
                "prior of {} `{}`: ln ~ N({:.4}, {:.4}²)",
                prior.law, t.param, t.mean_ln, t.sd_ln
            ),
        }
    }
    eprintln!("wrote {}", args.output.display());
    Ok(())
}
