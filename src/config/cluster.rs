//! Multi-node clusters: the node's role, the controller voter set and their consistency checks.
//!
//! A node without `controllers` is the single combined node kraftd always ran (its own one-voter
//! quorum). With `controllers`, every node of the cluster carries the same static voter list
//! (`controller.quorum.voters`), which Kafka 3.7 and 4.x both accept unchanged.

use super::NodeId;
use std::fmt;
use std::net::IpAddr;

/// What the Kafka process on this node does (`process.roles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// broker and controller in one JVM (`process.roles=broker,controller`).
    #[default]
    Combined,
    /// A quorum voter only: no client listener.
    Controller,
    /// Serves clients; its node id must not be a voter.
    Broker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Combined => "combined",
            Role::Controller => "controller",
            Role::Broker => "broker",
        }
    }

    /// True when this node runs the controller (is a voter).
    pub fn is_controller(self) -> bool {
        matches!(self, Role::Combined | Role::Controller)
    }

    /// True when this node serves clients.
    pub fn is_broker(self) -> bool {
        matches!(self, Role::Combined | Role::Broker)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim() {
            "combined" => Ok(Role::Combined),
            "controller" => Ok(Role::Controller),
            "broker" => Ok(Role::Broker),
            other => Err(format!(
                "role {other:?} is not one of combined, controller, broker"
            )),
        }
    }
}

/// One entry of the voter set: `id@host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voter {
    pub id: NodeId,
    /// As written: an IP (IPv6 in brackets) or a host name.
    pub host: String,
    pub port: u16,
}

impl Voter {
    /// The host without IPv6 brackets, parsed, when it is an IP literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    }
}

impl fmt::Display for Voter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.id.0, self.host, self.port)
    }
}

