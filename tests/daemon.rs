//! `kraftd run`/`stop`/`validate` against the real Kafka fixture (4.1.1 and 3.7.1) with a real
//! notify socket and a captured journald native-protocol socket.

mod common;

use common::*;
use kraftd::daemon::probe::ReadinessProbe;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

const START_LIMIT: Duration = Duration::from_secs(180);
const STOP_LIMIT: Duration = Duration::from_secs(150);

fn has_line(lines: &[String], want: &str) -> bool {
    lines.iter().any(|l| l == want)
}

fn count(lines: &[String], want: &str) -> usize {
    lines.iter().filter(|l| *l == want).count()
}

/// A notify socket whose collector probes the broker independently the instant READY=1 arrives.
fn notify_socket_checking_ready(broker: SocketAddr) -> DatagramCollector {
    DatagramCollector::bind_with_hook(
        "notify",
        Some(Box::new(move |d: &[u8]| {
            notify_lines(d)
                .iter()
                .any(|l| l == "READY=1")
                .then(|| format!("probe-at-ready={}", broker_answers_api_versions(broker)))
        })),
    )
}

fn wait_ready(k: &Kraftd, notify: &DatagramCollector) {
    let ok = notify.wait_until(START_LIMIT, |items| {
        items
            .iter()
            .any(|d| notify_lines(d).iter().any(|l| l == "READY=1"))
    });
    assert!(
        ok,
        "no READY=1 within {START_LIMIT:?}; notify: {:?}\noutput:\n{}",
        notify.notify_lines(),
        k.output()
    );
    let lines = notify.notify_lines();
    assert!(
        has_line(&lines, "HOOK:probe-at-ready=true"),
        "READY=1 arrived while an independent ApiVersions probe failed: {lines:?}"
    );
}

fn run_args(node: &TestNode) -> Vec<String> {
    vec![
        "run".into(),
        "--config".into(),
        node.config.display().to_string(),
    ]
}

fn spawn_run(node: &TestNode, env: &RunEnv) -> Kraftd {
    let args = run_args(node);
    spawn_kraftd(&args.iter().map(String::as_str).collect::<Vec<_>>(), env)
}

