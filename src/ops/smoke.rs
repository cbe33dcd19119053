//! `kraftd smoke-test`: the runbook's end-to-end check over the Kafka protocol — create a uniquely
//! named topic, produce records with acks=all, fetch them back from offset 0, verify count, content
//! and per-partition order, delete the topic — with each failure naming its step.

use super::client::{KafkaClient, Timeouts, error_name, is_retriable};
use anyhow::{Context, Result, anyhow, bail};
use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    CreateTopicsRequest, DeleteTopicsRequest, FetchRequest, MetadataRequest, ProduceRequest,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The steps, in order; a failure names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    CreateTopic,
    Produce,
    Consume,
    Verify,
    Delete,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Connect => "connect",
            Step::CreateTopic => "create topic",
            Step::Produce => "produce",
            Step::Consume => "consume",
            Step::Verify => "verify",
            Step::Delete => "delete topic",
        })
    }
}

/// A failed smoke test: the step and why. `topic_left` names a topic that could not be cleaned up.
#[derive(Debug, thiserror::Error)]
#[error("smoke-test failed at step \"{step}\": {reason:#}{}", topic_note(.topic_left))]
pub struct SmokeError {
    pub step: Step,
    pub reason: anyhow::Error,
    pub topic_left: Option<String>,
}

fn topic_note(topic: &Option<String>) -> String {
    match topic {
        Some(t) => format!(
            "\n(topic {t} was left behind; delete it with kafka-topics --delete --topic {t})"
        ),
        None => String::new(),
    }
}

#[derive(Debug, Clone)]
pub struct SmokeOptions {
    pub bootstrap: String,
    pub records: u32,
    pub partitions: u32,
    /// Bound on each step's waiting (leaders to appear, records to arrive).
    pub step_timeout: Duration,
    pub keep: bool,
    /// Topic name; None: `kraftd-smoke-<millis>-<random>`.
    pub topic: Option<String>,
}

/// What a passed smoke test measured.
#[derive(Debug, Clone)]
pub struct SmokeReport {
    pub topic: String,
    pub brokers: usize,
    pub partitions: u32,
    pub replication_factor: i16,
    pub records: u32,
    pub create: Duration,
    pub produce: Duration,
    pub consume: Duration,
    pub deleted: bool,
}

/// Progress lines as steps finish (the CLI prints them).
pub type Progress<'a> = &'a mut dyn FnMut(Step, String);

fn fail(step: Step) -> impl Fn(anyhow::Error) -> SmokeError {
    move |reason| SmokeError {
        step,
        reason,
        topic_left: None,
    }
}

