#!/usr/bin/env bash
# End-to-end tests of the appliance image through the rig: QEMU runs in a
# network namespace on a TAP device whose Linux side is the client (the
# real Linux stack: ping, socat, python), with dnsmasq there as DHCP server;
# a second run puts the impairing forwarder (seeded loss, reordering,
# duplication) between QEMU and the TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. qemu/virt.sh
. qemu/tests/harness.sh
. qemu/rig.sh
rig_require || { fail "appliance rig" "needs root, iproute2 and /dev/net/tun"; exit 0; }

KERNEL=$(kernel_elf release)
FORWARDER=target/debug/examples/impair_forwarder
host_cargo build -q -p net --features std --example impair_forwarder || { fail "appliance rig" "forwarder build failed"; exit 0; }
ECHO_CHECK=$(echo_check_bin) || { fail "appliance rig" "echo-check build failed"; exit 0; }
LOGS=$(mktemp -d /tmp/appliance-e2e.XXXXXX)
trap 'rig_cleanup; rm -rf "$LOGS"' EXIT

# boot_guest NS LOG BOOTARGS NETDEV-ARGS...: starts QEMU in NS in the background.
boot_guest() {
    local ns=$1 log=$2 bootargs=$3
    shift 3
    qemu_virt_args "" "$KERNEL" "$bootargs" "$@"
    rig_bg "$ns" timeout 1200 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$log" 2>&1 </dev/null
    GUEST_PID=$RIG_PID
}

tap_netdev() {
    echo "-netdev tap,id=n0,ifname=$1,script=no,downscript=no -device virtio-net-pci,netdev=n0,romfile="
}

# --- DHCP from dnsmasq, then ping and UDP echo -------------------------------
ns=$(rig_create dhcp) || { fail "appliance rig" "no namespace"; exit 0; }
rig_tap "$ns" nt-tap0 10.79.0.1/24
rig_bg "$ns" dnsmasq --no-daemon --conf-file=/dev/null --interface=nt-tap0 --bind-interfaces \
    --listen-address=10.79.0.1 --port=0 --dhcp-range=10.79.0.50,10.79.0.60,1h \
    --dhcp-option=option:router,10.79.0.1 --dhcp-leasefile="$LOGS/leases" --pid-file="$LOGS/dnsmasq.pid" \
    --log-dhcp --log-facility="$LOGS/dnsmasq.log"
LOG="$LOGS/dhcp.log"
# shellcheck disable=SC2046
boot_guest "$ns" "$LOG" "" $(tap_netdev nt-tap0)

name="appliance takes its address from dnsmasq by DHCP"
ADDR=
if wait_for_log "$LOG" "network: DHCP address 10\.79\.0\.(5[0-9]|60)/24, gateway 10\.79\.0\.1" 20; then
    ADDR=$(sed -n 's/.*network: DHCP address \(10\.79\.0\.[0-9]*\)\/24.*/\1/p' "$LOG" | head -n1)
    pass "$name ($ADDR)"
else
    fail "$name" "no DHCP address in the log ($(grep -E 'network|nic' "$LOG" | tail -n 3))"
fi
# Without a lease the checks below have no address to aim at: each fails.
ADDR=${ADDR:-10.79.0.254}

name="100 pings with no loss"
out=$(rig_exec "$ns" ping -c 100 -i 0.02 -W 1 "$ADDR" 2>&1)
if grep -q " 0% packet loss" <<<"$out"; then
    pass "$name ($(grep -o 'rtt.*' <<<"$out"))"
else
    fail "$name" "$(grep -E 'packet loss' <<<"$out")"
fi

name="ping -s 4000 answered (fragments both ways)"
out=$(rig_exec "$ns" ping -c 3 -s 4000 -W 2 "$ADDR" 2>&1)
if grep -q " 0% packet loss" <<<"$out"; then
    pass "$name"
else
    fail "$name" "$(grep -E 'packet loss' <<<"$out")"
fi

name="UDP datagrams of 1 to 1472 bytes echoed"
out=$(rig_exec "$ns" python3 qemu/tests/udp_echo_check.py "$ADDR" --retries 2 2>&1)
if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi

