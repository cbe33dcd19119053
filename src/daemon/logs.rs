//! Logging for `kraftd run`: JVM output lines → one entry per log event (stack traces kept with their
//! head line) → journald's native protocol with the right PRIORITY and `KAFKA_LOGGER=`, or plain
//! stderr lines; phase detection for STATUS=. kraftd's own messages: `own_log`.
//!
//! Kafka's layout is `[%d] %p %m (%c)%n` (`render::log_config::LOG_PATTERN`, 3.x and 4.x alike); a
//! line that starts `[<timestamp>] <LEVEL> ` starts a record, any other line (`\tat …`, `Caused by:`,
//! `\t... 12 more`, the config dump's `\tkey = value`) continues the current one. Attribution is by
//! shape, never by timing: a record is sent when the next record starts, when the stream ends, when
//! it reaches `MAX_ENTRY_LINES`/`MAX_MESSAGE_BYTES`, or — only for a last record with nothing after
//! it — after `FINAL_ENTRY_FLUSH` of silence. Lines arriving after such a flush still carry that
//! record's priority and logger, so a tail is never demoted to the stream's default priority.

use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc::UnboundedSender;

/// journald's native socket on a real system.
pub const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";
/// Env override of the journal socket path (tests capture datagrams with it).
pub const JOURNAL_SOCKET_ENV: &str = "KRAFTD_JOURNAL_SOCKET";
/// Last resort for a record with nothing after it (the next record or EOF normally ends it): sent
/// after this much silence. Far longer than a GC pause in the middle of printing a stack trace.
pub const FINAL_ENTRY_FLUSH: Duration = Duration::from_secs(2);
/// A record with this many lines is sent as it is; further continuation lines form another entry
/// with the same priority and logger.
pub const MAX_ENTRY_LINES: usize = 2000;
/// MESSAGE bytes kept per journal entry; longer ones are cut with a note (journald and the datagram
/// size limit would reject them whole).
const MAX_MESSAGE_BYTES: usize = 96 * 1024;
/// Fallback cut when the kernel still refuses the datagram as too big.
const SMALL_MESSAGE_BYTES: usize = 8 * 1024;

/// syslog priorities used here (as journald stores them in PRIORITY=).
pub mod priority {
    pub const CRIT: u8 = 2;
    pub const ERR: u8 = 3;
    pub const WARNING: u8 = 4;
    pub const INFO: u8 = 6;
    pub const DEBUG: u8 = 7;
}

/// The syslog priority of a log4j level name, None when `level` is not one.
pub fn level_priority(level: &str) -> Option<u8> {
    Some(match level {
        "FATAL" => priority::CRIT,
        "ERROR" => priority::ERR,
        "WARN" => priority::WARNING,
        "INFO" => priority::INFO,
        "DEBUG" | "TRACE" => priority::DEBUG,
        _ => return None,
    })
}

/// One complete log event from the JVM (a head line and its continuation lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JvmLogEntry {
    pub priority: u8,
    /// The log4j level as printed, None for lines outside Kafka's layout (e.g. JVM warnings).
    pub level: Option<String>,
    /// The event text without timestamp, level and trailing `(logger)`; continuation lines
    /// follow after `\n`.
    pub message: String,
    /// Kafka's logger (`%c`), e.g. `kafka.server.BrokerServer`.
    pub logger: Option<String>,
    /// The lines exactly as the JVM printed them (for the stderr fallback).
    pub raw: String,
}

struct HeadLine<'a> {
    level: &'a str,
    /// Text after the level.
    rest: &'a str,
}

/// `[2025-03-14 10:00:00,123] WARN rest…` → level and rest; None for continuation lines.
fn parse_head(line: &str) -> Option<HeadLine<'_>> {
    let inner = line.strip_prefix('[')?;
    let close = inner.find("] ")?;
    let stamp = &inner[..close];
    // A timestamp starts with a digit; `[BrokerServer id=1]` at line start would not.
    if !stamp.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let after = &inner[close + 2..];
    let (level, rest) = after.split_once(' ').unwrap_or((after, ""));
    level_priority(level)?;
    Some(HeadLine { level, rest })
}

