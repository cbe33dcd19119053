//! Obtaining a distribution for the installer: pick the source (--dist FILE|DIR|URL or mirrors), enforce
//! the digest policy, download/unpack/copy into `<opt>/kafka_2.13-<v>/`, point `<opt>/current` at it.

use super::digest::{normalize_sha512, pinned_list, pinned_sha512, sha512_hex_of_file};
use super::download::{Downloaded, Downloader};
use super::unpack::{normal_parts, symlink_stays_inside, sync_tree, unpack_tarball};
use super::{
    DistError, KafkaDist, KafkaVersion, dist_dir_name, tarball_name, version_from_tarball_name,
};
use anyhow::Context;
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Where the distribution comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistSource {
    /// A local `kafka_2.13-<v>.tgz` (operator-provided, e.g. copied by hand).
    Tarball(PathBuf),
    /// An unpacked distribution directory.
    Dir(PathBuf),
    /// One http(s) URL of a tarball.
    Url(String),
    /// Mirror base URLs, tried in order: `<mirror>/<v>/kafka_2.13-<v>.tgz`.
    Mirrors(Vec<String>),
}

/// The default mirrors: the Apache CDN (current releases) and the archive (every release).
pub const DEFAULT_MIRRORS: &[&str] = &[
    "https://dlcdn.apache.org/kafka",
    "https://archive.apache.org/dist/kafka",
];

impl DistSource {
    /// Parse `--dist FILE|DIR|URL`: http(s) URLs are downloaded, an existing dir is used as unpacked
    /// distribution, an existing file as tarball.
    pub fn parse_flag(value: &str) -> Result<DistSource, DistError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(DistError::BadInput(
                "--dist is empty: pass a .tgz file, an unpacked dir or an http(s) URL".into(),
            ));
        }
        if v.starts_with("http://") || v.starts_with("https://") {
            return Ok(DistSource::Url(v.to_string()));
        }
        if v.contains("://") {
            return Err(DistError::BadInput(format!(
                "--dist {v}: only http:// and https:// URLs are supported; for a local file pass its path"
            )));
        }
        let path = PathBuf::from(v);
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => Ok(DistSource::Dir(path)),
            Ok(_) => Ok(DistSource::Tarball(path)),
            Err(e) => Err(DistError::BadInput(format!(
                "--dist {v}: {e}; pass an existing kafka_2.13-<v>.tgz, an unpacked distribution dir, or an http(s) URL"
            ))),
        }
    }

    /// The default mirror list as a source.
    pub fn default_mirrors() -> DistSource {
        DistSource::Mirrors(DEFAULT_MIRRORS.iter().map(|s| s.to_string()).collect())
    }

    /// The Kafka version of a local source, read from its jars before anything is written (so Java
    /// can be checked against it first); `None` for downloads, whose version is known only later.
    pub fn local_version(&self) -> Result<Option<KafkaVersion>, DistError> {
        match self {
            DistSource::Dir(dir) => Ok(Some(KafkaDist::verify(dir)?.version)),
            DistSource::Tarball(path) => peek_version(path).map(Some),
            DistSource::Url(_) | DistSource::Mirrors(_) => Ok(None),
        }
    }
}

impl std::fmt::Display for DistSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DistSource::Tarball(p) => write!(f, "tarball {}", p.display()),
            DistSource::Dir(p) => write!(f, "directory {}", p.display()),
            DistSource::Url(u) => write!(f, "{u}"),
            DistSource::Mirrors(m) => write!(f, "mirrors {}", m.join(", ")),
        }
    }
}

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

/// What `obtain` should do.
#[derive(Debug, Clone)]
pub struct ObtainRequest<'a> {
    pub source: DistSource,
    /// The requested version (`--kafka-version`); required for `Mirrors`.
    pub version: Option<KafkaVersion>,
    /// `--sha512 HEX`: overrides the pinned digest.
    pub sha512: Option<String>,
    /// The install dir: `/opt/kafka`, or `<prefix>/opt/kafka`.
    pub opt_dir: &'a Path,
    pub progress: Progress,
    /// Plan only: no download, no writes.
    pub dry_run: bool,
}

/// The result of `obtain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obtained {
    /// The distribution at `<opt>/kafka_2.13-<v>` (in dry-run: where it would be).
    pub dist: KafkaDist,
    /// Whether anything was (or, in dry-run, would be) changed.
    pub changed: bool,
    /// Whether the distribution dir was (would be) created.
    pub installed_dir: bool,
    /// Whether `<opt>/current` was (would be) created or re-pointed.
    pub link_changed: bool,
    /// The SHA-512 of the tarball used, when one was read.
    pub sha512: Option<String>,
    /// Where it came from (URL, file or dir), for the summary.
    pub origin: String,
}

