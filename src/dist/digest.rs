//! SHA-512 digests: the table pinned in this build, hashing files, and parsing published `.sha512` files.

use super::KafkaVersion;
use anyhow::{Context, Result};
use sha2::{Digest, Sha512};
use std::io::Read;
use std::path::Path;

/// SHA-512 of the official `kafka_2.13-<v>.tgz` per supported release, lower-case hex.
///
/// Taken from sources independent of any Apache mirror (a mirror that serves a bad tarball could
/// serve a matching bad `.sha512` too):
/// - Strimzi's `kafka-versions.yaml` (github.com/strimzi/strimzi-kafka-operator, file at commit
///   01bad4471cc834a82aedf9b857f8cd39d67969a5, field `checksum` of each version), and
/// - Debezium's Kafka image Dockerfiles (github.com/debezium/container-images, `ARG SHA512HASH`).
pub const PINNED_SHA512: &[(KafkaVersion, &str)] = &[
    // Strimzi kafka-versions.yaml (3.7.1 entry). Only one independent source found for this one.
    (
        KafkaVersion::new(3, 7, 1),
        "78e985235d245ba9e2951a82e723a62b8aba8b74a2c8376f7271906af715a36de9142c446096f13fd4bff3a4c10f1d080eb924e91e2256ec2db779906fd6737d",
    ),
    // Strimzi kafka-versions.yaml; identical in Debezium container-images commit 46a03a9e
    // ("DBZ-8400 Upgrade Kafka to 3.9.0", kafka/3.0/Dockerfile).
    (
        KafkaVersion::new(3, 9, 0),
        "5324c1f44d4c84ea469712c2cc3d2d15545c3716edbb5353722df9c661fcc78b031fcf07d1c4f0309c5fdb32686665dfb0cffe55210cd3a1fe2a370538cb4e6d",
    ),
    // Strimzi kafka-versions.yaml (3.9.1 entry).
    (
        KafkaVersion::new(3, 9, 1),
        "1ea204ba73411737a275429ca976d440f007ff0957b90b19be41dc5a4bae52617267769be9f0b5791714d0b3c4c760605bd426faea39edd90763585523fa2cfe",
    ),
    // Strimzi kafka-versions.yaml; identical in Debezium container-images commit 50afe9cb
    // ("DBZ-8875 Kafka 4 for Debezium 3.2", kafka/3.2/Dockerfile).
    (
        KafkaVersion::new(4, 0, 0),
        "00722ab0a6b954e0006994b8d589dcd8f26e1827c47f70b6e820fb45aa35945c19163b0f188caf0caf976c11f7ab005fd368c54e5851e899d2de687a804a5eb9",
    ),
    // Strimzi kafka-versions.yaml (4.0.1 entry).
    (
        KafkaVersion::new(4, 0, 1),
        "23b241098672d828ca86a6dd1dd99102fcdb9de8680ecf213b47251a7ae7a342343cf41adf6fee9f920d171ae13f94c39475165f5a246e1a46609a7d9d5a6811",
    ),
    // Strimzi kafka-versions.yaml; identical in Debezium container-images commit bc18fd82 (kafka/3.4).
    (
        KafkaVersion::new(4, 1, 0),
        "2f611fa1117747a3567ab5d8e59c24a3dc5cd3c0d50a67cf718ab5203bd5ca69d9a1e2c705ee07b8363d71de48964bfd65fac31100a91b458fbd6a2eb3c8ede5",
    ),
    // Strimzi kafka-versions.yaml; identical in Debezium container-images commit 8cbe3ad4
    // ("DBZ-9709 Upgrade to Kafka 4.1.1", kafka/3.4/Dockerfile).
    (
        KafkaVersion::new(4, 1, 1),
        "eb2433e5330e4915a777fcc47447780e81a5041aacf0f787e5b5d06d767da7d484afb9f2ca8651e61769f2256f36967f6481baf17429b289bc2b1e6962640deb",
    ),
];

/// The pinned digest of a release, if this build knows it.
pub fn pinned_sha512(version: &KafkaVersion) -> Option<&'static str> {
    PINNED_SHA512
        .iter()
        .find(|(v, _)| v == version)
        .map(|(_, d)| *d)
}

/// The pinned versions as "3.7.1, 4.1.1" for messages.
pub(crate) fn pinned_list() -> String {
    PINNED_SHA512
        .iter()
        .map(|(v, _)| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lower-case hex (sha2 0.11 digests no longer implement `LowerHex`).
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Normalise a user-given digest (`--sha512`): whitespace dropped, lower-cased, 128 hex digits.
pub(crate) fn normalize_sha512(input: &str) -> Option<String> {
    let hex: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    (hex.len() == 128 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// SHA-512 of a file, lower-case hex.
pub fn sha512_hex_of_file(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha512::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(to_hex(&hasher.finalize()))
}

/// Parse a published `.sha512` file. Accepts Apache's `gpg --print-md SHA512` output
/// (`kafka_2.13-X.tgz: 401D0A2A D7AFB064 …`, upper-case groups wrapped over lines) and plain
/// `sha512sum` output (`<hex>  <name>`). Returns the lower-case hex digest.
pub fn parse_sha512_file(text: &str) -> Option<String> {
    let text = text.trim();
    // sha512sum: the first token is the whole digest.
    if let Some(first) = text.split_whitespace().next() {
        if let Some(hex) = normalize_sha512(first) {
            return Some(hex);
        }
    }
    // gpg --print-md: everything after the first ':' is the digest, in groups over several lines.
    let (_, after) = text.split_once(':')?;
    normalize_sha512(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "401d0a2ad7afb06466ab7a8d4b1f5e7e0e0d9d8fa9c4a6d6e1f3b2a1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5";

    #[test]
    fn parses_gpg_print_md_wrapped() {
        let upper = HEX.to_ascii_uppercase();
        let groups: Vec<&str> = (0..16).map(|i| &upper[i * 8..i * 8 + 8]).collect();
        let text = format!(
            "kafka_2.13-4.1.1.tgz: {}\n                      {}\n",
            groups[..6].join(" "),
            groups[6..].join(" ")
        );
        assert_eq!(parse_sha512_file(&text).as_deref(), Some(HEX));
    }

    #[test]
    fn parses_sha512sum_format() {
        assert_eq!(
            parse_sha512_file(&format!("{HEX}  kafka_2.13-4.1.1.tgz\n")).as_deref(),
            Some(HEX)
        );
        assert_eq!(parse_sha512_file("garbage: 1234"), None);
        assert_eq!(parse_sha512_file(""), None);
    }

    #[test]
    fn pinned_table_is_well_formed() {
        assert!(pinned_sha512(&KafkaVersion::new(3, 7, 1)).is_some());
        assert!(pinned_sha512(&KafkaVersion::new(4, 1, 1)).is_some());
        for (v, d) in PINNED_SHA512 {
            assert_eq!(normalize_sha512(d).as_deref(), Some(*d), "{v}");
        }
    }
}
