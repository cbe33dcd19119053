//! kraft-install under bad input and interruptions (issue 9 point 10): concurrent runs on one target,
//! broken distributions, leftovers of a killed run. Real binary, real Kafka fixtures.

use kraftd_test_support::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_second_run_on_a_locked_target_is_refused_at_once_with_75_and_nothing_changed() {
    let (tmp, prefix) = fresh();
    let held = kraftd::install_lock::acquire(&prefix, Duration::ZERO, |_, _| panic!("lock taken"))
        .unwrap();
    let before = snapshot(tmp.path());
    let d = s(&dist_home(V4));
    let p = s(&prefix);
    for mode in [&[][..], &["--reconfigure"][..], &["--uninstall"][..]] {
        let mut args = vec!["--prefix", &p, "--lock-timeout", "0"];
        args.extend_from_slice(mode);
        if mode.is_empty() {
            args.extend_from_slice(&["--dist", &d, "--advertise", "127.0.0.1"]);
        }
        let out = kraft_install(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(75), "{mode:?}: {err}");
        let want = format!(
            "another kraft-install (pid {}) is still working on {p}",
            std::process::id()
        );
        assert!(
            err.contains(&want) && err.contains("--lock-timeout"),
            "{mode:?} lacks {want:?}:\n{err}"
        );
        assert_eq!(err.matches("error:").count(), 1, "{err}");
        assert_eq!(before, snapshot(tmp.path()), "{mode:?} changed files");
    }
    drop(held);
}

