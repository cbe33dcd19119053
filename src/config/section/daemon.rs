//! `[daemon]`: how kraftd runs Kafka — today the `kraftd stop` wait.

use super::{Picker, invalid};
use crate::config::ConfigError;
use std::time::Duration;

/// Default `kraftd stop` wait (Kafka's controlled shutdown can take minutes).
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(180);

/// The checked `[daemon]` values.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::config) struct Daemon {
    pub stop_timeout: Duration,
}

impl Daemon {
    /// `[daemon]` over the defaults (no flags set these).
    pub fn resolve(p: &Picker<'_>) -> Result<Daemon, ConfigError> {
        let stop_timeout = match p.file.daemon.stop_timeout_sec {
            Some(0) => {
                return Err(invalid(
                    p.file_origin("daemon.stop_timeout_sec"),
                    "0 seconds gives Kafka no time for a controlled shutdown; use e.g. 180",
                ));
            }
            Some(s) => Duration::from_secs(s),
            None => DEFAULT_STOP_TIMEOUT,
        };
        Ok(Daemon { stop_timeout })
    }
}
