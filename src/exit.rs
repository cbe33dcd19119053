//! Process exit codes: part of the interface to systemd and scripts (see README "Exit codes").

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
