//! node.toml, the state kraftd owns: what kraft-install resolved where kraftd.toml is silent, the
//! identity the data was provisioned with, and the precedence kraftd.toml > node.toml > defaults.
//!
//! kraftd.toml is the admin's file: kraft-install creates it only when absent and never writes
//! resolved values into it. Pure functions here; the callers read and write the files.

use super::file::{DaemonSection, DistSection, JavaSection, NodeSection};
use super::{ConfigError, ConfigFile, Overrides, Settings, parse_heap, parse_voters, voters_text};
use std::path::Path;

/// The first lines of node.toml.
pub const STATE_HEADER: &str = "\
# node.toml — written by kraft-install; kraftd's own state, not a config file.
# Values here apply only where /etc/kafka/kraftd.toml is silent (kraftd.toml > node.toml > defaults).
# The [node] identity (id, cluster_id, role, controllers, data_dir) is what the data was formatted
# for: kraftd refuses to start when kraftd.toml contradicts it. Edit kraftd.toml instead of this file.
";

/// `admin` over `state`, key by key (the same schema): a key kraftd.toml sets wins, a key it leaves
/// unset comes from node.toml. `[kafka]` entries merge per property. Positions stay the admin's.
pub fn merge(admin: &ConfigFile, state: &ConfigFile) -> ConfigFile {
    fn or<T: Clone>(a: &Option<T>, b: &Option<T>) -> Option<T> {
        a.clone().or_else(|| b.clone())
    }
    let (a, s) = (&admin.node, &state.node);
    let mut kafka = state.kafka.clone();
    kafka.extend(admin.kafka.iter().map(|(k, v)| (k.clone(), v.clone())));
    ConfigFile {
        node: NodeSection {
            id: or(&a.id, &s.id),
            cluster_id: or(&a.cluster_id, &s.cluster_id),
            advertise: or(&a.advertise, &s.advertise),
            broker_port: or(&a.broker_port, &s.broker_port),
            controller_port: or(&a.controller_port, &s.controller_port),
            data_dir: or(&a.data_dir, &s.data_dir),
            prefix: or(&a.prefix, &s.prefix),
            role: or(&a.role, &s.role),
            controllers: or(&a.controllers, &s.controllers),
            brokers: or(&a.brokers, &s.brokers),
        },
        dist: DistSection {
            kafka_version: or(&admin.dist.kafka_version, &state.dist.kafka_version),
            mirrors: or(&admin.dist.mirrors, &state.dist.mirrors),
        },
        java: JavaSection {
            home: or(&admin.java.home, &state.java.home),
            heap: or(&admin.java.heap, &state.java.heap),
            opts: or(&admin.java.opts, &state.java.opts),
        },
        daemon: DaemonSection {
            stop_timeout_sec: or(
                &admin.daemon.stop_timeout_sec,
                &state.daemon.stop_timeout_sec,
            ),
        },
        kafka,
        positions: admin.positions.clone(),
        state_source: None,
    }
}

/// What node.toml holds for `settings`: the identity always (it is the provisioning record), every
/// other resolved value only where kraftd.toml (`admin`) is silent, so removing a line from
/// kraftd.toml falls back to the default, never to a stale copy.
pub fn state_file(settings: &Settings, admin: &ConfigFile) -> ConfigFile {
    fn unless<T>(admin_sets: bool, v: Option<T>) -> Option<T> {
        if admin_sets { None } else { v }
    }
    let full = settings.to_config_file();
    let (a, n) = (&admin.node, full.node);
    ConfigFile {
        node: NodeSection {
            id: n.id,
            cluster_id: n.cluster_id,
            advertise: unless(a.advertise.is_some(), n.advertise),
            broker_port: unless(a.broker_port.is_some(), n.broker_port),
            controller_port: unless(a.controller_port.is_some(), n.controller_port),
            data_dir: n.data_dir,
            // Derived from the config path; never recorded (the state file sits under the prefix).
            prefix: None,
            role: Some(settings.role.as_str().to_string()),
            controllers: n.controllers,
            brokers: unless(a.brokers.is_some(), n.brokers),
        },
        dist: DistSection {
            kafka_version: unless(admin.dist.kafka_version.is_some(), full.dist.kafka_version),
            mirrors: unless(admin.dist.mirrors.is_some(), full.dist.mirrors),
        },
        java: JavaSection {
            home: unless(admin.java.home.is_some(), full.java.home),
            heap: unless(admin.java.heap.is_some(), full.java.heap),
            opts: None,
        },
        daemon: DaemonSection {
            stop_timeout_sec: None,
        },
        kafka: full
            .kafka
            .into_iter()
            .filter(|(k, _)| !admin.kafka.contains_key(k))
            .collect(),
        positions: Default::default(),
        state_source: None,
    }
}

