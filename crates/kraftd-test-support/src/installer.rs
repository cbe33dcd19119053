//! kraft-install refusals as the installer tests check them: a fresh target, and a run that must
//! fail with its exit code and message while leaving every file as it was.

use crate::bins::{kraft_install, stderr};
use crate::tree::snapshot;
use std::path::{Path, PathBuf};

/// A temp dir and the (not yet existing) install prefix `<tmp>/node` in it.
pub fn fresh() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("node");
    (tmp, prefix)
}

/// Run kraft-install with `args` and require exit `code`, every `needle` in stderr, and no file
/// created, removed or changed under `root`.
pub fn assert_install_refused(root: &Path, args: &[&str], code: i32, needles: &[&str]) {
    let before = snapshot(root);
    let out = kraft_install(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "wrong exit code for {args:?}: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    for n in needles {
        assert!(err.contains(n), "message for {args:?} lacks {n:?}:\n{err}");
    }
    assert_eq!(before, snapshot(root), "{args:?} changed files");
}

/// As [`assert_install_refused`] for `kraft-install --prefix <prefix> <args>`.
pub fn assert_prefix_refused(
    root: &Path,
    prefix: &Path,
    args: &[&str],
    code: i32,
    needles: &[&str],
) {
    let p = prefix.display().to_string();
    let mut all = vec!["--prefix", p.as_str()];
    all.extend_from_slice(args);
    assert_install_refused(root, &all, code, needles);
}
