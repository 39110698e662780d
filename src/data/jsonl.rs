//! JSON Lines curve files (one object per line, same keys as the CSV columns) and JSON arrays of
//! such row objects.

use serde_json::{Map, Value};

use super::ReadOptions;
use super::cells::{
    Purpose, RawCurve, check_batch, check_loss, check_lr, parse_number, parse_step, step_from_f64,
    strip_bom,
};
use super::columns::{batch_column, loss_column, lr_column, run_of, step_column};
use super::error::{DataError, Location, shorten};

/// Where a row came from: a line of a JSONL file or an index into a JSON array.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowAt {
    Line(u64),
    Index(usize),
}

impl RowAt {
    fn at(self, path: &str, key: &str) -> Location {
        match self {
            RowAt::Line(l) => Location::file(path).line(l).key(key),
            RowAt::Index(i) => Location::file(path).key(format!("[{i}].{key}")),
        }
    }
}

/// Converts a serde_json error into a located [`DataError::Json`].
pub(crate) fn json_error(path: &str, line_offset: u64, e: &serde_json::Error) -> DataError {
    let mut at = Location::file(path);
    if e.line() > 0 {
        at = at
            .line(e.line() as u64 + line_offset)
            .column(e.column() as u64);
    }
    DataError::Json {
        at,
        message: without_position(e),
    }
}

/// serde_json's message without its trailing ` at line L column C`: the location already has
/// them, counted in the file (a JSONL line's parser counts from its own line 1).
pub(crate) fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => text[..i].to_owned(),
        _ => text,
    }
}

/// Parses JSON Lines bytes.
pub(crate) fn parse(
    bytes: &[u8],
    path: &str,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<RawCurve, DataError> {
    let bytes = strip_bom(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty {
            path: path.to_owned(),
        });
    }
    let mut rows = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let lineno = i as u64 + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value =
            serde_json::from_slice(line).map_err(|e| json_error(path, lineno - 1, &e))?;
        match value {
            Value::Object(map) => rows.push((RowAt::Line(lineno), map)),
            other => {
                return Err(DataError::MissingKey {
                    at: Location::file(path).line(lineno),
                    expected: format!(
                        "a JSON object per line, found {}",
                        shorten(&other.to_string())
                    ),
                });
            }
        }
    }
    rows_to_raw(rows, path, opts, purpose)
}

/// Reads a JSON number, a numeric string, or null / "" (missing).
pub(crate) fn json_number(v: &Value, at: &Location) -> Result<Option<f64>, DataError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) => parse_number(s, at),
        other => Err(DataError::NotANumber {
            at: at.clone(),
            value: shorten(&other.to_string()),
        }),
    }
}

/// Reads a step: a whole number >= 1 (a JSON number or a numeric string); null is missing.
pub(crate) fn json_step(v: &Value, at: &Location) -> Result<Option<u64>, DataError> {
    match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if u >= 1 {
                    return Ok(Some(u));
                }
                return Err(DataError::BadStep {
                    at: at.clone(),
                    value: n.to_string(),
                });
            }
            let f = n.as_f64().unwrap_or(f64::NAN);
            step_from_f64(f, &n.to_string(), at).map(Some)
        }
        Value::String(s) => parse_step(s, at),
        Value::Null => Ok(None),
        other => Err(DataError::NotANumber {
            at: at.clone(),
            value: shorten(&other.to_string()),
        }),
    }
}

fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Turns row objects into a raw curve (shared by JSONL and JSON arrays).
pub(crate) fn rows_to_raw(
    rows: Vec<(RowAt, Map<String, Value>)>,
    path: &str,
    opts: &ReadOptions,
    purpose: Purpose,
) -> Result<RawCurve, DataError> {
    if rows.is_empty() {
        return Err(DataError::NoRows {
            path: path.to_owned(),
        });
    }
    // First-seen order for messages; the set keeps a row with a million keys linear.
    let mut columns: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, map) in &rows {
        for k in map.keys() {
            if seen.insert(k.as_str()) {
                columns.push(k.clone());
            }
        }
    }
    let step_key = columns[step_column(path, &columns, opts)?.index].clone();
    let loss_key = match purpose {
        Purpose::Curve => Some(loss_column(path, &columns, opts)?),
        Purpose::LrOnly => None,
    };
    let lr_key = lr_column(path, &columns, opts, run_of(&columns, loss_key))?
        .map(|h| columns[h.index].clone());
    let loss_key = loss_key.map(|h| columns[h.index].clone());
    let batch_key = match purpose {
        Purpose::Curve => batch_column(path, &columns, opts)?.map(|h| columns[h.index].clone()),
        Purpose::LrOnly => None,
    };
    let mut raw = RawCurve {
        path: path.to_owned(),
        loss_column: loss_key.clone(),
        has_lr: lr_key.is_some(),
        found: columns.clone(),
        ..RawCurve::default()
    };
    let mut previous: Option<u64> = None;
    for (row, map) in &rows {
        let at = row.at(path, &step_key);
        let step = get_ci(map, &step_key)
            .map(|v| json_step(v, &at))
            .transpose()?
            .flatten()
            .ok_or_else(|| DataError::MissingStep { at: at.clone() })?;
        if let Some(prev) = previous
            && step <= prev
        {
            return Err(DataError::StepOrder {
                at,
                step,
                previous: prev,
            });
        }
        previous = Some(step);
        if let Some(k) = &lr_key
            && let Some(v) = get_ci(map, k)
        {
            let at = row.at(path, k);
            if let Some(x) = json_number(v, &at)? {
                raw.lr_rows.push((step, check_lr(x, &at)?));
            }
        }
        if let Some(k) = &batch_key
            && let Some(v) = get_ci(map, k)
        {
            let at = row.at(path, k);
            if let Some(x) = json_number(v, &at)? {
                raw.batch_rows.push((step, check_batch(x, &at)?));
            }
        }
        if let Some(k) = &loss_key
            && let Some(v) = get_ci(map, k)
        {
            let at = row.at(path, k);
            if let Some(x) = json_number(v, &at)? {
                raw.loss_rows.push((step, check_loss(x, &at)?));
            }
        }
    }
    Ok(raw)
}
