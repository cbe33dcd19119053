//! Network namespaces for the cluster test: one per node behind a bridge namespace, deleted on drop.

use kraftd_test_support::run;
use std::process::Command;

fn ip(args: &[&str]) {
    let out = run(Command::new("ip").args(args));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Network namespaces `kraftd-t-<pid>-<n>` for the nodes and `kraftd-t-<pid>-br` holding the bridge,
/// addresses 10.250.<x>.<n>/24 that exist only inside them. Deleted on drop.
pub struct TestNet {
    names: Vec<String>,
    subnet: u8,
    bridge_ns: String,
}

impl TestNet {
    pub fn create(nodes: u32) -> TestNet {
        let pid = std::process::id();
        // A per-run /24 so two runs (or a leftover) never share addresses.
        let subnet = (pid % 200 + 20) as u8;
        let bridge_ns = format!("kraftd-t-{pid}-br");
        let mut net = TestNet {
            names: Vec::new(),
            subnet,
            bridge_ns: bridge_ns.clone(),
        };
        ip(&["netns", "add", &bridge_ns]);
        ip(&["-n", &bridge_ns, "link", "set", "lo", "up"]);
        ip(&["-n", &bridge_ns, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &bridge_ns, "link", "set", "br0", "up"]);
        for n in 1..=nodes {
            let ns = format!("kraftd-t-{pid}-{n}");
            ip(&["netns", "add", &ns]);
            net.names.push(ns.clone());
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            let port = format!("v{n}");
            ip(&[
                "-n", &bridge_ns, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", &ns,
            ]);
            ip(&[
                "-n", &bridge_ns, "link", "set", &port, "master", "br0", "up",
            ]);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", net.addr(n)),
                "dev",
                "eth0",
            ]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
        }
        net
    }

    pub fn ns(&self, n: u32) -> &str {
        &self.names[n as usize - 1]
    }

    pub fn addr(&self, n: u32) -> String {
        format!("10.250.{}.{n}", self.subnet)
    }

    /// `ip netns exec <ns of n> <program>`.
    pub fn exec(&self, n: u32, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", self.ns(n)]).arg(program);
        c
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        for ns in self.names.iter().chain([&self.bridge_ns]) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
