//! Validated, typed settings: what installer and daemon actually act on.
//!
//! `Settings::resolve` is the orchestrator: CLI `Overrides` (win) over the `ConfigFile` (kraftd.toml
//! merged over node.toml, then defaults); each section (`section::*`) resolves and checks its own
//! values and names where a bad one came from (`--flag`, or `key` at `file:line:col`). Host facts
//! come through `HostFacts`.

use super::cluster::{Role, Voter, voter_set_warnings};
use super::file::{DaemonSection, DistSection, JavaSection, NodeSection};
use super::host::{Detecting, HostFacts};
use super::listeners::Listeners;
use super::section::Picker;
use super::section::daemon::Daemon;
use super::section::dist::Dist;
use super::section::java::Java;
use super::section::kafka::Kafka;
use super::section::node::{Node, NodeId};
use super::{ConfigFile, Layout};
use crate::net::AdvertiseError;
use crate::{ClusterId, KafkaVersion};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// advertise the name). Endpoints built from it: `Settings::listeners`.
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

impl Settings {
    /// Merge `ov` over `file` over defaults and check everything, on this host. `path` is where
    /// `file` was (or would be) read from, for messages. `detect` is called only when no
    /// advertise value is given (the installer passes `net::detect_advertise`).
    pub fn resolve(
        file: &ConfigFile,
        path: &Path,
        ov: &Overrides,
        detect: &dyn Fn() -> Result<IpAddr, AdvertiseError>,
    ) -> Result<Settings, ConfigError> {
        Settings::resolve_on(file, path, ov, &Detecting(detect))
    }

