//! Atomic file output: a failed or interrupted write never leaves a partial file and never
//! clobbers the previous good output.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `path` atomically: the content goes to a temporary file in the same directory, which
/// is flushed, synced and then renamed over `path`.
///
/// `write` receives a buffered writer; if it fails, the temporary file is removed and `path` is
/// left untouched.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("out.csv");
/// lrsde::io::write_atomic(&path, |w| writeln!(w, "step,loss")).unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "step,loss\n");
/// ```
pub fn write_atomic<F>(path: &Path, write: F) -> std::io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let tmp = temp_path(path);
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut buf = std::io::BufWriter::new(file);
        write(&mut buf)?;
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Checks, before a long computation, that [`write_atomic`] will be able to write `path`: its
/// directory exists and a file can be created in it (a probe file is created and removed), and
/// `path` is not a directory.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// assert!(lrsde::io::check_writable(&dir.path().join("out.csv")).is_ok());
/// assert!(lrsde::io::check_writable(dir.path()).is_err());
/// assert!(lrsde::io::check_writable(std::path::Path::new("/nonexistent-lrsde/x.csv")).is_err());
/// ```
///
/// # Errors
/// The I/O error that creating the probe gave, or [`std::io::ErrorKind::IsADirectory`].
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    let probe = temp_path(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map(drop)
        .or_else(|e| {
            // A leftover from a killed run of this process id is still proof of access.
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A hidden sibling of `path`, unique per process, so concurrent writers never share it.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp_name = format!(".{name}.{}.tmp", std::process::id());
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(tmp_name),
        _ => PathBuf::from(tmp_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_previous_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fit.json");
        std::fs::write(&path, "good").unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("interrupted"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "good");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn probe_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        check_writable(&dir.path().join("a.csv")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn unwritable_directory_is_an_error() {
        let err = write_atomic(Path::new("/nonexistent-dir-lrsde/x.csv"), |_| Ok(()));
        assert!(err.is_err());
    }
}
