#!/bin/bash
# tests/unit_hardening.sh — the shipped kafka.service is valid, hardened (exposure <= 2.0), and a real
# Kafka broker JVM serves under exactly its hardening directives under a real systemd (nspawn).
#
# Usage: tests/unit_hardening.sh [--static] [--kraftd PATH]
#   --static        only the systemd-analyze checks (no container, no JVM); says so loudly at the end.
#   --kraftd PATH   run the SHIPPED unit (Type=notify, ExecStart/ExecStop, all of it) with this kraftd
#                   binary instead of the stand-in unit (whose ExecStart is the bare JVM). Until the
#                   packages provision nodes (tests/e2e/package.sh), this is how kraftd meets the unit.
# Env: KRAFTD_CACHE (fixture + rootfs cache), KAFKA_VERSION (default 4.1.1), MAX_EXPOSURE (default 2.0).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
source "$here/e2e/lib.sh"

static_only=0 kraftd_bin=""
while (($#)); do
    case "$1" in
        --static) static_only=1; shift ;;
        --kraftd) kraftd_bin="$(realpath "${2:?--kraftd needs a path}")"; shift 2 ;;
        *) echo "unit_hardening.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ -z "$kraftd_bin" || -x "$kraftd_bin" ]] || { echo "unit_hardening.sh: --kraftd $kraftd_bin is not an executable" >&2; exit 2; }
max_exposure="${MAX_EXPOSURE:-2.0}"
kafka_version="${KAFKA_VERSION:-4.1.1}"
unit_src="$repo/dist/usr/lib/systemd/system/kafka.service"
work=$(mktemp -d /tmp/kraftd-unit-hardening.XXXXXX)
cleanup_work() { rm -rf "$work"; }
trap cleanup_work EXIT

e2e_need_host_tools

# ---------------------------------------------------------------------------------------------------
e2e_step "the shipped unit $unit_src"
mkdir -p "$work/verify" "$work/stub-bin"
cp "$unit_src" "$work/verify/kafka.service"
# `verify` insists that ExecStart's binary exists. The unit is checked as shipped (ExecStart=/usr/bin/kraftd):
# a stub kraftd is laid over the host's /usr/bin in a private mount namespace (nothing on the host changes).
printf '#!/bin/sh\nexit 0\n' >"$work/stub-bin/kraftd" && chmod +x "$work/stub-bin/kraftd"
grep -q '^ExecStart=/usr/bin/kraftd ' "$work/verify/kafka.service" ||
    e2e_fail "$unit_src: ExecStart= does not start /usr/bin/kraftd (the path the packages install)"
e2e_check "the unit runs /usr/bin/kraftd"

# verify_clean FILE — systemd-analyze verify must exit 0 AND print nothing on stderr (it exits 0 on
# unknown keys such as `ProtectSytem=`). --man=no: the man page is installed by the package, not here.
verify_clean() {
    local err rc=0
    err=$(unshare --mount --propagation private sh -c \
        'mount -t overlay kraftd-stub -o "lowerdir=$1:/usr/bin" /usr/bin && exec systemd-analyze verify --man=no "$2"' \
        sh "$work/stub-bin" "$1" 2>&1 >/dev/null) || rc=$?
    if ((rc != 0)) || [[ -n "$err" ]]; then
        printf '%s\n' "$err"
        return 1
    fi
}

e2e_step "systemd-analyze verify (any stderr output fails)"
if ! out=$(verify_clean "$work/verify/kafka.service"); then
    e2e_fail "systemd-analyze verify complained about the shipped unit:
$out"
fi
e2e_check "systemd-analyze verify: exit 0, no output"

# Self-check: the same check must catch a typo'd directive, or it proves nothing.
mkdir -p "$work/typo"
sed 's/^ProtectSystem=/ProtectSytem=/' "$work/verify/kafka.service" >"$work/typo/kafka.service"
grep -q '^ProtectSytem=' "$work/typo/kafka.service" || e2e_fail "self-check: could not inject the typo"
if out=$(verify_clean "$work/typo/kafka.service"); then
    e2e_fail "self-check: verify_clean accepted a unit with 'ProtectSytem=' — the check is blind"
fi
e2e_check "self-check: a 'ProtectSytem=' typo is caught ($(echo "$out" | head -n1 | sed 's|.*/||'))"

# ---------------------------------------------------------------------------------------------------
# exposure FILE — the number on systemd-analyze security's "Overall exposure level" line.
exposure() {
    local line
    line=$(systemd-analyze security --offline=yes --no-pager "$1" 2>&1 | grep 'Overall exposure level') ||
        { echo "no 'Overall exposure level' line from systemd-analyze security $1" >&2; return 1; }
    echo "$line" | sed -E 's/.*: *([0-9]+\.[0-9]+).*/\1/'
}

e2e_step "systemd-analyze security --offline=yes (exposure <= $max_exposure)"
score=$(exposure "$work/verify/kafka.service") || e2e_fail "could not measure the exposure"
[[ "$score" =~ ^[0-9]+\.[0-9]+$ ]] || e2e_fail "unparsable exposure '$score'"
if awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s > m) }'; then
    systemd-analyze security --offline=yes --no-pager "$work/verify/kafka.service" | grep '✗' >&2 || true
    e2e_fail "exposure of kafka.service is $score > $max_exposure (unhardened directives above)"
