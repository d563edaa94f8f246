//! Reading a device register that may not be there. An absent device can
//! answer with a synchronous external abort (QEMU's `raspi4b` does where
//! the Pi 4's GENET would be); the exception handler turns an abort on the
//! one probing load into a failed read instead of a fatal report.

core::arch::global_asm!(
    ".section .text",
    ".global probe_read_u32",
    ".global probe_read_u32_load",
    // In: x0 = address. Out: x0 = value, x1 = 0, or x1 = 1 if the load
    // aborted (the handler sets it and skips the load).
    "probe_read_u32:",
    "    mov x1, #0",
    "probe_read_u32_load:",
    "    ldr w0, [x0]",
    "    ret",
);

#[repr(C)]
struct ProbeResult {
    value: u64,
    aborted: u64,
}

extern "C" {
    fn probe_read_u32(address: usize) -> ProbeResult;
    static probe_read_u32_load: u8;
}

/// Reads the 32-bit register at `address`; `None` if the access aborted.
///
/// # Safety
/// `address` must be 4-byte aligned and either a device register whose read
/// has no side effects, or nothing at all.
pub unsafe fn read_u32(address: usize) -> Option<u32> {
    // SAFETY: forwarded from this function's contract; an abort is caught.
    let result = unsafe { probe_read_u32(address) };
    (result.aborted == 0).then_some(result.value as u32)
}

/// Called by the synchronous exception handler for a data abort at `elr`:
/// if it is the probing load, marks the read failed, skips the load and
/// returns true (the handler then returns to the probe).
pub fn recover(elr: &mut u64, x: &mut [u64; 31]) -> bool {
    // Only the address of the symbol is taken.
    let load = core::ptr::addr_of!(probe_read_u32_load) as u64;
    if *elr != load {
        return false;
    }
    x[0] = 0;
    x[1] = 1;
    *elr += 4;
    true
}
