//! The `[kafka]` passthrough table: extra server.properties entries, checked and rendered to text.

use std::collections::BTreeMap;

/// server.properties keys kraft-install derives from `[node]` (or fixes); `[kafka]` may not set
/// them, or the rendered file would contradict the formatted storage and the quorum.
pub const INSTALLER_OWNED_KEYS: &[&str] = &[
    "node.id",
    "broker.id",
    "process.roles",
    "controller.quorum.voters",
    "controller.quorum.bootstrap.servers",
    "listeners",
    "advertised.listeners",
    "listener.security.protocol.map",
    "controller.listener.names",
    "inter.broker.listener.name",
    "log.dirs",
    "log.dir",
    "metadata.log.dir",
    "cluster.id",
];

/// For an installer-owned key: what to set instead.
fn owned_key_fix(key: &str) -> &'static str {
    match key {
        "node.id" | "broker.id" => "set `id` in [node] (flag --node-id)",
        "process.roles" => "set `role` in [node] (flag --role: combined, controller or broker)",
        "controller.quorum.voters" | "controller.quorum.bootstrap.servers" => {
            "set `controllers` in [node] (flag --controllers id@host:port,…); a single node derives its quorum from `id`, `advertise` and `controller_port`"
        }
        "listeners" | "advertised.listeners" => {
            "set `advertise`, `broker_port` and `controller_port` in [node] (flag --advertise)"
        }
        "listener.security.protocol.map"
        | "controller.listener.names"
        | "inter.broker.listener.name" => {
            "kraftd fixes the listener names (PLAINTEXT for clients, CONTROLLER for the quorum)"
        }
        "log.dirs" | "log.dir" | "metadata.log.dir" => "set `data_dir` in [node] (flag --data-dir)",
        "cluster.id" => "set `cluster_id` in [node] (flag --cluster-id)",
        _ => "remove it from [kafka]",
    }
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
    if INSTALLER_OWNED_KEYS.contains(&key) {
        return Err(format!(
            "[kafka] key {key:?} is set by kraft-install and may not be overridden here; {}",
            owned_key_fix(key)
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
        for key in INSTALLER_OWNED_KEYS {
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
