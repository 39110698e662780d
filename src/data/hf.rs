//! Hugging Face `trainer_state.json`, which `transformers.Trainer` writes into every checkpoint.
//!
//! `log_history` is a list of entries: training logs (`loss`, `learning_rate`, `grad_norm`,
//! `epoch`, `step`), evaluation logs (`eval_loss`, …, `step`) and, at the end of training, one
//! summary (`train_runtime`, `train_loss`, …). Conventions (see `docs/data-formats.md`):
//!
//! * `step` is `state.global_step`, the updates done: a loss at `step = s` is curve step `s`;
//!   step 0 (an evaluation before training) gives no loss row.
//! * `learning_rate` at `step = s` is the scheduler's value after `s` scheduler steps, i.e. the
//!   LR of update `s + 1`; it becomes an LR row at step `s + 1`.
//! * Training and evaluation logs of the same step are separate entries: they are merged; one
//!   key with two different values at one step is an error.
//! * The summary entry (it has `train_runtime`) is skipped: its `train_loss` is the mean over the
//!   whole run, not a point of the curve.
//! * The curve covers `global_step` updates (the checkpoint's position), else `max_steps`.

use serde_json::{Map, Value};

use super::ReadOptions;
use super::cells::{Purpose, RawCurve, check_loss, check_lr};
use super::columns::{loss_column, lr_column, step_column};
use super::error::{DataError, Location};
use super::jsonl::{json_number, json_step};
use super::wandb::json_iter;

/// Parses a `trainer_state.json` document (its root object).
pub(crate) fn parse(
    root: &Map<String, Value>,
    path: &str,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<RawCurve, DataError> {
    let history = root
        .get("log_history")
        .and_then(Value::as_array)
        .ok_or_else(|| DataError::MissingKey {
            at: Location::file(path).key("log_history"),
            expected: "an array of log entries (Hugging Face trainer_state.json)".to_owned(),
        })?;
    let mut entries = Vec::with_capacity(history.len());
    for (i, entry) in history.iter().enumerate() {
        let map = entry.as_object().ok_or_else(|| DataError::MissingKey {
            at: Location::file(path).key(format!("log_history[{i}]")),
            expected: "a log entry object".to_owned(),
        })?;
        if !map.contains_key("train_runtime") {
            entries.push((i, map));
        }
    }
    if entries.is_empty() {
        return Err(DataError::NoRows {
            path: path.to_owned(),
        });
    }
    let mut columns: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, map) in &entries {
        for k in map.keys() {
            if seen.insert(k.as_str()) {
                columns.push(k.clone());
            }
        }
    }
    let step_key = &columns[step_column(path, &columns, opts)?.index];
    let loss_key = match purpose {
        Purpose::Curve => Some(&columns[loss_column(path, &columns, opts)?.index]),
        Purpose::LrOnly => None,
    };
    let lr_key = lr_column(path, &columns, opts, None)?.map(|h| &columns[h.index]);
    // As W&B's `config.iterations`: present but not a whole number >= 1 is an error.
    let count = |key: &str| match root.get(key) {
        Some(v) => json_step(v, &Location::file(path).key(key)),
        None => Ok(None),
    };
    let total = match count("global_step")? {
        Some(n) => Some(n),
        None => count("max_steps")?,
    };
    let mut raw = RawCurve {
        path: path.to_owned(),
        total,
        loss_column: loss_key.cloned(),
        has_lr: lr_key.is_some(),
        found: columns.clone(),
        ..RawCurve::default()
    };

    let mut previous: Option<u64> = None;
    for (i, map) in entries {
        let at = |key: &str| Location::file(path).key(format!("log_history[{i}].{key}"));
        let step = map
            .get(step_key)
            .map(|v| json_iter(v, &at(step_key)))
            .transpose()?
            .flatten()
            .ok_or_else(|| DataError::MissingStep { at: at(step_key) })?;
        if let Some(prev) = previous
            && step < prev
        {
            return Err(DataError::StepOrder {
                at: at(step_key),
                step,
                previous: prev,
            });
        }
        previous = Some(step);
        if let Some(k) = lr_key
            && let Some(v) = map.get(k)
            && let Some(x) = json_number(v, &at(k))?
        {
            let x = check_lr(x, &at(k))?;
            merge(&mut raw.lr_rows, step + 1, x, at(k), step)?;
        }
        if let Some(k) = loss_key
            && step >= 1
            && let Some(v) = map.get(k)
            && let Some(x) = json_number(v, &at(k))?
        {
            let x = check_loss(x, &at(k))?;
            merge(&mut raw.loss_rows, step, x, at(k), step)?;
        }
    }
    Ok(raw)
}

/// Appends `(row, x)` unless the last row has the same step: then the values must agree.
fn merge(
    rows: &mut Vec<(u64, f64)>,
    row: u64,
    x: f64,
    at: Location,
    logged_at: u64,
) -> Result<(), DataError> {
    match rows.last() {
        Some(&(s, v)) if s == row => {
            if v.to_bits() == x.to_bits() {
                Ok(())
            } else {
                Err(DataError::ConflictingDuplicate {
                    at,
                    iter: logged_at,
                })
            }
        }
        _ => {
            rows.push((row, x));
            Ok(())
        }
    }
}
