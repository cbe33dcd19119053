//! JavaRuntime: finding `java` (--java-home, JAVA_HOME, PATH, /usr/lib/jvm) and checking its version.

use crate::dist::KafkaVersion;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long `java -version` may take. A healthy JVM answers in well under a second; a slow disk or
/// a loaded box may need a few, a wrapper script waiting on something never answers.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(30);

/// A Java runtime that was found and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaRuntime {
    /// Path of the `java` executable.
    pub java: PathBuf,
    /// Feature version (8, 11, 17, 21, …).
    pub major: u32,
    /// The full version string as printed.
    pub version: String,
}

/// What to install when no suitable Java is found.
const INSTALL_HINT: &str = "install Java 17 or newer (Debian/Ubuntu: `apt install openjdk-17-jre-headless`; \
     RHEL/Fedora: `dnf install java-17-openjdk-headless`) or pass --java-home DIR";

/// Errors finding or checking Java that callers branch on.
#[derive(Debug, thiserror::Error)]
pub enum JavaError {
    #[error("no `java` found; looked in: {}. To fix: {INSTALL_HINT}", .searched.join(", "))]
    NotFound { searched: Vec<String> },

    #[error("--java-home {}: {reason}. Pass the directory that contains bin/java (e.g. /usr/lib/jvm/java-17-openjdk-amd64)", .java_home.display())]
    BadJavaHome { java_home: PathBuf, reason: String },

    #[error("cannot run {} -version: {reason}. Fix or remove it, or pass --java-home DIR", .java.display())]
    CannotRun { java: PathBuf, reason: String },

    #[error(
        "{} -version did not finish within {} s and was killed. Check that this java works \
         (run `{} -version` by hand), or pass --java-home DIR with a working Java",
        .java.display(), .seconds, .java.display()
    )]
    Hung { java: PathBuf, seconds: u64 },

    #[error("cannot read a version from `{} -version` output: {output:?}. Pass --java-home with a standard JDK/JRE", .java.display())]
    UnknownVersion { java: PathBuf, output: String },

    #[error(
        "{} is Java {found} (\"{version}\"), but Kafka {kafka} needs Java {required} or newer. To fix: {INSTALL_HINT}",
        .java.display()
    )]
    TooOld {
        java: PathBuf,
        found: u32,
        version: String,
        required: u32,
        kafka: KafkaVersion,
    },
}

impl JavaRuntime {
    /// Run `java -version` (at most [`VERSION_TIMEOUT`]) and parse its banner.
    pub fn probe(java: &Path) -> Result<JavaRuntime, JavaError> {
        Self::probe_within(java, VERSION_TIMEOUT)
    }

    /// [`JavaRuntime::probe`] with an explicit limit: a `java` that has not exited by then is killed
    /// (with everything it started) and reported as [`JavaError::Hung`].
    pub fn probe_within(java: &Path, limit: Duration) -> Result<JavaRuntime, JavaError> {
        let out = run_limited(java, limit)?;
        // `java -version` prints to stderr; some wrappers use stdout.
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            return Err(JavaError::CannotRun {
                java: java.to_path_buf(),
                reason: format!("exited with {}: {}", out.status, text.trim()),
            });
        }
        let (version, major) =
            parse_java_version(&text).ok_or_else(|| JavaError::UnknownVersion {
                java: java.to_path_buf(),
                output: text.trim().to_string(),
            })?;
        Ok(JavaRuntime {
            java: java.to_path_buf(),
            major,
            version,
        })
    }

    /// Refuse a Java too old for this Kafka version ([`KafkaVersion::min_java`]), naming what was
    /// found and what to install.
    pub fn check_for(&self, kafka: &KafkaVersion) -> Result<(), JavaError> {
        let required = kafka.min_java();
        if self.major < required {
            return Err(JavaError::TooOld {
                java: self.java.clone(),
                found: self.major,
                version: self.version.clone(),
                required,
                kafka: *kafka,
            });
        }
        Ok(())
    }

    /// The `JAVA_HOME` of this runtime (`<home>/bin/java` → `<home>`), when it has that layout.
    pub fn home(&self) -> Option<PathBuf> {
        let bin = self.java.parent()?;
        (bin.file_name()? == "bin")
            .then(|| bin.parent().map(Path::to_path_buf))
            .flatten()
    }
}

