//! Advertised address: detecting this host's candidate IPv4 addresses and checking a given one.
//!
//! Detection only looks at local state (`getifaddrs`, `/proc/net/route`); it never opens a socket
//! to another host. The choice rules (issue 2, step 5) are pure functions over `HostAddr` lists so
//! tests feed synthetic hosts.

use anyhow::Context;
use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::path::Path;

/// The kernel's IPv4 routing table.
pub const PROC_NET_ROUTE: &str = "/proc/net/route";

/// What every advertise error tells the operator to do.
const ADVERTISE_FIX: &str = "pass --advertise IP (or set node.advertise in kraftd.toml); on an installed node run `kraft-install --reconfigure --advertise IP`";

/// One IPv4 address of a local interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    pub interface: String,
    pub addr: Ipv4Addr,
    /// IFF_UP and IFF_RUNNING: administratively up and with carrier (an idle bridge is not).
    pub up: bool,
    pub loopback: bool,
}

/// Any address (IPv4 or IPv6) of a local interface, whatever its state: what "is this IP on this
/// host" compares against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIp {
    pub interface: String,
    pub addr: IpAddr,
}

impl fmt::Display for HostAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.addr, self.interface)
    }
}

impl fmt::Display for HostIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.addr, self.interface)
    }
}

/// Why no advertised address could be chosen or a given one is refused. Every message names the
/// value (or the candidates) and ends with how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdvertiseError {
    #[error(
        "cannot choose the advertised address: several candidates ({}) and no single private \
         (RFC 1918) one or default-route source among them; {ADVERTISE_FIX}",
        join(candidates)
    )]
    Ambiguous { candidates: Vec<HostAddr> },
    #[error(
        "cannot choose the advertised address: no up, non-loopback interface has a global IPv4 \
         address (seen: {}); {ADVERTISE_FIX}",
        if seen.is_empty() { "none".to_string() } else { join(seen) }
    )]
    NoCandidate { seen: Vec<HostAddr> },
    /// 0.0.0.0, ::, multicast, broadcast: addresses no client can connect to.
    #[error("advertised address {value:?} is refused: {why}; {ADVERTISE_FIX}")]
    Unusable { value: String, why: String },
    #[error(
        "advertised address {value} is not an address of this host (this host has: {}); Kafka \
         could not listen on it; {ADVERTISE_FIX}",
        join(host)
    )]
    NotOnHost { value: String, host: Vec<HostIp> },
    #[error(
        "advertised host name {value:?} resolves to {}, none of which is on this host (this host \
         has: {}); {ADVERTISE_FIX}, or add --force to advertise the name anyway (Kafka then listens \
         on all addresses)",
        join(resolved),
        join(host)
    )]
    NameNotOnHost {
        value: String,
        resolved: Vec<IpAddr>,
        host: Vec<HostIp>,
    },
    #[error("advertised host name {value:?} does not resolve: {reason}; {ADVERTISE_FIX}")]
    Unresolvable { value: String, reason: String },
    #[error(
        "advertised address {value:?} is neither an IP address nor a host name: {reason}; {ADVERTISE_FIX}"
    )]
    Malformed { value: String, reason: String },
    #[error("cannot list this host's network addresses: {0}; {ADVERTISE_FIX}")]
    HostAddrs(String),
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every address of every local interface (IPv4 and IPv6), via getifaddrs.
pub fn host_ips() -> anyhow::Result<Vec<HostIp>> {
    let mut out = Vec::new();
    for ifa in nix::ifaddrs::getifaddrs().context("getifaddrs")? {
        let Some(addr) = ifa.address.as_ref() else {
            continue;
        };
        let ip = if let Some(v4) = addr.as_sockaddr_in() {
            IpAddr::V4(v4.ip())
        } else if let Some(v6) = addr.as_sockaddr_in6() {
            IpAddr::V6(v6.ip())
        } else {
            continue;
        };
        out.push(HostIp {
            interface: ifa.interface_name.clone(),
            addr: ip,
        });
    }
    Ok(out)
}

