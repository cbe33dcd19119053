//! Kafka storage: reading `meta.properties` and formatting with Kafka's own StorageTool.
//!
//! Existing data is never formatted over: a data directory that already belongs to some cluster and
//! node is either ours (nothing to do) or a conflict that is reported before any tool runs. Kafka's
//! own tool would answer a mismatch with a stack trace, even with `--ignore-formatted`.

use crate::config::NodeId;
use crate::jvm::JvmCommand;
use crate::{ClusterId, KafkaDist};
use anyhow::Context as _;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The file StorageTool writes into every formatted log directory.
pub const META_PROPERTIES: &str = "meta.properties";

/// The identity recorded in a log directory's `meta.properties`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaProperties {
    pub cluster_id: String,
    /// `node.id` (KRaft, version 1) or `broker.id` (ZooKeeper-era, version 0).
    pub node_id: Option<u32>,
    /// `directory.id` (3.7+ with KRaft); absent on older formats.
    pub directory_id: Option<String>,
    pub version: u32,
}

/// Read `<dir>/meta.properties`; `None` when it does not exist (an unformatted directory).
pub fn read_meta(dir: &Path) -> anyhow::Result<Option<MetaProperties>> {
    let file = dir.join(META_PROPERTIES);
    let text = match fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    // Java writes properties as ISO-8859-1; every byte maps to the char of the same number.
    let text: String = text.iter().map(|&b| b as char).collect();
    parse_meta(&text)
        .with_context(|| format!("{} is not a valid Kafka meta.properties", file.display()))
        .map(Some)
}

fn parse_meta(text: &str) -> anyhow::Result<MetaProperties> {
    let mut cluster_id = None;
    let mut node_id = None;
    let mut broker_id = None;
    let mut directory_id = None;
    let mut version = None;
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        // Kafka writes `key=value` with no escapes in these fields (ids are base64url and digits).
        let Some((key, value)) = line.split_once(['=', ':']) else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim().to_string());
        match key {
            "cluster.id" => cluster_id = Some(value),
            "node.id" => node_id = Some(value),
            "broker.id" => broker_id = Some(value),
            "directory.id" => directory_id = Some(value),
            "version" => version = Some(value),
            _ => {}
        }
    }
    let number = |field: &str, v: String| {
        v.parse::<u32>()
            .map_err(|_| anyhow::anyhow!("{field}={v:?} is not a non-negative number"))
    };
    let version = number(
        "version",
        version.ok_or_else(|| anyhow::anyhow!("no version= line"))?,
    )?;
    let cluster_id = cluster_id.ok_or_else(|| anyhow::anyhow!("no cluster.id= line"))?;
    let node_id = match node_id.or(broker_id) {
        Some(v) => Some(number("node.id", v)?),
        None => None,
    };
    Ok(MetaProperties {
        cluster_id,
        node_id,
        directory_id,
        version,
    })
}

/// What `ensure_formatted` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatOutcome {
    /// `meta.properties` already names this cluster and node: nothing was run or written.
    AlreadyFormatted,
    /// StorageTool formatted the directory.
    Formatted,
}

/// Why storage could not be made ready. Nothing on disk has been changed in any of these cases
/// except `FormatFailed`, where StorageTool itself ran.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The data directory belongs to another cluster or node.
    #[error(
        "{file} records {field}={found}, but this node is configured with {field}={expected}. \
         kraftd never deletes or re-formats data: either install with the matching id ({fix}), \
         or move {dir} away yourself and re-run to start a new, empty node",
        file = file.display(),
        fix = conflict_fix(field, found),
        dir = file.parent().unwrap_or(Path::new("")).display()
    )]
    Conflict {
        file: PathBuf,
        field: &'static str,
        expected: String,
        found: String,
    },

    /// The data directory holds files but no `meta.properties`: possibly someone's data.
    #[error(
        "{dir} is not empty ({entries}) but has no meta.properties, so it is not a formatted Kafka \
         directory; kraftd formats only empty directories: move its contents away or choose another data_dir"
    , dir = dir.display())]
    NotEmpty { dir: PathBuf, entries: String },

    /// `meta.properties` or the directory could not be read or parsed.
    #[error("{file}: {message}", file = file.display())]
    Unreadable { file: PathBuf, message: String },

    /// The config would make StorageTool format some other directory than the one checked here.
    #[error(
        "{file} sets log.dirs={log_dirs:?}, but the data directory to format is {data_dir}; \
         re-render {file} (kraft-install) so log.dirs names exactly the data directory",
        file = file.display(), data_dir = data_dir.display()
    )]
    LogDirsMismatch {
        file: PathBuf,
        log_dirs: String,
        data_dir: PathBuf,
    },

    /// `java` could not be started.
    #[error("cannot run `{command}`: {source}; check the Java runtime (--java-home / JAVA_HOME)")]
    Spawn { command: String, source: io::Error },

    /// StorageTool ran and failed (or did not leave the expected `meta.properties`).
    #[error("storage format failed ({status}): `{command}`\n{output}")]
    FormatFailed {
        command: String,
        status: String,
        output: String,
    },
}

