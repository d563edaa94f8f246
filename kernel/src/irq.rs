//! Interrupt dispatch. The IRQ vector acknowledges each interrupt, masks
//! its line, records it as pending and signals end of interrupt; the event
//! loop later takes the pending set, does the work, and unmasks the line.
//! Nothing else happens in interrupt context.
use crate::drivers::gic::{Gic, Trigger};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use spin::Once;

const WORDS: usize = 32; // 1024 interrupt IDs

static GIC: Once<Gic> = Once::new();
static PENDING: [AtomicU32; WORDS] = [const { AtomicU32::new(0) }; WORDS];
static TOTAL: AtomicU64 = AtomicU64::new(0);

/// Hands the initialised GIC to the dispatcher.
pub fn install(gic: Gic) -> &'static Gic {
    GIC.call_once(|| gic)
}

fn gic() -> Option<&'static Gic> {
    GIC.get()
}

/// Configures and enables `intid`.
pub fn enable(intid: u32, trigger: Trigger) {
    if let Some(g) = gic() {
        g.enable(intid, trigger);
    }
}

/// Re-enables a line after its work is done.
pub fn unmask(intid: u32) {
    if let Some(g) = gic() {
        g.unmask(intid);
    }
}

/// Called from the IRQ vector only.
pub fn handle() {
    let Some(g) = gic() else { return };
    while let Some(intid) = g.acknowledge() {
        g.mask(intid);
        if let Some(word) = PENDING.get(intid as usize / 32) {
            word.fetch_or(1 << (intid % 32), Ordering::AcqRel);
        }
        TOTAL.fetch_add(1, Ordering::Relaxed);
        g.end_of_interrupt(intid);
    }
}

/// Whether any interrupt awaits the loop.
pub fn any_pending() -> bool {
    PENDING.iter().any(|w| w.load(Ordering::Acquire) != 0)
}

/// Takes `intid`'s pending flag; true if it was set.
pub fn take(intid: u32) -> bool {
    PENDING
        .get(intid as usize / 32)
        .is_some_and(|w| w.fetch_and(!(1 << (intid % 32)), Ordering::AcqRel) & (1 << (intid % 32)) != 0)
}

/// Takes every pending interrupt ID, calling `f` for each.
pub fn drain(mut f: impl FnMut(u32)) {
    for (i, word) in PENDING.iter().enumerate() {
        let mut bits = word.swap(0, Ordering::AcqRel);
        while bits != 0 {
            let bit = bits.trailing_zeros();
            bits &= bits - 1;
            f(i as u32 * 32 + bit);
        }
    }
}

/// Interrupts taken since boot.
pub fn total() -> u64 {
    TOTAL.load(Ordering::Relaxed)
}
