//! `kraftd status`: what one Kafka node and its cluster look like over the Kafka protocol
//! (ApiVersions, Metadata for all topics, DescribeQuorum), as a `NodeStatus` with a health verdict,
//! each role judged by its own truth: a broker by its client listener and Metadata, a controller by
//! its own controller listener, its voter membership and the leader's last fetch from it (a
//! controller-only node has no broker port, and none is dialled).
//!
//! The JSON form is a stable interface: docs/status.schema.json documents it; bump
//! `STATUS_SCHEMA_VERSION` on any incompatible change.
//!
//! Split by what each part does: `collect` asks Kafka (the only I/O), `judge` decides health and
//! problems from what was collected, `render` writes the 80-column text form.

mod collect;
mod judge;
mod render;

pub use collect::{all_topics_metadata, collect, describe_quorum};
pub use judge::{controller_problems, same_host_port, split_endpoint};
pub use render::render_text;

use serde::Serialize;

/// Version of the JSON document (`schema_version`).
pub const STATUS_SCHEMA_VERSION: u32 = 1;

/// Exit codes of `kraftd status` (documented in --help and README "Operating").
pub const EXIT_HEALTHY: i32 = 0;
pub const EXIT_DEGRADED: i32 = 1;
pub const EXIT_UNREACHABLE: i32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Degraded,
    Unreachable,
}

impl Health {
    pub fn exit_code(self) -> i32 {
        match self {
            Health::Healthy => EXIT_HEALTHY,
            Health::Degraded => EXIT_DEGRADED,
            Health::Unreachable => EXIT_UNREACHABLE,
        }
    }
}

/// Who to ask and what we expect of it.
#[derive(Debug, Clone)]
pub struct StatusTarget {
    /// "host:port" of a broker listener.
    pub bootstrap: String,
    /// The node id we expect to answer (from kraftd.toml); None for a plain `--bootstrap`.
    pub node_id: Option<i32>,
    /// Roles from the local config; None: derived from what the cluster reports.
    pub roles: Option<Vec<String>>,
    /// Advertised listeners from the local config; None: taken from Metadata.
    pub advertised_listeners: Option<Vec<String>>,
    /// The cluster id kraftd.toml records, checked against the broker's.
    pub expected_cluster_id: Option<String>,
    /// This node's own controller listener ("host:port") when kraftd.toml makes it a controller.
    pub controller: Option<String>,
    /// The voter set's controller listeners (id, "host:port"), to find the quorum leader from a
    /// controller-only node.
    pub voters: Vec<(i32, String)>,
}

impl StatusTarget {
    /// A controller-only node: no client listener, so the target is its controller listener.
    pub fn is_controller_only(&self) -> bool {
        self.roles.as_deref() == Some(&["controller".to_string()][..])
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    pub schema_version: u32,
    /// What was asked ("host:port").
    pub target: String,
    pub health: Health,
    /// Why the health is not `healthy`, one sentence each.
    pub problems: Vec<String>,
    pub node: NodeInfo,
    /// None when the node is unreachable.
    pub cluster: Option<ClusterInfo>,
    /// None when unreachable or DescribeQuorum failed (then `quorum_error` says why).
    pub quorum: Option<QuorumInfo>,
    pub quorum_error: Option<String>,
    /// This node's controller listener and whether it answered (text form only).
    #[serde(skip)]
    pub controller_listener: Option<(String, Result<(), String>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeInfo {
    /// None when asked with `--bootstrap` and no broker advertises that address.
    pub id: Option<i32>,
    /// "broker" and/or "controller".
    pub roles: Vec<String>,
    pub advertised_listeners: Vec<String>,
    pub reachable: bool,
    /// Among the live (unfenced) brokers in Metadata; None when unknown (no id, or unreachable).
    pub registered: Option<bool>,
    /// Why the node was not reachable.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterInfo {
    pub id: Option<String>,
    pub brokers: Vec<BrokerInfo>,
    pub topics: usize,
    pub partitions: usize,
    pub under_replicated_partitions: usize,
    pub offline_partitions: usize,
    /// "topic-partition" of each under-replicated or offline partition (first 50).
    pub problem_partitions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuorumInfo {
    /// -1 when there is no leader.
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub high_watermark: i64,
    pub voters: Vec<ReplicaInfo>,
    pub observers: Vec<ReplicaInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplicaInfo {
    pub id: i32,
    pub log_end_offset: i64,
    /// Leader's log end offset minus this replica's (0 for the leader); None without a leader.
    pub lag: Option<i64>,
    /// Milliseconds since the Unix epoch; None when the leader does not know (or before v1).
    pub last_fetch_timestamp_ms: Option<i64>,
    pub last_caught_up_timestamp_ms: Option<i64>,
    /// "LISTENER://host:port" of this replica as the leader knows it (DescribeQuorum v2, Kafka
    /// 3.9+); empty when the broker answers an older version.
    pub endpoints: Vec<String>,
}

/// A full status to feed `judge` and `render` in tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub(crate) fn sample(health: Health) -> NodeStatus {
        NodeStatus {
        schema_version: STATUS_SCHEMA_VERSION,
        target: "broker-with-a-rather-long-host-name.example.internal:9092".into(),
        health,
        problems: vec!["the broker at broker-with-a-rather-long-host-name.example.internal:9092 is not reachable: Connection refused (os error 111): nothing listens there (is Kafka running?)".into()],
        node: NodeInfo {
            id: Some(1),
            roles: vec!["broker".into(), "controller".into()],
            advertised_listeners: vec!["PLAINTEXT://broker-with-a-rather-long-host-name.example.internal:9092".into()],
            reachable: true,
            registered: Some(true),
            error: None,
        },
        cluster: Some(ClusterInfo {
            id: Some("MkU3OEVBNTcwNTJENDM2Qg".into()),
            brokers: (1..20).map(|id| BrokerInfo { id, host: format!("broker-{id}.example"), port: 9092, rack: None }).collect(),
            topics: 3,
            partitions: 10,
            under_replicated_partitions: 0,
            offline_partitions: 0,
            problem_partitions: vec![],
        }),
        quorum: Some(QuorumInfo {
            leader_id: 1,
            leader_epoch: 7,
            high_watermark: 123_456_789_012,
            voters: vec![ReplicaInfo {
                id: 2_000_000_000,
                log_end_offset: 123_456_789_012,
                lag: Some(0),
                last_fetch_timestamp_ms: Some(0),
                last_caught_up_timestamp_ms: None,
                endpoints: vec![],
            }],
            observers: vec![],
        }),
        quorum_error: None,
        controller_listener: None,
    }
    }
}