/// Run the smoke test. On a failure after the topic was created, the topic is still deleted
/// (unless `keep`), and the error says if that failed too.
pub fn run(
    opts: &SmokeOptions,
    timeouts: Timeouts,
    progress: Progress,
) -> Result<SmokeReport, SmokeError> {
    let started = Instant::now();
    let mut bootstrap = KafkaClient::connect(&opts.bootstrap, timeouts)
        .map_err(|e| fail(Step::Connect)(e.into()))?;
    let brokers = live_brokers(&mut bootstrap).map_err(fail(Step::Connect))?;
    progress(
        Step::Connect,
        format!("{} live broker(s) via {}", brokers.len(), opts.bootstrap),
    );

    let topic = opts.topic.clone().unwrap_or_else(unique_topic_name);
    let rf = brokers.len().min(3) as i16;
    let mut session = Session {
        opts,
        timeouts,
        topic: topic.clone(),
        brokers,
        connections: HashMap::new(),
    };

    let t = Instant::now();
    let layout = session
        .create(&mut bootstrap, rf)
        .map_err(fail(Step::CreateTopic))?;
    let create = t.elapsed();
    progress(
        Step::CreateTopic,
        format!(
            "{topic}: {} partitions, replication factor {rf}, {}",
            opts.partitions,
            ms(create)
        ),
    );

    let result = session.exercise(&mut bootstrap, layout, progress);
    let deleted = if opts.keep {
        false
    } else {
        match session.delete(&mut bootstrap) {
            Ok(()) => {
                progress(Step::Delete, format!("{topic} deleted"));
                true
            }
            Err(reason) => {
                return Err(match result {
                    // The earlier failure is the news; mention the leftover topic.
                    Err(mut e) => {
                        e.topic_left = Some(topic);
                        e
                    }
                    Ok(_) => SmokeError {
                        step: Step::Delete,
                        reason,
                        topic_left: Some(topic),
                    },
                });
            }
        }
    };
    let (produce, consume) = result.map_err(|mut e| {
        if opts.keep {
            e.topic_left = Some(topic.clone());
        }
        e
    })?;
    log::debug!("smoke-test took {:?}", started.elapsed());
    Ok(SmokeReport {
        topic,
        brokers: session.brokers.len(),
        partitions: opts.partitions,
        replication_factor: rf,
        records: opts.records,
        create,
        produce,
        consume,
        deleted,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// `kraftd-smoke-<unix millis>-<8 hex>`: unique across runs and nodes, a legal topic name.
pub fn unique_topic_name() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("kraftd-smoke-{millis}-{:08x}", rand::random::<u32>())
}

/// Live brokers: id → "host:port".
fn live_brokers(client: &mut KafkaClient) -> Result<BTreeMap<i32, String>> {
    let request = MetadataRequest::default()
        .with_topics(Some(Vec::new()))
        .with_allow_auto_topic_creation(false);
    let (metadata, _) = client.call(&request).context("Metadata")?;
    let brokers: BTreeMap<i32, String> = metadata
        .brokers
        .iter()
        .map(|b| (b.node_id.0, format!("{}:{}", b.host, b.port)))
        .collect();
    if brokers.is_empty() {
        bail!(
            "{} answers but lists no live brokers (all fenced or still starting)",
            client.target
        );
    }
    Ok(brokers)
}

/// Where each partition lives, and the topic's id (for Produce v13+/Fetch v13+).
struct TopicLayout {
    /// partition → leader id
    leaders: BTreeMap<i32, i32>,
    /// The Metadata entry, kept for its `topic_id` (the crate's Uuid type is not re-exported).
    entry: kafka_protocol::messages::metadata_response::MetadataResponseTopic,
}

struct Session<'a> {
    opts: &'a SmokeOptions,
    timeouts: Timeouts,
    topic: String,
    brokers: BTreeMap<i32, String>,
    connections: HashMap<i32, KafkaClient>,
}

/// One produced record as expected back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    key: Bytes,
    value: Bytes,
}