/// The voter list as Kafka's `controller.quorum.voters` spells it.
pub fn voters_text(voters: &[Voter]) -> String {
    voters
        .iter()
        .map(Voter::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Parse `id@host:port,…` (whitespace around entries ignored). Refuses malformed entries, ids out
/// of range, duplicate ids and duplicate endpoints, each message naming the entry.
pub fn parse_voters(text: &str) -> Result<Vec<Voter>, String> {
    let example = "like 1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093";
    if text.trim().is_empty() {
        return Err(format!(
            "the controller list is empty; give the voters {example}"
        ));
    }
    let mut voters: Vec<Voter> = Vec::new();
    for entry in text.split(',') {
        let entry = entry.trim();
        let bad = |why: &str| {
            format!("controller entry {entry:?} {why}; write each voter as id@host:port, {example}")
        };
        let (id, endpoint) = entry.split_once('@').ok_or_else(|| bad("has no '@'"))?;
        let id: i64 = id
            .trim()
            .parse()
            .map_err(|_| bad("does not start with a numeric node id"))?;
        if !(0..=super::MAX_NODE_ID).contains(&id) {
            return Err(bad(&format!(
                "has node id {id}, out of Kafka's range 0 to {}",
                super::MAX_NODE_ID
            )));
        }
        let (host, port) = endpoint
            .rsplit_once(':')
            .ok_or_else(|| bad("has no ':port'"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("has no valid port (1 to 65535)"))?;
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        let host = if host.starts_with('[') {
            if !host.ends_with(']')
                || host[1..host.len() - 1]
                    .parse::<std::net::Ipv6Addr>()
                    .is_err()
            {
                return Err(bad("has a malformed [IPv6] host"));
            }
            host.to_string()
        } else if let Ok(v6) = host.parse::<std::net::Ipv6Addr>() {
            // A bare IPv6 address cannot be told from its port: Kafka needs the brackets too.
            return Err(bad(&format!(
                "has an IPv6 host without brackets: write [{v6}]"
            )));
        } else if host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        {
            host.to_string()
        } else {
            return Err(bad(
                "has a host that is neither an IP address nor a host name",
            ));
        };
        let voter = Voter {
            id: NodeId(id as u32),
            host,
            port,
        };
        if let Some(other) = voters.iter().find(|v| v.id == voter.id) {
            return Err(format!(
                "node id {} appears twice in the controller list ({other} and {voter}); every voter needs its own node id",
                voter.id
            ));
        }
        if let Some(other) = voters
            .iter()
            .find(|v| v.host.eq_ignore_ascii_case(&voter.host) && v.port == voter.port)
        {
            return Err(format!(
                "{}:{} appears twice in the controller list ({other} and {voter}); each voter listens on its own address",
                voter.host, voter.port
            ));
        }
        voters.push(voter);
    }
    Ok(voters)
}

/// Advice (not errors) about a voter set's size: one voter has no fault tolerance, an even number
/// tolerates no more failures than one voter less.
pub fn voter_set_warnings(voters: &[Voter]) -> Vec<String> {
    let n = voters.len();
    if n == 1 {
        vec![format!(
            "the controller quorum has a single voter ({}): losing that node stops the whole cluster; use 3 voters for production",
            voters[0]
        )]
    } else if n % 2 == 0 {
        vec![format!(
            "the controller quorum has {n} voters, an even number: it tolerates {} failure(s), no more than {} voters would; use an odd number (3 or 5)",
            (n - 1) / 2,
            n - 1
        )]
    } else {
        Vec::new()
    }
}

/// Replication factor for internal topics (and auto-created topics) of a cluster: min(3, brokers).
/// `brokers` is the operator's `--brokers`; without it a combined cluster counts its voters
/// (each is a broker) and a cluster with dedicated brokers assumes the recommended three.
pub fn default_replication_factor(role: Role, voters: usize, brokers: Option<u32>) -> u32 {
    let brokers = brokers.unwrap_or(match role {
        Role::Combined => voters as u32,
        Role::Controller | Role::Broker => 3,
    });
    brokers.clamp(1, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_voters() {
        let v = parse_voters(" 1@10.0.0.1:9093, 2@c2.example:19093,3@[fd00::3]:9093").unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(
            v[1],
            Voter {
                id: NodeId(2),
                host: "c2.example".into(),
                port: 19093
            }
        );
        assert_eq!(v[2].ip(), Some("fd00::3".parse().unwrap()));
        assert_eq!(
            voters_text(&v),
            "1@10.0.0.1:9093,2@c2.example:19093,3@[fd00::3]:9093"
        );
    }

    #[test]
    fn refuses_malformed_voters() {
        for (text, needle) in [
            ("", "empty"),
            ("1@10.0.0.1:9093,", "\"\" has no '@'"),
            ("10.0.0.1:9093", "has no '@'"),
            ("x@10.0.0.1:9093", "numeric node id"),
            ("-1@10.0.0.1:9093", "out of Kafka's range"),
            ("1@10.0.0.1", "has no ':port'"),
            ("1@10.0.0.1:0", "valid port"),
            ("1@10.0.0.1:99999", "valid port"),
            ("1@:9093", "has no host"),
            ("1@fd00::1:9093", "without brackets"),
            ("1@a/b:9093", "neither an IP"),
            ("1@10.0.0.1:9093,1@10.0.0.2:9093", "node id 1 appears twice"),
            (
                "1@10.0.0.1:9093,2@10.0.0.1:9093",
                "10.0.0.1:9093 appears twice",
            ),
        ] {
            let e = parse_voters(text).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn warns_on_one_and_even_voter_sets() {
        let one = parse_voters("1@h1:9093").unwrap();
        assert!(voter_set_warnings(&one)[0].contains("single voter"));
        let two = parse_voters("1@h1:9093,2@h2:9093").unwrap();
        assert!(voter_set_warnings(&two)[0].contains("even number"));
        let three = parse_voters("1@h1:9093,2@h2:9093,3@h3:9093").unwrap();
        assert!(voter_set_warnings(&three).is_empty());
    }

    #[test]
    fn replication_factor_is_min_3_brokers() {
        assert_eq!(default_replication_factor(Role::Broker, 3, None), 3);
        assert_eq!(default_replication_factor(Role::Broker, 3, Some(2)), 2);
        assert_eq!(default_replication_factor(Role::Controller, 3, Some(5)), 3);
        assert_eq!(default_replication_factor(Role::Combined, 2, None), 2);
        assert_eq!(default_replication_factor(Role::Combined, 5, None), 3);
    }
}
