//! Kafka itself without kraftd: the one bare-JVM broker launcher (`java -cp '<dist>/libs/*'
//! kafka.Kafka server.properties` with the rendered log config), and Kafka's own tools from the
//! fixture distribution — topic creation, the console producer and consumer — as the reference
//! kraftd is checked against.

use crate::fixtures::is_v3;
use crate::process::signal;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The test's Java: `$JAVA_HOME/bin/java`, else `java` on PATH.
pub fn java() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(h) if !h.is_empty() => Path::new(&h).join("bin/java"),
        _ => PathBuf::from("java"),
    }
}

/// The JVM flag that points Kafka's logging at `path` (log4j 1 for 3.x, log4j2 for 4.x).
pub fn log_config_flag(version: &str, path: &Path) -> String {
    if is_v3(version) {
        format!("-Dlog4j.configuration=file:{}", path.display())
    } else {
        format!("-Dlog4j2.configurationFile={}", path.display())
    }
}

/// `java <jvm_flags> -cp '<dist>/libs/*' kafka.Kafka <server_properties>`: the bare broker command
/// line (`jvm_flags` include the heap and the log config flag).
pub fn bare_broker_command(dist: &Path, jvm_flags: &[String], server_properties: &Path) -> Command {
    let mut cmd = Command::new(java());
    cmd.args(jvm_flags)
        .arg("-cp")
        .arg(format!("{}/libs/*", dist.display()))
        .arg("kafka.Kafka")
        .arg(server_properties);
    cmd
}

/// Kafka's command-line tools from one distribution, run with a small heap.
#[derive(Clone, Debug)]
pub struct KafkaTools {
    pub dist: PathBuf,
    pub version: String,
    /// JVM flags before `-cp` (the heap first).
    pub jvm_flags: Vec<String>,
}

impl KafkaTools {
    /// The tools of `dist` (Kafka `version`) with `-Xmx256m`.
    pub fn new(dist: &Path, version: &str) -> KafkaTools {
        KafkaTools {
            dist: dist.to_path_buf(),
            version: version.to_string(),
            jvm_flags: vec!["-Xmx256m".into()],
        }
    }

    /// `java <flags> -cp '<dist>/libs/*' <class>`.
    pub fn command(&self, class: &str) -> Command {
        self.command_via(Command::new(java()), class)
    }

    /// As [`KafkaTools::command`], with `java` started by `launcher` (e.g. `ip netns exec ns java`).
    pub fn command_via(&self, mut launcher: Command, class: &str) -> Command {
        launcher
            .args(&self.jvm_flags)
            .arg("-cp")
            .arg(format!("{}/libs/*", self.dist.display()))
            .arg(class);
        launcher
    }

    /// The console producer's class for this version.
    pub fn producer_class(&self) -> &'static str {
        if is_v3(&self.version) {
            "kafka.tools.ConsoleProducer"
        } else {
            "org.apache.kafka.tools.ConsoleProducer"
        }
    }

    /// The console consumer's class for this version.
    pub fn consumer_class(&self) -> &'static str {
        if is_v3(&self.version) {
            "kafka.tools.ConsoleConsumer"
        } else {
            "org.apache.kafka.tools.consumer.ConsoleConsumer"
        }
    }

    /// Create `topic` (1 partition, RF 1) with TopicCommand, retrying until the broker serves.
    pub fn create_topic(&self, bootstrap: &str, topic: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let out = self
                .command("org.apache.kafka.tools.TopicCommand")
                .args([
                    "--bootstrap-server",
                    bootstrap,
                    "--create",
                    "--if-not-exists",
                    "--topic",
                    topic,
                ])
                .args(["--partitions", "1", "--replication-factor", "1"])
                .output()
                .unwrap();
            if out.status.success() {
                return;
            }
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                Instant::now() < deadline,
                "creating {topic} on {bootstrap} never succeeded: {err}"
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Create `topic` and produce `records` with the console producer (acks=all).
    pub fn produce(&self, bootstrap: &str, topic: &str, records: &[&str]) {
        self.create_topic(bootstrap, topic);
        let mut child = self
            .command(self.producer_class())
            .args(["--bootstrap-server", bootstrap, "--topic", topic])
            .args(["--producer-property", "acks=all"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all((records.join("\n") + "\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !err.contains("ERROR"),
            "console producer failed: {err}"
        );
    }

    /// Consume `n` records of `topic` from the beginning with the console consumer.
    pub fn consume(&self, bootstrap: &str, topic: &str, n: usize) -> Vec<String> {
        let out = self
            .command(self.consumer_class())
            .args([
                "--bootstrap-server",
                bootstrap,
                "--topic",
                topic,
                "--from-beginning",
            ])
            .args(["--max-messages", &n.to_string(), "--timeout-ms", "60000"])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Run `class args…` to completion (stdin closed), show its output, require success, and
    /// return its stdout.
    pub fn ok(&self, class: &str, args: &[impl AsRef<OsStr>]) -> String {
        let out = self
            .command(class)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run java");
        crate::bins::show(class, &out);
        assert!(out.status.success(), "{class} failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A real broker of an installed prefix started with the bare JVM command: the rendered
/// server.properties and log config from `<prefix>/var/lib/kraftd`, the distribution from
/// `<prefix>/opt/kafka/current`, output discarded; killed on drop.
pub struct Broker {
    pub child: Child,
    pub tools: KafkaTools,
}

impl Broker {
    pub fn start(prefix: &Path, version: &str) -> Broker {
        let dist = prefix.join("opt/kafka/current");
        // The rendered files live in the state dir (kraftd renders them there on every start).
        let state = prefix.join("var/lib/kraftd");
        let log_config = state.join(if is_v3(version) {
            "log4j.properties"
        } else {
            "log4j2.properties"
        });
        let flags = [
            "-Xmx512m".to_string(),
            "-Xms512m".to_string(),
            log_config_flag(version, &log_config),
        ];
        let child = bare_broker_command(&dist, &flags, &state.join("server.properties"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start java");
        Broker {
            child,
            tools: KafkaTools::new(&dist, version),
        }
    }

    /// See [`KafkaTools::create_topic`].
    pub fn create_topic(&self, bootstrap: &str, topic: &str) {
        self.tools.create_topic(bootstrap, topic)
    }

    /// See [`KafkaTools::produce`].
    pub fn produce(&self, bootstrap: &str, topic: &str, records: &[&str]) {
        self.tools.produce(bootstrap, topic, records)
    }

    /// See [`KafkaTools::consume`].
    pub fn consume(&self, bootstrap: &str, topic: &str, n: usize) -> Vec<String> {
        self.tools.consume(bootstrap, topic, n)
    }

    /// SIGTERM and wait: a controlled shutdown.
    pub fn stop(mut self) -> ExitStatus {
        signal(self.child.id() as i32, libc::SIGTERM);
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
