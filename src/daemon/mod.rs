//! The `kraftd run` supervisor: JVM launch, readiness probe, sd_notify, journald logs, signals.
