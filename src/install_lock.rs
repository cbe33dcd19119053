//! The kraft-install target lock: one run per target (`/` or a `--prefix`) at a time, for every mode.
//!
//! The lock file lives outside the target (`/run/lock`, else the temp dir), so taking it writes
//! nothing into the target: a refused run still leaves the target exactly as it was. Its content is
//! the holder's pid and target, for the message of the run that waits.

use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a second run waits by default for the first one (`--lock-timeout`).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(600);

/// Another kraft-install holds the target longer than we were told to wait (exit 75, TEMPFAIL).
#[derive(Debug, thiserror::Error)]
#[error(
    "another kraft-install ({holder}) is still working on {} (lock {}){}. Nothing was changed; \
     let it finish and re-run, or wait longer with --lock-timeout SECONDS",
    .target.display(), .lock.display(),
    if *.waited_secs == 0 { String::new() } else { format!(" after {} s", .waited_secs) }
)]
pub struct LockBusy {
    pub target: PathBuf,
    pub lock: PathBuf,
    pub holder: String,
    pub waited_secs: u64,
}

/// A held lock; released when dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub struct InstallLock {
    _file: File,
    pub path: PathBuf,
}

/// The lock file for `target` (an absolute path): `kraft-install.lock` for `/`, else
/// `kraft-install-<hash of the canonical target>.lock`, in `/run/lock` when that exists, else in
/// the temp dir.
pub fn lock_path(target: &Path) -> PathBuf {
    let dir = if Path::new("/run/lock").is_dir() {
        PathBuf::from("/run/lock")
    } else {
        std::env::temp_dir()
    };
    let target = canonical_target(target);
    if target == Path::new("/") {
        return dir.join("kraft-install.lock");
    }
    let digest = Sha256::digest(target.as_os_str().as_encoded_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("kraft-install-{hex}.lock"))
}

/// The target with `.`/`..` resolved and its longest existing ancestor canonicalized, so
/// `/srv/n`, `/srv/./n` and a symlink to it share one lock even before the target exists.
fn canonical_target(target: &Path) -> PathBuf {
    let mut clean = PathBuf::new();
    for c in target.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    let mut rest = Vec::new();
    let mut base = clean.clone();
    loop {
        if let Ok(real) = std::fs::canonicalize(&base) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (base.file_name().map(|n| n.to_os_string()), base.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                base = parent.to_path_buf();
            }
            _ => return clean,
        }
    }
}

/// Take the lock of `target`, waiting at most `wait` (zero: refuse at once) for another run.
/// `waiting` is called once, with the holder's description, when we have to wait.
pub fn acquire(
    target: &Path,
    wait: Duration,
    waiting: impl FnOnce(&str, &Path),
) -> anyhow::Result<InstallLock> {
    let path = lock_path(target);
    let mut file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
    {
        Ok(f) => f,
        // Created by another user (e.g. root) without write access for us: a read-only fd locks too.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            File::open(&path).map_err(|e| {
                anyhow::anyhow!("cannot open the kraft-install lock {}: {e}", path.display())
            })?
        }
        Err(e) => anyhow::bail!(
            "cannot create the kraft-install lock {}: {e}",
            path.display()
        ),
    };
    let started = Instant::now();
    let mut told = Some(waiting);
    loop {
        // SAFETY: flock(2) on a descriptor we own; the lock goes with the descriptor.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            anyhow::bail!("cannot lock {}: {err}", path.display());
        }
        let holder = holder(&mut file);
        if started.elapsed() >= wait {
            return Err(LockBusy {
                target: target.to_path_buf(),
                lock: path,
                holder,
                waited_secs: started.elapsed().as_secs(),
            }
            .into());
        }
        if let Some(tell) = told.take() {
            tell(&holder, &path);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Best effort: a read-only fd (another user's file) cannot record us; the lock still holds.
    let _ = file.set_len(0).and_then(|_| {
        file.rewind()?;
        writeln!(
            file,
            "pid {} target {}",
            std::process::id(),
            target.display()
        )?;
        file.flush()
    });
    Ok(InstallLock { _file: file, path })
}

/// "pid N" of the run holding the lock, as it recorded itself.
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|_| file.read_to_string(&mut text));
    text.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0] == "pid")
        .map(|w| format!("pid {}", w[1]))
        .unwrap_or_else(|| "pid unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_per_target_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("node");
        let b = dir.path().join("x/../node");
        assert_eq!(lock_path(&a), lock_path(&b));
        assert_ne!(lock_path(&a), lock_path(&dir.path().join("other")));
        assert!(lock_path(Path::new("/")).ends_with("kraft-install.lock"));
    }

    #[test]
    fn second_holder_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("node");
        let held = acquire(&target, Duration::ZERO, |_, _| panic!("free lock")).unwrap();
        let err = acquire(&target, Duration::ZERO, |_, _| {}).unwrap_err();
        let busy = err.downcast_ref::<LockBusy>().expect("LockBusy");
        assert_eq!(busy.holder, format!("pid {}", std::process::id()));
        assert!(!target.exists(), "the lock must not create the target");
        drop(held);
        acquire(&target, Duration::ZERO, |_, _| panic!("released")).unwrap();
    }
}
