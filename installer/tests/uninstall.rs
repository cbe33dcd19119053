//! `kraft-install --uninstall [--purge]` and `--reconfigure` on real `--prefix` installs of the Kafka
//! fixture: what is removed, what is kept, and that nothing outside the prefix is touched.

use kraftd_test_support::*;
use std::path::Path;

fn install(prefix: &Path, version: &str, systemd_unit: bool) -> (u16, u16) {
    let (broker, controller) = preplace_config(prefix, "# admin note\n", "");
    let dist = dist_home(version).display().to_string();
    let p = prefix.display().to_string();
    let mut args = vec!["--prefix", &p, "--dist", &dist, "--advertise", "127.0.0.1"];
    if !systemd_unit {
        args.push("--no-systemd");
    }
    let out = kraft_install(&args);
    assert!(out.status.success(), "install failed: {}", stderr(&out));
    (broker, controller)
}

fn relative_paths(root: &Path) -> Vec<String> {
    snapshot(root)
        .keys()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect()
}

#[test]
fn uninstall_keeps_config_and_data_and_purge_removes_them_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("node");
    // A neighbour of the prefix that must survive everything.
    let neighbour = tmp.path().join("neighbour");
    std::fs::create_dir_all(neighbour.join("etc/kafka")).unwrap();
    std::fs::write(neighbour.join("etc/kafka/server.properties"), "not ours\n").unwrap();
    install(&prefix, V4, true);
    // An admin's own file in /opt/kafka is not kraft-install's to remove.
    std::fs::write(prefix.join("opt/kafka/NOTES.txt"), "mine\n").unwrap();
    let neighbour_before = snapshot(&neighbour);
    let p = prefix.display().to_string();

    let config_before = std::fs::read(prefix.join("etc/kafka/kraftd.toml")).unwrap();
    let data_before = snapshot(&prefix.join("var/lib/kafka/data"));
    assert!(
        prefix.join("var/lib/kafka/data/meta.properties").is_file(),
        "install did not format"
    );
    let out = kraft_install(&["--prefix", &p, "--uninstall"]);
    assert!(out.status.success(), "uninstall failed: {}", stderr(&out));
    for gone in [
        "etc/systemd/system/kafka.service",
        "etc/systemd/system/kafka.service.d/kraftd-paths.conf",
        "opt/kafka/current",
        "opt/kafka/kafka_2.13-4.1.1",
        "var/lib/kraftd/server.properties",
        "var/lib/kraftd/log4j2.properties",
    ] {
        assert!(
            std::fs::symlink_metadata(prefix.join(gone)).is_err(),
            "{gone} was not removed"
        );
    }
    assert_eq!(
        std::fs::read(prefix.join("etc/kafka/kraftd.toml")).unwrap(),
        config_before,
        "kraftd.toml changed"
    );
    assert_eq!(
        data_before,
        snapshot(&prefix.join("var/lib/kafka/data")),
        "uninstall changed the data directory"
    );
    assert!(
        prefix.join("opt/kafka/NOTES.txt").is_file(),
        "an admin's file in /opt/kafka was removed"
    );
    assert!(stdout(&out).contains("kept"), "{}", stdout(&out));

    // --purge without a terminal and without --yes: refused, nothing changed.
    let before = snapshot(&prefix);
    let out = kraft_install(&["--prefix", &p, "--uninstall", "--purge"]);
    assert!(
        !out.status.success(),
        "--purge without --yes on a non-terminal must be refused"
    );
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(before, snapshot(&prefix), "a refused purge changed files");

    let out = kraft_install(&["--prefix", &p, "--uninstall", "--purge", "--yes"]);
    assert!(out.status.success(), "purge failed: {}", stderr(&out));
    // Only the admin's own file is left under the prefix; the neighbour is untouched.
    let left = relative_paths(&prefix);
    assert_eq!(
        left,
        ["", "opt", "opt/kafka", "opt/kafka/NOTES.txt"],
        "purge left or removed the wrong things"
    );
    assert_eq!(
        neighbour_before,
        snapshot(&neighbour),
        "purge touched files outside the prefix"
    );
    // A second uninstall finds nothing to do.
    let out = kraft_install(&["--prefix", &p, "--uninstall"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn reconfigure_changes_the_advertised_address_and_keeps_the_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("node");
    let (broker, controller) = install(&prefix, V3, false);
    let p = prefix.display().to_string();
    let props_path = prefix.join("var/lib/kraftd/server.properties");
    let toml_path = prefix.join("etc/kafka/kraftd.toml");
    let state_path = prefix.join("var/lib/kraftd/node.toml");
    let toml_before = std::fs::read(&toml_path).unwrap();
    let meta_path = prefix.join("var/lib/kafka/data/meta.properties");
    let meta_before = std::fs::read(&meta_path).unwrap();
    let cluster_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("cluster_id"))
            .map(str::to_string)
    };
    let cluster_before = cluster_line(&std::fs::read_to_string(&state_path).unwrap())
        .expect("cluster_id recorded by install");

    // Identity changes are refused (exit 78) with nothing changed.
    let before = snapshot(&prefix);
    for args in [
        ["--node-id", "7"],
        ["--cluster-id", "MkU3OEVBNTcwNTJENDM2Qg"],
    ] {
        let out = kraft_install(&["--prefix", &p, "--reconfigure", args[0], args[1]]);
        assert_eq!(out.status.code(), Some(78), "{args:?} must be refused");
        assert!(stderr(&out).contains("identity"), "{}", stderr(&out));
    }
    let data_dir = prefix.join("elsewhere").display().to_string();
    let out = kraft_install(&["--prefix", &p, "--reconfigure", "--data-dir", &data_dir]);
    assert_eq!(out.status.code(), Some(78), "--data-dir must be refused");
    assert_eq!(
        before,
        snapshot(&prefix),
        "a refused reconfigure changed files"
    );

    // ::1 is on this host's loopback: a real second address to advertise.
    let out = kraft_install(&[
        "--prefix",
        &p,
        "--reconfigure",
        "--advertise",
        "::1",
        "--set",
        "log.retention.hours=72",
    ]);
    assert!(out.status.success(), "reconfigure failed: {}", stderr(&out));
    assert!(
        stdout(&out).contains("kraftd run --config"),
        "should say how the change takes effect: {}",
        stdout(&out)
    );
    let props = std::fs::read_to_string(&props_path).unwrap();
    assert!(
        props.contains(&format!("advertised.listeners=PLAINTEXT://[::1]:{broker}")),
        "{props}"
    );
    assert!(
        props.contains(&format!("controller.quorum.voters=1@[::1]:{controller}")),
        "{props}"
    );
    assert!(props.contains("log.retention.hours=72"), "{props}");
    assert_eq!(
        std::fs::read(&toml_path).unwrap(),
        toml_before,
        "--reconfigure wrote kraftd.toml"
    );
    let toml = std::fs::read_to_string(&state_path).unwrap();
    assert!(toml.contains("advertise = \"::1\""), "{toml}");
    assert_eq!(
        cluster_line(&toml).as_ref(),
        Some(&cluster_before),
        "the cluster id changed"
    );
    assert_eq!(
        std::fs::read(&meta_path).unwrap(),
        meta_before,
        "meta.properties changed"
    );

    // The same again: nothing to change.
    let before = snapshot(&prefix);
    let out = kraft_install(&[
        "--prefix",
        &p,
        "--reconfigure",
        "--advertise",
        "::1",
        "--set",
        "log.retention.hours=72",
    ]);
    assert!(
        out.status.success() && stdout(&out).contains("Nothing to change"),
        "{}",
        stdout(&out)
    );
    assert_eq!(before, snapshot(&prefix));

    // The reconfigured node serves on its new address.
    let broker_proc = Broker::start(&prefix, V3);
    let bootstrap = format!("[::1]:{broker}");
    broker_proc.produce(&bootstrap, "kraftd-reconfigured", &["x", "y"]);
    assert_eq!(
        broker_proc.consume(&bootstrap, "kraftd-reconfigured", 2),
        ["x", "y"]
    );
    broker_proc.stop();
    assert_eq!(
        std::fs::read(&meta_path).unwrap(),
        meta_before,
        "meta.properties changed"
    );
}

