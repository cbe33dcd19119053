//! Kafka's own command-line tools (`kafka-topics`, `kafka-console-producer`, …) as thin launchers:
//! the installed distribution, the configured Java, the right main class for the Kafka version, the
//! scripts' heap sizes, WARN-to-stderr logging, and defaults from the local node's config.
//!
//! The packages install `/usr/bin/kafka-topics -> kraftd` (and so on); `kraftd` sees its own name
//! in argv[0] and execs the JVM in its place (no shell, no child process), exactly as Kafka's
//! `bin/*.sh` would, minus the scripts. `kraftd tool <name> [args…]` does the same without a link.

use crate::config::{DEFAULT_CONFIG_PATH, Settings};
use crate::{KafkaDist, KafkaVersion};
use anyhow::{Context, Result, anyhow, bail};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
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

/// The tool names, for clap.
pub fn tool_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Tool::ALL.map(Tool::name))
}

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
        let v4 = version.major >= 4;
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
        ) || (self == Tool::ConsumerGroups && version.major < 4)
    }
}

/// What a launcher does: exec a JVM, or (for `--version` of tools without one) print the version.
#[derive(Debug)]
pub enum Launch {
    Exec(ToolCommand),
    PrintVersion(String),
}

/// A fully built tool invocation.
#[derive(Debug)]
pub struct ToolCommand {
    pub java: PathBuf,
    pub args: Vec<OsString>,
    /// In-memory files (log config, metadata copy) the JVM reads as `/proc/self/fd/N`; they must
    /// stay open (and inheritable) until exec.
    pub fds: Vec<OwnedFd>,
    /// Notes for stderr before the JVM starts (what a default added).
    pub notes: Vec<String>,
}

/// The local node a launcher works with.
#[derive(Debug, Clone)]
pub struct LocalNode {
    pub settings: Settings,
    pub dist: KafkaDist,
    pub java: PathBuf,
}

impl LocalNode {
    /// Load `config` (its `/opt/kafka/current`, its Java) with errors that say what to fix.
    pub fn load(config: &Path) -> Result<LocalNode> {
        let settings = Settings::load(config).with_context(|| {
            format!(
                "cannot read the local node's config {} (set {CONFIG_ENV}=PATH to use another kraftd.toml, \
                 or run kraft-install)",
                config.display()
            )
        })?;
        let home = settings.layout.dist_current();
        let dist = KafkaDist::open(&home).with_context(|| {
            format!(
                "no usable Kafka distribution at {}: run kraft-install",
                home.display()
            )
        })?;
        let java = crate::java::find_java_default(settings.java_home.as_deref())
            .and_then(|rt| rt.check_for(&dist.version).map(|_| rt))
            .map_err(|e| {
                anyhow!(e).context(format!(
                    "no usable Java for Kafka {} (set java.home in {})",
                    dist.version,
                    config.display()
                ))
            })?;
        Ok(LocalNode {
            settings,
            dist,
            java: java.java,
        })
    }

    /// `host:port` of the node's broker listener, as advertised.
    pub fn bootstrap_server(&self) -> String {
        format!(
            "{}:{}",
            self.settings.advertised_host(),
            self.settings.broker_port
        )
    }

