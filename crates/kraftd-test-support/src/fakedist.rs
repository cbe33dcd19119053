//! Fake Kafka distributions for the download and unpack tests: gzip tarballs built in memory (raw
//! header names, so malicious entries can be built too), a minimal 9.9.9 distribution, a
//! `gpg --print-md SHA512` digest file, and the request/outcome checks of `kraftd::dist::obtain`.

use kraftd::dist::{DistSource, KafkaDist, KafkaVersion, ObtainRequest, Obtained, Progress};
use std::path::{Path, PathBuf};

/// The fake distributions' version.
pub const V: KafkaVersion = KafkaVersion::new(9, 9, 9);
/// The fake distribution's tarball name.
pub const TGZ: &str = "kafka_2.13-9.9.9.tgz";

/// A gzip tar with `entries` (path, contents); a path ending in `/` is a directory.
pub fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(enc);
    for (path, data) in entries {
        let mut h = tar::Header::new_old();
        let is_dir = path.ends_with('/');
        h.set_entry_type(if is_dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        h.set_mode(if is_dir { 0o755 } else { 0o644 });
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        raw_name(&mut h, path);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Write `path` into the header's name field as is (no normalisation).
pub fn raw_name(h: &mut tar::Header, path: &str) {
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
}

/// A minimal fake Kafka 9.9.9 distribution under top-level dir `top`.
pub fn fake_dist(top: &str) -> Vec<u8> {
    tgz(&[
        (&format!("{top}/"), b""),
        (&format!("{top}/bin/"), b""),
        (&format!("{top}/bin/kafka-server-start.sh"), b"#!/bin/sh\n"),
        (&format!("{top}/libs/"), b""),
        (
            &format!("{top}/libs/kafka_2.13-9.9.9.jar"),
            kraftd::dist::EMPTY_ZIP,
        ),
        (
            &format!("{top}/libs/kafka_2.13-9.9.9-sources.jar"),
            kraftd::dist::EMPTY_ZIP,
        ),
        (
            &format!("{top}/libs/kafka-clients-9.9.9.jar"),
            kraftd::dist::EMPTY_ZIP,
        ),
    ])
}

/// `gpg --print-md SHA512` layout: upper-case groups of 8, wrapped over lines.
pub fn gpg_print_md(name: &str, hex: &str) -> String {
    let up = hex.to_ascii_uppercase();
    let groups: Vec<&str> = (0..16).map(|i| &up[i * 8..i * 8 + 8]).collect();
    let pad = " ".repeat(name.len() + 2);
    format!(
        "{name}: {} {}\n{pad}{} {}\n",
        groups[..4].join(" "),
        groups[4..8].join(" "),
        groups[8..12].join(" "),
        groups[12..].join(" ")
    )
}

/// An obtain request into `opt` with line progress, not a dry run.
pub fn request(
    source: DistSource,
    version: Option<KafkaVersion>,
    sha512: Option<String>,
    opt: &Path,
) -> ObtainRequest<'_> {
    ObtainRequest {
        source,
        version,
        sha512,
        opt_dir: opt,
        progress: Progress::Lines,
        dry_run: false,
    }
}

/// The fake 9.9.9 is installed in `opt`, `current` points at it, and nothing else is left there.
pub fn assert_installed(got: &Obtained, opt: &Path) {
    assert_eq!(got.dist.version, V);
    assert_eq!(got.dist.home, opt.join("kafka_2.13-9.9.9"));
    assert!(
        opt.join("kafka_2.13-9.9.9/libs/kafka_2.13-9.9.9.jar")
            .is_file()
    );
    assert_eq!(
        std::fs::read_link(opt.join("current")).unwrap(),
        PathBuf::from("kafka_2.13-9.9.9")
    );
    assert_eq!(KafkaDist::open(&opt.join("current")).unwrap().version, V);
    assert_eq!(
        crate::tree::list_dir(opt),
        vec!["current", "kafka_2.13-9.9.9"],
        "no temp files left behind"
    );
}
