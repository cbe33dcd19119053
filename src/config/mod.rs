//! kraftd.toml: the file installer and daemon share — file model, CLI overrides, validated `Settings`.
//!
//! Flow (as in zincati): TOML text → `ConfigFile` (serde, `deny_unknown_fields`, errors with
//! line/column) → merged with `Overrides` from the CLI → `Settings::resolve` → typed, checked
//! values → `Settings::to_config_file` + `render_config` write the resolved truth back, keeping
//! the admin's comments.

mod cluster;
mod file;
mod kafka;
mod layout;
mod settings;
mod write;

pub use cluster::{
    Role, Voter, default_replication_factor, parse_voters, voter_set_warnings, voters_text,
};
pub use file::{
    ConfigFile, DaemonSection, DistSection, JavaSection, KeyPositions, NodeSection, Position,
};
pub use kafka::{INSTALLER_OWNED_KEYS, kafka_property_value};
pub use layout::Layout;
pub use settings::{
    ConfigError, DEFAULT_BROKER_PORT, DEFAULT_CONTROLLER_PORT, DEFAULT_NODE_ID,
    DEFAULT_STOP_TIMEOUT, MAX_NODE_ID, NodeId, Overrides, Settings, default_heap, parse_heap,
    total_memory_bytes,
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
