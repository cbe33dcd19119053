#!/bin/bash
# tests/e2e/day2-lifecycle.sh — issue 9 point 8: the paths operators hit first, under a real systemd (PID 1
# in nspawn) with the built packages:
#   a. apt install on a host with two candidate addresses: installed, NOT provisioned, unit disabled and
#      inactive; the printed command completes it and the node serves on the chosen address;
#   c. a reboot of the container (same disk): the enabled unit comes back by itself, acked data intact;
#   d. the JVM hung by SIGSTOP: systemd's watchdog fires, kafka is restarted and serves again (the
#      recovery time is printed, not asserted); the journal says why (watchdog);
#   b. rpm -U rev1 → rev2: %post ($1=2) + %posttrans restart the broker once; config, cluster id, data kept.
#
# Usage: tests/e2e/day2-lifecycle.sh [--profile release|dev] [--bins DIR] [--packages DIR]
#   --packages  reuse prebuilt packages: DIR/rev1/*.deb+*.rpm and DIR/rev2/*.rpm (as package.sh; skips the build)
# Env: KRAFTD_CACHE, KAFKA_VERSION (default 4.1.1), E2E_KEEP=1 keeps rootfs copies. Needs root.
# Containers k9life*, subnets 10.213.51-53.0/24. The watchdog check shortens WatchdogSec to 10 s with a
# drop-in (the shipped unit has 60 s) so the hang is detected quickly; the mechanism is the same.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"

e2e_parse_args day2-lifecycle.sh "$@"
kv="${KAFKA_VERSION:-4.1.1}"
e2e_host_setup day2-lifecycle.sh "$kv" day2-lifecycle
work="$E2E_WORK"
trap 'rc=$?; e2e_teardown; rm -rf "$work"; exit $rc' EXIT

# ---------------------------------------------------------------------------------------------------
e2e_step "0. the packages (revision 1, and revision 2 for the rpm upgrade)"
packages="${E2E_PACKAGES:-$work/packages}"
if [[ -z "$E2E_PACKAGES" ]]; then
    e2e_build_package "$packages" 1 --no-lintian --fast
    e2e_build_package "$packages" 2 --no-lintian --fast
fi
deb1=$(ls "$packages"/rev1/kraftd_*-1_*.deb 2>/dev/null | head -n1 || true)
rpm1=$(ls "$packages"/rev1/kraftd-*-1.*.rpm 2>/dev/null | head -n1 || true)
rpm2=$(ls "$packages"/rev2/kraftd-*-2.*.rpm 2>/dev/null | head -n1 || true)
[[ -f "$deb1" && -f "$rpm1" && -f "$rpm2" ]] || e2e_fail "packages missing under $packages (rev1 deb+rpm, rev2 rpm)"
e2e_check "packages: $(basename "$deb1"), $(basename "$rpm1"), $(basename "$rpm2")"

# ---------------------------------------------------------------------------------------------------
# Helpers of this script (the shared ones, e2e_*, are in lib.sh; clients run on the host).
unit_enabled() { e2e_in systemctl is-enabled kafka.service 2>/dev/null || true; }
unit_prop() { e2e_in systemctl show -p "$1" --value kafka.service; }
cluster_id() { e2e_in sed -n 's/^cluster.id=//p' /var/lib/kafka/data/meta.properties; }

# ---------------------------------------------------------------------------------------------------
e2e_step "a. apt install on a host with two candidate addresses: not provisioned, the printed command completes it"
e2e_boot 9life-a 51
second="10.213.51.3"
e2e_add_address "$second"
# Without a default route neither address is "the" source (src/net.rs choose_advertise): both are
# RFC 1918 on the same interface, so kraft-install cannot choose and must ask.
e2e_in ip route del default
addrs=$(e2e_in ip -4 -o addr show scope global | awk '{print $4}' | xargs)
[[ "$addrs" == "$E2E_IP/24 $second/24" ]] || e2e_fail "container addresses are '$addrs', expected $E2E_IP/24 and $second/24"
e2e_check "container has two global IPv4 addresses ($addrs) and no default route"
e2e_apt_install "$deb1" "$work/apt-a.log"
e2e_in dpkg -s kraftd | grep -q '^Status: install ok installed' || e2e_fail "dpkg -s kraftd: not 'install ok installed'"
e2e_check "apt-get install ./$(basename "$deb1") succeeded (exit 0, package 'install ok installed')"
grep -E '^(kraftd|kraft-install|error)' "$work/apt-a.log" | sed 's/^/    | /' >&2 || true
grep -q 'NOT provisioned' "$work/apt-a.log" ||
    { tail -n 40 "$work/apt-a.log" >&2; e2e_fail "apt output lacks the 'NOT provisioned' message"; }