/// Get the distribution described by `req` into `<opt_dir>/kafka_2.13-<v>/` and point
/// `<opt_dir>/current` at it. Idempotent: an installed dir whose jars show the version is reused.
pub fn obtain(req: &ObtainRequest<'_>) -> Result<Obtained, DistError> {
    let opt_dir = req.opt_dir;
    let given_sha512 = match &req.sha512 {
        None => None,
        Some(s) => Some(normalize_sha512(s).ok_or_else(|| {
            DistError::BadInput(format!(
                "--sha512 {s:?} is not a SHA-512 digest (128 hex digits)"
            ))
        })?),
    };
    if !req.dry_run {
        fs::create_dir_all(opt_dir)
            .with_context(|| format!("cannot create {}", opt_dir.display()))?;
        remove_stale_temps(opt_dir);
    }
    match &req.source {
        DistSource::Mirrors(mirrors) => {
            let version = req.version.ok_or_else(|| {
                DistError::BadInput(
                    "downloading from mirrors needs --kafka-version (or pass --dist)".into(),
                )
            })?;
            if mirrors.is_empty() {
                return Err(DistError::BadInput(
                    "no mirror to download from: pass --mirror URL or --dist".into(),
                ));
            }
            let expected = required_digest(Some(version), given_sha512.as_deref(), "mirrors")?;
            if let Some(done) = already_installed(opt_dir, version, req.dry_run)? {
                return Ok(done);
            }
            if req.dry_run {
                return Ok(planned(opt_dir, version, &mirrors[0]));
            }
            ensure_writable(opt_dir)?;
            let dl = Downloader::new(req.progress)?;
            let mut failures: Vec<(String, String)> = Vec::new();
            for mirror in mirrors {
                let url = format!(
                    "{}/{version}/{}",
                    mirror.trim_end_matches('/'),
                    tarball_name(&version)
                );
                match fetch_verified(&dl, &url, &expected, opt_dir) {
                    Ok(downloaded) => {
                        return install_tarball(req, downloaded.file.path(), &url, Some(expected));
                    }
                    Err(e) => {
                        let reason = match e {
                            DistError::DownloadFailed { reason, .. } => reason,
                            DistError::Io(e) => return Err(DistError::Io(e)),
                            other => other.to_string(),
                        };
                        log::warn!("mirror {mirror} failed: {reason}; trying the next one");
                        failures.push((url, reason));
                    }
                }
            }
            Err(DistError::AllMirrorsFailed { version, failures })
        }
        DistSource::Url(url) => {
            let hint = req.version.or_else(|| version_from_tarball_name(url));
            let expected = required_digest(hint, given_sha512.as_deref(), url)?;
            if let Some(v) = hint {
                if let Some(done) = already_installed(opt_dir, v, req.dry_run)? {
                    return Ok(done);
                }
                if req.dry_run {
                    return Ok(planned(opt_dir, v, url));
                }
            } else if req.dry_run {
                return Err(DistError::BadInput(format!(
                    "--dry-run cannot tell the Kafka version of {url}: pass --kafka-version"
                )));
            }
            ensure_writable(opt_dir)?;
            let dl = Downloader::new(req.progress)?;
            let downloaded = fetch_verified(&dl, url, &expected, opt_dir)?;
            install_tarball(req, downloaded.file.path(), url, Some(expected))
        }
        DistSource::Tarball(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let hint = req.version.or_else(|| version_from_tarball_name(&name));
            // An operator-provided file is trusted unless we have a digest to hold it to.
            let expected =
                given_sha512.or_else(|| hint.and_then(|v| pinned_sha512(&v).map(str::to_string)));
            if let Some(v) = hint {
                if let Some(done) = already_installed(opt_dir, v, req.dry_run)? {
                    return Ok(done);
                }
            }
            if req.dry_run {
                let v = match hint {
                    Some(v) => v,
                    None => peek_version(path)?,
                };
                return Ok(planned(opt_dir, v, &path.display().to_string()));
            }
            ensure_writable(opt_dir)?;
            let actual = sha512_hex_of_file(path)?;
            match &expected {
                Some(exp) if *exp != actual => {
                    return Err(DistError::ChecksumMismatch {
                        location: path.display().to_string(),
                        expected: exp.clone(),
                        actual,
                    });
                }
                Some(_) => log::info!("{}: SHA-512 verified", path.display()),
                None => log::info!(
                    "{}: no digest to check against (local file trusted); its SHA-512 is {actual}",
                    path.display()
                ),
            }
            install_tarball(req, path, &path.display().to_string(), Some(actual))
        }
        DistSource::Dir(dir) => obtain_from_dir(req, dir),
    }
}

