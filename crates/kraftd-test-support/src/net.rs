//! Free ports, random cluster ids, and an independent check that a broker speaks the Kafka protocol.

use base64::Engine;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// A free TCP port on 127.0.0.1 (bound once and released): nobody listens there right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Two distinct free ports on 127.0.0.1 (both held until chosen, then released).
pub fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

/// A random, canonical Kafka cluster id (16 random bytes, unpadded base64url, no leading '-').
pub fn random_cluster_id() -> String {
    loop {
        let bytes: [u8; 16] = rand::random();
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if !id.starts_with('-') {
            return id;
        }
    }
}

/// An independent check that the broker answers the Kafka protocol: a hand-written ApiVersions v0
/// request and its correlation id echoed back. Does not use kraftd's client code.
pub fn broker_answers_api_versions(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    // size, api_key=18, api_version=0, correlation_id=0x4b524654, client_id=null
    let mut req = Vec::new();
    req.extend_from_slice(&10i32.to_be_bytes());
    req.extend_from_slice(&18i16.to_be_bytes());
    req.extend_from_slice(&0i16.to_be_bytes());
    req.extend_from_slice(&0x4b524654i32.to_be_bytes());
    req.extend_from_slice(&(-1i16).to_be_bytes());
    if stream.write_all(&req).is_err() {
        return false;
    }
    let mut head = [0u8; 10];
    if stream.read_exact(&mut head).is_err() {
        return false;
    }
    let correlation = i32::from_be_bytes(head[4..8].try_into().unwrap());
    let error_code = i16::from_be_bytes(head[8..10].try_into().unwrap());
    correlation == 0x4b524654 && error_code == 0
}
