//! `lrsde steplaw`: the Step Law's optimal peak LR and batch size.

use super::error::{CliError, CliResult};

/// Arguments of `lrsde steplaw`.
#[derive(Debug, clap::Args)]
#[command(
    allow_negative_numbers = true,
    after_help = "Example:\n  lrsde steplaw --params 1e9 --tokens 1e11"
)]
pub struct Args {
    /// Non-embedding parameter count N (e.g. 1e9).
    #[arg(long, value_name = "N")]
    params: f64,
    /// Training tokens D (e.g. 1e11).
    #[arg(long, value_name = "D")]
    tokens: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `lrsde steplaw`.
pub fn run(args: &Args) -> CliResult<()> {
    let law = lrsde::rank::step_law(args.params, args.tokens).ok_or_else(|| {
        CliError::user(format!(
            "--params and --tokens must be positive and finite (got {} and {})",
            args.params, args.tokens
        ))
    })?;
    if args.json {
        let json =
            serde_json::to_string_pretty(&law).map_err(|e| CliError::Internal(e.to_string()))?;
        println!("{json}");
    } else {
        println!(
            "Step Law (Li et al. 2025, arXiv 2503.04715) for N = {:e} params, D = {:e} tokens:",
            args.params, args.tokens
        );
        println!(
            "  optimal peak LR     {:.4e}   (1.79 · N^-0.713 · D^0.307)",
            law.peak_lr
        );
        println!(
            "  optimal batch size  {:.4e} tokens   (0.58 · D^0.571)",
            law.batch_tokens
        );
    }
    Ok(())
}
