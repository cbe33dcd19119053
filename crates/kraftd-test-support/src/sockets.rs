//! A notify socket and a journal socket as tests see them: bound unix datagram sockets whose
//! datagrams are collected as they arrive, sd_notify lines, and journald native-protocol entries.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

    /// Whether READY=1 arrived (in any datagram so far).
    pub fn is_ready(&self) -> bool {
        self.notify_lines().iter().any(|l| l == "READY=1")
    }

    /// Wait up to `limit` for READY=1.
    pub fn wait_ready(&self, limit: Duration) -> bool {
        self.wait_until(limit, |items| {
            items
                .iter()
                .any(|d| notify_lines(d).iter().any(|l| l == "READY=1"))
        })
    }

    /// The values of the `STATUS=` lines so far, in order.
    pub fn statuses(&self) -> Vec<String> {
        self.notify_lines()
            .into_iter()
            .filter_map(|l| l.strip_prefix("STATUS=").map(str::to_string))
            .collect()
    }

    /// Every datagram so far parsed as a journal entry.
    pub fn journal_entries(&self) -> Vec<JournalEntry> {
        self.snapshot().iter().map(|d| journal_fields(d)).collect()
    }
}

/// One sd_notify datagram split into its `KEY=value` lines.
pub fn notify_lines(datagram: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(datagram)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Whether `want` is one of `lines`.
pub fn has_line(lines: &[String], want: &str) -> bool {
    lines.iter().any(|l| l == want)
}

/// How many of `lines` are `want`.
pub fn count(lines: &[String], want: &str) -> usize {
    lines.iter().filter(|l| *l == want).count()
}

/// One journal entry: its (key, value) fields in order.
pub type JournalEntry = Vec<(String, Vec<u8>)>;

/// Parse a journald native-protocol datagram into (key, value) pairs.
pub fn journal_fields(mut data: &[u8]) -> JournalEntry {
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

/// The value of `key` in a journal entry, as text.
pub fn field(fields: &[(String, Vec<u8>)], key: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// The first entry for which `pred` holds.
pub fn find_entry(
    entries: &[JournalEntry],
    pred: impl Fn(&[(String, Vec<u8>)]) -> bool,
) -> Option<JournalEntry> {
    entries.iter().find(|e| pred(e)).cloned()
}
