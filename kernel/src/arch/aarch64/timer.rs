//! The ARM generic timer: a monotonic clock (CNTPCT_EL0) and one one-shot
//! deadline (the EL1 physical timer, CNTP_*).
use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Readable, Writeable, CNTFRQ_EL0, CNTPCT_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0};
use core::sync::atomic::{AtomicU64, Ordering};

static FREQUENCY_HZ: AtomicU64 = AtomicU64::new(1);
static BOOT_TICKS: AtomicU64 = AtomicU64::new(0);

/// Records the counter frequency and the boot instant. `fallback_hz` is
/// used when firmware left CNTFRQ_EL0 at zero.
pub fn init(fallback_hz: u64) {
    let mut hz = CNTFRQ_EL0.get();
    if hz == 0 {
        hz = fallback_hz;
    }
    FREQUENCY_HZ.store(hz.max(1), Ordering::Relaxed);
    BOOT_TICKS.store(ticks(), Ordering::Relaxed);
    disarm();
}

pub fn frequency_hz() -> u64 {
    FREQUENCY_HZ.load(Ordering::Relaxed)
}

fn ticks() -> u64 {
    // The ISB keeps the counter read from being hoisted above earlier code.
    barrier::isb(barrier::SY);
    CNTPCT_EL0.get()
}

fn ticks_to_micros(t: u64) -> u64 {
    ((t as u128 * 1_000_000) / frequency_hz() as u128) as u64
}

fn micros_to_ticks(us: u64) -> u64 {
    ((us as u128 * frequency_hz() as u128) / 1_000_000).min(u64::MAX as u128) as u64
}

/// Microseconds since `init`.
pub fn uptime_micros() -> u64 {
    ticks_to_micros(ticks().wrapping_sub(BOOT_TICKS.load(Ordering::Relaxed)))
}

/// Arms the one-shot interrupt for `deadline_us` (microseconds since boot);
/// a deadline in the past fires at once.
pub fn arm(deadline_us: u64) {
    let at = BOOT_TICKS.load(Ordering::Relaxed).wrapping_add(micros_to_ticks(deadline_us));
    CNTP_CVAL_EL0.set(at);
    CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::SET + CNTP_CTL_EL0::IMASK::CLEAR);
}

/// Stops the deadline interrupt (its line is level-triggered: it stays
/// asserted until the timer is disarmed or re-armed in the future).
pub fn disarm() {
    CNTP_CTL_EL0.write(CNTP_CTL_EL0::ENABLE::CLEAR + CNTP_CTL_EL0::IMASK::SET);
}
