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
cargo build --workspace --all-targets --quiet
# Broker-heavy tests: two at a time on a 2-core machine.
cargo test --workspace -- --test-threads=2

echo "== unit hardening"
tests/unit_hardening.sh

echo "== packages under real systemd"
packaging/build-packages.sh --dist "$KRAFTD_CACHE/dist/kafka_2.13-4.1.1.tgz"
tests/e2e/package.sh
