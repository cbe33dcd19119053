#!/bin/bash
# packaging/build-packages.sh — build the kraftd .deb and .rpm, bundling a Kafka distribution.
#
# Usage: packaging/build-packages.sh --dist <kafka_2.13-V.tgz|DIR|http(s)://…tgz>
#            [--out DIR] [--profile release|dev] [--bins DIR] [--revision N] [--no-lintian] [--fast]
#   --dist      the Kafka distribution to ship under /opt/kafka/kafka_2.13-<V>/ (same sources kraft-install
#               accepts); its version is read from libs/kafka_2.13-<V>.jar and recorded in the packages.
#   --out       where the .deb/.rpm go (default target/packages)
#   --profile   cargo profile of the shipped binaries (default release; `dev` for quick local test builds)
#   --bins      take prebuilt `kraftd` and `kraft-install` from DIR instead of building them (CI builds once)
#   --revision  package revision (default 1): a newer build of the same version for upgrade tests
#   --fast      faster, weaker xz compression of the .deb (test builds)
#   --config-note TEXT  append the comment line `# TEXT` to the shipped default /usr/share/kraftd/kraftd.toml (a package
#               whose default config differs, for conffile upgrade tests)
# Tools: cargo-deb and cargo-generate-rpm are installed (cached) into ${KRAFTD_CACHE}/cargo-bin;
# lintian/rpm/curl with apt-get when missing. Prints the built package paths on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${KRAFTD_CACHE:-$HOME/.cache/kraftd}"
CARGO_DEB_VERSION=3.8.0
CARGO_GENERATE_RPM_VERSION=0.21.1

dist="" out="$repo/target/packages" profile=release revision=1 lintian=1 bins="" fast=0 config_note=""
while (($#)); do
    case "$1" in
        --dist) dist="${2:?--dist needs a value}"; shift 2 ;;
        --out) out="${2:?--out needs a value}"; shift 2 ;;
        --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
        --revision) revision="${2:?--revision needs a value}"; shift 2 ;;
        --bins) bins="$(realpath "${2:?--bins needs a directory}")"; shift 2 ;;
        --no-lintian) lintian=0; shift ;;
        --fast) fast=1; shift ;;
        --config-note) config_note="${2:?--config-note needs a value}"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "build-packages.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
out="$(realpath -m "$out")"
[[ -n "$dist" ]] || { echo "build-packages.sh: --dist <tgz|dir|url> is required (e.g. the output of scripts/kafka-dist.sh 4.1.1)" >&2; exit 2; }
[[ "$revision" =~ ^[0-9]+$ ]] || { echo "build-packages.sh: --revision '$revision' must be a number" >&2; exit 2; }
case "$profile" in release) target_sub=release ;; dev|debug) profile=dev target_sub=debug ;;
    *) echo "build-packages.sh: --profile '$profile': use release or dev" >&2; exit 2 ;; esac

