//! `kraftd validate/run/status --config` on configs an operator gets wrong (issue 9 point 10): a
//! directory, a file that is not UTF-8, a heap above the machine's memory. One message, exit 78.

use kraftd_test_support::*;
use std::process::Command;

/// validate and run print `message` once as their only output; status prints it once too.
fn assert_config_refused(config: &std::path::Path, message: &str) {
    let c = config.display().to_string();
    for cmd in ["validate", "run"] {
        let out = kraftd_shown(&[cmd, "--config", &c]);
        assert_eq!(out.status.code(), Some(78), "kraftd {cmd}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("kraftd: ERROR {message}\n"),
            "kraftd {cmd}"
        );
        assert!(out.stdout.is_empty(), "kraftd {cmd}");
    }
    let out = kraftd_shown(&["status", "--config", &c]);
    assert_eq!(out.status.code(), Some(78), "kraftd status");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(all.matches(message).count(), 1, "kraftd status: {all}");
}

#[test]
fn a_config_path_that_is_a_directory_is_refused_once_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let message = format!(
        "{}: is a directory, not a config file: name the file itself, e.g. --config {}",
        dir.path().display(),
        dir.path().join("kraftd.toml").display()
    );
    assert_config_refused(dir.path(), &message);
}

#[test]
fn a_config_that_is_not_utf8_is_refused_once_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kraftd.toml");
    std::fs::write(&config, b"[node]\nadvertise = \"caf\xe9\"\n").unwrap();
    let message = format!(
        "{}: is not UTF-8 text; kraftd.toml must be UTF-8: convert it (e.g. `iconv -f latin1 -t utf-8`) \
         or rewrite the offending characters",
        config.display()
    );
    assert_config_refused(&config, &message);
}

#[test]
fn a_heap_edited_above_the_machines_memory_is_refused_at_start_with_78() {
    let node = provision_node_with(
        "4.1.1",
        NodeOptions {
            unformatted: true,
            ..Default::default()
        },
    );
    let text = std::fs::read_to_string(&node.config).unwrap();
    let edited = text.replace("heap = \"384M\"", "heap = \"1024T\"");
    assert_ne!(text, edited, "the test node's heap line moved: {text}");
    std::fs::write(&node.config, edited).unwrap();
    let c = node.config.display().to_string();
    for cmd in ["validate", "run"] {
        let out = kraftd_shown(&[cmd, "--config", &c]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(78), "kraftd {cmd}: {err}");
        assert!(
            err.contains(&format!("{c}:")) && err.contains("java.heap"),
            "kraftd {cmd}: {err}"
        );
        assert!(
            err.contains("heap 1024T is more than this machine's "),
            "kraftd {cmd}: {err}"
        );
        assert!(err.contains("use at most "), "kraftd {cmd}: {err}");
        assert!(
            !node.run_dir.join("kraftd.pid").exists(),
            "kraftd {cmd} started"
        );
    }
}

/// A data dir named in non-ASCII (`données`): rendered escaped, read back as the same path,
/// formatted there, and `kraftd run` serves from it even under the POSIX locale a systemd service
/// without locale.conf gets (Java would map `é` to `?` there).
#[test]
fn a_non_ascii_data_dir_is_formatted_and_served_under_the_posix_locale() {
    use std::io::Read;
    use std::time::Duration;
    let _serial = serial();
    let node = provision_node_with(
        "4.1.1",
        NodeOptions {
            unformatted: true,
            data_dir_in_prefix: Some("srv/données/kafka".into()),
            ..Default::default()
        },
    );
    let data_dir = node.prefix.path().join("srv/données/kafka");
    let settings = kraftd::Settings::load(&node.config).unwrap();
    assert_eq!(settings.layout.data_dir, data_dir);
    let props = settings.layout.server_properties();
    let rendered = kraftd::render::server_properties(&settings, &settings.kafka_version).unwrap();
    assert!(
        rendered.contains("donn\\u00E9es"),
        "log.dirs is written escaped:\n{rendered}"
    );
    std::fs::write(&props, rendered).unwrap();
    std::fs::create_dir_all(&data_dir).unwrap();
    let dist = kraftd::KafkaDist::open(&settings.layout.dist_current()).unwrap();
    let java = kraftd::java::find_java_default(None).unwrap();
    kraftd::storage::ensure_formatted(
        &java.java,
        &dist,
        &props,
        &data_dir,
        settings.cluster_id.as_ref().unwrap(),
        settings.node_id,
    )
    .expect("format a non-ASCII data dir");
    assert!(data_dir.join("meta.properties").is_file());

    let notify = DatagramCollector::bind("notify");
    let mut cmd = Command::new(kraftd_bin());
    cmd.args(["run", "--config", &node.config.display().to_string()])
        .env("NOTIFY_SOCKET", &notify.path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for var in [
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "WATCHDOG_USEC",
        "WATCHDOG_PID",
        "KRAFTD_JOURNAL_SOCKET",
        "JOURNAL_STREAM",
    ] {
        cmd.env_remove(var);
    }
    // Its own process group: nothing aimed at kraftd's group can reach the test.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().unwrap();
    let drain = |pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut pipe = pipe;
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let err_reader = drain(Box::new(child.stderr.take().unwrap()));
    let out_reader = drain(Box::new(child.stdout.take().unwrap()));
    let ready = notify.wait_until(Duration::from_secs(180), |d| {
        d.iter()
            .any(|d| notify_lines(d).iter().any(|l| l == "READY=1"))
    });
    let serves = ready && broker_answers_api_versions(node.broker_addr);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let out = format!(
        "{}{}",
        err_reader.join().unwrap(),
        out_reader.join().unwrap()
    );
    eprintln!("kraftd run output:\n{out}");
    assert!(
        ready && serves,
        "no READY=1 / no answer with data dir {}:\n{out}",
        data_dir.display()
    );
    assert!(status.success(), "kraftd run exited with {status}:\n{out}");
    let parent = data_dir.parent().unwrap().parent().unwrap();
    let names: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["données"],
        "Kafka wrote into another (mis-encoded) directory"
    );
}