    /// `resolve` with the host's facts (interfaces, resolver, detection, memory) from `host`.
    /// Each section resolves and validates itself, in the order an operator reads the file; the
    /// cluster membership comes last because it checks the voter set against the listeners.
    pub fn resolve_on(
        file: &ConfigFile,
        path: &Path,
        ov: &Overrides,
        host: &dyn HostFacts,
    ) -> Result<Settings, ConfigError> {
        let p = Picker { file, path };
        let node = Node::resolve(&p, ov, host)?;
        let dist = Dist::resolve(&p, ov)?;
        let java = Java::resolve(&p, ov, host)?;
        let kafka = Kafka::resolve(&p)?;
        let daemon = Daemon::resolve(&p)?;
        let membership = node.resolve_membership(&p, ov, host)?;
        Ok(Settings {
            role: membership.role,
            voters: membership.voters,
            brokers: membership.brokers,
            layout: node.layout,
            node_id: node.node_id,
            cluster_id: node.cluster_id,
            advertise: node.advertise,
            advertise_name: node.advertise_name,
            broker_port: node.broker_port,
            controller_port: node.controller_port,
            kafka_version: dist.kafka_version,
            mirrors: dist.mirrors,
            java_home: java.java_home,
            heap: java.heap,
            jvm_opts: java.jvm_opts,
            extra_properties: kafka.extra_properties,
            kafka_values: kafka.kafka_values,
            stop_timeout: daemon.stop_timeout,
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

    /// This node's listener endpoints: what Kafka binds, advertises, and kraftd dials. The one
    /// place they are derived.
    pub fn listeners(&self) -> Listeners {
        Listeners::new(
            self.role,
            self.advertise,
            self.advertise_name.as_deref(),
            self.broker_port,
            self.controller_port,
        )
    }

    /// The host text for `advertised.listeners` and `controller.quorum.voters`: the host name if
    /// one was given, else the IP (IPv6 in brackets).
    pub fn advertised_host(&self) -> String {
        self.listeners().advertised_host
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::host::FakeHost;
    use crate::config::{MAX_NODE_ID, parse_heap};
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
            (
                s.listeners().broker.unwrap().bind.to_string(),
                s.advertised_host()
            ),
            ("[::1]:9092".to_string(), "[::1]".to_string())
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

    fn on_fake(
        file: &ConfigFile,
        ov: &Overrides,
        host: &FakeHost,
    ) -> Result<Settings, ConfigError> {
        Settings::resolve_on(file, Path::new(PATH), ov, host)
    }

    #[test]
    fn host_facts_come_from_the_trait() {
        let host = FakeHost::new();
        let flag = |v: &str, force: bool| Overrides {
            advertise: Some(v.into()),
            force,
            ..Overrides::default()
        };
        // No value: the host detects; memory sizes the default heap.
        let s = on_fake(&ConfigFile::default(), &Overrides::default(), &host).unwrap();
        assert_eq!(s.advertise, "10.0.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(s.heap, "1G");
        let small = FakeHost {
            memory: Some(2 << 30),
            ..FakeHost::new()
        };
        let s = on_fake(&ConfigFile::default(), &Overrides::default(), &small).unwrap();
        assert_eq!(s.heap, "512M");
        let e = on_fake(
            &ConfigFile::default(),
            &Overrides {
                heap: Some("4G".into()),
                ..Overrides::default()
            },
            &small,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("--heap: heap 4G is more than this machine's 2.0 GiB"),
            "{e}"
        );

        // A name resolving to this host binds its address and advertises the name.
        let s = on_fake(
            &ConfigFile::default(),
            &flag("kafka1.example", false),
            &host,
        )
        .unwrap();
        let l = s.listeners();
        assert_eq!(l.primary().bind, "10.0.0.5:9092".parse().unwrap());
        assert_eq!(l.primary().advertised(), "kafka1.example:9092");
        // A name elsewhere: refused, or with --force bound everywhere and dialled on loopback.
        let e = on_fake(
            &ConfigFile::default(),
            &flag("elsewhere.example", false),
            &host,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(
                "--advertise: advertised host name \"elsewhere.example\" resolves to 203.0.113.9"
            ) && e.contains("10.0.0.5 on eth0"),
            "{e}"
        );
        let s = on_fake(
            &ConfigFile::default(),
            &flag("elsewhere.example", true),
            &host,
        )
        .unwrap();
        assert!(s.advertise.is_unspecified());
        assert_eq!(
            s.listeners().listeners_value(),
            "PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093"
        );
        assert_eq!(
            s.listeners().primary().dial(),
            "127.0.0.1:9092".parse().unwrap()
        );
        assert_eq!(s.advertised_host(), "elsewhere.example");
        // The detector's error is passed on with no origin.
        let broken = FakeHost {
            detected: Err(AdvertiseError::NoCandidate { seen: vec![] }),
            ..FakeHost::new()
        };
        let e = on_fake(&ConfigFile::default(), &Overrides::default(), &broken).unwrap_err();
        assert!(
            matches!(e, ConfigError::Advertise { origin: None, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn voter_host_names_resolve_through_the_host() {
        let host = FakeHost::new();
        let ov = |controllers: &str| Overrides {
            role: Some("controller".into()),
            advertise: Some("10.0.0.5".into()),
            controllers: Some(controllers.into()),
            ..Overrides::default()
        };
        let s = on_fake(
            &ConfigFile::default(),
            &ov("1@kafka1.example:9093,2@10.0.0.6:9093,3@10.0.0.7:9093"),
            &host,
        )
        .unwrap();
        assert_eq!(
            s.listeners().listeners_value(),
            "CONTROLLER://10.0.0.5:9093"
        );
        let e = on_fake(
            &ConfigFile::default(),
            &ov("1@elsewhere.example:9093,2@10.0.0.6:9093,3@10.0.0.7:9093"),
            &host,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("--controllers: this node's voter entry 1@elsewhere.example:9093 is not its own controller address 10.0.0.5:9093"),
            "{e}"
        );
    }

    #[test]
    fn a_value_from_node_toml_is_named_there() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("etc/kafka/kraftd.toml");
        let admin = ConfigFile::default();
        let state = state_path(&admin, &config);
        std::fs::create_dir_all(state.parent().unwrap()).unwrap();
        std::fs::write(
            &state,
            "[node]\nadvertise = \"10.0.0.5\"\nbroker_port = 0\n",
        )
        .unwrap();
        let (merged, _) = merge_with_state(&admin, &config).unwrap();
        let e = Settings::resolve_on(&merged, &config, &Overrides::default(), &FakeHost::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "node.broker_port at {}:3:1: port 0 is out of range",
                state.display()
            )),
            "{e}"
        );
    }
}
