//! Integration tests of getting a Kafka distribution (real HTTP on 127.0.0.1, real tarballs built here)
//! and of finding Java (fake `java` scripts run as real processes, plus the system's java).

use kraftd::dist::{
    DistError, DistSource, KafkaDist, KafkaVersion, ObtainRequest, Obtained, Progress, obtain,
    sha512_hex_of_file,
};
use kraftd::java::{JavaError, JavaRuntime, find_java, find_java_default};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

const V: KafkaVersion = KafkaVersion::new(9, 9, 9);
const TGZ: &str = "kafka_2.13-9.9.9.tgz";

// ---------------------------------------------------------------- a tiny HTTP server

#[derive(Clone)]
enum Reply {
    Body(Vec<u8>),
    /// Claims `claimed` bytes in Content-Length but sends only `body`, then closes.
    Truncated {
        body: Vec<u8>,
        claimed: usize,
    },
}

struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Serve `routes` (path → reply) on an ephemeral 127.0.0.1 port; anything else is 404.
    fn start(routes: HashMap<String, Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let routes = Arc::new(routes);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let routes = routes.clone();
                let log = log.clone();
                std::thread::spawn(move || handle(stream, &routes, &log));
            }
        });
        Server { base, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn handle(mut stream: TcpStream, routes: &Arc<HashMap<String, Reply>>, log: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(path.clone());
    let _ = match routes.get(&path) {
        Some(Reply::Body(body)) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(body)
        }
        Some(Reply::Truncated { body, claimed }) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(body)
        }
        None => write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
        ),
    };
    let _ = stream.flush();
}

/// A URL on a port where nothing listens (connection refused).
fn refused_base() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

// ---------------------------------------------------------------- fake distributions

/// A gzip tar with `entries` (path, contents); paths are written raw into the header so that
/// malicious names (`..`, absolute) can be built too.
fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
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

fn raw_name(h: &mut tar::Header, path: &str) {
    let name = &mut h.as_old_mut().name;
    name.fill(0);
    name[..path.len()].copy_from_slice(path.as_bytes());
}

/// A minimal fake Kafka 9.9.9 distribution under top-level dir `top`.
fn fake_dist(top: &str) -> Vec<u8> {
    tgz(&[
        (&format!("{top}/"), b""),
        (&format!("{top}/bin/"), b""),
        (&format!("{top}/bin/kafka-server-start.sh"), b"#!/bin/sh\n"),
        (&format!("{top}/libs/"), b""),
        (
            &format!("{top}/libs/kafka_2.13-9.9.9.jar"),
            b"not really a jar",
        ),
        (
            &format!("{top}/libs/kafka_2.13-9.9.9-sources.jar"),
            b"sources",
        ),
        (&format!("{top}/libs/kafka-clients-9.9.9.jar"), b"clients"),
    ])
}

fn sha512_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(data))
}

/// `gpg --print-md SHA512` layout: upper-case groups of 8, wrapped over lines.
fn gpg_print_md(name: &str, hex: &str) -> String {
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

fn request(
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

/// Names in the install dir (to assert a failed run left nothing behind, temp files included).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn assert_installed(got: &Obtained, opt: &Path) {
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
        listing(opt),
        vec!["current", "kafka_2.13-9.9.9"],
        "no temp files left behind"
    );
}

fn mtime(p: &Path) -> SystemTime {
    std::fs::symlink_metadata(p).unwrap().modified().unwrap()
}

// ---------------------------------------------------------------- downloads

#[test]
fn download_by_url_with_sha512_installs_and_links_current() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = Server::start(HashMap::from([(
        format!("/k/{TGZ}"),
        Reply::Body(tarball.clone()),
    )]));
    let tmp = tempfile::tempdir().unwrap();
    let opt = tmp.path().join("opt/kafka");
    let req = request(
        DistSource::Url(server.url(&format!("/k/{TGZ}"))),
        Some(V),
        Some(sha512_hex(&tarball)),
        &opt,
    );
    let got = obtain(&req).unwrap();
    assert!(got.changed && got.installed_dir && got.link_changed);
    assert_eq!(got.sha512.as_deref(), Some(sha512_hex(&tarball).as_str()));
    assert_installed(&got, &opt);
    // The .sha512 was asked for (404 is fine), then the tarball.
    assert_eq!(
        server.requests(),
        vec![format!("/k/{TGZ}.sha512"), format!("/k/{TGZ}")]
    );
}

