//! ReadinessProbe: asks the broker over the Kafka protocol whether it serves (ApiVersions, then
//! Metadata with no topics) and whether this node is among the live (unfenced) brokers.
//!
//! Kafka opens the data-plane port only at the very end of startup, and leaves fenced brokers out of
//! Metadata responses, so "answers Metadata listing our own id" is both the readiness test and the
//! health test the watchdog repeats.
//!
//! A controller-only node has no client listener: `QuorumProbe` asks the voters' controller
//! listeners (DescribeQuorum, which only the leader answers) and calls the node ready when a leader
//! lists this node among the voters and has heard from it.

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, DescribeQuorumRequest, DescribeQuorumResponse,
    MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::{Decodable, Message, Request, StrBytes};
use std::fmt;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Kafka's UNSUPPORTED_VERSION error code (the broker then answers ApiVersions in v0 layout).
const UNSUPPORTED_VERSION: i16 = 35;

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
    Ready {
        brokers: Vec<i32>,
        cluster_id: Option<String>,
        controller_id: i32,
    },
    /// No quorum leader lists this node yet: `reachable` of `voters` controller listeners answer.
    QuorumWaiting {
        reachable: usize,
        voters: usize,
        detail: String,
    },
    /// The quorum has a leader that lists this (controller) node among its voters.
    QuorumReady(QuorumView),
}

/// The leader's view of the quorum (DescribeQuorum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumView {
    pub leader: i32,
    pub epoch: i32,
    pub high_watermark: i64,
    /// (voter id, records behind the high watermark; None when the leader has not heard from it).
    pub lags: Vec<(i32, Option<i64>)>,
}

impl fmt::Display for QuorumView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "leader {} (epoch {}), voter lag",
            self.leader, self.epoch
        )?;
        for (i, (id, lag)) in self.lags.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            match lag {
                Some(l) => write!(f, "{sep}{id}:{l}")?,
                None => write!(f, "{sep}{id}:?")?,
            }
        }
        Ok(())
    }
}

impl ProbeOutcome {
    pub fn is_ready(&self) -> bool {
        matches!(
            self,
            ProbeOutcome::Ready { .. } | ProbeOutcome::QuorumReady(_)
        )
    }
}

impl fmt::Display for ProbeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeOutcome::Unreachable { reason } => write!(f, "not reachable: {reason}"),
            ProbeOutcome::NoAnswer { reason } => write!(f, "no valid answer: {reason}"),
            ProbeOutcome::NotRegistered { brokers } => {
                write!(
                    f,
                    "answers, but this node is not among the live brokers {brokers:?}"
                )
            }
            ProbeOutcome::Ready {
                brokers,
                cluster_id,
                controller_id,
            } => write!(
                f,
                "ready: live brokers {brokers:?}, cluster id {}, controller {controller_id}",
                cluster_id.as_deref().unwrap_or("?")
            ),
            ProbeOutcome::QuorumWaiting {
                reachable,
                voters,
                detail,
            } => {
                write!(f, "waiting for quorum {reachable}/{voters}: {detail}")
            }
            ProbeOutcome::QuorumReady(view) => write!(f, "in quorum: {view}"),
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
                    reason: format!(
                        "connect to {} timed out after {:?}",
                        self.addr, self.connect_timeout
                    ),
                };
            }
            Ok(Err(e)) => {
                return ProbeOutcome::Unreachable {
                    reason: format!("connect to {}: {e}", self.addr),
                };
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
            Err(e) => ProbeOutcome::NoAnswer {
                reason: format!("{e:#}"),
            },
        }
    }

    async fn ask(&self, mut stream: TcpStream) -> Result<MetadataResponse> {
        let mut conn = Connection {
            stream: &mut stream,
            io_timeout: self.io_timeout,
            next_correlation: 1,
        };
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
            bail!(
                "Metadata v{version} returned error code {}",
                response.error_code
            );
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
        self.api_max_version(MetadataRequest::KEY, "Metadata").await
    }

    /// The highest version of API `key` the server offers (ApiVersions).
    async fn api_max_version(&mut self, key: i16, name: &str) -> Result<i16> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kraftd"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let body = self
            .round_trip(&request, 3)
            .await
            .context("ApiVersions v3")?;
        let response = if body.len() >= 2
            && i16::from_be_bytes([body[0], body[1]]) == UNSUPPORTED_VERSION
        {
            let body = self
                .round_trip(&request, 0)
                .await
                .context("ApiVersions v0")?;
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
            .find(|k| k.api_key == key)
            .map(|k| k.max_version)
            .ok_or_else(|| anyhow!("the server does not offer the {name} API"))
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
        let frame = crate::wire::request_frame(request, version, correlation_id, "kraftd-probe")?;

        let io = async {
            self.stream
                .write_all(&frame)
                .await
                .context("sending request")?;
            let len = self.stream.read_i32().await.map_err(|e| match e.kind() {
                ErrorKind::UnexpectedEof => anyhow!("connection closed by the broker"),
                _ => anyhow!(e).context("reading response size"),
            })?;
            let len = crate::wire::response_len(len)?;
            let mut body = vec![0u8; len];
            self.stream
                .read_exact(&mut body)
                .await
                .context("reading response")?;
            anyhow::Ok(body)
        };
        let body = timeout(self.io_timeout, io)
            .await
            .map_err(|_| anyhow!("no response within {:?}", self.io_timeout))??;
        crate::wire::response_body::<R>(body, version, correlation_id)
    }
}

