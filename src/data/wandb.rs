//! W&B-style JSON exports (as in `fabian-sp/lr-scheduling`): `config`, `name`, and `history`
//! sections (`train`, `val`, `final-val`) that hold either parallel arrays keyed by name
//! (`{"iter": [...], "train_lr": [...]}`) or arrays of row objects (`[{"iter": 50, ...}]`).
//!
//! Conventions (checked on the lr-scheduling data, see `docs/data-formats.md`):
//! * `iter` counts completed updates. A loss at `iter = i` is the loss after `i` updates
//!   (curve step `i`); `iter = 0` (the loss before training) is skipped.
//! * `train_lr` at `iter = i` is the scheduler's value after `i` scheduler steps, i.e. the LR of
//!   update `i + 1`; it becomes an LR row at step `i + 1`. Rows past `config.iterations` are
//!   dropped (the value logged at the very end is never used by an update).
//! * Histories of resumed runs are stored in segments, out of order, with repeated `iter`s:
//!   entries are sorted by `iter`; identical repeats are dropped. Repeated losses that differ
//!   (re-measured after a resume; up to 2% apart in the lr-scheduling data) keep the value
//!   logged last in the file; repeated learning rates that differ are an error.
//! * `history.final-val` is ignored: it uses a different evaluation protocol than `val`.
//! * A run with `config.resume_from = ".../<parent run>/ckpts/<N>"` (N > 0) is a branch forked
//!   after N updates of the parent; its own history only covers the steps after the fork.

use serde_json::{Map, Value};

use super::ReadOptions;
use super::cells::{DEFAULT_LOSS_COLUMNS, Purpose, RawCurve, check_loss, check_lr};
use super::error::{DataError, Location};
use super::jsonl::{json_number, json_step};

/// A parsed W&B run, before any splicing with a parent.
#[derive(Debug)]
pub(crate) struct WandbRun {
    pub raw: RawCurve,
    /// `(parent run name, fork step)` from `config.resume_from`, when the fork step is > 0.
    pub fork: Option<(String, u64)>,
    /// The smallest `iter` in the run's `train` and `val` histories.
    pub first_iter: Option<u64>,
}

type Series = Vec<(u64, f64)>;

fn missing(path: &str, key: impl Into<String>, expected: impl Into<String>) -> DataError {
    DataError::MissingKey {
        at: Location::file(path).key(key),
        expected: expected.into(),
    }
}

/// A whole number >= 0 (W&B `iter`, Hugging Face `step`); null is missing.
pub(crate) fn json_iter(v: &Value, at: &Location) -> Result<Option<u64>, DataError> {
    match json_number(v, at)? {
        None => Ok(None),
        Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 9.0e15 => {
            Ok(Some(x as u64))
        }
        Some(x) => Err(DataError::BadStep {
            at: at.clone(),
            value: x.to_string(),
        }),
    }
}

fn section_keys(sec: &Value) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    match sec {
        Value::Object(cols) => keys.extend(cols.keys().cloned()),
        Value::Array(rows) => {
            for row in rows.iter().filter_map(Value::as_object) {
                for k in row.keys() {
                    if !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
            }
        }
        _ => {}
    }
    keys.retain(|k| k != "iter" && k != "step");
    keys
}

fn iter_key(cols: &Map<String, Value>) -> &'static str {
    if cols.contains_key("iter") {
        "iter"
    } else {
        "step"
    }
}

