//! Smoke-test step "produce": one record batch per partition, one Produce request per leader,
//! acks=all; retriable partition errors are retried after a Metadata refresh until the step
//! timeout.

use super::{Expected, Session, TopicLayout, by_leader};
use crate::kafka::errors::check;
use crate::kafka::{KafkaClient, records, requests};
use anyhow::{Context, Result, anyhow, bail};
use kafka_protocol::messages::ProduceResponse;
use kafka_protocol::records::Record;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

impl Session<'_> {
    pub(super) fn produce(
        &mut self,
        bootstrap: &mut KafkaClient,
        layout: &mut TopicLayout,
        expected: &BTreeMap<i32, Vec<Expected>>,
    ) -> Result<()> {
        let deadline = Instant::now() + self.opts.step_timeout;
        let mut pending: Vec<i32> = expected.keys().copied().collect();
        while !pending.is_empty() {
            let mut retry = Vec::new();
            let mut last_error = String::new();
            for (leader, partitions) in by_leader(layout, &pending) {
                let timestamp = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                let mut batches = Vec::new();
                for p in &partitions {
                    let records: Vec<Record> = expected[p]
                        .iter()
                        .enumerate()
                        .map(|(i, e)| {
                            records::record(i as i64, timestamp, e.key.clone(), e.value.clone())
                        })
                        .collect();
                    batches.push((*p, records::encode_batch(&records)?));
                }
                let request =
                    requests::produce(&layout.entry, &self.topic, batches, self.opts.step_timeout);
                let client = self.connection(leader, bootstrap)?;
                let target = client.target.clone();
                let (response, _) = client
                    .call(&request)
                    .with_context(|| format!("Produce to broker {leader} ({target})"))?;
                for p in &partitions {
                    let Err((text, retriable)) = partition_result(&response, leader, *p)? else {
                        continue;
                    };
                    if !retriable {
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
}

/// Partition `p`'s answer from broker `leader`: Ok(Ok) when stored, Ok(Err((why, retriable)))
/// on an error code (with the broker's message and per-record errors), Err when not answered.
fn partition_result(
    response: &ProduceResponse,
    leader: i32,
    p: i32,
) -> Result<Result<(), (String, bool)>> {
    let r = response
        .responses
        .iter()
        .flat_map(|t| t.partition_responses.iter())
        .find(|r| r.index == p)
        .ok_or_else(|| anyhow!("broker {leader} did not answer for partition {p}"))?;
    let Err(error) = check(r.error_code, r.error_message.as_ref()) else {
        return Ok(Ok(()));
    };
    let mut text = format!("partition {p} on broker {leader}: {error}");
    for e in &r.record_errors {
        let detail = e
            .batch_index_error_message
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_default();
        text.push_str(&format!("; record {}: {detail}", e.batch_index));
    }
    Ok(Err((text, error.is_retriable())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::error_name;
    use kafka_protocol::messages::produce_response::{
        BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
    };
    use kafka_protocol::protocol::StrBytes;

    #[test]
    fn partition_errors_name_the_partition_broker_code_and_records() {
        let response = ProduceResponse::default().with_responses(vec![
            TopicProduceResponse::default().with_partition_responses(vec![
                PartitionProduceResponse::default().with_index(0),
                PartitionProduceResponse::default()
                    .with_index(1)
                    .with_error_code(6),
                PartitionProduceResponse::default()
                    .with_index(2)
                    .with_error_code(87)
                    .with_error_message(Some(StrBytes::from_static_str("bad")))
                    .with_record_errors(vec![
                        BatchIndexAndErrorMessage::default()
                            .with_batch_index(3)
                            .with_batch_index_error_message(Some(StrBytes::from_static_str(
                                "too old",
                            ))),
                    ]),
            ]),
        ]);
        assert_eq!(partition_result(&response, 1, 0).unwrap(), Ok(()));
        assert_eq!(
            partition_result(&response, 1, 1).unwrap(),
            Err((format!("partition 1 on broker 1: {}", error_name(6)), true))
        );
        assert_eq!(
            partition_result(&response, 1, 2).unwrap(),
            Err((
                format!(
                    "partition 2 on broker 1: {}: bad; record 3: too old",
                    error_name(87)
                ),
                false
            ))
        );
        assert_eq!(
            partition_result(&response, 1, 9).unwrap_err().to_string(),
            "broker 1 did not answer for partition 9"
        );
    }
}
