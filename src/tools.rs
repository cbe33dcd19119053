//! Kafka's own command-line tools (`kafka-topics`, `kafka-console-producer`, …) as thin launchers:
//! the installed distribution, the configured Java, the right main class for the Kafka version, the
//! scripts' heap sizes, WARN-to-stderr logging, and defaults from the local node's config.
//!
//! The packages install `/usr/bin/kafka-topics -> kraftd` (and so on); `kraftd` sees its own name
//! in argv[0] and execs the JVM in its place (no shell, no child process), exactly as Kafka's
//! `bin/*.sh` would, minus the scripts. `kraftd tool <name> [args…]` does the same without a link.

use crate::config::{DEFAULT_CONFIG_PATH, Settings};
use crate::installed::{InstalledNode, NodeError};
use crate::jvm::{JvmBuilder, JvmCommand, fd_path, memfd};
use crate::{KafkaDist, KafkaVersion};
use anyhow::{Context, Result, anyhow, bail};
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Environment variable naming the kraftd.toml the launchers read (default /etc/kafka/kraftd.toml).
pub const CONFIG_ENV: &str = "KRAFTD_CONFIG";

/// Long help of `kraftd tool` (and the man page): what the launchers add.
pub const TOOL_HELP: &str = "\
The tools are also installed as links to kraftd (kafka-topics, kafka-console-producer, …); called by
such a name, kraftd runs that tool. Each runs Kafka's own class from /opt/kafka/current with the
configured Java, like Kafka's bin/*.sh, and adds what the command line leaves out:
  --bootstrap-server <advertised address>:<broker port>   kafka-topics, kafka-console-producer,
                                   kafka-console-consumer, kafka-configs, kafka-consumer-groups
  --bootstrap-controller <advertised address>:<controller port>   kafka-metadata-quorum
  --snapshot <in-memory copy of the local metadata log>   kafka-metadata-shell (read-only, works
                                   while the broker runs)
  --config <server.properties>     kafka-storage info (never for format)
Heap: -Xmx512M for the console tools, -Xmx256M otherwise (KAFKA_HEAP_OPTS replaces it); KAFKA_OPTS is
appended to the JVM options. Kafka's log output (WARN and above) goes to stderr.

Environment:
  KRAFTD_CONFIG   kraftd.toml of the local node (default /etc/kafka/kraftd.toml)";

/// One of Kafka's command-line tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    Topics,
    ConsoleProducer,
    ConsoleConsumer,
    MetadataQuorum,
    MetadataShell,
    Storage,
    Configs,
    ConsumerGroups,
}

impl Tool {
    pub const ALL: [Tool; 8] = [
        Tool::Topics,
        Tool::ConsoleProducer,
        Tool::ConsoleConsumer,
        Tool::MetadataQuorum,
        Tool::MetadataShell,
        Tool::Storage,
        Tool::Configs,
        Tool::ConsumerGroups,
    ];

