//! Installing the six cluster nodes with the real kraft-install inside their namespaces, and a join
//! with another cluster's id refused before anything is written.

use crate::CONTROLLERS;
use crate::net::TestNet;
use crate::node::Node;
use kraftd_test_support::{dist_home, kraft_install_bin, run};
use std::path::Path;
use std::process::Output;

/// Install all six nodes: node 1 founds the cluster (its id is read from its summary), the others
/// join with that id.
pub fn install_cluster(net: &TestNet, root: &Path, version: &str) -> Vec<Node> {
    let dist = dist_home(version);
    let installer = kraft_install_bin();
    let voters: Vec<String> = CONTROLLERS
        .iter()
        .map(|&n| format!("{n}@{}:9093", net.addr(n)))
        .collect();
    let voters = voters.join(",");
    let install = |n: u32, cluster_id: Option<&str>| -> Output {
        let role = if CONTROLLERS.contains(&n) {
            "controller"
        } else {
            "broker"
        };
        let prefix = root.join(format!("n{n}"));
        // Six brokers starting at once on 2 cores: C1-only JIT halves the startup CPU. A pre-placed
        // kraftd.toml, as an admin's would be: kraft-install keeps it and records the flags in node.toml.
        let etc = prefix.join("etc/kafka");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("kraftd.toml"),
            "[java]\nopts = [\"-XX:TieredStopAtLevel=1\"]\n",
        )
        .unwrap();
        let mut cmd = net.exec(n, &installer);
        cmd.arg("--prefix").arg(&prefix).arg("--dist").arg(&dist);
        cmd.args([
            "--no-systemd",
            "--advertise",
            &net.addr(n),
            "--node-id",
            &n.to_string(),
            "--role",
            role,
        ]);
        cmd.args([
            "--controllers",
            &voters,
            "--heap",
            if role == "broker" { "384M" } else { "256M" },
        ]);
        if let Some(id) = cluster_id {
            cmd.arg(format!("--cluster-id={id}"));
        }
        let out = run(&mut cmd);
        assert!(
            out.status.success(),
            "install of node {n}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let first = install(1, None);
    let summary = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        summary.contains("other nodes of this cluster: install each with"),
        "{summary}"
    );
    let cluster_id = summary
        .lines()
        .find_map(|l| l.strip_prefix("cluster.id "))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no cluster.id in the summary:\n{summary}"));
    assert!(
        summary.contains(&format!("--cluster-id={cluster_id}")),
        "join command lacks the id:\n{summary}"
    );
    std::thread::scope(|scope| {
        for n in 2..=6u32 {
            let install = &install;
            let cluster_id = &cluster_id;
            scope.spawn(move || install(n, Some(cluster_id)));
        }
    });
    (1..=6u32)
        .map(|n| Node::new(n, root.join(format!("n{n}"))))
        .collect()
}

/// A broker joining with another cluster's id is refused before anything is written: kraft-install
/// asks the running controllers (DescribeCluster) which cluster they are.
pub fn wrong_cluster_id_join_is_refused(net: &TestNet, root: &Path, version: &str) {
    let voters: Vec<String> = CONTROLLERS
        .iter()
        .map(|&n| format!("{n}@{}:9093", net.addr(n)))
        .collect();
    let prefix = root.join("n7");
    let wrong = "MkU3OEVBNTcwNTJENDM2Qg";
    let mut cmd = net.exec(6, kraft_install_bin());
    cmd.arg("--prefix")
        .arg(&prefix)
        .arg("--dist")
        .arg(dist_home(version));
    cmd.args([
        "--no-systemd",
        "--advertise",
        &net.addr(6),
        "--node-id",
        "7",
        "--role",
        "broker",
    ]);
    cmd.args([
        "--controllers",
        &voters.join(","),
        &format!("--cluster-id={wrong}"),
    ]);
    let out = run(&mut cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(65),
        "a join with another cluster's id must be refused: {err}"
    );
    assert!(err.contains(wrong) && err.contains("controller"), "{err}");
    assert!(
        !prefix.exists(),
        "the refused join created {}",
        prefix.display()
    );
}
