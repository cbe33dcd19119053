//! The one launcher of `kraftd run` (or any long-running kraftd) in tests: its environment, its
//! output captured line by line, its JVM found through /proc, both killed on drop; and the waits
//! for READY=1 the daemon tests share.

use crate::bins::{SERVICE_ENV, kraftd_bin};
use crate::net::broker_answers_api_versions;
use crate::process::{children_of, kafka_jvm_child, signal};
use crate::provision::TestNode;
use crate::sockets::{DatagramCollector, has_line, notify_lines};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node may take to send READY=1.
pub const START_LIMIT: Duration = Duration::from_secs(180);
/// How long a stopping kraftd may take to exit.
pub const STOP_LIMIT: Duration = Duration::from_secs(150);

/// Environment for a `kraftd run` (only the child's env: never set_var).
#[derive(Default)]
pub struct RunEnv<'a> {
    pub notify_socket: Option<&'a Path>,
    pub watchdog_usec: Option<u64>,
    pub journal_socket: Option<&'a Path>,
}

/// Where a running kraftd's output lines go besides its captured buffer.
#[derive(Clone, Debug)]
pub enum Echo {
    /// Every line to the test's stderr as `  | line`.
    Always,
    /// Only with KRAFTD_TEST_VERBOSE set, as `<prefix> | line`.
    WhenVerbose(String),
}

/// A running `kraftd` process; killed (with its JVM) on drop.
pub struct Kraftd {
    pub child: Child,
    pub output: Arc<Mutex<String>>,
    jvm_pid: Option<i32>,
}

/// Start `kraftd <args>` with the given env, its output echoed.
pub fn spawn_kraftd(args: &[&str], env: &RunEnv) -> Kraftd {
    let mut cmd = Command::new(kraftd_bin());
    cmd.args(args);
    Kraftd::spawn(cmd, env, Echo::Always, Arc::default())
}

impl Kraftd {
    /// Start `cmd` (a kraftd command line, possibly wrapped, e.g. by `ip netns exec`) with the
    /// systemd context of `env` only, appending its output to `output`.
    pub fn spawn(mut cmd: Command, env: &RunEnv, echo: Echo, output: Arc<Mutex<String>>) -> Kraftd {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in SERVICE_ENV {
            cmd.env_remove(var);
        }
        if let Some(p) = env.notify_socket {
            cmd.env("NOTIFY_SOCKET", p);
        }
        if let Some(w) = env.watchdog_usec {
            cmd.env("WATCHDOG_USEC", w.to_string());
        }
        if let Some(p) = env.journal_socket {
            cmd.env("KRAFTD_JOURNAL_SOCKET", p);
        }
        let mut child = cmd.spawn().expect("spawn kraftd");
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            let echo = echo.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    match &echo {
                        Echo::Always => eprintln!("  | {line}"),
                        Echo::WhenVerbose(prefix) => {
                            if std::env::var_os("KRAFTD_TEST_VERBOSE").is_some() {
                                eprintln!("{prefix} | {line}");
                            }
                        }
                    }
                    let mut o = output.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        Kraftd {
            child,
            output,
            jvm_pid: None,
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The broker JVM child of this kraftd (waits up to 60 s for it to appear).
    pub fn jvm_pid(&mut self) -> i32 {
        if let Some(p) = self.jvm_pid {
            return p;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(p) = kafka_jvm_child(self.pid()) {
                self.jvm_pid = Some(p);
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "kraftd started no JVM; output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn signal(&self, sig: i32) {
        signal(self.pid(), sig);
    }

    /// The exit status if kraftd has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// SIGTERM, as systemd stops the unit, and require exit 0 within [`STOP_LIMIT`].
    pub fn terminate_cleanly(&mut self) {
        self.signal(libc::SIGTERM);
        let status = self.wait(STOP_LIMIT);
        assert_eq!(
            status.code(),
            Some(0),
            "kraftd exit after SIGTERM; output:\n{}",
            self.output()
        );
    }

    /// Wait for exit, at most `limit` (a hang is a failure, not a timing assertion).
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "kraftd did not exit within {limit:?}; output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The last `n` lines of the output.
    pub fn tail(&self, n: usize) -> String {
        let o = self.output.lock().unwrap();
        let lines: Vec<&str> = o.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Kraftd {
    fn drop(&mut self) {
        let jvms = self
            .jvm_pid
            .into_iter()
            .chain(children_of(self.pid()))
            .collect::<Vec<_>>();
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in jvms {
            signal(pid, libc::SIGKILL);
        }
    }
}

/// `kraftd run --config <node's kraftd.toml>` with `env` and its own notify socket, which checks
/// READY=1 against the node's broker ([`notify_socket_checking_ready`]; wait with [`wait_ready`]).
pub fn spawn_run(node: &TestNode, env: RunEnv) -> (Kraftd, DatagramCollector) {
    assert!(
        env.notify_socket.is_none(),
        "spawn_run binds the notify socket itself"
    );
    let notify = notify_socket_checking_ready(node.broker_addr);
    let config = node.config.display().to_string();
    let env = RunEnv {
        notify_socket: Some(&notify.path),
        ..env
    };
    (spawn_kraftd(&["run", "--config", &config], &env), notify)
}

/// A notify socket whose collector probes the broker independently the instant READY=1 arrives
/// (stored as `HOOK:probe-at-ready=<bool>`).
pub fn notify_socket_checking_ready(broker: SocketAddr) -> DatagramCollector {
    DatagramCollector::bind_with_hook(
        "notify",
        Some(Box::new(move |d: &[u8]| {
            notify_lines(d)
                .iter()
                .any(|l| l == "READY=1")
                .then(|| format!("probe-at-ready={}", broker_answers_api_versions(broker)))
        })),
    )
}

/// Wait for READY=1 on a [`notify_socket_checking_ready`] socket and require that the broker
/// answered an independent ApiVersions probe at that instant.
pub fn wait_ready(k: &Kraftd, notify: &DatagramCollector) {
    let ok = notify.wait_ready(START_LIMIT);
    assert!(
        ok,
        "no READY=1 within {START_LIMIT:?}; notify: {:?}\noutput:\n{}",
        notify.notify_lines(),
        k.output()
    );
    let lines = notify.notify_lines();
    assert!(
        has_line(&lines, "HOOK:probe-at-ready=true"),
        "READY=1 arrived while an independent ApiVersions probe failed: {lines:?}"
    );
}

/// Start `kraftd run` and wait until the broker answers ApiVersions (up to 180 s).
pub fn start_serving(config: &Path, broker: SocketAddr) -> Kraftd {
    let config = config.display().to_string();
    let k = spawn_kraftd(&["run", "--config", &config], &RunEnv::default());
    let deadline = Instant::now() + START_LIMIT;
    while !broker_answers_api_versions(broker) {
        assert!(
            Instant::now() < deadline,
            "the broker never served on {broker}; output:\n{}",
            k.output()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    k
}
