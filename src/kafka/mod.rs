//! The one Kafka-protocol client of kraftd: every connection the readiness/watchdog probe,
//! `kraftd status`, `kraftd smoke-test` and the installer's join check make goes through here.
//!
//! - `frame`: framing and ApiVersions negotiation (pure)
//! - `requests`: the requests kraftd sends (pure builders)
//! - `responses`: parsing the answers it reads (pure; DescribeQuorum parsed once for all users)
//! - `records`: record batches for the smoke test (pure)
//! - `errors`: error code → name, retriable or not, `ApiError`
//! - `conn`: `Connector` and `KafkaClient`, the only code that does I/O
//!
//! **Blocking, on purpose.** A connection is std `TcpStream` I/O with a connect timeout, a bound
//! on each round trip (enforced across partial reads, not per syscall) and an optional overall
//! deadline. The operator commands and the installer ask a handful of questions in sequence and
//! need no runtime; the daemon's probe, which lives on the tokio runtime, runs one probe at a time
//! on the blocking pool (`spawn_blocking`). A probe abandoned mid-flight (shutdown) finishes
//! within its own timeouts on that thread; nothing waits for it (the daemon shuts its runtime
//! down in the background). One blocking client thus serves all four users without a second,
//! async copy of the framing and negotiation.
//!
//! **Seam for TLS/SASL.** `Connector` is where security settings will live: it turns the TCP
//! stream into a `conn::Transport` (plaintext today; a TLS transport wraps the stream), and a SASL
//! handshake would run in `KafkaClient` right after ApiVersions. Callers keep calling
//! `Connector::connect`/`KafkaClient::connect`.

pub mod conn;
pub mod errors;
pub mod frame;
pub mod records;
pub mod requests;
pub mod responses;

pub use conn::{ClientError, Connector, KafkaClient, Timeouts, Transport, bounded};
pub use errors::{ApiError, error_name, is_retriable};
