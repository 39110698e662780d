//! Errors raised while reading curve files, and where in the file they happened.

use std::fmt;

use thiserror::Error;

/// A place in an input file: the file, and where known the line, the column and the key.
///
/// `Display` writes `file:line: column 3 (`lr`)` for CSV cells, `file:line: key `lr`` for JSONL
/// values and `file: history.val.val_loss[12]` for values inside a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file (as given by the caller) or the name passed to a `*_str` reader.
    pub path: String,
    /// 1-based line number, where known.
    pub line: Option<u64>,
    /// 1-based column number (CSV field index), where known.
    pub column: Option<u64>,
    /// Column name (CSV header), JSON key or JSON key path, where known.
    pub key: Option<String>,
}

impl Location {
    /// A location naming only the file.
    pub fn file(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }

    pub(crate) fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub(crate) fn column(mut self, column: u64) -> Self {
        self.column = Some(column);
        self
    }

    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        match (self.column, &self.key) {
            (Some(c), Some(k)) => write!(f, ": column {c} (`{k}`)"),
            (Some(c), None) => write!(f, ": column {c}"),
            (None, Some(k)) if self.line.is_some() => write!(f, ": key `{k}`"),
            (None, Some(k)) => write!(f, ": {k}"),
            (None, None) => Ok(()),
        }
    }
}

