//! kraft-install getting Kafka end to end: real Kafka fixtures (Maven-assembled) over real HTTP on
//! 127.0.0.1, from mirrors, local tarballs and directories, the real broker started with the bare
//! JVM command; and every bad download leaving the target unchanged.

use kraftd_test_support::*;
use std::path::Path;

/// A pre-placed kraftd.toml with free ports, so tests can run side by side.
fn preplace(prefix: &Path, extra: &str) -> (u16, u16) {
    preplace_config(
        prefix,
        "# pre-placed by the test: an admin's comment that must survive\n",
        extra,
    )
}

fn prefix_arg(prefix: &Path) -> String {
    prefix.display().to_string()
}

#[test]
fn http_download_installs_4x_rerun_is_noop_and_broker_serves() {
    let tgz = fixture_tgz(V4);
    let server = HttpServer::start();
    let url_path = format!("/kafka/{V4}/kafka_2.13-{V4}.tgz");
    server.add(&url_path, &tgz);
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("node");
    let (port, _) = preplace(&prefix, "");
    let admin_toml = std::fs::read_to_string(prefix.join("etc/kafka/kraftd.toml")).unwrap();
    let sha = sha512_hex_of_file(&tgz);
    let url = server.url(&url_path);
    let p = prefix_arg(&prefix);
    let args = [
        "--prefix",
        &p,
        "--dist",
        &url,
        "--sha512",
        &sha,
        "--advertise",
        "127.0.0.1",
    ];

    let out = kraft_install(&args);
    assert!(
        out.status.success(),
        "first install failed: {}",
        stderr(&out)
    );
    assert_eq!(
        server.hit_count(),
        2,
        "expected the tarball and its .sha512 to be fetched once each"
    );
    for f in [
        "var/lib/kraftd/server.properties",
        "var/lib/kraftd/log4j2.properties",
        "etc/systemd/system/kafka.service",
    ] {
        assert!(prefix.join(f).is_file(), "{f} missing");
    }
    assert!(prefix.join("var/lib/kafka/data/meta.properties").is_file());
    let toml = std::fs::read_to_string(prefix.join("etc/kafka/kraftd.toml")).unwrap();
    assert_eq!(
        toml, admin_toml,
        "kraft-install wrote to the admin's kraftd.toml"
    );
    let state = std::fs::read_to_string(prefix.join("var/lib/kraftd/node.toml")).unwrap();
    assert!(
        state.contains("cluster_id = ") && state.contains("advertise = \"127.0.0.1\""),
        "node.toml lacks resolved values:\n{state}"
    );
    assert!(
        !state.contains("broker_port"),
        "node.toml copies a value kraftd.toml sets:\n{state}"
    );
    let props = std::fs::read_to_string(prefix.join("var/lib/kraftd/server.properties")).unwrap();
    assert!(
        props.contains(&format!(
            "advertised.listeners=PLAINTEXT://127.0.0.1:{port}"
        )),
        "{props}"
    );
    assert!(
        props.contains(&format!(
            "log.dirs={}",
            prefix.join("var/lib/kafka/data").display()
        )),
        "{props}"
    );

    // Re-run: nothing changes, nothing is downloaded again.
    let before = snapshot(&prefix);
    let out = kraft_install(&args);
    assert!(out.status.success(), "re-run failed: {}", stderr(&out));
    assert!(
        stdout(&out).contains("Nothing to change"),
        "{}",
        stdout(&out)
    );
    assert_eq!(before, snapshot(&prefix), "the re-run changed files");
    assert_eq!(server.hit_count(), 2, "the re-run downloaded again");

    // The node serves with the bare JVM command.
    let broker = Broker::start(&prefix, V4);
    let bootstrap = format!("127.0.0.1:{port}");
    broker.produce(&bootstrap, "kraftd-test", &["one", "two", "three"]);
    assert_eq!(
        broker.consume(&bootstrap, "kraftd-test", 3),
        ["one", "two", "three"]
    );
    let status = broker.stop();
    assert!(
        matches!(status.code(), Some(0) | Some(143)) || status.code().is_none(),
        "{status}"
    );
    assert!(
        prefix
            .join("var/lib/kafka/data/.kafka_cleanshutdown")
            .exists(),
        "no clean shutdown marker"
    );

    // Data of this cluster is kept; an install for another cluster is refused with nothing changed.
    let before = snapshot(&prefix);
    let out = kraft_install(&[
        "--prefix",
        &p,
        "--dist",
        &url,
        "--sha512",
        &sha,
        "--cluster-id",
        "MkU3OEVBNTcwNTJENDM2Qg",
    ]);
    assert_eq!(
        out.status.code(),
        Some(65),
        "another cluster's install must be refused"
    );
    let err = stderr(&out);
    assert!(
        err.contains("MkU3OEVBNTcwNTJENDM2Qg") && err.contains("meta.properties"),
        "{err}"
    );
    assert_eq!(before, snapshot(&prefix), "a refused install changed files");
}

