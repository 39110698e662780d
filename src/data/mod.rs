//! Observed training curves and their readers (CSV, JSONL, W&B-style JSON, Hugging Face
//! `trainer_state.json`, and the CSV exports of TensorBoard and the W&B web UI).
//!
//! The entry point is [`read_curve`]: it picks the format from the extension (`.csv`, `.jsonl`
//! / `.ndjson`, `.json`) or, failing that, from the content, and returns a [`TrainingCurve`]
//! with one LR per update. [`read_lr_column`] reads only the LRs (for `--schedule FILE`);
//! [`read_wandb_branch`] splices a W&B cooldown branch onto the run it was forked from.
//!
//! # Conventions (the "Curve files" contract; details in `docs/data-formats.md`)
//!
//! * `step` is the update count, 1-based: the loss in a row was measured after `step` updates,
//!   and `lr` is the LR used *for* update `step`.
//! * The loss column is `ReadOptions::loss_column` if set, else the first present of
//!   `eval_loss`, `val_loss`, `loss`, `train_loss`, then of [`LOSS_ALIASES`]; the step and LR
//!   columns likewise ([`STEP_ALIASES`], [`LR_ALIASES`]). Column names match case-insensitively,
//!   W&B web-UI columns `<run> - <metric>` by their metric, and two columns matching one name
//!   are an error ([`DataError::AmbiguousColumn`]).
//! * Empty cells (JSON `null`) are missing values: a row without a loss still gives an LR, and
//!   sparse evaluation points are normal.
//! * Sparse `lr` rows are interpolated linearly (or each row's LR is held until the next row:
//!   [`ReadOptions::lr_between_rows`], for schedules that jump); after the last row the LR is
//!   held; before the first row a [`WarmupPolicy`] applies (default: linear warmup from 0, the
//!   Multi-Power-Law convention). An explicit schedule ([`ReadOptions::schedule`]) replaces
//!   the file's LRs.
//! * An optional `batch_size` column ([`ReadOptions::batch_column`], [`BATCH_ALIASES`]; CSV,
//!   JSONL and JSON row arrays) gives [`TrainingCurve::batch`], rebuilt as the LR is (linear
//!   between logged rows, the last one held) except before the first row, where the first
//!   logged batch size is held back to update 1 (a warmup from 0 would be a batch of 0). Log
//!   every update, or at least each jump, to keep a stepped ramp stepped.

mod cells;
mod columns;
mod csv;
mod error;
mod hf;
mod jsonl;
mod lr_reconstruct;
mod wandb;

use std::path::{Path, PathBuf};

pub use cells::DEFAULT_LOSS_COLUMNS;
pub use columns::{
    BATCH_ALIASES, CurveColumns, LOSS_ALIASES, LR_ALIASES, STEP_ALIASES, curve_columns,
};
pub use error::{DataError, Location};
pub use lr_reconstruct::{
    LoggedJump, LrBetweenRows, WarmupPolicy, logged_jumps, reconstruct_lrs, reconstruct_lrs_with,
};

use crate::schedule::{BatchGrid, LrGrid};
use cells::{Purpose, RawCurve, check_text, strip_bom};
use jsonl::{RowAt, json_error};
use serde_json::Value;

/// One observed training run: the LR of every update and the losses observed at some steps.
///
/// `lrs[t]` is the LR of update `t + 1`; `steps` are 1-based update counts, strictly
/// increasing, each `<= lrs.len()`; `losses[j]` was observed after `steps[j]` updates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingCurve {
    /// A human-readable name (file name or run id).
    pub name: String,
    /// Per-update learning rates (validated by [`LrGrid::new`]).
    pub lrs: LrGrid,
    /// Observed steps (1-based).
    pub steps: Vec<u64>,
    /// Observed losses, one per entry of `steps`.
    pub losses: Vec<f64>,
    /// Per-update batch sizes when the run had a batch schedule (a file's `batch_size` column);
    /// `None`: one batch size throughout, the law's reference. Laws whose gradient noise scales
    /// with `1/batch` (the `sim:` laws) use it; the others accept only a constant grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchGrid>,
}

/// Default for [`ReadOptions::max_steps`]: 20 million updates (160 MB of LRs).
pub const DEFAULT_MAX_STEPS: u64 = 20_000_000;

