//! Cluster ids against real Kafka: what Kafka's StorageTool generates passes our checks, and what we
//! generate Kafka formats with unchanged. Needs the fixture distributions (scripts/kafka-dist.sh).

use kraftd::ClusterId;
use kraftd::config::{ConfigFile, Overrides, Settings, save_config};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Command;

const VERSIONS: [&str; 2] = ["4.1.1", "3.7.1"];

fn dist(version: &str) -> PathBuf {
    let cache = std::env::var_os("KRAFTD_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/kraftd"));
    let home = cache.join(format!("dist/kafka_2.13-{version}"));
    assert!(
        home.join("libs").is_dir(),
        "Kafka {version} test distribution missing at {}: run scripts/kafka-dist.sh {version}",
        home.display()
    );
    home
}

fn java() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(h) => Path::new(&h).join("bin/java"),
        None => PathBuf::from("java"),
    }
}

fn storage_tool(version: &str, args: &[&str]) -> String {
    let cp = format!("{}/libs/*", dist(version).display());
    let out = Command::new(java())
        .args(["-cp", &cp, "kafka.tools.StorageTool"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run java (install openjdk-17-jre-headless or set JAVA_HOME): {e}"));
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
        assert_eq!((bytes[6] >> 4, bytes[8] >> 6), (4, 0b10), "Kafka {version} id {id}");
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
            &["format", &format!("--cluster-id={id}"), "-c", props.to_str().unwrap()],
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
    std::fs::write(&path, "# ops note\n[node]\nid = 2\n[kafka]\nlog.retention.hours = 24\n").unwrap();
    let file = ConfigFile::load(&path).unwrap().unwrap();
    let ov = Overrides {
        prefix: Some(prefix.path().to_path_buf()),
        cluster_id: Some(ClusterId::generate().to_string()),
        ..Overrides::default()
    };
    let installed = Settings::resolve(&file, &path, &ov, &|| Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))).unwrap();
    save_config(&path, &installed).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("# ops note\n[node]\nid = 2\n"), "{written}");
    let daemon = Settings::load(&path).unwrap();
    assert_eq!(daemon, installed);
    assert_eq!(daemon.layout.data_dir, prefix.path().join("var/lib/kafka/data"));
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
