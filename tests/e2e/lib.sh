# tests/e2e/lib.sh — real-systemd test harness: a cached Debian 12 rootfs, booted with systemd-nspawn.
#
# Source it from a test script (bash, `set -euo pipefail`). It provides:
#   e2e_need_host_tools                 install missing host tools with apt-get (CI starts fresh)
#   e2e_rootfs_pristine                 echo the cached pristine rootfs path, building it when absent
#   e2e_boot NAME                       fresh copy of the pristine rootfs, boot it (systemd as PID 1),
#                                       private network with a veth pair; sets E2E_PID (container init),
#                                       E2E_ROOT (its rootfs on the host), E2E_IP (container address),
#                                       E2E_HOST_IP (host end of the veth)
#   e2e_start OCTET [BOOT_WAIT]         boot nspawn on the existing copy $E2E_ROOT (used by e2e_boot and
#                                       e2e_reboot); waits up to BOOT_WAIT s (default 60) for the boot
#   e2e_in CMD…                         run CMD inside the container (all namespaces of its PID 1)
#   e2e_add_address IP                  add a second global IPv4 address (/24) to the container's host0
#   e2e_persist_network                 make the container set its own address at boot (a oneshot unit
#                                       before network-online.target), as a real host's network config does
#   e2e_reboot [BOOT_WAIT]              `systemctl reboot` inside, then boot the SAME copy again (its
#                                       disk, enabled units and data survive); same subnet octet
#   e2e_teardown                        power off + kill nspawn + delete the copy; callers register it:
#                                       trap 'rc=$?; e2e_teardown; …; exit $rc' EXIT  (before e2e_boot)
#   e2e_check / e2e_fail / e2e_step     print what was checked; fail loudly
# Shared by the package scripts (package.sh, day2-*.sh, run-all.sh):
#   e2e_parse_args SCRIPT ARGS…         --profile, --bins, --packages, --only (run-all.sh passes them all on)
#   e2e_host_setup SCRIPT KAFKA_VERSION WORK_NAME   root, host tools, the Kafka fixture, a work dir
#   e2e_build_package DIR REV [ARGS…]   packaging/build-packages.sh revision REV into DIR/revREV
#   e2e_apt_install DEB LOG             `apt-get install ./kraftd_….deb` inside the container
#   e2e_kafka WHERE CLASS ARGS…         a Kafka tool class on the host (`out`) or in the container (`in`)
#   e2e_produce / e2e_expect_messages   console producer (acks=all) / consumer against a bootstrap address
#   e2e_unit_state, e2e_serves, e2e_jvm_pid, e2e_journal_count, e2e_dump_diag, e2e_wait_active_serving
#                                       the kafka.service unit and its broker, seen from the host
#
# Design notes (why):
# - The container runs with a private network (a veth pair, addresses set from the host), so the
#   installer sees exactly one global IPv4 address and a client "outside the container" (the host)
#   reaches the broker through that address. Such a container cannot reach Debian's mirror, so the
#   Java runtime's .debs are downloaded into the rootfs' apt cache when the rootfs is built; inside
#   the container `apt install ./kraftd_*.deb` then resolves the JRE from Debian's packages offline.
# - One nspawn per rootfs at a time: every boot gets its own copy (`cp -a --reflink=auto`) of the
#   pristine tree, deleted on teardown.

E2E_CACHE="${KRAFTD_CACHE:-$HOME/.cache/kraftd}"
E2E_SUITE="${E2E_SUITE:-bookworm}"
# Packages the container needs besides what the package under test pulls in: systemd as init, dbus for
# systemctl, procps for pgrep/kill, rpm for the rpm scriptlet test, iproute2 for `ip` inside.
E2E_INCLUDE="systemd,systemd-sysv,dbus,procps,rpm,iproute2,ca-certificates"
# Downloaded (not installed) into /var/cache/apt/archives: what `apt install ./kraftd_*.deb` pulls,
# Recommends included (a plain `apt install` installs them; the container cannot fetch them).
E2E_PREFETCH="openjdk-17-jre-headless"
# Bump when the rootfs recipe changes: older caches are rebuilt.
E2E_ROOTFS_STAMP=".kraftd-rootfs-ok-v2"
E2E_PID=""
E2E_NSPAWN_PID=""
E2E_ROOT=""
E2E_NAME=""
E2E_BASE=""
E2E_OCTET=""
E2E_IP=""
E2E_HOST_IP=""
E2E_LOG=""

