//! The `kraftd run` loop: preflight, pid file, JVM spawn, log pumps, readiness/watchdog probing,
//! sd_notify, signal forwarding and the exit status systemd acts on.
//!
//! One current-thread tokio runtime: the JVM is forked from the main thread, which lives as long as
//! kraftd, so the JVM's parent-death signal fires exactly when kraftd dies.

use super::DaemonError;
use super::jvm::JvmCommand;
use super::logs::{self, LogSink, PhaseEvent};
use super::notify;
use super::preflight::{self, PreparedNode};
use super::probe::{ProbeOutcome, QuorumProbe, ReadinessProbe};
use super::stop::running_kraftd_for;
use crate::config::Role;
use crate::fsutil::write_atomic;
use anyhow::{Context, anyhow};
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

/// Logged for each SIGHUP (kraftd and its JVM ignore it).
pub const SIGHUP_IGNORED: &str =
    "SIGHUP ignored: to apply kraftd.toml changes run systemctl restart kafka";
/// How often the probe runs until the broker is ready (a refused connect costs next to nothing).
pub const STARTUP_PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// Each EXTEND_TIMEOUT_USEC asks for this much more time; sent only while progress lines arrive.
pub const PROGRESS_EXTENSION: Duration = Duration::from_secs(90);
/// At most one EXTEND_TIMEOUT_USEC per this interval.
const EXTEND_EVERY: Duration = Duration::from_secs(10);
/// After the JVM exits, how long to wait for its last output lines to be logged.
const DRAIN_OUTPUT: Duration = Duration::from_secs(5);

/// Run the daemon for the config at `config` until the JVM exits; Ok means a requested, clean stop.
pub fn run(config: &Path, sink: Arc<LogSink>) -> Result<(), DaemonError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DaemonError::Failure(anyhow!("cannot start the tokio runtime: {e}")))?;
    let result = runtime.block_on(run_node(config, sink));
    // A probe abandoned on the blocking pool ends within its own timeouts: do not wait for it.
    runtime.shutdown_background();
    result
}

async fn run_node(config: &Path, sink: Arc<LogSink>) -> Result<(), DaemonError> {
    // Handlers first: a SIGTERM from here on is a stop request, never a default-action death that
    // would leave the pid file behind.
    let signals = StopSignals::install()?;
    let node = preflight_run(config).inspect_err(|e| {
        // `systemctl status kafka` shows STATUS=: the reason this start failed, in one line.
        notify::status(&one_line(&e.to_string()));
    })?;
    let _pid_file =
        PidFile::create(&node.settings.layout.pid_file()).map_err(DaemonError::Failure)?;
    Supervisor::start(node, sink)?
        .supervise(signals)
        .await
        .inspect_err(|e| notify::status(&one_line(&e.to_string())))
}

/// The checks before anything is spawned: config, another kraftd on this node, files, Java,
/// storage, ports.
fn preflight_run(config: &Path) -> Result<PreparedNode, DaemonError> {
    let settings = preflight::load_settings(config)?;
    if let Some(pid) = running_kraftd_for(config, &settings.layout.pid_file()) {
        return Err(DaemonError::AlreadyRunning(anyhow!(
            "this node ({}) is already running under kraftd pid {pid}: nothing to start; stop it first \
             (`systemctl stop kafka`, or `kraftd stop --config {}` for a foreground run)",
            config.display(),
            config.display()
        )));
    }
    let node = preflight::check_node(config, &settings)?;
    preflight::check_ports_free(&settings)?;
    // One source of truth: server.properties and the log config follow kraftd.toml on every start
    // (unchanged bytes leave the files untouched; a hand-edited file was refused by check_node).
    for path in crate::render::write_rendered(&settings.layout, &node.rendered)
        .map_err(DaemonError::Config)?
    {
        log::info!("rendered {} from {}", path.display(), config.display());
    }
    Ok(node)
}

/// The first line of a message (config errors add a source snippet below it), for STATUS= and
/// the single error line of the journal.
pub fn one_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim_end().to_string()
}

