//! Where every installed file lives, derived from one prefix ("/" on a real install).

use std::path::{Path, PathBuf};

/// Every path kraftd reads or writes. With `--prefix DIR` all of them sit under DIR, and rendered
/// files refer to those real paths, so a test or a non-root user gets a self-contained node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// "/" for a system install.
    pub prefix: PathBuf,
    /// `/opt/kafka`: unpacked distributions and the `current` symlink.
    pub opt_dir: PathBuf,
    /// `/etc/kafka`: kraftd.toml, the admin's file (kraftd never writes it once it exists).
    pub etc_dir: PathBuf,
    /// `/var/lib/kraftd`: state kraftd owns — node.toml (values kraft-install resolved), the rendered
    /// server.properties and log config, and the record of what was rendered.
    pub state_dir: PathBuf,
    /// `/var/lib/kafka/data`: Kafka's log.dirs (and metadata log).
    pub data_dir: PathBuf,
    /// `/etc/systemd/system`: where the unit goes.
    pub unit_dir: PathBuf,
    /// `/run/kafka`: pid file / control socket of a running daemon.
    pub run_dir: PathBuf,
}

impl Layout {
    /// The layout under `prefix`; `data_dir` overrides the default data directory (taken as given,
    /// it is already a real path).
    pub fn new(prefix: &Path, data_dir: Option<&Path>) -> Layout {
        let under = |p: &str| prefix.join(p.trim_start_matches('/'));
        Layout {
            prefix: prefix.to_path_buf(),
            opt_dir: under("/opt/kafka"),
            etc_dir: under("/etc/kafka"),
            state_dir: under("/var/lib/kraftd"),
            data_dir: data_dir
                .map(Path::to_path_buf)
                .unwrap_or_else(|| under("/var/lib/kafka/data")),
            unit_dir: under("/etc/systemd/system"),
            run_dir: under("/run/kafka"),
        }
    }

    /// True for a system install (prefix "/"): users, ownership and systemctl apply.
    pub fn is_system(&self) -> bool {
        self.prefix == Path::new("/")
    }

    pub fn config_file(&self) -> PathBuf {
        self.etc_dir.join("kraftd.toml")
    }
    /// Rendered by kraft-install and on every `kraftd run` from kraftd.toml + node.toml.
    pub fn server_properties(&self) -> PathBuf {
        self.state_dir.join("server.properties")
    }
    /// Where releases before the state dir rendered server.properties; no longer read.
    pub fn legacy_server_properties(&self) -> PathBuf {
        self.etc_dir.join("server.properties")
    }
    /// node.toml: the values kraft-install resolved (kraftd.toml's schema), applied where kraftd.toml
    /// is silent, and the identity the data was provisioned with.
    pub fn node_state(&self) -> PathBuf {
        self.state_dir.join("node.toml")
    }
    /// sha256sum-style record of the files kraftd rendered (hand edits are detected against it).
    pub fn rendered_record(&self) -> PathBuf {
        self.state_dir.join("rendered.sha256")
    }
    /// One line: the configured data directory, for package scripts that run without kraftd (purge).
    pub fn data_dir_record(&self) -> PathBuf {
        self.state_dir.join("data-dir")
    }
    /// The systemd drop-in with the configured paths (`ReadWritePaths=` for the data directory).
    pub fn paths_dropin(&self) -> PathBuf {
        self.unit_dir
            .join("kafka.service.d")
            .join("kraftd-paths.conf")
    }
    /// The stdout-only log config: log4j 1.x properties for Kafka 3.x, log4j2 properties for 4.x.
    pub fn log_config(&self, version: &crate::KafkaVersion) -> PathBuf {
        self.state_dir.join(version.log_config_file_name())
    }
    /// `/opt/kafka/current`, the symlink to the active distribution.
    pub fn dist_current(&self) -> PathBuf {
        self.opt_dir.join("current")
    }
    pub fn unit_file(&self) -> PathBuf {
        self.unit_dir.join("kafka.service")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.run_dir.join("kraftd.pid")
    }

    /// The install prefix a config path implies when kraftd.toml names none:
    /// `<P>/etc/kafka/kraftd.toml` → P, anything else → "/". A relative config path (`kraftd status
    /// --config node/etc/kafka/kraftd.toml`) is taken from the working directory: the prefix is absolute.
    pub fn prefix_of_config(config: &Path) -> PathBuf {
        let config = std::path::absolute(config).unwrap_or_else(|_| config.to_path_buf());
        let parent = config.parent();
        let etc_kafka = parent.filter(|p| p.ends_with("etc/kafka"));
        match etc_kafka
            .and_then(|p| p.parent())
            .and_then(|etc| etc.parent())
        {
            Some(prefix) if !prefix.as_os_str().is_empty() => prefix.to_path_buf(),
            _ => PathBuf::from("/"),
        }
    }
}