e2e_step()  { printf '\n=== %s\n' "$*" >&2; }
e2e_check() { printf 'CHECK ok: %s\n' "$*" >&2; }
e2e_fail()  {
    printf '\nFAIL: %s\n' "$*" >&2
    if [[ "${E2E_BOOTING:-0}" == 1 && -n "$E2E_LOG" && -s "$E2E_LOG" ]]; then
        printf -- '--- last lines of the nspawn console (%s):\n' "$E2E_LOG" >&2
        tail -n 30 "$E2E_LOG" >&2 || true
    fi
    exit 1
}

# apt-get install the host tools that are missing (CI machines start fresh).
e2e_need_host_tools() {
    local missing=() tool pkg
    for pair in debootstrap:debootstrap systemd-nspawn:systemd-container nsenter:util-linux \
                systemd-analyze:systemd rpm:rpm lintian:lintian ip:iproute2 java:openjdk-17-jre-headless; do
        tool="${pair%%:*}" pkg="${pair#*:}"
        command -v "$tool" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        echo "installing host packages: ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
            e2e_fail "could not apt-get install ${missing[*]} (needed by the real-systemd tests)"
    fi
}

# The Debian mirror this host uses (first deb.debian.org-like URI for /debian in its apt sources).
e2e_debian_mirror() {
    local uri
    uri=$(grep -rhoE '(URIs:|^deb)[[:space:]]+[^ ]*https?://[^ ]+/debian/?([[:space:]]|$)' \
            /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
          grep -oE 'https?://[^ ]+/debian/?' | head -n1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

# Build the pristine rootfs when absent: debootstrap into a temp dir next to the cache, then rename,
# so an interrupted build never leaves a half rootfs that looks cached.
e2e_rootfs_pristine() {
    local dest="$E2E_CACHE/rootfs/$E2E_SUITE" tmp mirror
    if [[ -f "$dest/$E2E_ROOTFS_STAMP" ]]; then echo "$dest"; return 0; fi
    mirror=$(e2e_debian_mirror)
    mkdir -p "$E2E_CACHE/rootfs"
    tmp=$(mktemp -d "$E2E_CACHE/rootfs/.build-$E2E_SUITE.XXXXXX")
    chmod 0755 "$tmp"   # mktemp makes it 0700; the container's / must be 0755
    echo "building $E2E_SUITE rootfs with debootstrap from $mirror (cached in $dest)" >&2
    if ! debootstrap --variant=minbase --include="$E2E_INCLUDE" "$E2E_SUITE" "$tmp" "$mirror" \
            >"$tmp.log" 2>&1; then
        tail -n 20 "$tmp.log" >&2
        rm -rf --one-file-system "$tmp"
        e2e_fail "debootstrap $E2E_SUITE from $mirror failed (log above)"
    fi
    # Apt inside the container must resolve the JRE offline: the same sources + downloaded archives.
    printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$E2E_SUITE" "$mirror" "$E2E_SUITE" \
        >"$tmp/etc/apt/sources.list"
    cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
    mount --bind /proc "$tmp/proc" 2>/dev/null || true
    if ! { chroot "$tmp" apt-get update &&
           chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y --download-only \
               $E2E_PREFETCH; } >>"$tmp.log" 2>&1; then
        umount "$tmp/proc" 2>/dev/null || true
        tail -n 20 "$tmp.log" >&2
        rm -rf --one-file-system "$tmp"
        e2e_fail "could not prefetch $E2E_PREFETCH into the rootfs apt cache (log above)"
    fi
    umount "$tmp/proc" 2>/dev/null || true
    # Keep downloaded archives (apt's docker-clean style hooks would delete them).
    # The container has no route to the mirror: fail fast instead of retrying downloads.
    printf '%s\n' 'Binary::apt::APT::Keep-Downloaded-Packages "true";' 'Acquire::Retries "0";' \
        'Acquire::http::Timeout "5";' >"$tmp/etc/apt/apt.conf.d/99kraftd-e2e"
    # The container gets its address from the harness; nothing should wait for DHCP.
    echo "kraftd-e2e" >"$tmp/etc/hostname"
    : >"$tmp/etc/machine-id"
    touch "$tmp/$E2E_ROOTFS_STAMP"
    rm -f "$tmp.log"
    rm -rf --one-file-system "$dest"
    mv "$tmp" "$dest"
    echo "$dest"
}

# e2e_in CMD… — run inside the container (mount, pid, net, uts, ipc, user… namespaces of its init).
e2e_in() {
    [[ -n "$E2E_PID" ]] || e2e_fail "e2e_in called with no container booted"
    nsenter -t "$E2E_PID" -a -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 SYSTEMD_PAGER= "$@"
}

# The container's PID 1: the child of systemd-nspawn whose comm is `systemd`.
e2e_find_init() {
    local nspawn="$1" p
    for p in $(pgrep -P "$nspawn" 2>/dev/null); do
        if [[ "$(cat /proc/$p/comm 2>/dev/null)" == systemd ]]; then echo "$p"; return 0; fi
        # Some nspawn versions fork an intermediate process: look one level deeper.
        local q
        for q in $(pgrep -P "$p" 2>/dev/null); do
            [[ "$(cat /proc/$q/comm 2>/dev/null)" == systemd ]] && { echo "$q"; return 0; }
        done
    done
    return 1
}

# e2e_boot NAME [SUBNET_OCTET] — fresh copy, boot, wait for systemd, configure the veth pair.
e2e_boot() {
    local name="$1" octet="${2:-$(( (RANDOM % 200) + 20 ))}" pristine
    pristine=$(e2e_rootfs_pristine)
    E2E_BASE="$name"
    E2E_ROOT=$(mktemp -d "$E2E_CACHE/rootfs/.run-$name.XXXXXX")
    E2E_LOG="$E2E_ROOT.console.log"
    cp -a --reflink=auto "$pristine/." "$E2E_ROOT/" || e2e_fail "could not copy rootfs $pristine"
    chmod 0755 "$E2E_ROOT"
    e2e_start "$octet"
}

# e2e_start OCTET [BOOT_WAIT_SECONDS] — boot systemd-nspawn on the existing copy $E2E_ROOT (a fresh
# one from e2e_boot, or the same one again after e2e_reboot), wait for the boot, set up the veth pair.
e2e_start() {
    local boot_wait="${2:-60}"
    E2E_OCTET="$1" E2E_PID=""
    # Unique per boot (ve-<name> must fit IFNAMSIZ): a leftover of a killed run cannot collide.
    E2E_NAME="k${E2E_BASE:0:5}$((RANDOM % 100000))"
    # --network-veth creates host side ve-<name>, container side host0; addresses are set below.
    systemd-nspawn -q -D "$E2E_ROOT" -M "$E2E_NAME" -b --register=no --keep-unit \
        --network-veth --resolv-conf=off --timezone=off --link-journal=no \
        >"$E2E_LOG" 2>&1 </dev/null &
    E2E_NSPAWN_PID=$!
    e2e_booted "$boot_wait"
}

# e2e_booted BOOT_WAIT — wait for the container's systemd (PID 1) under $E2E_NSPAWN_PID, for its boot
# to finish, then set up the veth pair (part of e2e_start; after an in-place reboot too).
e2e_booted() {
    local boot_wait="$1" octet="$E2E_OCTET" i state
    E2E_BOOTING=1   # e2e_fail shows the console log only for boot failures
    for i in $(seq 1 100); do
        kill -0 "$E2E_NSPAWN_PID" 2>/dev/null ||
            e2e_fail "systemd-nspawn exited while booting $E2E_ROOT: the container could not boot systemd as PID 1 on this machine (console below)"
        E2E_PID=$(e2e_find_init "$E2E_NSPAWN_PID") && break
        sleep 0.1
    done
    [[ -n "$E2E_PID" ]] || e2e_fail "no systemd PID 1 appeared under systemd-nspawn (pid $E2E_NSPAWN_PID) in 10 s"
    # Wait for the boot to finish: running, or degraded (some unit in a container may fail; shown).
    for ((i = 0; i < boot_wait * 5; i++)); do
        state=$(e2e_in systemctl is-system-running 2>/dev/null || true)
        case "$state" in running|degraded) break ;; esac
        sleep 0.2
    done
    case "$state" in
        running) ;;
        degraded) echo "note: container boot is degraded; failed units:" >&2
                  e2e_in systemctl --failed --no-legend >&2 || true ;;
        *) e2e_fail "container systemd did not finish booting (is-system-running: '$state')" ;;
    esac
    E2E_BOOTING=0
    e2e_check "systemd booted as PID 1 in nspawn container $E2E_NAME (init pid $E2E_PID on the host, state $state)"
    # Private network: 10.213.<octet>.1 on the host end, .2 inside.
    E2E_HOST_IP="10.213.$octet.1" E2E_IP="10.213.$octet.2"
    local hostif="ve-$E2E_NAME"
    hostif="${hostif:0:15}"
    ip link show "$hostif" >/dev/null 2>&1 || e2e_fail "host veth $hostif missing (nspawn --network-veth failed)"
    ip addr replace "$E2E_HOST_IP/24" dev "$hostif"
    ip link set "$hostif" up
    # replace, not add: after e2e_reboot the container may have set its address itself (e2e_persist_network).
    nsenter -t "$E2E_PID" -n -- ip addr replace "$E2E_IP/24" dev host0
    nsenter -t "$E2E_PID" -n -- ip link set host0 up
    nsenter -t "$E2E_PID" -n -- ip link set lo up
    nsenter -t "$E2E_PID" -n -- ip route replace default via "$E2E_HOST_IP" dev host0
    for i in $(seq 1 50); do
        ping -c1 -W1 "$E2E_IP" >/dev/null 2>&1 && break
        nsenter -t "$E2E_PID" -n -- bash -c "exec 3<>/dev/tcp/$E2E_HOST_IP/9" 2>/dev/null && break
        sleep 0.1
    done
    e2e_check "container network: $E2E_IP inside (host0), $E2E_HOST_IP on the host ($hostif)"
}

