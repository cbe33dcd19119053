//! End to end on the real JVM, for Kafka 3.7.1 and 4.1.1: render server.properties and the
//! stdout-only log config, format with StorageTool, start `kafka.Kafka`, produce and consume with
//! Kafka's console tools, SIGTERM, and check the clean-shutdown marker.
//!
//! Needs `java` (17) on PATH and the fixtures from `scripts/kafka-dist.sh <version>`.

use kraftd::config::NodeId;
use kraftd::storage::{FormatOutcome, ensure_formatted};
use kraftd::{ClusterId, KafkaVersion, Layout, Settings, fsutil, render};
use kraftd_test_support::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CLUSTER_ID: &str = "MkU3OEVBNTcwNTJENDM2Qg";
/// Upper bound for each wait (startup, a tool run, shutdown): only so a hung JVM fails the test.
const PATIENCE: Duration = Duration::from_secs(180);

/// A WARN-to-stderr log config for the console tools, so their stdout carries only records.
fn tool_log_flag(dir: &Path, version: &KafkaVersion) -> String {
    let path = dir.join("tools-log.properties");
    if version.major >= 4 {
        std::fs::write(&path, "appender.e.type=Console\nappender.e.name=E\nappender.e.target=SYSTEM_ERR\nappender.e.layout.type=PatternLayout\nappender.e.layout.pattern=[%d] %p %m (%c)%n\nrootLogger.level=WARN\nrootLogger.appenderRef.e.ref=E\n").unwrap();
        format!("-Dlog4j2.configurationFile={}", path.display())
    } else {
        std::fs::write(&path, "log4j.rootLogger=WARN, e\nlog4j.appender.e=org.apache.log4j.ConsoleAppender\nlog4j.appender.e.Target=System.err\nlog4j.appender.e.layout=org.apache.log4j.PatternLayout\nlog4j.appender.e.layout.ConversionPattern=[%d] %p %m (%c)%n\n").unwrap();
        format!("-Dlog4j.configuration=file:{}", path.display())
    }
}

/// Run a Kafka tool to completion with `stdin`, failing the test (with its output) on a non-zero exit.
fn run_tool(tools: &KafkaTools, main: &str, args: &[&str], stdin: &str) -> String {
    let mut child = tools
        .command(main)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start java {main}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{main} {args:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The level of a line that starts a log record in the stock pattern `[%d] %p %m (%c)%n`:
/// `[2026-11-24 22:53:31,123] INFO message…`. None for other lines (multi-line messages, stack traces).
fn record_level(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('[')?;
    let (stamp, rest) = rest.split_once("] ")?;
    let stamp_ok = stamp.len() == 23
        && stamp.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b' ',
            13 | 16 => b == b':',
            19 => b == b',',
            _ => b.is_ascii_digit(),
        });
    let (level, _) = rest.split_once(' ')?;
    let level_ok = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].contains(&level);
    (stamp_ok && level_ok).then_some(level)
}

/// Group lines into records (a start line and its continuation lines) and check each record ends
/// with the `(logger)` of the pattern. Returns (level, whole record) pairs.
fn split_records(lines: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in lines {
        match record_level(line) {
            Some(level) => out.push((level.to_string(), line.clone())),
            None => match out.last_mut() {
                Some((_, record)) => {
                    record.push('\n');
                    record.push_str(line);
                }
                None => return Err(format!("first stdout line is not a log record: {line:?}")),
            },
        }
    }
    for (_, record) in &out {
        // Stack traces follow the message, so the `(logger)` may end the first line instead.
        let first = record.lines().next().unwrap_or_default();
        if !(record.ends_with(')') || first.ends_with(')')) {
            return Err(format!("record does not end with (logger): {record:?}"));
        }
    }
    Ok(out)
}

