//! Where command output goes: a file written atomically, or stdout.

use super::error::{CliError, CliResult};
use std::io::Write;
use std::path::Path;

/// Writes the output produced by `write` to `path` atomically, or to stdout when `path` is
/// `None` or `-`.
pub fn emit<F>(path: Option<&Path>, write: F) -> CliResult<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    match path {
        Some(p) if p.as_os_str() != "-" => lrsde::io::write_atomic(p, write)
            .map_err(|e| CliError::user(format!("cannot write {}: {e}", p.display()))),
        _ => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            match write(&mut lock).and_then(|()| lock.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`lrsde … | head`) is not an error worth reporting.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(CliError::Internal(format!("cannot write to stdout: {e}"))),
            }
        }
    }
}
