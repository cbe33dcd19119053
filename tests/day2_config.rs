//! Day two with a real Kafka 4.1.1 under `kraftd run`: kraftd.toml is the one source of truth
//! (an edit reaches the JVM on restart, unchanged files keep their mtime), hand-edited rendered
//! files and identity changes are refused with exit 78 and the data byte-identical.

use kafka_protocol::messages::DescribeConfigsRequest;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::protocol::StrBytes;
use kraftd::kafka::{KafkaClient, Timeouts};
use kraftd_test_support::*;
use std::path::Path;

/// Start `kraftd run`, wait for READY=1, run `check` while the broker serves, then SIGTERM and
/// require a clean exit.
fn run_until_ready(node: &TestNode, check: impl FnOnce()) {
    let notify = DatagramCollector::bind("notify");
    let config = node.config.display().to_string();
    let mut k = spawn_kraftd(
        &["run", "--config", &config],
        &RunEnv {
            notify_socket: Some(&notify.path),
            watchdog_usec: None,
            journal_socket: None,
        },
    );
    let _jvm = KillOnDrop(k.jvm_pid());
    let ready = notify.wait_until(START_LIMIT, |items| {
        items
            .iter()
            .any(|d| notify_lines(d).iter().any(|l| l == "READY=1"))
    });
    assert!(ready, "no READY=1; output:\n{}", k.output());
    check();
    k.terminate_cleanly();
}

/// The broker's own value of `key`, asked over the Kafka protocol (DescribeConfigs on broker 1).
fn broker_config(node: &TestNode, key: &str) -> Option<String> {
    let mut client =
        KafkaClient::connect(&node.broker_addr.to_string(), Timeouts::default()).unwrap();
    let request = DescribeConfigsRequest::default().with_resources(vec![
        DescribeConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(StrBytes::from_string(node.node_id.to_string()))
            .with_configuration_keys(Some(vec![StrBytes::from_string(key.to_string())])),
    ]);
    let (response, _) = client.call(&request).unwrap();
    let result = &response.results[0];
    assert_eq!(
        result.error_code, 0,
        "DescribeConfigs error {}",
        result.error_code
    );
    result
        .configs
        .iter()
        .find(|c| c.name.as_str() == key)
        .and_then(|c| c.value.as_ref().map(|v| v.to_string()))
}

/// `kraftd validate` and `kraftd run` both refuse with 78 and `needles`, start no JVM, and leave
/// the data directory byte-identical.
fn assert_refused(node: &TestNode, needles: &[&str]) {
    let before = tree_hashes(&node.data_dir);
    for cmd in ["validate", "run"] {
        let out = kraftd_output(&[cmd, "--config", &node.config.display().to_string()]);
        assert_eq!(out.status.code(), Some(78), "kraftd {cmd}: {}", text(&out));
        for n in needles {
            assert!(
                text(&out).contains(n),
                "kraftd {cmd}: want {n:?} in:\n{}",
                text(&out)
            );
        }
    }
    assert_eq!(
        tree_hashes(&node.data_dir),
        before,
        "a refused start changed the data dir"
    );
    assert!(!node.run_dir.join("kraftd.pid").exists());
}

#[test]
fn kraftd_toml_edits_reach_kafka_and_identity_changes_and_hand_edits_are_refused() {
    let _serial = serial();
    let node = provision_node("4.1.1");
    let state_dir = node.prefix.path().join("var/lib/kraftd");
    let props = state_dir.join("server.properties");
    let config_text = std::fs::read_to_string(&node.config).unwrap();
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();

    // 1. A start with nothing changed leaves the rendered files untouched (mtime kept).
    let (props_before, log_before) = (mtime(&props), mtime(&state_dir.join("log4j2.properties")));
    run_until_ready(&node, || {
        assert_eq!(
            broker_config(&node, "num.partitions").as_deref(),
            Some("1"),
            "Kafka's default before the edit"
        );
    });
    assert_eq!(
        mtime(&props),
        props_before,
        "an unchanged start rewrote server.properties"
    );
    assert_eq!(
        mtime(&state_dir.join("log4j2.properties")),
        log_before,
        "an unchanged start rewrote the log config"
    );

    // 2. A hand edit of the rendered file is refused, not silently lost.
    let mut edited = std::fs::read_to_string(&props).unwrap();
    edited.push_str("num.partitions=3\n");
    std::fs::write(&props, &edited).unwrap();
    assert_refused(
        &node,
        &[
            "server.properties was changed by hand",
            "[kafka] table",
            "then delete",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&props).unwrap(),
        edited,
        "the hand-edited file was touched"
    );

    // 3. Identity changes in kraftd.toml: refused with old -> new, data byte-identical.
    let cport = node.controller_port;
    for (edit, needle) in [
        (config_text.replace("id = 1\n", "id = 2\n"), "node id (node.id) 1 -> 2".to_string()),
        (config_text.replace("[node]\n", "[node]\nrole = \"controller\"\n"), "role (node.role) combined -> controller".into()),
        (
            config_text.replace("[node]\n", &format!("[node]\ndata_dir = \"{}\"\n", node.prefix.path().join("elsewhere").display())),
            format!("data directory (node.data_dir) {} -> ", node.data_dir.display()),
        ),
        (
            config_text.replace("[node]\n", &format!("[node]\ncontrollers = \"1@127.0.0.1:{cport},2@127.0.0.2:{cport},3@127.0.0.3:{cport}\"\n")),
            "voter set (node.controllers) (none: a single node) -> 1@127.0.0.1".into(),
        ),
    ] {
        assert_ne!(edit, config_text, "the test's edit did not apply");
        std::fs::write(&node.config, &edit).unwrap();
        assert_refused(&node, &[&needle, "Undo the edit", "node.toml"]);
    }
    assert!(
        !node.prefix.path().join("elsewhere").exists(),
        "a refused data_dir change created the directory"
    );

    // 4. The fix the message gives: the setting moves into [kafka] of kraftd.toml, the file is
    //    deleted; the next start renders it and the JVM runs with the setting.
    std::fs::write(
        &node.config,
        format!("{config_text}\n[kafka]\n\"num.partitions\" = 3\n"),
    )
    .unwrap();
    std::fs::remove_file(&props).unwrap();
    let out = kraftd_output(&["validate", "--config", &node.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    run_until_ready(&node, || {
        assert_eq!(
            broker_config(&node, "num.partitions").as_deref(),
            Some("3"),
            "the [kafka] edit did not reach Kafka"
        );
    });
    let rendered = std::fs::read_to_string(&props).unwrap();
    assert!(
        rendered.lines().any(|l| l == "num.partitions=3"),
        "{rendered}"
    );

    // 5. An edit of a [kafka] value: `restart` (stop, start) applies it; the file changes once.
    std::fs::write(
        &node.config,
        format!("{config_text}\n[kafka]\n\"num.partitions\" = 5\n"),
    )
    .unwrap();
    run_until_ready(&node, || {
        assert_eq!(
            broker_config(&node, "num.partitions").as_deref(),
            Some("5"),
            "the changed [kafka] value did not reach Kafka"
        );
    });
}
