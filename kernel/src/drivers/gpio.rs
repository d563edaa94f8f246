//! BCM2711 GPIO: pin function select and pull resistors, just enough to give
//! the console pins to the PL011.
use super::mmio::MmioBlock;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_structs! {
    Registers {
        /// GPFSEL0-5: three bits per pin, ten pins a register.
        (0x00 => gpfsel: [ReadWrite<u32>; 6]),
        (0x18 => _reserved0),
        /// GPIO_PUP_PDN_CNTRL_REG0-3: two bits per pin, sixteen pins a register
        /// (BCM2711; the BCM2835's GPPUD sequence is gone).
        (0xe4 => pup_pdn: [ReadWrite<u32>; 4]),
        (0xf4 => @END),
    }
}

/// Pin function ALT0 in GPFSEL.
const FUNCTION_ALT0: u32 = 0b100;

pub struct Bcm2711Gpio {
    regs: MmioBlock<Registers>,
}

impl Bcm2711Gpio {
    /// # Safety
    /// `base` must be the mapped address of the BCM2711 GPIO block.
    pub unsafe fn new(base: usize) -> Bcm2711Gpio {
        // SAFETY: forwarded from this function's contract.
        Bcm2711Gpio { regs: unsafe { MmioBlock::new(base) } }
    }

    /// Gives `pin` (0-57) its ALT0 function with no pull resistor.
    pub fn select_alt0_no_pull(&self, pin: usize) {
        let (Some(fsel), Some(pull)) = (self.regs.gpfsel.get(pin / 10), self.regs.pup_pdn.get(pin / 16)) else {
            return;
        };
        let shift = (pin % 10) * 3;
        fsel.set(fsel.get() & !(0b111 << shift) | FUNCTION_ALT0 << shift);
        let shift = (pin % 16) * 2;
        pull.set(pull.get() & !(0b11 << shift));
    }
}
