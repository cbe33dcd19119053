//! `kraft-install --uninstall [--purge]`: undo a non-package install. Removes what kraft-install put
//! there (unit, unpacked distributions and `current`, rendered files); keeps kraftd.toml and the data
//! unless `--purge`, which is confirmed on a terminal (or with `--yes`).

use crate::cli::Args;
use crate::install::target_layout;
use crate::unit::systemctl;
use anyhow::{Context, Result, bail};
use kraftd::config::{ConfigFile, Layout, Settings};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Entry point of `kraft-install --uninstall`.
pub fn run(args: &Args) -> Result<()> {
    let layout = target_layout(args)?;
    let config_path = layout.config_file();
    let settings = load_if_present(&config_path)?;
    // The data directory the node uses: the config's (it may be outside the prefix), else the flag's,
    // else the default.
    let data_dir = settings
        .as_ref()
        .map(|s| s.layout.data_dir.clone())
        .or_else(|| args.data_dir.clone())
        .unwrap_or_else(|| layout.data_dir.clone());
    let layout = Layout::new(&layout.prefix, Some(&data_dir));

    refuse_if_packaged(&layout)?;
    let systemd = layout.is_system() && Path::new("/run/systemd/system").is_dir();
    if !systemd {
        refuse_if_running(&layout, &config_path)?;
    }
    if args.purge {
        confirm_purge(args, &layout, settings.as_ref())?;
    }

    let mut done: Vec<String> = Vec::new();
    // 1. Stop and disable the service, then drop its unit.
    let unit = layout.unit_file();
    if systemd && unit.exists() {
        systemctl(&["disable", "--now", "kafka.service"])?;
        done.push("stopped and disabled kafka.service".into());
        refuse_if_running(&layout, &config_path)?;
    }
    remove_file(&unit, &mut done)?;
    if systemd && done.iter().any(|d| d.contains("kafka.service")) {
        systemctl(&["daemon-reload"])?;
    }

    // 2. The distributions kraft-install unpacked (real directories named like a Kafka release) and
    //    the `current` link. Anything else in /opt/kafka is the admin's and stays.
    remove_file(&layout.dist_current(), &mut done)?;
    if let Ok(entries) = std::fs::read_dir(&layout.opt_dir) {
        let mut dists: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_dist_dir_name)
            })
            .collect();
        dists.sort();
        for dir in dists {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
            done.push(format!("removed {}", dir.display()));
        }
    }
    remove_empty_dir(&layout.opt_dir, &mut done);

    // 3. Rendered files (kraftd.toml is the admin's: kept unless --purge).
    for file in [
        layout.server_properties(),
        layout.etc_dir.join("log4j.properties"),
        layout.etc_dir.join("log4j2.properties"),
    ] {
        remove_file(&file, &mut done)?;
    }
    remove_file(&layout.pid_file(), &mut done)?;
    remove_empty_dir(&layout.run_dir, &mut done);

    let mut kept = Vec::new();
    if args.purge {
        remove_file(&config_path, &mut done)?;
        remove_empty_dir(&layout.etc_dir, &mut done);
        if data_dir.exists() {
            std::fs::remove_dir_all(&data_dir)
                .with_context(|| format!("cannot remove {}", data_dir.display()))?;
            done.push(format!(
                "removed {} (all Kafka data of this node)",
                data_dir.display()
            ));
        }
        if let Some(parent) = data_dir.parent() {
            remove_empty_dir(parent, &mut done);
        }
    } else {
        if config_path.exists() {
            kept.push(config_path.display().to_string());
        }
        if data_dir.exists() {
            kept.push(format!("{} (the data)", data_dir.display()));
        }
    }
    if !layout.is_system() {
        remove_empty_parents(&layout, &mut done);
    }

    if done.is_empty() {
        println!(
            "Nothing to remove: kraft-install's files are not under {}.",
            layout.prefix.display()
        );
    }
    for d in &done {
        println!("  {d}");
    }
    if !kept.is_empty() {
        println!("kept: {}", kept.join(", "));
        println!("      (kraft-install --uninstall --purge removes them too)");
    }
    if layout.is_system() {
        println!(
            "The system user `kafka` is left in place (remove it with `userdel kafka` if nothing else uses it)."
        );
    }
    Ok(())
}

/// The node's settings when kraftd.toml exists (a half-finished install may have none).
fn load_if_present(path: &Path) -> Result<Option<Settings>> {
    match ConfigFile::load(path)? {
        None => Ok(None),
        Some(_) => Ok(Some(Settings::load(path).with_context(|| {
            format!("{} is not a usable kraftd.toml: fix it, or move it away to uninstall with the default paths", path.display())
        })?)),
    }
}

/// `kafka_2.13-<version>`: what `dist::obtain` unpacks.
fn is_dist_dir_name(name: &str) -> bool {
    name.strip_prefix("kafka_2.13-")
        .is_some_and(|v| v.parse::<kraftd::KafkaVersion>().is_ok())
}

