#!/bin/bash
# tests/e2e/package.sh — the kraftd .deb and .rpm, end to end under a real systemd (PID 1 in nspawn):
# install → enable/start (blocks until READY) → produce/consume inside and outside → journal priorities →
# restart/stop → kill -9 recovery → upgrade → remove/purge → the rpm's scriptlets in a fresh container.
#
# Usage: tests/e2e/package.sh [--profile release|dev] [--bins DIR] [--packages DIR] [--only deb|rpm]
#   --profile   cargo profile for the packaged binaries (default release; dev for quick local runs)
#   --bins      package prebuilt kraftd + kraft-install from DIR (see packaging/build-packages.sh)
#   --packages  reuse prebuilt packages: DIR/rev1/*.deb+*.rpm and DIR/rev2/*.deb (skips the build)
#   --only      run only steps 1-8 (deb) or only step 9 (rpm); says so at the end (not a full pass)
# Env: KRAFTD_CACHE (fixture, rootfs, tools), KAFKA_VERSION (default 4.1.1), E2E_KEEP=1 keeps rootfs copies.
# Needs root (debootstrap, nspawn). Prints every check; any failure exits non-zero with the reason.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"

e2e_parse_args package.sh "$@"
kv="${KAFKA_VERSION:-4.1.1}"
kname="kafka_2.13-$kv"
e2e_host_setup package.sh "$kv" package
work="$E2E_WORK"
trap 'rc=$?; e2e_teardown; rm -rf "$work"; exit $rc' EXIT

# ---------------------------------------------------------------------------------------------------
e2e_step "0. build the packages (revision 1, and revision 2 for the upgrade)"
packages="${E2E_PACKAGES:-$work/packages}"
if [[ -z "$E2E_PACKAGES" ]]; then
    e2e_build_package "$packages" 1
    e2e_build_package "$packages" 2 --no-lintian --fast
    e2e_check "built both packages with one command each (lintian: no errors)"
fi
deb1=$(ls "$packages"/rev1/kraftd_*-1_*.deb 2>/dev/null | head -n1 || true)
deb2=$(ls "$packages"/rev2/kraftd_*-2_*.deb 2>/dev/null | head -n1 || true)
rpm1=$(ls "$packages"/rev1/kraftd-*-1.*.rpm 2>/dev/null | head -n1 || true)
[[ -f "$deb1" && -f "$deb2" && -f "$rpm1" ]] || e2e_fail "packages missing under $packages (rev1 deb+rpm, rev2 deb)"
e2e_check "packages: $(basename "$deb1"), $(basename "$deb2"), $(basename "$rpm1")"

# ---------------------------------------------------------------------------------------------------
if [[ "$E2E_ONLY" != rpm ]]; then
e2e_step "1. Debian 12 rootfs (debootstrap, cached) booted with systemd-nspawn -b"
e2e_boot deb
bootstrap="$E2E_IP:9092"

e2e_step "2. apt install ./$(basename "$deb1") inside (pulls the JRE from Debian's packages)"
e2e_apt_install "$deb1" "$work/apt-install.log"
grep -q 'openjdk-17-jre-headless' "$work/apt-install.log" || e2e_fail "apt did not pull openjdk-17-jre-headless"
e2e_check "apt install succeeded and pulled openjdk-17-jre-headless"
sed -n '/kraftd:/p' "$work/apt-install.log" >&2 || true
e2e_in dpkg -s kraftd | grep -q '^Status: install ok installed' || e2e_fail "dpkg -s kraftd: not 'install ok installed'"
for f in /usr/bin/kraftd /usr/bin/kraft-install /usr/lib/systemd/system/kafka.service /etc/kafka/kraftd.toml \
         "$E2E_KDIR_IN/libs/$kname.jar" /usr/lib/sysusers.d/kraftd.conf /usr/lib/tmpfiles.d/kraftd.conf \
         /usr/share/man/man1/kraftd.1.gz; do
    e2e_in test -e "$f" || e2e_fail "$f not installed by the package"
done
e2e_in getent passwd kafka >/dev/null || e2e_fail "user kafka not created (sysusers)"
[[ "$(e2e_in stat -c %U:%G /var/lib/kafka/data)" == kafka:kafka ]] || e2e_fail "/var/lib/kafka/data not kafka:kafka"
e2e_check "files, user kafka and /var/lib/kafka/data (kafka:kafka) in place"
e2e_in test -s /var/lib/kafka/data/meta.properties ||
    { grep -v '^Adding debian:' "$work/apt-install.log" | grep -B8 -A4 'kraftd:' >&2
      e2e_fail "postinst did not provision: no /var/lib/kafka/data/meta.properties (postinst/kraft-install output above)"; }