/// The locale a JVM needs so non-ASCII file names (a data dir like `/srv/données`) map to the bytes
/// on disk: Java takes the file-name encoding (`sun.jnu.encoding`) from LC_ALL/LC_CTYPE/LANG, and
/// under the POSIX locale (a systemd service without locale.conf) it is ASCII. `Some((LC_ALL,
/// C.UTF-8))` when the effective character locale is not UTF-8; `None` keeps the operator's locale.
pub fn utf8_locale_for_jvm(
    lc_all: Option<&OsStr>,
    lc_ctype: Option<&OsStr>,
    lang: Option<&OsStr>,
) -> Option<(&'static str, &'static str)> {
    let effective = [lc_all, lc_ctype, lang]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty());
    let utf8 = effective.is_some_and(|v| {
        let v = v.to_string_lossy().to_ascii_lowercase();
        v.contains("utf-8") || v.contains("utf8")
    });
    (!utf8).then_some(("LC_ALL", "C.UTF-8"))
}

/// [`utf8_locale_for_jvm`] for this process's environment.
pub fn jvm_locale_env() -> Option<(&'static str, &'static str)> {
    let var = std::env::var_os;
    utf8_locale_for_jvm(
        var("LC_ALL").as_deref(),
        var("LC_CTYPE").as_deref(),
        var("LANG").as_deref(),
    )
}

