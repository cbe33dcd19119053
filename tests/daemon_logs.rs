//! kraftd's JVM output pump into a real journal-protocol socket: a stack trace interrupted by
//! pauses stays one entry.

use kraftd_test_support::*;
use std::time::Duration;

/// A process writes a WARN record with a stack trace and pauses 500 ms twice in the middle of it
/// (as a GC pause would); through the real pump into a real journal-protocol socket the record is
/// one entry with PRIORITY=4 holding every frame, and the next record is an entry of its own.
#[test]
fn a_pause_mid_trace_keeps_the_trace_in_one_entry() {
    use kraftd::daemon::logs::{self, JournalSender, LogSink};
    let journal = DatagramCollector::bind("journal");
    let script = r#"
printf '%s\n' '[2025-03-14 10:00:00,123] WARN [SocketServer listenerType=BROKER, nodeId=1] Unexpected error from /127.0.0.1 (channelId=x); closing connection (org.apache.kafka.common.network.Selector)'
printf '%s\n' 'org.apache.kafka.common.network.InvalidReceiveException: Invalid receive (size = 1195725856 larger than 104857600)'
printf '\tat org.apache.kafka.common.network.NetworkReceive.readFrom(NetworkReceive.java:94)\n'
sleep 0.5
printf '\tat org.apache.kafka.common.network.Selector.poll(Selector.java:485)\n'
printf '%s\n' 'Caused by: java.io.IOException: boom'
sleep 0.5
printf '\tat kafka.network.Processor.run(SocketServer.scala:1066)\n'
printf '\t... 3 more\n'
printf '%s\n' '[2025-03-14 10:00:01,000] INFO next record (kafka.Bar)'
"#;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut child = tokio::process::Command::new("sh")
            .args(["-c", script])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let sink =
            std::sync::Arc::new(LogSink::Journal(JournalSender::new(&journal.path).unwrap()));
        let (phases, _rx) = tokio::sync::mpsc::unbounded_channel();
        logs::pump_jvm_output(out, logs::priority::INFO, sink, phases).await;
        assert!(child.wait().await.unwrap().success());
    });
    assert!(journal.wait_until(Duration::from_secs(10), |items| items.len() >= 2));
    let entries = journal.journal_entries();
    let messages: Vec<(Option<String>, String)> = entries
        .iter()
        .map(|e| {
            (
                field(e, "PRIORITY"),
                field(e, "MESSAGE").unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let (prio, msg) = &messages[0];
    assert_eq!(prio.as_deref(), Some("4"), "{messages:#?}");
    for want in [
        "Unexpected error from /127.0.0.1",
        "InvalidReceiveException: Invalid receive",
        "\tat org.apache.kafka.common.network.NetworkReceive.readFrom",
        "\tat org.apache.kafka.common.network.Selector.poll",
        "Caused by: java.io.IOException: boom",
        "\tat kafka.network.Processor.run",
        "\t... 3 more",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg:?}");
    }
    assert_eq!(
        field(&entries[0], "KAFKA_LOGGER").as_deref(),
        Some("org.apache.kafka.common.network.Selector")
    );
    assert_eq!(messages[1], (Some("6".into()), "next record".into()));
}