#[test]
fn mirror_failover_installs_37_which_serves() {
    let tgz = fixture_tgz(V3);
    let server = HttpServer::start();
    server.add(&format!("/mirror/{V3}/kafka_2.13-{V3}.tgz"), &tgz);
    // The mirror's .sha512 in gpg --print-md format: upper-case groups, wrapped.
    let sha = sha512_hex_of_file(&tgz);
    let groups: Vec<String> = sha
        .to_uppercase()
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let gpg = format!(
        "kafka_2.13-{V3}.tgz: {}\n                    {}\n",
        groups[..8].join(" "),
        groups[8..].join(" ")
    );
    let tmp = tempfile::tempdir().unwrap();
    let sha_file = tmp.path().join("x.sha512");
    std::fs::write(&sha_file, gpg).unwrap();
    server.add(
        &format!("/mirror/{V3}/kafka_2.13-{V3}.tgz.sha512"),
        &sha_file,
    );

    let prefix = tmp.path().join("node");
    let (port, _) = preplace(&prefix, "");
    let dead = format!("http://127.0.0.1:{}/", free_port());
    let good = server.url("/mirror/");
    let p = prefix_arg(&prefix);
    let out = kraft_install(&[
        "--prefix",
        &p,
        "--kafka-version",
        V3,
        "--mirror",
        &dead,
        "--mirror",
        &good,
        "--sha512",
        &sha,
        "--advertise",
        "127.0.0.1",
        "--no-systemd",
    ]);
    assert!(out.status.success(), "install failed: {}", stderr(&out));
    assert!(
        stderr(&out).contains(&dead) || stdout(&out).contains(&dead),
        "the failed mirror should be reported"
    );
    assert!(prefix.join("var/lib/kraftd/log4j.properties").is_file());
    assert!(
        !prefix.join("etc/systemd/system/kafka.service").exists(),
        "--no-systemd wrote a unit"
    );

    let broker = Broker::start(&prefix, V3);
    let bootstrap = format!("127.0.0.1:{port}");
    broker.produce(&bootstrap, "kraftd-test", &["a", "b"]);
    assert_eq!(broker.consume(&bootstrap, "kraftd-test", 2), ["a", "b"]);
    broker.stop();
}

