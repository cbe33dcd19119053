//! `[dist]`: which Kafka release to install and the mirrors to fetch it from.

use super::{Origin, Picker, invalid};
use crate::KafkaVersion;
use crate::config::{ConfigError, DEFAULT_KAFKA_VERSION, DEFAULT_MIRRORS, Overrides};

/// The checked `[dist]` values.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::config) struct Dist {
    pub kafka_version: KafkaVersion,
    /// Base URLs ending in '/'.
    pub mirrors: Vec<String>,
}

impl Dist {
    /// `--kafka-version` / `--mirror` over `[dist]` over the defaults (4.1.1; CDN, then archive).
    pub fn resolve(p: &Picker<'_>, ov: &Overrides) -> Result<Dist, ConfigError> {
        let kafka_version = match p.pick(
            ov.kafka_version.as_ref(),
            "--kafka-version",
            p.file.dist.kafka_version.as_ref(),
            "dist.kafka_version",
        ) {
            Some((v, origin)) => v
                .parse::<KafkaVersion>()
                .map_err(|e| invalid(origin, format!("{e} (supported: 3.7.1, 4.1.1)")))?,
            None => DEFAULT_KAFKA_VERSION,
        };
        let mirrors = if !ov.mirrors.is_empty() {
            check_mirrors(&ov.mirrors, Origin::Flag("--mirror"))?
        } else if let Some(list) = &p.file.dist.mirrors {
            check_mirrors(list, p.file_origin("dist.mirrors"))?
        } else {
            DEFAULT_MIRRORS.iter().map(|m| m.to_string()).collect()
        };
        Ok(Dist {
            kafka_version,
            mirrors,
        })
    }
}

fn check_mirrors(list: &[String], origin: Origin<'_>) -> Result<Vec<String>, ConfigError> {
    if list.is_empty() {
        return Err(invalid(
            origin,
            "the mirror list is empty; remove the key to use the Apache CDN and archive",
        ));
    }
    list.iter()
        .map(|m| {
            let m = m.trim();
            let bad = |why: &str| {
                invalid(
                    origin,
                    format!("mirror {m:?} {why}; give an http(s) base URL like https://archive.apache.org/dist/kafka/"),
                )
            };
            let url = reqwest::Url::parse(m).map_err(|e| bad(&format!("is not a URL ({e})")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad("is not an http(s) URL"));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(bad("has no host"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(bad("has a query or fragment (the file name is appended to it)"));
            }
            // Normalized to end in '/' so "<v>/kafka_2.13-<v>.tgz" can be appended.
            Ok(if m.ends_with('/') {
                m.to_string()
            } else {
                format!("{m}/")
            })
        })
        .collect()
}