/// Run `<java> -version` in its own process group; kill the whole group when it outlives `limit`
/// (a wrapper script's children would otherwise keep the output pipes open).
fn run_limited(java: &Path, limit: Duration) -> Result<Output, JavaError> {
    let cannot = |e: std::io::Error| JavaError::CannotRun {
        java: java.to_path_buf(),
        reason: e.to_string(),
    };
    let mut child = Command::new(java)
        .arg("-version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(cannot)?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait().map_err(cannot)? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                // SAFETY: kill(2) on the child's own process group (process_group(0) above).
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
                let _ = child.wait();
                let _ = (stdout.join(), stderr.join());
                return Err(JavaError::Hung {
                    java: java.to_path_buf(),
                    seconds: limit.as_secs(),
                });
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    // The group may outlive its leader (a wrapper that forked): make sure the pipes close.
    // SAFETY: as above; ESRCH when the group is already gone is fine.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Parse `java -version` output: `openjdk version "17.0.15" …`, `java version "1.8.0_392"` (→ 8),
/// `"21"`, `"11.0.2"`, `"21-ea"`. Returns the quoted string and the feature version.
pub fn parse_java_version(output: &str) -> Option<(String, u32)> {
    for line in output.lines() {
        let Some(idx) = line.find(" version \"") else {
            continue;
        };
        let rest = &line[idx + " version \"".len()..];
        let quoted = &rest[..rest.find('"')?];
        let leading_number = |s: &str| -> Option<u32> {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        let major = match quoted.strip_prefix("1.") {
            Some(legacy) => leading_number(legacy)?,
            None => leading_number(quoted)?,
        };
        return Some((quoted.to_string(), major));
    }
    None
}

/// Find and run `java`. Search order: `--java-home`, `JAVA_HOME`, each `PATH` entry, then the newest
/// runtime under `jvm_root` (normally /usr/lib/jvm). Everything is passed in so tests can point it
/// at temp dirs. A bad `--java-home` is an error (the operator asked for it); a bad `JAVA_HOME` is
/// logged and skipped.
pub fn find_java(
    java_home: Option<&Path>,
    env_java_home: Option<&Path>,
    path_env: Option<&OsStr>,
    jvm_root: &Path,
) -> Result<JavaRuntime, JavaError> {
    let mut searched: Vec<String> = Vec::new();

    if let Some(home) = java_home {
        let java = home.join("bin/java");
        if !is_executable(&java) {
            return Err(JavaError::BadJavaHome {
                java_home: home.to_path_buf(),
                reason: format!("{} is not an executable file", java.display()),
            });
        }
        return JavaRuntime::probe(&java);
    }

    if let Some(home) = env_java_home.filter(|h| !h.as_os_str().is_empty()) {
        let java = home.join("bin/java");
        searched.push(format!("JAVA_HOME ({})", java.display()));
        if is_executable(&java) {
            match JavaRuntime::probe(&java) {
                Ok(rt) => return Ok(rt),
                Err(e) => log::warn!("ignoring JAVA_HOME: {e}"),
            }
        } else {
            log::warn!(
                "ignoring JAVA_HOME={}: no executable bin/java there",
                home.display()
            );
        }
    }

    if let Some(path) = path_env {
        let dirs: Vec<PathBuf> = std::env::split_paths(path)
            .filter(|d| !d.as_os_str().is_empty())
            .collect();
        searched.push(format!("PATH ({})", path.to_string_lossy()));
        for dir in dirs {
            let java = dir.join("java");
            if is_executable(&java) {
                return JavaRuntime::probe(&java);
            }
        }
    } else {
        searched.push("PATH (unset)".to_string());
    }

    searched.push(format!("{}/*/bin/java", jvm_root.display()));
    let mut best: Option<JavaRuntime> = None;
    if let Ok(entries) = std::fs::read_dir(jvm_root) {
        let mut homes: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        homes.sort();
        for home in homes {
            let java = home.join("bin/java");
            if !is_executable(&java) {
                continue;
            }
            match JavaRuntime::probe(&java) {
                Ok(rt) if best.as_ref().is_none_or(|b| rt.major > b.major) => best = Some(rt),
                Ok(_) => {}
                Err(e) => log::debug!("skipping {}: {e}", java.display()),
            }
        }
    }
    best.ok_or(JavaError::NotFound { searched })
}

/// [`find_java`] with the real environment: `JAVA_HOME`, `PATH` and `/usr/lib/jvm`.
pub fn find_java_default(java_home: Option<&Path>) -> Result<JavaRuntime, JavaError> {
    let env_home = std::env::var_os("JAVA_HOME").map(PathBuf::from);
    let path = std::env::var_os("PATH");
    find_java(
        java_home,
        env_home.as_deref(),
        path.as_deref(),
        Path::new("/usr/lib/jvm"),
    )
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_banners() {
        let p = |s: &str| parse_java_version(s).map(|(_, m)| m);
        assert_eq!(
            p("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment"),
            Some(17)
        );
        assert_eq!(
            p("java version \"1.8.0_392\"\nJava(TM) SE Runtime Environment"),
            Some(8)
        );
        assert_eq!(p("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(p("openjdk version \"11.0.2\" 2019-01-15"), Some(11));
        assert_eq!(p("openjdk version \"21-ea\" 2023-09-19"), Some(21));
        assert_eq!(
            p("Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version \"17.0.1\""),
            Some(17)
        );
        assert_eq!(p("not java"), None);
    }

    #[test]
    fn a_hanging_java_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let java = dir.path().join("java");
        // A wrapper whose child keeps the output pipes open: the probe must not wait for it.
        std::fs::write(&java, "#!/bin/sh\nsleep 600 &\nsleep 600\n").unwrap();
        std::fs::set_permissions(&java, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = JavaRuntime::probe_within(&java, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, JavaError::Hung { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&java.display().to_string()) && text.contains("--java-home"),
            "{text}"
        );
    }

    #[test]
    fn jvm_gets_a_utf8_locale_only_when_it_has_none() {
        let o = |s: &'static str| Some(OsStr::new(s));
        assert_eq!(
            utf8_locale_for_jvm(None, None, None),
            Some(("LC_ALL", "C.UTF-8"))
        );
        assert_eq!(
            utf8_locale_for_jvm(None, None, o("C")),
            Some(("LC_ALL", "C.UTF-8"))
        );
        assert_eq!(
            utf8_locale_for_jvm(o("POSIX"), None, o("en_US.UTF-8")),
            Some(("LC_ALL", "C.UTF-8"))
        );
        assert_eq!(utf8_locale_for_jvm(None, None, o("de_DE.utf8")), None);
        assert_eq!(utf8_locale_for_jvm(o(""), o("C.UTF-8"), o("C")), None);
    }

    #[test]
    fn requirement_per_kafka_major() {
        let rt = |major| JavaRuntime {
            java: "/x/bin/java".into(),
            major,
            version: major.to_string(),
        };
        let k4 = KafkaVersion::new(4, 1, 1);
        let k3 = KafkaVersion::new(3, 7, 1);
        assert!(rt(17).check_for(&k4).is_ok());
        assert!(rt(11).check_for(&k3).is_ok());
        let err = rt(11).check_for(&k4).unwrap_err().to_string();
        assert!(
            err.contains("/x/bin/java")
                && err.contains("Java 11")
                && err.contains("openjdk-17-jre-headless"),
            "{err}"
        );
        assert!(rt(8).check_for(&k3).is_err());
        assert_eq!(rt(17).home(), Some(PathBuf::from("/x")));
    }
}
