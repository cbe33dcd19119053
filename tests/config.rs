//! Cluster ids against real Kafka: what Kafka's StorageTool generates passes our checks, and what we
//! generate Kafka formats with unchanged. Needs the fixture distributions (scripts/kafka-dist.sh).

use kraftd::ClusterId;
use kraftd::config::{ConfigFile, Overrides, Settings, save_config};
use kraftd_test_support::{dist_home, java};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;

const VERSIONS: [&str; 2] = ["4.1.1", "3.7.1"];

fn storage_tool(version: &str, args: &[&str]) -> String {
    let cp = format!("{}/libs/*", dist_home(version).display());
    let out = Command::new(java())
        .args(["-cp", &cp, "kafka.tools.StorageTool"])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run java (install openjdk-17-jre-headless or set JAVA_HOME): {e}")
        });
    assert!(
        out.status.success(),
        "StorageTool {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ids_from_kafka_random_uuid_pass_our_checks() {
    for version in VERSIONS {
        let printed = storage_tool(version, &["random-uuid"]);
        let text = printed
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .expect("random-uuid printed an id")
            .trim();
        let id: ClusterId = text
            .parse()
            .unwrap_or_else(|e| panic!("Kafka {version} printed {text:?}: {e}"));
        // Kafka's Uuid.randomUuid wraps java.util.UUID.randomUUID: version 4, IETF variant.
        let bytes = id.to_bytes();
        assert_eq!(
            (bytes[6] >> 4, bytes[8] >> 6),
            (4, 0b10),
            "Kafka {version} id {id}"
        );
    }
}

#[test]
fn kafka_formats_storage_with_a_generated_id() {
    for version in VERSIONS {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let props = dir.path().join("server.properties");
        std::fs::write(
            &props,
            format!(
                "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:9093\n\
                 listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\n\
                 advertised.listeners=PLAINTEXT://127.0.0.1:9092\ninter.broker.listener.name=PLAINTEXT\n\
                 controller.listener.names=CONTROLLER\nlistener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
                 log.dirs={}\n",
                data.display()
            ),
        )
        .unwrap();
        let id = ClusterId::generate();
        // `--cluster-id=<id>` form: safe even for ids Kafka would never generate.
        storage_tool(
            version,
            &[
                "format",
                &format!("--cluster-id={id}"),
                "-c",
                props.to_str().unwrap(),
            ],
        );
        let meta = std::fs::read_to_string(data.join("meta.properties")).unwrap();
        assert!(
            meta.lines().any(|l| l == format!("cluster.id={id}")),
            "Kafka {version} meta.properties:\n{meta}"
        );
    }
}

#[test]
fn installer_write_back_is_what_the_daemon_loads() {
    let prefix = tempfile::tempdir().unwrap();
    let path = kraftd::config::config_path(Some(prefix.path()));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "# ops note\n[node]\nid = 2\n[kafka]\nlog.retention.hours = 24\n",
    )
    .unwrap();
    let file = ConfigFile::load(&path).unwrap().unwrap();
    let ov = Overrides {
        prefix: Some(prefix.path().to_path_buf()),
        cluster_id: Some(ClusterId::generate().to_string()),
        ..Overrides::default()
    };
    let installed =
        Settings::resolve(&file, &path, &ov, &|| Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))).unwrap();
    save_config(&path, &installed).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.starts_with("# ops note\n[node]\nid = 2\n"),
        "{written}"
    );
    let daemon = Settings::load(&path).unwrap();
    assert_eq!(daemon, installed);
    assert_eq!(
        daemon.layout.data_dir,
        prefix.path().join("var/lib/kafka/data")
    );
    assert_eq!(daemon.extra_properties["log.retention.hours"], "24");
}

#[test]
fn daemon_refuses_an_incomplete_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kraftd.toml");
    let err = Settings::load(&path).unwrap_err().to_string();
    assert!(err.contains("not found; run kraft-install first"), "{err}");
    std::fs::write(&path, "[node]\nadvertise = \"127.0.0.1\"\n").unwrap();
    let err = Settings::load(&path).unwrap_err().to_string();
    assert!(err.contains("[node] cluster_id is not set"), "{err}");
}

/// Runs this test binary's `name` test again inside a new user+network namespace set up by `setup`
/// (shell commands run as namespace root), so detection sees a synthetic but real set of
/// interfaces. Returns the child's combined output; panics with it when the child failed.
fn run_in_netns(name: &str, setup: &str, expect: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "set -e\nip link set lo up\n{setup}\nexec \"$0\" --exact {name} --nocapture --test-threads 1"
    );
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--net", "sh", "-c", &script])
        .arg(&exe)
        .env("KRAFTD_NETNS_EXPECT", expect)
        .output()
        .unwrap_or_else(|e| panic!("cannot run unshare (util-linux) for the namespace test: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "namespace child failed:\n{text}");
    assert!(
        text.contains("1 passed"),
        "the child did not run the test:\n{text}"
    );
    text
}

const TWO_PRIVATE: &str = "ip link add a0 type veth peer name a1\n\
     ip addr add 10.9.0.1/24 dev a0\nip addr add 172.20.0.1/24 dev a1\n\
     ip link set a0 up\nip link set a1 up";

#[test]
fn detection_in_a_namespace() {
    use kraftd::net::{AdvertiseError, check_advertise, detect_advertise};
    match std::env::var("KRAFTD_NETNS_EXPECT").ok().as_deref() {
        // Parent: set up the namespaces and re-run this test inside them.
        None => {
            run_in_netns("detection_in_a_namespace", TWO_PRIVATE, "ambiguous");
            run_in_netns(
                "detection_in_a_namespace",
                &format!("{TWO_PRIVATE}\nip route add default via 172.20.0.254 dev a1"),
                "default-route",
            );
            run_in_netns("detection_in_a_namespace", "true", "none");
        }
        Some("ambiguous") => {
            let err = detect_advertise().unwrap_err();
            assert!(matches!(err, AdvertiseError::Ambiguous { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(
                msg.contains("10.9.0.1 on a0") && msg.contains("172.20.0.1 on a1"),
                "{msg}"
            );
            assert!(msg.contains("pass --advertise IP"), "{msg}");
            // What the installer does with it: no flag → the detector's error, unchanged.
            let e = Settings::resolve(
                &ConfigFile::default(),
                Path::new("/k.toml"),
                &Overrides::default(),
                &|| detect_advertise(),
            )
            .unwrap_err();
            assert_eq!(e.to_string(), msg);
            assert_eq!(
                check_advertise("10.9.0.1", false),
                Ok("10.9.0.1".parse().unwrap())
            );
        }
        Some("default-route") => {
            assert_eq!(detect_advertise(), Ok("172.20.0.1".parse().unwrap()));
        }
        Some("none") => {
            let err = detect_advertise().unwrap_err();
            assert!(matches!(err, AdvertiseError::NoCandidate { .. }), "{err:?}");
            assert!(err.to_string().contains("127.0.0.1 on lo"), "{err}");
            assert_eq!(
                check_advertise("127.0.0.1", false),
                Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
            );
        }
        Some(other) => panic!("unknown KRAFTD_NETNS_EXPECT {other:?}"),
    }
}
