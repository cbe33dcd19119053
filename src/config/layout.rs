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
    /// `/etc/kafka`: kraftd.toml, server.properties, the log config.
    pub etc_dir: PathBuf,
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
    pub fn server_properties(&self) -> PathBuf {
        self.etc_dir.join("server.properties")
    }
    /// The stdout-only log config: log4j 1.x properties for Kafka 3.x, log4j2 properties for 4.x.
    pub fn log_config(&self, version: &crate::KafkaVersion) -> PathBuf {
        if version.major >= 4 {
            self.etc_dir.join("log4j2.properties")
        } else {
            self.etc_dir.join("log4j.properties")
        }
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
}
