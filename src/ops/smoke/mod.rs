//! `kraftd smoke-test`: the runbook's end-to-end check over the Kafka protocol — create a uniquely
//! named topic, produce records with acks=all, fetch them back from offset 0, verify count, content
//! and per-partition order, delete the topic — with each failure naming its step.

//!
//! One file per step: `create` (connect's broker list, create topic, wait for leaders), `produce`,
//! `consume`, `verify`, `cleanup` (delete topic); this file runs them in order and owns the
//! session (options, connections per broker, the step/failure types).

mod cleanup;
mod consume;
mod create;
mod produce;
mod verify;

use crate::kafka::{KafkaClient, Timeouts};
use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
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
    let brokers = create::live_brokers(&mut bootstrap).map_err(fail(Step::Connect))?;
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

/// Where each partition lives, and the topic's id (for Produce v13+/Fetch v13+).
struct TopicLayout {
    /// partition → leader id
    leaders: BTreeMap<i32, i32>,
    /// The Metadata entry, kept for its `topic_id` (the crate's Uuid type is not re-exported).
    entry: MetadataResponseTopic,
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

    /// Produce, consume and verify: the steps between creating and deleting the topic.
    fn exercise(
        &mut self,
        bootstrap: &mut KafkaClient,
        mut layout: TopicLayout,
        progress: Progress,
    ) -> Result<(Duration, Duration), SmokeError> {
        let expected = verify::expected_records(self.opts, &self.topic);
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

        verify::verify(&expected, &fetched).map_err(fail(Step::Verify))?;
        progress(
            Step::Verify,
            format!(
                "count, content and order in {} partition(s) ok",
                expected.len()
            ),
        );
        Ok((produce, consume))
    }
}

/// Partitions grouped by their leader.
fn by_leader(layout: &TopicLayout, partitions: &[i32]) -> BTreeMap<i32, Vec<i32>> {
    let mut by_leader: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for p in partitions {
        by_leader.entry(layout.leaders[p]).or_default().push(*p);
    }
    by_leader
}

#[cfg(test)]
mod tests {
    use super::*;

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