#[test]
fn rerun_is_a_noop_without_any_request() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = Server::start(HashMap::from([(
        format!("/k/{TGZ}"),
        Reply::Body(tarball.clone()),
    )]));
    let tmp = tempfile::tempdir().unwrap();
    let opt = tmp.path().join("opt");
    let req = request(
        DistSource::Url(server.url(&format!("/k/{TGZ}"))),
        Some(V),
        Some(sha512_hex(&tarball)),
        &opt,
    );
    obtain(&req).unwrap();
    let seen = server.requests().len();
    let home = opt.join("kafka_2.13-9.9.9");
    let before = (
        mtime(&home),
        mtime(&home.join("libs/kafka_2.13-9.9.9.jar")),
        mtime(&opt.join("current")),
    );
    std::thread::sleep(std::time::Duration::from_millis(20)); // so a rewrite would show in mtimes
    let again = obtain(&req).unwrap();
    assert!(
        !again.changed && !again.installed_dir && !again.link_changed,
        "{again:?}"
    );
    assert_eq!(server.requests().len(), seen, "a re-run must not download");
    let after = (
        mtime(&home),
        mtime(&home.join("libs/kafka_2.13-9.9.9.jar")),
        mtime(&opt.join("current")),
    );
    assert_eq!(before, after);
    // Mirrors for the same version: also no request.
    let mirrors = request(
        DistSource::Mirrors(vec![server.url("/m")]),
        Some(V),
        Some(sha512_hex(&tarball)),
        &opt,
    );
    assert!(!obtain(&mirrors).unwrap().changed);
    assert_eq!(server.requests().len(), seen);
}

#[test]
fn published_gpg_sha512_that_agrees_is_accepted() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let digest = sha512_hex(&tarball);
    let server = Server::start(HashMap::from([
        (format!("/k/{TGZ}"), Reply::Body(tarball.clone())),
        (
            format!("/k/{TGZ}.sha512"),
            Reply::Body(gpg_print_md(TGZ, &digest).into_bytes()),
        ),
    ]));
    let tmp = tempfile::tempdir().unwrap();
    let req = request(
        DistSource::Url(server.url(&format!("/k/{TGZ}"))),
        Some(V),
        Some(digest),
        tmp.path(),
    );
    assert_installed(&obtain(&req).unwrap(), tmp.path());
}

#[test]
fn published_sha512_that_disagrees_is_refused_before_download() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let other = sha512_hex(b"something else");
    let server = Server::start(HashMap::from([
        (format!("/k/{TGZ}"), Reply::Body(tarball.clone())),
        (
            format!("/k/{TGZ}.sha512"),
            Reply::Body(gpg_print_md(TGZ, &other).into_bytes()),
        ),
    ]));
    let tmp = tempfile::tempdir().unwrap();
    let req = request(
        DistSource::Url(server.url(&format!("/k/{TGZ}"))),
        Some(V),
        Some(sha512_hex(&tarball)),
        tmp.path(),
    );
    let err = obtain(&req).unwrap_err();
    assert!(
        matches!(err, DistError::PublishedDigestMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&other), "{err}");
    assert_eq!(listing(tmp.path()), Vec::<String>::new());
    assert_eq!(server.requests(), vec![format!("/k/{TGZ}.sha512")]);
}