need_apt=()
for pair in lintian:lintian rpm:rpm curl:curl; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need_apt+=("${pair#*:}")
done
if ((${#need_apt[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}" >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}" >&2; }
fi

# ---- packaging tools (cached)
tools="$cache/cargo-bin"
export PATH="$tools/bin:$PATH"
if ! cargo deb --version >/dev/null 2>&1; then
    cargo install --locked --root "$tools" cargo-deb --version "$CARGO_DEB_VERSION" >&2
fi
if ! cargo generate-rpm --version >/dev/null 2>&1; then
    cargo install --locked --root "$tools" cargo-generate-rpm --version "$CARGO_GENERATE_RPM_VERSION" >&2
fi

# ---- stage the Kafka distribution
stage="$repo/target/pkg-stage"
rm -rf "$stage"
mkdir -p "$stage/unpack" "$stage/man"
src=""
case "$dist" in
    http://*|https://*)
        curl -fsSL --retry 2 -o "$stage/dist.tgz" "$dist" || { echo "build-packages.sh: download of $dist failed" >&2; exit 1; }
        dist="$stage/dist.tgz" ;;
esac
if [[ -d "$dist" ]]; then
    src="$(cd "$dist" && pwd)"
elif [[ -f "$dist" ]]; then
    tar -xzf "$dist" -C "$stage/unpack" || { echo "build-packages.sh: cannot unpack $dist (not a .tgz?)" >&2; exit 1; }
    src=$(find "$stage/unpack" -mindepth 1 -maxdepth 2 -type d -name libs -printf '%h\n' | head -n1)
else
    echo "build-packages.sh: --dist $dist: no such file or directory (run scripts/kafka-dist.sh <version> to build one)" >&2
    exit 1
fi
[[ -n "$src" && -d "$src/libs" ]] || { echo "build-packages.sh: $dist has no libs/ directory: not a Kafka distribution" >&2; exit 1; }
# Version from the broker jar itself (libs/kafka_2.13-<V>.jar), not from the tarball's name.
kjar=$(find "$src/libs" -maxdepth 1 -regextype posix-extended -regex '.*/kafka_2\.13-[0-9][0-9.]*\.jar' | head -n1)
[[ -n "$kjar" ]] || { echo "build-packages.sh: $src/libs has no kafka_2.13-<version>.jar: not a Kafka broker distribution" >&2; exit 1; }
kv=$(basename "$kjar" .jar); kv=${kv#kafka_2.13-}
kname="kafka_2.13-$kv"
# Two trees mirroring /: data-root (files 0644) and exec-root (0755), see Cargo.toml's assets.
data="$stage/data-root" exec="$stage/exec-root"
mkdir -p "$data/opt/kafka/$kname" "$exec/opt/kafka/$kname/bin" "$data/usr/lib/kraftd"
# Shipped: libs, config, licenses, LICENSE/NOTICE (read-only) and bin/*.sh (executable); not the
# Windows scripts or site docs.
for part in libs config licenses LICENSE NOTICE; do
    if [[ -e "$src/$part" ]]; then cp -R "$src/$part" "$data/opt/kafka/$kname/"; fi
done
if compgen -G "$src/bin/*.sh" >/dev/null; then cp "$src"/bin/*.sh "$exec/opt/kafka/$kname/bin/"; fi
printf 'KRAFTD_BUNDLED_KAFKA_VERSION=%s\nKRAFTD_BUNDLED_KAFKA_DIR=/opt/kafka/%s\n' "$kv" "$kname" \
    >"$data/usr/lib/kraftd/bundled-kafka.env"
rm -rf "$stage/unpack" "$stage/dist.tgz"
echo "staged Kafka $kv from $dist" >&2

# ---- build the binaries, man pages, default config, description. The files under dist/ (the unit,
# sysusers.d, tmpfiles.d, package-provision, the maintainer scripts) are packed as they are.
if [[ -z "$bins" ]]; then
    (cd "$repo" && cargo build --profile "$profile" -p kraftd -p kraft-install --bins) >&2
    bins="$repo/target/$target_sub"
fi
for bin in kraftd kraft-install; do
    [[ -x "$bins/$bin" ]] || { echo "build-packages.sh: $bins/$bin missing or not executable" >&2; exit 1; }
done
mkdir -p "$stage/bin"
cp "$bins/kraftd" "$bins/kraft-install" "$stage/bin/"
# Packages ship stripped binaries (lintian: unstripped-binary-or-object); debug info stays in target/.
strip --strip-unneeded "$stage/bin/kraftd" "$stage/bin/kraft-install"
# Staged (not packed from dist/ directly) so that --config-note can append its line.
cp "$repo/dist/usr/share/kraftd/kraftd.toml" "$stage/kraftd.toml"
if [[ -n "$config_note" ]]; then
    printf '# %s\n' "$config_note" >>"$stage/kraftd.toml"
fi
# Man pages and shell completions, generated from the CLI definitions (clap_mangen/clap_complete).
rm -rf "$stage/docs"
"$stage/bin/kraftd" generate-docs --out "$stage/docs" >&2
for page in "$stage/docs/man/"*.1; do
    gzip -9nc "$page" >"$stage/man/$(basename "$page").gz"
done
install -D -m644 "$stage/docs/completions/kraftd.bash" "$data/usr/share/bash-completion/completions/kraftd"
install -D -m644 "$stage/docs/completions/kraft-install.bash" "$data/usr/share/bash-completion/completions/kraft-install"
install -D -m644 "$stage/docs/completions/_kraftd" "$data/usr/share/zsh/vendor-completions/_kraftd"
install -D -m644 "$stage/docs/completions/_kraft-install" "$data/usr/share/zsh/vendor-completions/_kraft-install"
install -D -m644 "$stage/docs/completions/kraftd.fish" "$data/usr/share/fish/vendor_completions.d/kraftd.fish"
install -D -m644 "$stage/docs/completions/kraft-install.fish" "$data/usr/share/fish/vendor_completions.d/kraft-install.fish"
# Kafka's tools on PATH: tiny launchers into `kraftd tool` (which execs the JVM with the installed
# dist, the configured Java, the right main class and a default --bootstrap-server). Shell wrappers
# rather than symlinks because the asset globs copy a symlink's target. Each gets a man page that
# points at kraftd-tool(1).
mkdir -p "$exec/usr/bin"
for tool in kafka-topics kafka-console-producer kafka-console-consumer kafka-metadata-quorum \
        kafka-metadata-shell kafka-storage kafka-configs kafka-consumer-groups; do
    cat >"$exec/usr/bin/$tool" <<LAUNCHER
#!/bin/sh
# $tool: Apache Kafka's tool for the local node, launched by kraftd (see kraftd-tool(1)).
exec /usr/bin/kraftd tool $tool "\$@"
LAUNCHER
    printf '.so man1/kraftd-tool.1\n' | gzip -9n >"$stage/man/$tool.1.gz"
done
# One line per paragraph: cargo-deb wraps them itself.
cat >"$stage/extended-description.txt" <<DESC
kraftd makes Apache Kafka in KRaft mode a first-class systemd service: kraft-install provisions the node (configuration, cluster ID, storage format) and kraftd supervises the broker JVM, reporting readiness and watchdog state to systemd and logging to the journal with proper priorities.
.
This package bundles Apache Kafka $kv (Scala 2.13) under /opt/kafka/$kname, so installing it needs no network access.
DESC

# ---- build the packages
mkdir -p "$out"
# --no-build: the binaries were built above and staged (any profile); cargo-deb only packs.
deb_args=(--no-build --no-strip --output "$out" --deb-revision "$revision")
((fast)) && deb_args+=(--fast)   # xz at a low level; `-Z gz` is far slower (zopfli)
deb=$(cd "$repo" && cargo deb -p kraftd "${deb_args[@]}" | tail -n1)
[[ -f "$deb" ]] || { echo "build-packages.sh: cargo deb did not produce a package (got '$deb')" >&2; exit 1; }
rpm_args=(-o "$out" --payload-compress gzip
    -s "release = \"$revision\""
    -s "provides = { \"bundled(kafka)\" = \"= $kv\" }"
    # rpm has one description string (the summary): it names the bundled Kafka, as does Provides.
    -s "summary = \"Apache Kafka (KRaft) as a systemd service, bundles Apache Kafka $kv\"")
(cd "$repo" && cargo generate-rpm "${rpm_args[@]}") >&2
rpm=$(ls -t "$out"/kraftd-*"-$revision".*.rpm 2>/dev/null | head -n1 || true)
[[ -f "$rpm" ]] || { echo "build-packages.sh: cargo generate-rpm did not produce a package in $out" >&2; exit 1; }

# ---- checks: lintian without errors; rpm contents and scriptlets
if ((lintian)); then
    echo "lintian $deb:" >&2
    lint=$(lintian --fail-on none "$deb" 2>&1 || true)
    printf '%s\n' "$lint" >&2
    if grep -q '^E: ' <<<"$lint"; then
        echo "build-packages.sh: lintian reports errors on $deb (above)" >&2
        exit 1
    fi
fi
echo "$deb"
echo "$rpm"