/// `… (kafka.server.BrokerServer)` at the end of a line → the logger name and the text before it.
fn split_logger(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_end().strip_suffix(')')?;
    let open = body.rfind(" (")?;
    let name = &body[open + 2..];
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$' | '-'));
    valid.then(|| (&body[..open], name))
}

/// True when `line` starts a new record in Kafka's layout (`[<timestamp>] <LEVEL> …`).
pub fn starts_record(line: &str) -> bool {
    parse_head(line).is_some()
}

/// Groups JVM output lines into entries: a head line starts an entry, continuation lines join it.
#[derive(Debug)]
pub struct EntryAssembler {
    /// Priority for lines outside Kafka's layout with no head before them.
    orphan_priority: u8,
    pending: Option<JvmLogEntry>,
    pending_lines: usize,
    /// Priority, level and logger of the record sent by the last `flush` (timeout or cap): later
    /// continuation lines belong to it.
    flushed: Option<(u8, Option<String>, Option<String>)>,
}

impl EntryAssembler {
    pub fn new(orphan_priority: u8) -> EntryAssembler {
        EntryAssembler {
            orphan_priority,
            pending: None,
            pending_lines: 0,
            flushed: None,
        }
    }

    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The record being assembled (its first line is complete as soon as it started).
    pub fn pending(&self) -> Option<&JvmLogEntry> {
        self.pending.as_ref()
    }

    /// Feed one line (without its newline); returns the entry it completed, if any: the previous
    /// record when `line` starts a new one, or the current one when `line` made it reach the cap.
    pub fn push_line(&mut self, line: &str) -> Option<JvmLogEntry> {
        if let Some(head) = parse_head(line) {
            let done = self.pending.take();
            self.flushed = None;
            self.pending_lines = 1;
            let (message, logger) = match split_logger(head.rest) {
                Some((text, logger)) => (text.to_string(), Some(logger.to_string())),
                None => (head.rest.to_string(), None),
            };
            self.pending = Some(JvmLogEntry {
                priority: level_priority(head.level).unwrap_or(self.orphan_priority),
                level: Some(head.level.to_string()),
                message,
                logger,
                raw: line.to_string(),
            });
            return done;
        }
        self.pending_lines += 1;
        match &mut self.pending {
            Some(entry) => {
                entry.message.push('\n');
                // A multi-line message ends with its logger on its last line.
                match (entry.logger.is_none(), split_logger(line)) {
                    (true, Some((text, logger))) => {
                        entry.message.push_str(text);
                        entry.logger = Some(logger.to_string());
                    }
                    _ => entry.message.push_str(line),
                }
                entry.raw.push('\n');
                entry.raw.push_str(line);
                if self.pending_lines >= MAX_ENTRY_LINES || entry.message.len() >= MAX_MESSAGE_BYTES
                {
                    return self.flush();
                }
                None
            }
            None if self.flushed.is_some() => {
                // The tail of a record already sent (cap or final flush): same priority and logger.
                let (priority, level, logger) = self.flushed.clone().expect("checked");
                self.pending_lines = 1;
                self.pending = Some(JvmLogEntry {
                    priority,
                    level,
                    message: line.to_string(),
                    logger,
                    raw: line.to_string(),
                });
                None
            }
            None => {
                // Not in Kafka's layout (JVM warnings, early errors): an entry of its own.
                self.pending = Some(JvmLogEntry {
                    priority: self.orphan_priority,
                    level: None,
                    message: line.to_string(),
                    logger: None,
                    raw: line.to_string(),
                });
                None
            }
        }
    }

    /// The pending entry, if any (final-record timeout, cap or end of output). Continuation lines
    /// pushed after it keep its priority and logger.
    pub fn flush(&mut self) -> Option<JvmLogEntry> {
        let entry = self.pending.take()?;
        self.pending_lines = 0;
        self.flushed = Some((entry.priority, entry.level.clone(), entry.logger.clone()));
        Some(entry)
    }
}

/// Where log entries go.
#[derive(Debug)]
pub enum LogSink {
    /// journald's native protocol on this datagram socket path.
    Journal(JournalSender),
    /// Plain lines on stderr (terminal, tests without a journal).
    Stderr,
}

