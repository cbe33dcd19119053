//! kraftd.toml: the file installer and daemon share — file model, CLI overrides, validated `Settings`.
//!
//! Flow (as in zincati): TOML text → `ConfigFile` (serde, `deny_unknown_fields`, errors with
//! line/column) → merged with `Overrides` from the CLI → `Settings::validate` → typed, checked values.

mod file;
mod layout;
mod settings;

pub use file::ConfigFile;
pub use layout::Layout;
pub use settings::{ConfigError, NodeId, Overrides, Settings};

/// Where the config lives on a normal (non-`--prefix`) install.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/kafka/kraftd.toml";
