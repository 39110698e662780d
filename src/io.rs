//! Atomic file output: a failed or interrupted write never leaves a partial file and never
//! clobbers the previous good output.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `path` atomically: the content goes to a temporary file in the same directory, which
/// is flushed, synced and then renamed over `path`.
///
/// A symlink is followed and its final target written atomically, so the link stays a link. A
/// target that exists but is not a regular file (a FIFO, a character or block device such as
/// `/dev/stdout` or `/dev/null`, a socket) is opened and written directly: renaming over it
/// would replace the device with a regular file, and it holds no earlier output to protect.
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
    match resolve(path)? {
        Target::Special => {
            // The original path, so that the kernel resolves `/proc` links (`/dev/stdout`).
            let file = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)?;
            let mut buf = std::io::BufWriter::new(file);
            write(&mut buf)?;
            buf.flush()
        }
        Target::File(path) => {
            let tmp = temp_path(&path);
            let result = (|| {
                let file = std::fs::File::create(&tmp)?;
                let mut buf = std::io::BufWriter::new(file);
                write(&mut buf)?;
                let file = buf.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                std::fs::rename(&tmp, &path)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
    }
}

/// Where the bytes for an output path really go.
enum Target {
    /// A regular file, or a path not there yet: written through a temporary and a rename.
    File(PathBuf),
    /// An existing FIFO, device or socket, or whatever a `/proc` link (`/dev/stdout`,
    /// `/dev/fd/N`) stands for: opened by its own path and written in place.
    Special,
}

/// Follows `path` through any chain of symlinks (also one ending at a path not there yet, which
/// the write then creates) to what is written.
fn resolve(path: &Path) -> std::io::Result<Target> {
    // Linux's own limit on links followed in one lookup; beyond it the chain is a loop.
    const MAX_LINKS: usize = 40;
    let mut current = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::File(current)),
            Err(e) => return Err(e),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            // A `/proc` link (`/dev/stdout`, `/dev/fd/N`) names an open file, whose text
            // (`pipe:[123]`, or a file the shell opened for appending) is no path to rename onto.
            let dir = current.parent().and_then(|d| std::fs::canonicalize(d).ok());
            if dir.is_some_and(|d| d.starts_with("/proc")) {
                return Ok(Target::Special);
            }
            let link = std::fs::read_link(&current)?;
            current = match current.parent() {
                Some(dir) if link.is_relative() => dir.join(link),
                _ => link,
            };
        } else if kind.is_file() || kind.is_dir() {
            // A directory goes the rename way too, which then fails with the OS's own message.
            return Ok(Target::File(current));
        } else {
            return Ok(Target::Special);
        }
    }
    Err(std::io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links to follow"
    )))
}

/// Checks, before a long computation, that [`write_atomic`] will be able to write `path`: its
/// directory (a symlink's target's directory) exists and a file can be created in it (a probe
/// file is created and removed), and `path` is not a directory. An existing FIFO or device is
/// taken as writable: the write itself reports any error.
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
    let path = match resolve(path)? {
        // Opening a FIFO to probe it would block until a reader comes, and a device's
        // directory (`/dev`) need not be writable: the write itself reports any error.
        Target::Special => return Ok(()),
        Target::File(path) => path,
    };
    let probe = temp_path(&path);
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

    /// Whether `p` itself is a symlink (not what it points to).
    #[cfg(unix)]
    fn is_link(p: &Path) -> bool {
        std::fs::symlink_metadata(p)
            .unwrap()
            .file_type()
            .is_symlink()
    }

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

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_link_and_its_target_gets_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.csv");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("target.csv", &link).unwrap();
        let chain = dir.path().join("chain.csv");
        std::os::unix::fs::symlink(&link, &chain).unwrap();
        check_writable(&chain).unwrap();
        write_atomic(&chain, |w| w.write_all(b"new")).unwrap();
        assert!(is_link(&link));
        assert!(is_link(&chain));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_creates_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink("made.csv", &link).unwrap();
        write_atomic(&link, |w| w.write_all(b"x")).unwrap();
        assert!(is_link(&link));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("made.csv")).unwrap(),
            "x"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(write_atomic(&a, |w| w.write_all(b"x")).is_err());
        assert!(is_link(&a));
    }

    #[test]
    fn unwritable_directory_is_an_error() {
        let err = write_atomic(Path::new("/nonexistent-dir-lrsde/x.csv"), |_| Ok(()));
        assert!(err.is_err());
    }
}
