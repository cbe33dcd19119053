//! Record batches, without I/O: the one batch per partition a non-idempotent producer sends, and
//! the complete batches of a Fetch answer decoded back into records.

use anyhow::{Context, Result, anyhow};
use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// A plain record (no headers, not transactional) at `offset` within its batch.
pub fn record(offset: i64, timestamp: i64, key: Bytes, value: Bytes) -> Record {
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
        key: Some(key),
        value: Some(value),
        headers: IndexMap::new(),
    }
}

/// `records` (offsets 0, 1, …, from `record`) as one uncompressed v2 record batch.
pub fn encode_batch(records: &[Record]) -> Result<Bytes> {
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .context("encoding the record batch")?;
    Ok(buf.freeze())
}

/// The next offset to fetch after `got` (0 when empty).
pub fn next_offset(got: &[Record]) -> i64 {
    got.last().map(|r| r.offset + 1).unwrap_or(0)
}

/// Decode the complete record batches in a Fetch answer; a trailing partial batch (the broker
/// cuts at the byte limit) is left for the next fetch.
pub fn decode_batches(mut data: Bytes) -> Result<Vec<Record>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: i64, base: i64) -> Bytes {
        let records: Vec<Record> = (0..n)
            .map(|i| {
                record(
                    base + i,
                    0,
                    format!("{}", base + i).into(),
                    format!("v{}", base + i).into(),
                )
            })
            .collect();
        encode_batch(&records).unwrap()
    }

    #[test]
    fn one_batch_per_partition_and_partial_batches_wait() {
        let batches = RecordBatchDecoder::decode_batch_info(&mut batch(5, 0)).unwrap();
        assert_eq!(
            batches.len(),
            1,
            "a Produce request may carry one batch per partition"
        );
        assert_eq!(batches[0].base_sequence, -1);

        let mut data = BytesMut::new();
        data.extend_from_slice(&batch(3, 0));
        data.extend_from_slice(&batch(2, 3));
        // A partial third batch, as a broker cut at the byte limit sends: ignored.
        let extra = batch(1, 5);
        data.extend_from_slice(&extra[..extra.len() - 3]);
        let got = decode_batches(data.freeze()).unwrap();
        let offsets: Vec<i64> = got.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![0, 1, 2, 3, 4]);
        assert_eq!(got[4].value.as_deref(), Some(&b"v4"[..]));
        assert_eq!(next_offset(&got), 5);
        assert_eq!(next_offset(&[]), 0);
    }
}