/// node.toml's text: the header, then the values as TOML.
pub fn render_state(state: &ConfigFile) -> String {
    let body = toml::to_string(state).expect("a ConfigFile always serializes");
    format!("{STATE_HEADER}\n{body}")
}

/// Where kraftd.toml set `key` ("node.id"), for messages.
fn admin_line(admin: &ConfigFile, path: &Path, key: &str) -> String {
    match admin.position(key) {
        Some(p) => format!("{}:{}", path.display(), p.line),
        None => path.display().to_string(),
    }
}

/// A flag that contradicts a value kraftd.toml SETS is refused (exit 78) before anything is
/// written: the admin's file is the truth and kraft-install never overwrites it. A flag equal to
/// the file's value, or for a key the file leaves unset, is fine (the latter goes to node.toml).
pub fn check_flag_conflicts(
    admin: &ConfigFile,
    path: &Path,
    ov: &Overrides,
) -> Result<(), ConfigError> {
    let heap = |v: &str| parse_heap(v).unwrap_or_else(|_| v.to_string());
    let voters = |v: &str| {
        parse_voters(v)
            .map(|l| voters_text(&l))
            .unwrap_or_else(|_| v.to_string())
    };
    let n = &admin.node;
    let checks: Vec<(&str, &str, Option<String>, Option<String>)> = vec![
        (
            "--node-id",
            "node.id",
            ov.node_id.map(|v| v.to_string()),
            n.id.map(|v| v.to_string()),
        ),
        (
            "--cluster-id",
            "node.cluster_id",
            ov.cluster_id.clone(),
            n.cluster_id.clone(),
        ),
        (
            "--advertise",
            "node.advertise",
            ov.advertise.as_ref().map(|v| v.trim().to_string()),
            n.advertise.clone(),
        ),
        (
            "--data-dir",
            "node.data_dir",
            ov.data_dir.as_ref().map(|p| p.display().to_string()),
            n.data_dir.as_ref().map(|p| p.display().to_string()),
        ),
        ("--role", "node.role", ov.role.clone(), n.role.clone()),
        (
            "--controllers",
            "node.controllers",
            ov.controllers.as_deref().map(voters),
            n.controllers.as_deref().map(voters),
        ),
        (
            "--brokers",
            "node.brokers",
            ov.brokers.map(|v| v.to_string()),
            n.brokers.map(|v| v.to_string()),
        ),
        (
            "--kafka-version",
            "dist.kafka_version",
            ov.kafka_version.clone(),
            admin.dist.kafka_version.clone(),
        ),
        (
            "--java-home",
            "java.home",
            ov.java_home.as_ref().map(|p| p.display().to_string()),
            admin.java.home.as_ref().map(|p| p.display().to_string()),
        ),
        (
            "--heap",
            "java.heap",
            ov.heap.as_deref().map(heap),
            admin.java.heap.as_deref().map(heap),
        ),
    ];
    for (flag, key, given, set) in checks {
        if let (Some(given), Some(set)) = (given, set) {
            if given != set {
                return Err(conflict(admin, path, flag, key, &given, &set));
            }
        }
    }
    if !ov.mirrors.is_empty() {
        if let Some(set) = &admin.dist.mirrors {
            if *set != ov.mirrors {
                return Err(conflict(
                    admin,
                    path,
                    "--mirror",
                    "dist.mirrors",
                    &ov.mirrors.join(" "),
                    &set.join(" "),
                ));
            }
        }
    }
    Ok(())
}

/// The refusal for a flag that contradicts kraftd.toml.
pub fn conflict(
    admin: &ConfigFile,
    path: &Path,
    flag: &str,
    key: &str,
    given: &str,
    set: &str,
) -> ConfigError {
    let short = key.rsplit_once('.').map_or(key, |(_, k)| k);
    ConfigError::Invalid(format!(
        "{flag} {given} contradicts {short} = {set:?} set in kraftd.toml ({}): kraftd.toml is the admin's file \
         and kraft-install never overwrites it. Nothing was changed. Either drop {flag} (the file's value is \
         used), or edit {short} in {} and re-run",
        admin_line(admin, path, key),
        path.display()
    ))
}

