//! Argument types shared by several subcommands: schedules given as a spec or a file, curve
//! reading options, resource limits and output checks.

use super::error::{CliError, CliResult};
use lrsde::data::{LrBetweenRows, ReadOptions, WarmupPolicy};
use lrsde::ensemble::budget::Bytes;
use lrsde::rank::Candidate;
use lrsde::schedule::{BatchGrid, LrGrid, LrSchedule, ScheduleSpec, Tabulated};
use std::path::Path;

/// Longest schedule `predict` and `rank` accept: the longest curve the file readers accept
/// (20 million updates). Their cost grows with the length times the parameter draws, and no
/// training run is near this long.
pub const MAX_PREDICT_STEPS: u64 = lrsde::data::DEFAULT_MAX_STEPS;

/// A schedule named on the command line, resolved to its per-update LRs.
#[derive(Debug, Clone)]
pub struct ScheduleArg {
    /// The text as the user gave it (spec string or file name): tables and plots show this.
    pub label: String,
    /// The per-update learning rates.
    pub grid: LrGrid,
}

impl ScheduleArg {
    /// Materialises a candidate's LR grid (call after checking its length).
    pub fn from_candidate(candidate: &Candidate) -> Self {
        Self {
            label: candidate.label.clone(),
            grid: candidate.schedule.grid(),
        }
    }
}

/// A ranking candidate from a `--schedule` argument (nothing per-update is allocated yet).
///
/// A file if one of that name exists (its `lr` column), else a spec; errors name the flag once
/// and quote the spec or the file once.
pub fn candidate(text: &str, flag: &str) -> CliResult<Candidate> {
    candidate_read(text, flag, &ReadOptions::default())
}

/// [`candidate`] for a command that reads curves: a file's LRs are rebuilt with the same
/// `--warmup` and `--lr-between-rows` as its curves, with the same warning when the default
/// linear rule ramps over a logged jump.
pub fn candidate_with(text: &str, flag: &str, read: &CurveReadArgs) -> CliResult<Candidate> {
    let (c, jumps) = candidate_jumps(text, flag, &read.lr_fill())?;
    if read.lr_between_rows == LrBetweenRows::Linear
        && let Some(w) = ramped_jump_warning(Path::new(text), &jumps)
    {
        eprintln!("warning: {flag} {w}");
    }
    Ok(c)
}

/// [`candidate`], a file's LRs rebuilt with `read`'s warmup and rule between rows.
fn candidate_read(text: &str, flag: &str, read: &ReadOptions) -> CliResult<Candidate> {
    candidate_jumps(text, flag, read).map(|(c, _)| c)
}

/// [`candidate_read`] and, for a file, its logged LR jumps.
fn candidate_jumps(
    text: &str,
    flag: &str,
    read: &ReadOptions,
) -> CliResult<(Candidate, Vec<lrsde::data::LoggedJump>)> {
    let path = Path::new(text);
    let mut jumps = Vec::new();
    let c = if path.is_file() {
        let (grid, logged) = lrsde::data::read_lr_column_with_jumps(path, read)
            .map_err(|e| CliError::user(format!("{flag}: {e}")))?;
        jumps = logged;
        let table = Tabulated::new(grid.into_vec())
            .map_err(|e| CliError::user(format!("{flag} {text}: {e}")))?;
        Candidate::new(text, table)
    } else if !text.contains(':')
        && (text.contains(['/', '\\']) || lrsde::data::Format::from_path(path).is_some())
    {
        return Err(CliError::user(format!(
            "{flag}: {text}: no such file (and not a spec `family:key=value,…`)"
        )));
    } else {
        let spec: ScheduleSpec = text.parse().map_err(|e| {
            let hint = if text.contains(':') || text.trim().is_empty() {
                String::new()
            } else {
                format!(" (and no file `{text}` exists)")
            };
            CliError::user(format!("{flag}: {e}{hint}"))
        })?;
        Candidate::new(text.trim(), spec)
    };
    if c.schedule.steps() == 0 {
        return Err(CliError::user(format!(
            "{flag} {text}: the schedule has no steps"
        )));
    }
    Ok((c, jumps))
}

