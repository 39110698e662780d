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

/// Joins a multi-line message so stderr gets exactly one line.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Shorthand for fallible CLI steps.
pub type CliResult<T> = Result<T, CliError>;
