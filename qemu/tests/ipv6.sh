#!/usr/bin/env bash
# End-to-end IPv6 tests of the appliance through the rig: QEMU runs in a
# network namespace on a TAP whose Linux side is the client (the real
# Linux stack) and the router: dnsmasq there sends router advertisements
# for 2001:db8:77::/64 (RA-only, no DHCPv6). The guest must configure its
# link-local address and a SLAAC address from the advertised prefix, both
# derived from the MAC the rig gives it (modified EUI-64), and answer
# ping -6 (also with fragments), HTTP and the echo services on both.
# Further boots check a static address from `ip6=` / `gw6=`, bad values,
# and IPv6 through the impairing forwarder (loss, reordering, duplication).
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. qemu/virt.sh
. qemu/tests/harness.sh
# Keep IPv6 on the rig's TAPs (the rig turns it off by default).
RIG_IPV6=1
. qemu/rig.sh
rig_require || { fail "ipv6 rig" "needs root, iproute2 and /dev/net/tun"; exit 0; }
command -v dnsmasq >/dev/null || { fail "ipv6 rig" "dnsmasq is not installed (scripts/setup)"; exit 0; }

KERNEL=$(kernel_elf release)
ECHO_CHECK=$(echo_check_bin) || { fail "ipv6 rig" "echo-check build failed"; exit 0; }
FORWARDER=target/debug/examples/impair_forwarder
host_cargo build -q -p net --features std --example impair_forwarder || { fail "ipv6 rig" "forwarder build failed"; exit 0; }
LOGS=$(mktemp -d /tmp/ipv6-e2e.XXXXXX)
trap 'rig_cleanup; rm -rf "$LOGS"' EXIT

GUEST_MAC=52:54:00:6a:76:36
PREFIX=2001:db8:77
STATIC_PREFIX=2001:db8:78

# eui64_iid MAC: the modified EUI-64 interface identifier (RFC 4291
# appendix A) as the last four groups of an address, e.g. 5054:ff:fe6a:7636.
eui64_iid() {
    local b
    IFS=: read -r -a b <<<"$1"
    printf '%x:%x:%x:%x' $(((0x${b[0]} ^ 2) << 8 | 0x${b[1]})) $((0x${b[2]} << 8 | 0xff)) \
        $((0xfe << 8 | 0x${b[3]})) $((0x${b[4]} << 8 | 0x${b[5]}))
}
IID=$(eui64_iid "$GUEST_MAC")
# RFC 5952 text (as ip and ping print it): the one zero group stays.
SLAAC="$PREFIX:0:$IID"
LINK_LOCAL="fe80::$IID"

# boot_guest NS LOG BOOTARGS TAP: starts QEMU in NS in the background, on
# TAP (or, with TAP "dgram:LOCAL:REMOTE", on a UDP link to the forwarder).
boot_guest() {
    local ns=$1 log=$2 bootargs=$3 tap=$4 netdev
    case "$tap" in
        dgram:*)
            IFS=: read -r _ local_port remote_port <<<"$tap"
            netdev="dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$local_port"
            netdev+=",remote.type=inet,remote.host=127.0.0.1,remote.port=$remote_port"
            ;;
        *) netdev="tap,id=n0,ifname=$tap,script=no,downscript=no" ;;
    esac
    qemu_virt_args "" "$KERNEL" "$bootargs" -netdev "$netdev" -device "virtio-net-pci,netdev=n0,romfile=,mac=$GUEST_MAC"
    rig_bg "$ns" timeout 1200 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$log" 2>&1 </dev/null
    GUEST_PID=$RIG_PID
}

# ipv6_tap NS TAP ADDR/PLEN: the Linux side of the TAP as an IPv6 router
# on the link: an address without DAD delay, and no autoconfiguration of
# its own from the advertisements it sends.
ipv6_tap() {
    local ns=$1 tap=$2 addr=$3
    rig_exec "$ns" sysctl -qw "net.ipv6.conf.all.forwarding=1"
    rig_tap "$ns" "$tap"
    rig_exec "$ns" sysctl -qw "net.ipv6.conf.$tap.accept_ra=0" "net.ipv6.conf.$tap.accept_dad=0"
    ip -n "$ns" addr add "$addr" dev "$tap" nodad || rig_die "cannot set $addr on $tap"
}

