//! The one local HTTP/1.1 server of the download tests: routes from path to reply (bytes, a file
//! read on each request, or a truncated body), 404 for anything else, every request path recorded.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// 200 with the file's bytes, read when asked for.
    File(PathBuf),
    /// Claims `claimed` bytes in Content-Length but sends only `body`, then closes.
    Truncated { body: Vec<u8>, claimed: usize },
}

/// A file server on an ephemeral 127.0.0.1 port, one thread per connection, `Connection: close`.
pub struct HttpServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub port: u16,
    routes: Arc<Mutex<BTreeMap<String, Reply>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    /// A server with no routes yet (everything is 404).
    pub fn start() -> HttpServer {
        HttpServer::with_routes(std::iter::empty::<(String, Reply)>())
    }

    /// A server answering `routes` (path → reply).
    pub fn with_routes(routes: impl IntoIterator<Item = (String, Reply)>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes = Arc::new(Mutex::new(routes.into_iter().collect::<BTreeMap<_, _>>()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r, q) = (routes.clone(), requests.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (r, q) = (r.clone(), q.clone());
                std::thread::spawn(move || serve(conn, &r, &q));
            }
        });
        HttpServer {
            base: format!("http://127.0.0.1:{port}"),
            port,
            routes,
            requests,
        }
    }

    /// Serve `file` at `url_path` from now on.
    pub fn add(&self, url_path: &str, file: &Path) {
        self.route(url_path, Reply::File(file.to_path_buf()));
    }

    /// Answer `url_path` with `reply` from now on.
    pub fn route(&self, url_path: &str, reply: Reply) {
        self.routes
            .lock()
            .unwrap()
            .insert(url_path.to_string(), reply);
    }

    /// The full URL of `url_path` on this server.
    pub fn url(&self, url_path: &str) -> String {
        format!("{}{url_path}", self.base)
    }

    /// Every request path so far, in order (404s included).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// How many requests arrived so far.
    pub fn hit_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

fn serve(mut stream: TcpStream, routes: &Mutex<BTreeMap<String, Reply>>, log: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(path.clone());
    let reply = routes.lock().unwrap().get(&path).cloned();
    let (body, claimed) = match reply {
        Some(Reply::Body(body)) => {
            let n = body.len();
            (body, n)
        }
        Some(Reply::File(file)) => {
            let body = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("the test server cannot read {}: {e}", file.display()));
            let n = body.len();
            (body, n)
        }
        Some(Reply::Truncated { body, claimed }) => (body, claimed),
        None => {
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
            );
            let _ = stream.flush();
            return;
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {claimed}\r\nContent-Type: application/octet-stream\r\n\
         Connection: close\r\n\r\n"
    );
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

/// A base URL on a port where nothing listens (connection refused).
pub fn refused_base() -> String {
    format!("http://127.0.0.1:{}", crate::net::free_port())
}