/// A request with an unknown API key: Kafka logs ERROR "Closing socket … because of error" with a
/// stack trace (kafka.network.Processor).
fn send_unknown_api_key(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(&9999i16.to_be_bytes());
    body.extend_from_slice(&0i16.to_be_bytes());
    body.extend_from_slice(&1i32.to_be_bytes());
    body.extend_from_slice(&(-1i16).to_be_bytes());
    s.write_all(&(body.len() as i32).to_be_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let _ = s.flush();
}

/// HTTP on the Kafka port: Kafka logs WARN "Unexpected error from …; closing connection" with an
/// InvalidReceiveException stack trace (org.apache.kafka.common.network.Selector).
fn send_http(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
}

fn journal_entries(journal: &DatagramCollector) -> Vec<Vec<(String, Vec<u8>)>> {
    journal
        .snapshot()
        .iter()
        .map(|d| journal_fields(d))
        .collect()
}

fn find_entry(
    entries: &[Vec<(String, Vec<u8>)>],
    pred: impl Fn(&[(String, Vec<u8>)]) -> bool,
) -> Option<Vec<(String, Vec<u8>)>> {
    entries.iter().find(|e| pred(e)).cloned()
}

/// Readiness, STATUS, watchdog (and its stop on a SIGSTOPped JVM), journald priorities on real JVM
/// output, SIGTERM → STOPPING=1 and a clean shutdown.
fn lifecycle(version: &str) {
    let _serial = serial();
    let node = provision_node(version);
    let notify = notify_socket_checking_ready(node.broker_addr);
    let journal = DatagramCollector::bind("journal");
    let mut k = spawn_run(
        &node,
        &RunEnv {
            notify_socket: Some(&notify.path),
            watchdog_usec: Some(3_000_000),
            journal_socket: Some(&journal.path),
        },
    );
    let jvm = k.jvm_pid();
    let _jvm_guard = KillOnDrop(jvm);
    wait_ready(&k, &notify);

    let lines = notify.notify_lines();
    let ready_at = lines.iter().position(|l| l == "READY=1").unwrap();
    let before: Vec<&String> = lines[..ready_at].iter().collect();
    assert!(
        before
            .iter()
            .any(|l| **l == format!("STATUS=starting JVM (Kafka {version})")),
        "no 'starting JVM' status before READY: {lines:?}"
    );
    assert!(
        before
            .iter()
            .any(|l| *l == "STATUS=registered, waiting to be unfenced"),
        "no 'waiting to be unfenced' status before READY: {lines:?}"
    );
    assert!(
        !before.iter().any(|l| l.starts_with("WATCHDOG=")),
        "watchdog ping before READY: {lines:?}"
    );
    assert!(
        has_line(&lines, &format!("STATUS=serving on {}", node.broker_addr)),
        "no 'serving on' status: {lines:?}"
    );
    // Our own probe agrees with the independent one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(ReadinessProbe::new(node.broker_addr, node.node_id as i32).probe());
    assert!(outcome.is_ready(), "probe after READY: {outcome}");

    // Watchdog pings follow successful probes.
    assert!(
        notify.wait_until(Duration::from_secs(30), |_| count(
            &notify.notify_lines(),
            "WATCHDOG=1"
        ) >= 3),
        "fewer than 3 WATCHDOG=1 within 30 s: {:?}",
        notify.notify_lines()
    );

    // Real JVM output with a WARN and an ERROR, each with its stack trace in one journal entry.
    send_unknown_api_key(node.broker_addr);
    send_http(node.broker_addr);
    let got = journal.wait_until(Duration::from_secs(30), |_| {
        let entries = journal_entries(&journal);
        let error = find_entry(&entries, |e| {
            field(e, "MESSAGE").is_some_and(|m| m.contains("Closing socket for"))
        });
        let warn = find_entry(&entries, |e| {
            field(e, "MESSAGE").is_some_and(|m| m.contains("Unexpected error from"))
        });
        error.is_some() && warn.is_some()
    });
    let entries = journal_entries(&journal);
    assert!(
        got,
        "no ERROR/WARN entries from the garbage requests; {} entries",
        entries.len()
    );
    let error = find_entry(&entries, |e| {
        field(e, "MESSAGE").is_some_and(|m| m.contains("Closing socket for"))
    })
    .unwrap();
    assert_eq!(field(&error, "PRIORITY").as_deref(), Some("3"), "{error:?}");
    assert_eq!(
        field(&error, "KAFKA_LOGGER").as_deref(),
        Some("kafka.network.Processor")
    );
    assert_eq!(field(&error, "SYSLOG_IDENTIFIER").as_deref(), Some("kafka"));
    let message = field(&error, "MESSAGE").unwrap();
    assert!(
        message.contains("InvalidRequestException") && message.contains("\n\tat "),
        "stack trace not in the entry: {message}"
    );
    let warn = find_entry(&entries, |e| {
        field(e, "MESSAGE").is_some_and(|m| m.contains("Unexpected error from"))
    })
    .unwrap();
    assert_eq!(field(&warn, "PRIORITY").as_deref(), Some("4"), "{warn:?}");
    assert_eq!(
        field(&warn, "KAFKA_LOGGER").as_deref(),
        Some("org.apache.kafka.common.network.Selector")
    );
    let message = field(&warn, "MESSAGE").unwrap();
    assert!(
        message.contains("InvalidReceiveException") && message.contains("\n\tat "),
        "stack trace not in the entry: {message}"
    );
    // No stack-trace line became an entry of its own.
    assert!(
        !entries
            .iter()
            .any(|e| field(e, "MESSAGE").is_some_and(|m| m.starts_with("\tat "))),
        "a continuation line was sent as its own entry"
    );
    let started = find_entry(&entries, |e| {
        field(e, "MESSAGE").is_some_and(|m| m.contains("Kafka Server started"))
    })
    .unwrap();
    assert_eq!(field(&started, "PRIORITY").as_deref(), Some("6"));
    let own = find_entry(&entries, |e| {
        field(e, "SYSLOG_IDENTIFIER").as_deref() == Some("kraftd")
            && field(e, "MESSAGE").is_some_and(|m| m.contains("is ready"))
    });
    assert!(
        own.is_some_and(|e| field(&e, "PRIORITY").as_deref() == Some("6")),
        "kraftd's own ready line missing"
    );

    // A hung broker (SIGSTOPped JVM) gets no more watchdog pings; they resume after SIGCONT.
    unsafe { libc::kill(jvm, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_secs(2)); // a probe in flight at SIGSTOP may still succeed
    let pings = count(&notify.notify_lines(), "WATCHDOG=1");
    std::thread::sleep(Duration::from_secs(5)); // > 4 probe periods (WATCHDOG_USEC/3 = 1 s)
    let lines = notify.notify_lines();
    assert_eq!(
        count(&lines, "WATCHDOG=1"),
        pings,
        "WATCHDOG=1 sent while the JVM was stopped: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("STATUS=not answering on")),
        "no 'not answering' status: {lines:?}"
    );
    unsafe { libc::kill(jvm, libc::SIGCONT) };
    assert!(
        notify.wait_until(Duration::from_secs(60), |_| count(
            &notify.notify_lines(),
            "WATCHDOG=1"
        ) > pings),
        "watchdog pings did not resume after SIGCONT"
    );

    // SIGTERM: STOPPING=1, controlled shutdown, clean-shutdown marker, exit 0, pid file gone.
    assert!(node.run_dir.join("kraftd.pid").is_file(), "no pid file");
    k.signal(libc::SIGTERM);
    let status = k.wait(STOP_LIMIT);
    assert_eq!(
        status.code(),
        Some(0),
        "kraftd exit after SIGTERM; output:\n{}",
        k.output()
    );
    let lines = notify.notify_lines();
    assert!(
        has_line(&lines, "STOPPING=1") && has_line(&lines, "STATUS=stopping"),
        "{lines:?}"
    );
    assert!(
        node.data_dir.join(".kafka_cleanshutdown").is_file(),
        "no .kafka_cleanshutdown after SIGTERM"
    );
    assert!(!process_alive(jvm), "JVM still running after kraftd exited");
    assert!(
        !node.run_dir.join("kraftd.pid").exists(),
        "pid file left behind"
    );
}

#[test]
fn lifecycle_kafka_4_1_1() {
    lifecycle("4.1.1");
}

#[test]
fn lifecycle_kafka_3_7_1() {
    lifecycle("3.7.1");
}

#[test]
fn jvm_killed_makes_kraftd_fail() {
    let _serial = serial();
    let node = provision_node("4.1.1");
    let notify = notify_socket_checking_ready(node.broker_addr);
    let mut k = spawn_run(
        &node,
        &RunEnv {
            notify_socket: Some(&notify.path),
            ..Default::default()
        },
    );
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
    let notify = notify_socket_checking_ready(node.broker_addr);
    let mut k = spawn_run(
        &node,
        &RunEnv {
            notify_socket: Some(&notify.path),
            ..Default::default()
        },
    );
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
    k.signal(libc::SIGTERM);
    assert_eq!(k.wait(STOP_LIMIT).code(), Some(0), "{}", k.output());
}

#[test]
fn kraftd_killed_leaves_no_jvm() {
    let _serial = serial();
    let node = provision_node("3.7.1");
    let notify = notify_socket_checking_ready(node.broker_addr);
    let mut k = spawn_run(
        &node,
        &RunEnv {
            notify_socket: Some(&notify.path),
            ..Default::default()
        },
    );
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

fn kraftd(args: &[&str]) -> std::process::Output {
    kraftd_output(args)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn stop_stops_exactly_one_of_two_nodes() {
    let _serial = serial();
    let a = provision_node("4.1.1");
    let b = provision_node("4.1.1");
    let notify_a = notify_socket_checking_ready(a.broker_addr);
    let notify_b = notify_socket_checking_ready(b.broker_addr);
    let mut ka = spawn_run(
        &a,
        &RunEnv {
            notify_socket: Some(&notify_a.path),
            ..Default::default()
        },
    );
    let jvm_a = ka.jvm_pid();
    let _ga = KillOnDrop(jvm_a);
    let mut kb = spawn_run(
        &b,
        &RunEnv {
            notify_socket: Some(&notify_b.path),
            ..Default::default()
        },
    );
    let jvm_b = kb.jvm_pid();
    let _gb = KillOnDrop(jvm_b);
    wait_ready(&ka, &notify_a);
    wait_ready(&kb, &notify_b);

    // A pid that is not kraftd (B's JVM) is refused and left alone.
    let out = kraftd(&["stop", "--pid", &jvm_b.to_string(), "--timeout", "5"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not a `kraftd run` process"),
        "{}",
        text(&out)
    );
    assert!(process_alive(jvm_b));

    // Stop A through its pid file.
    let out = kraftd(&["stop", "--config", &a.config.display().to_string()]);
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
    let out = kraftd(&["stop", "--config", &a.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("not running"), "{}", text(&out));

    // Stop B by pid, as systemd's ExecStop does with $MAINPID.
    let out = kraftd(&["stop", "--pid", &kb.pid().to_string(), "--timeout", "120"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        kb.wait(Duration::from_secs(10)).code(),
        Some(0),
        "{}",
        kb.output()
    );
    assert!(!process_alive(jvm_b));

    // A broker that cannot stop in time (JVM frozen) is killed once --timeout passes.
    let notify_a = notify_socket_checking_ready(a.broker_addr);
    let mut ka = spawn_run(
        &a,
        &RunEnv {
            notify_socket: Some(&notify_a.path),
            ..Default::default()
        },
    );
    let jvm_a = ka.jvm_pid();
    let _ga2 = KillOnDrop(jvm_a);
    wait_ready(&ka, &notify_a);
    unsafe { libc::kill(jvm_a, libc::SIGSTOP) };
    let out = kraftd(&["stop", "--pid", &ka.pid().to_string(), "--timeout", "3"]);
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

/// Run `kraftd run` and `kraftd validate` on a broken node: both must fail with `code` and a message
/// containing `needle`, start no JVM and leave the data dir as it was.
fn assert_refused(node: &TestNode, code: i32, needle: &str) {
    let before = list_dir(&node.data_dir);
    for cmd in ["validate", "run"] {
        let out = kraftd(&[cmd, "--config", &node.config.display().to_string()]);
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

fn list_dir(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn bad_input_gets_distinct_exit_codes() {
    let _serial = serial();
    // Missing and invalid config → 78.
    let out = kraftd(&["run", "--config", "/nonexistent/kraftd.toml"]);
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
        let out = kraftd(&[cmd, "--config", &bad.display().to_string()]);
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
        let out = kraftd(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("nothing to stop"), "{}", text(&out));
    }
    let out = kraftd(&["stop", "--pid", "abc"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // A good node validates.
    let node = provision_node("4.1.1");
    let out = kraftd(&["validate", "--config", &node.config.display().to_string()]);
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
    let out = kraftd(&["run", "--config", &node.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(text(&out).contains("already in use"), "{}", text(&out));
    drop(taken);
}

/// SIGHUP is not a stop: kraftd logs that it ignores it, its JVM was started with HUP ignored, and
/// the broker keeps serving. A second `kraftd run` of the running node is refused (75) naming the
/// kraftd pid, and `kraftd stop` through a pid file naming another node's kraftd signals nothing.
#[test]
fn sighup_ignored_second_run_refused_reused_pid_not_signalled() {
    let _serial = serial();
    let node = provision_node("4.1.1");
    let other = provision_node("4.1.1");
    let notify = notify_socket_checking_ready(node.broker_addr);
    let mut k = spawn_run(
        &node,
        &RunEnv {
            notify_socket: Some(&notify.path),
            ..Default::default()
        },
    );
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
        let out = kraftd(&["run", "--config", &config]);
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
    let out = kraftd(&["stop", "--config", &other.config.display().to_string()]);
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
    let out = kraftd(&["stop", "--config", &config]);
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

/// A process writes a WARN record with a stack trace and pauses 500 ms twice in the middle of it
/// (as a GC pause would); through the real pump into a real journal-protocol socket the record is
/// one entry with PRIORITY=4 holding every frame, and the next record is an entry of its own.
#[test]
fn a_pause_mid_trace_keeps_the_trace_in_one_entry() {
    use kraftd::daemon::logs::{self, JournalSender, LogSink};
    let journal = DatagramCollector::bind("journal");
    let script = r#"
printf '%s\n' '[2025-03-14 10:00:00,123] WARN [SocketServer listenerType=BROKER, nodeId=1] Unexpected error from /127.0.0.1 (channelId=x); closing connection (org.apache.kafka.common.network.Selector)'
printf '%s\n' 'org.apache.kafka.common.network.InvalidReceiveException: Invalid receive (size = 1195725856 larger than 104857600)'
printf '\tat org.apache.kafka.common.network.NetworkReceive.readFrom(NetworkReceive.java:94)\n'
sleep 0.5
printf '\tat org.apache.kafka.common.network.Selector.poll(Selector.java:485)\n'
printf '%s\n' 'Caused by: java.io.IOException: boom'
sleep 0.5
printf '\tat kafka.network.Processor.run(SocketServer.scala:1066)\n'
printf '\t... 3 more\n'
printf '%s\n' '[2025-03-14 10:00:01,000] INFO next record (kafka.Bar)'
"#;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", script])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let sink =
            std::sync::Arc::new(LogSink::Journal(JournalSender::new(&journal.path).unwrap()));
        let (phases, _rx) = tokio::sync::mpsc::unbounded_channel();
        logs::pump_jvm_output(out, logs::priority::INFO, sink, phases).await;
        assert!(child.wait().await.unwrap().success());
    });
    assert!(journal.wait_until(Duration::from_secs(10), |items| items.len() >= 2));
    let entries = journal_entries(&journal);
    let messages: Vec<(Option<String>, String)> = entries
        .iter()
        .map(|e| {
            (
                field(e, "PRIORITY"),
                field(e, "MESSAGE").unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let (prio, msg) = &messages[0];
    assert_eq!(prio.as_deref(), Some("4"), "{messages:#?}");
    for want in [
        "Unexpected error from /127.0.0.1",
        "InvalidReceiveException: Invalid receive",
        "\tat org.apache.kafka.common.network.NetworkReceive.readFrom",
        "\tat org.apache.kafka.common.network.Selector.poll",
        "Caused by: java.io.IOException: boom",
        "\tat kafka.network.Processor.run",
        "\t... 3 more",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg:?}");
    }
    assert_eq!(
        field(&entries[0], "KAFKA_LOGGER").as_deref(),
        Some("org.apache.kafka.common.network.Selector")
    );
    assert_eq!(messages[1], (Some("6".into()), "next record".into()));
}

/// A tmpfs mounted over a directory for the length of a test (needs root), lazily unmounted on drop.
struct TmpfsMount(std::path::PathBuf);

impl TmpfsMount {
    /// Mount a `size` tmpfs over `dir`, keeping what `dir` held (copied onto the tmpfs).
    fn over(dir: &std::path::Path, size: &str) -> TmpfsMount {
        let keep = tempfile::tempdir().unwrap();
        let run = |cmd: &mut Command| {
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{cmd:?}: {}", text(&out));
        };
        run(Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", dir.display()))
            .arg(keep.path()));
        run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "kraftd-test-full",
            ])
            .arg(dir));
        let mount = TmpfsMount(dir.to_path_buf());
        run(Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", keep.path().display()))
            .arg(dir));
        mount
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Run one of Kafka's tool classes from the fixture distribution with the test's Java.
fn kafka_tool(version: &str, class: &str, args: &[&str]) -> Command {
    let java = kraftd::java::find_java_default(None).expect("a Java runtime for the tests");
    let mut cmd = Command::new(java.java);
    cmd.arg("-Xmx256m")
        .arg("-cp")
        .arg(format!("{}/libs/*", dist_home(version).display()))
        .arg(class)
        .args(args);
    cmd
}

/// The data dir on a small filesystem filled by a producer: Kafka takes the log dir offline and
/// stops; kraftd exits 74 with one err line (and STATUS=) naming the dir, the filesystem, the free
/// space and the fix; a start on the still-full dir is refused the same way; after space is freed
/// the node serves again with every acknowledged record.
fn full_data_disk(version: &str) {
    let _serial = serial();
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test mounts a tmpfs: run it as root"
    );
    let node = provision_node(version);
    let _mount = TmpfsMount::over(&node.data_dir, "48m");
    let data = node.data_dir.display().to_string();
    let notify = notify_socket_checking_ready(node.broker_addr);
    let journal = DatagramCollector::bind("journal");
    let env = RunEnv {
        notify_socket: Some(&notify.path),
        journal_socket: Some(&journal.path),
        ..Default::default()
    };
    let mut k = spawn_run(&node, &env);
    let _guard = KillOnDrop(k.jvm_pid());
    wait_ready(&k, &notify);

    // Leave ~1 MiB for the producer.
    let space = kraftd::daemon::disk::space_of(&node.data_dir).unwrap();
    let filler = node.data_dir.join("filler");
    let fill = space.avail - (1 << 20);
    let f = std::fs::File::create(&filler).unwrap();
    let block = vec![0x5au8; 1 << 20];
    let mut w = std::io::BufWriter::new(f);
    let mut left = fill;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        w.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    w.into_inner().unwrap().sync_all().unwrap();

    // acks=all, values "0", "1", …; each acknowledged one is printed as producer_send_success.
    let work = tempfile::tempdir().unwrap();
    let props = work.path().join("producer.properties");
    std::fs::write(
        &props,
        "linger.ms=20\nbatch.size=65536\ndelivery.timeout.ms=20000\nrequest.timeout.ms=5000\nmax.block.ms=10000\n",
    )
    .unwrap();
    let bootstrap = node.broker_addr.to_string();
    let produced = work.path().join("produced.jsonl");
    let mut producer = kafka_tool(
        version,
        "org.apache.kafka.tools.VerifiableProducer",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            "full",
            "--max-messages",
            "10000000",
            "--throughput",
            "-1",
            "--acks",
            "-1",
            "--producer.config",
            &props.display().to_string(),
        ],
    )
    .stdout(std::fs::File::create(&produced).unwrap())
    .stderr(std::fs::File::create(work.path().join("producer.err")).unwrap())
    .spawn()
    .unwrap();
    let _producer_guard = KillOnDrop(producer.id() as i32);

    // Kafka stops; kraftd reports it and exits 74.
    let status = k.wait(Duration::from_secs(300));
    // The producer keeps retrying a gone broker: stop it (its shutdown hook closes the producer;
    // every acknowledged record was printed when its ack arrived).
    unsafe { libc::kill(producer.id() as i32, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while producer.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = producer.kill();
    let _ = producer.wait();
    let acked: Vec<String> = std::fs::read_to_string(&produced)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"producer_send_success\""))
        .filter_map(|l| {
            let v = l.split("\"value\":\"").nth(1)?;
            Some(v[..v.find('"')?].to_string())
        })
        .collect();
    assert!(
        !acked.is_empty(),
        "no record was acknowledged; producer: {}",
        std::fs::read_to_string(work.path().join("producer.err")).unwrap_or_default()
    );
    assert_eq!(status.code(), Some(74), "{}", k.output());
    let entries = journal_entries(&journal);
    let errors: Vec<String> = entries
        .iter()
        .filter(|e| {
            field(e, "PRIORITY").as_deref() == Some("3")
                && field(e, "SYSLOG_IDENTIFIER").as_deref() == Some("kraftd")
        })
        .filter_map(|e| field(e, "MESSAGE"))
        .collect();
    let report = errors
        .iter()
        .find(|m| m.contains(&format!("data dir {data} is full")))
        .unwrap_or_else(|| panic!("no err entry about the full data dir: {errors:#?}"));
    for want in [
        "kraftd-test-full (tmpfs, mounted at",
        "free of 48.0 MiB",
        "No space left on device",
        "systemctl restart kafka",
    ] {
        assert!(report.contains(want), "{want:?} not in {report}");
    }
    assert!(!report.contains('\n'), "{report}");
    eprintln!("full data disk ({version}): kraftd reported: {report}");
    // What Kafka itself said, attributed by shape: the ENOSPC exception sits inside an err entry.
    let kafka_enospc = entries
        .iter()
        .find(|e| {
            field(e, "SYSLOG_IDENTIFIER").as_deref() == Some("kafka")
                && field(e, "MESSAGE").is_some_and(|m| m.contains("No space left on device"))
        })
        .expect("no Kafka entry mentions No space left on device");
    let first_line = field(kafka_enospc, "MESSAGE").unwrap_or_default();
    eprintln!(
        "full data disk ({version}): Kafka logged (PRIORITY={:?}): {}",
        field(kafka_enospc, "PRIORITY"),
        first_line.lines().next().unwrap_or("")
    );
    assert!(
        matches!(field(kafka_enospc, "PRIORITY").as_deref(), Some("2" | "3")),
        "Kafka's ENOSPC entry is not at err or crit: {kafka_enospc:?}"
    );
    assert!(
        notify
            .notify_lines()
            .iter()
            .any(|l| l.starts_with(&format!("STATUS=data dir {data} is full"))),
        "{:?}",
        notify.notify_lines()
    );

    // Still full: refused before any JVM starts, same report.
    let out = kraftd(&["run", "--config", &node.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(74), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("data dir {data} is full")),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("not starting Kafka"), "{}", text(&out));

    // Space freed: the node comes back with every acknowledged record.
    std::fs::remove_file(&filler).unwrap();
    let notify = notify_socket_checking_ready(node.broker_addr);
    let mut k = spawn_run(
        &node,
        &RunEnv {
            notify_socket: Some(&notify.path),
            ..Default::default()
        },
    );
    let _guard2 = KillOnDrop(k.jvm_pid());
    wait_ready(&k, &notify);
    let consumer = match version {
        v if v.starts_with("3.") => "kafka.tools.ConsoleConsumer",
        _ => "org.apache.kafka.tools.consumer.ConsoleConsumer",
    };
    let n = acked.len().to_string();
    let out = kafka_tool(
        version,
        consumer,
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            "full",
            "--from-beginning",
            "--max-messages",
            &n,
            "--timeout-ms",
            "60000",
        ],
    )
    .output()
    .unwrap();
    let consumed: std::collections::HashSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|v| !consumed.contains(*v)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged records missing after the restart (first: {:?}); consumer: {}",
        missing.len(),
        acked.len(),
        missing.first(),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "full data disk ({version}): {} acknowledged records, all consumed back",
        acked.len()
    );
    k.signal(libc::SIGTERM);
    assert_eq!(k.wait(STOP_LIMIT).code(), Some(0), "{}", k.output());
}

#[test]
fn full_data_disk_kafka_4_1_1() {
    full_data_disk("4.1.1");
}

#[test]
fn full_data_disk_kafka_3_7_1() {
    full_data_disk("3.7.1");
}