/// Reads `history.<section>.<key>` with its iterations; `None` if the key is absent.
fn series(
    history: &Map<String, Value>,
    section: &str,
    key: &str,
    path: &str,
    check: fn(f64, &Location) -> Result<f64, DataError>,
) -> Result<Option<Series>, DataError> {
    let Some(sec) = history.get(section) else {
        return Ok(None);
    };
    let base = format!("history.{section}");
    let mut out = Vec::new();
    match sec {
        Value::Object(cols) => {
            let Some(vals) = cols.get(key) else {
                return Ok(None);
            };
            let vals = vals
                .as_array()
                .ok_or_else(|| missing(path, format!("{base}.{key}"), "an array"))?;
            let ik = iter_key(cols);
            let iters = cols.get(ik).and_then(Value::as_array).ok_or_else(|| {
                missing(
                    path,
                    format!("{base}.iter"),
                    "an array of iteration numbers",
                )
            })?;
            if iters.len() != vals.len() {
                return Err(missing(
                    path,
                    format!("{base}.{key}"),
                    format!(
                        "{} entries like {base}.{ik}, found {}",
                        iters.len(),
                        vals.len()
                    ),
                ));
            }
            for (i, (it, v)) in iters.iter().zip(vals).enumerate() {
                let at_v = Location::file(path).key(format!("{base}.{key}[{i}]"));
                let at_i = Location::file(path).key(format!("{base}.{ik}[{i}]"));
                let (Some(x), Some(it)) = (json_number(v, &at_v)?, json_iter(it, &at_i)?) else {
                    continue;
                };
                out.push((it, check(x, &at_v)?));
            }
        }
        Value::Array(rows) => {
            let mut seen = false;
            for (i, row) in rows.iter().enumerate() {
                let row = row
                    .as_object()
                    .ok_or_else(|| missing(path, format!("{base}[{i}]"), "a row object"))?;
                let Some(v) = row.get(key) else { continue };
                seen = true;
                let ik = iter_key(row);
                let at_v = Location::file(path).key(format!("{base}[{i}].{key}"));
                let at_i = Location::file(path).key(format!("{base}[{i}].{ik}"));
                let it = row
                    .get(ik)
                    .ok_or_else(|| missing(path, format!("{base}[{i}].iter"), "an iteration"))?;
                let (Some(x), Some(it)) = (json_number(v, &at_v)?, json_iter(it, &at_i)?) else {
                    continue;
                };
                out.push((it, check(x, &at_v)?));
            }
            if !seen {
                return Ok(None);
            }
        }
        _ => {
            return Err(missing(
                path,
                base,
                "an object of arrays or an array of row objects",
            ));
        }
    }
    Ok(Some(out))
}

/// How to treat two entries logged at the same `iter` with different values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeats {
    /// An error (learning rates: a schedule cannot have two values).
    Reject,
    /// Keep the one logged last in the file (losses re-measured after a resume).
    KeepLast,
}

/// Sorts by `iter` (stable) and resolves repeated `iter`s.
fn sort_dedupe(
    mut v: Series,
    path: &str,
    key: &str,
    repeats: Repeats,
) -> Result<Series, DataError> {
    v.sort_by_key(|&(it, _)| it);
    let mut out: Series = Vec::with_capacity(v.len());
    for (it, x) in v {
        match out.last_mut() {
            Some(last) if last.0 == it => {
                if x.to_bits() != last.1.to_bits() {
                    if repeats == Repeats::Reject {
                        return Err(DataError::ConflictingDuplicate {
                            at: Location::file(path).key(key.to_owned()),
                            iter: it,
                        });
                    }
                    last.1 = x;
                }
            }
            _ => out.push((it, x)),
        }
    }
    Ok(out)
}

fn parse_resume_from(config: Option<&Value>) -> Option<(String, u64)> {
    let s = config?.get("resume_from")?.as_str()?;
    let (before, after) = s.rsplit_once("/ckpts/")?;
    let parent = before.trim_end_matches('/').rsplit('/').next()?.to_owned();
    let fork: u64 = after.trim_matches('/').parse().ok()?;
    (fork > 0 && !parent.is_empty()).then_some((parent, fork))
}

