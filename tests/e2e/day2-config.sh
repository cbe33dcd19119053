#!/bin/bash
# tests/e2e/day2-config.sh — issue 9 points 2-4 under a real systemd (PID 1 in nspawn), with the deb:
#   (a) an admin's /etc/kafka/kraftd.toml placed before a plain `apt-get install` (no --force-conf*) is
#       honoured (a [kafka] entry, data_dir = "/srv/kafka/data") and byte-identical after; the node
#       serves from /srv/kafka/data under the hardened unit (drop-in ReadWritePaths=);
#   (c) edit kraftd.toml + `systemctl restart kafka` → the new value is live in the broker;
#   (b) upgrade to a package whose default kraftd.toml differs: apt asks nothing, the edits are kept;
#   (d) apt purge removes /srv/kafka/data (and says so).
#
# Usage: tests/e2e/day2-config.sh [--profile release|dev] [--bins DIR] [--packages DIR]
#   --packages  reuse prebuilt packages: DIR/rev1/*.deb (as tests/e2e/package.sh); the revision-2 package
#               with a changed default config is always built here from rev1's binaries (--config-note).
# Env: KRAFTD_CACHE (fixture, rootfs, tools), E2E_KEEP=1 keeps the rootfs copy. Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
source "$here/lib.sh"

e2e_parse_args day2-config.sh "$@"
e2e_host_setup day2-config.sh 4.1.1 day2
work="$E2E_WORK"
trap 'rc=$?; e2e_teardown; rm -rf "$work"; exit $rc' EXIT

# ---------------------------------------------------------------------------------------------------
e2e_step "0. packages: revision 1, and revision 2 whose default kraftd.toml has an extra line"
packages="${E2E_PACKAGES:-$work/packages}"
[[ -n "$E2E_PACKAGES" ]] || e2e_build_package "$packages" 1 --no-lintian --fast
deb1=$(ls "$packages"/rev1/kraftd_*-1_*.deb 2>/dev/null | head -n1 || true)
[[ -f "$deb1" ]] || e2e_fail "no revision-1 .deb under $packages/rev1"
dpkg-deb -x "$deb1" "$work/rev1-tree"
note="revision 2 default: this line makes the shipped kraftd.toml differ from revision 1"
"$repo/packaging/build-packages.sh" --dist "$E2E_HOST_TGZ" --bins "$work/rev1-tree/usr/bin" --revision 2 \
    --config-note "$note" --out "$work/rev2conf" --no-lintian --fast >"$work/build2.out" ||
    e2e_fail "packaging/build-packages.sh --config-note (revision 2) failed"
deb2=$(ls "$work"/rev2conf/kraftd_*-2_*.deb | head -n1)
dpkg-deb --fsys-tarfile "$deb2" | tar -xOf - ./usr/share/kraftd/kraftd.toml | grep -qxF "# $note" ||
    e2e_fail "$deb2: the shipped default kraftd.toml lacks the revision-2 line"
dpkg-deb -I "$deb1" conffiles >/dev/null 2>&1 && e2e_fail "$deb1 declares conffiles: /etc/kafka/kraftd.toml must be the admin's"
e2e_check "packages: $(basename "$deb1"), $(basename "$deb2") (default kraftd.toml differs; no conffiles)"

# Kafka's own tools from the host, against the container's advertised address.
live_config() {   # live_config KEY — the broker's current value, as DescribeConfigs reports it
    e2e_kafka out kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" --describe --entity-type brokers \
        --entity-name 1 --all 2>"$work/configs.err" | sed -n "s/^ *$1=\([^ ]*\) .*/\1/p" | head -n1
}
# apt_plain LOG ARGS… — apt-get with no --force-conf* and no terminal: a conffile question would fail it.
apt_plain() {
    local log="$1"; shift
    e2e_in bash -c "cd /root && DEBIAN_FRONTEND=noninteractive apt-get $* </dev/null" >"$log" 2>&1 ||
        { tail -n 40 "$log" >&2; e2e_dump_diag; e2e_fail "apt-get $* failed (log above)"; }
    ! grep -qE 'Configuration file|conffile prompt|\*\*\* kraftd.toml' "$log" ||
        { grep -E -B2 -A8 'Configuration file|conffile' "$log" >&2; e2e_fail "apt-get $*: dpkg asked a conffile question"; }
    [[ -z "$(e2e_in find /etc/kafka -name 'kraftd.toml.*' 2>/dev/null)" ]] ||
        e2e_fail "apt-get $*: left $(e2e_in find /etc/kafka -name 'kraftd.toml.*') (.dpkg-dist/.dpkg-new/.dpkg-old)"
}

# ---------------------------------------------------------------------------------------------------
e2e_step "1. (a) an admin's kraftd.toml before a plain apt-get install"
e2e_boot k9cfg 31
bootstrap="$E2E_IP:9092"
mkdir -p "$E2E_ROOT/etc/kafka"
cat >"$E2E_ROOT/etc/kafka/kraftd.toml" <<'EOF'
# The admin's kraftd.toml, placed before `apt install`: kraftd must honour it and never rewrite it.
[node]
data_dir = "/srv/kafka/data"

