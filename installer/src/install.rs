//! The install plan: validate everything first, then run each idempotent step in order.
//!
//! Everything that can be refused (config, address, cluster ID, Java, conflicting data) is checked
//! before the first write, so bad input leaves the target exactly as it was.

use crate::cli::Args;
use crate::{provision, unit};
use anyhow::{Context, Result, bail};
use kraftd::cluster_id::OtherClusterError;
use kraftd::config::{ConfigError, ConfigFile, Layout, Overrides, Role, Settings, Voter};
use kraftd::dist::{self, DistSource, KafkaDist, KafkaVersion};
use kraftd::fsutil::{WriteOutcome, write_atomic};
use kraftd::java::JavaRuntime;
use kraftd::storage::{self, FormatOutcome};
use kraftd::{ClusterId, render};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the run did, for the summary and for tests (`changed` is false on an idempotent re-run).
#[derive(Debug, Default)]
pub struct Report {
    pub changes: Vec<String>,
    /// The installed distribution, once obtained.
    pub kafka: Option<KafkaDist>,
}

impl Report {
    fn note(&mut self, outcome: WriteOutcome, what: impl Into<String>) {
        if outcome == WriteOutcome::Written {
            self.changes.push(what.into());
        }
    }
}

/// Entry point of `kraft-install` after argument parsing.
pub fn run(args: &Args) -> Result<()> {
    let layout = target_layout(args)?;
    let prefix = layout.prefix.clone();
    let config_path = layout.config_file();

    // 1. Config: kraftd.toml (the admin's, if any) over node.toml (what earlier runs resolved), then
    //    flags → validated settings. A flag contradicting kraftd.toml is refused. Nothing written yet.
    let existing_text = read_optional(&config_path)?;
    let admin = match &existing_text {
        Some(text) => ConfigFile::parse(text, &config_path)?,
        None => ConfigFile::default(),
    };
    let overrides = Overrides {
        advertise: args.advertise.clone(),
        node_id: args.node_id,
        kafka_version: args.kafka_version.clone(),
        mirrors: args.mirrors.clone(),
        java_home: args.java_home.clone(),
        heap: args.heap.clone(),
        data_dir: args.data_dir.clone(),
        cluster_id: args.cluster_id.clone(),
        prefix: Some(prefix.clone()),
        force: args.force,
        role: args.role.clone(),
        controllers: args.controllers.clone(),
        brokers: args.brokers,
    };
    kraftd::config::check_flag_conflicts(&admin, &config_path, &overrides)?;
    let (file, _) = kraftd::config::merge_with_state(&admin, &config_path)?;
    let mut settings = Settings::resolve(
        &file,
        &config_path,
        &overrides,
        &kraftd::net::detect_advertise,
    )?;
    let layout = settings.layout.clone();
    check_data_dir_shape(&layout.data_dir, args.data_dir.is_some(), &config_path)?;
    log::info!("config: {}", config_path.display());
    for warning in settings.warnings() {
        log::warn!("{warning}");
    }

    // Where the distribution comes from; a local source tells us the version before any write.
    let source = match &args.dist {
        Some(flag) => DistSource::parse_flag(flag)?,
        None => DistSource::Mirrors(settings.mirrors.clone()),
    };
    // The version we ask for: the flag, else what a local source's jars say, else (downloads)
    // kraftd.toml's or the default. A URL without a version in its name is settled after download.
    let requested = match source.local_version()? {
        Some(found) => {
            reconcile_version(&mut settings, found, args.kafka_version.is_some())?;
            Some(found)
        }
        None if args.kafka_version.is_some() || matches!(source, DistSource::Mirrors(_)) => {
            Some(settings.kafka_version)
        }
        None => dist::version_from_tarball_name(args.dist.as_deref().unwrap_or_default()),
    };
    let version = requested.unwrap_or(settings.kafka_version);

    // 3. Java, checked against the version we are about to install.
    let java = kraftd::java::find_java_default(settings.java_home.as_deref())?;
    java.check_for(&version)?;
    log::info!("java: {} (Java {})", java.java.display(), java.major);

    // 7. Cluster ID: flag/config, else existing data, else generate. Conflicts refused here.
    let (cluster_id, formatted) = choose_cluster_id(&settings)?;
    if !formatted {
        confirm_with_voters(&settings, &cluster_id)?;
    }
    settings.cluster_id = Some(cluster_id.clone());

    if args.dry_run {
        print!("{}", plan_text(&settings, &source, &java, formatted, args));
        return Ok(());
    }

    let mut report = Report::default();

    // 4. Provision user and directories (before unpacking: /opt/kafka must exist).
    let mut created = Vec::new();
    let owner = match provision::provision(&layout, &mut report.changes, &mut created) {
        Ok(owner) => owner,
        Err(e) => {
            provision::remove_empty_created(&created);
            return Err(e);
        }
    };
    let result = install_steps(
        args,
        &admin,
        &mut settings,
        source,
        requested,
        version,
        &java,
        &cluster_id,
        owner,
        &mut report,
    );
    if result.is_err() {
        // A failed download or unpack leaves the target as it was: drop the (still empty)
        // directories this run created. Never removes anything that has content.
        provision::remove_empty_created(&created);
    }
    result?;
    print!("{}", summary(&settings, &report, args.no_systemd));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn install_steps(
    args: &Args,
    admin: &ConfigFile,
    settings: &mut Settings,
    source: DistSource,
    requested: Option<KafkaVersion>,
    version: KafkaVersion,
    java: &JavaRuntime,
    cluster_id: &ClusterId,
    owner: Option<provision::Owner>,
    report: &mut Report,
) -> Result<()> {
    let layout = settings.layout.clone();
    let config_path = layout.config_file();

    // 2. Get Kafka.
    let obtained = dist::obtain(&dist::ObtainRequest {
        source,
        version: requested,
        sha512: args.sha512.clone(),
        opt_dir: &layout.opt_dir,
        progress: dist::Progress::auto(),
        dry_run: false,
    })?;
    if obtained.changed {
        report.changes.push(format!(
            "installed Kafka {} in {}",
            obtained.dist.version,
            obtained.dist.home.display()
        ));
    }
    let kafka: KafkaDist = obtained.dist;
    if kafka.version != version {
        reconcile_version(settings, kafka.version, args.kafka_version.is_some())?;
    }

    // 6. Render server.properties and the log config into the state dir (the same code `kraftd run`
    //    uses on every start, so a first start changes nothing); record the resolved values in
    //    node.toml. kraftd.toml is the admin's: created from the documented template only when absent.
    let legacy = layout.legacy_server_properties();
    let first_render = !layout.rendered_record().exists();
    let files = render::node_files(settings, &kafka.version)?;
    for path in render::write_rendered(&layout, &files)? {
        report.changes.push(format!("wrote {}", path.display()));
    }
    if first_render && legacy.exists() {
        log::warn!(
            "{} (rendered by an earlier kraft-install) is no longer read and was left alone: kraftd renders {} \
             from {} on every start. Move anything you added to it by hand into the [kafka] table of {}, then \
             delete it",
            legacy.display(),
            layout.server_properties().display(),
            config_path.display(),
            config_path.display()
        );
    }
    let mut owned: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    owned.push(layout.rendered_record());
    if !config_path.exists() {
        let template = kraftd::config::DEFAULT_CONFIG_TEMPLATE;
        write_atomic(&config_path, template.as_bytes(), 0o640)?;
        report.changes.push(format!(
            "created {} (the documented defaults, all commented out)",
            config_path.display()
        ));
        owned.push(config_path.clone());
    }
    let state_path = layout.node_state();
    let state = kraftd::config::render_state(&kraftd::config::state_file(settings, admin));
    report.note(
        write_atomic(&state_path, state.as_bytes(), 0o640)?,
        format!("wrote {}", state_path.display()),
    );
    let record = layout.data_dir_record();
    let line = format!("{}\n", layout.data_dir.display());
    report.note(
        write_atomic(&record, line.as_bytes(), 0o640)?,
        format!("wrote {}", record.display()),
    );
    owned.push(state_path);
    owned.push(record);
    let owned: Vec<&Path> = owned.iter().map(PathBuf::as_path).collect();
    provision::own_config_files(owner.as_ref(), &owned)?;

    // 8. Format storage (Kafka's own StorageTool) only when unformatted.
    let formatted = storage::ensure_formatted(
        &java.java,
        &kafka,
        &layout.server_properties(),
        &layout.data_dir,
        cluster_id,
        settings.node_id,
    )?;
    if formatted == FormatOutcome::Formatted {
        provision::own_data(owner.as_ref(), &layout.data_dir)?;
        report.changes.push(format!(
            "formatted {} for cluster {cluster_id}",
            layout.data_dir.display()
        ));
    }

    // 9. The unit (not in package mode), and the drop-in with the configured paths (always).
    unit::write_paths_dropin(&layout, &mut report.changes)?;
    if !args.no_systemd {
        unit::install(&layout, &config_path, &mut report.changes)?;
    }

    report.kafka = Some(kafka);
    Ok(())
}

/// The layout the flags name (`--prefix`, absolute).
pub fn target_layout(args: &Args) -> Result<Layout> {
    let prefix = args.prefix.clone().unwrap_or_else(|| PathBuf::from("/"));
    if !prefix.is_absolute() {
        bail!(
            "--prefix {}: must be an absolute path (for example --prefix $PWD/{})",
            prefix.display(),
            prefix.display()
        );
    }
    Ok(Layout::new(&prefix, None))
}
/// Read a file that may not exist.
fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            error,
        }
        .into()),
    }
}

