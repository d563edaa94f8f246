# Shared helpers for the scripts; sourced, not run.
# shellcheck shell=bash

TARGET=aarch64-unknown-none
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Which toolchain builds the kernel: "rustup" (the target's prebuilt core),
# "debian" (Debian's rustc-web with build-std), or "none".
# APPLIANCE_RUST_MODE=debian forces the fallback (to test it).
rust_mode() {
    if [ -n "${APPLIANCE_RUST_MODE:-}" ]; then
        echo "$APPLIANCE_RUST_MODE"
    elif command -v rustup >/dev/null 2>&1 && (cd "$ROOT" && rustup target list --installed 2>/dev/null) | grep -qx "$TARGET"; then
        echo rustup
    elif [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ]; then
        echo debian
    else
        echo none
    fi
}

# Runs cargo for the kernel target with the toolchain rust_mode found.
kernel_cargo() {
    case "$(rust_mode)" in
        rustup)
            (cd "$ROOT" && cargo "$@" --target "$TARGET")
            ;;
        debian)
            # Debian's rustc has no rust-lld: link with Debian's lld.
            local lld
            lld=$(command -v ld.lld-22 || command -v ld.lld || ls /usr/bin/ld.lld-* 2>/dev/null | tail -n1)
            (cd "$ROOT" && RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_AARCH64_UNKNOWN_NONE_LINKER="$lld" \
                /usr/bin/cargo "$@" --target "$TARGET" \
                -Zbuild-std=core,alloc -Zbuild-std-features=compiler-builtins-mem)
            ;;
        *)
            echo "no aarch64 toolchain: run scripts/setup" >&2
            return 1
            ;;
    esac
}

# Runs cargo for host code (tests, examples, benches).
host_cargo() {
    case "$(rust_mode)" in
        debian) (cd "$ROOT" && RUSTC=/usr/bin/rustc /usr/bin/cargo "$@") ;;
        *) (cd "$ROOT" && cargo "$@") ;;
    esac
}

# Path of the built kernel ELF for a profile (release or debug).
kernel_elf() {
    echo "$ROOT/target/$TARGET/${1:-release}/kernel"
}

# Builds the TCP echo checker (tools/echo-check, a host program) and prints
# its path; the tests and benchmarks run it as the echo client.
echo_check_bin() {
    host_cargo build -q --release -p echo-check >&2 && echo "$ROOT/target/release/echo-check"
}
