//! `kraftd run` when things die or are wrong before a start: a killed JVM fails kraftd (and the
//! restart recovers), a killed kraftd leaves no JVM, and bad input gets its distinct exit code.

use kraftd_test_support::*;
use std::net::TcpListener;
use std::time::Duration;

#[test]
fn jvm_killed_makes_kraftd_fail() {
    let _serial = serial();
    let node = provision_node("4.1.1");
    let (mut k, notify) = spawn_run(&node, RunEnv::default());
    let jvm = k.jvm_pid();
    let _guard = KillOnDrop(jvm);
    wait_ready(&k, &notify);
    unsafe { libc::kill(jvm, libc::SIGKILL) };
    let status = k.wait(Duration::from_secs(60));
    assert_eq!(
        status.code(),
        Some(1),
        "kraftd must fail when its JVM dies; output:\n{}",
        k.output()
    );
    assert!(
        k.output().contains("killed by signal SIGKILL"),
        "JVM status not logged:\n{}",
        k.output()
    );
    assert!(!has_line(&notify.notify_lines(), "STOPPING=1"));

    // Restart on the uncleanly stopped data: Kafka recovers its logs, kraftd extends the start
    // timeout while recovery reports progress, and READY still comes only from the probe.
    assert!(!node.data_dir.join(".kafka_cleanshutdown").exists());
    let (mut k, notify) = spawn_run(&node, RunEnv::default());
    let _guard2 = KillOnDrop(k.jvm_pid());
    wait_ready(&k, &notify);
    let lines = notify.notify_lines();
    let ready_at = lines.iter().position(|l| l == "READY=1").unwrap();
    assert!(
        lines[..ready_at]
            .iter()
            .any(|l| l.starts_with("EXTEND_TIMEOUT_USEC=")),
        "no EXTEND_TIMEOUT_USEC during recovery: {lines:?}"
    );
    assert!(
        lines[..ready_at]
            .iter()
            .any(|l| l.starts_with("STATUS=recovering logs")),
        "no recovery status: {lines:?}"
    );
    k.terminate_cleanly();
}

#[test]
fn kraftd_killed_leaves_no_jvm() {
    let _serial = serial();
    let node = provision_node("3.7.1");
    let (mut k, notify) = spawn_run(&node, RunEnv::default());
    let jvm = k.jvm_pid();
    let _guard = KillOnDrop(jvm);
    wait_ready(&k, &notify);
    k.signal(libc::SIGKILL);
    let _ = k.wait(Duration::from_secs(10));
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while process_alive(jvm) {
        assert!(
            std::time::Instant::now() < deadline,
            "JVM {jvm} still alive 120 s after kraftd was SIGKILLed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The parent-death signal is SIGTERM: Kafka still shut down cleanly.
    assert!(
        node.data_dir.join(".kafka_cleanshutdown").is_file(),
        "orphaned JVM did not shut down cleanly"
    );
}

/// Run `kraftd run` and `kraftd validate` on a broken node: both must fail with `code` and a message
/// containing `needle`, start no JVM and leave the data dir as it was.
fn assert_refused(node: &TestNode, code: i32, needle: &str) {
    let before = list_dir(&node.data_dir);
    for cmd in ["validate", "run"] {
        let out = kraftd_output(&[cmd, "--config", &node.config.display().to_string()]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "kraftd {cmd}: {}",
            text(&out)
        );
        assert!(
            text(&out).contains(needle),
            "kraftd {cmd}: want {needle:?} in: {}",
            text(&out)
        );
    }
    assert_eq!(list_dir(&node.data_dir), before, "the data dir changed");
    assert!(!node.run_dir.join("kraftd.pid").exists());
}

#[test]
fn bad_input_gets_distinct_exit_codes() {
    let _serial = serial();
    // Missing and invalid config → 78.
    let out = kraftd_output(&["run", "--config", "/nonexistent/kraftd.toml"]);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(
        text(&out).contains("/nonexistent/kraftd.toml"),
        "{}",
        text(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("kraftd.toml");
    std::fs::write(&bad, "[node]\nid = \"one\"\nbogus = 1\n").unwrap();
    for cmd in ["run", "validate"] {
        let out = kraftd_output(&[cmd, "--config", &bad.display().to_string()]);
        assert_eq!(out.status.code(), Some(78), "{}", text(&out));
        assert!(
            text(&out).contains(&bad.display().to_string()),
            "{}",
            text(&out)
        );
    }

    // ExecStop after the main process exited on its own: systemd leaves $MAINPID unset.
    for args in [
        &["stop", "--config", "/nonexistent/kraftd.toml", "--pid"][..],
        &["stop", "--pid="][..],
    ] {
        let out = kraftd_output(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("nothing to stop"), "{}", text(&out));
    }
    let out = kraftd_output(&["stop", "--pid", "abc"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // A good node validates.
    let node = provision_node("4.1.1");
    let out = kraftd_output(&["validate", "--config", &node.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Unformatted storage → 78.
    let unformatted = provision_node_with(
        "4.1.1",
        NodeOptions {
            unformatted: true,
            ..Default::default()
        },
    );
    assert_refused(&unformatted, 78, "not formatted");

    // Missing distribution → 69.
    let no_dist = provision_node("3.7.1");
    std::fs::remove_file(no_dist.prefix.path().join("opt/kafka/current")).unwrap();
    assert_refused(&no_dist, 69, "no Kafka distribution");

    // java.home pointing at an empty directory → 69.
    let empty_java = tempfile::tempdir().unwrap();
    let no_java = provision_node_with(
        "4.1.1",
        NodeOptions {
            java_home: Some(empty_java.path().into()),
            ..Default::default()
        },
    );
    assert_refused(&no_java, 69, "bin/java");

    // Broker port taken by another process → 75 (run only: validate does not bind).
    let taken = TcpListener::bind(node.broker_addr).unwrap();
    let out = kraftd_output(&["run", "--config", &node.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(text(&out).contains("already in use"), "{}", text(&out));
    drop(taken);
}