fi
e2e_check "exposure of the shipped unit: $score (limit $max_exposure)"

# Self-check: the hardening block removed → the score must exceed the limit (the parser sees a change).
mkdir -p "$work/bare"
sed '/^# --- hardening begin/,/^# --- hardening end/d' "$work/verify/kafka.service" >"$work/bare/kafka.service"
bare=$(exposure "$work/bare/kafka.service") || e2e_fail "could not measure the bare unit"
awk -v s="$bare" -v m="$max_exposure" 'BEGIN { exit !(s > m) }' ||
    e2e_fail "self-check: the unit without its hardening block scores $bare <= $max_exposure — the check is blind"
e2e_check "self-check: without the hardening block the exposure is $bare (> $max_exposure)"

if ((static_only)); then
    echo
    echo "NOTE: --static given: the real-JVM-under-hardening check in nspawn was NOT run." >&2
    echo "PASS (static checks only): verify clean, exposure $score"
    exit 0
fi

# ---------------------------------------------------------------------------------------------------
e2e_step "a real Kafka $kafka_version broker JVM under the same hardening, under systemd in nspawn"
dist=$(e2e_kafka_dist_dir "$kafka_version")
hardening=$(sed -n '/^# --- hardening begin/,/^# --- hardening end/p' "$unit_src")
[[ -n "$hardening" ]] || e2e_fail "no '# --- hardening begin/end' block in $unit_src"
trap 'rc=$?; e2e_teardown; cleanup_work; exit $rc' EXIT
e2e_boot hard

# JRE from the rootfs' cached Debian archives (offline: the container has a private network).
e2e_in env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; e2e_fail "apt-get install openjdk-17-jre-headless in the container failed"; }
e2e_check "openjdk-17-jre-headless installed in the container"