/// Parses a W&B export (the root object of the file).
pub(crate) fn parse(
    root: &Map<String, Value>,
    path: &str,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<WandbRun, DataError> {
    let history = root
        .get("history")
        .and_then(Value::as_object)
        .ok_or_else(|| missing(path, "history", "an object (W&B export)"))?;
    let config = root.get("config");
    // A count that is there but not a whole number >= 1 is an error, not a missing count: a
    // silently dropped horizon would end the curve's LRs at its last row.
    let total = match config.and_then(|c| c.get("iterations")) {
        Some(v) => json_step(v, &Location::file(path).key("config.iterations"))?,
        None => None,
    };

    // Sections in search order: val, train, then the rest. `final-val` is left out on purpose:
    // its loss is measured on a different evaluation set (it sits ~0.035 above the last
    // `val_loss` in the lr-scheduling runs), so it would not continue the `val` curve.
    let mut sections: Vec<&str> = vec!["val", "train"];
    let mut others: Vec<&str> = history
        .keys()
        .map(String::as_str)
        .filter(|k| !matches!(*k, "val" | "train" | "final-val"))
        .collect();
    others.sort_unstable();
    sections.extend(others);
    sections.retain(|s| history.contains_key(*s));
    let found: Vec<String> = sections
        .iter()
        .flat_map(|s| {
            section_keys(&history[*s])
                .into_iter()
                .map(move |k| format!("history.{s}.{k}"))
        })
        .collect();

    let mut raw = RawCurve {
        path: path.to_owned(),
        total,
        found: found.clone(),
        ..RawCurve::default()
    };
    let mut first_iter: Option<u64> = None;
    let mut note_first = |s: &Series| {
        if let Some(&(it, _)) = s.first() {
            first_iter = Some(first_iter.map_or(it, |f: u64| f.min(it)));
        }
    };

    // Learning rates: history.train.train_lr (or .lr).
    let need_lr = purpose == Purpose::LrOnly || opts.schedule.is_none();
    let mut lr = None;
    let lr_keys = match &opts.lr_column {
        Some(k) => vec![k.as_str()],
        None => vec!["train_lr", "lr"],
    };
    let lr_key_shown = format!("history.train.{}", lr_keys[0]);
    for key in lr_keys {
        if let Some(s) = series(history, "train", key, path, check_lr)? {
            lr = Some(sort_dedupe(
                s,
                path,
                &format!("history.train.{key}"),
                Repeats::Reject,
            )?);
            break;
        }
    }
    match lr {
        Some(s) => {
            note_first(&s);
            raw.has_lr = true;
            raw.lr_rows = s
                .into_iter()
                .map(|(it, x)| (it + 1, x))
                .filter(|&(step, _)| total.is_none_or(|t| step <= t))
                .collect();
        }
        None if need_lr => {
            return Err(missing(path, lr_key_shown, "an array of learning rates"));
        }
        None => {}
    }

    if purpose == Purpose::Curve {
        let tried: Vec<String> = match &opts.loss_column {
            Some(k) => vec![k.clone()],
            None => DEFAULT_LOSS_COLUMNS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        };
        let mut chosen = None;
        'search: for key in &tried {
            for sec in &sections {
                if let Some(s) = series(history, sec, key, path, check_loss)? {
                    chosen = Some((*sec, key.clone(), s));
                    break 'search;
                }
            }
        }
        let Some((sec, key, s)) = chosen else {
            return Err(DataError::MissingLossColumn {
                path: path.to_owned(),
                tried,
                found,
            });
        };
        let key_path = format!("history.{sec}.{key}");
        let s = sort_dedupe(s, path, &key_path, Repeats::KeepLast)?;
        note_first(&s);
        raw.loss_rows = s.into_iter().filter(|&(it, _)| it >= 1).collect();
        raw.loss_column = Some(key_path);
    }

    Ok(WandbRun {
        raw,
        fork: parse_resume_from(config),
        first_iter,
    })
}

/// Splices a branch onto its parent: the parent's rows up to and including `fork` (steps), then
/// the branch's rows after it.
pub(crate) fn splice(
    parent: RawCurve,
    branch: RawCurve,
    fork: u64,
    path: &str,
) -> Result<RawCurve, DataError> {
    let parent_end = [
        parent.lr_rows.last().map(|r| r.0),
        parent.loss_rows.last().map(|r| r.0),
        parent.total,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0);
    if parent_end < fork {
        return Err(DataError::BadFork {
            path: path.to_owned(),
            fork_step: fork,
            reason: format!("the parent run `{}` ends at step {parent_end}", parent.path),
        });
    }
    let join = |p: Vec<(u64, f64)>, b: Vec<(u64, f64)>| -> Vec<(u64, f64)> {
        p.into_iter()
            .filter(|r| r.0 <= fork)
            .chain(b.into_iter().filter(|r| r.0 > fork))
            .collect()
    };
    Ok(RawCurve {
        path: branch.path,
        lr_rows: join(parent.lr_rows, branch.lr_rows),
        loss_rows: join(parent.loss_rows, branch.loss_rows),
        total: branch.total,
        loss_column: branch.loss_column.or(parent.loss_column),
        has_lr: parent.has_lr || branch.has_lr,
        found: branch.found,
        lr_hint: branch.lr_hint,
        batch_rows: join(parent.batch_rows, branch.batch_rows),
    })
}
