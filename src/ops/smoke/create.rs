//! Smoke-test steps "connect" and "create topic": the live brokers behind the bootstrap address,
//! then a topic with the asked partitions, and Metadata polled until every partition has a leader.

use super::{Session, TopicLayout};
use crate::kafka::{KafkaClient, error_name, requests, responses};
use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Live brokers: id → "host:port".
pub(super) fn live_brokers(client: &mut KafkaClient) -> Result<BTreeMap<i32, String>> {
    let (metadata, _) = client
        .call(&requests::metadata_brokers_only())
        .context("Metadata")?;
    let brokers = responses::live_brokers(&metadata);
    if brokers.is_empty() {
        bail!(
            "{} answers but lists no live brokers (all fenced or still starting)",
            client.target
        );
    }
    Ok(brokers)
}

impl Session<'_> {
    pub(super) fn create(&mut self, client: &mut KafkaClient, rf: i16) -> Result<TopicLayout> {
        let request = requests::create_topic(
            &self.topic,
            self.opts.partitions,
            rf,
            self.opts.step_timeout,
        );
        let (response, _) = client.call(&request).context("CreateTopics")?;
        responses::created(&response)
            .ok_or_else(|| anyhow!("CreateTopics answered without the topic"))?
            .map_err(|e| anyhow!("creating {} with replication factor {rf}: {e}", self.topic))?;
        self.wait_for_leaders(client)
            .context("waiting for partition leaders")
    }

    /// Poll Metadata until every partition has a live leader (creation is asynchronous).
    pub(super) fn wait_for_leaders(&mut self, client: &mut KafkaClient) -> Result<TopicLayout> {
        let deadline = Instant::now() + self.opts.step_timeout;
        let mut last = String::from("no answer yet");
        loop {
            let request = requests::metadata_topic(&self.topic);
            let (metadata, _) = client.call(&request).context("Metadata")?;
            self.brokers = responses::live_brokers(&metadata);
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
}
