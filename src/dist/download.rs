//! HTTP(S) downloads of release tarballs and their `.sha512` files: streamed to a temp file while hashing,
//! with timeouts and progress (bar on a terminal, plain lines otherwise).

use super::digest::{parse_sha512_file, to_hex};
use sha2::{Digest, Sha512};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

/// How download progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// An indicatif bar (stderr is a terminal).
    Bar,
    /// Plain log lines about every 10 %.
    Lines,
    /// Nothing.
    Quiet,
}

impl Progress {
    /// `Bar` when stderr is a terminal, else `Lines`.
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::Bar
        } else {
            Progress::Lines
        }
    }
}

/// Connect timeout: a dead mirror should be skipped quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Per-read timeout (reqwest's blocking `timeout` applies to each read of the body).
const READ_TIMEOUT: Duration = Duration::from_secs(60);

static INSTALL_PROVIDER: Once = Once::new();

/// A blocking HTTP client for release downloads.
pub(crate) struct Downloader {
    client: reqwest::blocking::Client,
    progress: Progress,
}

/// A finished download: the temp file (removed on drop) and its SHA-512.
pub(crate) struct Downloaded {
    pub file: tempfile::NamedTempFile,
    pub sha512: String,
}

impl Downloader {
    pub fn new(progress: Progress) -> anyhow::Result<Downloader> {
        // reqwest is built with `rustls-no-provider`: install ring once per process. Another part of
        // the program (or a test) may have installed one already, which is fine.
        INSTALL_PROVIDER.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(READ_TIMEOUT)
            .user_agent(concat!("kraft-install/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {e}"))?;
        Ok(Downloader { client, progress })
    }

    /// Fetch a published `<tarball>.sha512`. `Ok(None)` when the server has none (404).
    pub fn fetch_published_digest(&self, url: &str) -> Result<Option<String>, String> {
        let resp = self.client.get(url).send().map_err(|e| describe(&e))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("HTTP {status} for {url}"));
        }
        let text = resp
            .text()
            .map_err(|e| format!("cannot read {url}: {}", describe(&e)))?;
        parse_sha512_file(&text).map(Some).ok_or_else(|| {
            format!(
                "{url} is not a SHA-512 checksum file (neither gpg --print-md nor sha512sum format)"
            )
        })
    }

    /// Download `url` into a temp file in `dir`, hashing as it streams. The reason string of an error
    /// says what went wrong (connect, status, truncated, disk).
    pub fn fetch_to_temp(&self, url: &str, dir: &Path) -> Result<Downloaded, String> {
        let mut resp = self.client.get(url).send().map_err(|e| describe(&e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        let total = resp.content_length();
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".kafka-download-{}-", std::process::id()))
            .suffix(".tgz.part")
            .tempfile_in(dir)
            .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
        let mut hasher = Sha512::new();
        let mut meter = Meter::new(self.progress, url, total);
        let mut buf = vec![0u8; 128 * 1024];
        let mut received: u64 = 0;
        loop {
            let n = match resp.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    meter.abandon();
                    return Err(format!("download interrupted after {received} bytes: {e}"));
                }
            };
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])
                .map_err(|e| format!("cannot write {}: {e}", file.path().display()))?;
            received += n as u64;
            meter.advance(received);
        }
        meter.finish(received);
        if let Some(total) = total {
            if received != total {
                return Err(format!("truncated: received {received} of {total} bytes"));
            }
        }
        file.as_file()
            .sync_all()
            .map_err(|e| format!("cannot fsync {}: {e}", file.path().display()))?;
        Ok(Downloaded {
            file,
            sha512: to_hex(&hasher.finalize()),
        })
    }
}

/// A short reason for a reqwest error, with the underlying cause (e.g. "connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_connect() {
        "cannot connect".to_string()
    } else if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() && !msg.contains(&last) {
        msg = format!("{msg}: {last}");
    }
    msg
}

/// Progress display of one download.
struct Meter {
    mode: Progress,
    bar: Option<indicatif::ProgressBar>,
    url: String,
    total: Option<u64>,
    next_line_at: u64,
}

const LINE_STEP_UNKNOWN: u64 = 10 * 1024 * 1024;

impl Meter {
    fn new(mode: Progress, url: &str, total: Option<u64>) -> Meter {
        let bar = match mode {
            Progress::Bar => {
                let bar = match total {
                    Some(t) => indicatif::ProgressBar::new(t),
                    None => indicatif::ProgressBar::new_spinner(),
                };
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
                Some(bar)
            }
            _ => None,
        };
        if mode == Progress::Lines {
            match total {
                Some(t) => log::info!("downloading {url} ({t} bytes)"),
                None => log::info!("downloading {url}"),
            }
        }
        let first = match total {
            Some(t) => t / 10,
            None => LINE_STEP_UNKNOWN,
        };
        Meter {
            mode,
            bar,
            url: url.to_string(),
            total,
            next_line_at: first.max(1),
        }
    }

    fn advance(&mut self, received: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(received);
        }
        if self.mode == Progress::Lines && received >= self.next_line_at {
            match self.total {
                Some(t) if t > 0 => {
                    let pct = received * 100 / t;
                    log::info!("{}: {pct}% ({received} of {t} bytes)", self.url);
                    self.next_line_at = (pct / 10 + 1) * t / 10;
                }
                _ => {
                    log::info!("{}: {received} bytes", self.url);
                    self.next_line_at = received + LINE_STEP_UNKNOWN;
                }
            }
        }
    }

    fn finish(&mut self, received: u64) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.mode == Progress::Lines {
            log::info!("downloaded {} ({received} bytes)", self.url);
        }
    }

    fn abandon(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}
