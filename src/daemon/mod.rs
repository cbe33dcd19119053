//! The `kraftd run` supervisor: JVM launch, readiness probe, sd_notify, journald logs, signals.
//!
//! - `preflight`: the checks `kraftd validate` runs and `kraftd run` repeats before spawning anything.
//! - `jvm`: the exact `java … kafka.Kafka server.properties` command and how it is spawned.
//! - `probe`: the Kafka-protocol readiness probe (ApiVersions + Metadata, own node id).
//! - `logs`: JVM output → journald (native protocol) or stderr, priorities, phases for STATUS=.
//! - `disk`: the data dir's filesystem, free space, the full-disk report.
//! - `own_log`: kraftd's own messages (systemd-journal-logger, or stderr).
//! - `notify`: the only module that talks to systemd's notify socket.
//! - `supervisor`: the `kraftd run` loop; `stop`: the `kraftd stop` hook and its policy (which
//!   pid, which timeout, whether the config must load).

pub mod disk;
pub mod jvm;
pub mod logs;
pub mod notify;
pub mod own_log;
pub mod preflight;
pub mod probe;
pub mod stop;
pub mod supervisor;

/// A failure of a daemon command, classified by what the operator must do about it; each maps to one
/// process exit code (`crate::exit::code_of`), documented in `kraftd --help`.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Config, rendered files or storage are wrong: restarting cannot help (exit 78).
    #[error("{0:#}")]
    Config(anyhow::Error),
    /// Java or the Kafka distribution is missing or unusable (exit 69).
    #[error("{0:#}")]
    Unavailable(anyhow::Error),
    /// A listener port is taken by another process: may clear up, so a restart is worth it (exit 75).
    #[error("{0:#}")]
    PortInUse(anyhow::Error),
    /// This node already runs under another `kraftd run` (exit 75, like a port in use: once that
    /// one has stopped, a retry succeeds).
    #[error("{0:#}")]
    AlreadyRunning(anyhow::Error),
    /// The data dir's filesystem is full (exit 74): a restart cannot help until space is freed.
    #[error("{0:#}")]
    DiskFull(anyhow::Error),
    /// The JVM exited without being asked to, or anything else failed at run time (exit 1).
    #[error("{0:#}")]
    Failure(anyhow::Error),
}
