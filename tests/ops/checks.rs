//! The ops tests' checks: Kafka's own tools as the reference, `kraftd status --json` validated
//! against docs/status.schema.json, and what a stopped node must look like.

use kraftd_test_support::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

/// A Kafka tool from the node's distribution, run with its own classpath (the reference): stdout.
pub fn kafka_tool(node: &InstalledNode, class: &str, args: &[&str]) -> String {
    KafkaTools::new(&node.dist, &node.version).ok(class, args)
}

/// `Key:   value` lines of MetadataQuorumCommand describe --status.
pub fn quorum_field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} in MetadataQuorumCommand output:\n{text}"))
}

/// Voter ids from `CurrentVoters:` — `[1,2]` (3.7) or `[{"id": 1, "endpoints": [...]}]` (4.x).
pub fn voter_ids(field: &str) -> Vec<i64> {
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
pub fn assert_valid_against_schema(json: &str) {
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

pub fn status_json(args: &[&str]) -> (Value, String, Option<i32>) {
    let mut all = vec!["status", "--json"];
    all.extend_from_slice(args);
    let out = kraftd_shown(&all);
    let text = stdout(&out);
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    (json, text, out.status.code())
}

/// The node is stopped: status exit 2 with a clear message, smoke-test fails at "connect".
pub fn assert_stopped_behaviour(node: &InstalledNode) {
    let out = kraftd_shown(&["status", "--config", &node.config_arg()]);
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

    let out = kraftd_shown(&[
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

    let out = kraftd_shown(&["smoke-test", "--config", &node.config_arg()]);
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

/// `kraftd run` of the node at `config`, then `kraftd status --wait-healthy --timeout 240`: the
/// running kraftd and the status text; fails with `what` and kraftd's output unless it exits 0.
pub fn run_until_healthy(config: &str, what: &str) -> (Kraftd, String) {
    let run: Kraftd = spawn_kraftd(&["run", "--config", config], &RunEnv::default());
    let out = kraftd_shown(&[
        "status",
        "--config",
        config,
        "--wait-healthy",
        "--timeout",
        "240",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}; kraftd run said:\n{}",
        run.output()
    );
    (run, stdout(&out))
}