# answers NS ADDR SECONDS: bounded wait until ADDR answers a ping.
answers() {
    rig_wait_until "$3" rig_exec "$1" ping -6 -c 1 -W 1 "$2" >/dev/null 2>&1
}

CHECK_NAMES=(
    "ping -6 to the %s address: 20 pings, no loss"
    "ping -6 -s 4000 to the %s address (fragments both ways)"
    "curl -6 the home page at the %s address"
    "curl -6 gets 404 for an unknown path at the %s address"
    "UDP datagrams of 1 to 1452 bytes echoed at the %s address"
    "TCP echo of 1 MiB at the %s address, every byte checked"
    "TCP echo to 8 concurrent clients at the %s address"
)

# checks NS ADDR WHAT REACHABLE: ping, ping -s 4000, HTTP, UDP and TCP echo
# to ADDR. WHAT names the address in the check names. ADDR may carry a
# zone (fe80::1%tap); URLs write it as %25. When REACHABLE is 0 (the
# address never answered) every check fails at once instead of timing out.
checks() {
    local ns=$1 addr=$2 what=$3 reachable=$4 out code url fmt
    if [ "$reachable" != 1 ]; then
        for fmt in "${CHECK_NAMES[@]}"; do
            # shellcheck disable=SC2059
            fail "$(printf "$fmt" "$what")" "not tried: the address never answered"
        done
        return
    fi
    url="http://[${addr/\%/%25}]"

    local name="ping -6 to the $what address: 20 pings, no loss"
    out=$(rig_exec "$ns" ping -6 -c 20 -i 0.05 -W 1 "$addr" 2>&1)
    if grep -q " 0% packet loss" <<<"$out"; then
        pass "$name ($(grep -o 'rtt.*' <<<"$out"))"
    else
        fail "$name" "$(grep -E 'packet loss' <<<"$out" || tail -n 1 <<<"$out")"
    fi

    name="ping -6 -s 4000 to the $what address (fragments both ways)"
    out=$(rig_exec "$ns" ping -6 -c 3 -s 4000 -W 2 "$addr" 2>&1)
    if grep -q " 0% packet loss" <<<"$out"; then
        pass "$name"
    else
        fail "$name" "$(grep -E 'packet loss' <<<"$out" || tail -n 1 <<<"$out")"
    fi

    name="curl -6 the home page at the $what address"
    out=$(rig_exec "$ns" curl -6 -g -s -m 10 -o "$LOGS/home.html" -w '%{http_code} %{size_download}' "$url/" 2>&1)
    if [ "${out%% *}" = 200 ] && grep -q "<html" "$LOGS/home.html" 2>/dev/null; then
        pass "$name (${out#* } bytes)"
    else
        fail "$name" "curl said '$out'"
    fi

    name="curl -6 gets 404 for an unknown path at the $what address"
    code=$(rig_exec "$ns" curl -6 -g -s -m 10 -o /dev/null -w '%{http_code}' "$url/no/such/page" 2>&1)
    if [ "$code" = 404 ]; then pass "$name"; else fail "$name" "status $code"; fi

    # 1452 = 1500 - 40 (IPv6) - 8 (UDP).
    name="UDP datagrams of 1 to 1452 bytes echoed at the $what address"
    out=$(rig_exec "$ns" python3 qemu/tests/udp_echo_check.py "$addr" --max 1452 --retries 2 2>&1)
    if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi

    name="TCP echo of 1 MiB at the $what address, every byte checked"
    out=$(rig_exec "$ns" "$ECHO_CHECK" "$addr" --bytes $((1 << 20)) --clients 1 --deadline 60 2>&1)
    if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi

    name="TCP echo to 8 concurrent clients at the $what address"
    out=$(rig_exec "$ns" "$ECHO_CHECK" "$addr" --bytes $((128 << 10)) --clients 8 --deadline 120 2>&1)
    if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi
}

# --- SLAAC from dnsmasq's router advertisements, and link-local ---------------
ns=$(rig_create v6slaac) || { fail "ipv6 rig" "no namespace"; exit 0; }
TAP=nt-tap6
ipv6_tap "$ns" "$TAP" "$PREFIX::1/64"
# RA-only: prefix with the A flag, router lifetime 600 s, an RA every 10 s
# (and at once in answer to a router solicitation). --port=0: no DNS.
rig_bg "$ns" dnsmasq --no-daemon --conf-file=/dev/null --interface="$TAP" --bind-interfaces --port=0 \
    --enable-ra --dhcp-range="$PREFIX::,ra-only,64,1h" --ra-param="$TAP,10,600" \
    --pid-file="$LOGS/dnsmasq.pid" --log-facility="$LOGS/dnsmasq.log" >"$LOGS/dnsmasq.out" 2>&1