/// A `--batch-schedule SPEC|FILE`: a file (one of its `batch_size` / `batch` /
/// `train/batch_size` columns) if one of that name exists, else a spec of the LR grammar read as
/// batch sizes. Errors name the flag and quote the text.
pub fn batch_schedule(text: &str, flag: &str) -> CliResult<BatchGrid> {
    let path = Path::new(text);
    if path.is_file() {
        return lrsde::data::read_batch_column(path)
            .map_err(|e| CliError::user(format!("{flag}: {e}")));
    }
    if !text.contains(':')
        && (text.contains(['/', '\\']) || lrsde::data::Format::from_path(path).is_some())
    {
        return Err(CliError::user(format!(
            "{flag}: {text}: no such file (and not a spec `family:key=value,…`)"
        )));
    }
    let spec: ScheduleSpec = text
        .parse()
        .map_err(|e| CliError::user(format!("{flag}: {e}")))?;
    check_predict_len(spec.steps(), flag, text)?;
    BatchGrid::from_schedule(&spec).map_err(|e| CliError::user(format!("{flag} {text}: {e}")))
}

/// Refuses a schedule longer than [`MAX_PREDICT_STEPS`] before its grid is built.
pub fn check_predict_len(steps: u64, flag: &str, text: &str) -> CliResult<()> {
    if steps > MAX_PREDICT_STEPS {
        return Err(CliError::user(format!(
            "{flag} {text}: {steps} steps is more than predict and rank accept ({MAX_PREDICT_STEPS}, \
             the longest curve file read); its LR grid alone would need {}",
            Bytes(steps as f64 * 8.0)
        )));
    }
    Ok(())
}

/// Parses `--max-memory` in GiB (a positive number, fractions allowed) into bytes.
pub fn parse_gib(text: &str) -> Result<u64, String> {
    match text.trim().parse::<f64>() {
        Ok(g) if g.is_finite() && g > 0.0 => {
            Ok((g * (1u64 << 30) as f64).min(u64::MAX as f64) as u64)
        }
        _ => Err(format!("`{text}` is not a positive number of GiB")),
    }
}

/// The `--max-memory` flag of the commands whose memory grows with their arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct MemoryArgs {
    /// Refuse to start when the estimated memory exceeds this many GiB.
    #[arg(long, value_name = "GiB", default_value = "8", value_parser = parse_gib)]
    pub max_memory: u64,
}

/// Checks before any long computation that `path` (an `-o`/`--plot` value) can be written, so a
/// typo in a directory fails at once instead of after the work.
pub fn check_output(path: Option<&Path>) -> CliResult<()> {
    match path {
        Some(p) if p.as_os_str() != "-" => lrsde::io::check_writable(p)
            .map_err(|e| CliError::user(format!("cannot write {}: {e}", p.display()))),
        _ => Ok(()),
    }
}

/// [`check_output`] for a `--plot` value, which must also name a picture format: a `.jpg` is
/// refused before any work, not after the main output is written.
#[cfg(feature = "plot")]
pub fn check_plot(path: Option<&Path>) -> CliResult<()> {
    let Some(p) = path else { return Ok(()) };
    lrsde::plot::check_format(p).map_err(|e| CliError::user(format!("--plot {e}")))?;
    check_output(Some(p))
}

/// Refuses a `--from-step` past the last step a plot would show (the chart would be empty).
#[cfg(feature = "plot")]
pub fn check_from_step(from_step: Option<u64>, last: u64) -> CliResult<()> {
    match from_step {
        Some(step) if step > last => Err(CliError::user(format!(
            "--from-step {step} is past the last predicted step {last}; nothing to plot"
        ))),
        _ => Ok(()),
    }
}