    /// The command name (also the name of the symlink the packages install).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Topics => "kafka-topics",
            Tool::ConsoleProducer => "kafka-console-producer",
            Tool::ConsoleConsumer => "kafka-console-consumer",
            Tool::MetadataQuorum => "kafka-metadata-quorum",
            Tool::MetadataShell => "kafka-metadata-shell",
            Tool::Storage => "kafka-storage",
            Tool::Configs => "kafka-configs",
            Tool::ConsumerGroups => "kafka-consumer-groups",
        }
    }

    /// The tool called `name` (a path's file name; a trailing `.sh` is accepted so runbooks that
    /// call `kafka-topics.sh` through a link of that name work too).
    pub fn from_name(name: &str) -> Option<Tool> {
        let name = name.strip_suffix(".sh").unwrap_or(name);
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tool whose name is the file name of `argv0` (multi-call dispatch).
    pub fn from_argv0(argv0: &OsStr) -> Option<Tool> {
        Path::new(argv0)
            .file_name()
            .and_then(OsStr::to_str)
            .and_then(Tool::from_name)
    }

    /// The Java main class, as Kafka's own script for this version runs it. Several tools moved
    /// from the Scala core (`kafka.*`) to `kafka-tools` (`org.apache.kafka.tools.*`) by 4.0;
    /// checked against the 3.7.1 and 4.1.1 jars.
    pub fn main_class(self, version: &KafkaVersion) -> &'static str {
        let v4 = version.client_tools_in_tools_module();
        match self {
            Tool::Topics => "org.apache.kafka.tools.TopicCommand",
            Tool::ConsoleProducer if v4 => "org.apache.kafka.tools.ConsoleProducer",
            Tool::ConsoleProducer => "kafka.tools.ConsoleProducer",
            Tool::ConsoleConsumer if v4 => "org.apache.kafka.tools.consumer.ConsoleConsumer",
            Tool::ConsoleConsumer => "kafka.tools.ConsoleConsumer",
            Tool::MetadataQuorum => "org.apache.kafka.tools.MetadataQuorumCommand",
            Tool::MetadataShell => "org.apache.kafka.shell.MetadataShell",
            Tool::Storage => "kafka.tools.StorageTool",
            Tool::Configs => "kafka.admin.ConfigCommand",
            Tool::ConsumerGroups if v4 => {
                "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
            }
            Tool::ConsumerGroups => "kafka.admin.ConsumerGroupCommand",
        }
    }

    /// `-Xmx` as Kafka's scripts set it: 512M for the console clients, 256M for the rest.
    pub fn heap(self) -> &'static str {
        match self {
            Tool::ConsoleProducer | Tool::ConsoleConsumer => "512M",
            _ => "256M",
        }
    }

    /// Kafka's argparse4j tools have no `--version`, and 3.x's consumer-groups demands
    /// `--bootstrap-server` before it looks at `--version`: the launcher answers for them.
    fn answers_version_itself(self, version: &KafkaVersion) -> bool {
        matches!(
            self,
            Tool::MetadataQuorum | Tool::MetadataShell | Tool::Storage
        ) || (self == Tool::ConsumerGroups && !version.consumer_groups_answers_version())
    }
}

/// What a launcher does: exec a JVM, or (for `--version` of tools without one) print the version.
#[derive(Debug)]
pub enum Launch {
    Exec {
        command: JvmCommand,
        /// Notes for stderr before the JVM starts (what a default added).
        notes: Vec<String>,
    },
    PrintVersion(String),
}

/// Load the local node for a launcher; a config error also says how to point at another
/// kraftd.toml. The `ConfigError` stays in the chain ([`exit_code`]).
pub fn load_node(config: &Path) -> Result<InstalledNode> {
    InstalledNode::load(config).map_err(|e| match e {
        NodeError::Config(e) => anyhow::Error::from(e).context(format!(
            "cannot read the local node's config {} (set {CONFIG_ENV}=PATH to use another kraftd.toml, \
             or run kraft-install)",
            config.display()
        )),
        NodeError::Unavailable(e) => e,
    })
}

/// `host:port` of the node's broker listener, as advertised.
fn bootstrap_server(settings: &Settings) -> String {
    format!("{}:{}", settings.advertised_host(), settings.broker_port)
}

/// `host:port` of the node's controller listener.
fn bootstrap_controller(settings: &Settings) -> String {
    format!(
        "{}:{}",
        settings.advertised_host(),
        settings.controller_port
    )
}

/// The config a launcher reads: `--config` of `kraftd tool`, else $KRAFTD_CONFIG, else the default.
pub fn config_path(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    match std::env::var_os(CONFIG_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_CONFIG_PATH),
    }
}

/// True when `args` has `flag` as `--flag`, `--flag=value` (long) or `-f`/`-fvalue` (short).
fn has_flag(args: &[OsString], names: &[&str]) -> bool {
    args.iter().filter_map(|a| a.to_str()).any(|a| {
        names.iter().any(|n| {
            a == *n
                || (n.starts_with("--") && a.starts_with(&format!("{n}=")))
                || (n.len() == 2 && !n.starts_with("--") && a.starts_with(n))
        })
    })
}