fn conflict_fix(field: &str, found: &str) -> String {
    match field {
        "cluster.id" => format!("--cluster-id={found}, or cluster_id = \"{found}\" in kraftd.toml"),
        "node.id" => format!("--node-id {found}, or node_id = {found} in kraftd.toml"),
        _ => format!("{field}={found}"),
    }
}

/// Check what `data_dir` holds against the identity we are about to use, running nothing and
/// changing nothing: formatted for another cluster (when `cluster_id` is given) or another node →
/// `Conflict`; unformatted but holding files → `NotEmpty`. Returns the existing identity, if any.
pub fn inspect(
    data_dir: &Path,
    cluster_id: Option<&ClusterId>,
    node_id: NodeId,
) -> Result<Option<MetaProperties>, StorageError> {
    let meta_file = data_dir.join(META_PROPERTIES);
    let meta = read_meta(data_dir).map_err(|e| StorageError::Unreadable {
        file: meta_file.clone(),
        message: format!("{e:#}"),
    })?;
    match &meta {
        Some(meta) => {
            let want = cluster_id.map_or(meta.cluster_id.as_str(), ClusterId::as_str);
            check_identity(&meta_file, meta, want, node_id)?;
        }
        None => refuse_unless_empty(data_dir)?,
    }
    Ok(meta)
}

/// Make sure `data_dir` is formatted for `cluster_id`/`node_id`.
///
/// If `meta.properties` exists: same ids → `AlreadyFormatted` (nothing touched); other ids →
/// `Conflict` before anything runs. Otherwise run `kafka.tools.StorageTool format` with the
/// static-quorum `server_properties` (no `--standalone`/`--initial-controllers`: verified that 3.7.1 and
/// 4.1.1 both format a combined node with `controller.quorum.voters` set and no quorum flag).
pub fn ensure_formatted(
    java: &Path,
    dist: &KafkaDist,
    server_properties: &Path,
    data_dir: &Path,
    cluster_id: &ClusterId,
    node_id: NodeId,
) -> Result<FormatOutcome, StorageError> {
    ensure_formatted_as(
        java,
        dist,
        server_properties,
        data_dir,
        cluster_id.as_str(),
        node_id,
    )
}

