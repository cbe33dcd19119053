//! Getting a Kafka distribution over HTTP (real HTTP on 127.0.0.1, fake tarballs built here):
//! digests, published .sha512 files, truncation, mirrors and their failover, refusals before any
//! request.

use kraftd::dist::{DistError, DistSource, obtain};
use kraftd_test_support::fakedist::*;
use kraftd_test_support::*;
use std::path::Path;
use std::time::SystemTime;

fn mtime(p: &Path) -> SystemTime {
    std::fs::symlink_metadata(p).unwrap().modified().unwrap()
}

// ---------------------------------------------------------------- downloads

#[test]
fn download_by_url_with_sha512_installs_and_links_current() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = HttpServer::with_routes([(format!("/k/{TGZ}"), Reply::Body(tarball.clone()))]);
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
    let server = HttpServer::with_routes([(format!("/k/{TGZ}"), Reply::Body(tarball.clone()))]);
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
    let server = HttpServer::with_routes([
        (format!("/k/{TGZ}"), Reply::Body(tarball.clone())),
        (
            format!("/k/{TGZ}.sha512"),
            Reply::Body(gpg_print_md(TGZ, &digest).into_bytes()),
        ),
    ]);
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
    let server = HttpServer::with_routes([
        (format!("/k/{TGZ}"), Reply::Body(tarball.clone())),
        (
            format!("/k/{TGZ}.sha512"),
            Reply::Body(gpg_print_md(TGZ, &other).into_bytes()),
        ),
    ]);
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
    assert_eq!(list_dir(tmp.path()), Vec::<String>::new());
    assert_eq!(server.requests(), vec![format!("/k/{TGZ}.sha512")]);
}

#[test]
fn wrong_checksum_is_refused_and_nothing_is_unpacked() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = HttpServer::with_routes([(format!("/k/{TGZ}"), Reply::Body(tarball.clone()))]);
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
    assert_eq!(list_dir(tmp.path()), Vec::<String>::new());

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
    assert_eq!(list_dir(&opt), Vec::<String>::new());
}

#[test]
fn truncated_download_and_truncated_file_are_refused() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let half = tarball[..tarball.len() / 2].to_vec();
    let server = HttpServer::with_routes([(
        format!("/k/{TGZ}"),
        Reply::Truncated {
            body: half.clone(),
            claimed: tarball.len(),
        },
    )]);
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
    assert_eq!(list_dir(&opt), Vec::<String>::new());

    // A truncated local file without a digest (trusted, so only the unpacker can notice).
    let file = tmp.path().join("kafka.tgz");
    std::fs::write(&file, &half).unwrap();
    let err = obtain(&request(DistSource::Tarball(file), None, None, &opt)).unwrap_err();
    assert!(matches!(err, DistError::BadArchive { .. }), "{err}");
    assert!(err.to_string().contains("corrupt"), "{err}");
    assert_eq!(list_dir(&opt), Vec::<String>::new());
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
    assert_eq!(list_dir(&opt), Vec::<String>::new());
}

#[test]
fn mirror_failover_uses_the_next_mirror() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let good =
        HttpServer::with_routes([(format!("/good/9.9.9/{TGZ}"), Reply::Body(tarball.clone()))]);
    let empty = HttpServer::start();
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
    let empty = HttpServer::start();
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
    assert_eq!(list_dir(tmp.path()), Vec::<String>::new());
}

#[test]
fn unknown_version_without_digest_is_refused_before_any_request() {
    let tarball = fake_dist("kafka_2.13-9.9.9");
    let server = HttpServer::with_routes([(format!("/m/9.9.9/{TGZ}"), Reply::Body(tarball))]);
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
    let server =
        HttpServer::with_routes([(format!("/m/9.9.9/{TGZ}"), Reply::Body(tarball.clone()))]);
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