cluster_id=$(e2e_in sed -n 's/^cluster.id=//p' /var/lib/kafka/data/meta.properties)
e2e_check "postinst provisioned the node with the bundled Kafka (cluster id $cluster_id)"
adv=$(e2e_in bash -c "grep -h '^advertised.listeners=' /var/lib/kraftd/server.properties 2>/dev/null | head -n1")
[[ "$adv" == *"$E2E_IP:9092"* ]] || e2e_fail "advertised.listeners is '$adv', expected the container's address $E2E_IP:9092"
e2e_check "advertised address detected: $adv"

e2e_step "3. systemctl enable --now kafka blocks until the broker serves"
e2e_in systemctl is-enabled kafka.service >/dev/null || e2e_fail "deb policy: kafka.service not enabled after install"
e2e_check "kafka.service enabled by the deb's postinst"
# Stop what postinst started, then time nothing: right after `enable --now` returns, one single probe
# (no retry) must find the broker's data-plane port open — it opens only once the broker is unfenced.
e2e_in systemctl stop kafka.service
e2e_in systemctl enable --now kafka.service || { e2e_dump_diag; e2e_fail "systemctl enable --now kafka failed"; }
state=$(e2e_unit_state)
[[ "$state" == active ]] || { e2e_dump_diag; e2e_fail "right after 'enable --now' returned the unit is '$state', not active"; }
e2e_serves || { e2e_dump_diag; e2e_fail "'systemctl enable --now' returned (active) but $bootstrap refuses connections: READY came too early"; }
e2e_check "'systemctl enable --now kafka' returned with the unit active and $bootstrap already accepting (single probe)"
e2e_produce in "$bootstrap" e2e-in a1 a2 a3
e2e_produce out "$bootstrap" e2e-out b1 b2 b3
e2e_expect_messages in "$bootstrap" e2e-out b1 b2 b3
e2e_expect_messages out "$bootstrap" e2e-in a1 a2 a3
e2e_check "produced/consumed through $bootstrap from inside (bundled tools) and outside (host) the container"
# The operator commands the package puts on PATH: native status/smoke-test, Kafka's tools through the
# kraftd launchers (default --bootstrap-server from kraftd.toml), man pages and completions.
e2e_in kraftd status >"$work/status.txt" 2>&1 || { cat "$work/status.txt" >&2; e2e_fail "kraftd status: not healthy"; }
grep -q '^HEALTHY' "$work/status.txt" || { cat "$work/status.txt" >&2; e2e_fail "kraftd status did not say HEALTHY"; }
e2e_in kraftd smoke-test >"$work/smoke.txt" 2>&1 || { cat "$work/smoke.txt" >&2; e2e_fail "kraftd smoke-test failed"; }
e2e_check "kraftd status: HEALTHY; kraftd smoke-test passed (inside the container)"
e2e_in kafka-topics --create --topic my_topic_srebro.cn --partitions 1 --replication-factor 1 >/dev/null 2>&1 ||
    e2e_fail "kafka-topics --create (launcher, default bootstrap) failed"
e2e_in kafka-topics --list 2>/dev/null | grep -qx 'my_topic_srebro.cn' || e2e_fail "kafka-topics --list does not show my_topic_srebro.cn"
e2e_in bash -c 'echo runbook | kafka-console-producer --topic my_topic_srebro.cn >/dev/null 2>&1' ||
    e2e_fail "kafka-console-producer (launcher) failed"
got=$(e2e_in kafka-console-consumer --topic my_topic_srebro.cn --from-beginning --max-messages 1 --timeout-ms 60000 2>/dev/null || true)
[[ "$got" == runbook ]] || e2e_fail "kafka-console-consumer (launcher) read '$got', expected 'runbook'"
for f in /usr/share/man/man1/kraftd.1.gz /usr/share/man/man1/kraft-install.1.gz /usr/share/man/man1/kafka-topics.1.gz \
         /usr/share/bash-completion/completions/kraftd /usr/share/zsh/vendor-completions/_kraft-install \
         /usr/share/fish/vendor_completions.d/kraftd.fish; do
    e2e_in test -s "$f" || e2e_fail "$f not installed by the package"
