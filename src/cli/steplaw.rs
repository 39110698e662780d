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
    #[arg(long, value_name = "N", value_parser = parse_count)]
    params: f64,
    /// Training tokens D (e.g. 1e11, 20B, 2T).
    #[arg(long, value_name = "D", value_parser = parse_count)]
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

/// Parses a model or data size: a number (`124e6`, `1200000000`) or a number with a suffix
/// `K` (10³), `M` (10⁶), `B` or `G` (10⁹), `T` (10¹²), case-insensitive: `400M`, `1.2B`,
/// `20B`, `2T`. The result is positive and finite; the error says what was expected. A clap
/// value parser (hence the `String` error), so it lives with the CLI.
///
/// # Errors
/// A one-line message quoting `text` when it is not a positive finite count.
pub(crate) fn parse_count(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, scale): (&str, f64) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let scale = match c.to_ascii_uppercase() {
                'K' => 1e3,
                'M' => 1e6,
                'B' | 'G' => 1e9,
                'T' => 1e12,
                // `1e9` ends in a digit; any other letter is a typo.
                _ => 0.0,
            };
            (&t[..i], scale)
        }
        _ => (t, 1.0),
    };
    match num.trim().parse::<f64>() {
        // Scaling a decimal like 1.2 by 1e9 rounds once; parse the product's text instead so
        // that `1.2B` is exactly the f64 nearest 1.2e9, as `1.2e9` is.
        Ok(x) if scale > 0.0 && x.is_finite() && x > 0.0 => {
            let exp = scale.log10().round() as i32;
            let v = format!("{}e{exp}", num.trim())
                .parse::<f64>()
                .unwrap_or(x * scale);
            if v.is_finite() {
                Ok(v)
            } else {
                Err(format!("`{text}` is too large"))
            }
        }
        _ => Err(format!(
            "`{text}` is not a positive count; write e.g. 124e6, 400M, 1.2B, 20B or 2T"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_suffixes_equal_their_literals() {
        for (text, want) in [
            ("400M", 400e6),
            ("1.2B", 1.2e9),
            ("20B", 20e9),
            ("2T", 2e12),
            ("2.5t", 2.5e12),
            ("7g", 7e9),
            ("350k", 350e3),
            (" 124e6 ", 124e6),
            ("1e11", 1e11),
            ("1.5e3M", 1.5e9),
        ] {
            assert_eq!(parse_count(text), Ok(want), "{text}");
        }
        for bad in ["", "M", "-1B", "0", "1.2X", "abc", "inf", "NaN", "1e400"] {
            assert!(parse_count(bad).is_err(), "{bad}");
        }
    }
}
