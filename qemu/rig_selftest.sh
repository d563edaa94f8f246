#!/usr/bin/env bash
# Checks the namespace rig, the TAP device, the impairing forwarder and the
# UDP (QEMU dgram) link end to end, all inside namespaces the rig makes:
#   1. our TAP device sees the ARP request of a ping from the Linux side;
#   2. a clean TAP<->TAP forwarder carries pings between two namespaces;
#   3. the same forwarder with loss and delay loses some and delays all;
#   4. the forwarder's UDP side talks to a real QEMU `-netdev dgram`
#      (bridged by a QEMU hub to a TAP; no guest needed).
# Needs root. Prints "N passed, N failed" and exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. qemu/rig.sh
rig_require

cargo build -q -p net --features std --examples || exit 1
BIN=target/debug/examples
LOG="$RIG_STATE/log"
passed=0
failed=0
check() {
    local what="$1"
    shift
    if "$@"; then
        echo "PASS $what"
        passed=$((passed + 1))
    else
        echo "FAIL $what"
        failed=$((failed + 1))
    fi
}

# 1. Our TAP device receives what the Linux side sends.
ns=$(rig_create echo) || exit 1
rig_tap "$ns" nt-tap0 10.77.0.1/24
rig_bg "$ns" sh -c "exec $BIN/tap_echo_frames --tap nt-tap0 --count 1 --duration-s 10 >$LOG.echo 2>&1"
echo_pid=$RIG_PID
rig_wait_until 5 rig_tap_attached "$ns" nt-tap0
rig_exec "$ns" ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1
rig_wait_pid "$echo_pid" 10
check "TAP device sees the ARP request" grep -q "ARP who-has 10.77.0.2 tell 10.77.0.1" "$LOG.echo"

# Two namespaces joined by the forwarder, which runs in a third.
fwd=$(rig_create fwd) || exit 1
a=$(rig_create a) || exit 1
b=$(rig_create b) || exit 1
start_bridge() { # ARGS...: forwarder flags beyond the TAPs
    rig_tap "$fwd" nt-a
    rig_tap "$fwd" nt-b
    rig_bg "$fwd" sh -c "exec $BIN/impair_forwarder --tap-a nt-a --tap-b nt-b --stop-file $RIG_STATE/stop --stats-s 0 $* >$LOG.fwd 2>&1"
    fwd_pid=$RIG_PID
    rig_wait_until 5 rig_tap_attached "$fwd" nt-a && rig_wait_until 5 rig_tap_attached "$fwd" nt-b
    rig_tap_move "$fwd" nt-a "$a" 10.77.1.1/24
    rig_tap_move "$fwd" nt-b "$b" 10.77.1.2/24
}
stop_bridge() {
    touch "$RIG_STATE/stop"
    rig_wait_pid "$fwd_pid" 5
    rm -f "$RIG_STATE/stop"
    ip -n "$a" link del nt-a 2>/dev/null
    ip -n "$b" link del nt-b 2>/dev/null
}

# 2. Clean bridge.
start_bridge --seed 1
check "clean bridge carries 5 of 5 pings" rig_exec "$a" ping -c 5 -i 0.2 -W 1 -q 10.77.1.2
stop_bridge
check "forwarder prints its final counters" grep -q "stop file appeared" "$LOG.fwd"
cat "$LOG.fwd"

# 3. Loss and delay (30% loss each way, 20 ms delay each way).
start_bridge --seed 7 --loss 300000 --delay-us 20000
rig_exec "$a" ping -c 30 -i 0.05 -W 1 -q 10.77.1.2 >"$LOG.ping" 2>&1
cat "$LOG.ping"
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LOG.ping")
rtt_min=$(sed -n 's|.*= \([0-9.]*\)/.*|\1|p' "$LOG.ping")
check "impaired bridge loses some pings but not all ($received of 30)" test "${received:-0}" -gt 0 -a "${received:-0}" -lt 30
check "impaired bridge delays every ping by >= 40 ms (min $rtt_min ms)" awk -v m="${rtt_min:-0}" 'BEGIN { exit !(m >= 40) }'
stop_bridge
cat "$LOG.fwd"
check "forwarder counted losses" grep -q "lost=[1-9]" "$LOG.fwd"

# 4. UDP side against QEMU's dgram backend: nt-a <-> forwarder <-> UDP
#    <-> QEMU (hub) <-> nt-b.
rig_tap "$fwd" nt-a
rig_tap "$fwd" nt-b
rig_bg "$fwd" qemu-system-aarch64 -machine none -nographic -monitor none -serial none \
    -netdev dgram,id=d0,local.type=inet,local.host=127.0.0.1,local.port=47001,remote.type=inet,remote.host=127.0.0.1,remote.port=47002 \
    -netdev tap,id=t0,ifname=nt-b,script=no,downscript=no \
    -netdev hubport,id=h0,hubid=0,netdev=d0 -netdev hubport,id=h1,hubid=0,netdev=t0
qemu_pid=$RIG_PID
rig_bg "$fwd" sh -c "exec $BIN/impair_forwarder --udp-local 127.0.0.1:47002 --udp-remote 127.0.0.1:47001 --tap nt-a --pcap $RIG_STATE/fwd.pcap --stop-file $RIG_STATE/stop --stats-s 0 >$LOG.fwd 2>&1"
fwd_pid=$RIG_PID
rig_wait_until 10 rig_tap_attached "$fwd" nt-a && rig_wait_until 10 rig_tap_attached "$fwd" nt-b
rig_tap_move "$fwd" nt-a "$a" 10.77.1.1/24
rig_tap_move "$fwd" nt-b "$b" 10.77.1.2/24
check "pings cross the forwarder's UDP link and QEMU's dgram netdev" rig_exec "$a" ping -c 5 -i 0.2 -W 1 -q 10.77.1.2
touch "$RIG_STATE/stop"
rig_wait_pid "$fwd_pid" 5
cat "$LOG.fwd"
rig_stop "$qemu_pid"
if command -v tcpdump >/dev/null; then
    tcpdump -nr "$RIG_STATE/fwd.pcap" 2>/dev/null >"$LOG.pcap"
    check "forwarder pcap holds the echo requests and replies" \
        sh -c "grep -q 'ICMP echo request' $LOG.pcap && grep -q 'ICMP echo reply' $LOG.pcap"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
