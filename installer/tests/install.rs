//! kraft-install end to end: real Kafka fixtures (Maven-assembled), real HTTP on 127.0.0.1, the real
//! broker started with the bare JVM command, and every bad input leaving the target unchanged.

mod support;

use std::path::Path;
use support::*;

/// A pre-placed kraftd.toml with free ports, so tests can run side by side.
fn preplace_config(prefix: &Path, extra: &str) -> (u16, u16) {
    let (broker, controller) = (free_port(), free_port());
    let etc = prefix.join("etc/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("kraftd.toml"),
        format!(
            "# pre-placed by the test: an admin's comment that must survive\n[node]\nbroker_port = {broker}\ncontroller_port = {controller}\n\n[java]\nheap = \"512M\"\n{extra}"
        ),
    )
    .unwrap();
    (broker, controller)
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
    let (port, _) = preplace_config(&prefix, "");
    let sha = sha512_hex(&tgz);
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
        "etc/kafka/server.properties",
        "etc/kafka/log4j2.properties",
        "etc/systemd/system/kafka.service",
    ] {
        assert!(prefix.join(f).is_file(), "{f} missing");
    }
    assert!(prefix.join("var/lib/kafka/data/meta.properties").is_file());
    let toml = std::fs::read_to_string(prefix.join("etc/kafka/kraftd.toml")).unwrap();
    assert!(
        toml.contains("an admin's comment that must survive"),
        "write-back lost the comment:\n{toml}"
    );
    assert!(
        toml.contains("cluster_id"),
        "write-back lacks the cluster id:\n{toml}"
    );
    let props = std::fs::read_to_string(prefix.join("etc/kafka/server.properties")).unwrap();
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
    let sha = sha512_hex(&tgz);
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
    let (port, _) = preplace_config(&prefix, "");
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
    assert!(prefix.join("etc/kafka/log4j.properties").is_file());
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
    let sha = sha512_hex(&renamed);
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
    assert!(
        toml.contains(&format!("kafka_version = \"{V4}\"")),
        "{toml}"
    );

    let b = tmp.path().join("b");
    let pb = prefix_arg(&b);
    let dir = fixture_dir(V3).display().to_string();
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
    let toml = std::fs::read_to_string(b.join("etc/kafka/kraftd.toml")).unwrap();
    assert!(
        toml.contains(&format!("kafka_version = \"{V3}\"")),
        "{toml}"
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
        &fixture_dir(V4).display().to_string(),
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

/// Run kraft-install with `args` (after `--prefix`) against `prefix` and require a refusal with
/// `code`, a message containing every `needle`, and an unchanged tree.
fn assert_refused(root: &Path, prefix: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let before = snapshot(root);
    let p = prefix_arg(prefix);
    let mut all = vec!["--prefix", &p];
    all.extend_from_slice(args);
    let out = kraft_install(&all);
    assert_eq!(
        out.status.code(),
        Some(code),
        "wrong exit code for {args:?}: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    for n in needles {
        assert!(err.contains(n), "message for {args:?} lacks {n:?}:\n{err}");
    }
    assert_eq!(before, snapshot(root), "{args:?} changed files");
}

fn fresh() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("node");
    (tmp, prefix)
}

#[test]
fn wrong_checksum_is_refused() {
    let (tmp, prefix) = fresh();
    let tgz = fixture_tgz(V4).display().to_string();
    let wrong = "ab".repeat(64);
    assert_refused(
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
    assert_refused(
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
    assert_refused(
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
    assert_refused(
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
    assert_refused(
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
    assert_refused(
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

fn fake_java(dir: &Path, banner: &str) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let java = bin.join("java");
    std::fs::write(
        &java,
        format!("#!/bin/sh\necho '{banner}' >&2\necho 'OpenJDK Runtime Environment' >&2\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.display().to_string()
}

#[test]
fn java_too_old_is_refused() {
    let (tmp, prefix) = fresh();
    let jh = fake_java(
        &tmp.path().join("jdk11"),
        "openjdk version \"11.0.2\" 2019-01-15",
    );
    let d = fixture_dir(V4).display().to_string();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--java-home", &jh, "--advertise", "127.0.0.1"],
        69,
        &["11", "openjdk-17-jre-headless"],
    );
    let jh8 = fake_java(&tmp.path().join("jdk8"), "openjdk version \"1.8.0_392\"");
    let d3 = fixture_dir(V3).display().to_string();
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--dist",
            &d3,
            "--java-home",
            &jh8,
            "--advertise",
            "127.0.0.1",
        ],
        69,
        &["1.8.0_392"],
    );
}

#[test]
fn java_missing_is_refused() {
    let (tmp, prefix) = fresh();
    let empty = tmp.path().join("nojava");
    std::fs::create_dir_all(&empty).unwrap();
    let e = empty.display().to_string();
    let d = fixture_dir(V4).display().to_string();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--java-home", &e, "--advertise", "127.0.0.1"],
        69,
        &[&e],
    );
}

#[test]
fn bad_addresses_are_refused() {
    let (tmp, prefix) = fresh();
    let d = fixture_dir(V4).display().to_string();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "0.0.0.0"],
        78,
        &["0.0.0.0"],
    );
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "300.1.2.3"],
        78,
        &["300.1.2.3"],
    );
    // TEST-NET-1: never an address of this host.
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "192.0.2.1"],
        78,
        &["192.0.2.1", "--advertise"],
    );
}