# Power off and clean up; safe to call twice.
e2e_teardown() {
    if [[ -n "$E2E_NSPAWN_PID" ]] && kill -0 "$E2E_NSPAWN_PID" 2>/dev/null; then
        [[ -n "$E2E_PID" ]] && e2e_in systemctl poweroff --no-block >/dev/null 2>&1 || true
        for _ in $(seq 1 300); do kill -0 "$E2E_NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -TERM "$E2E_NSPAWN_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$E2E_NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$E2E_NSPAWN_PID" 2>/dev/null || true
        wait "$E2E_NSPAWN_PID" 2>/dev/null || true
    fi
    # A killed nspawn can leave the container's init (and its netns/veth) behind: end it too.
    if [[ -n "$E2E_PID" ]] && kill -0 "$E2E_PID" 2>/dev/null; then
        kill -KILL "$E2E_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$E2E_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    if [[ -n "$E2E_ROOT" && -d "$E2E_ROOT" ]]; then
        if [[ "${E2E_KEEP:-0}" == 1 ]]; then
            echo "E2E_KEEP=1: left $E2E_ROOT" >&2
        else
            rm -rf --one-file-system "$E2E_ROOT" "$E2E_LOG"
            # nspawn's lock file next to the tree (".#<dir>.lck").
            rm -f "$(dirname "$E2E_ROOT")/.#$(basename "$E2E_ROOT").lck"
        fi
    fi
    E2E_NSPAWN_PID="" E2E_PID="" E2E_ROOT=""
    return 0
}

