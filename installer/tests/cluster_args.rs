//! kraft-install for cluster nodes: every bad role / voter / cluster-id input is refused before
//! anything is written (exit 78, or 65 for another cluster's data), and the accepted layouts render
//! the role's server.properties.

use kraftd_test_support::*;
use std::path::Path;

const CID: &str = "MkU3OEVBNTcwNTJENDM2Qg";

/// `--dist <fixture> --advertise 127.0.0.1 --no-systemd <args>`.
fn with_fixture(args: &[&str]) -> Vec<String> {
    let dist = dist_home(V4).display().to_string();
    let mut all: Vec<String> = ["--dist", &dist, "--advertise", "127.0.0.1", "--no-systemd"]
        .map(String::from)
        .to_vec();
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

/// kraft-install `--prefix <prefix> --dist <fixture> --advertise 127.0.0.1 --no-systemd <args>`.
fn install(prefix: &Path, args: &[&str]) -> std::process::Output {
    let p = prefix.display().to_string();
    let all = with_fixture(args);
    let mut argv = vec!["--prefix", p.as_str()];
    argv.extend(all.iter().map(String::as_str));
    kraft_install(&argv)
}

/// Require exit `code`, every needle in stderr, and no file created or changed under `root`.
fn assert_refused(root: &Path, prefix: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let all = with_fixture(args);
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    assert_prefix_refused(root, prefix, &all, code, needles);
}

const VOTERS: &str = "1@127.0.0.1:9093,2@127.0.0.2:9093,3@127.0.0.3:9093";

#[test]
fn controller_not_in_the_voter_set_is_refused() {
    let (tmp, prefix) = fresh();
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--role",
            "controller",
            "--node-id",
            "7",
            "--controllers",
            VOTERS,
        ],
        78,
        &[
            "--controllers",
            "node id 7 is not in the voter set",
            "--node-id",
        ],
    );
}

#[test]
fn broker_id_in_the_voter_set_is_refused() {
    let (tmp, prefix) = fresh();
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--role",
            "broker",
            "--node-id",
            "2",
            "--controllers",
            VOTERS,
            &format!("--cluster-id={CID}"),
        ],
        78,
        &["node id 2 is a voter (2@127.0.0.2:9093)", "broker"],
    );
}

#[test]
fn duplicate_node_id_in_the_voter_set_is_refused() {
    let (tmp, prefix) = fresh();
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--role",
            "controller",
            "--node-id",
            "1",
            "--controllers",
            "1@127.0.0.1:9093,1@127.0.0.2:9093,3@127.0.0.3:9093",
        ],
        78,
        &["node id 1 appears twice"],
    );
}

#[test]
fn malformed_voter_list_is_refused() {
    let (tmp, prefix) = fresh();
    for (list, needle) in [
        ("1@127.0.0.1:9093;2@127.0.0.2:9093", "neither an IP address"),
        ("1@127.0.0.1:99999", "valid port"),
        ("1:127.0.0.1:9093", "has no '@'"),
        ("1@127.0.0.1", "has no ':port'"),
        ("one@127.0.0.1:9093", "numeric node id"),
    ] {
        assert_refused(
            tmp.path(),
            &prefix,
            &[
                "--role",
                "controller",
                "--node-id",
                "1",
                "--controllers",
                list,
            ],
            78,
            &["--controllers", needle, "id@host:port"],
        );
    }
}

#[test]
fn controller_whose_entry_is_not_its_own_address_is_refused() {
    let (tmp, prefix) = fresh();
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--role",
            "controller",
            "--node-id",
            "2",
            "--controllers",
            VOTERS,
            &format!("--cluster-id={CID}"),
        ],
        78,
        &["voter entry 2@127.0.0.2:9093 is not its own controller address 127.0.0.1:9093"],
    );
}

