#!/bin/bash
# packaging/render-unit.sh — render systemd/kafka.service's placeholders (the installer does the same at
# install time). Usage: render-unit.sh KRAFTD_BIN CONFIG_PATH OUT [IN]
set -euo pipefail
kraftd="${1:?usage: render-unit.sh KRAFTD_BIN CONFIG_PATH OUT [IN]}"
config="${2:?config path}"
out="${3:?output file}"
in="${4:-$(dirname "$0")/../systemd/kafka.service}"
sed -e "s|@KRAFTD@|$kraftd|g" -e "s|@CONFIG@|$config|g" "$in" >"$out.tmp"
if grep -n '@[A-Z_]*@' "$out.tmp" >&2; then
    rm -f "$out.tmp"
    echo "render-unit.sh: unrendered placeholder left in $in (lines above)" >&2
    exit 1
fi
chmod 0644 "$out.tmp"
mv "$out.tmp" "$out"
