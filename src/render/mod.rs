//! Rendering server.properties and the stdout-only log config from `Settings` (version-aware).
//!
//! Output is deterministic (fixed key order, extra properties sorted) so an idempotent re-run can
//! compare bytes and leave an unchanged file untouched.

mod files;
mod log_config;
mod properties;

pub use files::{Rendered, check_hand_edits, node_files, write_rendered};

pub use log_config::{log_config, stderr_log_config};
pub use properties::{escape_key, escape_value, unescape};

use crate::config::{Role, default_replication_factor, voters_text};
use crate::{KafkaVersion, Settings};
use anyhow::{Result, bail};
use std::fmt::Write as _;

/// Keys kraftd derives from typed settings. Setting them in `[kafka]` would silently fight the
/// typed values (a second `node.id=` line wins in Java properties), so they are refused.
const MANAGED_KEYS: &[(&str, &str)] = &[
    ("process.roles", "set role in kraftd.toml (or --role)"),
    ("node.id", "set node_id in kraftd.toml (or --node-id)"),
    ("broker.id", "set node_id in kraftd.toml (or --node-id)"),
    (
        "controller.quorum.voters",
        "set controllers in kraftd.toml (or --controllers); a single node derives it from node_id, advertise and controller_port",
    ),
    (
        "controller.quorum.bootstrap.servers",
        "kraftd uses a static quorum (controller.quorum.voters)",
    ),
    (
        "listeners",
        "set advertise / broker_port / controller_port in kraftd.toml",
    ),
    (
        "advertised.listeners",
        "set advertise / broker_port in kraftd.toml",
    ),
    ("controller.listener.names", "fixed to CONTROLLER by kraftd"),
    ("inter.broker.listener.name", "fixed to PLAINTEXT by kraftd"),
    ("log.dirs", "set data_dir in kraftd.toml (or --data-dir)"),
    ("log.dir", "set data_dir in kraftd.toml (or --data-dir)"),
    ("metadata.log.dir", "the metadata log lives in data_dir"),
];

