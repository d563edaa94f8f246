#!/usr/bin/env bash
# End to end: our TCP (net/examples/tap_stack.rs on a TAP) against the real
# Linux TCP in the same network namespace (topology (a) of qemu/README.md):
#
#   namespace nt-<id>-peer
#     Linux side nt-tap0 10.0.0.1/24: echo-check clients,
#     socat echo server on 10.0.0.1:9000
#       <== TAP ==> tap_stack --ip 10.0.0.2/24 (TCP echo on port 7),
#                   optionally with seeded faults both ways
#
# This kernel has no netem, so the path is impaired inside the example:
# its --loss/--reorder/--dup/--corrupt flags wrap the TAP in net's
# FaultInjector (2% loss, 2% reordering, 2% duplication, 0.5% corruption,
# fixed seed, both directions).
#
# Checks, each a PASS/FAIL line with the figures of echo-check or of
# the client: Linux client -> our echo, 8 MiB with every byte checked, clean
# and impaired; 32 clients at once x 256 KiB, clean and impaired; each run
# ends with every connection closed by both sides; Linux as the server
# (socat echo) and our stack as the client, 8 MiB, clean and impaired.
# Every command is bounded; the rig removes everything on exit. Needs root,
# socat, python3. TAP_STACK=PATH runs another binary.
set -uo pipefail
cd "$(dirname "$0")/../.."
. qemu/tests/harness.sh
. qemu/rig.sh

for tool in socat python3 timeout ss; do
    if ! command -v "$tool" >/dev/null; then
        fail "host tcp: tools present" "$tool is not installed"
        exit 0
    fi
done
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
    fail "host tcp: rig available" "needs root and /dev/net/tun"
    exit 0
fi
if ! timeout 600 cargo build -q -p net --features std --example tap_stack; then
    fail "host tcp: tap_stack builds" "cargo build -p net --features std --example tap_stack failed"
    exit 0
fi
if ! timeout 600 cargo build -q --release -p echo-check; then
    fail "host tcp: echo-check builds" "cargo build --release -p echo-check failed"
    exit 0
fi
ECHO_CHECK=target/release/echo-check
BIN=${TAP_STACK:-target/debug/examples/tap_stack}
LOGS=$RIG_STATE
PEER=10.0.0.1
ADDR=10.0.0.2
SERVER_PORT=9000
MIB=$((1 << 20))
FAULTS=(--loss 20000 --reorder 20000 --dup 20000 --corrupt 5000 --fault-seed 7)

ns=$(rig_create peer) || exit 1
rig_tap "$ns" nt-tap0 "$PEER/24"

# show_log NAME FILE: a log, indented so no line reads as PASS/FAIL.
show_log() {
    echo "--- $1"
    sed 's/^/  | /' "$2" 2>/dev/null | tail -n 40
}

# tap_running: the Linux side of nt-tap0 is operationally up.
tap_running() {
    ip -n "$ns" link show nt-tap0 2>/dev/null | grep -q ' state UP '
}

# start_stack LOG ARGS...: tap_stack as a server on nt-tap0; sets STACK_PID.
start_stack() {
    local log=$1
    shift
    rig_bg "$ns" "$BIN" --tap nt-tap0 --ip "$ADDR/24" --duration-s 90 "$@" >"$log" 2>&1
    STACK_PID=$RIG_PID
    rig_wait_until 5 rig_tap_attached "$ns" nt-tap0
    rig_wait_until 2 tap_running
    wait_for_log "$log" '^listening tcp/7$' 5
}

# check_echo NAME CLIENTS BYTES: echo-check against our port 7.
check_echo() {
    local name=$1 clients=$2 bytes=$3 out
    out=$(rig_exec "$ns" timeout 60 "$ECHO_CHECK" "$ADDR" \
        --bytes "$bytes" --clients "$clients" --deadline 45 2>&1)
    if [ $? -eq 0 ]; then
        pass "$name ($out)"
    else
        fail "$name" "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
    fi
}

# linux_counters: Linux's loss-recovery counters in the namespace and the
# frames it dropped at the TAP's queue (when our stack reads too slowly), as
# NAME=VALUE lines.
linux_counters() {
    rig_exec "$ns" nstat -asz TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPSackRecovery \
        2>/dev/null | awk '!/^#/ { sub(/^TcpExt/, "", $1); sub(/^Tcp/, "", $1); print $1 "=" $2 }'
    echo "TapQueueDrops=$(rig_exec "$ns" cat /sys/class/net/nt-tap0/statistics/tx_dropped 2>/dev/null || echo 0)"
}

# linux_delta BEFORE AFTER: what Linux counted in between, on one line.
linux_delta() {
    awk -F= 'NR == FNR { before[$1] = $2; next } { printf "%s%s=%d", sep, $1, $2 - before[$1]; sep = " " }' \
        <(echo "$1") <(echo "$2")
}

# stop_after_idle LOG CONNECTIONS: waits (bounded) until the echo service
# has no open connection after CONNECTIONS (its last FIN may still wait for
# Linux's ACK, or be retransmitted), then stops the stack.
stop_after_idle() {
    wait_for_log "$1" "^tcp_echo/7: idle after $2 connections" 5
    rig_stop "$STACK_PID"
}

