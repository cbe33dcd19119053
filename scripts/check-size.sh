#!/usr/bin/env bash
# Habit check (run by .ci/run): no Rust source file over 600 lines of code. Counted: non-blank lines
# that are not `//` comments, up to a file's `#[cfg(test)]` module (unit tests sit at the end and are
# not counted). Prints the offenders and exits 1; `--all` prints every file's count.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=600
all=0
[[ "${1:-}" == "--all" ]] && all=1
bad=0
while IFS= read -r f; do
    n=$(awk '/^#\[cfg\(test\)\]/ { exit } /^[[:space:]]*$/ { next } /^[[:space:]]*\/\// { next } { n++ } END { print n+0 }' "$f")
    if (( all )); then printf '%5d %s\n' "$n" "$f"; fi
    if (( n > limit )); then
        echo "too long: $f has $n lines of code (limit $limit): split it by what it owns" >&2
        bad=1
    fi
done < <(git ls-files '*.rs' | sort)
exit $bad
