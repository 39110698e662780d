//! Argument types shared by several subcommands: schedules given as a spec or a file, curve
//! reading options.

use super::error::{CliError, CliResult};
use lrsde::data::{ReadOptions, WarmupPolicy};
use lrsde::rank::Candidate;
use lrsde::schedule::{LrGrid, LrSchedule};

/// A schedule named on the command line, resolved to its per-update LRs.
#[derive(Debug, Clone)]
pub struct ScheduleArg {
    /// The text as the user gave it (spec string or file name): tables and plots show this.
    pub label: String,
    /// The per-update learning rates.
    pub grid: LrGrid,
}

/// Resolves `text` as a curve/schedule file when such a file exists (or it cannot be a spec),
/// else as a spec string; errors name the flag.
pub fn resolve_schedule(text: &str, flag: &str) -> CliResult<ScheduleArg> {
    let candidate = candidate(text, flag)?;
    Ok(ScheduleArg {
        label: candidate.label,
        grid: LrGrid::from_schedule(&candidate.schedule),
    })
}

/// A ranking candidate from a `--schedule` argument.
pub fn candidate(text: &str, flag: &str) -> CliResult<Candidate> {
    let c = Candidate::from_arg(text).map_err(|e| CliError::user(format!("{flag}: {e}")))?;
    if c.schedule.steps() == 0 {
        return Err(CliError::user(format!(
            "{flag} {text}: the schedule has no steps"
        )));
    }
    Ok(c)
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

/// Reads every curve; errors name the failing file, line and column.
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