kdir="/opt/kafka/kafka_2.13-$kafka_version"
mkdir -p "$E2E_ROOT/opt/kafka"
cp -a "$dist" "$E2E_ROOT$kdir"
install -D -m0644 "$repo/dist/usr/lib/sysusers.d/kraftd.conf" "$E2E_ROOT/usr/lib/sysusers.d/kraftd.conf"
install -D -m0644 "$repo/dist/usr/lib/tmpfiles.d/kraftd.conf" "$E2E_ROOT/usr/lib/tmpfiles.d/kraftd.conf"
e2e_in systemd-sysusers kraftd.conf
e2e_in systemd-tmpfiles --create kraftd.conf
cat >"$E2E_ROOT/etc/kafka/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$E2E_IP:9093
listeners=PLAINTEXT://$E2E_IP:9092,CONTROLLER://$E2E_IP:9093
advertised.listeners=PLAINTEXT://$E2E_IP:9092
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=/var/lib/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
cat >"$E2E_ROOT/etc/kafka/log4j2.properties" <<'EOF'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
EOF
chmod 0640 "$E2E_ROOT/etc/kafka/"*
e2e_in chgrp kafka /etc/kafka/server.properties /etc/kafka/log4j2.properties
java_bin=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
cid=$(e2e_in "$java_bin" -cp "$kdir/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
[[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || e2e_fail "StorageTool random-uuid gave '$cid'"
e2e_in runuser -u kafka -- "$java_bin" -cp "$kdir/libs/*" kafka.tools.StorageTool format \
    -c /etc/kafka/server.properties --cluster-id="$cid" >"$work/format.log" 2>&1 ||
    { cat "$work/format.log" >&2; e2e_fail "StorageTool format failed"; }
e2e_check "storage formatted as user kafka (cluster id $cid)"

# expect_hardened_jvm PID — the hardening is really applied to the JVM (not just written in the file).
expect_hardened_jvm() {
    local status
    status=$(e2e_in cat "/proc/$1/status")
    grep -qE '^NoNewPrivs:[[:space:]]+1' <<<"$status" || e2e_fail "JVM pid $1: NoNewPrivs is not set"
    grep -qE '^Seccomp:[[:space:]]+2' <<<"$status" || e2e_fail "JVM pid $1: no seccomp filter"
    grep -qE '^CapBnd:[[:space:]]+0+$' <<<"$status" || e2e_fail "JVM pid $1: capability bounding set not empty"
}

if [[ -z "$kraftd_bin" ]]; then
unit=kafka-standin.service
# The stand-in: the shipped unit's [Unit]/[Install] and hardening block, with the JVM as ExecStart
# (Type=simple: the bare JVM sends no READY=1). User/Group/RuntimeDirectory as in the shipped unit.
{
    echo "[Unit]"
    echo "Description=Kafka JVM under kafka.service's hardening (tests/unit_hardening.sh)"
    echo "[Service]"
    echo "Type=simple"
    echo "User=kafka"
    echo "Group=kafka"
    echo "RuntimeDirectory=kafka"
    echo "RuntimeDirectoryMode=0750"
    echo "SuccessExitStatus=143"
    echo "TimeoutStopSec=120"
    echo "ExecStart=$java_bin -Xmx512m -Xms512m -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile=/etc/kafka/log4j2.properties -cp '$kdir/libs/*' kafka.Kafka /etc/kafka/server.properties"
    echo "$hardening"
} >"$E2E_ROOT/etc/systemd/system/$unit"
e2e_in systemctl daemon-reload
e2e_in systemctl start $unit || e2e_fail "systemctl start kafka-standin failed"
if ! e2e_wait_tcp "$E2E_IP" 9092 120; then
    e2e_in journalctl -u kafka-standin --no-pager -n 60 >&2 || true
    e2e_fail "the broker under the hardened unit did not open $E2E_IP:9092 within 120 s (journal above)"
fi
e2e_check "broker JVM under the hardened unit accepts TCP on $E2E_IP:9092 (from the host, outside the container)"

jpid=$(e2e_in systemctl show -p MainPID --value $unit)
expect_hardened_jvm "$jpid"
e2e_check "JVM pid $jpid runs with NoNewPrivs=1, seccomp filter, empty capability bounding set"

else
# The shipped unit itself (for /usr/bin/kraftd, as the packages install it), with a node laid out like
# kraft-install does (kraftd.toml, server.properties, log4j2.properties in /etc/kafka, /opt/kafka/current).
unit=kafka.service
install -m0755 "$kraftd_bin" "$E2E_ROOT/usr/bin/kraftd"
install -m0644 "$unit_src" "$E2E_ROOT/etc/systemd/system/kafka.service"
ln -sfn "$kdir" "$E2E_ROOT/opt/kafka/current"
printf '[node]\nid = 1\ncluster_id = "%s"\nadvertise = "%s"\n\n[dist]\nkafka_version = "%s"\n\n[java]\nheap = "512M"\n' \
    "$cid" "$E2E_IP" "$kafka_version" >"$E2E_ROOT/etc/kafka/kraftd.toml"
chmod 0640 "$E2E_ROOT/etc/kafka/kraftd.toml"
e2e_in chgrp kafka /etc/kafka/kraftd.toml
e2e_in systemctl daemon-reload
# Type=notify: start returns only after kraftd's READY=1, so one probe right after must succeed.
e2e_in systemctl start kafka.service ||
    { e2e_in journalctl -u kafka --no-pager -n 60 >&2 || true; e2e_fail "systemctl start kafka (shipped unit, kraftd $kraftd_bin) failed (journal above)"; }
bash -c "exec 3<>/dev/tcp/$E2E_IP/9092" 2>/dev/null ||
    { e2e_in journalctl -u kafka --no-pager -n 60 >&2 || true; e2e_fail "systemctl start returned but $E2E_IP:9092 refuses: READY before serving"; }
e2e_check "shipped kafka.service with kraftd: 'systemctl start' returned and $E2E_IP:9092 accepts at once"
jpid=$(e2e_in pgrep -f 'kafka\.Kafka ' | head -n1 || true)
[[ -n "$jpid" ]] || e2e_fail "no kafka.Kafka JVM under kraftd"
expect_hardened_jvm "$jpid"
e2e_check "JVM pid $jpid (child of kraftd) runs with NoNewPrivs=1, seccomp filter, empty capability bounding set"
fi

# Produce and consume through the advertised address with Kafka's console tools from the host.
topic=hardening-check
msgs=$'one\ntwo\nthree'
printf '%s\n' "$msgs" | java -Xmx256m -cp "$dist/libs/*" org.apache.kafka.tools.ConsoleProducer \
    --bootstrap-server "$E2E_IP:9092" --topic "$topic" >"$work/produce.log" 2>&1 ||
    { tail -n 30 "$work/produce.log" >&2; e2e_fail "console producer to $E2E_IP:9092 failed"; }
got=$(timeout 120 java -Xmx256m -cp "$dist/libs/*" org.apache.kafka.tools.consumer.ConsoleConsumer \
    --bootstrap-server "$E2E_IP:9092" --topic "$topic" --from-beginning --max-messages 3 \
    --timeout-ms 60000 2>"$work/consume.log") ||
    { tail -n 30 "$work/consume.log" >&2; e2e_fail "console consumer from $E2E_IP:9092 failed"; }
[[ "$got" == "$msgs" ]] || e2e_fail "consumed '$got', expected '$msgs'"
e2e_check "produced and consumed 3 messages through $E2E_IP:9092 under the hardened unit"

e2e_in systemctl stop "$unit"
state=$(e2e_in systemctl is-active "$unit" || true)
[[ "$state" == inactive ]] || e2e_fail "after stop the stand-in is '$state', expected inactive"
e2e_in test -e /var/lib/kafka/data/.kafka_cleanshutdown || e2e_fail "no .kafka_cleanshutdown after stop"
e2e_check "systemctl stop: inactive (not failed), .kafka_cleanshutdown written"

echo
echo "PASS: kafka.service verify clean, exposure $score <= $max_exposure, Kafka $kafka_version served under its hardening ($unit${kraftd_bin:+ with $kraftd_bin})"
