//! Multi-node clusters for real: three controllers and three brokers, each in its own network
//! namespace behind a bridge, each installed by `kraft-install` and run by its own `kraftd run`
//! (READY read from its notify socket), with acked writes checked against what is read back
//! through controller and broker failures. One test binary (`cluster`) in several files.
//!
//! Needs root (ip netns) and the Kafka fixtures (`scripts/kafka-dist.sh 4.1.1 3.7.1`), and the
//! kraft-install binary next to kraftd (`cargo test --workspace` builds both, as scripts/test.sh does).

mod checks;
mod install;
mod net;
mod node;
mod tools;

use checks::*;
use install::*;
use kraftd_test_support::serial;
use net::TestNet;
use node::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tools::*;

pub const CONTROLLERS: [u32; 3] = [1, 2, 3];
pub const BROKERS: [u32; 3] = [4, 5, 6];

#[test]
fn six_nodes_4_1_survive_controller_and_broker_loss_without_losing_acked_writes() {
    // Six JVMs at once: never two cluster tests side by side.
    let _serial = serial();
    let started = Instant::now();
    let version = "4.1.1";
    let tmp = tempfile::Builder::new()
        .prefix("kraftd-cluster-")
        .tempdir()
        .unwrap();
    let net = TestNet::create(6);
    let mut nodes = install_cluster(&net, tmp.path(), version);
    let props =
        std::fs::read_to_string(tmp.path().join("n2/var/lib/kraftd/server.properties")).unwrap();
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

    let tools = Tools::new(&net, version);
    let mut acked = Acked(BTreeMap::new());
    tools.create_topic(4);
    tools.wait_in_sync(4, Duration::from_secs(60));
    acked.0.insert(1, tools.write_batch(4, 1));
    status_on_every_node(&net, &nodes);
    hung_controller_stops_watchdog_pings(&net, &mut nodes, leader);

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

#[test]
fn six_nodes_3_7_form_write_lose_a_controller_and_a_broker_and_read_everything() {
    // Six JVMs at once: never two cluster tests side by side.
    let _serial = serial();
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
        std::fs::read_to_string(tmp.path().join("n1/var/lib/kraftd/server.properties")).unwrap();
    assert!(!controller.contains("advertised.listeners"), "{controller}");
    let broker =
        std::fs::read_to_string(tmp.path().join("n4/var/lib/kraftd/server.properties")).unwrap();
    assert!(
        broker
            .lines()
            .any(|l| l == format!("advertised.listeners=PLAINTEXT://{}:9092", net.addr(4))),
        "{broker}"
    );
    form(&net, &mut nodes);
    eprintln!("3.7.1 cluster formed after {:?}", started.elapsed());
    wrong_cluster_id_join_is_refused(&net, tmp.path(), version);

    let tools = Tools::new(&net, version);
    let mut acked = Acked(BTreeMap::new());
    tools.create_topic(4);
    tools.wait_in_sync(4, Duration::from_secs(60));
    acked.0.insert(1, tools.write_batch(4, 1));
    status_on_every_node(&net, &nodes);
    let leader = leader_from_status(&nodes).expect("a controller STATUS names the leader");
    hung_controller_stops_watchdog_pings(&net, &mut nodes, leader);
    // The quorum leader stops: 3.7's static quorum elects another, writes go on.
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
