//! The install dir `<opt>/` (`/opt/kafka`): what `kafka_2.13-<v>` holds, moving a verified copy into
//! place with its provenance record, the `current` link, and the leftovers of interrupted runs.

use super::{DistError, KafkaDist, KafkaVersion, dist_dir_name};
use anyhow::Context;
use std::fs;
use std::path::{Path, PathBuf};

/// Fail early, with the path, when the install dir cannot take files (rather than blaming every mirror).
pub(super) fn ensure_writable(opt_dir: &Path) -> Result<(), DistError> {
    tempfile::Builder::new()
        .prefix(".kraftd-write-test-")
        .tempfile_in(opt_dir)
        .map(drop)
        .with_context(|| {
            format!(
                "cannot write into {}: run as a user who can (root for /opt/kafka), or pass --prefix DIR",
                opt_dir.display()
            )
        })
        .map_err(DistError::Io)
}

pub(super) fn target_dir(opt_dir: &Path, version: KafkaVersion) -> PathBuf {
    opt_dir.join(dist_dir_name(&version))
}

/// What `<opt>/kafka_2.13-<v>` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Installed {
    Missing,
    /// Kafka `v`, verified ([`KafkaDist::verify`]).
    Good,
    /// Kafka `v` by its jars, but damaged (the reason): replaced by the next verified copy.
    Broken(String),
}

/// The state of `<opt>/kafka_2.13-<v>`. A dir of that name holding something else (another version,
/// no Kafka jar at all) is an error: we never delete it.
pub(super) fn installed_state(
    opt_dir: &Path,
    version: KafkaVersion,
) -> Result<Installed, DistError> {
    let target = target_dir(opt_dir, version);
    if !target.exists() {
        return Ok(Installed::Missing);
    }
    match KafkaDist::open_checked(&target) {
        Ok(d) if d.version == version => match KafkaDist::verify(&target) {
            Ok(_) => Ok(Installed::Good),
            Err(DistError::Broken { reason, .. }) => Ok(Installed::Broken(reason)),
            Err(e) => Err(e),
        },
        Ok(d) => Err(DistError::BadInput(format!(
            "{} exists but holds Kafka {} (from its jars), not {version}; move it away and re-run",
            target.display(),
            d.version
        ))),
        Err(e) => Err(DistError::BadInput(format!(
            "{} exists but is not an installed Kafka {version} ({e}); move it away and re-run",
            target.display()
        ))),
    }
}

/// The file in an installed distribution that says where it came from (written by kraft-install).
pub const PROVENANCE_FILE: &str = ".kraftd-provenance";

