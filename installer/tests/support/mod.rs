//! Test support for kraft-install: the Maven-assembled Kafka fixtures, a local HTTP server, running
//! the real binary, tree snapshots, and a real broker started with the bare JVM command.
#![allow(dead_code)]

use sha2::{Digest, Sha512};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const V4: &str = "4.1.1";
pub const V3: &str = "3.7.1";

pub fn cache_dir() -> PathBuf {
    std::env::var_os("KRAFTD_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/kraftd"))
}

/// The Maven-assembled tarball for `version`; fails (never skips) when it was not built.
pub fn fixture_tgz(version: &str) -> PathBuf {
    let p = cache_dir().join(format!("dist/kafka_2.13-{version}.tgz"));
    assert!(
        p.is_file(),
        "missing Kafka fixture {}: run `scripts/kafka-dist.sh {version}` first",
        p.display()
    );
    p
}

/// The unpacked fixture directory for `version`.
pub fn fixture_dir(version: &str) -> PathBuf {
    let p = cache_dir().join(format!("dist/kafka_2.13-{version}"));
    assert!(
        p.join("libs").is_dir(),
        "missing Kafka fixture {}: run `scripts/kafka-dist.sh {version}` first",
        p.display()
    );
    p
}

pub fn sha512_hex(path: &Path) -> String {
    kraftd::dist::sha512_hex_of_file(path).unwrap()
}

/// Run the real kraft-install binary.
pub fn kraft_install(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kraft-install"))
        .args(args)
        .env_remove("JAVA_HOME")
        .stdin(Stdio::null())
        .output()
        .expect("run kraft-install");
    eprintln!(
        "$ kraft-install {}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every path under `root` with its size, mode, mtime and (for small files) content hash: two
/// equal snapshots mean nothing was created, removed, or modified.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u64, u32, i64, i64, String)> {
    let mut out = BTreeMap::new();
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, (u64, u32, i64, i64, String)>) {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return;
        };
        let digest = if meta.is_file() && meta.len() < 1 << 20 {
            hex::encode(Sha512::digest(std::fs::read(p).unwrap()))
        } else if meta.file_type().is_symlink() {
            std::fs::read_link(p).unwrap().display().to_string()
        } else {
            String::new()
        };
        // A directory's mtime moves whenever an entry comes and goes (e.g. a rolled-back temp
        // dir); its entries are compared one by one instead.
        let (mtime, nsec) = if meta.is_dir() {
            (0, 0)
        } else {
            (meta.mtime(), meta.mtime_nsec())
        };
        let len = if meta.is_dir() { 0 } else { meta.len() };
        out.insert(p.to_path_buf(), (len, meta.mode(), mtime, nsec, digest));
        if meta.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path(), out);
            }
        }
    }
    walk(root, &mut out);
    out
}

/// A minimal HTTP/1.1 file server on 127.0.0.1 that counts requests per path.
pub struct HttpServer {
    pub port: u16,
    pub hits: Arc<Mutex<Vec<String>>>,
    files: Arc<Mutex<BTreeMap<String, PathBuf>>>,
    served: Arc<AtomicUsize>,
}

impl HttpServer {
    pub fn start() -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let files: Arc<Mutex<BTreeMap<String, PathBuf>>> = Arc::default();
        let served = Arc::new(AtomicUsize::new(0));
        let (h, f, s) = (hits.clone(), files.clone(), served.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (h, f, s) = (h.clone(), f.clone(), s.clone());
                std::thread::spawn(move || serve(conn, &h, &f, &s));
            }
        });
        HttpServer {
            port,
            hits,
            files,
            served,
        }
    }
    pub fn add(&self, url_path: &str, file: &Path) {
        self.files
            .lock()
            .unwrap()
            .insert(url_path.to_string(), file.to_path_buf());
    }
    pub fn url(&self, url_path: &str) -> String {
        format!("http://127.0.0.1:{}{url_path}", self.port)
    }
    pub fn hit_count(&self) -> usize {
        self.hits.lock().unwrap().len()
    }
}

