//! `kraftd run` with the data dir on a small tmpfs filled by a producer (needs root): exit 74 with
//! one report naming the dir, the filesystem and the fix; a start on the full dir is refused; after
//! space is freed every acknowledged record is read back.

use kraftd_test_support::*;
use std::io::Write;
use std::process::Command;
use std::time::Duration;

/// A tmpfs mounted over a directory for the length of a test (needs root), lazily unmounted on drop.
struct TmpfsMount(std::path::PathBuf);

impl TmpfsMount {
    /// Mount a `size` tmpfs over `dir`, keeping what `dir` held (copied onto the tmpfs).
    fn over(dir: &std::path::Path, size: &str) -> TmpfsMount {
        let keep = tempfile::tempdir().unwrap();
        let run = |cmd: &mut Command| {
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{cmd:?}: {}", text(&out));
        };
        run(Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", dir.display()))
            .arg(keep.path()));
        run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "kraftd-test-full",
            ])
            .arg(dir));
        let mount = TmpfsMount(dir.to_path_buf());
        run(Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", keep.path().display()))
            .arg(dir));
        mount
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The data dir on a small filesystem filled by a producer: Kafka takes the log dir offline and
/// stops; kraftd exits 74 with one err line (and STATUS=) naming the dir, the filesystem, the free
/// space and the fix; a start on the still-full dir is refused the same way; after space is freed
/// the node serves again with every acknowledged record.
fn full_data_disk(version: &str) {
    let _serial = serial();
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test mounts a tmpfs: run it as root"
    );
    let node = provision_node(version);
    let _mount = TmpfsMount::over(&node.data_dir, "48m");
    let data = node.data_dir.display().to_string();
    let journal = DatagramCollector::bind("journal");
    let (mut k, notify) = spawn_run(
        &node,
        RunEnv {
            journal_socket: Some(&journal.path),
            ..Default::default()
        },
    );
    let _guard = KillOnDrop(k.jvm_pid());
    wait_ready(&k, &notify);

    // Leave ~1 MiB for the producer.
    let space = kraftd::daemon::disk::space_of(&node.data_dir).unwrap();
    let filler = node.data_dir.join("filler");
    let fill = space.avail - (1 << 20);
    let f = std::fs::File::create(&filler).unwrap();
    let block = vec![0x5au8; 1 << 20];
    let mut w = std::io::BufWriter::new(f);
    let mut left = fill;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        w.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    w.into_inner().unwrap().sync_all().unwrap();

    // acks=all, values "0", "1", …; each acknowledged one is printed as producer_send_success.
    let work = tempfile::tempdir().unwrap();
    let props = work.path().join("producer.properties");
    std::fs::write(
        &props,
        "linger.ms=20\nbatch.size=65536\ndelivery.timeout.ms=20000\nrequest.timeout.ms=5000\nmax.block.ms=10000\n",
    )
    .unwrap();
    let bootstrap = node.broker_addr.to_string();
    let produced = work.path().join("produced.jsonl");
    let tools = KafkaTools::new(&dist_home(version), version);
    let mut producer = tools
        .command("org.apache.kafka.tools.VerifiableProducer")
        .args([
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            "full",
            "--max-messages",
            "10000000",
            "--throughput",
            "-1",
            "--acks",
            "-1",
            "--producer.config",
            &props.display().to_string(),
        ])
        .stdout(std::fs::File::create(&produced).unwrap())
        .stderr(std::fs::File::create(work.path().join("producer.err")).unwrap())
        .spawn()
        .unwrap();
    let _producer_guard = KillOnDrop(producer.id() as i32);

    // Kafka stops; kraftd reports it and exits 74.
    let status = k.wait(Duration::from_secs(300));
    // The producer keeps retrying a gone broker: stop it (its shutdown hook closes the producer;
    // every acknowledged record was printed when its ack arrived).
    unsafe { libc::kill(producer.id() as i32, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while producer.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = producer.kill();
    let _ = producer.wait();
    let acked: Vec<String> = std::fs::read_to_string(&produced)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"producer_send_success\""))
        .filter_map(|l| {
            let v = l.split("\"value\":\"").nth(1)?;
            Some(v[..v.find('"')?].to_string())
        })
        .collect();
    assert!(
        !acked.is_empty(),
        "no record was acknowledged; producer: {}",
        std::fs::read_to_string(work.path().join("producer.err")).unwrap_or_default()
    );
    assert_eq!(status.code(), Some(74), "{}", k.output());
    let entries = journal.journal_entries();
    let errors: Vec<String> = entries
        .iter()
        .filter(|e| {
            field(e, "PRIORITY").as_deref() == Some("3")
                && field(e, "SYSLOG_IDENTIFIER").as_deref() == Some("kraftd")
        })
        .filter_map(|e| field(e, "MESSAGE"))
        .collect();
    let report = errors
        .iter()
        .find(|m| m.contains(&format!("data dir {data} is full")))
        .unwrap_or_else(|| panic!("no err entry about the full data dir: {errors:#?}"));
    for want in [
        "kraftd-test-full (tmpfs, mounted at",
        "free of 48.0 MiB",
        "No space left on device",
        "systemctl restart kafka",
    ] {
        assert!(report.contains(want), "{want:?} not in {report}");
    }
    assert!(!report.contains('\n'), "{report}");
    eprintln!("full data disk ({version}): kraftd reported: {report}");
    // What Kafka itself said, attributed by shape: the ENOSPC exception sits inside an err entry.
    let kafka_enospc = entries
        .iter()
        .find(|e| {
            field(e, "SYSLOG_IDENTIFIER").as_deref() == Some("kafka")
                && field(e, "MESSAGE").is_some_and(|m| m.contains("No space left on device"))
        })
        .expect("no Kafka entry mentions No space left on device");
    let first_line = field(kafka_enospc, "MESSAGE").unwrap_or_default();
    eprintln!(
        "full data disk ({version}): Kafka logged (PRIORITY={:?}): {}",
        field(kafka_enospc, "PRIORITY"),
        first_line.lines().next().unwrap_or("")
    );
    assert!(
        matches!(field(kafka_enospc, "PRIORITY").as_deref(), Some("2" | "3")),
        "Kafka's ENOSPC entry is not at err or crit: {kafka_enospc:?}"
    );
    assert!(
        notify
            .notify_lines()
            .iter()
            .any(|l| l.starts_with(&format!("STATUS=data dir {data} is full"))),
        "{:?}",
        notify.notify_lines()
    );

    // Still full: refused before any JVM starts, same report.
    let out = kraftd_output(&["run", "--config", &node.config.display().to_string()]);
    assert_eq!(out.status.code(), Some(74), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("data dir {data} is full")),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("not starting Kafka"), "{}", text(&out));

    // Space freed: the node comes back with every acknowledged record.
    std::fs::remove_file(&filler).unwrap();
    let (mut k, notify) = spawn_run(&node, RunEnv::default());
    let _guard2 = KillOnDrop(k.jvm_pid());
    wait_ready(&k, &notify);
    let n = acked.len().to_string();
    let out = tools
        .command(tools.consumer_class())
        .args([
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            "full",
            "--from-beginning",
            "--max-messages",
            &n,
            "--timeout-ms",
            "60000",
        ])
        .output()
        .unwrap();
    let consumed: std::collections::HashSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|v| !consumed.contains(*v)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged records missing after the restart (first: {:?}); consumer: {}",
        missing.len(),
        acked.len(),
        missing.first(),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "full data disk ({version}): {} acknowledged records, all consumed back",
        acked.len()
    );
    k.terminate_cleanly();
}

#[test]
fn full_data_disk_kafka_4_1_1() {
    full_data_disk("4.1.1");
}

#[test]
fn full_data_disk_kafka_3_7_1() {
    full_data_disk("3.7.1");
}
