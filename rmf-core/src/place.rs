//! New files appear whole or not at all: each is written under a temporary name beside its
//! final name, synced, then published (linked or renamed into place) and its directory synced.
//! A failure (a full disk, a kill) leaves at most a temporary file (`<name>.tmp-…`), never a
//! half-written file under the final name.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Runs `write` on a temporary file beside `output`, then publishes it as `output`; on failure
/// removes it. Without `replace`, an existing `output` is refused (before and at publishing,
/// so a file that appears meanwhile is not replaced either).
pub fn write_new_file<T>(
    output: &Path,
    replace: bool,
    write: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    if !replace {
        refuse_existing(output)?;
    }
    let tmp = temporary_beside(output);
    let written = write(&tmp).and_then(|v| publish(&tmp, output, replace).map(|()| v));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `<name>.tmp-<pid>-<random>` beside `path`: unique, so that one left by a killed process never
/// blocks a later run that happens to get the same process id.
pub(crate) fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let random = uuid::Uuid::new_v4().simple().to_string();
    name.push(format!(".tmp-{}-{}", std::process::id(), &random[..8]));
    path.with_file_name(name)
}

/// Makes the complete file `tmp` appear as `output` and syncs the directory. Without
/// `replace` it links `tmp` to `output`, which fails if `output` exists, then removes `tmp`;
/// on a file system without hard links it checks and renames.
pub(crate) fn publish(tmp: &Path, output: &Path, replace: bool) -> Result<()> {
    let published = if replace {
        std::fs::rename(tmp, output)
    } else {
        match std::fs::hard_link(tmp, output) {
            Ok(()) => std::fs::remove_file(tmp),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(exists(output));
            }
            Err(_) => {
                refuse_existing(output)?;
                std::fs::rename(tmp, output)
            }
        }
    };
    published.map_err(|e| Error::io(output, "move the new file into place", e))?;
    if let Some(dir) = output.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// An error if `output` exists: new files never replace one unless asked to.
pub fn refuse_existing(output: &Path) -> Result<()> {
    if output.exists() {
        return Err(exists(output));
    }
    Ok(())
}

fn exists(output: &Path) -> Error {
    Error::io(
        output,
        "write (the output exists: remove it, or ask to overwrite it: --overwrite, overwrite=True)",
        std::io::Error::from(std::io::ErrorKind::AlreadyExists),
    )
}

/// Makes renames in `dir` durable. Best effort: the file itself is already synced, and some
/// platforms cannot open a directory.
pub(crate) fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