/// The data directory must be a directory or creatable as one: a regular file there (or in its
/// path) is refused before anything is written, naming where the value came from.
fn check_data_dir_shape(
    data_dir: &Path,
    from_flag: bool,
    config_path: &Path,
) -> Result<(), ConfigError> {
    let origin = if from_flag {
        "--data-dir".to_string()
    } else {
        format!("node.data_dir in {}", config_path.display())
    };
    let blocker = data_dir
        .ancestors()
        .find(|p| std::fs::symlink_metadata(p).is_ok());
    match blocker {
        Some(p) if !p.is_dir() => {
            let what = if p == data_dir {
                "is a file, not a directory".to_string()
            } else {
                format!(
                    "cannot be created: {} is a file, not a directory",
                    p.display()
                )
            };
            Err(ConfigError::Invalid(format!(
                "{origin} {}: {what}. Pass a directory (it is created when missing), e.g. --data-dir {}",
                data_dir.display(),
                Path::new("/var/lib/kafka/data").display()
            )))
        }
        _ => Ok(()),
    }
}

/// The distribution's real version (from its jars) wins unless the operator asked for another.
fn reconcile_version(settings: &mut Settings, found: KafkaVersion, explicit: bool) -> Result<()> {
    if explicit && settings.kafka_version != found {
        bail!(
            "--kafka-version {} does not match the distribution given with --dist, which is Kafka {found}: \
             drop --kafka-version or pass a {} distribution",
            settings.kafka_version,
            settings.kafka_version
        );
    }
    settings.kafka_version = found;
    Ok(())
}

