//! Kafka's tools inside a node's namespace for the cluster test: the topic, its replication state,
//! acked write batches (VerifiableProducer) and reading everything back.

use crate::BROKERS;
use crate::net::TestNet;
use kraftd_test_support::{KafkaTools, dist_home, java, run};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const TOPIC: &str = "acked";
/// Records per write batch.
pub const BATCH: usize = 200;

/// The Kafka tools, run inside a broker's namespace with a small heap.
pub struct Tools<'a> {
    net: &'a TestNet,
    kafka: KafkaTools,
    bootstrap: String,
}

impl<'a> Tools<'a> {
    /// The tools of the `version` fixture, bootstrapping from all three brokers.
    pub fn new(net: &'a TestNet, version: &str) -> Tools<'a> {
        let mut kafka = KafkaTools::new(&dist_home(version), version);
        // Short-lived tools on a busy 2-core box: C1 only and the serial collector start fastest.
        kafka.jvm_flags = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m"]
            .map(String::from)
            .to_vec();
        Tools {
            net,
            kafka,
            bootstrap: BROKERS
                .iter()
                .map(|&n| format!("{}:9092", net.addr(n)))
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    fn java(&self, from: u32, class: &str) -> Command {
        let mut c = self.kafka.command_via(self.net.exec(from, java()), class);
        c.stdin(Stdio::null());
        c
    }
    pub fn create_topic(&self, from: u32) {
        let out = run(self
            .java(from, "org.apache.kafka.tools.TopicCommand")
            .args([
                "--bootstrap-server",
                &self.bootstrap,
                "--create",
                "--topic",
                TOPIC,
                "--partitions",
                "1",
                "--replication-factor",
                "3",
                "--config",
                "min.insync.replicas=2",
            ]));
        assert!(
            out.status.success(),
            "create topic: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `--describe` of the topic; empty output for `--under-replicated-partitions` means all in sync.
    fn under_replicated(&self, from: u32) -> String {
        let out = run(self
            .java(from, "org.apache.kafka.tools.TopicCommand")
            .args([
                "--bootstrap-server",
                &self.bootstrap,
                "--describe",
                "--topic",
                TOPIC,
                "--under-replicated-partitions",
            ]));
        assert!(
            out.status.success(),
            "describe: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn wait_in_sync(&self, from: u32, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let under = self.under_replicated(from);
            if under.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "partition still under-replicated after {limit:?}: {under}"
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Write `BATCH` records with acks=all (idempotent producer) and return the acked values.
    /// Every record must be acked: that is "writes continue".
    pub fn write_batch(&self, from: u32, batch: u32) -> Vec<String> {
        let out = run(self
            .java(from, "org.apache.kafka.tools.VerifiableProducer")
            .args([
                "--topic",
                TOPIC,
                "--bootstrap-server",
                &self.bootstrap,
                "--max-messages",
                &BATCH.to_string(),
                "--throughput",
                "-1",
                "--acks",
                "-1",
                "--value-prefix",
                &batch.to_string(),
            ]));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut acked = Vec::new();
        let mut failed = Vec::new();
        for line in stdout.lines() {
            if line.contains("\"name\":\"producer_send_success\"") {
                acked.push(json_string(line, "value").expect("value in a success event"));
            } else if line.contains("\"name\":\"producer_send_error\"") {
                failed.push(line.to_string());
            }
        }
        assert!(
            out.status.success() && failed.is_empty() && acked.len() == BATCH,
            "batch {batch}: {} of {BATCH} acked, {} failed: {:?}\n{}",
            acked.len(),
            failed.len(),
            failed.first(),
            String::from_utf8_lossy(&out.stderr)
        );
        acked
    }

    /// Everything in the partition, read without a consumer group (no internal topic needed).
    pub fn read_all(&self, from: u32, expected: usize) -> Vec<String> {
        let class = self.kafka.consumer_class();
        let out = run(self.java(from, class).args([
            "--bootstrap-server",
            &self.bootstrap,
            "--topic",
            TOPIC,
            "--partition",
            "0",
            "--offset",
            "earliest",
            "--max-messages",
            &expected.to_string(),
            "--timeout-ms",
            "30000",
        ]));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The string value of `"key":"…"` in one line of the tool's JSON output.
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_string())
}

/// Count and an order-independent checksum (sum of FNV-1a 64 of each value).
pub fn digest(values: &[String]) -> (usize, u64) {
    let sum = values.iter().fold(0u64, |acc, v| {
        let h = v.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        acc.wrapping_add(h)
    });
    (values.len(), sum)
}

pub struct Acked(pub BTreeMap<u32, Vec<String>>);

impl Acked {
    pub fn all(&self) -> Vec<String> {
        self.0.values().flatten().cloned().collect()
    }
}
