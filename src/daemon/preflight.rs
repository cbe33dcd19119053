//! Pre-start checks shared by `kraftd validate` and `kraftd run`: config (kraftd.toml over node.toml),
//! the recorded identity, hand-edited rendered files, the Kafka distribution, Java, formatted storage,
//! free listener ports. Read-only: nothing here changes a file (`kraftd run` then writes `rendered`).

use super::DaemonError;
use crate::installed::{self, NodeError};
use crate::{KafkaDist, Settings};
use anyhow::anyhow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything `kraftd run` needs to launch the JVM, found and checked.
#[derive(Debug, Clone)]
pub struct PreparedNode {
    pub settings: Settings,
    pub dist: KafkaDist,
    /// The `java` executable to run.
    pub java: PathBuf,
    pub server_properties: PathBuf,
    pub log_config: PathBuf,
    /// server.properties and the log config as this start renders them (written by `kraftd run`).
    pub rendered: Vec<crate::render::Rendered>,
}

/// Load and validate the config file (exit 78 on any problem; the config module's messages already
/// name the file, line and fix).
pub fn load_settings(config: &Path) -> Result<Settings, DaemonError> {
    Ok(installed::load_settings(config)?)
}

impl From<NodeError> for DaemonError {
    fn from(e: NodeError) -> DaemonError {
        match e {
            NodeError::Config(e) => DaemonError::Config(anyhow!(e)),
            NodeError::Unavailable(e) => DaemonError::Unavailable(e),
        }
    }
}

/// All read-only checks on the node `config` loaded as `settings`, in the order an operator would
/// fix them, between the steps of loading the installed node (`crate::installed`).
pub fn check_node(config: &Path, settings: &Settings) -> Result<PreparedNode, DaemonError> {
    let layout = &settings.layout;
    let server_properties = layout.server_properties();
    let log_config = layout.log_config(&settings.kafka_version);
    check_identity(settings)?;

    let dist = installed::open_dist(settings)?;
    if dist.version != settings.kafka_version {
        return Err(DaemonError::Config(anyhow!(
            "{} holds Kafka {}, but the config asks for {}: set dist.kafka_version = \"{}\" or re-run kraft-install",
            dist.home.display(),
            dist.version,
            settings.kafka_version,
            dist.version
        )));
    }

    let rendered =
        crate::render::node_files(settings, &dist.version).map_err(DaemonError::Config)?;
    crate::render::check_hand_edits(layout, &rendered)
        .map_err(|e| DaemonError::Config(anyhow!(e)))?;

    let java = installed::find_java(config, settings, &dist.version)?;
    check_storage(settings)?;
    check_free_space(settings)?;
    Ok(PreparedNode {
        settings: settings.clone(),
        dist,
        java,
        server_properties,
        log_config,
        rendered,
    })
}

/// Node id, cluster id, role, voter set and data dir must be what node.toml recorded at
/// provisioning (the data is formatted for them): a change in kraftd.toml is refused, data untouched.
pub fn check_identity(settings: &Settings) -> Result<(), DaemonError> {
    let state_path = settings.layout.node_state();
    let recorded = crate::config::ConfigFile::load(&state_path)
        .map_err(|e| DaemonError::Config(anyhow!(e)))?;
    let Some(recorded) = recorded else {
        return Ok(());
    };
    let changes = crate::config::identity_changes(&recorded, settings);
    match crate::config::identity_error(&changes, &settings.layout.config_file(), &state_path) {
        Some(e) => Err(DaemonError::Config(anyhow!(e))),
        None => Ok(()),
    }
}

