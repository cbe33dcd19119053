#!/usr/bin/env bash
# Quick start: build kraftd, get Kafka (assembled from Maven Central here, since Apache mirrors are not
# reachable), install a single KRaft node into ./build/node, start it under `kraftd run`, and prove
# produce/consume through its advertised address. The node keeps running; the script prints how to stop it.
#
#   scripts/quickstart.sh [KAFKA_VERSION]     (default 4.1.1; 3.7.1 also supported)
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-4.1.1}"
root="$PWD/build"
prefix="$root/node"

step() { printf '\n==> %s\n' "$*"; }

step "installing build dependencies (apt, once)"
scripts/ensure-deps.sh

step "building kraftd and kraft-install"
cargo build --release --workspace --quiet
bin="$PWD/target/release"

step "assembling Kafka $version from Maven Central"
tgz="$(scripts/kafka-dist.sh "$version")"
echo "$tgz"

if [ -f "$prefix/run/kafka/kraftd.pid" ] && kill -0 "$(cat "$prefix/run/kafka/kraftd.pid")" 2>/dev/null; then
  step "stopping the node left running by an earlier quick start"
  "$bin/kraftd" stop --config "$prefix/etc/kafka/kraftd.toml"
fi

step "installing a node into $prefix (advertised on 127.0.0.1)"
mkdir -p "$prefix/etc/kafka"
if [ ! -f "$prefix/etc/kafka/kraftd.toml" ]; then
  # Small heap for a laptop-sized demo; everything else is kraft-install's default.
  printf '[java]\nheap = "512M"\n' > "$prefix/etc/kafka/kraftd.toml"
fi
"$bin/kraft-install" --prefix "$prefix" --dist "$tgz" --sha512 "$(sha512sum "$tgz" | cut -d' ' -f1)" \
  --advertise 127.0.0.1 --no-systemd

step "starting the broker under kraftd run (waiting for READY=1 on a notify socket)"
sock="$root/notify.sock"
rm -f "$sock"
python3 - "$sock" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(300)
while True:
    msg = s.recv(4096).decode()
    for line in msg.splitlines():
        if line.startswith("STATUS="):
            print("   status:", line[7:], flush=True)
    if "READY=1" in msg.splitlines():
        print("   READY=1", flush=True)
        break
PY
waiter=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$sock" setsid "$bin/kraftd" run --config "$prefix/etc/kafka/kraftd.toml" \
  >"$root/kraftd.log" 2>&1 </dev/null &
if ! wait "$waiter"; then
  echo "the broker did not become ready; its log:" >&2
  tail -50 "$root/kraftd.log" >&2
  exit 1
fi

port="$(sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$prefix/var/lib/kraftd/server.properties")"
bootstrap="127.0.0.1:$port"
dist="$prefix/opt/kafka/current"
if [[ "$version" == 3.* ]]; then
  producer=kafka.tools.ConsoleProducer; consumer=kafka.tools.ConsoleConsumer
else
  producer=org.apache.kafka.tools.ConsoleProducer; consumer=org.apache.kafka.tools.consumer.ConsoleConsumer
fi
topic="quickstart-$(date +%s)"

step "producing 3 records to $topic on $bootstrap"
printf 'hello\nfrom\nkraftd\n' | java -Xmx256m -cp "$dist/libs/*" "$producer" \
  --bootstrap-server "$bootstrap" --topic "$topic" --producer-property acks=all 2>/dev/null

step "consuming them back from the beginning"
got="$(java -Xmx256m -cp "$dist/libs/*" "$consumer" --bootstrap-server "$bootstrap" --topic "$topic" \
  --from-beginning --max-messages 3 --timeout-ms 60000 2>/dev/null)"
printf '%s\n' "$got" | sed 's/^/   /'
if [ "$got" != $'hello\nfrom\nkraftd' ]; then
  echo "FAILED: consumed records differ from what was produced" >&2
  exit 1
fi

step "kraftd status (native Kafka protocol, no JVM)"
"$bin/kraftd" status --config "$prefix/etc/kafka/kraftd.toml"

step "kraftd smoke-test (create topic, produce 100 acks=all, consume, verify, delete)"
"$bin/kraftd" smoke-test --config "$prefix/etc/kafka/kraftd.toml"

cat <<EOM

OK: Kafka $version serves on $bootstrap under kraftd (log: $root/kraftd.log).
Stop it with:  $bin/kraftd stop --config $prefix/etc/kafka/kraftd.toml
EOM