/// The identity recorded in node.toml at provisioning, compared with what kraftd.toml + node.toml
/// now resolve to. Each entry: (what, recorded, now, where the new value comes from).
pub fn identity_changes(
    recorded: &ConfigFile,
    settings: &Settings,
) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    let r = &recorded.node;
    if let Some(id) = r.id {
        if id != i64::from(settings.node_id.0) {
            out.push((
                "node id (node.id)",
                id.to_string(),
                settings.node_id.0.to_string(),
            ));
        }
    }
    if let (Some(old), Some(new)) = (&r.cluster_id, &settings.cluster_id) {
        if old != new.as_str() {
            out.push(("cluster id (node.cluster_id)", old.clone(), new.to_string()));
        }
    }
    if let Some(role) = &r.role {
        if role != settings.role.as_str() {
            out.push((
                "role (node.role)",
                role.clone(),
                settings.role.as_str().to_string(),
            ));
        }
    }
    let now_voters = settings.voters.as_deref().map(voters_text);
    let old_voters = r.controllers.as_deref().map(|v| {
        parse_voters(v)
            .map(|l| voters_text(&l))
            .unwrap_or_else(|_| v.to_string())
    });
    if r.id.is_some() && old_voters != now_voters {
        let show = |v: Option<String>| v.unwrap_or_else(|| "(none: a single node)".into());
        out.push((
            "voter set (node.controllers)",
            show(old_voters),
            show(now_voters),
        ));
    }
    if let Some(dir) = &r.data_dir {
        if *dir != settings.layout.data_dir {
            out.push((
                "data directory (node.data_dir)",
                dir.display().to_string(),
                settings.layout.data_dir.display().to_string(),
            ));
        }
    }
    out
}

