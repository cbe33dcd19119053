//! JavaRuntime: finding `java` (--java-home, JAVA_HOME, PATH, /usr/lib/jvm) and checking its version.

use std::path::PathBuf;

/// A Java runtime that was found and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaRuntime {
    /// Path of the `java` executable.
    pub java: PathBuf,
    /// Feature version (8, 11, 17, 21, …).
    pub major: u32,
    /// The full version string as printed.
    pub version: String,
}
