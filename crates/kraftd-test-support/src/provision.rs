//! Nodes to test against: a single combined node laid out under a temp `--prefix` by kraftd's own
//! render/storage library (as kraft-install does, without running it), or installed by the real
//! kraft-install binary; and the pre-placed kraftd.toml an admin would write.

use crate::bins::kraft_install;
use crate::fixtures::dist_home;
use crate::net::{free_port, random_cluster_id};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Knobs for `provision_node_with`.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// `java.home` in kraftd.toml.
    pub java_home: Option<PathBuf>,
    /// Extra `[kafka]` entries (also rendered into server.properties).
    pub extra_kafka: Vec<(String, String)>,
    /// Leave the data dir unformatted.
    pub unformatted: bool,
    /// `data_dir` in kraftd.toml, relative to the prefix (default: var/lib/kafka/data, unset).
    pub data_dir_in_prefix: Option<String>,
}

/// A provisioned single combined node under a temp `--prefix`.
pub struct TestNode {
    pub prefix: tempfile::TempDir,
    pub version: String,
    pub node_id: u32,
    pub cluster_id: String,
    pub broker_addr: SocketAddr,
    pub controller_port: u16,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub run_dir: PathBuf,
}

pub fn provision_node(version: &str) -> TestNode {
    provision_node_with(version, NodeOptions::default())
}