/// How to read a curve file.
///
/// ```
/// use lrsde::data::{ReadOptions, WarmupPolicy};
/// let opts = ReadOptions::default()
///     .with_loss_column("train_loss")
///     .with_step_column("iteration")
///     .with_lr_column("lr-AdamW")
///     .with_warmup(WarmupPolicy::Linear { steps: 2160 });
/// assert_eq!(opts.loss_column.as_deref(), Some("train_loss"));
/// assert_eq!(opts.step_column.as_deref(), Some("iteration"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// The loss column (`--loss-column`); `None` picks the first present of
    /// [`DEFAULT_LOSS_COLUMNS`]. For W&B files this is a key inside a history section
    /// (`val_loss`, `train_loss`).
    pub loss_column: Option<String>,
    /// The step column (`--step-column`); `None` tries `step`, then [`STEP_ALIASES`]. Not used
    /// by W&B-style JSON (its sections count `iter`).
    pub step_column: Option<String>,
    /// The LR column (`--lr-column`); `None` tries `lr`, then [`LR_ALIASES`]. For W&B files a
    /// key of `history.train`.
    pub lr_column: Option<String>,
    /// The batch-size column (`--batch-column`, then it must exist); `None` tries
    /// `batch_size`, then [`BATCH_ALIASES`], and a file without one has no batch schedule.
    /// Read from CSV, JSONL and JSON row arrays.
    pub batch_column: Option<String>,
    /// The run a W&B branch (a cooldown forked with `config.resume_from`) was forked from
    /// (`--parent`): used instead of looking for `<parent run>.json` beside the branch. Files
    /// that are not branches ignore it, so one parent serves a mix of runs.
    pub parent: Option<PathBuf>,
    /// How to fill the updates before the first LR row (`--warmup`).
    pub warmup: WarmupPolicy,
    /// How to fill the updates between two LR rows (`--lr-between-rows`): linear (default),
    /// held, or held only across a jump between flat stretches (for logs of schedules that
    /// jump).
    pub lr_between_rows: LrBetweenRows,
    /// An explicit per-update schedule (`--schedule`): replaces the file's LRs entirely; the
    /// file then needs no `lr` column. It must cover the last observed step.
    pub schedule: Option<LrGrid>,
    /// For [`read_wandb_branch`]: the fork step, overriding the one found in the branch file.
    pub fork_step: Option<u64>,
    /// Refuse curves longer than this many updates (protects against absurd steps).
    pub max_steps: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            loss_column: None,
            step_column: None,
            lr_column: None,
            batch_column: None,
            parent: None,
            warmup: WarmupPolicy::Auto,
            lr_between_rows: LrBetweenRows::Linear,
            schedule: None,
            fork_step: None,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }
}

impl ReadOptions {
    /// Uses `column` as the loss column.
    pub fn with_loss_column(mut self, column: impl Into<String>) -> Self {
        self.loss_column = Some(column.into());
        self
    }

    /// Uses `column` as the step column.
    pub fn with_step_column(mut self, column: impl Into<String>) -> Self {
        self.step_column = Some(column.into());
        self
    }

    /// Uses `column` as the LR column.
    pub fn with_lr_column(mut self, column: impl Into<String>) -> Self {
        self.lr_column = Some(column.into());
        self
    }

    /// Uses `column` as the batch-size column.
    ///
    /// ```
    /// let opts = lrsde::data::ReadOptions::default().with_batch_column("bs");
    /// assert_eq!(opts.batch_column.as_deref(), Some("bs"));
    /// ```
    pub fn with_batch_column(mut self, column: impl Into<String>) -> Self {
        self.batch_column = Some(column.into());
        self
    }

    /// Splices W&B branches onto the run in `path` instead of looking for it beside them.
    pub fn with_parent(mut self, path: impl Into<PathBuf>) -> Self {
        self.parent = Some(path.into());
        self
    }

    /// Sets the warmup policy.
    pub fn with_warmup(mut self, warmup: WarmupPolicy) -> Self {
        self.warmup = warmup;
        self
    }

    /// Sets how the updates between two LR rows are filled.
    ///
    /// ```
    /// use lrsde::data::{LrBetweenRows, ReadOptions};
    /// let opts = ReadOptions::default().with_lr_between_rows(LrBetweenRows::Hold);
    /// assert_eq!(opts.lr_between_rows, LrBetweenRows::Hold);
    /// ```
    pub fn with_lr_between_rows(mut self, between: LrBetweenRows) -> Self {
        self.lr_between_rows = between;
        self
    }