fn ensure_formatted_as(
    java: &Path,
    dist: &KafkaDist,
    server_properties: &Path,
    data_dir: &Path,
    cluster_id: &str,
    node_id: NodeId,
) -> Result<FormatOutcome, StorageError> {
    let meta_file = data_dir.join(META_PROPERTIES);
    let unreadable = |e: anyhow::Error| StorageError::Unreadable {
        file: meta_file.clone(),
        message: format!("{e:#}"),
    };
    if let Some(meta) = read_meta(data_dir).map_err(unreadable)? {
        check_identity(&meta_file, &meta, cluster_id, node_id)?;
        return Ok(FormatOutcome::AlreadyFormatted);
    }
    refuse_unless_empty(data_dir)?;
    check_log_dirs(server_properties, data_dir)?;

    let jvm = format_command(java, dist, cluster_id, server_properties).map_err(|e| {
        StorageError::Unreadable {
            file: PathBuf::from("/proc/self/fd"),
            message: format!("cannot create StorageTool's in-memory log config: {e:#}"),
        }
    })?;
    let command = jvm.display();
    let output = jvm
        .command()
        .stdin(Stdio::null())
        .output()
        .map_err(|source| StorageError::Spawn {
            command: command.clone(),
            source,
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(StorageError::FormatFailed {
            command,
            status: output.status.to_string(),
            output: text,
        });
    }
    // Trust but verify: the tool formats the log.dirs of the config, which must be data_dir.
    match read_meta(data_dir) {
        Ok(Some(meta)) => {
            check_identity(&meta_file, &meta, cluster_id, node_id)?;
            Ok(FormatOutcome::Formatted)
        }
        Ok(None) => Err(StorageError::FormatFailed {
            command,
            status: format!(
                "exit 0 but no {} written; does log.dirs in {} name {}?",
                meta_file.display(),
                server_properties.display(),
                data_dir.display()
            ),
            output: text,
        }),
        Err(e) => Err(unreadable(e)),
    }
}

/// `java -Xmx256m <WARN-to-stderr log config> -cp '<dist>/libs/*' kafka.tools.StorageTool format
/// --cluster-id=<id> --config <server.properties>`, with a UTF-8 locale for file names. StorageTool
/// logs through the distribution's logging backend; without a config reload4j prints "No
/// appenders" warnings, and WARN-to-stderr keeps real problems visible in the output.
pub(crate) fn format_command(
    java: &Path,
    dist: &KafkaDist,
    cluster_id: &str,
    server_properties: &Path,
) -> anyhow::Result<JvmCommand> {
    Ok(JvmCommand::builder(java, dist, "kafka.tools.StorageTool")
        .max_heap("256m")
        .stderr_log_config()?
        .args([
            OsString::from("format"),
            // The `=` form: an id starting with '-' would otherwise be read as an option.
            format!("--cluster-id={cluster_id}").into(),
            "--config".into(),
            server_properties.into(),
        ])
        .utf8_file_names()
        .build())
}

fn check_identity(
    file: &Path,
    meta: &MetaProperties,
    cluster_id: &str,
    node_id: NodeId,
) -> Result<(), StorageError> {
    if meta.cluster_id != cluster_id {
        return Err(StorageError::Conflict {
            file: file.to_path_buf(),
            field: "cluster.id",
            expected: cluster_id.to_string(),
            found: meta.cluster_id.clone(),
        });
    }
    if meta.node_id != Some(node_id.0) {
        return Err(StorageError::Conflict {
            file: file.to_path_buf(),
            field: "node.id",
            expected: node_id.0.to_string(),
            found: meta
                .node_id
                .map_or_else(|| "(none)".to_string(), |n| n.to_string()),
        });
    }
    Ok(())
}

/// StorageTool formats every directory in the config's `log.dirs` (and `metadata.log.dir`); the
/// checks above covered only `data_dir`, so the config must name exactly that directory.
fn check_log_dirs(server_properties: &Path, data_dir: &Path) -> Result<(), StorageError> {
    let text = fs::read_to_string(server_properties).map_err(|e| StorageError::Unreadable {
        file: server_properties.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let mut log_dirs = String::new();
    for line in text.lines().map(str::trim_start) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key.trim() {
            // Kafka uses log.dirs when set, else log.dir; a metadata.log.dir elsewhere is another dir.
            // Values are compared as Kafka reads them (`\uXXXX` escapes of non-ASCII names decoded).
            "log.dirs" => log_dirs = crate::render::unescape(value.trim()),
            "log.dir" if log_dirs.is_empty() => log_dirs = crate::render::unescape(value.trim()),
            "metadata.log.dir" if Path::new(&crate::render::unescape(value.trim())) != data_dir => {
                return Err(StorageError::LogDirsMismatch {
                    file: server_properties.to_path_buf(),
                    log_dirs: format!("{log_dirs} (metadata.log.dir={})", value.trim()),
                    data_dir: data_dir.to_path_buf(),
                });
            }
            _ => {}
        }
    }
    if Path::new(&log_dirs) != data_dir {
        return Err(StorageError::LogDirsMismatch {
            file: server_properties.to_path_buf(),
            log_dirs,
            data_dir: data_dir.to_path_buf(),
        });
    }
    Ok(())
}

/// Files that may sit in a directory that was never formatted (or whose format was interrupted
/// before meta.properties was written): anything else could be someone's data.
const TOLERATED_IN_UNFORMATTED_DIR: &[&str] = &["lost+found", "bootstrap.checkpoint"];

fn refuse_unless_empty(dir: &Path) -> Result<(), StorageError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StorageError::Unreadable {
                file: dir.to_path_buf(),
                message: format!("cannot list: {e}"),
            });
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !TOLERATED_IN_UNFORMATTED_DIR.contains(&n.as_str()))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    let shown = names.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    let more = if names.len() > 5 {
        format!(" and {} more", names.len() - 5)
    } else {
        String::new()
    };
    Err(StorageError::NotEmpty {
        dir: dir.to_path_buf(),
        entries: format!("{shown}{more}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KafkaVersion;

    const CLUSTER: &str = "MkU3OEVBNTcwNTJENDM2Qg";

    #[test]
    fn parses_kraft_and_zookeeper_meta_properties() {
        let kraft = parse_meta("#\n#Tue Nov 24\nnode.id=1\ndirectory.id=XwdW4C7UXLLSyu0UFXGmeQ\nversion=1\ncluster.id=MkU3OEVBNTcwNTJENDM2Qg\n").unwrap();
        assert_eq!(
            kraft,
            MetaProperties {
                cluster_id: CLUSTER.into(),
                node_id: Some(1),
                directory_id: Some("XwdW4C7UXLLSyu0UFXGmeQ".into()),
                version: 1
            }
        );
        let zk = parse_meta("version=0\nbroker.id=3\ncluster.id=abc\n").unwrap();
        assert_eq!(
            (zk.version, zk.node_id, zk.directory_id),
            (0, Some(3), None)
        );
        assert!(
            parse_meta("node.id=1\nversion=1\n")
                .unwrap_err()
                .to_string()
                .contains("cluster.id")
        );
    }

    #[test]
    fn read_meta_of_unformatted_dir_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_meta(dir.path()).unwrap(), None);
        assert_eq!(read_meta(&dir.path().join("missing")).unwrap(), None);
    }

    #[test]
    fn conflict_message_names_ids_file_and_fix() {
        let err = StorageError::Conflict {
            file: "/var/lib/kafka/data/meta.properties".into(),
            field: "cluster.id",
            expected: "AAAAAAAAAAAAAAAAAAAAAg".into(),
            found: CLUSTER.into(),
        };
        let msg = err.to_string();
        for part in [
            "/var/lib/kafka/data/meta.properties",
            "AAAAAAAAAAAAAAAAAAAAAg",
            CLUSTER,
            "--cluster-id=",
            "never deletes",
            "move /var/lib/kafka/data away",
        ] {
            assert!(msg.contains(part), "{part:?} missing from: {msg}");
        }
    }

    /// The fixture built by scripts/kafka-dist.sh; a missing one fails the test with the fix.
    pub(crate) fn fixture_dist(version: &str) -> KafkaDist {
        let cache = std::env::var_os("KRAFTD_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/kraftd")
            });
        let home = cache.join(format!("dist/kafka_2.13-{version}"));
        assert!(
            home.join(format!("libs/kafka_2.13-{version}.jar"))
                .is_file(),
            "Kafka {version} test distribution missing at {}: run scripts/kafka-dist.sh {version}",
            home.display()
        );
        KafkaDist {
            home,
            version: version.parse().unwrap(),
        }
    }

    fn write_server_properties(dir: &Path, data_dir: &Path, node: u32) -> PathBuf {
        let path = dir.join("server.properties");
        // Ports are never bound: formatting does not start a server.
        let text = format!(
            "process.roles=broker,controller\nnode.id={node}\ncontroller.quorum.voters={node}@127.0.0.1:1\n\
             listeners=PLAINTEXT://127.0.0.1:2,CONTROLLER://127.0.0.1:1\nadvertised.listeners=PLAINTEXT://127.0.0.1:2\n\
             inter.broker.listener.name=PLAINTEXT\ncontroller.listener.names=CONTROLLER\n\
             listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\nlog.dirs={}\n",
            data_dir.display()
        );
        fs::write(&path, text).unwrap();
        path
    }

    fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
        let mut all: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let meta = e.metadata().unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).unwrap_or_default(),
                    meta.modified().unwrap(),
                )
            })
            .collect();
        all.sort();
        all
    }

    fn format_lifecycle(version: &str) {
        let dist = fixture_dist(version);
        let java = Path::new("java");
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let props = write_server_properties(tmp.path(), &data, 1);

        let first = ensure_formatted_as(java, &dist, &props, &data, CLUSTER, NodeId(1)).unwrap();
        assert_eq!(first, FormatOutcome::Formatted);
        let meta = read_meta(&data)
            .unwrap()
            .expect("meta.properties after format");
        assert_eq!(
            (meta.cluster_id.as_str(), meta.node_id, meta.version),
            (CLUSTER, Some(1), 1)
        );
        assert!(meta.directory_id.is_some(), "{meta:?}");
        let before = snapshot(&data);

        let again = ensure_formatted_as(java, &dist, &props, &data, CLUSTER, NodeId(1)).unwrap();
        assert_eq!(again, FormatOutcome::AlreadyFormatted);
        assert_eq!(
            snapshot(&data),
            before,
            "a second call must not touch the data dir"
        );

        let other_cluster = "AAAAAAAAAAAAAAAAAAAAAg";
        match ensure_formatted_as(java, &dist, &props, &data, other_cluster, NodeId(1)) {
            Err(StorageError::Conflict {
                field: "cluster.id",
                expected,
                found,
                ..
            }) => {
                assert_eq!(
                    (expected.as_str(), found.as_str()),
                    (other_cluster, CLUSTER)
                );
            }
            other => panic!("expected a cluster.id conflict, got {other:?}"),
        }
        match ensure_formatted_as(java, &dist, &props, &data, CLUSTER, NodeId(2)) {
            Err(StorageError::Conflict {
                field: "node.id",
                expected,
                found,
                ..
            }) => {
                assert_eq!((expected.as_str(), found.as_str()), ("2", "1"));
            }
            other => panic!("expected a node.id conflict, got {other:?}"),
        }
        assert_eq!(
            snapshot(&data),
            before,
            "a conflict must not touch the data dir"
        );
    }

    #[test]
    fn format_lifecycle_4_1_1() {
        format_lifecycle("4.1.1");
    }

    #[test]
    fn format_lifecycle_3_7_1() {
        format_lifecycle("3.7.1");
    }

    #[test]
    fn non_empty_unformatted_dir_is_refused_before_running_anything() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        fs::create_dir_all(data.join("orders-0")).unwrap();
        // A java that does not exist: reaching the spawn would be a Spawn error, not NotEmpty.
        let dist = KafkaDist {
            home: tmp.path().into(),
            version: KafkaVersion::new(4, 1, 1),
        };
        let err = ensure_formatted_as(
            Path::new("/nonexistent/java"),
            &dist,
            &tmp.path().join("s.properties"),
            &data,
            CLUSTER,
            NodeId(1),
        )
        .unwrap_err();
        assert!(matches!(err, StorageError::NotEmpty { .. }), "{err:?}");
        assert!(err.to_string().contains("orders-0"), "{err}");
        assert!(data.join("orders-0").is_dir());
    }

    #[test]
    fn escaped_non_ascii_log_dirs_read_back_as_the_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("données/kafka");
        let props = tmp.path().join("server.properties");
        // What the renderer writes: Kafka reads the file as ISO-8859-1 with \uXXXX escapes.
        let escaped = crate::render::escape_value(&data.display().to_string());
        assert!(escaped.contains("donn\\u00E9es"), "{escaped}");
        fs::write(
            &props,
            format!("log.dirs={escaped}\nmetadata.log.dir={escaped}\n"),
        )
        .unwrap();
        check_log_dirs(&props, &data).unwrap();
        let other = tmp.path().join("donnees/kafka");
        assert!(matches!(
            check_log_dirs(&props, &other),
            Err(StorageError::LogDirsMismatch { .. })
        ));
    }

    #[test]
    fn config_naming_another_log_dir_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let props = write_server_properties(tmp.path(), &tmp.path().join("elsewhere"), 1);
        let dist = KafkaDist {
            home: tmp.path().into(),
            version: KafkaVersion::new(4, 1, 1),
        };
        let err = ensure_formatted_as(
            Path::new("/nonexistent/java"),
            &dist,
            &props,
            &data,
            CLUSTER,
            NodeId(1),
        )
        .unwrap_err();
        assert!(
            matches!(err, StorageError::LogDirsMismatch { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("elsewhere"), "{err}");
    }

    #[test]
    fn tool_failure_reports_command_and_output() {
        let dist = fixture_dist("4.1.1");
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let props = tmp.path().join("server.properties");
        // A controller with neither controller.quorum.voters nor bootstrap servers: KafkaConfig rejects it.
        fs::write(&props, format!("process.roles=controller\nnode.id=1\ncontroller.listener.names=CONTROLLER\nlisteners=CONTROLLER://127.0.0.1:1\nlog.dirs={}\n", data.display())).unwrap();
        let err = ensure_formatted_as(Path::new("java"), &dist, &props, &data, CLUSTER, NodeId(1))
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, StorageError::FormatFailed { .. }), "{err:?}");
        assert!(
            msg.contains(
                "kafka.tools.StorageTool format --cluster-id=MkU3OEVBNTcwNTJENDM2Qg --config"
            ),
            "{msg}"
        );
        assert!(msg.lines().count() > 1, "tool output missing: {msg}");
    }
}