RA_PID=$RIG_PID
LOG="$LOGS/slaac.log"
# The guest's MLD reports (RFC 3810), captured from boot on.
rig_bg "$ns" timeout 120 tcpdump -i "$TAP" -U -n -w "$LOGS/mld.pcap" \
    "ether src $GUEST_MAC and ether dst 33:33:00:00:00:16" >"$LOGS/tcpdump.out" 2>&1
TCPDUMP_PID=$RIG_PID
rig_wait_until 10 grep -q "listening on" "$LOGS/tcpdump.out"
boot_guest "$ns" "$LOG" "" "$TAP"
rig_wait_until 20 rig_tap_attached "$ns" "$TAP" || fail "ipv6 rig" "QEMU never opened $TAP"

name="the link-local address from the MAC answers ($LINK_LOCAL)"
LL_UP=0
if answers "$ns" "$LINK_LOCAL%$TAP" 30; then
    pass "$name"
    LL_UP=1
else
    fail "$name" "no answer in 30 s ($(grep -iE 'ipv6|network' "$LOG" | tail -n 3))"
fi

name="the SLAAC address from the advertised prefix answers ($SLAAC)"
SLAAC_UP=0
if answers "$ns" "$SLAAC" 40; then
    pass "$name"
    SLAAC_UP=1
else
    fail "$name" "no answer in 40 s ($(grep -iE 'ipv6|slaac|network' "$LOG" | tail -n 3))"
fi

name="MLDv2 joins of the solicited-node group, twice (hop limit 1, router alert, ff02::16)"
# Link-local and SLAAC addresses share one interface identifier, so one
# group; both addresses answer by now, so the joins are out.
rig_stop "$TCPDUMP_PID"
out=$(python3 qemu/tests/mld_check.py "$LOGS/mld.pcap" "ff02::1:ff${IID: -7:2}:${IID: -4}" 2>&1)
if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi

name="the guest's neighbour entry carries its MAC"
out=$(ip -n "$ns" -6 neigh show dev "$TAP" 2>&1)
if grep -q "^$SLAAC lladdr $GUEST_MAC" <<<"$out"; then pass "$name"; else fail "$name" "neighbour table: $out"; fi

name="/stats lists the link-local and SLAAC addresses"
if [ "$SLAAC_UP" = 1 ]; then
    out=$(rig_exec "$ns" curl -6 -g -s -m 10 "http://[$SLAAC]/stats" 2>&1)
    if python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$out" 2>/dev/null &&
        grep -q "$SLAAC" <<<"$out" && grep -q "$LINK_LOCAL" <<<"$out"; then
        pass "$name"
    else
        fail "$name" "not valid JSON, or an address missing: $(head -c 300 <<<"$out")"
    fi
else
    fail "$name" "not tried: the address never answered"
fi

checks "$ns" "$SLAAC" SLAAC "$SLAAC_UP"
checks "$ns" "$LINK_LOCAL%$TAP" link-local "$LL_UP"

name="IPv4 still answers next to IPv6 (fallback address)"
rig_exec "$ns" ip addr add 10.0.2.2/24 dev "$TAP" 2>/dev/null
if rig_wait_until 30 rig_exec "$ns" ping -c 1 -W 1 10.0.2.15 >/dev/null 2>&1; then
    pass "$name"
else
    fail "$name" "10.0.2.15 does not answer ($(grep -E 'network' "$LOG" | tail -n 2))"
fi
rig_stop "$GUEST_PID"
rig_stop "$RA_PID"

# --- static address from the bootargs, no router advertisements --------------
ns=$(rig_create v6static) || exit 0
TAP=nt-tap7
ipv6_tap "$ns" "$TAP" "$STATIC_PREFIX::1/64"
LOG="$LOGS/static.log"
boot_guest "$ns" "$LOG" "ip6=$STATIC_PREFIX::2/64 gw6=$STATIC_PREFIX::1" "$TAP"
name="with ip6= the appliance answers at the static address"
if answers "$ns" "$STATIC_PREFIX::2" 30; then
    pass "$name"
