//! Kafka's tools through kraftd's launchers (`kafka-*` links to the built kraftd, KRAFTD_CONFIG set)
//! against a real node provisioned by the real kraft-install and run by `kraftd run`, for 4.1.1 and
//! 3.7.1; and the man pages and completions of `kraftd generate-docs`.

use kraftd_test_support::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const TOOLS: [&str; 8] = [
    "kafka-topics",
    "kafka-console-producer",
    "kafka-console-consumer",
    "kafka-metadata-quorum",
    "kafka-metadata-shell",
    "kafka-storage",
    "kafka-configs",
    "kafka-consumer-groups",
];

/// A node installed by the real kraft-install, with a directory of `kafka-*` links to kraftd.
struct Installed {
    node: InstalledNode,
    cluster_id: String,
    /// Directory of `kafka-*` links to the built kraftd.
    bin: tempfile::TempDir,
}

impl std::ops::Deref for Installed {
    type Target = InstalledNode;
    fn deref(&self) -> &InstalledNode {
        &self.node
    }
}

fn install(version: &str) -> Installed {
    let node = InstalledNode::install(version);
    let cluster_id = node.formatted_cluster_id();
    let bin = tempfile::Builder::new()
        .prefix("kraftd-bin-")
        .tempdir()
        .unwrap();
    for tool in TOOLS {
        std::os::unix::fs::symlink(kraftd_bin(), bin.path().join(tool)).unwrap();
    }
    Installed {
        node,
        cluster_id,
        bin,
    }
}

impl Installed {
    /// Run a tool through its link, like an operator with KRAFTD_CONFIG set.
    fn tool(&self, name: &str, args: &[&str], stdin: Option<&str>) -> Output {
        self.tool_limited(name, args, stdin, Duration::from_secs(240))
    }

    /// Like `tool`, but SIGKILLed after `limit` (a hung tool fails the test instead of hanging it;
    /// the status then shows the signal).
    fn tool_limited(
        &self,
        name: &str,
        args: &[&str],
        stdin: Option<&str>,
        limit: Duration,
    ) -> Output {
        let mut cmd = Command::new(self.bin.path().join(name));
        cmd.args(args)
            .env("KRAFTD_CONFIG", &self.config)
            .env_remove("KAFKA_HEAP_OPTS")
            .env_remove("KAFKA_OPTS")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = output_within(child, limit);
        show(&format!("{name} {}", args.join(" ")), &out);
        out
    }

