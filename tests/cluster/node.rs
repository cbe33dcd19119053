//! One cluster node: its install prefix, its notify socket and (while running) its `kraftd run`
//! inside its namespace; waiting for READY and reading its STATUS lines.

use crate::CONTROLLERS;
use crate::net::TestNet;
use kraftd_test_support::{DatagramCollector, Echo, Kraftd, RunEnv, kafka_jvm_child, kraftd_bin};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One node: its install prefix, notify socket and (while running) its `kraftd run`.
pub struct Node {
    pub id: u32,
    pub prefix: PathBuf,
    pub notify: DatagramCollector,
    pub daemon: Option<Kraftd>,
    /// Everything its kraftd runs said, across restarts.
    output: Arc<Mutex<String>>,
}

impl Node {
    pub fn new(id: u32, prefix: PathBuf) -> Node {
        Node {
            id,
            prefix,
            notify: DatagramCollector::bind("notify"),
            daemon: None,
            output: Arc::default(),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.prefix.join("etc/kafka/kraftd.toml")
    }

    /// Start `kraftd run` inside the node's namespace with a fresh notify socket.
    pub fn start(&mut self, net: &TestNet) {
        assert!(self.daemon.is_none(), "node {} already runs", self.id);
        self.notify = DatagramCollector::bind("notify");
        let mut cmd = net.exec(self.id, kraftd_bin());
        cmd.args(["run", "--config"]).arg(self.config());
        // A watchdog period makes kraftd re-probe every 5 s, keeping STATUS (leader, lag) current.
        let env = RunEnv {
            notify_socket: Some(&self.notify.path),
            watchdog_usec: Some(15_000_000),
            journal_socket: None,
        };
        let echo = Echo::WhenVerbose(format!("  n{}", self.id));
        self.daemon = Some(Kraftd::spawn(cmd, &env, echo, self.output.clone()));
    }

    pub fn statuses(&self) -> Vec<String> {
        self.notify.statuses()
    }

    pub fn is_ready(&self) -> bool {
        self.notify.is_ready()
    }

    pub fn tail(&self) -> String {
        let o = self.output.lock().unwrap();
        let lines: Vec<&str> = o.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub fn kraftd_pid(&self) -> i32 {
        self.daemon.as_ref().expect("running").pid()
    }

    /// The Kafka JVM under this node's kraftd.
    pub fn jvm_pid(&self) -> i32 {
        kafka_jvm_child(self.kraftd_pid()).unwrap_or_else(|| {
            panic!(
                "node {} has no Kafka JVM; kraftd said:\n{}",
                self.id,
                self.tail()
            )
        })
    }

    /// SIGTERM to kraftd (as systemd's stop does) and wait for it to exit.
    pub fn stop(&mut self) -> ExitStatus {
        unsafe { libc::kill(self.kraftd_pid(), libc::SIGTERM) };
        self.wait_exit(Duration::from_secs(150))
    }

    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            let daemon = self.daemon.as_mut().expect("running");
            if let Some(status) = daemon.try_wait() {
                self.daemon = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not exit within {limit:?}:\n{}",
                self.id,
                self.tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Wait until every node in `ids` has sent READY=1; a node whose kraftd exits fails the test.
pub fn wait_ready(nodes: &mut [Node], ids: &[u32], limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let mut waiting = Vec::new();
        for node in nodes.iter_mut().filter(|n| ids.contains(&n.id)) {
            if let Some(status) = node.daemon.as_mut().and_then(|c| c.try_wait()) {
                panic!(
                    "node {} exited ({status}) before READY:\n{}",
                    node.id,
                    node.tail()
                );
            }
            if !node.is_ready() {
                waiting.push(node.id);
            }
        }
        if waiting.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            let detail: Vec<String> = nodes
                .iter()
                .filter(|n| waiting.contains(&n.id))
                .map(|n| format!("node {}: statuses {:?}\n{}", n.id, n.statuses(), n.tail()))
                .collect();
            panic!(
                "nodes {waiting:?} not READY within {limit:?}:\n{}",
                detail.join("\n\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn node(nodes: &mut [Node], id: u32) -> &mut Node {
    nodes.iter_mut().find(|n| n.id == id).unwrap()
}

/// The leader named in a controller's latest STATUS ("controller on …: leader N (epoch …)").
pub fn leader_from_status(nodes: &[Node]) -> Option<u32> {
    nodes
        .iter()
        .filter(|n| CONTROLLERS.contains(&n.id))
        .find_map(|n| {
            n.statuses().iter().rev().find_map(|s| {
                let rest = s.split(": leader ").nth(1)?;
                rest.split(' ').next()?.parse().ok()
            })
        })
}

/// The voter lags in a controller STATUS ("… voter lag 1:0, 2:3, 3:?").
pub fn voter_lags(status: &str) -> Option<Vec<(u32, Option<u64>)>> {
    let list = status.split("voter lag ").nth(1)?;
    list.split(", ")
        .map(|entry| {
            let (id, lag) = entry.trim().split_once(':')?;
            Some((id.parse().ok()?, lag.parse().ok()))
        })
        .collect()
}
