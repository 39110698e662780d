//! Shared helpers: column choice, cell parsing and value checks, and the raw curve every reader
//! produces before LR reconstruction.

use super::error::{DataError, Location, shorten};

/// Default loss columns, in order of preference (the "Curve files" contract).
pub const DEFAULT_LOSS_COLUMNS: [&str; 4] = ["eval_loss", "val_loss", "loss", "train_loss"];

/// What a reader must extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Losses and (unless a schedule overrides them) LRs.
    Curve,
    /// LRs only; loss columns are ignored.
    LrOnly,
}

/// What a reader found, before the per-update LR grid is built.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawCurve {
    /// The file, for error messages.
    pub path: String,
    /// `(step, lr)`: the LR of update `step`; steps strictly increasing.
    pub lr_rows: Vec<(u64, f64)>,
    /// `(step, loss)`: the loss after `step` updates; steps strictly increasing.
    pub loss_rows: Vec<(u64, f64)>,
    /// The number of updates when the file states it (W&B `config.iterations`).
    pub total: Option<u64>,
    /// The loss column or key used (None for [`Purpose::LrOnly`]).
    pub loss_column: Option<String>,
    /// Whether the file has an `lr` column at all.
    pub has_lr: bool,
    /// The columns or keys the file has.
    pub found: Vec<String>,
    /// What to suggest when the file has no LR column (empty: the general advice).
    pub lr_hint: String,
    /// `(step, batch size)`: the batch of update `step` onwards, from a `batch_size` column.
    pub batch_rows: Vec<(u64, f64)>,
}

/// Parses a cell: empty (after trimming) is a missing value.
pub(crate) fn parse_number(text: &str, at: &Location) -> Result<Option<f64>, DataError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<f64>()
        .map(Some)
        .map_err(|_| DataError::NotANumber {
            at: at.clone(),
            value: shorten(t),
        })
}

/// Checks a step value: a whole number >= 1.
pub(crate) fn step_from_f64(value: f64, text: &str, at: &Location) -> Result<u64, DataError> {
    step_from_f64_min(value, text, at, 1)
}

/// Checks a step value: a whole number >= `min` (0 or 1).
fn step_from_f64_min(value: f64, text: &str, at: &Location, min: u64) -> Result<u64, DataError> {
    // 2^53: every whole number below it is exact in f64.
    if value.is_finite()
        && value >= min as f64
        && value.fract() == 0.0
        && value <= 9_007_199_254_740_992.0
    {
        Ok(value as u64)
    } else {
        Err(DataError::BadStep {
            at: at.clone(),
            value: shorten(text.trim()),
        })
    }
}

/// Parses a step cell; empty is `None`.
pub(crate) fn parse_step(text: &str, at: &Location) -> Result<Option<u64>, DataError> {
    parse_step_min(text, at, 1)
}

/// Parses a step cell that may be as small as `min` (0 in the exports of logging tools, where
/// step 0 is the measurement before training); empty is `None`.
pub(crate) fn parse_step_min(
    text: &str,
    at: &Location,
    min: u64,
) -> Result<Option<u64>, DataError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(v) = t.parse::<u64>() {
        return if v >= min {
            Ok(Some(v))
        } else {
            Err(DataError::BadStep {
                at: at.clone(),
                value: shorten(t),
            })
        };
    }
    match t.parse::<f64>() {
        Ok(v) => step_from_f64_min(v, t, at, min).map(Some),
        Err(_) => Err(DataError::NotANumber {
            at: at.clone(),
            value: shorten(t),
        }),
    }
}

fn check(value: f64, what: &'static str, at: &Location) -> Result<f64, DataError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(DataError::BadValue {
            at: at.clone(),
            what,
            value,
        })
    }
}

/// A learning rate must obey [`LrGrid::valid_lr`](crate::schedule::LrGrid::valid_lr); checked
/// per cell so the error names the line and column.
pub(crate) fn check_lr(value: f64, at: &Location) -> Result<f64, DataError> {
    if crate::schedule::LrGrid::valid_lr(value) {
        Ok(value)
    } else {
        Err(DataError::BadValue {
            at: at.clone(),
            what: "learning rate",
            value,
        })
    }
}

/// A batch size must be finite and > 0 (it divides the gradient-noise variance).
pub(crate) fn check_batch(value: f64, at: &Location) -> Result<f64, DataError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(DataError::BadBatch {
            at: at.clone(),
            value,
        })
    }
}

/// A loss must be finite and >= 0.
pub(crate) fn check_loss(value: f64, at: &Location) -> Result<f64, DataError> {
    check(value, "loss", at)
}

/// Refuses input that is not UTF-8 text: a UTF-16/32 byte-order mark, or a NUL byte anywhere
/// (binary data; no CSV or JSON text holds one).
pub(crate) fn check_text(bytes: &[u8], path: &str) -> Result<(), DataError> {
    let encoding = |encoding, bom| DataError::Encoding {
        path: path.to_owned(),
        encoding,
        bom,
    };
    // UTF-32 first: its LE mark begins with the UTF-16 LE one.
    if bytes.starts_with(b"\xFF\xFE\x00\x00") {
        return Err(encoding("UTF-32 LE", "FF FE 00 00"));
    }
    if bytes.starts_with(b"\x00\x00\xFE\xFF") {
        return Err(encoding("UTF-32 BE", "00 00 FE FF"));
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Err(encoding("UTF-16 LE", "FF FE"));
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Err(encoding("UTF-16 BE", "FE FF"));
    }
    match bytes.iter().position(|&b| b == 0) {
        Some(offset) => Err(DataError::Binary {
            path: path.to_owned(),
            offset: offset as u64,
        }),
        None => Ok(()),
    }
}

/// Strips a UTF-8 byte-order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}