/// This host's IPv4 addresses with interface state, via getifaddrs.
pub fn host_addrs() -> anyhow::Result<Vec<HostAddr>> {
    use nix::net::if_::InterfaceFlags;
    let mut out = Vec::new();
    for ifa in nix::ifaddrs::getifaddrs().context("getifaddrs")? {
        let Some(v4) = ifa.address.as_ref().and_then(|a| a.as_sockaddr_in()) else {
            continue;
        };
        out.push(HostAddr {
            interface: ifa.interface_name.clone(),
            addr: v4.ip(),
            up: ifa.flags.contains(InterfaceFlags::IFF_UP)
                && ifa.flags.contains(InterfaceFlags::IFF_RUNNING),
            loopback: ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK),
        });
    }
    Ok(out)
}

/// The interface of the default IPv4 route in a `/proc/net/route` table (the one with the lowest
/// metric when there are several). Pure so tests pass table text.
pub fn default_route_interface(route_table: &str) -> Option<String> {
    const RTF_UP: u32 = 0x1;
    let mut best: Option<(u32, String)> = None;
    // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT (hex fields).
    for line in route_table.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 8 {
            continue;
        }
        let hex = |s: &str| u32::from_str_radix(s, 16).ok();
        let (Some(dest), Some(flags), Ok(metric), Some(mask)) = (
            hex(cols[1]),
            hex(cols[3]),
            cols[6].parse::<u32>(),
            hex(cols[7]),
        ) else {
            continue;
        };
        if dest != 0 || mask != 0 || flags & RTF_UP == 0 {
            continue;
        }
        if best.as_ref().is_none_or(|(m, _)| metric < *m) {
            best = Some((metric, cols[0].to_string()));
        }
    }
    best.map(|(_, iface)| iface)
}

/// The address the kernel would use as source for the default route: the first candidate address
/// of the default route's interface. `route_file` is `/proc/net/route` outside tests.
pub fn default_route_source(route_file: &Path, addrs: &[HostAddr]) -> Option<Ipv4Addr> {
    let table = std::fs::read_to_string(route_file).ok()?;
    let iface = default_route_interface(&table)?;
    addrs
        .iter()
        .find(|a| a.interface == iface && is_candidate(a))
        .map(|a| a.addr)
}

/// Interface names of container/VM bridges and tunnels: their private addresses (docker0's
/// 172.17.0.1, libvirt's 192.168.122.1) are not where clients reach this host, and without this
/// rule "prefer the single RFC 1918 address" would pick docker0 on a host with a public IP.
const VIRTUAL_INTERFACE_PREFIXES: &[&str] = &[
    "docker", "br-", "virbr", "veth", "cni", "podman", "lxcbr", "lxdbr", "flannel", "cali",
    "vxlan", "kube-", "weave", "cilium",
];

fn is_virtual_interface(name: &str) -> bool {
    VIRTUAL_INTERFACE_PREFIXES
        .iter()
        .any(|p| name.starts_with(p))
}

/// A global-scope IPv4 address on an up, non-loopback, non-virtual interface.
pub fn is_candidate(a: &HostAddr) -> bool {
    a.up && !a.loopback
        && !a.addr.is_loopback()
        && !a.addr.is_link_local()
        && !a.addr.is_unspecified()
        && !a.addr.is_multicast()
        && !a.addr.is_broadcast()
        && !is_virtual_interface(&a.interface)
}