/// Flag/config cluster ID, else the one in existing data, else a new one. Data of another cluster
/// or node is refused here, before anything is written.
fn choose_cluster_id(settings: &Settings) -> Result<(ClusterId, bool)> {
    let data_dir = &settings.layout.data_dir;
    let meta = storage::inspect(data_dir, settings.cluster_id.as_ref(), settings.node_id)?;
    let id = match (&settings.cluster_id, meta) {
        (Some(id), _) => id.clone(),
        (None, Some(meta)) => meta.cluster_id.parse::<ClusterId>().with_context(|| {
            format!(
                "{} holds a cluster.id kraftd cannot use",
                data_dir.join(storage::META_PROPERTIES).display()
            )
        })?,
        (None, None) => {
            if let Some(first) = joins_existing_cluster(settings) {
                return Err(ConfigError::Invalid(format!(
                    "--cluster-id is required: this {} node joins the cluster whose first voter is {first}; \
                     use the id that node's kraft-install printed (or `cluster_id` in its kraftd.toml), e.g. \
                     --cluster-id=<id>",
                    settings.role
                ))
                .into());
            }
            ClusterId::generate()
        }
    };
    let formatted = data_dir.join(storage::META_PROPERTIES).is_file();
    Ok((id, formatted))
}

/// The first voter of the list founds a cluster (generates its id); every other node joins one and
/// must be given the id, so two nodes can never format for two different clusters by accident.
/// Returns the founding voter when this node is a joiner.
fn joins_existing_cluster(settings: &Settings) -> Option<Voter> {
    let voters = settings.voters.as_ref()?;
    let first = voters.first()?;
    (settings.role == Role::Broker || first.id != settings.node_id).then(|| first.clone())
}