# e2e_wait_tcp HOST PORT SECONDS [ns-pid] — wait until a TCP connect succeeds (from the host or inside).
e2e_wait_tcp() {
    local host="$1" port="$2" secs="$3" i
    for ((i = 0; i < secs * 5; i++)); do
        if bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    return 1
}

# The Kafka fixture (scripts/kafka-dist.sh): fail (never skip) when it is missing.
e2e_kafka_dist_dir() {
    local v="$1" d="$E2E_CACHE/dist/kafka_2.13-$1"
    [[ -d "$d/libs" ]] ||
        e2e_fail "Kafka fixture $d missing: run scripts/kafka-dist.sh $v (writes $E2E_CACHE/dist/kafka_2.13-$v.tgz and the unpacked dir)"
    echo "$d"
}

# e2e_add_address IP — a second (third…) global IPv4 address on the container's host0, in its /24, so
# the host reaches it through the same veth.
e2e_add_address() {
    [[ -n "$E2E_PID" ]] || e2e_fail "e2e_add_address called with no container booted"
    nsenter -t "$E2E_PID" -n -- ip addr add "$1/24" dev host0 || e2e_fail "could not add $1/24 to host0 in the container"
}

# e2e_persist_network — the harness sets the container's address from the host after the boot; a real
# host has it configured before network-online.target (ifupdown, networkd). Install a oneshot unit that
# does that inside, so units ordered After=network-online.target see their address after e2e_reboot.
e2e_persist_network() {
    [[ -n "$E2E_ROOT" && -n "$E2E_IP" ]] || e2e_fail "e2e_persist_network called with no container booted"
    cat >"$E2E_ROOT/etc/systemd/system/e2e-network.service" <<UNIT
# e2e harness (tests/e2e/lib.sh e2e_persist_network): this container's static address at boot.
[Unit]
Description=e2e harness static address $E2E_IP on host0
DefaultDependencies=no
Before=network-online.target network.target shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/ip link set lo up
ExecStart=/usr/sbin/ip link set host0 up
ExecStart=/usr/sbin/ip addr replace $E2E_IP/24 dev host0
ExecStart=-/usr/sbin/ip route replace default via $E2E_HOST_IP dev host0 onlink

[Install]
WantedBy=network-online.target
UNIT
    e2e_in systemctl enable e2e-network.service >/dev/null 2>&1 || e2e_fail "could not enable e2e-network.service in the container"
}

