//! The broker's JVM: what its command line adds to the shared builder (`crate::jvm`: fixed heap,
//! Kafka's flags, `kafka.logs.dir`, the rendered log config, `java.jvm_opts`; no shell, no GC log, no
//! JMX) and spawning it so it can never outlive kraftd.

use super::preflight::PreparedNode;
use crate::KafkaDist;
use std::path::Path;
use std::process::Stdio;

pub use crate::jvm::JvmCommand;

/// Environment variables that belong to kraftd and must not leak into the JVM (systemd's notify and
/// watchdog contract is with kraftd, the unit's main process).
const ENV_NOT_FOR_JVM: &[&str] = &[
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "LISTEN_FDS",
    "LISTEN_PID",
];

/// What the broker's command line is made of, besides the Java and the distribution.
#[derive(Debug, Clone, Copy)]
pub struct BrokerJvm<'a> {
    /// `java.heap`: both -Xms and -Xmx.
    pub heap: &'a str,
    /// `java.jvm_opts`, after ours.
    pub jvm_opts: &'a [String],
    /// The run dir, as `kafka.logs.dir`.
    pub logs_dir: &'a Path,
    pub log_config: &'a Path,
    pub server_properties: &'a Path,
}

/// `java -Xms<heap> -Xmx<heap> <perf> -Dkafka.logs.dir=<run dir> <log config> <jvm_opts> -cp
/// '<dist>/libs/*' kafka.Kafka <server.properties>`, with a UTF-8 locale for file names.
pub fn broker_command(java: &Path, dist: &KafkaDist, broker: &BrokerJvm) -> JvmCommand {
    JvmCommand::builder(java, dist, "kafka.Kafka")
        .fixed_heap(broker.heap)
        .perf_opts()
        // Kafka's stock log4j configs refer to ${kafka.logs.dir}; ours log to stdout only, but keep
        // the property pointing at a writable place in case a user config uses it.
        .property("kafka.logs.dir", broker.logs_dir)
        .log_config(broker.log_config)
        .jvm_opts(broker.jvm_opts)
        .args([broker.server_properties])
        .utf8_file_names()
        .build()
}

impl JvmCommand {
    /// The broker command for a node that passed preflight.
    pub fn for_node(node: &PreparedNode) -> JvmCommand {
        let settings = &node.settings;
        broker_command(
            &node.java,
            &node.dist,
            &BrokerJvm {
                heap: &settings.heap,
                jvm_opts: &settings.jvm_opts,
                logs_dir: &settings.layout.run_dir,
                log_config: &node.log_config,
                server_properties: &node.server_properties,
            },
        )
    }

    /// Spawn the JVM with stdout/stderr piped, in its own process group (a terminal's Ctrl-C reaches
    /// only kraftd, which forwards a single SIGTERM), with SIGTERM as its parent-death signal.
    ///
    /// PR_SET_PDEATHSIG fires when the *thread* that forked exits, so call this from a thread that
    /// lives as long as kraftd (the main thread of the current-thread runtime `kraftd run` uses).
    pub fn spawn(&self) -> std::io::Result<tokio::process::Child> {
        let mut cmd = tokio::process::Command::from(self.command());
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        for var in ENV_NOT_FOR_JVM {
            cmd.env_remove(var);
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
}