#[test]
fn wrong_checksum_is_refused_and_nothing_is_unpacked() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = Server::start(HashMap::from([(
        format!("/k/{TGZ}"),
        Reply::Body(tarball.clone()),
    )]));
    let tmp = tempfile::tempdir().unwrap();
    let wrong = sha512_hex(b"not the tarball");
    let url = server.url(&format!("/k/{TGZ}"));
    let err = obtain(&request(
        DistSource::Url(url.clone()),
        Some(V),
        Some(wrong.clone()),
        tmp.path(),
    ))
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DistError::ChecksumMismatch { .. }), "{msg}");
    assert!(
        msg.contains(&wrong) && msg.contains(&sha512_hex(&tarball)) && msg.contains(&url),
        "{msg}"
    );
    assert_eq!(listing(tmp.path()), Vec::<String>::new());

    // A local file with a wrong --sha512 likewise.
    let file = tmp.path().join(TGZ);
    std::fs::write(&file, &tarball).unwrap();
    let opt = tmp.path().join("opt");
    let err = obtain(&request(
        DistSource::Tarball(file),
        Some(V),
        Some(wrong),
        &opt,
    ))
    .unwrap_err();
    assert!(matches!(err, DistError::ChecksumMismatch { .. }), "{err}");
    assert_eq!(listing(&opt), Vec::<String>::new());
}

#[test]
fn truncated_download_and_truncated_file_are_refused() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let half = tarball[..tarball.len() / 2].to_vec();
    let server = Server::start(HashMap::from([(
        format!("/k/{TGZ}"),
        Reply::Truncated {
            body: half.clone(),
            claimed: tarball.len(),
        },
    )]));
    let tmp = tempfile::tempdir().unwrap();
    let opt = tmp.path().join("opt");
    let req = request(
        DistSource::Url(server.url(&format!("/k/{TGZ}"))),
        Some(V),
        Some(sha512_hex(&tarball)),
        &opt,
    );
    let err = obtain(&req).unwrap_err();
    assert!(matches!(err, DistError::DownloadFailed { .. }), "{err}");
    assert_eq!(listing(&opt), Vec::<String>::new());

    // A truncated local file without a digest (trusted, so only the unpacker can notice).
    let file = tmp.path().join("kafka.tgz");
    std::fs::write(&file, &half).unwrap();
    let err = obtain(&request(DistSource::Tarball(file), None, None, &opt)).unwrap_err();
    assert!(matches!(err, DistError::BadArchive { .. }), "{err}");
    assert!(err.to_string().contains("corrupt"), "{err}");
    assert_eq!(listing(&opt), Vec::<String>::new());
}

#[test]
fn tarball_without_libs_is_not_a_distribution() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("kafka_2.13-9.9.9.tgz");
    std::fs::write(
        &file,
        tgz(&[
            ("kafka_2.13-9.9.9/", b""),
            ("kafka_2.13-9.9.9/bin/x.sh", b"x"),
        ]),
    )
    .unwrap();
    let opt = tmp.path().join("opt");
    let err = obtain(&request(
        DistSource::Tarball(file.clone()),
        None,
        None,
        &opt,
    ))
    .unwrap_err();
    assert!(matches!(err, DistError::NotADistribution { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("not a Kafka distribution: no libs/kafka_2.13-*.jar in")
            && msg.contains(&file.display().to_string()),
        "{msg}"
    );
    assert_eq!(listing(&opt), Vec::<String>::new());
}

#[test]
fn mirror_failover_uses_the_next_mirror() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let good = Server::start(HashMap::from([(
        format!("/good/9.9.9/{TGZ}"),
        Reply::Body(tarball.clone()),
    )]));
    let empty = Server::start(HashMap::new());
    let tmp = tempfile::tempdir().unwrap();
    let mirrors = vec![refused_base(), empty.url("/nothing/"), good.url("/good")];
    let got = obtain(&request(
        DistSource::Mirrors(mirrors),
        Some(V),
        Some(sha512_hex(&tarball)),
        tmp.path(),
    ))
    .unwrap();
    assert_installed(&got, tmp.path());
    assert_eq!(got.origin, good.url(&format!("/good/9.9.9/{TGZ}")));
    assert!(
        empty.requests().contains(&format!("/nothing/9.9.9/{TGZ}")),
        "{:?}",
        empty.requests()
    );
}