cmd=$(sed -n '/NOT provisioned/,$p' "$work/apt-a.log" | grep -o 'kraft-install --.*' | head -n1 | sed 's/[[:space:]]*$//')
[[ "$cmd" == *'<IP>'* ]] || e2e_fail "the printed completion command '$cmd' has no <IP> to fill in"
e2e_check "apt printed 'NOT provisioned' and the command: $cmd"
[[ "$(unit_enabled)" == disabled ]] || e2e_fail "kafka.service is '$(unit_enabled)' after the unprovisioned install, expected disabled"
[[ "$(e2e_unit_state)" == inactive ]] || e2e_fail "kafka.service is '$(e2e_unit_state)' after the unprovisioned install, expected inactive"
[[ -z "$(e2e_jvm_pid)" ]] || e2e_fail "a Kafka JVM runs although the node is not provisioned"
e2e_in test ! -e /var/lib/kafka/data/meta.properties || e2e_fail "the unprovisioned install formatted /var/lib/kafka/data"
e2e_check "unit left disabled and inactive, no JVM, data dir not formatted"
cmd="${cmd//<IP>/$second}"
e2e_in bash -c "$cmd" >"$work/complete-a.log" 2>&1 ||
    { cat "$work/complete-a.log" >&2; e2e_dump_diag; e2e_fail "the printed command failed: $cmd"; }
e2e_check "ran the printed command with the second address: $cmd"
[[ "$(unit_enabled)" == enabled ]] || e2e_fail "after the command kafka.service is '$(unit_enabled)', expected enabled"
[[ "$(e2e_unit_state)" == active ]] || { e2e_dump_diag; e2e_fail "after the command kafka.service is '$(e2e_unit_state)', expected active"; }
e2e_serves "$second" || { e2e_dump_diag; e2e_fail "'systemctl enable --now' returned but $second:9092 refuses connections"; }
e2e_kafka out "$E2E_APIVERSIONS_CLS" --bootstrap-server "$second:9092" >"$work/apiversions.txt" 2>"$work/apiversions.err" ||
    { cat "$work/apiversions.err" >&2; e2e_fail "BrokerApiVersionsCommand against $second:9092 failed"; }
broker_line=$(grep -m1 '(id: ' "$work/apiversions.txt" || true)
[[ "$broker_line" == "$second:9092 (id: "* ]] ||
    e2e_fail "the broker's metadata does not advertise $second:9092 (first broker line: '${broker_line:0:80}')"
e2e_check "enabled, active, and the broker advertises $second:9092 (${broker_line%%->*})"
e2e_produce out "$second:9092" e2e-amb m1 m2 m3
e2e_expect_messages out "$second:9092" e2e-amb m1 m2 m3
e2e_check "produced (acks=all) and consumed m1..m3 from the host through $second:9092"
e2e_teardown

# ---------------------------------------------------------------------------------------------------
e2e_step "c. reboot: the enabled unit comes back by itself with the acked data"
e2e_boot 9life-c 52
e2e_persist_network
bs="$E2E_IP:9092"
e2e_apt_install "$deb1" "$work/apt-c.log"
[[ "$(unit_enabled)" == enabled && "$(e2e_unit_state)" == active ]] ||
    { e2e_dump_diag; e2e_fail "after apt install kafka.service is '$(unit_enabled)'/'$(e2e_unit_state)', expected enabled/active"; }
e2e_serves "$E2E_IP" || { e2e_dump_diag; e2e_fail "after apt install $bs refuses connections"; }
e2e_check "apt install: provisioned, enabled, active, serving on $bs"
# For d (after the reboot): a 10 s watchdog instead of the shipped 60 s, so the hang is caught quickly.
e2e_in mkdir -p /etc/systemd/system/kafka.service.d
printf '%s\n' '# e2e (tests/e2e/day2-lifecycle.sh): a short watchdog for the SIGSTOP check.' '[Service]' 'WatchdogSec=10' |
    e2e_in tee /etc/systemd/system/kafka.service.d/90-e2e-watchdog.conf >/dev/null
cid_before=$(cluster_id)
e2e_produce out "$bs" e2e-reboot r1 r2 r3 r4
e2e_check "produced (acks=all) r1..r4 to $bs (cluster id $cid_before)"
boot_id_before=$(e2e_in cat /proc/sys/kernel/random/boot_id)
e2e_reboot 300
[[ "$(e2e_in cat /proc/sys/kernel/random/boot_id)" != "$boot_id_before" ]] || e2e_fail "the boot id did not change: no reboot happened"
# Nothing started it but the boot: no systemctl command was issued since.
e2e_wait_active_serving "$E2E_IP" 300 "after the reboot kafka.service did not come back active and serving on $bs"
e2e_check "after the reboot kafka.service is $(unit_enabled)/$(e2e_unit_state) and $bs accepts connections (started by the boot)"
[[ "$(cluster_id)" == "$cid_before" ]] || e2e_fail "cluster id changed across the reboot ($cid_before → $(cluster_id))"
e2e_expect_messages out "$bs" e2e-reboot r1 r2 r3 r4
e2e_check "acked r1..r4 read back after the reboot; cluster id $cid_before kept"

