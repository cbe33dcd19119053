//! Safe unpacking of a release tarball (gzip + tar) into a temp dir: one top-level dir, no absolute
//! paths, no `..`, no links escaping the tree, no device files; then the jars decide what it is.

use super::{DistError, KafkaDist, KafkaVersion};
use anyhow::Context;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use tar::EntryType;

/// A tarball unpacked into a temp dir inside the install dir (same filesystem, so the caller can
/// rename `dist.home` into place). Dropping it removes whatever was not moved out.
pub(crate) struct Unpacked {
    #[allow(dead_code)] // held only so that dropping it removes the temp dir
    pub tmp: tempfile::TempDir,
    pub dist: KafkaDist,
}

/// Unpack `tarball` into a new temp dir in `parent`, check every entry, fsync the tree, and detect the
/// version from the jars. On any error the temp dir is removed and nothing else was touched.
pub(crate) fn unpack_tarball(tarball: &Path, parent: &Path) -> Result<Unpacked, DistError> {
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".kafka-unpack-{}-", std::process::id()))
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
    let bad = |reason: String| DistError::BadArchive {
        path: tarball.to_path_buf(),
        reason,
    };

    let file =
        fs::File::open(tarball).with_context(|| format!("cannot open {}", tarball.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(file)));
    archive.set_preserve_permissions(false);
    archive.set_overwrite(false);
    let mut top: Option<String> = None;
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a gzip-compressed tar archive ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            bad(format!(
                "truncated or corrupt archive data ({})",
                error_chain(&e)
            ))
        })?;
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue; // pax metadata (e.g. from `git archive`), not a file
        }
        let raw_path = entry
            .path()
            .map_err(|e| bad(format!("an entry has an unreadable name ({e})")))?
            .into_owned();
        let shown = raw_path.display().to_string();
        let parts =
            normal_parts(&raw_path).map_err(|why| bad(format!("entry {shown:?}: {why}")))?;
        let Some(first) = parts.first() else { continue };
        match &top {
            None => top = Some(first.clone()),
            Some(t) if t != first => {
                return Err(bad(format!(
                    "more than one top-level entry ({t:?} and {first:?}); a release has exactly one top-level dir"
                )));
            }
            Some(_) => {}
        }
        match kind {
            EntryType::Directory => {}
            EntryType::Regular | EntryType::Continuous if parts.len() > 1 => {}
            EntryType::Regular | EntryType::Continuous => {
                return Err(bad(format!(
                    "entry {shown:?} is a file at the top level; a release has exactly one top-level dir"
                )));
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(|e| bad(format!("entry {shown:?}: unreadable link target ({e})")))?
                    .ok_or_else(|| bad(format!("entry {shown:?}: symlink without a target")))?
                    .into_owned();
                if !symlink_stays_inside(&parts, &target) {
                    return Err(bad(format!(
                        "symlink {shown:?} -> {:?} points outside the distribution",
                        target.display()
                    )));
                }
            }
            EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(|e| bad(format!("entry {shown:?}: unreadable link target ({e})")))?
                    .ok_or_else(|| bad(format!("entry {shown:?}: hard link without a target")))?
                    .into_owned();
                let ok = normal_parts(&target)
                    .map(|t| t.first() == Some(first) && t.len() > 1)
                    .unwrap_or(false);
                if !ok {
                    return Err(bad(format!(
                        "hard link {shown:?} -> {:?} points outside the distribution",
                        target.display()
                    )));
                }
            }
            other => {
                return Err(bad(format!(
                    "entry {shown:?} is a {other:?} (device, fifo or unknown); refusing"
                )));
            }
        }
        let unpacked = entry.unpack_in(tmp.path()).map_err(|e| {
            let what = match e.kind() {
                io::ErrorKind::UnexpectedEof
                | io::ErrorKind::InvalidData
                | io::ErrorKind::InvalidInput => "truncated or corrupt archive data at",
                _ => "cannot unpack",
            };
            bad(format!("{what} entry {shown:?} ({})", error_chain(&e)))
        })?;
        if !unpacked {
            return Err(bad(format!(
                "entry {shown:?} would land outside the target; refusing"
            )));
        }
    }
    // tar stops at its end-of-archive marker; read the rest so gzip checks its CRC and length and a
    // truncated or corrupt file is caught even when the tar part happened to end cleanly.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| {
        bad(format!(
            "truncated or corrupt gzip data ({})",
            error_chain(&e)
        ))
    })?;

    let Some(top) = top else {
        return Err(bad("the archive is empty".to_string()));
    };
    let home = tmp.path().join(&top);
    if !home.is_dir() {
        return Err(bad(format!(
            "the top-level entry {top:?} is not a directory"
        )));
    }
    let dist = KafkaDist::verify(&home).map_err(|e| match e {
        DistError::NotADistribution { reason, .. } => DistError::NotADistribution {
            path: tarball.to_path_buf(),
            reason,
        },
        DistError::Broken { reason, .. } => DistError::Broken {
            path: tarball.to_path_buf(),
            reason,
        },
        other => other,
    })?;
    sync_tree(&home)?;
    Ok(Unpacked { tmp, dist })
}

