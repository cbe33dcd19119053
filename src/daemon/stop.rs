//! `kraftd stop`: ask exactly one running `kraftd run` (by pid, checked to be kraftd — and, through a
//! pid file, to run this node's config) to stop, and wait until it has exited — it exits only after
//! its JVM has. Also finds the `kraftd run` already serving a config (`running_kraftd_for`).

use super::DaemonError;
use anyhow::anyhow;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
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
    /// The pid file of a `kraftd run` (foreground use), and the config that node runs: a pid in the
    /// file whose kraftd runs another config (a reused pid) is never signalled.
    PidFile { path: &'a Path, config: &'a Path },
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

/// The arguments of `pid` (argv without argv[0]), empty when unreadable.
fn process_args(pid: i32) -> Vec<OsString> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    cmdline
        .split(|&b| b == 0)
        .skip(1)
        .filter(|a| !a.is_empty())
        .map(|a| std::ffi::OsStr::from_bytes(a).to_os_string())
        .collect()
}

/// The `--config` value of a `kraftd run` command line (argv without argv[0]): `--config PATH` or
/// `--config=PATH`, the default config path when absent (as clap parses it).
pub fn config_arg(args: &[OsString]) -> PathBuf {
    let mut it = args.iter();
    let mut found = None;
    while let Some(a) = it.next() {
        let bytes = a.as_bytes();
        if bytes == b"--config" {
            found = it.next().map(PathBuf::from);
        } else if let Some(v) = bytes.strip_prefix(b"--config=") {
            found = Some(PathBuf::from(std::ffi::OsStr::from_bytes(v)));
        }
    }
    found.unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_CONFIG_PATH))
}

/// The config file `kraftd run` process `pid` runs, as an absolute path (a relative `--config` is
/// taken relative to that process's working directory), canonicalized when it still exists.
pub fn process_config(pid: i32) -> PathBuf {
    let arg = config_arg(&process_args(pid));
    let abs = if arg.is_absolute() {
        arg
    } else {
        std::fs::read_link(format!("/proc/{pid}/cwd"))
            .map(|cwd| cwd.join(&arg))
            .unwrap_or(arg)
    };
    canonical(&abs)
}

/// `path` canonicalized (symlinks, `..`), or as given when it cannot be (e.g. deleted).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// True when the two config paths name the same file.
pub fn same_config(a: &Path, b: &Path) -> bool {
    let abs = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        }
    };
    canonical(&abs(a)) == canonical(&abs(b))
}

/// The pid of another live `kraftd run` serving `config`: the one the pid file names if it runs
/// this config, else any such process found in /proc (a pid file removed by hand). Never this
/// process itself.
pub fn running_kraftd_for(config: &Path, pid_file: &Path) -> Option<i32> {
    let me = std::process::id() as i32;
    let from_file = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
        .filter(|&pid| {
            pid != me && process_is_kraftd(pid) && same_config(&process_config(pid), config)
        });
    if from_file.is_some() {
        return from_file;
    }
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .find(|&pid| process_is_kraftd(pid) && same_config(&process_config(pid), config))
}