fn broker_round_trip(version: &str) {
    let _serial = serial();
    let dist = fixture_dist(version);
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::new(&tmp.path().join("root"), None);
    let (broker_port, controller_port) = free_ports();
    let cluster_id: ClusterId = CLUSTER_ID.parse().expect("valid cluster id");
    let settings = Settings {
        layout: layout.clone(),
        node_id: NodeId(1),
        cluster_id: Some(cluster_id.clone()),
        advertise: "127.0.0.1".parse().unwrap(),
        broker_port,
        controller_port,
        kafka_version: dist.version,
        mirrors: vec![],
        java_home: None,
        heap: "512m".into(),
        jvm_opts: vec![],
        extra_properties: BTreeMap::from([(
            "auto.create.topics.enable".to_string(),
            "false".to_string(),
        )]),
        stop_timeout: Duration::from_secs(60),
        role: Default::default(),
        voters: None,
        brokers: None,
        advertise_name: None,
        kafka_values: BTreeMap::new(),
    };

    // Render and write as kraft-install does.
    std::fs::create_dir_all(&layout.etc_dir).unwrap();
    std::fs::create_dir_all(&layout.state_dir).unwrap();
    let server_properties = render::server_properties(&settings, &dist.version).unwrap();
    fsutil::write_atomic(
        &layout.server_properties(),
        server_properties.as_bytes(),
        0o644,
    )
    .unwrap();
    let log_path = layout.log_config(&dist.version);
    fsutil::write_atomic(
        &log_path,
        render::log_config(&dist.version).as_bytes(),
        0o644,
    )
    .unwrap();
    eprintln!("--- server.properties for {version}:\n{server_properties}");

    let java = Path::new("java");
    let outcome = ensure_formatted(
        java,
        &dist,
        &layout.server_properties(),
        &layout.data_dir,
        &cluster_id,
        NodeId(1),
    )
    .unwrap();
    assert_eq!(outcome, FormatOutcome::Formatted);

    // Start the broker from a scratch working dir with kafka.logs.dir pointing at an empty dir:
    // a file appender anywhere in the config would leave a file there.
    let workdir = tmp.path().join("cwd");
    let logs_dir = tmp.path().join("logs");
    std::fs::create_dir_all(&workdir).unwrap();
    std::fs::create_dir_all(&logs_dir).unwrap();
    let flags = [
        "-Xmx512m".to_string(),
        format!("-Dkafka.logs.dir={}", logs_dir.display()),
        log_config_flag(version, &log_path),
    ];
    let mut broker = ChildGuard::new(
        bare_broker_command(&dist.home, &flags, &layout.server_properties())
            .current_dir(&workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start java kafka.Kafka"),
    );
    let child = broker.child();
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let stderr = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });

    let mut stdout_lines: Vec<String> = Vec::new();
    let started = Instant::now();
    while !stdout_lines
        .iter()
        .any(|l| l.contains("Kafka Server started"))
    {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => stdout_lines.push(line),
            Err(_) => {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!(
                        "Kafka {version} exited ({status}) before starting:\n{}",
                        stdout_lines.join("\n")
                    );
                }
                assert!(
                    started.elapsed() < PATIENCE,
                    "Kafka {version} not started:\n{}",
                    stdout_lines.join("\n")
                );
            }
        }
    }

    let bootstrap = format!("127.0.0.1:{broker_port}");
    let mut tools = KafkaTools::new(&dist.home, version);
    tools
        .jvm_flags
        .push(tool_log_flag(tmp.path(), &dist.version));
    let (producer, consumer) = (tools.producer_class(), tools.consumer_class());
    run_tool(
        &tools,
        "org.apache.kafka.tools.TopicCommand",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--create",
            "--topic",
            "kraftd-test",
            "--partitions",
            "1",
            "--replication-factor",
            "1",
        ],
        "",
    );
    let records = ["first record", "second record", "third record"];
    run_tool(
        &tools,
        producer,
        &["--bootstrap-server", &bootstrap, "--topic", "kraftd-test"],
        &(records.join("\n") + "\n"),
    );
    let consumed = run_tool(
        &tools,
        consumer,
        &[
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            "kraftd-test",
            "--from-beginning",
            "--max-messages",
            "3",
            "--timeout-ms",
            "120000",
        ],
        "",
    );
    let consumed: Vec<&str> = consumed.lines().collect();
    assert_eq!(
        consumed, records,
        "Kafka {version}: records read back differ"
    );

    // Stop as systemd would: SIGTERM, then wait for the JVM's shutdown hooks.
    let status = broker.terminate(PATIENCE, &format!("Kafka {version} (SIGTERMed)"));
    stdout_reader.join().unwrap();
    stdout_lines.extend(rx.try_iter());
    let stderr_lines = stderr_reader.join().unwrap();
    // 143 = 128 + SIGTERM: the JVM's normal exit after running its shutdown hooks.
    assert!(
        matches!(status.code(), Some(0) | Some(143)),
        "Kafka {version} exit status {status}"
    );
    assert!(
        layout.data_dir.join(".kafka_cleanshutdown").is_file(),
        "Kafka {version}: no .kafka_cleanshutdown in {} after SIGTERM",
        layout.data_dir.display()
    );

    // Logging: pattern on stdout, nothing from log4j on stderr, no log files anywhere.
    let all = stdout_lines.join("\n");
    let logged = split_records(&stdout_lines).unwrap_or_else(|e| panic!("Kafka {version}: {e}"));
    let has = |level: &str, logger: &str| {
        logged
            .iter()
            .any(|(l, r)| l == level && r.ends_with(&format!("({logger})")))
    };
    assert!(
        logged.iter().filter(|(l, _)| l == "INFO").count() > 10,
        "Kafka {version}: few INFO lines:\n{all}"
    );
    // Loggers the stock configs send to files must reach stdout. On a freshly formatted node the
    // controller always warns "Performing controller activation. The metadata log appears to be
    // empty" (stock: controller.log), and creating the topic logs to state.change.logger (stock:
    // state-change.log).
    assert!(
        has("WARN", "org.apache.kafka.controller.QuorumController"),
        "Kafka {version}: no WARN from the QuorumController on stdout:\n{all}"
    );
    assert!(
        has("INFO", "state.change.logger"),
        "Kafka {version}: no state.change.logger line on stdout:\n{all}"
    );
    assert!(
        !stderr_lines
            .iter()
            .any(|l| record_level(l).is_some() || l.starts_with("log4j")),
        "Kafka {version}: log output on stderr:\n{}",
        stderr_lines.join("\n")
    );
    let stray: Vec<_> = [&logs_dir, &workdir]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .collect();
    assert!(
        stray.is_empty(),
        "Kafka {version} wrote log files: {stray:?}"
    );
}

#[test]
fn kafka_4_1_1_renders_formats_serves_and_stops_cleanly() {
    broker_round_trip("4.1.1");
}

#[test]
fn kafka_3_7_1_renders_formats_serves_and_stops_cleanly() {
    broker_round_trip("3.7.1");
}
