//! The cluster test's checks on running nodes: forming the quorum, `kraftd status` on every node, a
//! hung controller, and stopping everything in order.

use crate::net::TestNet;
use crate::node::*;
use crate::{BROKERS, CONTROLLERS};
use kraftd_test_support::{kraftd_bin, run};
use std::time::Duration;

/// Form the cluster: node 1 and the brokers first — with one voter of three there is no quorum, so
/// they must wait (STATUS says so) without failing — then the other two controllers.
pub fn form(net: &TestNet, nodes: &mut [Node]) {
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
            waiting.daemon.as_mut().unwrap().try_wait().is_none(),
            "node {n} gave up waiting:\n{}",
            waiting.tail()
        );
    }
    for n in [2, 3] {
        node(nodes, n).start(net);
    }
    wait_ready(nodes, &[1, 2, 3, 4, 5, 6], Duration::from_secs(240));
}

/// `kraftd status --config` of node `n`, run inside its namespace (as an operator on that host
/// would), waiting up to 60 s for healthy: (exit code, stdout, stderr).
fn node_status(net: &TestNet, n: &Node) -> (Option<i32>, String, String) {
    let mut cmd = net.exec(n.id, kraftd_bin());
    cmd.args(["status", "--config"]).arg(n.config());
    cmd.args(["--wait-healthy", "--timeout", "60"]);
    let out = run(&mut cmd);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kraftd status` on all six nodes: each healthy (exit 0) with its real roles; a controller-only
/// node is asked on its controller listener (no broker port dialled) and shows its membership.
pub fn status_on_every_node(net: &TestNet, nodes: &[Node]) {
    for n in nodes {
        let (code, out, err) = node_status(net, n);
        let addr = net.addr(n.id);
        let (roles, target) = if CONTROLLERS.contains(&n.id) {
            ("controller", format!("{addr}:9093"))
        } else {
            ("broker", format!("{addr}:9092"))
        };
        let header = format!("HEALTHY: node {} ({roles}) at {target}", n.id);
        assert_eq!(code, Some(0), "status of node {}:\n{out}\n{err}", n.id);
        assert_eq!(
            out.lines().next(),
            Some(header.as_str()),
            "node {}:\n{out}",
            n.id
        );
        if CONTROLLERS.contains(&n.id) {
            assert!(
                !out.contains(":9092"),
                "a controller-only status dials no broker:\n{out}"
            );
            assert!(out.contains(&format!("{target} answers")), "{out}");
            assert!(out.contains("membership    voter,"), "{out}");
            assert!(out.contains("registered    n/a (controller-only"), "{out}");
            let mut smoke = net.exec(n.id, kraftd_bin());
            smoke.args(["smoke-test", "--config"]).arg(n.config());
            let smoke = run(&mut smoke);
            let err = String::from_utf8_lossy(&smoke.stderr);
            assert_eq!(
                smoke.status.code(),
                Some(2),
                "smoke-test on controller {}: {err}",
                n.id
            );
            assert!(
                err.contains("controller-only node")
                    && err.contains("--bootstrap BROKER_HOST:9092"),
                "{err}"
            );
        } else {
            assert!(out.contains("registered    yes (unfenced)"), "{out}");
            assert!(out.contains("brokers       3: "), "{out}");
        }
        eprintln!(
            "status of node {}: {}",
            n.id,
            out.lines().next().unwrap_or("")
        );
    }
}

fn watchdog_pings(n: &Node) -> usize {
    n.notify
        .notify_lines()
        .iter()
        .filter(|l| *l == "WATCHDOG=1")
        .count()
}

/// A non-leader controller's JVM is SIGSTOPped: the leader still lists it (with its old offsets),
/// but its own controller listener no longer answers, so its kraftd stops pinging the watchdog
/// (read from its notify socket) and `kraftd status` calls it unreachable; after SIGCONT the pings
/// resume. WATCHDOG_USEC is 15 s, so kraftd probes every 5 s.
pub fn hung_controller_stops_watchdog_pings(net: &TestNet, nodes: &mut [Node], leader: u32) {
    let id = *CONTROLLERS.iter().find(|&&c| c != leader).unwrap();
    let n = node(nodes, id);
    assert!(
        n.notify
            .wait_until(Duration::from_secs(30), |_| watchdog_pings(n) >= 2),
        "controller {id} never pinged the watchdog: {:?}",
        n.notify.notify_lines()
    );
    let jvm = n.jvm_pid();
    unsafe { libc::kill(jvm, libc::SIGSTOP) };
    // A probe already past its DescribeQuorum may still ping once; wait until it failed.
    let said = n.notify.wait_until(Duration::from_secs(30), |_| {
        n.notify
            .notify_lines()
            .iter()
            .any(|l| l.starts_with("STATUS=not answering on"))
    });
    let before = watchdog_pings(n);
    assert!(
        said,
        "controller {id} never reported the hang: {:?}\n{}",
        n.statuses(),
        n.tail()
    );
    // Three probe periods without a single ping.
    std::thread::sleep(Duration::from_secs(16));
    let after = watchdog_pings(n);
    let hung_status = n.statuses().last().cloned().unwrap_or_default();
    let mut cmd = net.exec(id, kraftd_bin());
    cmd.args(["status", "--config"]).arg(n.config());
    let out = run(&mut cmd);
    unsafe { libc::kill(jvm, libc::SIGCONT) };
    assert_eq!(
        after, before,
        "a hung controller kept pinging: {hung_status}"
    );
    assert!(
        hung_status.contains("does not answer on its controller listener"),
        "{hung_status}"
    );
    assert!(
        n.tail().contains("failed the watchdog probe"),
        "{}",
        n.tail()
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "status of a hung controller: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("UNREACHABLE: node"));
    let resumed = n
        .notify
        .wait_until(Duration::from_secs(60), |_| watchdog_pings(n) > after);
    assert!(
        resumed,
        "pings did not resume after SIGCONT: {:?}\n{}",
        n.statuses(),
        n.tail()
    );
    eprintln!(
        "controller {id}: {before} pings before SIGSTOP, none while stopped, resumed after SIGCONT"
    );
}

/// Brokers first (their controlled shutdown needs the quorum), then the controllers.
pub fn stop_all(nodes: &mut [Node]) {
    for id in BROKERS.iter().chain(CONTROLLERS.iter()) {
        let n = node(nodes, *id);
        if n.daemon.is_some() {
            let status = n.stop();
            assert!(status.success(), "node {id} final stop: {status}");
        }
    }
}