impl LogSink {
    /// Journal when `KRAFTD_JOURNAL_SOCKET` is set or stderr is connected to journald
    /// (`JOURNAL_STREAM` names stderr's device:inode); stderr otherwise, also when the journal socket
    /// cannot be used (then a note says why).
    pub fn detect() -> LogSink {
        let path = match journal_socket_override() {
            Some(p) => Some(p),
            None if systemd_journal_logger::connected_to_journal() => {
                Some(PathBuf::from(JOURNAL_SOCKET))
            }
            None => None,
        };
        match path.map(|p| JournalSender::new(&p).map_err(|e| (p, e))) {
            None => LogSink::Stderr,
            Some(Ok(sender)) => LogSink::Journal(sender),
            Some(Err((p, e))) => {
                eprintln!(
                    "kraftd: WARN cannot use the journal socket {}: {e}; logging to stderr",
                    p.display()
                );
                LogSink::Stderr
            }
        }
    }

    /// Send one JVM entry.
    pub fn send_jvm_entry(&self, entry: &JvmLogEntry) {
        match self {
            LogSink::Journal(journal) => {
                let prio = entry.priority.to_string();
                let mut fields: Vec<(&str, &[u8])> = vec![
                    ("PRIORITY", prio.as_bytes()),
                    ("SYSLOG_IDENTIFIER", b"kafka"),
                    ("MESSAGE", entry.message.as_bytes()),
                ];
                if let Some(logger) = &entry.logger {
                    fields.push(("KAFKA_LOGGER", logger.as_bytes()));
                }
                if let Some(level) = &entry.level {
                    fields.push(("KAFKA_LEVEL", level.as_bytes()));
                }
                journal.send_or_report(&fields);
            }
            LogSink::Stderr => {
                let mut err = io::stderr().lock();
                let _ = writeln!(err, "{}", entry.raw);
            }
        }
    }
}