/// Asks the controller quorum whether this controller is a voter the leader hears from.
#[derive(Debug, Clone)]
pub struct QuorumProbe {
    /// This node's id.
    pub node_id: i32,
    /// Every voter's controller listener (this node's own included), from the static voter set.
    pub voters: Vec<(i32, SocketAddr)>,
    /// Require this node's own controller listener to answer (false on a broker-only node, which
    /// asks only to explain what it waits for).
    pub is_voter: bool,
    pub connect_timeout: Duration,
    pub io_timeout: Duration,
}

impl QuorumProbe {
    pub fn new(node_id: i32, voters: Vec<(i32, SocketAddr)>, is_voter: bool) -> QuorumProbe {
        QuorumProbe {
            node_id,
            voters,
            is_voter,
            connect_timeout: Duration::from_secs(1),
            io_timeout: Duration::from_secs(3),
        }
    }

    /// Ask the voters (this node first) until the leader answers. Never errors.
    pub async fn probe(&self) -> ProbeOutcome {
        let mut order: Vec<&(i32, SocketAddr)> = self
            .voters
            .iter()
            .filter(|(id, _)| *id == self.node_id)
            .collect();
        order.extend(self.voters.iter().filter(|(id, _)| *id != self.node_id));
        let mut reachable = 0;
        let mut notes = Vec::new();
        for (id, addr) in order {
            let stream = match timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    notes.push(format!("{id}@{addr}: {e}"));
                    continue;
                }
                Err(_) => {
                    notes.push(format!("{id}@{addr}: connect timed out"));
                    continue;
                }
            };
            reachable += 1;
            let _ = stream.set_nodelay(true);
            match self.describe(stream).await {
                Ok(Some(view)) => return self.judge(view, reachable),
                Ok(None) => notes.push(format!("{id}: not the leader")),
                Err(e) => notes.push(format!("{id}: {e:#}")),
            }
        }
        if self.is_voter && !self.voters.iter().any(|(id, _)| *id == self.node_id) {
            notes.insert(0, format!("node {} is not in the voter set", self.node_id));
        }
        ProbeOutcome::QuorumWaiting {
            reachable,
            voters: self.voters.len(),
            detail: format!("no leader found ({})", notes.join("; ")),
        }
    }

    fn judge(&self, view: QuorumView, reachable: usize) -> ProbeOutcome {
        if !self.is_voter {
            return ProbeOutcome::QuorumReady(view);
        }
        match view.lags.iter().find(|(id, _)| *id == self.node_id) {
            // The leader has fetched-from-us data (or is us): a working voter.
            Some((_, Some(_))) => ProbeOutcome::QuorumReady(view),
            Some((_, None)) => ProbeOutcome::QuorumWaiting {
                reachable,
                voters: self.voters.len(),
                detail: format!("leader {} has not heard from this node yet", view.leader),
            },
            None => ProbeOutcome::QuorumWaiting {
                reachable,
                voters: self.voters.len(),
                detail: format!(
                    "leader {} does not list node {} among the voters ({view})",
                    view.leader, self.node_id
                ),
            },
        }
    }

    /// DescribeQuorum on one controller: Some(view) from the leader, None from a non-leader.
    async fn describe(&self, mut stream: TcpStream) -> Result<Option<QuorumView>> {
        let mut conn = Connection {
            stream: &mut stream,
            io_timeout: self.io_timeout,
            next_correlation: 1,
        };
        let max = conn
            .api_max_version(DescribeQuorumRequest::KEY, "DescribeQuorum")
            .await?;
        let version = max.min(DescribeQuorumRequest::VERSIONS.max);
        let request = DescribeQuorumRequest::default().with_topics(vec![
            TopicData::default()
                .with_topic_name(TopicName(StrBytes::from_static_str("__cluster_metadata")))
                .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
        ]);
        let response: DescribeQuorumResponse = conn
            .call(&request, version)
            .await
            .context("DescribeQuorum")?;
        if response.error_code != 0 {
            // NOT_LEADER_OR_FOLLOWER (6) and friends: ask the next voter.
            return Ok(None);
        }
        let Some(partition) = response.topics.first().and_then(|t| t.partitions.first()) else {
            bail!("DescribeQuorum answer without the metadata partition");
        };
        if partition.error_code != 0 || partition.leader_id.0 < 0 {
            return Ok(None);
        }
        let hw = partition.high_watermark;
        let lags = partition
            .current_voters
            .iter()
            .map(|v| {
                (
                    v.replica_id.0,
                    (v.log_end_offset >= 0).then(|| (hw - v.log_end_offset).max(0)),
                )
            })
            .collect();
        Ok(Some(QuorumView {
            leader: partition.leader_id.0,
            epoch: partition.leader_epoch,
            high_watermark: hw,
            lags,
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The probe's decisions against a tiny fake broker (the real broker is the integration test;
    //! this covers answers a healthy single node never gives: other brokers only, garbage).
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::messages::ResponseHeader;
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
    use kafka_protocol::messages::{ApiKey, BrokerId};
    use kafka_protocol::protocol::decode_request_header_from_buffer;
    use kafka_protocol::protocol::{Encodable, HeaderVersion};
    use tokio::net::TcpListener;

    /// Serve one connection: answer ApiVersions and Metadata (listing `brokers`) like Kafka does.
    async fn fake_broker(brokers: Vec<i32>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            loop {
                let Ok(len) = s.read_i32().await else { return };
                let mut buf = vec![0u8; len as usize];
                s.read_exact(&mut buf).await.unwrap();
                let mut buf = Bytes::from(buf);
                let header = decode_request_header_from_buffer(&mut buf).unwrap();
                let version = header.request_api_version;
                let mut body = BytesMut::new();
                let response_header =
                    ResponseHeader::default().with_correlation_id(header.correlation_id);
                match ApiKey::try_from(header.request_api_key).unwrap() {
                    ApiKey::ApiVersions => {
                        response_header.encode(&mut body, 0).unwrap();
                        ApiVersionsResponse::default()
                            .with_api_keys(vec![
                                ApiVersion::default().with_api_key(18).with_max_version(3),
                                ApiVersion::default().with_api_key(3).with_max_version(12),
                            ])
                            .encode(&mut body, version)
                            .unwrap();
                    }
                    ApiKey::Metadata => {
                        assert_eq!(
                            version, 12,
                            "the probe uses the broker's highest Metadata version"
                        );
                        let request = MetadataRequest::decode(&mut buf, version).unwrap();
                        assert_eq!(request.topics, Some(vec![]), "no topics, never all of them");
                        assert!(!request.allow_auto_topic_creation);
                        response_header
                            .encode(&mut body, MetadataResponse::header_version(version))
                            .unwrap();
                        MetadataResponse::default()
                            .with_brokers(
                                brokers
                                    .iter()
                                    .map(|&id| {
                                        MetadataResponseBroker::default()
                                            .with_node_id(BrokerId(id))
                                            .with_port(9092)
                                    })
                                    .collect(),
                            )
                            .encode(&mut body, version)
                            .unwrap();
                    }
                    other => panic!("unexpected request {other:?}"),
                }
                s.write_i32(body.len() as i32).await.unwrap();
                s.write_all(&body).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn ready_only_when_listing_its_own_id() {
        let outcome = ReadinessProbe::new(fake_broker(vec![1, 2]).await, 1)
            .probe()
            .await;
        assert!(
            matches!(outcome, ProbeOutcome::Ready { ref brokers, .. } if brokers == &[1, 2]),
            "{outcome}"
        );
        let outcome = ReadinessProbe::new(fake_broker(vec![2]).await, 1)
            .probe()
            .await;
        assert_eq!(outcome, ProbeOutcome::NotRegistered { brokers: vec![2] });
    }

    #[tokio::test]
    async fn refused_and_garbage_are_not_ready() {
        let closed = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let outcome = ReadinessProbe::new(closed, 1).probe().await;
        assert!(
            matches!(outcome, ProbeOutcome::Unreachable { .. }),
            "{outcome}"
        );

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        });
        let outcome = ReadinessProbe::new(addr, 1).probe().await;
        assert!(
            matches!(outcome, ProbeOutcome::NoAnswer { .. }),
            "{outcome}"
        );
    }
}

#[cfg(test)]
mod quorum_tests {
    //! The controller readiness decision on a leader's answer (the real quorum is tests/cluster.rs).
    use super::*;

    fn probe(node_id: i32) -> QuorumProbe {
        let addr = |n: u8| SocketAddr::from(([10, 0, 0, n], 9093));
        QuorumProbe::new(
            node_id,
            vec![(1, addr(1)), (2, addr(2)), (3, addr(3))],
            true,
        )
    }

    fn view(lags: Vec<(i32, Option<i64>)>) -> QuorumView {
        QuorumView {
            leader: 2,
            epoch: 5,
            high_watermark: 100,
            lags,
        }
    }

    #[test]
    fn ready_only_when_the_leader_lists_and_hears_from_this_node() {
        let heard = view(vec![(1, Some(0)), (2, Some(0)), (3, Some(7))]);
        assert!(probe(1).judge(heard.clone(), 3).is_ready());
        assert_eq!(
            probe(1).judge(heard, 3).to_string(),
            "in quorum: leader 2 (epoch 5), voter lag 1:0, 2:0, 3:7"
        );
        let silent = probe(3).judge(view(vec![(1, Some(0)), (2, Some(0)), (3, None)]), 2);
        assert!(!silent.is_ready());
        assert!(
            silent
                .to_string()
                .starts_with("waiting for quorum 2/3: leader 2 has not heard"),
            "{silent}"
        );
        let absent = probe(4).judge(view(vec![(1, Some(0)), (2, Some(0)), (3, Some(0))]), 3);
        assert!(
            absent.to_string().contains("does not list node 4"),
            "{absent}"
        );
    }

    #[tokio::test]
    async fn no_voter_reachable_is_waiting_not_an_error() {
        // Ports nobody listens on, on this host: refused at once.
        let closed = |_: u8| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let p = QuorumProbe::new(
            1,
            vec![(1, closed(1)), (2, closed(2)), (3, closed(3))],
            true,
        );
        match p.probe().await {
            ProbeOutcome::QuorumWaiting {
                reachable: 0,
                voters: 3,
                detail,
            } => {
                assert!(
                    detail.starts_with("no leader found (1@127.0.0.1:"),
                    "{detail}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
