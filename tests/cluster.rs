//! Multi-node clusters for real: three controllers and three brokers, each in its own network
//! namespace behind a bridge, each installed by `kraft-install` and run by its own `kraftd run`
//! (READY read from its notify socket), with acked writes checked against what is read back
//! through controller and broker failures.
//!
//! Needs root (ip netns) and the Kafka fixtures (`scripts/kafka-dist.sh 4.1.1 3.7.1`), and the
//! kraft-install binary next to kraftd (`cargo build --workspace`, as scripts/test.sh does).

mod common;

use common::{DatagramCollector, children_of, dist_home, process_alive};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Six JVMs at once: never two cluster tests side by side.
static CLUSTER_LOCK: Mutex<()> = Mutex::new(());

const CONTROLLERS: [u32; 3] = [1, 2, 3];
const BROKERS: [u32; 3] = [4, 5, 6];
const TOPIC: &str = "acked";
/// Records per write batch.
const BATCH: usize = 200;

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn ip(args: &[&str]) {
    let out = run(Command::new("ip").args(args));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Network namespaces `kraftd-t-<pid>-<n>` for the nodes and `kraftd-t-<pid>-br` holding the bridge,
/// addresses 10.250.<x>.<n>/24 that exist only inside them. Deleted on drop.
struct TestNet {
    names: Vec<String>,
    subnet: u8,
    bridge_ns: String,
}

impl TestNet {
    fn create(nodes: u32) -> TestNet {
        let pid = std::process::id();
        // A per-run /24 so two runs (or a leftover) never share addresses.
        let subnet = (pid % 200 + 20) as u8;
        let bridge_ns = format!("kraftd-t-{pid}-br");
        let mut net = TestNet {
            names: Vec::new(),
            subnet,
            bridge_ns: bridge_ns.clone(),
        };
        ip(&["netns", "add", &bridge_ns]);
        ip(&["-n", &bridge_ns, "link", "set", "lo", "up"]);
        ip(&["-n", &bridge_ns, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &bridge_ns, "link", "set", "br0", "up"]);
        for n in 1..=nodes {
            let ns = format!("kraftd-t-{pid}-{n}");
            ip(&["netns", "add", &ns]);
            net.names.push(ns.clone());
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            let port = format!("v{n}");
            ip(&[
                "-n", &bridge_ns, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", &ns,
            ]);
            ip(&[
                "-n", &bridge_ns, "link", "set", &port, "master", "br0", "up",
            ]);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", net.addr(n)),
                "dev",
                "eth0",
            ]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        net
    }

    fn ns(&self, n: u32) -> &str {
        &self.names[n as usize - 1]
    }

    fn addr(&self, n: u32) -> String {
        format!("10.250.{}.{n}", self.subnet)
    }

    /// `ip netns exec <ns of n> <program>`.
    fn exec(&self, n: u32, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", self.ns(n)]).arg(program);
        c
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        for ns in self.names.iter().chain([&self.bridge_ns]) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn kraft_install_bin() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_kraftd")).with_file_name("kraft-install");
    assert!(
        bin.is_file(),
        "{} is missing: build the workspace first (`cargo build --workspace`, as scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// One node: its install prefix, notify socket and (while running) its `kraftd run`.
struct Node {
    id: u32,
    prefix: PathBuf,
    notify: DatagramCollector,
    daemon: Option<Child>,
    output: Arc<Mutex<String>>,
}

impl Node {
    fn config(&self) -> PathBuf {
        self.prefix.join("etc/kafka/kraftd.toml")
    }

    /// Start `kraftd run` inside the node's namespace with a fresh notify socket.
    fn start(&mut self, net: &TestNet) {
        assert!(self.daemon.is_none(), "node {} already runs", self.id);
        self.notify = DatagramCollector::bind("notify");
        let mut cmd = net.exec(self.id, env!("CARGO_BIN_EXE_kraftd"));
        cmd.args(["run", "--config"]).arg(self.config());
        for var in [
            "NOTIFY_SOCKET",
            "WATCHDOG_USEC",
            "WATCHDOG_PID",
            "KRAFTD_JOURNAL_SOCKET",
            "JOURNAL_STREAM",
        ] {
            cmd.env_remove(var);
        }
        // A watchdog period makes kraftd re-probe every 5 s, keeping STATUS (leader, lag) current.
        cmd.env("NOTIFY_SOCKET", &self.notify.path)
            .env("WATCHDOG_USEC", "15000000");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn kraftd");
        let id = self.id;
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = self.output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if std::env::var_os("KRAFTD_TEST_VERBOSE").is_some() {
                        eprintln!("  n{id} | {line}");
                    }
                    let mut o = output.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        self.daemon = Some(child);
    }

    fn statuses(&self) -> Vec<String> {
        self.notify
            .notify_lines()
            .into_iter()
            .filter_map(|l| l.strip_prefix("STATUS=").map(str::to_string))
            .collect()
    }

    fn is_ready(&self) -> bool {
        self.notify.notify_lines().iter().any(|l| l == "READY=1")
    }

    fn tail(&self) -> String {
        let o = self.output.lock().unwrap();
        let lines: Vec<&str> = o.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    fn kraftd_pid(&self) -> i32 {
        self.daemon.as_ref().expect("running").id() as i32
    }

    /// The Kafka JVM under this node's kraftd.
    fn jvm_pid(&self) -> i32 {
        let pid = self.kraftd_pid();
        children_of(pid)
            .into_iter()
            .find(|&p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .map(|c| c.split(|&b| b == 0).any(|a| a == b"kafka.Kafka"))
                    .unwrap_or(false)
            })
            .unwrap_or_else(|| {
                panic!(
                    "node {} has no Kafka JVM; kraftd said:\n{}",
                    self.id,
                    self.tail()
                )
            })
    }

    /// SIGTERM to kraftd (as systemd's stop does) and wait for it to exit.
    fn stop(&mut self) -> ExitStatus {
        unsafe { libc::kill(self.kraftd_pid(), libc::SIGTERM) };
        self.wait_exit(Duration::from_secs(150))
    }

    fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = self.daemon.as_mut().expect("running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
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

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let jvms = children_of(child.id() as i32);
            let _ = child.kill();
            let _ = child.wait();
            for pid in jvms {
                if process_alive(pid) {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
    }
}

/// Wait until every node in `ids` has sent READY=1; a node whose kraftd exits fails the test.
fn wait_ready(nodes: &mut [Node], ids: &[u32], limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let mut waiting = Vec::new();
        for node in nodes.iter_mut().filter(|n| ids.contains(&n.id)) {
            if let Some(status) = node.daemon.as_mut().and_then(|c| c.try_wait().unwrap()) {
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

/// The Kafka tools, run inside a broker's namespace with a small heap.
struct Tools<'a> {
    net: &'a TestNet,
    dist: PathBuf,
    v4: bool,
    bootstrap: String,
}

impl Tools<'_> {
    fn java(&self, from: u32, class: &str) -> Command {
        let mut c = self.net.exec(from, "java");
        // Short-lived tools on a busy 2-core box: C1 only and the serial collector start fastest.
        c.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"])
            .arg("-Xmx256m")
            .arg("-cp")
            .arg(format!("{}/libs/*", self.dist.display()))
            .arg(class);
        c.stdin(Stdio::null());
        c
    }

    fn create_topic(&self, from: u32) {
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

    fn wait_in_sync(&self, from: u32, limit: Duration) {
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
    fn write_batch(&self, from: u32, batch: u32) -> Vec<String> {
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
    fn read_all(&self, from: u32, expected: usize) -> Vec<String> {
        let class = if self.v4 {
            "org.apache.kafka.tools.consumer.ConsoleConsumer"
        } else {
            "kafka.tools.ConsoleConsumer"
        };
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
fn digest(values: &[String]) -> (usize, u64) {
    let sum = values.iter().fold(0u64, |acc, v| {
        let h = v.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        acc.wrapping_add(h)
    });
    (values.len(), sum)
}

/// Install all six nodes: node 1 founds the cluster (its id is read from its summary), the others
/// join with that id.
fn install_cluster(net: &TestNet, root: &Path, version: &str) -> Vec<Node> {
    let dist = dist_home(version);
    let installer = kraft_install_bin();
    let voters: Vec<String> = CONTROLLERS
        .iter()
        .map(|&n| format!("{n}@{}:9093", net.addr(n)))
        .collect();
    let voters = voters.join(",");
    let install = |n: u32, cluster_id: Option<&str>| -> Output {
        let role = if CONTROLLERS.contains(&n) {
            "controller"
        } else {
            "broker"
        };
        let prefix = root.join(format!("n{n}"));
        // Six brokers starting at once on 2 cores: C1-only JIT halves the startup CPU. A pre-placed
        // kraftd.toml, as an admin's would be, which kraft-install keeps and completes.
        let etc = prefix.join("etc/kafka");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("kraftd.toml"),
            "[java]\nopts = [\"-XX:TieredStopAtLevel=1\"]\n",
        )
        .unwrap();
        let mut cmd = net.exec(n, &installer);
        cmd.arg("--prefix").arg(&prefix).arg("--dist").arg(&dist);
        cmd.args([
            "--no-systemd",
            "--advertise",
            &net.addr(n),
            "--node-id",
            &n.to_string(),
            "--role",
            role,
        ]);
        cmd.args([
            "--controllers",
            &voters,
            "--heap",
            if role == "broker" { "384M" } else { "256M" },
        ]);
        if let Some(id) = cluster_id {
            cmd.arg(format!("--cluster-id={id}"));
        }
        let out = run(&mut cmd);
        assert!(
            out.status.success(),
            "install of node {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let first = install(1, None);
    let summary = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        summary.contains("other nodes of this cluster: install each with"),
        "{summary}"
    );
    let cluster_id = summary
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id "))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no cluster.id in the summary:\n{summary}"));
    assert!(
        summary.contains(&format!("--cluster-id={cluster_id}")),
        "join command lacks the id:\n{summary}"
    );
    std::thread::scope(|scope| {
        for n in 2..=6u32 {
            let install = &install;
            let cluster_id = &cluster_id;
            scope.spawn(move || install(n, Some(cluster_id)));
        }
    });
    (1..=6u32)
        .map(|n| Node {
            id: n,
            prefix: root.join(format!("n{n}")),
            notify: DatagramCollector::bind("notify"),
            daemon: None,
            output: Arc::new(Mutex::new(String::new())),
        })
        .collect()
}

/// A broker joining with another cluster's id is refused before anything is written: kraft-install
/// asks the running controllers (DescribeCluster) which cluster they are.
fn wrong_cluster_id_join_is_refused(net: &TestNet, root: &Path, version: &str) {
    let voters: Vec<String> = CONTROLLERS
        .iter()
        .map(|&n| format!("{n}@{}:9093", net.addr(n)))
        .collect();
    let prefix = root.join("n7");
    let wrong = "MkU3OEVBNTcwNTJENDM2Qg";
    let mut cmd = net.exec(6, kraft_install_bin());
    cmd.arg("--prefix")
        .arg(&prefix)
        .arg("--dist")
        .arg(dist_home(version));
    cmd.args([
        "--no-systemd",
        "--advertise",
        &net.addr(6),
        "--node-id",
        "7",
        "--role",
        "broker",
    ]);
    cmd.args([
        "--controllers",
        &voters.join(","),
        &format!("--cluster-id={wrong}"),
    ]);
    let out = run(&mut cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(65),
        "a join with another cluster's id must be refused: {err}"
    );
    assert!(err.contains(wrong) && err.contains("controller"), "{err}");
    assert!(
        !prefix.exists(),
        "the refused join created {}",
        prefix.display()
    );
}

fn node(nodes: &mut [Node], id: u32) -> &mut Node {
    nodes.iter_mut().find(|n| n.id == id).unwrap()
}

/// The leader named in a controller's latest STATUS ("controller on …: leader N (epoch …)").
fn leader_from_status(nodes: &[Node]) -> Option<u32> {
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
fn voter_lags(status: &str) -> Option<Vec<(u32, Option<u64>)>> {
    let list = status.split("voter lag ").nth(1)?;
    list.split(", ")
        .map(|entry| {
            let (id, lag) = entry.trim().split_once(':')?;
            Some((id.parse().ok()?, lag.parse().ok()))
        })
        .collect()
}

struct Acked(BTreeMap<u32, Vec<String>>);

impl Acked {
    fn all(&self) -> Vec<String> {
        self.0.values().flatten().cloned().collect()
    }
}

/// Form the cluster: node 1 and the brokers first — with one voter of three there is no quorum, so
/// they must wait (STATUS says so) without failing — then the other two controllers.
fn form(net: &TestNet, nodes: &mut [Node]) {
    for n in [1, 4, 5, 6] {
        node(nodes, n).start(net);
    }
    let says_waiting = |n: &Node, text: &str| {
        n.notify.wait_until(Duration::from_secs(120), |d| {
            d.iter().any(|x| String::from_utf8_lossy(x).contains(text))
        })
    };
    let first = node(nodes, 1);
    assert!(
        says_waiting(first, "STATUS=waiting for quorum 1/3"),
        "node 1 never said it waits: {:?}\n{}",
        first.statuses(),
        first.tail()
    );
    let broker = node(nodes, 4);
    assert!(
        says_waiting(broker, "STATUS=waiting for quorum 1/3"),
        "broker 4 never said it waits: {:?}\n{}",
        broker.statuses(),
        broker.tail()
    );
    std::thread::sleep(Duration::from_secs(2));
    for n in [1, 4] {
        let waiting = node(nodes, n);
        assert!(!waiting.is_ready(), "node {n} is READY without a quorum");
        assert!(
            waiting
                .daemon
                .as_mut()
                .unwrap()
                .try_wait()
                .unwrap()
                .is_none(),
            "node {n} gave up waiting:\n{}",
            waiting.tail()
        );
    }
    for n in [2, 3] {
        node(nodes, n).start(net);
    }
    wait_ready(nodes, &[1, 2, 3, 4, 5, 6], Duration::from_secs(240));
}

#[test]
fn six_nodes_4_1_survive_controller_and_broker_loss_without_losing_acked_writes() {
    let _serial = CLUSTER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let version = "4.1.1";
    let tmp = tempfile::Builder::new()
        .prefix("kraftd-cluster-")
        .tempdir()
        .unwrap();
    let net = TestNet::create(6);
    let mut nodes = install_cluster(&net, tmp.path(), version);
    let props = std::fs::read_to_string(tmp.path().join("n2/etc/kafka/server.properties")).unwrap();
    assert!(
        props.lines().any(|l| l == "process.roles=controller"),
        "{props}"
    );
    form(&net, &mut nodes);
    eprintln!("cluster formed after {:?}", started.elapsed());
    wrong_cluster_id_join_is_refused(&net, tmp.path(), version);

    // Controllers report the leader and every voter's lag.
    let leader = leader_from_status(&nodes).expect("a controller STATUS names the leader");
    assert!(CONTROLLERS.contains(&leader), "leader {leader}");
    let status = nodes[0].statuses().last().cloned().unwrap();
    assert!(
        status.contains("voter lag 1:") && status.contains("2:") && status.contains("3:"),
        "{status}"
    );

    let tools = Tools {
        net: &net,
        dist: dist_home(version),
        v4: true,
        bootstrap: BROKERS
            .iter()
            .map(|&n| format!("{}:9092", net.addr(n)))
            .collect::<Vec<_>>()
            .join(","),
    };
    let mut acked = Acked(BTreeMap::new());
    tools.create_topic(4);
    tools.wait_in_sync(4, Duration::from_secs(60));
    acked.0.insert(1, tools.write_batch(4, 1));

    // The quorum leader stops (SIGTERM): a new leader is elected, writes go on; it rejoins.
    let status = node(&mut nodes, leader).stop();
    assert!(status.success(), "controller {leader} stop: {status}");
    acked.0.insert(2, tools.write_batch(4, 2));
    node(&mut nodes, leader).start(&net);
    wait_ready(&mut nodes, &[leader], Duration::from_secs(120));

    // A broker stops cleanly: writes go on; it restarts and catches up.
    let status = node(&mut nodes, 5).stop();
    assert!(status.success(), "broker 5 stop: {status}");
    acked.0.insert(3, tools.write_batch(4, 3));
    node(&mut nodes, 5).start(&net);
    wait_ready(&mut nodes, &[5], Duration::from_secs(120));
    tools.wait_in_sync(4, Duration::from_secs(90));

    // A broker's JVM is killed -9: kraftd reports the crash, writes go on (from another broker's
    // namespace); restarted, the node recovers its log and rejoins.
    let victim = node(&mut nodes, 6);
    let jvm = victim.jvm_pid();
    unsafe { libc::kill(jvm, libc::SIGKILL) };
    let status = victim.wait_exit(Duration::from_secs(60));
    assert!(
        !status.success(),
        "kraftd must report a killed JVM as a failure"
    );
    acked.0.insert(4, tools.write_batch(5, 4));
    node(&mut nodes, 6).start(&net);
    wait_ready(&mut nodes, &[6], Duration::from_secs(120));
    tools.wait_in_sync(4, Duration::from_secs(90));
    acked.0.insert(5, tools.write_batch(6, 5));
    eprintln!("failures done after {:?}", started.elapsed());

    // Rolling restart, one node at a time, each READY before the next.
    if std::env::var_os("KRAFTD_TEST_SKIP_ROLLING").is_none() {
        for n in 1..=6u32 {
            let status = node(&mut nodes, n).stop();
            assert!(
                status.success(),
                "node {n} stop during the rolling restart: {status}"
            );
            node(&mut nodes, n).start(&net);
            wait_ready(&mut nodes, &[n], Duration::from_secs(120));
            if BROKERS.contains(&n) {
                tools.wait_in_sync(if n == 4 { 5 } else { 4 }, Duration::from_secs(90));
            }
        }
        acked.0.insert(6, tools.write_batch(4, 6));
        eprintln!("rolling restart done after {:?}", started.elapsed());
    }

    // Zero acked records lost: what is read back is exactly what was acked.
    let all = acked.all();
    let read = tools.read_all(5, all.len());
    let mut want = all.clone();
    let mut got = read.clone();
    want.sort();
    got.sort();
    assert_eq!(
        digest(&all),
        digest(&read),
        "acked (count, checksum) != consumed"
    );
    assert_eq!(want, got);
    eprintln!(
        "{} acked records all read back; test took {:?}",
        all.len(),
        started.elapsed()
    );

    // Every controller's STATUS (re-probed every 5 s) comes to show all three voters caught up.
    for id in CONTROLLERS {
        let n = node(&mut nodes, id);
        let caught_up = |statuses: &[String]| {
            statuses
                .last()
                .and_then(|s| voter_lags(s))
                .is_some_and(|lags| {
                    lags.len() == 3 && lags.iter().all(|(_, lag)| lag.is_some_and(|l| l < 100))
                })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !caught_up(&n.statuses()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
        }
        assert!(
            caught_up(&n.statuses()),
            "controller {id} STATUS: {:?}",
            n.statuses().last()
        );
    }

    stop_all(&mut nodes);
}

/// Brokers first (their controlled shutdown needs the quorum), then the controllers.
fn stop_all(nodes: &mut [Node]) {
    for id in BROKERS.iter().chain(CONTROLLERS.iter()) {
        let n = node(nodes, *id);
        if n.daemon.is_some() {
            let status = n.stop();
            assert!(status.success(), "node {id} final stop: {status}");
        }
    }
}

#[test]
fn six_nodes_3_7_form_write_lose_a_controller_and_a_broker_and_read_everything() {
    let _serial = CLUSTER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let version = "3.7.1";
    let tmp = tempfile::Builder::new()
        .prefix("kraftd-cluster-")
        .tempdir()
        .unwrap();
    let net = TestNet::create(6);
    let mut nodes = install_cluster(&net, tmp.path(), version);
    // 3.7 rules: a controller-only node advertises nothing, brokers advertise only PLAINTEXT.
    let controller =
        std::fs::read_to_string(tmp.path().join("n1/etc/kafka/server.properties")).unwrap();
    assert!(!controller.contains("advertised.listeners"), "{controller}");
    let broker =
        std::fs::read_to_string(tmp.path().join("n4/etc/kafka/server.properties")).unwrap();
    assert!(
        broker
            .lines()
            .any(|l| l == format!("advertised.listeners=PLAINTEXT://{}:9092", net.addr(4))),
        "{broker}"
    );
    form(&net, &mut nodes);
    eprintln!("3.7.1 cluster formed after {:?}", started.elapsed());
    wrong_cluster_id_join_is_refused(&net, tmp.path(), version);

    let tools = Tools {
        net: &net,
        dist: dist_home(version),
        v4: false,
        bootstrap: BROKERS
            .iter()
            .map(|&n| format!("{}:9092", net.addr(n)))
            .collect::<Vec<_>>()
            .join(","),
    };
    let mut acked = Acked(BTreeMap::new());
    tools.create_topic(4);
    tools.wait_in_sync(4, Duration::from_secs(60));
    acked.0.insert(1, tools.write_batch(4, 1));
    // The quorum leader stops: 3.7's static quorum elects another, writes go on.
    let leader = leader_from_status(&nodes).expect("a controller STATUS names the leader");
    let status = node(&mut nodes, leader).stop();
    assert!(status.success(), "controller {leader} stop: {status}");
    acked.0.insert(2, tools.write_batch(4, 2));
    let status = node(&mut nodes, 6).stop();
    assert!(status.success(), "broker 6 stop: {status}");
    acked.0.insert(3, tools.write_batch(4, 3));
    let all = acked.all();
    let read = tools.read_all(5, all.len());
    assert_eq!(
        digest(&all),
        digest(&read),
        "acked (count, checksum) != consumed"
    );
    eprintln!(
        "3.7.1: {} acked records read back; test took {:?}",
        all.len(),
        started.elapsed()
    );
    stop_all(&mut nodes);
}