# e2e_reboot [BOOT_WAIT] — reboot the container and boot the same rootfs copy again. nspawn exits on a
# container reboot (status 133, systemd-nspawn@.service restarts it); here the harness restarts it.
e2e_reboot() {
    local boot_wait="${1:-60}" rc=0 i
    [[ -n "$E2E_NSPAWN_PID" && -n "$E2E_PID" ]] || e2e_fail "e2e_reboot called with no container booted"
    local old_init="$E2E_PID" new_init=""
    e2e_in systemctl reboot --no-block >/dev/null 2>&1 || e2e_fail "systemctl reboot failed in the container"
    # Either nspawn exits (133: "restart me"), or it boots the container again itself (a new PID 1).
    for ((i = 0; i < 1200; i++)); do
        kill -0 "$E2E_NSPAWN_PID" 2>/dev/null || break
        if ! kill -0 "$old_init" 2>/dev/null; then
            new_init=$(e2e_find_init "$E2E_NSPAWN_PID") && break
        fi
        sleep 0.2
    done
    if [[ -n "$new_init" ]]; then
        e2e_check "container $E2E_NAME rebooted in place (systemd-nspawn stayed, PID 1 $old_init → $new_init)"
        E2E_PID=""
        e2e_booted "$boot_wait"
        return 0
    fi
    kill -0 "$E2E_NSPAWN_PID" 2>/dev/null && e2e_fail "the container did not shut down within 240 s of 'systemctl reboot'"
    wait "$E2E_NSPAWN_PID" 2>/dev/null || rc=$?
    for ((i = 0; i < 50; i++)); do kill -0 "$old_init" 2>/dev/null || break; sleep 0.1; done
    e2e_check "container $E2E_NAME shut down for the reboot (systemd-nspawn exit status $rc); booting the same rootfs again"
    E2E_NSPAWN_PID="" E2E_PID=""
    e2e_start "$E2E_OCTET" "$boot_wait"
}

# ---- shared by the package scripts ----------------------------------------------------------------