/// The digest a download must match: `--sha512`, else the pinned one; refused before any request.
fn required_digest(
    version: Option<KafkaVersion>,
    given: Option<&str>,
    what: &str,
) -> Result<String, DistError> {
    if let Some(g) = given {
        return Ok(g.to_string());
    }
    match version {
        Some(v) => pinned_sha512(&v)
            .map(str::to_string)
            .ok_or_else(|| DistError::NoDigest {
                version: v.to_string(),
                pinned: pinned_list(),
            }),
        None => Err(DistError::NoDigest {
            version: format!(
                "(unknown: {what} does not name a kafka_2.13-<v>.tgz; pass --kafka-version)"
            ),
            pinned: pinned_list(),
        }),
    }
}

/// Download `url` after checking its published `.sha512` (if any) against `expected`, then verify.
fn fetch_verified(
    dl: &Downloader,
    url: &str,
    expected: &str,
    dir: &Path,
) -> Result<Downloaded, DistError> {
    let checksum_url = format!("{url}.sha512");
    match dl.fetch_published_digest(&checksum_url) {
        Ok(Some(published)) if published != expected => {
            return Err(DistError::PublishedDigestMismatch {
                checksum_url,
                published,
                expected: expected.to_string(),
            });
        }
        Ok(Some(_)) => log::info!("{checksum_url} agrees with the expected SHA-512"),
        Ok(None) => {
            log::info!("no {checksum_url} (HTTP 404); relying on the pinned or --sha512 digest")
        }
        Err(reason) => {
            if reason.starts_with("cannot connect") || reason.starts_with("timed out") {
                // The tarball will fail the same way: report it as this mirror's failure.
                return Err(DistError::DownloadFailed {
                    url: checksum_url,
                    reason,
                });
            }
            log::warn!(
                "cannot use {checksum_url}: {reason}; relying on the pinned or --sha512 digest"
            );
        }
    }
    let downloaded = dl
        .fetch_to_temp(url, dir)
        .map_err(|reason| DistError::DownloadFailed {
            url: url.to_string(),
            reason,
        })?;
    if downloaded.sha512 != expected {
        return Err(DistError::ChecksumMismatch {
            location: url.to_string(),
            expected: expected.to_string(),
            actual: downloaded.sha512,
        });
    }
    log::info!("{url}: SHA-512 verified");
    Ok(downloaded)
}

/// Unpack a verified tarball and move it into place.
fn install_tarball(
    req: &ObtainRequest<'_>,
    tarball: &Path,
    origin: &str,
    sha512: Option<String>,
) -> Result<Obtained, DistError> {
    let opt_dir = req.opt_dir;
    let unpacked = unpack_tarball(tarball, opt_dir)?;
    let version = unpacked.dist.version;
    check_requested(req.version, version, Path::new(origin))?;
    let installed_dir = match installed_state(opt_dir, version)? {
        Installed::Good => {
            // Same version already there (e.g. an unversioned tarball name): keep the installed copy.
            log::info!(
                "{} already holds a verified Kafka {version}; keeping it",
                target_dir(opt_dir, version).display()
            );
            false
        }
        state => {
            let provenance = match &sha512 {
                Some(hex) => format!("sha512 {hex}\nsource {origin}\n"),
                None => format!("source {origin}\n"),
            };
            put_in_place(
                &unpacked.dist.home,
                opt_dir,
                version,
                state,
                &provenance,
                origin,
            )?;
            true
        }
    };
    drop(unpacked);
    finish(
        opt_dir,
        version,
        installed_dir,
        sha512,
        origin.to_string(),
        false,
    )
}

