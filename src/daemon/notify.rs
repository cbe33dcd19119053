//! sd_notify for kraftd: the only module that talks to systemd's notify socket (wraps `sd-notify` 0.5).
//!
//! Without `NOTIFY_SOCKET` (a terminal, a plain test) every call is a silent no-op, so callers never
//! branch on "are we under systemd". Send failures are logged, never fatal: losing a STATUS line must
//! not take the broker down (a lost READY/WATCHDOG makes systemd act on its own timeout, which is right).

use sd_notify::NotifyState;
use std::time::Duration;

fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        log::warn!("cannot send {states:?} to systemd's NOTIFY_SOCKET: {e}");
    }
}

/// READY=1 together with the status line that says where the broker serves.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// STATUS=<phase in words>.
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// WATCHDOG=1: only ever called right after a successful readiness probe.
pub fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// EXTEND_TIMEOUT_USEC: "still making progress, give me `by` more from now".
pub fn extend_timeout(by: Duration) {
    // systemd takes a u32 of microseconds (≈71 minutes at most).
    let usec = u32::try_from(by.as_micros()).unwrap_or(u32::MAX);
    send(&[NotifyState::ExtendTimeoutUsec(usec)]);
}

/// STOPPING=1 with a status line.
pub fn stopping(status: &str) {
    send(&[NotifyState::Stopping, NotifyState::Status(status)]);
}

/// The watchdog interval systemd expects pings at, when `WATCHDOG_USEC` is set for this process
/// (`WATCHDOG_PID` unset or ours).
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}