[kafka]
"log.retention.hours" = 72
EOF
admin_sha=$(sha256sum <"$E2E_ROOT/etc/kafka/kraftd.toml")
cp "$deb1" "$E2E_ROOT/root/"
apt_plain "$work/apt-install.log" install -y "./$(basename "$deb1")"
sed -n '/kraftd:/p' "$work/apt-install.log" >&2 || true
[[ "$(sha256sum <"$E2E_ROOT/etc/kafka/kraftd.toml")" == "$admin_sha" ]] || e2e_fail "apt install changed the admin's kraftd.toml"
e2e_check "apt-get install (no --force-conf*, stdin /dev/null) exit 0, asked nothing; kraftd.toml byte-identical"
[[ "$(e2e_unit_state)" == active ]] || { e2e_dump_diag; e2e_fail "kafka.service is not active after install"; }
e2e_in test -s /srv/kafka/data/meta.properties || e2e_fail "/srv/kafka/data was not formatted"
e2e_in test ! -e /var/lib/kafka/data/meta.properties || e2e_fail "the default data dir was formatted instead of /srv/kafka/data"
props=$(e2e_in cat /var/lib/kraftd/server.properties)
grep -qx 'log.dirs=/srv/kafka/data' <<<"$props" || e2e_fail "server.properties: no log.dirs=/srv/kafka/data"
grep -qx 'log.retention.hours=72' <<<"$props" || e2e_fail "server.properties: the admin's [kafka] entry is missing"
e2e_in grep -qx 'ReadWritePaths=/srv/kafka/data' /etc/systemd/system/kafka.service.d/kraftd-paths.conf ||
    e2e_fail "no drop-in with ReadWritePaths=/srv/kafka/data"
e2e_in systemctl show kafka.service -p ReadWritePaths | grep -q /srv/kafka/data ||
    e2e_fail "systemd does not apply the drop-in: $(e2e_in systemctl show kafka.service -p ReadWritePaths)"
e2e_in grep -q '^ProtectSystem=strict' /usr/lib/systemd/system/kafka.service || e2e_fail "the packaged unit is not hardened"
e2e_produce out "$bootstrap" day2 d1 d2 d3
e2e_expect_messages out "$bootstrap" day2 d1 d2 d3
e2e_in test -d /srv/kafka/data/day2-0 || e2e_fail "the topic's log is not in /srv/kafka/data"
[[ "$(live_config log.retention.hours)" == 72 ]] || { cat "$work/configs.err" >&2; e2e_fail "live log.retention.hours is '$(live_config log.retention.hours)', want 72"; }
e2e_check "hardened unit (ProtectSystem=strict + drop-in) serves from /srv/kafka/data; live log.retention.hours=72"

# ---------------------------------------------------------------------------------------------------
e2e_step "2. (c) edit kraftd.toml, systemctl restart kafka: the change is live"
sed -i 's/^"log.retention.hours" = 72$/"log.retention.hours" = 96/' "$E2E_ROOT/etc/kafka/kraftd.toml"
grep -qx '"log.retention.hours" = 96' "$E2E_ROOT/etc/kafka/kraftd.toml" || e2e_fail "the test's edit did not apply"
admin_sha=$(sha256sum <"$E2E_ROOT/etc/kafka/kraftd.toml")
e2e_in systemctl restart kafka.service || { e2e_dump_diag; e2e_fail "systemctl restart kafka failed"; }
got=$(live_config log.retention.hours)
[[ "$got" == 96 ]] || { cat "$work/configs.err" >&2; e2e_dump_diag; e2e_fail "after the edit and restart, live log.retention.hours is '$got', want 96"; }
e2e_in grep -qx 'log.retention.hours=96' /var/lib/kraftd/server.properties || e2e_fail "server.properties was not re-rendered"
e2e_expect_messages out "$bootstrap" day2 d1 d2 d3
e2e_check "edit + systemctl restart: live log.retention.hours=96, data kept"

# ---------------------------------------------------------------------------------------------------
e2e_step "3. (b) upgrade to a package whose default kraftd.toml differs"
cp "$deb2" "$E2E_ROOT/root/"
apt_plain "$work/apt-upgrade.log" install -y "./$(basename "$deb2")"
e2e_in dpkg -s kraftd | grep -q '^Version: .*-2$' || e2e_fail "kraftd not upgraded to revision 2"
e2e_in grep -qxF "# $note" /usr/share/kraftd/kraftd.toml || e2e_fail "the upgrade did not install the new default"
[[ "$(sha256sum <"$E2E_ROOT/etc/kafka/kraftd.toml")" == "$admin_sha" ]] || e2e_fail "the upgrade changed the admin's kraftd.toml"
e2e_wait_active_serving "$E2E_IP" 120 "after the upgrade the broker is not active and serving"
[[ "$(live_config log.retention.hours)" == 96 ]] || { e2e_dump_diag; e2e_fail "after the upgrade the admin's edit is not live"; }
e2e_expect_messages out "$bootstrap" day2 d1 d2 d3
e2e_check "upgrade: apt asked nothing, exit 0, kraftd.toml byte-identical, edit live, data kept"

# ---------------------------------------------------------------------------------------------------
e2e_step "4. (d) apt purge removes the configured data dir /srv/kafka/data"
e2e_in env DEBIAN_FRONTEND=noninteractive apt-get purge -y kraftd </dev/null >"$work/apt-purge.log" 2>&1 ||
    { tail -n 30 "$work/apt-purge.log" >&2; e2e_fail "apt purge kraftd failed"; }
grep -q 'removed the Kafka data directory /srv/kafka/data' "$work/apt-purge.log" ||
    { tail -n 30 "$work/apt-purge.log" >&2; e2e_fail "apt purge did not say it removed /srv/kafka/data"; }
for gone in /srv/kafka/data /etc/kafka /var/lib/kraftd /etc/systemd/system/kafka.service.d/kraftd-paths.conf; do
    e2e_in test ! -e "$gone" || e2e_fail "apt purge left $gone"
done
e2e_check "apt purge: removed /srv/kafka/data (and said so), /etc/kafka, /var/lib/kraftd, the drop-in"
e2e_teardown
echo
echo "PASS: tests/e2e/day2-config.sh (admin's kraftd.toml honoured and untouched, edits live on restart, conffile-free upgrade, purge of a custom data dir)"
