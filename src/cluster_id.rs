//! ClusterId: Kafka's cluster identifier (a `Uuid` in base64url), generated and validated as Kafka does.
//!
//! Kafka's `Uuid.randomUuid()` (clients/src/main/java/org/apache/kafka/common/Uuid.java) takes a
//! `java.util.UUID.randomUUID()` — a version-4, variant-2 UUID, so 122 random bits from a CSPRNG —
//! and draws again while the result is reserved (all-zero or `1`) or its base64url text starts
//! with `-`. `kafka-storage random-uuid` prints `toString()`: unpadded base64url, 22 characters.
//! Kafka's own `fromString` is lenient (up to 24 chars, padding, non-zero trailing bits); we accept
//! only the canonical form so the id in kraftd.toml, on the command line and in meta.properties
//! compares equal as text.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use std::fmt;
use std::str::FromStr;

/// A Kafka cluster id: 16 bytes, written as 22 chars of unpadded base64url, canonical, not one of
/// Kafka's reserved values and not starting with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterId(String);

/// Why a text is not a usable cluster id. Display names the value, the reason and the fix; the
/// caller adds where the value came from (flag, file).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid cluster id {value:?}: {reason}; a cluster id is 22 base64url characters as printed by \
     `kafka-storage random-uuid` (or leave it unset and kraft-install generates one)"
)]
pub struct ClusterIdError {
    pub value: String,
    pub reason: String,
}

/// A joining node's --cluster-id contradicts what the running quorum says.
#[derive(Debug, thiserror::Error)]
#[error(
    "--cluster-id={ours} is not the cluster the controllers run: controller {voter} answers cluster id {theirs}. \
     Nothing was changed; re-run with --cluster-id={theirs} (as the first node's kraft-install printed)"
)]
pub struct OtherClusterError {
    pub voter: String,
    pub ours: String,
    pub theirs: String,
}

/// Length of 16 bytes in unpadded base64: ceil(128 / 6).
const ENCODED_LEN: usize = 22;

/// Decodes like Java's lenient decoder (unused trailing bits allowed) so a non-canonical text can
/// be refused with its canonical spelling in the message.
const LENIENT_DECODER: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// `Uuid.ZERO_UUID` and `Uuid.ONE_UUID` (the metadata topic id): Kafka never generates them.
pub const RESERVED_CLUSTER_IDS: [&str; 2] = ["AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAQ"];

impl ClusterId {
    /// A fresh id exactly as `kafka-storage random-uuid` makes one.
    pub fn generate() -> ClusterId {
        ClusterId::generate_from(rand::random::<[u8; 16]>)
    }

    /// `generate` with the random source passed in (tests feed reserved/dash-leading values to
    /// prove the retry). Sets the UUID version-4 / variant-2 bits like `java.util.UUID.randomUUID`.
    pub fn generate_from(mut random_bytes: impl FnMut() -> [u8; 16]) -> ClusterId {
        loop {
            let mut bytes = random_bytes();
            bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
            bytes[8] = (bytes[8] & 0x3f) | 0x80; // IETF variant
            if let Ok(id) = ClusterId::from_bytes(bytes) {
                return id;
            }
        }
    }

    /// The id for these 16 bytes, refused when Kafka would refuse to generate it (reserved value
    /// or text starting with `-`).
    pub fn from_bytes(bytes: [u8; 16]) -> Result<ClusterId, ClusterIdError> {
        let text = URL_SAFE_NO_PAD.encode(bytes);
        check_generatable(&text)?;
        Ok(ClusterId(text))
    }

