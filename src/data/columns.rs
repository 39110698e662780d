//! Which column (or JSON key) holds the step, the learning rate and the loss.
//!
//! Every reader resolves its columns here, with one rule (documented in `docs/data-formats.md`):
//!
//! 1. a name given by the caller (`--step-column`, `--lr-column`, `--loss-column`) is the only
//!    name tried; otherwise the canonical names (`step`, `lr`, [`DEFAULT_LOSS_COLUMNS`]) are tried
//!    in order, then the known aliases ([`STEP_ALIASES`], [`LR_ALIASES`], [`LOSS_ALIASES`]);
//! 2. each name is first compared with whole column names (case-insensitively, trimmed), then,
//!    when no column matches any name whole, with the metric part of W&B web-UI columns
//!    `<run name> - <metric>`;
//! 3. the W&B web UI's band columns (`… __MIN`, `… __MAX`) are never candidates;
//! 4. two columns that match the same name are an error ([`DataError::AmbiguousColumn`]) naming
//!    both and the flag that picks one; a name earlier in the list wins over a later one.

use super::ReadOptions;
use super::cells::DEFAULT_LOSS_COLUMNS;
use super::error::DataError;

/// Known other names of the step column, tried after `step`, in this order.
///
/// `global_step` is Hugging Face's and TensorFlow's; `train/global_step` is what the Hugging Face
/// W&B callback plots against; `trainer/global_step` is PyTorch Lightning's W&B logger;
/// `_step` is W&B's own step.
pub const STEP_ALIASES: [&str; 4] = [
    "global_step",
    "train/global_step",
    "trainer/global_step",
    "_step",
];

/// Known other names of the learning-rate column, tried after `lr`, in this order.
pub const LR_ALIASES: [&str; 5] = [
    "learning_rate",
    "train/learning_rate",
    "train/lr",
    "train_lr",
    "train_learning_rate",
];

/// Known other names of loss columns, tried after [`DEFAULT_LOSS_COLUMNS`], in this order
/// (evaluation before training, as the defaults).
pub const LOSS_ALIASES: [&str; 4] = ["eval/loss", "val/loss", "validation/loss", "train/loss"];

/// Known other names of the batch-size column, tried after `batch_size`, in this order.
pub const BATCH_ALIASES: [&str; 3] = ["batch", "train/batch_size", "train_batch_size"];

/// What a column is looked up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Step,
    Lr,
    Loss,
    Batch,
}

impl Role {
    /// The word used in messages.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Role::Step => "step",
            Role::Lr => "lr",
            Role::Loss => "loss",
            Role::Batch => "batch_size",
        }
    }

    /// The CLI flag that names this column.
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Role::Step => "--step-column",
            Role::Lr => "--lr-column",
            Role::Loss => "--loss-column",
            Role::Batch => "--batch-column",
        }
    }

    /// Names tried when the caller names none: canonical first, then aliases.
    pub(crate) fn default_names(self) -> Vec<&'static str> {
        let (canonical, aliases): (&[&str], &[&str]) = match self {
            Role::Step => (&["step"], &STEP_ALIASES),
            Role::Lr => (&["lr"], &LR_ALIASES),
            Role::Loss => (&DEFAULT_LOSS_COLUMNS, &LOSS_ALIASES),
            Role::Batch => (&["batch_size"], &BATCH_ALIASES),
        };
        canonical.iter().chain(aliases).copied().collect()
    }

    /// The names to try: the requested one alone, else the defaults.
    pub(crate) fn names(self, requested: Option<&str>) -> Vec<String> {
        match requested {
            Some(r) => vec![r.to_owned()],
            None => self.default_names().into_iter().map(String::from).collect(),
        }
    }
}

/// A column chosen for a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Its index in the column list.
    pub index: usize,
    /// Whether it matched as a W&B web-UI column `<run> - <metric>` rather than whole.
    pub prefixed: bool,
}

/// Whether `column` is a W&B web-UI band column (`<run> - <metric>__MIN` / `__MAX`).
pub(crate) fn is_band(column: &str) -> bool {
    let c = column.trim();
    c.ends_with("__MIN") || c.ends_with("__MAX")
}

