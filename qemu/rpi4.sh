# QEMU launch profile for `-M raspi4b` (the Raspberry Pi 4 image); sourced
# by the tests. QEMU does not run the Pi firmware: it loads kernel8.img at
# 0x80000 itself, as a raw 64-bit image, enters it at EL2 with the DTB
# pointer in x0 (when -dtb is given; -append then lands in
# /chosen/bootargs) and parks cores 1-3 on the spin tables. It has no GENET
# (it removes the node from the tree it passes) and no PSCI.
# shellcheck shell=bash

# qemu_rpi4_args KERNEL8_IMG DTB BOOTARGS [extra qemu args...]
# DTB empty: no device tree at all (the image runs from its board defaults,
# and BOOTARGS cannot be passed). Fills the array QEMU_ARGS.
qemu_rpi4_args() {
    local kernel=$1 dtb=$2 bootargs=$3
    shift 3
    QEMU_ARGS=(-M raspi4b -nographic -no-reboot -semihosting -kernel "$kernel")
    if [ -n "$dtb" ]; then
        QEMU_ARGS+=(-dtb "$dtb" -append "exit=semihosting $bootargs")
    fi
    QEMU_ARGS+=("$@")
}
