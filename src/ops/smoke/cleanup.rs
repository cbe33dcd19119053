//! Smoke-test step "delete topic": the test topic is deleted after the other steps, passed or not
//! (unless --keep).

use super::Session;
use crate::kafka::{KafkaClient, requests, responses};
use anyhow::{Context, Result, anyhow};
use kafka_protocol::messages::DeleteTopicsRequest;

impl Session<'_> {
    pub(super) fn delete(&mut self, client: &mut KafkaClient) -> Result<()> {
        let version = client.version_of::<DeleteTopicsRequest>().ok_or_else(|| {
            anyhow!(
                "{} offers no DeleteTopics version kraftd speaks",
                client.target
            )
        })?;
        let request = requests::delete_topic(&self.topic, version, self.opts.step_timeout);
        let response = client
            .call_version(&request, version)
            .context("DeleteTopics")?;
        responses::deleted(&response)
            .ok_or_else(|| anyhow!("DeleteTopics answered without the topic"))?
            .map_err(|e| anyhow!("deleting {}: {e}", self.topic))
    }
}
