//! `kraftd stop`: its arguments and what it prints; the policy (which pid, which timeout, whether
//! the config must load) is `kraftd::daemon::stop::run_stop`.

use kraftd::config::DEFAULT_CONFIG_PATH;
use kraftd::daemon::DaemonError;
use kraftd::daemon::stop::{self, MainPid, StopOutcome, StopRequest};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    /// kraftd.toml (for the pid file location and the default timeout).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// The kraftd process to stop (systemd: `--pid $MAINPID`); default: the pid file under the
    /// run dir. An empty or missing value (systemd leaves $MAINPID unset when the main process
    /// already exited) means there is nothing to stop.
    #[arg(long, value_name = "PID", num_args = 0..=1, default_missing_value = "", value_parser = stop::parse_main_pid)]
    pub pid: Option<MainPid>,
    /// Seconds to wait for the stop; default: daemon.stop_timeout_sec from the config (180).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

impl From<&StopArgs> for StopRequest {
    fn from(args: &StopArgs) -> StopRequest {
        StopRequest {
            config: args.config.clone(),
            pid: args.pid,
            timeout: args.timeout.map(Duration::from_secs),
        }
    }
}

/// Stop the daemon and say how it went on stderr.
pub fn run(args: &StopArgs) -> Result<(), DaemonError> {
    match stop::run_stop(&args.into())? {
        StopOutcome::Stopped { pid, waited } => {
            eprintln!(
                "kraftd stop: kraftd (pid {pid}) stopped after {:.1}s",
                waited.as_secs_f64()
            );
        }
        StopOutcome::NotRunning { reason } => eprintln!("kraftd stop: {reason}"),
    }
    Ok(())
}
