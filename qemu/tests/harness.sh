# Minimal test reporting shared by the QEMU and end-to-end suites; sourced.
# Each check prints "PASS name" or "FAIL name: why"; scripts/test counts them.
# shellcheck shell=bash

pass() { printf 'PASS %s\n' "$1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; }

# expect_in_log NAME LOGFILE PATTERN... : every extended regex must match.
expect_in_log() {
    local name=$1 log=$2
    shift 2
    local pattern
    for pattern in "$@"; do
        if ! grep -Eq -- "$pattern" "$log"; then
            fail "$name" "log lacks /$pattern/ (log: $log)"
            return 1
        fi
    done
    return 0
}

# wait_for_log LOGFILE PATTERN SECONDS: bounded wait for a line to appear.
wait_for_log() {
    local log=$1 pattern=$2 seconds=$3
    local deadline=$((SECONDS + seconds))
    while [ "$SECONDS" -lt "$deadline" ]; do
        grep -Eq -- "$pattern" "$log" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
