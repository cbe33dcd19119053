//! `kraftd status` and `kraftd smoke-test` against real Kafka 4.1.1 and 3.7.1 nodes provisioned by
//! the real `kraft-install` and run by `kraftd run`: status fields against Kafka's own
//! MetadataQuorumCommand and TopicCommand, the JSON against docs/status.schema.json, exit codes
//! 0/1/2, and the smoke test passing on a healthy node and naming its failed step on a stopped one.

mod common;

use common::{Kraftd, RunEnv, dist_home, free_port, spawn_kraftd};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The real installer binary, built from this workspace (a root-crate test has no
/// CARGO_BIN_EXE for the installer crate; building is a no-op when it is up to date).
fn kraft_install_bin() -> PathBuf {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "kraft-install"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build -p kraft-install");
    assert!(status.success(), "cargo build -p kraft-install failed");
    // The test binary lives in <target>/debug/deps/; the installer in <target>/debug/.
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("kraft-install");
    assert!(
        bin.is_file(),
        "kraft-install not found at {}",
        bin.display()
    );
    bin
}

/// A node provisioned by kraft-install under a temp prefix.
struct Node {
    _tmp: tempfile::TempDir,
    prefix: PathBuf,
    config: PathBuf,
    dist: PathBuf,
    broker_port: u16,
    version: String,
}

impl Node {
    fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.broker_port)
    }
    fn config_arg(&self) -> String {
        self.config.display().to_string()
    }
}

fn provision(version: &str) -> Node {
    provision_with(version, "")
}

/// `extra` is appended to the pre-placed kraftd.toml (e.g. a `[kafka]` table).
fn provision_with(version: &str, extra: &str) -> Node {
    provision_at(version, extra, "127.0.0.1")
}

/// As `provision_with`, advertising (and listening on) `advertise`.
fn provision_at(version: &str, extra: &str, advertise: &str) -> Node {
    let dist = dist_home(version);
    let tmp = tempfile::Builder::new()
        .prefix("kraftd-ops-")
        .tempdir()
        .unwrap();
    let prefix = tmp.path().join("node");
    let etc = prefix.join("etc/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    let (broker_port, controller_port) = (free_port(), free_port());
    let config = etc.join("kraftd.toml");
    std::fs::write(
        &config,
        format!("[node]\nbroker_port = {broker_port}\ncontroller_port = {controller_port}\n\n[java]\nheap = \"512M\"\n{extra}"),
    )
    .unwrap();
    let out = Command::new(kraft_install_bin())
        .arg("--prefix")
        .arg(&prefix)
        .arg("--dist")
        .arg(&dist)
        .args(["--advertise", advertise, "--no-systemd"])
        .env_remove("JAVA_HOME")
        .stdin(Stdio::null())
        .output()
        .expect("run kraft-install");
    show("kraft-install", &out);
    assert!(out.status.success(), "kraft-install failed");
    Node {
        _tmp: tmp,
        prefix,
        config,
        dist,
        broker_port,
        version: version.to_string(),
    }
}

fn show(what: &str, out: &Output) {
    eprintln!(
        "$ {what}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn kraftd(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kraftd"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run kraftd");
    show(&format!("kraftd {}", args.join(" ")), &out);
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A Kafka tool from the fixture distribution, run with its own classpath (the reference).
fn kafka_tool(dist: &Path, class: &str, args: &[&str]) -> String {
    let out = Command::new("java")
        .arg("-Xmx256M")
        .arg("-cp")
        .arg(format!("{}/libs/*", dist.display()))
        .arg(class)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run java");
    show(class, &out);
    assert!(out.status.success(), "{class} failed");
    stdout(&out)
}

/// `Key:   value` lines of MetadataQuorumCommand describe --status.
fn quorum_field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} in MetadataQuorumCommand output:\n{text}"))
}

/// Voter ids from `CurrentVoters:` — `[1,2]` (3.7) or `[{"id": 1, "endpoints": [...]}]` (4.x).
fn voter_ids(field: &str) -> Vec<i64> {
    if field.contains('{') {
        let parsed: Value = serde_json::from_str(field).expect("CurrentVoters is JSON");
        parsed
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    } else {
        let inner = field.trim_matches(['[', ']']);
        inner
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse().unwrap())
            .collect()
    }
}

