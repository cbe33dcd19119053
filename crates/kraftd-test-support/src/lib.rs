//! Shared support for the integration tests of both packages (`tests/`, `installer/tests/`): the
//! Kafka fixtures, the built binaries, free ports and cluster ids, one HTTP server, provisioned
//! nodes, notify/journal sockets, `kraftd run` and bare-JVM brokers, Kafka's tools, process guards.
//! Modelled on rust-lang/cargo's `crates/cargo-test-support`; `publish = false`.
//!
//! Tests import everything flat: `use kraftd_test_support::*;`.

pub mod bins;
pub mod broker;
pub mod fakedist;
pub mod fixtures;
pub mod http;
pub mod installer;
pub mod kraftd_run;
pub mod net;
pub mod process;
pub mod provision;
pub mod sockets;
pub mod tree;

pub use bins::*;
pub use broker::*;
pub use fixtures::*;
pub use http::*;
pub use installer::*;
pub use kraftd_run::*;
pub use net::*;
pub use process::*;
pub use provision::*;
pub use sockets::*;
pub use tree::*;

use std::sync::{Mutex, MutexGuard};

/// JVM tests are heavy on a 2-core box: within one test binary they run one at a time.
static JVM_LOCK: Mutex<()> = Mutex::new(());

/// Hold for the length of a test that starts JVMs (a panicked holder does not poison it).
pub fn serial() -> MutexGuard<'static, ()> {
    JVM_LOCK.lock().unwrap_or_else(|p| p.into_inner())
}
