//! Processes a test starts or observes: /proc lookups, guards that kill on drop, and bounded waits
//! (a hang fails the test instead of hanging it).

use std::process::{Child, ExitStatus, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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

/// The Kafka broker JVM (`kafka.Kafka` in its command line) among the children of `ppid`: not the
/// `java -version` kraftd runs while checking Java.
pub fn kafka_jvm_child(ppid: i32) -> Option<i32> {
    children_of(ppid).into_iter().find(|&p| {
        std::fs::read(format!("/proc/{p}/cmdline"))
            .map(|c| c.split(|&b| b == 0).any(|a| a == b"kafka.Kafka"))
            .unwrap_or(false)
    })
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

/// Send `sig` to `pid`.
pub fn signal(pid: i32, sig: i32) {
    unsafe { libc::kill(pid, sig) };
}

/// Guard that SIGKILLs a pid on drop (for JVMs a test observes directly).
pub struct KillOnDrop(pub i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if process_alive(self.0) {
            signal(self.0, libc::SIGKILL);
        }
    }
}

/// Guard that kills and reaps a child this test started, unless the test took it back (`take`).
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard(Some(child))
    }

    /// The guarded child.
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the child is still guarded")
    }

    /// SIGTERM and wait at most `limit` for the exit (a hang fails the test).
    pub fn terminate(&mut self, limit: Duration, what: &str) -> ExitStatus {
        let child = self.child();
        signal(child.id() as i32, libc::SIGTERM);
        let status = wait_child(child, limit, what);
        self.0 = None;
        status
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wait for `child` to exit, at most `limit`; `what` names it in the failure.
pub fn wait_child(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Collect `child`'s output, SIGKILLing it once `limit` passes (its status then shows the signal).
pub fn output_within(child: Child, limit: Duration) -> Output {
    let pid = child.id() as i32;
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + limit;
            while !done.load(Ordering::SeqCst) {
                if Instant::now() >= deadline {
                    signal(pid, libc::SIGKILL);
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    done.store(true, Ordering::SeqCst);
    watchdog.join().unwrap();
    out
}
