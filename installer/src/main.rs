//! kraft-install: parses the command line, sets up logging, runs the install plan, maps errors to exit codes.

mod cli;
mod install;
mod provision;
mod reconfigure;
mod uninstall;
mod unit;

use clap::Parser;
use kraftd::exit;

fn main() {
    let args = cli::Args::parse();
    let level = match args.verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        _ => log::LevelFilter::Debug,
    };
    log::set_boxed_logger(Box::new(StderrLogger)).expect("first logger");
    log::set_max_level(level);
    let result = if args.uninstall {
        uninstall::run(&args)
    } else if args.reconfigure {
        reconfigure::run(&args)
    } else {
        install::run(&args)
    };
    if let Err(err) = result {
        eprintln!("kraft-install: error: {err:#}");
        std::process::exit(exit_code(&err));
    }
}

/// Map typed errors anywhere in the chain to the documented exit codes.
fn exit_code(err: &anyhow::Error) -> i32 {
    use kraftd::config::ConfigError;
    use kraftd::dist::DistError;
    use kraftd::java::JavaError;
    use kraftd::storage::StorageError;
    for cause in err.chain() {
        if cause.downcast_ref::<ConfigError>().is_some()
            || cause
                .downcast_ref::<kraftd::net::AdvertiseError>()
                .is_some()
        {
            return exit::CONFIG;
        }
        if let Some(e) = cause.downcast_ref::<StorageError>() {
            return match e {
                StorageError::Conflict { .. } | StorageError::NotEmpty { .. } => {
                    exit::DATA_CONFLICT
                }
                _ => exit::FAILURE,
            };
        }
        if cause.downcast_ref::<install::OtherClusterError>().is_some() {
            return exit::DATA_CONFLICT;
        }
        if cause.downcast_ref::<JavaError>().is_some() {
            return exit::UNAVAILABLE;
        }
        if let Some(e) = cause.downcast_ref::<DistError>() {
            return match e {
                DistError::NotADistribution { .. } => exit::UNAVAILABLE,
                DistError::NoDigest { .. }
                | DistError::BadInput(_)
                | DistError::VersionMismatch { .. } => exit::CONFIG,
                _ => exit::FAILURE,
            };
        }
        if cause
            .downcast_ref::<kraftd::cluster_id::ClusterIdError>()
            .is_some()
        {
            return exit::CONFIG;
        }
    }
    exit::FAILURE
}

/// Plain `kraft-install: level: message` lines on stderr; the installer is never under journald.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "kraft-install: {}: {}",
                record.level().as_str().to_lowercase(),
                record.args()
            );
        }
    }
    fn flush(&self) {}
}
