#!/usr/bin/env bash
# Every test: Kafka fixtures (4.1.1 and 3.7.1 from Maven Central), cargo tests (real JVMs, real HTTP,
# real notify sockets), the unit hardening check, and the deb/rpm end-to-end test under real systemd.
set -euo pipefail
cd "$(dirname "$0")/.."
export KRAFTD_CACHE="${KRAFTD_CACHE:-$HOME/.cache/kraftd}"

scripts/ensure-deps.sh
echo "== Kafka fixtures"
scripts/kafka-dist.sh 4.1.1
scripts/kafka-dist.sh 3.7.1

echo "== cargo test"
# --workspace builds both binaries: a test finds its own package's binary through
# CARGO_BIN_EXE_<name> and the other package's next to the test executable in target/<profile>/
# (crates/kraftd-test-support `bin`); no test runs cargo build.
cargo build --workspace --all-targets --quiet
# Broker-heavy tests: two at a time on a 2-core machine (the JVM tests of one test binary still
# take turns: kraftd_test_support::serial).
cargo test --workspace -- --test-threads=2

echo "== unit hardening, then deb/rpm built and tested end to end under real systemd (nspawn)"
tests/e2e/run-all.sh
