//! Test support for the daemon tests: provisioning a `--prefix` node from the real Kafka fixture,
//! a notify socket and a journal socket to capture datagrams, and guarded `kraftd run` processes.
#![allow(dead_code)]

use base64::Engine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// JVM tests are heavy on a 2-core box: run them one at a time.
static JVM_LOCK: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    JVM_LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// `$KRAFTD_CACHE` (default `~/.cache/kraftd`).
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("KRAFTD_CACHE") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/kraftd"),
    }
}

/// The unpacked fixture distribution; fails the test with the fix when it is missing.
pub fn dist_home(version: &str) -> PathBuf {
    let home = cache_dir().join(format!("dist/kafka_2.13-{version}"));
    assert!(
        home.join(format!("libs/kafka_2.13-{version}.jar"))
            .is_file(),
        "the Kafka {version} test distribution is missing at {}: run `scripts/kafka-dist.sh {version}` first",
        home.display()
    );
    home
}

/// A free TCP port on 127.0.0.1 (bound once and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A random, canonical Kafka cluster id (16 random bytes, unpadded base64url, no leading '-').
pub fn random_cluster_id() -> String {
    loop {
        let bytes: [u8; 16] = rand::random();
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if !id.starts_with('-') {
            return id;
        }
    }
}

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
/// node.toml, server.properties and the stdout-only log config in var/lib/kraftd, opt/kafka/current → the fixture distribution, storage
/// formatted with Kafka's own StorageTool (through kraftd's render/storage library, as kraft-install
/// does). The ONE place to swap in the installer later.
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

/// A bound unix datagram socket with a thread that stores every datagram as it arrives (so a
/// sender is never blocked by a full queue), optionally running a hook right at receipt.
pub struct DatagramCollector {
    pub path: PathBuf,
    items: Arc<Mutex<Vec<Vec<u8>>>>,
    _dir: tempfile::TempDir,
}

/// Runs on the collector thread the moment a datagram arrives; its result is stored with it.
pub type Hook = Box<dyn Fn(&[u8]) -> Option<String> + Send>;

impl DatagramCollector {
    pub fn bind(name: &str) -> DatagramCollector {
        DatagramCollector::bind_with_hook(name, None)
    }

