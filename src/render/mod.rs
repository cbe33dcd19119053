//! Rendering server.properties and the stdout-only log config from `Settings` (version-aware).
