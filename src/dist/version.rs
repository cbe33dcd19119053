//! KafkaVersion: a Kafka release number and every choice that depends on it (logging backend, Java
//! it needs, where tools and loggers live). Code elsewhere asks the version what it means, never
//! compares major numbers itself, so supporting another release changes this one type.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A Kafka release version such as 3.7.1 or 4.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KafkaVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// 4.0: log4j2 replaces reload4j (log4j 1.x), ZooKeeper mode is gone, Java 17 is the minimum, and
/// the console clients and consumer-groups run from kafka-tools.
const KAFKA_4_0: KafkaVersion = KafkaVersion::new(4, 0, 0);
/// 4.1: the log cleaner moved from the Scala core into the storage module; share groups keep their
/// state in an internal topic.
const KAFKA_4_1: KafkaVersion = KafkaVersion::new(4, 1, 0);

impl KafkaVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KafkaVersion {
            major,
            minor,
            patch,
        }
    }

    /// Logging goes through log4j2 (4.0+), not reload4j/log4j 1.x (3.x).
    pub fn uses_log4j2(&self) -> bool {
        *self >= KAFKA_4_0
    }

    /// The JVM flag that points the logging backend at the config file `path`:
    /// `-Dlog4j2.configurationFile=<path>` (log4j2) or `-Dlog4j.configuration=file:<path>` (log4j 1.x).
    pub fn log_config_flag(&self, path: &Path) -> OsString {
        let mut flag = OsString::from(if self.uses_log4j2() {
            "-Dlog4j2.configurationFile="
        } else {
            "-Dlog4j.configuration=file:"
        });
        flag.push(path);
        flag
    }

    /// File name of the rendered broker log config: `log4j2.properties` or `log4j.properties`.
    pub fn log_config_file_name(&self) -> &'static str {
        if self.uses_log4j2() {
            "log4j2.properties"
        } else {
            "log4j.properties"
        }
    }

    /// The oldest Java (feature version) the release runs on: 17 for 4.x, 11 for 3.x (8 is
    /// deprecated there and not offered by kraftd).
    pub fn min_java(&self) -> u32 {
        if *self >= KAFKA_4_0 { 17 } else { 11 }
    }

    /// The release still carries ZooKeeper-mode code (the `org.apache.zookeeper` client and the
    /// `kafka.controller` loggers of its stock log config); 4.0 removed it.
    pub fn has_zookeeper_mode(&self) -> bool {
        *self < KAFKA_4_0
    }

    /// The log cleaner lives in the storage module (`org.apache.kafka.storage.internals.log`, 4.1+),
    /// not in the Scala core (`kafka.log.LogCleaner`).
    pub fn log_cleaner_in_storage_module(&self) -> bool {
        *self >= KAFKA_4_1
    }

    /// Share groups (KIP-932) keep their state in an internal topic (4.1+), whose replication
    /// kraftd sets (`share.coordinator.state.topic.*`).
    pub fn has_share_coordinator_topic(&self) -> bool {
        *self >= KAFKA_4_1
    }

    /// The console producer/consumer and consumer-groups run from kafka-tools
    /// (`org.apache.kafka.tools.*`, 4.0+), not from the Scala core (`kafka.tools.*`, `kafka.admin.*`).
    pub fn client_tools_in_tools_module(&self) -> bool {
        *self >= KAFKA_4_0
    }

    /// `kafka-consumer-groups --version` prints the version by itself (4.x); 3.x demands
    /// `--bootstrap-server` before it looks at `--version`.
    pub fn consumer_groups_answers_version(&self) -> bool {
        *self >= KAFKA_4_0
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

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> KafkaVersion {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_displays() {
        assert_eq!(v("4.1.1"), KafkaVersion::new(4, 1, 1));
        assert_eq!(v(" 3.7.1 ").to_string(), "3.7.1");
        for bad in ["4.1", "4.1.1.1", "4.x.1", ""] {
            let err = bad.parse::<KafkaVersion>().unwrap_err();
            assert!(err.contains("like 4.1.1"), "{err}");
        }
        assert!(v("3.9.1") < v("4.0.0") && v("4.0.1") < v("4.1.0"));
    }

    #[test]
    fn logging_backend_per_release() {
        let path = Path::new("/var/lib/kraftd/x");
        for (version, log4j2, flag, file) in [
            (
                "3.7.1",
                false,
                "-Dlog4j.configuration=file:/var/lib/kraftd/x",
                "log4j.properties",
            ),
            (
                "3.9.1",
                false,
                "-Dlog4j.configuration=file:/var/lib/kraftd/x",
                "log4j.properties",
            ),
            (
                "4.0.0",
                true,
                "-Dlog4j2.configurationFile=/var/lib/kraftd/x",
                "log4j2.properties",
            ),
            (
                "4.1.1",
                true,
                "-Dlog4j2.configurationFile=/var/lib/kraftd/x",
                "log4j2.properties",
            ),
        ] {
            let k = v(version);
            assert_eq!(k.uses_log4j2(), log4j2, "{version}");
            assert_eq!(k.log_config_flag(path), OsString::from(flag), "{version}");
            assert_eq!(k.log_config_file_name(), file, "{version}");
        }
    }

    #[test]
    fn java_and_code_layout_per_release() {
        // (version, min Java, ZooKeeper mode, cleaner in storage and share coordinator topic,
        // client tools in kafka-tools, consumer-groups answers --version)
        for (version, java, zk, from_4_1, tools, groups_version) in [
            ("3.7.1", 11, true, false, false, false),
            ("3.9.1", 11, true, false, false, false),
            ("4.0.0", 17, false, false, true, true),
            ("4.1.0", 17, false, true, true, true),
            ("4.1.1", 17, false, true, true, true),
        ] {
            let k = v(version);
            assert_eq!(k.min_java(), java, "{version}");
            assert_eq!(k.has_zookeeper_mode(), zk, "{version}");
            assert_eq!(k.log_cleaner_in_storage_module(), from_4_1, "{version}");
            assert_eq!(k.has_share_coordinator_topic(), from_4_1, "{version}");
            assert_eq!(k.client_tools_in_tools_module(), tools, "{version}");
            assert_eq!(
                k.consumer_groups_answers_version(),
                groups_version,
                "{version}"
            );
        }
    }
}