/// Validate with Python's jsonschema (Draft 2020-12) against docs/status.schema.json.
fn assert_valid_against_schema(json: &str) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/status.schema.json");
    let script = "import json,sys,jsonschema\n\
                  schema=json.load(open(sys.argv[1]))\n\
                  jsonschema.Draft202012Validator.check_schema(schema)\n\
                  jsonschema.Draft202012Validator(schema).validate(json.load(sys.stdin))\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "python3 is needed to validate the status JSON (apt-get install python3-jsonschema)",
        );
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "status JSON does not validate against {} (needs python3-jsonschema):\n{}\n{json}",
        schema.display(),
        stderr(&out)
    );
}

fn status_json(args: &[&str]) -> (Value, String, Option<i32>) {
    let mut all = vec!["status", "--json"];
    all.extend_from_slice(args);
    let out = kraftd(&all);
    let text = stdout(&out);
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    (json, text, out.status.code())
}

/// The node is stopped: status exit 2 with a clear message, smoke-test fails at "connect".
fn assert_stopped_behaviour(node: &Node) {
    let out = kraftd(&["status", "--config", &node.config_arg()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "status of a stopped node must exit 2"
    );
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(o.starts_with("UNREACHABLE"), "{o}");
    assert!(
        e.contains(&node.bootstrap())
            && e.contains("unreachable")
            && e.contains("Connection refused"),
        "{e}"
    );

    let (json, text, code) = status_json(&["--config", &node.config_arg()]);
    assert_eq!(code, Some(2));
    assert_valid_against_schema(&text);
    assert_eq!(json["health"], "unreachable");
    assert_eq!(json["node"]["reachable"], false);
    assert!(
        json["node"]["error"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{text}"
    );

    let out = kraftd(&[
        "status",
        "--config",
        &node.config_arg(),
        "--wait-healthy",
        "--timeout",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not healthy after 2s"),
        "{}",
        stderr(&out)
    );

    let out = kraftd(&["smoke-test", "--config", &node.config_arg()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "smoke-test on a stopped node must fail"
    );
    let e = stderr(&out);
    assert!(
        e.contains("failed at step \"connect\"") && e.contains("Connection refused"),
        "{e}"
    );
}

fn scenario(version: &str) {
    let _serial = common::serial();
    let node = provision(version);
    let config = node.config_arg();
    let bootstrap = node.bootstrap();
    let toml = std::fs::read_to_string(&node.config).unwrap();
    let state = std::fs::read_to_string(node.prefix.join("var/lib/kraftd/node.toml")).unwrap();
    let cluster_id = state
        .lines()
        .find_map(|l| l.trim().strip_prefix("cluster_id = "))
        .map(|v| v.trim_matches('"').to_string())
        .expect("kraft-install recorded the cluster id in node.toml");

    // Not started yet.
    assert_stopped_behaviour(&node);

    let mut run: Kraftd = spawn_kraftd(&["run", "--config", &config], &RunEnv::default());
    let out = kraftd(&[
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
    let text = stdout(&out);
    assert!(
        text.starts_with("HEALTHY: node 1 (broker,controller)"),
        "{text}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "human output wider than 80 columns:\n{text}"
    );

    // Smoke test: one kept topic (so status and kafka-topics have something to compare), one deleted.
    let out = kraftd(&[
        "smoke-test",
        "--config",
        &config,
        "--partitions",
        "4",
        "--records",
        "200",
        "--keep",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "smoke-test failed on a healthy node"
    );
    let o = stdout(&out);
    for step in ["connect", "create topic", "produce", "consume", "verify"] {
        assert!(
            o.contains(&format!("  {step:<13} ok")),
            "step {step} not reported:\n{o}"
        );
    }
    let kept = o
        .lines()
        .find_map(|l| l.trim().strip_prefix("kept topic "))
        .and_then(|l| l.split_whitespace().next())
        .expect("kept topic named")
        .to_string();
    let out = kraftd(&["smoke-test", "--bootstrap", &bootstrap]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("delete topic  ok") && stdout(&out).contains("smoke-test passed")
    );

    // status --json: schema, and the same facts Kafka's own tools report.
    let (json, text, code) = status_json(&["--config", &config]);
    assert_eq!(code, Some(0), "{text}");
    assert_valid_against_schema(&text);
    assert_eq!(json["health"], "healthy");
    assert_eq!(json["node"]["id"], 1);
    assert_eq!(json["node"]["registered"], true);
    assert_eq!(
        json["node"]["advertised_listeners"][0],
        format!("PLAINTEXT://{bootstrap}")
    );
    assert_eq!(json["cluster"]["id"], cluster_id.as_str());
    assert_eq!(json["cluster"]["brokers"][0]["port"], node.broker_port);

    let quorum = kafka_tool(
        &node.dist,
        "org.apache.kafka.tools.MetadataQuorumCommand",
        &["--bootstrap-server", &bootstrap, "describe", "--status"],
    );
    let q = &json["quorum"];
    assert_eq!(quorum_field(&quorum, "ClusterId"), cluster_id);
    assert_eq!(
        quorum_field(&quorum, "LeaderId"),
        q["leader_id"].to_string()
    );
    assert_eq!(
        quorum_field(&quorum, "LeaderEpoch"),
        q["leader_epoch"].to_string()
    );
    // The high watermark grows (the controller appends no-op records): ours was read first.
    let their_hw: i64 = quorum_field(&quorum, "HighWatermark").parse().unwrap();
    let our_hw = q["high_watermark"].as_i64().unwrap();
    assert!(
        our_hw > 0 && our_hw <= their_hw,
        "high watermark {our_hw} vs Kafka's {their_hw}"
    );
    let ours: Vec<i64> = q["voters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(voter_ids(quorum_field(&quorum, "CurrentVoters")), ours);
    assert_eq!(q["voters"][0]["lag"], 0);
    assert!(q["voters"][0]["last_fetch_timestamp_ms"].as_i64().unwrap() > 0);
    if node.version.starts_with('4') {
        // Kafka 4.x lists the voters' endpoints; so do we (DescribeQuorum v2).
        let endpoint = q["voters"][0]["endpoints"][0].as_str().unwrap().to_string();
        assert!(
            quorum_field(&quorum, "CurrentVoters").contains(&endpoint),
            "{endpoint} vs\n{quorum}"
        );
    }

    let topics = kafka_tool(
        &node.dist,
        "org.apache.kafka.tools.TopicCommand",
        &["--bootstrap-server", &bootstrap, "--describe"],
    );
    let topic_lines: Vec<&str> = topics
        .lines()
        .filter(|l| l.starts_with("Topic:") && l.contains("PartitionCount:"))
        .collect();
    let partitions: usize = topic_lines
        .iter()
        .map(|l| {
            l.split("PartitionCount:")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    let (ours_json, ours_text, _) = status_json(&["--bootstrap", &bootstrap]);
    let c = &ours_json["cluster"];
    assert_eq!(
        c["topics"],
        topic_lines.len(),
        "topic count vs kafka-topics:\n{topics}\n{ours_text}"
    );
    assert_eq!(
        c["partitions"], partitions,
        "partition count vs kafka-topics:\n{topics}\n{ours_text}"
    );
    assert!(
        topics.contains(&format!("Topic: {kept}\t")) && topics.contains("PartitionCount: 4"),
        "{topics}"
    );
    let under = kafka_tool(
        &node.dist,
        "org.apache.kafka.tools.TopicCommand",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--describe",
            "--under-replicated-partitions",
        ],
    );
    let unavailable = kafka_tool(
        &node.dist,
        "org.apache.kafka.tools.TopicCommand",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--describe",
            "--unavailable-partitions",
        ],
    );
    assert_eq!(
        c["under_replicated_partitions"],
        under.lines().filter(|l| l.contains("Partition:")).count()
    );
    assert_eq!(
        c["offline_partitions"],
        unavailable
            .lines()
            .filter(|l| l.contains("Partition:"))
            .count()
    );

    // --bootstrap finds the node by the address it advertises, and its roles from the cluster.
    assert_valid_against_schema(&ours_text);
    assert_eq!(ours_json["health"], "healthy");
    assert_eq!(ours_json["node"]["id"], 1);
    assert_eq!(
        ours_json["node"]["roles"],
        serde_json::json!(["broker", "controller"])
    );
    assert_eq!(
        ours_json["node"]["advertised_listeners"][0],
        bootstrap.as_str()
    );

    // Degraded (exit 1): a config naming a node id that is not registered, and another cluster id.
    let other = node.prefix.join("etc/kafka/other.toml");
    // kraftd.toml wins over node.toml: the admin's keys override the recorded ones.
    let wrong = toml.replace(
        "[node]\n",
        "[node]\nid = 7\ncluster_id = \"MkU3OEVBNTcwNTJENDM2Qg\"\n",
    );
    assert_ne!(wrong, toml, "kraftd.toml has no [node] table:\n{toml}");
    std::fs::write(&other, wrong).unwrap();
    let (json, text, code) = status_json(&["--config", &other.display().to_string()]);
    assert_eq!(code, Some(1), "{text}");
    assert_valid_against_schema(&text);
    assert_eq!(json["health"], "degraded");
    assert_eq!(json["node"]["registered"], false);
    let problems = json["problems"].to_string();
    assert!(
        problems.contains("node 7 is not among the live brokers"),
        "{problems}"
    );
    assert!(problems.contains("MkU3OEVBNTcwNTJENDM2Qg"), "{problems}");

    // Stopped again: exit 2 and step "connect".
    let out = kraftd(&["stop", "--config", &config]);
    assert!(out.status.success(), "kraftd stop failed");
    run.wait(Duration::from_secs(180));
    assert_stopped_behaviour(&node);
}

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
        let out = kraftd(&[cmd, "--config", &missing]);
        assert_eq!(out.status.code(), Some(78));
        let e = stderr(&out);
        assert!(e.contains(&missing) && e.contains("--bootstrap"), "{e}");
    }
    // A name that does not resolve is unreachable (2), not a crash.
    let out = kraftd(&["status", "--bootstrap", "no-such-host.invalid:9092"]);
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
    let _serial = common::serial();
    let node = provision_with("3.7.1", "\n[kafka]\n\"message.max.bytes\" = 200\n");
    let config = node.config_arg();
    let run: Kraftd = spawn_kraftd(&["run", "--config", &config], &RunEnv::default());
    let out = kraftd(&[
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

    let out = kraftd(&["smoke-test", "--config", &config]);
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
        &node.dist,
        "org.apache.kafka.tools.TopicCommand",
        &["--bootstrap-server", &node.bootstrap(), "--list"],
    );
    assert!(!topics.contains("kraftd-smoke-"), "{topics}");
}

/// `--advertise ::1`: Kafka lists the broker as `::1` while kraftd.toml advertises `[::1]`; status
/// compares them as addresses, so the node is healthy (exit 0) and `--wait-healthy` returns.
#[test]
fn status_is_healthy_on_an_ipv6_loopback_node() {
    let _serial = common::serial();
    let node = provision_at("4.1.1", "", "::1");
    let config = node.config_arg();
    let mut run: Kraftd = spawn_kraftd(&["run", "--config", &config], &RunEnv::default());
    let out = kraftd(&[
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
        "an IPv6 node never became healthy; kraftd run said:\n{}",
        run.output()
    );
    let text = stdout(&out);
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
    let out = kraftd(&["stop", "--config", &config]);
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
        let mut child = Command::new(env!("CARGO_BIN_EXE_kraftd"))
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