/// Describe what a pid is, for messages ("kraftd", "java", …).
fn process_name(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The value of `kraftd stop --pid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainPid {
    Pid(i32),
    /// Empty: systemd had no main process any more.
    Gone,
}

/// Parse `--pid`: a positive number, or empty (systemd leaves `$MAINPID` unset once the main
/// process has exited).
pub fn parse_main_pid(value: &str) -> Result<MainPid, String> {
    if value.trim().is_empty() {
        return Ok(MainPid::Gone);
    }
    match value.trim().parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(MainPid::Pid(pid)),
        _ => Err(format!("{value:?} is not a process id (a positive number)")),
    }
}

/// What `kraftd stop` was asked to do (its command line, without clap).
#[derive(Debug, Clone)]
pub struct StopRequest {
    /// kraftd.toml: the pid file location and the default timeout.
    pub config: PathBuf,
    /// `--pid`; None: the pid file under the run dir.
    pub pid: Option<MainPid>,
    /// `--timeout`; None: `daemon.stop_timeout_sec` from the config.
    pub timeout: Option<Duration>,
}

/// The timeout when neither `--timeout` nor a loadable config gives one.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(180);

/// How much `kraftd stop` needs kraftd.toml, given the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigNeed {
    /// `--pid` and `--timeout` give everything.
    No,
    /// `--pid` without `--timeout`: the config's timeout if it loads, else the default — a config
    /// broken since start must not prevent systemd's ExecStop.
    ForTimeout,
    /// No `--pid`: the pid file's location comes from the config; failing to load it is an error.
    ForPidFile,
}

/// Decide how much of the config `kraftd stop` needs.
pub fn config_need(pid: Option<i32>, timeout: Option<Duration>) -> ConfigNeed {
    match (pid, timeout) {
        (Some(_), Some(_)) => ConfigNeed::No,
        (Some(_), None) => ConfigNeed::ForTimeout,
        (None, _) => ConfigNeed::ForPidFile,
    }
}

/// `kraftd stop`: find the daemon the request names and stop it (see `stop`).
pub fn run_stop(request: &StopRequest) -> Result<StopOutcome, DaemonError> {
    let pid = match request.pid {
        Some(MainPid::Gone) => {
            return Ok(StopOutcome::NotRunning {
                reason: "no main process (empty --pid): kraftd already exited, nothing to stop"
                    .to_string(),
            });
        }
        Some(MainPid::Pid(pid)) => Some(pid),
        None => None,
    };
    let config = request.config.as_path();
    let settings = match config_need(pid, request.timeout) {
        ConfigNeed::No => None,
        ConfigNeed::ForTimeout => match super::preflight::load_settings(config) {
            Ok(s) => Some(s),
            Err(e) => {
                log::warn!(
                    "{e}; stopping anyway with the default timeout of {} s",
                    DEFAULT_STOP_TIMEOUT.as_secs()
                );
                None
            }
        },
        ConfigNeed::ForPidFile => Some(super::preflight::load_settings(config)?),
    };
    let timeout = request
        .timeout
        .or(settings.as_ref().map(|s| s.stop_timeout))
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    let pid_file = settings.as_ref().map(|s| s.layout.pid_file());
    let target = match (pid, &pid_file) {
        (Some(pid), _) => StopTarget::Pid(pid),
        (None, Some(path)) => StopTarget::PidFile { path, config },
        (None, None) => unreachable!("settings are loaded when --pid is missing"),
    };
    stop(target, timeout)
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
        StopTarget::PidFile { path, config } => {
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
            let theirs = process_config(pid);
            if !same_config(&theirs, config) {
                return Ok(StopOutcome::NotRunning {
                    reason: format!(
                        "pid file {} names pid {pid}, a kraftd running another node's config {} (not {}): \
                         not signalled; this node is not running (the pid was reused); remove the stale pid file",
                        path.display(),
                        theirs.display(),
                        canonical(config).display()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_pid_is_a_positive_number_or_empty() {
        assert_eq!(parse_main_pid("1234"), Ok(MainPid::Pid(1234)));
        assert_eq!(parse_main_pid(" 42 "), Ok(MainPid::Pid(42)));
        assert_eq!(parse_main_pid(""), Ok(MainPid::Gone));
        assert_eq!(parse_main_pid("  "), Ok(MainPid::Gone));
        for bad in ["0", "-1", "abc", "12x"] {
            let err = parse_main_pid(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn the_config_is_needed_only_for_what_the_flags_do_not_give() {
        let t = Some(Duration::from_secs(5));
        assert_eq!(config_need(Some(7), t), ConfigNeed::No);
        assert_eq!(config_need(Some(7), None), ConfigNeed::ForTimeout);
        assert_eq!(config_need(None, t), ConfigNeed::ForPidFile);
        assert_eq!(config_need(None, None), ConfigNeed::ForPidFile);
    }

    #[test]
    fn an_empty_pid_stops_nothing_without_reading_the_config() {
        let request = StopRequest {
            config: PathBuf::from("/nonexistent/kraftd.toml"),
            pid: Some(MainPid::Gone),
            timeout: None,
        };
        match run_stop(&request) {
            Ok(StopOutcome::NotRunning { reason }) => assert!(reason.contains("empty --pid")),
            other => panic!("{other:?}"),
        }
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn config_arg_reads_both_forms_and_defaults() {
        assert_eq!(
            config_arg(&args(&["run", "--config", "/a/k.toml"])),
            PathBuf::from("/a/k.toml")
        );
        assert_eq!(
            config_arg(&args(&["run", "--config=rel/k.toml"])),
            PathBuf::from("rel/k.toml")
        );
        assert_eq!(
            config_arg(&args(&["run"])),
            PathBuf::from(crate::config::DEFAULT_CONFIG_PATH)
        );
        // The last one wins, as with clap.
        assert_eq!(
            config_arg(&args(&["run", "--config", "/a", "--config", "/b"])),
            PathBuf::from("/b")
        );
    }

    #[test]
    fn same_config_sees_through_symlinks_and_dots() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("k.toml");
        std::fs::write(&real, "").unwrap();
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(same_config(&real, &link));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(same_config(&real, &dir.path().join("sub/../k.toml")));
        assert!(!same_config(&real, &dir.path().join("other.toml")));
    }

    #[test]
    fn this_process_config_is_read_from_proc() {
        // The test binary has no --config: the default path.
        let me = std::process::id() as i32;
        assert_eq!(
            process_config(me),
            canonical(Path::new(crate::config::DEFAULT_CONFIG_PATH))
        );
    }
}