#[test]
fn joining_without_a_cluster_id_is_refused() {
    let (tmp, prefix) = fresh();
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--role",
            "broker",
            "--node-id",
            "4",
            "--controllers",
            VOTERS,
        ],
        78,
        &[
            "--cluster-id is required",
            "first voter is 1@127.0.0.1:9093",
        ],
    );
    let bad = "MkU3OEVBNTcwNTJENDM2Qh";
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--role",
            "broker",
            "--node-id",
            "4",
            "--controllers",
            VOTERS,
            &format!("--cluster-id={bad}"),
        ],
        78,
        &["--cluster-id", bad, "not canonical"],
    );
}

#[test]
fn broker_without_controllers_is_refused() {
    let (tmp, prefix) = fresh();
    assert_refused(
        tmp.path(),
        &prefix,
        &["--role", "broker", "--node-id", "4"],
        78,
        &["--controllers"],
    );
}

#[test]
fn broker_joins_with_the_cluster_id_and_refuses_another_cluster_later() {
    let (tmp, prefix) = fresh();
    let out = install(
        &prefix,
        &[
            "--role",
            "broker",
            "--node-id",
            "4",
            "--controllers",
            VOTERS,
            "--brokers",
            "2",
            &format!("--cluster-id={CID}"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let props = std::fs::read_to_string(prefix.join("var/lib/kraftd/server.properties")).unwrap();
    for line in [
        "process.roles=broker",
        "node.id=4",
        &format!("controller.quorum.voters={VOTERS}"),
        "advertised.listeners=PLAINTEXT://127.0.0.1:9092",
        "offsets.topic.replication.factor=2",
        "min.insync.replicas=2",
    ] {
        assert!(
            props.lines().any(|l| l == line),
            "missing {line:?}:\n{props}"
        );
    }
    assert!(
        !props.contains("CONTROLLER://"),
        "a broker binds no controller listener:\n{props}"
    );
    let meta = std::fs::read_to_string(prefix.join("var/lib/kafka/data/meta.properties")).unwrap();
    assert!(
        meta.contains(&format!("cluster.id={CID}")) && meta.contains("node.id=4"),
        "{meta}"
    );
    let toml = std::fs::read_to_string(prefix.join("var/lib/kraftd/node.toml")).unwrap();
    assert!(
        toml.contains("role = \"broker\"") && toml.contains(&format!("controllers = \"{VOTERS}\"")),
        "{toml}"
    );

    // Re-run without flags (kraftd.toml + node.toml): nothing changes.
    let before = snapshot(tmp.path());
    let out = install(&prefix, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(before, snapshot(tmp.path()), "the re-run changed files");

    // Joining another cluster with this data: refused before StorageTool runs.
    let other = "AAAAAAAAAAAAAAAAAAAAAg";
    assert_refused(
        tmp.path(),
        &prefix,
        &[
            "--role",
            "broker",
            "--node-id",
            "4",
            "--controllers",
            VOTERS,
            &format!("--cluster-id={other}"),
        ],
        65,
        &[&format!("cluster.id={CID}"), other, "meta.properties"],
    );
}

#[test]
fn first_voter_founds_the_cluster_and_prints_the_join_command() {
    let (_tmp, prefix) = fresh();
    let out = install(
        &prefix,
        &[
            "--role",
            "controller",
            "--node-id",
            "1",
            "--controllers",
            "1@127.0.0.1:9093,2@127.0.0.2:9093",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Two voters: accepted, with advice.
    assert!(stderr(&out).contains("even number"), "{}", stderr(&out));
    let summary = stdout(&out);
    let cluster = summary
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id "))
        .unwrap()
        .trim()
        .to_string();
    assert!(
        summary.contains(&format!(
            "--cluster-id={cluster} --controllers 1@127.0.0.1:9093,2@127.0.0.2:9093"
        )),
        "{summary}"
    );
    let props = std::fs::read_to_string(prefix.join("var/lib/kraftd/server.properties")).unwrap();
    assert!(
        props.lines().any(|l| l == "process.roles=controller"),
        "{props}"
    );
    assert!(
        !props.contains("advertised.listeners") && !props.contains("PLAINTEXT://"),
        "{props}"
    );
}