/// Provision a node the way `kraft-install --prefix` lays it out: kraftd.toml in etc/kafka,
/// node.toml, server.properties and the stdout-only log config in var/lib/kraftd, opt/kafka/current
/// → the fixture distribution, storage formatted with Kafka's own StorageTool (through kraftd's
/// render/storage library, as kraft-install does).
pub fn provision_node_with(version: &str, opts: NodeOptions) -> TestNode {
    let dist = dist_home(version);
    let prefix = tempfile::Builder::new()
        .prefix("kraftd-node-")
        .tempdir()
        .unwrap();
    let root = prefix.path().to_path_buf();
    let etc = root.join("etc/kafka");
    let data_dir = root.join(
        opts.data_dir_in_prefix
            .as_deref()
            .unwrap_or("var/lib/kafka/data"),
    );
    let run_dir = root.join("run/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(root.join("opt/kafka")).unwrap();
    std::fs::create_dir_all(&data_dir).unwrap();
    std::os::unix::fs::symlink(&dist, root.join("opt/kafka/current")).unwrap();

    let node_id = 1u32;
    let cluster_id = random_cluster_id();
    let broker_port = free_port();
    let controller_port = free_port();

    let mut toml = format!(
        "[node]\nid = {node_id}\ncluster_id = \"{cluster_id}\"\nadvertise = \"127.0.0.1\"\n\
         broker_port = {broker_port}\ncontroller_port = {controller_port}\nprefix = \"{}\"\n\n\
         [dist]\nkafka_version = \"{version}\"\n\n[java]\nheap = \"384M\"\n",
        root.display()
    );
    if let Some(home) = &opts.java_home {
        toml.push_str(&format!("home = \"{}\"\n", home.display()));
    }
    if opts.data_dir_in_prefix.is_some() {
        toml = toml.replacen(
            "[node]\n",
            &format!("[node]\ndata_dir = \"{}\"\n", data_dir.display()),
            1,
        );
    }
    toml.push_str("\n[daemon]\nstop_timeout_sec = 120\n");
    if !opts.extra_kafka.is_empty() {
        toml.push_str("\n[kafka]\n");
        for (k, v) in &opts.extra_kafka {
            toml.push_str(&format!("\"{k}\" = \"{v}\"\n"));
        }
    }
    let config = etc.join("kraftd.toml");
    std::fs::write(&config, toml).unwrap();

    // Render, record the resolved identity (node.toml) and format with the same library functions
    // kraft-install uses.
    let settings = kraftd::Settings::load(&config).expect("test kraftd.toml loads");
    let kafka_version = settings.kafka_version;
    let server_properties = settings.layout.server_properties();
    let files = kraftd::render::node_files(&settings, &kafka_version).unwrap();
    kraftd::render::write_rendered(&settings.layout, &files).unwrap();
    let admin = kraftd::config::ConfigFile::load(&config).unwrap().unwrap();
    let state = kraftd::config::render_state(&kraftd::config::state_file(&settings, &admin));
    std::fs::write(settings.layout.node_state(), state).unwrap();
    if !opts.unformatted {
        let dist = kraftd::KafkaDist::open(&settings.layout.dist_current()).unwrap();
        let java = kraftd::java::find_java_default(None).expect("a Java runtime for the tests");
        kraftd::storage::ensure_formatted(
            &java.java,
            &dist,
            &server_properties,
            &settings.layout.data_dir,
            settings.cluster_id.as_ref().unwrap(),
            settings.node_id,
        )
        .expect("format storage");
    }

    TestNode {
        prefix,
        version: version.to_string(),
        node_id,
        cluster_id,
        broker_addr: SocketAddr::from(([127, 0, 0, 1], broker_port)),
        controller_port,
        config,
        data_dir,
        run_dir,
    }
}

/// Write `<prefix>/etc/kafka/kraftd.toml` as an admin would before installing: `head` (e.g. a
/// comment), free broker and controller ports, a 512M heap, then `extra`. Returns the two ports.
pub fn preplace_config(prefix: &Path, head: &str, extra: &str) -> (u16, u16) {
    let (broker, controller) = (free_port(), free_port());
    let etc = prefix.join("etc/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("kraftd.toml"),
        format!(
            "{head}[node]\nbroker_port = {broker}\ncontroller_port = {controller}\n\n[java]\nheap = \"512M\"\n{extra}"
        ),
    )
    .unwrap();
    (broker, controller)
}

/// A single combined node installed by the real kraft-install (`--no-systemd`) under a temp dir.
pub struct InstalledNode {
    _tmp: tempfile::TempDir,
    pub prefix: PathBuf,
    pub config: PathBuf,
    pub dist: PathBuf,
    pub version: String,
    pub broker_port: u16,
    pub controller_port: u16,
    pub data_dir: PathBuf,
}

impl InstalledNode {
    /// Install the `version` fixture advertising 127.0.0.1.
    pub fn install(version: &str) -> InstalledNode {
        InstalledNode::install_with(version, "", "127.0.0.1")
    }

    /// Install with `extra` appended to the pre-placed kraftd.toml (e.g. a `[kafka]` table),
    /// advertising (and listening on) `advertise`.
    pub fn install_with(version: &str, extra: &str, advertise: &str) -> InstalledNode {
        let dist = dist_home(version);
        let tmp = tempfile::Builder::new()
            .prefix("kraftd-node-")
            .tempdir()
            .unwrap();
        let prefix = tmp.path().join("node");
        let (broker_port, controller_port) = preplace_config(&prefix, "", extra);
        let p = prefix.display().to_string();
        let d = dist.display().to_string();
        let out = kraft_install(&[
            "--prefix",
            &p,
            "--dist",
            &d,
            "--advertise",
            advertise,
            "--no-systemd",
        ]);
        assert!(
            out.status.success(),
            "kraft-install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        InstalledNode {
            _tmp: tmp,
            config: prefix.join("etc/kafka/kraftd.toml"),
            data_dir: prefix.join("var/lib/kafka/data"),
            prefix,
            dist,
            version: version.to_string(),
            broker_port,
            controller_port,
        }
    }

    /// `127.0.0.1:<broker port>`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.broker_port)
    }

    /// The broker's address on 127.0.0.1.
    pub fn broker_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.broker_port))
    }

    /// The config path as an argument.
    pub fn config_arg(&self) -> String {
        self.config.display().to_string()
    }

    /// The cluster id the data dir was formatted with (meta.properties).
    pub fn formatted_cluster_id(&self) -> String {
        meta_cluster_id(&self.data_dir)
    }
}

/// The `cluster.id` of `<data_dir>/meta.properties`.
pub fn meta_cluster_id(data_dir: &Path) -> String {
    let meta = std::fs::read_to_string(data_dir.join("meta.properties")).unwrap();
    meta.lines()
        .find_map(|l| l.strip_prefix("cluster.id="))
        .expect("cluster.id in meta.properties")
        .to_string()
}

/// The `cluster.id` line of a kraft-install summary.
pub fn summary_cluster_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id "))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no cluster.id line in:\n{stdout}"))
}
