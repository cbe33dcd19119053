//! `kraft-install --reconfigure`: change the non-identity settings of an installed node (advertised
//! address, ports, heap, Java, `[kafka]` extras) where kraftd.toml leaves them unset: recorded in
//! node.toml (kraftd.toml is never written; a flag contradicting it is refused), files re-rendered,
//! the running service restarted. Node id, cluster id and data directory are the node's identity: refused.

use crate::cli::Args;
use crate::install::target_layout;
use crate::uninstall::running_kraftd;
use crate::unit::systemctl;
use anyhow::{Context, Result, bail};
use kraftd::config::{ConfigError, ConfigFile, Overrides, Settings};
use kraftd::fsutil::{WriteOutcome, write_atomic};
use kraftd::{KafkaDist, render, storage};
use std::path::Path;
use std::process::Command;

/// Entry point of `kraft-install --reconfigure`.
pub fn run(args: &Args) -> Result<()> {
    let layout = target_layout(args)?;
    let config_path = layout.config_file();
    let Some(admin) = ConfigFile::load(&config_path)? else {
        bail!(
            "{} not found: this node is not installed; run kraft-install (without --reconfigure) first",
            config_path.display()
        );
    };
    // `--advertise NEW` is the fix for an address that left this host: the recorded value is then
    // not checked against the host (node id, cluster id and data dir still are).
    let (before, state) =
        Settings::load_with_state_advertising(&config_path, args.advertise.as_deref())
            .with_context(|| {
                format!(
                    "{} must describe an installed node before --reconfigure",
                    config_path.display()
                )
            })?;
    refuse_identity_changes(args, &before)?;
    let mut state = state.unwrap_or_default();

    let overrides = Overrides {
        advertise: args.advertise.clone(),
        java_home: args.java_home.clone(),
        heap: args.heap.clone(),
        prefix: Some(layout.prefix.clone()),
        force: args.force,
        ..Overrides::default()
    };
    // kraftd.toml is the admin's: a flag may fill what it leaves unset (node.toml), never contradict it.
    kraftd::config::check_flag_conflicts(&admin, &config_path, &overrides)?;
    for (flag, key, given, set) in [
        (
            "--broker-port",
            "node.broker_port",
            args.broker_port,
            admin.node.broker_port,
        ),
        (
            "--controller-port",
            "node.controller_port",
            args.controller_port,
            admin.node.controller_port,
        ),
    ] {
        if let (Some(given), Some(set)) = (given, set) {
            if i64::from(given) != set {
                return Err(kraftd::config::conflict(
                    &admin,
                    &config_path,
                    flag,
                    key,
                    &given.to_string(),
                    &set.to_string(),
                )
                .into());
            }
        }
    }
    if let Some(port) = args.broker_port {
        state.node.broker_port = Some(i64::from(port));
    }
    if let Some(port) = args.controller_port {
        state.node.controller_port = Some(i64::from(port));
    }
    for entry in &args.set {
        let (key, value) = entry.split_once('=').with_context(|| {
            format!("--set {entry:?}: expected KEY=VALUE (an empty VALUE removes KEY)")
        })?;
        let key = key.trim();
        if key.is_empty() {
            bail!(
                "--set {entry:?}: the key is empty; expected a Kafka property name, e.g. --set log.retention.hours=72"
            );
        }
        if let Some(set) = admin.kafka.get(key) {
            if value.is_empty() || toml_value(value) != *set {
                return Err(kraftd::config::conflict(
                    &admin,
                    &config_path,
                    "--set",
                    &format!("kafka.{key}"),
                    entry,
                    &set.to_string(),
                )
                .into());
            }
        }
        if value.is_empty() {
            state.kafka.remove(key);
        } else {
            state.kafka.insert(key.to_string(), toml_value(value));
        }
    }
    let mut file = kraftd::config::merge(&admin, &state);
    file.node
        .prefix
        .get_or_insert_with(|| layout.prefix.clone());
    // Advertise is always known here (the file has it, or the flag gives it): never detected.
    let settings = Settings::resolve(&file, &config_path, &overrides, &|| {
        Err(kraftd::net::AdvertiseError::NoCandidate { seen: Vec::new() })
    })?;
    check_storage_matches(&settings)?;

    let dist_home = settings.layout.dist_current();
    let dist = KafkaDist::open(&dist_home).with_context(|| {
        format!(
            "no Kafka distribution at {}: re-run kraft-install to install one",
            dist_home.display()
        )
    })?;
    kraftd::java::find_java_default(settings.java_home.as_deref())?.check_for(&dist.version)?;

    // Render everything before writing anything: a refused value leaves all files as they were.
    let files = render::node_files(&settings, &dist.version)?;
    render::check_hand_edits(&settings.layout, &files)?;
    let state_path = settings.layout.node_state();
    let state_text = kraftd::config::render_state(&kraftd::config::state_file(&settings, &admin));
    let mut changes: Vec<String> = render::write_rendered(&settings.layout, &files)?
        .iter()
        .map(|p| format!("wrote {}", p.display()))
        .collect();
    if write_atomic(&state_path, state_text.as_bytes(), 0o640)? == WriteOutcome::Written {
        changes.push(format!("wrote {}", state_path.display()));
    }
    if settings.layout.is_system() {
        let owner = crate::provision::lookup_kafka()?;
        let mut owned: Vec<&Path> = files.iter().map(|f| f.path.as_path()).collect();
        owned.push(&state_path);
        crate::provision::own_config_files(owner.as_ref(), &owned)?;
    }

    if changes.is_empty() {
        println!("Nothing to change: the node's files already hold these settings.");
        return Ok(());
    }
    for c in &changes {
        println!("  {c}");
    }
    println!(
        "advertised {}:{}",
        settings.advertised_host(),
        settings.broker_port
    );
    restart(&settings, &config_path)
}