/// Errors reading curve files. Every variant names the file; cell-level variants also name the
/// line, the column (number and header name) or the JSON key path.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// An I/O failure on a named file (not found, unreadable).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is empty (or only whitespace).
    #[error("{path}: the file is empty")]
    Empty {
        /// The file.
        path: String,
    },
    /// The file is UTF-16 or UTF-32 text (found by its byte-order mark); the readers take UTF-8.
    #[error("{path}: the file is {encoding} text (byte-order mark {bom}); save it as UTF-8")]
    Encoding {
        /// The file.
        path: String,
        /// `"UTF-16 LE"`, `"UTF-16 BE"`, `"UTF-32 LE"` or `"UTF-32 BE"`.
        encoding: &'static str,
        /// The byte-order mark as hex bytes.
        bom: &'static str,
    },
    /// The file holds a NUL byte: it is binary, not CSV, JSONL or JSON text.
    #[error(
        "{path}: not a text file (NUL byte at offset {offset}); expected CSV, JSONL or JSON text"
    )]
    Binary {
        /// The file.
        path: String,
        /// Byte offset of the first NUL.
        offset: u64,
    },
    /// The file has a header (or keys) but no data rows.
    #[error("{path}: no data rows (only a header)")]
    NoRows {
        /// The file.
        path: String,
    },
    /// A required column (`step`, or `lr` when no schedule is given) is absent.
    #[error(
        "{path}: missing column `{column}`; columns found: {}{hint}",
        list(found)
    )]
    MissingColumn {
        /// The file.
        path: String,
        /// The column that is required.
        column: String,
        /// The columns the file has.
        found: Vec<String>,
        /// What to do about it (`"; choose one with --lr-column …"`), or empty.
        hint: String,
    },
    /// Two columns match the same name for one role (e.g. two runs in a W&B web-UI export).
    #[error(
        "{path}: {} columns could be the {role} column: {}; choose one with {flag}",
        candidates.len(),
        list(candidates)
    )]
    AmbiguousColumn {
        /// The file.
        path: String,
        /// `"step"`, `"lr"` or `"loss"`.
        role: &'static str,
        /// The matching columns.
        candidates: Vec<String>,
        /// The CLI flag that picks one (`--loss-column`, …).
        flag: &'static str,
    },
    /// No loss column: neither the requested one nor any of the default names.
    #[error(
        "{path}: no loss column; tried {}; columns found: {}; choose one with --loss-column",
        list(tried),
        list(found)
    )]
    MissingLossColumn {
        /// The file.
        path: String,
        /// The names looked for, in order.
        tried: Vec<String>,
        /// The columns the file has.
        found: Vec<String>,
    },
    /// A cell that should hold a number does not.
    #[error("{at}: `{value}` is not a number")]
    NotANumber {
        /// Where.
        at: Location,
        /// The cell text (truncated to 40 characters).
        value: String,
    },
    /// A loss or LR that is NaN, infinite or negative.
    #[error("{at}: {what} is {value}; it must be finite and >= 0")]
    BadValue {
        /// Where.
        at: Location,
        /// `"loss"` or `"learning rate"`.
        what: &'static str,
        /// The value read.
        value: f64,
    },
    /// A batch size that is NaN, infinite, zero or negative.
    #[error("{at}: batch size is {value}; it must be finite and > 0")]
    BadBatch {
        /// Where.
        at: Location,
        /// The value read.
        value: f64,
    },
    /// A step that is not a whole number >= 1.
    #[error("{at}: step `{value}` is not a whole number >= 1 (steps are 1-based update counts)")]
    BadStep {
        /// Where.
        at: Location,
        /// The cell text.
        value: String,
    },
    /// A row whose step is not larger than the previous row's.
    #[error("{at}: step {step} does not increase (previous row has step {previous})")]
    StepOrder {
        /// Where.
        at: Location,
        /// This row's step.
        step: u64,
        /// The previous row's step.
        previous: u64,
    },
    /// A row with an empty `step` cell or without a `step` key.
    #[error("{at}: the row has no step")]
    MissingStep {
        /// Where.
        at: Location,
    },
    /// A CSV row with more (non-empty) fields than the header, or fewer.
    #[error("{at}: row has {found} fields but the header has {expected}")]
    FieldCount {
        /// Where.
        at: Location,
        /// Fields in the header.
        expected: u64,
        /// Fields in this row.
        found: u64,
    },
    /// The CSV parser rejected the input.
    #[error("{at}: malformed CSV: {message}")]
    Csv {
        /// Where.
        at: Location,
        /// The parser's message.
        message: String,
    },
    /// Malformed JSON (line and column from the JSON parser).
    #[error("{at}: malformed JSON: {message}")]
    Json {
        /// Where.
        at: Location,
        /// The parser's message.
        message: String,
    },
    /// A JSON document lacks an expected key, or the key holds the wrong kind of value.
    #[error("{at}: expected {expected}")]
    MissingKey {
        /// Where (the key path, e.g. `history.train.train_lr`).
        at: Location,
        /// What was expected there.
        expected: String,
    },
    /// A W&B history logs two different values at the same `iter`.
    #[error("{at}: two different values at iter {iter}")]
    ConflictingDuplicate {
        /// Where.
        at: Location,
        /// The repeated iteration.
        iter: u64,
    },
    /// The loss column exists but holds no value.
    #[error("{path}: the loss column `{column}` has no values")]
    NoLossValues {
        /// The file.
        path: String,
        /// The loss column.
        column: String,
    },
    /// The `lr` column exists but holds no value.
    #[error("{path}: the `lr` column has no values")]
    NoLrValues {
        /// The file.
        path: String,
    },
    /// The curve would need more updates than [`ReadOptions::max_steps`](super::ReadOptions).
    #[error("{path}: step {step} exceeds the limit of {limit} updates")]
    TooManySteps {
        /// The file.
        path: String,
        /// The offending step.
        step: u64,
        /// The limit in force.
        limit: u64,
    },
    /// An explicit LR grid covers fewer updates than the last observed step.
    #[error("{path}: the schedule covers {len} updates but the curve is observed at step {needed}")]
    ScheduleTooShort {
        /// The file.
        path: String,
        /// Updates in the schedule.
        len: u64,
        /// The last observed step.
        needed: u64,
    },
    /// A W&B run is a branch of another run that could not be found.
    #[error(
        "{path}: this run was forked at step {fork_step} from run `{parent}`, which was not found \
         beside it (as `{parent}.json`); name the parent's file with --parent FILE"
    )]
    MissingParent {
        /// The branch file.
        path: String,
        /// The parent run name (from `config.resume_from`).
        parent: String,
        /// The fork step.
        fork_step: u64,
    },
    /// A parent run ends before the branch's fork step (or branches nest too deeply).
    #[error("{path}: cannot splice branch forked at step {fork_step}: {reason}")]
    BadFork {
        /// The branch file.
        path: String,
        /// The fork step.
        fork_step: u64,
        /// What went wrong.
        reason: String,
    },
}

/// Column names listed in a message; a file with a million columns gets the first few and a
/// count.
const MAX_LISTED: usize = 12;

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".to_owned();
    }
    let mut out = names
        .iter()
        .take(MAX_LISTED)
        .map(|n| format!("`{}`", shorten(n)))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX_LISTED {
        out.push_str(&format!(" and {} more", names.len() - MAX_LISTED));
    }
    out
}

/// Truncates cell text for error messages and escapes control characters (a binary cell must
/// not put raw bytes into a message).
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    let mut s = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX {
            s.push('…');
            break;
        }
        if c.is_control() {
            s.extend(c.escape_default());
        } else {
            s.push(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_column_lists_are_cut() {
        let names: Vec<String> = (0..1000).map(|i| format!("c{i}")).collect();
        let msg = DataError::MissingColumn {
            path: "f.csv".into(),
            column: "step".into(),
            found: names,
            hint: String::new(),
        }
        .to_string();
        assert!(msg.ends_with("`c11` and 988 more"), "{msg}");
    }

    #[test]
    fn shorten_escapes_and_cuts() {
        assert_eq!(shorten("a\u{0}b\n"), "a\\u{0}b\\n");
        assert_eq!(shorten(&"x".repeat(50)), format!("{}…", "x".repeat(40)));
    }
}
