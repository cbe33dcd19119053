//! `kraftd validate/run/status --config` on configs an operator gets wrong (issue 9 point 10): a
//! directory, a file that is not UTF-8, a heap above the machine's memory. One message, exit 78.

mod common;

use common::*;
use std::process::{Command, Output};

fn kraftd(args: &[&str]) -> Output {
    let mut cmd = Command::new(kraftd_bin());
    cmd.args(args);
    for var in [
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "KRAFTD_JOURNAL_SOCKET",
        "JOURNAL_STREAM",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    eprintln!(
        "$ kraftd {}\nexit {:?}\n{}{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// validate and run print `message` once as their only output; status prints it once too.
fn assert_config_refused(config: &std::path::Path, message: &str) {
    let c = config.display().to_string();
    for cmd in ["validate", "run"] {
        let out = kraftd(&[cmd, "--config", &c]);
        assert_eq!(out.status.code(), Some(78), "kraftd {cmd}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("kraftd: ERROR {message}\n"),
            "kraftd {cmd}"
        );
        assert!(out.stdout.is_empty(), "kraftd {cmd}");
    }
    let out = kraftd(&["status", "--config", &c]);
    assert_eq!(out.status.code(), Some(78), "kraftd status");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(all.matches(message).count(), 1, "kraftd status: {all}");
}

#[test]
fn a_config_path_that_is_a_directory_is_refused_once_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let message = format!(
        "{}: is a directory, not a config file: name the file itself, e.g. --config {}",
        dir.path().display(),
        dir.path().join("kraftd.toml").display()
    );
    assert_config_refused(dir.path(), &message);
}

#[test]
fn a_config_that_is_not_utf8_is_refused_once_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kraftd.toml");
    std::fs::write(&config, b"[node]\nadvertise = \"caf\xe9\"\n").unwrap();
    let message = format!(
        "{}: is not UTF-8 text; kraftd.toml must be UTF-8: convert it (e.g. `iconv -f latin1 -t utf-8`) \
         or rewrite the offending characters",
        config.display()
    );
    assert_config_refused(&config, &message);
}

#[test]
fn a_heap_edited_above_the_machines_memory_is_refused_at_start_with_78() {
    let node = provision_node_with(
        "4.1.1",
        NodeOptions {
            unformatted: true,
            ..Default::default()
        },
    );
    let text = std::fs::read_to_string(&node.config).unwrap();
    let edited = text.replace("heap = \"384M\"", "heap = \"1024T\"");
    assert_ne!(text, edited, "the test node's heap line moved: {text}");
    std::fs::write(&node.config, edited).unwrap();
    let c = node.config.display().to_string();
    for cmd in ["validate", "run"] {
        let out = kraftd(&[cmd, "--config", &c]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(78), "kraftd {cmd}: {err}");
        assert!(
            err.contains(&format!("{c}:")) && err.contains("java.heap"),
            "kraftd {cmd}: {err}"
        );
        assert!(
            err.contains("heap 1024T is more than this machine's "),
            "kraftd {cmd}: {err}"
        );
        assert!(err.contains("use at most "), "kraftd {cmd}: {err}");
        assert!(
            !node.run_dir.join("kraftd.pid").exists(),
            "kraftd {cmd} started"
        );
    }
}