/// The user asked for usage or version text (or gave no arguments, which makes Kafka's tools print
/// their usage): no defaults, so Kafka's output is unchanged. The metadata shell is the exception:
/// with no arguments it is the interactive shell, which gets the local metadata log.
fn wants_help(tool: Tool, args: &[OsString]) -> bool {
    (args.is_empty() && tool != Tool::MetadataShell)
        || has_flag(args, &["--help", "--version"])
        || args.iter().any(|a| a == "-h")
}

/// Build the launch for `tool` with the user's `args` on `node`. Reads `KAFKA_HEAP_OPTS` and
/// `KAFKA_OPTS` from `env` like Kafka's scripts.
pub fn build(
    tool: Tool,
    node: &InstalledNode,
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Launch> {
    let version = node.dist.version;
    if tool.answers_version_itself(&version) && args.len() == 1 && args[0] == "--version" {
        return Ok(Launch::PrintVersion(version.to_string()));
    }
    let mut jvm = tool_jvm(tool, &node.java, &node.dist, env)?;
    let mut fds = Vec::new();
    let mut notes = Vec::new();
    let tool_args = if wants_help(tool, &args) {
        args
    } else {
        with_defaults(tool, &node.settings, args, &mut fds, &mut notes)?
    };
    for fd in fds {
        jvm = jvm.keep_fd(fd);
    }
    Ok(Launch::Exec {
        command: jvm.args(tool_args).build(),
        notes,
    })
}

/// A tool's JVM up to its arguments: `KAFKA_HEAP_OPTS` (else the script's `-Xmx`), Kafka's flags,
/// WARN-to-stderr logging, `KAFKA_OPTS`, the version's main class.
pub(crate) fn tool_jvm<'a>(
    tool: Tool,
    java: &Path,
    dist: &'a KafkaDist,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<JvmBuilder<'a>> {
    let jvm = JvmCommand::builder(java, dist, tool.main_class(&dist.version));
    let jvm = match env("KAFKA_HEAP_OPTS") {
        Some(heap) if !heap.trim().is_empty() => jvm.heap_opts(heap.split_whitespace()),
        _ => jvm.max_heap(tool.heap()),
    };
    let opts = env("KAFKA_OPTS").unwrap_or_default();
    Ok(jvm
        .perf_opts()
        .stderr_log_config()?
        .jvm_opts(opts.split_whitespace()))
}

/// The user's arguments plus the local node's defaults for what they left out.
fn with_defaults(
    tool: Tool,
    settings: &Settings,
    args: Vec<OsString>,
    fds: &mut Vec<OwnedFd>,
    notes: &mut Vec<String>,
) -> Result<Vec<OsString>> {
    const TARGETS: &[&str] = &[
        "--bootstrap-server",
        "--bootstrap-controller",
        "--zookeeper",
        "--broker-list",
    ];
    let mut out: Vec<OsString> = Vec::new();
    match tool {
        Tool::Topics
        | Tool::ConsoleProducer
        | Tool::ConsoleConsumer
        | Tool::Configs
        | Tool::ConsumerGroups => {
            if !has_flag(&args, TARGETS) {
                out.push("--bootstrap-server".into());
                out.push(bootstrap_server(settings).into());
            }
            out.extend(args);
        }
        // The controller listener answers even while the broker side is fenced or catching up:
        // the moment an operator looks at the quorum. argparse4j wants it before the subcommand.
        Tool::MetadataQuorum => {
            if !has_flag(&args, TARGETS) {
                out.push("--bootstrap-controller".into());
                out.push(bootstrap_controller(settings).into());
            }
            out.extend(args);
        }
        Tool::MetadataShell => {
            if !has_flag(&args, &["--snapshot", "-s"]) {
                let (fd, what) = metadata_copy(&settings.layout.data_dir)?;
                out.push("--snapshot".into());
                out.push(fd_path(&fd).into());
                fds.push(fd);
                notes.push(format!("reading a read-only copy of {what}"));
            }
            out.extend(args);
        }
        // Only the read-only `info` gets the node's server.properties: a default must never aim
        // `format` (or anything that writes) at the local data.
        Tool::Storage => {
            let info_at = args.iter().position(|a| a == "info");
            let first_positional = args
                .iter()
                .position(|a| !a.to_string_lossy().starts_with('-'));
            match info_at {
                Some(i) if Some(i) == first_positional && !has_flag(&args, &["--config", "-c"]) => {
                    out.extend(args[..=i].iter().cloned());
                    out.push("--config".into());
                    out.push(settings.layout.server_properties().into());
                    out.extend(args[i + 1..].iter().cloned());
                }
                _ => out.extend(args),
            }
        }
    }
    Ok(out)
}

/// The local metadata log, copied into memory so the shell reads it without taking the data
/// directory's lock (a running broker holds it) and without any chance of writing to it: the
/// newest snapshot if there is one, else the log segments in order (a segment is a stream of
/// record batches, as a snapshot is).
fn metadata_copy(data_dir: &Path) -> Result<(OwnedFd, String)> {
    let dir = data_dir.join("__cluster_metadata-0");
    let mut snapshots = Vec::new();
    let mut segments = Vec::new();
    let entries = std::fs::read_dir(&dir).with_context(|| {
        format!("cannot read the metadata log {} (is the node formatted? pass --snapshot FILE to read another)", dir.display())
    })?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        match path.extension().and_then(OsStr::to_str) {
            Some("checkpoint") => snapshots.push(path),
            Some("log") => segments.push(path),
            _ => {}
        }
    }
    // File names are zero-padded offsets: lexical order is offset order.
    snapshots.sort();
    segments.sort();
    let files = match snapshots.pop() {
        Some(newest) => vec![newest],
        None if !segments.is_empty() => segments,
        None => bail!(
            "{} holds no snapshot and no log segment: nothing to read",
            dir.display()
        ),
    };
    let mut bytes = Vec::new();
    for f in &files {
        bytes.extend(std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?);
    }
    let what = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Ok((memfd("kraftd-metadata", &bytes)?, what))
}