/// Before formatting a joining node, ask the voters which cluster they run (DescribeCluster on the
/// controller listener, Kafka 3.7+). A quorum that is not up yet is normal while a cluster is being
/// installed: then this is only a warning, and the meta.properties checks remain.
fn confirm_with_voters(settings: &Settings, cluster_id: &ClusterId) -> Result<()> {
    use kraftd::kafka::{KafkaClient, Timeouts, requests};
    if joins_existing_cluster(settings).is_none() {
        return Ok(());
    }
    let timeouts = Timeouts {
        connect: std::time::Duration::from_secs(2),
        io: std::time::Duration::from_secs(5),
    };
    let mut unreachable = Vec::new();
    for voter in settings
        .voters
        .iter()
        .flatten()
        .filter(|v| v.id != settings.node_id)
    {
        let target = format!("{}:{}", voter.host, voter.port);
        let answer = KafkaClient::connect(&target, timeouts)
            .map_err(anyhow::Error::from)
            .and_then(|mut client| {
                client
                    .call(&requests::describe_cluster_controllers())
                    .map(|(response, _)| response.cluster_id.to_string())
            });
        match answer {
            Ok(theirs) if theirs == cluster_id.as_str() => {
                log::info!("controller {target} confirms cluster id {theirs}");
                return Ok(());
            }
            Ok(theirs) => {
                return Err(OtherClusterError {
                    voter: target,
                    ours: cluster_id.to_string(),
                    theirs,
                }
                .into());
            }
            Err(e) => unreachable.push(format!("{target}: {e:#}")),
        }
    }
    log::warn!(
        "could not confirm cluster id {cluster_id} with the controllers (not running yet?): {}",
        unreachable.join("; ")
    );
    Ok(())
}

/// The command line other nodes of this cluster run, with everything that must be identical.
fn join_command(s: &Settings) -> Option<String> {
    let voters = kraftd::config::voters_text(s.voters.as_deref()?);
    let cluster = s.cluster_id.as_ref()?;
    let version = s.kafka_version;
    Some(format!(
        "kraft-install --kafka-version {version} --cluster-id={cluster} --controllers {voters} \\\n             \
         --role controller|broker --node-id <id> --advertise <that node's address>{}",
        s.brokers
            .map(|b| format!(" --brokers {b}"))
            .unwrap_or_default()
    ))
}