/// The refusal for an identity change at start (exit 78); nothing is touched.
pub fn identity_error(
    changes: &[(&'static str, String, String)],
    config: &Path,
    state: &Path,
) -> Option<ConfigError> {
    if changes.is_empty() {
        return None;
    }
    let list: Vec<String> = changes
        .iter()
        .map(|(what, old, new)| format!("{what} {old} -> {new}"))
        .collect();
    Some(ConfigError::Invalid(format!(
        "{}: the node's identity changed: {} (recorded at provisioning in {}). kraftd refuses to start: the data \
         is formatted for the recorded identity, and starting on another would orphan or corrupt it; nothing \
         was changed. Undo the edit in {} (or remove the key), then start again. To change it on purpose, \
         re-provision: stop kafka, prepare the data (e.g. move the data directory), then run kraft-install, \
         which checks the data and records the new value",
        config.display(),
        list.join(", "),
        state.display(),
        config.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layout;
    use std::path::PathBuf;

    fn parse(text: &str) -> ConfigFile {
        ConfigFile::parse(text, Path::new("/etc/kafka/kraftd.toml")).unwrap()
    }

    fn resolve(file: &ConfigFile, ov: &Overrides) -> Settings {
        let ov = Overrides {
            force: true,
            ..ov.clone()
        };
        Settings::resolve(file, Path::new("/etc/kafka/kraftd.toml"), &ov, &|| {
            Ok("127.0.0.1".parse().unwrap())
        })
        .unwrap()
    }

    #[test]
    fn a_bad_value_from_node_toml_is_named_by_node_toml_not_kraftd_toml() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc/kafka");
        let state_dir = root.path().join("var/lib/kraftd");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(&state_dir).unwrap();
        let config = etc.join("kraftd.toml");
        std::fs::write(&config, "[node]\nid = 1\n").unwrap();
        // 192.0.2.0/24 (TEST-NET-1) is on no host: the recorded address has "left" this one.
        let node_toml = state_dir.join("node.toml");
        std::fs::write(
            &node_toml,
            "[node]\nid = 1\ncluster_id = \"CaZcRwyCQd-_ZrV5D7SGnA\"\nadvertise = \"192.0.2.123\"\n",
        )
        .unwrap();
        let err = Settings::load(&config).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("node.advertise at {}:4:", node_toml.display())),
            "the origin must be node.toml, where the value is: {err}"
        );
        assert!(
            err.contains("kraft-install --reconfigure --advertise IP"),
            "{err}"
        );
    }

    #[test]
    fn kraftd_toml_wins_over_node_toml_key_by_key() {
        let admin = parse("[node]\nbroker_port = 9192\n[kafka]\n\"num.partitions\" = 3\n");
        let state = parse(
            "[node]\nid = 4\nbroker_port = 9092\nadvertise = \"10.0.0.5\"\n[kafka]\n\"num.partitions\" = 1\n\"x.y\" = 2\n",
        );
        let m = merge(&admin, &state);
        assert_eq!(m.node.broker_port, Some(9192));
        assert_eq!(m.node.id, Some(4));
        assert_eq!(m.node.advertise.as_deref(), Some("10.0.0.5"));
        assert_eq!(
            m.kafka.get("num.partitions"),
            Some(&toml::Value::Integer(3))
        );
        assert_eq!(m.kafka.get("x.y"), Some(&toml::Value::Integer(2)));
    }

    #[test]
    fn node_toml_keeps_identity_and_only_values_kraftd_toml_leaves_unset() {
        let admin = parse(
            "[node]\nid = 2\nbroker_port = 9192\ndata_dir = \"/srv/kafka/data\"\n[java]\nheap = \"512M\"\n[kafka]\n\"num.partitions\" = 3\n",
        );
        let s = resolve(
            &admin,
            &Overrides {
                cluster_id: Some("CaZcRwyCQd-_ZrV5D7SGnA".into()),
                ..Default::default()
            },
        );
        let st = state_file(&s, &admin);
        assert_eq!(
            st.node.id,
            Some(2),
            "identity is recorded even when kraftd.toml sets it"
        );
        assert_eq!(st.node.data_dir, Some(PathBuf::from("/srv/kafka/data")));
        assert_eq!(st.node.role.as_deref(), Some("combined"));
        assert_eq!(st.node.broker_port, None, "kraftd.toml sets it");
        assert_eq!(st.java.heap, None, "kraftd.toml sets it");
        assert_eq!(
            st.node.advertise.as_deref(),
            Some("127.0.0.1"),
            "detected: recorded"
        );
        assert!(
            st.kafka.is_empty(),
            "[kafka] entries of kraftd.toml are never copied: {:?}",
            st.kafka
        );
        // Round trip: node.toml parses with the same parser and resolves to the same node.
        let text = render_state(&st);
        assert!(text.starts_with(STATE_HEADER));
        let back = ConfigFile::parse(&text, Path::new("/var/lib/kraftd/node.toml")).unwrap();
        assert_eq!(resolve(&merge(&admin, &back), &Overrides::default()), s);
    }

    #[test]
    fn a_flag_contradicting_kraftd_toml_is_refused_with_both_values_and_the_line() {
        let admin = parse("[node]\n\nid = 3\n[java]\nheap = \"1g\"\n");
        let path = Path::new("/etc/kafka/kraftd.toml");
        let err = check_flag_conflicts(
            &admin,
            path,
            &Overrides {
                node_id: Some(4),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--node-id 4")
                && err.contains("id = \"3\"")
                && err.contains("/etc/kafka/kraftd.toml:3"),
            "{err}"
        );
        assert!(
            err.contains("drop --node-id") && err.contains("edit id in"),
            "{err}"
        );
        // Equal values (after normalization) and keys the file leaves unset are fine.
        check_flag_conflicts(
            &admin,
            path,
            &Overrides {
                node_id: Some(3),
                heap: Some("1G".into()),
                advertise: Some("10.0.0.9".into()),
                ..Default::default()
            },
        )
        .unwrap();
    }

    #[test]
    fn identity_changes_name_old_and_new() {
        let admin = parse("[node]\nid = 1\n");
        let s = resolve(&admin, &Overrides::default());
        let recorded = state_file(&s, &admin);
        assert!(identity_changes(&recorded, &s).is_empty());
        let changed = resolve(
            &parse("[node]\nid = 2\nrole = \"combined\"\ndata_dir = \"/srv/d\"\n"),
            &Overrides::default(),
        );
        let changes = identity_changes(&recorded, &changed);
        let text = identity_error(
            &changes,
            Path::new("/etc/kafka/kraftd.toml"),
            Path::new("/var/lib/kraftd/node.toml"),
        )
        .unwrap()
        .to_string();
        assert!(text.contains("node id (node.id) 1 -> 2"), "{text}");
        assert!(
            text.contains("data directory (node.data_dir) /var/lib/kafka/data -> /srv/d"),
            "{text}"
        );
        assert!(
            !text.contains("voter set"),
            "a single node has no voter list: {text}"
        );
        let cluster = resolve(
            &parse(
                "[node]\nid = 1\ncontrollers = \"1@127.0.0.1:9093,2@10.0.0.6:9093,3@10.0.0.7:9093\"\n",
            ),
            &Overrides::default(),
        );
        let changes = identity_changes(&recorded, &cluster);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].1, "(none: a single node)");
        assert!(text.contains("Undo the edit"), "{text}");
    }

    #[test]
    fn prefix_comes_from_the_config_path() {
        assert_eq!(
            Layout::prefix_of_config(Path::new("/tmp/p/etc/kafka/kraftd.toml")),
            PathBuf::from("/tmp/p")
        );
        assert_eq!(
            Layout::prefix_of_config(Path::new("/etc/kafka/kraftd.toml")),
            PathBuf::from("/")
        );
        assert_eq!(
            Layout::prefix_of_config(Path::new("/home/a/kraftd.toml")),
            PathBuf::from("/")
        );
        // Relative to the working directory, and absolute as a prefix must be.
        assert_eq!(
            Layout::prefix_of_config(Path::new("node/etc/kafka/kraftd.toml")),
            std::env::current_dir().unwrap().join("node")
        );
    }
}
