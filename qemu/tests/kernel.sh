#!/usr/bin/env bash
# QEMU tests of the kernel itself: boot under GICv2 and GICv3, entered at
# EL1 and EL2; timer deadline interrupts; the fault report; bad bootargs;
# an idle appliance leaves the host CPU idle. Exit statuses come from
# semihosting (0 pass, 2 self-test failure, 3 unexpected exception).
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. qemu/virt.sh
. qemu/tests/harness.sh

KERNEL=$(kernel_elf release)
LOGS=$(mktemp -d /tmp/appliance-kernel-tests.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT

# boot NAME MACHINE BOOTARGS -> sets STATUS and LOG
boot() {
    LOG="$LOGS/$1.log"
    qemu_virt_args "$2" "$KERNEL" "$3" -nic none
    timeout 60 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$LOG" 2>&1 </dev/null
    STATUS=$?
}

for gic in 2 3; do
    for el in 1 2; do
        machine="gic-version=$gic"
        [ "$el" = 2 ] && machine="$machine,virtualization=on"
        name="boot gicv$gic el$el"
        boot "boot-gic$gic-el$el" "$machine" "selftest=boot"
        if [ "$STATUS" -ne 0 ]; then
            fail "$name" "exit status $STATUS (log: $(tail -n 3 "$LOG"))"
        elif expect_in_log "$name" "$LOG" \
            "network appliance [0-9]+\.[0-9]+\.[0-9]+" \
            "entered at EL$el, running at EL1, MMU on" \
            "RAM: 256 MiB at 0x40000000" \
            "GIC: version $gic" \
            "interrupts: GICv$gic with [0-9]+ lines" \
            "timer: 62\.500 MHz" \
            "device tree: [0-9]+ bytes" \
            "no PCIe host bridge|PCIe host bridge" \
            "selftest boot: passed"; then
            pass "$name"
        fi

        name="timer deadlines gicv$gic el$el"
        boot "timer-gic$gic-el$el" "$machine" "selftest=timer"
        if [ "$STATUS" -ne 0 ]; then
            fail "$name" "exit status $STATUS (log: $(grep selftest "$LOG" | tail -n 3))"
        elif expect_in_log "$name" "$LOG" "200000 us deadline interrupt [0-9]+ us late, 1 wakeup" "selftest timer: passed"; then
            pass "$name"
        fi
    done
done

name="fault reported with class and status"
boot fault "" "selftest=fault"
if [ "$STATUS" -ne 3 ]; then
    fail "$name" "exit status $STATUS, expected 3"
elif expect_in_log "$name" "$LOG" \
    "FATAL unexpected exception \(synchronous\): data abort from the current EL \(EC 0x25\), translation fault" \
    "FAR 0x0000dead00000000"; then
    pass "$name"
fi

name="panic reported with location and status"
boot panic "" "selftest=panic"
if [ "$STATUS" -ne 1 ]; then
    fail "$name" "exit status $STATUS, expected 1"
elif expect_in_log "$name" "$LOG" \
    "FATAL panic at kernel/src/selftest\.rs:[0-9]+:[0-9]+: selftest panic: the panic handler must report this"; then
    pass "$name"
fi

name="boots with 4 cores (secondaries stay parked)"
qemu_virt_args "" "$KERNEL" "selftest=timer" -nic none -smp 4
timeout 60 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$LOGS/smp.log" 2>&1 </dev/null
STATUS=$?
LOG="$LOGS/smp.log"
if [ "$STATUS" -ne 0 ]; then
    fail "$name" "exit status $STATUS"
elif expect_in_log "$name" "$LOG" "selftest timer: passed"; then
    pass "$name"
fi

name="bad bootargs give warnings and defaults"
boot badargs "" "selftest=boot ip=10.0.0.300/24 log=loud nonsense"
if [ "$STATUS" -ne 0 ]; then
    fail "$name" "exit status $STATUS"
elif expect_in_log "$name" "$LOG" \
    'bootarg ip="10.0.0.300/24": invalid value, using the default' \
    'bootarg "nonsense": unknown, ignored'; then
    pass "$name"
fi

name="devices found: virtio-mmio and PCI"
LOG="$LOGS/devices.log"
qemu_virt_args "" "$KERNEL" "selftest=boot" -nic none \
    -netdev user,id=m0 -device virtio-net-device,netdev=m0 \
    -netdev user,id=p0 -device virtio-net-pci,netdev=p0,romfile=
timeout 60 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$LOG" 2>&1 </dev/null
STATUS=$?
if [ "$STATUS" -ne 0 ]; then
    fail "$name" "exit status $STATUS"
elif expect_in_log "$name" "$LOG" \
    "device: virtio-mmio 0xa003e00\+0x200 \(INTID 79\): net \(device ID 1\), legacy transport" \
    "device: PCI 00:0[0-9a-f]\.0 1af4:1000 class 020000: virtio-net"; then
    pass "$name"
fi

# Idle: the WFI loop must leave QEMU's host thread near idle.
name="idle appliance leaves the host CPU idle"
LOG="$LOGS/idle.log"
qemu_virt_args "" "$KERNEL" "" -nic none
timeout 60 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$LOG" 2>&1 </dev/null &
QPID=$!
if wait_for_log "$LOG" "ready: idle in the event loop" 30; then
    sleep 1
    hz=$(getconf CLK_TCK)
    t0=$(awk '{print $14 + $15}' "/proc/$QPID/stat")
    sleep 3
    t1=$(awk '{print $14 + $15}' "/proc/$QPID/stat")
    percent=$(( (t1 - t0) * 100 / (3 * hz) ))
    if [ "$percent" -lt 25 ]; then
        pass "$name ($percent% of a core)"
    else
        fail "$name" "QEMU used $percent% of a core while the guest was idle"
    fi
else
    fail "$name" "never reached the event loop (log: $(tail -n 3 "$LOG"))"
fi
kill "$QPID" 2>/dev/null
wait "$QPID" 2>/dev/null
exit 0