/// SIGTERM and SIGINT mean "stop". SIGHUP is ignored (logged): it is not a reload, and a HUP must
/// not end the service with status 0, which systemd would not restart.
struct StopSignals {
    sigterm: tokio::signal::unix::Signal,
    sigint: tokio::signal::unix::Signal,
    sighup: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<StopSignals, DaemonError> {
        let sig = |kind| {
            signal(kind)
                .map_err(|e| DaemonError::Failure(anyhow!("cannot install a signal handler: {e}")))
        };
        Ok(StopSignals {
            sigterm: sig(SignalKind::terminate())?,
            sigint: sig(SignalKind::interrupt())?,
            sighup: sig(SignalKind::hangup())?,
        })
    }
}

/// Messages from the probe task to the supervisor loop.
#[derive(Debug)]
enum ProbeEvent {
    /// Startup probe that did not (yet) see the broker ready.
    NotYet(ProbeOutcome),
    /// The first successful probe.
    Ready(ProbeOutcome),
    /// A periodic (watchdog) probe after READY.
    Health(ProbeOutcome),
}

struct Supervisor {
    node: PreparedNode,
    child: tokio::process::Child,
    jvm_pid: i32,
    broker_addr: SocketAddr,
    pumps: Vec<tokio::task::JoinHandle<()>>,
    phases: mpsc::UnboundedReceiver<PhaseEvent>,
    probes: mpsc::Receiver<ProbeEvent>,
    shutdown: watch::Sender<bool>,
    ready: bool,
    stopping: bool,
    healthy: bool,
    last_not_ready: Option<String>,
    /// The last STATUS= sent for a startup phase (Kafka repeats some milestone lines).
    last_phase: Option<String>,
    last_extend: Option<Instant>,
    watchdog: Option<Duration>,
    /// The JVM logged "No space left on device" (reported once, at error priority and in STATUS=).
    disk_full: bool,
}

impl Supervisor {
    fn start(node: PreparedNode, sink: Arc<LogSink>) -> Result<Supervisor, DaemonError> {
        let settings = &node.settings;
        let command = JvmCommand::for_node(&node);
        let version = node.dist.version;
        notify::status(&format!("starting JVM (Kafka {version})"));
        log::info!("starting Kafka {version}: {}", command.display());
        let mut child = command.spawn().map_err(|e| {
            DaemonError::Unavailable(anyhow!("cannot run {}: {e}", command.java.display()))
        })?;
        let jvm_pid = child.id().map(|p| p as i32).unwrap_or(0);
        log::info!("Kafka JVM started with pid {jvm_pid}");

        let (phase_tx, phases) = mpsc::unbounded_channel();
        let mut pumps = Vec::new();
        if let Some(out) = child.stdout.take() {
            pumps.push(tokio::spawn(logs::pump_jvm_output(
                out,
                logs::priority::INFO,
                sink.clone(),
                phase_tx.clone(),
            )));
        }
        if let Some(err) = child.stderr.take() {
            pumps.push(tokio::spawn(logs::pump_jvm_output(
                err,
                logs::priority::WARNING,
                sink,
                phase_tx,
            )));
        }

        let (broker_addr, probe) = NodeProbe::for_settings(settings);
        let watchdog = notify::watchdog_interval();
        let (probe_tx, probes) = mpsc::channel(8);
        let (shutdown, shutdown_rx) = watch::channel(false);
        tokio::spawn(probe_loop(
            probe,
            watchdog.map(|w| w / 3),
            probe_tx,
            shutdown_rx,
        ));

        Ok(Supervisor {
            node,
            child,
            jvm_pid,
            broker_addr,
            pumps,
            phases,
            probes,
            shutdown,
            ready: false,
            stopping: false,
            healthy: true,
            last_not_ready: None,
            last_phase: None,
            last_extend: None,
            watchdog,
            disk_full: false,
        })
    }

