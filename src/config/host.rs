//! What config resolution asks of the host it runs on — interfaces, the resolver, advertised-address
//! detection, memory — behind one small trait, so tests resolve settings on a made-up host.
//!
//! Model: afterburn's provider trait. `RealHost` asks the machine (getifaddrs, getaddrinfo,
//! /proc/net/route, sysinfo and cgroup v2); the unit tests' `FakeHost` answers from fields.

use crate::net::{self, AdvertiseError, HostIp};
use std::io;
use std::net::IpAddr;

/// The host facts `Settings::resolve_on` needs. Each is asked only when a value depends on it.
pub trait HostFacts {
    /// Every address of every local interface: what "is this IP on this host" compares against.
    fn ips(&self) -> Result<Vec<HostIp>, AdvertiseError>;
    /// Resolve a host name (advertise values and voter entries), addresses in resolver order.
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>>;
    /// The advertised address when none is given (see `net::detect_advertise`).
    fn detect_advertise(&self) -> Result<IpAddr, AdvertiseError>;
    /// Memory of this box or its cgroup, in bytes; None when unknown.
    fn total_memory(&self) -> Option<u64>;
}

/// The machine kraftd runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealHost;

impl HostFacts for RealHost {
    fn ips(&self) -> Result<Vec<HostIp>, AdvertiseError> {
        net::host_ips().map_err(|e| AdvertiseError::HostAddrs(format!("{e:#}")))
    }
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        net::resolve_system(name)
    }
    fn detect_advertise(&self) -> Result<IpAddr, AdvertiseError> {
        net::detect_advertise()
    }
    fn total_memory(&self) -> Option<u64> {
        total_memory_bytes()
    }
}

/// The real host, with `detect` in place of advertised-address detection (what `Settings::resolve`
/// callers pass: the installer's detector, or one that refuses).
pub(super) struct Detecting<'a>(pub &'a dyn Fn() -> Result<IpAddr, AdvertiseError>);

impl HostFacts for Detecting<'_> {
    fn ips(&self) -> Result<Vec<HostIp>, AdvertiseError> {
        RealHost.ips()
    }
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        RealHost.resolve(name)
    }
    fn detect_advertise(&self) -> Result<IpAddr, AdvertiseError> {
        (self.0)()
    }
    fn total_memory(&self) -> Option<u64> {
        RealHost.total_memory()
    }
}

/// Memory this box (or its cgroup, when limited) has: the smaller of RAM and cgroup v2
/// `memory.max`, so a container with 512M does not get a 1G heap.
pub fn total_memory_bytes() -> Option<u64> {
    let ram = {
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        // SAFETY: sysinfo fills the struct we pass and touches nothing else.
        (unsafe { libc::sysinfo(&mut info) } == 0)
            .then(|| info.totalram as u64 * info.mem_unit as u64)
    };
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    match (ram, cgroup) {
        (Some(r), Some(c)) => Some(r.min(c)),
        (r, c) => r.or(c),
    }
}

/// A made-up host for unit tests: its interface addresses, a name table, what detection answers
/// and its memory.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct FakeHost {
    pub ips: Vec<HostIp>,
    pub names: Vec<(&'static str, Vec<IpAddr>)>,
    pub detected: Result<IpAddr, AdvertiseError>,
    pub memory: Option<u64>,
}

#[cfg(test)]
impl FakeHost {
    /// Loopback (127.0.0.1, ::1) and eth0 10.0.0.5; `localhost` and `kafka1.example` resolve
    /// here, `elsewhere.example` to another host; detection answers 10.0.0.5; 16 GiB.
    pub fn new() -> FakeHost {
        let ip = |interface: &str, addr: &str| HostIp {
            interface: interface.into(),
            addr: addr.parse().unwrap(),
        };
        FakeHost {
            ips: vec![
                ip("lo", "127.0.0.1"),
                ip("lo", "::1"),
                ip("eth0", "10.0.0.5"),
            ],
            names: vec![
                ("localhost", vec!["127.0.0.1".parse().unwrap()]),
                ("kafka1.example", vec!["10.0.0.5".parse().unwrap()]),
                ("elsewhere.example", vec!["203.0.113.9".parse().unwrap()]),
            ],
            detected: Ok("10.0.0.5".parse().unwrap()),
            memory: Some(16 << 30),
        }
    }
}

#[cfg(test)]
impl HostFacts for FakeHost {
    fn ips(&self) -> Result<Vec<HostIp>, AdvertiseError> {
        Ok(self.ips.clone())
    }
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        self.names
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, ips)| ips.clone())
            .ok_or_else(|| io::Error::other("Name or service not known"))
    }
    fn detect_advertise(&self) -> Result<IpAddr, AdvertiseError> {
        self.detected.clone()
    }
    fn total_memory(&self) -> Option<u64> {
        self.memory
    }
}