impl Session<'_> {
    fn topic_name(&self) -> TopicName {
        TopicName(StrBytes::from_string(self.topic.clone()))
    }

    fn create(&mut self, client: &mut KafkaClient, rf: i16) -> Result<TopicLayout> {
        let request = CreateTopicsRequest::default()
            .with_topics(vec![
                CreatableTopic::default()
                    .with_name(self.topic_name())
                    .with_num_partitions(self.opts.partitions as i32)
                    .with_replication_factor(rf),
            ])
            .with_timeout_ms(self.opts.step_timeout.as_millis() as i32);
        let (response, _) = client.call(&request).context("CreateTopics")?;
        let result = response
            .topics
            .first()
            .ok_or_else(|| anyhow!("CreateTopics answered without the topic"))?;
        if result.error_code != 0 {
            let msg = result
                .error_message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            bail!(
                "creating {} with replication factor {rf}: {}{msg}",
                self.topic,
                error_name(result.error_code)
            );
        }
        self.wait_for_leaders(client)
            .context("waiting for partition leaders")
    }

    /// Poll Metadata until every partition has a live leader (creation is asynchronous).
    fn wait_for_leaders(&mut self, client: &mut KafkaClient) -> Result<TopicLayout> {
        let deadline = Instant::now() + self.opts.step_timeout;
        let mut last = String::from("no answer yet");
        loop {
            let request = MetadataRequest::default()
                .with_topics(Some(vec![
                    MetadataRequestTopic::default().with_name(Some(self.topic_name())),
                ]))
                .with_allow_auto_topic_creation(false);
            let (metadata, _) = client.call(&request).context("Metadata")?;
            self.brokers = metadata
                .brokers
                .iter()
                .map(|b| (b.node_id.0, format!("{}:{}", b.host, b.port)))
                .collect();
            if let Some(entry) = metadata.topics.into_iter().next() {
                let leaders: BTreeMap<i32, i32> = entry
                    .partitions
                    .iter()
                    .map(|p| (p.partition_index, p.leader_id.0))
                    .collect();
                let all_led = leaders.len() == self.opts.partitions as usize
                    && leaders.values().all(|l| self.brokers.contains_key(l));
                if entry.error_code == 0 && all_led {
                    return Ok(TopicLayout { leaders, entry });
                }
                last = if entry.error_code != 0 {
                    error_name(entry.error_code)
                } else {
                    format!(
                        "partition leaders {leaders:?}, live brokers {:?}",
                        self.brokers.keys().collect::<Vec<_>>()
                    )
                };
            }
            if Instant::now() >= deadline {
                bail!(
                    "not every partition has a live leader after {:?}: {last}",
                    self.opts.step_timeout
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A connection to broker `id` (reusing the bootstrap one when it is that broker).
    fn connection<'c>(
        &'c mut self,
        id: i32,
        bootstrap: &'c mut KafkaClient,
    ) -> Result<&'c mut KafkaClient> {
        let endpoint = self
            .brokers
            .get(&id)
            .ok_or_else(|| anyhow!("broker {id} is not among the live brokers"))?;
        if *endpoint == bootstrap.target {
            return Ok(bootstrap);
        }
        if !self.connections.contains_key(&id) {
            let client = KafkaClient::connect(endpoint, self.timeouts)
                .with_context(|| format!("broker {id}"))?;
            self.connections.insert(id, client);
        }
        Ok(self.connections.get_mut(&id).expect("inserted above"))
    }

    fn exercise(
        &mut self,
        bootstrap: &mut KafkaClient,
        mut layout: TopicLayout,
        progress: Progress,
    ) -> Result<(Duration, Duration), SmokeError> {
        let expected = self.expected_records();
        let t = Instant::now();
        self.produce(bootstrap, &mut layout, &expected)
            .map_err(fail(Step::Produce))?;
        let produce = t.elapsed();
        progress(
            Step::Produce,
            format!("{} records, acks=all, {}", self.opts.records, ms(produce)),
        );

        let t = Instant::now();
        let fetched = self
            .consume(bootstrap, &mut layout, &expected)
            .map_err(fail(Step::Consume))?;
        let consume = t.elapsed();
        progress(
            Step::Consume,
            format!(
                "{} records from offset 0, {}",
                self.opts.records,
                ms(consume)
            ),
        );

        verify(&expected, &fetched).map_err(fail(Step::Verify))?;
        progress(
            Step::Verify,
            format!(
                "count, content and order in {} partition(s) ok",
                expected.len()
            ),
        );
        Ok((produce, consume))
    }

    /// Record i goes to partition i mod P: keys and values name the record and the topic.
    fn expected_records(&self) -> BTreeMap<i32, Vec<Expected>> {
        let mut by_partition: BTreeMap<i32, Vec<Expected>> = BTreeMap::new();
        for i in 0..self.opts.records {
            let partition = (i % self.opts.partitions) as i32;
            by_partition.entry(partition).or_default().push(Expected {
                key: Bytes::from(format!("{i}")),
                value: Bytes::from(format!(
                    "kraftd smoke-test record {i} of {} in {}",
                    self.opts.records, self.topic
                )),
            });
        }
        by_partition
    }

    /// One Produce request per leader, acks=all; retriable partition errors are retried after a
    /// Metadata refresh until the step timeout.
    fn produce(
        &mut self,
        bootstrap: &mut KafkaClient,
        layout: &mut TopicLayout,
        expected: &BTreeMap<i32, Vec<Expected>>,
    ) -> Result<()> {
        let deadline = Instant::now() + self.opts.step_timeout;
        let mut pending: Vec<i32> = expected.keys().copied().collect();
        while !pending.is_empty() {
            let mut by_leader: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
            for p in &pending {
                by_leader.entry(layout.leaders[p]).or_default().push(*p);
            }
            let mut retry = Vec::new();
            let mut last_error = String::new();
            for (leader, partitions) in by_leader {
                let timestamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                let mut partition_data = Vec::new();
                for p in &partitions {
                    let records: Vec<Record> = expected[p]
                        .iter()
                        .enumerate()
                        .map(|(i, e)| new_record(i as i64, timestamp, e))
                        .collect();
                    let mut buf = BytesMut::new();
                    RecordBatchEncoder::encode(
                        &mut buf,
                        &records,
                        &RecordEncodeOptions {
                            version: 2,
                            compression: Compression::None,
                        },
                    )
                    .context("encoding the record batch")?;
                    partition_data.push(
                        PartitionProduceData::default()
                            .with_index(*p)
                            .with_records(Some(buf.freeze())),
                    );
                }
                let request = ProduceRequest::default()
                    .with_acks(-1)
                    .with_timeout_ms(self.opts.step_timeout.as_millis() as i32)
                    .with_topic_data(vec![
                        TopicProduceData::default()
                            .with_name(self.topic_name())
                            .with_topic_id(layout.entry.topic_id)
                            .with_partition_data(partition_data),
                    ]);
                let client = self.connection(leader, bootstrap)?;
                let target = client.target.clone();
                let (response, _) = client
                    .call(&request)
                    .with_context(|| format!("Produce to broker {leader} ({target})"))?;
                let answered: Vec<_> = response
                    .responses
                    .iter()
                    .flat_map(|t| t.partition_responses.iter())
                    .collect();
                for p in &partitions {
                    let r = answered.iter().find(|r| r.index == *p).ok_or_else(|| {
                        anyhow!("broker {leader} did not answer for partition {p}")
                    })?;
                    if r.error_code == 0 {
                        continue;
                    }
                    let mut msg = r
                        .error_message
                        .as_ref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default();
                    for e in &r.record_errors {
                        let detail = e
                            .batch_index_error_message
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_default();
                        msg.push_str(&format!("; record {}: {detail}", e.batch_index));
                    }
                    let text = format!(
                        "partition {p} on broker {leader}: {}{msg}",
                        error_name(r.error_code)
                    );
                    if !is_retriable(r.error_code) {
                        bail!("{text}");
                    }
                    last_error = text;
                    retry.push(*p);
                }
            }
            if !retry.is_empty() {
                if Instant::now() >= deadline {
                    bail!(
                        "still failing after {:?}: {last_error}",
                        self.opts.step_timeout
                    );
                }
                std::thread::sleep(Duration::from_millis(200));
                *layout = self.wait_for_leaders(bootstrap)?;
            }
            pending = retry;
        }
        Ok(())
    }

    /// Fetch every partition from offset 0 at its leader until all expected records arrived.
    fn consume(
        &mut self,
        bootstrap: &mut KafkaClient,
        layout: &mut TopicLayout,
        expected: &BTreeMap<i32, Vec<Expected>>,
    ) -> Result<BTreeMap<i32, Vec<Record>>> {
        let deadline = Instant::now() + self.opts.step_timeout;
        let mut fetched: BTreeMap<i32, Vec<Record>> =
            expected.keys().map(|p| (*p, Vec::new())).collect();
        let mut last_error = String::from("no records yet");
        loop {
            let missing: Vec<i32> = fetched
                .iter()
                .filter(|(p, got)| got.len() < expected[p].len())
                .map(|(p, _)| *p)
                .collect();
            if missing.is_empty() {
                return Ok(fetched);
            }
            if Instant::now() >= deadline {
                let counts: Vec<String> = missing
                    .iter()
                    .map(|p| {
                        format!(
                            "partition {p}: {} of {}",
                            fetched[p].len(),
                            expected[p].len()
                        )
                    })
                    .collect();
                bail!(
                    "records missing after {:?} ({}); last: {last_error}",
                    self.opts.step_timeout,
                    counts.join(", ")
                );
            }
            let mut by_leader: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
            for p in &missing {
                by_leader.entry(layout.leaders[p]).or_default().push(*p);
            }
            let mut refresh = false;
            let topic_name = self.topic_name();
            for (leader, partitions) in by_leader {
                let client = self.connection(leader, bootstrap)?;
                let version = client.version_of::<FetchRequest>().ok_or_else(|| {
                    anyhow!("broker {leader} offers no Fetch version kraftd speaks")
                })?;
                let mut topic = FetchTopic::default().with_partitions(
                    partitions
                        .iter()
                        .map(|p| {
                            FetchPartition::default()
                                .with_partition(*p)
                                .with_fetch_offset(next_offset(&fetched[p]))
                                .with_partition_max_bytes(1 << 20)
                        })
                        .collect(),
                );
                if version >= 13 {
                    topic.topic_id = layout.entry.topic_id;
                } else {
                    topic.topic = topic_name.clone();
                }
                let request = FetchRequest::default()
                    .with_max_wait_ms(500)
                    .with_min_bytes(1)
                    .with_max_bytes(8 << 20)
                    .with_topics(vec![topic]);
                let target = client.target.clone();
                let response = client
                    .call_version(&request, version)
                    .with_context(|| format!("Fetch from broker {leader} ({target})"))?;
                if response.error_code != 0 {
                    bail!(
                        "Fetch from broker {leader}: {}",
                        error_name(response.error_code)
                    );
                }
                for data in response.responses.iter().flat_map(|t| t.partitions.iter()) {
                    let p = data.partition_index;
                    if data.error_code != 0 {
                        let text = format!(
                            "partition {p} on broker {leader}: {}",
                            error_name(data.error_code)
                        );
                        if !is_retriable(data.error_code) {
                            bail!("{text}");
                        }
                        last_error = text;
                        refresh = true;
                        continue;
                    }
                    let records = decode_records(data.records.clone().unwrap_or_default())
                        .with_context(|| format!("decoding records of partition {p}"))?;
                    if let Some(got) = fetched.get_mut(&p) {
                        let from = next_offset(got);
                        got.extend(
                            records
                                .into_iter()
                                .filter(|r| !r.control && r.offset >= from),
                        );
                    }
                }
            }
            if refresh {
                std::thread::sleep(Duration::from_millis(200));
                *layout = self.wait_for_leaders(bootstrap)?;
            }
        }
    }

    fn delete(&mut self, client: &mut KafkaClient) -> Result<()> {
        let version = client.version_of::<DeleteTopicsRequest>().ok_or_else(|| {
            anyhow!(
                "{} offers no DeleteTopics version kraftd speaks",
                client.target
            )
        })?;
        let mut request = DeleteTopicsRequest::default()
            .with_timeout_ms(self.opts.step_timeout.as_millis() as i32);
        if version >= 6 {
            request.topics = vec![DeleteTopicState::default().with_name(Some(self.topic_name()))];
        } else {
            request.topic_names = vec![self.topic_name()];
        }
        let response = client
            .call_version(&request, version)
            .context("DeleteTopics")?;
        let result = response
            .responses
            .first()
            .ok_or_else(|| anyhow!("DeleteTopics answered without the topic"))?;
        if result.error_code != 0 {
            let msg = result
                .error_message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            bail!(
                "deleting {}: {}{msg}",
                self.topic,
                error_name(result.error_code)
            );
        }
        Ok(())
    }
}

fn new_record(offset: i64, timestamp: i64, e: &Expected) -> Record {
    Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: -1,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset,
        // The encoder starts a new batch whenever offset - sequence changes, and a Produce
        // request may carry only ONE batch per partition (else INVALID_RECORD). Keeping
        // offset - sequence constant, with the first record at -1 (NO_SEQUENCE: we are not an
        // idempotent producer), gives one batch whose base sequence is -1.
        sequence: (offset as i32).wrapping_sub(1),
        timestamp,
        key: Some(e.key.clone()),
        value: Some(e.value.clone()),
        headers: IndexMap::new(),
    }
}

