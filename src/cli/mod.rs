//! Command-line interface: parses arguments, dispatches to one module per subcommand, and maps
//! errors to one line on stderr with exit code 2 (bad input) or 1 (internal failure).

mod args;
#[cfg(feature = "plot")]
mod charts;
mod demo;
mod error;
mod fit;
mod output;
#[cfg(feature = "plot")]
mod plot;
mod predict;
mod prior;
mod progress;
mod rank;
mod simulate;
mod steplaw;
mod validate;
mod warnings;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use error::CliError;

/// Predict and rank learning-rate schedules by simulating SGD-approximating SDEs.
#[derive(Debug, Parser)]
#[command(name = "lrsde", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  lrsde demo
  lrsde simulate --model nqm:dim=32 --paths 4096 \\
    --schedule cosine:peak=0.5,steps=2000,warmup=20
  lrsde fit --curve cosine.csv --curve constant.csv -o fit.json
  lrsde predict --fit fit.json -o pred.csv \\
    --schedule wsd:peak=3e-4,steps=24000,warmup=2160";

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole job on bundled data: fit, check, rank, plot.
    Demo(demo::Args),
    /// Simulate an SDE ensemble under a schedule and write summary statistics.
    Simulate(simulate::Args),
    /// Fit a loss law to observed training curves and save the fit.
    Fit(fit::Args),
    /// Draw prediction CSVs with their bands, observed curves and the LR panel.
    #[cfg(feature = "plot")]
    Plot(plot::Args),
    /// Predict the loss curve of a schedule from a fit, with an uncertainty band.
    Predict(predict::Args),
    /// Learn a prior over a law's parameters from fits of other runs (for fit --prior).
    Prior(prior::Args),
    /// Rank candidate schedules (and searched ones) by predicted final loss.
    Rank(rank::Args),
    /// Optimal peak LR and batch size from the Step Law (Li et al. 2025).
    Steplaw(steplaw::Args),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: clap prints them to stdout, exit 0.
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
        Err(e) => {
            // Usage errors: one line on stderr (clap's own message spans several lines and
            // repeats the usage), exit 2.
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            eprintln!("error: {} (see `lrsde --help`)", error::one_line(message));
            return ExitCode::from(2);
        }
    };
    let result: Result<(), CliError> = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Fit(args) => fit::run(&args),
        #[cfg(feature = "plot")]
        Command::Plot(args) => plot::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Prior(args) => prior::run(&args),
        Command::Rank(args) => rank::run(&args),
        Command::Steplaw(args) => steplaw::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
