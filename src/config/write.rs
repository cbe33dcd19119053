//! Writing kraftd.toml back: the resolved values, in place, keeping the admin's comments and layout.
//!
//! Deterministic by construction: a value already equal (as TOML, not as text) is left untouched,
//! so rendering the same settings over the previous output yields identical bytes and the
//! installer's re-run changes nothing.

use super::file::SECTION_KEYS;
use super::{ConfigFile, Settings};
use crate::fsutil::{WriteOutcome, write_atomic};
use anyhow::Context;
use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use toml_edit::{DocumentMut, Item, Table, TableLike};

/// The shipped, commented default kraftd.toml (every key, commented out). A fresh file is this
/// text with the resolved values uncommented in place.
pub const DEFAULT_CONFIG_TEMPLATE: &str = include_str!("../../dist/usr/share/kraftd/kraftd.toml");

/// Mode of a newly written kraftd.toml (root:kafka 0640 on a system install).
const NEW_CONFIG_MODE: u32 = 0o640;

/// (section, [(key, value)]) in file order; `kafka` last with flat property names.
type Wanted = Vec<(&'static str, Vec<(String, toml::Value)>)>;

/// Render kraftd.toml holding exactly the values of `cfg`. With `existing_text` (which must be a
/// file `ConfigFile::parse` accepted) its comments, order and formatting are kept and only values
/// that differ are changed; without, the commented default template is the base.
pub fn render_config(existing_text: Option<&str>, cfg: &ConfigFile) -> String {
    let base = match existing_text {
        Some(text) if text.parse::<DocumentMut>().is_ok() => text,
        _ => DEFAULT_CONFIG_TEMPLATE,
    };
    let wanted = wanted_entries(cfg);
    let present = present_keys(&base.parse::<DocumentMut>().expect("checked above"));
    let text = comment_out_stale(base, &wanted);
    let text = uncomment_keys(&text, &present, &wanted);
    let mut doc: DocumentMut = match text.parse() {
        Ok(doc) => doc,
        // Uncommenting only ever writes `key = value` lines we rendered; fall back if not.
        Err(_) => base.parse().expect("checked above"),
    };
    apply(&mut doc, &wanted);
    doc.to_string()
}

/// Write `settings` back to `path` atomically, keeping the existing file's comments and mode
/// (new files get 0640). `Unchanged` (mtime kept) when the content is already there.
pub fn save_config(path: &Path, settings: &Settings) -> anyhow::Result<WriteOutcome> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if let Some(text) = &existing {
        // Never replace a file we cannot read back with the template: the admin's text would go.
        ConfigFile::parse(text, path)?;
    }
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(NEW_CONFIG_MODE);
    let text = render_config(existing.as_deref(), &settings.to_config_file());
    write_atomic(path, text.as_bytes(), mode)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn wanted_entries(cfg: &ConfigFile) -> Wanted {
    let s = |v: &str| toml::Value::String(v.to_string());
    let path = |p: &Path| toml::Value::String(p.to_string_lossy().into_owned());
    let int = |i: i64| toml::Value::Integer(i);
    let list = |l: &[String]| toml::Value::Array(l.iter().map(|x| s(x)).collect());
    let mut out: Wanted = Vec::new();
    for (section, keys) in SECTION_KEYS {
        let mut entries = Vec::new();
        for key in *keys {
            let value = match (*section, *key) {
                ("node", "id") => cfg.node.id.map(int),
                ("node", "cluster_id") => cfg.node.cluster_id.as_deref().map(s),
                ("node", "advertise") => cfg.node.advertise.as_deref().map(s),
                ("node", "broker_port") => cfg.node.broker_port.map(int),
                ("node", "controller_port") => cfg.node.controller_port.map(int),
                ("node", "data_dir") => cfg.node.data_dir.as_deref().map(path),
                ("node", "prefix") => cfg.node.prefix.as_deref().map(path),
                ("node", "role") => cfg.node.role.as_deref().map(s),
                ("node", "controllers") => cfg.node.controllers.as_deref().map(s),
                ("node", "brokers") => cfg.node.brokers.map(int),
                ("dist", "kafka_version") => cfg.dist.kafka_version.as_deref().map(s),
                ("dist", "mirrors") => cfg.dist.mirrors.as_deref().map(list),
                ("java", "home") => cfg.java.home.as_deref().map(path),
                ("java", "heap") => cfg.java.heap.as_deref().map(s),
                ("java", "opts") => cfg.java.opts.as_deref().map(list),
                ("daemon", "stop_timeout_sec") => cfg
                    .daemon
                    .stop_timeout_sec
                    .map(|v| int(i64::try_from(v).unwrap_or(i64::MAX))),
                _ => unreachable!("SECTION_KEYS lists {section}.{key} without a mapping"),
            };
            if let Some(value) = value {
                entries.push((key.to_string(), value));
            }
        }
        out.push((section, entries));
    }
    out.push((
        "kafka",
        cfg.kafka
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ));
    out
}

/// (section, flat key) of every value the document sets.
fn present_keys(doc: &DocumentMut) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    for (section, item) in doc.iter() {
        if let Some(table) = item.as_table_like() {
            for (key, _) in flat_values(table) {
                out.insert((section.to_string(), key));
            }
        }
    }
    out
}

