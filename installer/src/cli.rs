//! The `kraft-install` command line: every flag, documented for `--help` and the man page.
//!
//! Self-contained (clap, std and the `kraftd` library only): `kraftd generate-docs` compiles this same
//! file into the kraftd binary (`#[path]` in src/cli/generate_docs.rs) to render kraft-install's man
//! page and completions, so the installer's flags are defined once and never in the library.

use clap::{ArgAction, Parser};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Steps, each idempotent (a second run changes nothing):
  1. read /etc/kafka/kraftd.toml (yours: created from the template only when absent, never written)
     over /var/lib/kraftd/node.toml; flags fill what kraftd.toml leaves unset (recorded in node.toml),
     a flag contradicting a value set in kraftd.toml is refused (78)
  2. get Kafka (--dist, or download from the mirrors), verify SHA-512 and every jar, install to
     /opt/kafka (a broken copy there is replaced; leftovers of interrupted runs are removed)
  3. find Java and check its version against the Kafka version
  4. create the kafka user and /etc/kafka, the data directory
  5. detect or check the advertised address
  6. render server.properties and the stdout-only log config into /var/lib/kraftd (kraftd re-renders
     them from kraftd.toml on every start)
  7. reuse or generate the cluster ID
  8. format storage with Kafka's StorageTool (only when unformatted; refuses other clusters' data)
  9. install and enable kafka.service; write kafka.service.d/kraftd-paths.conf (ReadWritePaths= for
     the data directory) also with --no-systemd

Exit codes:
  0   success (also when nothing needed to change)
  1   a step failed (download, format, systemctl, I/O)
  2   invalid command line
  65  the data directory belongs to another cluster or node: nothing was changed
  69  Java or the Kafka distribution is missing or unusable (also: `java -version` hangs)
  75  another kraft-install is working on the same target (waited --lock-timeout): nothing was changed
  78  invalid configuration (kraftd.toml, a flag value, the advertised address, a --heap above the
      memory, a --data-dir that is a file)

Other modes:
  --uninstall [--purge] [--yes]   stop and disable kafka.service, remove what kraft-install installed
                                  (unit and drop-in, /opt/kafka/kafka_2.13-* and current, rendered files);
                                  kraftd.toml, node.toml and the data stay unless --purge.
                                  Refused when a deb/rpm package owns kraftd: use apt/dnf then.
  --reconfigure --advertise IP    change non-identity settings of an installed node (also --heap,
                                  --java-home, --broker-port, --controller-port, --set KEY=VALUE),
                                  where kraftd.toml leaves them unset: recorded in node.toml, files
                                  re-rendered, kafka.service restarted if it runs.
                                  Node id, cluster id and data directory cannot change.";

/// Provision an Apache Kafka KRaft node for kraftd: Kafka, config, cluster ID, storage, unit.
#[derive(Debug, Parser)]
#[command(name = "kraft-install", version, after_help = AFTER_HELP)]
#[command(group = clap::ArgGroup::new("mode").args(["uninstall", "reconfigure"]))]
pub struct Args {
    /// Address advertised to clients and bound by the listeners (IP, or a host name that resolves
    /// to one of this host's addresses). Detected when not given.
    #[arg(long, value_name = "IP")]
    pub advertise: Option<String>,

    /// Kafka node.id of this node (0..=2147483647). Default 1.
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub node_id: Option<i64>,

    /// Kafka version to install, e.g. 4.1.1 or 3.7.1. Default: the version in kraftd.toml, else 4.1.1.
    #[arg(long, value_name = "VERSION")]
    pub kafka_version: Option<String>,

    /// Install from this Kafka distribution instead of downloading: a .tgz file, an unpacked
    /// directory, or an http(s) URL of a .tgz.
    #[arg(long, value_name = "FILE|DIR|URL")]
    pub dist: Option<String>,

    /// Download mirror base URL (the release path `<v>/kafka_2.13-<v>.tgz` is appended); repeat to
    /// try several in order. Replaces the mirrors from kraftd.toml.
    #[arg(long = "mirror", value_name = "URL", action = ArgAction::Append)]
    pub mirrors: Vec<String>,

