//! Library errors as Python exceptions carrying the library's one-line message: a missing file
//! is a `FileNotFoundError`, every other input problem a `ValueError`.

use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyValueError};

/// A `ValueError` with `msg` joined onto one line.
pub fn value_error(msg: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(one_line(&msg.to_string()))
}

/// The exception for a library error: `FileNotFoundError` when an I/O "not found" is among its
/// causes, else `ValueError`; the message is the error's own (the CLI prints the same text).
pub fn to_py(e: &(dyn std::error::Error + 'static)) -> PyErr {
    with_context("", e)
}

/// [`to_py`] with `context` (e.g. `"schedule"`) in front of the message.
pub fn with_context(context: &str, e: &(dyn std::error::Error + 'static)) -> PyErr {
    let msg = if context.is_empty() {
        one_line(&e.to_string())
    } else {
        one_line(&format!("{context}: {e}"))
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::NotFound
        {
            return PyFileNotFoundError::new_err(msg);
        }
        cause = c.source();
    }
    PyValueError::new_err(msg)
}

/// Joins a multi-line message into one line, as the CLI does for stderr.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
