//! Gathering for `kraftd status`: ask the node (and for a controller-only node the voters) over
//! the Kafka protocol and fill a `NodeStatus`; `judge` then decides.

use super::judge::{judge, same_endpoint};
use super::*;
use crate::kafka::responses::{self, Replica};
use crate::kafka::{ClientError, KafkaClient, Timeouts, requests};
use anyhow::{Result, anyhow};
use kafka_protocol::messages::MetadataResponse;
use std::time::Instant;

/// Ask `target` once, every network step ending by `deadline` when given. Never fails: an
/// unreachable node is a status too.
pub fn collect(target: &StatusTarget, timeouts: Timeouts, deadline: Option<Instant>) -> NodeStatus {
    let mut status = NodeStatus {
        schema_version: STATUS_SCHEMA_VERSION,
        target: target.bootstrap.clone(),
        health: Health::Unreachable,
        problems: Vec::new(),
        node: NodeInfo {
            id: target.node_id,
            roles: target.roles.clone().unwrap_or_default(),
            advertised_listeners: target.advertised_listeners.clone().unwrap_or_default(),
            reachable: false,
            registered: None,
            error: None,
        },
        cluster: None,
        quorum: None,
        quorum_error: None,
        controller_listener: None,
    };
    if target.is_controller_only() {
        return collect_controller(status, target, timeouts, deadline);
    }
    let unreachable = |mut status: NodeStatus, reason: String| {
        status.problems.push(format!(
            "the broker at {} is not reachable: {reason}",
            target.bootstrap
        ));
        status.node.error = Some(reason);
        status
    };
    let mut client = match KafkaClient::connect_until(&target.bootstrap, timeouts, deadline) {
        Ok(c) => c,
        Err(e @ ClientError::Connect { .. }) | Err(e @ ClientError::Protocol { .. }) => {
            return unreachable(status, e.to_string());
        }
    };
    let metadata = match all_topics_metadata(&mut client) {
        Ok(m) => m,
        Err(e) => return unreachable(status, format!("Metadata: {e:#}")),
    };
    status.node.reachable = true;

    let cluster = cluster_info(&metadata);
    if status.node.id.is_none() {
        // --bootstrap: the node is the broker that advertises the address we dialled.
        status.node.id = cluster
            .brokers
            .iter()
            .find(|b| same_endpoint(&target.bootstrap, &b.host, b.port, client.addr))
            .map(|b| b.id);
    }
    let own = status
        .node
        .id
        .and_then(|id| cluster.brokers.iter().find(|b| b.id == id));
    status.node.registered = status.node.id.map(|_| own.is_some());
    if target.advertised_listeners.is_none() {
        status.node.advertised_listeners = own
            .map(|b| vec![format!("{}:{}", b.host, b.port)])
            .unwrap_or_default();
    }

    match describe_quorum(&mut client) {
        Ok(q) => status.quorum = Some(q),
        Err(e) => status.quorum_error = Some(format!("{e:#}")),
    }
    if target.roles.is_none() {
        let id = status.node.id;
        let mut roles = Vec::new();
        if own.is_some() {
            roles.push("broker".to_string());
        }
        if let (Some(id), Some(q)) = (id, &status.quorum)
            && q.voters.iter().any(|v| v.id == id)
        {
            roles.push("controller".to_string());
        }
        status.node.roles = roles;
    }
    status.cluster = Some(cluster);
    // A combined node is a controller too: its own controller listener must answer.
    if let Some(own) = &target.controller {
        let answer = KafkaClient::connect_until(own, timeouts, deadline)
            .map(drop)
            .map_err(|e| e.to_string());
        status.controller_listener = Some((own.clone(), answer));
    }
    judge(&mut status, target);
    status
}

