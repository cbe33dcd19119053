//! kraft-install: parses the command line (cli.rs), sets up logging, takes the target's lock, runs
//! the mode (install.rs, reconfigure.rs, uninstall.rs) and maps its error to the exit code
//! (`kraftd::exit::code_of`).

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
    // One run per target, whatever the mode; held until the process exits.
    let _lock = match lock_target(&args) {
        Ok(lock) => lock,
        Err(err) => {
            eprintln!("kraft-install: error: {err:#}");
            std::process::exit(exit::code_of(&err));
        }
    };
    let result = if args.uninstall {
        uninstall::run(&args)
    } else if args.reconfigure {
        reconfigure::run(&args)
    } else {
        install::run(&args)
    };
    if let Err(err) = result {
        eprintln!("kraft-install: error: {err:#}");
        std::process::exit(exit::code_of(&err));
    }
}

/// Take the target's install lock (waiting up to --lock-timeout). A relative --prefix is refused
/// later by the mode itself, before it writes anything.
fn lock_target(args: &cli::Args) -> anyhow::Result<Option<kraftd::install_lock::InstallLock>> {
    let target = args
        .prefix
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("/"));
    if !target.is_absolute() {
        return Ok(None);
    }
    let wait = std::time::Duration::from_secs(args.lock_timeout);
    kraftd::install_lock::acquire(&target, wait, |holder, lock| {
        log::warn!(
            "waiting for another kraft-install ({holder}) on {} to finish (lock {}; at most {} s, see --lock-timeout)",
            target.display(),
            lock.display(),
            wait.as_secs()
        )
    })
    .map(Some)
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
