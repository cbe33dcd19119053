//! `kraftd stop` and signals against running nodes: exactly the right node is stopped (by pid
//! file or pid, a frozen JVM killed after --timeout), SIGHUP is ignored, a second run is refused and
//! a reused pid is not signalled.

use kraftd_test_support::*;
use std::time::Duration;

#[test]
fn stop_stops_exactly_one_of_two_nodes() {
    let _serial = serial();
    let a = provision_node("4.1.1");
    let b = provision_node("4.1.1");
    let (mut ka, notify_a) = spawn_run(&a, RunEnv::default());
    let jvm_a = ka.jvm_pid();
    let _ga = KillOnDrop(jvm_a);
    let (mut kb, notify_b) = spawn_run(&b, RunEnv::default());
    let jvm_b = kb.jvm_pid();
    let _gb = KillOnDrop(jvm_b);
    wait_ready(&ka, &notify_a);
    wait_ready(&kb, &notify_b);

    // A pid that is not kraftd (B's JVM) is refused and left alone.
    let out = kraftd_output(&["stop", "--pid", &jvm_b.to_string(), "--timeout", "5"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not a `kraftd run` process"),
        "{}",
        text(&out)
    );
    assert!(process_alive(jvm_b));

    // Stop A through its pid file.
    let out = kraftd_output(&["stop", "--config", &a.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("stopped after"), "{}", text(&out));
    assert_eq!(
        ka.wait(Duration::from_secs(10)).code(),
        Some(0),
        "{}",
        ka.output()
    );
    assert!(!process_alive(jvm_a));
    assert!(a.data_dir.join(".kafka_cleanshutdown").is_file());
    // B keeps serving.
    assert!(process_alive(kb.pid()) && process_alive(jvm_b));
    assert!(
        broker_answers_api_versions(b.broker_addr),
        "B stopped answering"
    );
    // Stopping A again: nothing to do, success.
    let out = kraftd_output(&["stop", "--config", &a.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("not running"), "{}", text(&out));

    // Stop B by pid, as systemd's ExecStop does with $MAINPID.
    let out = kraftd_output(&["stop", "--pid", &kb.pid().to_string(), "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        kb.wait(Duration::from_secs(10)).code(),
        Some(0),
        "{}",
        kb.output()
    );
    assert!(!process_alive(jvm_b));

    // A broker that cannot stop in time (JVM frozen) is killed once --timeout passes.
    let (mut ka, notify_a) = spawn_run(&a, RunEnv::default());
    let jvm_a = ka.jvm_pid();
    let _ga2 = KillOnDrop(jvm_a);
    wait_ready(&ka, &notify_a);
    unsafe { libc::kill(jvm_a, libc::SIGSTOP) };
    let out = kraftd_output(&["stop", "--pid", &ka.pid().to_string(), "--timeout", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("killed its JVM"), "{}", text(&out));
    assert_eq!(
        ka.wait(Duration::from_secs(30)).code(),
        Some(1),
        "{}",
        ka.output()
    );
    assert!(!process_alive(jvm_a));
}

/// SIGHUP is not a stop: kraftd logs that it ignores it, its JVM was started with HUP ignored, and
/// the broker keeps serving. A second `kraftd run` of the running node is refused (75) naming the
/// kraftd pid, and `kraftd stop` through a pid file naming another node's kraftd signals nothing.
#[test]
fn sighup_ignored_second_run_refused_reused_pid_not_signalled() {
    let _serial = serial();
    let node = provision_node("4.1.1");
    let other = provision_node("4.1.1");
    let (mut k, notify) = spawn_run(&node, RunEnv::default());
    let jvm = k.jvm_pid();
    let _guard = KillOnDrop(jvm);
    wait_ready(&k, &notify);

    // As `systemctl kill -s HUP kafka` does: every process of the unit gets it.
    k.signal(libc::SIGHUP);
    unsafe { libc::kill(jvm, libc::SIGHUP) };
    let want = format!(
        "kraftd: WARN {}",
        kraftd::daemon::supervisor::SIGHUP_IGNORED
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !k.output().contains(&want) {
        assert!(
            std::time::Instant::now() < deadline,
            "no {want:?} after SIGHUP:\n{}",
            k.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The JVM ignores HUP (bit 0 of SigIgn), so it cannot have been stopped by it.
    let status = std::fs::read_to_string(format!("/proc/{jvm}/status")).unwrap();
    let sig_ign = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    assert_eq!(
        sig_ign & 1,
        1,
        "JVM does not ignore SIGHUP: SigIgn {sig_ign:x}"
    );
    assert!(process_alive(k.pid()) && process_alive(jvm));
    assert!(
        broker_answers_api_versions(node.broker_addr),
        "broker stopped answering after SIGHUP"
    );
    assert!(!has_line(&notify.notify_lines(), "STOPPING=1"));

    // A second run of the same node: refused, naming the running kraftd; with the pid file gone
    // too (found through /proc).
    let config = node.config.display().to_string();
    for _ in 0..2 {
        let out = kraftd_output(&["run", "--config", &config]);
        assert_eq!(out.status.code(), Some(75), "{}", text(&out));
        let want = format!("is already running under kraftd pid {}", k.pid());
        assert!(text(&out).contains(&want), "want {want:?}: {}", text(&out));
        assert!(
            !text(&out).contains("in use by another process"),
            "{}",
            text(&out)
        );
        let _ = std::fs::remove_file(node.run_dir.join("kraftd.pid"));
    }
    assert!(process_alive(k.pid()) && broker_answers_api_versions(node.broker_addr));

    // The other node's pid file names this node's kraftd (a reused pid): not signalled.
    std::fs::create_dir_all(&other.run_dir).unwrap();
    std::fs::write(other.run_dir.join("kraftd.pid"), format!("{}\n", k.pid())).unwrap();
    let out = kraftd_output(&["stop", "--config", &other.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("a kraftd running another node's config")
            && text(&out).contains("not signalled"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("sent SIGTERM"), "{}", text(&out));

    // Its own pid file (rewritten) still stops it.
    std::fs::write(node.run_dir.join("kraftd.pid"), format!("{}\n", k.pid())).unwrap();
    let out = kraftd_output(&["stop", "--config", &config]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("stopped after"), "{}", text(&out));
    assert_eq!(
        k.wait(Duration::from_secs(10)).code(),
        Some(0),
        "{}",
        k.output()
    );
    assert!(!k.output().contains("SIGHUP received"), "{}", k.output());
}
