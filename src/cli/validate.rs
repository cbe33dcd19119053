//! `kraftd validate`: its arguments, the checks `kraftd run` repeats (`kraftd::daemon::preflight`),
//! and the one-line summary it prints.

use kraftd::config::DEFAULT_CONFIG_PATH;
use kraftd::daemon::{DaemonError, preflight};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
}

/// Check the node without changing anything and print what was found.
pub fn run(args: &ValidateArgs) -> Result<(), DaemonError> {
    let config = &args.config;
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
