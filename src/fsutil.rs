//! Atomic file writes (temp file in the same directory, fsync, rename, fsync dir) and small fs helpers.

use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Outcome of a write that is skipped when the content is already in place (idempotent re-runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Unchanged,
    Written,
}

/// Write `contents` to `path` atomically with the given mode. If the file already holds exactly these
/// bytes and mode, nothing is touched (mtime kept) and `Unchanged` is returned.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<WriteOutcome> {
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o7777 == mode {
            if let Ok(existing) = fs::read(path) {
                if existing == contents {
                    return Ok(WriteOutcome::Unchanged);
                }
            }
        }
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set mode {mode:o} on {}", tmp.path().display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot fsync {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot rename into {}", path.display()))?;
    sync_dir(dir)?;
    Ok(WriteOutcome::Written)
}

/// fsync a directory so a rename inside it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot fsync directory {}", dir.display()))
}