/// Options for reading observed curves.
#[derive(Debug, Clone, clap::Args)]
pub struct CurveReadArgs {
    /// Loss column to read (default: the first of eval_loss, val_loss, loss, train_loss, then
    /// eval/loss, val/loss, validation/loss, train/loss; W&B web-UI columns `<run> - <name>`
    /// match by name).
    #[arg(long, value_name = "NAME")]
    pub loss_column: Option<String>,
    /// Step column to read (default: step, then global_step, train/global_step,
    /// trainer/global_step, _step).
    #[arg(long, value_name = "NAME")]
    pub step_column: Option<String>,
    /// LR column to read (default: lr, then learning_rate, train/learning_rate, train/lr,
    /// train_lr, train_learning_rate).
    #[arg(long, value_name = "NAME")]
    pub lr_column: Option<String>,
    /// Batch-size column to read (default: batch_size, then batch, train/batch_size,
    /// train_batch_size; none present: no batch schedule). Fitted by the sim: laws, whose
    /// gradient noise scales with 1/batch; other laws accept only a constant batch.
    #[arg(long, value_name = "NAME")]
    pub batch_column: Option<String>,
    /// Take every curve's per-update LRs from this schedule spec or file (e.g. the TensorBoard
    /// export of the learning-rate scalar; its rows are rebuilt by --warmup and
    /// --lr-between-rows) instead of the curve file.
    #[arg(long, value_name = "SPEC|FILE")]
    pub lr_schedule: Option<String>,
    /// The run a W&B branch (cooldown) was forked from, when its file is not beside the branch
    /// as `<parent run name>.json`.
    #[arg(long, value_name = "FILE")]
    pub parent: Option<std::path::PathBuf>,
    /// LR before a curve's first row: auto (linear from 0, the Multi-Power-Law convention),
    /// constant, or linear:W.
    #[arg(long, value_name = "POLICY", default_value = "auto", value_parser = clap::value_parser!(WarmupPolicy))]
    pub warmup: WarmupPolicy,
    /// LR of the updates between two logged rows: linear (interpolated; for smooth schedules),
    /// hold (each row's LR until the next row: a step function), or auto (hold only a jump
    /// between two flat stretches of rows, e.g. a step decay or a two-stage WSD; linear
    /// elsewhere).
    #[arg(long, value_name = "RULE", default_value = "linear", value_parser = clap::value_parser!(LrBetweenRows))]
    pub lr_between_rows: LrBetweenRows,
}

impl CurveReadArgs {
    /// The library's reading options.
    pub fn options(&self) -> ReadOptions {
        let mut opts = self.lr_fill();
        opts.loss_column.clone_from(&self.loss_column);
        opts.step_column.clone_from(&self.step_column);
        opts.lr_column.clone_from(&self.lr_column);
        opts.batch_column.clone_from(&self.batch_column);
        opts.parent.clone_from(&self.parent);
        opts
    }

    /// Default options with only the LR filling of `--warmup` and `--lr-between-rows`.
    fn lr_fill(&self) -> ReadOptions {
        ReadOptions::default()
            .with_warmup(self.warmup)
            .with_lr_between_rows(self.lr_between_rows)
    }

    /// [`Self::options`] with the `--lr-schedule` grid, which may fail.
    pub fn options_with_schedule(&self) -> CliResult<ReadOptions> {
        let opts = self.options();
        if let Some(p) = self.parent.as_deref().filter(|p| !p.is_file()) {
            return Err(CliError::user(format!(
                "--parent {}: no such file",
                p.display()
            )));
        }
        let Some(text) = &self.lr_schedule else {
            return Ok(opts);
        };
        // A file of logged LRs (e.g. TensorBoard's export of the LR scalar) is rebuilt by the
        // same --warmup and --lr-between-rows as a curve file's own LR column.
        let c = candidate_read(text, "--lr-schedule", &self.lr_fill())?;
        check_predict_len(c.schedule.steps(), "--lr-schedule", text)?;
        Ok(opts.with_schedule(ScheduleArg::from_candidate(&c).grid))
    }
}

/// Reads every curve; errors name the failing file, line and column.
pub fn read_curves(
    paths: &[std::path::PathBuf],
    args: &CurveReadArgs,
) -> CliResult<Vec<lrsde::data::TrainingCurve>> {
    let opts = args.options_with_schedule()?;
    let mut curves = Vec::with_capacity(paths.len());
    for p in paths {
        let (curve, jumps) = lrsde::data::read_curve_with_jumps(p, &opts)
            .map_err(|e| CliError::user(e.to_string()))?;
        if args.lr_between_rows == LrBetweenRows::Linear
            && let Some(w) = ramped_jump_warning(p, &jumps)
        {
            eprintln!("warning: {w}");
        }
        curves.push(curve);
    }
    Ok(curves)
}