    fn ok(&self, name: &str, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.tool(name, args, stdin);
        assert!(
            out.status.success(),
            "{name} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn start(&self) -> Kraftd {
        start_serving(&self.config, self.broker_addr())
    }
}

fn every_launcher_against_a_real_node(version: &str) {
    let _serial = serial();
    let node = install(version);
    let local = format!("localhost:{}", node.broker_port);

    // --version works for all eight, even before the broker runs (Kafka's argparse4j tools have
    // none: the launcher answers with the distribution's version).
    for tool in TOOLS {
        let out = node.ok(tool, &["--version"], None);
        assert_eq!(
            out.lines().last(),
            Some(version),
            "{tool} --version printed {out:?}"
        );
    }

    let mut kraftd = node.start();

    // The runbook, with `.sh` dropped (localhost → 127.0.0.1, which the node advertises).
    let topic = "my_topic_srebro.cn";
    let out = node.ok(
        "kafka-topics",
        &[
            "--create",
            "--topic",
            topic,
            "--bootstrap-server",
            &local,
            "--partitions",
            "1",
            "--replication-factor",
            "1",
        ],
        None,
    );
    assert!(out.contains(&format!("Created topic {topic}")), "{out}");
    node.ok(
        "kafka-console-producer",
        &["--topic", topic, "--bootstrap-server", &local],
        Some("first\nsecond\nthird\n"),
    );
    let out = node.ok(
        "kafka-console-consumer",
        &[
            "--topic",
            topic,
            "--bootstrap-server",
            &local,
            "--from-beginning",
            "--max-messages",
            "3",
            "--timeout-ms",
            "60000",
        ],
        None,
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["first", "second", "third"],
        "consumer stdout must hold only the records"
    );

    // Defaults from the local config: no --bootstrap-server given.
    let out = node.ok("kafka-topics", &["--describe", "--topic", topic], None);
    assert!(
        out.contains("PartitionCount: 1") && out.contains("ReplicationFactor: 1"),
        "{out}"
    );
    let out = node.ok(
        "kafka-console-consumer",
        &[
            "--topic",
            topic,
            "--group",
            "kraftd-tools-group",
            "--from-beginning",
            "--max-messages",
            "3",
            "--timeout-ms",
            "60000",
        ],
        None,
    );
    assert_eq!(out.lines().count(), 3, "{out}");
    let out = node.ok("kafka-consumer-groups", &["--list"], None);
    assert!(
        out.lines().any(|l| l.trim() == "kraftd-tools-group"),
        "{out}"
    );
    let out = node.ok(
        "kafka-consumer-groups",
        &["--describe", "--group", "kraftd-tools-group"],
        None,
    );
    assert!(out.contains(topic), "{out}");

    node.ok(
        "kafka-configs",
        &[
            "--entity-type",
            "topics",
            "--entity-name",
            topic,
            "--alter",
            "--add-config",
            "retention.ms=3600000",
        ],
        None,
    );
    let out = node.ok(
        "kafka-configs",
        &[
            "--entity-type",
            "topics",
            "--entity-name",
            topic,
            "--describe",
        ],
        None,
    );
    assert!(out.contains("retention.ms=3600000"), "{out}");

    let out = node.ok("kafka-metadata-quorum", &["describe", "--status"], None);
    assert!(
        out.contains(&node.cluster_id),
        "quorum status lacks the cluster id: {out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("LeaderId:") && l.trim_end().ends_with(" 1")),
        "{out}"
    );
    assert!(
        out.contains(&format!("127.0.0.1:{}", node.controller_port)) || version.starts_with('3'),
        "{out}"
    );

    // The metadata shell reads the running node's log (a copy: the broker holds the dir lock).
    // Kafka's MetadataShell runs a command-line command as soon as its file reader reaches the end,
    // which can be before the loader has published the image (seen once right after a write on
    // 4.1.1: empty output): a few attempts, each a complete run of the launcher.
    let mut listed = String::new();
    for _ in 0..5 {
        // 3.7.1's shell was also seen to hang once in the same situation: killed and retried.
        let out = node.tool_limited(
            "kafka-metadata-shell",
            &["ls", "/image/topics/byName"],
            None,
            Duration::from_secs(60),
        );
        listed = String::from_utf8_lossy(&out.stdout).into_owned();
        if listed.lines().any(|l| l.trim() == topic) {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        listed.lines().any(|l| l.trim() == topic),
        "the metadata shell never listed {topic}: {listed:?}"
    );
    // With no arguments it is the interactive shell, on the same local copy (commands on stdin).
    let mut interactive = String::new();
    for _ in 0..5 {
        let out = node.tool_limited(
            "kafka-metadata-shell",
            &[],
            Some("ls /image/topics/byName\nexit\n"),
            Duration::from_secs(60),
        );
        interactive = String::from_utf8_lossy(&out.stdout).into_owned();
        if interactive.contains(topic) {
            break;
        }
    }
    assert!(
        interactive.contains(topic),
        "the interactive shell did not list {topic}: {interactive:?}"
    );

    // kafka-storage info gets the node's server.properties; format is never defaulted and Kafka
    // still refuses an already formatted directory.
    let out = node.ok("kafka-storage", &["info"], None);
    assert!(out.contains(&node.cluster_id), "{out}");
    let meta_before = std::fs::read(node.data_dir.join("meta.properties")).unwrap();
    let out = node.tool("kafka-storage", &["format", "-t", &node.cluster_id], None);
    assert!(
        !out.status.success(),
        "format without --config must not be completed by a default"
    );
    let props = node
        .prefix
        .join("var/lib/kraftd/server.properties")
        .display()
        .to_string();
    let out = node.tool(
        "kafka-storage",
        &["format", "-t", &node.cluster_id, "-c", &props],
        None,
    );
    assert!(
        !out.status.success(),
        "format of a formatted directory must be refused"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("already formatted")
            || String::from_utf8_lossy(&out.stderr).contains("already formatted")
    );
    assert_eq!(
        meta_before,
        std::fs::read(node.data_dir.join("meta.properties")).unwrap()
    );

    // `kraftd tool NAME` is the same launcher without a link.
    let out = Command::new(kraftd_bin())
        .args(["tool", "--config"])
        .arg(&node.config)
        .args(["kafka-topics", "--list"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == topic)
    );

    kraftd.terminate_cleanly();
}

#[test]
fn launchers_4_1_1() {
    every_launcher_against_a_real_node("4.1.1");
}

#[test]
fn launchers_3_7_1() {
    every_launcher_against_a_real_node("3.7.1");
}

#[test]
fn launcher_without_a_config_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kafka-topics");
    std::os::unix::fs::symlink(kraftd_bin(), &link).unwrap();
    let out = Command::new(&link)
        .arg("--list")
        .env("KRAFTD_CONFIG", dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(78),
        "a missing config is a config error"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("none.toml") && err.contains("KRAFTD_CONFIG"),
        "{err}"
    );
}

#[test]
fn generate_docs_writes_man_pages_and_completions() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(kraftd_bin())
        .args(["generate-docs", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let man = out_dir.path().join("man");
    let completions = out_dir.path().join("completions");
    let expected_man = [
        "kraftd.1",
        "kraft-install.1",
        "kraftd-run.1",
        "kraftd-tool.1",
    ];
    let expected_completions = [
        "kraftd.bash",
        "_kraftd",
        "kraftd.fish",
        "kraft-install.bash",
        "_kraft-install",
        "kraft-install.fish",
    ];
    for (dir, names) in [
        (&man, &expected_man[..]),
        (&completions, &expected_completions[..]),
    ] {
        for name in names {
            let path = dir.join(name);
            let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            assert!(len > 0, "{} missing or empty", path.display());
        }
    }
    let page = std::fs::read_to_string(man.join("kraft-install.1")).unwrap();
    assert!(
        page.contains("uninstall") && page.contains("reconfigure"),
        "kraft-install.1 lacks the new modes"
    );
    assert!(
        !std::fs::read_to_string(man.join("kraftd.1"))
            .unwrap()
            .contains("generate-docs"),
        "hidden command leaked into the man page"
    );

    if Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        for name in expected_man {
            let out = Command::new("man")
                .arg("-l")
                .arg(man.join(name))
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "80")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("NAME"),
                "man -l {name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    } else {
        eprintln!("man is not installed: man pages checked for content only");
    }
    for name in ["kraftd.bash", "kraft-install.bash"] {
        let status = Command::new("bash")
            .arg("-n")
            .arg(completions.join(name))
            .status()
            .unwrap();
        assert!(status.success(), "bash -n {name} failed");
    }
    // The bash completion offers the tool names after `kraftd tool`.
    let bash = std::fs::read_to_string(completions.join("kraftd.bash")).unwrap();
    assert!(
        bash.contains("kafka-console-consumer"),
        "kraftd.bash does not complete tool names"
    );
}