    /// `host:port` of the node's controller listener.
    pub fn bootstrap_controller(&self) -> String {
        format!(
            "{}:{}",
            self.settings.advertised_host(),
            self.settings.controller_port
        )
    }
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
    node: &LocalNode,
    args: Vec<OsString>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Launch> {
    let version = node.dist.version;
    if tool.answers_version_itself(&version) && args.len() == 1 && args[0] == "--version" {
        return Ok(Launch::PrintVersion(version.to_string()));
    }

    let mut fds = Vec::new();
    let mut notes = Vec::new();
    let mut jvm: Vec<OsString> = Vec::new();
    match env("KAFKA_HEAP_OPTS") {
        Some(heap) if !heap.trim().is_empty() => {
            jvm.extend(heap.split_whitespace().map(OsString::from))
        }
        _ => jvm.push(format!("-Xmx{}", tool.heap()).into()),
    }
    jvm.extend(crate::daemon::jvm::PERF_OPTS.iter().map(OsString::from));
    let log_fd = memfd("kraftd-tools-log", tools_log_config(&version).as_bytes())?;
    let log_path = fd_path(&log_fd);
    jvm.push(if version.major >= 4 {
        format!("-Dlog4j2.configurationFile={log_path}").into()
    } else {
        format!("-Dlog4j.configuration=file:{log_path}").into()
    });
    fds.push(log_fd);
    if let Some(opts) = env("KAFKA_OPTS") {
        jvm.extend(opts.split_whitespace().map(OsString::from));
    }
    jvm.push("-cp".into());
    jvm.push(node.dist.classpath().into());
    jvm.push(tool.main_class(&version).into());

    let tool_args = if wants_help(tool, &args) {
        args
    } else {
        with_defaults(tool, node, args, &mut fds, &mut notes)?
    };
    jvm.extend(tool_args);
    Ok(Launch::Exec(ToolCommand {
        java: node.java.clone(),
        args: jvm,
        fds,
        notes,
    }))
}

/// The user's arguments plus the local node's defaults for what they left out.
fn with_defaults(
    tool: Tool,
    node: &LocalNode,
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
                out.push(node.bootstrap_server().into());
            }
            out.extend(args);
        }
        // The controller listener answers even while the broker side is fenced or catching up:
        // the moment an operator looks at the quorum. argparse4j wants it before the subcommand.
        Tool::MetadataQuorum => {
            if !has_flag(&args, TARGETS) {
                out.push("--bootstrap-controller".into());
                out.push(node.bootstrap_controller().into());
            }
            out.extend(args);
        }
        Tool::MetadataShell => {
            if !has_flag(&args, &["--snapshot", "-s"]) {
                let (fd, what) = metadata_copy(&node.settings.layout.data_dir)?;
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
                    out.push(node.settings.layout.server_properties().into());
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

/// An anonymous in-memory file holding `contents`, inheritable across exec (no CLOEXEC), so the
/// JVM can open it as `/proc/self/fd/N` and nothing is left on disk.
fn memfd(name: &str, contents: &[u8]) -> Result<OwnedFd> {
    let cname = std::ffi::CString::new(name).expect("no NUL in memfd name");
    // SAFETY: a valid C string; flags 0 (inheritable). The returned fd is owned below.
    let raw = unsafe { libc::memfd_create(cname.as_ptr(), 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error())
            .context("memfd_create for a tool's in-memory file");
    }
    // SAFETY: `raw` is a fresh fd nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut file = std::fs::File::from(fd.try_clone().context("dup memfd")?);
    file.write_all(contents)
        .context("writing a tool's in-memory file")?;
    Ok(fd)
}

fn fd_path(fd: &OwnedFd) -> String {
    use std::os::fd::AsRawFd;
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// The tools' log config: WARN and above to stderr (stdout stays clean for the console consumer's
/// records), as Kafka's `tools-log4j*` do. 4.x (log4j2) gets XML: a `/proc/self/fd/N` path has no
/// extension, and XML is the format log4j2 tries for those; 3.x gets log4j 1.x properties.
pub fn tools_log_config(version: &KafkaVersion) -> String {
    if version.major >= 4 {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Configuration status=\"error\">\n\
         \x20 <Appenders><Console name=\"STDERR\" target=\"SYSTEM_ERR\"><PatternLayout pattern=\"[%d] %p %m (%c)%n\"/></Console></Appenders>\n\
         \x20 <Loggers><Root level=\"WARN\"><AppenderRef ref=\"STDERR\"/></Root></Loggers>\n\
         </Configuration>\n"
            .to_string()
    } else {
        "log4j.rootLogger=WARN, stderr\n\
         log4j.appender.stderr=org.apache.log4j.ConsoleAppender\n\
         log4j.appender.stderr.Target=System.err\n\
         log4j.appender.stderr.layout=org.apache.log4j.PatternLayout\n\
         log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
            .to_string()
    }
}

/// Replace this process with the tool's JVM. Returns only on failure.
pub fn exec(tool: Tool, config: &Path, args: Vec<OsString>) -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    let launch = LocalNode::load(config)
        .and_then(|node| build(tool, &node, args, &|k| std::env::var(k).ok()));
    match launch {
        Err(e) => e.context(format!("{}: cannot start", tool.name())),
        Ok(Launch::PrintVersion(v)) => {
            println!("{v}");
            std::process::exit(0);
        }
        Ok(Launch::Exec(cmd)) => {
            for note in &cmd.notes {
                eprintln!("{}: {note}", tool.name());
            }
            let err = std::process::Command::new(&cmd.java).args(&cmd.args).exec();
            drop(cmd.fds);
            anyhow!(err).context(format!(
                "{}: cannot run {}",
                tool.name(),
                cmd.java.display()
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
