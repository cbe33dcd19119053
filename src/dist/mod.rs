//! KafkaDist: getting a Kafka distribution (download with pinned digest and mirror failover, or a
//! local tarball/dir), verifying and unpacking it, and detecting its version from the jars.

mod digest;
mod download;
mod installed;
mod obtain;
mod source;
mod unpack;
mod version;

pub use digest::{PINNED_SHA512, parse_sha512_file, pinned_sha512, sha512_hex_of_file};
pub use download::Progress;
pub use installed::PROVENANCE_FILE;
pub use obtain::{ObtainRequest, Obtained, obtain};
pub use source::DistSource;
pub use version::KafkaVersion;

use std::path::{Path, PathBuf};

/// The directory name of an unpacked release, as in the official tarball: `kafka_2.13-<v>`.
pub fn dist_dir_name(version: &KafkaVersion) -> String {
    format!("kafka_2.13-{version}")
}

/// The file name of an official release tarball: `kafka_2.13-<v>.tgz`.
pub fn tarball_name(version: &KafkaVersion) -> String {
    format!("kafka_2.13-{version}.tgz")
}

/// The version in a broker jar name `kafka_2.13-<v>.jar`; None for `-sources`, `-test`, `-javadoc`
/// jars and anything else.
pub fn version_from_jar_name(name: &str) -> Option<KafkaVersion> {
    let rest = name.strip_prefix("kafka_2.13-")?.strip_suffix(".jar")?;
    rest.parse().ok()
}

/// The version in a tarball or URL file name `…/kafka_2.13-<v>.tgz` (a hint only: the jars decide).
pub fn version_from_tarball_name(name: &str) -> Option<KafkaVersion> {
    let file = name.rsplit('/').next()?;
    let rest = file.strip_prefix("kafka_2.13-")?;
    let rest = rest
        .strip_suffix(".tgz")
        .or_else(|| rest.strip_suffix(".tar.gz"))?;
    rest.parse().ok()
}

/// Errors of getting and checking a distribution that callers branch on (exit codes, retries, hints).
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// The downloaded or local file does not have the expected SHA-512.
    #[error(
        "SHA-512 mismatch for {location}: expected {expected}, got {actual}. The file is corrupt or not \
         the official release; nothing was unpacked. Fetch it again (or another --mirror), or pass the \
         right --sha512 HEX"
    )]
    ChecksumMismatch {
        location: String,
        expected: String,
        actual: String,
    },

    /// The mirror's published `.sha512` file disagrees with the digest we expect.
    #[error(
        "the published checksum {checksum_url} says {published}, but the expected SHA-512 is {expected}: \
         refusing this download. Use another --mirror, or check the --sha512 you passed"
    )]
    PublishedDigestMismatch {
        checksum_url: String,
        published: String,
        expected: String,
    },

    /// No digest for a download: neither pinned in this build nor given with --sha512.
    #[error(
        "no SHA-512 known for Kafka {version}: this build pins digests for {pinned} only. Pass \
         --sha512 HEX (from https://archive.apache.org/dist/kafka/{version}/kafka_2.13-{version}.tgz.sha512, \
         checked against the release signature) or use --dist FILE with a tarball you trust"
    )]
    NoDigest { version: String, pinned: String },

    /// A download (single URL) failed.
    #[error(
        "cannot download {url}: {reason}. Check the URL, or copy the tarball by hand and pass --dist FILE"
    )]
    DownloadFailed { url: String, reason: String },

    /// Every mirror failed; each failure is listed.
    #[error(
        "could not download Kafka {version} from any mirror:\n{}\nCopy kafka_2.13-{version}.tgz here by hand and \
         pass --dist FILE, or name a reachable mirror with --mirror URL",
        .failures.iter().map(|(m, why)| format!("  - {m}: {why}")).collect::<Vec<_>>().join("\n")
    )]
    AllMirrorsFailed {
        version: KafkaVersion,
        failures: Vec<(String, String)>,
    },

    /// The tarball or dir is not a Kafka distribution.
    #[error("not a Kafka distribution: {reason} in {}. Pass --dist with an official kafka_2.13-<v>.tgz or its unpacked dir", path.display())]
    NotADistribution { path: PathBuf, reason: String },

    /// A distribution whose files are damaged (a jar that is not a readable zip, a missing jar).
    #[error(
        "{} is a broken Kafka distribution: {reason}. Nothing was installed from it; pass --dist with an \
         intact copy (e.g. the official kafka_2.13-<v>.tgz with its --sha512)",
        path.display()
    )]
    Broken { path: PathBuf, reason: String },

    /// The tarball is corrupt, truncated or contains unsafe entries.
    #[error("cannot unpack {}: {reason}. Nothing was installed; fetch the tarball again", path.display())]
    BadArchive { path: PathBuf, reason: String },

    /// The distribution found is another version than the one asked for.
    #[error(
        "{} holds Kafka {detected} (from its jars), but Kafka {requested} was requested. Pass \
         --kafka-version {detected}, or a --dist of version {requested}",
        path.display()
    )]
    VersionMismatch {
        requested: KafkaVersion,
        detected: KafkaVersion,
        path: PathBuf,
    },

    /// A bad `--dist` / `--mirror` / `--sha512` value.
    #[error("{0}")]
    BadInput(String),

    /// Filesystem and other failures, with context naming the path.
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// An unpacked, checked Kafka distribution (`<home>/libs/*.jar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaDist {
    pub home: PathBuf,
    pub version: KafkaVersion,
}