/// Issue 2 step 5: one candidate → it; several → the single RFC 1918 one, else the default
/// route's source if it is a candidate; otherwise an error listing what was seen.
pub fn choose_advertise(
    addrs: &[HostAddr],
    default_src: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, AdvertiseError> {
    let mut seen = BTreeSet::new();
    let candidates: Vec<HostAddr> = addrs
        .iter()
        .filter(|a| is_candidate(a))
        // An address listed twice (aliases) is still one candidate.
        .filter(|a| seen.insert(a.addr))
        .cloned()
        .collect();
    match candidates.as_slice() {
        [] => {
            return Err(AdvertiseError::NoCandidate {
                seen: addrs.to_vec(),
            });
        }
        [only] => return Ok(only.addr),
        _ => {}
    }
    let private: Vec<&HostAddr> = candidates.iter().filter(|a| a.addr.is_private()).collect();
    if let [only] = private.as_slice() {
        return Ok(only.addr);
    }
    if let Some(src) = default_src.filter(|s| candidates.iter().any(|c| c.addr == *s)) {
        return Ok(src);
    }
    Err(AdvertiseError::Ambiguous { candidates })
}

/// Detect this host's advertised address (no `--advertise` given): real interfaces and routes.
pub fn detect_advertise() -> Result<IpAddr, AdvertiseError> {
    let addrs = host_addrs().map_err(|e| AdvertiseError::HostAddrs(format!("{e:#}")))?;
    let default_src = default_route_source(Path::new(PROC_NET_ROUTE), &addrs);
    choose_advertise(&addrs, default_src).map(IpAddr::V4)
}

/// Check a given advertised address against this host (real interfaces, system resolver).
///
/// Returns the IP Kafka's listeners bind to: the IP itself, or for a host name the first of its
/// addresses that is on this host. With `force`, a host name whose addresses are all elsewhere
/// (NAT, a floating IP) is accepted and the result is `0.0.0.0`: listen on every address and
/// advertise the name. `force` never makes a foreign IP acceptable: Kafka could not listen on it.
pub fn check_advertise(value: &str, force: bool) -> Result<IpAddr, AdvertiseError> {
    let host = host_ips().map_err(|e| AdvertiseError::HostAddrs(format!("{e:#}")))?;
    check_advertise_with(value, force, &host, &resolve_system)
}

/// The system resolver (`getaddrinfo` via std), addresses deduplicated in resolver order.
pub fn resolve_system(name: &str) -> io::Result<Vec<IpAddr>> {
    let mut out: Vec<IpAddr> = Vec::new();
    for sa in (name, 0).to_socket_addrs()? {
        if !out.contains(&sa.ip()) {
            out.push(sa.ip());
        }
    }
    Ok(out)
}

/// `check_advertise` with this host's addresses and the resolver passed in.
pub fn check_advertise_with(
    value: &str,
    force: bool,
    host: &[HostIp],
    resolve: &dyn Fn(&str) -> io::Result<Vec<IpAddr>>,
) -> Result<IpAddr, AdvertiseError> {
    let trimmed = value.trim();
    let unbracketed = trimmed
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(trimmed);
    if let Ok(ip) = unbracketed.parse::<IpAddr>() {
        check_ip_usable(value, ip)?;
        if host.iter().any(|h| h.addr == ip) {
            return Ok(ip);
        }
        return Err(AdvertiseError::NotOnHost {
            value: ip.to_string(),
            host: host.to_vec(),
        });
    }
    check_host_name(value)?;
    let resolved = resolve(trimmed).map_err(|e| AdvertiseError::Unresolvable {
        value: value.to_string(),
        reason: e.to_string(),
    })?;
    if resolved.is_empty() {
        return Err(AdvertiseError::Unresolvable {
            value: value.to_string(),
            reason: "the resolver returned no address".to_string(),
        });
    }
    if let Some(local) = resolved
        .iter()
        .find(|ip| host.iter().any(|h| h.addr == **ip))
    {
        check_ip_usable(value, *local)?;
        return Ok(*local);
    }
    if force {
        return Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    }
    Err(AdvertiseError::NameNotOnHost {
        value: value.to_string(),
        resolved,
        host: host.to_vec(),
    })
}

/// Refuse addresses no client can connect to, whatever host they are on.
pub fn check_ip_usable(value: &str, ip: IpAddr) -> Result<(), AdvertiseError> {
    let why = if ip.is_unspecified() {
        Some(
            "it means \"every interface\" to a listener, but clients need one address they can connect to",
        )
    } else if ip.is_multicast() {
        Some("it is a multicast address; clients need a unicast address of this host")
    } else if matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()) {
        Some(
            "it is an IPv6 link-local address, which needs a zone (%interface) that Kafka listeners cannot carry",
        )
    } else if matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()) {
        Some("it is the broadcast address; clients need a unicast address of this host")
    } else {
        None
    };
    match why {
        Some(why) => Err(AdvertiseError::Unusable {
            value: value.to_string(),
            why: why.to_string(),
        }),
        None => Ok(()),
    }
}

