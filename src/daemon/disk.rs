//! The data dir's filesystem and its free space: the full-disk refusal before start, and the report
//! when Kafka took the log dir offline because a write failed with "No space left on device".
//!
//! With a single log dir (kraftd's layout: the data dir also holds `__cluster_metadata`) Kafka halts
//! when that dir fails; a restart would only halt again, so kraftd exits with `exit::DISK_FULL` (in the
//! unit's `RestartPreventExitStatus=`) and refuses to start while less than `MIN_FREE_BYTES` is free.

use std::path::{Path, PathBuf};

/// Below this much space available to the broker, the data dir counts as full (a start is refused).
pub const MIN_FREE_BYTES: u64 = 8 * 1024 * 1024;

/// The text of the Java exception for ENOSPC, as Kafka logs it.
pub const ENOSPC_TEXT: &str = "No space left on device";

/// Where a path lives: one line of /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub source: String,
}

/// Space on a filesystem, in bytes (`avail` is what an unprivileged writer may use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    pub avail: u64,
    pub total: u64,
}

/// The mount holding `path` (absolute, canonical) according to `mountinfo` (the text of
/// /proc/self/mountinfo): the last-mounted entry with the longest mount point that contains it.
pub fn mount_of(mountinfo: &str, path: &Path) -> Option<MountInfo> {
    let mut best: Option<MountInfo> = None;
    for line in mountinfo.lines() {
        // id parent major:minor root mount-point options [optional…] - fstype source super-options
        let (left, right) = line.split_once(" - ")?;
        let mount_point = PathBuf::from(unescape(left.split(' ').nth(4)?));
        let mut r = right.split(' ');
        let fs_type = r.next()?.to_string();
        let source = unescape(r.next().unwrap_or(""));
        if !path.starts_with(&mount_point) {
            continue;
        }
        let longer = best
            .as_ref()
            .is_none_or(|b| mount_point.as_os_str().len() >= b.mount_point.as_os_str().len());
        if longer {
            best = Some(MountInfo {
                mount_point,
                fs_type,
                source,
            });
        }
    }
    best
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Free and total space of the filesystem holding `path`.
pub fn space_of(path: &Path) -> std::io::Result<Space> {
    let st = nix::sys::statvfs::statvfs(path).map_err(std::io::Error::from)?;
    let frsize = st.fragment_size() as u64;
    Ok(Space {
        avail: st.blocks_available() as u64 * frsize,
        total: st.blocks() as u64 * frsize,
    })
}

/// True when `space` is too little for the broker to run.
pub fn is_full(space: Space) -> bool {
    space.avail < MIN_FREE_BYTES
}

/// `1536` → `1.5 KiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The one-line report: which dir, which filesystem, how much is free, what Kafka did, and the fix.
pub fn full_message(
    data_dir: &Path,
    mount: Option<&MountInfo>,
    space: Space,
    kafka_failed: bool,
) -> String {
    let fs = match mount {
        Some(m) => format!(
            "filesystem {} ({}, mounted at {})",
            m.source,
            m.fs_type,
            m.mount_point.display()
        ),
        None => "its filesystem".to_string(),
    };
    let what = if kafka_failed {
        "Kafka could not write to it (No space left on device), took the log dir offline and stopped"
    } else {
        "not starting Kafka, it would stop again at its first write"
    };
    format!(
        "data dir {} is full: {} free of {} on {fs}; {what}. Fix: free space on {} (remove files that are not \
         Kafka's, or grow the filesystem), then `systemctl restart kafka`; kraftd starts once at least {} is free",
        data_dir.display(),
        human(space.avail),
        human(space.total),
        mount
            .map(|m| m.mount_point.display().to_string())
            .unwrap_or_else(|| data_dir.display().to_string()),
        human(MIN_FREE_BYTES)
    )
}

/// The report for `data_dir` as it is now (reads mountinfo and statvfs).
pub fn describe_full(data_dir: &Path, kafka_failed: bool) -> String {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let mount = std::fs::read_to_string("/proc/self/mountinfo")
        .ok()
        .and_then(|text| mount_of(&text, &canonical));
    let space = space_of(data_dir).unwrap_or(Space { avail: 0, total: 0 });
    full_message(data_dir, mount.as_ref(), space, kafka_failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
30 22 0:27 / /run rw,nosuid shared:5 - tmpfs tmpfs rw,size=100k
41 22 7:0 / /srv/kafka\\040data rw,relatime shared:9 - ext4 /dev/loop0 rw
42 41 0:40 / /srv/kafka\\040data/small rw - tmpfs none rw,size=64m
";

    #[test]
    fn the_longest_containing_mount_wins() {
        let m = mount_of(MOUNTINFO, Path::new("/srv/kafka data/d")).unwrap();
        assert_eq!(
            (
                m.mount_point.as_path(),
                m.fs_type.as_str(),
                m.source.as_str()
            ),
            (Path::new("/srv/kafka data"), "ext4", "/dev/loop0")
        );
        let m = mount_of(MOUNTINFO, Path::new("/srv/kafka data/small/x")).unwrap();
        assert_eq!((m.fs_type.as_str(), m.source.as_str()), ("tmpfs", "none"));
        // A path prefix is not a parent: /runner is on /.
        assert_eq!(
            mount_of(MOUNTINFO, Path::new("/runner")).unwrap().source,
            "/dev/vda1"
        );
        assert_eq!(
            mount_of(MOUNTINFO, Path::new("/var/lib/kafka"))
                .unwrap()
                .mount_point,
            Path::new("/")
        );
    }

    #[test]
    fn the_message_names_dir_filesystem_space_and_fix() {
        let m = mount_of(MOUNTINFO, Path::new("/srv/kafka data/d"));
        let msg = full_message(
            Path::new("/srv/kafka data/d"),
            m.as_ref(),
            Space {
                avail: 12 * 1024,
                total: 64 << 20,
            },
            true,
        );
        for want in [
            "data dir /srv/kafka data/d is full",
            "12.0 KiB free of 64.0 MiB",
            "filesystem /dev/loop0 (ext4, mounted at /srv/kafka data)",
            "No space left on device",
            "systemctl restart kafka",
            "at least 8.0 MiB",
        ] {
            assert!(msg.contains(want), "{want:?} not in {msg}");
        }
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn full_means_less_than_the_minimum() {
        assert!(is_full(Space {
            avail: MIN_FREE_BYTES - 1,
            total: 1 << 30
        }));
        assert!(!is_full(Space {
            avail: MIN_FREE_BYTES,
            total: 1 << 30
        }));
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
    }

    #[test]
    fn this_hosts_root_is_found() {
        let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(mount_of(&text, Path::new("/")).is_some());
        assert!(space_of(Path::new("/")).unwrap().total > 0);
    }
}
