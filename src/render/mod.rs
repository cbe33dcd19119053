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

use crate::config::{
    BROKER_LISTENER, CONTROLLER_LISTENER, Role, default_replication_factor, owned_key, voters_text,
};
use crate::{KafkaVersion, Settings};
use anyhow::{Result, bail};
use std::fmt::Write as _;

/// server.properties for this node's role: a single combined node with a static one-voter quorum
/// (no `controllers`), or a combined, controller-only or broker-only node of a cluster whose
/// static voter set is `settings.voters`.
///
/// The same shape runs on 3.7 (which only knows `controller.quorum.voters`) and on 4.x, and it is
/// formatted without any quorum flags. `settings.extra_properties` follow verbatim, sorted by key;
/// an extra key also rendered as a default here (e.g. a replication factor) replaces that default.
pub fn server_properties(settings: &Settings, version: &KafkaVersion) -> Result<String> {
    // Settings from kraftd.toml never get here with an owned key (`[kafka]` refuses them with the
    // file position); settings built in code get the same table's refusal.
    for key in settings.extra_properties.keys() {
        if let Some(owned) = owned_key(key) {
            bail!(
                "{}: [kafka] sets {key:?}, which kraftd manages itself: {}; remove {key:?} from the [kafka] table",
                settings.layout.config_file().display(),
                owned.fix
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

    let listeners = settings.listeners();
    let roles = match settings.role {
        Role::Combined => "broker,controller",
        Role::Controller => "controller",
        Role::Broker => "broker",
    };
    let mut defaults: Vec<(&str, String)> = vec![
        ("process.roles", roles.into()),
        ("node.id", settings.node_id.0.to_string()),
        (
            "controller.quorum.voters",
            voters_text(&settings.effective_voters()),
        ),
        // Bound to the advertised address, not 0.0.0.0: the node serves exactly where it says it is
        // (except for a name accepted with --force that is not on this host).
        ("listeners", listeners.listeners_value()),
    ];
    // No advertised.listeners on a controller-only node: 3.7 requires it empty there, and without
    // it 4.x advertises the controller listener, which is what the voters connect to anyway.
    if let Some(advertised) = listeners.advertised_listeners_value() {
        defaults.push(("advertised.listeners", advertised));
        defaults.push(("inter.broker.listener.name", BROKER_LISTENER.into()));
    }
    // The voters' listener: bound by a controller, connected to by a broker.
    defaults.push(("controller.listener.names", CONTROLLER_LISTENER.into()));
    let protocols = match listeners.broker {
        Some(_) => format!("{CONTROLLER_LISTENER}:PLAINTEXT,{BROKER_LISTENER}:PLAINTEXT"),
        None => format!("{CONTROLLER_LISTENER}:PLAINTEXT"),
    };
    defaults.push(("listener.security.protocol.map", protocols));
    defaults.push(("log.dirs", data_dir.into()));

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
            err.contains("\"node.id\"") && err.contains("--node-id"),
            "{err}"
        );

        let err = server_properties(&settings("0.0.0.0"), &KafkaVersion::new(4, 1, 1)).unwrap_err();
        assert!(err.to_string().contains("0.0.0.0"), "{err}");
    }

    /// The keys of a rendering, in order.
    fn keys(text: &str) -> Vec<String> {
        lines(text)
            .iter()
            .filter_map(|l| l.split_once('='))
            .map(|(k, _)| k.to_string())
            .collect()
    }

    #[test]
    fn owned_keys_table_matches_what_render_writes() {
        use crate::config::OWNED_KEYS;
        let v = KafkaVersion::new(4, 1, 1);
        let mut nodes = vec![settings("10.0.0.5")];
        for role in [Role::Combined, Role::Controller, Role::Broker] {
            nodes.push(cluster_node(role, if role == Role::Broker { 4 } else { 1 }));
        }
        let mut written = std::collections::BTreeSet::new();
        for s in &nodes {
            let text = server_properties(s, &v).unwrap();
            for key in keys(&text) {
                match OWNED_KEYS.iter().find(|k| k.key == key) {
                    // Owned and rendered: [kafka] may not set it.
                    Some(owned) => assert!(owned.rendered, "{key} is rendered"),
                    // Not owned: a default that a [kafka] entry replaces.
                    None => {
                        let mut s = s.clone();
                        s.extra_properties.insert(key.clone(), "42".into());
                        let text = server_properties(&s, &v).unwrap();
                        assert!(
                            text.ends_with(&format!("\n{key}=42\n"))
                                && text.matches(&format!("\n{key}=")).count() == 1,
                            "{key} is neither owned nor replaced by [kafka]:\n{text}"
                        );
                    }
                }
                written.insert(key);
            }
        }
        // And the other way: a key marked rendered is written for some role; one that is not
        // marked never is (it is owned because it would fight a rendered one).
        for owned in OWNED_KEYS {
            assert_eq!(written.contains(owned.key), owned.rendered, "{}", owned.key);
        }
    }
}