fn plan_text(
    s: &Settings,
    source: &DistSource,
    java: &JavaRuntime,
    formatted: bool,
    args: &Args,
) -> String {
    let l = &s.layout;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "kraft-install --dry-run: nothing will be changed. The plan:"
    );
    let _ = writeln!(t, "  Kafka {} from {source}", s.kafka_version);
    let _ = writeln!(
        t,
        "    → {}/kafka_2.13-{}  ({}/current)",
        l.opt_dir.display(),
        s.kafka_version,
        l.opt_dir.display()
    );
    let _ = writeln!(t, "  Java {} at {}", java.major, java.java.display());
    let _ = writeln!(
        t,
        "  node.id {}, cluster {}",
        s.node_id.0,
        s.cluster_id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default()
    );
    // The bound address (Settings::listeners), as this summary has always shown it.
    let bind = s.listeners().primary().bind.ip();
    let _ = writeln!(
        t,
        "  advertised {bind}:{} (controller {})",
        s.broker_port, s.controller_port
    );
    if let Some(voters) = &s.voters {
        let _ = writeln!(
            t,
            "  role {} in the quorum {}",
            s.role,
            kraftd::config::voters_text(voters)
        );
    }
    let _ = writeln!(
        t,
        "  config {} (read; created from the template only when absent)",
        l.config_file().display()
    );
    let _ = writeln!(
        t,
        "  state {} (resolved values, identity)",
        l.node_state().display()
    );
    let _ = writeln!(
        t,
        "  render {} and {}",
        l.server_properties().display(),
        l.log_config(&s.kafka_version).display()
    );
    let _ = writeln!(
        t,
        "  storage {}: {}",
        l.data_dir.display(),
        if formatted {
            "already formatted, kept as is"
        } else {
            "format with kafka.tools.StorageTool"
        }
    );
    if args.no_systemd {
        let _ = writeln!(t, "  unit: skipped (--no-systemd)");
    } else {
        let _ = writeln!(t, "  unit {}", l.unit_file().display());
    }
    t
}

fn summary(s: &Settings, report: &Report, no_systemd: bool) -> String {
    let l = &s.layout;
    let kafka = report.kafka.as_ref().expect("set by install_steps");
    let mut t = String::new();
    if report.changes.is_empty() {
        let _ = writeln!(
            t,
            "Nothing to change: the node is already installed as configured."
        );
    } else {
        for c in &report.changes {
            let _ = writeln!(t, "  {c}");
        }
    }
    let cluster = s
        .cluster_id
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    let _ = writeln!(t, "Kafka      {} ({})", kafka.version, kafka.home.display());
    let _ = writeln!(t, "node.id    {}", s.node_id.0);
    let _ = writeln!(t, "cluster.id {cluster}");
    // The bound address (Settings::listeners) of the client listener, else the controller's.
    let listeners = s.listeners();
    let ep = listeners.primary();
    let label = match ep.name {
        kraftd::config::BROKER_LISTENER => "advertised",
        _ => "controller",
    };
    let _ = writeln!(t, "{label} {}:{}", ep.bind.ip(), ep.port());
    let _ = writeln!(t, "config     {}", l.config_file().display());
    let _ = writeln!(
        t,
        "state      {} (values resolved here; kraftd.toml wins)",
        l.node_state().display()
    );
    let _ = writeln!(t, "data       {}", l.data_dir.display());
    if l.is_system() && !no_systemd {
        let _ = writeln!(
            t,
            "next:      systemctl start kafka   (logs: journalctl -u kafka)"
        );
    } else {
        let _ = writeln!(
            t,
            "next:      kraftd run --config {}",
            l.config_file().display()
        );
    }
    if let Some(voters) = &s.voters {
        let _ = writeln!(
            t,
            "role       {} in the quorum {}",
            s.role,
            kraftd::config::voters_text(voters)
        );
        if joins_existing_cluster(s).is_none() {
            if let Some(cmd) = join_command(s) {
                let _ = writeln!(t, "other nodes of this cluster: install each with\n  {cmd}");
            }
        }
        let _ = writeln!(
            t,
            "start:     a controller is ready once a majority of the {} voters runs: start them together \
             (systemctl start --no-block kafka on each)",
            voters.len()
        );
    }
    t
}