#[test]
fn local_tarball_and_directory_installs_detect_the_version_from_the_jars() {
    let tmp = tempfile::tempdir().unwrap();
    // A tarball whose name says nothing about its version.
    let renamed = tmp.path().join("kafka.tgz");
    std::fs::copy(fixture_tgz(V4), &renamed).unwrap();
    let a = tmp.path().join("a");
    let pa = prefix_arg(&a);
    // The Maven-assembled fixture is not the official release: its digest differs from the pinned one.
    let sha = sha512_hex_of_file(&renamed);
    let out = kraft_install(&[
        "--prefix",
        &pa,
        "--dist",
        &renamed.display().to_string(),
        "--sha512",
        &sha,
        "--advertise",
        "127.0.0.1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(a.join(format!("opt/kafka/kafka_2.13-{V4}/libs")).is_dir());
    assert_eq!(
        std::fs::read_link(a.join("opt/kafka/current")).unwrap(),
        Path::new(&format!("kafka_2.13-{V4}"))
    );
    let toml = std::fs::read_to_string(a.join("etc/kafka/kraftd.toml")).unwrap();
    assert_eq!(
        toml,
        kraftd::config::DEFAULT_CONFIG_TEMPLATE,
        "an absent kraftd.toml is created as the template"
    );
    let state = std::fs::read_to_string(a.join("var/lib/kraftd/node.toml")).unwrap();
    assert!(
        state.contains(&format!("kafka_version = \"{V4}\"")),
        "{state}"
    );

    let b = tmp.path().join("b");
    let pb = prefix_arg(&b);
    let dir = dist_home(V3).display().to_string();
    let out = kraft_install(&[
        "--prefix",
        &pb,
        "--dist",
        &dir,
        "--advertise",
        "127.0.0.1",
        "--no-systemd",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let state = std::fs::read_to_string(b.join("var/lib/kraftd/node.toml")).unwrap();
    assert!(
        state.contains(&format!("kafka_version = \"{V3}\"")),
        "{state}"
    );
    assert!(b.join("var/lib/kafka/data/meta.properties").is_file());
    let before = snapshot(&b);
    let out = kraft_install(&[
        "--prefix",
        &pb,
        "--dist",
        &dir,
        "--advertise",
        "127.0.0.1",
        "--no-systemd",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        before,
        snapshot(&b),
        "re-run from a directory changed files"
    );
}

#[test]
fn dry_run_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let before = snapshot(tmp.path());
    let p = tmp.path().join("node").display().to_string();
    let out = kraft_install(&[
        "--prefix",
        &p,
        "--dist",
        &dist_home(V4).display().to_string(),
        "--advertise",
        "127.0.0.1",
        "--dry-run",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("nothing will be changed"),
        "{}",
        stdout(&out)
    );
    assert_eq!(before, snapshot(tmp.path()));
}

#[test]
fn wrong_checksum_is_refused() {
    let (tmp, prefix) = fresh();
    let tgz = fixture_tgz(V4).display().to_string();
    let wrong = "ab".repeat(64);
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &[
            "--dist",
            &tgz,
            "--sha512",
            &wrong,
            "--advertise",
            "127.0.0.1",
        ],
        1,
        &[&wrong, "SHA-512"],
    );
}

#[test]
fn wrong_checksum_over_http_is_refused() {
    let (tmp, prefix) = fresh();
    let server = HttpServer::start();
    server.add("/k.tgz", &fixture_tgz(V4));
    let wrong = "cd".repeat(64);
    let url = server.url("/k.tgz");
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &[
            "--dist",
            &url,
            "--sha512",
            &wrong,
            "--advertise",
            "127.0.0.1",
        ],
        1,
        &[&wrong],
    );
}

#[test]
fn truncated_tarball_is_refused() {
    let (tmp, prefix) = fresh();
    let src = std::fs::read(fixture_tgz(V4)).unwrap();
    let cut = tmp.path().join("kafka_2.13-4.1.1.tgz");
    std::fs::write(&cut, &src[..src.len() / 2]).unwrap();
    let c = cut.display().to_string();
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &c, "--advertise", "127.0.0.1"],
        1,
        &[&c],
    );
}

#[test]
fn tarball_without_libs_is_refused() {
    let (tmp, prefix) = fresh();
    let d = tmp.path().join("src/kafka_2.13-4.1.1/bin");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("kafka-server-start.sh"), "#!/bin/sh\n").unwrap();
    let tgz = tmp.path().join("nolibs.tgz");
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&tgz)
        .arg("-C")
        .arg(tmp.path().join("src"))
        .arg("kafka_2.13-4.1.1")
        .status()
        .unwrap();
    assert!(st.success());
    let t = tgz.display().to_string();
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &t, "--advertise", "127.0.0.1"],
        69,
        &["libs"],
    );
}

#[test]
fn unreachable_url_without_further_mirror_is_refused() {
    let (tmp, prefix) = fresh();
    let dead = format!("http://127.0.0.1:{}/kafka/", free_port());
    let sha = "ab".repeat(64);
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &[
            "--kafka-version",
            V4,
            "--mirror",
            &dead,
            "--sha512",
            &sha,
            "--advertise",
            "127.0.0.1",
        ],
        1,
        &[&dead, "--dist"],
    );
}

#[test]
fn unknown_version_without_digest_is_refused_before_downloading() {
    let (tmp, prefix) = fresh();
    let server = HttpServer::start();
    let m = server.url("/m/");
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &[
            "--kafka-version",
            "4.0.99",
            "--mirror",
            &m,
            "--advertise",
            "127.0.0.1",
        ],
        78,
        &["4.0.99", "--sha512"],
    );
    assert_eq!(
        server.hit_count(),
        0,
        "nothing may be requested without a digest"
    );
}