#[test]
fn all_mirrors_failing_lists_each_failure_and_the_way_out() {
    let empty = Server::start(HashMap::new());
    let tmp = tempfile::tempdir().unwrap();
    let refused = refused_base();
    let mirrors = vec![refused.clone(), empty.url("/m")];
    let err = obtain(&request(
        DistSource::Mirrors(mirrors),
        Some(V),
        Some(sha512_hex(b"x")),
        tmp.path(),
    ))
    .unwrap_err();
    let msg = err.to_string();
    match &err {
        DistError::AllMirrorsFailed { failures, .. } => assert_eq!(failures.len(), 2, "{msg}"),
        other => panic!("expected AllMirrorsFailed, got {other}"),
    }
    assert!(
        msg.contains(&refused) && msg.contains(&empty.url("/m/9.9.9")) && msg.contains("404"),
        "{msg}"
    );
    assert!(
        msg.contains("--dist FILE") && msg.contains("--mirror URL"),
        "{msg}"
    );
    assert_eq!(listing(tmp.path()), Vec::<String>::new());
}

#[test]
fn unknown_version_without_digest_is_refused_before_any_request() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = Server::start(HashMap::from([(
        format!("/m/9.9.9/{TGZ}"),
        Reply::Body(tarball),
    )]));
    let tmp = tempfile::tempdir().unwrap();
    let err = obtain(&request(
        DistSource::Mirrors(vec![server.url("/m")]),
        Some(V),
        None,
        tmp.path(),
    ))
    .unwrap_err();
    assert!(matches!(err, DistError::NoDigest { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("9.9.9") && msg.contains("--sha512"), "{msg}");
    let err = obtain(&request(
        DistSource::Url(server.url(&format!("/m/9.9.9/{TGZ}"))),
        None,
        None,
        tmp.path(),
    ))
    .unwrap_err();
    assert!(matches!(err, DistError::NoDigest { .. }), "{err}");
    assert_eq!(
        server.requests(),
        Vec::<String>::new(),
        "no request may be made without a digest"
    );
}

#[test]
fn unwritable_install_dir_fails_before_downloading() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = Server::start(HashMap::from([(
        format!("/m/9.9.9/{TGZ}"),
        Reply::Body(tarball.clone()),
    )]));
    let tmp = tempfile::tempdir().unwrap();
    // A path below a regular file cannot be created, even by root (tests may run as root, which
    // ignores permission bits).
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let opt = blocker.join("opt");
    let err = obtain(&request(
        DistSource::Mirrors(vec![server.url("/m")]),
        Some(V),
        Some(sha512_hex(&tarball)),
        &opt,
    ))
    .unwrap_err();
    assert!(matches!(err, DistError::Io(_)), "{err}");
    assert!(
        format!("{err:#}").contains(&opt.display().to_string()),
        "{err:#}"
    );
    assert_eq!(server.requests(), Vec::<String>::new());
}

// ---------------------------------------------------------------- unpacking and local sources

