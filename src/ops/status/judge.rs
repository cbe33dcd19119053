//! Judging for `kraftd status`: from what was collected, the problems (one sentence each) and
//! the health verdict; each role by its own truth. Pure: tests feed it statuses directly.

use super::*;
use crate::daemon::probe::FETCH_RECENT_MS;
use crate::kafka::responses::reference_time_ms;
use std::net::IpAddr;

/// What is wrong with controller `id` in the leader's `quorum` view: it must be a voter and, unless
/// it is the leader, the leader must have received a fetch from it within `FETCH_RECENT_MS` (by the
/// leader's own clock: ages are taken against the newest timestamp in the same answer).
pub fn controller_problems(id: i32, quorum: &QuorumInfo) -> Vec<String> {
    if quorum.leader_id < 0 || quorum.leader_id == id {
        return Vec::new();
    }
    let Some(me) = quorum.voters.iter().find(|v| v.id == id) else {
        let ids: Vec<i32> = quorum.voters.iter().map(|v| v.id).collect();
        return vec![format!(
            "node {id} is a controller in kraftd.toml, but the quorum's voters are {ids:?}"
        )];
    };
    let now = reference_time_ms(
        quorum
            .voters
            .iter()
            .chain(quorum.observers.iter())
            .map(|r| r.last_fetch_timestamp_ms),
    );
    match (me.last_fetch_timestamp_ms, now) {
        (Some(t), Some(now)) if now - t <= FETCH_RECENT_MS => Vec::new(),
        (Some(t), Some(now)) => vec![format!(
            "the quorum leader {} last received a fetch from node {id} {:.1}s ago (more than {}s)",
            quorum.leader_id,
            (now - t) as f64 / 1000.0,
            FETCH_RECENT_MS / 1000
        )],
        _ => vec![format!(
            "the quorum leader {} has not received a fetch from node {id}",
            quorum.leader_id
        )],
    }
}

/// Fill in `health` and `problems` from what was collected.
pub(super) fn judge(status: &mut NodeStatus, target: &StatusTarget) {
    let problems = &mut status.problems;
    if let (Some(id), Some(false)) = (status.node.id, status.node.registered) {
        problems.push(format!(
            "node {id} is not among the live brokers (fenced, still starting, or not registered)"
        ));
    }
    if let Some(cluster) = &status.cluster {
        // A config changed but not applied (or another node on this address): the cluster lists
        // this node at an endpoint kraftd.toml does not advertise.
        let own = status
            .node
            .id
            .and_then(|id| cluster.brokers.iter().find(|b| b.id == id));
        if let (Some(own), Some(configured)) = (own, &target.advertised_listeners) {
            let listed = format!("{}:{}", own.host, own.port);
            let matches = configured.iter().any(|l| {
                let endpoint = l.rsplit("://").next().unwrap_or(l);
                split_endpoint(endpoint)
                    .is_some_and(|(host, port)| same_host_port(host, port, &own.host, own.port))
            });
            if !matches {
                problems.push(format!(
                    "the cluster lists node {} at {listed}, but kraftd.toml advertises {}",
                    own.id,
                    configured.join(", ")
                ));
            }
        }
        if let (Some(expected), Some(actual)) = (&target.expected_cluster_id, &cluster.id)
            && expected != actual
        {
            problems.push(format!(
                "cluster id is {actual}, but kraftd.toml records {expected}"
            ));
        }
        if cluster.offline_partitions > 0 {
            problems.push(format!(
                "{} partition(s) have no leader (offline)",
                cluster.offline_partitions
            ));
        }
        if cluster.under_replicated_partitions > 0 {
            problems.push(format!(
                "{} partition(s) are under-replicated",
                cluster.under_replicated_partitions
            ));
        }
    }
    match (&status.quorum, &status.quorum_error) {
        (Some(q), _) if q.leader_id < 0 => {
            problems.push("the controller quorum has no leader".to_string())
        }
        (None, Some(e)) => problems.push(format!("controller quorum unknown: {e}")),
        _ => {}
    }
    if let Some((addr, Err(e))) = &status.controller_listener {
        problems.push(format!(
            "this node's controller listener {addr} does not answer: {e}"
        ));
    }
    let is_controller = target
        .roles
        .as_ref()
        .is_some_and(|r| r.iter().any(|r| r == "controller"));
    if let (true, Some(id), Some(q)) = (is_controller, status.node.id, &status.quorum) {
        problems.extend(controller_problems(id, q));
    }
    status.health = if !status.node.reachable {
        Health::Unreachable
    } else if problems.is_empty() {
        Health::Healthy
    } else {
        Health::Degraded
    };
}

/// Whether a broker's advertised host:port is the endpoint we dialled.
pub(super) fn same_endpoint(
    dialled: &str,
    host: &str,
    port: i32,
    connected: std::net::SocketAddr,
) -> bool {
    if i32::from(connected.port()) != port {
        return false;
    }
    split_endpoint(dialled).is_some_and(|(h, p)| same_host_port(h, p, host, port))
        || same_host_port(&connected.ip().to_string(), port, host, port)
}