#[test]
fn several_candidate_addresses_need_advertise() {
    // A private network namespace with two private addresses and no default route: ambiguous.
    let (tmp, prefix) = fresh();
    let before = snapshot(tmp.path());
    let script = format!(
        "set -e; ip link add k0 type veth peer name k0p; ip link add k1 type veth peer name k1p; \
         ip addr add 10.231.0.1/24 dev k0; ip addr add 10.232.0.1/24 dev k1; \
         for l in k0 k0p k1 k1p lo; do ip link set $l up; done; \
         exec {} --prefix {} --dist {}",
        env!("CARGO_BIN_EXE_kraft-install"),
        prefix.display(),
        fixture_dir(V4).display()
    );
    let out = std::process::Command::new("unshare")
        .args(["--net", "sh", "-c", &script])
        .output()
        .unwrap();
    let err = stderr(&out);
    eprintln!("{err}");
    assert_eq!(out.status.code(), Some(78), "{err}");
    for n in ["10.231.0.1", "10.232.0.1", "--advertise"] {
        assert!(err.contains(n), "lacks {n}: {err}");
    }
    assert_eq!(before, snapshot(tmp.path()));
}

#[test]
fn malformed_cluster_ids_are_refused() {
    let (tmp, prefix) = fresh();
    let d = fixture_dir(V4).display().to_string();
    for bad in [
        "-kU3OEVBNTcwNTJENDM2Qg",
        "MkU3OEVBNTcwNTJENDM2Q",
        "MkU3OEVBNTcwNTJENDM2Qh",
        "MkU3OEVBNTcwNTJENDM2Q!",
        "AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert_refused(
            tmp.path(),
            &prefix,
            &[
                "--dist",
                &d,
                "--advertise",
                "127.0.0.1",
                &format!("--cluster-id={bad}"),
            ],
            78,
            &[bad],
        );
    }
}

#[test]
fn node_id_out_of_range_is_refused() {
    let (tmp, prefix) = fresh();
    let d = fixture_dir(V4).display().to_string();
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--dist",
            &d,
            "--advertise",
            "127.0.0.1",
            "--node-id",
            "3000000000",
        ],
        78,
        &["3000000000", "--node-id"],
    );
}

#[test]
fn unknown_toml_key_and_bad_syntax_are_refused_with_position() {
    let (tmp, prefix) = fresh();
    let etc = prefix.join("etc/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    let d = fixture_dir(V4).display().to_string();
    std::fs::write(
        etc.join("kraftd.toml"),
        "[node]\nid = 1\nadvertized = \"127.0.0.1\"\n",
    )
    .unwrap();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1"],
        78,
        &["kraftd.toml:3:1", "advertized"],
    );
    std::fs::write(
        etc.join("kraftd.toml"),
        "[node]\nid = 1\nbroker_port = = 9\n",
    )
    .unwrap();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1"],
        78,
        &["kraftd.toml:3:15", "extra `=`"],
    );
    std::fs::write(etc.join("kraftd.toml"), "[kafka]\n\"node.id\" = 5\n").unwrap();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1"],
        78,
        &["node.id", "--node-id"],
    );
}

#[test]
fn unwritable_target_is_refused() {
    // procfs refuses mkdir even to root.
    let d = fixture_dir(V4).display().to_string();
    let out = kraft_install(&[
        "--prefix",
        "/proc/kraftd-unwritable",
        "--dist",
        &d,
        "--advertise",
        "127.0.0.1",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/proc/kraftd-unwritable"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unformatted_data_dir_with_files_is_refused() {
    // Someone's files in the data directory: never format over them.
    let (tmp, prefix) = fresh();
    let data = prefix.join("var/lib/kafka/data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("precious.log"), "do not lose me").unwrap();
    let d = fixture_dir(V4).display().to_string();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1"],
        65,
        &["precious.log"],
    );
}