/// A table's leaves as (dotted key, plain value).
fn flat_values(table: &dyn TableLike) -> BTreeMap<String, Option<toml::Value>> {
    fn walk(table: &dyn TableLike, prefix: &str, out: &mut BTreeMap<String, Option<toml::Value>>) {
        for (key, item) in table.iter() {
            let name = if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            };
            if let Some(sub) = item.as_table_like() {
                walk(sub, &name, out);
            } else {
                out.insert(name, item.as_value().and_then(plain));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(table, "", &mut out);
    out
}

/// toml_edit's value as a plain `toml::Value` (so `0x10` equals `16`, `'a'` equals `"a"`).
fn plain(value: &toml_edit::Value) -> Option<toml::Value> {
    let text = format!("v = {}", value.clone().decorated("", ""));
    toml::from_str::<toml::Table>(&text).ok()?.remove("v")
}

fn edit_value(value: &toml::Value) -> toml_edit::Value {
    match value {
        toml::Value::String(s) => s.as_str().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => (*f).into(),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d
            .to_string()
            .parse()
            .unwrap_or_else(|_| d.to_string().into()),
        toml::Value::Array(a) => toml_edit::Value::Array(a.iter().map(edit_value).collect()),
        toml::Value::Table(t) => toml_edit::Value::InlineTable(
            t.iter().map(|(k, v)| (k.as_str(), edit_value(v))).collect(),
        ),
    }
}

/// `key = value` as a line of TOML.
fn assignment(key: &str, value: &toml::Value) -> String {
    format!(
        "{} = {}",
        toml_edit::Key::new(key),
        edit_value(value).decorated("", "")
    )
}

/// Replace a commented-out `# key = example` line of the right section with the wanted value, for
/// keys the document does not set yet: the explaining comment above it stays next to it.
fn uncomment_keys(text: &str, present: &HashSet<(String, String)>, wanted: &Wanted) -> String {
    let wanted: BTreeMap<(&str, &str), &toml::Value> = wanted
        .iter()
        .flat_map(|(section, entries)| {
            entries
                .iter()
                .map(move |(k, v)| ((*section, k.as_str()), v))
        })
        .collect();
    let mut done: HashSet<(String, String)> = HashSet::new();
    let mut section = String::new();
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") {
            if let Some(end) = trimmed.find(']') {
                section = trimmed[1..end].trim().trim_matches('"').to_string();
            }
        } else if let Some(body) = trimmed.strip_prefix('#') {
            let body = body.trim_start_matches('#').trim();
            if let Some(key) = commented_key(body) {
                let id = (section.clone(), key);
                if let Some(value) = wanted.get(&(id.0.as_str(), id.1.as_str())) {
                    if !present.contains(&id) && !done.contains(&id) {
                        let ending = &line[line.trim_end_matches(['\n', '\r']).len()..];
                        out.push_str(&assignment(&id.1, value));
                        out.push_str(ending);
                        done.insert(id);
                        continue;
                    }
                }
            }
        }
        out.push_str(line);
    }
    out
}

/// Turn single-line assignments of keys `cfg` no longer sets into comments (`# home = "/x"`), so
/// the admin's comments above them stay; `apply` removes whatever this cannot (multi-line values).
fn comment_out_stale(text: &str, wanted: &Wanted) -> String {
    let mut section = String::new();
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && !trimmed.starts_with("[[") {
            if let Some(end) = trimmed.find(']') {
                section = trimmed[1..end].trim().trim_matches('"').to_string();
            }
        } else if !trimmed.starts_with('#') {
            let known = SECTION_KEYS
                .iter()
                .find(|(s, _)| *s == section)
                .map(|(_, keys)| *keys)
                .unwrap_or(&[]);
            let wanted_here = wanted
                .iter()
                .find(|(s, _)| *s == section)
                .map(|(_, entries)| entries.as_slice())
                .unwrap_or(&[]);
            if let Some(key) = commented_key(trimmed) {
                if known.contains(&key.as_str()) && !wanted_here.iter().any(|(k, _)| *k == key) {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    out.push_str(indent);
                    out.push_str("# ");
                    out.push_str(line.trim_start());
                    continue;
                }
            }
        }
        out.push_str(line);
    }
    out
}