/// An error with its causes, "outer: inner: innermost" (tar hides the cause behind "failed to unpack").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
        source = s.source();
    }
    msg
}

/// The normal components of an entry path; refuses absolute paths and `..` (`.` is dropped).
pub(crate) fn normal_parts(path: &Path) -> Result<Vec<String>, &'static str> {
    let mut parts = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => return Err("contains '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    Ok(parts)
}

/// Whether a symlink at `link_parts` (inside the top dir) with `target` resolves, lexically, to a path
/// inside the top-level dir.
pub(crate) fn symlink_stays_inside(link_parts: &[String], target: &Path) -> bool {
    let mut cur: Vec<&str> = link_parts[..link_parts.len().saturating_sub(1)]
        .iter()
        .map(String::as_str)
        .collect();
    for c in target.components() {
        match c {
            Component::Normal(p) => match p.to_str() {
                Some(s) => cur.push(s),
                None => return false,
            },
            Component::CurDir => {}
            Component::ParentDir => {
                cur.pop();
                if cur.is_empty() {
                    return false; // left the top-level dir
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    !cur.is_empty()
}

/// fsync every file and directory under `root` (bottom-up) so a crash after the rename cannot leave
/// an installed dir with empty jars.
pub(crate) fn sync_tree(root: &Path) -> anyhow::Result<()> {
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    let mut dirs: Vec<PathBuf> = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let ft = entry
                .file_type()
                .with_context(|| format!("cannot stat {}", entry.path().display()))?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                fs::File::open(entry.path())
                    .and_then(|f| f.sync_all())
                    .with_context(|| format!("cannot fsync {}", entry.path().display()))?;
            }
        }
        dirs.push(dir);
    }
    for dir in dirs.iter().rev() {
        crate::fsutil::sync_dir(dir)?;
    }
    Ok(())
}

/// The version of a tarball from its entry names, without unpacking (for --dry-run).
pub(crate) fn peek_version(tarball: &Path) -> Result<KafkaVersion, DistError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> Vec<String> {
        normal_parts(Path::new(s)).unwrap()
    }

    #[test]
    fn symlink_rules() {
        assert!(symlink_stays_inside(
            &parts("k/libs/a.jar"),
            Path::new("b.jar")
        ));
        assert!(symlink_stays_inside(
            &parts("k/libs/a.jar"),
            Path::new("../bin/x")
        ));
        assert!(!symlink_stays_inside(
            &parts("k/libs/a.jar"),
            Path::new("../../etc/passwd")
        ));
        assert!(!symlink_stays_inside(
            &parts("k/a"),
            Path::new("/etc/passwd")
        ));
        assert!(!symlink_stays_inside(&parts("k/a"), Path::new("..")));
    }

    #[test]
    fn entry_paths() {
        assert_eq!(parts("./k/libs"), vec!["k", "libs"]);
        assert!(normal_parts(Path::new("k/../../x")).is_err());
        assert!(normal_parts(Path::new("/etc/x")).is_err());
    }
}
