//! `kraftd status` and `kraftd smoke-test` against real Kafka 4.1.1 and 3.7.1 nodes provisioned by
//! the real `kraft-install` and run by `kraftd run`: status fields against Kafka's own
//! MetadataQuorumCommand and TopicCommand, the JSON against docs/status.schema.json, exit codes
//! 0/1/2, and the smoke test passing on a healthy node and naming its failed step on a stopped one.
//! One test binary (`ops`) in several files; kraft-install is the workspace's (`cargo test
//! --workspace` builds it).

mod checks;
mod scenario;

use checks::*;
use kraftd_test_support::*;
use scenario::scenario;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn status_and_smoke_test_on_kafka_4_1_1() {
    scenario("4.1.1");
}

#[test]
fn status_and_smoke_test_on_kafka_3_7_1() {
    scenario("3.7.1");
}

#[test]
fn config_errors_exit_78_and_point_to_bootstrap() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.toml").display().to_string();
    for cmd in ["status", "smoke-test"] {
        let out = kraftd_shown(&[cmd, "--config", &missing]);
        assert_eq!(out.status.code(), Some(78));
        let e = stderr(&out);
        assert!(e.contains(&missing) && e.contains("--bootstrap"), "{e}");
    }
    // A name that does not resolve is unreachable (2), not a crash.
    let out = kraftd_shown(&["status", "--bootstrap", "no-such-host.invalid:9092"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no-such-host.invalid:9092"),
        "{}",
        stderr(&out)
    );
}

/// A failure after "connect" names its own step: with message.max.bytes=200 the broker refuses
/// the record batches, so the produce step fails (MESSAGE_TOO_LARGE, not retriable) and the topic
/// is still deleted. (min.insync.replicas > replication factor would not do: Kafka caps the
/// effective min ISR at the replica count since KIP-966, on 3.7.1 and 4.1.1 alike — tried.)
#[test]
fn smoke_test_names_the_produce_step_when_the_broker_refuses_records() {
    let _serial = serial();
    let node = InstalledNode::install_with(
        "3.7.1",
        "\n[kafka]\n\"message.max.bytes\" = 200\n",
        "127.0.0.1",
    );
    let config = node.config_arg();
    let run: Kraftd = spawn_kraftd(&["run", "--config", &config], &RunEnv::default());
    let out = kraftd_shown(&[
        "status",
        "--config",
        &config,
        "--wait-healthy",
        "--timeout",
        "240",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "node did not become healthy; kraftd run said:\n{}",
        run.output()
    );

    let out = kraftd_shown(&["smoke-test", "--config", &config]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("failed at step \"produce\"") && e.contains("MessageTooLarge"),
        "{e}"
    );
    assert!(
        !e.contains("left behind"),
        "the topic should have been deleted: {e}"
    );
    let o = stdout(&out);
    assert!(
        o.contains("create topic  ok") && o.contains("delete topic  ok"),
        "{o}"
    );
    // Deleted: no topic is left (kafka-topics lists none).
    let topics = kafka_tool(
        &node,
        "org.apache.kafka.tools.TopicCommand",
        &["--bootstrap-server", &node.bootstrap(), "--list"],
    );
    assert!(!topics.contains("kraftd-smoke-"), "{topics}");
}

/// `--advertise ::1`: Kafka lists the broker as `::1` while kraftd.toml advertises `[::1]`; status
/// compares them as addresses, so the node is healthy (exit 0) and `--wait-healthy` returns.
#[test]
fn status_is_healthy_on_an_ipv6_loopback_node() {
    let _serial = serial();
    let node = InstalledNode::install_with("4.1.1", "", "::1");
    let config = node.config_arg();
    let (mut run, text) = run_until_healthy(&config, "an IPv6 node never became healthy");
    let header = format!(
        "HEALTHY: node 1 (broker,controller) at [::1]:{}",
        node.broker_port
    );
    assert_eq!(text.lines().next(), Some(header.as_str()), "{text}");
    assert!(
        text.contains(&format!("PLAINTEXT://[::1]:{}", node.broker_port)),
        "{text}"
    );
    // The same answer through --bootstrap: the node is found by its advertised address.
    let (json, text, code) = status_json(&["--bootstrap", &format!("[::1]:{}", node.broker_port)]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["node"]["id"], 1, "{text}");
    let out = kraftd_shown(&["stop", "--config", &config]);
    assert!(out.status.success(), "kraftd stop failed");
    run.wait(Duration::from_secs(180));
}

/// A listener that accepts and never answers: `--wait-healthy --timeout 3` gives up after 3 s
/// (every connect and request is bounded by the overall timeout), exit 2. The test's own wait is
/// bounded: kraftd is killed after 8 s, and that is a failure.
#[test]
fn wait_healthy_timeout_bounds_a_silent_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            // Keep every connection open, read nothing, write nothing.
            held.push(conn);
        }
    });
    for (args, name) in [
        (
            vec!["--bootstrap".to_string(), addr.to_string()],
            "--bootstrap",
        ),
        (
            vec![
                "--config".to_string(),
                silent_config(addr.port()).display().to_string(),
            ],
            "--config",
        ),
    ] {
        let mut child = Command::new(kraftd_bin())
            .arg("status")
            .args(&args)
            .args(["--wait-healthy", "--timeout", "3"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kraftd status");
        let limit = std::time::Instant::now() + Duration::from_secs(8);
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code();
            }
            if std::time::Instant::now() >= limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "kraftd status {name} --wait-healthy --timeout 3 was still running after 8 s"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let out = child.wait_with_output().unwrap();
        show(&format!("kraftd status {name} (silent listener)"), &out);
        let err = stderr(&out);
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains("not healthy after 3s; gave up (--timeout 3)"),
            "{err}"
        );
        assert!(err.contains("timed out"), "the cause is named: {err}");
    }
}

/// A controller-only kraftd.toml whose controller port is `port` (the silent listener).
fn silent_config(port: u16) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("kraftd-silent-")
        .tempdir()
        .unwrap()
        .keep();
    let config = dir.join("kraftd.toml");
    std::fs::write(
        &config,
        format!(
            "[node]\nid = 1\ncluster_id = \"MkU3OEVBNTcwNTJENDM2Qg\"\nadvertise = \"127.0.0.1\"\n\
             broker_port = {}\ncontroller_port = {port}\nprefix = \"{}\"\nrole = \"controller\"\n\
             controllers = \"1@127.0.0.1:{port}\"\n\n[dist]\nkafka_version = \"4.1.1\"\n",
            free_port(),
            dir.display()
        ),
    )
    .unwrap();
    config
}
