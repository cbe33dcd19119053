//! Validated, typed settings: what installer and daemon actually act on.
//!
//! `Settings::resolve` merges CLI `Overrides` (win) over the `ConfigFile` (then defaults), checks
//! every value and names where a bad one came from (`--flag`, or `key` at `file:line:col`).

use super::cluster::{Role, Voter, parse_voters, voter_set_warnings};
use super::file::{DaemonSection, DistSection, JavaSection, NodeSection, Position};
use super::kafka::{check_kafka_entry, kafka_property_value};
use super::{ConfigFile, DEFAULT_KAFKA_VERSION, DEFAULT_MIRRORS, Layout};
use crate::net::{self, AdvertiseError};
use crate::{ClusterId, KafkaVersion};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A Kafka node.id (0..=i32::MAX, as Kafka accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Errors a caller branches on: each names the value, where it came from, and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Bad TOML, an unknown key, a wrong type or a refused `[kafka]` entry: `message` ends with
    /// the fix and the offending line with a caret.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The config file exists but cannot be read as text (a directory, not UTF-8, permissions).
    /// The io error is described in the message, not chained, so it is printed once.
    #[error("{}: {}", path.display(), describe_read_error(path, error))]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The daemon's config file is missing (kraft-install has not run).
    #[error("{}: not found; run kraft-install first (it creates this file when absent)", path.display())]
    NotFound { path: PathBuf },
    /// A value that parses but is not acceptable; the text names value, origin and fix.
    #[error("{0}")]
    Invalid(String),
    /// The advertised address could not be detected, or the given one is refused. `origin` is
    /// the flag or file key it came from (None when detection failed).
    #[error("{}{error}", origin.as_ref().map(|o| format!("{o}: ")).unwrap_or_default())]
    Advertise {
        origin: Option<String>,
        error: AdvertiseError,
    },
}

/// What went wrong reading a config file, with the fix.
fn describe_read_error(path: &Path, error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::InvalidData {
        return "is not UTF-8 text; kraftd.toml must be UTF-8: convert it (e.g. `iconv -f latin1 -t utf-8`) \
                or rewrite the offending characters"
            .to_string();
    }
    if error.raw_os_error() == Some(libc::EISDIR) {
        if path.file_name().is_some_and(|n| n == "kraftd.toml") {
            return "is a directory, not the config file: move that directory away (kraft-install \
                    writes kraftd.toml there)"
                .to_string();
        }
        return format!(
            "is a directory, not a config file: name the file itself, e.g. --config {}",
            path.join("kraftd.toml").display()
        );
    }
    format!("cannot read: {error}")
}

/// Values given on the command line; `Some` wins over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub advertise: Option<String>,
    /// i64 so `--node-id -1` or `--node-id 3000000000` reach the range check with its message.
    pub node_id: Option<i64>,
    pub kafka_version: Option<String>,
    /// Replaces the file's mirror list when non-empty.
    pub mirrors: Vec<String>,
    pub java_home: Option<PathBuf>,
    pub heap: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub cluster_id: Option<String>,
    pub prefix: Option<PathBuf>,
    /// Accept a host name that does not resolve to this host.
    pub force: bool,
    /// `--role combined|controller|broker`.
    pub role: Option<String>,
    /// `--controllers id@host:port,…`: the controller voter set.
    pub controllers: Option<String>,
    /// `--brokers N`: how many brokers the cluster will have (replication factor defaults).
    pub brokers: Option<i64>,
}

/// The checked configuration of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub layout: Layout,
    pub node_id: NodeId,
    /// None until generated (first install) or read back from kraftd.toml / meta.properties.
    pub cluster_id: Option<ClusterId>,
    /// The address Kafka's listeners bind to. Equal to the advertised IP, except for a host name
    /// accepted with `--force` that is not on this host: then `0.0.0.0` (listen everywhere, and
    /// advertise the name — see `advertised_host`).
    pub advertise: IpAddr,
    /// The host name given as advertise value (None when an IP was given or detected).
    pub advertise_name: Option<String>,
    pub broker_port: u16,
    pub controller_port: u16,
    pub kafka_version: KafkaVersion,
    /// Base URLs ending in '/'.
    pub mirrors: Vec<String>,
    pub java_home: Option<PathBuf>,
    /// JVM heap, e.g. "1G" (normalized: digits and an upper-case K/M/G/T).
    pub heap: String,
    pub jvm_opts: Vec<String>,
    /// Extra server.properties entries from `[kafka]`, rendered to property text.
    pub extra_properties: BTreeMap<String, String>,
    /// The same entries as typed in kraftd.toml, so writing back keeps `168` an integer.
    pub kafka_values: BTreeMap<String, toml::Value>,
    pub stop_timeout: Duration,
    /// What this node runs (`process.roles`).
    pub role: Role,
    /// The controller voter set; None for the single combined node that is its own only voter.
    pub voters: Option<Vec<Voter>>,
    /// The operator's expected broker count, if given (replication factor defaults).
    pub brokers: Option<u32>,
}

/// Default `kraftd stop` wait (Kafka's controlled shutdown can take minutes).
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(180);
pub const DEFAULT_NODE_ID: u32 = 1;
pub const DEFAULT_BROKER_PORT: u16 = 9092;
pub const DEFAULT_CONTROLLER_PORT: u16 = 9093;
/// Kafka accepts node ids 0..=Integer.MAX_VALUE.
pub const MAX_NODE_ID: i64 = i32::MAX as i64;
/// Below this Kafka does not get through startup; refuse early with a clear message.
const MIN_HEAP_MIB: u64 = 128;