done
e2e_check "runbook sequence through the kafka-* launchers; man pages and completions installed"

e2e_step "4. journalctl -u kafka: broker lines, and -p warning has none of the INFO ones"
e2e_in journalctl -u kafka.service --no-pager -o cat >"$work/journal-all.txt" 2>&1 || true
grep -q 'Kafka Server started' "$work/journal-all.txt" || e2e_fail "journalctl -u kafka lacks the broker's 'Kafka Server started' line"
e2e_check "journalctl -u kafka shows the broker's lines ($(wc -l <"$work/journal-all.txt") lines, incl. 'Kafka Server started')"
e2e_in journalctl -u kafka.service -p warning --no-pager -o cat >"$work/journal-warn.txt" 2>&1 || true
# MESSAGE carries no level (the forwarder moves it to KAFKA_LEVEL= and PRIORITY=): check the fields.
e2e_in journalctl -u kafka.service --no-pager -o verbose >"$work/journal-all-verbose.txt" 2>&1 || true
grep -qE '^ +KAFKA_LEVEL=INFO$' "$work/journal-all-verbose.txt" ||
    e2e_fail "no journal entry of kafka.service has KAFKA_LEVEL=INFO: the level field is missing"
e2e_in journalctl -u kafka.service -p warning --no-pager -o verbose >"$work/journal-warn-verbose.txt" 2>&1 || true
if grep -E '^ +KAFKA_LEVEL=(INFO|DEBUG|TRACE)$' "$work/journal-warn-verbose.txt" >&2 ||
    grep -q 'Kafka Server started' "$work/journal-warn.txt"; then
    e2e_fail "journalctl -u kafka -p warning shows INFO/DEBUG entries (above)"
fi
sed 's/^/    | /' "$work/journal-warn.txt" | head -n 10 >&2
e2e_check "journalctl -u kafka -p warning: no INFO lines ($(wc -l <"$work/journal-warn.txt") lines at warning or worse, first ones above)"
prio=$(e2e_in journalctl -u kafka.service -o verbose --no-pager --grep 'Kafka Server started' 2>/dev/null | sed -n 's/^ *PRIORITY=//p' | head -n1 || true)
[[ "$prio" == 6 ]] || e2e_fail "'Kafka Server started' logged with PRIORITY=$prio, expected 6 (info)"
e2e_check "'Kafka Server started' has PRIORITY=6"

e2e_step "5. restart, then stop: clean shutdown marker, inactive (not failed)"
e2e_in systemctl restart kafka.service || { e2e_dump_diag; e2e_fail "systemctl restart kafka failed"; }
[[ "$(e2e_unit_state)" == active ]] && e2e_serves || { e2e_dump_diag; e2e_fail "after restart: not active+serving"; }
e2e_check "systemctl restart: active and serving when it returns"
e2e_in systemctl stop kafka.service || { e2e_dump_diag; e2e_fail "systemctl stop kafka failed"; }
state=$(e2e_unit_state)
[[ "$state" == inactive ]] || { e2e_dump_diag; e2e_fail "after stop the unit is '$state', expected inactive (not failed)"; }
e2e_in test -e /var/lib/kafka/data/.kafka_cleanshutdown || e2e_fail "no /var/lib/kafka/data/.kafka_cleanshutdown after stop"
[[ -z "$(e2e_jvm_pid)" ]] || e2e_fail "a Kafka JVM is still running after systemctl stop"
e2e_check "systemctl stop: inactive, .kafka_cleanshutdown written, no JVM left"
e2e_in systemctl start kafka.service || { e2e_dump_diag; e2e_fail "systemctl start kafka failed"; }
e2e_serves || { e2e_dump_diag; e2e_fail "after start: not serving"; }

e2e_step "6. kill -9 the JVM: systemd restarts it, acked messages survive"
e2e_produce out "$bootstrap" e2e-crash c1 c2 c3 c4
old_jvm=$(e2e_jvm_pid)
[[ -n "$old_jvm" ]] || e2e_fail "no kafka.Kafka JVM found in the container"
restarts_before=$(e2e_in systemctl show -p NRestarts --value kafka.service)
e2e_in kill -9 "$old_jvm"
for _ in $(seq 1 60); do
    [[ "$(e2e_in systemctl show -p NRestarts --value kafka.service)" != "$restarts_before" ]] && break
    sleep 1
