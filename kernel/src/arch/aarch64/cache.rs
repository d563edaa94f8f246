//! Data cache maintenance by address, for devices whose DMA does not snoop
//! the caches (the Pi 4's GENET).
use aarch64_cpu::asm::barrier;

/// The smallest data cache line, from CTR_EL0.DminLine (bits 19:16, log2 of words).
fn line_size() -> usize {
    let ctr: u64;
    // SAFETY: reading the cache type register has no side effects.
    unsafe { core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    4 << ((ctr >> 16) & 0xf)
}

/// Runs `op` on every cache line of [start, start + len).
fn each_line(start: usize, len: usize, op: impl Fn(usize)) {
    if len == 0 {
        return;
    }
    let line = line_size();
    let mut address = start & !(line - 1);
    while address < start + len {
        op(address);
        address += line;
    }
    barrier::dsb(barrier::SY);
}

/// Writes back and drops the range's lines, so the CPU's next read comes
/// from memory (what a device wrote) and no dirty line is later written
/// over it.
pub fn clean_and_invalidate(start: usize, len: usize) {
    // SAFETY: clean and invalidate keeps the CPU's writes; nothing is lost.
    each_line(start, len, |a| unsafe { core::arch::asm!("dc civac, {}", in(reg) a, options(nostack)) });
}
