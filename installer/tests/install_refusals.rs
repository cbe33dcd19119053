//! kraft-install refusing bad input before anything is written: Java too old, hanging or missing,
//! bad addresses, cluster and node ids, kraftd.toml errors and contradicting flags, an unwritable
//! target, foreign files in the data dir; and a legacy server.properties left alone.

use kraftd_test_support::*;
use std::path::Path;

fn prefix_arg(prefix: &Path) -> String {
    prefix.display().to_string()
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
    let d = dist_home(V4).display().to_string();
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--java-home", &jh, "--advertise", "127.0.0.1"],
        69,
        &["11", "openjdk-17-jre-headless"],
    );
    let jh8 = fake_java(&tmp.path().join("jdk8"), "openjdk version \"1.8.0_392\"");
    let d3 = dist_home(V3).display().to_string();
    assert_prefix_refused(
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
fn hanging_java_is_killed_and_refused() {
    let (tmp, prefix) = fresh();
    let jdk = tmp.path().join("hangs");
    std::fs::create_dir_all(jdk.join("bin")).unwrap();
    let java = jdk.join("bin/java");
    std::fs::write(&java, "#!/bin/sh\nexec sleep 600\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();
    let d = dist_home(V4).display().to_string();
    let jh = jdk.display().to_string();
    let j = java.display().to_string();
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--java-home", &jh, "--advertise", "127.0.0.1"],
        69,
        &[
            &format!("{j} -version did not finish within 30 s"),
            "--java-home",
        ],
    );
}

#[test]
fn java_missing_is_refused() {
    let (tmp, prefix) = fresh();
    let empty = tmp.path().join("nojava");
    std::fs::create_dir_all(&empty).unwrap();
    let e = empty.display().to_string();
    let d = dist_home(V4).display().to_string();
    assert_prefix_refused(
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
    let d = dist_home(V4).display().to_string();
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "0.0.0.0"],
        78,
        &["0.0.0.0"],
    );
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "300.1.2.3"],
        78,
        &["300.1.2.3"],
    );
    // TEST-NET-1: never an address of this host.
    assert_prefix_refused(
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
        kraft_install_bin().display(),
        prefix.display(),
        dist_home(V4).display()
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
    let d = dist_home(V4).display().to_string();
    for bad in [
        "-kU3OEVBNTcwNTJENDM2Qg",
        "MkU3OEVBNTcwNTJENDM2Q",
        "MkU3OEVBNTcwNTJENDM2Qh",
        "MkU3OEVBNTcwNTJENDM2Q!",
        "AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert_prefix_refused(
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
    let d = dist_home(V4).display().to_string();
    assert_prefix_refused(
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
    let d = dist_home(V4).display().to_string();
    std::fs::write(
        etc.join("kraftd.toml"),
        "[node]\nid = 1\nadvertized = \"127.0.0.1\"\n",
    )
    .unwrap();
    assert_prefix_refused(
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
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1"],
        78,
        &["kraftd.toml:3:15", "extra `=`"],
    );
    std::fs::write(etc.join("kraftd.toml"), "[kafka]\n\"node.id\" = 5\n").unwrap();
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1"],
        78,
        &["node.id", "--node-id"],
    );
}

#[test]
fn a_flag_contradicting_kraftd_toml_is_refused_and_nothing_is_written() {
    let (tmp, prefix) = fresh();
    let etc = prefix.join("etc/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("kraftd.toml"),
        "# mine\n[node]\nid = 3\n\n[java]\nheap = \"512M\"\n",
    )
    .unwrap();
    let d = dist_home(V4).display().to_string();
    // Both values, kraftd.toml's line and both fixes are named.
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1", "--node-id", "4"],
        78,
        &[
            "--node-id 4",
            "id = \"3\"",
            "kraftd.toml:3",
            "drop --node-id",
            "edit id in",
        ],
    );
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1", "--heap", "1G"],
        78,
        &["--heap 1G", "\"512M\""],
    );
}

#[test]
fn an_old_etc_server_properties_is_left_alone_and_named_once() {
    let (_tmp, prefix) = fresh();
    let etc = prefix.join("etc/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    let legacy = etc.join("server.properties");
    std::fs::write(
        &legacy,
        "# rendered by an earlier kraft-install, then edited by hand\nnum.partitions=7\n",
    )
    .unwrap();
    let p = prefix_arg(&prefix);
    let d = dist_home(V4).display().to_string();
    let args = [
        "--prefix",
        &p,
        "--dist",
        &d,
        "--advertise",
        "127.0.0.1",
        "--no-systemd",
    ];
    let out = kraft_install(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{} (rendered by an earlier kraft-install) is no longer read and was left alone",
            legacy.display()
        )),
        "{err}"
    );
    assert!(err.contains("[kafka] table"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&legacy).unwrap(),
        "# rendered by an earlier kraft-install, then edited by hand\nnum.partitions=7\n"
    );
    let out = kraft_install(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("no longer read"),
        "said twice: {}",
        stderr(&out)
    );
}

#[test]
fn unwritable_target_is_refused() {
    // procfs refuses mkdir even to root.
    let d = dist_home(V4).display().to_string();
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
    let d = dist_home(V4).display().to_string();
    assert_prefix_refused(
        tmp.path(),
        &prefix,
        &["--dist", &d, "--advertise", "127.0.0.1"],
        65,
        &["precious.log"],
    );
}
