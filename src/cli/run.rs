//! `kraftd run`: its arguments; the supervisor it starts is `kraftd::daemon::supervisor`.

use kraftd::config::DEFAULT_CONFIG_PATH;
use kraftd::daemon::logs::LogSink;
use kraftd::daemon::{DaemonError, supervisor};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// kraftd.toml to use.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
}

/// Supervise the Kafka JVM until it is stopped; JVM output goes to `sink`.
pub fn run(args: &RunArgs, sink: Arc<LogSink>) -> Result<(), DaemonError> {
    supervisor::run(&args.config, sink)
}