/// server.properties for this node's role: a single combined node with a static one-voter quorum
/// (no `controllers`), or a combined, controller-only or broker-only node of a cluster whose
/// static voter set is `settings.voters`.
///
/// The same shape runs on 3.7 (which only knows `controller.quorum.voters`) and on 4.x, and it is
/// formatted without any quorum flags. `settings.extra_properties` follow verbatim, sorted by key;
/// an extra key also rendered as a default here (e.g. a replication factor) replaces that default.
pub fn server_properties(settings: &Settings, version: &KafkaVersion) -> Result<String> {
    for key in settings.extra_properties.keys() {
        if let Some((_, fix)) = MANAGED_KEYS.iter().find(|(managed, _)| managed == key) {
            bail!(
                "{}: [kafka] sets {key:?}, which kraftd manages itself: {fix}; remove {key:?} from the [kafka] table",
                settings.layout.config_file().display()
            );
        }
    }
    let ip = settings.advertise;
    // With `--force` and a host name that is not (yet) on this host, the listeners bind everywhere
    // and the name is advertised; otherwise the advertised IP must be a real one.
    if settings.advertise_name.is_none() && (ip.is_unspecified() || ip.is_multicast()) {
        bail!(
            "advertise address {ip} cannot be advertised to clients (Kafka rejects 0.0.0.0/::); \
             set advertise in {} (or --advertise) to this host's IP address",
            settings.layout.config_file().display()
        );
    }
    let data_dir = settings.layout.data_dir.to_str().ok_or_else(|| {
        anyhow::anyhow!(
            "data directory {:?} is not valid UTF-8; choose another data_dir in {}",
            settings.layout.data_dir,
            settings.layout.config_file().display()
        )
    })?;
    if data_dir.contains(',') {
        bail!(
            "data directory {data_dir:?} contains a comma, which Kafka's log.dirs treats as a separator; \
             choose another data_dir in {}",
            settings.layout.config_file().display()
        );
    }

    let host = settings.advertised_host();
    let bind = settings.listener_host();
    let node = settings.node_id.0;
    let (broker_port, controller_port) = (settings.broker_port, settings.controller_port);
    let voters = voters_text(&settings.effective_voters());

    let mut defaults: Vec<(&str, String)> = match settings.role {
        Role::Combined => vec![
            ("process.roles", "broker,controller".into()),
            ("node.id", node.to_string()),
            ("controller.quorum.voters", voters),
            // Bound to the advertised address, not 0.0.0.0: the node serves exactly where it says it is.
            (
                "listeners",
                format!("PLAINTEXT://{bind}:{broker_port},CONTROLLER://{bind}:{controller_port}"),
            ),
            // 3.7 refuses a broker that advertises its controller listener: only PLAINTEXT here.
            (
                "advertised.listeners",
                format!("PLAINTEXT://{host}:{broker_port}"),
            ),
            ("inter.broker.listener.name", "PLAINTEXT".into()),
            ("controller.listener.names", "CONTROLLER".into()),
            (
                "listener.security.protocol.map",
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into(),
            ),
            ("log.dirs", data_dir.into()),
        ],
        // No advertised.listeners: 3.7 requires it empty on a controller-only node, and without it
        // 4.x advertises the controller listener, which is what the voters connect to anyway.
        Role::Controller => vec![
            ("process.roles", "controller".into()),
            ("node.id", node.to_string()),
            ("controller.quorum.voters", voters),
            (
                "listeners",
                format!("CONTROLLER://{bind}:{controller_port}"),
            ),
            ("controller.listener.names", "CONTROLLER".into()),
            (
                "listener.security.protocol.map",
                "CONTROLLER:PLAINTEXT".into(),
            ),
            ("log.dirs", data_dir.into()),
        ],
        Role::Broker => vec![
            ("process.roles", "broker".into()),
            ("node.id", node.to_string()),
            ("controller.quorum.voters", voters),
            ("listeners", format!("PLAINTEXT://{bind}:{broker_port}")),
            (
                "advertised.listeners",
                format!("PLAINTEXT://{host}:{broker_port}"),
            ),
            ("inter.broker.listener.name", "PLAINTEXT".into()),
            // The name of the voters' listener, which a broker connects to (never binds).
            ("controller.listener.names", "CONTROLLER".into()),
            (
                "listener.security.protocol.map",
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into(),
            ),
            ("log.dirs", data_dir.into()),
        ],
    };
    if settings.role.is_broker() {
        // One node: internal topics cannot have more replicas than brokers. A cluster: min(3, brokers).
        let rf = match &settings.voters {
            None => 1,
            Some(v) => default_replication_factor(settings.role, v.len(), settings.brokers),
        };
        let min_isr = rf.min(2);
        defaults.push(("offsets.topic.replication.factor", rf.to_string()));
        defaults.push(("transaction.state.log.replication.factor", rf.to_string()));
        defaults.push((
            "transaction.state.log.min.isr",
            if settings.voters.is_none() {
                1
            } else {
                min_isr
            }
            .to_string(),
        ));
        if version.has_share_coordinator_topic() {
            // Share groups (KIP-932) keep their state in an internal topic from 4.1 on.
            defaults.push((
                "share.coordinator.state.topic.replication.factor",
                rf.to_string(),
            ));
            defaults.push((
                "share.coordinator.state.topic.min.isr",
                if settings.voters.is_none() {
                    1
                } else {
                    min_isr
                }
                .to_string(),
            ));
        }
        if settings.voters.is_some() {
            // Topics created without a replication factor get the cluster's, and acks=all
            // writes survive the loss of one replica without becoming unsafe.
            defaults.push(("default.replication.factor", rf.to_string()));
            defaults.push(("min.insync.replicas", min_isr.to_string()));
        }
    }

    let mut out = String::new();
    let config = settings.layout.config_file();
    let _ = writeln!(
        out,
        "# Generated by kraft-install from {} for Kafka {version}.",
        config.display()
    );
    let _ = writeln!(
        out,
        "# Do not edit: kraftd renders this file on every start and refuses a hand-edited one."
    );
    let _ = writeln!(
        out,
        "# Put extra Kafka settings in the [kafka] table of kraftd.toml and restart kafka."
    );
    for (key, value) in &defaults {
        if settings.extra_properties.contains_key(*key) {
            continue;
        }
        let _ = writeln!(out, "{}={}", escape_key(key), escape_value(value));
    }
    if !settings.extra_properties.is_empty() {
        let _ = writeln!(out, "\n# From the [kafka] table of kraftd.toml");
        // BTreeMap iterates in key order: sorted, stable output.
        for (key, value) in &settings.extra_properties {
            let _ = writeln!(out, "{}={}", escape_key(key), escape_value(value));
        }
    }
    Ok(out)
}