# check_tcp_echo NAME NS ADDR BYTES CLIENTS DEADLINE
check_tcp_echo() {
    local out
    out=$(rig_exec "$2" "$ECHO_CHECK" "$3" --bytes "$4" --clients "$5" --deadline "$6" 2>&1)
    if [ $? -eq 0 ]; then pass "$1 ($out)"; else fail "$1" "$out"; fi
}
check_tcp_echo "TCP echo of 1 MiB, every byte checked" "$ns" "$ADDR" $((1 << 20)) 1 60
check_tcp_echo "TCP echo of 16 MiB, every byte checked" "$ns" "$ADDR" $((16 << 20)) 1 120
check_tcp_echo "TCP echo to 32 concurrent clients" "$ns" "$ADDR" $((256 << 10)) 32 120

# --- HTTP ---------------------------------------------------------------------
URL="http://$ADDR"
name="HTTP home page with the right Content-Length"
out=$(rig_exec "$ns" curl -s -m 10 -D "$LOGS/home.head" -o "$LOGS/home.html" -w '%{http_code} %{size_download}' "$URL/" 2>&1)
length=$(tr -d '\r' <"$LOGS/home.head" 2>/dev/null | sed -n 's/^[Cc]ontent-[Ll]ength: *//p')
if [ "${out%% *}" = 200 ] && [ -n "$length" ] && [ "${out#* }" = "$length" ] && grep -q "<html" "$LOGS/home.html"; then
    pass "$name ($length bytes)"
else
    fail "$name" "curl said '$out', Content-Length '$length'"
fi

