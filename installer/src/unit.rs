//! kafka.service: the unit the packages ship (`dist/usr/lib/systemd/system/kafka.service`), rendered
//! for this install's kraftd binary and config path, installed and enabled under systemd.

use anyhow::{Context, Result, bail};
use kraftd::config::Layout;
use kraftd::fsutil::{WriteOutcome, write_atomic};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The unit exactly as the deb/rpm install it (one file for both: the packages ship it unchanged).
const PACKAGED_UNIT_TEXT: &str = include_str!("../../dist/usr/lib/systemd/system/kafka.service");
/// The kraftd binary and config path written in `PACKAGED_UNIT_TEXT`'s ExecStart=/ExecStop=.
const PACKAGED_KRAFTD: &str = "/usr/bin/kraftd";
const PACKAGED_CONFIG: &str = "/etc/kafka/kraftd.toml";
/// A unit shipped by the deb/rpm: then the package owns the unit and we only enable it.
const PACKAGED_UNIT: &str = "/usr/lib/systemd/system/kafka.service";

/// The unit text for this node: the packaged unit with this kraftd binary and config path in
/// ExecStart=/ExecStop= (whole words only, no other line changes). Static otherwise: the configured
/// paths go to a drop-in (`paths_dropin`), as for the packaged unit.
pub fn render(kraftd: &Path, config: &Path) -> String {
    let (kraftd, config) = (kraftd.display().to_string(), config.display().to_string());
    let mut unit = String::with_capacity(PACKAGED_UNIT_TEXT.len());
    for line in PACKAGED_UNIT_TEXT.split_inclusive('\n') {
        let Some((key @ ("ExecStart" | "ExecStop"), command)) = line.split_once('=') else {
            unit.push_str(line);
            continue;
        };
        let (command, eol) = command.split_at(command.trim_end_matches('\n').len());
        let words: Vec<&str> = command
            .split(' ')
            .map(|word| match word {
                PACKAGED_KRAFTD => kraftd.as_str(),
                PACKAGED_CONFIG => config.as_str(),
                other => other,
            })
            .collect();
        unit.push_str(&format!("{key}={}{eol}", words.join(" ")));
    }
    unit
}

/// The drop-in that lets the hardened unit (ProtectSystem=strict) write the configured data dir.
pub fn paths_dropin(data_dir: &Path) -> String {
    let dir = data_dir.display().to_string();
    let value = if dir.contains(char::is_whitespace) {
        format!("\"{dir}\"")
    } else {
        dir
    };
    format!(
        "# Written by kraft-install from data_dir (kraftd.toml, else node.toml): the hardened kafka.service\n\
         # may write the configured data directory. Re-run kraft-install after changing data_dir.\n\
         [Service]\nReadWritePaths={value}\n"
    )
}

/// Write the paths drop-in (packaged and non-packaged installs alike); daemon-reload when it changed
/// and systemd runs.
pub fn write_paths_dropin(layout: &Layout, changes: &mut Vec<String>) -> Result<()> {
    let path = layout.paths_dropin();
    let dir = path.parent().expect("the drop-in has a directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if write_atomic(&path, paths_dropin(&layout.data_dir).as_bytes(), 0o644)?
        == WriteOutcome::Written
    {
        changes.push(format!("wrote {}", path.display()));
        if layout.is_system() && Path::new("/run/systemd/system").is_dir() {
            systemctl(&["daemon-reload"])?;
        }
    }
    Ok(())
}

/// The kraftd binary installed beside kraft-install (/usr/bin in the packages).
pub fn kraftd_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("kraftd")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/kraftd"))
}

pub fn install(layout: &Layout, config: &Path, changes: &mut Vec<String>) -> Result<()> {
    let systemd_running = layout.is_system() && Path::new("/run/systemd/system").is_dir();
    let packaged = layout.is_system() && Path::new(PACKAGED_UNIT).is_file();
    if !packaged {
        let text = render(&kraftd_binary(), config);
        std::fs::create_dir_all(&layout.unit_dir)
            .with_context(|| format!("cannot create {}", layout.unit_dir.display()))?;
        let path = layout.unit_file();
        if write_atomic(&path, text.as_bytes(), 0o644)? == WriteOutcome::Written {
            changes.push(format!("wrote {}", path.display()));
            if systemd_running {
                systemctl(&["daemon-reload"])?;
            }
        }
    }
    if systemd_running {
        let enabled = Command::new("systemctl")
            .args(["is-enabled", "--quiet", "kafka.service"])
            .status()
            .context("cannot run systemctl")?;
        if !enabled.success() {
            systemctl(&["enable", "kafka.service"])?;
            changes.push("enabled kafka.service".into());
        }
    }
    Ok(())
}

pub fn systemctl(args: &[&str]) -> Result<()> {
    let status = Command::new("systemctl")
        .args(args)
        .status()
        .with_context(|| format!("cannot run systemctl {}", args.join(" ")))?;
    if !status.success() {
        bail!("`systemctl {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_for_the_packaged_paths_is_the_packaged_unit() {
        let unit = render(Path::new(PACKAGED_KRAFTD), Path::new(PACKAGED_CONFIG));
        assert_eq!(unit, PACKAGED_UNIT_TEXT);
    }

    #[test]
    fn render_changes_only_the_exec_lines() {
        let unit = render(
            Path::new("/opt/kraftd/bin/kraftd"),
            Path::new("/srv/node/conf/kraftd.toml"),
        );
        assert!(unit.contains(
            "\nExecStart=/opt/kraftd/bin/kraftd run --config /srv/node/conf/kraftd.toml\n"
        ));
        assert!(unit.contains(
            "\nExecStop=/opt/kraftd/bin/kraftd stop --config /srv/node/conf/kraftd.toml --pid $MAINPID\n"
        ));
        assert!(!unit.contains(PACKAGED_KRAFTD) && !unit.contains(PACKAGED_CONFIG));
        let changed = |a: &str, b: &str| a.lines().zip(b.lines()).filter(|(x, y)| x != y).count();
        assert_eq!(unit.lines().count(), PACKAGED_UNIT_TEXT.lines().count());
        assert_eq!(changed(&unit, PACKAGED_UNIT_TEXT), 2);
    }
}
