#!/bin/bash
# tests/e2e/run-all.sh — the packaging test command: unit hardening (static + Kafka under the hardened
# unit in nspawn), then the deb/rpm end-to-end flow (builds both packages). Needs root.
# Env: KRAFTD_CACHE, KAFKA_VERSION (default 4.1.1); args are passed to tests/e2e/package.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/../unit_hardening.sh"
"$here/package.sh" "$@"
"$here/day2-daemon.sh"
echo "PASS: tests/e2e/run-all.sh"
