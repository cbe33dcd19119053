//! The `[kafka]` passthrough table: extra server.properties entries, checked and rendered to text,
//! and the one table of the server.properties keys kraftd owns (which `[kafka]` may not set).

use super::{Picker, invalid};
use crate::config::ConfigError;
use std::collections::BTreeMap;

/// The checked `[kafka]` entries.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::config) struct Kafka {
    /// Rendered to property text.
    pub extra_properties: BTreeMap<String, String>,
    /// As typed in kraftd.toml, so writing back keeps `168` an integer.
    pub kafka_values: BTreeMap<String, toml::Value>,
}

impl Kafka {
    /// Check every entry (no flags set these). `parse` already checked them with positions; a
    /// `ConfigFile` built in code gets the same refusals here.
    pub fn resolve(p: &Picker<'_>) -> Result<Kafka, ConfigError> {
        let mut extra_properties = BTreeMap::new();
        for (key, value) in &p.file.kafka {
            check_kafka_entry(key, value).map_err(|m| invalid(p.file_origin("kafka"), m))?;
            let text = kafka_property_value(value)
                .map_err(|m| invalid(p.file_origin("kafka"), format!("[kafka] {key:?}: {m}")))?;
            extra_properties.insert(key.clone(), text);
        }
        Ok(Kafka {
            extra_properties,
            kafka_values: p.file.kafka.clone(),
        })
    }
}

/// A server.properties key kraftd owns: `[kafka]` may not set it, or the rendered file would
/// contradict the typed settings, the formatted storage or the quorum (a second `node.id=` line
/// wins in Java properties). The one table behind the `[kafka]` refusal (here, with positions) and
/// render's (for settings built in code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnedKey {
    pub key: &'static str,
    /// What to set instead.
    pub fix: &'static str,
    /// True when render writes the key itself. False for a key render never writes but that would
    /// fight one it does: an alias (`broker.id`, `log.dir`), the dynamic quorum
    /// (`controller.quorum.bootstrap.servers`), a metadata log outside `data_dir`, or the cluster id
    /// (which lives in the formatted storage's meta.properties).
    pub rendered: bool,
}

const fn owned(key: &'static str, fix: &'static str, rendered: bool) -> OwnedKey {
    OwnedKey { key, fix, rendered }
}

const ID_FIX: &str = "set `id` in [node] (flag --node-id)";
const QUORUM_FIX: &str = "set `controllers` in [node] (flag --controllers id@host:port,…); a single node derives its quorum from `id`, `advertise` and `controller_port`";
const LISTENERS_FIX: &str =
    "set `advertise`, `broker_port` and `controller_port` in [node] (flag --advertise)";
const LISTENER_NAMES_FIX: &str =
    "kraftd fixes the listener names (PLAINTEXT for clients, CONTROLLER for the quorum)";
const DATA_DIR_FIX: &str = "set `data_dir` in [node] (flag --data-dir)";

/// Every server.properties key kraftd owns.
pub const OWNED_KEYS: &[OwnedKey] = &[
    owned("node.id", ID_FIX, true),
    owned("broker.id", ID_FIX, false),
    owned(
        "process.roles",
        "set `role` in [node] (flag --role: combined, controller or broker)",
        true,
    ),
    owned("controller.quorum.voters", QUORUM_FIX, true),
    owned("controller.quorum.bootstrap.servers", QUORUM_FIX, false),
    owned("listeners", LISTENERS_FIX, true),
    owned("advertised.listeners", LISTENERS_FIX, true),
    owned("listener.security.protocol.map", LISTENER_NAMES_FIX, true),
    owned("controller.listener.names", LISTENER_NAMES_FIX, true),
    owned("inter.broker.listener.name", LISTENER_NAMES_FIX, true),
    owned("log.dirs", DATA_DIR_FIX, true),
    owned("log.dir", DATA_DIR_FIX, false),
    owned("metadata.log.dir", DATA_DIR_FIX, false),
    owned(
        "cluster.id",
        "set `cluster_id` in [node] (flag --cluster-id)",
        false,
    ),
];

/// The table entry of `key`, if kraftd owns it.
pub fn owned_key(key: &str) -> Option<&'static OwnedKey> {
    OWNED_KEYS.iter().find(|k| k.key == key)
}

