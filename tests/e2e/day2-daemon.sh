#!/bin/bash
# tests/e2e/day2-daemon.sh — day-two behaviour of the packaged kafka.service under a real systemd
# (issue 9, points 1, 6, 10): a config error or an advertised address that left the host fails the unit
# ONCE (no restart loop) with the value and the fix in `systemctl status` and `journalctl -p err`, and
# the fix (restore the file / `kraft-install --reconfigure --advertise IP`) makes `systemctl restart`
# serve; a real Kafka WARN with a stack trace is ONE entry under `journalctl -p warning`; SIGHUP to the
# whole unit is ignored (logged) and the broker keeps serving; a second `kraftd run` names the running one.
#
# Usage: tests/e2e/day2-daemon.sh [--profile release|dev] [--bins DIR] [--packages DIR]
#   --packages  reuse prebuilt packages: DIR/rev1/*.deb (as tests/e2e/package.sh); built when absent
# Env: KRAFTD_CACHE (fixture, rootfs, tools), E2E_KEEP=1 keeps the rootfs copy. Needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib.sh"

e2e_parse_args day2-daemon.sh "$@"
e2e_host_setup day2-daemon.sh 4.1.1 day2-daemon
octet=41
gone_ip="10.213.$octet.99"   # on the container's subnet, never assigned to it
work="$E2E_WORK"
trap 'rc=$?; e2e_teardown; rm -rf "$work"; exit $rc' EXIT

e2e_step "0. the .deb (revision 1)"
packages="${E2E_PACKAGES:-$work/packages}"
[[ -n "$E2E_PACKAGES" ]] || e2e_build_package "$packages" 1 --no-lintian --fast
deb=$(ls "$packages"/rev1/kraftd_*-1_*.deb 2>/dev/null | head -n1 || true)
[[ -f "$deb" ]] || e2e_fail "no $packages/rev1/kraftd_*-1_*.deb"
e2e_check "package: $(basename "$deb")"

main_pid() { e2e_in systemctl show -p MainPID --value kafka.service; }
# restart_serving — `systemctl restart` blocks until READY (the port is open by then).
restart_serving() {
    e2e_in systemctl restart kafka.service || { e2e_dump_diag; e2e_fail "systemctl restart kafka failed: $1"; }
    [[ "$(e2e_unit_state)" == active ]] && e2e_serves || { e2e_dump_diag; e2e_fail "not active+serving: $1"; }
}
# A unique marker journal line before each scenario, so checks read only what came after it.
cursor() { e2e_in journalctl -n 1 --show-cursor --no-pager -o cat 2>/dev/null | sed -n 's/^-- cursor: //p'; }

