//! ReadinessProbe: asks the broker over the Kafka protocol whether it serves (ApiVersions, then
//! Metadata with no topics) and whether this node is among the live (unfenced) brokers.
//!
//! Kafka opens the data-plane port only at the very end of startup, and leaves fenced brokers out of
//! Metadata responses, so "answers Metadata listing our own id" is both the readiness test and the
//! health test the watchdog repeats.
//!
//! A controller-only node has no client listener: `QuorumProbe` asks the voters' controller
//! listeners (DescribeQuorum, which only the leader answers) and calls the node ready when
//! (1) its OWN controller listener answers DescribeQuorum (as leader, or with NOT_LEADER: either way
//! the JVM's network and Raft threads serve), and (2) the leader lists it among the voters and
//! received a fetch from it within `FETCH_RECENT_MS` (ages by the leader's own clock). Both hold for READY
//! and for every watchdog ping, so a hung or partitioned controller stops pinging.

use crate::kafka::responses::{self, Quorum, QuorumError};
use crate::kafka::{ClientError, Connector, KafkaClient, Timeouts, requests};
use anyhow::{Context, Result, anyhow};
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// How recent the leader's last fetch from a follower must be for the follower to count as a
/// working voter. A KRaft follower fetches continuously: the leader parks a fetch for at most
/// 500 ms (KafkaRaftClient's fetch max wait) and the metadata log gets a no-op record every 500 ms
/// (`metadata.max.idle.interval.ms`), so a healthy follower's last fetch is well under a second
/// old. A follower that hears nothing for `controller.quorum.fetch.timeout.ms` (2 s by default)
/// gives up on the leader and starts an election. 5 s (2.5 × that timeout) is therefore far outside
/// normal jitter and GC pauses, yet well inside a watchdog period of 15 s or more.
pub const FETCH_RECENT_MS: i64 = 5_000;

pub use crate::kafka::responses::reference_time_ms;

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
    /// (voter id, milliseconds since the leader last received a fetch from it, by the leader's
    /// clock; None when unknown).
    pub fetch_ages: Vec<(i32, Option<i64>)>,
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

/// The probe's connections: its client id, its bounds.
fn connector(connect: Duration, io: Duration) -> Connector {
    Connector::new(Timeouts { connect, io }).client_id("kraftd-probe")
}

/// Run a blocking probe on the runtime's blocking pool: a probe dropped mid-flight (shutdown)
/// ends there within its own timeouts.
async fn off_the_runtime(probe: impl FnOnce() -> ProbeOutcome + Send + 'static) -> ProbeOutcome {
    tokio::task::spawn_blocking(probe)
        .await
        .unwrap_or_else(|e| ProbeOutcome::NoAnswer {
            reason: format!("the probe task failed: {e}"),
        })
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
        let probe = self.clone();
        off_the_runtime(move || probe.probe_blocking()).await
    }

    /// `probe` on the calling thread.
    pub fn probe_blocking(&self) -> ProbeOutcome {
        let connected = connector(self.connect_timeout, self.io_timeout).connect_addr(self.addr);
        let answer = match connected {
            Err(ClientError::Connect { reason, .. }) => {
                return ProbeOutcome::Unreachable {
                    reason: format!("connect to {}: {reason}", self.addr),
                };
            }
            Err(e @ ClientError::Protocol { .. }) => Err(anyhow::Error::from(e)),
            Ok(mut client) => brokers_metadata(&mut client),
        };
        match answer {
            Ok(meta) => self.judge(&meta),
            Err(e) => ProbeOutcome::NoAnswer {
                reason: format!("{e:#}"),
            },
        }
    }

    /// Ready when the live brokers list this node.
    fn judge(&self, meta: &MetadataResponse) -> ProbeOutcome {
        let brokers: Vec<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
        if brokers.contains(&self.node_id) {
            ProbeOutcome::Ready {
                brokers,
                cluster_id: meta.cluster_id.as_ref().map(|c| c.to_string()),
                controller_id: meta.controller_id.0,
            }
        } else {
            ProbeOutcome::NotRegistered { brokers }
        }
    }
}

