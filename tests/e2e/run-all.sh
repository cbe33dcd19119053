#!/bin/bash
# tests/e2e/run-all.sh — the packaging test command: unit hardening (static + Kafka under the hardened
# unit in nspawn), then the packages under real systemd: the deb/rpm install-to-purge flow (package.sh)
# and the day-two scripts (day2-*.sh). The packages are built once here and shared by every script.
# Env: KRAFTD_CACHE, KAFKA_VERSION (default 4.1.1). Args: [--profile P] [--bins DIR] [--packages DIR]
# [--only deb|rpm] (--only applies to package.sh). Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"

e2e_parse_args run-all.sh "$@"
e2e_host_setup run-all.sh "${KAFKA_VERSION:-4.1.1}" all
work="$E2E_WORK"
trap 'rc=$?; rm -rf "$work"; exit $rc' EXIT

"$here/../unit_hardening.sh"

packages="${E2E_PACKAGES:-$work/packages}"
if [[ -z "$E2E_PACKAGES" ]]; then
    e2e_step "build the packages once for every script (revision 1 with lintian, revision 2 for upgrades)"
    e2e_build_package "$packages" 1
    e2e_build_package "$packages" 2 --no-lintian --fast
    e2e_check "built revision 1 (lintian: no errors) and revision 2"
fi
common=(--profile "$E2E_PROFILE" "${E2E_BINS_ARGS[@]}" --packages "$packages")
only_args=()
[[ -z "$E2E_ONLY" ]] || only_args=(--only "$E2E_ONLY")
"$here/package.sh" "${common[@]}" "${only_args[@]}"
"$here/day2-config.sh" "${common[@]}"
"$here/day2-lifecycle.sh" "${common[@]}"
"$here/day2-daemon.sh" "${common[@]}"
echo "PASS: tests/e2e/run-all.sh"
