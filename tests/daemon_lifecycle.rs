//! `kraftd run` through a whole life against the real Kafka fixture (4.1.1 and 3.7.1) with a real
//! notify socket and a captured journald native-protocol socket: readiness, STATUS, watchdog,
//! journal priorities of real JVM output, SIGTERM and a clean shutdown.

use kraftd::daemon::probe::ReadinessProbe;
use kraftd_test_support::*;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

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

/// Readiness, STATUS, watchdog (and its stop on a SIGSTOPped JVM), journald priorities on real JVM
/// output, SIGTERM → STOPPING=1 and a clean shutdown.
fn lifecycle(version: &str) {
    let _serial = serial();
    let node = provision_node(version);
    let journal = DatagramCollector::bind("journal");
    let (mut k, notify) = spawn_run(
        &node,
        RunEnv {
            watchdog_usec: Some(3_000_000),
            journal_socket: Some(&journal.path),
            ..Default::default()
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
        let entries = journal.journal_entries();
        let error = find_entry(&entries, |e| {
            field(e, "MESSAGE").is_some_and(|m| m.contains("Closing socket for"))
        });
        let warn = find_entry(&entries, |e| {
            field(e, "MESSAGE").is_some_and(|m| m.contains("Unexpected error from"))
        });
        error.is_some() && warn.is_some()
    });
    let entries = journal.journal_entries();
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
    k.terminate_cleanly();
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
