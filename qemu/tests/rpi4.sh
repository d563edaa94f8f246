#!/usr/bin/env bash
# QEMU tests of the Raspberry Pi 4 image (kernel8.img from scripts/build-rpi4)
# under `-M raspi4b`: the SD card folder, boot with the Pi 4 device tree
# (banner, GIC-400, PL011, no GENET), timer deadline interrupts through the
# GIC-400, a fault report, the GENET node of the Pi 4 tree (address
# translation, MAC, PHY; enabled and disabled), boot from the board
# defaults without a device tree (the GENET probe finds nothing and says
# so), and an idle appliance without a NIC. Exit statuses come from semihosting (0 pass, 2 self-test
# failure, 3 unexpected exception).
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. qemu/rpi4.sh
. qemu/tests/harness.sh

LOGS=$(mktemp -d /tmp/appliance-rpi4-tests.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT

name="build-rpi4 makes the SD card folder"
if ! SDCARD=$(scripts/build-rpi4 2>"$LOGS/build.log" | tail -n1) || [ ! -d "$SDCARD" ]; then
    fail "$name" "scripts/build-rpi4 failed: $(tail -n 5 "$LOGS/build.log")"
    exit 0
fi
missing=""
for f in kernel8.img config.txt start4.elf fixup4.dat bcm2711-rpi-4-b.dtb; do
    [ -s "$SDCARD/$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
    fail "$name" "missing:$missing"
    exit 0
elif ! grep -qx 'arm_64bit=1' "$SDCARD/config.txt"; then
    fail "$name" "config.txt lacks arm_64bit=1"
else
    pass "$name"
fi
KERNEL=$SDCARD/kernel8.img
DTB=$SDCARD/bcm2711-rpi-4-b.dtb

name="build-rpi4 again changes nothing and downloads nothing"
before=$(stat -c '%n %Y %s' "$SDCARD"/*)
if ! scripts/build-rpi4 >/dev/null 2>"$LOGS/rebuild.log"; then
    fail "$name" "failed: $(tail -n 3 "$LOGS/rebuild.log")"
elif grep -Eq 'apt-get|dpkg' "$LOGS/rebuild.log"; then
    fail "$name" "it ran: $(grep -E 'apt-get|dpkg' "$LOGS/rebuild.log" | head -n 1)"
elif [ "$(stat -c '%n %Y %s' "$SDCARD"/*)" != "$before" ]; then
    fail "$name" "the SD card folder changed"
else
    pass "$name"
fi

# boot NAME DTB BOOTARGS -> sets STATUS and LOG (runs until the image exits).
boot() {
    LOG="$LOGS/$1.log"
    qemu_rpi4_args "$KERNEL" "$2" "$3"
    timeout 60 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$LOG" 2>&1 </dev/null
    STATUS=$?
}

name="rpi4 boots with the Pi 4 device tree: banner, GIC-400, PL011, no GENET"
boot boot "$DTB" "selftest=boot"
if [ "$STATUS" -ne 0 ]; then
    fail "$name" "exit status $STATUS (log: $(tail -n 3 "$LOG"))"
elif expect_in_log "$name" "$LOG" \
    "network appliance [0-9]+\.[0-9]+\.[0-9]+" \
    "board: Raspberry Pi 4, model Raspberry Pi 4 Model B \| CPU Cortex-A72" \
    "entered at EL2, running at EL1, MMU on, caches on" \
    "device tree: [0-9]+ bytes at 0x" \
    "GIC: version 2, distributor 0xff841000, CPU interface 0xff842000" \
    "interrupts: GICv2 with [0-9]+ lines" \
    "timer: [0-9]+\.[0-9]{3} MHz, deadline interrupt INTID 30" \
    "console: PL011 at 0xfe201000" \
    "nic: no GENET in the device tree" \
    "nic: no network device found; running without network" \
    "selftest boot: passed"; then
    pass "$name"
fi

# The self-test also fails an interrupt more than 20 ms late, which TCG on
# this shared 2-core machine sometimes is under load; what this test wants
# is that every deadline interrupt arrives, not early, through the GIC-400.
# late_only LOG: true if the only failures are interrupts that came late.
late_only() {
    ! grep -q "never arrived" "$1" &&
        grep "outside tolerance" "$1" | sed -E 's/.* at ([0-9]+), deadline ([0-9]+):.*/\1 \2/' |
        awk '$1 < $2 { early = 1 } END { exit early }' &&
        [ "$(grep -cE "deadline interrupt ([0-9]+ us late|at [0-9]+, deadline)" "$1")" -eq 4 ]
}
name="rpi4 timer deadline interrupts through the GIC-400"
boot timer "$DTB" "selftest=timer"
if [ "$STATUS" -eq 2 ] && late_only "$LOG"; then
    pass "$name (some late: the machine is loaded)"
elif [ "$STATUS" -ne 0 ]; then
    fail "$name" "exit status $STATUS (log: $(grep selftest "$LOG" | tail -n 3))"
elif expect_in_log "$name" "$LOG" \
    "1000 us deadline interrupt [0-9]+ us late, 1 wakeup" \
    "200000 us deadline interrupt [0-9]+ us late, 1 wakeup" \
    "selftest timer: passed \(4 interrupts taken\)"; then
    pass "$name"
fi

name="rpi4 fault reported with class and status"
boot fault "$DTB" "selftest=fault"
if [ "$STATUS" -ne 3 ]; then
    fail "$name" "exit status $STATUS, expected 3"
elif expect_in_log "$name" "$LOG" \
    "FATAL unexpected exception \(synchronous\): data abort from the current EL \(EC 0x25\), translation fault" \
    "FAR 0x0000dead00000000"; then
    pass "$name"
fi

# QEMU drops the node compatible with "brcm,bcm2711-genet-v5" from the tree
# it passes; under the other compatible the driver accepts, the node stays,
# so the kernel's reading of the real Pi 4 node can be checked: its address
# through the /scb bus's ranges, its interrupt, the MAC the firmware would
# add, the PHY through phy-handle.
GENET_NODE=/scb/ethernet@7d580000
name="rpi4 GENET node read from the Pi 4 tree, probe finds nothing"
if ! command -v fdtput >/dev/null; then
    fail "$name" "fdtput (device-tree-compiler) is missing: run scripts/setup"
else
    cp "$DTB" "$LOGS/genet.dtb"
    fdtput -t s "$LOGS/genet.dtb" "$GENET_NODE" compatible brcm,genet-v5
    fdtput -t bx "$LOGS/genet.dtb" "$GENET_NODE" local-mac-address dc a6 32 01 02 03
    boot genet "$LOGS/genet.dtb" "selftest=boot"
    if [ "$STATUS" -ne 0 ]; then
        fail "$name" "exit status $STATUS (log: $(tail -n 3 "$LOG"))"
    elif expect_in_log "$name" "$LOG" \
        "device: GENET at 0xfd580000 \(INTID 189\), MAC dc:a6:32:01:02:03, PHY at MDIO address 1" \
        "nic: GENET at 0xfd580000: nothing answers \(external abort on SYS_REV_CTRL\)" \
        "nic: no network device found; running without network" \
        "selftest boot: passed"; then
        pass "$name"
    fi

    name="rpi4 GENET marked disabled in the tree is not probed"
    fdtput -t s "$LOGS/genet.dtb" "$GENET_NODE" status disabled
    boot genet-disabled "$LOGS/genet.dtb" "selftest=boot"
    if [ "$STATUS" -ne 0 ]; then
        fail "$name" "exit status $STATUS (log: $(tail -n 3 "$LOG"))"
    elif grep -q "nothing answers" "$LOG"; then
        fail "$name" "the disabled GENET was probed"
    elif expect_in_log "$name" "$LOG" \
        "device: GENET at 0xfd580000 \(INTID 189\), disabled" \
        "nic: GENET at 0xfd580000 is disabled in the device tree: not probed" \
        "selftest boot: passed"; then
        pass "$name"
    fi
fi

# idle NAME DTB -> runs the appliance until it idles, then checks it stays
# up and leaves the host CPU idle; sets LOG. Passes NAME or fails it.
idle() {
    local name=$1
    LOG="$LOGS/$2.log"
    qemu_rpi4_args "$KERNEL" "$3" ""
    timeout 60 qemu-system-aarch64 "${QEMU_ARGS[@]}" >"$LOG" 2>&1 </dev/null &
    local qpid=$!
    if ! wait_for_log "$LOG" "ready: idle in the event loop" 30; then
        fail "$name" "never reached the event loop (log: $(tail -n 3 "$LOG"))"
    else
        sleep 1
        local hz t0 t1 percent
        hz=$(getconf CLK_TCK)
        t0=$(awk '{print $14 + $15}' "/proc/$qpid/stat")
        sleep 2
        t1=$(awk '{print $14 + $15}' "/proc/$qpid/stat")
        percent=$(((t1 - t0) * 100 / (2 * hz)))
        if ! kill -0 "$qpid" 2>/dev/null; then
            fail "$name" "QEMU ended while the appliance should idle (log: $(tail -n 3 "$LOG"))"
        elif grep -q FATAL "$LOG"; then
            fail "$name" "$(grep FATAL "$LOG" | head -n 1)"
        elif [ "$percent" -ge 25 ]; then
            fail "$name" "QEMU used $percent% of a core while the guest was idle"
        elif shift 3 && expect_in_log "$name" "$LOG" "$@"; then
            pass "$name ($percent% of a core)"
        fi
    fi
    kill "$qpid" 2>/dev/null
    wait "$qpid" 2>/dev/null
}

idle "rpi4 without a device tree: board defaults, GENET probe finds nothing, idles" nodtb "" \
    "no device tree: using the Raspberry Pi 4 board defaults" \
    "RAM: 948 MiB at 0x0" \
    "GIC: version 2, distributor 0xff841000, CPU interface 0xff842000" \
    "nic: GENET at 0xfd580000: nothing answers \(external abort on SYS_REV_CTRL\)" \
    "nic: no network device found; running without network"

idle "rpi4 with the device tree and no NIC idles in the event loop" idle "$DTB" \
    "nic: no network device found; running without network"
exit 0