/// A dir source: used in place when it is the target, else copied into the target.
fn obtain_from_dir(req: &ObtainRequest<'_>, dir: &Path) -> Result<Obtained, DistError> {
    let opt_dir = req.opt_dir;
    // Nothing unverified is copied (or used in place): a broken jar is refused here.
    let source = KafkaDist::verify(dir)?;
    let version = source.version;
    check_requested(req.version, version, dir)?;
    let target = target_dir(opt_dir, version);
    let same = match (fs::canonicalize(dir), fs::canonicalize(&target)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let origin = dir.display().to_string();
    if same {
        log::info!("using {} in place (Kafka {version})", target.display());
        return finish(opt_dir, version, false, None, origin, req.dry_run);
    }
    let state = installed_state(opt_dir, version)?;
    if state == Installed::Good {
        return finish(opt_dir, version, false, None, origin, req.dry_run);
    }
    if req.dry_run {
        let mut plan = planned(opt_dir, version, &origin);
        plan.origin = origin;
        return Ok(plan);
    }
    ensure_writable(opt_dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".kafka-copy-{}-", std::process::id()))
        .tempdir_in(opt_dir)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                opt_dir.display()
            )
        })?;
    let staged = tmp.path().join(dist_dir_name(&version));
    copy_tree(dir, &staged)?;
    sync_tree(&staged)?;
    // The copy is what will run: check it, not only its source.
    KafkaDist::verify(&staged).map_err(|e| match e {
        DistError::Broken { reason, .. } => DistError::Broken {
            path: dir.to_path_buf(),
            reason: format!("{reason} (in the copy)"),
        },
        other => other,
    })?;
    let provenance = format!("verified local directory {origin}\n");
    put_in_place(&staged, opt_dir, version, state, &provenance, &origin)?;
    log::info!(
        "copied Kafka {version} from {} into {}",
        dir.display(),
        target.display()
    );
    finish(opt_dir, version, true, None, origin, false)
}

/// Fail early, with the path, when the install dir cannot take files (rather than blaming every mirror).
fn ensure_writable(opt_dir: &Path) -> Result<(), DistError> {
    tempfile::Builder::new()
        .prefix(".kraftd-write-test-")
        .tempfile_in(opt_dir)
        .map(drop)
        .with_context(|| {
            format!(
                "cannot write into {}: run as a user who can (root for /opt/kafka), or pass --prefix DIR",
                opt_dir.display()
            )
        })
        .map_err(DistError::Io)
}

