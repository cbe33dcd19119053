//! `[node]`: this node's identity (install prefix, data dir, node id, cluster id), its listeners
//! (advertised address and ports, checked against this host) and its place in the cluster (role,
//! voter set, broker count).

use super::{Origin, Picker, absolute, invalid};
use crate::config::cluster::{Role, Voter, parse_voters, voters_text};
use crate::config::host::HostFacts;
use crate::config::listeners::host_text;
use crate::config::{ConfigError, Layout, Overrides};
use crate::{ClusterId, net};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

/// A Kafka node.id (0..=i32::MAX, as Kafka accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

pub const DEFAULT_NODE_ID: u32 = 1;
pub const DEFAULT_BROKER_PORT: u16 = 9092;
pub const DEFAULT_CONTROLLER_PORT: u16 = 9093;
/// Kafka accepts node ids 0..=Integer.MAX_VALUE.
pub const MAX_NODE_ID: i64 = i32::MAX as i64;

/// The checked identity and listener values of `[node]`.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::config) struct Node {
    pub layout: Layout,
    pub node_id: NodeId,
    pub cluster_id: Option<ClusterId>,
    /// The address listeners bind to (see `Settings::advertise`).
    pub advertise: IpAddr,
    /// The host name given as advertise value (None for an IP, given or detected).
    pub advertise_name: Option<String>,
    pub broker_port: u16,
    pub controller_port: u16,
}

/// The checked cluster values of `[node]`.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::config) struct Membership {
    pub role: Role,
    pub voters: Option<Vec<Voter>>,
    pub brokers: Option<u32>,
}

impl Node {
    /// Identity and listeners: flags over `[node]` over defaults. The advertise value is checked
    /// against `host` (on this host, or a name resolving here; `--force` accepts a name that does
    /// not); with none given, `host` detects one.
    pub fn resolve(
        p: &Picker<'_>,
        ov: &Overrides,
        host: &dyn HostFacts,
    ) -> Result<Node, ConfigError> {
        let node = &p.file.node;
        let prefix = match p.pick(
            ov.prefix.as_ref(),
            "--prefix",
            node.prefix.as_ref(),
            "node.prefix",
        ) {
            Some((v, origin)) => absolute(origin, v, "install prefix")?,
            None => PathBuf::from("/"),
        };
        let data_dir = match p.pick(
            ov.data_dir.as_ref(),
            "--data-dir",
            node.data_dir.as_ref(),
            "node.data_dir",
        ) {
            Some((v, origin)) => Some(absolute(origin, v, "data directory")?),
            None => None,
        };
        let layout = Layout::new(&prefix, data_dir.as_deref());

        let node_id = match p.pick(
            ov.node_id.as_ref(),
            "--node-id",
            node.id.as_ref(),
            "node.id",
        ) {
            Some((v, origin)) => check_node_id(v).map_err(|m| invalid(origin, m))?,
            None => NodeId(DEFAULT_NODE_ID),
        };

        let cluster_id = match p.pick(
            ov.cluster_id.as_ref(),
            "--cluster-id",
            node.cluster_id.as_ref(),
            "node.cluster_id",
        ) {
            Some((v, origin)) => Some(v.parse::<ClusterId>().map_err(|e| invalid(origin, e))?),
            None => None,
        };

        let (advertise, advertise_name) = match p.pick(
            ov.advertise.as_ref(),
            "--advertise",
            node.advertise.as_ref(),
            "node.advertise",
        ) {
            Some((v, origin)) => {
                let ip = check_advertise(&v, ov.force, host).map_err(|error| {
                    ConfigError::Advertise {
                        origin: Some(origin.to_string()),
                        error,
                    }
                })?;
                let v = v.trim();
                let is_ip = v
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok();
                (ip, (!is_ip).then(|| v.to_string()))
            }
            None => (
                host.detect_advertise()
                    .map_err(|error| ConfigError::Advertise {
                        origin: None,
                        error,
                    })?,
                None,
            ),
        };

        let broker_port = port(p, node.broker_port, "node.broker_port", DEFAULT_BROKER_PORT)?;
        let controller_port = port(
            p,
            node.controller_port,
            "node.controller_port",
            DEFAULT_CONTROLLER_PORT,
        )?;
        if broker_port == controller_port {
            return Err(invalid(
                p.file_origin("node.controller_port"),
                format!(
                    "broker_port and controller_port are both {broker_port}; give the two listeners different ports"
                ),
            ));
        }
        Ok(Node {
            layout,
            node_id,
            cluster_id,
            advertise,
            advertise_name,
            broker_port,
            controller_port,
        })
    }