#[test]
fn two_concurrent_installs_serialize_into_one_consistent_node() {
    let (tmp, prefix) = fresh();
    preplace_config(&prefix, "", "");
    // Hold the lock so both runs start while another "install" is in progress; then let them go.
    let held = kraftd::install_lock::acquire(&prefix, Duration::ZERO, |_, _| panic!("lock taken"))
        .unwrap();
    let spawn = |name: &str| {
        let log = tmp.path().join(format!("{name}.stderr"));
        let child = Command::new(kraft_install_bin())
            .args([
                "--prefix",
                &s(&prefix),
                "--dist",
                &s(&dist_home(V4)),
                "--advertise",
                "127.0.0.1",
                "--no-systemd",
            ])
            .env_remove("JAVA_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        (child, log)
    };
    let (a, a_log) = spawn("a");
    let (b, b_log) = spawn("b");
    let waiting = format!(
        "waiting for another kraft-install (pid {}) on {}",
        std::process::id(),
        prefix.display()
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let both = [&a_log, &b_log].iter().all(|l| {
            std::fs::read_to_string(l)
                .unwrap_or_default()
                .contains(&waiting)
        });
        if both {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the runs did not wait for the lock: {:?} {:?}",
            std::fs::read_to_string(&a_log),
            std::fs::read_to_string(&b_log)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !prefix.join("opt").exists(),
        "a waiting run wrote into the target"
    );
    drop(held);
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (a_err, b_err) = (
        std::fs::read_to_string(&a_log).unwrap(),
        std::fs::read_to_string(&b_log).unwrap(),
    );
    eprintln!("--- a\n{}{a_err}--- b\n{}{b_err}", stdout(&a), stdout(&b));
    assert!(
        a.status.success() && b.status.success(),
        "a: {a_err}\nb: {b_err}"
    );
    for err in [&a_err, &b_err] {
        assert!(
            !err.contains("Exception") && !err.contains("\tat "),
            "a stack trace: {err}"
        );
    }
    // One node: both runs report the cluster id that the storage was formatted with.
    let id = meta_cluster_id(&prefix.join("var/lib/kafka/data"));
    assert_eq!(summary_cluster_id(&stdout(&a)), id);
    assert_eq!(summary_cluster_id(&stdout(&b)), id);
    // Exactly one of them did the work; the other found it done.
    let noop = [&a, &b]
        .iter()
        .filter(|o| stdout(o).contains("Nothing to change"))
        .count();
    assert_eq!(
        noop, 1,
        "one run installs, the other finds nothing to change"
    );
}

/// A hard-linked copy of the V4 fixture whose kafka-clients jar is cut in half (the jar is replaced,
/// not the shared inode, so the fixture stays intact).
fn broken_copy_of_fixture(dest: &Path) -> String {
    let st = Command::new("cp")
        .arg("-al")
        .arg(dist_home(V4))
        .arg(dest)
        .status()
        .unwrap();
    assert!(st.success());
    let jar = dest.join(format!("libs/kafka-clients-{V4}.jar"));
    let bytes = std::fs::read(&jar).unwrap();
    std::fs::remove_file(&jar).unwrap();
    std::fs::write(&jar, &bytes[..bytes.len() / 2]).unwrap();
    format!("libs/kafka-clients-{V4}.jar is not a readable zip")
}

#[test]
fn a_dist_dir_with_a_broken_jar_is_refused_before_anything_is_written() {
    let (tmp, prefix) = fresh();
    let broken = tmp.path().join("my-kafka");
    let why = broken_copy_of_fixture(&broken);
    let before = snapshot(tmp.path());
    let out = kraft_install(&[
        "--prefix",
        &s(&prefix),
        "--dist",
        &s(&broken),
        "--advertise",
        "127.0.0.1",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    let want = format!("{} is a broken Kafka distribution: {why}", broken.display());
    assert!(
        err.contains(&want) && err.contains("--dist"),
        "lacks {want:?}:\n{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert_eq!(
        before,
        snapshot(tmp.path()),
        "a refused --dist changed files"
    );
}

#[test]
fn a_broken_installed_copy_is_replaced_by_a_verified_tarball_and_stale_unpack_dirs_are_removed() {
    let (_tmp, prefix) = fresh();
    preplace_config(&prefix, "", "");
    let opt = prefix.join("opt/kafka");
    std::fs::create_dir_all(&opt).unwrap();
    // What an older kraft-install left: an unverified copy of a broken --dist …
    let installed = opt.join(format!("kafka_2.13-{V4}"));
    let why = broken_copy_of_fixture(&installed);
    // … and the temp dirs of runs killed while unpacking (old unnamed style, and a dead pid).
    let stale_old = opt.join(".kafka-unpack-AbC123");
    let stale_dead = opt.join(".kafka-unpack-999999999-xYz");
    for d in [&stale_old, &stale_dead] {
        std::fs::create_dir_all(d.join(format!("kafka_2.13-{V4}/libs"))).unwrap();
        std::fs::write(
            d.join(format!("kafka_2.13-{V4}/libs/part.jar")),
            vec![7u8; 4096],
        )
        .unwrap();
    }
    // A temp dir of a process that is alive (pid 1) is not ours to remove.
    let live = opt.join(".kafka-unpack-1-live");
    std::fs::create_dir_all(&live).unwrap();

    let tgz = fixture_tgz(V4);
    let sha = sha512_hex_of_file(&tgz);
    let out = kraft_install(&[
        "--prefix",
        &s(&prefix),
        "--dist",
        &s(&tgz),
        "--sha512",
        &sha,
        "--advertise",
        "127.0.0.1",
        "--no-systemd",
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let replaced = format!("{} was a broken copy ({why}: ", installed.display());
    let with = format!(
        "); replacing it with the verified Kafka {V4} from {}\n",
        tgz.display()
    );
    assert!(
        err.contains(&replaced) && err.contains(&with),
        "lacks {replaced:?} … {with:?}:\n{err}"
    );
    let clients = format!("libs/kafka-clients-{V4}.jar");
    assert_eq!(
        std::fs::read(installed.join(&clients)).unwrap(),
        std::fs::read(dist_home(V4).join(&clients)).unwrap(),
        "the broken copy was kept"
    );
    let provenance =
        std::fs::read_to_string(installed.join(kraftd::dist::PROVENANCE_FILE)).unwrap();
    assert!(
        provenance.contains(&format!("sha512 {sha}")),
        "{provenance}"
    );
    for d in [&stale_old, &stale_dead] {
        assert!(!d.exists(), "{} was left", d.display());
        let said = format!(
            "removed {}, left behind by an interrupted kraft-install",
            d.display()
        );
        assert!(err.contains(&said), "lacks {said:?}:\n{err}");
    }
    assert!(err.contains("(pid 999999999, no longer running)"), "{err}");
    assert!(live.is_dir(), "a live process's temp dir was removed");
    let leftovers: Vec<String> = std::fs::read_dir(&opt)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".kafka-unpack-1-live")
        .collect();
    assert!(leftovers.is_empty(), "temp entries left: {leftovers:?}");
    assert!(prefix.join("var/lib/kafka/data/meta.properties").is_file());

    // A re-run keeps the verified copy and changes nothing.
    let before = snapshot(&prefix);
    let out = kraft_install(&[
        "--prefix",
        &s(&prefix),
        "--dist",
        &s(&tgz),
        "--sha512",
        &sha,
        "--advertise",
        "127.0.0.1",
        "--no-systemd",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(before, snapshot(&prefix), "a re-run changed files");
}

/// Run kraft-install on a fresh target and require exactly `message` (one line) on stderr, exit
/// `code`, and nothing changed under `root`.
fn assert_exact_refusal(root: &Path, args: &[&str], code: i32, message: &str) {
    let before = snapshot(root);
    let out = kraft_install(args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("kraft-install: error: {message}\n"),
        "{args:?}"
    );
    assert_eq!(before, snapshot(root), "{args:?} changed files");
}

#[test]
fn a_heap_above_the_machines_memory_is_refused_with_78() {
    let (tmp, prefix) = fresh();
    let d = s(&dist_home(V4));
    let before = snapshot(tmp.path());
    let out = kraft_install(&[
        "--prefix",
        &s(&prefix),
        "--dist",
        &d,
        "--advertise",
        "127.0.0.1",
        "--heap",
        "1024T",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("--heap: heap 1024T is more than this machine's "),
        "{err}"
    );
    assert!(
        err.contains(" GiB of memory, so the JVM could not start; use at most "),
        "{err}"
    );
    assert_eq!(before, snapshot(tmp.path()));
}

#[test]
fn a_data_dir_that_is_a_file_is_refused_with_78_once() {
    let (tmp, prefix) = fresh();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let d = s(&dist_home(V4));
    let p = s(&prefix);
    let f = s(&file);
    let fix = "Pass a directory (it is created when missing), e.g. --data-dir /var/lib/kafka/data";
    assert_exact_refusal(
        tmp.path(),
        &[
            "--prefix",
            &p,
            "--dist",
            &d,
            "--advertise",
            "127.0.0.1",
            "--data-dir",
            &f,
        ],
        78,
        &format!("--data-dir {f}: is a file, not a directory. {fix}"),
    );
    let under = format!("{f}/data");
    assert_exact_refusal(
        tmp.path(),
        &[
            "--prefix",
            &p,
            "--dist",
            &d,
            "--advertise",
            "127.0.0.1",
            "--data-dir",
            &under,
        ],
        78,
        &format!("--data-dir {under}: cannot be created: {f} is a file, not a directory. {fix}"),
    );
}

#[test]
fn a_kraftd_toml_that_is_not_utf8_or_a_directory_is_refused_with_78_once() {
    let (tmp, prefix) = fresh();
    let etc = prefix.join("etc/kafka");
    std::fs::create_dir_all(&etc).unwrap();
    let config = etc.join("kraftd.toml");
    std::fs::write(&config, b"# caf\xe9 (latin-1)\n[node]\nid = 1\n").unwrap();
    let d = s(&dist_home(V4));
    let args = [
        "--prefix",
        &s(&prefix),
        "--dist",
        &d,
        "--advertise",
        "127.0.0.1",
    ];
    assert_exact_refusal(
        tmp.path(),
        &args,
        78,
        &format!(
            "{}: is not UTF-8 text; kraftd.toml must be UTF-8: convert it (e.g. `iconv -f latin1 -t utf-8`) \
             or rewrite the offending characters",
            config.display()
        ),
    );
    std::fs::remove_file(&config).unwrap();
    std::fs::create_dir(&config).unwrap();
    assert_exact_refusal(
        tmp.path(),
        &args,
        78,
        &format!(
            "{}: is a directory, not the config file: move that directory away (kraft-install writes \
             kraftd.toml there)",
            config.display()
        ),
    );
}

#[test]
fn a_non_ascii_data_dir_installs_under_the_posix_locale() {
    let (tmp, prefix) = fresh();
    let data = tmp.path().join("données/kafka");
    let out = Command::new(kraft_install_bin())
        .args([
            "--prefix",
            &s(&prefix),
            "--dist",
            &s(&dist_home(V4)),
            "--advertise",
            "127.0.0.1",
        ])
        .args(["--no-systemd", "--data-dir", &s(&data)])
        .env_remove("JAVA_HOME")
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        data.join("meta.properties").is_file(),
        "not formatted in {}: {err}",
        data.display()
    );
    let props = std::fs::read_to_string(prefix.join("var/lib/kraftd/server.properties")).unwrap();
    assert!(props.contains("donn\\u00E9es"), "{props}");
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["données", "node"],
        "a mis-encoded directory was created"
    );
}
