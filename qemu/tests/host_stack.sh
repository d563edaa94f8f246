#!/usr/bin/env bash
# End to end: the `net` stack as a Linux program (net/examples/tap_stack.rs)
# on a TAP device, against the real Linux stack and a real dnsmasq in the
# same network namespace (topology (a) of qemu/README.md):
#
#   namespace nt-<id>-peer
#     Linux side nt-tap0 10.0.0.1/24, dnsmasq (DHCP 10.0.0.50-60, DNS with
#     appliance.test -> 10.0.0.99), ping, socat
#       <== TAP ==> tap_stack --dhcp --resolve appliance.test
#
# Checks, each a PASS/FAIL line: DHCP lease and DNS answer from dnsmasq,
# 20 quick pings without loss, 4000-byte pings (fragmented both ways), UDP
# echo of 1, 100, 1472 and 8000 bytes byte for byte, a clean stop with counters
# (Linux's IPv6 chatter among the frames ignored and counted),
# then a static-address run (--ip) answering ping and resolving through
# --dns. Every command is bounded; the rig removes everything on exit.
# Needs root, dnsmasq, socat, ping. TAP_STACK=PATH runs another binary
# (e.g. /bin/false, to see every check fail).
set -uo pipefail
cd "$(dirname "$0")/../.."
. qemu/tests/harness.sh
# Keep IPv6 on the TAP, as on a real LAN: Linux then sends MLD reports,
# neighbour and router solicitations, which the stack must ignore (and
# count) while it serves IPv4.
RIG_IPV6=1
. qemu/rig.sh

# Counts failures (to show dnsmasq's log only when something failed).
FAILS=0
fail() {
    FAILS=$((FAILS + 1))
    printf 'FAIL %s: %s\n' "$1" "$2"
}

for tool in dnsmasq socat ping timeout cmp; do
    if ! command -v "$tool" >/dev/null; then
        fail "host stack: tools present" "$tool is not installed"
        exit 0
    fi
done
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ]; then
    fail "host stack: rig available" "needs root and /dev/net/tun"
    exit 0
fi
if ! timeout 600 cargo build -q -p net --features std --example tap_stack; then
    fail "host stack: tap_stack builds" "cargo build -p net --features std --example tap_stack failed"
    exit 0
fi
BIN=${TAP_STACK:-target/debug/examples/tap_stack}
LOGS=$RIG_STATE
PEER=10.0.0.1

ns=$(rig_create peer) || exit 1
rig_tap "$ns" nt-tap0 "$PEER/24"

# show_log NAME FILE: a log, indented so no line reads as PASS/FAIL.
show_log() {
    echo "--- $1"
    sed 's/^/  | /' "$2" 2>/dev/null | tail -n 60
}

# start_stack LOG ARGS...: runs tap_stack on nt-tap0 (it holds the TAP)
# and waits for it to listen; sets STACK_PID.
start_stack() {
    local log=$1
    shift
    rig_bg "$ns" "$BIN" --tap nt-tap0 --duration-s 60 "$@" >"$log" 2>&1
    STACK_PID=$RIG_PID
    # Carrier (LOWER_UP) comes on when the program opens the TAP; Linux
    # transmits on it once its link watcher has activated the queue, which
    # is when the operational state turns UP.
    rig_wait_until 5 rig_tap_attached "$ns" nt-tap0
    rig_wait_until 2 tap_running
    wait_for_log "$log" '^listening udp/7$' 5
}

# tap_running: the Linux side of nt-tap0 is operationally up.
tap_running() {
    ip -n "$ns" link show nt-tap0 2>/dev/null | grep -q ' state UP '
}

# stop_stack: TERM; the program prints its counters on the way out.
stop_stack() {
    rig_stop "$STACK_PID"
}

# check_ping NAME ADDR COUNT ARGS...: every echo request answered.
check_ping() {
    local name=$1 addr=$2 count=$3
    shift 3
    local out
    out=$(rig_exec "$ns" timeout 20 ping -n -c "$count" -W 2 "$@" "$addr" 2>&1)
    # A here-string, not `echo | grep -q`: with pipefail, grep quitting
    # early can fail the pipeline through echo's SIGPIPE.
    if grep -Eq "^$count packets transmitted, $count received, 0% packet loss" <<<"$out"; then
        pass "$name"
    else
        fail "$name" "$(grep -E 'transmitted|unreachable|error' <<<"$out" | head -n 2 | tr '\n' ' ')"
    fi
}

# check_udp_echo NAME ADDR SIZE: one datagram of SIZE random bytes to
# port 7 comes back identical.
check_udp_echo() {
    local name=$1 addr=$2 size=$3
    head -c "$size" /dev/urandom >"$LOGS/udp.$size.in"
    rig_exec "$ns" timeout 5 socat -t 1 - "UDP:$addr:7" <"$LOGS/udp.$size.in" >"$LOGS/udp.$size.out" 2>"$LOGS/udp.$size.err"
    if cmp -s "$LOGS/udp.$size.in" "$LOGS/udp.$size.out"; then
        pass "$name"
    else
        fail "$name" "got $(wc -c <"$LOGS/udp.$size.out") bytes back, not the $size sent $(head -c 200 "$LOGS/udp.$size.err")"
    fi
}