/// The warning for a file whose logged LR jumps the default linear rule ramps over the gap
/// between two rows; `None` without such a jump.
fn ramped_jump_warning(path: &Path, jumps: &[lrsde::data::LoggedJump]) -> Option<String> {
    let what = lrsde::data::LoggedJump::describe(jumps)?;
    Some(format!(
        "{}: {what} (--lr-between-rows linear, the default); if the schedule stepped there, \
         --lr-between-rows auto keeps it a step",
        path.display()
    ))
}

/// `--resume FILE --at K` of `predict` and `rank`: the observed run and K, checked to cover K
/// updates.
pub fn read_resume(
    path: &std::path::Path,
    at: u64,
    read: &CurveReadArgs,
) -> CliResult<(lrsde::data::TrainingCurve, u64)> {
    check_predict_len(at, "--at", &at.to_string())?;
    let observed = read_curves(std::slice::from_ref(&path.to_path_buf()), read)?
        .pop()
        .ok_or_else(|| CliError::Internal("no curve read".into()))?;
    // Checked here so the message names the flags rather than a library call.
    lrsde::rank::fork_prefix(&observed, at)
        .map_err(|e| CliError::user(format!("--resume {} --at {at}: {e}", path.display())))?;
    Ok((observed, at))
}

/// The `--batch-schedule SPEC|FILE` flag of `predict` and `rank`.
#[derive(Debug, Clone, clap::Args)]
pub struct BatchScheduleArgs {
    /// Batch-size schedule of every predicted run: a spec in the schedule grammar read as
    /// batch sizes (e.g. constant:peak=1024,steps=10000,warmup=2000 ramps to 1024) or a file
    /// with a batch_size column; the last batch holds past its end. With --resume it starts
    /// after --at (the run's own batch_size column covers updates 1..=K). Needs a sim: law
    /// fitted on curves with a batch_size column; other laws accept only a constant batch.
    #[arg(long, value_name = "SPEC|FILE")]
    pub batch_schedule: Option<String>,
}

impl BatchScheduleArgs {
    /// `predictor` following the batch schedule: the flag's grid, after the resumed run's
    /// own batch sizes for updates `1..=at` when `resumed` is given.
    pub fn apply(
        &self,
        predictor: lrsde::fit::Predictor,
        resumed: Option<(&lrsde::data::TrainingCurve, u64)>,
    ) -> CliResult<lrsde::fit::Predictor> {
        let flag = "--batch-schedule";
        let given = self
            .batch_schedule
            .as_deref()
            .map(|t| batch_schedule(t, flag).map(|g| (t, g)))
            .transpose()?;
        let grid = match (resumed, given) {
            (None, None) => return Ok(predictor),
            (None, Some((_, g))) => g,
            (Some((run, at)), given) => {
                let Some(prefix) = &run.batch else {
                    return match given {
                        None => Ok(predictor),
                        Some((text, _)) => Err(CliError::user(format!(
                            "{flag} {text}: with --resume the batch schedule starts after \
                             --at {at}, so the run `{}` needs its own batch sizes for updates \
                             1..={at}: give it a batch_size column (or name one with \
                             --batch-column)",
                            run.name
                        ))),
                    };
                };
                let mut all: Vec<f64> = (0..at as usize).map(|t| prefix.at(t)).collect();
                if let Some((_, g)) = given {
                    all.extend_from_slice(g.as_slice());
                }
                BatchGrid::new(all).map_err(|e| CliError::user(format!("{flag}: {e}")))?
            }
        };
        predictor.with_batch_schedule(Some(grid)).map_err(|e| {
            let what = self.batch_schedule.as_deref().map_or_else(
                || "--resume: the run's batch_size column".to_owned(),
                |t| format!("{flag} {t}"),
            );
            CliError::user(format!("{what}: {e}"))
        })
    }
}
