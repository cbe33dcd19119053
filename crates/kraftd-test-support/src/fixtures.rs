//! The Kafka fixture distributions built by `scripts/kafka-dist.sh` under `$KRAFTD_CACHE/dist`: the
//! one lookup every test uses. A missing fixture fails the test (never skips) with the fix.

use std::path::{Path, PathBuf};

/// The Kafka 4.x fixture version.
pub const V4: &str = "4.1.1";
/// The Kafka 3.x fixture version.
pub const V3: &str = "3.7.1";

/// `$KRAFTD_CACHE` (default `~/.cache/kraftd`).
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("KRAFTD_CACHE") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/kraftd"),
    }
}

/// The unpacked fixture distribution for `version` (`…/dist/kafka_2.13-<version>`).
pub fn dist_home(version: &str) -> PathBuf {
    let home = cache_dir().join(format!("dist/kafka_2.13-{version}"));
    assert!(
        home.join(format!("libs/kafka_2.13-{version}.jar"))
            .is_file(),
        "the Kafka {version} test distribution is missing at {}: run `scripts/kafka-dist.sh {version}` first",
        home.display()
    );
    home
}

/// The Maven-assembled fixture tarball for `version` (`…/dist/kafka_2.13-<version>.tgz`).
pub fn fixture_tgz(version: &str) -> PathBuf {
    let tgz = cache_dir().join(format!("dist/kafka_2.13-{version}.tgz"));
    assert!(
        tgz.is_file(),
        "missing Kafka fixture {}: run `scripts/kafka-dist.sh {version}` first (KRAFTD_CACHE={})",
        tgz.display(),
        cache_dir().display()
    );
    tgz
}

/// The unpacked fixture as kraftd's `KafkaDist` (version parsed from `version`).
pub fn fixture_dist(version: &str) -> kraftd::KafkaDist {
    kraftd::KafkaDist {
        home: dist_home(version),
        version: version.parse().expect("a fixture version"),
    }
}

/// The hex SHA-512 of a file (through kraftd's own hashing, as the installer does).
pub fn sha512_hex_of_file(path: &Path) -> String {
    kraftd::dist::sha512_hex_of_file(path).unwrap()
}

/// The hex SHA-512 of bytes (an independent implementation: the `sha2` crate).
pub fn sha512_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(data))
}

/// Whether `version` is a Kafka 3.x fixture (tool classes and log config differ from 4.x).
pub fn is_v3(version: &str) -> bool {
    version.starts_with('3')
}
