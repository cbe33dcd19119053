//! The answers kraftd reads, parsed without I/O: the metadata log's quorum from DescribeQuorum
//! (the one parser behind the probe and `kraftd status`), live brokers and per-topic error codes
//! from Metadata, and a created/deleted topic's result.

use super::errors::{ApiError, check};
use super::requests::METADATA_TOPIC;
use kafka_protocol::messages::describe_quorum_response::ReplicaState;
use kafka_protocol::messages::{
    CreateTopicsResponse, DeleteTopicsResponse, DescribeQuorumResponse, MetadataResponse,
};
use std::collections::BTreeMap;

/// The metadata log's quorum as a DescribeQuorum answer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    /// -1 when there is no leader.
    pub leader_id: i32,
    pub leader_epoch: i32,
    pub high_watermark: i64,
    pub voters: Vec<Replica>,
    pub observers: Vec<Replica>,
}

/// One replica of the metadata log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub id: i32,
    /// -1 when the leader has not heard from it.
    pub log_end_offset: i64,
    /// Milliseconds since the Unix epoch by the leader's clock; None when unknown (or before v1).
    pub last_fetch_timestamp_ms: Option<i64>,
    pub last_caught_up_timestamp_ms: Option<i64>,
    /// "LISTENER://host:port" as the leader knows it (DescribeQuorum v2, Kafka 3.9+).
    pub endpoints: Vec<String>,
}

/// Why a DescribeQuorum answer carries no quorum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    /// An error code (NOT_LEADER_OR_FOLLOWER from a controller that is not the leader, …).
    #[error("DescribeQuorum returned {0}")]
    Api(ApiError),
    #[error("DescribeQuorum answered without the {METADATA_TOPIC} partition")]
    NoPartition,
}

/// The quorum in a DescribeQuorum answer.
pub fn quorum(response: &DescribeQuorumResponse) -> Result<Quorum, QuorumError> {
    check(response.error_code, response.error_message.as_ref()).map_err(QuorumError::Api)?;
    let partition = response
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter())
        .next()
        .ok_or(QuorumError::NoPartition)?;
    check(partition.error_code, partition.error_message.as_ref()).map_err(QuorumError::Api)?;
    let stamp = |t: i64| (t >= 0).then_some(t);
    let replica = |r: &ReplicaState| Replica {
        id: r.replica_id.0,
        log_end_offset: r.log_end_offset,
        last_fetch_timestamp_ms: stamp(r.last_fetch_timestamp),
        last_caught_up_timestamp_ms: stamp(r.last_caught_up_timestamp),
        endpoints: response
            .nodes
            .iter()
            .filter(|n| n.node_id == r.replica_id)
            .flat_map(|n| {
                n.listeners
                    .iter()
                    .map(|l| format!("{}://{}:{}", l.name, l.host, l.port))
            })
            .collect(),
    };
    Ok(Quorum {
        leader_id: partition.leader_id.0,
        leader_epoch: partition.leader_epoch,
        high_watermark: partition.high_watermark,
        voters: partition.current_voters.iter().map(replica).collect(),
        observers: partition.observers.iter().map(replica).collect(),
    })
}

/// The leader's "now" in a DescribeQuorum answer: the newest timestamp it reports (a working
/// follower's is at most a fetch wait old; the leader's own entry, where Kafka fills it, carries
/// its current time). None when it reports none.
pub fn reference_time_ms(timestamps: impl IntoIterator<Item = Option<i64>>) -> Option<i64> {
    timestamps.into_iter().flatten().max()
}

impl Quorum {
    /// The leader's clock: the newest fetch timestamp of any voter or observer.
    pub fn leader_now_ms(&self) -> Option<i64> {
        reference_time_ms(
            self.voters
                .iter()
                .chain(self.observers.iter())
                .map(|r| r.last_fetch_timestamp_ms),
        )
    }
}

/// The top-level error of a Metadata answer (v13+ has one; earlier versions none).
pub fn metadata_error(response: &MetadataResponse, version: i16) -> Result<(), ApiError> {
    if version >= 13 {
        check(response.error_code, None)?;
    }
    Ok(())
}

/// Live (unfenced) brokers in a Metadata answer: id → "host:port".
pub fn live_brokers(response: &MetadataResponse) -> BTreeMap<i32, String> {
    response
        .brokers
        .iter()
        .map(|b| (b.node_id.0, format!("{}:{}", b.host, b.port)))
        .collect()
}