    /// Role, voter set and broker count: a controller (or combined node) of a voter set must be
    /// one of its voters at its own address; a broker must not be one, and needs the voter set.
    pub fn resolve_membership(
        &self,
        p: &Picker<'_>,
        ov: &Overrides,
        host: &dyn HostFacts,
    ) -> Result<Membership, ConfigError> {
        let node = &p.file.node;
        let role = match p.pick(ov.role.as_ref(), "--role", node.role.as_ref(), "node.role") {
            Some((v, origin)) => v.parse::<Role>().map_err(|m| invalid(origin, m))?,
            None => Role::Combined,
        };
        let voters = match p.pick(
            ov.controllers.as_ref(),
            "--controllers",
            node.controllers.as_ref(),
            "node.controllers",
        ) {
            Some((v, origin)) => Some((parse_voters(&v).map_err(|m| invalid(origin, m))?, origin)),
            None => None,
        };
        let brokers = match p.pick(
            ov.brokers.as_ref(),
            "--brokers",
            node.brokers.as_ref(),
            "node.brokers",
        ) {
            Some((v, origin)) => {
                Some(u32::try_from(v).ok().filter(|n| *n >= 1).ok_or_else(|| {
                    invalid(origin, format!("broker count {v} must be at least 1"))
                })?)
            }
            None => None,
        };
        if let Some((list, origin)) = &voters {
            self.check_membership(role, list, *origin, host)?;
        } else if role == Role::Broker {
            return Err(invalid(
                p.pick(ov.role.as_ref(), "--role", node.role.as_ref(), "node.role")
                    .map_or(Origin::Flag("--role"), |(_, o)| o),
                "a broker needs the controllers it joins: give --controllers id@host:port,… (controllers in kraftd.toml), \
                 the same list every node of the cluster has",
            ));
        }
        Ok(Membership {
            role,
            voters: voters.map(|(list, _)| list),
            brokers,
        })
    }

    /// A controller (or combined node) must be a voter, at its own advertised address and
    /// controller port; a broker must not be one (Kafka refuses both at startup, after storage was
    /// formatted).
    fn check_membership(
        &self,
        role: Role,
        voters: &[Voter],
        origin: Origin<'_>,
        host: &dyn HostFacts,
    ) -> Result<(), ConfigError> {
        let (node_id, controller_port) = (self.node_id, self.controller_port);
        let list = voters_text(voters);
        let own = voters.iter().find(|v| v.id == node_id);
        match (role, own) {
            (Role::Broker, Some(v)) => Err(invalid(
                origin,
                format!(
                    "node id {node_id} is a voter ({v}) in {list}, but this node's role is broker: \
                     a broker needs a node id outside the voter set (give --node-id another id), or use --role controller"
                ),
            )),
            (Role::Broker, None) => Ok(()),
            (_, None) => Err(invalid(
                origin,
                format!(
                    "node id {node_id} is not in the voter set {list}, but this node's role is {role}: \
                     a controller must be one of the voters; give --node-id the id its entry has, or add it to the list"
                ),
            )),
            (_, Some(v)) => {
                let same_host = match (v.ip(), self.advertise_name.as_deref()) {
                    (Some(ip), _) => ip == self.advertise,
                    (None, Some(name)) => v.host.eq_ignore_ascii_case(name),
                    (None, None) => host
                        .resolve(&v.host)
                        .map(|ips| ips.contains(&self.advertise))
                        .unwrap_or(false),
                };
                if !same_host || v.port != controller_port {
                    return Err(invalid(
                        origin,
                        format!(
                            "this node's voter entry {v} is not its own controller address {}:{controller_port}: \
                             fix the entry, or set --advertise / controller_port to the address the entry names",
                            self.advertise_name
                                .clone()
                                .unwrap_or_else(|| host_text(self.advertise))
                        ),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Check a given advertise value against `host`: its addresses and its resolver.
fn check_advertise(
    value: &str,
    force: bool,
    host: &dyn HostFacts,
) -> Result<IpAddr, net::AdvertiseError> {
    let ips = host.ips()?;
    net::check_advertise_with(value, force, &ips, &|name| host.resolve(name))
}

fn check_node_id(v: i64) -> Result<NodeId, String> {
    if (0..=MAX_NODE_ID).contains(&v) {
        Ok(NodeId(v as u32))
    } else {
        Err(format!(
            "node id {v} is out of range: Kafka accepts 0 to {MAX_NODE_ID}"
        ))
    }
}

fn port(
    p: &Picker<'_>,
    value: Option<i64>,
    key: &'static str,
    default: u16,
) -> Result<u16, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => u16::try_from(v).ok().filter(|v| *v != 0).ok_or_else(|| {
            invalid(
                p.file_origin(key),
                format!("port {v} is out of range: use 1 to 65535 (default {default})"),
            )
        }),
    }
}