#[test]
fn unsafe_entries_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let opt = tmp.path().join("a/b/opt");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "dotdot",
            tgz(&[
                ("k/", b""),
                ("k/libs/kafka_2.13-9.9.9.jar", b"x"),
                ("k/../../evil", b"pwned"),
            ]),
        ),
        (
            "absolute",
            tgz(&[
                ("k/libs/kafka_2.13-9.9.9.jar", b"x"),
                ("/tmp/evil-kraftd-test", b"pwned"),
            ]),
        ),
        (
            "two tops",
            tgz(&[("k/libs/kafka_2.13-9.9.9.jar", b"x"), ("other/file", b"y")]),
        ),
        ("symlink out", {
            let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let mut b = tar::Builder::new(enc);
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(1);
            h.set_mode(0o644);
            b.append_data(&mut h, "k/libs/kafka_2.13-9.9.9.jar", &b"x"[..])
                .unwrap();
            let mut l = tar::Header::new_gnu();
            l.set_entry_type(tar::EntryType::Symlink);
            l.set_size(0);
            b.append_link(&mut l, "k/libs/evil", "../../../../etc/passwd")
                .unwrap();
            b.into_inner().unwrap().finish().unwrap()
        }),
        ("device", {
            let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let mut b = tar::Builder::new(enc);
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Char);
            h.set_size(0);
            h.set_mode(0o644);
            b.append_data(&mut h, "k/dev-null", std::io::empty())
                .unwrap();
            b.into_inner().unwrap().finish().unwrap()
        }),
    ];
    for (what, data) in cases {
        let file = tmp.path().join(format!("{what}.tgz"));
        std::fs::write(&file, &data).unwrap();
        let err = obtain(&request(DistSource::Tarball(file), None, None, &opt)).unwrap_err();
        assert!(matches!(err, DistError::BadArchive { .. }), "{what}: {err}");
        assert_eq!(listing(&opt), Vec::<String>::new(), "{what}");
    }
    assert!(!tmp.path().join("a/evil").exists() && !tmp.path().join("evil").exists());
    assert!(!Path::new("/tmp/evil-kraftd-test").exists());
}

/// A tarball with a link entry (`kind` Symlink or Link) whose target is written raw.
fn tgz_with_link(kind: tar::EntryType, link: &str, target: &str) -> Vec<u8> {
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(enc);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, "k/libs/kafka_2.13-9.9.9.jar", &b"x"[..])
        .unwrap();
    let mut l = tar::Header::new_old();
    l.set_entry_type(kind);
    l.set_size(0);
    l.set_mode(0o777);
    raw_name(&mut l, link);
    let lname = &mut l.as_old_mut().linkname;
    lname.fill(0);
    lname[..target.len()].copy_from_slice(target.as_bytes());
    l.set_cksum();
    b.append(&l, std::io::empty()).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn links_inside_the_tree_are_kept_and_escaping_ones_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ok_cases = [
        (
            tar::EntryType::Symlink,
            "k/bin/kafka.jar",
            "../libs/kafka_2.13-9.9.9.jar",
        ),
        (
            tar::EntryType::Link,
            "k/libs/copy.jar",
            "k/libs/kafka_2.13-9.9.9.jar",
        ),
    ];
    for (i, (kind, link, target)) in ok_cases.into_iter().enumerate() {
        let file = tmp.path().join(format!("ok{i}.tgz"));
        std::fs::write(&file, tgz_with_link(kind, link, target)).unwrap();
        let opt = tmp.path().join(format!("opt-ok{i}"));
        let got = obtain(&request(DistSource::Tarball(file), None, None, &opt)).unwrap();
        let installed = got.dist.home.join(link.strip_prefix("k/").unwrap());
        assert_eq!(std::fs::read(&installed).unwrap(), b"x", "{kind:?} {link}");
    }
    let bad_cases = [
        (
            tar::EntryType::Symlink,
            "k/libs/evil",
            "../../../etc/passwd",
        ),
        (tar::EntryType::Symlink, "k/libs/evil", "/etc/passwd"),
        (tar::EntryType::Link, "k/libs/evil", "../etc/passwd"),
        (tar::EntryType::Link, "k/libs/evil", "/etc/passwd"),
        (tar::EntryType::Link, "k/libs/evil", "other/file"),
    ];
    for (i, (kind, link, target)) in bad_cases.into_iter().enumerate() {
        let file = tmp.path().join(format!("bad{i}.tgz"));
        std::fs::write(&file, tgz_with_link(kind, link, target)).unwrap();
        let opt = tmp.path().join(format!("opt-bad{i}"));
        let err = obtain(&request(DistSource::Tarball(file), None, None, &opt)).unwrap_err();
        assert!(
            matches!(err, DistError::BadArchive { .. }),
            "{kind:?} -> {target}: {err}"
        );
        assert!(
            err.to_string().contains("outside the distribution"),
            "{err}"
        );
        assert_eq!(listing(&opt), Vec::<String>::new());
    }
}