/// `(run, metric)` of a W&B web-UI column `<run> - <metric>`.
pub(crate) fn split_run(column: &str) -> Option<(&str, &str)> {
    let (run, metric) = column.trim().rsplit_once(" - ")?;
    let (run, metric) = (run.trim(), metric.trim());
    (!run.is_empty() && !metric.is_empty()).then_some((run, metric))
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Finds the column for `role` (see the module rule). `run` limits the W&B web-UI columns to
/// that run's (the run of the loss column, so that its LR goes with it).
/// `Ok(None)` when nothing matches; the caller decides whether that is an error.
pub(crate) fn resolve(
    path: &str,
    columns: &[String],
    role: Role,
    requested: Option<&str>,
    run: Option<&str>,
) -> Result<Option<Hit>, DataError> {
    let names = role.names(requested);
    let usable = |c: &String| !is_band(c);
    for name in &names {
        let hits: Vec<usize> = (0..columns.len())
            .filter(|&i| usable(&columns[i]) && same(&columns[i], name))
            .collect();
        if let Some(index) = one(path, columns, role, &hits)? {
            return Ok(Some(Hit {
                index,
                prefixed: false,
            }));
        }
    }
    for name in &names {
        let mut hits: Vec<usize> = (0..columns.len())
            .filter(|&i| {
                usable(&columns[i]) && split_run(&columns[i]).is_some_and(|(_, m)| same(m, name))
            })
            .collect();
        if let Some(run) = run {
            // Another run's column is never this run's LR.
            hits.retain(|&i| split_run(&columns[i]).is_some_and(|(r, _)| r == run));
        }
        if let Some(index) = one(path, columns, role, &hits)? {
            return Ok(Some(Hit {
                index,
                prefixed: true,
            }));
        }
    }
    Ok(None)
}

/// The single hit, `None` for no hit, an error for several.
fn one(
    path: &str,
    columns: &[String],
    role: Role,
    hits: &[usize],
) -> Result<Option<usize>, DataError> {
    match hits {
        [] => Ok(None),
        [i] => Ok(Some(*i)),
        _ => Err(DataError::AmbiguousColumn {
            path: path.to_owned(),
            role: role.label(),
            candidates: hits.iter().map(|&i| columns[i].clone()).collect(),
            flag: role.flag(),
        }),
    }
}

/// The columns a message should list: all but the W&B web-UI band columns.
pub(crate) fn listed(columns: &[String]) -> Vec<String> {
    columns.iter().filter(|c| !is_band(c)).cloned().collect()
}

/// The step column (required): `--step-column`, else `step` or an alias.
pub(crate) fn step_column(
    path: &str,
    columns: &[String],
    opts: &ReadOptions,
) -> Result<Hit, DataError> {
    resolve(path, columns, Role::Step, opts.step_column.as_deref(), None)?.ok_or_else(|| {
        DataError::MissingColumn {
            path: path.to_owned(),
            column: opts
                .step_column
                .clone()
                .unwrap_or_else(|| "step".to_owned()),
            found: listed(columns),
            hint: "; choose one with --step-column".to_owned(),
        }
    })
}

/// The loss column (required for a curve): `--loss-column`, else the defaults and aliases.
pub(crate) fn loss_column(
    path: &str,
    columns: &[String],
    opts: &ReadOptions,
) -> Result<Hit, DataError> {
    let requested = opts.loss_column.as_deref();
    resolve(path, columns, Role::Loss, requested, None)?.ok_or_else(|| {
        DataError::MissingLossColumn {
            path: path.to_owned(),
            tried: Role::Loss.names(requested),
            found: listed(columns),
        }
    })
}

/// The LR column if any: `--lr-column` (then it must exist), else `lr` or an alias, preferring
/// the W&B web-UI run `run`.
pub(crate) fn lr_column(
    path: &str,
    columns: &[String],
    opts: &ReadOptions,
    run: Option<&str>,
) -> Result<Option<Hit>, DataError> {
    let requested = opts.lr_column.as_deref();
    let hit = resolve(path, columns, Role::Lr, requested, run)?;
    match (hit, requested) {
        (None, Some(name)) => Err(DataError::MissingColumn {
            path: path.to_owned(),
            column: name.to_owned(),
            found: listed(columns),
            hint: "; choose one with --lr-column".to_owned(),
        }),
        (hit, _) => Ok(hit),
    }
}

/// The batch-size column if any: `--batch-column` (then it must exist), else `batch_size` or
/// an alias. Optional: a curve without one has no batch schedule.
pub(crate) fn batch_column(
    path: &str,
    columns: &[String],
    opts: &ReadOptions,
) -> Result<Option<Hit>, DataError> {
    let requested = opts.batch_column.as_deref();
    let hit = resolve(path, columns, Role::Batch, requested, None)?;
    match (hit, requested) {
        (None, Some(name)) => Err(DataError::MissingColumn {
            path: path.to_owned(),
            column: name.to_owned(),
            found: listed(columns),
            hint: "; choose one with --batch-column".to_owned(),
        }),
        (hit, _) => Ok(hit),
    }
}

/// What the readers say when a curve has no LR column: the flags that supply one.
pub(crate) const NO_LR_HINT: &str =
    "; choose one with --lr-column, or give the LRs with --lr-schedule SPEC|FILE";

/// The columns of a curve in a table, as indices into its column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurveColumns {
    /// The step column.
    pub step: usize,
    /// The loss column.
    pub loss: usize,
    /// The learning-rate column.
    pub lr: usize,
    /// The batch-size column, if the table has one.
    pub batch: Option<usize>,
}