/// The data dir must be formatted for this node and cluster (`meta.properties`); kraftd never
/// formats or touches it.
pub fn check_storage(settings: &Settings) -> Result<(), DaemonError> {
    let data_dir = &settings.layout.data_dir;
    let not_formatted = || {
        DaemonError::Config(anyhow!(
            "storage {} is not formatted (no meta.properties): run kraft-install to format it",
            data_dir.display()
        ))
    };
    let meta = crate::storage::read_meta(data_dir)
        .map_err(|e| DaemonError::Config(e.context("cannot check the storage format")))?
        .ok_or_else(not_formatted)?;
    let meta_path = data_dir.join(crate::storage::META_PROPERTIES);
    if meta.node_id != Some(settings.node_id.0) {
        return Err(DaemonError::Config(anyhow!(
            "{} has node.id={}, but the config says node.id {}: this data belongs to another node; fix [node] id in {}",
            meta_path.display(),
            meta.node_id
                .map(|n| n.to_string())
                .unwrap_or_else(|| "<none>".into()),
            settings.node_id.0,
            settings.layout.config_file().display()
        )));
    }
    if let Some(cluster) = &settings.cluster_id {
        if meta.cluster_id != cluster.as_str() {
            return Err(DaemonError::Config(anyhow!(
                "{} has cluster.id={}, but the config says {cluster}: this data belongs to another cluster; fix [node] cluster_id in {}",
                meta_path.display(),
                meta.cluster_id,
                settings.layout.config_file().display()
            )));
        }
    }
    Ok(())
}

/// Refuse to start Kafka on a full data dir: it would stop again at its first write (exit 74).
pub fn check_free_space(settings: &Settings) -> Result<(), DaemonError> {
    let data_dir = &settings.layout.data_dir;
    match super::disk::space_of(data_dir) {
        Ok(space) if super::disk::is_full(space) => Err(DaemonError::DiskFull(anyhow!(
            super::disk::describe_full(data_dir, false)
        ))),
        // statvfs failing on a dir that exists and is formatted: nothing to add to Kafka's own error.
        _ => Ok(()),
    }
}

/// The listener addresses this node binds (`Settings::listeners`): broker and/or controller, as
/// its role has them.
pub fn listener_addrs(settings: &Settings) -> Vec<(&'static str, SocketAddr)> {
    let listeners = settings.listeners();
    let broker = listeners.broker.iter().map(|e| ("broker", e.bind));
    let controller = listeners.controller.iter().map(|e| ("controller", e.bind));
    broker.chain(controller).collect()
}

/// Fail early when a listener port is already taken, instead of letting the JVM die with a stack
/// trace after seconds of startup. Uses SO_REUSEADDR like Kafka, so TIME_WAIT leftovers do not count.
/// Must run inside a tokio runtime.
pub fn check_ports_free(settings: &Settings) -> Result<(), DaemonError> {
    for (name, addr) in listener_addrs(settings) {
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .and_then(|s| s.set_reuseaddr(true).map(|_| s))
        .map_err(|e| {
            DaemonError::Failure(anyhow!("cannot create a socket to check {addr}: {e}"))
        })?;
        match socket.bind(addr).and_then(|_| socket.listen(1).map(drop)) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(DaemonError::PortInUse(anyhow!(
                    "the {name} listener {addr} is already in use by another process: stop it (see `ss -ltnp 'sport = :{}'`) or change the port in the config",
                    addr.port()
                )));
            }
            Err(e) => {
                return Err(DaemonError::Config(anyhow!(
                    "cannot bind the {name} listener {addr}: {e}: is node.advertise an address of this host?"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigFile, FakeHost, Overrides};

    fn node(role: &str, controllers: Option<&str>, advertise: &str) -> Settings {
        let ov = Overrides {
            role: Some(role.into()),
            node_id: Some(1),
            controllers: controllers.map(str::to_string),
            advertise: Some(advertise.into()),
            force: true,
            ..Overrides::default()
        };
        let path = Path::new("/etc/kafka/kraftd.toml");
        Settings::resolve_on(&ConfigFile::default(), path, &ov, &FakeHost::new()).unwrap()
    }

    #[test]
    fn the_port_check_binds_what_the_role_listens_on() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(
            listener_addrs(&node("combined", None, "10.0.0.5")),
            [
                ("broker", addr("10.0.0.5:9092")),
                ("controller", addr("10.0.0.5:9093"))
            ]
        );
        let voters = "1@10.0.0.5:9093,2@10.0.0.6:9093,3@10.0.0.7:9093";
        assert_eq!(
            listener_addrs(&node("controller", Some(voters), "10.0.0.5")),
            [("controller", addr("10.0.0.5:9093"))]
        );
        // A name accepted with --force that is not on this host: bound everywhere.
        assert_eq!(
            listener_addrs(&node("combined", None, "elsewhere.example")),
            [
                ("broker", addr("0.0.0.0:9092")),
                ("controller", addr("0.0.0.0:9093"))
            ]
        );
    }
}