/// Run `kraft-install args…` on a pseudo-terminal (util-linux `script`), typing `answer`.
fn kraft_install_on_tty(args: &[&str], answer: &str) -> std::process::Output {
    use std::io::Write;
    let script = std::process::Command::new("script")
        .arg("--version")
        .output();
    assert!(
        script.is_ok_and(|o| o.status.success()),
        "this test needs util-linux `script` for a terminal: apt-get install bsdutils"
    );
    let bin = kraft_install_bin().display().to_string();
    let line = std::iter::once(bin.as_str())
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    eprintln!(
        "$ (tty) {line} <<< {answer}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

#[test]
fn purge_on_a_terminal_asks_and_only_the_right_word_confirms() {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("node");
    install(&prefix, V4, false);
    let p = prefix.display().to_string();
    let meta = prefix.join("var/lib/kafka/data/meta.properties");
    let cluster_id = std::fs::read_to_string(&meta)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id=").map(str::to_string))
        .unwrap();

    let before = snapshot(&prefix);
    let out = kraft_install_on_tty(&["--prefix", &p, "--uninstall", "--purge"], "yes");
    assert!(!out.status.success(), "`yes` is not the confirmation word");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Type `purge`") && text.contains(&cluster_id),
        "the prompt must name the words: {text}"
    );
    assert!(text.contains("nothing was removed"), "{text}");
    assert_eq!(
        before,
        snapshot(&prefix),
        "an unconfirmed purge changed files"
    );

    let out = kraft_install_on_tty(&["--prefix", &p, "--uninstall", "--purge"], &cluster_id);
    assert!(
        out.status.success(),
        "the cluster id confirms: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !prefix.exists() || relative_paths(&prefix) == [""],
        "purge left files: {:?}",
        relative_paths(&prefix)
    );
}
