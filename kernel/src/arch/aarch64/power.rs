//! Ending the run: PSCI SYSTEM_OFF, or semihosting exit when QEMU runs with
//! `-semihosting` (PSCI always leaves QEMU with status 0; semihosting carries
//! the status, so tests can read pass or fail from the exit code).
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// How PSCI calls reach the firmware, as the DTB's `/psci` node says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciConduit {
    Hvc,
    Smc,
    /// No PSCI firmware (the Pi 4's spin tables): power-off halts the core.
    None,
}

static CONDUIT: AtomicU8 = AtomicU8::new(0); // 0 = hvc, 1 = smc, 2 = none
static SEMIHOSTING_EXIT: AtomicBool = AtomicBool::new(false);

const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
const PSCI_SYSTEM_RESET: u64 = 0x8400_0009;

pub fn set_conduit(conduit: PsciConduit) {
    let code = match conduit {
        PsciConduit::Hvc => 0,
        PsciConduit::Smc => 1,
        PsciConduit::None => 2,
    };
    CONDUIT.store(code, Ordering::Relaxed);
}

/// Exit through semihosting (only when QEMU was started with -semihosting:
/// otherwise the `hlt` would be an undefined instruction).
pub fn use_semihosting_exit(enabled: bool) {
    SEMIHOSTING_EXIT.store(enabled, Ordering::Relaxed);
}

fn psci_call(function: u64) {
    let conduit = CONDUIT.load(Ordering::Relaxed);
    if conduit == 2 {
        return; // nothing to call: the caller halts
    }
    if conduit == 1 {
        // SAFETY: a PSCI call hands control to firmware; it takes no memory.
        unsafe { core::arch::asm!("smc #0", inout("x0") function => _, options(nostack)) };
    } else {
        // SAFETY: as above, through the hypervisor conduit.
        unsafe { core::arch::asm!("hvc #0", inout("x0") function => _, options(nostack)) };
    }
}

/// Powers the machine off with `status` (0 = success).
pub fn exit(status: u32) -> ! {
    if SEMIHOSTING_EXIT.load(Ordering::Relaxed) {
        // ADP_Stopped_ApplicationExit and the status, as SYS_EXIT reads them.
        let block: [u64; 2] = [0x20026, status as u64];
        // SAFETY: SYS_EXIT (0x18) reads the two words at x1 and ends QEMU.
        unsafe { core::arch::asm!("hlt #0xf000", in("x0") 0x18u64, in("x1") block.as_ptr(), options(nostack)) };
    }
    psci_call(PSCI_SYSTEM_OFF);
    super::cpu::halt()
}

#[allow(dead_code)] // used by the appliance's reboot path later
pub fn reset() -> ! {
    psci_call(PSCI_SYSTEM_RESET);
    super::cpu::halt()
}
