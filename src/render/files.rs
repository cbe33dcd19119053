//! The rendered files in the state dir (server.properties, the log config): rendered from the merged
//! settings by kraft-install and on every `kraftd run`, written only when their bytes change, and
//! recorded (sha256) so a hand edit is refused instead of silently overwritten.

use crate::config::{ConfigError, Settings};
use crate::fsutil::{WriteOutcome, write_atomic};
use crate::{KafkaVersion, Layout};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Mode of the rendered files (root:kafka or kafka:kafka 0640: the broker reads them).
const MODE: u32 = 0o640;

/// One file as it should be on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub path: PathBuf,
    pub text: String,
}

/// server.properties and the log config for `settings` and the installed Kafka `version`.
pub fn node_files(settings: &Settings, version: &KafkaVersion) -> Result<Vec<Rendered>> {
    let layout = &settings.layout;
    Ok(vec![
        Rendered {
            path: layout.server_properties(),
            text: super::server_properties(settings, version)?,
        },
        Rendered {
            path: layout.log_config(version),
            text: super::log_config(version),
        },
    ])
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The record: file name → sha256 of the bytes kraftd last wrote (sha256sum format).
fn read_record(layout: &Layout) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(layout.rendered_record()).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(hash, name)| (name.trim().to_string(), hash.trim().to_string()))
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Read-only: refuse (exit 78) when a file on disk differs both from the new rendering and from what
/// kraftd last wrote — someone edited it, and rendering would lose the edit.
pub fn check_hand_edits(layout: &Layout, files: &[Rendered]) -> Result<(), ConfigError> {
    let record = read_record(layout);
    for f in files {
        let Ok(current) = std::fs::read(&f.path) else {
            continue;
        };
        if current == f.text.as_bytes() {
            continue;
        }
        if record.get(&file_name(&f.path)) == Some(&sha256_hex(&current)) {
            continue;
        }
        return Err(ConfigError::Invalid(format!(
            "{} was changed by hand: its content is neither what kraftd rendered last (recorded in {}) nor what \
             it renders now. kraftd renders this file from {} on every start, so the edit would be lost; it \
             refuses to start instead, and nothing was changed. Move the setting into the [kafka] table of {} \
             (Kafka properties) or the matching key of it, then delete {} — the next start renders it again",
            f.path.display(),
            layout.rendered_record().display(),
            layout.config_file().display(),
            layout.config_file().display(),
            f.path.display()
        )));
    }
    Ok(())
}

/// Check for hand edits, then write each file whose bytes differ (unchanged files keep their mtime)
/// and the record. Returns the files written.
pub fn write_rendered(layout: &Layout, files: &[Rendered]) -> Result<Vec<PathBuf>> {
    check_hand_edits(layout, files)?;
    std::fs::create_dir_all(&layout.state_dir)
        .with_context(|| format!("cannot create {}", layout.state_dir.display()))?;
    let mut written = Vec::new();
    for f in files {
        if write_atomic(&f.path, f.text.as_bytes(), MODE)? == WriteOutcome::Written {
            written.push(f.path.clone());
        }
    }
    let mut record = String::new();
    for f in files {
        record.push_str(&format!(
            "{}  {}\n",
            sha256_hex(f.text.as_bytes()),
            file_name(&f.path)
        ));
    }
    write_atomic(&layout.rendered_record(), record.as_bytes(), MODE)?;
    Ok(written)
}