    /// Uses `grid` as the LR of every update instead of the file's `lr` column.
    pub fn with_schedule(mut self, grid: LrGrid) -> Self {
        self.schedule = Some(grid);
        self
    }

    /// Sets the fork step for [`read_wandb_branch`].
    pub fn with_fork_step(mut self, step: u64) -> Self {
        self.fork_step = Some(step);
        self
    }

    /// Sets the longest curve accepted, in updates.
    pub fn with_max_steps(mut self, max_steps: u64) -> Self {
        self.max_steps = max_steps;
        self
    }
}

/// A curve file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row (TensorBoard's and the W&B web UI's CSV exports are recognised by
    /// their headers).
    Csv,
    /// JSON Lines: one object per line with the CSV column names as keys.
    Jsonl,
    /// One JSON document: a W&B-style export (object with `history`), a Hugging Face
    /// `trainer_state.json` (object with `log_history`) or an array of row objects.
    Json,
}

impl Format {
    /// The format implied by a file extension (`csv`, `jsonl`/`ndjson`, `json`), if any.
    ///
    /// ```
    /// use lrsde::data::Format;
    /// use std::path::Path;
    /// assert_eq!(Format::from_path(Path::new("run.JSONL")), Some(Format::Jsonl));
    /// assert_eq!(Format::from_path(Path::new("run.txt")), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    /// Guesses the format from the content: `[` → JSON; `{` → JSON if the whole input is one
    /// JSON value, else JSONL; anything else → CSV.
    ///
    /// ```
    /// use lrsde::data::Format;
    /// assert_eq!(Format::sniff(b"step,lr,loss\n1,0.1,2.0\n"), Format::Csv);
    /// assert_eq!(Format::sniff(b"{\"step\":1}\n{\"step\":2}\n"), Format::Jsonl);
    /// assert_eq!(Format::sniff(b"{\"history\":{}}"), Format::Json);
    /// ```
    pub fn sniff(bytes: &[u8]) -> Self {
        let bytes = strip_bom(bytes);
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => Format::Json,
            Some(b'{') => {
                if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
                    Format::Json
                } else {
                    Format::Jsonl
                }
            }
            _ => Format::Csv,
        }
    }
}

/// A parsed file: either self-contained, or a W&B branch that needs its parent.
enum Parsed {
    Plain(RawCurve),
    Branch {
        raw: RawCurve,
        parent: String,
        fork: u64,
    },
}

