//! Where a distribution comes from: `--dist FILE|DIR|URL` or the mirrors, and the version a local
//! source holds (read before anything is written).

use super::unpack::peek_version;
use super::{DistError, KafkaDist, KafkaVersion};
use std::fs;
use std::path::PathBuf;

/// Where the distribution comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistSource {
    /// A local `kafka_2.13-<v>.tgz` (operator-provided, e.g. copied by hand).
    Tarball(PathBuf),
    /// An unpacked distribution directory.
    Dir(PathBuf),
    /// One http(s) URL of a tarball.
    Url(String),
    /// Mirror base URLs, tried in order: `<mirror>/<v>/kafka_2.13-<v>.tgz`.
    Mirrors(Vec<String>),
}

/// The default mirrors (one list, kept with the other defaults in `config`).
pub use crate::config::DEFAULT_MIRRORS;

impl DistSource {
    /// Parse `--dist FILE|DIR|URL`: http(s) URLs are downloaded, an existing dir is used as unpacked
    /// distribution, an existing file as tarball.
    pub fn parse_flag(value: &str) -> Result<DistSource, DistError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(DistError::BadInput(
                "--dist is empty: pass a .tgz file, an unpacked dir or an http(s) URL".into(),
            ));
        }
        if v.starts_with("http://") || v.starts_with("https://") {
            return Ok(DistSource::Url(v.to_string()));
        }
        if v.contains("://") {
            return Err(DistError::BadInput(format!(
                "--dist {v}: only http:// and https:// URLs are supported; for a local file pass its path"
            )));
        }
        let path = PathBuf::from(v);
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => Ok(DistSource::Dir(path)),
            Ok(_) => Ok(DistSource::Tarball(path)),
            Err(e) => Err(DistError::BadInput(format!(
                "--dist {v}: {e}; pass an existing kafka_2.13-<v>.tgz, an unpacked distribution dir, or an http(s) URL"
            ))),
        }
    }

    /// The default mirror list as a source.
    pub fn default_mirrors() -> DistSource {
        DistSource::Mirrors(DEFAULT_MIRRORS.iter().map(|s| s.to_string()).collect())
    }

    /// The Kafka version of a local source, read from its jars before anything is written (so Java
    /// can be checked against it first); `None` for downloads, whose version is known only later.
    pub fn local_version(&self) -> Result<Option<KafkaVersion>, DistError> {
        match self {
            DistSource::Dir(dir) => Ok(Some(KafkaDist::verify(dir)?.version)),
            DistSource::Tarball(path) => peek_version(path).map(Some),
            DistSource::Url(_) | DistSource::Mirrors(_) => Ok(None),
        }
    }
}

impl std::fmt::Display for DistSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DistSource::Tarball(p) => write!(f, "tarball {}", p.display()),
            DistSource::Dir(p) => write!(f, "directory {}", p.display()),
            DistSource::Url(u) => write!(f, "{u}"),
            DistSource::Mirrors(m) => write!(f, "mirrors {}", m.join(", ")),
        }
    }
}
