//! `KafkaClient`: the one Kafka-protocol connection kraftd opens (the daemon's readiness probe,
//! `kraftd status`, `kraftd smoke-test`, the installer's join check). `Connector` dials (connect
//! timeout, overall deadline, client id, transport), `KafkaClient` negotiates ApiVersions and sends
//! typed requests, each round trip bounded by its own deadline.

use super::frame::{self, ApiVersionsAnswer, Offered};
use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use kafka_protocol::protocol::{Decodable, Request};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Why a connection could not be used. Callers branch on it: `Connect` means the listener is not
/// reachable at all (status exit 2, probe "not reachable"), `Protocol` means something answered but
/// not as a Kafka broker.
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

/// The time left until `deadline`, at most `limit`; None once it has passed.
pub fn bounded(limit: Duration, deadline: Option<Instant>) -> Option<Duration> {
    match deadline {
        None => Some(limit),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            (!left.is_zero()).then(|| left.min(limit))
        }
    }
}

/// The byte stream under a connection. The seam for TLS/SASL: a TLS transport wraps the TCP
/// stream (e.g. `rustls::StreamOwned`) and forwards the timeouts to its socket; SASL is a
/// handshake `KafkaClient` runs after ApiVersions on any transport.
pub trait Transport: Read + Write + Send {
    /// Bound the next reads and writes (None: no bound).
    fn set_io_timeout(&mut self, limit: Option<Duration>) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_io_timeout(&mut self, limit: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(limit)?;
        self.set_write_timeout(limit)
    }
}

/// How to open connections: bounds, the client id brokers log, and (later) the security settings
/// that pick the transport.
#[derive(Debug, Clone)]
pub struct Connector {
    pub timeouts: Timeouts,
    /// Every connect, request and response ends by then (the caller's overall time limit).
    pub deadline: Option<Instant>,
    pub client_id: &'static str,
}

impl Connector {
    pub fn new(timeouts: Timeouts) -> Connector {
        Connector {
            timeouts,
            deadline: None,
            client_id: "kraftd",
        }
    }

    pub fn until(mut self, deadline: Option<Instant>) -> Connector {
        self.deadline = deadline;
        self
    }

    pub fn client_id(mut self, client_id: &'static str) -> Connector {
        self.client_id = client_id;
        self
    }

    /// Connect to `target` ("host:port", any address it resolves to) and negotiate API versions.
    pub fn connect(&self, target: &str) -> Result<KafkaClient, ClientError> {
        let addrs: Vec<SocketAddr> = target
            .to_socket_addrs()
            .map_err(|e| ClientError::Connect {
                target: target.to_string(),
                reason: format!("cannot resolve it: {e} (expected HOST:PORT)"),
            })?
            .collect();
        self.connect_to(target, &addrs)
    }

    /// Connect to one address (named as itself in messages) and negotiate API versions.
    pub fn connect_addr(&self, addr: SocketAddr) -> Result<KafkaClient, ClientError> {
        self.connect_to(&addr.to_string(), &[addr])
    }

