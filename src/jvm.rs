//! The one builder of a `java` command line for Kafka's classes (the broker, StorageTool, the
//! `kafka-*` tools): heap, Kafka's performance flags, system properties, the version's log config
//! flag, extra JVM options, the distribution's classpath, main class and arguments — always in that
//! order — plus the environment and in-memory files the JVM needs. Callers state only what differs.

use crate::KafkaDist;
use anyhow::Context as _;
use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Performance flags of Kafka's own start scripts (kafka-run-class.sh), minus the GC log file.
pub const PERF_OPTS: &[&str] = &[
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
];

/// A fully built JVM invocation: run it with [`JvmCommand::command`] (or the broker's own spawn).
#[derive(Debug)]
pub struct JvmCommand {
    pub java: PathBuf,
    pub args: Vec<OsString>,
    /// Variables set for the JVM on top of the inherited environment.
    pub env: Vec<(&'static str, &'static str)>,
    /// In-memory files (log config, metadata copy) the JVM reads as `/proc/self/fd/N`; they stay
    /// open (and inheritable) as long as this command lives.
    pub fds: Vec<OwnedFd>,
}

/// Builds a [`JvmCommand`]; see the module doc for the fixed order of the arguments.
#[derive(Debug)]
pub struct JvmBuilder<'a> {
    java: PathBuf,
    dist: &'a KafkaDist,
    main_class: String,
    heap: Vec<OsString>,
    perf: bool,
    properties: Vec<OsString>,
    log_config: Option<OsString>,
    options: Vec<OsString>,
    args: Vec<OsString>,
    env: Vec<(&'static str, &'static str)>,
    fds: Vec<OwnedFd>,
}