/// Metadata about no topic (never creating any), at the highest common version from v1 on.
fn brokers_metadata(client: &mut KafkaClient) -> Result<MetadataResponse> {
    let version = client
        .version_of::<MetadataRequest>()
        .filter(|v| *v >= 1)
        .ok_or_else(|| {
            anyhow!(
                "{} offers no Metadata version kraftd speaks from v1 on",
                client.target
            )
        })?;
    let response = client
        .call_version(&requests::metadata_brokers_only(), version)
        .context("Metadata")?;
    responses::metadata_error(&response, version).map_err(|e| anyhow!("Metadata returned {e}"))?;
    Ok(response)
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
        let probe = self.clone();
        off_the_runtime(move || probe.probe_blocking()).await
    }

    /// `probe` on the calling thread.
    pub fn probe_blocking(&self) -> ProbeOutcome {
        let mut order: Vec<&(i32, SocketAddr)> = self
            .voters
            .iter()
            .filter(|(id, _)| *id == self.node_id)
            .collect();
        order.extend(self.voters.iter().filter(|(id, _)| *id != self.node_id));
        let mut reachable = 0;
        let mut notes = Vec::new();
        // Why this node's own controller listener did not answer (None: it answered).
        let mut own_silent: Option<String> = None;
        if self.is_voter && !self.voters.iter().any(|(id, _)| *id == self.node_id) {
            notes.push(format!("node {} is not in the voter set", self.node_id));
        }
        let connector = connector(self.connect_timeout, self.io_timeout);
        let mut leader_view = None;
        for (id, addr) in order {
            let own = *id == self.node_id && self.is_voter;
            let answer = match connector.connect_addr(*addr) {
                Err(ClientError::Connect { reason, .. }) => {
                    notes.push(format!("{id}@{addr}: {reason}"));
                    if own {
                        own_silent = Some(format!("its controller listener {addr}: {reason}"));
                    }
                    continue;
                }
                Err(ClientError::Protocol { reason, .. }) => Err(reason),
                Ok(mut client) => describe(&mut client),
            };
            reachable += 1;
            if own {
                own_silent = match &answer {
                    Ok(_) => None,
                    Err(e) => Some(format!("its controller listener {addr}: {e:#}")),
                };
            }
            match answer {
                Ok(Some(view)) => {
                    leader_view = Some(view);
                    break;
                }
                Ok(None) => notes.push(format!("{id}: not the leader")),
                Err(e) => notes.push(format!("{id}: {e:#}")),
            }
        }
        match leader_view {
            Some(view) => self.judge(view, reachable, own_silent.as_deref()),
            None => ProbeOutcome::QuorumWaiting {
                reachable,
                voters: self.voters.len(),
                detail: format!("no leader found ({})", notes.join("; ")),
            },
        }
    }

    /// The decision on a leader's answer. `own_silent`: why this node's own controller listener
    /// did not answer (None when it did). A voter is ready only when its own listener answers AND
    /// the leader lists it AND received a fetch from it recently (or it is the leader).
    fn judge(&self, view: QuorumView, reachable: usize, own_silent: Option<&str>) -> ProbeOutcome {
        if !self.is_voter {
            return ProbeOutcome::QuorumReady(view);
        }
        let waiting = |detail: String| ProbeOutcome::QuorumWaiting {
            reachable,
            voters: self.voters.len(),
            detail,
        };
        if let Some(why) = own_silent {
            return waiting(format!(
                "this node does not answer on {why} (leader {} reachable)",
                view.leader
            ));
        }
        if view.leader == self.node_id {
            return ProbeOutcome::QuorumReady(view);
        }
        if !view.lags.iter().any(|(id, _)| *id == self.node_id) {
            return waiting(format!(
                "leader {} does not list node {} among the voters ({view})",
                view.leader, self.node_id
            ));
        }
        let age = view
            .fetch_ages
            .iter()
            .find(|(id, _)| *id == self.node_id)
            .and_then(|(_, a)| *a);
        match age {
            Some(ms) if ms <= FETCH_RECENT_MS => ProbeOutcome::QuorumReady(view),
            Some(ms) => waiting(format!(
                "leader {} last heard from this node {:.1}s ago (more than {}s)",
                view.leader,
                ms as f64 / 1000.0,
                FETCH_RECENT_MS / 1000
            )),
            None => waiting(format!(
                "leader {} has not heard from this node yet",
                view.leader
            )),
        }
    }
}

/// DescribeQuorum on one controller: Some(view) from the leader, None from a non-leader (an error
/// code such as NOT_LEADER_OR_FOLLOWER, or no leader known).
fn describe(client: &mut KafkaClient) -> Result<Option<QuorumView>> {
    let (response, _) = client
        .call(&requests::describe_quorum())
        .context("DescribeQuorum")?;
    match responses::quorum(&response) {
        Err(QuorumError::Api(_)) => Ok(None),
        Err(e @ QuorumError::NoPartition) => Err(e.into()),
        Ok(q) if q.leader_id < 0 => Ok(None),
        Ok(q) => Ok(Some(QuorumView::of(&q))),
    }
}