# ---------------------------------------------------------------------------------------------------
e2e_step "d. the JVM hung by SIGSTOP: the watchdog fires, systemd restarts kafka, the node serves again"
wd=$(unit_prop WatchdogUSec)
[[ "$wd" == 10s ]] || e2e_fail "kafka.service WatchdogUSec is '$wd', expected 10s from the test's drop-in"
old_jvm=$(e2e_jvm_pid)
[[ -n "$old_jvm" ]] || e2e_fail "no kafka.Kafka JVM found in the container"
restarts_before=$(unit_prop NRestarts)
t0=$(date +%s.%N)
e2e_in kill -STOP "$old_jvm"
e2e_check "SIGSTOP sent to the JVM (pid $old_jvm in the container), WatchdogSec=$wd, NRestarts=$restarts_before"
for ((i = 0; i < 240; i++)); do
    [[ "$(e2e_unit_state)" != active ]] && break
    sleep 0.5
done
t_fired=$(date +%s.%N)
[[ "$(e2e_unit_state)" != active ]] || { e2e_dump_diag; e2e_fail "kafka.service still active 120 s after the JVM was stopped: the watchdog never fired"; }
e2e_wait_active_serving "$E2E_IP" 300 "after the watchdog fired kafka.service did not come back active and serving on $bs"
t1=$(date +%s.%N)
new_jvm=$(e2e_jvm_pid)
[[ -n "$new_jvm" && "$new_jvm" != "$old_jvm" ]] || e2e_fail "no new JVM after the watchdog restart (old $old_jvm, now '$new_jvm')"
[[ -z "$(e2e_in ps -o stat= -p "$old_jvm" 2>/dev/null || true)" ]] || e2e_fail "the stopped JVM $old_jvm is still there"
restarts_after=$(unit_prop NRestarts)
((restarts_after > restarts_before)) || e2e_fail "NRestarts $restarts_before → $restarts_after: systemd did not restart the unit"
e2e_in journalctl -u kafka.service -b 0 --no-pager -o cat >"$work/journal-d.txt" 2>&1 || true
grep -E 'Watchdog timeout|watchdog' "$work/journal-d.txt" | sed 's/^/    | /' >&2 || true
grep -q 'Watchdog timeout' "$work/journal-d.txt" || e2e_fail "journalctl -u kafka has no 'Watchdog timeout' line from systemd"
grep -q "Failed with result 'watchdog'" "$work/journal-d.txt" ||
    e2e_fail "journalctl -u kafka does not say the unit failed with result 'watchdog'"
# What systemd did, with times (from the SIGSTOP on): the watchdog, the stop, the restart, READY.
e2e_in journalctl -u kafka.service -o short-precise --no-pager --since "@${t0%.*}" 2>/dev/null |
    grep -E 'systemd\[1\]' | sed 's/^/    | /' >&2 || true
e2e_check "journal: systemd's 'Watchdog timeout' and \"Failed with result 'watchdog'\"; NRestarts $restarts_before → $restarts_after; JVM $old_jvm → $new_jvm"
e2e_expect_messages out "$bs" e2e-reboot r1 r2 r3 r4
e2e_produce out "$bs" e2e-reboot r5
e2e_expect_messages out "$bs" e2e-reboot r1 r2 r3 r4 r5
t2=$(date +%s.%N)
awk -v t0="$t0" -v f="$t_fired" -v a="$t1" -v s="$t2" 'BEGIN { printf "RECOVERY after SIGSTOP of the JVM: the watchdog took the unit down after %.1f s; unit active again and the port open after %.1f s; acked data read back and a new message produced and consumed after %.1f s (WatchdogSec=10 by drop-in, RestartSec from the unit)\n", f - t0, a - t0, s - t0 }' >&2
e2e_check "the node serves again after the watchdog restart: acked r1..r4 intact, r5 produced and consumed"
e2e_teardown

