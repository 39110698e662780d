//! CLI errors: a user error (bad input: exit 2) or an internal failure (exit 1), printed as
//! one line on stderr without backtrace.

use std::process::ExitCode;

/// An error that ends a CLI command.
#[derive(Debug)]
pub enum CliError {
    /// Bad input: a flag, spec, file or value the user can fix. Exit code 2.
    User(String),
    /// Something failed that the user could not have prevented. Exit code 1.
    Internal(String),
}

impl CliError {
    /// A user error with the given message.
    pub fn user(msg: impl std::fmt::Display) -> Self {
        Self::User(msg.to_string())
    }

    /// Prints the one-line message and returns the exit code.
    pub fn report(&self) -> ExitCode {
        match self {
            Self::User(msg) => {
                eprintln!("error: {}", one_line(msg));
                ExitCode::from(2)
            }
            Self::Internal(msg) => {
                eprintln!("internal error: {}", one_line(msg));
                ExitCode::from(1)
            }
        }
    }
}

/// Library errors are all about the input the user gave (files, specs, values).
impl From<lrsde::Error> for CliError {
    fn from(e: lrsde::Error) -> Self {
        Self::User(e.to_string())
    }
}

/// Longest message printed: a message quoting a 10^6-column header must not flood stderr.
const MAX_MESSAGE: usize = 2000;

/// Joins a multi-line message so stderr gets exactly one line, escapes control characters
/// (bytes of a binary file quoted in a message must not reach the terminal raw) and cuts it to
/// [`MAX_MESSAGE`] characters.
pub fn one_line(msg: &str) -> String {
    let joined = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = String::with_capacity(joined.len().min(MAX_MESSAGE + 16));
    for (n, c) in joined.chars().enumerate() {
        if n == MAX_MESSAGE {
            out.push_str(" […]");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Shorthand for fallible CLI steps.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::{MAX_MESSAGE, one_line};

    #[test]
    fn one_line_joins_escapes_and_truncates() {
        assert_eq!(one_line("a\n  b\r\n\nc"), "a; b; c");
        assert_eq!(one_line("x\u{0}y\u{1b}[31m"), "x\\u{0}y\\u{1b}[31m");
        let long = "é".repeat(5000);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), MAX_MESSAGE + 4);
        assert!(cut.ends_with(" […]"));
    }
}
