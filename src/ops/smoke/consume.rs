//! Smoke-test step "consume": fetch every partition from offset 0 at its leader until all
//! expected records arrived; retriable partition errors refresh the leaders.

use super::{Expected, Session, TopicLayout, by_leader};
use crate::kafka::errors::check;
use crate::kafka::{KafkaClient, records, requests};
use anyhow::{Context, Result, anyhow, bail};
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::records::Record;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

impl Session<'_> {
    pub(super) fn consume(
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
            let mut refresh = false;
            let topic = self.topic.clone();
            for (leader, partitions) in by_leader(layout, &missing) {
                let client = self.connection(leader, bootstrap)?;
                let version = client.version_of::<FetchRequest>().ok_or_else(|| {
                    anyhow!("broker {leader} offers no Fetch version kraftd speaks")
                })?;
                let from = partitions
                    .iter()
                    .map(|p| (*p, records::next_offset(&fetched[p])));
                let request = requests::fetch(&layout.entry, &topic, version, from);
                let target = client.target.clone();
                let response = client
                    .call_version(&request, version)
                    .with_context(|| format!("Fetch from broker {leader} ({target})"))?;
                check(response.error_code, None)
                    .map_err(|e| anyhow!("Fetch from broker {leader}: {e}"))?;
                for data in response.responses.iter().flat_map(|t| t.partitions.iter()) {
                    let p = data.partition_index;
                    if let Err(e) = check(data.error_code, None) {
                        let text = format!("partition {p} on broker {leader}: {e}");
                        if !e.is_retriable() {
                            bail!("{text}");
                        }
                        last_error = text;
                        refresh = true;
                        continue;
                    }
                    let records = records::decode_batches(data.records.clone().unwrap_or_default())
                        .with_context(|| format!("decoding records of partition {p}"))?;
                    if let Some(got) = fetched.get_mut(&p) {
                        let from = records::next_offset(got);
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
}