# expect_failed_once WHAT NEEDLE… — `systemctl restart` fails; 20 s later the unit is still failed with
# no automatic restart, and both STATUS and the err-priority journal line contain every NEEDLE.
expect_failed_once() {
    local what="$1"; shift
    local since needle status errs
    since=$(cursor)
    if e2e_in systemctl restart kafka.service 2>"$work/restart.err"; then
        e2e_dump_diag; e2e_fail "$what: systemctl restart kafka succeeded"
    fi
    e2e_check "$what: systemctl restart kafka failed: $(head -n1 "$work/restart.err")"
    # RestartSec=5: four restarts would have happened by now if the exit status allowed them.
    sleep 20
    [[ "$(e2e_unit_state)" == failed ]] || { e2e_dump_diag; e2e_fail "$what: after 20 s the unit is '$(e2e_unit_state)', not failed"; }
    [[ "$(e2e_in systemctl show -p NRestarts --value kafka.service)" == 0 ]] ||
        { e2e_dump_diag; e2e_fail "$what: NRestarts is $(e2e_in systemctl show -p NRestarts --value kafka.service), not 0"; }
    [[ "$(e2e_in systemctl show -p ExecMainStatus --value kafka.service)" == 78 ]] ||
        e2e_fail "$what: main process exit status $(e2e_in systemctl show -p ExecMainStatus --value kafka.service), expected 78"
    e2e_check "$what: 20 s later still 'failed', NRestarts=0, exit status 78"
    status=$(e2e_in systemctl status kafka.service --no-pager -l 2>&1 || true)
    # Whole journal of the unit at err (each scenario's value is unique to it); the count of this
    # start's err lines is taken from the entries after the cursor below.
    errs=$(e2e_in journalctl -u kafka.service -p err --no-pager -o cat 2>&1 || true)
    for needle in "$@"; do
        grep -qF -- "$needle" <<<"$(grep '^ *Status: ' <<<"$status")" ||
            { echo "$status" >&2; e2e_fail "$what: systemctl status has no Status line containing '$needle'"; }
        grep -qF -- "$needle" <<<"$errs" ||
            { echo "$errs" >&2
              e2e_in journalctl -u kafka.service --after-cursor="$since" -o verbose --no-pager 2>&1 |
                  grep -E '^ *(PRIORITY|MESSAGE|SYSLOG_IDENTIFIER|_TRANSPORT)=' | tail -n 40 >&2 || true
              e2e_fail "$what: journalctl -u kafka -p err lacks '$needle'"; }
    done
    grep '^ *Status: ' <<<"$status" | sed 's/^/    | /' >&2
    e2e_check "$what: the Status line and journalctl -p err name: $*"
    # One line per refused start at err priority (kraftd's own message, not a multi-line dump).
    local n
    n=$(e2e_in journalctl -u kafka.service --after-cursor="$since" -o verbose --no-pager 2>/dev/null |
        awk -v needle="$1" 'function done() { if (pr && msg) c++; pr = 0; msg = 0 }
            /^[^ ]/ { done() } /^ +PRIORITY=3$/ { pr = 1 } /^ +MESSAGE=/ && index($0, needle) { msg = 1 }
            END { done(); print c + 0 }')
    [[ "$n" -eq 1 ]] || { echo "$errs" >&2; e2e_fail "$what: expected exactly one err line with '$1' for this start, found $n"; }
}

e2e_step "1. install the .deb in a fresh container (k9dmn…, 10.213.$octet.0/24)"
e2e_boot 9dmn1 "$octet"
cp "$deb" "$E2E_ROOT/root/"
e2e_in bash -c "cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y ./$(basename "$deb")" >"$work/apt.log" 2>&1 ||
    { tail -n 40 "$work/apt.log" >&2; e2e_fail "apt install ./$(basename "$deb") failed"; }
e2e_in grep -q '^ExecStartPre=' /usr/lib/systemd/system/kafka.service &&
    e2e_fail "the packaged unit still has an ExecStartPre="
restart_serving "after install"
e2e_check "installed; kafka.service active and serving on $E2E_IP:9092; the unit has no ExecStartPre="

cfg=/etc/kafka/kraftd.toml
e2e_in cp -a "$cfg" /root/kraftd.toml.good

e2e_step "2. an unknown key in kraftd.toml: one failed start, value and fix in status and journal"
e2e_in sed -i '0,/^\[node\]$/s//[node]\nbogus_key = 1/' "$cfg"
e2e_in grep -q '^bogus_key = 1$' "$cfg" || e2e_fail "could not add bogus_key to $cfg"
expect_failed_once "unknown key" "bogus_key" "$cfg" "remove or rename the key"
e2e_in cp -a /root/kraftd.toml.good "$cfg"
restart_serving "after restoring $cfg"
e2e_check "restored $cfg: systemctl restart serves again"

e2e_step "3. a bad value: broker_port = \"x\""
set_node_key() {   # set_node_key KEY VALUE — replace KEY's line, or add it right under [node]
    if e2e_in grep -q "^$1 *=" "$cfg"; then
        e2e_in sed -i "s|^$1 *=.*|$1 = $2|" "$cfg"
    else
        e2e_in sed -i "0,/^\[node\]\$/s//[node]\n$1 = $2/" "$cfg"
    fi
    [[ "$(e2e_in grep -c "^$1 = " "$cfg")" == 1 ]] || e2e_fail "could not set $1 = $2 in $cfg"
}
set_node_key broker_port '"x"'
expect_failed_once "bad value" 'string "x"' "$cfg"
e2e_in cp -a /root/kraftd.toml.good "$cfg"
restart_serving "after restoring $cfg"

e2e_step "4. the address kraft-install detected and recorded is no longer on the host ($gone_ip)"
# The package install detected the address and recorded it in node.toml (kraftd.toml is silent): a
# DHCP change moves the host off it. Modelled by recording an address the container does not have.
state=/var/lib/kraftd/node.toml
e2e_in grep -q '^advertise = ' "$state" || e2e_fail "$state records no advertise (expected the detected address)"
e2e_in grep -q '^advertise *=' "$cfg" && e2e_fail "$cfg sets advertise; this step needs it unset"
e2e_in sed -i "s|^advertise = .*|advertise = \"$gone_ip\"|" "$state"
expect_failed_once "advertise $gone_ip" "$gone_ip is not an address of this host" "kraft-install --reconfigure --advertise IP"
# The command the message names repairs the node.
e2e_in kraft-install --reconfigure --advertise "$E2E_IP" >"$work/reconfigure.out" 2>&1 ||
    { cat "$work/reconfigure.out" >&2; e2e_fail "kraft-install --reconfigure --advertise $E2E_IP failed"; }
e2e_in grep -q "^advertise = \"$E2E_IP\"" "$state" || e2e_fail "$state does not record $E2E_IP after --reconfigure"
restart_serving "after kraft-install --reconfigure --advertise $E2E_IP"
e2e_check "kraft-install --reconfigure --advertise $E2E_IP, then systemctl restart: serving again"

e2e_step "5. a real Kafka WARN with a stack trace is one journal entry under -p warning"
since=$(cursor)
# Not Kafka's protocol: the broker logs WARN "Unexpected error from /<ip> …; closing connection" with an
# InvalidReceiveException stack trace (org.apache.kafka.common.network.Selector).
bash -c "exec 3<>/dev/tcp/$E2E_IP/9092; printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >&3; sleep 1" || true
# journalctl -o json prints a MESSAGE holding control characters (the trace's tabs) as an array of
# bytes, and --grep does not see into it: decode every entry of the unit on the host instead.
warn_entries() {   # prints: <entries ≤ warning with the exception> <entries starting with a frame> <text of the first>
    e2e_in journalctl -u kafka.service --after-cursor="$since" -o json --no-pager 2>/dev/null | python3 -c '
import json, sys
hits, split, first = 0, 0, ""
for line in sys.stdin:
    e = json.loads(line)
    m = e.get("MESSAGE", "")
    m = bytes(m).decode("utf-8", "replace") if isinstance(m, list) else (m or "")
    if m.startswith("\tat "):
        split += 1
    if "InvalidReceiveException" in m and int(e.get("PRIORITY", "6")) <= 4:
        hits += 1
        first = first or m
print(hits, split)
sys.stdout.write(first)'
}
n=0
for _ in $(seq 1 60); do
    warn_entries >"$work/warn.out"
    read -r n split <"$work/warn.out"
    [[ "$n" -ge 1 ]] && break
    sleep 1
done
tail -n +2 "$work/warn.out" >"$work/warn.txt"
sed 's/^/    | /' "$work/warn.txt" | head -n 8 >&2
if [[ "$n" -ne 1 ]]; then
    echo "--- the unit's entries after the request, verbose:" >&2
    e2e_in journalctl -u kafka.service --after-cursor="$since" -o verbose --all --no-pager 2>&1 | tail -n 60 >&2 || true
    e2e_fail "expected exactly one entry at warning or worse holding InvalidReceiveException, found $n"
fi
grep -q 'Unexpected error from' "$work/warn.txt" || e2e_fail "the entry lacks the record's head line (Unexpected error from …)"
grep -qP '^\tat org\.apache\.kafka\.common\.network\.' "$work/warn.txt" || e2e_fail "the entry lacks the stack frames (\\tat …)"
[[ "$split" -eq 0 ]] || e2e_fail "$split journal entries of kafka.service start with a stack frame: a trace was split"
# What an operator types: the entry is under `journalctl -u kafka -p warning`.
decode='import json, sys
for line in sys.stdin:
    e = json.loads(line)
    m = e.get("MESSAGE", "")
    m = bytes(m).decode("utf-8", "replace") if isinstance(m, list) else (m or "")
    print(e.get("PRIORITY"), m.replace("\n", "\\n"))'
e2e_in journalctl -u kafka.service -p warning -n 50 -o json --no-pager 2>&1 | python3 -c "$decode" >"$work/warn-p.txt" 2>&1 || true
if ! grep -q 'InvalidReceiveException' "$work/warn-p.txt"; then
    sed 's/^/    | /' "$work/warn-p.txt" | tail -n 10 | cut -c1-220 >&2
    for v in "-u kafka.service -p warning --after-cursor=$since" "-p warning --after-cursor=$since" "-u kafka.service -p 4 -n 20"; do
        echo "--- journalctl $v: $(e2e_in journalctl $v -o json --no-pager 2>&1 | wc -l) entries" >&2
    done
    e2e_fail "journalctl -u kafka -p warning does not show the exception"
fi
e2e_check "one entry at warning holds the WARN line, the exception and its '\\tat' frames; none split off; shown by journalctl -p warning"

e2e_step "6. SIGHUP to the whole unit is ignored; a second kraftd run names the running one"
pid_before=$(main_pid)
jvm_before=$(e2e_in pgrep -f 'kafka\.Kafka ' | head -n1)
since=$(cursor)
e2e_in systemctl kill -s HUP kafka.service
for _ in $(seq 1 30); do
    e2e_in journalctl -u kafka.service --after-cursor="$since" -o cat --no-pager 2>/dev/null |
        grep -qF 'SIGHUP ignored: to apply kraftd.toml changes run systemctl restart kafka' && break
    sleep 1
done
e2e_in journalctl -u kafka.service --after-cursor="$since" -o cat --no-pager 2>/dev/null |
    grep -qF 'SIGHUP ignored: to apply kraftd.toml changes run systemctl restart kafka' ||
    { e2e_dump_diag; e2e_fail "no 'SIGHUP ignored' line in the journal"; }
# The JVM was started with HUP ignored (SigIgn bit 0): the HUP cannot have stopped it.
sigign=$(e2e_in sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$jvm_before/status")
(( (16#$sigign & 1) == 1 )) || e2e_fail "the JVM (pid $jvm_before) does not ignore SIGHUP (SigIgn $sigign)"
[[ "$(e2e_unit_state)" == active && "$(main_pid)" == "$pid_before" ]] || { e2e_dump_diag; e2e_fail "after SIGHUP the unit is not active with the same main pid"; }
[[ "$(e2e_in pgrep -f 'kafka\.Kafka ' | head -n1)" == "$jvm_before" ]] || e2e_fail "the JVM changed after SIGHUP"
e2e_serves || e2e_fail "the broker does not serve after SIGHUP"
e2e_in kraftd status >/dev/null 2>&1 || e2e_fail "kraftd status not healthy after SIGHUP"
e2e_check "systemctl kill -s HUP kafka: logged as ignored; same kraftd (pid $pid_before) and JVM (pid $jvm_before); healthy"
rc=0
e2e_in kraftd run --config "$cfg" >"$work/second.out" 2>&1 || rc=$?
[[ "$rc" -eq 75 ]] || { cat "$work/second.out" >&2; e2e_fail "a second kraftd run exited $rc, expected 75"; }
grep -qF "is already running under kraftd pid $pid_before" "$work/second.out" ||
    { cat "$work/second.out" >&2; e2e_fail "a second kraftd run does not name kraftd pid $pid_before"; }
grep -q 'in use by another process' "$work/second.out" && e2e_fail "a second kraftd run still blames 'another process'"
[[ "$(e2e_unit_state)" == active && "$(main_pid)" == "$pid_before" ]] || e2e_fail "the second kraftd run disturbed the service"
e2e_check "a second kraftd run: exit 75, '$(head -n1 "$work/second.out")'"

echo "PASS: tests/e2e/day2-daemon.sh"
