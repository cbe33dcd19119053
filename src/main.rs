//! kraftd: parses the command line, sets up logging, dispatches, maps errors to exit codes.

use clap::{CommandFactory, Parser, Subcommand};
use kraftd::config::DEFAULT_CONFIG_PATH;
use kraftd::daemon::logs::{LogSink, install_own_logger};
use kraftd::daemon::stop::{StopOutcome, StopTarget};
use kraftd::daemon::{DaemonError, preflight, stop, supervisor};
use kraftd::exit;
use kraftd::tools::{self, Tool};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const EXIT_CODES: &str = "\
Exit codes:
  0   success (run: the broker was asked to stop and stopped cleanly, JVM status 0 or 143)
  1   failure: the Kafka JVM died without being asked to, a stop timed out, or another runtime error
  2   command-line usage error
  69  Java or the Kafka distribution is missing or unusable (install it, fix java.home; listed in the
      unit's RestartPreventExitStatus=)
  74  the data dir's filesystem is full: Kafka took the log dir offline and stopped, or (run,
      validate) less than 8 MiB is free; the message names the dir, filesystem, free space and fix
      (listed in the unit's RestartPreventExitStatus=)
  75  a listener port is already in use by another process, or (run) this node already runs under
      another kraftd, whose pid the message names (systemd may retry)
  78  invalid or missing configuration, rendered files, advertised address or unformatted storage
      (restarting cannot help; listed in the unit's RestartPreventExitStatus=). `kraftd run` puts the
      one-line reason in STATUS= and logs it at priority err
stop: a pid file naming a process that is not kraftd, or a kraftd running another --config (a reused
pid), is not signalled: \"not running\", exit 0.
SIGHUP: ignored by `kraftd run` and its JVM (logged); apply kraftd.toml changes with a restart.

Environment:
  NOTIFY_SOCKET, WATCHDOG_USEC  set by systemd (Type=notify, WatchdogSec=) for `kraftd run`
  KRAFTD_JOURNAL_SOCKET         send logs in journald's native protocol to this socket path
  KRAFTD_LOG                    kraftd's own log level: error, warn, info (default), debug";

#[derive(Parser, Debug)]
#[command(
    name = "kraftd",
    version,
    about = "Run Apache Kafka in KRaft mode as a systemd service",
    long_about = "Run Apache Kafka in KRaft mode as a systemd service.\n\n\
`kraftd run` supervises one Kafka JVM and tells systemd the truth about it: READY=1 only once the broker \
answers the Kafka protocol and lists its own node id, STATUS= phases, WATCHDOG=1 after each successful \
probe, and JVM log lines in the journal with their priority.",
    after_long_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the Kafka broker in the foreground until it is stopped (the unit's ExecStart).
    #[command(after_long_help = EXIT_CODES)]
    Run {
        /// kraftd.toml to use.
        #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
    /// Check config, rendered files, Kafka, Java and formatted storage without changing anything
    /// (`kraftd run` runs the same checks before it starts Kafka).
    #[command(after_long_help = EXIT_CODES)]
    Validate {
        #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
    /// Run one of Kafka's tools (kafka-topics, kafka-console-producer, …) with the local node's Kafka,
    /// Java and defaults; the same as calling the tool through its `kafka-*` link.
    #[command(after_long_help = kraftd::tools::TOOL_HELP)]
    Tool {
        /// kraftd.toml of the local node (default: $KRAFTD_CONFIG, else /etc/kafka/kraftd.toml).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
        /// The tool to run.
        #[arg(value_name = "TOOL", value_parser = kraftd::tools::tool_names())]
        name: String,
        /// Arguments passed to the tool unchanged.
        #[arg(
            value_name = "ARGS",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// Write man pages and shell completions for kraftd and kraft-install (used by packaging).
    #[command(hide = true)]
    GenerateDocs {
        /// Output directory: man/*.1 and completions/* are written below it.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Stop one running `kraftd run` and wait until Kafka has exited (the unit's ExecStop).
    #[command(after_long_help = EXIT_CODES)]
    Stop {
        /// kraftd.toml (for the pid file location and the default timeout).
        #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// The kraftd process to stop (systemd: `--pid $MAINPID`); default: the pid file under the
        /// run dir. An empty or missing value (systemd leaves $MAINPID unset when the main process
        /// already exited) means there is nothing to stop.
        #[arg(long, value_name = "PID", num_args = 0..=1, default_missing_value = "", value_parser = parse_main_pid)]
        pid: Option<MainPid>,
        /// Seconds to wait for the stop; default: daemon.stop_timeout_sec from the config (180).
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
    },
    /// Show the health of the local node (or any broker) over the Kafka protocol, no JVM needed.
    #[command(after_long_help = kraftd::ops::STATUS_HELP)]
    Status(kraftd::ops::StatusArgs),
    /// Create a topic, produce, consume back, verify and delete it: an end-to-end check.
    #[command(after_long_help = kraftd::ops::SMOKE_HELP)]
    SmokeTest(kraftd::ops::SmokeTestArgs),
}

fn main() {
    // Multi-call: `/usr/bin/kafka-topics -> kraftd` runs the tool (the JVM replaces this process).
    let mut argv = std::env::args_os();
    if let Some(tool) = argv.next().as_deref().and_then(Tool::from_argv0) {
        let err = tools::exec(tool, &tools::config_path(None), argv.collect());
        eprintln!("{err:#}");
        std::process::exit(tools::exit_code(&err));
    }
    let cli = Cli::parse();
    match &cli.command {
        Command::Tool { config, name, args } => {
            let tool = Tool::from_name(name).expect("clap checked the tool name");
            let err = tools::exec(tool, &tools::config_path(config.as_deref()), args.clone());
            eprintln!("{err:#}");
            std::process::exit(tools::exit_code(&err));
        }
        Command::GenerateDocs { out } => {
            let written = kraftd::docs::generate(
                out,
                &[Cli::command(), kraftd::install_cli::Args::command()],
            );
            match written {
                Ok(files) => {
                    for f in files {
                        println!("{}", f.display());
                    }
                    std::process::exit(exit::OK);
                }
                Err(e) => {
                    eprintln!("kraftd generate-docs: {e:#}");
                    std::process::exit(exit::FAILURE);
                }
            }
        }
        // The operator commands print their own output and have their own exit codes.
        Command::Status(args) => std::process::exit(kraftd::ops::run_status(args)),
        Command::SmokeTest(args) => std::process::exit(kraftd::ops::run_smoke_test(args)),
        _ => {}
    }
    let sink = Arc::new(LogSink::detect());
    let level = std::env::var("KRAFTD_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(log::LevelFilter::Info);
    install_own_logger(sink.clone(), level);

    let result = match cli.command {
        Command::Run { config } => supervisor::run(&config, sink.clone()),
        Command::Validate { config } => validate(&config),
        Command::Stop {
            config,
            pid,
            timeout,
        } => stop_daemon(&config, pid, timeout),
        Command::Tool { .. } | Command::GenerateDocs { .. } => unreachable!("handled above"),
        Command::Status(_) | Command::SmokeTest(_) => unreachable!("dispatched above"),
    };
    match result {
        Ok(()) => std::process::exit(exit::OK),
        Err(e) => {
            // One error line (journalctl -p err shows it whole); a config error's source snippet
            // follows as context.
            let message = e.to_string();
            sink.send_own_final(log::Level::Error, &supervisor::one_line(&message));
            if let Some((_, context)) = message
                .split_once('\n')
                .filter(|_| log::log_enabled!(log::Level::Info))
            {
                sink.send_own_final(
                    log::Level::Info,
                    &format!("context of the error above:\n{context}"),
                );
            }
            std::process::exit(e.exit_code());
        }
    }
}

fn validate(config: &std::path::Path) -> Result<(), DaemonError> {
    let settings = preflight::load_settings(config)?;
    let node = preflight::check_node(config, &settings)?;
    println!(
        "{}: ok — Kafka {} at {}, java {}, storage {} formatted for node {}",
        config.display(),
        node.dist.version,
        node.dist.home.display(),
        node.java.display(),
        settings.layout.data_dir.display(),
        settings.node_id.0
    );
    Ok(())
}

/// The value of `--pid`.
#[derive(Debug, Clone, Copy)]
enum MainPid {
    Pid(i32),
    /// Empty: systemd had no main process any more.
    Gone,
}

fn parse_main_pid(value: &str) -> Result<MainPid, String> {
    if value.trim().is_empty() {
        return Ok(MainPid::Gone);
    }
    match value.trim().parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(MainPid::Pid(pid)),
        _ => Err(format!("{value:?} is not a process id (a positive number)")),
    }
}

fn stop_daemon(
    config: &std::path::Path,
    pid: Option<MainPid>,
    timeout: Option<u64>,
) -> Result<(), DaemonError> {
    let pid = match pid {
        Some(MainPid::Gone) => {
            eprintln!(
                "kraftd stop: no main process (empty --pid): kraftd already exited, nothing to stop"
            );
            return Ok(());
        }
        Some(MainPid::Pid(pid)) => Some(pid),
        None => None,
    };
    // The config is only needed for what the flags do not give. With --pid (systemd's ExecStop) a
    // config broken since start must not prevent the stop: fall back to the default timeout.
    let settings = match (pid, timeout) {
        (Some(_), Some(_)) => None,
        (Some(_), None) => match preflight::load_settings(config) {
            Ok(s) => Some(s),
            Err(e) => {
                log::warn!("{e}; stopping anyway with the default timeout of 180 s");
                None
            }
        },
        (None, _) => Some(preflight::load_settings(config)?),
    };
    let timeout = timeout
        .map(Duration::from_secs)
        .or(settings.as_ref().map(|s| s.stop_timeout))
        .unwrap_or(Duration::from_secs(180));
    let pid_file = settings.as_ref().map(|s| s.layout.pid_file());
    let target = match (pid, &pid_file) {
        (Some(pid), _) => StopTarget::Pid(pid),
        (None, Some(path)) => StopTarget::PidFile { path, config },
        (None, None) => unreachable!("settings are loaded when --pid is missing"),
    };
    match stop::stop(target, timeout)? {
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