#[test]
fn version_comes_from_the_jars_not_the_directory_name() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("kafka_2.13-1.0.0.tgz");
    std::fs::write(&file, fake_dist("kafka_2.13-1.0.0")).unwrap();
    let opt = tmp.path().join("opt");
    // Asking for the version the names suggest is refused: the jars say 9.9.9.
    let err = obtain(&request(
        DistSource::Tarball(file.clone()),
        Some(KafkaVersion::new(1, 0, 0)),
        None,
        &opt,
    ))
    .unwrap_err();
    match &err {
        DistError::VersionMismatch {
            requested,
            detected,
            ..
        } => {
            assert_eq!((*requested, *detected), (KafkaVersion::new(1, 0, 0), V));
        }
        other => panic!("expected VersionMismatch, got {other}"),
    }
    assert_eq!(listing(&opt), Vec::<String>::new());
    // Without a requested version it installs as what the jars say.
    let got = obtain(&request(DistSource::Tarball(file), None, None, &opt)).unwrap();
    assert_installed(&got, &opt);
}

#[test]
fn local_tarball_and_dir_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let data = fake_dist("kafka_2.13-9.9.9");
    let file = tmp.path().join(TGZ);
    std::fs::write(&file, &data).unwrap();
    assert_eq!(sha512_hex_of_file(&file).unwrap(), sha512_hex(&data));
    assert_eq!(
        DistSource::parse_flag(file.to_str().unwrap()).unwrap(),
        DistSource::Tarball(file.clone())
    );
    assert_eq!(
        DistSource::parse_flag("https://x/y.tgz").unwrap(),
        DistSource::Url("https://x/y.tgz".into())
    );
    assert!(matches!(
        DistSource::parse_flag("/no/such/file.tgz"),
        Err(DistError::BadInput(_))
    ));
    assert!(matches!(
        DistSource::parse_flag("ftp://x/y.tgz"),
        Err(DistError::BadInput(_))
    ));

    // Tarball with the right --sha512.
    let opt = tmp.path().join("opt");
    let got = obtain(&request(
        DistSource::Tarball(file),
        Some(V),
        Some(sha512_hex(&data).to_uppercase()),
        &opt,
    ))
    .unwrap();
    assert_installed(&got, &opt);

    // The installed dir as a Dir source: used in place, nothing changes.
    let home = opt.join("kafka_2.13-9.9.9");
    assert_eq!(
        DistSource::parse_flag(home.to_str().unwrap()).unwrap(),
        DistSource::Dir(home.clone())
    );
    let again = obtain(&request(
        DistSource::Dir(opt.join("current")),
        Some(V),
        None,
        &opt,
    ))
    .unwrap();
    assert!(!again.changed, "{again:?}");

    // Another dir is copied into a fresh install dir, with a renamed dir name that does not matter.
    let renamed = tmp.path().join("my-kafka");
    std::fs::rename(&home, &renamed).unwrap();
    let opt2 = tmp.path().join("opt2");
    let copied = obtain(&request(
        DistSource::Dir(renamed.clone()),
        None,
        None,
        &opt2,
    ))
    .unwrap();
    assert!(copied.installed_dir);
    assert_installed(&copied, &opt2);
    assert_eq!(
        std::fs::read(opt2.join("kafka_2.13-9.9.9/bin/kafka-server-start.sh")).unwrap(),
        b"#!/bin/sh\n"
    );
    assert!(
        renamed.join("libs/kafka_2.13-9.9.9.jar").is_file(),
        "the source dir is left alone"
    );
}

