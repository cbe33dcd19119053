//! The requests kraftd sends, built without I/O: Metadata (none, one or all topics, never
//! auto-creating), DescribeQuorum and DescribeCluster for the KRaft quorum, and the smoke test's
//! CreateTopics/Produce/Fetch/DeleteTopics with their version-dependent fields.

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    CreateTopicsRequest, DeleteTopicsRequest, DescribeClusterRequest, DescribeQuorumRequest,
    FetchRequest, MetadataRequest, ProduceRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use std::time::Duration;

/// The KRaft metadata log that DescribeQuorum describes.
pub const METADATA_TOPIC: &str = "__cluster_metadata";

pub fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// Metadata about no topic (an empty list, not null which means "all"): brokers, cluster id,
/// controller.
pub fn metadata_brokers_only() -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(Vec::new()))
        .with_allow_auto_topic_creation(false)
}

/// Metadata for every topic (`topics: null`).
pub fn metadata_all_topics() -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(None)
        .with_allow_auto_topic_creation(false)
}

/// Metadata for one topic, never creating it.
pub fn metadata_topic(name: &str) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic_name(name))),
        ]))
        .with_allow_auto_topic_creation(false)
}

/// DescribeQuorum for the metadata log. Controllers answer it (the leader with the voters' state);
/// brokers forward it to the active controller (KIP-836), which is how Kafka's own
/// `kafka-metadata-quorum --bootstrap-server` asks.
pub fn describe_quorum() -> DescribeQuorumRequest {
    DescribeQuorumRequest::default().with_topics(vec![
        TopicData::default()
            .with_topic_name(TopicName(StrBytes::from_static_str(METADATA_TOPIC)))
            .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
    ])
}

/// DescribeCluster asking for the controllers' endpoints (endpoint_type 2, KIP-919; ignored by v0).
pub fn describe_cluster_controllers() -> DescribeClusterRequest {
    DescribeClusterRequest::default().with_endpoint_type(2)
}

fn timeout_ms(timeout: Duration) -> i32 {
    timeout.as_millis() as i32
}

/// Create one topic, the broker waiting up to `timeout` for it.
pub fn create_topic(
    name: &str,
    partitions: u32,
    replication_factor: i16,
    timeout: Duration,
) -> CreateTopicsRequest {
    CreateTopicsRequest::default()
        .with_topics(vec![
            CreatableTopic::default()
                .with_name(topic_name(name))
                .with_num_partitions(partitions as i32)
                .with_replication_factor(replication_factor),
        ])
        .with_timeout_ms(timeout_ms(timeout))
}

/// Delete one topic at `version` (v6 names topics in `topics`, earlier ones in `topic_names`).
pub fn delete_topic(name: &str, version: i16, timeout: Duration) -> DeleteTopicsRequest {
    let mut request = DeleteTopicsRequest::default().with_timeout_ms(timeout_ms(timeout));
    if version >= 6 {
        request.topics = vec![DeleteTopicState::default().with_name(Some(topic_name(name)))];
    } else {
        request.topic_names = vec![topic_name(name)];
    }
    request
}

/// Produce one record batch per partition to `topic` (named and, for v13+, by its id from
/// Metadata), acks=all, the broker waiting up to `timeout` for the replicas.
pub fn produce(
    topic: &MetadataResponseTopic,
    name: &str,
    batches: Vec<(i32, Bytes)>,
    timeout: Duration,
) -> ProduceRequest {
    let partition_data = batches
        .into_iter()
        .map(|(p, batch)| {
            PartitionProduceData::default()
                .with_index(p)
                .with_records(Some(batch))
        })
        .collect();
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(timeout_ms(timeout))
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(topic_name(name))
                .with_topic_id(topic.topic_id)
                .with_partition_data(partition_data),
        ])
}

