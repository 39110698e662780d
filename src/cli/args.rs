//! Argument types shared by several subcommands: schedules given as a spec or a file, curve
//! reading options.

use super::error::{CliError, CliResult};
use lrsde::data::{ReadOptions, WarmupPolicy};
use lrsde::schedule::{LrGrid, Schedule};
use std::path::Path;

/// A schedule named on the command line, resolved to its per-update LRs.
#[derive(Debug, Clone)]
pub struct ScheduleArg {
    /// The text as the user gave it (spec string or file name): tables and plots show this.
    pub label: String,
    /// The per-update learning rates.
    pub grid: LrGrid,
    /// The parsed schedule, when it was a spec (search and continued training need it).
    pub schedule: Option<Schedule>,
}

/// Resolves `text` as a curve/schedule file when such a file exists, else as a spec string.
///
/// A string that parses as neither is reported with the spec parser's message, plus a hint
/// when it looks like a file name.
pub fn resolve_schedule(text: &str, flag: &str) -> CliResult<ScheduleArg> {
    let path = Path::new(text);
    if path.is_file() {
        let grid = lrsde::data::read_lr_column(path)
            .map_err(|e| CliError::user(format!("{flag} {text}: {e}")))?;
        return Ok(ScheduleArg {
            label: text.to_string(),
            grid,
            schedule: None,
        });
    }
    match text.parse::<Schedule>() {
        Ok(schedule) => {
            let grid = schedule.grid();
            Ok(ScheduleArg {
                label: text.to_string(),
                grid,
                schedule: Some(schedule),
            })
        }
        Err(e) => {
            let looks_like_file = !text.contains(':')
                || [".csv", ".json", ".jsonl"]
                    .iter()
                    .any(|ext| text.ends_with(ext));
            if looks_like_file {
                Err(CliError::user(format!(
                    "{flag} {text}: no such file, and not a schedule spec ({e})"
                )))
            } else {
                Err(CliError::user(format!("{flag}: {e}")))
            }
        }
    }
}

/// Parses `--warmup auto|constant|linear:W`.
pub fn parse_warmup(text: &str) -> Result<WarmupPolicy, String> {
    match text {
        "auto" => Ok(WarmupPolicy::Auto),
        "constant" | "none" => Ok(WarmupPolicy::Constant),
        _ => match text.strip_prefix("linear:") {
            Some(n) => n
                .parse::<u64>()
                .map(|steps| WarmupPolicy::Linear { steps })
                .map_err(|_| format!("`{n}` is not a whole number of steps")),
            None => Err(format!("`{text}` is not one of auto, constant, linear:W")),
        },
    }
}

/// Options for reading observed curves.
#[derive(Debug, Clone, clap::Args)]
pub struct CurveReadArgs {
    /// Loss column to read (default: the first of eval_loss, val_loss, loss, train_loss).
    #[arg(long, value_name = "NAME")]
    pub loss_column: Option<String>,
    /// LR before a curve's first row: auto (linear from 0, the Multi-Power-Law convention),
    /// constant, or linear:W.
    #[arg(long, value_name = "POLICY", default_value = "auto", value_parser = parse_warmup)]
    pub warmup: WarmupPolicy,
}

impl CurveReadArgs {
    /// The library's reading options.
    pub fn options(&self) -> ReadOptions {
        let opts = ReadOptions::default().with_warmup(self.warmup);
        match &self.loss_column {
            Some(col) => opts.with_loss_column(col.clone()),
            None => opts,
        }
    }
}

/// Reads every curve, naming the failing file.
pub fn read_curves(
    paths: &[std::path::PathBuf],
    args: &CurveReadArgs,
) -> CliResult<Vec<lrsde::data::TrainingCurve>> {
    let opts = args.options();
    paths
        .iter()
        .map(|p| lrsde::data::read_curve(p, &opts).map_err(|e| CliError::user(e.to_string())))
        .collect()
}
