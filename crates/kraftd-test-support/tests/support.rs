//! The support crate's own pure pieces, fed directly: journal and notify parsing, the digest file
//! layout, the HTTP server's replies, tree snapshots and listings.

use kraftd_test_support::fakedist::{gpg_print_md, tgz};
use kraftd_test_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;

#[test]
fn journal_fields_reads_text_and_binary_fields() {
    let mut d = b"PRIORITY=4\nMESSAGE\n".to_vec();
    let msg = b"two\nlines";
    d.extend_from_slice(&(msg.len() as u64).to_le_bytes());
    d.extend_from_slice(msg);
    d.extend_from_slice(b"\nSYSLOG_IDENTIFIER=kafka\n");
    let entry = journal_fields(&d);
    assert_eq!(field(&entry, "PRIORITY").as_deref(), Some("4"));
    assert_eq!(field(&entry, "MESSAGE").as_deref(), Some("two\nlines"));
    assert_eq!(field(&entry, "SYSLOG_IDENTIFIER").as_deref(), Some("kafka"));
    assert_eq!(field(&entry, "NOPE"), None);
    let found = find_entry(std::slice::from_ref(&entry), |e| {
        field(e, "PRIORITY").is_some()
    });
    assert_eq!(found, Some(entry));
}

#[test]
fn notify_lines_split_a_datagram() {
    let lines = notify_lines(b"READY=1\nSTATUS=serving on 127.0.0.1:9092\n");
    assert_eq!(lines, ["READY=1", "STATUS=serving on 127.0.0.1:9092"]);
    assert!(has_line(&lines, "READY=1"));
    assert_eq!(count(&lines, "WATCHDOG=1"), 0);
}

#[test]
fn gpg_print_md_wraps_upper_case_groups() {
    let hex = "ab".repeat(64);
    let text = gpg_print_md("k.tgz", &hex);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("k.tgz: ABABABAB "), "{text}");
    assert!(lines[1].starts_with("       ABABABAB"), "{text}");
    assert_eq!(text.split_whitespace().count(), 1 + 16);
}

fn get(base: &str, path: &str) -> String {
    let addr = base.strip_prefix("http://").unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn http_server_answers_its_routes_and_records_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"from a file").unwrap();
    let server = HttpServer::with_routes([("/b".to_string(), Reply::Body(b"body".to_vec()))]);
    server.add("/f", &file);
    server.route(
        "/t",
        Reply::Truncated {
            body: b"half".to_vec(),
            claimed: 8,
        },
    );
    let b = get(&server.base, "/b");
    assert!(
        b.starts_with("HTTP/1.1 200 OK\r\n") && b.ends_with("\r\n\r\nbody"),
        "{b}"
    );
    assert!(get(&server.base, "/f").ends_with("from a file"));
    let t = get(&server.base, "/t");
    assert!(
        t.contains("Content-Length: 8\r\n") && t.ends_with("half"),
        "{t}"
    );
    assert!(get(&server.base, "/x").starts_with("HTTP/1.1 404 "));
    assert_eq!(server.requests(), ["/b", "/f", "/t", "/x"]);
    assert_eq!(server.hit_count(), 4);
    assert_eq!(
        server.url("/b"),
        format!("http://127.0.0.1:{}/b", server.port)
    );
}

#[test]
fn snapshots_see_content_and_listings_are_sorted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b"), "1").unwrap();
    std::fs::write(dir.path().join("a"), "1").unwrap();
    assert_eq!(list_dir(dir.path()), ["a", "b"]);
    assert!(list_dir(&dir.path().join("missing")).is_empty());
    let (snap, hashes) = (snapshot(dir.path()), tree_hashes(dir.path()));
    std::fs::write(dir.path().join("b"), "2").unwrap();
    assert_ne!(snap, snapshot(dir.path()));
    assert_ne!(hashes, tree_hashes(dir.path()));
}

#[test]
fn fake_tarballs_unpack_with_tar() {
    let data = tgz(&[("k/", b""), ("k/x", b"y")]);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&data[..]));
    let names: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["k/", "k/x"]);
}

#[test]
fn cluster_ids_are_canonical_and_ports_free() {
    for _ in 0..200 {
        let id = random_cluster_id();
        assert_eq!(id.len(), 22, "{id}");
        assert!(!id.starts_with('-'), "{id}");
    }
    let (a, b) = free_ports();
    assert_ne!(a, b);
    assert!(std::net::TcpListener::bind(("127.0.0.1", free_port())).is_ok());
}