    /// `hook` may return a note that is stored as an extra datagram `HOOK:<note>` right after.
    pub fn bind_with_hook(name: &str, hook: Option<Hook>) -> DatagramCollector {
        let dir = tempfile::Builder::new()
            .prefix("kraftd-sock-")
            .tempdir()
            .unwrap();
        let path = dir.path().join(name);
        let socket = UnixDatagram::bind(&path).unwrap();
        let items = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::downgrade(&items);
        std::thread::spawn(move || {
            socket
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let Some(items) = sink.upgrade() else { return };
                match socket.recv(&mut buf) {
                    Ok(n) => {
                        let data = buf[..n].to_vec();
                        let note = hook.as_ref().and_then(|h| h(&data));
                        let mut items = items.lock().unwrap();
                        items.push(data);
                        if let Some(note) = note {
                            items.push(format!("HOOK:{note}").into_bytes());
                        }
                    }
                    Err(_) => continue,
                }
            }
        });
        DatagramCollector {
            path,
            items,
            _dir: dir,
        }
    }

    pub fn snapshot(&self) -> Vec<Vec<u8>> {
        self.items.lock().unwrap().clone()
    }

    /// Poll until `pred` holds for what arrived so far; false after `limit`.
    pub fn wait_until(&self, limit: Duration, pred: impl Fn(&[Vec<u8>]) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            // Evaluate on a copy: `pred` may look at the collector again (no lock held).
            if pred(&self.snapshot()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// All sd_notify lines so far, in order.
    pub fn notify_lines(&self) -> Vec<String> {
        self.snapshot()
            .iter()
            .flat_map(|d| notify_lines(d))
            .collect()
    }
}

/// One sd_notify datagram split into its `KEY=value` lines.
pub fn notify_lines(datagram: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(datagram)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Parse a journald native-protocol datagram into (key, value) pairs.
pub fn journal_fields(mut data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut fields = Vec::new();
    while !data.is_empty() {
        let nl = data
            .iter()
            .position(|&b| b == b'\n')
            .expect("field ends with newline");
        let line = &data[..nl];
        if let Some(eq) = line.iter().position(|&b| b == b'=') {
            fields.push((
                String::from_utf8_lossy(&line[..eq]).into_owned(),
                line[eq + 1..].to_vec(),
            ));
            data = &data[nl + 1..];
        } else {
            let key = String::from_utf8_lossy(line).into_owned();
            let rest = &data[nl + 1..];
            let len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
            fields.push((key, rest[8..8 + len].to_vec()));
            assert_eq!(rest[8 + len], b'\n', "binary field ends with newline");
            data = &rest[8 + len + 1..];
        }
    }
    fields
}

pub fn field(fields: &[(String, Vec<u8>)], key: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// A running `kraftd` process; killed (with its JVM) on drop.
pub struct Kraftd {
    pub child: Child,
    pub output: Arc<Mutex<String>>,
    jvm_pid: Option<i32>,
}

/// Environment for a `kraftd run`.
#[derive(Default)]
pub struct RunEnv<'a> {
    pub notify_socket: Option<&'a Path>,
    pub watchdog_usec: Option<u64>,
    pub journal_socket: Option<&'a Path>,
}

pub fn kraftd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kraftd")
}

/// Run `kraftd <args>` to completion outside any systemd/journal context (the test runner's
/// NOTIFY_SOCKET, WATCHDOG_USEC, KRAFTD_JOURNAL_SOCKET and JOURNAL_STREAM removed).
pub fn kraftd_output(args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(kraftd_bin());
    cmd.args(args);
    for var in [
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "KRAFTD_JOURNAL_SOCKET",
        "JOURNAL_STREAM",
    ] {
        cmd.env_remove(var);
    }
    cmd.output().unwrap()
}

/// Start `kraftd <args>` with the given env (never set_var: only the child's env).
pub fn spawn_kraftd(args: &[&str], env: &RunEnv) -> Kraftd {
    let mut cmd = Command::new(kraftd_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "NOTIFY_SOCKET",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
        "KRAFTD_JOURNAL_SOCKET",
        "JOURNAL_STREAM",
    ] {
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
    let output = Arc::new(Mutex::new(String::new()));
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
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                eprintln!("  | {line}");
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

impl Kraftd {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The JVM child of this kraftd (waits for it to appear).
    pub fn jvm_pid(&mut self) -> i32 {
        if let Some(p) = self.jvm_pid {
            return p;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // Only the broker JVM: kraftd also runs `java -version` while checking Java.
            let jvm = children_of(self.pid()).into_iter().find(|&p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .map(|c| c.split(|&b| b == 0).any(|a| a == b"kafka.Kafka"))
                    .unwrap_or(false)
            });
            if let Some(p) = jvm {
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
        unsafe { libc::kill(self.pid(), sig) };
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
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Pids whose parent is `ppid` (from /proc).
pub fn children_of(ppid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            if let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) {
                if after.split(' ').nth(1).and_then(|p| p.parse::<i32>().ok()) == Some(ppid) {
                    out.push(pid);
                }
            }
        }
    }
    out
}

/// True while `pid` exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .map(|i| !stat[i + 2..].starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Guard that SIGKILLs a pid on drop (for JVMs a test observes directly).
pub struct KillOnDrop(pub i32);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if process_alive(self.0) {
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

/// An independent check that the broker answers the Kafka protocol: a hand-written ApiVersions v0
/// request and its correlation id echoed back. Does not use kraftd's probe code.
pub fn broker_answers_api_versions(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    // size, api_key=18, api_version=0, correlation_id=0x4b524654, client_id=null
    let mut req = Vec::new();
    req.extend_from_slice(&10i32.to_be_bytes());
    req.extend_from_slice(&18i16.to_be_bytes());
    req.extend_from_slice(&0i16.to_be_bytes());
    req.extend_from_slice(&0x4b524654i32.to_be_bytes());
    req.extend_from_slice(&(-1i16).to_be_bytes());
    if stream.write_all(&req).is_err() {
        return false;
    }
    let mut head = [0u8; 10];
    if stream.read_exact(&mut head).is_err() {
        return false;
    }
    let correlation = i32::from_be_bytes(head[4..8].try_into().unwrap());
    let error_code = i16::from_be_bytes(head[8..10].try_into().unwrap());
    correlation == 0x4b524654 && error_code == 0
}