/// Replace this process with the tool's JVM. Returns only on failure.
pub fn exec(tool: Tool, config: &Path, args: Vec<OsString>) -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    let launch =
        load_node(config).and_then(|node| build(tool, &node, args, &|k| std::env::var(k).ok()));
    match launch {
        Err(e) => e.context(format!("{}: cannot start", tool.name())),
        Ok(Launch::PrintVersion(v)) => {
            println!("{v}");
            std::process::exit(0);
        }
        Ok(Launch::Exec { command, notes }) => {
            for note in &notes {
                eprintln!("{}: {note}", tool.name());
            }
            // The in-memory files stay open (in `command`) across the exec.
            let err = command.command().exec();
            anyhow!(err).context(format!(
                "{}: cannot run {}",
                tool.name(),
                command.java.display()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_accept_sh() {
        for t in Tool::ALL {
            assert_eq!(Tool::from_name(t.name()), Some(t));
            assert_eq!(Tool::from_name(&format!("{}.sh", t.name())), Some(t));
        }
        assert_eq!(
            Tool::from_argv0(OsStr::new("/usr/bin/kafka-topics")),
            Some(Tool::Topics)
        );
        assert_eq!(Tool::from_argv0(OsStr::new("kraftd")), None);
    }

    #[test]
    fn flag_detection() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(has_flag(
            &a(&["--list", "--bootstrap-server=x:1"]),
            &["--bootstrap-server"]
        ));
        assert!(has_flag(&a(&["-sfile"]), &["-s"]));
        assert!(!has_flag(
            &a(&["--bootstrap-servers"]),
            &["--bootstrap-server"]
        ));
        assert!(wants_help(Tool::Topics, &a(&[])));
        assert!(
            !wants_help(Tool::MetadataShell, &a(&[])),
            "the bare shell is interactive, not usage"
        );
        assert!(wants_help(Tool::Topics, &a(&["--list", "-h"])));
    }
}
