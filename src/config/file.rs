//! The on-disk TOML model of kraftd.toml (serde, unknown keys refused, errors with line/column).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// kraftd.toml as written on disk. Every field is optional so a partial file (or none) works;
/// defaults and checks live in `Settings::validate`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default, skip_serializing_if = "is_default")]
    pub node: NodeSection,
    #[serde(default, skip_serializing_if = "is_default")]
    pub dist: DistSection,
    #[serde(default, skip_serializing_if = "is_default")]
    pub java: JavaSection,
    #[serde(default, skip_serializing_if = "is_default")]
    pub daemon: DaemonSection,
    /// Extra server.properties entries, passed through verbatim (checked against installer-owned keys).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kafka: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    pub id: Option<u32>,
    pub cluster_id: Option<String>,
    /// IP address (or host name resolving to one of this host's addresses) clients connect to.
    pub advertise: Option<String>,
    pub broker_port: Option<u16>,
    pub controller_port: Option<u16>,
    pub data_dir: Option<PathBuf>,
    /// Install root; "/" (the default) for a system install.
    pub prefix: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DistSection {
    pub kafka_version: Option<String>,
    /// Download mirrors tried in order (base URLs; `<v>/kafka_2.13-<v>.tgz` is appended).
    pub mirrors: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JavaSection {
    pub home: Option<PathBuf>,
    /// Heap size for -Xms/-Xmx, e.g. "1G", "512M".
    pub heap: Option<String>,
    /// Extra JVM options appended after kraftd's defaults.
    pub opts: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSection {
    /// Seconds `kraftd stop` waits for the JVM (keep below the unit's TimeoutStopSec).
    pub stop_timeout_sec: Option<u64>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