/// Fetch `(partition, offset)`s of one topic at `version`: v13+ names the topic by its id, earlier
/// versions by its name. Waits up to 500 ms for data, up to 1 MiB per partition.
pub fn fetch(
    topic: &MetadataResponseTopic,
    name: &str,
    version: i16,
    from: impl IntoIterator<Item = (i32, i64)>,
) -> FetchRequest {
    let mut fetch_topic = FetchTopic::default().with_partitions(
        from.into_iter()
            .map(|(p, offset)| {
                FetchPartition::default()
                    .with_partition(p)
                    .with_fetch_offset(offset)
                    .with_partition_max_bytes(1 << 20)
            })
            .collect(),
    );
    if version >= 13 {
        fetch_topic.topic_id = topic.topic_id;
    } else {
        fetch_topic.topic = topic_name(name);
    }
    FetchRequest::default()
        .with_max_wait_ms(500)
        .with_min_bytes(1)
        .with_max_bytes(8 << 20)
        .with_topics(vec![fetch_topic])
}

#[cfg(test)]
mod tests {
    //! Each builder encoded and decoded at the versions kraftd sends it.
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::protocol::{Decodable, Encodable};

    fn round_trip<R: Encodable + Decodable>(request: &R, version: i16) -> R {
        let mut buf = BytesMut::new();
        request.encode(&mut buf, version).unwrap();
        R::decode(&mut buf.freeze(), version).unwrap()
    }

    #[test]
    fn metadata_never_creates_and_tells_none_from_all() {
        let none = round_trip(&metadata_brokers_only(), 12);
        assert_eq!(none.topics, Some(vec![]), "empty list, not null");
        assert!(!none.allow_auto_topic_creation);
        assert_eq!(round_trip(&metadata_all_topics(), 12).topics, None);
        let one = round_trip(&metadata_topic("t1"), 12);
        assert_eq!(
            one.topics.unwrap()[0].name.as_ref().unwrap().0.as_str(),
            "t1"
        );
    }

    #[test]
    fn describe_quorum_asks_for_the_metadata_log() {
        let request = round_trip(&describe_quorum(), 2);
        assert_eq!(request.topics.len(), 1);
        assert_eq!(request.topics[0].topic_name.0.as_str(), METADATA_TOPIC);
        assert_eq!(request.topics[0].partitions[0].partition_index, 0);
        assert_eq!(
            round_trip(&describe_cluster_controllers(), 1).endpoint_type,
            2
        );
    }

    #[test]
    fn version_dependent_topic_fields() {
        let old = round_trip(&delete_topic("t", 5, Duration::from_secs(3)), 5);
        assert_eq!(old.topic_names[0].0.as_str(), "t");
        assert_eq!(old.timeout_ms, 3000);
        let new = round_trip(&delete_topic("t", 6, Duration::from_secs(3)), 6);
        assert_eq!(new.topics[0].name.as_ref().unwrap().0.as_str(), "t");

        let entry = MetadataResponseTopic::default();
        let by_name = round_trip(&fetch(&entry, "t", 12, [(0, 5), (2, 0)]), 12);
        assert_eq!(by_name.topics[0].topic.0.as_str(), "t");
        let parts = &by_name.topics[0].partitions;
        assert_eq!((parts[0].partition, parts[0].fetch_offset), (0, 5));
        assert_eq!((parts[1].partition, parts[1].fetch_offset), (2, 0));
        let by_id = fetch(&entry, "t", 13, [(0, 0)]);
        assert_eq!(
            by_id.topics[0].topic.0.as_str(),
            "",
            "v13+ names the topic by id"
        );

        let create = round_trip(&create_topic("t", 3, 2, Duration::from_secs(30)), 5);
        assert_eq!(create.topics[0].num_partitions, 3);
        assert_eq!(create.topics[0].replication_factor, 2);
        let produce = produce(
            &entry,
            "t",
            vec![(1, Bytes::from_static(b"x"))],
            Duration::from_secs(1),
        );
        assert_eq!(produce.acks, -1, "acks=all");
        assert_eq!(produce.topic_data[0].partition_data[0].index, 1);
    }
}