#[test]
fn current_link_is_repointed_and_dry_run_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let opt = tmp.path().join("opt");
    std::fs::create_dir_all(&opt).unwrap();
    std::os::unix::fs::symlink("kafka_2.13-1.2.3", opt.join("current")).unwrap();
    let file = tmp.path().join(TGZ);
    std::fs::write(&file, fake_dist("kafka_2.13-9.9.9")).unwrap();

    let mut req = request(DistSource::Tarball(file), Some(V), None, &opt);
    req.dry_run = true;
    let plan = obtain(&req).unwrap();
    assert!(plan.changed && plan.installed_dir && plan.link_changed);
    assert_eq!(listing(&opt), vec!["current"]);
    assert_eq!(
        std::fs::read_link(opt.join("current")).unwrap(),
        PathBuf::from("kafka_2.13-1.2.3")
    );

    req.dry_run = false;
    let got = obtain(&req).unwrap();
    assert!(got.link_changed);
    assert_installed(&got, &opt);
}

// ---------------------------------------------------------------- the real (Maven-assembled) fixture

/// The fixture tarball for `version`; fails (never skips) with how to build it when missing.
fn fixture_tarball(version: &str) -> PathBuf {
    let cache = std::env::var_os("KRAFTD_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/kraftd")
        });
    let tgz = cache.join(format!("dist/kafka_2.13-{version}.tgz"));
    assert!(
        tgz.is_file(),
        "missing test fixture {}: run `scripts/kafka-dist.sh {version}` (KRAFTD_CACHE={})",
        tgz.display(),
        cache.display()
    );
    tgz
}

