//! kafka.service: rendering the unit from `systemd/`, installing it, enabling it under systemd.

use anyhow::{Context, Result, bail};
use kraftd::config::Layout;
use kraftd::fsutil::{WriteOutcome, write_atomic};
use std::path::{Path, PathBuf};
use std::process::Command;

const UNIT_TEMPLATE: &str = include_str!("../../systemd/kafka.service");
/// A unit shipped by the deb/rpm: then the package owns the unit and we only enable it.
const PACKAGED_UNIT: &str = "/usr/lib/systemd/system/kafka.service";

/// The unit text for this node: the kraftd binary and config path filled in. Static otherwise: the
/// configured paths go to a drop-in (`paths_dropin`), as for the packaged unit.
pub fn render(kraftd: &Path, config: &Path) -> String {
    UNIT_TEMPLATE
        .replace("@KRAFTD@", &kraftd.display().to_string())
        .replace("@CONFIG@", &config.display().to_string())
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
