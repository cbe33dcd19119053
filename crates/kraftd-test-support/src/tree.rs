//! Directory trees before and after: snapshots that show any file created, removed or modified.

use sha2::{Digest, Sha256, Sha512};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// (size, mode, mtime, mtime nsec, content hash or link target) of one path.
pub type Entry = (u64, u32, i64, i64, String);

/// Every path under `root` with its size, mode, mtime and (for small files) content hash: two
/// equal snapshots mean nothing was created, removed, or modified.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return;
        };
        let digest = if meta.is_file() && meta.len() < 1 << 20 {
            hex::encode(Sha512::digest(std::fs::read(p).unwrap()))
        } else if meta.file_type().is_symlink() {
            std::fs::read_link(p).unwrap().display().to_string()
        } else {
            String::new()
        };
        // A directory's mtime moves whenever an entry comes and goes (e.g. a rolled-back temp
        // dir); its entries are compared one by one instead.
        let (mtime, nsec) = if meta.is_dir() {
            (0, 0)
        } else {
            (meta.mtime(), meta.mtime_nsec())
        };
        let len = if meta.is_dir() { 0 } else { meta.len() };
        out.insert(p.to_path_buf(), (len, meta.mode(), mtime, nsec, digest));
        if meta.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path(), out);
            }
        }
    }
    walk(root, &mut out);
    out
}

/// Every file under `dir` with the sha256 of its bytes: equal maps mean byte-identical trees
/// (metadata such as mtimes is not compared).
pub fn tree_hashes(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return;
        };
        if meta.is_dir() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                walk(&e.path(), out);
            }
        } else {
            out.insert(
                p.to_path_buf(),
                hex::encode(Sha256::digest(std::fs::read(p).unwrap())),
            );
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

/// The sorted names in `dir` (temp files included); empty when it does not exist.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
