# shellcheck shell=bash
# The network-namespace test rig: a library that test scripts source to get
# throw-away network namespaces with TAP interfaces, so every test packet
# stays inside namespaces this rig made, and everything is removed on exit
# (normal or not). See qemu/README.md for the functions and topologies.
#
#   . qemu/rig.sh
#   ns=$(rig_create peer)                    # nt-<id>-peer
#   rig_tap "$ns" nt-tap0 10.77.0.1/24       # persistent TAP, Linux side up
#   rig_bg "$ns" ./my-program --tap nt-tap0  # runs inside, killed at exit
#   rig_exec "$ns" ping -c1 -W1 10.77.0.2
#
# Needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2. Every name the
# rig makes starts with "nt-" and a per-run id, so parallel runs and other
# projects' namespaces never collide. Every wait is bounded.

if [ -n "${RIG_LOADED:-}" ]; then
    return 0
fi
RIG_LOADED=1

# Per-run id: short (namespace names are free-form, but keep them readable)
# and unique among concurrent runs on this machine.
RIG_ID="${RIG_ID:-$$}"
RIG_PREFIX="nt-${RIG_ID}-"
# Records what was made, in files, so that state survives `$(...)`
# subshells (e.g. ns=$(rig_create a)) and cleanup sees everything.
RIG_STATE="$(mktemp -d "${TMPDIR:-/tmp}/nt-rig.XXXXXX")"
: >"$RIG_STATE/namespaces"
: >"$RIG_STATE/pids"

rig_log() { printf 'rig: %s\n' "$*" >&2; }
rig_die() {
    rig_log "error: $*"
    exit 1
}

# rig_require: fails early with a clear message if the rig cannot work here.
rig_require() {
    command -v ip >/dev/null || rig_die "iproute2 (ip) is not installed"
    [ "$(id -u)" -eq 0 ] || rig_die "must run as root (network namespaces and TAP devices)"
    [ -c /dev/net/tun ] || rig_die "/dev/net/tun is missing"
}

# rig_create NAME: makes namespace ${RIG_PREFIX}NAME with loopback up and
# prints its full name.
rig_create() {
    local name="${RIG_PREFIX}${1:?rig_create NAME}"
    rig_require
    ip netns add "$name" || rig_die "cannot create namespace $name"
    echo "$name" >>"$RIG_STATE/namespaces"
    ip -n "$name" link set lo up || rig_die "cannot bring up lo in $name"
    echo "$name"
}

# Set RIG_IPV6=1 to keep IPv6 on the rig's TAPs. By default it is off, so
# the Linux side sends no IPv6 router/neighbour/MLD chatter and tests see
# only the traffic they cause.
RIG_IPV6="${RIG_IPV6:-0}"

# rig_link_setup NS DEV [ADDR/PLEN]: the Linux side of DEV in NS: IPv6
# policy, optional address, link up.
rig_link_setup() {
    local ns="$1" dev="$2" addr="${3:-}"
    if [ "$RIG_IPV6" != 1 ]; then
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null || true
    fi
    if [ -n "$addr" ]; then
        ip -n "$ns" addr add "$addr" dev "$dev" || rig_die "cannot set $addr on $dev in $ns"
    fi
    ip -n "$ns" link set "$dev" up || rig_die "cannot bring up $dev in $ns"
}

# rig_tap NS TAPNAME [ADDR/PLEN]: makes a persistent TAP inside namespace
# NS, gives the Linux side ADDR/PLEN (if given) and brings it up. A program
# that opens TAPNAME (our stack, QEMU, the forwarder) must run inside NS
# (rig_exec or rig_bg). Deleting the namespace deletes the TAP.
rig_tap() {
    local ns="${1:?rig_tap NS TAP [ADDR/PLEN]}" tap="${2:?rig_tap NS TAP [ADDR/PLEN]}" addr="${3:-}"
    ip -n "$ns" tuntap add dev "$tap" mode tap || rig_die "cannot create TAP $tap in $ns"
    rig_link_setup "$ns" "$tap" "$addr"
}