/// Move a verified `staged` distribution to `<opt>/kafka_2.13-<v>`, recording its provenance. A
/// broken copy there is swapped out (renamed aside, the new one renamed in, the old one deleted).
pub(super) fn put_in_place(
    staged: &Path,
    opt_dir: &Path,
    version: KafkaVersion,
    state: Installed,
    provenance: &str,
    origin: &str,
) -> Result<(), DistError> {
    let target = target_dir(opt_dir, version);
    crate::fsutil::write_atomic(&staged.join(PROVENANCE_FILE), provenance.as_bytes(), 0o644)?;
    let aside = match &state {
        Installed::Broken(reason) => {
            let aside = opt_dir.join(format!(
                ".kafka-replaced-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            fs::rename(&target, &aside)
                .with_context(|| format!("cannot move the broken {} aside", target.display()))?;
            log::warn!(
                "{} was a broken copy ({reason}); replacing it with the verified Kafka {version} from {origin}",
                target.display()
            );
            Some(aside)
        }
        _ => None,
    };
    if let Err(e) = fs::rename(staged, &target) {
        if let Some(aside) = &aside {
            let _ = fs::rename(aside, &target);
        }
        return Err(anyhow::anyhow!(
            "cannot move {} to {}: {e}",
            staged.display(),
            target.display()
        )
        .into());
    }
    crate::fsutil::sync_dir(opt_dir)?;
    if let Some(aside) = aside {
        fs::remove_dir_all(&aside).with_context(|| format!("cannot remove {}", aside.display()))?;
    }
    log::info!("installed Kafka {version} into {}", target.display());
    Ok(())
}

/// Temp entries kraft-install creates in the install dir; their names carry the creator's pid.
const TEMP_PREFIXES: &[&str] = &[
    ".kafka-unpack-",
    ".kafka-copy-",
    ".kafka-download-",
    ".kafka-replaced-",
    ".current.tmp-",
    ".kraftd-write-test-",
];

/// Whether a temp entry's name belongs to a process that is gone (or names none: older releases).
fn stale_temp_owner(name: &str) -> Option<Option<u32>> {
    let rest = TEMP_PREFIXES.iter().find_map(|p| name.strip_prefix(p))?;
    let pid = rest
        .split_once('-')
        .and_then(|(pid, _)| pid.parse::<u32>().ok());
    match pid {
        Some(pid) if Path::new(&format!("/proc/{pid}")).exists() => None,
        other => Some(other),
    }
}

/// Remove leftovers of an interrupted run (a killed unpack leaves tens of MB), saying so. Runs
/// under the installer's target lock, so no other kraft-install is using them; an entry whose
/// pid is still alive is kept anyway.
pub(super) fn remove_stale_temps(opt_dir: &Path) {
    let Ok(entries) = fs::read_dir(opt_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = stale_temp_owner(&name) else {
            continue;
        };
        let path = entry.path();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let removed = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        let who = owner
            .map(|p| format!("pid {p}, no longer running"))
            .unwrap_or_else(|| "an older run".into());
        match removed {
            Ok(()) => log::warn!(
                "removed {}, left behind by an interrupted kraft-install ({who})",
                path.display()
            ),
            Err(e) => log::warn!(
                "cannot remove the leftover {}: {e}; delete it by hand",
                path.display()
            ),
        }
    }
}

pub(super) fn link_needs_change(opt_dir: &Path, version: KafkaVersion) -> bool {
    fs::read_link(opt_dir.join("current"))
        .map(|t| t != Path::new(&dist_dir_name(&version)))
        .unwrap_or(true)
}

/// Point `<opt>/current` at `kafka_2.13-<v>` (relative), replacing it atomically (temp link + rename).
/// Returns whether it changed.
pub(super) fn point_current_link(opt_dir: &Path, version: KafkaVersion) -> Result<bool, DistError> {
    let link = opt_dir.join("current");
    let want = PathBuf::from(dist_dir_name(&version));
    match fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            if fs::read_link(&link).ok().as_deref() == Some(want.as_path()) {
                return Ok(false);
            }
        }
        Ok(_) => {
            return Err(DistError::BadInput(format!(
                "{} exists and is not a symlink; move it away so it can point at {}",
                link.display(),
                want.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(anyhow::anyhow!("cannot stat {}: {e}", link.display()).into()),
    }
    let tmp = opt_dir.join(format!(
        ".current.tmp-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::os::unix::fs::symlink(&want, &tmp).with_context(|| {
        format!(
            "cannot create symlink {} -> {}",
            tmp.display(),
            want.display()
        )
    })?;
    if let Err(e) = fs::rename(&tmp, &link) {
        let _ = fs::remove_file(&tmp);
        return Err(
            anyhow::anyhow!("cannot rename {} to {}: {e}", tmp.display(), link.display()).into(),
        );
    }
    crate::fsutil::sync_dir(opt_dir)?;
    log::info!("{} -> {}", link.display(), want.display());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temp_owner_reads_the_pid_in_the_name() {
        assert_eq!(
            stale_temp_owner("kafka_2.13-4.1.1"),
            None,
            "not a temp entry"
        );
        assert_eq!(stale_temp_owner("current"), None);
        let mine = format!(".kafka-unpack-{}-x1", std::process::id());
        assert_eq!(
            stale_temp_owner(&mine),
            None,
            "a live owner keeps its entry"
        );
        // pid_max is at most 2^22: this pid never runs.
        assert_eq!(
            stale_temp_owner(".current.tmp-4294967295-7"),
            Some(Some(4294967295))
        );
        assert_eq!(
            stale_temp_owner(".kafka-download-abc"),
            Some(None),
            "older runs: no pid"
        );
    }

    #[test]
    fn link_needs_change_compares_the_relative_target() {
        let opt = tempfile::tempdir().unwrap();
        let v = KafkaVersion::new(4, 1, 1);
        assert!(link_needs_change(opt.path(), v), "no link yet");
        std::os::unix::fs::symlink("kafka_2.13-3.7.1", opt.path().join("current")).unwrap();
        assert!(link_needs_change(opt.path(), v));
        assert!(!link_needs_change(opt.path(), KafkaVersion::new(3, 7, 1)));
    }
}
