//! kraft-install under bad input and interruptions (issue 9 point 10): concurrent runs on one target,
//! broken distributions, leftovers of a killed run. Real binary, real Kafka fixtures.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn fresh() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("node");
    (tmp, prefix)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The `cluster.id` line of meta.properties.
fn meta_cluster_id(prefix: &Path) -> String {
    let meta = std::fs::read_to_string(prefix.join("var/lib/kafka/data/meta.properties")).unwrap();
    meta.lines().find_map(|l| l.strip_prefix("cluster.id=")).expect("cluster.id in meta.properties").to_string()
}

/// The `cluster.id` the summary printed.
fn summary_cluster_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id "))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no cluster.id line in:\n{stdout}"))
}

#[test]
fn a_second_run_on_a_locked_target_is_refused_at_once_with_75_and_nothing_changed() {
    let (tmp, prefix) = fresh();
    let held = kraftd::install_lock::acquire(&prefix, Duration::ZERO, |_, _| panic!("lock taken")).unwrap();
    let before = snapshot(tmp.path());
    let d = s(&fixture_dir(V4));
    let p = s(&prefix);
    for mode in [&[][..], &["--reconfigure"][..], &["--uninstall"][..]] {
        let mut args = vec!["--prefix", &p, "--lock-timeout", "0"];
        args.extend_from_slice(mode);
        if mode.is_empty() {
            args.extend_from_slice(&["--dist", &d, "--advertise", "127.0.0.1"]);
        }
        let out = kraft_install(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(75), "{mode:?}: {err}");
        let want = format!("another kraft-install (pid {}) is still working on {p}", std::process::id());
        assert!(err.contains(&want) && err.contains("--lock-timeout"), "{mode:?} lacks {want:?}:\n{err}");
        assert_eq!(err.matches("error:").count(), 1, "{err}");
        assert_eq!(before, snapshot(tmp.path()), "{mode:?} changed files");
    }
    drop(held);
}

#[test]
fn two_concurrent_installs_serialize_into_one_consistent_node() {
    let (tmp, prefix) = fresh();
    let (broker, controller) = (free_port(), free_port());
    std::fs::create_dir_all(prefix.join("etc/kafka")).unwrap();
    std::fs::write(
        prefix.join("etc/kafka/kraftd.toml"),
        format!("[node]\nbroker_port = {broker}\ncontroller_port = {controller}\n[java]\nheap = \"512M\"\n"),
    )
    .unwrap();
    // Hold the lock so both runs start while another "install" is in progress; then let them go.
    let held = kraftd::install_lock::acquire(&prefix, Duration::ZERO, |_, _| panic!("lock taken")).unwrap();
    let spawn = |name: &str| {
        let log = tmp.path().join(format!("{name}.stderr"));
        let child = Command::new(env!("CARGO_BIN_EXE_kraft-install"))
            .args(["--prefix", &s(&prefix), "--dist", &s(&fixture_dir(V4)), "--advertise", "127.0.0.1", "--no-systemd"])
            .env_remove("JAVA_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        (child, log)
    };
    let (a, a_log) = spawn("a");
    let (b, b_log) = spawn("b");
    let waiting = format!("waiting for another kraft-install (pid {}) on {}", std::process::id(), prefix.display());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let both = [&a_log, &b_log].iter().all(|l| std::fs::read_to_string(l).unwrap_or_default().contains(&waiting));
        if both {
            break;
        }
        assert!(Instant::now() < deadline, "the runs did not wait for the lock: {:?} {:?}", std::fs::read_to_string(&a_log), std::fs::read_to_string(&b_log));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!prefix.join("opt").exists(), "a waiting run wrote into the target");
    drop(held);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (a_err, b_err) = (std::fs::read_to_string(&a_log).unwrap(), std::fs::read_to_string(&b_log).unwrap());
    eprintln!("--- a\n{}{a_err}--- b\n{}{b_err}", stdout(&a), stdout(&b));
    assert!(a.status.success() && b.status.success(), "a: {a_err}\nb: {b_err}");
    for err in [&a_err, &b_err] {
        assert!(!err.contains("Exception") && !err.contains("\tat "), "a stack trace: {err}");
    }
    // One node: both runs report the cluster id that the storage was formatted with.
    let id = meta_cluster_id(&prefix);
    assert_eq!(summary_cluster_id(&stdout(&a)), id);
    assert_eq!(summary_cluster_id(&stdout(&b)), id);
    // Exactly one of them did the work; the other found it done.
    let noop = [&a, &b].iter().filter(|o| stdout(o).contains("Nothing to change")).count();
    assert_eq!(noop, 1, "one run installs, the other finds nothing to change");
}
