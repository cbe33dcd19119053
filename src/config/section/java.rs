//! `[java]`: the JVM kraftd runs Kafka with — Java home, heap (checked against this box's memory)
//! and extra options.

use super::{Picker, absolute, invalid};
use crate::config::host::HostFacts;
use crate::config::{ConfigError, Overrides};
use std::path::PathBuf;

/// Below this Kafka does not get through startup; refuse early with a clear message.
const MIN_HEAP_MIB: u64 = 128;

/// The checked `[java]` values.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::config) struct Java {
    pub java_home: Option<PathBuf>,
    /// JVM heap, e.g. "1G" (normalized: digits and an upper-case K/M/G/T).
    pub heap: String,
    pub jvm_opts: Vec<String>,
}

impl Java {
    /// `--java-home` / `--heap` over `[java]`; without a heap, one sized for this host's memory.
    pub fn resolve(
        p: &Picker<'_>,
        ov: &Overrides,
        host: &dyn HostFacts,
    ) -> Result<Java, ConfigError> {
        let java = &p.file.java;
        let java_home = match p.pick(
            ov.java_home.as_ref(),
            "--java-home",
            java.home.as_ref(),
            "java.home",
        ) {
            Some((v, origin)) => Some(absolute(origin, v, "Java home")?),
            None => None,
        };

        let heap = match p.pick(ov.heap.as_ref(), "--heap", java.heap.as_ref(), "java.heap") {
            Some((v, origin)) => {
                let heap = parse_heap(&v).map_err(|m| invalid(origin, m))?;
                check_heap_fits(&heap, host.total_memory()).map_err(|m| invalid(origin, m))?;
                heap
            }
            None => default_heap(host.total_memory()),
        };

        let jvm_opts = java.opts.clone().unwrap_or_default();
        for opt in &jvm_opts {
            let origin = p.file_origin("java.opts");
            if opt.trim().is_empty() {
                return Err(invalid(origin, "an empty JVM option; remove it"));
            }
            if opt.starts_with("-Xmx") || opt.starts_with("-Xms") {
                return Err(invalid(
                    origin,
                    format!("{opt:?} sets the heap; use java.heap (flag --heap) instead"),
                ));
            }
        }
        Ok(Java {
            java_home,
            heap,
            jvm_opts,
        })
    }
}

/// Check and normalize a JVM heap size: digits and a K/M/G/T suffix, at least 128M.
pub fn parse_heap(value: &str) -> Result<String, String> {
    let v = value.trim();
    let shape =
        || format!("heap {value:?} is not a JVM size like 512M or 2G (digits and K, M, G or T)");
    let (digits, unit) = v.split_at(v.len().saturating_sub(1));
    let unit = unit.to_ascii_uppercase();
    let mib_per_unit: f64 = match unit.as_str() {
        "K" => 1.0 / 1024.0,
        "M" => 1.0,
        "G" => 1024.0,
        "T" => 1024.0 * 1024.0,
        _ => return Err(shape()),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(shape());
    }
    let n: u64 = digits.parse().map_err(|_| shape())?;
    if (n as f64) * mib_per_unit < MIN_HEAP_MIB as f64 {
        return Err(format!(
            "heap {value:?} is too small for Kafka: use at least {MIN_HEAP_MIB}M"
        ));
    }
    Ok(format!("{n}{unit}"))
}

/// Bytes of a heap size as [`parse_heap`] normalizes it (`512M`, `2G`).
pub fn heap_bytes(heap: &str) -> Option<u64> {
    let (digits, unit) = heap.split_at(heap.len().checked_sub(1)?);
    let shift = match unit {
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// Refuse a heap the JVM cannot get: more than this machine's (or cgroup's) memory, which makes
/// every start fail. Unknown memory: not checked. The advice is at most 3/4 of the memory, which
/// leaves room for the page cache Kafka relies on.
pub fn check_heap_fits(heap: &str, total_bytes: Option<u64>) -> Result<(), String> {
    const MIB: u64 = 1 << 20;
    let (Some(want), Some(total)) = (heap_bytes(heap), total_bytes) else {
        return Ok(());
    };
    if want <= total {
        return Ok(());
    }
    let most_mib = total / MIB * 3 / 4;
    let most = if most_mib >= 1024 {
        format!("{}G", most_mib / 1024)
    } else {
        format!("{}M", (most_mib / 64 * 64).max(MIN_HEAP_MIB))
    };
    Err(format!(
        "heap {heap} is more than this machine's {:.1} GiB of memory, so the JVM could not start; \
         use at most {most} (e.g. --heap {most}, or java.heap = \"{most}\" in kraftd.toml)",
        total as f64 / (1u64 << 30) as f64
    ))
}

/// The default heap for a box with `total_bytes` of memory: 1G, or a quarter of the memory when
/// that is less (rounded down to 64M, at least 256M). Unknown memory → 1G (Kafka's own default).
pub fn default_heap(total_bytes: Option<u64>) -> String {
    const MIB: u64 = 1024 * 1024;
    let Some(total) = total_bytes else {
        return "1G".to_string();
    };
    let quarter_mib = total / MIB / 4;
    if quarter_mib >= 1024 {
        "1G".to_string()
    } else {
        format!("{}M", (quarter_mib / 64 * 64).max(256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::total_memory_bytes;

    #[test]
    fn heap_above_the_memory_is_refused() {
        const GIB: u64 = 1 << 30;
        assert_eq!(heap_bytes("512M"), Some(512 << 20));
        assert_eq!(heap_bytes("2G"), Some(2 * GIB));
        assert!(check_heap_fits("16G", Some(16 * GIB)).is_ok());
        assert!(check_heap_fits("64G", None).is_ok());
        let err = check_heap_fits("64G", Some(23 * GIB + GIB / 2)).unwrap_err();
        assert!(
            err.starts_with("heap 64G is more than this machine's 23.5 GiB of memory"),
            "{err}"
        );
        assert!(err.contains("use at most 17G (e.g. --heap 17G"), "{err}");
        let small = check_heap_fits("2G", Some(GIB)).unwrap_err();
        assert!(small.contains("use at most 768M"), "{small}");
    }

    #[test]
    fn default_heap_sizes_for_the_box() {
        const G: u64 = 1 << 30;
        assert_eq!(default_heap(Some(16 * G)), "1G");
        assert_eq!(default_heap(Some(4 * G)), "1G");
        assert_eq!(default_heap(Some(2 * G)), "512M");
        assert_eq!(default_heap(Some(3 * G)), "768M");
        assert_eq!(default_heap(Some(G)), "256M");
        assert_eq!(default_heap(Some(G / 2)), "256M");
        assert_eq!(default_heap(None), "1G");
        assert!(total_memory_bytes().unwrap() > 0);
    }
}
