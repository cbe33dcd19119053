//! Process exit codes — part of the interface to systemd and scripts (see README "Exit codes") — and
//! the one mapping from typed errors to them (`code_of`), used by both binaries.

use crate::cluster_id::{ClusterIdError, OtherClusterError};
use crate::config::ConfigError;
use crate::daemon::DaemonError;
use crate::dist::DistError;
use crate::install_lock::LockBusy;
use crate::java::JavaError;
use crate::net::AdvertiseError;
use crate::storage::StorageError;
use std::error::Error;

/// Success.
pub const OK: i32 = 0;
/// Generic runtime failure (the broker died, a step failed); systemd's `Restart=on-failure` applies.
pub const FAILURE: i32 = 1;
/// Command-line usage error (clap's own code).
pub const USAGE: i32 = 2;
/// Invalid or missing configuration, rendered files or storage: restarting cannot help, so the unit
/// lists it in `RestartPreventExitStatus=`. 78 is EX_CONFIG from sysexits.h.
pub const CONFIG: i32 = 78;
/// A required program or file is missing (Java, the Kafka distribution). EX_UNAVAILABLE. In the
/// unit's `RestartPreventExitStatus=`: a restart cannot install it.
pub const UNAVAILABLE: i32 = 69;
/// The on-disk data belongs to another cluster or node: refusing to touch it. EX_DATAERR.
pub const DATA_CONFLICT: i32 = 65;
/// The data dir's filesystem is full (Kafka took the log dir offline and stopped, or less than
/// `daemon::disk::MIN_FREE_BYTES` is free at start). EX_IOERR. In the unit's
/// `RestartPreventExitStatus=`: a restart cannot free space, Kafka would only stop again.
pub const DISK_FULL: i32 = 74;
/// A listener port is in use by another process, or `kraftd run` found this node already running
/// under another kraftd: EX_TEMPFAIL. Not in `RestartPreventExitStatus=`, because the port may be
/// free (the other kraftd stopped) by the time systemd restarts the unit.
pub const TEMPFAIL: i32 = 75;

/// The exit code of a failed command: the first typed error in `err`'s chain (outermost first)
/// decides; an error of no known type is a runtime `FAILURE`. `kraftd status` and `smoke-test` exit
/// with their check's outcome instead (`ops::status::Health::exit_code`), not through an error.
pub fn code_of(err: &anyhow::Error) -> i32 {
    err.chain().find_map(code_of_cause).unwrap_or(FAILURE)
}

/// The exit code when `kraftd tool` (or a `kafka-*` link) could not start its tool: 78 when the
/// config is missing or invalid, else 69 — Kafka or Java is unusable, as `kraftd validate` reports.
pub fn code_of_tool_launch(err: &anyhow::Error) -> i32 {
    if err.chain().any(|c| c.is::<ConfigError>()) {
        CONFIG
    } else {
        UNAVAILABLE
    }
}