# check_stopped NAME LOG: the program ended on TERM and printed counters.
check_stopped() {
    local name=$1 log=$2
    if kill -0 "$STACK_PID" 2>/dev/null; then
        fail "$name" "still running after TERM"
    elif expect_in_log "$name" "$log" '^stopping: SIGTERM$' '^counters ethernet: rx_frames=[1-9]' \
        '^counters icmp: .*echo_replied=[1-9]' '^counters udp_echo/7: received=[1-9]'; then
        pass "$name"
    fi
}

# --- DHCP run: dnsmasq hands out the address and answers DNS.
DNSMASQ_LOG=$LOGS/dnsmasq.log
rig_bg "$ns" dnsmasq --no-daemon --conf-file=/dev/null --user=root --no-resolv --no-hosts \
    --interface=nt-tap0 --bind-interfaces --listen-address="$PEER" --port=53 \
    --dhcp-range=10.0.0.50,10.0.0.60,12h --dhcp-authoritative --no-ping \
    --dhcp-option=option:router,"$PEER" --dhcp-option=option:dns-server,"$PEER" \
    --address=/appliance.test/10.0.0.99 --dhcp-leasefile="$LOGS/dnsmasq.leases" \
    --pid-file="$LOGS/dnsmasq.pid" --log-facility="$DNSMASQ_LOG" --log-dhcp --log-queries \
    >"$LOGS/dnsmasq.out" 2>&1
DNSMASQ_PID=$RIG_PID
if ! wait_for_log "$DNSMASQ_LOG" 'DHCP, IP range 10\.0\.0\.50' 5; then
    fail "host stack: dnsmasq starts" "no DHCP range in its log"
fi

DHCP_LOG=$LOGS/stack-dhcp.log
start_stack "$DHCP_LOG" --dhcp --resolve appliance.test
lease='^configured (10\.0\.0\.(5[0-9]|60))/24 gw 10\.0\.0\.1 dns 10\.0\.0\.1$'
if wait_for_log "$DHCP_LOG" "$lease" 15; then
    ADDR=$(sed -En "s#$lease#\\1#p" "$DHCP_LOG" | head -n 1)
    pass "host stack: DHCP from dnsmasq configures $ADDR/24 gw 10.0.0.1 dns 10.0.0.1"
else
    ADDR=10.0.0.50 # the checks below still run, and fail
    fail "host stack: DHCP from dnsmasq configures an address" "no /$lease/ in the log"
fi
if wait_for_log "$DHCP_LOG" '^resolved appliance\.test -> 10\.0\.0\.99$' 10; then
    pass "host stack: DNS query answered by dnsmasq (appliance.test -> 10.0.0.99)"
else
    fail "host stack: DNS query answered by dnsmasq" "$(grep -E '^resolve' "$DHCP_LOG" || echo 'no resolve line')"
fi
check_ping "host stack: 20 pings at 50 ms, no loss" "$ADDR" 20 -i 0.05
check_ping "host stack: 3 pings of 4000 bytes (fragmented both ways)" "$ADDR" 3 -i 0.2 -s 4000
for size in 1 100 1472; do
    check_udp_echo "host stack: UDP echo of $size bytes" "$ADDR" "$size"
done
check_udp_echo "host stack: UDP echo of 8000 bytes (fragmented both ways)" "$ADDR" 8000
stop_stack
check_stopped "host stack: DHCP run stops on TERM and prints its counters" "$DHCP_LOG"
ignored=$(sed -En 's/^counters ethernet: .* not_for_us=([0-9]+) unknown_ethertype=([0-9]+) .*/\1 \2/p' "$DHCP_LOG")
if [ -n "$ignored" ] && [ $((${ignored% *} + ${ignored#* })) -gt 0 ]; then
    pass "host stack: Linux's IPv6 chatter ignored and counted (not_for_us unknown_ethertype: $ignored)"
else
    fail "host stack: Linux's IPv6 chatter ignored and counted" "no dropped frames counted (${ignored:-no counters})"
fi
show_log "tap_stack --dhcp" "$DHCP_LOG"

# --- Static run: address from the command line, DNS server from --dns.
STATIC_LOG=$LOGS/stack-static.log
start_stack "$STATIC_LOG" --ip 10.0.0.2/24 --gw "$PEER" --dns "$PEER" --resolve appliance.test
if wait_for_log "$STATIC_LOG" '^configured 10\.0\.0\.2/24 gw 10\.0\.0\.1 dns 10\.0\.0\.1$' 5; then
    pass "host stack: static address from --ip"
else
    fail "host stack: static address from --ip" "no configured line"
fi
check_ping "host stack: static address answers 5 pings" 10.0.0.2 5 -i 0.05
if wait_for_log "$STATIC_LOG" '^resolved appliance\.test -> 10\.0\.0\.99$' 10; then
    pass "host stack: static run resolves through --dns"
else
    fail "host stack: static run resolves through --dns" "$(grep -E '^resolve' "$STATIC_LOG" || echo 'no resolve line')"
fi
check_udp_echo "host stack: static address echoes 1472 bytes over UDP" 10.0.0.2 1472
stop_stack
check_stopped "host stack: static run stops on TERM and prints its counters" "$STATIC_LOG"
show_log "tap_stack --ip" "$STATIC_LOG"

rig_stop "$DNSMASQ_PID"
[ "$FAILS" -eq 0 ] || show_log "dnsmasq" "$DNSMASQ_LOG"
exit 0