    async fn supervise(mut self, signals: StopSignals) -> Result<(), DaemonError> {
        let StopSignals {
            mut sigterm,
            mut sigint,
            mut sighup,
        } = signals;
        // While stopping, systemd's watchdog may still be armed: keep it fed while the JVM shuts
        // down (TimeoutStopSec bounds the stop, not the watchdog).
        let mut stop_ping = tokio::time::interval(
            self.watchdog
                .map(|w| w / 3)
                .unwrap_or(Duration::from_secs(3600)),
        );
        // Ticks missed before stopping began are not owed: no burst of pings when the stop starts.
        stop_ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let status = loop {
            tokio::select! {
                status = self.child.wait() => break status,
                _ = sigterm.recv() => self.on_signal("SIGTERM"),
                _ = sigint.recv() => self.on_signal("SIGINT"),
                _ = sighup.recv() => log::warn!("{SIGHUP_IGNORED}"),
                Some(event) = self.phases.recv() => self.on_phase(event),
                Some(event) = self.probes.recv() => self.on_probe(event),
                _ = stop_ping.tick(), if self.stopping && self.watchdog.is_some() => notify::watchdog(),
            }
        };
        let _ = self.shutdown.send(true);
        // Let the pumps log the JVM's last words (the reason it died) before we decide and exit.
        let drain = join_all(std::mem::take(&mut self.pumps));
        if tokio::time::timeout(DRAIN_OUTPUT, drain).await.is_err() {
            log::warn!("the JVM's output did not end within {DRAIN_OUTPUT:?} after it exited");
        }
        self.outcome(
            status.map_err(|e| DaemonError::Failure(anyhow!("cannot wait for the JVM: {e}")))?,
        )
    }

    fn on_signal(&mut self, name: &str) {
        if self.stopping {
            log::info!(
                "{name} received again: already stopping Kafka (pid {}), still waiting",
                self.jvm_pid
            );
            return;
        }
        self.stopping = true;
        let _ = self.shutdown.send(true);
        notify::stopping("stopping");
        log::info!(
            "{name} received: stopping Kafka (SIGTERM to JVM pid {})",
            self.jvm_pid
        );
        if self.jvm_pid > 0 {
            if let Err(e) = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.jvm_pid),
                nix::sys::signal::Signal::SIGTERM,
            ) {
                log::warn!("cannot send SIGTERM to the JVM (pid {}): {e}", self.jvm_pid);
            }
        }
    }

    fn on_phase(&mut self, event: PhaseEvent) {
        if event.disk_full && !self.disk_full {
            self.disk_full = true;
            let report = super::disk::describe_full(&self.node.settings.layout.data_dir, true);
            log::error!("{report}");
            notify::status(&report);
        }
        if self.ready || self.stopping {
            return;
        }
        if let Some(status) = event.status {
            if self.last_phase.as_ref() != Some(&status) {
                notify::status(&status);
                self.last_phase = Some(status);
            }
        }
        if event.progress && self.last_extend.is_none_or(|t| t.elapsed() >= EXTEND_EVERY) {
            self.last_extend = Some(Instant::now());
            notify::extend_timeout(PROGRESS_EXTENSION);
        }
    }

    fn on_probe(&mut self, event: ProbeEvent) {
        if self.stopping {
            return;
        }
        match event {
            ProbeEvent::NotYet(outcome) => {
                // Say once per kind of answer what we are waiting for, not every 50 ms.
                let kind = std::mem::discriminant(&outcome);
                let key = format!("{kind:?}");
                if self.last_not_ready.as_deref() != Some(&key) {
                    self.last_not_ready = Some(key);
                    log::debug!("readiness probe {}: {outcome}", self.broker_addr);
                    if let ProbeOutcome::NotRegistered { .. } = outcome {
                        notify::status("broker answers, waiting for this node to be listed");
                    }
                }
                // The first nodes of a new cluster wait here until a majority of voters runs: say
                // how many answer (and why not), each time that changes.
                if let ProbeOutcome::QuorumWaiting {
                    reachable,
                    voters,
                    detail,
                } = &outcome
                {
                    let status = format!(
                        "waiting for quorum {reachable}/{voters}: no leader lists this node yet"
                    );
                    if self.last_phase.as_ref() != Some(&status) {
                        log::info!("{status} ({detail})");
                        notify::status(&status);
                        self.last_phase = Some(status);
                    }
                }
            }
            ProbeEvent::Ready(outcome) => {
                self.ready = true;
                let status = serving_status(self.broker_addr, &outcome);
                notify::ready(&status);
                if self.watchdog.is_some() {
                    notify::watchdog();
                }
                log::info!(
                    "Kafka {} node {} is ready: {status} ({outcome})",
                    self.node.dist.version,
                    self.node.settings.node_id.0
                );
            }
            ProbeEvent::Health(outcome) => {
                if outcome.is_ready() {
                    notify::watchdog();
                    if !self.healthy {
                        self.healthy = true;
                        log::info!("broker answers the probe again: {outcome}");
                        notify::status(&serving_status(self.broker_addr, &outcome));
                    } else if let ProbeOutcome::QuorumReady(_) = outcome {
                        // Leader and lag move: keep STATUS current.
                        notify::status(&serving_status(self.broker_addr, &outcome));
                    }
                } else if self.healthy {
                    self.healthy = false;
                    log::warn!(
                        "broker failed the watchdog probe, not pinging the watchdog: {outcome}"
                    );
                    notify::status(&format!("not answering on {}: {outcome}", self.broker_addr));
                }
            }
        }
    }

    fn outcome(&self, status: ExitStatus) -> Result<(), DaemonError> {
        let clean = status.code() == Some(0)
            || status.code() == Some(143)
            || status.signal() == Some(libc::SIGTERM);
        if self.stopping && clean {
            log::info!("Kafka stopped ({})", describe(status));
            return Ok(());
        }
        if self.stopping {
            return Err(DaemonError::Failure(anyhow!(
                "Kafka JVM (pid {}) {} while stopping: see its log lines above",
                self.jvm_pid,
                describe(status)
            )));
        }
        let data_dir = &self.node.settings.layout.data_dir;
        let full_now = super::disk::space_of(data_dir).is_ok_and(super::disk::is_full);
        if self.disk_full || full_now {
            return Err(DaemonError::DiskFull(anyhow!(
                "Kafka JVM (pid {}) {}: {}",
                self.jvm_pid,
                describe(status),
                super::disk::describe_full(data_dir, true)
            )));
        }
        Err(DaemonError::Failure(anyhow!(
            "Kafka JVM (pid {}) {} without being asked to stop{}: see its log lines above",
            self.jvm_pid,
            describe(status),
            if self.ready {
                ""
            } else {
                " before it became ready"
            }
        )))
    }
}

