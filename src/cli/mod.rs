//! The `kraftd` command line: the top-level clap definition, the exit-code text of `--help`, and
//! one module per subcommand (its arguments and what it runs).

pub mod generate_docs;
pub mod run;
pub mod smoke_test;
pub mod status;
pub mod stop;
pub mod tool;
pub mod validate;

use clap::{Parser, Subcommand};
use kraftd::config::DEFAULT_CONFIG_PATH;
use kraftd::ops::TargetOptions;
use std::path::PathBuf;

/// The exit codes of the daemon commands (`kraftd --help`, run, validate, stop); the values are
/// `kraftd::exit`'s, chosen by `kraftd::exit::code_of`.
pub const EXIT_CODES: &str = "\
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
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the Kafka broker in the foreground until it is stopped (the unit's ExecStart).
    #[command(after_long_help = EXIT_CODES)]
    Run(run::RunArgs),
    /// Check config, rendered files, Kafka, Java and formatted storage without changing anything
    /// (`kraftd run` runs the same checks before it starts Kafka).
    #[command(after_long_help = EXIT_CODES)]
    Validate(validate::ValidateArgs),
    /// Run one of Kafka's tools (kafka-topics, kafka-console-producer, …) with the local node's Kafka,
    /// Java and defaults; the same as calling the tool through its `kafka-*` link.
    #[command(after_long_help = kraftd::tools::TOOL_HELP)]
    Tool(tool::ToolArgs),
    /// Write man pages and shell completions for kraftd and kraft-install (used by packaging).
    #[command(hide = true)]
    GenerateDocs(generate_docs::GenerateDocsArgs),
    /// Stop one running `kraftd run` and wait until Kafka has exited (the unit's ExecStop).
    #[command(after_long_help = EXIT_CODES)]
    Stop(stop::StopArgs),
    /// Show the health of the local node (or any broker) over the Kafka protocol, no JVM needed.
    #[command(after_long_help = status::STATUS_HELP)]
    Status(status::StatusArgs),
    /// Create a topic, produce, consume back, verify and delete it: an end-to-end check.
    #[command(after_long_help = smoke_test::SMOKE_HELP)]
    SmokeTest(smoke_test::SmokeTestArgs),
}

/// Where to point the operator commands: the local node from kraftd.toml, or any broker.
#[derive(clap::Args, Debug)]
pub struct TargetArgs {
    /// kraftd.toml of the local node (its advertised address, broker port, node id, cluster id).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Ask this broker listener instead of the local node (any Kafka 3.7+ cluster); ignores --config.
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap: Option<String>,
}

impl From<&TargetArgs> for TargetOptions {
    fn from(args: &TargetArgs) -> TargetOptions {
        TargetOptions {
            config: args.config.clone(),
            bootstrap: args.bootstrap.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
