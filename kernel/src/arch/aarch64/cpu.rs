//! Core-local primitives: interrupt masking and waiting.
use aarch64_cpu::asm;
use aarch64_cpu::registers::{Readable, MIDR_EL1, MPIDR_EL1};

/// Unmasks IRQs on this core (done once the GIC and handlers are ready).
pub fn enable_irqs() {
    // SAFETY: the vector table is installed before this is called.
    unsafe { core::arch::asm!("msr daifclr, #2", options(nomem, nostack)) };
}

/// Sleeps until an interrupt is pending unless `has_work` says there is
/// work. IRQs are masked while deciding, so an interrupt arriving between
/// the check and the WFI still wakes the core (WFI wakes on a pending
/// interrupt even when masked); it is taken when IRQs are unmasked.
pub fn wait_for_interrupt_unless(has_work: impl FnOnce() -> bool) {
    // SAFETY: masking IRQs has no memory-safety effect.
    unsafe { core::arch::asm!("msr daifset, #2", options(nomem, nostack)) };
    if !has_work() {
        asm::wfi();
    }
    // SAFETY: handlers are installed; pending IRQs are taken here.
    unsafe { core::arch::asm!("msr daifclr, #2", "isb", options(nomem, nostack)) };
}

/// Stops this core for good.
pub fn halt() -> ! {
    loop {
        asm::wfe();
    }
}

/// The CPU's identity for the banner, e.g. "Cortex-A72 r0p3".
pub fn description() -> (&'static str, u64, u64) {
    let midr = MIDR_EL1.get();
    let part = (midr >> 4) & 0xfff;
    let name = match (midr >> 24, part) {
        (0x41, 0xd03) => "Cortex-A53",
        (0x41, 0xd07) => "Cortex-A57",
        (0x41, 0xd08) => "Cortex-A72",
        (0x41, 0xd0b) => "Cortex-A76",
        (0x41, 0xd0c) => "Neoverse-N1",
        (0x41, 0xd40) => "Neoverse-V1",
        (0x41, 0xd49) => "Neoverse-N2",
        (0x00, 0x051) => "QEMU max",
        _ => "unknown core",
    };
    (name, (midr >> 20) & 0xf, midr & 0xf)
}

/// This core's affinity (MPIDR Aff0..Aff3 packed as the GICv3 router wants).
pub fn affinity() -> u64 {
    let mpidr = MPIDR_EL1.get();
    (mpidr & 0xff_ffff) | ((mpidr >> 32 & 0xff) << 32)
}

/// Zeroes `len` bytes at `ptr`: the 64-byte-aligned inside with pairs of
/// 16-byte stores (`stp` of the zero register), the edges byte by byte.
/// Boot-time buffers of tens of MiB are zeroed this way several times
/// faster than by the generic `memset` (under QEMU's TCG every guest store
/// costs a translated access, so fewer, wider stores win; `DC ZVA` is a
/// helper call per 64 bytes there and measured slower).
///
/// # Safety
/// `ptr..ptr + len` must be writable memory that nothing else accesses
/// meanwhile.
pub unsafe fn zero_memory(ptr: *mut u8, len: usize) {
    const BLOCK: usize = 64;
    let start = ptr as usize;
    let end = start + len;
    let first = start.next_multiple_of(BLOCK).min(end);
    let last = (end & !(BLOCK - 1)).max(first);
    // SAFETY: [start, first) and [last, end) lie inside the caller's range.
    unsafe {
        core::ptr::write_bytes(ptr, 0, first - start);
        core::ptr::write_bytes(last as *mut u8, 0, end - last);
    }
    if first < last {
        // The loop writes exactly [first, last), whole 64-byte blocks.
        // SAFETY: that range lies inside the caller's writable range.
        unsafe {
            core::arch::asm!(
                "2:",
                "stp xzr, xzr, [{p}]",
                "stp xzr, xzr, [{p}, #16]",
                "stp xzr, xzr, [{p}, #32]",
                "stp xzr, xzr, [{p}, #48]",
                "add {p}, {p}, #64",
                "cmp {p}, {end}",
                "b.lo 2b",
                p = inout(reg) first => _,
                end = in(reg) last,
                options(nostack),
            );
        }
    }
}