/// STATUS= once ready: where the node serves, and for a controller the leader and voter lag.
fn serving_status(addr: SocketAddr, outcome: &ProbeOutcome) -> String {
    match outcome {
        ProbeOutcome::QuorumReady(view) => format!("controller on {addr}: {view}"),
        _ => format!("serving on {addr}"),
    }
}

/// The readiness probe for this node's role: brokers (and combined nodes) are probed on their
/// client listener; a controller-only node through the quorum (DescribeQuorum to the voters).
#[derive(Debug, Clone)]
enum NodeProbe {
    Broker {
        broker: ReadinessProbe,
        /// A cluster node's view of the quorum, asked (at most once per `QUORUM_PROBE_INTERVAL`)
        /// while the client listener is closed, to explain in STATUS what it waits for.
        quorum: Option<QuorumProbe>,
        last_quorum: Option<Instant>,
    },
    Quorum(QuorumProbe),
}

/// DescribeQuorum costs a connection per voter: ask about once a second while waiting.
const QUORUM_PROBE_INTERVAL: Duration = Duration::from_secs(1);

impl NodeProbe {
    /// The probe and the address it reports as this node's.
    fn for_settings(settings: &crate::Settings) -> (SocketAddr, NodeProbe) {
        let id = settings.node_id.0 as i32;
        let voters = || -> Vec<(i32, SocketAddr)> {
            settings
                .effective_voters()
                .iter()
                .filter_map(|v| {
                    use std::net::ToSocketAddrs;
                    let host = v.host.trim_start_matches('[').trim_end_matches(']');
                    match (host, v.port).to_socket_addrs().map(|mut a| a.next()) {
                        Ok(Some(addr)) => Some((v.id.0 as i32, addr)),
                        _ => {
                            log::warn!("cannot resolve voter {v}; the quorum probe skips it");
                            None
                        }
                    }
                })
                .collect()
        };
        // The broker listener, or a controller-only node's controller listener, as bound.
        let addr = settings.listeners().primary().bind;
        if settings.role == Role::Controller {
            return (
                addr,
                NodeProbe::Quorum(QuorumProbe::new(id, voters(), true)),
            );
        }
        let quorum = settings
            .is_cluster()
            .then(|| QuorumProbe::new(id, voters(), false));
        (
            addr,
            NodeProbe::Broker {
                broker: ReadinessProbe::new(addr, id),
                quorum,
                last_quorum: None,
            },
        )
    }

