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
    if let Err(err) = run(&args) {
        eprintln!("kraft-install: error: {err:#}");
        std::process::exit(exit::code_of(&err));
    }
}

/// What one run of kraft-install does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Install,
    Reconfigure,
    Uninstall,
}

impl Mode {
    /// The mode the flags select (clap lets at most one of --uninstall, --reconfigure through).
    fn of(args: &cli::Args) -> Mode {
        if args.uninstall {
            Mode::Uninstall
        } else if args.reconfigure {
            Mode::Reconfigure
        } else {
            Mode::Install
        }
    }
}

/// Take the target's lock, then run the mode.
fn run(args: &cli::Args) -> anyhow::Result<()> {
    // One run per target, whatever the mode; held until the mode is done.
    let _lock = lock_target(args)?;
    match Mode::of(args) {
        Mode::Uninstall => uninstall::run(args),
        Mode::Reconfigure => reconfigure::run(args),
        Mode::Install => install::run(args),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(flags: &[&str]) -> Result<cli::Args, clap::Error> {
        cli::Args::try_parse_from(std::iter::once("kraft-install").chain(flags.iter().copied()))
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        cli::Args::command().debug_assert();
    }

    #[test]
    fn the_flags_select_one_mode() {
        assert_eq!(Mode::of(&parse(&[]).unwrap()), Mode::Install);
        assert_eq!(
            Mode::of(&parse(&["--uninstall", "--purge", "--yes"]).unwrap()),
            Mode::Uninstall
        );
        assert_eq!(
            Mode::of(&parse(&["--reconfigure", "--heap", "1G"]).unwrap()),
            Mode::Reconfigure
        );
        let both = parse(&["--uninstall", "--reconfigure"]).unwrap_err();
        assert_eq!(both.exit_code(), exit::USAGE, "{both}");
    }
}