done
e2e_wait_active_serving "$E2E_IP" 180 "after kill -9 of the JVM (pid $old_jvm) the unit did not come back active and serving"
new_jvm=$(e2e_jvm_pid)
[[ -n "$new_jvm" && "$new_jvm" != "$old_jvm" ]] || e2e_fail "no new JVM after kill -9 (old $old_jvm, now '$new_jvm')"
[[ "$(e2e_in systemctl show -p NRestarts --value kafka.service)" -gt "$restarts_before" ]] ||
    e2e_fail "NRestarts did not increase: systemd did not restart the unit"
e2e_check "kill -9 JVM $old_jvm → systemd restarted kafka (new JVM $new_jvm), serving again"
e2e_expect_messages out "$bootstrap" e2e-crash c1 c2 c3 c4
e2e_expect_messages out "$bootstrap" e2e-in a1 a2 a3
e2e_check "all messages acked before the crash are still there"

e2e_step "7. upgrade to $(basename "$deb2"): config, cluster ID, data kept; restarted once; serving"
toml_before=$(e2e_in sha256sum /etc/kafka/kraftd.toml)
starts_before=$(e2e_journal_count 'Kafka Server started')
jvm_before=$(e2e_jvm_pid)
e2e_apt_install "$deb2" "$work/apt-upgrade.log"
e2e_in dpkg -s kraftd | grep -q "^Version: .*-2$" || e2e_fail "kraftd not upgraded to revision 2"
[[ "$(e2e_in sha256sum /etc/kafka/kraftd.toml)" == "$toml_before" ]] || e2e_fail "upgrade changed /etc/kafka/kraftd.toml"
[[ "$(e2e_in sed -n 's/^cluster.id=//p' /var/lib/kafka/data/meta.properties)" == "$cluster_id" ]] ||
    e2e_fail "upgrade changed the cluster id (was $cluster_id)"
e2e_wait_active_serving "$E2E_IP" 180 "after the upgrade the broker is not active and serving"
jvm_after=$(e2e_jvm_pid)
[[ "$jvm_after" != "$jvm_before" ]] || e2e_fail "the broker was not restarted by the upgrade (JVM pid $jvm_before unchanged)"
starts_after=$(e2e_journal_count 'Kafka Server started')
((starts_after == starts_before + 1)) ||
    e2e_fail "upgrade started the broker $((starts_after - starts_before)) times, expected exactly once"
e2e_check "upgrade kept kraftd.toml and cluster id $cluster_id; broker restarted exactly once (JVM $jvm_before → $jvm_after)"
e2e_expect_messages out "$bootstrap" e2e-crash c1 c2 c3 c4
e2e_check "data kept across the upgrade"

e2e_step "8. apt remove keeps config and data; apt purge deletes them"
e2e_in env DEBIAN_FRONTEND=noninteractive apt-get remove -y kraftd >"$work/apt-remove.log" 2>&1 ||
    { tail -n 30 "$work/apt-remove.log" >&2; e2e_fail "apt remove kraftd failed"; }
[[ -z "$(e2e_jvm_pid)" ]] || e2e_fail "a Kafka JVM still runs after apt remove"
[[ "$(e2e_unit_state)" != active ]] || e2e_fail "kafka.service still active after apt remove"
e2e_in test -s /var/lib/kafka/data/meta.properties || e2e_fail "apt remove deleted /var/lib/kafka data"
e2e_in test -e /etc/kafka/kraftd.toml || e2e_fail "apt remove deleted /etc/kafka/kraftd.toml"
e2e_check "apt remove: broker stopped, /var/lib/kafka and /etc/kafka/kraftd.toml kept"
e2e_in env DEBIAN_FRONTEND=noninteractive apt-get purge -y kraftd >"$work/apt-purge.log" 2>&1 ||
    { tail -n 30 "$work/apt-purge.log" >&2; e2e_fail "apt purge kraftd failed"; }
e2e_in test ! -e /var/lib/kafka || e2e_fail "apt purge left /var/lib/kafka"
e2e_in test ! -e /etc/kafka || e2e_fail "apt purge left /etc/kafka"
e2e_check "apt purge: /var/lib/kafka and /etc/kafka deleted"
e2e_teardown
fi  # deb

if [[ "$E2E_ONLY" == deb ]]; then
    echo; echo "PASS (deb steps 1-8 only, --only deb: the rpm step 9 was NOT run)"; exit 0
