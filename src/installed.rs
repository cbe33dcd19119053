//! The installed node: loading its config (kraftd.toml over node.toml), opening its Kafka
//! distribution (`<opt>/current`) and finding a Java for it — the steps `kraftd run`, `validate`,
//! `tool` and `status` share. Each step is a function so `run`/`validate` can put their own checks
//! between them; [`InstalledNode::load`] runs all three.

use crate::config::ConfigError;
use crate::{KafkaDist, KafkaVersion, Settings};
use anyhow::anyhow;
use std::path::{Path, PathBuf};

/// Why the installed node cannot be used, by what the operator must do about it.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The config is missing or invalid (exit 78).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Kafka or Java is missing or unusable (exit 69).
    #[error("{0:#}")]
    Unavailable(anyhow::Error),
}

impl NodeError {
    pub fn exit_code(&self) -> i32 {
        match self {
            NodeError::Config(_) => crate::exit::CONFIG,
            NodeError::Unavailable(_) => crate::exit::UNAVAILABLE,
        }
    }
}

/// The local node: its settings, its Kafka distribution and the `java` to run it with.
#[derive(Debug, Clone)]
pub struct InstalledNode {
    pub settings: Settings,
    pub dist: KafkaDist,
    /// The `java` executable, new enough for `dist`.
    pub java: PathBuf,
}

impl InstalledNode {
    /// Load the config at `config`, open its distribution and find its Java.
    pub fn load(config: &Path) -> Result<InstalledNode, NodeError> {
        let settings = load_settings(config)?;
        let dist = open_dist(&settings)?;
        let java = find_java(config, &settings, &dist.version)?;
        Ok(InstalledNode {
            settings,
            dist,
            java,
        })
    }
}

/// Step 1: the config file (the config module's messages name the file, line and fix).
pub fn load_settings(config: &Path) -> Result<Settings, NodeError> {
    Ok(Settings::load(config)?)
}

/// Step 2: the distribution the layout's `current` link points at, its version read from its jars.
pub fn open_dist(settings: &Settings) -> Result<KafkaDist, NodeError> {
    let home = settings.layout.dist_current();
    if !home.join("libs").is_dir() {
        return Err(NodeError::Unavailable(anyhow!(
            "no Kafka distribution at {} (expected {}/libs/*.jar): run kraft-install to install Kafka {}",
            home.display(),
            home.display(),
            settings.kafka_version
        )));
    }
    KafkaDist::open(&home).map_err(|e| {
        NodeError::Unavailable(e.context(format!(
            "cannot use the Kafka distribution at {}",
            home.display()
        )))
    })
}

/// Step 3: the `java` to run (config `java.home`, else JAVA_HOME, PATH, /usr/lib/jvm — see
/// `crate::java`), new enough for Kafka `version`.
pub fn find_java(
    config: &Path,
    settings: &Settings,
    version: &KafkaVersion,
) -> Result<PathBuf, NodeError> {
    crate::java::find_java_default(settings.java_home.as_deref())
        .and_then(|rt| rt.check_for(version).map(|_| rt.java))
        .map_err(|e| {
            NodeError::Unavailable(anyhow!(e).context(format!(
                "no usable Java for Kafka {version} (set java.home in {})",
                config.display()
            )))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A node under a temp prefix whose kraftd.toml names `java_home`.
    fn node_config(prefix: &Path, java_home: &Path) -> PathBuf {
        let etc = prefix.join("etc/kafka");
        std::fs::create_dir_all(&etc).unwrap();
        let config = etc.join("kraftd.toml");
        std::fs::write(
            &config,
            format!(
                "[node]\nadvertise = \"127.0.0.1\"\ncluster_id = \"MkU3OEVBNTcwNTJENDM2Qg\"\n\
                 [java]\nhome = \"{}\"\n",
                java_home.display()
            ),
        )
        .unwrap();
        config
    }

    /// A `java` that reports `version` (feature release).
    fn fake_java(home: &Path, version: u32) {
        let java = home.join("bin/java");
        std::fs::create_dir_all(java.parent().unwrap()).unwrap();
        std::fs::write(
            &java,
            format!("#!/bin/sh\necho 'openjdk version \"{version}.0.1\" 2024-01-01' >&2\n"),
        )
        .unwrap();
        std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn each_step_names_what_is_missing_and_its_exit_code() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("etc/kafka/kraftd.toml");
        let err = InstalledNode::load(&missing).unwrap_err();
        assert!(matches!(err, NodeError::Config(_)), "{err:?}");
        assert_eq!(err.exit_code(), crate::exit::CONFIG);
        assert!(err.to_string().contains("not found"), "{err}");

        let java_home = tmp.path().join("jdk");
        fake_java(&java_home, 11);
        let config = node_config(tmp.path(), &java_home);
        let err = InstalledNode::load(&config).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::UNAVAILABLE);
        let current = tmp.path().join("opt/kafka/current");
        assert!(
            err.to_string().starts_with(&format!(
                "no Kafka distribution at {} (expected {}/libs/*.jar): run kraft-install",
                current.display(),
                current.display()
            )),
            "{err}"
        );

        std::fs::create_dir_all(current.join("libs")).unwrap();
        std::fs::write(current.join("libs/kafka_2.13-4.1.1.jar"), b"").unwrap();
        let err = InstalledNode::load(&config).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::UNAVAILABLE);
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "no usable Java for Kafka 4.1.1 (set java.home in {})",
                config.display()
            )) && text.contains("Java 11"),
            "{text}"
        );

        fake_java(&java_home, 17);
        let node = InstalledNode::load(&config).unwrap();
        assert_eq!(node.dist.version, KafkaVersion::new(4, 1, 1));
        assert_eq!(node.dist.home, current);
        assert_eq!(node.java, java_home.join("bin/java"));
    }
}