    /// Expected SHA-512 of the Kafka tarball (hex). Needed for versions without a pinned digest.
    #[arg(long, value_name = "HEX")]
    pub sha512: Option<String>,

    /// Java installation to use (the directory containing bin/java).
    #[arg(long, value_name = "DIR")]
    pub java_home: Option<PathBuf>,

    /// JVM heap size for the broker, e.g. 1G or 512M.
    #[arg(long, value_name = "SIZE")]
    pub heap: Option<String>,

    /// Kafka data directory (log.dirs). Default /var/lib/kafka/data (under --prefix).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Cluster ID to format with (22 characters of base64url, as `kafka-storage random-uuid`
    /// prints). Generated when not given and not found in kraftd.toml or existing data.
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub cluster_id: Option<String>,

    /// What this node runs: combined (broker and controller in one process; the default),
    /// controller (a quorum voter only) or broker (serves clients, joins --controllers).
    #[arg(long, value_name = "ROLE", value_parser = ["combined", "controller", "broker"])]
    pub role: Option<String>,

    /// The controller voter set of a multi-node cluster, `id@host:port,…`, the same on every node.
    /// The first voter's install generates the cluster id; every other node needs --cluster-id.
    #[arg(long, value_name = "ID@HOST:PORT,…")]
    pub controllers: Option<String>,

    /// How many brokers the cluster will have: internal and new topics get min(3, N) replicas.
    /// Default: the number of voters for combined nodes, else 3.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub brokers: Option<i64>,

    /// Install every path (/opt/kafka, /etc/kafka, /var/lib/kafka, the unit directory) under DIR.
    /// No user is created and systemctl is not called: for tests and unprivileged users.
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,

    /// Do not install kafka.service or call systemctl.
    #[arg(long)]
    pub no_systemd: bool,

    /// Accept an advertised host name that does not resolve to an address of this host.
    #[arg(long)]
    pub force: bool,

    /// Print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Remove a non-package install: stop and disable kafka.service, delete the unit, the unpacked
    /// Kafka distributions and the rendered files. Keeps kraftd.toml and the data (see --purge).
    #[arg(long, conflicts_with_all = ["dist", "mirrors", "sha512", "kafka_version", "cluster_id", "node_id", "force", "dry_run", "reconfigure", "role", "controllers", "brokers"])]
    pub uninstall: bool,

    /// With --uninstall: also delete kraftd.toml and the data directory (all topics). Asks for
    /// confirmation on a terminal; needs --yes otherwise.
    #[arg(long, requires = "uninstall")]
    pub purge: bool,

    /// Confirm --purge without asking (for scripts).
    #[arg(long, requires = "purge")]
    pub yes: bool,

    /// Change an installed node's non-identity settings (--advertise, --heap, --java-home,
    /// --broker-port, --controller-port, --set), re-render its files and restart it if it runs.
    #[arg(long, conflicts_with_all = ["dist", "mirrors", "sha512", "kafka_version", "dry_run", "role", "controllers", "brokers"])]
    pub reconfigure: bool,

    /// With --reconfigure: the broker (client) listener port.
    #[arg(long, value_name = "PORT", requires = "reconfigure")]
    pub broker_port: Option<u16>,

    /// With --reconfigure: the controller listener port.
    #[arg(long, value_name = "PORT", requires = "reconfigure")]
    pub controller_port: Option<u16>,

    /// With --reconfigure: set a [kafka] entry (an extra server.properties line); an empty VALUE
    /// (`--set KEY=`) removes it. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "reconfigure", action = ArgAction::Append)]
    pub set: Vec<String>,

    /// How long to wait for another kraft-install working on the same target (every mode takes
    /// one lock per target) before giving up with exit 75; 0 refuses at once.
    #[arg(long, value_name = "SECONDS", default_value_t = kraftd::install_lock::DEFAULT_WAIT.as_secs())]
    pub lock_timeout: u64,

    /// More output (repeat for debug output).
    #[arg(short, long, action = ArgAction::Count)]
    pub verbose: u8,
}