fi

# ---------------------------------------------------------------------------------------------------
e2e_step "9. the rpm: contents and scriptlets, then rpm -i --nodeps in a fresh container"
rpm -qlp "$rpm1" >"$work/rpm-files.txt" 2>/dev/null || e2e_fail "rpm -qlp $rpm1 failed"
for f in /usr/bin/kraftd /usr/bin/kraft-install /usr/lib/systemd/system/kafka.service /usr/share/kraftd/kraftd.toml \
         /usr/lib/sysusers.d/kraftd.conf /usr/lib/tmpfiles.d/kraftd.conf /usr/lib/kraftd/package-provision \
         "$E2E_KDIR_IN/libs/$kname.jar" /usr/share/man/man1/kraftd.1.gz; do
    grep -qx "$f" "$work/rpm-files.txt" || e2e_fail "rpm lacks $f"
done
! grep -qx /etc/kafka/kraftd.toml "$work/rpm-files.txt" ||
    e2e_fail "rpm ships /etc/kafka/kraftd.toml: it is the admin's file, created by %post only when absent"
rpm -qp --provides "$rpm1" 2>/dev/null | grep -qx "bundled(kafka) = $kv" || e2e_fail "rpm does not record 'bundled(kafka) = $kv'"
rpm -qp --requires "$rpm1" 2>/dev/null | grep -q 'java-17-openjdk-headless' || e2e_fail "rpm does not require a Java 17 runtime"
rpm -qp --scripts "$rpm1" >"$work/rpm-scripts.txt" 2>/dev/null
for want in 'postinstall scriptlet' 'package-provision' 'preset kafka.service' 'preuninstall scriptlet' \
             'stop kafka.service' 'posttrans scriptlet' 'try-restart kafka.service'; do
    grep -q "$want" "$work/rpm-scripts.txt" || e2e_fail "rpm scriptlets lack '$want'"
done
e2e_check "rpm: files, default kraftd.toml in /usr/share/kraftd (not /etc), Provides bundled(kafka) = $kv, Java requirement, scriptlets"

e2e_boot rpm
bootstrap="$E2E_IP:9092"
e2e_in env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    >"$work/apt-jre.log" 2>&1 || { tail -n 20 "$work/apt-jre.log" >&2; e2e_fail "JRE install in the rpm container failed"; }
cp "$rpm1" "$E2E_ROOT/root/"
e2e_in rpm -i --nodeps "/root/$(basename "$rpm1")" >"$work/rpm-install.log" 2>&1 ||
    { cat "$work/rpm-install.log" >&2; e2e_fail "rpm -i --nodeps failed"; }
cat "$work/rpm-install.log" >&2
e2e_in test -s /var/lib/kafka/data/meta.properties || e2e_fail "rpm %post did not provision (no meta.properties)"
e2e_in systemctl is-enabled kafka.service >/dev/null ||
    e2e_fail "rpm %post: kafka.service not enabled by 'systemctl preset' (Debian's default preset is enable)"
e2e_check "rpm -i ran its scriptlets under systemd: provisioned, enabled per preset"
e2e_in systemctl start kafka.service || { e2e_dump_diag; e2e_fail "systemctl start kafka (rpm install) failed"; }
e2e_serves || { e2e_dump_diag; e2e_fail "rpm install: started but $bootstrap not serving"; }
e2e_produce out "$bootstrap" e2e-rpm r1 r2
e2e_expect_messages out "$bootstrap" e2e-rpm r1 r2
e2e_check "rpm-installed broker serves produce/consume on $bootstrap"
e2e_in rpm -e kraftd >"$work/rpm-erase.log" 2>&1 || { cat "$work/rpm-erase.log" >&2; e2e_fail "rpm -e kraftd failed"; }
[[ -z "$(e2e_jvm_pid)" ]] || e2e_fail "a JVM still runs after rpm -e"
e2e_in test -s /var/lib/kafka/data/meta.properties || e2e_fail "rpm -e deleted Kafka data"
e2e_check "rpm -e: broker stopped, data kept"
e2e_teardown

echo
[[ "$E2E_ONLY" == rpm ]] && { echo "PASS (rpm step 9 only, --only rpm: the deb steps 1-8 were NOT run)"; exit 0; }
echo "PASS: tests/e2e/package.sh — deb and rpm of kraftd (Kafka $kv) proven under systemd in nspawn"