impl KafkaDist {
    /// Open an unpacked distribution and detect its version from `libs/kafka_2.13-<v>.jar`
    /// (not from the directory name, which an operator may have renamed).
    pub fn open(home: &Path) -> anyhow::Result<KafkaDist> {
        Ok(Self::open_checked(home)?)
    }

    /// Like [`KafkaDist::open`] with an error callers can branch on (`NotADistribution`).
    pub fn open_checked(home: &Path) -> Result<KafkaDist, DistError> {
        let libs = home.join("libs");
        let not_dist = |reason: String| DistError::NotADistribution {
            path: home.to_path_buf(),
            reason,
        };
        if !libs.is_dir() {
            return Err(not_dist("no libs/kafka_2.13-*.jar".to_string()));
        }
        let entries = std::fs::read_dir(&libs)
            .map_err(|e| not_dist(format!("cannot read {}: {e}", libs.display())))?;
        let mut found: Vec<(KafkaVersion, String)> = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| not_dist(format!("cannot list {}: {e}", libs.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(v) = version_from_jar_name(&name) {
                found.push((v, name));
            }
        }
        found.sort();
        match found.as_slice() {
            [] => Err(not_dist("no libs/kafka_2.13-*.jar".to_string())),
            [(version, _)] => Ok(KafkaDist {
                home: home.to_path_buf(),
                version: *version,
            }),
            several => Err(not_dist(format!(
                "several broker jars in libs/ ({}): a mixed or half-upgraded copy",
                several
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// [`KafkaDist::open_checked`] plus a check of its files before it is installed or trusted:
    /// the broker jar and `kafka-clients-<v>.jar` are there, and every jar in `libs/` is a readable
    /// zip (its end-of-central-directory record and central directory are where they say).
    pub fn verify(home: &Path) -> Result<KafkaDist, DistError> {
        let dist = Self::open_checked(home)?;
        let broken = |reason: String| DistError::Broken {
            path: home.to_path_buf(),
            reason,
        };
        let libs = home.join("libs");
        let clients = libs.join(format!("kafka-clients-{}.jar", dist.version));
        if !clients.is_file() {
            return Err(broken(format!(
                "libs/kafka-clients-{}.jar is missing",
                dist.version
            )));
        }
        let mut jars: Vec<PathBuf> = std::fs::read_dir(&libs)
            .map_err(|e| broken(format!("cannot list {}: {e}", libs.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jar"))
            .collect();
        jars.sort();
        for jar in jars {
            let name = jar
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            check_zip(&jar).map_err(|why| broken(format!("libs/{name} {why}")))?;
        }
        Ok(dist)
    }

    /// The classpath argument for `java -cp`: `<home>/libs/*`.
    pub fn classpath(&self) -> String {
        format!("{}/libs/*", self.home.display())
    }
}

/// Whether `path` is a readable zip: the end-of-central-directory record is in its last 64 KiB and
/// the central directory it points at starts with a central file header (zip64: the locator is
/// there). Catches truncated, zero-filled and non-zip files without reading the whole jar.
fn check_zip(path: &Path) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let len = f
        .metadata()
        .map_err(|e| format!("cannot be read ({e})"))?
        .len();
    const EOCD: usize = 22;
    if len < EOCD as u64 {
        return Err(format!("is not a zip file ({len} bytes)"));
    }
    let tail_len = len.min(EOCD as u64 + 65535);
    let mut tail = vec![0u8; tail_len as usize];
    f.seek(SeekFrom::Start(len - tail_len))
        .and_then(|_| f.read_exact(&mut tail))
        .map_err(|e| format!("cannot be read ({e})"))?;
    let Some(at) = (0..=tail.len() - EOCD)
        .rev()
        .find(|&i| tail[i..i + 4] == *b"PK\x05\x06")
    else {
        return Err(
            "is not a readable zip: no end-of-central-directory record (truncated or corrupt)"
                .into(),
        );
    };
    let u16_at = |i: usize| u16::from_le_bytes([tail[i], tail[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([tail[i], tail[i + 1], tail[i + 2], tail[i + 3]]);
    let entries = u16_at(at + 10);
    let (cd_size, cd_offset) = (u32_at(at + 12), u32_at(at + 16));
    if cd_offset == u32::MAX || entries == u16::MAX {
        return if at >= 20 && tail[at - 20..at - 16] == *b"PK\x06\x07" {
            Ok(())
        } else {
            Err("is not a readable zip: zip64 without its locator".into())
        };
    }
    let eocd_pos = len - tail_len + at as u64;
    if u64::from(cd_offset) + u64::from(cd_size) > eocd_pos {
        return Err(
            "is not a readable zip: its central directory lies past the end (truncated)".into(),
        );
    }
    if entries > 0 {
        let mut sig = [0u8; 4];
        f.seek(SeekFrom::Start(u64::from(cd_offset)))
            .and_then(|_| f.read_exact(&mut sig))
            .map_err(|e| format!("cannot be read ({e})"))?;
        if sig != *b"PK\x01\x02" {
            return Err(
                "is not a readable zip: no central directory where the zip says (corrupt)".into(),
            );
        }
    }
    Ok(())
}

/// The smallest valid zip (no entries): what tests use as a jar that passes [`KafkaDist::verify`].
pub const EMPTY_ZIP: &[u8] = &[
    b'P', b'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jar_names() {
        assert_eq!(
            version_from_jar_name("kafka_2.13-4.1.1.jar"),
            Some(KafkaVersion::new(4, 1, 1))
        );
        assert_eq!(version_from_jar_name("kafka_2.13-4.1.1-sources.jar"), None);
        assert_eq!(version_from_jar_name("kafka_2.13-4.1.1-test.jar"), None);
        assert_eq!(version_from_jar_name("kafka-clients-4.1.1.jar"), None);
        assert_eq!(
            version_from_tarball_name("http://h/x/kafka_2.13-3.7.1.tgz"),
            Some(KafkaVersion::new(3, 7, 1))
        );
        assert_eq!(version_from_tarball_name("kafka.tgz"), None);
    }

    #[test]
    fn zip_check() {
        let dir = tempfile::tempdir().unwrap();
        let jar = dir.path().join("a.jar");
        let check = |bytes: &[u8]| {
            std::fs::write(&jar, bytes).unwrap();
            check_zip(&jar)
        };
        assert_eq!(EMPTY_ZIP.len(), 22);
        assert!(check(EMPTY_ZIP).is_ok());
        assert!(check(b"not a jar at all, but long enough").is_err());
        assert!(check(&[]).is_err());
        // One entry claimed, but no central directory header where the record points.
        let mut lying = EMPTY_ZIP.to_vec();
        lying[10] = 1;
        assert!(check(&lying).unwrap_err().contains("no central directory"));
        // Central directory said to extend past the record: truncated.
        let mut past = EMPTY_ZIP.to_vec();
        past[12] = 100;
        assert!(check(&past).unwrap_err().contains("truncated"));
    }

    #[test]
    fn open_detects_from_jars_and_rejects_ambiguity() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("kafka_2.13-1.0.0");
        std::fs::create_dir_all(home.join("libs")).unwrap();
        assert!(matches!(
            KafkaDist::open_checked(&home),
            Err(DistError::NotADistribution { .. })
        ));
        std::fs::write(home.join("libs/kafka_2.13-3.7.1.jar"), b"x").unwrap();
        std::fs::write(home.join("libs/kafka_2.13-3.7.1-sources.jar"), b"x").unwrap();
        assert_eq!(
            KafkaDist::open(&home).unwrap().version,
            KafkaVersion::new(3, 7, 1)
        );
        std::fs::write(home.join("libs/kafka_2.13-4.1.1.jar"), b"x").unwrap();
        let err = KafkaDist::open_checked(&home).unwrap_err().to_string();
        assert!(err.contains("several broker jars"), "{err}");
    }
}
