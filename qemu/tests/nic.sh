#!/usr/bin/env bash
# QEMU tests of the NIC driver: for each virtio transport (PCI transitional
# and modern-only, MMIO legacy and modern) and each GIC version, the kernel
# sends an ARP request to QEMU's user-mode gateway and must receive the
# reply through the device's interrupt (selftest=nic).
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. qemu/virt.sh
. qemu/tests/harness.sh

KERNEL=$(kernel_elf release)
LOGS=$(mktemp -d /tmp/appliance-nic-tests.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT

declare -A TRANSPORTS=(
    [pci-transitional]="-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile="
    [pci-modern]="-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile=,disable-legacy=on"
    [mmio-legacy]="-netdev user,id=n0 -device virtio-net-device,netdev=n0"
    [mmio-modern]="-global virtio-mmio.force-legacy=false -netdev user,id=n0 -device virtio-net-device,netdev=n0"
)

for transport in pci-transitional pci-modern mmio-legacy mmio-modern; do
    for gic in 2 3; do
        name="nic $transport gicv$gic: ARP through the driver and its interrupt"
        LOG="$LOGS/$transport-$gic.log"
        # shellcheck disable=SC2206
        extra=(${TRANSPORTS[$transport]})
        qemu_virt_args "gic-version=$gic" "$KERNEL" "selftest=nic" "${extra[@]}"
        timeout 60 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$LOG" 2>&1 </dev/null
        status=$?
        if [ "$status" -ne 0 ]; then
            fail "$name" "exit status $status (log: $(grep -E 'nic|ERROR|FATAL' "$LOG" | tail -n 3))"
        elif expect_in_log "$name" "$LOG" \
            "nic: virtio-${transport%%-*} virtio-net, MAC 52:54:00:12:34:56" \
            "selftest nic: 10\.0\.2\.2 is-at 52:55:0a:00:02:02 after [0-9]+ us, [1-9][0-9]* NIC interrupt" \
            "selftest nic: passed"; then
            pass "$name"
        fi
    done
done
exit 0