/// The host part of a listener URL / voter entry: IPv6 literals need brackets.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layout;
    use crate::config::NodeId;
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Duration;

    fn settings(ip: &str) -> Settings {
        Settings {
            layout: Layout::new(Path::new("/"), None),
            node_id: NodeId(1),
            cluster_id: None,
            advertise: ip.parse().unwrap(),
            broker_port: 9092,
            controller_port: 9093,
            kafka_version: KafkaVersion::new(4, 1, 1),
            mirrors: vec![],
            java_home: None,
            heap: "1G".into(),
            jvm_opts: vec![],
            extra_properties: BTreeMap::new(),
            advertise_name: None,
            kafka_values: BTreeMap::new(),
            stop_timeout: Duration::from_secs(300),
            role: Default::default(),
            voters: None,
            brokers: None,
        }
    }

    #[test]
    fn renders_a_combined_node_for_4_1() {
        let text = server_properties(&settings("10.0.0.5"), &KafkaVersion::new(4, 1, 1)).unwrap();
        assert!(text.starts_with(
            "# Generated by kraft-install from /etc/kafka/kraftd.toml for Kafka 4.1.1.\n"
        ));
        for line in [
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@10.0.0.5:9093",
            "listeners=PLAINTEXT://10.0.0.5:9092,CONTROLLER://10.0.0.5:9093",
            "advertised.listeners=PLAINTEXT://10.0.0.5:9092",
            "log.dirs=/var/lib/kafka/data",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    fn cluster_node(role: Role, id: u32) -> Settings {
        let mut s = settings("10.0.0.5");
        s.role = role;
        s.node_id = NodeId(id);
        s.voters = Some(
            crate::config::parse_voters("1@10.0.0.5:9093,2@10.0.0.6:9093,3@10.0.0.7:9093").unwrap(),
        );
        s
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    }

    #[test]
    fn renders_a_controller_only_node() {
        for v in [KafkaVersion::new(3, 7, 1), KafkaVersion::new(4, 1, 1)] {
            let text = server_properties(&cluster_node(Role::Controller, 1), &v).unwrap();
            assert_eq!(
                lines(&text),
                [
                    "process.roles=controller",
                    "node.id=1",
                    "controller.quorum.voters=1@10.0.0.5:9093,2@10.0.0.6:9093,3@10.0.0.7:9093",
                    "listeners=CONTROLLER://10.0.0.5:9093",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT",
                    "log.dirs=/var/lib/kafka/data",
                ],
                "{v}"
            );
        }
    }

    #[test]
    fn renders_a_broker_only_node() {
        let mut s = cluster_node(Role::Broker, 4);
        let text = server_properties(&s, &KafkaVersion::new(3, 7, 1)).unwrap();
        assert_eq!(
            lines(&text),
            [
                "process.roles=broker",
                "node.id=4",
                "controller.quorum.voters=1@10.0.0.5:9093,2@10.0.0.6:9093,3@10.0.0.7:9093",
                "listeners=PLAINTEXT://10.0.0.5:9092",
                "advertised.listeners=PLAINTEXT://10.0.0.5:9092",
                "inter.broker.listener.name=PLAINTEXT",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "log.dirs=/var/lib/kafka/data",
                "offsets.topic.replication.factor=3",
                "transaction.state.log.replication.factor=3",
                "transaction.state.log.min.isr=2",
                "default.replication.factor=3",
                "min.insync.replicas=2",
            ]
        );
        s.brokers = Some(2);
        let text = server_properties(&s, &KafkaVersion::new(4, 1, 1)).unwrap();
        for line in [
            "offsets.topic.replication.factor=2",
            "share.coordinator.state.topic.replication.factor=2",
            "share.coordinator.state.topic.min.isr=2",
            "default.replication.factor=2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn renders_a_combined_cluster_node() {
        let text = server_properties(
            &cluster_node(Role::Combined, 2),
            &KafkaVersion::new(4, 1, 1),
        )
        .unwrap();
        for line in [
            "process.roles=broker,controller",
            "controller.quorum.voters=1@10.0.0.5:9093,2@10.0.0.6:9093,3@10.0.0.7:9093",
            "advertised.listeners=PLAINTEXT://10.0.0.5:9092",
            "offsets.topic.replication.factor=3",
            "min.insync.replicas=2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn share_coordinator_settings_only_from_4_1() {
        let s = settings("10.0.0.5");
        for v in [KafkaVersion::new(3, 7, 1), KafkaVersion::new(4, 0, 0)] {
            let text = server_properties(&s, &v).unwrap();
            assert!(!text.contains("share.coordinator"), "{v}: {text}");
        }
    }

    #[test]
    fn ipv6_is_bracketed() {
        let text = server_properties(&settings("fd00::5"), &KafkaVersion::new(3, 7, 1)).unwrap();
        assert!(
            text.contains("controller.quorum.voters=1@[fd00::5]:9093\n"),
            "{text}"
        );
        assert!(
            text.contains("advertised.listeners=PLAINTEXT://[fd00::5]:9092\n"),
            "{text}"
        );
    }

    #[test]
    fn extra_properties_are_sorted_and_replace_defaults() {
        let mut s = settings("10.0.0.5");
        s.extra_properties
            .insert("num.partitions".into(), "3".into());
        s.extra_properties
            .insert("auto.create.topics.enable".into(), "false".into());
        s.extra_properties
            .insert("offsets.topic.replication.factor".into(), "1".into());
        let text = server_properties(&s, &KafkaVersion::new(4, 1, 1)).unwrap();
        assert_eq!(
            text.matches("offsets.topic.replication.factor=").count(),
            1,
            "{text}"
        );
        let tail = text
            .split("# From the [kafka] table of kraftd.toml\n")
            .nth(1)
            .unwrap();
        assert_eq!(
            tail,
            "auto.create.topics.enable=false\nnum.partitions=3\noffsets.topic.replication.factor=1\n"
        );
        // Deterministic: same input, same bytes.
        assert_eq!(
            text,
            server_properties(&s, &KafkaVersion::new(4, 1, 1)).unwrap()
        );
    }

    #[test]
    fn managed_keys_and_unusable_addresses_are_refused() {
        let mut s = settings("10.0.0.5");
        s.extra_properties.insert("node.id".into(), "7".into());
        let err = server_properties(&s, &KafkaVersion::new(4, 1, 1))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"node.id\"") && err.contains("node_id"),
            "{err}"
        );

        let err = server_properties(&settings("0.0.0.0"), &KafkaVersion::new(4, 1, 1)).unwrap_err();
        assert!(err.to_string().contains("0.0.0.0"), "{err}");
    }
}