# e2e_parse_args SCRIPT ARGS… — the options of every package script (run-all.sh passes its own on):
#   --profile P      cargo profile of the packaged binaries (E2E_PROFILE, default release)
#   --bins DIR       package prebuilt kraftd + kraft-install from DIR (E2E_BINS_ARGS: (--bins DIR) or ())
#   --packages DIR   reuse prebuilt packages DIR/rev<N>/ (E2E_PACKAGES, default: build them)
#   --only deb|rpm   package.sh's choice of flow (E2E_ONLY); the day-two scripts have one flow and ignore it
e2e_parse_args() {
    local script="$1"; shift
    E2E_PROFILE=release E2E_PACKAGES="" E2E_ONLY="" E2E_BINS_ARGS=()
    while (($#)); do
        case "$1" in
            --profile) E2E_PROFILE="${2:?--profile needs a value}"; shift 2 ;;
            --packages) E2E_PACKAGES="${2:?--packages needs a directory}"; shift 2 ;;
            --bins) E2E_BINS_ARGS=(--bins "${2:?--bins needs a directory}"); shift 2 ;;
            --only) E2E_ONLY="${2:-}"
                    [[ "$E2E_ONLY" == deb || "$E2E_ONLY" == rpm ]] || { echo "$script: --only deb|rpm" >&2; exit 2; }
                    shift 2 ;;
            *) echo "$script: unknown argument '$1'" >&2; exit 2 ;;
        esac
    done
}

# e2e_host_setup SCRIPT KAFKA_VERSION WORK_NAME — what every package script needs on the host: root,
# the host tools, the Kafka fixture (never skipped when missing), a work dir. Sets E2E_HOST_DIST (the
# unpacked fixture: the host's Kafka clients), E2E_HOST_TGZ (the tarball the packages bundle),
# E2E_KDIR_IN (the bundled dist inside the container), E2E_PRODUCER_CLS / E2E_CONSUMER_CLS /
# E2E_APIVERSIONS_CLS (the console tools' classes for that version) and E2E_WORK
# (/tmp/kraftd-e2e-WORK_NAME.XXXXXX; the caller's EXIT trap removes it).
e2e_host_setup() {
    local script="$1" kv="$2" name="$3"
    [[ $EUID -eq 0 ]] || e2e_fail "$script needs root (debootstrap, systemd-nspawn, nsenter)"
    e2e_need_host_tools
    E2E_HOST_DIST=$(e2e_kafka_dist_dir "$kv")
    E2E_HOST_TGZ="$E2E_CACHE/dist/kafka_2.13-$kv.tgz"
    [[ -f "$E2E_HOST_TGZ" ]] || e2e_fail "Kafka fixture $E2E_HOST_TGZ missing: run scripts/kafka-dist.sh $kv"
    E2E_KDIR_IN="/opt/kafka/kafka_2.13-$kv"
    case "$kv" in
        3.*) E2E_PRODUCER_CLS=kafka.tools.ConsoleProducer E2E_CONSUMER_CLS=kafka.tools.ConsoleConsumer
             E2E_APIVERSIONS_CLS=kafka.admin.BrokerApiVersionsCommand ;;
        *)   E2E_PRODUCER_CLS=org.apache.kafka.tools.ConsoleProducer
             E2E_CONSUMER_CLS=org.apache.kafka.tools.consumer.ConsoleConsumer
             E2E_APIVERSIONS_CLS=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
    esac
    E2E_WORK=$(mktemp -d "/tmp/kraftd-e2e-$name.XXXXXX")
}

# e2e_build_package DIR REV [ARGS…] — build the .deb and .rpm of revision REV from the fixture
# (E2E_PROFILE, E2E_BINS_ARGS) into DIR/revREV; ARGS go to build-packages.sh (e.g. --no-lintian --fast).
e2e_build_package() {
    local dir="$1" rev="$2" repo log; shift 2
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    log="$E2E_WORK/build$rev.out"
    "$repo/packaging/build-packages.sh" --dist "$E2E_HOST_TGZ" --profile "$E2E_PROFILE" "${E2E_BINS_ARGS[@]}" \
        --revision "$rev" --out "$dir/rev$rev" "$@" >"$log" ||
        { tail -n 30 "$log" >&2; e2e_fail "packaging/build-packages.sh (revision $rev) failed"; }
}