# rig_tap_move FROM_NS TAPNAME TO_NS [ADDR/PLEN]: moves a TAP's Linux side
# into another namespace (addresses are lost in a move, so ADDR/PLEN is set
# again there). A program that already holds the TAP open keeps it across
# the move: this is how one forwarder bridges two TAPs whose Linux sides
# live in two different namespaces (open both in FROM_NS, then move).
rig_tap_move() {
    local from="${1:?rig_tap_move FROM TAP TO [ADDR/PLEN]}" tap="${2:?}" to="${3:?}" addr="${4:-}"
    ip -n "$from" link set "$tap" netns "$to" || rig_die "cannot move $tap from $from to $to"
    rig_link_setup "$to" "$tap" "$addr"
}

# rig_has_link NS DEV: true if DEV exists in NS (for rig_wait_until).
rig_has_link() {
    ip -n "$1" link show "$2" >/dev/null 2>&1
}

# rig_tap_attached NS TAPNAME: true once a program holds the TAP open
# (the kernel then reports carrier on it).
rig_tap_attached() {
    ip -n "$1" link show "$2" 2>/dev/null | grep -q 'LOWER_UP'
}

# rig_exec NS CMD...: runs CMD inside namespace NS.
rig_exec() {
    local ns="${1:?rig_exec NS CMD...}"
    shift
    ip netns exec "$ns" "$@"
}

# rig_bg NS CMD...: starts CMD in the background inside NS, records its pid
# for cleanup and sets RIG_PID to it. Output goes where the caller's goes;
# redirect inside CMD (e.g. via sh -c) to capture it.
rig_bg() {
    local ns="${1:?rig_bg NS CMD...}"
    shift
    ip netns exec "$ns" "$@" &
    RIG_PID=$!
    echo "$RIG_PID" >>"$RIG_STATE/pids"
}

# rig_wait_until SECONDS CMD...: retries CMD every 0.1 s until it succeeds
# or SECONDS pass; returns CMD's last status.
rig_wait_until() {
    local secs="${1:?rig_wait_until SECONDS CMD...}"
    shift
    local deadline=$((SECONDS + secs))
    while ! "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            return 1
        fi
        sleep 0.1
    done
}

# rig_wait_pid PID SECONDS: waits for a background process to exit, at most
# SECONDS; returns 0 if it exited.
rig_wait_pid() {
    local pid="${1:?rig_wait_pid PID SECONDS}" secs="${2:?rig_wait_pid PID SECONDS}"
    local deadline=$((SECONDS + secs))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# rig_stop PID: asks a recorded process to stop (TERM), then KILLs it if it
# is still there after 3 s.
rig_stop() {
    local pid="${1:?rig_stop PID}"
    kill -TERM "$pid" 2>/dev/null || return 0
    rig_wait_pid "$pid" 3 || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

# rig_cleanup: stops every process started with rig_bg and deletes every
# namespace made with rig_create (and with it their TAPs). Idempotent;
# installed on EXIT, INT and TERM when this file is sourced.
rig_cleanup() {
    [ -d "${RIG_STATE:-}" ] || return 0
    local pid ns
    while read -r pid; do
        [ -n "$pid" ] && rig_stop "$pid"
    done <"$RIG_STATE/pids"
    while read -r ns; do
        [ -n "$ns" ] || continue
        # Anything still running inside (e.g. started without rig_bg) would
        # keep the TAPs alive: kill it by pid, bounded.
        local pids
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || rig_log "could not delete namespace $ns"
    done <"$RIG_STATE/namespaces"
    rm -rf "$RIG_STATE"
    RIG_STATE=""
}

# rig_list: the namespaces this run made.
rig_list() {
    cat "$RIG_STATE/namespaces"
}

trap rig_cleanup EXIT
trap 'rig_cleanup; trap - INT; kill -INT $$' INT
trap 'rig_cleanup; trap - TERM; kill -TERM $$' TERM
