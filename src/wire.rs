//! Kafka wire framing shared by the readiness probe and the operator client: size-prefixed request
//! frames out, response sizes bounded and response headers checked on the way back.

use anyhow::{Context, Result, anyhow, bail};
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

/// Largest response accepted: far above anything a metadata/quorum/fetch answer of ours needs, and
/// a guard against reading garbage (e.g. a non-Kafka peer) as a length.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The size-prefixed frame of `request` at `version` with its request header.
pub fn request_frame<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: &'static str,
) -> Result<BytesMut> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str(client_id)));
    let mut payload = BytesMut::new();
    header.encode(&mut payload, R::header_version(version))?;
    request.encode(&mut payload, version)?;
    let mut frame = BytesMut::with_capacity(4 + payload.len());
    frame.put_i32(payload.len() as i32);
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// The body length announced by a response's 4-byte size prefix, if plausible.
pub fn response_len(size: i32) -> Result<usize> {
    usize::try_from(size)
        .ok()
        .filter(|&l| l <= MAX_RESPONSE_BYTES)
        .ok_or_else(|| anyhow!("implausible response size {size}"))
}

/// Strip and check the response header (correlation id) and return the response body.
pub fn response_body<R: Request>(
    body: Vec<u8>,
    version: i16,
    correlation_id: i32,
) -> Result<Bytes> {
    let mut body = Bytes::from(body);
    let header = ResponseHeader::decode(&mut body, R::Response::header_version(version))
        .context("decoding the response header")?;
    if header.correlation_id != correlation_id {
        bail!(
            "response correlation id {} does not match request {correlation_id}",
            header.correlation_id
        );
    }
    Ok(body)
}