/// Download the fixture over HTTP (with --sha512), unpack it, and let the real JVM load the broker
/// from the installed classpath: `kafka.Kafka --version` must print the detected version.
fn install_fixture_and_run_version(version: &str) {
    let tgz = fixture_tarball(version);
    let data = std::fs::read(&tgz).unwrap();
    let name = format!("kafka_2.13-{version}.tgz");
    let server = Server::start(HashMap::from([(
        format!("/{version}/{name}"),
        Reply::Body(data.clone()),
    )]));
    let tmp = tempfile::tempdir().unwrap();
    let opt = tmp.path().join("opt/kafka");
    let v: KafkaVersion = version.parse().unwrap();
    let req = request(
        DistSource::Mirrors(vec![server.base.clone()]),
        Some(v),
        Some(sha512_hex(&data)),
        &opt,
    );
    let got = obtain(&req).unwrap();
    assert_eq!(got.dist.version, v);
    assert_eq!(
        std::fs::read_link(opt.join("current")).unwrap(),
        PathBuf::from(format!("kafka_2.13-{version}"))
    );

    let java = find_java_default(None).expect("a Java runtime");
    java.check_for(&v).expect("Java new enough for this Kafka");
    let out = std::process::Command::new(&java.java)
        .args([
            "-cp",
            &KafkaDist::open(&opt.join("current")).unwrap().classpath(),
            "kafka.Kafka",
            "--version",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains(version),
        "kafka.Kafka --version: {text}"
    );
}

#[test]
fn fixture_4_1_1_installs_over_http_and_loads_in_the_jvm() {
    install_fixture_and_run_version("4.1.1");
}

#[test]
fn fixture_3_7_1_installs_over_http_and_loads_in_the_jvm() {
    install_fixture_and_run_version("3.7.1");
}

// ---------------------------------------------------------------- Java

/// A fake JDK home whose bin/java prints `banner` on stderr like the real one.
fn fake_java_home(root: &Path, name: &str, banner: &str) -> PathBuf {
    let home = root.join(name);
    std::fs::create_dir_all(home.join("bin")).unwrap();
    let java = home.join("bin/java");
    std::fs::write(
        &java,
        format!("#!/bin/sh\ncat >&2 <<'EOF'\n{banner}\nEOF\n"),
    )
    .unwrap();
    std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();
    home
}

const BANNER_8: &str =
    "openjdk version \"1.8.0_392\"\nOpenJDK Runtime Environment (build 1.8.0_392-b08)";
const BANNER_11: &str =
    "openjdk version \"11.0.2\" 2019-01-15\nOpenJDK Runtime Environment 18.9 (build 11.0.2+9)";
const BANNER_17: &str =
    "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6)";

#[test]
fn java_search_order_and_version_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let j8 = fake_java_home(tmp.path(), "j8", BANNER_8);
    let j11 = fake_java_home(tmp.path(), "j11", BANNER_11);
    let j17 = fake_java_home(tmp.path(), "j17", BANNER_17);
    let empty_jvm = tmp.path().join("no-jvm");
    let k4 = KafkaVersion::new(4, 1, 1);
    let k3 = KafkaVersion::new(3, 7, 1);

    // --java-home wins over everything.
    let path = std::env::join_paths([j17.join("bin")]).unwrap();
    let rt = find_java(Some(&j8), Some(&j17), Some(&path), &empty_jvm).unwrap();
    assert_eq!((rt.major, rt.version.as_str()), (8, "1.8.0_392"));
    let err = rt.check_for(&k3).unwrap_err().to_string();
    assert!(
        err.contains("Java 8") && err.contains("j8/bin/java") && err.contains("11 or newer"),
        "{err}"
    );
    assert!(
        err.contains("apt install openjdk-17-jre-headless")
            && err.contains("dnf install java-17-openjdk-headless"),
        "{err}"
    );

    // JAVA_HOME next, then PATH.
    let rt = find_java(None, Some(&j11), Some(&path), &empty_jvm).unwrap();
    assert_eq!(rt.major, 11);
    assert!(rt.check_for(&k3).is_ok());
    assert!(matches!(
        rt.check_for(&k4),
        Err(JavaError::TooOld {
            found: 11,
            required: 17,
            ..
        })
    ));
    let rt = find_java(None, None, Some(&path), &empty_jvm).unwrap();
    assert_eq!((rt.major, rt.java.clone()), (17, j17.join("bin/java")));
    assert!(rt.check_for(&k4).is_ok());

    // A broken JAVA_HOME is skipped; a broken --java-home is an error.
    let rt = find_java(
        None,
        Some(&tmp.path().join("nope")),
        Some(&path),
        &empty_jvm,
    )
    .unwrap();
    assert_eq!(rt.major, 17);
    assert!(matches!(
        find_java(
            Some(&tmp.path().join("nope")),
            None,
            Some(&path),
            &empty_jvm
        ),
        Err(JavaError::BadJavaHome { .. })
    ));

    // The jvm root: the newest runtime wins.
    let jvm = tmp.path().join("jvm");
    fake_java_home(&jvm, "java-11", BANNER_11);
    fake_java_home(&jvm, "java-17", BANNER_17);
    fake_java_home(&jvm, "java-8", BANNER_8);
    let rt = find_java(None, None, Some(std::ffi::OsStr::new("")), &jvm).unwrap();
    assert_eq!(
        (rt.major, rt.java.clone()),
        (17, jvm.join("java-17/bin/java"))
    );
}

#[test]
fn missing_java_lists_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = std::env::join_paths([&bin]).unwrap();
    let err = find_java(
        None,
        Some(&tmp.path().join("jh")),
        Some(&path),
        &tmp.path().join("jvm"),
    )
    .unwrap_err();
    assert!(matches!(err, JavaError::NotFound { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("JAVA_HOME")
            && msg.contains(bin.to_str().unwrap())
            && msg.contains("jvm/*/bin/java"),
        "{msg}"
    );
    assert!(msg.contains("apt install openjdk-17-jre-headless"), "{msg}");
}

#[test]
fn the_system_java_is_found_and_runs() {
    let rt: JavaRuntime = find_java_default(None)
        .expect("this machine needs a Java runtime for the broker tests (apt install openjdk-17-jre-headless)");
    assert!(rt.major >= 8, "{rt:?}");
    assert!(rt.java.is_file(), "{rt:?}");
    assert!(
        rt.version.starts_with(&rt.major.to_string()) || rt.version.starts_with("1."),
        "{rt:?}"
    );
}
