//! ReadinessProbe: asks the broker over the Kafka protocol whether it serves (ApiVersions, then
//! Metadata with no topics) and whether this node is among the live (unfenced) brokers.
//!
//! Kafka opens the data-plane port only at the very end of startup, and leaves fenced brokers out of
//! Metadata responses, so "answers Metadata listing our own id" is both the readiness test and the
//! health test the watchdog repeats.

use anyhow::{Context, Result, anyhow, bail};
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse, RequestHeader,
    ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message, Request, StrBytes};
use std::fmt;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Kafka's UNSUPPORTED_VERSION error code (the broker then answers ApiVersions in v0 layout).
const UNSUPPORTED_VERSION: i16 = 35;
/// Responses bigger than this are not a Metadata answer for zero topics: treat as garbage.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// No TCP connection (refused, unreachable, timed out): the listener is not open yet.
    Unreachable { reason: String },
    /// Connected, but no valid answer (timeout, reset, error code, garbage).
    NoAnswer { reason: String },
    /// The broker answers, but this node is not among the live brokers (still fenced, or gone).
    NotRegistered { brokers: Vec<i32> },
    /// The broker serves and lists this node.
    Ready { brokers: Vec<i32>, cluster_id: Option<String>, controller_id: i32 },
}

impl ProbeOutcome {
    pub fn is_ready(&self) -> bool {
        matches!(self, ProbeOutcome::Ready { .. })
    }
}

impl fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeOutcome::Unreachable { reason } => write!(f, "not reachable: {reason}"),
            ProbeOutcome::NoAnswer { reason } => write!(f, "no valid answer: {reason}"),
            ProbeOutcome::NotRegistered { brokers } => {
                write!(f, "answers, but this node is not among the live brokers {brokers:?}")
            }
            ProbeOutcome::Ready { brokers, cluster_id, controller_id } => write!(
                f,
                "ready: live brokers {brokers:?}, cluster id {}, controller {controller_id}",
                cluster_id.as_deref().unwrap_or("?")
            ),
        }
    }
}

/// Probes one broker listener for one node id.
#[derive(Debug, Clone)]
pub struct ReadinessProbe {
    pub addr: SocketAddr,
    pub node_id: i32,
    pub connect_timeout: Duration,
    /// Bound on each request/response round trip.
    pub io_timeout: Duration,
}

impl ReadinessProbe {
    pub fn new(addr: SocketAddr, node_id: i32) -> ReadinessProbe {
        ReadinessProbe {
            addr,
            node_id,
            connect_timeout: Duration::from_secs(1),
            io_timeout: Duration::from_secs(3),
        }
    }

    /// Run one probe: connect, ApiVersions, Metadata. Never errors; the outcome says what happened.
    pub async fn probe(&self) -> ProbeOutcome {
        let stream = match timeout(self.connect_timeout, TcpStream::connect(self.addr)).await {
            Err(_) => {
                return ProbeOutcome::Unreachable {
                    reason: format!("connect to {} timed out after {:?}", self.addr, self.connect_timeout),
                };
            }
            Ok(Err(e)) => {
                return ProbeOutcome::Unreachable { reason: format!("connect to {}: {e}", self.addr) };
            }
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        match self.ask(stream).await {
            Ok(meta) => {
                let brokers: Vec<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
                if brokers.contains(&self.node_id) {
                    ProbeOutcome::Ready {
                        brokers,
                        cluster_id: meta.cluster_id.map(|c| c.to_string()),
                        controller_id: meta.controller_id.0,
                    }
                } else {
                    ProbeOutcome::NotRegistered { brokers }
                }
            }
            Err(e) => ProbeOutcome::NoAnswer { reason: format!("{e:#}") },
        }
    }

    async fn ask(&self, mut stream: TcpStream) -> Result<MetadataResponse> {
        let mut conn = Connection { stream: &mut stream, io_timeout: self.io_timeout, next_correlation: 1 };
        let metadata_max = conn.metadata_max_version().await?;
        let version = metadata_max.min(MetadataRequest::VERSIONS.max);
        if version < 1 {
            bail!("broker offers Metadata only up to v{metadata_max}; need v1 or later");
        }
        // No topics (an empty list, not null which means "all"), and never create any.
        let request = MetadataRequest::default()
            .with_topics(Some(Vec::new()))
            .with_allow_auto_topic_creation(false);
        let response = conn.call(&request, version).await.context("Metadata")?;
        if version >= 13 && response.error_code != 0 {
            bail!("Metadata v{version} returned error code {}", response.error_code);
        }
        Ok(response)
    }
}

struct Connection<'a> {
    stream: &'a mut TcpStream,
    io_timeout: Duration,
    next_correlation: i32,
}

impl Connection<'_> {
    /// ApiVersions v3 (what current clients send), falling back to v0 when the broker says the
    /// version is unsupported; returns the broker's highest Metadata version.
    async fn metadata_max_version(&mut self) -> Result<i16> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kraftd"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let body = self.round_trip(&request, 3).await.context("ApiVersions v3")?;
        let response = if body.len() >= 2 && i16::from_be_bytes([body[0], body[1]]) == UNSUPPORTED_VERSION
        {
            let body = self.round_trip(&request, 0).await.context("ApiVersions v0")?;
            ApiVersionsResponse::decode(&mut body.clone(), 0).context("decoding ApiVersions v0")?
        } else {
            ApiVersionsResponse::decode(&mut body.clone(), 3).context("decoding ApiVersions v3")?
        };
        if response.error_code != 0 {
            bail!("ApiVersions returned error code {}", response.error_code);
        }
        response
            .api_keys
            .iter()
            .find(|k| k.api_key == MetadataRequest::KEY)
            .map(|k| k.max_version)
            .ok_or_else(|| anyhow!("broker does not offer the Metadata API"))
    }

    async fn call<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response> {
        let mut body = self.round_trip(request, version).await?;
        let response = R::Response::decode(&mut body, version)
            .with_context(|| format!("decoding response to API key {} v{version}", R::KEY))?;
        Ok(response)
    }

    /// Send one framed request and return the response body after its (checked) header.
    async fn round_trip<R: Request>(&mut self, request: &R, version: i16) -> Result<Bytes> {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("kraftd-probe")));
        let mut payload = BytesMut::new();
        header.encode(&mut payload, R::header_version(version))?;
        request.encode(&mut payload, version)?;
        let mut frame = BytesMut::with_capacity(4 + payload.len());
        frame.put_i32(payload.len() as i32);
        frame.extend_from_slice(&payload);

        let io = async {
            self.stream.write_all(&frame).await.context("sending request")?;
            let len = self.stream.read_i32().await.map_err(|e| match e.kind() {
                ErrorKind::UnexpectedEof => anyhow!("connection closed by the broker"),
                _ => anyhow!(e).context("reading response size"),
            })?;
            let len = usize::try_from(len).ok().filter(|&l| l <= MAX_RESPONSE_BYTES);
            let len = len.ok_or_else(|| anyhow!("implausible response size"))?;
            let mut body = vec![0u8; len];
            self.stream.read_exact(&mut body).await.context("reading response")?;
            anyhow::Ok(body)
        };
        let body = timeout(self.io_timeout, io)
            .await
            .map_err(|_| anyhow!("no response within {:?}", self.io_timeout))??;
        let mut body = Bytes::from(body);
        let response_header = ResponseHeader::decode(&mut body, R::Response::header_version(version))
            .context("decoding response header")?;
        if response_header.correlation_id != correlation_id {
            bail!(
                "response correlation id {} does not match request {correlation_id}",
                response_header.correlation_id
            );
        }
        Ok(body)
    }
}
