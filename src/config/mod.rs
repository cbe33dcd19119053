//! kraftd.toml: the file installer and daemon share — file model, CLI overrides, validated `Settings`.
//!
//! Flow (as in zincati): TOML text → `ConfigFile` (serde, `deny_unknown_fields`, errors with
//! line/column) → merged with `Overrides` from the CLI → `Settings::resolve`, where each section
//! (`section::{node,dist,java,daemon,kafka}`) checks itself → typed, checked values. Host facts
//! (interfaces, DNS, memory) come through `HostFacts`; listener endpoints from
//! `Settings::listeners`. kraftd.toml is the admin's; what kraft-install resolves goes to node.toml
//! in the state dir (`state`), which applies where kraftd.toml is silent.

mod cluster;
mod file;
mod host;
mod layout;
mod listeners;
mod section;
mod settings;
mod state;
mod write;

pub use cluster::{
    Role, Voter, default_replication_factor, parse_voters, voter_set_warnings, voters_text,
};
pub use file::{
    ConfigFile, DaemonSection, DistSection, JavaSection, KeyPositions, NodeSection, Position,
};
pub use host::{HostFacts, RealHost, total_memory_bytes};
pub use layout::Layout;
pub use listeners::{BROKER_LISTENER, CONTROLLER_LISTENER, Endpoint, Listeners};
pub use section::daemon::DEFAULT_STOP_TIMEOUT;
pub use section::java::{default_heap, parse_heap};
pub use section::kafka::{OWNED_KEYS, OwnedKey, kafka_property_value, owned_key};
pub use section::node::{
    DEFAULT_BROKER_PORT, DEFAULT_CONTROLLER_PORT, DEFAULT_NODE_ID, MAX_NODE_ID, NodeId,
};
pub use settings::{ConfigError, Overrides, Settings, merge_with_state, state_path};
pub use state::{
    STATE_HEADER, check_flag_conflicts, conflict, identity_changes, identity_error, merge,
    render_state, state_file,
};
pub use write::{DEFAULT_CONFIG_TEMPLATE, render_config, save_config};

use crate::KafkaVersion;

/// Where the config lives on a normal (non-`--prefix`) install.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/kafka/kraftd.toml";

/// The Kafka release installed when none is asked for (our "current 4.x").
pub const DEFAULT_KAFKA_VERSION: KafkaVersion = KafkaVersion::new(4, 1, 1);

/// Download base URLs tried in order: the Apache CDN (current releases), then the archive (all).
pub const DEFAULT_MIRRORS: &[&str] = &[
    "https://dlcdn.apache.org/kafka/",
    "https://archive.apache.org/dist/kafka/",
];

/// kraftd.toml's path for an install under `prefix` (None or "/" → /etc/kafka/kraftd.toml).
pub fn config_path(prefix: Option<&std::path::Path>) -> std::path::PathBuf {
    Layout::new(prefix.unwrap_or(std::path::Path::new("/")), None).config_file()
}

/// A made-up host for unit tests of other modules (see `host`).
#[cfg(test)]
pub(crate) use host::FakeHost;