/// RFC 1123 host name syntax; an all-numeric last label is refused because the resolver would
/// read `10.1` as the IP 10.0.0.1.
fn check_host_name(value: &str) -> Result<(), AdvertiseError> {
    let bad = |reason: String| {
        Err(AdvertiseError::Malformed {
            value: value.to_string(),
            reason,
        })
    };
    let name = value.trim().strip_suffix('.').unwrap_or(value.trim());
    if name.is_empty() {
        return bad("it is empty".to_string());
    }
    if name.len() > 253 {
        return bad(format!(
            "it is {} characters long (at most 253)",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return bad(format!("label {label:?} must be 1 to 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return bad(format!(
                "{c:?} is not allowed in a host name (letters, digits, '-', '.')"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad(format!("label {label:?} starts or ends with '-'"));
        }
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return bad("it looks like an incomplete IP address".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(interface: &str, ip: &str) -> HostAddr {
        HostAddr {
            interface: interface.into(),
            addr: ip.parse().unwrap(),
            up: true,
            loopback: false,
        }
    }
    fn lo() -> HostAddr {
        HostAddr {
            interface: "lo".into(),
            addr: Ipv4Addr::LOCALHOST,
            up: true,
            loopback: true,
        }
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn one_candidate_is_chosen() {
        let addrs = [
            lo(),
            addr("eth0", "203.0.113.10"),
            addr("eth0", "169.254.1.2"),
        ];
        assert_eq!(choose_advertise(&addrs, None), Ok(ip("203.0.113.10")));
    }

    #[test]
    fn loopback_link_local_down_and_docker_are_not_candidates() {
        let mut down = addr("eth1", "10.0.0.5");
        down.up = false;
        let addrs = [
            lo(),
            addr("eth0", "169.254.9.9"),
            down,
            addr("docker0", "172.17.0.1"),
            addr("br-1a2b", "172.18.0.1"),
        ];
        let err = choose_advertise(&addrs, None).unwrap_err();
        let AdvertiseError::NoCandidate { ref seen } = err else {
            panic!("{err:?}")
        };
        assert_eq!(seen.len(), 5);
        let msg = err.to_string();
        assert!(
            msg.contains("10.0.0.5 on eth1") && msg.contains("--advertise IP"),
            "{msg}"
        );
    }

    #[test]
    fn no_addresses_at_all() {
        let err = choose_advertise(&[], None).unwrap_err();
        assert_eq!(err, AdvertiseError::NoCandidate { seen: vec![] });
        assert!(err.to_string().contains("seen: none"), "{err}");
    }

    #[test]
    fn several_with_one_rfc1918_prefers_it() {
        let addrs = [
            lo(),
            addr("eth0", "203.0.113.10"),
            addr("eth1", "192.168.1.20"),
        ];
        assert_eq!(choose_advertise(&addrs, None), Ok(ip("192.168.1.20")));
        // The private one wins even over the default route's source (issue 2's order).
        assert_eq!(
            choose_advertise(&addrs, Some(ip("203.0.113.10"))),
            Ok(ip("192.168.1.20"))
        );
    }

    #[test]
    fn public_ip_with_busy_docker_bridge_picks_the_public_ip() {
        let addrs = [
            lo(),
            addr("ens3", "198.51.100.7"),
            addr("docker0", "172.17.0.1"),
        ];
        assert_eq!(choose_advertise(&addrs, None), Ok(ip("198.51.100.7")));
    }

    #[test]
    fn several_private_tie_broken_by_default_route() {
        let addrs = [
            lo(),
            addr("eth0", "10.1.2.3"),
            addr("eth1", "172.16.5.5"),
            addr("wg0", "192.168.7.1"),
        ];
        assert_eq!(
            choose_advertise(&addrs, Some(ip("172.16.5.5"))),
            Ok(ip("172.16.5.5"))
        );
    }

    #[test]
    fn ambiguous_lists_candidates() {
        let addrs = [lo(), addr("eth0", "10.1.2.3"), addr("eth1", "172.16.5.5")];
        // No default route, or one whose source is not a candidate (loopback here).
        for src in [None, Some(Ipv4Addr::LOCALHOST)] {
            let err = choose_advertise(&addrs, src).unwrap_err();
            assert_eq!(
                err,
                AdvertiseError::Ambiguous {
                    candidates: addrs[1..].to_vec()
                }
            );
            let msg = err.to_string();
            assert!(
                msg.contains("10.1.2.3 on eth0, 172.16.5.5 on eth1"),
                "{msg}"
            );
            assert!(
                msg.contains("pass --advertise IP (or set node.advertise in kraftd.toml); on an installed node run `kraft-install --reconfigure --advertise IP`"),
                "{msg}"
            );
        }
        // Two public addresses: no RFC 1918 preference applies.
        let public = [addr("eth0", "198.51.100.1"), addr("eth1", "203.0.113.1")];
        assert!(matches!(
            choose_advertise(&public, None),
            Err(AdvertiseError::Ambiguous { .. })
        ));
        assert_eq!(
            choose_advertise(&public, Some(ip("203.0.113.1"))),
            Ok(ip("203.0.113.1"))
        );
    }

    #[test]
    fn duplicate_address_counts_once() {
        let addrs = [addr("eth0", "10.0.0.1"), addr("eth0:1", "10.0.0.1")];
        assert_eq!(choose_advertise(&addrs, None), Ok(ip("10.0.0.1")));
    }

    const ROUTES: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
        eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
        eth1\t00000000\t0100A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n\
        eth0\t00000000\t0101010A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
        tun0\t00000000\t00000000\t0000\t0\t0\t1\t00000000\t0\t0\t0\n";

    #[test]
    fn default_route_lowest_metric_up_route_wins() {
        assert_eq!(default_route_interface(ROUTES).as_deref(), Some("eth0"));
        assert_eq!(default_route_interface("Iface\tDestination\n"), None);
        assert_eq!(default_route_interface(""), None);
    }

    #[test]
    fn default_route_source_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let route_file = dir.path().join("route");
        std::fs::write(&route_file, ROUTES).unwrap();
        let addrs = [
            lo(),
            addr("eth0", "169.254.3.3"),
            addr("eth0", "10.1.1.5"),
            addr("eth1", "192.168.0.9"),
        ];
        assert_eq!(
            default_route_source(&route_file, &addrs),
            Some(ip("10.1.1.5"))
        );
        assert_eq!(
            default_route_source(&dir.path().join("missing"), &addrs),
            None
        );
        // Whole detection: two private candidates, default route decides.
        assert_eq!(
            choose_advertise(&addrs, default_route_source(&route_file, &addrs)),
            Ok(ip("10.1.1.5"))
        );
    }

    fn host() -> Vec<HostIp> {
        [
            ("lo", "127.0.0.1"),
            ("eth0", "10.0.0.5"),
            ("lo", "::1"),
            ("eth0", "fd00::5"),
        ]
        .iter()
        .map(|(i, a)| HostIp {
            interface: i.to_string(),
            addr: a.parse().unwrap(),
        })
        .collect()
    }
    fn resolver(name: &str) -> io::Result<Vec<IpAddr>> {
        match name {
            "kafka1.example" => Ok(vec![
                "203.0.113.9".parse().unwrap(),
                "10.0.0.5".parse().unwrap(),
            ]),
            "elsewhere.example" => Ok(vec!["203.0.113.9".parse().unwrap()]),
            "empty.example" => Ok(vec![]),
            _ => Err(io::Error::other("Name or service not known")),
        }
    }
    fn check(value: &str, force: bool) -> Result<IpAddr, AdvertiseError> {
        check_advertise_with(value, force, &host(), &resolver)
    }

    #[test]
    fn given_ip_on_host_is_accepted() {
        assert_eq!(check("10.0.0.5", false), Ok("10.0.0.5".parse().unwrap()));
        assert_eq!(check("127.0.0.1", false), Ok("127.0.0.1".parse().unwrap()));
        assert_eq!(check("[fd00::5]", false), Ok("fd00::5".parse().unwrap()));
    }

    #[test]
    fn unspecified_multicast_broadcast_refused_even_with_force() {
        for v in [
            "0.0.0.0",
            "::",
            "[::]",
            "224.0.0.1",
            "ff02::1",
            "255.255.255.255",
            "fe80::1",
        ] {
            let err = check(v, true).unwrap_err();
            assert!(
                matches!(err, AdvertiseError::Unusable { .. }),
                "{v}: {err:?}"
            );
            assert!(err.to_string().contains(&format!("{v:?}")), "{err}");
        }
        assert!(
            check("0.0.0.0", false)
                .unwrap_err()
                .to_string()
                .contains("every interface")
        );
    }

    #[test]
    fn ip_not_on_host_refused_listing_host_addresses() {
        let err = check("192.0.2.1", true).unwrap_err();
        assert!(matches!(err, AdvertiseError::NotOnHost { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("192.0.2.1 is not an address of this host"),
            "{msg}"
        );
        assert!(
            msg.contains("10.0.0.5 on eth0") && msg.contains("127.0.0.1 on lo"),
            "{msg}"
        );
    }

    #[test]
    fn host_names() {
        assert_eq!(
            check("kafka1.example", false),
            Ok("10.0.0.5".parse().unwrap())
        );
        let err = check("elsewhere.example", false).unwrap_err();
        assert!(
            matches!(err, AdvertiseError::NameNotOnHost { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("203.0.113.9") && err.to_string().contains("--force"),
            "{err}"
        );
        assert_eq!(
            check("elsewhere.example", true),
            Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        );
        assert!(matches!(
            check("nxdomain.example", true),
            Err(AdvertiseError::Unresolvable { .. })
        ));
        assert!(matches!(
            check("empty.example", false),
            Err(AdvertiseError::Unresolvable { .. })
        ));
    }

    #[test]
    fn malformed_values() {
        for v in [
            "",
            "10.0.0",
            "10.1",
            "bad_name",
            "-x.example",
            "a..b",
            "fe80::1%eth0",
            "http://10.0.0.5",
        ] {
            let err = check(v, true).unwrap_err();
            assert!(
                matches!(err, AdvertiseError::Malformed { .. }),
                "{v}: {err:?}"
            );
        }
    }

    // Against this machine's real interfaces and resolver.
    #[test]
    fn real_host_accepts_loopback() {
        assert_eq!(
            check_advertise("127.0.0.1", false),
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(
            check_advertise("localhost", false).map(|ip| ip.is_loopback()),
            Ok(true)
        );
    }

    #[test]
    fn real_host_refuses_unspecified_and_foreign() {
        assert!(matches!(
            check_advertise("0.0.0.0", false),
            Err(AdvertiseError::Unusable { .. })
        ));
        let real = host_ips().unwrap();
        for foreign in ["192.0.2.1", "198.51.100.254"] {
            assert!(
                real.iter().all(|h| h.addr.to_string() != foreign),
                "test premise: {foreign} is not on this host"
            );
            let err = check_advertise(foreign, false).unwrap_err();
            assert!(matches!(err, AdvertiseError::NotOnHost { .. }), "{err:?}");
            assert!(err.to_string().contains("127.0.0.1 on lo"), "{err}");
        }
    }

    #[test]
    fn real_host_lists_loopback_and_detection_is_consistent() {
        let addrs = host_addrs().unwrap();
        assert!(
            addrs
                .iter()
                .any(|a| a.loopback && a.addr == Ipv4Addr::LOCALHOST && a.up),
            "{addrs:?}"
        );
        // Whatever detection answers, it is a candidate of this host (or an error naming them).
        match detect_advertise() {
            Ok(ip) => assert!(
                addrs
                    .iter()
                    .any(|a| IpAddr::V4(a.addr) == ip && is_candidate(a)),
                "{ip}"
            ),
            Err(e) => assert!(e.to_string().contains("--advertise IP"), "{e}"),
        }
    }
}