else
    fail "$name" "no answer in 30 s ($(grep -iE 'ipv6|network|bootarg' "$LOG" | tail -n 3))"
fi
name="curl -6 at the static address"
code=$(rig_exec "$ns" curl -6 -g -s -m 10 -o /dev/null -w '%{http_code}' "http://[$STATIC_PREFIX::2]/" 2>&1)
if [ "$code" = 200 ]; then pass "$name"; else fail "$name" "status $code"; fi
rig_stop "$GUEST_PID"
LOG="$LOGS/bad.log"
boot_guest "$ns" "$LOG" "ip6=$STATIC_PREFIX::2/129 gw6=ff02::2" "$TAP"
name="bad ip6=/gw6= values are reported in the log and the boot goes on"
if wait_for_log "$LOG" "bootarg ip6=\"$STATIC_PREFIX::2/129\": invalid value, using the default" 20 &&
    wait_for_log "$LOG" 'bootarg gw6="ff02::2": invalid value, using the default' 1 &&
    wait_for_log "$LOG" "network: MAC $GUEST_MAC" 20; then
    pass "$name"
else
    fail "$name" "$(grep -E 'bootarg|network' "$LOG" | tail -n 3)"
fi
name="after a bad ip6= the link-local address still answers"
if answers "$ns" "$LINK_LOCAL%$TAP" 30; then
    pass "$name"
else
    fail "$name" "no answer in 30 s"
fi
rig_stop "$GUEST_PID"

# --- 2% loss, reordering and duplication through the impairing forwarder -----
# Neighbour discovery retries, fragments reassembled out of order and twice.
ns=$(rig_create v6impaired) || exit 0
TAP=nt-tap8
ipv6_tap "$ns" "$TAP" "$STATIC_PREFIX::1/64"
rig_bg "$ns" "$FORWARDER" --udp-local 127.0.0.1:47202 --udp-remote 127.0.0.1:47201 --tap "$TAP" \
    --seed 11 --loss 20000 --reorder 20000 --dup 20000 --duration-s 600 --stop-file "$LOGS/stop" >"$LOGS/forwarder.log" 2>&1
LOG="$LOGS/impaired.log"
boot_guest "$ns" "$LOG" "ip6=$STATIC_PREFIX::2/64" "dgram:47201:47202"
name="through 2% loss, reordering and duplication the static address answers"
IMPAIRED_UP=0
if answers "$ns" "$STATIC_PREFIX::2" 40; then
    pass "$name"
    IMPAIRED_UP=1
else
    fail "$name" "no answer in 40 s ($(grep -iE 'ipv6|network' "$LOG" | tail -n 2))"
fi
if [ "$IMPAIRED_UP" = 1 ]; then
    name="UDP echo 1 to 1452 bytes over IPv6 with 2% loss, reordering and duplication"
    out=$(rig_exec "$ns" python3 qemu/tests/udp_echo_check.py "$STATIC_PREFIX::2" --max 1452 --retries 8 --timeout 0.3 \
        --deadline 120 2>&1)
    if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi
    name="TCP echo of 1 MiB over IPv6 with 2% loss, reordering and duplication"
    out=$(rig_exec "$ns" "$ECHO_CHECK" "$STATIC_PREFIX::2" --bytes $((1 << 20)) --clients 1 --deadline 120 2>&1)
    if [ $? -eq 0 ]; then pass "$name ($out)"; else fail "$name" "$out"; fi
    # Each ping is 3 fragments each way: about 12% of them lose one.
    name="ping -6 -s 4000 through the impaired path (most answered)"
    out=$(rig_exec "$ns" ping -6 -c 20 -i 0.1 -s 4000 -W 1 "$STATIC_PREFIX::2" 2>&1)
    received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")
    if [ "${received:-0}" -ge 12 ]; then pass "$name ($received/20)"; else fail "$name" "$received/20 answered"; fi
else
    for what in "UDP echo" "TCP echo" "ping -6 -s 4000"; do
        fail "$what over IPv6 through the impaired path" "not tried: the address never answered"
    done
fi
touch "$LOGS/stop"
rig_stop "$GUEST_PID"
exit 0