name="HTTP 404 for an unknown path"
code=$(rig_exec "$ns" curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL/no/such/page" 2>&1)
if [ "$code" = 404 ]; then pass "$name"; else fail "$name" "status $code"; fi

name="HTTP HEAD has the headers and no body"
out=$(rig_exec "$ns" curl -s -m 10 -I -w 'size=%{size_download}' "$URL/" 2>&1)
if grep -q "^HTTP/1.1 200" <<<"$out" && grep -qi "^content-length: *$length" <<<"$out" && grep -q "size=0" <<<"$out"; then
    pass "$name"
else
    fail "$name" "$(head -n 1 <<<"$out")"
fi

name="100 HTTP requests over one keep-alive connection"
urls=()
for _ in $(seq 100); do urls+=("$URL/"); done
out=$(rig_exec "$ns" curl -s -m 30 -o /dev/null -w '%{http_code} %{num_connects}\n' "${urls[@]}" 2>&1)
ok=$(grep -c '^200 ' <<<"$out")
connects=$(awk '{s += $2} END {print s + 0}' <<<"$out")
if [ "$ok" -eq 100 ] && [ "$connects" -eq 1 ]; then
    pass "$name"
else
    fail "$name" "$ok responses with 200, $connects connections opened"
fi

name="/stats parses as JSON"
out=$(rig_exec "$ns" curl -s -m 10 "$URL/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["tcp_connections"]), "connections,", len(d["counters"]), "counter groups")' 2>&1)
if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi

name="a malformed request gets 400 and the appliance keeps serving"
out=$(printf 'THIS IS NOT HTTP\r\n\r\n' | rig_exec "$ns" timeout 10 socat -t 5 - "TCP:$ADDR:80" 2>&1 | head -n 1)
code=$(rig_exec "$ns" curl -s -m 10 -o /dev/null -w '%{http_code}' "$URL/" 2>&1)
if [[ "$out" == "HTTP/1.1 400"* ]] && [ "$code" = 200 ]; then
    pass "$name"
else
    fail "$name" "got '$out', then status $code"
fi
rig_stop "$GUEST_PID"

# --- a lease that arrives after the fallback replaces it and its gateway ------
ns=$(rig_create late) || exit 0
rig_tap "$ns" nt-tap3 10.82.0.1/24
LOG="$LOGS/late.log"
# shellcheck disable=SC2046
boot_guest "$ns" "$LOG" "" $(tap_netdev nt-tap3)
name="a late DHCP lease replaces the fallback address and gateway"
if wait_for_log "$LOG" "network: no DHCP answer; using fallback 10\.0\.2\.15/24" 20; then
    rig_bg "$ns" dnsmasq --no-daemon --conf-file=/dev/null --interface=nt-tap3 --bind-interfaces \
        --listen-address=10.82.0.1 --port=0 --no-ping --dhcp-range=10.82.0.50,10.82.0.60,1h \
        --dhcp-option=option:router,10.82.0.1 --dhcp-leasefile="$LOGS/late.leases" --pid-file="$LOGS/late.pid"
    if wait_for_log "$LOG" "network: DHCP address 10\.82\.0\.(5[0-9]|60)/24, gateway 10\.82\.0\.1 \(replacing the fallback" 40; then
        late=$(sed -n 's/.*network: DHCP address \(10\.82\.0\.[0-9]*\)\/24.*/\1/p' "$LOG" | head -n1)
        if rig_exec "$ns" ping -c 3 -i 0.2 -W 1 "$late" >/dev/null 2>&1; then
            pass "$name ($late)"
        else
            fail "$name" "leased $late but it does not answer pings"
        fi
    else
        fail "$name" "$(grep -E 'network' "$LOG" | tail -n 2)"
    fi
else
    fail "$name" "the fallback was never applied ($(grep -E 'network' "$LOG" | tail -n 2))"
fi
rig_stop "$GUEST_PID"

# --- static address from the bootargs ----------------------------------------
ns=$(rig_create static) || exit 0
rig_tap "$ns" nt-tap1 10.80.0.1/24
LOG="$LOGS/static.log"
# shellcheck disable=SC2046
boot_guest "$ns" "$LOG" "ip=10.80.0.2/24 gw=10.80.0.1" $(tap_netdev nt-tap1)
name="with ip= the appliance uses the static address"
if wait_for_log "$LOG" "network: static address 10\.80\.0\.2/24, gateway 10\.80\.0\.1" 20 &&
    rig_exec "$ns" ping -c 5 -i 0.1 -W 1 10.80.0.2 >/dev/null 2>&1; then
    pass "$name"
else
    fail "$name" "$(grep -E 'network' "$LOG" | tail -n 2)"
fi
rig_stop "$GUEST_PID"

# --- 2% loss, reordering and duplication through the impairing forwarder -----
ns=$(rig_create impaired) || exit 0
rig_tap "$ns" nt-tap2 10.81.0.1/24
rig_bg "$ns" "$FORWARDER" --udp-local 127.0.0.1:47102 --udp-remote 127.0.0.1:47101 --tap nt-tap2 \
    --seed 7 --loss 20000 --reorder 20000 --dup 20000 --duration-s 900 --stop-file "$LOGS/stop" >"$LOGS/forwarder.log" 2>&1
LOG="$LOGS/impaired.log"
boot_guest "$ns" "$LOG" "ip=10.81.0.2/24 gw=10.81.0.1" \
    -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=47101,remote.type=inet,remote.host=127.0.0.1,remote.port=47102 \
    -device virtio-net-pci,netdev=n0,romfile=
wait_for_log "$LOG" "network: static address" 20
name="UDP echo 1 to 1472 bytes with 2% loss, reordering and duplication"
out=$(rig_exec "$ns" python3 qemu/tests/udp_echo_check.py 10.81.0.2 --retries 8 --timeout 0.3 --deadline 120 2>&1)
if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi
check_tcp_echo "TCP echo of 1 MiB with 2% loss, reordering and duplication" "$ns" 10.81.0.2 $((1 << 20)) 1 120
check_tcp_echo "TCP echo of 16 MiB with 2% loss, reordering and duplication" "$ns" 10.81.0.2 $((16 << 20)) 1 300
check_tcp_echo "TCP echo to 32 clients with 2% loss, reordering and duplication" "$ns" 10.81.0.2 $((128 << 10)) 32 300
name="pings through the impaired path (most answered)"
out=$(rig_exec "$ns" ping -c 50 -i 0.02 -W 1 10.81.0.2 2>&1)
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
if [ "${received:-0}" -ge 40 ]; then pass "$name ($received/50)"; else fail "$name" "$received/50 answered"; fi
touch "$LOGS/stop"
rig_stop "$GUEST_PID"
exit 0