/// Chooses a curve's columns among a table's column names by the rule the file readers follow
/// (this module's: the names in `opts`, else the canonical names then the aliases, compared
/// case-insensitively), so that a table that is not a file (a pandas DataFrame in the Python
/// package) reads as the CSV with the same header. `source` names the table in errors, as a
/// file's path does; the errors are the readers' (`MissingColumn`, `MissingLossColumn`,
/// `AmbiguousColumn`), word for word.
///
/// ```
/// use lrsde::data::{ReadOptions, curve_columns};
/// let names: Vec<String> = ["Step", "LR", "Val_Loss"].map(String::from).to_vec();
/// let cols = curve_columns("frame", &names, &ReadOptions::default()).unwrap();
/// assert_eq!((cols.step, cols.lr, cols.loss, cols.batch), (0, 1, 2, None));
/// let e = curve_columns("frame", &names, &ReadOptions::default().with_loss_column("eval"));
/// assert!(e.unwrap_err().to_string().starts_with("frame: no loss column; tried `eval`"));
/// ```
pub fn curve_columns(
    source: &str,
    columns: &[String],
    opts: &ReadOptions,
) -> Result<CurveColumns, DataError> {
    let step = step_column(source, columns, opts)?.index;
    let loss = loss_column(source, columns, opts)?;
    let lr = lr_column(source, columns, opts, run_of(columns, Some(loss)))?.ok_or_else(|| {
        DataError::MissingColumn {
            path: source.to_owned(),
            column: "lr".to_owned(),
            found: listed(columns),
            hint: NO_LR_HINT.to_owned(),
        }
    })?;
    let batch = batch_column(source, columns, opts)?.map(|h| h.index);
    Ok(CurveColumns {
        step,
        loss: loss.index,
        lr: lr.index,
        batch,
    })
}

/// The W&B web-UI run of a chosen column of the form `<run> - <metric>`.
pub(crate) fn run_of(columns: &[String], hit: Option<Hit>) -> Option<&str> {
    hit.and_then(|h| split_run(&columns[h.index]))
        .map(|(run, _)| run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn canonical_before_alias_before_prefixed() {
        let c = cols(&["learning_rate", "x - lr", "LR"]);
        let hit = resolve("f", &c, Role::Lr, None, None).unwrap().unwrap();
        assert_eq!(hit.index, 2);
        let c = cols(&["x - lr", "learning_rate"]);
        let hit = resolve("f", &c, Role::Lr, None, None).unwrap().unwrap();
        assert_eq!((hit.index, hit.prefixed), (1, false));
        let c = cols(&["Step", "a b - train/loss", "a b - train/loss__MIN"]);
        let hit = resolve("f", &c, Role::Loss, None, None).unwrap().unwrap();
        assert_eq!((hit.index, hit.prefixed), (1, true));
    }

    #[test]
    fn requested_name_is_the_only_one_tried() {
        let c = cols(&["step", "loss", "my_loss"]);
        let hit = resolve("f", &c, Role::Loss, Some("MY_LOSS"), None).unwrap();
        assert_eq!(hit.map(|h| h.index), Some(2));
        assert_eq!(
            resolve("f", &c, Role::Loss, Some("eval_loss"), None).unwrap(),
            None
        );
    }

    #[test]
    fn two_runs_are_ambiguous_unless_the_run_is_known() {
        let c = cols(&["Step", "a - train/lr", "b - train/lr"]);
        let e = resolve("f.csv", &c, Role::Lr, None, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.csv: 2 columns could be the lr column: `a - train/lr`, `b - train/lr`; \
             choose one with --lr-column"
        );
        let hit = resolve("f", &c, Role::Lr, None, Some("b"))
            .unwrap()
            .unwrap();
        assert_eq!(hit.index, 2);
        assert_eq!(resolve("f", &c, Role::Lr, None, Some("c")).unwrap(), None);
    }

    #[test]
    fn curve_columns_match_the_readers_rule() {
        let c = cols(&["Val_Loss", "Learning_Rate", "_STEP", "bs"]);
        let opts = ReadOptions::default();
        let got = curve_columns("t", &c, &opts).unwrap();
        assert_eq!((got.step, got.lr, got.loss, got.batch), (2, 1, 0, None));
        let got = curve_columns("t", &c, &opts.clone().with_batch_column("BS")).unwrap();
        assert_eq!(got.batch, Some(3));
        let e = curve_columns("t", &cols(&["step", "loss"]), &opts).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t: missing column `lr`; columns found: `step`, `loss`; choose one with \
             --lr-column, or give the LRs with --lr-schedule SPEC|FILE"
        );
    }

    #[test]
    fn bands_are_never_chosen() {
        let c = cols(&["Step", "r - loss__MIN", "r - loss__MAX"]);
        assert_eq!(resolve("f", &c, Role::Loss, None, None).unwrap(), None);
        assert_eq!(listed(&c), cols(&["Step"]));
    }
}