/// A deb/rpm owns kraftd: then the package manager must remove it, or it would still believe the
/// files are there (and reinstall/upgrade would go wrong).
fn refuse_if_packaged(layout: &Layout) -> Result<()> {
    let mut paths = vec![layout.unit_file(), layout.dist_current()];
    if layout.is_system() {
        paths.insert(0, PathBuf::from("/usr/bin/kraftd"));
        paths.push(PathBuf::from("/usr/lib/systemd/system/kafka.service"));
    }
    for path in paths.iter().filter(|p| p.exists()) {
        if let Some(owner) = package_owner(path) {
            bail!(
                "{} belongs to the package {owner}: remove kraftd with the package manager instead \
                 (`apt remove kraftd` / `apt purge kraftd`, or `dnf remove kraftd`); \
                 kraft-install --uninstall is only for installs made by kraft-install",
                path.display()
            );
        }
    }
    Ok(())
}

/// The package owning `path` (dpkg -S, else rpm -qf), if any.
fn package_owner(path: &Path) -> Option<String> {
    let queries: [(&str, &[&str]); 2] = [
        ("dpkg", &["-S"]),
        ("rpm", &["-qf", "--queryformat", "%{NAME}"]),
    ];
    for (tool, flags) in queries {
        if !crate::provision::which(tool) {
            continue;
        }
        let Ok(out) = Command::new(tool).args(flags).arg(path).output() else {
            continue;
        };
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let name = if tool == "dpkg" {
                text.split(':').next().unwrap_or("").trim()
            } else {
                text.trim()
            };
            if !name.is_empty() {
                return Some(name.to_string());
            }
        }
    }
    None
}

/// Removing a node that is running in the foreground would pull Kafka's jars from under the JVM.
pub fn running_kraftd(layout: &Layout) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(layout.pid_file())
        .ok()?
        .trim()
        .parse()
        .ok()?;
    kraftd::daemon::stop::process_is_kraftd(pid).then_some(pid)
}

fn refuse_if_running(layout: &Layout, config: &Path) -> Result<()> {
    if let Some(pid) = running_kraftd(layout) {
        bail!(
            "kraftd (pid {pid}) is running this node: stop it first (`kraftd stop --config {}`), then re-run",
            config.display()
        );
    }
    Ok(())
}

/// `--purge` deletes every topic: on a terminal the operator types `purge` (or the cluster id);
/// without a terminal only `--yes` confirms.
fn confirm_purge(args: &Args, layout: &Layout, settings: Option<&Settings>) -> Result<()> {
    let data_dir = &layout.data_dir;
    // Refuse to delete a directory that does not look like this node's data (a typo in data_dir
    // must not wipe an unrelated tree).
    if data_dir.exists() && !data_dir.join("meta.properties").is_file() {
        let non_empty = std::fs::read_dir(data_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
        if non_empty || data_dir == Path::new("/") || *data_dir == layout.prefix {
            bail!(
                "{} has no meta.properties, so it is not a Kafka data directory kraft-install formatted: \
                 --purge will not delete it; remove it yourself if that is really meant",
                data_dir.display()
            );
        }
    }
    if args.yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "--purge deletes {} (every topic of this node) and {}: no terminal to confirm on, so pass --yes as well",
            data_dir.display(),
            layout.config_file().display()
        );
    }
    let cluster = settings
        .and_then(|s| s.cluster_id.as_ref())
        .map(|c| c.to_string());
    eprint!(
        "This deletes {} (all Kafka data of this node) and {}.\nType `purge`{} to confirm: ",
        data_dir.display(),
        layout.config_file().display(),
        cluster
            .as_ref()
            .map(|c| format!(" or the cluster id {c}"))
            .unwrap_or_default()
    );
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the confirmation")?;
    let answer = answer.trim();
    if answer == "purge" || cluster.as_deref() == Some(answer) {
        Ok(())
    } else {
        bail!("not confirmed (got {answer:?}): nothing was removed")
    }
}

fn remove_file(path: &Path, done: &mut Vec<String>) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            done.push(format!("removed {}", path.display()));
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// Remove a directory only when it is empty (never content someone else put there).
fn remove_empty_dir(dir: &Path, done: &mut Vec<String>) {
    if std::fs::remove_dir(dir).is_ok() {
        done.push(format!("removed empty {}", dir.display()));
    }
}

/// Under a `--prefix`, the now-empty directories kraft-install created up to the prefix.
fn remove_empty_parents(layout: &Layout, done: &mut Vec<String>) {
    for dir in [
        &layout.unit_dir,
        &layout.opt_dir,
        &layout.etc_dir,
        &layout.run_dir,
        &layout.data_dir,
    ] {
        for ancestor in dir.ancestors() {
            if ancestor == layout.prefix || !ancestor.starts_with(&layout.prefix) {
                break;
            }
            if std::fs::remove_dir(ancestor).is_ok() {
                done.push(format!("removed empty {}", ancestor.display()));
            }
        }
    }
}
