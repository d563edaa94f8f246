#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for N seconds (default 60),
# one after another (never in parallel), and prints one summary line per
# target.
#
#   net/fuzz/run.sh 60
#   net/fuzz/run.sh 120 tcp_socket dns
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain.
# Crashing inputs land in net/fuzz/artifacts/<target>/; the corpus grows in
# net/fuzz/corpus/<target>/ and is reused by the next run.
set -u
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=(ethernet arp ipv4 icmpv4 udp tcp dhcpv4 dns ipv6 icmpv6 tcp_socket dhcp_client dns_resolver)
if [ "$#" -gt 0 ]; then
    targets=("$@")
fi

if ! cargo +nightly fuzz build >/dev/null 2>&1; then
    echo "build failed: run 'cargo +nightly fuzz build' in $(pwd) to see why" >&2
    exit 2
fi

stat() { grep -o "stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$' | tail -1; }

failed=0
printf '%-14s %-7s %12s %8s %10s %6s %6s\n' target result execs seconds execs/s cov corpus
for t in "${targets[@]}"; do
    log=$(mktemp)
    start=$(date +%s)
    cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))
    execs=$(stat number_of_executed_units "$log")
    rate=$(stat average_exec_per_sec "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        result=CRASH
        failed=1
    fi
    printf '%-14s %-7s %12s %8s %10s %6s %6s\n' "$t" "$result" "${execs:-?}" "$elapsed" \
        "${rate:-?}" "${cov:-?}" "${corp:-?}"
    if [ "$rc" -ne 0 ]; then
        grep -E -A2 'panicked|Test unit written|SUMMARY' "$log" | sed 's/^/    /'
    fi
    rm -f "$log"
done
exit "$failed"
