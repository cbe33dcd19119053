//! The built `kraftd` and `kraft-install` binaries, and running them to completion. Never builds:
//! `cargo test --workspace` (scripts/test.sh) builds both packages' binaries before any test runs.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The systemd/journal context a test runner may have: removed from every kraftd a test starts, so
/// only what the test sets reaches it.
pub const SERVICE_ENV: [&str; 5] = [
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "KRAFTD_JOURNAL_SOCKET",
    "JOURNAL_STREAM",
];

/// A workspace binary. For a test in the binary's own package cargo sets `CARGO_BIN_EXE_<name>`
/// (at run time too, and builds the binary for the test); otherwise it is found next to the test
/// executable, in `target/<profile>/` (the test runs from `target/<profile>/deps/`).
pub fn bin(name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(format!("CARGO_BIN_EXE_{name}")) {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable lives in target/<profile>/deps");
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: build the workspace first (`cargo test --workspace` or `cargo build \
         --workspace`, as scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// The `kraftd` binary.
pub fn kraftd_bin() -> PathBuf {
    bin("kraftd")
}

/// The `kraft-install` binary.
pub fn kraft_install_bin() -> PathBuf {
    bin("kraft-install")
}

/// `kraftd <args>` as a command outside any systemd/journal context ([`SERVICE_ENV`] removed).
pub fn kraftd_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(kraftd_bin());
    cmd.args(args);
    for var in SERVICE_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Run `kraftd <args>` to completion outside any systemd/journal context.
pub fn kraftd_output(args: &[&str]) -> Output {
    kraftd_cmd(args).output().expect("run kraftd")
}

/// As [`kraftd_output`] with stdin closed, and the exit code and output shown on stderr.
pub fn kraftd_shown(args: &[&str]) -> Output {
    let out = kraftd_cmd(args)
        .stdin(Stdio::null())
        .output()
        .expect("run kraftd");
    show(&format!("kraftd {}", args.join(" ")), &out);
    out
}

/// Run the real kraft-install (JAVA_HOME removed, stdin closed), showing what it said.
pub fn kraft_install(args: &[&str]) -> Output {
    let out = Command::new(kraft_install_bin())
        .args(args)
        .env_remove("JAVA_HOME")
        .stdin(Stdio::null())
        .output()
        .expect("run kraft-install");
    show(&format!("kraft-install {}", args.join(" ")), &out);
    out
}

/// Print a finished command's exit code, stdout and stderr (seen with `--nocapture` or on failure).
pub fn show(what: &str, out: &Output) {
    eprintln!(
        "$ {what}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run `cmd` to completion; a command that cannot start fails the test naming it.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// stdout followed by stderr.
pub fn text(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}
