//! The Kafka JVM command line (heap, GC, log config, classpath — no shell, no GC log, no JMX) and
//! spawning it so it can never outlive kraftd.

use super::preflight::PreparedNode;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;

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

/// Environment variables that belong to kraftd and must not leak into the JVM (systemd's notify and
/// watchdog contract is with kraftd, the unit's main process).
const ENV_NOT_FOR_JVM: &[&str] = &[
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "LISTEN_FDS",
    "LISTEN_PID",
];

/// A fully built JVM invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JvmCommand {
    pub java: PathBuf,
    pub args: Vec<OsString>,
}

impl JvmCommand {
    /// `java -Xms<heap> -Xmx<heap> <perf> -Dkafka.logs.dir=<run dir> <log config> <jvm_opts> -cp
    /// '<dist>/libs/*' kafka.Kafka <server.properties>`.
    pub fn for_node(node: &PreparedNode) -> JvmCommand {
        let settings = &node.settings;
        let mut args: Vec<OsString> = vec![
            format!("-Xms{}", settings.heap).into(),
            format!("-Xmx{}", settings.heap).into(),
        ];
        args.extend(PERF_OPTS.iter().map(OsString::from));
        // Kafka's stock log4j configs refer to ${kafka.logs.dir}; ours log to stdout only, but keep
        // the property pointing at a writable place in case a user config uses it.
        let mut logs_dir = OsString::from("-Dkafka.logs.dir=");
        logs_dir.push(&settings.layout.run_dir);
        args.push(logs_dir);
        let mut log_config = OsString::from(if node.dist.version.major >= 4 {
            "-Dlog4j2.configurationFile="
        } else {
            "-Dlog4j.configuration=file:"
        });
        log_config.push(&node.log_config);
        args.push(log_config);
        args.extend(settings.jvm_opts.iter().map(OsString::from));
        args.push("-cp".into());
        args.push(node.dist.classpath().into());
        args.push("kafka.Kafka".into());
        args.push(node.server_properties.clone().into());
        JvmCommand {
            java: node.java.clone(),
            args,
        }
    }

    /// Spawn the JVM with stdout/stderr piped, in its own process group (a terminal's Ctrl-C reaches
    /// only kraftd, which forwards a single SIGTERM), with SIGTERM as its parent-death signal.
    ///
    /// PR_SET_PDEATHSIG fires when the *thread* that forked exits, so call this from a thread that
    /// lives as long as kraftd (the main thread of the current-thread runtime `kraftd run` uses).
    pub fn spawn(&self) -> std::io::Result<tokio::process::Child> {
        let mut cmd = tokio::process::Command::new(&self.java);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for var in ENV_NOT_FOR_JVM {
            cmd.env_remove(var);
        }
        // Non-ASCII data dirs need a UTF-8 file-name encoding in the JVM.
        if let Some((key, value)) = crate::java::jvm_locale_env() {
            cmd.env(key, value);
        }
        // If kraftd is gone the JVM must stop too. tokio's kill-on-drop cannot help a SIGKILLed
        // kraftd; the kernel's parent-death signal can (SIGTERM: Kafka still shuts down cleanly).
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls (signal, prctl, getppid) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // SIGHUP is not a stop (kraftd ignores it, see the supervisor): a HUP sent to the
                // whole unit (`systemctl kill -s HUP kafka`) must not stop the JVM either. An
                // ignored signal stays ignored across exec, and the JVM then installs no handler.
                libc::signal(libc::SIGHUP, libc::SIG_IGN);
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGTERM as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                // kraftd may have died between fork and prctl: then nobody would signal us.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other(
                        "kraftd exited while starting the JVM",
                    ));
                }
                Ok(())
            });
        }
        cmd.spawn()
    }

    /// The command as one shell-like line, for the log.
    pub fn display(&self) -> String {
        let mut s = self.java.display().to_string();
        for a in &self.args {
            s.push(' ');
            let a = a.to_string_lossy();
            if a.contains(['*', ' ']) {
                s.push_str(&format!("'{a}'"));
            } else {
                s.push_str(&a);
            }
        }
        s
    }
}