fn parse_bytes(
    bytes: &[u8],
    path: &str,
    format: Format,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<Parsed, DataError> {
    check_text(bytes, path)?;
    match format {
        Format::Csv => csv::parse(bytes, path, opts, purpose).map(Parsed::Plain),
        Format::Jsonl => jsonl::parse(bytes, path, opts, purpose).map(Parsed::Plain),
        Format::Json => {
            let run = parse_json(bytes, path, opts, purpose)?;
            Ok(match run {
                JsonDoc::Rows(raw) => Parsed::Plain(raw),
                JsonDoc::Wandb(w) => match w.fork {
                    Some((parent, fork)) => Parsed::Branch {
                        raw: w.raw,
                        parent,
                        fork,
                    },
                    None => Parsed::Plain(w.raw),
                },
            })
        }
    }
}

enum JsonDoc {
    Rows(RawCurve),
    Wandb(wandb::WandbRun),
}

fn parse_json(
    bytes: &[u8],
    path: &str,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<JsonDoc, DataError> {
    check_text(bytes, path)?;
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty {
            path: path.to_owned(),
        });
    }
    let root: Value = serde_json::from_slice(bytes).map_err(|e| json_error(path, 0, &e))?;
    match root {
        Value::Array(items) => {
            let rows = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok((RowAt::Index(i), m)),
                    _ => Err(DataError::MissingKey {
                        at: Location::file(path).key(format!("[{i}]")),
                        expected: "a row object".to_owned(),
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?;
            jsonl::rows_to_raw(rows, path, opts, purpose).map(JsonDoc::Rows)
        }
        Value::Object(map) if map.contains_key("history") => {
            wandb::parse(&map, path, opts, purpose).map(JsonDoc::Wandb)
        }
        Value::Object(map) if map.contains_key("log_history") => {
            hf::parse(&map, path, opts, purpose).map(JsonDoc::Rows)
        }
        Value::Object(map) if map.keys().any(|k| k.trim().eq_ignore_ascii_case("step")) => {
            jsonl::rows_to_raw(vec![(RowAt::Line(1), map)], path, opts, purpose).map(JsonDoc::Rows)
        }
        _ => Err(DataError::MissingKey {
            at: Location::file(path).key("history"),
            expected: "a W&B export (an object with `history`), a Hugging Face \
                       trainer_state.json (`log_history`) or an array of row objects"
                .to_owned(),
        }),
    }
}

/// Builds the curve from raw rows: per-update LRs, then the losses.
fn build_curve(
    raw: RawCurve,
    name: String,
    opts: &ReadOptions,
) -> Result<TrainingCurve, DataError> {
    let path = raw.path.clone();
    let Some(&(last_loss, _)) = raw.loss_rows.last() else {
        return Err(DataError::NoLossValues {
            path,
            column: raw.loss_column.unwrap_or_default(),
        });
    };
    let lrs = match &opts.schedule {
        Some(grid) => {
            if (grid.len() as u64) < last_loss {
                return Err(DataError::ScheduleTooShort {
                    path,
                    len: grid.len() as u64,
                    needed: last_loss,
                });
            }
            grid.clone()
        }
        None => {
            let end = raw.lr_rows.last().map_or(0, |r| r.0);
            let n = raw.total.map_or(end, |t| t).max(last_loss);
            grid_of(&raw, lrs_from_rows(&raw, n, opts)?)?
        }
    };
    let batch = batch_grid(&raw.batch_rows, lrs.len());
    let (steps, losses) = raw.loss_rows.into_iter().unzip();
    Ok(TrainingCurve {
        name,
        lrs,
        steps,
        losses,
        batch,
    })
}

/// One batch size per update from a table's sparse `(step, batch size)` rows (steps strictly
/// increasing), by the rule of the file readers (see the module docs): each value checked as a
/// file's cell is, then linear
/// between rows, the first held back to update 1 and the last held to update `updates`. For
/// tables that are not files (the Python package's data frames); `at(i)` names row `i` in an
/// error. `Ok(None)` without rows: no batch schedule.
///
/// ```
/// use lrsde::data::{Location, batch_grid_from_rows};
/// let at = |i: usize| Location::file(format!("row {i}"));
/// let grid = batch_grid_from_rows(&[(1, 8.0), (3, 16.0)], 4, at).unwrap().unwrap();
/// assert_eq!(grid.as_slice(), &[8.0, 12.0, 16.0, 16.0]);
/// assert!(batch_grid_from_rows(&[(1, 0.0)], 4, at).is_err());
/// ```
///
/// # Errors
/// [`DataError::BadBatch`] at `at(i)` for the first row `i` whose batch size is not finite and
/// `> 0`.
pub fn batch_grid_from_rows(
    rows: &[(u64, f64)],
    updates: usize,
    at: impl Fn(usize) -> Location,
) -> Result<Option<BatchGrid>, DataError> {
    for (i, &(_, value)) in rows.iter().enumerate() {
        cells::check_batch(value, &at(i))?;
    }
    Ok(batch_grid(rows, updates))
}

/// One batch size per update from sparse rows (the LR's rule, the first value held back to
/// update 1; see the module docs); `None` without rows.
fn batch_grid(rows: &[(u64, f64)], n: usize) -> Option<BatchGrid> {
    if rows.is_empty() {
        return None;
    }
    // Every value was checked `> 0` cell by cell, so interpolation keeps them `> 0`; an empty
    // curve has no loss and failed before this.
    BatchGrid::new(reconstruct_lrs(rows, n as u64, WarmupPolicy::Constant)).ok()
}

fn lrs_from_rows(raw: &RawCurve, n: u64, opts: &ReadOptions) -> Result<Vec<f64>, DataError> {
    if !raw.has_lr {
        let hint = if raw.lr_hint.is_empty() {
            columns::NO_LR_HINT
        } else {
            &raw.lr_hint
        };
        return Err(DataError::MissingColumn {
            path: raw.path.clone(),
            column: opts.lr_column.clone().unwrap_or_else(|| "lr".to_owned()),
            found: raw.found.clone(),
            hint: hint.to_owned(),
        });
    }
    if raw.lr_rows.is_empty() {
        return Err(DataError::NoLrValues {
            path: raw.path.clone(),
        });
    }
    if n > opts.max_steps {
        return Err(DataError::TooManySteps {
            path: raw.path.clone(),
            step: n,
            limit: opts.max_steps,
        });
    }
    Ok(reconstruct_lrs_with(
        &raw.lr_rows,
        n,
        opts.warmup,
        opts.lr_between_rows,
    ))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Maximum nesting of W&B branches (a branch of a branch of …).
const MAX_BRANCH_DEPTH: usize = 8;

/// Reads a file into raw rows, splicing W&B branches onto their parents found beside them.
fn load_raw(
    path: &Path,
    opts: &ReadOptions,
    purpose: Purpose,
    depth: usize,
) -> Result<RawCurve, DataError> {
    let bytes = read_bytes(path)?;
    let shown = path.display().to_string();
    let format = Format::from_path(path).unwrap_or_else(|| Format::sniff(&bytes));
    match parse_bytes(&bytes, &shown, format, opts, purpose)? {
        Parsed::Plain(raw) => Ok(raw),
        Parsed::Branch { raw, parent, fork } => {
            if depth >= MAX_BRANCH_DEPTH {
                return Err(DataError::BadFork {
                    path: shown,
                    fork_step: fork,
                    reason: format!("branches nest more than {MAX_BRANCH_DEPTH} deep"),
                });
            }
            let given = opts.parent.clone().filter(|_| depth == 0);
            let parent_path = given
                .or_else(|| find_parent(path, &parent))
                .ok_or_else(|| DataError::MissingParent {
                    path: shown.clone(),
                    parent: parent.clone(),
                    fork_step: fork,
                })?;
            let praw = load_raw(&parent_path, opts, purpose, depth + 1)?;
            wandb::splice(praw, raw, fork, &shown)
        }
    }
}

/// Looks for `<parent>.json` beside `path`, then one directory up.
fn find_parent(path: &Path, parent: &str) -> Option<PathBuf> {
    let file = format!("{parent}.json");
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    [Some(dir.to_path_buf()), dir.parent().map(Path::to_path_buf)]
        .into_iter()
        .flatten()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
}

/// Reads a training curve from a CSV, JSONL or JSON (W&B-style, Hugging Face
/// `trainer_state.json` or row array) file.
///
/// The format comes from the extension, else from the content ([`Format::sniff`]); TensorBoard
/// and W&B web-UI CSV exports are recognised by their header. A W&B run that was forked from
/// another run (`config.resume_from = ".../<run>/ckpts/<N>"`) is spliced onto
/// [`ReadOptions::parent`] if set, else onto `<run>.json` found in the same directory or the
/// one above.
///
/// ```
/// use lrsde::data::{ReadOptions, read_curve};
/// let path = std::env::temp_dir().join("lrsde_doc_read_curve.csv");
/// std::fs::write(&path, "step,lr,loss\n4,0.4,3.0\n8,0.2,2.5\n").unwrap();
/// let curve = read_curve(&path, &ReadOptions::default()).unwrap();
/// assert_eq!(curve.steps, vec![4, 8]);
/// assert_eq!(curve.lrs.len(), 8);
/// assert!((curve.lrs[0] - 0.1).abs() < 1e-15); // linear warmup from 0 before step 4
/// # std::fs::remove_file(&path).ok();
/// ```
///
/// # Errors
/// Every [`DataError`] names the file, and where it applies the line, column and key.
pub fn read_curve(path: &Path, opts: &ReadOptions) -> Result<TrainingCurve, DataError> {
    let raw = load_raw(path, opts, Purpose::Curve, 0)?;
    build_curve(raw, stem(path), opts)
}

/// [`read_curve`], and the jumps between flat stretches in the file's logged LR rows
/// ([`logged_jumps`]; none when [`ReadOptions::schedule`] replaces them): where reading with
/// [`LrBetweenRows::Linear`] (the default) ramps a drop that [`LrBetweenRows::Auto`] would
/// hold. The CLI and Python warn about them.
///
/// ```
/// use lrsde::data::{ReadOptions, read_curve_with_jumps};
/// let path = std::env::temp_dir().join("lrsde_doc_read_curve_with_jumps.csv");
/// std::fs::write(&path, "step,lr,loss\n10,0.1,3\n20,0.1,2.9\n30,0.01,2.7\n40,0.01,2.6\n").unwrap();
/// let (curve, jumps) = read_curve_with_jumps(&path, &ReadOptions::default()).unwrap();
/// assert_eq!((jumps[0].from_step, jumps[0].to_step), (20, 30));
/// assert!((curve.lrs[24] - 0.055).abs() < 1e-12); // update 25, halfway down the ramp
/// # std::fs::remove_file(&path).ok();
/// ```
///
/// # Errors
/// As [`read_curve`].
pub fn read_curve_with_jumps(
    path: &Path,
    opts: &ReadOptions,
) -> Result<(TrainingCurve, Vec<LoggedJump>), DataError> {
    let raw = load_raw(path, opts, Purpose::Curve, 0)?;
    let jumps = if opts.schedule.is_none() {
        logged_jumps(&raw.lr_rows)
    } else {
        Vec::new()
    };
    Ok((build_curve(raw, stem(path), opts)?, jumps))
}

/// Reads a training curve from text in a given format; `name` names the curve and the errors.
///
/// W&B branches cannot be spliced here (there is no directory to find the parent in): they
/// return [`DataError::MissingParent`].
///
/// ```
/// use lrsde::data::{Format, ReadOptions, read_curve_str};
/// let text = "{\"step\": 1, \"lr\": 0.1, \"loss\": 3.0}\n{\"step\": 2, \"lr\": 0.1}\n\
///             {\"step\": 3, \"lr\": 0.05, \"loss\": 2.0}\n";
/// let curve = read_curve_str(text, "run", Format::Jsonl, &ReadOptions::default()).unwrap();
/// assert_eq!(curve.steps, vec![1, 3]);
/// assert_eq!(curve.lrs, vec![0.1, 0.1, 0.05]);
/// ```
///
/// # Errors
/// As [`read_curve`].
pub fn read_curve_str(
    text: &str,
    name: &str,
    format: Format,
    opts: &ReadOptions,
) -> Result<TrainingCurve, DataError> {
    read_curve_bytes(text.as_bytes(), name, format, opts)
}

/// Reads a training curve from bytes in a given format (see [`read_curve_str`]).
///
/// ```
/// use lrsde::data::{Format, ReadOptions, read_curve_bytes};
/// let bytes = b"\xEF\xBB\xBFstep,lr,val_loss\r\n1,0.1,3.0\r\n";
/// let curve = read_curve_bytes(bytes, "bom.csv", Format::Csv, &ReadOptions::default()).unwrap();
/// assert_eq!(curve.losses, vec![3.0]);
/// ```
///
/// # Errors
/// As [`read_curve`].
pub fn read_curve_bytes(
    bytes: &[u8],
    name: &str,
    format: Format,
    opts: &ReadOptions,
) -> Result<TrainingCurve, DataError> {
    match parse_bytes(bytes, name, format, opts, Purpose::Curve)? {
        Parsed::Plain(raw) => build_curve(raw, name.to_owned(), opts),
        Parsed::Branch { parent, fork, .. } => Err(DataError::MissingParent {
            path: name.to_owned(),
            parent,
            fork_step: fork,
        }),
    }
}

/// Reads a training curve from any reader (see [`read_curve_str`]).
///
/// ```
/// use lrsde::data::{Format, ReadOptions, read_curve_reader};
/// let input = std::io::Cursor::new("step,lr,loss\n1,0.1,3.0\n");
/// let curve = read_curve_reader(input, "run", Format::Csv, &ReadOptions::default()).unwrap();
/// assert_eq!(curve.lrs, vec![0.1]);
/// ```
///
/// # Errors
/// [`DataError::Io`] if reading fails, else as [`read_curve`].
pub fn read_curve_reader<R: std::io::Read>(
    mut reader: R,
    name: &str,
    format: Format,
    opts: &ReadOptions,
) -> Result<TrainingCurve, DataError> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Io {
            path: name.to_owned(),
            source,
        })?;
    read_curve_bytes(&bytes, name, format, opts)
}

/// Reads a W&B branch run (e.g. an `ann*` cooldown) and splices it onto its parent run.
///
/// The curve takes the parent's LRs and losses up to and including the fork step, then the
/// branch's. The fork step is [`ReadOptions::fork_step`] if set, else the `<N>` of the
/// branch's `config.resume_from = ".../ckpts/<N>"`, else the smallest `iter` in the branch's
/// `train` / `val` histories. The parent may be any curve file with an `lr` column.
///
/// ```no_run
/// use lrsde::data::{ReadOptions, read_wandb_branch};
/// use std::path::Path;
/// let _curve = read_wandb_branch(
///     Path::new("ann124-0.2_…_iter25000.json"),
///     Path::new("stable-124m_…_iter50000.json"),
///     &ReadOptions::default(),
/// )?;
/// # Ok::<(), lrsde::data::DataError>(())
/// ```
///
/// # Errors
/// As [`read_curve`], plus [`DataError::BadFork`] if the parent ends before the fork step.
pub fn read_wandb_branch(
    branch: &Path,
    parent: &Path,
    opts: &ReadOptions,
) -> Result<TrainingCurve, DataError> {
    let raw = load_branch(branch, parent, opts, Purpose::Curve)?;
    build_curve(raw, stem(branch), opts)
}

fn load_branch(
    branch: &Path,
    parent: &Path,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<RawCurve, DataError> {
    let shown = branch.display().to_string();
    let bytes = read_bytes(branch)?;
    let run = match parse_json(&bytes, &shown, opts, purpose)? {
        JsonDoc::Wandb(w) => w,
        JsonDoc::Rows(_) => {
            return Err(DataError::MissingKey {
                at: Location::file(&shown).key("history"),
                expected: "a W&B export (an object with `history`)".to_owned(),
            });
        }
    };
    let fork = opts
        .fork_step
        .or(run.fork.as_ref().map(|f| f.1))
        .or(run.first_iter)
        .unwrap_or(0);
    let praw = load_raw(parent, opts, purpose, 1)?;
    wandb::splice(praw, run.raw, fork, &shown)
}

/// Reads only the per-update LRs of a curve file (`--schedule FILE`): its `lr` column or an
/// alias ([`LR_ALIASES`]; W&B: `history.train.train_lr`; TensorBoard export: `Value`),
/// reconstructed as in [`read_curve`] with the default warmup.
/// Loss columns are ignored.
///
/// ```
/// use lrsde::data::read_lr_column;
/// let path = std::env::temp_dir().join("lrsde_doc_read_lr_column.csv");
/// std::fs::write(&path, "step,lr\n2,0.2\n4,0.1\n").unwrap();
/// let grid = read_lr_column(&path).unwrap();
/// let want = [0.1, 0.2, 0.15, 0.1]; // warmup, row, interpolated, row
/// assert!(grid.as_slice().iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15));
/// assert_eq!(grid.len(), 4);
/// # std::fs::remove_file(&path).ok();
/// ```
///
/// # Errors
/// As [`read_curve`]; [`DataError::MissingColumn`] if there is no `lr` column.
pub fn read_lr_column(path: &Path) -> Result<LrGrid, DataError> {
    read_lr_column_with(path, &ReadOptions::default())
}

/// [`read_lr_column`] with options (the warmup policy, the rule between rows and the step limit
/// are used).
///
/// # Errors
/// As [`read_lr_column`].
pub fn read_lr_column_with(path: &Path, opts: &ReadOptions) -> Result<LrGrid, DataError> {
    read_lr_column_with_jumps(path, opts).map(|(grid, _)| grid)
}

/// [`read_lr_column_with`] and the logged LR jumps between rows (as
/// [`read_curve_with_jumps`]), so a caller can say when the rule between rows ramped one.
///
/// ```
/// use lrsde::data::{LrBetweenRows, ReadOptions, read_lr_column_with_jumps};
/// let path = std::env::temp_dir().join("lrsde_doc_read_lr_column_jumps.csv");
/// // Flat at 0.1, then flat at 0.01 with 100 updates between the logged rows.
/// std::fs::write(&path, "step,lr\n100,0.1\n200,0.1\n300,0.1\n400,0.01\n500,0.01\n600,0.01\n").unwrap();
/// let (linear, jumps) = read_lr_column_with_jumps(&path, &ReadOptions::default()).unwrap();
/// assert_eq!(jumps.len(), 1);
/// assert!(linear.as_slice()[349] > 0.01); // ramped over the gap
/// let auto = ReadOptions::default().with_lr_between_rows(LrBetweenRows::Auto);
/// let (held, _) = read_lr_column_with_jumps(&path, &auto).unwrap();
/// assert_eq!(held.as_slice()[349], 0.1); // a step, held until the row after it
/// # std::fs::remove_file(&path).ok();
/// ```
///
/// # Errors
/// As [`read_lr_column`].
pub fn read_lr_column_with_jumps(
    path: &Path,
    opts: &ReadOptions,
) -> Result<(LrGrid, Vec<LoggedJump>), DataError> {
    let opts = ReadOptions {
        schedule: None,
        ..opts.clone()
    };
    let raw = load_raw(path, &opts, Purpose::LrOnly, 0)?;
    let end = raw.lr_rows.last().map_or(0, |r| r.0);
    let n = raw.total.unwrap_or(end);
    let lrs = lrs_from_rows(&raw, n, &opts)?;
    let jumps = logged_jumps(&raw.lr_rows);
    Ok((grid_of(&raw, lrs)?, jumps))
}

/// The reconstructed LRs as a grid. Every LR cell passed `cells::check_lr` (with its line) and
/// reconstruction only interpolates between them, so this names just the file if it fires.
fn grid_of(raw: &RawCurve, lrs: Vec<f64>) -> Result<LrGrid, DataError> {
    LrGrid::new(lrs).map_err(|e| DataError::BadValue {
        at: Location::file(raw.path.clone()),
        what: "learning rate",
        value: match e {
            crate::schedule::ScheduleError::BadLr { lr, .. } => lr,
            #[allow(unreachable_patterns)]
            _ => f64::NAN,
        },
    })
}

/// Names tried, in order, for a file's per-update batch size (`--batch-schedule FILE`); a
/// curve's `batch_size` column is found by the same names ([`BATCH_ALIASES`]).
pub const BATCH_COLUMNS: [&str; 4] = [
    "batch_size",
    "batch",
    "train/batch_size",
    "train_batch_size",
];

/// Reads a per-update batch-size grid from a curve or schedule file: the first of
/// [`BATCH_COLUMNS`] present, resolved by the same column rule as the LR column and rebuilt one
/// value per update as LRs are (linear between logged steps; a file starting after step 1 gets
/// the warmup fill from 0, which is rejected as a batch of 0).
///
/// ```
/// let dir = std::env::temp_dir().join(format!("lrsde-doc-batch-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("ramp.csv");
/// std::fs::write(&path, "step,batch_size\n1,8\n2,8\n3,16\n4,16\n").unwrap();
/// let grid = lrsde::data::read_batch_column(&path).unwrap();
/// assert_eq!(grid.as_slice(), &[8.0, 8.0, 16.0, 16.0]);
/// # std::fs::remove_dir_all(&dir).ok();
/// ```
///
/// # Errors
/// As [`read_curve`]; [`DataError::MissingColumn`] naming the tried names if none is present;
/// [`DataError::BadValue`] for a batch size that is not finite and `> 0`.
pub fn read_batch_column(path: &Path) -> Result<crate::schedule::BatchGrid, DataError> {
    let mut found = Vec::new();
    for name in BATCH_COLUMNS {
        let opts = ReadOptions {
            lr_column: Some(name.to_owned()),
            ..ReadOptions::default()
        };
        let raw = match load_raw(path, &opts, Purpose::LrOnly, 0) {
            Ok(raw) => raw,
            Err(DataError::MissingColumn { found: f, .. }) => {
                found = f;
                continue;
            }
            Err(e) => return Err(e),
        };
        let end = raw.lr_rows.last().map_or(0, |r| r.0);
        let n = raw.total.unwrap_or(end);
        let values = lrs_from_rows(&raw, n, &opts)?;
        return crate::schedule::BatchGrid::new(values).map_err(|e| DataError::BadValue {
            at: Location::file(raw.path.clone()),
            what: "batch size",
            value: match e {
                crate::schedule::ScheduleError::BadBatch { batch, .. } => batch,
                #[allow(unreachable_patterns)]
                _ => f64::NAN,
            },
        });
    }
    Err(DataError::MissingColumn {
        path: path.display().to_string(),
        column: BATCH_COLUMNS.join("` or `"),
        found,
        hint: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_uses_total_and_holds_last_lr() {
        let raw = RawCurve {
            path: "x".into(),
            lr_rows: vec![(2, 1.0), (4, 0.5)],
            loss_rows: vec![(3, 2.0)],
            total: Some(6),
            loss_column: Some("loss".into()),
            has_lr: true,
            found: vec![],
            lr_hint: String::new(),
            batch_rows: Vec::new(),
        };
        let c = build_curve(raw, "x".into(), &ReadOptions::default()).unwrap();
        assert_eq!(c.lrs, vec![0.5, 1.0, 0.75, 0.5, 0.5, 0.5]);
    }
}
