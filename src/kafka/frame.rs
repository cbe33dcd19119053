//! Kafka wire framing and version negotiation, without I/O: size-prefixed request frames out,
//! response sizes bounded and response headers checked on the way back, the ApiVersions answer
//! read into the versions a broker offers, and the version of a request both sides speak.

use super::errors::error_name;
use anyhow::{Context, Result, anyhow, bail};
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::messages::{RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use std::collections::HashMap;

/// Largest response accepted: far above anything a metadata/quorum/fetch answer of ours needs, and
/// a guard against reading garbage (e.g. a non-Kafka peer) as a length.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Kafka's UNSUPPORTED_VERSION error code (the broker then answers ApiVersions in v0 layout).
pub const UNSUPPORTED_VERSION: i16 = 35;

/// The ApiVersions version sent first (what current clients send); v0 is the fallback.
pub const API_VERSIONS_FIRST: i16 = 3;

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

/// The ApiVersions request kraftd sends (its software name and version, for broker logs).
pub fn api_versions_request() -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kraftd"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")))
}

/// The versions a broker offers: api key → (min, max).
pub type Offered = HashMap<i16, (i16, i16)>;

/// What an ApiVersions answer (body after the header) at `version` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiVersionsAnswer {
    /// UNSUPPORTED_VERSION: ask again in v0.
    AskV0,
    Offered(Offered),
}

/// Read an ApiVersions answer. A broker that does not speak `version` answers with
/// UNSUPPORTED_VERSION in the v0 layout, whatever was asked: the error code comes first.
pub fn read_api_versions(body: Bytes, version: i16) -> Result<ApiVersionsAnswer> {
    if version > 0
        && body.len() >= 2
        && i16::from_be_bytes([body[0], body[1]]) == UNSUPPORTED_VERSION
    {
        return Ok(ApiVersionsAnswer::AskV0);
    }
    let response = ApiVersionsResponse::decode(&mut body.clone(), version)
        .with_context(|| format!("decoding ApiVersions v{version}"))?;
    if response.error_code != 0 {
        bail!("ApiVersions returned {}", error_name(response.error_code));
    }
    Ok(ApiVersionsAnswer::Offered(
        response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect(),
    ))
}

/// The highest version of `R` both kraftd and the broker speak; None if there is none.
pub fn common_version<R: Request>(offered: &Offered) -> Option<i16> {
    let (broker_min, broker_max) = *offered.get(&R::KEY)?;
    let ours = R::VERSIONS;
    let v = broker_max.min(ours.max);
    (v >= broker_min.max(ours.min)).then_some(v)
}

/// Why there is no common version of `R` with `target`.
pub fn no_common_version<R: Request>(offered: &Offered, target: &str) -> anyhow::Error {
    match offered.get(&R::KEY) {
        None => anyhow!("{target} does not offer API key {}", R::KEY),
        Some((lo, hi)) => anyhow!(
            "{target} offers API key {} only in v{lo}-v{hi}; kraftd speaks v{}-v{}",
            R::KEY,
            R::VERSIONS.min,
            R::VERSIONS.max
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::{MetadataRequest, MetadataResponse};
    use kafka_protocol::protocol::{Message, decode_request_header_from_buffer};

    fn encoded(response: &ApiVersionsResponse, version: i16) -> Bytes {
        let mut buf = BytesMut::new();
        response.encode(&mut buf, version).unwrap();
        buf.freeze()
    }

    #[test]
    fn a_frame_carries_its_size_header_and_request() {
        let request = MetadataRequest::default().with_topics(Some(vec![]));
        let frame = request_frame(&request, 12, 7, "kraftd-test").unwrap();
        let size = i32::from_be_bytes(frame[..4].try_into().unwrap());
        assert_eq!(size as usize, frame.len() - 4);
        let mut rest = Bytes::copy_from_slice(&frame[4..]);
        let header = decode_request_header_from_buffer(&mut rest).unwrap();
        assert_eq!(header.request_api_key, 3);
        assert_eq!(header.request_api_version, 12);
        assert_eq!(header.correlation_id, 7);
        assert_eq!(header.client_id.as_deref(), Some("kraftd-test"));
        assert_eq!(MetadataRequest::decode(&mut rest, 12).unwrap(), request);
    }

    #[test]
    fn response_sizes_and_correlation_ids_are_checked() {
        assert_eq!(response_len(12).unwrap(), 12);
        assert!(response_len(-1).is_err());
        assert!(response_len(MAX_RESPONSE_BYTES as i32 + 1).is_err());
        // "HTTP" read as a size: implausible.
        assert!(response_len(i32::from_be_bytes(*b"HTTP")).is_err());

        let mut body = BytesMut::new();
        ResponseHeader::default()
            .with_correlation_id(5)
            .encode(&mut body, MetadataResponse::header_version(9))
            .unwrap();
        body.extend_from_slice(b"rest");
        let ok = response_body::<MetadataRequest>(body.to_vec(), 9, 5).unwrap();
        assert_eq!(&ok[..], b"rest");
        let err = response_body::<MetadataRequest>(body.to_vec(), 9, 6).unwrap_err();
        assert_eq!(
            err.to_string(),
            "response correlation id 5 does not match request 6"
        );
    }

    #[test]
    fn api_versions_answers_are_read_and_versions_agreed() {
        let response = ApiVersionsResponse::default().with_api_keys(vec![
            ApiVersion::default()
                .with_api_key(3)
                .with_min_version(0)
                .with_max_version(99),
            ApiVersion::default()
                .with_api_key(55)
                .with_min_version(0)
                .with_max_version(0),
        ]);
        let offered = match read_api_versions(encoded(&response, 3), 3).unwrap() {
            ApiVersionsAnswer::Offered(o) => o,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            common_version::<MetadataRequest>(&offered),
            Some(MetadataRequest::VERSIONS.max),
            "capped at what kraftd speaks"
        );
        assert_eq!(
            common_version::<kafka_protocol::messages::FetchRequest>(&offered),
            None
        );
        assert_eq!(
            no_common_version::<kafka_protocol::messages::FetchRequest>(&offered, "b:9092")
                .to_string(),
            "b:9092 does not offer API key 1"
        );

        // A broker that does not speak v3 answers UNSUPPORTED_VERSION in the v0 layout.
        let unsupported = ApiVersionsResponse::default().with_error_code(UNSUPPORTED_VERSION);
        assert_eq!(
            read_api_versions(encoded(&unsupported, 0), 3).unwrap(),
            ApiVersionsAnswer::AskV0
        );
        let other = ApiVersionsResponse::default().with_error_code(UNSUPPORTED_VERSION);
        assert!(
            read_api_versions(encoded(&other, 0), 0)
                .unwrap_err()
                .to_string()
                .starts_with("ApiVersions returned "),
            "in v0 it is an error, not a loop"
        );
    }
}
