//! ClusterId: Kafka's cluster identifier (a `Uuid` in base64url), generated and validated as Kafka does.

use std::fmt;
use std::str::FromStr;

/// A Kafka cluster id: 16 bytes, written as 22 chars of unpadded base64url, canonical, not one of
/// Kafka's reserved values and not starting with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid cluster id {value:?}: {reason}")]
pub struct ClusterIdError {
    pub value: String,
    pub reason: String,
}

impl ClusterId {
    pub fn generate() -> ClusterId {
        todo!("cluster id")
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClusterId {
    type Err = ClusterIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        todo!("cluster id")
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
