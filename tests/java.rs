//! Finding Java: fake `java` scripts run as real processes (search order, version checks, what a
//! missing Java names), plus the system's java.

use kraftd::dist::KafkaVersion;
use kraftd::java::{JavaError, JavaRuntime, find_java, find_java_default};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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