/// The flat key of a commented-out assignment (`id = 1`, `"log.retention.hours" = 168`).
fn commented_key(body: &str) -> Option<String> {
    if !body.contains('=') {
        return None;
    }
    let table: toml::Table = toml::from_str(body).ok()?;
    let mut leaves = Vec::new();
    fn walk(prefix: &str, t: &toml::Table, leaves: &mut Vec<String>) {
        for (k, v) in t {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(sub) => walk(&name, sub, leaves),
                _ => leaves.push(name),
            }
        }
    }
    walk("", &table, &mut leaves);
    (leaves.len() == 1).then(|| leaves.remove(0))
}

/// Make every section hold exactly the wanted values, touching only what differs.
fn apply(doc: &mut DocumentMut, wanted: &Wanted) {
    for (section, entries) in wanted {
        if entries.is_empty() && !doc.contains_key(section) {
            continue;
        }
        let item = doc
            .entry(section)
            .or_insert_with(|| Item::Table(Table::new()));
        if item.as_table_like().is_none() {
            *item = Item::Table(Table::new());
        }
        let table = item.as_table_like_mut().expect("made a table above");
        if *section == "kafka" {
            apply_kafka(table, entries);
            continue;
        }
        let keep: HashSet<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        let stale: Vec<String> = table
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| !keep.contains(k.as_str()))
            .collect();
        for key in stale {
            table.remove(&key);
        }
        for (key, value) in entries {
            match table.get_mut(key) {
                Some(Item::Value(old)) => {
                    if plain(old).as_ref() != Some(value) {
                        let decor = old.decor().clone();
                        let mut new = edit_value(value);
                        *new.decor_mut() = decor;
                        *old = new;
                    }
                }
                _ => {
                    table.insert(key, Item::Value(edit_value(value)));
                }
            }
        }
    }
}

