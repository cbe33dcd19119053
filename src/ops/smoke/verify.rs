//! Smoke-test step "verify", and the records it expects: record i goes to partition i mod P, and
//! every partition must hold exactly its records, in produce order, at offsets 0, 1, 2, …

use super::{Expected, SmokeOptions};
use anyhow::{Result, bail};
use bytes::Bytes;
use kafka_protocol::records::Record;
use std::collections::BTreeMap;

/// Record i goes to partition i mod P: keys and values name the record and the topic.
pub(super) fn expected_records(opts: &SmokeOptions, topic: &str) -> BTreeMap<i32, Vec<Expected>> {
    let mut by_partition: BTreeMap<i32, Vec<Expected>> = BTreeMap::new();
    for i in 0..opts.records {
        let partition = (i % opts.partitions) as i32;
        by_partition.entry(partition).or_default().push(Expected {
            key: Bytes::from(format!("{i}")),
            value: Bytes::from(format!(
                "kraftd smoke-test record {i} of {} in {topic}",
                opts.records
            )),
        });
    }
    by_partition
}

/// Every partition holds exactly its expected records, in produce order, at offsets 0, 1, 2, …
pub(super) fn verify(
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
    use crate::kafka::records;
    use bytes::BytesMut;

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
            .map(|(i, e)| records::record(base + i as i64, 0, e.key.clone(), e.value.clone()))
            .collect();
        records::encode_batch(&records).unwrap()
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
        let got = records::decode_batches(data.freeze()).unwrap();
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
}