fn serve(
    mut conn: TcpStream,
    hits: &Mutex<Vec<String>>,
    files: &Mutex<BTreeMap<String, PathBuf>>,
    served: &AtomicUsize,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    hits.lock().unwrap().push(path.clone());
    let file = files.lock().unwrap().get(&path).cloned();
    match file {
        Some(f) => {
            let mut body = Vec::new();
            std::fs::File::open(&f)
                .unwrap()
                .read_to_end(&mut body)
                .unwrap();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(&body);
            served.fetch_add(1, Ordering::SeqCst);
        }
        None => {
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    }
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real broker, started exactly as the issue says: `java -cp '<dist>/libs/*' kafka.Kafka
/// server.properties` (+ the log config), killed on drop.
pub struct Broker {
    pub child: Child,
    pub dist: PathBuf,
    pub version: String,
}

impl Broker {
    pub fn start(prefix: &Path, version: &str) -> Broker {
        let dist = prefix.join("opt/kafka/current");
        let etc = prefix.join("etc/kafka");
        let log_arg = if version.starts_with('3') {
            format!(
                "-Dlog4j.configuration=file:{}",
                etc.join("log4j.properties").display()
            )
        } else {
            format!(
                "-Dlog4j2.configurationFile={}",
                etc.join("log4j2.properties").display()
            )
        };
        let child = Command::new("java")
            .args(["-Xmx512m", "-Xms512m", &log_arg, "-cp"])
            .arg(format!("{}/libs/*", dist.display()))
            .arg("kafka.Kafka")
            .arg(etc.join("server.properties"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start java");
        Broker {
            child,
            dist,
            version: version.to_string(),
        }
    }

    fn tool(&self, class_v3: &str, class_v4: &str) -> Command {
        let class = if self.version.starts_with('3') {
            class_v3
        } else {
            class_v4
        };
        let mut c = Command::new("java");
        c.args(["-Xmx256m", "-cp"])
            .arg(format!("{}/libs/*", self.dist.display()))
            .arg(class);
        c
    }

    /// Create `topic` (1 partition, RF 1) with Kafka's TopicCommand, retrying until the broker serves.
    pub fn create_topic(&self, bootstrap: &str, topic: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let out = self
                .tool(
                    "org.apache.kafka.tools.TopicCommand",
                    "org.apache.kafka.tools.TopicCommand",
                )
                .args([
                    "--bootstrap-server",
                    bootstrap,
                    "--create",
                    "--if-not-exists",
                    "--topic",
                    topic,
                ])
                .args(["--partitions", "1", "--replication-factor", "1"])
                .output()
                .unwrap();
            if out.status.success() {
                return;
            }
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                Instant::now() < deadline,
                "creating {topic} on {bootstrap} never succeeded: {err}"
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Create `topic` and produce `records` with Kafka's console producer (acks=all).
    pub fn produce(&self, bootstrap: &str, topic: &str, records: &[&str]) {
        self.create_topic(bootstrap, topic);
        let mut child = self
            .tool(
                "kafka.tools.ConsoleProducer",
                "org.apache.kafka.tools.ConsoleProducer",
            )
            .args(["--bootstrap-server", bootstrap, "--topic", topic])
            .args(["--producer-property", "acks=all"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all((records.join("\n") + "\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !err.contains("ERROR"),
            "console producer failed: {err}"
        );
    }

    /// Consume `n` records from the beginning with Kafka's console consumer.
    pub fn consume(&self, bootstrap: &str, topic: &str, n: usize) -> Vec<String> {
        let out = self
            .tool(
                "kafka.tools.ConsoleConsumer",
                "org.apache.kafka.tools.consumer.ConsoleConsumer",
            )
            .args([
                "--bootstrap-server",
                bootstrap,
                "--topic",
                topic,
                "--from-beginning",
            ])
            .args(["--max-messages", &n.to_string(), "--timeout-ms", "60000"])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// SIGTERM and wait: a controlled shutdown.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