/// A controller-only node: its own controller listener (ApiVersions, DescribeQuorum), and the
/// quorum as its leader reports it (the node itself, or the first voter that answers as leader).
fn collect_controller(
    mut status: NodeStatus,
    target: &StatusTarget,
    timeouts: Timeouts,
    deadline: Option<Instant>,
) -> NodeStatus {
    let own = target
        .controller
        .clone()
        .unwrap_or(target.bootstrap.clone());
    let mut client = match KafkaClient::connect_until(&own, timeouts, deadline) {
        Ok(c) => c,
        Err(e) => {
            let reason = e.to_string();
            status.problems.push(format!(
                "the controller listener at {own} is not reachable: {reason}"
            ));
            status.node.error = Some(reason);
            return status;
        }
    };
    status.node.reachable = true;
    status.controller_listener = Some((own.clone(), Ok(())));
    let mut errors = Vec::new();
    match describe_quorum(&mut client) {
        Ok(q) => status.quorum = Some(q),
        Err(e) => {
            errors.push(format!("{own}: {e:#}"));
            // Not the leader (or not answering DescribeQuorum): ask the other voters.
            for (id, addr) in target
                .voters
                .iter()
                .filter(|(id, _)| Some(*id) != target.node_id)
            {
                let answer = KafkaClient::connect_until(addr, timeouts, deadline)
                    .map_err(anyhow::Error::from)
                    .and_then(|mut c| describe_quorum(&mut c));
                match answer {
                    Ok(q) if q.leader_id >= 0 => {
                        status.quorum = Some(q);
                        break;
                    }
                    Ok(_) => errors.push(format!("voter {id} at {addr}: no leader")),
                    Err(e) => errors.push(format!("voter {id} at {addr}: {e:#}")),
                }
            }
        }
    }
    if status.quorum.is_none() {
        status.quorum_error = Some(format!(
            "no voter answers as leader ({})",
            errors.join("; ")
        ));
    }
    judge(&mut status, target);
    status
}

/// Metadata for every topic (`topics: null`), never creating any.
pub fn all_topics_metadata(client: &mut KafkaClient) -> Result<MetadataResponse> {
    let (response, version) = client.call(&requests::metadata_all_topics())?;
    responses::metadata_error(&response, version).map_err(|e| anyhow!("Metadata returned {e}"))?;
    Ok(response)
}

fn cluster_info(metadata: &MetadataResponse) -> ClusterInfo {
    let mut brokers: Vec<BrokerInfo> = metadata
        .brokers
        .iter()
        .map(|b| BrokerInfo {
            id: b.node_id.0,
            host: b.host.to_string(),
            port: b.port,
            rack: b.rack.as_ref().map(|r| r.to_string()),
        })
        .collect();
    brokers.sort_by_key(|b| b.id);
    let live: Vec<i32> = brokers.iter().map(|b| b.id).collect();
    let (mut partitions, mut under, mut offline, mut listed) = (0, 0, 0, Vec::new());
    for topic in &metadata.topics {
        let name = topic
            .name
            .as_ref()
            .map(|n| n.0.to_string())
            .unwrap_or_else(|| "?".into());
        for p in &topic.partitions {
            partitions += 1;
            // As Kafka's TopicCommand: offline = no leader, or a leader that is not a live broker.
            let is_offline = p.leader_id.0 < 0 || !live.contains(&p.leader_id.0);
            let is_under = p.isr_nodes.len() < p.replica_nodes.len();
            offline += usize::from(is_offline);
            under += usize::from(is_under);
            if (is_offline || is_under) && listed.len() < 50 {
                listed.push(format!("{name}-{}", p.partition_index));
            }
        }
    }
    ClusterInfo {
        id: metadata.cluster_id.as_ref().map(|c| c.to_string()),
        brokers,
        topics: metadata.topics.len(),
        partitions,
        under_replicated_partitions: under,
        offline_partitions: offline,
        problem_partitions: listed,
    }
}

/// DescribeQuorum for the metadata log (a broker forwards it to the active controller, KIP-836),
/// with each replica's lag behind the leader's log end offset.
pub fn describe_quorum(client: &mut KafkaClient) -> Result<QuorumInfo> {
    let (response, _) = client.call(&requests::describe_quorum())?;
    let quorum = responses::quorum(&response)?;
    let leader_end = quorum
        .voters
        .iter()
        .find(|v| v.id == quorum.leader_id)
        .map(|v| v.log_end_offset);
    let replica = |r: &Replica| ReplicaInfo {
        id: r.id,
        log_end_offset: r.log_end_offset,
        lag: leader_end.map(|end| (end - r.log_end_offset).max(0)),
        last_fetch_timestamp_ms: r.last_fetch_timestamp_ms,
        last_caught_up_timestamp_ms: r.last_caught_up_timestamp_ms,
        endpoints: r.endpoints.clone(),
    };
    Ok(QuorumInfo {
        leader_id: quorum.leader_id,
        leader_epoch: quorum.leader_epoch,
        high_watermark: quorum.high_watermark,
        voters: quorum.voters.iter().map(replica).collect(),
        observers: quorum.observers.iter().map(replica).collect(),
    })
}
