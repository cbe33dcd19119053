//! KafkaDist: getting a Kafka distribution (download with pinned digest and mirror failover, or a
//! local tarball/dir), verifying and unpacking it, and detecting its version from the jars.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A Kafka release version such as 3.7.1 or 4.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KafkaVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KafkaVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KafkaVersion { major, minor, patch }
    }
}

impl fmt::Display for KafkaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for KafkaVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        let bad = || format!("{s:?} is not a Kafka version like 4.1.1");
        if parts.len() != 3 {
            return Err(bad());
        }
        let n = |p: &str| p.parse::<u32>().map_err(|_| bad());
        Ok(KafkaVersion::new(n(parts[0])?, n(parts[1])?, n(parts[2])?))
    }
}

/// An unpacked, checked Kafka distribution (`<home>/libs/*.jar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaDist {
    pub home: PathBuf,
    pub version: KafkaVersion,
}

impl KafkaDist {
    /// Open an unpacked distribution and detect its version from `libs/kafka_2.13-<v>.jar`.
    pub fn open(home: &Path) -> anyhow::Result<KafkaDist> {
        let _ = home;
        todo!("dist helper")
    }

    /// The classpath argument for `java -cp`: `<home>/libs/*`.
    pub fn classpath(&self) -> String {
        format!("{}/libs/*", self.home.display())
    }
}