/// Where a value came from, for messages.
#[derive(Debug, Clone, Copy)]
enum Origin<'a> {
    Flag(&'static str),
    File {
        key: &'static str,
        path: &'a Path,
        pos: Option<Position>,
    },
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::File {
                key,
                path,
                pos: Some(p),
            } => write!(f, "{key} at {}:{}:{}", path.display(), p.line, p.column),
            Origin::File {
                key,
                path,
                pos: None,
            } => write!(f, "{key} in {}", path.display()),
        }
    }
}

/// Chooses between a flag and a file value, remembering which one won.
struct Picker<'a> {
    file: &'a ConfigFile,
    path: &'a Path,
}

impl<'a> Picker<'a> {
    fn pick<T: Clone>(
        &self,
        flag_value: Option<&T>,
        flag: &'static str,
        file_value: Option<&T>,
        key: &'static str,
    ) -> Option<(T, Origin<'a>)> {
        if let Some(v) = flag_value {
            return Some((v.clone(), Origin::Flag(flag)));
        }
        file_value.map(|v| (v.clone(), self.file_origin(key)))
    }

    fn file_origin(&self, key: &'static str) -> Origin<'a> {
        if let Some((path, pos)) = self.file.state_origin(key) {
            return Origin::File { key, path, pos };
        }
        Origin::File {
            key,
            path: self.path,
            pos: self.file.position(key),
        }
    }
}

fn invalid(origin: Origin<'_>, message: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid(format!("{origin}: {message}"))
}

fn absolute(origin: Origin<'_>, path: PathBuf, what: &str) -> Result<PathBuf, ConfigError> {
    if path.is_absolute() {
        return Ok(path);
    }
    Err(invalid(
        origin,
        format!(
            "{what} {:?} is a relative path; give an absolute path (it must not depend on the working directory)",
            path.display().to_string()
        ),
    ))
}

impl Settings {
    /// Merge `ov` over `file` over defaults and check everything. `path` is where `file` was (or
    /// would be) read from, for messages. `detect` is called only when no advertise value is
    /// given (the installer passes `net::detect_advertise`).
    pub fn resolve(
        file: &ConfigFile,
        path: &Path,
        ov: &Overrides,
        detect: &dyn Fn() -> Result<IpAddr, AdvertiseError>,
    ) -> Result<Settings, ConfigError> {
        let p = Picker { file, path };
        let node = &file.node;

        let prefix = p.pick(
            ov.prefix.as_ref(),
            "--prefix",
            node.prefix.as_ref(),
            "node.prefix",
        );
        let prefix = match prefix {
            Some((v, origin)) => absolute(origin, v, "install prefix")?,
            None => PathBuf::from("/"),
        };
        let data_dir = match p.pick(
            ov.data_dir.as_ref(),
            "--data-dir",
            node.data_dir.as_ref(),
            "node.data_dir",
        ) {
            Some((v, origin)) => Some(absolute(origin, v, "data directory")?),
            None => None,
        };
        let layout = Layout::new(&prefix, data_dir.as_deref());

        let node_id = match p.pick(
            ov.node_id.as_ref(),
            "--node-id",
            node.id.as_ref(),
            "node.id",
        ) {
            Some((v, origin)) => check_node_id(v).map_err(|m| invalid(origin, m))?,
            None => NodeId(DEFAULT_NODE_ID),
        };

        let cluster_id = match p.pick(
            ov.cluster_id.as_ref(),
            "--cluster-id",
            node.cluster_id.as_ref(),
            "node.cluster_id",
        ) {
            Some((v, origin)) => Some(v.parse::<ClusterId>().map_err(|e| invalid(origin, e))?),
            None => None,
        };

        let (advertise, advertise_name) = match p.pick(
            ov.advertise.as_ref(),
            "--advertise",
            node.advertise.as_ref(),
            "node.advertise",
        ) {
            Some((v, origin)) => {
                let ip =
                    net::check_advertise(&v, ov.force).map_err(|error| ConfigError::Advertise {
                        origin: Some(origin.to_string()),
                        error,
                    })?;
                let v = v.trim();
                let is_ip = v
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok();
                (ip, (!is_ip).then(|| v.to_string()))
            }
            None => (
                detect().map_err(|error| ConfigError::Advertise {
                    origin: None,
                    error,
                })?,
                None,
            ),
        };

        let broker_port = port(
            &p,
            node.broker_port,
            "node.broker_port",
            DEFAULT_BROKER_PORT,
        )?;
        let controller_port = port(
            &p,
            node.controller_port,
            "node.controller_port",
            DEFAULT_CONTROLLER_PORT,
        )?;
        if broker_port == controller_port {
            return Err(invalid(
                p.file_origin("node.controller_port"),
                format!(
                    "broker_port and controller_port are both {broker_port}; give the two listeners different ports"
                ),
            ));
        }

        let kafka_version = match p.pick(
            ov.kafka_version.as_ref(),
            "--kafka-version",
            file.dist.kafka_version.as_ref(),
            "dist.kafka_version",
        ) {
            Some((v, origin)) => v
                .parse::<KafkaVersion>()
                .map_err(|e| invalid(origin, format!("{e} (supported: 3.7.1, 4.1.1)")))?,
            None => DEFAULT_KAFKA_VERSION,
        };

        let mirrors = if !ov.mirrors.is_empty() {
            check_mirrors(&ov.mirrors, Origin::Flag("--mirror"))?
        } else if let Some(list) = &file.dist.mirrors {
            check_mirrors(list, p.file_origin("dist.mirrors"))?
        } else {
            DEFAULT_MIRRORS.iter().map(|m| m.to_string()).collect()
        };

        let java_home = match p.pick(
            ov.java_home.as_ref(),
            "--java-home",
            file.java.home.as_ref(),
            "java.home",
        ) {
            Some((v, origin)) => Some(absolute(origin, v, "Java home")?),
            None => None,
        };

        let heap = match p.pick(
            ov.heap.as_ref(),
            "--heap",
            file.java.heap.as_ref(),
            "java.heap",
        ) {
            Some((v, origin)) => {
                let heap = parse_heap(&v).map_err(|m| invalid(origin, m))?;
                check_heap_fits(&heap, total_memory_bytes()).map_err(|m| invalid(origin, m))?;
                heap
            }
            None => default_heap(total_memory_bytes()),
        };

        let jvm_opts = file.java.opts.clone().unwrap_or_default();
        for opt in &jvm_opts {
            let origin = p.file_origin("java.opts");
            if opt.trim().is_empty() {
                return Err(invalid(origin, "an empty JVM option; remove it"));
            }
            if opt.starts_with("-Xmx") || opt.starts_with("-Xms") {
                return Err(invalid(
                    origin,
                    format!("{opt:?} sets the heap; use java.heap (flag --heap) instead"),
                ));
            }
        }

        let mut extra_properties = BTreeMap::new();
        for (key, value) in &file.kafka {
            // `parse` already checked these with positions; a ConfigFile built in code gets the
            // same refusals here.
            check_kafka_entry(key, value).map_err(|m| invalid(p.file_origin("kafka"), m))?;
            let text = kafka_property_value(value)
                .map_err(|m| invalid(p.file_origin("kafka"), format!("[kafka] {key:?}: {m}")))?;
            extra_properties.insert(key.clone(), text);
        }

        let stop_timeout = match file.daemon.stop_timeout_sec {
            Some(0) => {
                return Err(invalid(
                    p.file_origin("daemon.stop_timeout_sec"),
                    "0 seconds gives Kafka no time for a controlled shutdown; use e.g. 180",
                ));
            }
            Some(s) => Duration::from_secs(s),
            None => DEFAULT_STOP_TIMEOUT,
        };

        let role = match p.pick(ov.role.as_ref(), "--role", node.role.as_ref(), "node.role") {
            Some((v, origin)) => v.parse::<Role>().map_err(|m| invalid(origin, m))?,
            None => Role::Combined,
        };
        let voters = match p.pick(
            ov.controllers.as_ref(),
            "--controllers",
            node.controllers.as_ref(),
            "node.controllers",
        ) {
            Some((v, origin)) => Some((parse_voters(&v).map_err(|m| invalid(origin, m))?, origin)),
            None => None,
        };
        let brokers = match p.pick(
            ov.brokers.as_ref(),
            "--brokers",
            node.brokers.as_ref(),
            "node.brokers",
        ) {
            Some((v, origin)) => {
                Some(u32::try_from(v).ok().filter(|n| *n >= 1).ok_or_else(|| {
                    invalid(origin, format!("broker count {v} must be at least 1"))
                })?)
            }
            None => None,
        };
        if let Some((list, origin)) = &voters {
            check_membership(
                role,
                node_id,
                list,
                *origin,
                advertise,
                advertise_name.as_deref(),
                controller_port,
            )?;
        } else if role == Role::Broker {
            return Err(invalid(
                p.pick(ov.role.as_ref(), "--role", node.role.as_ref(), "node.role")
                    .map_or(Origin::Flag("--role"), |(_, o)| o),
                "a broker needs the controllers it joins: give --controllers id@host:port,… (controllers in kraftd.toml), \
                 the same list every node of the cluster has",
            ));
        }
        let voters = voters.map(|(list, _)| list);

        Ok(Settings {
            role,
            voters,
            brokers,
            layout,
            node_id,
            cluster_id,
            advertise,
            advertise_name,
            broker_port,
            controller_port,
            kafka_version,
            mirrors,
            java_home,
            heap,
            jvm_opts,
            extra_properties,
            kafka_values: file.kafka.clone(),
            stop_timeout,
        })
    }