/// The result for the (one) topic of a CreateTopics answer; None when it lists none.
pub fn created(response: &CreateTopicsResponse) -> Option<Result<(), ApiError>> {
    let t = response.topics.first()?;
    Some(check(t.error_code, t.error_message.as_ref()))
}

/// The result for the (one) topic of a DeleteTopics answer; None when it lists none.
pub fn deleted(response: &DeleteTopicsResponse) -> Option<Result<(), ApiError>> {
    let t = response.responses.first()?;
    Some(check(t.error_code, t.error_message.as_ref()))
}

#[cfg(test)]
mod tests {
    //! Answers encoded with kafka-protocol as a broker would send them, decoded and parsed.
    use super::*;
    use crate::kafka::errors::error_name;
    use bytes::BytesMut;
    use kafka_protocol::messages::BrokerId;
    use kafka_protocol::messages::describe_quorum_response::{
        Listener, Node, PartitionData, TopicData,
    };
    use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
    use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

    fn wire<M: Encodable + Decodable>(m: &M, version: i16) -> M {
        let mut buf = BytesMut::new();
        m.encode(&mut buf, version).unwrap();
        M::decode(&mut buf.freeze(), version).unwrap()
    }

    fn replica(id: i32, end: i64, fetch: i64) -> ReplicaState {
        ReplicaState::default()
            .with_replica_id(BrokerId(id))
            .with_log_end_offset(end)
            .with_last_fetch_timestamp(fetch)
            .with_last_caught_up_timestamp(fetch)
    }

    fn answer(error: i16) -> DescribeQuorumResponse {
        DescribeQuorumResponse::default()
            .with_topics(vec![TopicData::default().with_partitions(vec![
                    PartitionData::default()
                        .with_error_code(error)
                        .with_error_message(None)
                        .with_leader_id(BrokerId(1))
                        .with_leader_epoch(4)
                        .with_high_watermark(100)
                        .with_current_voters(vec![replica(1, 100, 5000), replica(2, -1, -1)])
                        .with_observers(vec![replica(7, 90, 5100)]),
                ])])
            .with_nodes(vec![
                Node::default()
                    .with_node_id(BrokerId(1))
                    .with_listeners(vec![
                        Listener::default()
                            .with_name(StrBytes::from_static_str("CONTROLLER"))
                            .with_host(StrBytes::from_static_str("10.0.0.1"))
                            .with_port(9093),
                    ]),
            ])
    }

    #[test]
    fn the_quorum_is_read_from_the_leaders_answer() {
        let q = quorum(&wire(&answer(0), 2)).unwrap();
        assert_eq!((q.leader_id, q.leader_epoch, q.high_watermark), (1, 4, 100));
        assert_eq!(q.voters[0].endpoints, vec!["CONTROLLER://10.0.0.1:9093"]);
        assert_eq!(q.voters[1].log_end_offset, -1);
        assert_eq!(q.voters[1].last_fetch_timestamp_ms, None, "-1 is unknown");
        assert_eq!(q.observers[0].id, 7);
        assert_eq!(
            q.leader_now_ms(),
            Some(5100),
            "observers count for the clock"
        );
    }

    #[test]
    fn error_codes_and_missing_partitions_are_errors() {
        assert_eq!(
            quorum(&wire(&answer(6), 2)).unwrap_err().to_string(),
            format!("DescribeQuorum returned {}", error_name(6))
        );
        let top = DescribeQuorumResponse::default()
            .with_error_code(6)
            .with_error_message(Some(StrBytes::from_static_str("not leader")));
        assert!(matches!(
            quorum(&wire(&top, 2)),
            Err(QuorumError::Api(ApiError { code: 6, .. }))
        ));
        assert!(
            quorum(&wire(&top, 2))
                .unwrap_err()
                .to_string()
                .ends_with(": not leader")
        );
        assert_eq!(
            quorum(&DescribeQuorumResponse::default())
                .unwrap_err()
                .to_string(),
            "DescribeQuorum answered without the __cluster_metadata partition"
        );
    }

    #[test]
    fn metadata_brokers_and_error_code_by_version() {
        let response = MetadataResponse::default()
            .with_error_code(41)
            .with_brokers(vec![
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(2))
                    .with_host(StrBytes::from_static_str("b2"))
                    .with_port(9092),
            ]);
        let response = wire(&response, 13);
        assert_eq!(live_brokers(&response).get(&2).unwrap(), "b2:9092");
        assert!(metadata_error(&response, 13).is_err());
        assert!(
            metadata_error(&response, 12).is_ok(),
            "before v13 there is none"
        );
    }
}
