//! The sections of kraftd.toml, each resolving and validating itself: `node` (identity, listeners,
//! cluster membership), `dist`, `java`, `daemon` and the `kafka` passthrough. Shared here: where a
//! value came from (`Origin`) and the flag-over-file choice (`Picker`) every section makes.

pub(super) mod daemon;
pub(super) mod dist;
pub(super) mod java;
pub(super) mod kafka;
pub(super) mod node;

use super::file::Position;
use super::{ConfigError, ConfigFile};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a value came from, for messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    Flag(&'static str),
    File {
        key: &'static str,
        path: &'a Path,
        pos: Option<Position>,
    },
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(flag) => write!(f, "{flag}"),
            Origin::File {
                key,
                path,
                pos: Some(p),
            } => write!(f, "{key} at {}:{}:{}", path.display(), p.line, p.column),
            Origin::File {
                key,
                path,
                pos: None,
            } => write!(f, "{key} in {}", path.display()),
        }
    }
}

/// Chooses between a flag and a file value, remembering which one won. A file value that came
/// from node.toml (by the merge) is named there.
pub(super) struct Picker<'a> {
    pub file: &'a ConfigFile,
    pub path: &'a Path,
}

impl<'a> Picker<'a> {
    pub fn pick<T: Clone>(
        &self,
        flag_value: Option<&T>,
        flag: &'static str,
        file_value: Option<&T>,
        key: &'static str,
    ) -> Option<(T, Origin<'a>)> {
        if let Some(v) = flag_value {
            return Some((v.clone(), Origin::Flag(flag)));
        }
        file_value.map(|v| (v.clone(), self.file_origin(key)))
    }

    pub fn file_origin(&self, key: &'static str) -> Origin<'a> {
        if let Some((path, pos)) = self.file.state_origin(key) {
            return Origin::File { key, path, pos };
        }
        Origin::File {
            key,
            path: self.path,
            pos: self.file.position(key),
        }
    }
}

/// A value that parses but is not acceptable: `origin: message` (the message ends with the fix).
pub(super) fn invalid(origin: Origin<'_>, message: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid(format!("{origin}: {message}"))
}

/// Refuse a relative path (it would depend on the working directory).
pub(super) fn absolute(
    origin: Origin<'_>,
    path: PathBuf,
    what: &str,
) -> Result<PathBuf, ConfigError> {
    if path.is_absolute() {
        return Ok(path);
    }
    Err(invalid(
        origin,
        format!(
            "{what} {:?} is a relative path; give an absolute path (it must not depend on the working directory)",
            path.display().to_string()
        ),
    ))
}
