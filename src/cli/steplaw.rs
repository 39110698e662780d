//! `lrsde steplaw`: the Step Law's optimal peak LR and batch size.

use super::error::{CliError, CliResult};

/// Arguments of `lrsde steplaw`.
#[derive(Debug, clap::Args)]
#[command(
    allow_negative_numbers = true,
    after_help = "Examples:\n  lrsde steplaw --params 1e9 --tokens 1e11\n  lrsde steplaw --params 400M --tokens 20B"
)]
pub struct Args {
    /// Non-embedding parameter count N (e.g. 1e9, 400M, 1.2B).
    #[arg(long, value_name = "N", value_parser = lrsde::rank::steplaw::parse_count)]
    params: f64,
    /// Training tokens D (e.g. 1e11, 20B, 2T).
    #[arg(long, value_name = "D", value_parser = lrsde::rank::steplaw::parse_count)]
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