    /// The 16 bytes this id encodes (Kafka's most- then least-significant long, big-endian).
    pub fn to_bytes(&self) -> [u8; 16] {
        let decoded = URL_SAFE_NO_PAD
            .decode(&self.0)
            .expect("ClusterId holds canonical base64url");
        decoded.try_into().expect("ClusterId holds 16 bytes")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn invalid(value: &str, reason: impl Into<String>) -> ClusterIdError {
    ClusterIdError {
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// The two rules `Uuid.randomUuid()` adds on top of "is a UUID".
fn check_generatable(text: &str) -> Result<(), ClusterIdError> {
    if RESERVED_CLUSTER_IDS.contains(&text) {
        return Err(invalid(
            text,
            "it is one of Kafka's reserved ids (all-zero and 1 are never generated)",
        ));
    }
    if text.starts_with('-') {
        return Err(invalid(
            text,
            "it starts with '-', which Kafka's command-line tools take for an option (Kafka never generates such an id)",
        ));
    }
    Ok(())
}

impl FromStr for ClusterId {
    type Err = ClusterIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let len = s.chars().count();
        if len != ENCODED_LEN {
            return Err(invalid(
                s,
                format!("it has {len} characters, not {ENCODED_LEN}"),
            ));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(invalid(
                s,
                format!("{bad:?} is not a base64url character (A-Z, a-z, 0-9, '-', '_')"),
            ));
        }
        // 22 chars carry 132 bits for 128: the last char's low 4 bits are unused and must be zero
        // (so it is one of A, Q, g, w), else two texts name the same id and Kafka writes back the
        // other one.
        let bytes = LENIENT_DECODER
            .decode(s)
            .map_err(|e| invalid(s, format!("it is not canonical base64url ({e})")))?;
        let canonical = URL_SAFE_NO_PAD.encode(&bytes);
        if canonical != s {
            return Err(invalid(
                s,
                format!(
                    "it is not canonical base64url: its last character sets unused bits (the canonical spelling is {canonical:?})"
                ),
            ));
        }
        if bytes.len() != 16 {
            return Err(invalid(
                s,
                format!("it decodes to {} bytes, not 16", bytes.len()),
            ));
        }
        check_generatable(s)?;
        Ok(ClusterId(s.to_string()))
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canonical id (its last char 'g' = 0b100000 leaves the 4 unused bits zero).
    const KAFKA_EXAMPLE: &str = "MkU3OEVBNTcwNTJENDM2Qg";

    #[test]
    fn generated_ids_are_valid_version4_and_parse_back() {
        for _ in 0..2000 {
            let id = ClusterId::generate();
            let text = id.as_str();
            assert_eq!(text.len(), 22, "{text}");
            assert!(!text.starts_with('-'), "{text}");
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{text}"
            );
            let bytes = id.to_bytes();
            assert_eq!(bytes[6] >> 4, 4, "version nibble of {text}");
            assert_eq!(bytes[8] >> 6, 0b10, "variant bits of {text}");
            assert_eq!(text.parse::<ClusterId>().unwrap(), id);
        }
    }

    #[test]
    fn generated_ids_differ() {
        let a = ClusterId::generate();
        let b = ClusterId::generate();
        assert_ne!(a, b);
    }

    #[test]
    fn generate_retries_on_leading_dash() {
        // 0xF8.. encodes to '-' first (index 62 = 0b111110); the second draw is fine.
        let mut draws = vec![[0xAAu8; 16], [0xF8u8; 16]];
        let id = ClusterId::generate_from(|| draws.pop().unwrap());
        assert!(
            draws.is_empty(),
            "the dash-leading draw must have been retried"
        );
        assert!(!id.as_str().starts_with('-'));
        assert!(id.as_str().starts_with('q'), "{id}");
    }

    #[test]
    fn from_bytes_refuses_reserved_and_dash() {
        let mut one = [0u8; 16];
        one[15] = 1;
        assert!(
            ClusterId::from_bytes([0u8; 16])
                .unwrap_err()
                .reason
                .contains("reserved")
        );
        assert!(
            ClusterId::from_bytes(one)
                .unwrap_err()
                .reason
                .contains("reserved")
        );
        assert!(
            ClusterId::from_bytes([0xF8u8; 16])
                .unwrap_err()
                .reason
                .contains("'-'")
        );
    }

    #[test]
    fn accepts_canonical_id_and_round_trips_bytes() {
        let id: ClusterId = KAFKA_EXAMPLE.parse().unwrap();
        assert_eq!(id.to_string(), KAFKA_EXAMPLE);
        assert_eq!(ClusterId::from_bytes(id.to_bytes()).unwrap(), id);
        // Ids need not be version 4 (other tools may have formatted the cluster).
        assert!("_____________________w".parse::<ClusterId>().is_ok());
    }

    fn reason(s: &str) -> String {
        let err = s.parse::<ClusterId>().unwrap_err();
        assert_eq!(err.value, s);
        let shown = err.to_string();
        assert!(
            shown.contains(&format!("{s:?}")),
            "message names the value: {shown}"
        );
        assert!(
            shown.contains("kafka-storage random-uuid"),
            "message says how to get one: {shown}"
        );
        err.reason
    }

    #[test]
    fn refuses_wrong_length() {
        assert!(reason("").contains("0 characters"));
        assert!(reason(&KAFKA_EXAMPLE[..21]).contains("21 characters"));
        assert!(reason(&format!("{KAFKA_EXAMPLE}A")).contains("23 characters"));
        // Kafka's fromString accepts padding; we want the one canonical text.
        assert!(reason(&format!("{KAFKA_EXAMPLE}==")).contains("24 characters"));
        // A 36-char RFC 4122 UUID is the classic mistake.
        assert!(reason("f81d4fae-7dec-11d0-a765-00a0c91e6bf6").contains("36 characters"));
    }

    #[test]
    fn refuses_bad_characters() {
        assert!(reason("MkU3OEVBNTcwNTJENDM2Q+").contains("'+'"));
        assert!(reason("MkU3OEVBNTcwNTJENDM2Q/").contains("'/'"));
        assert!(reason("MkU3OEVBNTcwNTJENDM2 g").contains("' '"));
        assert!(reason("MkU3OEVBNTcwNTJENDM2Q=").contains("'='"));
        assert!(reason("MkU3OEVBNTcwNTJENDM2Qé").contains("'é'"));
    }

    #[test]
    fn refuses_non_canonical_last_char() {
        // 'g' = 32 = 0b100000: unused bits zero. 'h'..'v' set some of the 4 unused bits.
        for last in ['h', 'k', 'v'] {
            let s = format!("{}{last}", &KAFKA_EXAMPLE[..21]);
            let r = reason(&s);
            assert!(r.contains("not canonical"), "{s}: {r}");
            assert!(
                r.contains(KAFKA_EXAMPLE),
                "names the canonical spelling: {r}"
            );
        }
        assert!(reason("AAAAAAAAAAAAAAAAAAAAAB").contains("not canonical"));
    }

    #[test]
    fn refuses_leading_dash() {
        assert!(reason("-kU3OEVBNTcwNTJENDM2Qg").contains("starts with '-'"));
    }

    #[test]
    fn refuses_reserved() {
        assert!(reason("AAAAAAAAAAAAAAAAAAAAAA").contains("reserved"));
        assert!(reason("AAAAAAAAAAAAAAAAAAAAAQ").contains("reserved"));
        assert!("AAAAAAAAAAAAAAAAAAAAAg".parse::<ClusterId>().is_ok());
    }
}