/// Restart the node so the new files take effect: the unit if systemd runs it, else say what to do.
fn restart(settings: &Settings, config: &Path) -> Result<()> {
    let systemd = settings.layout.is_system() && Path::new("/run/systemd/system").is_dir();
    if systemd {
        let active = Command::new("systemctl")
            .args(["is-active", "--quiet", "kafka.service"])
            .status()
            .context("cannot run systemctl")?
            .success();
        if active {
            systemctl(&["restart", "kafka.service"])?;
            println!("restarted kafka.service");
        } else {
            println!(
                "kafka.service is not running: the new settings apply when it starts (systemctl start kafka)"
            );
        }
        return Ok(());
    }
    match running_kraftd(&settings.layout) {
        Some(pid) => println!(
            "kraftd (pid {pid}) is running in the foreground with the old settings: restart it to apply them \
             (`kraftd stop --config {0}`, then `kraftd run --config {0}`)",
            config.display()
        ),
        None => println!(
            "the new settings apply at the next `kraftd run --config {}`",
            config.display()
        ),
    }
    Ok(())
}

/// Node id, cluster id and data directory name the data on disk: changing them would orphan or
/// mismatch it. Repeating the current value is fine.
fn refuse_identity_changes(args: &Args, current: &Settings) -> Result<()> {
    let identity = "is part of the node's identity (its data is formatted for it) and --reconfigure cannot change it; \
                    install a new node instead";
    if let Some(id) = args.node_id {
        if id != i64::from(current.node_id.0) {
            return Err(ConfigError::Invalid(format!(
                "--node-id {id}: the node id {} {identity}",
                current.node_id.0
            ))
            .into());
        }
    }
    if let Some(id) = &args.cluster_id {
        let now = current
            .cluster_id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default();
        if *id != now {
            return Err(ConfigError::Invalid(format!(
                "--cluster-id {id}: the cluster id {now} {identity}"
            ))
            .into());
        }
    }
    if let Some(dir) = &args.data_dir {
        if *dir != current.layout.data_dir {
            return Err(ConfigError::Invalid(format!(
                "--data-dir {}: the data directory {} {identity}",
                dir.display(),
                current.layout.data_dir.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// The data directory must still belong to this node and cluster (nothing here ever formats it).
fn check_storage_matches(settings: &Settings) -> Result<()> {
    let data_dir = &settings.layout.data_dir;
    let Some(meta) = storage::read_meta(data_dir)? else {
        bail!(
            "{} is not formatted: re-run kraft-install (without --reconfigure) to finish the install",
            data_dir.display()
        );
    };
    let cluster = settings
        .cluster_id
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    if meta.cluster_id != cluster || meta.node_id.is_some_and(|n| n != settings.node_id.0) {
        bail!(
            "{}/meta.properties (cluster {}, node {:?}) does not match kraftd.toml (cluster {cluster}, node {}): \
             fix kraftd.toml before reconfiguring",
            data_dir.display(),
            meta.cluster_id,
            meta.node_id,
            settings.node_id.0
        );
    }
    Ok(())
}

/// `--set` values typed as kraftd.toml would type them (so `72` stays an integer in node.toml).
fn toml_value(text: &str) -> toml::Value {
    if let Ok(i) = text.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(b) = text.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(text.to_string())
    }
}
