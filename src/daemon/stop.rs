//! `kraftd stop`: ask exactly one running `kraftd run` (by pid, checked to be kraftd) to stop, and
//! wait until it has exited — it exits only after its JVM has.

use super::DaemonError;
use anyhow::anyhow;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often progress is printed while waiting.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);

/// What `kraftd stop` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopOutcome {
    /// The daemon was running and has exited.
    Stopped { pid: i32, waited: Duration },
    /// Nothing to stop (no pid file, stale pid file, process already gone).
    NotRunning { reason: String },
}

/// Which daemon to stop.
#[derive(Debug, Clone)]
pub enum StopTarget<'a> {
    /// An explicit pid (systemd's `$MAINPID`).
    Pid(i32),
    /// The pid file of a `kraftd run` (foreground use).
    PidFile(&'a Path),
}

/// Process state as /proc tells it; None when the pid does not exist.
fn proc_stat(pid: i32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)` (which may contain spaces): state is field 3, starttime field 22.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    Some((
        fields.first()?.chars().next()?,
        fields.get(19)?.parse().ok()?,
    ))
}

/// True when `pid` is a live (not zombie) `kraftd run` process: its executable is named kraftd and
/// its arguments include `run`.
pub fn process_is_kraftd(pid: i32) -> bool {
    if pid <= 0 || !matches!(proc_stat(pid), Some((state, _)) if state != 'Z') {
        return false;
    }
    let exe_ok = std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        // After a package upgrade the running binary shows as "kraftd (deleted)".
        .is_some_and(|n| n == "kraftd" || n.starts_with("kraftd "));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let runs = cmdline.split(|&b| b == 0).skip(1).any(|a| a == b"run");
    exe_ok && runs
}

/// Describe what a pid is, for messages ("kraftd", "java", …).
fn process_name(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Send SIGTERM to the target daemon and wait up to `timeout` for it to exit, printing progress to
/// stderr every few seconds.
pub fn stop(target: StopTarget<'_>, timeout: Duration) -> Result<StopOutcome, DaemonError> {
    let pid = match target {
        StopTarget::Pid(pid) => {
            if proc_stat(pid).is_none_or(|(s, _)| s == 'Z') {
                return Ok(StopOutcome::NotRunning {
                    reason: format!("no process with pid {pid}: already stopped"),
                });
            }
            if !process_is_kraftd(pid) {
                return Err(DaemonError::Failure(anyhow!(
                    "pid {pid} is not a `kraftd run` process (it is {:?}): refusing to signal it; pass the pid of kraftd",
                    process_name(pid)
                )));
            }
            pid
        }
        StopTarget::PidFile(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(StopOutcome::NotRunning {
                        reason: format!("no pid file {}: kraftd is not running", path.display()),
                    });
                }
                Err(e) => {
                    return Err(DaemonError::Failure(anyhow!(
                        "cannot read the pid file {}: {e}",
                        path.display()
                    )));
                }
            };
            let pid: i32 = text.trim().parse().map_err(|_| {
                DaemonError::Failure(anyhow!(
                    "pid file {} holds {:?}, not a pid: remove it",
                    path.display(),
                    text.trim()
                ))
            })?;
            if !process_is_kraftd(pid) {
                return Ok(StopOutcome::NotRunning {
                    reason: format!(
                        "pid file {} names pid {pid}, which is not a running kraftd: already stopped",
                        path.display()
                    ),
                });
            }
            pid
        }
    };
    let (_, start_time) = proc_stat(pid).unwrap_or(('?', 0));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .map_err(|e| DaemonError::Failure(anyhow!("cannot send SIGTERM to kraftd pid {pid}: {e}")))?;
    eprintln!(
        "kraftd stop: sent SIGTERM to kraftd (pid {pid}), waiting up to {}s for Kafka to stop",
        timeout.as_secs()
    );

    let started = Instant::now();
    let mut next_progress = PROGRESS_EVERY;
    loop {
        // Gone, a zombie, or the pid reused by another process: our daemon has exited.
        match proc_stat(pid) {
            Some((state, st)) if state != 'Z' && st == start_time => {}
            _ => {
                return Ok(StopOutcome::Stopped {
                    pid,
                    waited: started.elapsed(),
                });
            }
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(kill_after_timeout(pid, start_time, timeout));
        }
        if waited >= next_progress {
            eprintln!(
                "kraftd stop: still waiting for kraftd (pid {pid}) to stop: {}s",
                waited.as_secs()
            );
            next_progress += PROGRESS_EVERY;
        }
        std::thread::sleep(POLL);
    }
}

/// The stop timeout passed: SIGKILL the broker JVM(s) of kraftd `pid` (Kafka will recover its logs on
/// the next start), give kraftd a moment to notice and exit, and report the forced stop.
fn kill_after_timeout(pid: i32, start_time: u64, timeout: Duration) -> DaemonError {
    let jvms = broker_jvms_of(pid);
    for jvm in &jvms {
        eprintln!(
            "kraftd stop: Kafka did not stop within {}s: killing JVM pid {jvm} (SIGKILL)",
            timeout.as_secs()
        );
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*jvm),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && matches!(proc_stat(pid), Some((s, st)) if s != 'Z' && st == start_time)
    {
        std::thread::sleep(POLL);
    }
    DaemonError::Failure(anyhow!(
        "kraftd (pid {pid}) did not stop within {}s; killed its JVM {jvms:?}: the next start recovers the logs. \
         Raise daemon.stop_timeout_sec (and the unit's TimeoutStopSec) if controlled shutdown needs longer",
        timeout.as_secs()
    ))
}

/// Children of `pid` running `kafka.Kafka` (found through /proc, never by name).
fn broker_jvms_of(pid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&child| {
            let parent = std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    s[s.rfind(')')? + 2..]
                        .split(' ')
                        .nth(1)?
                        .parse::<i32>()
                        .ok()
                });
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            parent == Some(pid) && cmdline.split(|&b| b == 0).any(|a| a == b"kafka.Kafka")
        })
        .collect()
}