/// `[kafka]` keys may be dotted TOML keys; when the flat view already matches, leave the table
/// alone, else rewrite its entries as quoted property names.
fn apply_kafka(table: &mut dyn TableLike, entries: &[(String, toml::Value)]) {
    let current = flat_values(table);
    let wanted: BTreeMap<String, Option<toml::Value>> = entries
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    if current == wanted {
        return;
    }
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    for key in keys {
        table.remove(&key);
    }
    for (key, value) in entries {
        table.insert(key, Item::Value(edit_value(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, Settings};
    use std::net::{IpAddr, Ipv4Addr};

    const PATH: &str = "/etc/kafka/kraftd.toml";
    const ID: &str = "MkU3OEVBNTcwNTJENDM2Qg";

    fn parse(text: &str) -> ConfigFile {
        ConfigFile::parse(text, Path::new(PATH)).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
    }

    fn settings(file: &ConfigFile, ov: &Overrides) -> Settings {
        Settings::resolve(file, Path::new(PATH), ov, &|| {
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        })
        .unwrap()
    }

    fn install_overrides() -> Overrides {
        Overrides {
            cluster_id: Some(ID.into()),
            prefix: Some("/tmp/node1".into()),
            heap: Some("512M".into()),
            ..Overrides::default()
        }
    }

    #[test]
    fn template_parses_to_defaults() {
        assert_eq!(parse(DEFAULT_CONFIG_TEMPLATE), ConfigFile::default());
    }

    #[test]
    fn template_documents_every_key() {
        for (section, keys) in SECTION_KEYS {
            assert!(
                DEFAULT_CONFIG_TEMPLATE.contains(&format!("[{section}]")),
                "{section}"
            );
            for key in *keys {
                assert!(
                    DEFAULT_CONFIG_TEMPLATE.contains(&format!("\n# {key} = ")),
                    "{section}.{key}"
                );
            }
        }
        for crate::config::OwnedKey { key, .. } in crate::config::OWNED_KEYS {
            assert!(DEFAULT_CONFIG_TEMPLATE.contains(key), "{key}");
        }
    }

    #[test]
    fn fresh_render_uncomments_values_under_their_comments() {
        let s = settings(&ConfigFile::default(), &install_overrides());
        let text = render_config(None, &s.to_config_file());
        assert_eq!(parse(&text), s.to_config_file());
        assert!(
            text.contains(&format!("# Flag: --cluster-id.\ncluster_id = \"{ID}\"\n")),
            "{text}"
        );
        assert!(
            text.contains("# Port of the client (PLAINTEXT) listener.\nbroker_port = 9092\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "\nmirrors = [\"https://dlcdn.apache.org/kafka/\", \"https://archive.apache.org/dist/kafka/\"]\n"
            ),
            "{text}"
        );
        // Keys without a value stay commented (java.home here).
        assert!(text.contains("\n# home = "), "{text}");
        // The same settings resolved from the written file are the same settings.
        assert_eq!(settings(&parse(&text), &Overrides::default()), s);
    }

    #[test]
    fn rerender_is_byte_identical() {
        let s = settings(&ConfigFile::default(), &install_overrides());
        let first = render_config(None, &s.to_config_file());
        let second = render_config(Some(&first), &s.to_config_file());
        assert_eq!(first, second);
        let s2 = settings(&parse(&first), &Overrides::default());
        assert_eq!(render_config(Some(&first), &s2.to_config_file()), first);
    }

    #[test]
    fn admin_comments_and_layout_survive_and_only_changed_values_move() {
        let admin = "# my cluster, managed by ops\n\
                     [node]\n\
                     id = 4   # rack a\n\
                     advertise = \"127.0.0.1\"\n\
                     \n\
                     # careful with this one\n\
                     [kafka]\n\
                     log.retention.hours = 168   # a week\n\
                     \"auto.create.topics.enable\" = false\n";
        let file = parse(admin);
        let ov = Overrides {
            node_id: Some(5),
            ..install_overrides()
        };
        let s = settings(&file, &ov);
        let text = render_config(Some(admin), &s.to_config_file());
        assert_eq!(parse(&text), s.to_config_file());
        assert!(
            text.starts_with("# my cluster, managed by ops\n[node]\nid = 5   # rack a\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# careful with this one\n[kafka]\nlog.retention.hours = 168   # a week\n"
            ),
            "{text}"
        );
        assert!(text.contains(&format!("cluster_id = \"{ID}\"")), "{text}");
        assert!(text.contains("[dist]\nkafka_version = \"4.1.1\""), "{text}");
        assert_eq!(
            render_config(Some(&text), &s.to_config_file()),
            text,
            "second run changes nothing"
        );
    }

    #[test]
    fn semantically_equal_values_are_not_rewritten() {
        let admin = "[node]\nid = 0x10\nadvertise = '127.0.0.1'\n";
        let file = parse(admin);
        let cfg = ConfigFile {
            node: file.node.clone(),
            ..ConfigFile::default()
        };
        assert_eq!(render_config(Some(admin), &cfg), admin);
    }

    #[test]
    fn removed_values_and_changed_kafka_entries() {
        let admin =
            "[java]\nhome = \"/opt/jdk\"  # old\nheap = \"1G\"\n[kafka]\nlog.retention.hours = 1\n";
        let mut cfg = parse(admin);
        cfg.java.home = None;
        cfg.kafka.clear();
        cfg.kafka
            .insert("num.partitions".into(), toml::Value::Integer(3));
        let text = render_config(Some(admin), &cfg);
        assert_eq!(parse(&text), cfg);
        assert!(
            text.starts_with("[java]\n# home = \"/opt/jdk\"  # old\nheap = \"1G\"\n"),
            "{text}"
        );
        assert!(!text.contains("retention"), "{text}");
        assert_eq!(
            render_config(Some(&text), &cfg),
            text,
            "second run changes nothing"
        );
        // Set again later: the commented line comes back with the new value.
        cfg.java.home = Some("/opt/jdk21".into());
        let text = render_config(Some(&text), &cfg);
        assert!(
            text.starts_with("[java]\nhome = \"/opt/jdk21\"\nheap = \"1G\"\n"),
            "{text}"
        );
        assert!(text.contains("\"num.partitions\" = 3"), "{text}");
    }

    #[test]
    fn save_config_writes_once_then_leaves_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kraftd.toml");
        let s = settings(&ConfigFile::default(), &install_overrides());
        assert_eq!(save_config(&path, &s).unwrap(), WriteOutcome::Written);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let first = std::fs::read(&path).unwrap();
        assert_eq!(save_config(&path, &s).unwrap(), WriteOutcome::Unchanged);
        assert_eq!(std::fs::read(&path).unwrap(), first);
        // The daemon's view of the written file: complete, no detection needed.
        assert_eq!(Settings::load(&path).unwrap(), s);
        // A file that does not parse is never replaced.
        std::fs::write(&path, "[node\n").unwrap();
        assert!(save_config(&path, &s).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[node\n");
    }
}