# ---------------------------------------------------------------------------------------------------
e2e_step "b. rpm -U $(basename "$rpm1") → $(basename "$rpm2"): restarted once, config/cluster id/data kept"
e2e_boot 9life-b 53
bs="$E2E_IP:9092"
e2e_in env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    >"$work/apt-jre.log" 2>&1 || { tail -n 20 "$work/apt-jre.log" >&2; e2e_fail "JRE install in the rpm container failed"; }
cp "$rpm1" "$rpm2" "$E2E_ROOT/root/"
# --nodeps: the rpm requires Fedora/RHEL package names (java-17-openjdk-headless, systemd) that this
# Debian container provides under other names; the scriptlets run for real under its systemd.
e2e_in rpm -i --nodeps "/root/$(basename "$rpm1")" >"$work/rpm-i.log" 2>&1 ||
    { cat "$work/rpm-i.log" >&2; e2e_fail "rpm -i --nodeps $(basename "$rpm1") failed"; }
e2e_in systemctl start kafka.service || { e2e_dump_diag; e2e_fail "systemctl start kafka (rpm rev 1) failed"; }
e2e_serves "$E2E_IP" || { e2e_dump_diag; e2e_fail "rpm rev 1: started but $bs not serving"; }
e2e_produce out "$bs" e2e-rpm u1 u2 u3
e2e_check "rpm rev 1 installed, started, u1..u3 produced (acks=all) to $bs"
# The admin disables the unit (but it keeps running): %post's preset (only for $1=1) must not re-enable it.
e2e_in systemctl disable kafka.service >/dev/null 2>&1
toml_before=$(e2e_in sha256sum /etc/kafka/kraftd.toml)
cid_before=$(cluster_id)
jvm_before=$(e2e_jvm_pid)
starts_before=$(e2e_journal_count 'Kafka Server started')
e2e_in rpm -U --nodeps -vv "/root/$(basename "$rpm2")" >"$work/rpm-U.log" 2>&1 ||
    { tail -n 40 "$work/rpm-U.log" >&2; e2e_fail "rpm -U --nodeps $(basename "$rpm2") failed"; }
grep -E '%(pre|post|preun|postun|posttrans)\(kraftd' "$work/rpm-U.log" | grep -E 'scriptlet start|waitpid' | sed 's/^/    | /' >&2 || true
grep -vE '^D: ' "$work/rpm-U.log" | sed 's/^/    | /' >&2 || true
# rpm -vv runs the scriptlets with `sh -x`: the trace shows what %post and %posttrans did.
grep -q '^+ touch /run/kraftd/restart-after-upgrade' "$work/rpm-U.log" ||
    e2e_fail "rpm -U: %post did not take the upgrade branch (no 'touch /run/kraftd/restart-after-upgrade' in its trace, above)"
grep -q '^+ systemctl try-restart kafka.service' "$work/rpm-U.log" ||
    e2e_fail "rpm -U: %posttrans did not run 'systemctl try-restart kafka.service' (trace above)"
[[ "$(e2e_in rpm -q --qf '%{RELEASE}' kraftd)" == 2 ]] || e2e_fail "rpm -q kraftd: release is not 2 after rpm -U"
e2e_in test ! -e /run/kraftd/restart-after-upgrade || e2e_fail "%posttrans left /run/kraftd/restart-after-upgrade behind"
e2e_wait_active_serving "$E2E_IP" 300 "after rpm -U the broker is not active and serving on $bs"
jvm_after=$(e2e_jvm_pid)
starts_after=$(e2e_journal_count 'Kafka Server started')
[[ "$jvm_after" != "$jvm_before" ]] || e2e_fail "rpm -U did not restart the broker (JVM pid $jvm_before unchanged)"
((starts_after == starts_before + 1)) || e2e_fail "rpm -U started the broker $((starts_after - starts_before)) times, expected exactly once"
[[ "$(unit_enabled)" == disabled ]] || e2e_fail "rpm -U changed the admin's 'disabled' to '$(unit_enabled)' (preset ran on an upgrade)"
e2e_check "rpm -U: release 2; %post took the upgrade branch (\$1=2: no preset, the unit stays disabled) and %posttrans restarted the broker exactly once (JVM $jvm_before → $jvm_after)"
[[ "$(e2e_in sha256sum /etc/kafka/kraftd.toml)" == "$toml_before" ]] || e2e_fail "rpm -U changed /etc/kafka/kraftd.toml"
[[ "$(cluster_id)" == "$cid_before" ]] || e2e_fail "rpm -U changed the cluster id ($cid_before → $(cluster_id))"
e2e_expect_messages out "$bs" e2e-rpm u1 u2 u3
e2e_check "rpm -U kept kraftd.toml, cluster id $cid_before and the acked u1..u3; the node serves"
e2e_teardown

echo
echo "PASS: tests/e2e/day2-lifecycle.sh — ambiguous-address install, reboot, watchdog on a hung JVM, rpm upgrade (Kafka $kv, ${SECONDS} s)"
