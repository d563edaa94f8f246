//! Kernel self-tests chosen by the `selftest=` bootarg. Each ends the run
//! with an exit status, which `scripts/test` reads through semihosting.
use crate::arch::{cpu, power, timer};
use crate::irq;
use kernel::bootargs::SelfTest;
use log::{error, info};

/// How late a deadline interrupt may arrive under QEMU's TCG emulation.
const TIMER_TOLERANCE_US: u64 = 20_000;
/// An address no board maps (beyond the 39-bit virtual address range).
const UNMAPPED_ADDRESS: usize = 0xdead_0000_0000;

pub fn run(test: SelfTest, timer_intid: u32) -> ! {
    match test {
        SelfTest::Boot => {
            info!("selftest boot: passed");
            power::exit(crate::EXIT_SUCCESS)
        }
        SelfTest::Timer => timer_deadlines(timer_intid),
        SelfTest::Panic => panic!("selftest panic: the panic handler must report this"),
        SelfTest::Fault => {
            info!("selftest fault: reading unmapped address {UNMAPPED_ADDRESS:#x}");
            // Deliberately invalid: the read must fault.
            // SAFETY: the exception handler ends the run before the read could return.
            let value = unsafe { core::ptr::read_volatile(UNMAPPED_ADDRESS as *const u64) };
            error!("selftest fault: the read returned {value:#x} instead of faulting");
            power::exit(crate::EXIT_SELFTEST_FAILED)
        }
    }
}

/// Arms deadlines of several lengths; each interrupt must arrive after its
/// deadline and within the tolerance, waking the core from WFI.
fn timer_deadlines(timer_intid: u32) -> ! {
    let mut passed = true;
    for delay_us in [1_000u64, 10_000, 50_000, 200_000] {
        let armed_at = timer::uptime_micros();
        let deadline = armed_at + delay_us;
        timer::arm(deadline);
        let mut wakeups = 0u32;
        let arrived = loop {
            cpu::wait_for_interrupt_unless(irq::any_pending);
            wakeups += 1;
            if irq::take(timer_intid) {
                let now = timer::uptime_micros();
                timer::disarm();
                irq::unmask(timer_intid);
                break Some(now);
            }
            if timer::uptime_micros() > deadline + 10 * TIMER_TOLERANCE_US {
                break None;
            }
        };
        match arrived {
            Some(at) if at >= deadline && at - deadline <= TIMER_TOLERANCE_US => {
                info!("selftest timer: {delay_us} us deadline interrupt {} us late, {wakeups} wakeup(s)", at - deadline)
            }
            Some(at) => {
                passed = false;
                error!("selftest timer: {delay_us} us deadline interrupt at {at}, deadline {deadline}: outside tolerance");
            }
            None => {
                passed = false;
                error!("selftest timer: {delay_us} us deadline interrupt never arrived");
            }
        }
    }
    if passed {
        info!("selftest timer: passed ({} interrupts taken)", irq::total());
        power::exit(crate::EXIT_SUCCESS)
    } else {
        power::exit(crate::EXIT_SELFTEST_FAILED)
    }
}