fn next_offset(got: &[Record]) -> i64 {
    got.last().map(|r| r.offset + 1).unwrap_or(0)
}

/// Decode the complete record batches in a Fetch answer; a trailing partial batch (the broker
/// cuts at the byte limit) is left for the next fetch.
fn decode_records(mut data: Bytes) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    // Batch header: base offset (8 bytes), then the batch length (4) counting what follows.
    while data.len() >= 12 {
        let batch_len = i32::from_be_bytes(data[8..12].try_into().expect("4 bytes"));
        let total =
            12 + usize::try_from(batch_len).map_err(|_| anyhow!("negative batch length"))?;
        if data.len() < total {
            break;
        }
        let mut batch = data.split_to(total);
        let set = RecordBatchDecoder::decode(&mut batch)?;
        records.extend(set.records);
    }
    data.advance(data.len());
    Ok(records)
}

/// Every partition holds exactly its expected records, in produce order, at offsets 0, 1, 2, …
fn verify(
    expected: &BTreeMap<i32, Vec<Expected>>,
    fetched: &BTreeMap<i32, Vec<Record>>,
) -> Result<()> {
    for (p, want) in expected {
        let got = fetched.get(p).map(Vec::as_slice).unwrap_or_default();
        if got.len() != want.len() {
            bail!(
                "partition {p}: expected {} records, got {}",
                want.len(),
                got.len()
            );
        }
        for (i, (w, g)) in want.iter().zip(got).enumerate() {
            if g.offset != i as i64 {
                bail!(
                    "partition {p}: record {i} is at offset {}, expected {i} (gap or reorder)",
                    g.offset
                );
            }
            let (key, value) = (
                g.key.clone().unwrap_or_default(),
                g.value.clone().unwrap_or_default(),
            );
            if key != w.key || value != w.value {
                bail!(
                    "partition {p}, offset {i}: expected key {:?} value {:?}, got key {:?} value {:?}",
                    String::from_utf8_lossy(&w.key),
                    String::from_utf8_lossy(&w.value),
                    String::from_utf8_lossy(&key),
                    String::from_utf8_lossy(&value)
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(n: u32) -> BTreeMap<i32, Vec<Expected>> {
        let mut m = BTreeMap::new();
        m.insert(
            0,
            (0..n)
                .map(|i| Expected {
                    key: format!("{i}").into(),
                    value: format!("v{i}").into(),
                })
                .collect(),
        );
        m
    }

    fn encoded(exp: &[Expected], base: i64) -> Bytes {
        let records: Vec<Record> = exp
            .iter()
            .enumerate()
            .map(|(i, e)| new_record(base + i as i64, 0, e))
            .collect();
        let mut buf = BytesMut::new();
        RecordBatchEncoder::encode(
            &mut buf,
            &records,
            &RecordEncodeOptions {
                version: 2,
                compression: Compression::None,
            },
        )
        .unwrap();
        buf.freeze()
    }

    #[test]
    fn records_round_trip_and_verify_catches_order_and_content() {
        let exp = expected(5);
        let mut data = BytesMut::new();
        data.extend_from_slice(&encoded(&exp[&0][..3], 0));
        data.extend_from_slice(&encoded(&exp[&0][3..], 3));
        // A partial third batch, as a broker cut at the byte limit sends: ignored.
        let extra = encoded(&exp[&0][..1], 5);
        data.extend_from_slice(&extra[..extra.len() - 3]);
        let batches = RecordBatchDecoder::decode_batch_info(&mut encoded(&exp[&0], 0)).unwrap();
        assert_eq!(
            batches.len(),
            1,
            "a Produce request may carry one batch per partition"
        );
        assert_eq!(batches[0].base_sequence, -1);
        let got = decode_records(data.freeze()).unwrap();
        assert_eq!(got.len(), 5);
        let mut fetched = BTreeMap::new();
        fetched.insert(0, got.clone());
        verify(&exp, &fetched).unwrap();

        let mut swapped = got.clone();
        swapped.swap(1, 2);
        fetched.insert(0, swapped);
        let err = verify(&exp, &fetched).unwrap_err().to_string();
        assert!(err.contains("partition 0"), "{err}");

        let mut changed = got.clone();
        changed[4].value = Some(Bytes::from_static(b"other"));
        fetched.insert(0, changed);
        let err = verify(&exp, &fetched).unwrap_err().to_string();
        assert!(err.contains("offset 4") && err.contains("other"), "{err}");

        fetched.insert(0, got[..4].to_vec());
        assert!(
            verify(&exp, &fetched)
                .unwrap_err()
                .to_string()
                .contains("expected 5 records, got 4")
        );
    }

    #[test]
    fn topic_names_are_unique_and_legal() {
        let (a, b) = (unique_topic_name(), unique_topic_name());
        assert_ne!(a, b);
        assert!(
            a.len() < 249
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        );
    }
}