/// The code one error type stands for; None for a type that does not decide (look further down).
fn code_of_cause(cause: &(dyn Error + 'static)) -> Option<i32> {
    if let Some(e) = cause.downcast_ref::<DaemonError>() {
        return Some(match e {
            DaemonError::Config(_) => CONFIG,
            DaemonError::Unavailable(_) => UNAVAILABLE,
            DaemonError::PortInUse(_) | DaemonError::AlreadyRunning(_) => TEMPFAIL,
            DaemonError::DiskFull(_) => DISK_FULL,
            DaemonError::Failure(_) => FAILURE,
        });
    }
    if cause.is::<ConfigError>() || cause.is::<AdvertiseError>() || cause.is::<ClusterIdError>() {
        return Some(CONFIG);
    }
    if let Some(e) = cause.downcast_ref::<StorageError>() {
        return Some(match e {
            StorageError::Conflict { .. } | StorageError::NotEmpty { .. } => DATA_CONFLICT,
            _ => FAILURE,
        });
    }
    if cause.is::<OtherClusterError>() {
        return Some(DATA_CONFLICT);
    }
    if cause.is::<JavaError>() {
        return Some(UNAVAILABLE);
    }
    if let Some(e) = cause.downcast_ref::<DistError>() {
        return Some(match e {
            DistError::NotADistribution { .. } | DistError::Broken { .. } => UNAVAILABLE,
            DistError::NoDigest { .. }
            | DistError::BadInput(_)
            | DistError::VersionMismatch { .. } => CONFIG,
            _ => FAILURE,
        });
    }
    if cause.is::<LockBusy>() {
        return Some(TEMPFAIL);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::{Context, anyhow};
    use std::path::PathBuf;

    /// Each typed error alone, and under a context (the binaries add one), gives its code.
    fn assert_code(err: impl Error + Send + Sync + 'static, want: i32) {
        let what = format!("{err:?}");
        let bare = anyhow::Error::new(err);
        assert_eq!(code_of(&bare), want, "{what}");
        let wrapped = Err::<(), _>(bare).context("a step").unwrap_err();
        assert_eq!(code_of(&wrapped), want, "under a context: {what}");
    }

    #[test]
    fn daemon_errors_map_to_their_documented_codes() {
        assert_code(DaemonError::Config(anyhow!("x")), CONFIG);
        assert_code(DaemonError::Unavailable(anyhow!("x")), UNAVAILABLE);
        assert_code(DaemonError::PortInUse(anyhow!("x")), TEMPFAIL);
        assert_code(DaemonError::AlreadyRunning(anyhow!("x")), TEMPFAIL);
        assert_code(DaemonError::DiskFull(anyhow!("x")), DISK_FULL);
        assert_code(DaemonError::Failure(anyhow!("x")), FAILURE);
    }

    #[test]
    fn a_daemon_error_decides_over_what_it_wraps() {
        // The daemon classified the failure already; a config error inside a Failure stays 1.
        let err = anyhow::Error::new(DaemonError::Failure(anyhow::Error::new(
            ConfigError::Invalid("x".into()),
        )));
        assert_eq!(code_of(&err), FAILURE);
    }

    #[test]
    fn config_errors_are_78() {
        assert_code(ConfigError::Invalid("x".into()), CONFIG);
        assert_code(
            ConfigError::NotFound {
                path: PathBuf::from("/etc/kafka/kraftd.toml"),
            },
            CONFIG,
        );
        assert_code(
            AdvertiseError::Malformed {
                value: "1.2.3".into(),
                reason: "x".into(),
            },
            CONFIG,
        );
        assert_code(
            ClusterIdError {
                value: "x".into(),
                reason: "y".into(),
            },
            CONFIG,
        );
    }

    #[test]
    fn data_of_another_cluster_is_65_other_storage_errors_1() {
        assert_code(
            StorageError::Conflict {
                file: PathBuf::from("/d/meta.properties"),
                field: "cluster.id",
                expected: "a".into(),
                found: "b".into(),
            },
            DATA_CONFLICT,
        );
        assert_code(
            StorageError::NotEmpty {
                dir: PathBuf::from("/d"),
                entries: "x".into(),
            },
            DATA_CONFLICT,
        );
        assert_code(
            OtherClusterError {
                voter: "1@h:9093".into(),
                ours: "a".into(),
                theirs: "b".into(),
            },
            DATA_CONFLICT,
        );
        assert_code(
            StorageError::Unreadable {
                file: PathBuf::from("/d/meta.properties"),
                message: "x".into(),
            },
            FAILURE,
        );
    }

    #[test]
    fn unusable_java_or_kafka_is_69_bad_dist_input_78_download_failures_1() {
        assert_code(JavaError::NotFound { searched: vec![] }, UNAVAILABLE);
        assert_code(
            DistError::NotADistribution {
                path: PathBuf::from("/x"),
                reason: "y".into(),
            },
            UNAVAILABLE,
        );
        assert_code(
            DistError::Broken {
                path: PathBuf::from("/x"),
                reason: "y".into(),
            },
            UNAVAILABLE,
        );
        assert_code(DistError::BadInput("x".into()), CONFIG);
        assert_code(
            DistError::NoDigest {
                version: "9.9.9".into(),
                pinned: "4.1.1".into(),
            },
            CONFIG,
        );
        assert_code(
            DistError::VersionMismatch {
                requested: "4.1.1".parse().unwrap(),
                detected: "3.7.1".parse().unwrap(),
                path: PathBuf::from("/x"),
            },
            CONFIG,
        );
        assert_code(
            DistError::DownloadFailed {
                url: "http://x".into(),
                reason: "y".into(),
            },
            FAILURE,
        );
    }

    #[test]
    fn a_busy_install_lock_is_75() {
        assert_code(
            LockBusy {
                target: PathBuf::from("/"),
                lock: PathBuf::from("/run/lock"),
                holder: "pid 1".into(),
                waited_secs: 0,
            },
            TEMPFAIL,
        );
    }

    #[test]
    fn untyped_errors_are_1() {
        assert_eq!(code_of(&anyhow!("something broke")), FAILURE);
        let io = anyhow::Error::new(std::io::Error::other("disk")).context("write x");
        assert_eq!(code_of(&io), FAILURE);
    }

    #[test]
    fn a_tool_that_cannot_start_is_78_for_config_else_69() {
        let config = anyhow::Error::new(ConfigError::Invalid("x".into())).context("kafka-topics");
        assert_eq!(code_of_tool_launch(&config), CONFIG);
        assert_eq!(code_of_tool_launch(&anyhow!("no java")), UNAVAILABLE);
        let dist = anyhow::Error::new(DistError::BadInput("x".into()));
        assert_eq!(code_of_tool_launch(&dist), UNAVAILABLE);
    }
}