# e2e_apt_install DEB LOG — the plain operator command inside the container (the JRE comes from the
# rootfs' cached Debian archives).
e2e_apt_install() {
    local deb="$1" log="$2"
    cp "$deb" "$E2E_ROOT/root/"
    e2e_in bash -c "cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y ./$(basename "$deb")" >"$log" 2>&1 ||
        { tail -n 40 "$log" >&2; e2e_fail "apt-get install ./$(basename "$deb") failed in the container"; }
}

# e2e_kafka WHERE CLASS ARGS… — run a Kafka tool class: WHERE `out` on the host with the fixture's jars,
# `in` inside the container with the bundled dist and the container's java. Both reach the broker
# through its advertised address.
e2e_kafka() {
    local where="$1"; shift
    if [[ "$where" == in ]]; then
        e2e_in java -Xmx256m -cp "$E2E_KDIR_IN/libs/*" "$@"
    else
        java -Xmx256m -cp "$E2E_HOST_DIST/libs/*" "$@"
    fi
}

# e2e_produce WHERE BOOTSTRAP TOPIC MSG… — one message per MSG, acks=all (the console producer's default
# in 4.x; explicit for 3.7): a success means every message is acked.
e2e_produce() {
    local where="$1" bs="$2" topic="$3"; shift 3
    printf '%s\n' "$@" | e2e_kafka "$where" "$E2E_PRODUCER_CLS" --bootstrap-server "$bs" --topic "$topic" \
        --producer-property acks=all >"$E2E_WORK/produce.log" 2>&1 ||
        { tail -n 30 "$E2E_WORK/produce.log" >&2; e2e_fail "console producer ($where) to $bs topic $topic failed"; }
}

# e2e_expect_messages WHERE BOOTSTRAP TOPIC MSG… — consume from the beginning exactly these messages
# (order-insensitive).
e2e_expect_messages() {
    local where="$1" bs="$2" topic="$3" want got; shift 3
    want=$(printf '%s\n' "$@" | sort)
    got=$(e2e_kafka "$where" "$E2E_CONSUMER_CLS" --bootstrap-server "$bs" --topic "$topic" --from-beginning \
            --max-messages "$#" --timeout-ms 60000 2>"$E2E_WORK/consume.log" | sort) ||
        { tail -n 30 "$E2E_WORK/consume.log" >&2; e2e_fail "console consumer ($where) from $bs topic $topic failed"; }
    [[ "$got" == "$want" ]] ||
        { tail -n 20 "$E2E_WORK/consume.log" >&2; e2e_fail "consumed from $topic at $bs ($where): got [$(echo $got)], want [$(echo $want)]"; }
}

# The kafka.service unit in the container and its broker.
e2e_unit_state() { e2e_in systemctl is-active kafka.service 2>/dev/null || true; }
e2e_serves() { bash -c "exec 3<>/dev/tcp/${1:-$E2E_IP}/9092" 2>/dev/null; }   # e2e_serves [ADDR]: port 9092 accepts
e2e_jvm_pid() { e2e_in pgrep -f 'kafka\.Kafka ' 2>/dev/null | head -n1 || true; }
e2e_journal_count() { e2e_in journalctl -u kafka.service --no-pager -o cat 2>/dev/null | grep -c "$1" || true; }
e2e_dump_diag() {   # e2e_dump_diag [LINES] — systemctl status and the unit's last journal lines (default 60)
    e2e_in systemctl status kafka.service --no-pager -l >&2 || true
    e2e_in journalctl -u kafka.service --no-pager -n "${1:-60}" >&2 || true
}
# e2e_wait_active_serving ADDR SECONDS WHY — poll until the unit is active and ADDR:9092 accepts (an
# automatic restart is not ours to block on); else the diagnostics and fail with WHY.
e2e_wait_active_serving() {
    local addr="$1" secs="$2" why="$3" i
    for ((i = 0; i < secs * 2; i++)); do
        [[ "$(e2e_unit_state)" == active ]] && e2e_serves "$addr" && return 0
        sleep 0.5
    done
    e2e_dump_diag; e2e_fail "$why"
}