/// The journal socket named by `KRAFTD_JOURNAL_SOCKET` (tests capture entries there), if set.
pub fn journal_socket_override() -> Option<PathBuf> {
    std::env::var_os(JOURNAL_SOCKET_ENV)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// A client of journald's native protocol (`KEY=value\n`, or `KEY\n<u64 le length><bytes>\n` for
/// values containing newlines).
#[derive(Debug)]
pub struct JournalSender {
    socket: UnixDatagram,
    path: PathBuf,
}

impl JournalSender {
    pub fn new(path: &Path) -> io::Result<JournalSender> {
        let socket = UnixDatagram::unbound()?;
        // A stalled journald must not stall the supervisor for long: drop the entry instead.
        socket.set_write_timeout(Some(Duration::from_secs(1)))?;
        socket.connect(path)?;
        Ok(JournalSender {
            socket,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Send an entry; on failure say so on stderr (nothing else can take the message).
    pub fn send_or_report(&self, fields: &[(&str, &[u8])]) {
        if let Err(e) = self.send(fields) {
            eprintln!(
                "kraftd: WARN cannot send an entry to {}: {e}",
                self.path.display()
            );
        }
    }

    /// Send an entry, cutting an over-long MESSAGE (with a note) rather than losing it.
    pub fn send(&self, fields: &[(&str, &[u8])]) -> io::Result<()> {
        match self.socket.send(&encode_entry(fields, MAX_MESSAGE_BYTES)) {
            Ok(_) => Ok(()),
            Err(e)
                if e.raw_os_error() == Some(libc::EMSGSIZE)
                    || e.raw_os_error() == Some(libc::ENOBUFS) =>
            {
                self.socket
                    .send(&encode_entry(fields, SMALL_MESSAGE_BYTES))
                    .map(|_| ())
            }
            Err(e) => Err(e),
        }
    }
}

/// Encode fields in journald's native format, cutting MESSAGE to `max_message` bytes.
pub fn encode_entry(fields: &[(&str, &[u8])], max_message: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in fields {
        let cut;
        let value: &[u8] = if *key == "MESSAGE" && value.len() > max_message {
            let mut v = value[..max_message].to_vec();
            v.extend_from_slice(
                format!(
                    "\n[kraftd: message cut, {} of {} bytes kept]",
                    max_message,
                    value.len()
                )
                .as_bytes(),
            );
            cut = v;
            &cut
        } else {
            value
        };
        out.extend_from_slice(key.as_bytes());
        if value.contains(&b'\n') {
            out.push(b'\n');
            out.extend_from_slice(&(value.len() as u64).to_le_bytes());
            out.extend_from_slice(value);
        } else {
            out.push(b'=');
            out.extend_from_slice(value);
        }
        out.push(b'\n');
    }
    out
}

/// What a JVM log entry says about the startup phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseEvent {
    /// New STATUS= text, if the entry marks a phase change.
    pub status: Option<String>,
    /// The entry reports log loading/recovery progress (worth an EXTEND_TIMEOUT_USEC).
    pub progress: bool,
    /// The entry reports a write that failed for lack of space ("No space left on device").
    pub disk_full: bool,
}

/// Recognise Kafka's startup milestones (messages of LogManager, LogLoader, BrokerServer,
/// BrokerLifecycleManager in 3.7.x and 4.x).
pub fn scan_phase(entry: &JvmLogEntry) -> Option<PhaseEvent> {
    let first = entry.message.lines().next().unwrap_or("");
    let status = |s: &str| {
        Some(PhaseEvent {
            status: Some(s.to_string()),
            progress: false,
            disk_full: false,
        })
    };
    // LogManager: "Completed load of Log(...) ... in 12ms (3/10 completed in /var/lib/kafka/data)".
    if let Some((done, total)) = progress_counts(first) {
        return Some(PhaseEvent {
            status: Some(format!("loading logs {done}/{total}")),
            progress: true,
            disk_full: false,
        });
    }
    if first.contains("since no clean shutdown file was found") {
        // "Recovering N logs from DIR since no clean shutdown file was found"
        return Some(PhaseEvent {
            status: Some("recovering logs after an unclean shutdown".into()),
            progress: true,
            disk_full: false,
        });
    }
    if first.contains("Recovering unflushed segment") {
        // LogLoader, per segment of a log (also the metadata log) that was not shut down cleanly.
        return Some(PhaseEvent {
            status: Some("recovering logs".into()),
            progress: true,
            disk_full: false,
        });
    }
    if first.contains("Loading producer state") {
        return Some(PhaseEvent {
            status: None,
            progress: true,
            disk_full: false,
        });
    }
    if first.starts_with("Loading logs from log dirs") {
        return status("loading logs");
    }
    if first.contains("Waiting for controller quorum voters future")
        || first.contains("Waiting for the controller to acknowledge that we are caught up")
    {
        return status("waiting for quorum");
    }
    if first.contains("Waiting for the broker to be unfenced") {
        return status("registered, waiting to be unfenced");
    }
    if first.contains("The broker has been unfenced") {
        return status("unfenced, opening listeners");
    }
    None
}

/// `(3/10 completed in /dir)` → (3, 10).
fn progress_counts(text: &str) -> Option<(u64, u64)> {
    let idx = text.rfind(" completed in ")?;
    let before = &text[..idx];
    let open = before.rfind('(')?;
    let (done, total) = before[open + 1..].split_once('/')?;
    Some((done.parse().ok()?, total.parse().ok()?))
}

/// Read one JVM output stream to its end, sending each entry to `sink` and phase changes to
/// `phases`. A phase is recognised as soon as a record's first line arrives; the record is sent at
/// the next head line, at EOF, at the cap, or after `FINAL_ENTRY_FLUSH` of silence.
pub async fn pump_jvm_output<R: AsyncRead + Unpin>(
    reader: R,
    orphan_priority: u8,
    sink: Arc<LogSink>,
    phases: UnboundedSender<PhaseEvent>,
) {
    let mut reader = BufReader::new(reader);
    let mut assembler = EntryAssembler::new(orphan_priority);
    // Kept across idle timeouts: read_until appends partial input and is safe to call again.
    let mut buf = Vec::new();
    let emit = |entry: JvmLogEntry| {
        sink.send_jvm_entry(&entry);
        if entry.message.contains(super::disk::ENOSPC_TEXT) {
            let _ = phases.send(PhaseEvent {
                status: None,
                progress: false,
                disk_full: true,
            });
        }
    };
    // Phases come from a record's first line: scan it when the record starts, not when it ends.
    let push = |assembler: &mut EntryAssembler, line: &str| {
        let head = starts_record(line);
        let done = assembler.push_line(line);
        if let Some(event) = assembler.pending().filter(|_| head).and_then(scan_phase) {
            let _ = phases.send(event);
        }
        done
    };
    loop {
        let read = if assembler.has_pending() {
            match tokio::time::timeout(FINAL_ENTRY_FLUSH, reader.read_until(b'\n', &mut buf)).await
            {
                Ok(r) => r,
                Err(_) => {
                    if let Some(entry) = assembler.flush() {
                        emit(entry);
                    }
                    continue;
                }
            }
        } else {
            reader.read_until(b'\n', &mut buf).await
        };
        match read {
            Ok(0) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                let line = text.trim_end_matches(['\n', '\r']);
                if let Some(entry) = push(&mut assembler, line) {
                    emit(entry);
                }
                buf.clear();
            }
            Err(e) => {
                log::warn!("reading the JVM's output failed: {e}");
                break;
            }
        }
    }
    if !buf.is_empty() {
        if let Some(entry) = push(&mut assembler, String::from_utf8_lossy(&buf).trim_end()) {
            emit(entry);
        }
    }
    if let Some(entry) = assembler.flush() {
        emit(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_trace_joins_its_head_line() {
        let mut a = EntryAssembler::new(priority::INFO);
        assert_eq!(
            a.push_line("[2025-03-14 10:00:00,123] ERROR [Foo id=1] boom (kafka.Foo)"),
            None
        );
        assert_eq!(a.push_line("java.lang.IllegalStateException: x"), None);
        assert_eq!(a.push_line("\tat a.b.C(C.java:1)"), None);
        let e = a
            .push_line("[2025-03-14 10:00:01,000] INFO next (kafka.Bar)")
            .unwrap();
        assert_eq!(e.priority, priority::ERR);
        assert_eq!(e.logger.as_deref(), Some("kafka.Foo"));
        assert_eq!(
            e.message,
            "[Foo id=1] boom\njava.lang.IllegalStateException: x\n\tat a.b.C(C.java:1)"
        );
        let next = a.flush().unwrap();
        assert_eq!(
            (next.priority, next.logger.as_deref()),
            (priority::INFO, Some("kafka.Bar"))
        );
    }

    const TRACE: [&str; 6] = [
        "org.apache.kafka.common.network.InvalidReceiveException: Invalid receive (size = 1195725856 larger than 104857600)",
        "\tat org.apache.kafka.common.network.NetworkReceive.readFrom(NetworkReceive.java:94)",
        "\tat org.apache.kafka.common.network.Selector.poll(Selector.java:485)",
        "Caused by: java.io.IOException: boom",
        "\tat kafka.network.Processor.run(SocketServer.scala:1066)",
        "\t... 3 more",
    ];

    #[test]
    fn continuation_lines_are_attributed_by_shape() {
        let mut a = EntryAssembler::new(priority::INFO);
        assert_eq!(
            a.push_line("[2025-03-14 10:00:00,123] WARN [SocketServer listenerType=BROKER, nodeId=1] Unexpected error from /127.0.0.1 (channelId=x); closing connection (org.apache.kafka.common.network.Selector)"),
            None
        );
        // However long the pauses between these lines, none of them completes an entry.
        for line in TRACE {
            assert_eq!(a.push_line(line), None, "{line}");
        }
        let e = a
            .push_line("[2025-03-14 10:00:05,000] INFO next (kafka.Bar)")
            .unwrap();
        assert_eq!(e.priority, priority::WARNING);
        assert_eq!(
            e.logger.as_deref(),
            Some("org.apache.kafka.common.network.Selector")
        );
        assert_eq!(e.message.lines().count(), 1 + TRACE.len());
        assert!(e.message.ends_with("\t... 3 more"), "{}", e.message);
        // `[BrokerServer id=1]` at a line start is not a timestamp: a continuation.
        assert!(!starts_record("[BrokerServer id=1] text"));
        assert!(starts_record("[2025-03-14 10:00:05,000] ERROR x (y)"));
        assert!(!starts_record("[2025-03-14 10:00:05,000] NOTALEVEL x (y)"));
    }

    #[test]
    fn a_tail_after_a_final_flush_keeps_the_record_priority() {
        let mut a = EntryAssembler::new(priority::INFO);
        a.push_line("[2025-03-14 10:00:00,123] ERROR boom (kafka.Foo)");
        a.push_line(TRACE[0]);
        let first = a.flush().unwrap();
        assert_eq!(first.priority, priority::ERR);
        a.push_line(TRACE[1]);
        a.push_line(TRACE[2]);
        let tail = a.flush().unwrap();
        assert_eq!(
            (tail.priority, tail.level.as_deref(), tail.logger.as_deref()),
            (priority::ERR, Some("ERROR"), Some("kafka.Foo"))
        );
        assert_eq!(tail.message, format!("{}\n{}", TRACE[1], TRACE[2]));
        // A new record ends the inheritance: later orphan lines get the stream priority.
        a.push_line("[2025-03-14 10:00:01,000] INFO x (kafka.Bar)");
        a.flush();
        a.flush();
        let mut b = EntryAssembler::new(priority::WARNING);
        b.push_line("plain");
        assert_eq!(b.flush().unwrap().priority, priority::WARNING);
    }

    #[test]
    fn an_over_long_record_is_cut_at_the_cap_and_its_rest_keeps_the_priority() {
        let mut a = EntryAssembler::new(priority::INFO);
        a.push_line("[2025-03-14 10:00:00,123] ERROR boom (kafka.Foo)");
        let mut done = Vec::new();
        for i in 0..MAX_ENTRY_LINES + 10 {
            if let Some(e) = a.push_line(&format!("\tat frame{i}")) {
                done.push(e);
            }
        }
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].message.lines().count(), MAX_ENTRY_LINES);
        let rest = a.flush().unwrap();
        assert_eq!(rest.priority, priority::ERR);
        assert_eq!(rest.message.lines().count(), 11);
    }

    #[test]
    fn the_rendered_log_configs_use_the_parsed_layout() {
        for v in [
            crate::KafkaVersion::new(3, 7, 1),
            crate::KafkaVersion::new(4, 1, 1),
        ] {
            let config = crate::render::log_config(&v);
            assert!(config.contains("[%d] %p %m (%c)%n"), "{v}: {config}");
        }
    }

    #[test]
    fn multi_line_message_takes_logger_from_its_last_line() {
        let mut a = EntryAssembler::new(priority::INFO);
        a.push_line("[2025-03-14 10:00:00,123] INFO KafkaConfig values: ");
        a.push_line("\tnode.id = 1");
        a.push_line(" (kafka.server.KafkaConfig)");
        let e = a.flush().unwrap();
        assert_eq!(e.logger.as_deref(), Some("kafka.server.KafkaConfig"));
        assert_eq!(e.priority, priority::INFO);
    }

    #[test]
    fn lines_outside_the_layout_get_the_stream_priority() {
        let mut a = EntryAssembler::new(priority::WARNING);
        a.push_line("OpenJDK 64-Bit Server VM warning: something");
        let e = a.flush().unwrap();
        assert_eq!((e.priority, e.level), (priority::WARNING, None));
    }

    #[test]
    fn multi_line_values_use_the_binary_safe_form() {
        let out = encode_entry(&[("PRIORITY", b"3"), ("MESSAGE", b"a\nb")], 1000);
        let mut want = b"PRIORITY=3\nMESSAGE\n".to_vec();
        want.extend_from_slice(&3u64.to_le_bytes());
        want.extend_from_slice(b"a\nb\n");
        assert_eq!(out, want);
    }

    #[test]
    fn over_long_messages_are_cut_with_a_note() {
        let big = vec![b'x'; 5000];
        let out = encode_entry(&[("MESSAGE", &big)], 1000);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("[kraftd: message cut, 1000 of 5000 bytes kept]"));
        assert!(out.len() < 1200);
    }

    #[test]
    fn progress_lines_are_recognised() {
        let mut a = EntryAssembler::new(priority::INFO);
        a.push_line("[2025-03-14 10:00:00,123] INFO Completed load of Log(dir=/d/t-0, topicId=x) with 1 segments, local-log-start-offset 0 and log-end-offset 5 in 12ms (3/10 completed in /d) (kafka.log.LogManager)");
        let ev = scan_phase(&a.flush().unwrap()).unwrap();
        assert_eq!(
            ev,
            PhaseEvent {
                status: Some("loading logs 3/10".into()),
                progress: true,
                disk_full: false,
            }
        );
    }
}
