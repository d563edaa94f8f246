//! Detects overflow of the boot stack: a pattern written at its bottom at
//! boot must still be there. The MMU's 2 MiB blocks leave no room for a
//! guard page, so this is the check instead.
use core::ptr;

extern "C" {
    static __stack_bottom: u8;
}

const CANARY_WORDS: usize = 16;
const CANARY: u64 = 0x5354_4143_4b5f_454e; // "STACK_EN"

fn bottom() -> *mut u64 {
    ptr::addr_of!(__stack_bottom) as *mut u64
}

/// Writes the canary (at boot, with the stack pointer far above it).
pub fn arm() {
    for i in 0..CANARY_WORDS {
        // SAFETY: the lowest words of the stack region, which nothing uses until it overflows.
        unsafe { ptr::write_volatile(bottom().add(i), CANARY) };
    }
}

/// Whether the canary is intact.
pub fn intact() -> bool {
    // SAFETY: reads of the same words `arm` wrote.
    (0..CANARY_WORDS).all(|i| unsafe { ptr::read_volatile(bottom().add(i)) } == CANARY)
}

/// Panics if the stack has overflowed.
pub fn check() {
    if !intact() {
        panic!("stack overflow: the boot stack's canary was overwritten");
    }
}
