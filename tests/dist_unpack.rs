//! Unpacking and local sources of a Kafka distribution: unsafe archive entries and links refused,
//! the version read from the jars, local tarballs and directories, the `current` link and dry runs;
//! and the real (Maven-assembled) fixtures installed over HTTP and loaded by the JVM.

use kraftd::dist::{DistError, DistSource, KafkaDist, KafkaVersion, obtain, sha512_hex_of_file};
use kraftd::java::find_java_default;
use kraftd_test_support::fakedist::*;
use kraftd_test_support::*;
use std::path::{Path, PathBuf};

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
        assert_eq!(list_dir(&opt), Vec::<String>::new(), "{what}");
    }
    assert!(!tmp.path().join("a/evil").exists() && !tmp.path().join("evil").exists());
    assert!(!Path::new("/tmp/evil-kraftd-test").exists());
}

/// A tarball with a link entry (`kind` Symlink or Link) whose target is written raw.
fn tgz_with_link(kind: tar::EntryType, link: &str, target: &str) -> Vec<u8> {
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(enc);
    for jar in [
        "k/libs/kafka_2.13-9.9.9.jar",
        "k/libs/kafka-clients-9.9.9.jar",
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(kraftd::dist::EMPTY_ZIP.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, jar, kraftd::dist::EMPTY_ZIP).unwrap();
    }
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
        assert_eq!(
            std::fs::read(&installed).unwrap(),
            kraftd::dist::EMPTY_ZIP,
            "{kind:?} {link}"
        );
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
        assert_eq!(list_dir(&opt), Vec::<String>::new());
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
    assert_eq!(list_dir(&opt), Vec::<String>::new());
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
    assert_eq!(list_dir(&opt), vec!["current"]);
    assert_eq!(
        std::fs::read_link(opt.join("current")).unwrap(),
        PathBuf::from("kafka_2.13-1.2.3")
    );

    req.dry_run = false;
    let got = obtain(&req).unwrap();
    assert!(got.link_changed);
    assert_installed(&got, &opt);
}

/// Download the fixture over HTTP (with --sha512), unpack it, and let the real JVM load the broker
/// from the installed classpath: `kafka.Kafka --version` must print the detected version.
fn install_fixture_and_run_version(version: &str) {
    let tgz = fixture_tgz(version);
    let data = std::fs::read(&tgz).unwrap();
    let name = format!("kafka_2.13-{version}.tgz");
    let server =
        HttpServer::with_routes([(format!("/{version}/{name}"), Reply::Body(data.clone()))]);
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
