//! The status/smoke-test scenario on one node: stopped, healthy, compared with Kafka's own tools,
//! degraded, stopped again.

use crate::checks::*;
use kraftd_test_support::*;
use std::time::Duration;

pub fn scenario(version: &str) {
    let _serial = serial();
    let node = InstalledNode::install(version);
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

    let (mut run, text) = run_until_healthy(&config, "node did not become healthy");
    assert!(
        text.starts_with("HEALTHY: node 1 (broker,controller)"),
        "{text}"
    );
    assert!(
        text.lines().all(|l| l.chars().count() <= 80),
        "human output wider than 80 columns:\n{text}"
    );

    // Smoke test: one kept topic (so status and kafka-topics have something to compare), one deleted.
    let out = kraftd_shown(&[
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
    let out = kraftd_shown(&["smoke-test", "--bootstrap", &bootstrap]);
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
        &node,
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
        &node,
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
        &node,
        "org.apache.kafka.tools.TopicCommand",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--describe",
            "--under-replicated-partitions",
        ],
    );
    let unavailable = kafka_tool(
        &node,
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
    let out = kraftd_shown(&["stop", "--config", &config]);
    assert!(out.status.success(), "kraftd stop failed");
    run.wait(Duration::from_secs(180));
    assert_stopped_behaviour(&node);
}
