//! kraftd's own messages (its `log` records and the last error before it exits): to the journal
//! through systemd-journal-logger when stderr is the journal (`JOURNAL_STREAM`), else
//! `kraftd: LEVEL message` lines on stderr. Levels map like Kafka's (Info → 6, see `priority_of`).
//!
//! Hand-written journal code is used only where the crate cannot do what is needed:
//! - `KRAFTD_JOURNAL_SOCKET`: the crate always sends to /run/systemd/journal/socket, so with the
//!   override (tests capture entries on their own socket) `logs::JournalSender` sends these too.
//! - The last error before exit (`OwnLog::send_final`): journald attributes a native-protocol
//!   datagram to a unit by the sender's cgroup, which fails once the sender has exited; so under
//!   journald it goes to stderr, the unit's stream, as `<priority>` lines.
//! - The JVM's entries stay in `logs::LogSink`: they need priority 2 (crit, for FATAL), which no
//!   `log::Level` gives, plus KAFKA_LOGGER=/KAFKA_LEVEL= per entry and MESSAGE cutting.

use super::logs::{self, JournalSender, priority};
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use systemd_journal_logger::{JournalLog, connected_to_journal};

/// Env variable with kraftd's own log level.
pub const LEVEL_ENV: &str = "KRAFTD_LOG";

/// Where kraftd's own messages go.
pub enum OwnLog {
    /// systemd-journal-logger (SYSLOG_IDENTIFIER=kraftd): stderr is the journal.
    Journal(JournalLog),
    /// The `KRAFTD_JOURNAL_SOCKET` override: the crate cannot send there.
    Socket(JournalSender),
    /// `kraftd: LEVEL message` on stderr (a terminal, tests without a journal).
    Stderr,
}

impl OwnLog {
    /// The override socket when set, the journal when stderr is connected to it, else stderr; also
    /// stderr when the journal cannot be used (`logs::LogSink::detect`, run first, says why).
    pub fn detect() -> OwnLog {
        if let Some(path) = logs::journal_socket_override() {
            return JournalSender::new(&path).map_or(OwnLog::Stderr, OwnLog::Socket);
        }
        if !connected_to_journal() {
            return OwnLog::Stderr;
        }
        JournalLog::new().map_or(OwnLog::Stderr, |journal| {
            OwnLog::Journal(journal.with_syslog_identifier("kraftd".to_string()))
        })
    }

    /// Send one record.
    pub fn send(&self, record: &Record) {
        match self {
            OwnLog::Journal(journal) => {
                // The crate maps Info → 5 (notice); `journal_level` shifts so PRIORITY= is ours.
                let shifted = record
                    .to_builder()
                    .level(journal_level(record.level()))
                    .build();
                if let Err(e) = journal.journal_send(&shifted) {
                    eprintln!("kraftd: WARN cannot send an entry to the journal: {e}");
                }
            }
            OwnLog::Socket(sender) => {
                let prio = priority_of(record.level()).to_string();
                let message = record.args().to_string();
                sender.send_or_report(&[
                    ("PRIORITY", prio.as_bytes()),
                    ("SYSLOG_IDENTIFIER", b"kraftd"),
                    ("MESSAGE", message.as_bytes()),
                ]);
            }
            OwnLog::Stderr => {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "kraftd: {} {}",
                    record.level(),
                    record.args()
                );
            }
        }
    }

    /// Send one message whatever the level filter says, right before kraftd exits: under journald
    /// as `<priority>` lines on stderr (see the module comment), else as `send` does.
    pub fn send_final(&self, level: Level, message: &str) {
        if connected_to_journal() {
            let prio = priority_of(level);
            let mut err = std::io::stderr().lock();
            for line in message.lines() {
                let _ = writeln!(err, "<{prio}>{line}");
            }
            let _ = err.flush();
        } else {
            self.send(
                &Record::builder()
                    .level(level)
                    .target("kraftd")
                    .args(format_args!("{message}"))
                    .build(),
            );
        }
    }
}

/// kraftd's own levels map like Kafka's (`logs::level_priority`): Info → 6, unlike the crate's 5.
pub fn priority_of(level: Level) -> u8 {
    match level {
        Level::Error => priority::ERR,
        Level::Warn => priority::WARNING,
        Level::Info => priority::INFO,
        Level::Debug | Level::Trace => priority::DEBUG,
    }
}

/// The level to hand systemd-journal-logger so that it writes `priority_of(level)`: the crate
/// sends Error 3, Warn 4, Info 5, Debug 6, Trace 7.
pub fn journal_level(level: Level) -> Level {
    match level {
        Level::Error => Level::Error,
        Level::Warn => Level::Warn,
        Level::Info => Level::Debug,
        Level::Debug | Level::Trace => Level::Trace,
    }
}

/// `KRAFTD_LOG`'s value as a level filter: error, warn, info, debug (any `log` level name); Info
/// when unset or not a level.
pub fn level_filter(value: Option<&str>) -> LevelFilter {
    value
        .and_then(|l| l.parse().ok())
        .unwrap_or(LevelFilter::Info)
}

/// The `log` backend for kraftd's own messages.
struct OwnLogger {
    out: OwnLog,
    max_level: LevelFilter,
}

impl Log for OwnLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.max_level
    }
    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            self.out.send(record);
        }
    }
    fn flush(&self) {}
}

/// Install kraftd's logger (once per process) with the level from `KRAFTD_LOG`; returns where its
/// messages go, for `send_final`.
pub fn install() -> &'static OwnLog {
    let max_level = level_filter(std::env::var(LEVEL_ENV).ok().as_deref());
    let logger: &'static OwnLogger = Box::leak(Box::new(OwnLogger {
        out: OwnLog::detect(),
        max_level,
    }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(max_level);
    }
    &logger.out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// systemd-journal-logger 2.2's documented table (`JournalLog`: "Level::Info → 5 (notice)").
    fn crate_priority(level: Level) -> u8 {
        match level {
            Level::Error => 3,
            Level::Warn => 4,
            Level::Info => 5,
            Level::Debug => 6,
            Level::Trace => 7,
        }
    }

    #[test]
    fn the_shifted_level_gives_kafkas_priorities_through_the_crate() {
        for level in [
            Level::Error,
            Level::Warn,
            Level::Info,
            Level::Debug,
            Level::Trace,
        ] {
            assert_eq!(
                crate_priority(journal_level(level)),
                priority_of(level),
                "{level}"
            );
        }
        assert_eq!(priority_of(Level::Info), 6);
        assert_eq!(
            logs::level_priority("INFO"),
            Some(priority_of(Level::Info)),
            "kraftd's INFO and Kafka's INFO share a priority"
        );
    }

    #[test]
    fn kraftd_log_names_a_level_else_info() {
        assert_eq!(level_filter(None), LevelFilter::Info);
        assert_eq!(level_filter(Some("debug")), LevelFilter::Debug);
        assert_eq!(level_filter(Some("WARN")), LevelFilter::Warn);
        assert_eq!(level_filter(Some("error")), LevelFilter::Error);
        assert_eq!(level_filter(Some("loud")), LevelFilter::Info);
    }
}