/// "host:port" → (host, port), IPv6 with or without brackets ("[::1]:9092", "::1:9092").
pub fn split_endpoint(endpoint: &str) -> Option<(&str, i32)> {
    let (host, port) = endpoint.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// The one endpoint comparison of `kraftd status`: the same port, and the same host compared as
/// an address when both sides are IP literals (`::1`, `[::1]` and `0:0:0:0:0:0:0:1` are one
/// host), else as a name, ignoring case and a trailing dot.
pub fn same_host_port(a_host: &str, a_port: i32, b_host: &str, b_port: i32) -> bool {
    if a_port != b_port {
        return false;
    }
    let bare = |h: &str| h.trim_start_matches('[').trim_end_matches(']').to_string();
    let (a, b) = (bare(a_host), bare(b_host));
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a
            .trim_end_matches('.')
            .eq_ignore_ascii_case(b.trim_end_matches('.')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::status::test_support::sample;

    #[test]
    fn judge_flags_a_stale_advertised_address_and_cluster_id() {
        let target = StatusTarget {
            bootstrap: "127.0.0.1:9092".into(),
            node_id: Some(1),
            roles: None,
            advertised_listeners: Some(vec!["PLAINTEXT://broker-1.example:9092".into()]),
            expected_cluster_id: Some("MkU3OEVBNTcwNTJENDM2Qg".into()),
            controller: None,
            voters: Vec::new(),
        };
        let mut status = sample(Health::Unreachable);
        status.problems.clear();
        judge(&mut status, &target);
        assert_eq!(status.health, Health::Healthy, "{:?}", status.problems);

        let mut status = sample(Health::Unreachable);
        status.problems.clear();
        status.cluster.as_mut().unwrap().brokers[0].port = 9094;
        status.cluster.as_mut().unwrap().id = Some("AAAAAAAAAAAAAAAAAAAAAB".into());
        judge(&mut status, &target);
        assert_eq!(status.health, Health::Degraded);
        let all = status.problems.join("\n");
        assert!(
            all.contains("lists node 1 at broker-1.example:9094"),
            "{all}"
        );
        assert!(all.contains("AAAAAAAAAAAAAAAAAAAAAB"), "{all}");
    }

    #[test]
    fn endpoints_compare_as_addresses() {
        assert!(same_host_port("::1", 9092, "[::1]", 9092));
        assert!(same_host_port("[0:0:0:0:0:0:0:1]", 9092, "::1", 9092));
        assert!(same_host_port(
            "Broker-1.Example.",
            9092,
            "broker-1.example",
            9092
        ));
        assert!(!same_host_port("::1", 9092, "[::1]", 9093));
        assert!(!same_host_port("::2", 9092, "::1", 9092));
        assert!(!same_host_port("127.0.0.1", 9092, "::1", 9092));
        assert_eq!(split_endpoint("[::1]:9092"), Some(("[::1]", 9092)));
        assert_eq!(split_endpoint("::1:9092"), Some(("::1", 9092)));
        assert_eq!(split_endpoint("host"), None);
    }

    #[test]
    fn an_ipv6_node_listed_without_brackets_is_healthy() {
        // Kafka lists `advertised.listeners=PLAINTEXT://[::1]:9092` as host "::1" in Metadata.
        let target = StatusTarget {
            bootstrap: "[::1]:9092".into(),
            node_id: Some(1),
            roles: Some(vec!["broker".into(), "controller".into()]),
            advertised_listeners: Some(vec!["PLAINTEXT://[::1]:9092".into()]),
            expected_cluster_id: None,
            controller: None,
            voters: Vec::new(),
        };
        let mut status = sample(Health::Unreachable);
        status.problems.clear();
        status.cluster.as_mut().unwrap().brokers[0].host = "::1".into();
        let quorum = status.quorum.as_mut().unwrap();
        quorum.voters[0].id = 1;
        // Before the fix this read "the cluster lists node 1 at ::1:9092, but kraftd.toml
        // advertises PLAINTEXT://[::1]:9092".
        judge(&mut status, &target);
        assert_eq!(status.health, Health::Healthy, "{:?}", status.problems);
    }

    fn replica(id: i32, fetch: Option<i64>) -> ReplicaInfo {
        ReplicaInfo {
            id,
            log_end_offset: 10,
            lag: Some(0),
            last_fetch_timestamp_ms: fetch,
            last_caught_up_timestamp_ms: fetch,
            endpoints: vec![],
        }
    }

    #[test]
    fn a_controller_needs_a_recent_fetch_by_the_leaders_clock() {
        // Leader 1's clock reads 1_000_000 (its own entry); timestamps are never compared with
        // this host's clock.
        let quorum = |fetch3: Option<i64>| QuorumInfo {
            leader_id: 1,
            leader_epoch: 3,
            high_watermark: 10,
            voters: vec![
                replica(1, Some(1_000_000)),
                replica(2, Some(999_800)),
                replica(3, fetch3),
            ],
            observers: vec![replica(4, Some(999_900))],
        };
        assert!(controller_problems(3, &quorum(Some(999_500))).is_empty());
        assert!(
            controller_problems(1, &quorum(None)).is_empty(),
            "the leader needs no fetch"
        );
        let stale = controller_problems(3, &quorum(Some(1_000_000 - FETCH_RECENT_MS - 1)));
        assert_eq!(
            stale,
            vec!["the quorum leader 1 last received a fetch from node 3 5.0s ago (more than 5s)"]
        );
        let never = controller_problems(3, &quorum(None));
        assert_eq!(
            never,
            vec!["the quorum leader 1 has not received a fetch from node 3"]
        );
        let absent = controller_problems(7, &quorum(Some(1)));
        assert!(absent[0].contains("voters are [1, 2, 3]"), "{absent:?}");
    }
}
