# QEMU launch profile for `-M virt`; sourced by scripts/run and the tests.
# shellcheck shell=bash

# The emulated machine the targets and benchmarks are stated for.
QEMU_CPU=${QEMU_CPU:-cortex-a72}
QEMU_MEM=${QEMU_MEM:-256M}

# qemu_virt_args MACHINE_OPTS KERNEL BOOTARGS [extra qemu args...]
# prints nothing; fills the array QEMU_ARGS.
qemu_virt_args() {
    local machine=$1 kernel=$2 bootargs=$3
    shift 3
    QEMU_ARGS=(
        -M "virt${machine:+,$machine}"
        -cpu "$QEMU_CPU" -m "$QEMU_MEM"
        -nographic -no-reboot
        -semihosting
        -kernel "$kernel"
        -append "exit=semihosting $bootargs"
        "$@"
    )
}

# User-mode networking with the appliance's host forwards: 127.0.0.1:8080
# to port 80 (HTTP) and 127.0.0.1:7007 to port 7 (echo, TCP and UDP).
QEMU_USER_NET=(
    -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:7007-:7,hostfwd=udp:127.0.0.1:7007-:7"
    -device "virtio-net-pci,netdev=net0,romfile="
)