    /// Read and validate a node's settings (the daemon's path: no overrides, must be complete):
    /// kraftd.toml over node.toml (the state kraft-install wrote) over defaults. Never detects an
    /// address: `advertise` and `cluster_id` must come from one of the two files. A host name there
    /// is accepted as `--force` would (the installer already checked it with the operator present).
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        Settings::load_with_state(path).map(|(settings, _)| settings)
    }

    /// `load`, also returning node.toml's content (None when there is none) for the identity check.
    pub fn load_with_state(path: &Path) -> Result<(Settings, Option<ConfigFile>), ConfigError> {
        Settings::load_with_state_advertising(path, None)
    }

    /// As `load_with_state`, with `advertise` (kraft-install --reconfigure --advertise NEW) in place
    /// of the recorded address: the fix for an address that left this host must not be refused
    /// because the old one is no longer here.
    pub fn load_with_state_advertising(
        path: &Path,
        advertise: Option<&str>,
    ) -> Result<(Settings, Option<ConfigFile>), ConfigError> {
        let admin = ConfigFile::load(path)?.ok_or_else(|| ConfigError::NotFound {
            path: path.to_path_buf(),
        })?;
        let (merged, state) = merge_with_state(&admin, path)?;
        for (key, value) in [
            (
                "advertise",
                merged.node.advertise.is_some() || advertise.is_some(),
            ),
            ("cluster_id", merged.node.cluster_id.is_some()),
        ] {
            if !value {
                return Err(ConfigError::Invalid(format!(
                    "{}: [node] {key} is not set, and {} has no value kraft-install chose: run kraft-install \
                     (it records the value there) or set {key} in {}",
                    path.display(),
                    state_path(&admin, path).display(),
                    path.display()
                )));
            }
        }
        let ov = Overrides {
            advertise: advertise.map(str::to_string),
            force: true,
            ..Overrides::default()
        };
        // node.advertise is set (checked above), so detection is never consulted.
        let settings = Settings::resolve(&merged, path, &ov, &|| {
            Err(AdvertiseError::NoCandidate { seen: Vec::new() })
        })?;
        Ok((settings, state))
    }

