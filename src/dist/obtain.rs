//! Obtaining a distribution for the installer: for each source (`source.rs`) enforce the digest policy,
//! download/unpack/copy it into `<opt>/kafka_2.13-<v>/` and point `<opt>/current` at it (the install
//! dir's state, moves and link: `installed.rs`).

use super::digest::{normalize_sha512, pinned_list, pinned_sha512, sha512_hex_of_file};
use super::download::{Downloaded, Downloader, Progress};
use super::installed::{
    Installed, ensure_writable, installed_state, link_needs_change, point_current_link,
    put_in_place, remove_stale_temps, target_dir,
};
use super::source::DistSource;
use super::unpack::{peek_version, symlink_stays_inside, sync_tree, unpack_tarball};
use super::{
    DistError, KafkaDist, KafkaVersion, dist_dir_name, tarball_name, version_from_tarball_name,
};
use anyhow::Context;
use std::fs;
use std::path::{Path, PathBuf};

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
