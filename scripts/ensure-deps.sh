#!/usr/bin/env bash
# Install the Debian packages builds and tests need, when missing (CI machines start fresh).
set -euo pipefail
need=()
for pair in debootstrap:debootstrap systemd-nspawn:systemd-container lintian:lintian rpm:rpm \
            ip:iproute2 unshare:util-linux mvn:maven java:openjdk-17-jre-headless python3:python3 \
            systemd-analyze:systemd; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
# tests/ops/ validates `kraftd status --json` against docs/status.schema.json with Python's jsonschema.
python3 -c 'import jsonschema' >/dev/null 2>&1 || need+=(python3-jsonschema)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