    /// The host text for `advertised.listeners` and `controller.quorum.voters`: the host name if
    /// one was given, else the IP (IPv6 in brackets).
    pub fn advertised_host(&self) -> String {
        match &self.advertise_name {
            Some(name) => name.clone(),
            None => listener_host(self.advertise),
        }
    }

    /// The host text for `listeners` (the bind address; IPv6 in brackets).
    pub fn listener_host(&self) -> String {
        listener_host(self.advertise)
    }

    /// Advice about the cluster layout worth printing (one voter, an even voter count).
    pub fn warnings(&self) -> Vec<String> {
        self.voters
            .as_deref()
            .map(voter_set_warnings)
            .unwrap_or_default()
    }

    /// True for a node of a multi-node cluster (a voter list was given).
    pub fn is_cluster(&self) -> bool {
        self.voters.is_some()
    }

    /// The voters this node renders: the given set, or the single combined node itself.
    pub fn effective_voters(&self) -> Vec<Voter> {
        match &self.voters {
            Some(v) => v.clone(),
            None => vec![Voter {
                id: self.node_id,
                host: self.advertised_host(),
                port: self.controller_port,
            }],
        }
    }

    /// The file form of these settings, every value explicit, for writing back to kraftd.toml.
    pub fn to_config_file(&self) -> ConfigFile {
        let node = NodeSection {
            id: Some(i64::from(self.node_id.0)),
            cluster_id: self.cluster_id.as_ref().map(|c| c.to_string()),
            advertise: Some(
                self.advertise_name
                    .clone()
                    .unwrap_or_else(|| self.advertise.to_string()),
            ),
            broker_port: Some(i64::from(self.broker_port)),
            controller_port: Some(i64::from(self.controller_port)),
            data_dir: Some(self.layout.data_dir.clone()),
            prefix: Some(self.layout.prefix.clone()),
            // Written only for cluster nodes: a single combined node's file stays as it was.
            role: (self.role != Role::Combined).then(|| self.role.as_str().to_string()),
            controllers: self.voters.as_deref().map(super::cluster::voters_text),
            brokers: self.brokers.map(i64::from),
        };
        ConfigFile {
            node,
            dist: DistSection {
                kafka_version: Some(self.kafka_version.to_string()),
                mirrors: Some(self.mirrors.clone()),
            },
            java: JavaSection {
                home: self.java_home.clone(),
                heap: Some(self.heap.clone()),
                opts: (!self.jvm_opts.is_empty()).then(|| self.jvm_opts.clone()),
            },
            daemon: DaemonSection {
                stop_timeout_sec: Some(self.stop_timeout.as_secs()),
            },
            kafka: self.kafka_values.clone(),
            positions: Default::default(),
            state_source: None,
        }
    }
}

/// node.toml of the node whose kraftd.toml is `admin` at `path`: under the file's `prefix`, else
/// the prefix the path implies (`<P>/etc/kafka/kraftd.toml` → P).
pub fn state_path(admin: &ConfigFile, path: &Path) -> PathBuf {
    let prefix = admin
        .node
        .prefix
        .clone()
        .unwrap_or_else(|| Layout::prefix_of_config(path));
    Layout::new(&prefix, None).node_state()
}

/// kraftd.toml (`admin`) merged over its node.toml, which may be absent. The merged file carries the
/// prefix explicitly so the layout does not depend on where the merge happened.
pub fn merge_with_state(
    admin: &ConfigFile,
    path: &Path,
) -> Result<(ConfigFile, Option<ConfigFile>), ConfigError> {
    let state_file = state_path(admin, path);
    let state = ConfigFile::load(&state_file)?;
    let mut merged = match &state {
        Some(state) => {
            let mut merged = super::state::merge(admin, state);
            merged.state_source = Some(super::file::StateSource {
                path: state_file.clone(),
                positions: state.positions.clone(),
            });
            merged
        }
        None => admin.clone(),
    };
    if merged.node.prefix.is_none() {
        merged.node.prefix = Some(Layout::prefix_of_config(path));
    }
    Ok((merged, state))
}

fn listener_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// A controller (or combined node) must be a voter, at its own advertised address and controller
/// port; a broker must not be one (Kafka refuses both at startup, after storage was formatted).
fn check_membership(
    role: Role,
    node_id: NodeId,
    voters: &[Voter],
    origin: Origin<'_>,
    advertise: IpAddr,
    advertise_name: Option<&str>,
    controller_port: u16,
) -> Result<(), ConfigError> {
    let list = super::cluster::voters_text(voters);
    let own = voters.iter().find(|v| v.id == node_id);
    match (role, own) {
        (Role::Broker, Some(v)) => Err(invalid(
            origin,
            format!(
                "node id {node_id} is a voter ({v}) in {list}, but this node's role is broker: \
                 a broker needs a node id outside the voter set (give --node-id another id), or use --role controller"
            ),
        )),
        (Role::Broker, None) => Ok(()),
        (_, None) => Err(invalid(
            origin,
            format!(
                "node id {node_id} is not in the voter set {list}, but this node's role is {role}: \
                 a controller must be one of the voters; give --node-id the id its entry has, or add it to the list"
            ),
        )),
        (_, Some(v)) => {
            let same_host = match (v.ip(), advertise_name) {
                (Some(ip), _) => ip == advertise,
                (None, Some(name)) => v.host.eq_ignore_ascii_case(name),
                (None, None) => crate::net::resolve_system(&v.host)
                    .map(|ips| ips.contains(&advertise))
                    .unwrap_or(false),
            };
            if !same_host || v.port != controller_port {
                return Err(invalid(
                    origin,
                    format!(
                        "this node's voter entry {v} is not its own controller address {}:{controller_port}: \
                         fix the entry, or set --advertise / controller_port to the address the entry names",
                        advertise_name
                            .map(str::to_string)
                            .unwrap_or_else(|| listener_host(advertise))
                    ),
                ));
            }
            Ok(())
        }
    }
}