impl JvmCommand {
    /// Start building `java … -cp '<dist>/libs/*' <main_class>`.
    pub fn builder<'a>(java: &Path, dist: &'a KafkaDist, main_class: &str) -> JvmBuilder<'a> {
        JvmBuilder {
            java: java.to_path_buf(),
            dist,
            main_class: main_class.to_string(),
            heap: Vec::new(),
            perf: false,
            properties: Vec::new(),
            log_config: None,
            options: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            fds: Vec::new(),
        }
    }

    /// A `std::process::Command` with the arguments and environment (stdio left to the caller).
    pub fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.java);
        cmd.args(&self.args);
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    /// The command as a user could paste it into a shell (single-quoted where needed).
    pub fn display(&self) -> String {
        std::iter::once(self.java.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(shell_word)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn shell_word(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl<'a> JvmBuilder<'a> {
    /// `-Xmx<max>` (the tools' and StorageTool's heap).
    pub fn max_heap(self, max: &str) -> Self {
        self.heap_opts([format!("-Xmx{max}")])
    }

    /// `-Xms<size> -Xmx<size>` (the broker's fixed heap).
    pub fn fixed_heap(self, size: &str) -> Self {
        self.heap_opts([format!("-Xms{size}"), format!("-Xmx{size}")])
    }

    /// Heap options as given (`KAFKA_HEAP_OPTS`), replacing any set before.
    pub fn heap_opts<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, opts: I) -> Self {
        self.heap = opts.into_iter().map(Into::into).collect();
        self
    }

    /// Kafka's performance flags ([`PERF_OPTS`]).
    pub fn perf_opts(mut self) -> Self {
        self.perf = true;
        self
    }

    /// `-D<key>=<value>`, before the log config flag.
    pub fn property(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        let mut prop = OsString::from(format!("-D{key}="));
        prop.push(value);
        self.properties.push(prop);
        self
    }

    /// The log config file at `path`, with the flag of the distribution's logging backend.
    pub fn log_config(mut self, path: &Path) -> Self {
        self.log_config = Some(self.dist.version.log_config_flag(path));
        self
    }

    /// WARN-to-stderr logging ([`crate::render::stderr_log_config`]) from an in-memory file.
    pub fn stderr_log_config(self) -> anyhow::Result<Self> {
        let text = crate::render::stderr_log_config(&self.dist.version);
        let fd = memfd("kraftd-tools-log", text.as_bytes())?;
        let path = fd_path(&fd);
        Ok(self.log_config(Path::new(&path)).keep_fd(fd))
    }

    /// JVM options after the log config (`java.jvm_opts`, `KAFKA_OPTS`): they win over ours.
    pub fn jvm_opts<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, opts: I) -> Self {
        self.options.extend(opts.into_iter().map(Into::into));
        self
    }

    /// Arguments of the main class.
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `LC_ALL=C.UTF-8` when this process's locale is not UTF-8 ([`crate::java::jvm_locale_env`]):
    /// non-ASCII data dirs need a UTF-8 file-name encoding in the JVM.
    pub fn utf8_file_names(mut self) -> Self {
        self.env.extend(crate::java::jvm_locale_env());
        self
    }

    /// Keep `fd` open (and inheritable) for the JVM as long as the command lives.
    pub fn keep_fd(mut self, fd: OwnedFd) -> Self {
        self.fds.push(fd);
        self
    }

    pub fn build(self) -> JvmCommand {
        let mut args = self.heap;
        if self.perf {
            args.extend(PERF_OPTS.iter().map(OsString::from));
        }
        args.extend(self.properties);
        args.extend(self.log_config);
        args.extend(self.options);
        args.push("-cp".into());
        args.push(self.dist.classpath().into());
        args.push(self.main_class.into());
        args.extend(self.args);
        JvmCommand {
            java: self.java,
            args,
            env: self.env,
            fds: self.fds,
        }
    }
}

/// An anonymous in-memory file holding `contents`, inheritable across exec (no CLOEXEC), so the
/// JVM can open it as `/proc/self/fd/N` ([`fd_path`]) and nothing is left on disk.
pub fn memfd(name: &str, contents: &[u8]) -> anyhow::Result<OwnedFd> {
    let cname = std::ffi::CString::new(name).expect("no NUL in memfd name");
    // SAFETY: a valid C string; flags 0 (inheritable). The returned fd is owned below.
    let raw = unsafe { libc::memfd_create(cname.as_ptr(), 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error())
            .context("memfd_create for a JVM's in-memory file");
    }
    // SAFETY: `raw` is a fresh fd nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut file = std::fs::File::from(fd.try_clone().context("dup memfd")?);
    file.write_all(contents)
        .context("writing a JVM's in-memory file")?;
    Ok(fd)
}

/// The path under which a process (and the JVM it execs or spawns) reads `fd`.
pub fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KafkaVersion;
    use crate::daemon::jvm::{BrokerJvm, broker_command};
    use crate::tools::{Tool, tool_jvm};

    const PERF: [&str; 7] = [
        "-server",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-XX:+ExplicitGCInvokesConcurrent",
        "-XX:MaxInlineLevel=15",
        "-Djava.awt.headless=true",
    ];

    fn dist(version: &str) -> KafkaDist {
        KafkaDist {
            home: "/opt/kafka/current".into(),
            version: version.parse().unwrap(),
        }
    }

    /// The argv, with the path of the in-memory log config (its fd number varies) as
    /// `/proc/self/fd/LOG`; checks that file holds the stderr config of the version.
    fn argv(cmd: &JvmCommand, version: &KafkaVersion) -> Vec<String> {
        let log = cmd.fds.first().map(fd_path);
        if let Some(path) = &log {
            let text = std::fs::read_to_string(path).unwrap();
            assert_eq!(text, crate::render::stderr_log_config(version));
        }
        cmd.args
            .iter()
            .map(|a| {
                let a = a.to_str().unwrap().to_string();
                match &log {
                    Some(path) => a.replace(path.as_str(), "/proc/self/fd/LOG"),
                    None => a,
                }
            })
            .collect()
    }

    fn words(parts: &[&[&str]]) -> Vec<String> {
        parts.concat().iter().map(|s| s.to_string()).collect()
    }

    fn utf8_env() -> Vec<(&'static str, &'static str)> {
        crate::java::jvm_locale_env().into_iter().collect()
    }

    #[test]
    fn broker_command_line_per_version() {
        for (version, log_config, flag) in [
            (
                "4.1.1",
                "/var/lib/kraftd/log4j2.properties",
                "-Dlog4j2.configurationFile=/var/lib/kraftd/log4j2.properties",
            ),
            (
                "3.7.1",
                "/var/lib/kraftd/log4j.properties",
                "-Dlog4j.configuration=file:/var/lib/kraftd/log4j.properties",
            ),
        ] {
            let dist = dist(version);
            let jvm_opts = vec!["-Dextra=1".to_string(), "-XX:+AlwaysPreTouch".to_string()];
            let cmd = broker_command(
                Path::new("/usr/bin/java"),
                &dist,
                &BrokerJvm {
                    heap: "1g",
                    jvm_opts: &jvm_opts,
                    logs_dir: Path::new("/run/kafka"),
                    log_config: Path::new(log_config),
                    server_properties: Path::new("/var/lib/kraftd/server.properties"),
                },
            );
            assert_eq!(cmd.java, Path::new("/usr/bin/java"));
            assert_eq!(
                argv(&cmd, &dist.version),
                words(&[
                    &["-Xms1g", "-Xmx1g"],
                    &PERF,
                    &["-Dkafka.logs.dir=/run/kafka", flag],
                    &["-Dextra=1", "-XX:+AlwaysPreTouch"],
                    &["-cp", "/opt/kafka/current/libs/*", "kafka.Kafka"],
                    &["/var/lib/kraftd/server.properties"],
                ]),
                "Kafka {version}"
            );
            assert_eq!(cmd.env, utf8_env());
            assert!(cmd.fds.is_empty());
            assert!(
                cmd.display()
                    .starts_with("/usr/bin/java -Xms1g -Xmx1g -server ")
                    && cmd
                        .display()
                        .contains(" -cp '/opt/kafka/current/libs/*' kafka.Kafka "),
                "{}",
                cmd.display()
            );
        }
    }

    #[test]
    fn storage_format_command_line_per_version() {
        for (version, flag) in [
            ("4.1.1", "-Dlog4j2.configurationFile=/proc/self/fd/LOG"),
            ("3.7.1", "-Dlog4j.configuration=file:/proc/self/fd/LOG"),
        ] {
            let dist = dist(version);
            let cmd = crate::storage::format_command(
                Path::new("java"),
                &dist,
                "MkU3OEVBNTcwNTJENDM2Qg",
                Path::new("/var/lib/kraftd/server.properties"),
            )
            .unwrap();
            assert_eq!(
                argv(&cmd, &dist.version),
                words(&[
                    &["-Xmx256m", flag],
                    &[
                        "-cp",
                        "/opt/kafka/current/libs/*",
                        "kafka.tools.StorageTool"
                    ],
                    &["format", "--cluster-id=MkU3OEVBNTcwNTJENDM2Qg"],
                    &["--config", "/var/lib/kraftd/server.properties"],
                ]),
                "Kafka {version}"
            );
            assert_eq!(cmd.env, utf8_env());
            assert_eq!(cmd.fds.len(), 1);
        }
    }

    #[test]
    fn tool_command_line_per_version() {
        let no_env = |_: &str| None;
        let scripts_env = |k: &str| match k {
            "KAFKA_HEAP_OPTS" => Some(" -Xms1g  -Xmx1g ".to_string()),
            "KAFKA_OPTS" => Some("-Da=b -Dc=d".to_string()),
            _ => None,
        };
        for (version, flag, consumer) in [
            (
                "4.1.1",
                "-Dlog4j2.configurationFile=/proc/self/fd/LOG",
                "org.apache.kafka.tools.consumer.ConsoleConsumer",
            ),
            (
                "3.7.1",
                "-Dlog4j.configuration=file:/proc/self/fd/LOG",
                "kafka.tools.ConsoleConsumer",
            ),
        ] {
            let dist = dist(version);
            let java = Path::new("/usr/bin/java");
            let topics = tool_jvm(Tool::Topics, java, &dist, &no_env)
                .unwrap()
                .args(["--list", "--bootstrap-server", "10.0.0.1:9092"])
                .build();
            assert_eq!(
                argv(&topics, &dist.version),
                words(&[
                    &["-Xmx256M"],
                    &PERF,
                    &[flag],
                    &["-cp", "/opt/kafka/current/libs/*"],
                    &["org.apache.kafka.tools.TopicCommand"],
                    &["--list", "--bootstrap-server", "10.0.0.1:9092"],
                ]),
                "Kafka {version}"
            );
            let consumer_cmd = tool_jvm(Tool::ConsoleConsumer, java, &dist, &scripts_env)
                .unwrap()
                .args(["--topic", "t"])
                .build();
            assert_eq!(
                argv(&consumer_cmd, &dist.version),
                words(&[
                    &["-Xms1g", "-Xmx1g"],
                    &PERF,
                    &[flag, "-Da=b", "-Dc=d"],
                    &["-cp", "/opt/kafka/current/libs/*", consumer],
                    &["--topic", "t"],
                ]),
                "Kafka {version}"
            );
            // The launchers keep the operator's locale.
            assert!(topics.env.is_empty() && consumer_cmd.env.is_empty());
        }
    }

    #[test]
    fn display_quotes_for_a_shell() {
        let dist = dist("4.1.1");
        let cmd = JvmCommand::builder(Path::new("/usr/bin/java"), &dist, "Main")
            .args(["it's", "a b", "plain-arg=1"])
            .build();
        assert_eq!(
            cmd.display(),
            "/usr/bin/java -cp '/opt/kafka/current/libs/*' Main 'it'\\''s' 'a b' plain-arg=1"
        );
    }
}
