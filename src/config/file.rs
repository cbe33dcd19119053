//! The on-disk TOML model of kraftd.toml (serde, unknown keys refused, errors with line/column).

use super::ConfigError;
use super::section::kafka::{check_kafka_entry, flatten_kafka_table};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// kraftd.toml as written on disk. Every field is optional so a partial file (or none) works;
/// defaults and checks live in `Settings::resolve`.
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
    /// Extra server.properties entries, passed through verbatim (checked against installer-owned
    /// keys). After `parse`, keys are flat Kafka property names: `log.retention.hours = 1` written
    /// as a dotted TOML key and `"log.retention.hours" = 1` give the same entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kafka: BTreeMap<String, toml::Value>,
    /// Where each key sat in the parsed text, so later checks can say `file:line:col`.
    #[serde(skip)]
    pub positions: KeyPositions,
    /// For a kraftd.toml merged with node.toml: that file and its key positions, so a value that
    /// came from there is named by where it really is.
    #[serde(skip)]
    pub state_source: Option<StateSource>,
}

/// node.toml as the source of merged values (see `ConfigFile::state_source`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateSource {
    pub path: std::path::PathBuf,
    pub positions: KeyPositions,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSection {
    /// Kafka node.id; i64 so an out-of-range value gets our message (with the range), not serde's.
    pub id: Option<i64>,
    pub cluster_id: Option<String>,
    /// IP address (or host name resolving to one of this host's addresses) clients connect to.
    pub advertise: Option<String>,
    pub broker_port: Option<i64>,
    pub controller_port: Option<i64>,
    pub data_dir: Option<PathBuf>,
    /// Install root; "/" (the default) for a system install.
    pub prefix: Option<PathBuf>,
    /// "combined" (default), "controller" or "broker".
    pub role: Option<String>,
    /// The controller voter set, `id@host:port,…`; unset for a single combined node.
    pub controllers: Option<String>,
    /// Expected number of brokers in the cluster (replication factor defaults).
    pub brokers: Option<i64>,
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

/// The order keys appear in kraftd.toml (and in rendered files), per section.
pub(crate) const SECTION_KEYS: &[(&str, &[&str])] = &[
    (
        "node",
        &[
            "id",
            "cluster_id",
            "advertise",
            "broker_port",
            "controller_port",
            "data_dir",
            "prefix",
            "role",
            "controllers",
            "brokers",
        ],
    ),
    ("dist", &["kafka_version", "mirrors"]),
    ("java", &["home", "heap", "opts"]),
    ("daemon", &["stop_timeout_sec"]),
];

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A 1-based line and column (in characters) in the config text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text`.
    pub fn at(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

/// Key → position of the key in the parsed text ("node.id", "kafka.log.retention.hours").
/// Compares equal to any other: where a value was written is not part of the configuration.
#[derive(Debug, Clone, Default)]
pub struct KeyPositions(pub BTreeMap<String, Position>);

impl PartialEq for KeyPositions {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ConfigFile {
    /// Parse TOML text; `path` is only used in error messages (which carry line and column).
    /// Refuses unknown keys and bad `[kafka]` entries (installer-owned keys, non-scalar values).
    pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
        let mut file: ConfigFile = toml::from_str(text).map_err(|e| {
            let pos = e
                .span()
                .map(|s| Position::at(text, s.start))
                .unwrap_or(Position { line: 1, column: 1 });
            let message = e.message().trim_end().to_string();
            let hint = if message.starts_with("unknown field") {
                "remove or rename the key; every key is documented (commented out) in the default kraftd.toml"
            } else if message.starts_with("invalid type") {
                "give the value the type the default kraftd.toml shows for this key"
            } else {
                "fix the TOML at that position (text values such as addresses, versions and paths need quotes)"
            };
            syntax_error(path, text, pos, format!("{message}; {hint}"))
        })?;
        file.positions = key_positions(text);
        let nested = std::mem::take(&mut file.kafka);
        let flat = flatten_kafka_table(nested).map_err(|(key, message)| {
            let pos = file.positions.0.get(&format!("kafka.{key}")).copied();
            located_error(path, text, pos, message)
        })?;
        for (key, value) in &flat {
            check_kafka_entry(key, value).map_err(|message| {
                let pos = file.positions.0.get(&format!("kafka.{key}")).copied();
                located_error(path, text, pos, message)
            })?;
        }
        file.kafka = flat;
        Ok(file)
    }

    /// Read and parse `path`; `Ok(None)` when it does not exist (defaults apply).
    pub fn load(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
        Ok(ConfigFile::load_with_text(path)?.map(|(file, _)| file))
    }

    /// `load`, also returning the text read, which `render_config` needs to keep the admin's
    /// comments and layout when writing back.
    pub fn load_with_text(path: &Path) -> Result<Option<(ConfigFile, String)>, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    error,
                });
            }
        };
        let file = ConfigFile::parse(&text, path)?;
        Ok(Some((file, text)))
    }

    /// Where `key` ("node.id", "kafka.<property>") was written, if this file was parsed from text.
    pub fn position(&self, key: &str) -> Option<Position> {
        self.positions.0.get(key).copied()
    }

    /// node.toml and the key's position there, when the key is not in this (admin) file but came
    /// from node.toml by a merge.
    pub fn state_origin(&self, key: &str) -> Option<(&Path, Option<Position>)> {
        if self.positions.0.contains_key(key) {
            return None;
        }
        let src = self.state_source.as_ref()?;
        let pos = src.positions.0.get(key).copied()?;
        Some((src.path.as_path(), Some(pos)))
    }
}

fn syntax_error(path: &Path, text: &str, pos: Position, message: String) -> ConfigError {
    let source_line = text.lines().nth(pos.line - 1).unwrap_or("");
    let caret = format!(
        "{}^",
        " ".repeat(source_line.chars().take(pos.column - 1).count())
    );
    ConfigError::Syntax {
        path: path.to_path_buf(),
        line: pos.line,
        column: pos.column,
        message: format!("{message}\n  | {source_line}\n  | {caret}"),
    }
}

fn located_error(path: &Path, text: &str, pos: Option<Position>, message: String) -> ConfigError {
    match pos {
        Some(pos) => syntax_error(path, text, pos, message),
        None => ConfigError::Invalid(format!("{}: {message}", path.display())),
    }
}

/// Positions of every key, by dotted path. Only called on text serde already accepted.
fn key_positions(text: &str) -> KeyPositions {
    let mut out = BTreeMap::new();
    if let Ok(doc) = toml_edit::Document::parse(text) {
        walk_keys(text, doc.as_table(), "", None, &mut out);
    }
    KeyPositions(out)
}

/// Record each leaf's position under its dotted path. Inside `[kafka]` a leaf is reported at the
/// first key segment below `kafka` (for `log.retention.hours = 1` that is `log`), which is where
/// an admin looks.
fn walk_keys(
    text: &str,
    table: &dyn toml_edit::TableLike,
    prefix: &str,
    inherited: Option<Position>,
    out: &mut BTreeMap<String, Position>,
) {
    for (key, item) in table.iter() {
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        let own = table
            .get_key_value(key)
            .and_then(|(k, _)| k.span())
            .map(|s| Position::at(text, s.start));
        let pos = if prefix.starts_with("kafka.") {
            inherited
        } else {
            own
        };
        if let Some(sub) = item.as_table_like() {
            walk_keys(text, sub, &path, pos, out);
        } else if let Some(pos) = pos {
            out.insert(path, pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/etc/kafka/kraftd.toml";

    fn parse_err(text: &str) -> (usize, usize, String) {
        match ConfigFile::parse(text, Path::new(PATH)).unwrap_err() {
            ConfigError::Syntax {
                path,
                line,
                column,
                message,
            } => {
                assert_eq!(path, Path::new(PATH));
                (line, column, message)
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_full_file() {
        let text = "[node]\nid = 3\ncluster_id = \"MkU3OEVBNTcwNTJENDM2Qg\"\nadvertise = \"10.0.0.5\"\n\
                    broker_port = 19092\ncontroller_port = 19093\ndata_dir = \"/data\"\nprefix = \"/\"\n\
                    [dist]\nkafka_version = \"3.7.1\"\nmirrors = [\"https://m.example/kafka/\"]\n\
                    [java]\nhome = \"/usr/lib/jvm/x\"\nheap = \"2G\"\nopts = [\"-XX:+UseZGC\"]\n\
                    [daemon]\nstop_timeout_sec = 60\n[kafka]\n\"num.partitions\" = 3\n";
        let f = ConfigFile::parse(text, Path::new(PATH)).unwrap();
        assert_eq!(f.node.id, Some(3));
        assert_eq!(f.node.broker_port, Some(19092));
        assert_eq!(
            f.dist.mirrors.as_deref(),
            Some(&["https://m.example/kafka/".to_string()][..])
        );
        assert_eq!(
            f.java.opts.as_deref(),
            Some(&["-XX:+UseZGC".to_string()][..])
        );
        assert_eq!(f.daemon.stop_timeout_sec, Some(60));
        assert_eq!(f.kafka["num.partitions"], toml::Value::Integer(3));
        assert_eq!(
            f.position("node.advertise"),
            Some(Position { line: 4, column: 1 })
        );
        assert_eq!(
            f.position("kafka.num.partitions"),
            Some(Position {
                line: 19,
                column: 1
            })
        );
    }

    #[test]
    fn unknown_key_shows_line_and_column() {
        let (line, column, message) = parse_err("[node]\nid = 1\n  advertize = \"10.0.0.5\"\n");
        assert_eq!((line, column), (3, 3));
        assert!(
            message.contains("unknown field `advertize`") && message.contains("expected one of"),
            "{message}"
        );
        assert!(message.contains("remove or rename the key"), "{message}");
        assert!(
            message.contains("  |   advertize = \"10.0.0.5\"\n  |   ^"),
            "{message}"
        );
        let (line, _, message) = parse_err("[nodes]\nid = 1\n");
        assert_eq!(line, 1);
        assert!(message.contains("unknown field `nodes`"), "{message}");
    }

    #[test]
    fn bad_syntax_shows_line_and_column() {
        let (line, column, message) = parse_err("[node]\nid = 1\nadvertise = 10.0.0.5\n");
        assert_eq!(line, 3, "{message}");
        assert!(column >= 13, "{column}: {message}");
        assert!(message.contains("fix the TOML"), "{message}");
        let (line, _, _) = parse_err("[node\n");
        assert_eq!(line, 1);
        let err = ConfigFile::parse("\n\n[java]\nheap = 1G\n", Path::new(PATH))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/etc/kafka/kraftd.toml:4:"), "{err}");
    }

    #[test]
    fn wrong_type_shows_line() {
        let (line, _, message) = parse_err("[node]\nid = \"one\"\n");
        assert_eq!(line, 2);
        assert!(message.contains("invalid type"), "{message}");
        let (line, _, _) = parse_err("[dist]\nmirrors = \"https://m.example/\"\n");
        assert_eq!(line, 2);
    }

    #[test]
    fn installer_owned_kafka_key_refused_at_its_line() {
        let (line, column, message) =
            parse_err("[kafka]\n\"num.partitions\" = 3\n\"node.id\" = 2\n");
        assert_eq!((line, column), (3, 1));
        assert!(
            message.contains("\"node.id\" is set by kraft-install")
                && message.contains("--node-id"),
            "{message}"
        );
        // Written as a dotted key it is the same property.
        let (line, _, message) = parse_err("[kafka]\nlog.dirs = \"/x\"\n");
        assert_eq!(line, 2);
        assert!(
            message.contains("\"log.dirs\"") && message.contains("data_dir"),
            "{message}"
        );
        let (line, _, message) = parse_err("[kafka]\n\"compression.type\" = [\"a\"]\n");
        assert_eq!(line, 2);
        assert!(message.contains("comma-separated"), "{message}");
        let (_, _, message) = parse_err("[kafka]\n\"Log.Retention\" = 1\n");
        assert!(
            message.contains("does not look like a Kafka property name"),
            "{message}"
        );
    }

    #[test]
    fn load_missing_file_is_none_and_unreadable_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            ConfigFile::load(&dir.path().join("kraftd.toml")).unwrap(),
            None
        );
        let err = ConfigFile::load(dir.path()).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
        let path = dir.path().join("k.toml");
        std::fs::write(&path, "[node]\nid = 9\n").unwrap();
        assert_eq!(ConfigFile::load(&path).unwrap().unwrap().node.id, Some(9));
        std::fs::write(&path, "[node]\nbogus = 9\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:2:1: unknown field `bogus`", path.display())),
            "{err}"
        );
    }

    #[test]
    fn position_counts_characters() {
        assert_eq!(Position::at("ab\ncé d", 6), Position { line: 2, column: 3 });
        assert_eq!(Position::at("x", 99), Position { line: 1, column: 2 });
    }
}