fn check_node_id(v: i64) -> Result<NodeId, String> {
    if (0..=MAX_NODE_ID).contains(&v) {
        Ok(NodeId(v as u32))
    } else {
        Err(format!(
            "node id {v} is out of range: Kafka accepts 0 to {MAX_NODE_ID}"
        ))
    }
}

fn port(
    p: &Picker<'_>,
    value: Option<i64>,
    key: &'static str,
    default: u16,
) -> Result<u16, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => u16::try_from(v).ok().filter(|v| *v != 0).ok_or_else(|| {
            invalid(
                p.file_origin(key),
                format!("port {v} is out of range: use 1 to 65535 (default {default})"),
            )
        }),
    }
}

fn check_mirrors(list: &[String], origin: Origin<'_>) -> Result<Vec<String>, ConfigError> {
    if list.is_empty() {
        return Err(invalid(
            origin,
            "the mirror list is empty; remove the key to use the Apache CDN and archive",
        ));
    }
    list.iter()
        .map(|m| {
            let m = m.trim();
            let bad = |why: &str| {
                invalid(
                    origin,
                    format!("mirror {m:?} {why}; give an http(s) base URL like https://archive.apache.org/dist/kafka/"),
                )
            };
            let url = reqwest::Url::parse(m).map_err(|e| bad(&format!("is not a URL ({e})")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad("is not an http(s) URL"));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(bad("has no host"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(bad("has a query or fragment (the file name is appended to it)"));
            }
            // Normalized to end in '/' so "<v>/kafka_2.13-<v>.tgz" can be appended.
            Ok(if m.ends_with('/') {
                m.to_string()
            } else {
                format!("{m}/")
            })
        })
        .collect()
}

/// Check and normalize a JVM heap size: digits and a K/M/G/T suffix, at least 128M.
pub fn parse_heap(value: &str) -> Result<String, String> {
    let v = value.trim();
    let shape =
        || format!("heap {value:?} is not a JVM size like 512M or 2G (digits and K, M, G or T)");
    let (digits, unit) = v.split_at(v.len().saturating_sub(1));
    let unit = unit.to_ascii_uppercase();
    let mib_per_unit: f64 = match unit.as_str() {
        "K" => 1.0 / 1024.0,
        "M" => 1.0,
        "G" => 1024.0,
        "T" => 1024.0 * 1024.0,
        _ => return Err(shape()),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(shape());
    }
    let n: u64 = digits.parse().map_err(|_| shape())?;
    if (n as f64) * mib_per_unit < MIN_HEAP_MIB as f64 {
        return Err(format!(
            "heap {value:?} is too small for Kafka: use at least {MIN_HEAP_MIB}M"
        ));
    }
    Ok(format!("{n}{unit}"))
}

/// Bytes of a heap size as [`parse_heap`] normalizes it (`512M`, `2G`).
pub fn heap_bytes(heap: &str) -> Option<u64> {
    let (digits, unit) = heap.split_at(heap.len().checked_sub(1)?);
    let shift = match unit {
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// Refuse a heap the JVM cannot get: more than this machine's (or cgroup's) memory, which makes
/// every start fail. Unknown memory: not checked. The advice is at most 3/4 of the memory, which
/// leaves room for the page cache Kafka relies on.
pub fn check_heap_fits(heap: &str, total_bytes: Option<u64>) -> Result<(), String> {
    const MIB: u64 = 1 << 20;
    let (Some(want), Some(total)) = (heap_bytes(heap), total_bytes) else {
        return Ok(());
    };
    if want <= total {
        return Ok(());
    }
    let most_mib = total / MIB * 3 / 4;
    let most = if most_mib >= 1024 {
        format!("{}G", most_mib / 1024)
    } else {
        format!("{}M", (most_mib / 64 * 64).max(MIN_HEAP_MIB))
    };
    Err(format!(
        "heap {heap} is more than this machine's {:.1} GiB of memory, so the JVM could not start; \
         use at most {most} (e.g. --heap {most}, or java.heap = \"{most}\" in kraftd.toml)",
        total as f64 / (1u64 << 30) as f64
    ))
}

/// The default heap for a box with `total_bytes` of memory: 1G, or a quarter of the memory when
/// that is less (rounded down to 64M, at least 256M). Unknown memory → 1G (Kafka's own default).
pub fn default_heap(total_bytes: Option<u64>) -> String {
    const MIB: u64 = 1024 * 1024;
    let Some(total) = total_bytes else {
        return "1G".to_string();
    };
    let quarter_mib = total / MIB / 4;
    if quarter_mib >= 1024 {
        "1G".to_string()
    } else {
        format!("{}M", (quarter_mib / 64 * 64).max(256))
    }
}

/// Memory this box (or its cgroup, when limited) has: the smaller of RAM and cgroup v2
/// `memory.max`, so a container with 512M does not get a 1G heap.
pub fn total_memory_bytes() -> Option<u64> {
    let ram = {
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        // SAFETY: sysinfo fills the struct we pass and touches nothing else.
        (unsafe { libc::sysinfo(&mut info) } == 0)
            .then(|| info.totalram as u64 * info.mem_unit as u64)
    };
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    match (ram, cgroup) {
        (Some(r), Some(c)) => Some(r.min(c)),
        (r, c) => r.or(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const PATH: &str = "/etc/kafka/kraftd.toml";
    const ID: &str = "MkU3OEVBNTcwNTJENDM2Qg";

    fn parse(text: &str) -> ConfigFile {
        ConfigFile::parse(text, Path::new(PATH)).unwrap()
    }
    fn detect_loopback() -> Result<IpAddr, AdvertiseError> {
        Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
    fn resolve(file: &ConfigFile, ov: &Overrides) -> Result<Settings, ConfigError> {
        Settings::resolve(file, Path::new(PATH), ov, &detect_loopback)
    }
    fn err(file: &ConfigFile, ov: &Overrides) -> String {
        resolve(file, ov).unwrap_err().to_string()
    }

    #[test]
    fn defaults_fill_an_empty_file() {
        let s = resolve(&ConfigFile::default(), &Overrides::default()).unwrap();
        assert_eq!(s.node_id, NodeId(1));
        assert_eq!((s.broker_port, s.controller_port), (9092, 9093));
        assert_eq!(s.kafka_version, KafkaVersion::new(4, 1, 1));
        assert_eq!(s.layout, Layout::new(Path::new("/"), None));
        assert_eq!(s.layout.data_dir, Path::new("/var/lib/kafka/data"));
        assert_eq!(
            s.mirrors,
            [
                "https://dlcdn.apache.org/kafka/",
                "https://archive.apache.org/dist/kafka/"
            ]
        );
        assert_eq!(s.stop_timeout, Duration::from_secs(180));
        assert_eq!(s.advertise, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(s.cluster_id, None);
        assert!(parse_heap(&s.heap).is_ok(), "{}", s.heap);
    }

    #[test]
    fn flags_win_over_file() {
        let file = parse(&format!(
            "[node]\nid = 5\nadvertise = \"127.0.0.1\"\ncluster_id = \"{ID}\"\nprefix = \"/srv/a\"\n\
             [dist]\nkafka_version = \"3.7.1\"\nmirrors = [\"https://m1.example/kafka\"]\n[java]\nheap = \"2g\"\n"
        ));
        let s = resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(s.node_id, NodeId(5));
        assert_eq!(s.kafka_version, KafkaVersion::new(3, 7, 1));
        assert_eq!(s.mirrors, ["https://m1.example/kafka/"]);
        assert_eq!(s.heap, "2G");
        assert_eq!(s.layout.data_dir, Path::new("/srv/a/var/lib/kafka/data"));
        assert_eq!(s.cluster_id.unwrap().as_str(), ID);

        let ov = Overrides {
            node_id: Some(7),
            kafka_version: Some("4.1.1".into()),
            mirrors: vec!["http://127.0.0.1:8080/".into()],
            heap: Some("512m".into()),
            prefix: Some("/srv/b".into()),
            data_dir: Some("/data/kafka".into()),
            advertise: Some("localhost".into()),
            ..Overrides::default()
        };
        let s = resolve(&file, &ov).unwrap();
        assert_eq!(s.node_id, NodeId(7));
        assert_eq!(s.kafka_version, KafkaVersion::new(4, 1, 1));
        assert_eq!(s.mirrors, ["http://127.0.0.1:8080/"]);
        assert_eq!(s.heap, "512M");
        assert_eq!(s.layout.prefix, Path::new("/srv/b"));
        assert_eq!(s.layout.data_dir, Path::new("/data/kafka"));
        assert!(s.advertise.is_loopback());
        assert_eq!(s.advertise_name.as_deref(), Some("localhost"));
        assert_eq!(s.advertised_host(), "localhost");
    }

    #[test]
    fn node_id_range() {
        for (v, ok) in [
            (0, true),
            (MAX_NODE_ID, true),
            (-1, false),
            (MAX_NODE_ID + 1, false),
        ] {
            let r = resolve(
                &ConfigFile::default(),
                &Overrides {
                    node_id: Some(v),
                    ..Overrides::default()
                },
            );
            assert_eq!(r.is_ok(), ok, "{v}");
        }
        let e = err(
            &ConfigFile::default(),
            &Overrides {
                node_id: Some(-1),
                ..Overrides::default()
            },
        );
        assert_eq!(
            e,
            "--node-id: node id -1 is out of range: Kafka accepts 0 to 2147483647"
        );
        let e = err(&parse("[node]\nid = 2147483648\n"), &Overrides::default());
        assert_eq!(
            e,
            "node.id at /etc/kafka/kraftd.toml:2:1: node id 2147483648 is out of range: Kafka accepts 0 to 2147483647"
        );
    }

    #[test]
    fn cluster_id_checked_and_origin_named() {
        let e = err(
            &parse("[node]\ncluster_id = \"-kU3OEVBNTcwNTJENDM2Qg\"\n"),
            &Overrides::default(),
        );
        assert!(
            e.starts_with("node.cluster_id at /etc/kafka/kraftd.toml:2:1: invalid cluster id"),
            "{e}"
        );
        let ov = Overrides {
            cluster_id: Some("MkU3OEVBNTcwNTJENDM2Qh".into()),
            ..Overrides::default()
        };
        let e = err(&ConfigFile::default(), &ov);
        assert!(
            e.starts_with(
                "--cluster-id: invalid cluster id \"MkU3OEVBNTcwNTJENDM2Qh\": it is not canonical"
            ),
            "{e}"
        );
    }

    #[test]
    fn heap_above_the_memory_is_refused() {
        const GIB: u64 = 1 << 30;
        assert_eq!(heap_bytes("512M"), Some(512 << 20));
        assert_eq!(heap_bytes("2G"), Some(2 * GIB));
        assert!(check_heap_fits("16G", Some(16 * GIB)).is_ok());
        assert!(check_heap_fits("64G", None).is_ok());
        let err = check_heap_fits("64G", Some(23 * GIB + GIB / 2)).unwrap_err();
        assert!(
            err.starts_with("heap 64G is more than this machine's 23.5 GiB of memory"),
            "{err}"
        );
        assert!(err.contains("use at most 17G (e.g. --heap 17G"), "{err}");
        let small = check_heap_fits("2G", Some(GIB)).unwrap_err();
        assert!(small.contains("use at most 768M"), "{small}");
    }

    #[test]
    fn heap_values() {
        assert_eq!(parse_heap("1G").unwrap(), "1G");
        assert_eq!(parse_heap("2g").unwrap(), "2G");
        assert_eq!(parse_heap(" 512m ").unwrap(), "512M");
        assert_eq!(parse_heap("1048576k").unwrap(), "1048576K");
        for bad in ["", "G", "1", "1GB", "1.5G", "-1G", "1 G", "abc"] {
            assert!(parse_heap(bad).unwrap_err().contains("like 512M"), "{bad}");
        }
        assert!(parse_heap("64M").unwrap_err().contains("at least 128M"));
        let e = err(
            &ConfigFile::default(),
            &Overrides {
                heap: Some("lots".into()),
                ..Overrides::default()
            },
        );
        assert!(e.starts_with("--heap: heap \"lots\""), "{e}");
    }

    #[test]
    fn default_heap_sizes_for_the_box() {
        const G: u64 = 1 << 30;
        assert_eq!(default_heap(Some(16 * G)), "1G");
        assert_eq!(default_heap(Some(4 * G)), "1G");
        assert_eq!(default_heap(Some(2 * G)), "512M");
        assert_eq!(default_heap(Some(3 * G)), "768M");
        assert_eq!(default_heap(Some(G)), "256M");
        assert_eq!(default_heap(Some(G / 2)), "256M");
        assert_eq!(default_heap(None), "1G");
        assert!(total_memory_bytes().unwrap() > 0);
    }

    #[test]
    fn advertise_checks() {
        let flag = |v: &str| Overrides {
            advertise: Some(v.into()),
            ..Overrides::default()
        };
        let e = err(&ConfigFile::default(), &flag("0.0.0.0"));
        assert!(
            e.starts_with("--advertise: advertised address \"0.0.0.0\" is refused"),
            "{e}"
        );
        let e = err(&ConfigFile::default(), &flag("192.0.2.1"));
        assert!(
            e.contains("192.0.2.1 is not an address of this host"),
            "{e}"
        );
        let e = err(
            &parse("[node]\nadvertise = \"224.0.0.1\"\n"),
            &Overrides::default(),
        );
        assert!(
            e.starts_with(
                "node.advertise at /etc/kafka/kraftd.toml:2:1: advertised address \"224.0.0.1\""
            ),
            "{e}"
        );
        let s = resolve(&ConfigFile::default(), &flag("::1")).unwrap();
        assert_eq!(
            (s.listener_host(), s.advertised_host()),
            ("[::1]".to_string(), "[::1]".to_string())
        );
        // No value: the detector decides, and its error is passed on as is.
        let ambiguous = || Err(AdvertiseError::Ambiguous { candidates: vec![] });
        let e = Settings::resolve(
            &ConfigFile::default(),
            Path::new(PATH),
            &Overrides::default(),
            &ambiguous,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Advertise {
                    origin: None,
                    error: AdvertiseError::Ambiguous { .. }
                }
            ),
            "{e:?}"
        );
        // A given value never runs the detector.
        let s = Settings::resolve(
            &ConfigFile::default(),
            Path::new(PATH),
            &flag("127.0.0.1"),
            &ambiguous,
        )
        .unwrap();
        assert_eq!(s.advertise_name, None);
    }

    #[test]
    fn relative_paths_refused() {
        let e = err(
            &ConfigFile::default(),
            &Overrides {
                data_dir: Some("data".into()),
                ..Overrides::default()
            },
        );
        assert!(
            e.starts_with("--data-dir: data directory \"data\" is a relative path"),
            "{e}"
        );
        let e = err(
            &parse("[node]\nprefix = \"tmp/x\"\n"),
            &Overrides::default(),
        );
        assert!(
            e.starts_with("node.prefix at /etc/kafka/kraftd.toml:2:1: install prefix \"tmp/x\" is a relative path"),
            "{e}"
        );
        let e = err(
            &ConfigFile::default(),
            &Overrides {
                java_home: Some("jdk".into()),
                ..Overrides::default()
            },
        );
        assert!(e.starts_with("--java-home: Java home \"jdk\""), "{e}");
    }

    #[test]
    fn mirrors_must_be_http_urls() {
        for bad in [
            "ftp://x.example/kafka/",
            "dlcdn.apache.org/kafka",
            "https://",
            "https://x.example/k?a=b",
        ] {
            let e = err(
                &ConfigFile::default(),
                &Overrides {
                    mirrors: vec![bad.into()],
                    ..Overrides::default()
                },
            );
            assert!(e.starts_with(&format!("--mirror: mirror {bad:?}")), "{e}");
        }
        let e = err(&parse("[dist]\nmirrors = []\n"), &Overrides::default());
        assert!(
            e.contains("dist.mirrors at /etc/kafka/kraftd.toml:2:1: the mirror list is empty"),
            "{e}"
        );
    }

    #[test]
    fn version_ports_timeout_opts() {
        let e = err(
            &ConfigFile::default(),
            &Overrides {
                kafka_version: Some("4.1".into()),
                ..Overrides::default()
            },
        );
        assert!(
            e.starts_with("--kafka-version: \"4.1\" is not a Kafka version"),
            "{e}"
        );
        assert!(
            err(&parse("[node]\nbroker_port = 0\n"), &Overrides::default())
                .contains("port 0 is out of range")
        );
        assert!(
            err(
                &parse("[node]\nbroker_port = 70000\n"),
                &Overrides::default()
            )
            .contains("node.broker_port at")
        );
        assert!(
            err(
                &parse("[node]\ncontroller_port = 9092\n"),
                &Overrides::default()
            )
            .contains("both 9092")
        );
        assert!(
            err(
                &parse("[daemon]\nstop_timeout_sec = 0\n"),
                &Overrides::default()
            )
            .contains("controlled shutdown")
        );
        assert!(
            err(
                &parse("[java]\nopts = [\"-Xmx4g\"]\n"),
                &Overrides::default()
            )
            .contains("use java.heap")
        );
    }

    #[test]
    fn owned_kafka_key_in_a_built_config_is_refused() {
        let mut file = ConfigFile::default();
        file.kafka.insert(
            "listeners".into(),
            toml::Value::String("PLAINTEXT://:9092".into()),
        );
        let e = err(&file, &Overrides::default());
        assert!(e.contains("\"listeners\" is set by kraft-install"), "{e}");
    }

    #[test]
    fn kafka_values_rendered_and_kept_typed() {
        let file = parse(
            "[kafka]\nlog.retention.hours = 168\n\"auto.create.topics.enable\" = false\n\"compression.type\" = \"zstd\"\n",
        );
        let s = resolve(&file, &Overrides::default()).unwrap();
        assert_eq!(s.extra_properties["log.retention.hours"], "168");
        assert_eq!(s.extra_properties["auto.create.topics.enable"], "false");
        assert_eq!(s.extra_properties["compression.type"], "zstd");
        assert_eq!(
            s.kafka_values["log.retention.hours"],
            toml::Value::Integer(168)
        );
    }

    #[test]
    fn to_config_file_round_trips() {
        let ov = Overrides {
            advertise: Some("127.0.0.1".into()),
            cluster_id: Some(ID.into()),
            node_id: Some(3),
            java_home: Some("/usr/lib/jvm/java-17".into()),
            prefix: Some("/tmp/node".into()),
            ..Overrides::default()
        };
        let file = parse("[kafka]\n\"num.partitions\" = 3\n[java]\nopts = [\"-XX:+UseZGC\"]\n");
        let s = resolve(&file, &ov).unwrap();
        let cfg = s.to_config_file();
        assert_eq!(cfg.node.cluster_id.as_deref(), Some(ID));
        let again = resolve(&cfg, &Overrides::default()).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn roles_and_voter_membership() {
        let ov = |role: &str, id: i64, controllers: &str| Overrides {
            role: Some(role.into()),
            node_id: Some(id),
            controllers: (!controllers.is_empty()).then(|| controllers.to_string()),
            advertise: Some("127.0.0.1".into()),
            ..Overrides::default()
        };
        let voters = "1@127.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093";
        let s = resolve(&ConfigFile::default(), &ov("controller", 1, voters)).unwrap();
        assert_eq!(
            (s.role, s.voters.as_ref().map(Vec::len)),
            (Role::Controller, Some(3))
        );
        assert!(s.warnings().is_empty());
        let s = resolve(&ConfigFile::default(), &ov("broker", 4, voters)).unwrap();
        assert_eq!(s.role, Role::Broker);
        // Written back, read again: the same settings.
        assert_eq!(
            resolve(&s.to_config_file(), &Overrides::default()).unwrap(),
            s
        );

        let e = err(&ConfigFile::default(), &ov("broker", 2, voters));
        assert!(
            e.starts_with("--controllers: node id 2 is a voter (2@10.0.0.2:9093)"),
            "{e}"
        );
        let e = err(&ConfigFile::default(), &ov("controller", 4, voters));
        assert!(
            e.contains("node id 4 is not in the voter set") && e.contains("--node-id"),
            "{e}"
        );
        let e = err(&ConfigFile::default(), &ov("combined", 2, voters));
        assert!(
            e.contains(
                "voter entry 2@10.0.0.2:9093 is not its own controller address 127.0.0.1:9093"
            ),
            "{e}"
        );
        let e = err(
            &ConfigFile::default(),
            &ov("controller", 1, "1@127.0.0.1:9999"),
        );
        assert!(e.contains("is not its own controller address"), "{e}");
        let e = err(&ConfigFile::default(), &ov("broker", 4, ""));
        assert!(
            e.starts_with("--role: a broker needs the controllers"),
            "{e}"
        );
        let e = err(&ConfigFile::default(), &ov("voter", 1, voters));
        assert!(e.starts_with("--role: role \"voter\" is not one of"), "{e}");
        let e = err(
            &ConfigFile::default(),
            &ov("controller", 1, "1@127.0.0.1:9093,1@10.0.0.2:9093"),
        );
        assert!(e.contains("node id 1 appears twice"), "{e}");
        let e = err(
            &parse("[node]\nrole = \"broker\"\nid = 5\ncontrollers = \"1@x\"\n"),
            &Overrides::default(),
        );
        assert!(e.starts_with("node.controllers at /etc/kafka/kraftd.toml:4:1: controller entry \"1@x\" has no ':port'"), "{e}");
        let s = resolve(
            &ConfigFile::default(),
            &ov("controller", 1, "1@127.0.0.1:9093,2@10.0.0.2:9093"),
        )
        .unwrap();
        assert!(
            s.warnings()[0].contains("even number"),
            "{:?}",
            s.warnings()
        );
        let e = err(
            &ConfigFile::default(),
            &Overrides {
                brokers: Some(0),
                ..ov("broker", 4, voters)
            },
        );
        assert!(e.starts_with("--brokers: broker count 0"), "{e}");
    }
}