fn check_requested(
    requested: Option<KafkaVersion>,
    detected: KafkaVersion,
    path: &Path,
) -> Result<(), DistError> {
    match requested {
        Some(r) if r != detected => Err(DistError::VersionMismatch {
            requested: r,
            detected,
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

fn target_dir(opt_dir: &Path, version: KafkaVersion) -> PathBuf {
    opt_dir.join(dist_dir_name(&version))
}

/// What `<opt>/kafka_2.13-<v>` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Installed {
    Missing,
    /// Kafka `v`, verified ([`KafkaDist::verify`]).
    Good,
    /// Kafka `v` by its jars, but damaged (the reason): replaced by the next verified copy.
    Broken(String),
}

/// The state of `<opt>/kafka_2.13-<v>`. A dir of that name holding something else (another version,
/// no Kafka jar at all) is an error: we never delete it.
fn installed_state(opt_dir: &Path, version: KafkaVersion) -> Result<Installed, DistError> {
    let target = target_dir(opt_dir, version);
    if !target.exists() {
        return Ok(Installed::Missing);
    }
    match KafkaDist::open_checked(&target) {
        Ok(d) if d.version == version => match KafkaDist::verify(&target) {
            Ok(_) => Ok(Installed::Good),
            Err(DistError::Broken { reason, .. }) => Ok(Installed::Broken(reason)),
            Err(e) => Err(e),
        },
        Ok(d) => Err(DistError::BadInput(format!(
            "{} exists but holds Kafka {} (from its jars), not {version}; move it away and re-run",
            target.display(),
            d.version
        ))),
        Err(e) => Err(DistError::BadInput(format!(
            "{} exists but is not an installed Kafka {version} ({e}); move it away and re-run",
            target.display()
        ))),
    }
}

/// The file in an installed distribution that says where it came from (written by kraft-install).
pub const PROVENANCE_FILE: &str = ".kraftd-provenance";

/// Move a verified `staged` distribution to `<opt>/kafka_2.13-<v>`, recording its provenance. A
/// broken copy there is swapped out (renamed aside, the new one renamed in, the old one deleted).
fn put_in_place(
    staged: &Path,
    opt_dir: &Path,
    version: KafkaVersion,
    state: Installed,
    provenance: &str,
    origin: &str,
) -> Result<(), DistError> {
    let target = target_dir(opt_dir, version);
    crate::fsutil::write_atomic(&staged.join(PROVENANCE_FILE), provenance.as_bytes(), 0o644)?;
    let aside = match &state {
        Installed::Broken(reason) => {
            let aside = opt_dir.join(format!(
                ".kafka-replaced-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            fs::rename(&target, &aside)
                .with_context(|| format!("cannot move the broken {} aside", target.display()))?;
            log::warn!(
                "{} was a broken copy ({reason}); replacing it with the verified Kafka {version} from {origin}",
                target.display()
            );
            Some(aside)
        }
        _ => None,
    };
    if let Err(e) = fs::rename(staged, &target) {
        if let Some(aside) = &aside {
            let _ = fs::rename(aside, &target);
        }
        return Err(anyhow::anyhow!(
            "cannot move {} to {}: {e}",
            staged.display(),
            target.display()
        )
        .into());
    }
    crate::fsutil::sync_dir(opt_dir)?;
    if let Some(aside) = aside {
        fs::remove_dir_all(&aside).with_context(|| format!("cannot remove {}", aside.display()))?;
    }
    log::info!("installed Kafka {version} into {}", target.display());
    Ok(())
}

/// Temp entries kraft-install creates in the install dir; their names carry the creator's pid.
const TEMP_PREFIXES: &[&str] = &[
    ".kafka-unpack-",
    ".kafka-copy-",
    ".kafka-download-",
    ".kafka-replaced-",
    ".current.tmp-",
    ".kraftd-write-test-",
];

/// Whether a temp entry's name belongs to a process that is gone (or names none: older releases).
pub(crate) fn stale_temp_owner(name: &str) -> Option<Option<u32>> {
    let rest = TEMP_PREFIXES.iter().find_map(|p| name.strip_prefix(p))?;
    let pid = rest
        .split_once('-')
        .and_then(|(pid, _)| pid.parse::<u32>().ok());
    match pid {
        Some(pid) if Path::new(&format!("/proc/{pid}")).exists() => None,
        other => Some(other),
    }
}

/// Remove leftovers of an interrupted run (a killed unpack leaves tens of MB), saying so. Runs
/// under the installer's target lock, so no other kraft-install is using them; an entry whose
/// pid is still alive is kept anyway.
fn remove_stale_temps(opt_dir: &Path) {
    let Ok(entries) = fs::read_dir(opt_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = stale_temp_owner(&name) else {
            continue;
        };
        let path = entry.path();
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let removed = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        let who = owner
            .map(|p| format!("pid {p}, no longer running"))
            .unwrap_or_else(|| "an older run".into());
        match removed {
            Ok(()) => log::warn!(
                "removed {}, left behind by an interrupted kraft-install ({who})",
                path.display()
            ),
            Err(e) => log::warn!(
                "cannot remove the leftover {}: {e}; delete it by hand",
                path.display()
            ),
        }
    }
}

/// Short-cut for a re-run: the version is installed; only the `current` link may need fixing.
fn already_installed(
    opt_dir: &Path,
    version: KafkaVersion,
    dry_run: bool,
) -> Result<Option<Obtained>, DistError> {
    match installed_state(opt_dir, version)? {
        Installed::Missing => return Ok(None),
        Installed::Broken(reason) => {
            log::info!(
                "{} is a broken copy ({reason}); it will be replaced",
                target_dir(opt_dir, version).display()
            );
            return Ok(None);
        }
        Installed::Good => {}
    }
    log::info!(
        "Kafka {version} is already installed in {}",
        target_dir(opt_dir, version).display()
    );
    let origin = target_dir(opt_dir, version).display().to_string();
    finish(opt_dir, version, false, None, origin, dry_run).map(Some)
}

fn planned(opt_dir: &Path, version: KafkaVersion, origin: &str) -> Obtained {
    Obtained {
        dist: KafkaDist {
            home: target_dir(opt_dir, version),
            version,
        },
        changed: true,
        installed_dir: true,
        link_changed: link_needs_change(opt_dir, version),
        sha512: None,
        origin: origin.to_string(),
    }
}

fn finish(
    opt_dir: &Path,
    version: KafkaVersion,
    installed_dir: bool,
    sha512: Option<String>,
    origin: String,
    dry_run: bool,
) -> Result<Obtained, DistError> {
    let link_changed = if dry_run {
        link_needs_change(opt_dir, version)
    } else {
        point_current_link(opt_dir, version)?
    };
    Ok(Obtained {
        dist: KafkaDist {
            home: target_dir(opt_dir, version),
            version,
        },
        changed: installed_dir || link_changed,
        installed_dir,
        link_changed,
        sha512,
        origin,
    })
}

fn link_needs_change(opt_dir: &Path, version: KafkaVersion) -> bool {
    fs::read_link(opt_dir.join("current"))
        .map(|t| t != Path::new(&dist_dir_name(&version)))
        .unwrap_or(true)
}

/// Point `<opt>/current` at `kafka_2.13-<v>` (relative), replacing it atomically (temp link + rename).
/// Returns whether it changed.
fn point_current_link(opt_dir: &Path, version: KafkaVersion) -> Result<bool, DistError> {
    let link = opt_dir.join("current");
    let want = PathBuf::from(dist_dir_name(&version));
    match fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            if fs::read_link(&link).ok().as_deref() == Some(want.as_path()) {
                return Ok(false);
            }
        }
        Ok(_) => {
            return Err(DistError::BadInput(format!(
                "{} exists and is not a symlink; move it away so it can point at {}",
                link.display(),
                want.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(anyhow::anyhow!("cannot stat {}: {e}", link.display()).into()),
    }
    let tmp = opt_dir.join(format!(
        ".current.tmp-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::os::unix::fs::symlink(&want, &tmp).with_context(|| {
        format!(
            "cannot create symlink {} -> {}",
            tmp.display(),
            want.display()
        )
    })?;
    if let Err(e) = fs::rename(&tmp, &link) {
        let _ = fs::remove_file(&tmp);
        return Err(
            anyhow::anyhow!("cannot rename {} to {}: {e}", tmp.display(), link.display()).into(),
        );
    }
    crate::fsutil::sync_dir(opt_dir)?;
    log::info!("{} -> {}", link.display(), want.display());
    Ok(true)
}

/// Copy an unpacked distribution (files, dirs, and symlinks that stay inside it).
fn copy_tree(src: &Path, dst: &Path) -> Result<(), DistError> {
    fs::create_dir_all(dst).with_context(|| format!("cannot create {}", dst.display()))?;
    let mut stack: Vec<(PathBuf, PathBuf, Vec<String>)> =
        vec![(src.to_path_buf(), dst.to_path_buf(), vec!["top".into()])];
    while let Some((from, to, parts)) = stack.pop() {
        for entry in
            fs::read_dir(&from).with_context(|| format!("cannot list {}", from.display()))?
        {
            let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
            let (path, name) = (entry.path(), entry.file_name());
            let dest = to.join(&name);
            let ft = entry
                .file_type()
                .with_context(|| format!("cannot stat {}", path.display()))?;
            let mut child_parts = parts.clone();
            child_parts.push(name.to_string_lossy().into_owned());
            if ft.is_dir() {
                fs::create_dir(&dest)
                    .with_context(|| format!("cannot create {}", dest.display()))?;
                stack.push((path, dest, child_parts));
            } else if ft.is_file() {
                fs::copy(&path, &dest).with_context(|| {
                    format!("cannot copy {} to {}", path.display(), dest.display())
                })?;
            } else if ft.is_symlink() {
                let target = fs::read_link(&path)
                    .with_context(|| format!("cannot read link {}", path.display()))?;
                if symlink_stays_inside(&child_parts, &target) {
                    std::os::unix::fs::symlink(&target, &dest)
                        .with_context(|| format!("cannot create symlink {}", dest.display()))?;
                } else {
                    log::warn!(
                        "not copying {}: its target {} is outside the distribution",
                        path.display(),
                        target.display()
                    );
                }
            }
        }
    }
    Ok(())
}

/// The version of a tarball from its entry names, without unpacking (for --dry-run).
fn peek_version(tarball: &Path) -> Result<KafkaVersion, DistError> {
    let bad = |reason: String| DistError::BadArchive {
        path: tarball.to_path_buf(),
        reason,
    };
    let file =
        fs::File::open(tarball).with_context(|| format!("cannot open {}", tarball.display()))?;
    let mut archive =
        tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut found = Vec::new();
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let entry = entry.map_err(|e| bad(format!("truncated or corrupt archive data ({e})")))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        if let Ok(parts) = normal_parts(&path) {
            if parts.len() == 3 && parts[1] == "libs" {
                if let Some(v) = super::version_from_jar_name(&parts[2]) {
                    found.push(v);
                }
            }
        }
    }
    found.dedup();
    match found.as_slice() {
        [v] => Ok(*v),
        _ => Err(DistError::NotADistribution {
            path: tarball.to_path_buf(),
            reason: "no single libs/kafka_2.13-*.jar".into(),
        }),
    }
}
