//! KafkaClient: one blocking Kafka-protocol connection (framing, ApiVersions negotiation, typed
//! request/response calls) shared by `kraftd status` and `kraftd smoke-test`.
//!
//! Blocking std sockets on purpose: the operator commands ask a handful of questions in sequence,
//! and every read/write is bounded by a timeout, so no runtime is needed.

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, Request, StrBytes};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Kafka's UNSUPPORTED_VERSION error code (the broker then answers ApiVersions in v0 layout).
const UNSUPPORTED_VERSION: i16 = 35;

/// Why a connection could not be used. Callers branch on it: `Connect` means the listener is not
/// reachable at all (status exit 2), `Protocol` means something answered but not as a Kafka broker.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
    #[error("{target} does not answer the Kafka protocol: {reason:#}")]
    Protocol {
        target: String,
        reason: anyhow::Error,
    },
}

/// Bounds for connecting and for each request/response round trip.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub io: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(3),
            io: Duration::from_secs(10),
        }
    }
}

/// Kafka error code → its name (e.g. `NOT_LEADER_OR_FOLLOWER`-style `NotLeaderOrFollower`).
pub fn error_name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        None => "NONE".to_string(),
        Some(e) => format!("{e} (code {code})"),
    }
}

/// Whether the Kafka protocol marks this error code as retriable.
pub fn is_retriable(code: i16) -> bool {
    ResponseError::try_from_code(code).is_some_and(|e| e.is_retriable())
}

/// One connection to one broker (or controller) listener, after ApiVersions.
pub struct KafkaClient {
    stream: TcpStream,
    /// What was dialled, as given ("host:port"), for messages.
    pub target: String,
    pub addr: SocketAddr,
    /// api key → (min, max) version the broker offers.
    api_versions: HashMap<i16, (i16, i16)>,
    next_correlation: i32,
}

impl KafkaClient {
    /// Connect to `target` ("host:port", any address it resolves to) and negotiate API versions.
    pub fn connect(target: &str, timeouts: Timeouts) -> Result<KafkaClient, ClientError> {
        let connect_err = |reason: String| ClientError::Connect {
            target: target.to_string(),
            reason,
        };
        let addrs: Vec<SocketAddr> = target
            .to_socket_addrs()
            .map_err(|e| connect_err(format!("cannot resolve it: {e} (expected HOST:PORT)")))?
            .collect();
        let mut failures = Vec::new();
        let mut connected = None;
        for addr in &addrs {
            match TcpStream::connect_timeout(addr, timeouts.connect) {
                Ok(s) => {
                    connected = Some((s, *addr));
                    break;
                }
                Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
                    failures.push((addr, format!("no answer within {:?}", timeouts.connect)))
                }
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => failures.push((
                    addr,
                    format!("{e}: nothing listens there (is Kafka running?)"),
                )),
                Err(e) => failures.push((addr, e.to_string())),
            }
        }
        // Name the address only when the name resolved to several.
        let last = match failures.as_slice() {
            [] => "it resolves to no address".to_string(),
            [(_, reason)] => reason.clone(),
            many => many
                .iter()
                .map(|(a, r)| format!("{a}: {r}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let (stream, addr) = connected.ok_or_else(|| connect_err(last))?;
        let _ = stream.set_nodelay(true);
        stream
            .set_read_timeout(Some(timeouts.io))
            .map_err(|e| connect_err(e.to_string()))?;
        stream
            .set_write_timeout(Some(timeouts.io))
            .map_err(|e| connect_err(e.to_string()))?;
        let mut client = KafkaClient {
            stream,
            target: target.to_string(),
            addr,
            api_versions: HashMap::new(),
            next_correlation: 1,
        };
        client.negotiate().map_err(|reason| ClientError::Protocol {
            target: target.to_string(),
            reason,
        })?;
        Ok(client)
    }

    /// ApiVersions v3 (what current clients send), falling back to v0 when the broker says the
    /// version is unsupported.
    fn negotiate(&mut self) -> Result<()> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kraftd"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let body = self.round_trip(&request, 3).context("ApiVersions v3")?;
        let response = if body.len() >= 2
            && i16::from_be_bytes([body[0], body[1]]) == UNSUPPORTED_VERSION
        {
            let body = self.round_trip(&request, 0).context("ApiVersions v0")?;
            ApiVersionsResponse::decode(&mut body.clone(), 0).context("decoding ApiVersions v0")?
        } else {
            ApiVersionsResponse::decode(&mut body.clone(), 3).context("decoding ApiVersions v3")?
        };
        if response.error_code != 0 {
            bail!("ApiVersions returned {}", error_name(response.error_code));
        }
        self.api_versions = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Ok(())
    }

    /// The highest version of `R` both this client and the broker speak; None if there is none.
    pub fn version_of<R: Request>(&self) -> Option<i16> {
        let (broker_min, broker_max) = *self.api_versions.get(&R::KEY)?;
        let ours = R::VERSIONS;
        let v = broker_max.min(ours.max);
        (v >= broker_min.max(ours.min)).then_some(v)
    }

    /// Send `request` at the highest common version; returns the response and that version.
    pub fn call<R: Request>(&mut self, request: &R) -> Result<(R::Response, i16)> {
        let version = self.version_of::<R>().ok_or_else(|| {
            let offered = self.api_versions.get(&R::KEY);
            match offered {
                None => anyhow!("{} does not offer API key {}", self.target, R::KEY),
                Some((lo, hi)) => anyhow!(
                    "{} offers API key {} only in v{lo}-v{hi}; kraftd speaks v{}-v{}",
                    self.target,
                    R::KEY,
                    R::VERSIONS.min,
                    R::VERSIONS.max
                ),
            }
        })?;
        Ok((self.call_version(request, version)?, version))
    }

    /// Send `request` at `version`.
    pub fn call_version<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response> {
        let mut body = self.round_trip(request, version)?;
        R::Response::decode(&mut body, version)
            .with_context(|| format!("decoding the response to API key {} v{version}", R::KEY))
    }

    /// Send one framed request and return the response body after its (checked) header.
    fn round_trip<R: Request>(&mut self, request: &R, version: i16) -> Result<Bytes> {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        let frame = crate::wire::request_frame(request, version, correlation_id, "kraftd")?;

        let io_error = |e: std::io::Error, what: &str| match e.kind() {
            ErrorKind::UnexpectedEof => anyhow!("connection closed by {} while {what}", self.addr),
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                anyhow!("no response from {} ({what} timed out)", self.addr)
            }
            _ => anyhow!("{what}: {e}"),
        };
        self.stream
            .write_all(&frame)
            .map_err(|e| io_error(e, "sending the request"))?;
        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .map_err(|e| io_error(e, "waiting for the response"))?;
        let len = crate::wire::response_len(i32::from_be_bytes(size))
            .with_context(|| format!("from {}", self.addr))?;
        let mut body = vec![0u8; len];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| io_error(e, "reading the response"))?;
        crate::wire::response_body::<R>(body, version, correlation_id)
    }
}
