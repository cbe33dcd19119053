//! A node's listener endpoints — what Kafka binds, what it advertises, what kraftd dials on this
//! host — derived here and nowhere else (render, preflight, the readiness probe, `kraftd status`
//! and kraft-install's summary all read `Settings::listeners`).

use super::cluster::Role;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client listener's name in server.properties.
pub const BROKER_LISTENER: &str = "PLAINTEXT";
/// The quorum listener's name in server.properties.
pub const CONTROLLER_LISTENER: &str = "CONTROLLER";

/// One listener of this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `PLAINTEXT` or `CONTROLLER`.
    pub name: &'static str,
    /// The address Kafka's `listeners` binds: the advertised IP, or `0.0.0.0` for a host name
    /// accepted with `--force` that is not on this host (listen everywhere, advertise the name).
    pub bind: SocketAddr,
    /// The host clients are told (`advertised.listeners`, a single node's voter entry): the host
    /// name given, else the IP (IPv6 in brackets).
    pub advertised_host: String,
}

impl Endpoint {
    pub fn port(&self) -> u16 {
        self.bind.port()
    }

    /// `host:port` as advertised.
    pub fn advertised(&self) -> String {
        format!("{}:{}", self.advertised_host, self.port())
    }

    /// `NAME://host:port` as advertised.
    pub fn advertised_url(&self) -> String {
        format!("{}://{}", self.name, self.advertised())
    }

    /// `NAME://bind:port`, an entry of `listeners` (IPv6 in brackets).
    pub fn bind_url(&self) -> String {
        format!("{}://{}", self.name, self.bind)
    }

    /// Where a client on this host connects: the bind address, or loopback when Kafka listens
    /// on every address.
    pub fn dial(&self) -> SocketAddr {
        if self.bind.ip().is_unspecified() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port())
        } else {
            self.bind
        }
    }
}

/// The listeners a node of `role` has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listeners {
    /// The client listener; None on a controller-only node.
    pub broker: Option<Endpoint>,
    /// The quorum listener; None on a broker-only node.
    pub controller: Option<Endpoint>,
    /// The controller port, which a broker-only node has too (a single node's voter entry).
    pub controller_port: u16,
    /// The advertised host text (see `Endpoint::advertised_host`).
    pub advertised_host: String,
}

impl Listeners {
    /// Derive the endpoints: `bind` is the address listeners bind to, `name` the host name given
    /// as advertise value (None for an IP).
    pub fn new(
        role: Role,
        bind: IpAddr,
        name: Option<&str>,
        broker_port: u16,
        controller_port: u16,
    ) -> Listeners {
        let advertised_host = match name {
            Some(name) => name.to_string(),
            None => host_text(bind),
        };
        let endpoint = |name: &'static str, port: u16| Endpoint {
            name,
            bind: SocketAddr::new(bind, port),
            advertised_host: advertised_host.clone(),
        };
        Listeners {
            broker: role
                .is_broker()
                .then(|| endpoint(BROKER_LISTENER, broker_port)),
            controller: role
                .is_controller()
                .then(|| endpoint(CONTROLLER_LISTENER, controller_port)),
            controller_port,
            advertised_host,
        }
    }

    /// The endpoints this node binds, broker first.
    pub fn all(&self) -> impl Iterator<Item = &Endpoint> {
        self.broker.iter().chain(self.controller.iter())
    }

    /// The `listeners` value of server.properties.
    pub fn listeners_value(&self) -> String {
        self.all()
            .map(Endpoint::bind_url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The `advertised.listeners` value: the client listener only (3.7 refuses a broker that
    /// advertises its controller listener, and requires none on a controller-only node).
    pub fn advertised_listeners_value(&self) -> Option<String> {
        self.broker.as_ref().map(Endpoint::advertised_url)
    }

    /// The listener this node serves clients and probes on: the broker's, else (controller-only)
    /// the controller's.
    pub fn primary(&self) -> &Endpoint {
        self.broker
            .as_ref()
            .or(self.controller.as_ref())
            .expect("every role has a broker or a controller listener")
    }
}

/// The host part of a listener URL / voter entry: IPv6 literals need brackets.
pub fn host_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn combined_node_binds_and_advertises_its_ip() {
        let l = Listeners::new(Role::Combined, ip("10.0.0.5"), None, 9092, 9093);
        assert_eq!(
            l.listeners_value(),
            "PLAINTEXT://10.0.0.5:9092,CONTROLLER://10.0.0.5:9093"
        );
        assert_eq!(
            l.advertised_listeners_value().as_deref(),
            Some("PLAINTEXT://10.0.0.5:9092")
        );
        assert_eq!(l.primary().name, BROKER_LISTENER);
        assert_eq!(l.primary().dial(), "10.0.0.5:9092".parse().unwrap());
    }

    #[test]
    fn roles_have_their_listeners_only() {
        let c = Listeners::new(Role::Controller, ip("10.0.0.5"), None, 9092, 9093);
        assert_eq!(c.listeners_value(), "CONTROLLER://10.0.0.5:9093");
        assert_eq!(c.advertised_listeners_value(), None);
        assert_eq!(c.primary().advertised_url(), "CONTROLLER://10.0.0.5:9093");
        let b = Listeners::new(Role::Broker, ip("10.0.0.5"), None, 9092, 9093);
        assert_eq!(b.listeners_value(), "PLAINTEXT://10.0.0.5:9092");
        assert_eq!(b.controller, None);
        assert_eq!(b.controller_port, 9093);
    }

    #[test]
    fn ipv6_in_brackets() {
        let l = Listeners::new(Role::Combined, ip("fd00::5"), None, 9092, 9093);
        assert_eq!(
            l.listeners_value(),
            "PLAINTEXT://[fd00::5]:9092,CONTROLLER://[fd00::5]:9093"
        );
        assert_eq!(l.advertised_host, "[fd00::5]");
        assert_eq!(l.primary().advertised(), "[fd00::5]:9092");
    }

    #[test]
    fn forced_name_binds_everywhere_and_is_dialled_on_loopback() {
        let l = Listeners::new(
            Role::Combined,
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some("kafka.example"),
            9092,
            9093,
        );
        assert_eq!(
            l.listeners_value(),
            "PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093"
        );
        assert_eq!(
            l.advertised_listeners_value().as_deref(),
            Some("PLAINTEXT://kafka.example:9092")
        );
        assert_eq!(l.primary().dial(), "127.0.0.1:9092".parse().unwrap());
        // A name on this host: bound to its local address, the name advertised.
        let l = Listeners::new(
            Role::Broker,
            ip("10.0.0.5"),
            Some("kafka1.example"),
            9092,
            9093,
        );
        assert_eq!(l.primary().bind, "10.0.0.5:9092".parse().unwrap());
        assert_eq!(l.primary().advertised(), "kafka1.example:9092");
    }
}