    fn connect_to(&self, target: &str, addrs: &[SocketAddr]) -> Result<KafkaClient, ClientError> {
        let connect_err = |reason: String| ClientError::Connect {
            target: target.to_string(),
            reason,
        };
        let mut failures = Vec::new();
        let mut connected = None;
        for addr in addrs {
            let Some(limit) = bounded(self.timeouts.connect, self.deadline) else {
                failures.push((addr, "the time limit passed before connecting".to_string()));
                break;
            };
            match TcpStream::connect_timeout(addr, limit) {
                Ok(s) => {
                    connected = Some((s, *addr));
                    break;
                }
                Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
                    failures.push((addr, format!("no answer within {limit:?}")))
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
        let mut stream = self
            .transport(stream)
            .map_err(|e| connect_err(e.to_string()))?;
        stream
            .set_io_timeout(Some(self.timeouts.io))
            .map_err(|e| connect_err(e.to_string()))?;
        let mut client = KafkaClient {
            stream,
            target: target.to_string(),
            addr,
            api_versions: Offered::new(),
            next_correlation: 1,
            deadline: self.deadline,
            io: self.timeouts.io,
            client_id: self.client_id,
        };
        client.negotiate().map_err(|reason| ClientError::Protocol {
            target: target.to_string(),
            reason,
        })?;
        Ok(client)
    }

    /// The transport over a connected TCP stream: plaintext today; TLS wraps it here.
    fn transport(&self, tcp: TcpStream) -> io::Result<Box<dyn Transport>> {
        Ok(Box::new(tcp))
    }
}

/// One connection to one broker (or controller) listener, after ApiVersions.
pub struct KafkaClient {
    stream: Box<dyn Transport>,
    /// What was dialled, as given ("host:port"), for messages.
    pub target: String,
    pub addr: SocketAddr,
    /// api key → (min, max) version the broker offers.
    api_versions: Offered,
    next_correlation: i32,
    /// Every read and write ends by then (`connect_until`); None: only `Timeouts::io` bounds them.
    deadline: Option<Instant>,
    io: Duration,
    client_id: &'static str,
}

impl KafkaClient {
    /// Connect to `target` ("host:port", any address it resolves to) and negotiate API versions.
    pub fn connect(target: &str, timeouts: Timeouts) -> Result<KafkaClient, ClientError> {
        Connector::new(timeouts).connect(target)
    }

    /// As `connect`, with every step (connect, each request and response) also ending by
    /// `deadline`: the caller's overall time limit bounds the whole conversation.
    pub fn connect_until(
        target: &str,
        timeouts: Timeouts,
        deadline: Option<Instant>,
    ) -> Result<KafkaClient, ClientError> {
        Connector::new(timeouts).until(deadline).connect(target)
    }

    /// ApiVersions v3 (what current clients send), falling back to v0 when the broker says the
    /// version is unsupported.
    fn negotiate(&mut self) -> Result<()> {
        let request = frame::api_versions_request();
        let first = frame::API_VERSIONS_FIRST;
        let body = self
            .round_trip(&request, first)
            .with_context(|| format!("ApiVersions v{first}"))?;
        let answer = match frame::read_api_versions(body, first)? {
            ApiVersionsAnswer::AskV0 => {
                let body = self.round_trip(&request, 0).context("ApiVersions v0")?;
                frame::read_api_versions(body, 0)?
            }
            offered => offered,
        };
        match answer {
            ApiVersionsAnswer::Offered(offered) => self.api_versions = offered,
            ApiVersionsAnswer::AskV0 => unreachable!("v0 is never answered with AskV0"),
        }
        Ok(())
    }

    /// The highest version of `R` both this client and the broker speak; None if there is none.
    pub fn version_of<R: Request>(&self) -> Option<i16> {
        frame::common_version::<R>(&self.api_versions)
    }

    /// Send `request` at the highest common version; returns the response and that version.
    pub fn call<R: Request>(&mut self, request: &R) -> Result<(R::Response, i16)> {
        let version = self
            .version_of::<R>()
            .ok_or_else(|| frame::no_common_version::<R>(&self.api_versions, &self.target))?;
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
        let frame = frame::request_frame(request, version, correlation_id, self.client_id)?;
        let addr = self.addr;
        let io_error = |e: io::Error, what: &str| match e.kind() {
            ErrorKind::UnexpectedEof => anyhow!("connection closed by {addr} while {what}"),
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                anyhow!("no response from {addr} ({what} timed out)")
            }
            _ => anyhow!("{what}: {e}"),
        };
        // Each round trip gets the io bound, cut to what is left before the deadline.
        let limit = bounded(self.io, self.deadline).ok_or_else(|| {
            anyhow!("no response from {addr}: the time limit passed before the request")
        })?;
        let until = Instant::now() + limit;
        self.stream.set_io_timeout(Some(limit))?;
        self.stream
            .write_all(&frame)
            .map_err(|e| io_error(e, "sending the request"))?;
        let mut size = [0u8; 4];
        read_until(&mut *self.stream, &mut size, until)
            .map_err(|e| io_error(e, "waiting for the response"))?;
        let len = frame::response_len(i32::from_be_bytes(size))
            .with_context(|| format!("from {addr}"))?;
        let mut body = vec![0u8; len];
        read_until(&mut *self.stream, &mut body, until)
            .map_err(|e| io_error(e, "reading the response"))?;
        frame::response_body::<R>(body, version, correlation_id)
    }
}

/// Fill `buf` by `until`: a peer that trickles bytes cannot stretch a round trip past its bound.
fn read_until(stream: &mut dyn Transport, buf: &mut [u8], until: Instant) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        stream.set_io_timeout(Some(left))?;
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn refused_is_a_connect_error_and_garbage_a_protocol_error() {
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = match KafkaClient::connect(&closed.to_string(), Timeouts::default()) {
            Err(e) => e,
            Ok(_) => panic!("connected to a closed port"),
        };
        assert!(
            matches!(&err, ClientError::Connect { reason, .. } if reason.contains("nothing listens there")),
            "{err}"
        );

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        });
        let err = match Connector::new(Timeouts::default()).connect_addr(addr) {
            Err(e) => e,
            Ok(_) => panic!("an HTTP server is no broker"),
        };
        server.join().unwrap();
        assert!(
            matches!(&err, ClientError::Protocol { .. }),
            "{err}: a non-Kafka answer is a protocol error"
        );
        assert!(
            err.to_string().contains("implausible response size"),
            "{err}"
        );
    }

    #[test]
    fn a_silent_peer_times_out_by_the_round_trip_bound() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let timeouts = Timeouts {
            connect: Duration::from_secs(1),
            io: Duration::from_millis(200),
        };
        let started = Instant::now();
        let err = match Connector::new(timeouts).connect_addr(addr) {
            Err(e) => e,
            Ok(_) => panic!("nobody answered"),
        };
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            err.to_string()
                .contains("(waiting for the response timed out)"),
            "{err}"
        );
        drop(listener);
    }
}
