//! Provisioning: the `kafka` system user and the directories kraftd needs, with the right owners.
//!
//! Only directories kraft-install creates get their owner set; existing data is never chowned
//! recursively or otherwise touched.

use anyhow::{Context, Result, bail};
use kraftd::config::Layout;
use nix::unistd::{Gid, Uid, User, chown};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The sysusers.d entry the packages ship, applied the same way for a tarball install.
const SYSUSERS: &str = include_str!("../../dist/usr/lib/sysusers.d/kraftd.conf");
/// Where the package installs it; `--replace` makes systemd-sysusers treat stdin as that file.
const SYSUSERS_PATH: &str = "/usr/lib/sysusers.d/kraftd.conf";

/// The account the broker runs as (system installs only).
#[derive(Debug, Clone, Copy)]
pub struct Owner {
    pub uid: Uid,
    pub gid: Gid,
}

/// Create the user (system install as root) and the directories. Returns the broker's account
/// when files must be chowned to it.
pub fn provision(
    layout: &Layout,
    changes: &mut Vec<String>,
    created: &mut Vec<PathBuf>,
) -> Result<Option<Owner>> {
    let owner = if layout.is_system() {
        if !Uid::effective().is_root() {
            bail!(
                "installing into / needs root: run `sudo kraft-install …`, or pass --prefix DIR for a \
                 self-contained install owned by you"
            );
        }
        Some(ensure_user(changes)?)
    } else {
        None
    };
    // /etc/kafka: root:kafka 0750 (the broker reads its config, cannot change it).
    make_dir(
        &layout.etc_dir,
        0o750,
        owner.map(|o| (Uid::from_raw(0), o.gid)),
        changes,
        created,
    )?;
    make_dir(&layout.opt_dir, 0o755, None, changes, created)?;
    // /var/lib/kraftd: kafka:kafka 0750 (kraftd renders server.properties there on every start).
    make_dir(
        &layout.state_dir,
        0o750,
        owner.map(|o| (o.uid, o.gid)),
        changes,
        created,
    )?;
    // The data directory and its parent: kafka:kafka 0750, only when we create them.
    if let Some(parent) = layout.data_dir.parent() {
        make_dir(
            parent,
            0o750,
            owner.map(|o| (o.uid, o.gid)),
            changes,
            created,
        )?;
    }
    make_dir(
        &layout.data_dir,
        0o750,
        owner.map(|o| (o.uid, o.gid)),
        changes,
        created,
    )?;
    Ok(owner)
}

/// Rendered config files: root:kafka so the broker can read but not rewrite them.
pub fn own_config_files(owner: Option<&Owner>, files: &[&Path]) -> Result<()> {
    if let Some(o) = owner {
        for f in files {
            chown(*f, Some(Uid::from_raw(0)), Some(o.gid))
                .with_context(|| format!("cannot chown {} to root:kafka", f.display()))?;
        }
    }
    Ok(())
}

/// After a fresh format (run as root), hand exactly what StorageTool created to the broker's account.
pub fn own_data(owner: Option<&Owner>, data_dir: &Path) -> Result<()> {
    let Some(o) = owner else { return Ok(()) };
    for name in [
        "meta.properties",
        "bootstrap.checkpoint",
        "__cluster_metadata-0",
    ] {
        let path = data_dir.join(name);
        if path.exists() {
            chown_created(&path, o)?;
        }
    }
    Ok(())
}

/// chown a file, or a directory and what is inside it — used only on paths StorageTool just created.
fn chown_created(path: &Path, o: &Owner) -> Result<()> {
    chown(path, Some(o.uid), Some(o.gid))
        .with_context(|| format!("cannot chown {}", path.display()))?;
    if path.is_dir() {
        for entry in
            fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))?
        {
            chown_created(&entry?.path(), o)?;
        }
    }
    Ok(())
}

fn make_dir(
    dir: &Path,
    mode: u32,
    owner: Option<(Uid, Gid)>,
    changes: &mut Vec<String>,
    created: &mut Vec<PathBuf>,
) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    // Missing ancestors (e.g. the --prefix itself) are created 0755 and remembered for rollback.
    let mut missing: Vec<&Path> = dir
        .ancestors()
        .skip(1)
        .take_while(|a| !a.exists())
        .collect();
    missing.reverse();
    for ancestor in missing {
        fs::DirBuilder::new()
            .mode(0o755)
            .create(ancestor)
            .with_context(|| {
                format!(
                    "cannot create {} (is the target writable?)",
                    ancestor.display()
                )
            })?;
        created.push(ancestor.to_path_buf());
    }
    fs::DirBuilder::new()
        .mode(mode)
        .create(dir)
        .with_context(|| format!("cannot create {} (is the target writable?)", dir.display()))?;
    // The umask may have narrowed the mode.
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set mode {mode:o} on {}", dir.display()))?;
    created.push(dir.to_path_buf());
    if let Some((uid, gid)) = owner {
        chown(dir, Some(uid), Some(gid))
            .with_context(|| format!("cannot chown {}", dir.display()))?;
    }
    changes.push(format!("created {}", dir.display()));
    Ok(())
}

/// Undo `make_dir` after a failed run: remove the directories this run created, deepest first,
/// only while they are empty (`remove_dir` refuses otherwise), so no content is ever removed.
pub fn remove_empty_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// The `kafka` user via systemd-sysusers (same file as the packages), else useradd.
fn ensure_user(changes: &mut Vec<String>) -> Result<Owner> {
    if let Some(owner) = lookup_kafka()? {
        return Ok(owner);
    }
    let status = if which("systemd-sysusers") {
        let mut child = Command::new("systemd-sysusers")
            .arg(format!("--replace={SYSUSERS_PATH}"))
            .arg("-")
            .stdin(Stdio::piped())
            .spawn()
            .context("cannot run systemd-sysusers")?;
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(SYSUSERS.as_bytes())?;
        child.wait().context("systemd-sysusers")?
    } else {
        Command::new("useradd")
            .args([
                "--system",
                "--user-group",
                "--home-dir",
                "/var/lib/kafka",
                "--no-create-home",
            ])
            .args([
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "Apache Kafka broker (kraftd)",
                "kafka",
            ])
            .status()
            .context("cannot run useradd (neither systemd-sysusers nor useradd worked)")?
    };
    if !status.success() {
        bail!("creating the system user `kafka` failed ({status}); create it yourself and re-run");
    }
    changes.push("created system user kafka".into());
    lookup_kafka()?.context("the user `kafka` still does not exist after creating it")
}

pub fn lookup_kafka() -> Result<Option<Owner>> {
    let user = User::from_name("kafka").context("cannot look up the user `kafka`")?;
    Ok(user.map(|u| Owner {
        uid: u.uid,
        gid: u.gid,
    }))
}

pub fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}