    async fn probe(&mut self) -> ProbeOutcome {
        match self {
            NodeProbe::Quorum(q) => q.probe().await,
            NodeProbe::Broker {
                broker,
                quorum,
                last_quorum,
            } => {
                let outcome = broker.probe().await;
                if let (ProbeOutcome::Unreachable { .. }, Some(q)) = (&outcome, quorum.as_ref()) {
                    if last_quorum.is_none_or(|t| t.elapsed() >= QUORUM_PROBE_INTERVAL) {
                        *last_quorum = Some(Instant::now());
                        if let waiting @ ProbeOutcome::QuorumWaiting { .. } = q.probe().await {
                            return waiting;
                        }
                    }
                }
                outcome
            }
        }
    }

    /// Pause between startup probes.
    fn startup_interval(&self) -> Duration {
        match self {
            NodeProbe::Quorum(_) => QUORUM_PROBE_INTERVAL / 2,
            NodeProbe::Broker { .. } => STARTUP_PROBE_INTERVAL,
        }
    }

    /// Bound each network wait (a probe slower than the watchdog period counts as failed).
    fn limit_timeouts(&mut self, period: Duration) {
        let (connect, io) = match self {
            NodeProbe::Quorum(q) => (&mut q.connect_timeout, &mut q.io_timeout),
            NodeProbe::Broker { broker, .. } => {
                (&mut broker.connect_timeout, &mut broker.io_timeout)
            }
        };
        *connect = (*connect).min(period);
        *io = (*io).min(period);
    }
}

fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!(
            "was killed by signal {}",
            nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str().to_string())
                .unwrap_or(sig.to_string())
        ),
        _ => format!("ended ({status})"),
    }
}

async fn join_all(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}

/// Startup probing every `STARTUP_PROBE_INTERVAL` until ready; then, with a watchdog, one probe per
/// `watchdog_period`. Ends when `shutdown` turns true or the supervisor is gone.
async fn probe_loop(
    mut probe: NodeProbe,
    watchdog_period: Option<Duration>,
    events: mpsc::Sender<ProbeEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let outcome = tokio::select! {
            o = probe.probe() => o,
            _ = shutdown.changed() => return,
        };
        if outcome.is_ready() {
            if events.send(ProbeEvent::Ready(outcome)).await.is_err() {
                return;
            }
            break;
        }
        if events.send(ProbeEvent::NotYet(outcome)).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(probe.startup_interval()) => {}
            _ = shutdown.changed() => return,
        }
    }
    let Some(period) = watchdog_period else {
        return;
    };
    // A probe that takes longer than the ping period is as good as failed.
    probe.limit_timeouts(period);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => return,
        }
        let outcome = tokio::select! {
            o = probe.probe() => o,
            _ = shutdown.changed() => return,
        };
        if events.send(ProbeEvent::Health(outcome)).await.is_err() {
            return;
        }
    }
}

/// `<run dir>/kraftd.pid`: written atomically at start, removed at exit (if still ours).
struct PidFile {
    path: PathBuf,
    pid: u32,
}

impl PidFile {
    fn create(path: &Path) -> anyhow::Result<PidFile> {
        let dir = path.parent().unwrap_or(Path::new("."));
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("cannot create the run directory {} (systemd's RuntimeDirectory=kafka normally does)", dir.display())
            })?;
        }
        // A live kraftd of this node was refused before (`preflight_run`); a pid left here by a
        // crashed run, or reused by another process, is overwritten.
        let pid = std::process::id();
        write_atomic(path, format!("{pid}\n").as_bytes(), 0o644)
            .with_context(|| format!("cannot write the pid file {}", path.display()))?;
        Ok(PidFile {
            path: path.to_path_buf(),
            pid,
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path)
            .map(|t| t.trim() == self.pid.to_string())
            .unwrap_or(false);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
