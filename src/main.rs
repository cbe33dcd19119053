//! kraftd: parses the command line (src/cli/), sets up kraftd's own logging for the daemon
//! commands, runs one subcommand and turns its result into the process exit code.

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use kraftd::daemon::logs::LogSink;
use kraftd::daemon::own_log;
use kraftd::daemon::{DaemonError, supervisor};
use kraftd::exit;
use std::sync::Arc;

fn main() {
    // Multi-call: `/usr/bin/kafka-topics -> kraftd` runs the tool (the JVM replaces this process).
    if let Some(err) = cli::tool::run_as_link() {
        std::process::exit(print_error(&err, exit::code_of_tool_launch(&err)));
    }
    let code = match Cli::parse().command {
        // The operator commands print their own output; the exit code is the check's outcome.
        Command::Status(args) => cli::status::run(&args),
        Command::SmokeTest(args) => cli::smoke_test::run(&args),
        Command::Tool(args) => {
            let err = cli::tool::run(args);
            print_error(&err, exit::code_of_tool_launch(&err))
        }
        Command::GenerateDocs(args) => match cli::generate_docs::run(&args) {
            Ok(()) => exit::OK,
            Err(err) => print_error(&err, exit::code_of(&err)),
        },
        // The daemon commands log through kraftd's own logger (journal or stderr).
        Command::Run(args) => daemon_command(|sink| cli::run::run(&args, sink)),
        Command::Validate(args) => daemon_command(|_| cli::validate::run(&args)),
        Command::Stop(args) => daemon_command(|_| cli::stop::run(&args)),
    };
    std::process::exit(code)
}

/// A command that could not do its work: the whole error chain on stderr; returns `code`.
fn print_error(err: &anyhow::Error, code: i32) -> i32 {
    eprintln!("{err:#}");
    code
}

/// Set up the JVM log sink and kraftd's own logger (level from `KRAFTD_LOG`), run `command`, and report
/// its failure as a log entry; returns the exit code.
fn daemon_command(command: impl FnOnce(Arc<LogSink>) -> Result<(), DaemonError>) -> i32 {
    let sink = Arc::new(LogSink::detect());
    let own = own_log::install();
    let Err(err) = command(sink.clone()) else {
        return exit::OK;
    };
    // One error line (journalctl -p err shows it whole); a config error's source snippet follows
    // as context.
    let message = err.to_string();
    own.send_final(log::Level::Error, &supervisor::one_line(&message));
    if let Some((_, context)) = message
        .split_once('\n')
        .filter(|_| log::log_enabled!(log::Level::Info))
    {
        own.send_final(
            log::Level::Info,
            &format!("context of the error above:\n{context}"),
        );
    }
    exit::code_of(&anyhow::Error::new(err))
}