/// Flatten nested tables (`log.retention.hours = 1` parses as `log = {retention = {hours = 1}}`)
/// into dotted Kafka property names. Err carries (key, message) when a key comes out twice.
pub(crate) fn flatten_kafka_table(
    nested: BTreeMap<String, toml::Value>,
) -> Result<BTreeMap<String, toml::Value>, (String, String)> {
    fn walk(
        prefix: &str,
        table: impl IntoIterator<Item = (String, toml::Value)>,
        out: &mut BTreeMap<String, toml::Value>,
    ) -> Result<(), (String, String)> {
        for (key, value) in table {
            let name = if prefix.is_empty() {
                key
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(sub) => walk(&name, sub, out)?,
                leaf => {
                    if out.insert(name.clone(), leaf).is_some() {
                        return Err((name.clone(), format!("[kafka] sets {name:?} twice")));
                    }
                }
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk("", nested, &mut out)?;
    Ok(out)
}

/// Check one flattened `[kafka]` entry: a Kafka-style property name, not installer-owned, with a
/// scalar value. The message names the key and the fix (the caller adds file:line:col).
pub(crate) fn check_kafka_entry(key: &str, value: &toml::Value) -> Result<(), String> {
    let valid_name = key.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && !key.ends_with('.')
        && !key.contains("..")
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        return Err(format!(
            "[kafka] key {key:?} does not look like a Kafka property name (lower-case letters, digits, '.', '_', '-'); \
             check the spelling against Kafka's broker configuration reference"
        ));
    }
    if let Some(owned) = owned_key(key) {
        return Err(format!(
            "[kafka] key {key:?} is set by kraft-install and may not be overridden here; {}",
            owned.fix
        ));
    }
    kafka_property_value(value)
        .map(|_| ())
        .map_err(|why| format!("[kafka] {key:?}: {why}"))
}

/// The server.properties text of a `[kafka]` value.
pub fn kafka_property_value(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => {
            if s.contains(['\n', '\r']) {
                Err("the value spans several lines; a property value is one line".to_string())
            } else {
                Ok(s.clone())
            }
        }
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Float(f) if f.is_finite() => Ok(f.to_string()),
        toml::Value::Float(f) => Err(format!("{f} is not a number Kafka accepts")),
        toml::Value::Array(_) => {
            Err("arrays are not passed through; write a list as one comma-separated string, e.g. \"a,b\"".to_string())
        }
        toml::Value::Datetime(_) => Err("dates are not Kafka property values; quote it as a string".to_string()),
        toml::Value::Table(_) => Err("a table is not a property value".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(text: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str::<toml::Table>(text)
            .unwrap()
            .into_iter()
            .collect()
    }

    #[test]
    fn dotted_and_quoted_keys_flatten_alike() {
        let a = flatten_kafka_table(nested(
            "log.retention.hours = 168\nlog.segment.bytes = 1024",
        ))
        .unwrap();
        let b = flatten_kafka_table(nested(
            "\"log.retention.hours\" = 168\n\"log.segment.bytes\" = 1024",
        ))
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            ["log.retention.hours", "log.segment.bytes"]
        );
    }

    #[test]
    fn same_property_twice_is_refused() {
        let err = flatten_kafka_table(nested("\"a.b\" = 1\na.b = 2")).unwrap_err();
        assert_eq!(err.0, "a.b");
    }

    #[test]
    fn values_render_as_property_text() {
        let v = |t: &str| {
            kafka_property_value(&toml::from_str::<toml::Table>(&format!("v = {t}")).unwrap()["v"])
        };
        assert_eq!(v("168").unwrap(), "168");
        assert_eq!(v("-1").unwrap(), "-1");
        assert_eq!(v("false").unwrap(), "false");
        assert_eq!(v("0.5").unwrap(), "0.5");
        assert_eq!(v("\"gzip\"").unwrap(), "gzip");
        assert!(v("[\"a\", \"b\"]").unwrap_err().contains("comma-separated"));
        assert!(v("1979-05-27").unwrap_err().contains("quote"));
        assert!(v("nan").is_err());
        assert!(
            v("\"\"\"two\nlines\"\"\"")
                .unwrap_err()
                .contains("one line")
        );
    }

    #[test]
    fn owned_keys_refused_with_the_replacement() {
        let one = toml::Value::Integer(1);
        for OwnedKey { key, .. } in OWNED_KEYS {
            let err = check_kafka_entry(key, &one).unwrap_err();
            assert!(
                err.contains(&format!("{key:?}")) && err.contains("set by kraft-install"),
                "{err}"
            );
        }
        assert!(
            check_kafka_entry("node.id", &one)
                .unwrap_err()
                .contains("--node-id")
        );
        assert!(
            check_kafka_entry("log.dirs", &one)
                .unwrap_err()
                .contains("--data-dir")
        );
        assert!(
            check_kafka_entry("listeners", &one)
                .unwrap_err()
                .contains("--advertise")
        );
        assert!(
            check_kafka_entry("cluster.id", &one)
                .unwrap_err()
                .contains("--cluster-id")
        );
    }

    #[test]
    fn property_names_checked() {
        let one = toml::Value::Integer(1);
        assert!(check_kafka_entry("num.network.threads", &one).is_ok());
        assert!(check_kafka_entry("listener.name.plaintext.sasl.enabled.mechanisms", &one).is_ok());
        for bad in [
            "Log.Retention",
            "log retention",
            "log..dirs",
            ".x",
            "x.",
            "",
            "a=b",
            "-x",
        ] {
            assert!(
                check_kafka_entry(bad, &one)
                    .unwrap_err()
                    .contains("does not look like"),
                "{bad}"
            );
        }
    }
}