impl QuorumView {
    /// The probe's view of a leader's answer: each voter's lag behind the high watermark and the
    /// age of its last fetch by the leader's clock.
    pub fn of(q: &Quorum) -> QuorumView {
        let hw = q.high_watermark;
        let now = q.leader_now_ms();
        QuorumView {
            leader: q.leader_id,
            epoch: q.leader_epoch,
            high_watermark: hw,
            lags: q
                .voters
                .iter()
                .map(|v| {
                    (
                        v.id,
                        (v.log_end_offset >= 0).then(|| (hw - v.log_end_offset).max(0)),
                    )
                })
                .collect(),
            fetch_ages: q
                .voters
                .iter()
                .map(|v| {
                    let age = match (v.last_fetch_timestamp_ms, now) {
                        (Some(t), Some(now)) => Some((now - t).max(0)),
                        _ => None,
                    };
                    (v.id, age)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The probe's decisions against a tiny fake broker (the real broker is the integration test;
    //! this covers answers a healthy single node never gives: other brokers only, garbage).
    use super::*;
    use bytes::{Bytes, BytesMut};
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
    use kafka_protocol::messages::{ApiKey, BrokerId};
    use kafka_protocol::messages::{ApiVersionsResponse, ResponseHeader};
    use kafka_protocol::protocol::decode_request_header_from_buffer;
    use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
        // Everybody the leader heard from fetched 0.2 s ago.
        let fetch_ages = lags.iter().map(|(id, l)| (*id, l.map(|_| 200))).collect();
        QuorumView {
            leader: 2,
            epoch: 5,
            high_watermark: 100,
            lags,
            fetch_ages,
        }
    }

    #[test]
    fn ready_only_when_the_leader_lists_and_hears_from_this_node() {
        let heard = view(vec![(1, Some(0)), (2, Some(0)), (3, Some(7))]);
        assert!(probe(1).judge(heard.clone(), 3, None).is_ready());
        assert_eq!(
            probe(1).judge(heard, 3, None).to_string(),
            "in quorum: leader 2 (epoch 5), voter lag 1:0, 2:0, 3:7"
        );
        let silent = probe(3).judge(view(vec![(1, Some(0)), (2, Some(0)), (3, None)]), 2, None);
        assert!(!silent.is_ready());
        assert!(
            silent
                .to_string()
                .starts_with("waiting for quorum 2/3: leader 2 has not heard"),
            "{silent}"
        );
        let absent = probe(4).judge(
            view(vec![(1, Some(0)), (2, Some(0)), (3, Some(0))]),
            3,
            None,
        );
        assert!(
            absent.to_string().contains("does not list node 4"),
            "{absent}"
        );
    }

    #[test]
    fn a_leader_view_is_not_enough_when_the_own_listener_is_silent() {
        // A SIGSTOPped JVM: the kernel accepts, nobody answers; the leader still lists the node
        // with its last offsets. Not ready: no READY, no WATCHDOG ping.
        let heard = view(vec![(1, Some(0)), (2, Some(0)), (3, Some(0))]);
        let hung = probe(3).judge(
            heard.clone(),
            3,
            Some("its controller listener 10.0.0.3:9093: no response within 3s"),
        );
        assert!(!hung.is_ready());
        assert!(
            hung.to_string()
                .contains("does not answer on its controller listener 10.0.0.3:9093"),
            "{hung}"
        );
        // The leader itself only needs its own answer.
        assert!(probe(2).judge(heard, 3, None).is_ready());
    }

    #[test]
    fn a_stale_fetch_is_not_ready() {
        let mut v = view(vec![(1, Some(0)), (2, Some(0)), (3, Some(0))]);
        v.fetch_ages = vec![(1, Some(100)), (2, Some(0)), (3, Some(FETCH_RECENT_MS + 1))];
        let stale = probe(3).judge(v.clone(), 3, None);
        assert!(!stale.is_ready());
        assert!(
            stale
                .to_string()
                .contains("last heard from this node 5.0s ago (more than 5s)"),
            "{stale}"
        );
        v.fetch_ages[2].1 = Some(FETCH_RECENT_MS);
        assert!(
            probe(3).judge(v.clone(), 3, None).is_ready(),
            "exactly the bound is recent"
        );
        v.fetch_ages[2].1 = None;
        assert!(
            !probe(3).judge(v, 3, None).is_ready(),
            "no fetch timestamp: not heard from"
        );
    }

    #[test]
    fn reference_time_is_the_newest_timestamp() {
        assert_eq!(
            reference_time_ms([Some(5), None, Some(9), Some(7)]),
            Some(9)
        );
        assert_eq!(reference_time_ms([None, None]), None);
    }

    #[test]
    fn the_view_of_a_leaders_answer_has_lags_and_fetch_ages_by_its_clock() {
        use crate::kafka::responses::Replica;
        let replica = |id, end, fetch| Replica {
            id,
            log_end_offset: end,
            last_fetch_timestamp_ms: fetch,
            last_caught_up_timestamp_ms: fetch,
            endpoints: vec![],
        };
        let q = Quorum {
            leader_id: 1,
            leader_epoch: 2,
            high_watermark: 100,
            voters: vec![
                replica(1, 100, Some(10_000)),
                replica(2, 90, Some(9_000)),
                replica(3, -1, None),
            ],
            observers: vec![replica(4, 100, Some(10_500))],
        };
        let view = QuorumView::of(&q);
        assert_eq!(view.lags, vec![(1, Some(0)), (2, Some(10)), (3, None)]);
        assert_eq!(
            view.fetch_ages,
            vec![(1, Some(500)), (2, Some(1_500)), (3, None)],
            "ages by the newest timestamp, an observer's included"
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
