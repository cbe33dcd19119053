#!/bin/bash
# tests/e2e/run-all.sh — the packaging test command: unit hardening (static + Kafka under the hardened
# unit in nspawn), then the packages under real systemd: the deb/rpm install-to-purge flow (package.sh)
# and the day-two scripts (day2-*.sh). The packages are built once here and shared by every script.
# Env: KRAFTD_CACHE, KAFKA_VERSION (default 4.1.1). Args: [--profile P] [--bins DIR] [--packages DIR]
# [--only deb|rpm] (--only applies to package.sh). Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/lib.sh"

profile=release packages="" bins_args=() only_args=()
while (($#)); do
    case "$1" in
        --profile) profile="${2:?}"; shift 2 ;;
        --packages) packages="${2:?}"; shift 2 ;;
        --bins) bins_args=(--bins "${2:?}"); shift 2 ;;
        --only) only_args=(--only "${2:?}"); shift 2 ;;
        *) echo "run-all.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d /tmp/kraftd-e2e-all.XXXXXX)
trap 'rc=$?; rm -rf "$work"; exit $rc' EXIT

"$here/../unit_hardening.sh"

if [[ -z "$packages" ]]; then
    kv="${KAFKA_VERSION:-4.1.1}"
    host_tgz="$E2E_CACHE/dist/kafka_2.13-$kv.tgz"
    [[ -f "$host_tgz" ]] || e2e_fail "Kafka fixture $host_tgz missing: run scripts/kafka-dist.sh $kv"
    packages="$work/packages"
    e2e_step "build the packages once for every script (revision 1 with lintian, revision 2 for upgrades)"
    "$repo/packaging/build-packages.sh" --dist "$host_tgz" --profile "$profile" "${bins_args[@]}" --revision 1 \
        --out "$packages/rev1" >"$work/build1.out" || { cat "$work/build1.out" >&2; e2e_fail "packaging/build-packages.sh (revision 1) failed"; }
    "$repo/packaging/build-packages.sh" --dist "$host_tgz" --profile "$profile" "${bins_args[@]}" --revision 2 \
        --out "$packages/rev2" --no-lintian --fast >"$work/build2.out" || { cat "$work/build2.out" >&2; e2e_fail "packaging/build-packages.sh (revision 2) failed"; }
    e2e_check "built revision 1 (lintian: no errors) and revision 2"
fi
common=(--profile "$profile" "${bins_args[@]}" --packages "$packages")
"$here/package.sh" "${common[@]}" "${only_args[@]}"
"$here/day2-config.sh" "${common[@]}"
"$here/day2-lifecycle.sh" "${common[@]}"
"$here/day2-daemon.sh" "${common[@]}"
echo "PASS: tests/e2e/run-all.sh"