# check_run NAME LOG CONNECTIONS: after TERM, the echo service saw every
# connection closed by both sides (none reset, none left open).
check_run() {
    local name=$1 log=$2 connections=$3 linux=$4 line
    line=$(grep -E '^counters tcp_echo/7: ' "$log")
    if grep -Eq "accepted=$connections completed=$connections reset=0 open=0 " <<<"$line"; then
        pass "$name (${line#counters }; linux: $linux)"
    else
        fail "$name" "${line:-no tcp_echo counters} (log: $log)"
    fi
}

# check_impaired NAME LOG: the fault injector did drop, duplicate, reorder
# and corrupt frames both ways (so the impaired checks tested something).
check_impaired() {
    local name=$1 log=$2 dir line ok=1 lines=""
    for dir in rx tx; do
        line=$(grep -E "^counters faults $dir: " "$log")
        lines="$lines ${line#counters }"
        grep -Eq 'dropped=[1-9].* duplicated=[1-9].* reordered=[1-9].* corrupted=[1-9]' <<<"$line" || ok=0
    done
    if [ "$ok" -eq 1 ]; then
        pass "$name:$lines"
    else
        fail "$name" "faults missing:${lines:- no fault counters}"
    fi
}

# --- Linux clients, our echo server.
CLEAN_LOG=$LOGS/stack-clean.log
before=$(linux_counters)
start_stack "$CLEAN_LOG"
check_echo "host tcp: Linux client, 8 MiB echoed, every byte checked" 1 $((8 * MIB))
check_echo "host tcp: 32 Linux clients at once x 256 KiB echoed" 32 $((256 * 1024))
stop_after_idle "$CLEAN_LOG" 33
check_run "host tcp: clean run, every connection closed by both sides" "$CLEAN_LOG" 33 \
    "$(linux_delta "$before" "$(linux_counters)")"

IMPAIRED_LOG=$LOGS/stack-impaired.log
before=$(linux_counters)
start_stack "$IMPAIRED_LOG" "${FAULTS[@]}"
check_echo "host tcp: Linux client, 8 MiB echoed through 2% loss, reordering, duplication" 1 $((8 * MIB))
check_echo "host tcp: 32 Linux clients at once x 256 KiB through the same faults" 32 $((256 * 1024))
stop_after_idle "$IMPAIRED_LOG" 33
check_run "host tcp: impaired run, every connection closed by both sides" "$IMPAIRED_LOG" 33 \
    "$(linux_delta "$before" "$(linux_counters)")"
check_impaired "host tcp: the impaired run's faults happened" "$IMPAIRED_LOG"

# --- Linux as the server (socat echo), our stack as the client.
# -t 30: after the client's FIN, socat waits for cat to hand back the
# rest (its default 0.5 s could cut the echo short under back-pressure).
rig_bg "$ns" socat -t 30 "TCP-LISTEN:$SERVER_PORT,bind=$PEER,fork,reuseaddr" EXEC:cat
SOCAT_PID=$RIG_PID
linux_listening() {
    rig_exec "$ns" ss -Hltn "sport = :$SERVER_PORT" | grep -q LISTEN
}
if ! rig_wait_until 5 linux_listening; then
    fail "host tcp: socat echo server listens" "nothing on $PEER:$SERVER_PORT"
fi
# Linux's side of client connections that are not closed yet.
linux_open() {
    rig_exec "$ns" ss -Htan "( sport = :$SERVER_PORT )" | grep -v LISTEN
}
linux_closed() {
    [ -z "$(linux_open)" ]
}

# check_client NAME LOG [FAULT ARGS...]: our client sends 8 MiB to socat
# and checks the echo; on a clean path Linux's side must be gone after.
check_client() {
    local name=$1 log=$2
    shift 2
    local before
    before=$(linux_counters)
    rig_exec "$ns" timeout 70 "$BIN" --tap nt-tap0 --ip "$ADDR/24" --duration-s 60 \
        --connect "$PEER:$SERVER_PORT" --send-bytes $((8 * MIB)) --check-echo "$@" >"$log" 2>&1
    local status=$? result
    result=$(grep -E '^client: [0-9]+ bytes|^client: .*(mismatch|reset|closed|connect)' "$log" | tail -n 1)
    if [ "$status" -ne 0 ] || ! grep -Eq "^client: $((8 * MIB)) bytes echoed intact in " <<<"$result"; then
        fail "$name" "exit $status: ${result:-no client line} $(grep -E '^tap_stack:' "$log")"
        show_log "tap_stack client" "$log"
        return
    fi
    local info
    info=$(grep -E '^client info: ' "$log")
    if [ $# -eq 0 ] && ! rig_wait_until 3 linux_closed; then
        fail "$name" "$result, but Linux's side is not closed: $(linux_open | tr '\n' ' ')"
        return
    fi
    pass "$name (${result#client: }; ${info#client info: }; linux: $(linux_delta "$before" "$(linux_counters)"))"
}

check_client "host tcp: our client, 8 MiB to a Linux echo server, every byte checked" "$LOGS/client-clean.log"
check_client "host tcp: our client, 8 MiB to a Linux echo server through the faults" "$LOGS/client-impaired.log" \
    "${FAULTS[@]}"
rig_stop "$SOCAT_PID"
exit 0
