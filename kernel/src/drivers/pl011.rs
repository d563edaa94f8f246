//! ARM PL011 UART: transmit for the console log (polled).
use super::mmio::MmioBlock;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {u32,
    FR [
        TXFF OFFSET(5) NUMBITS(1) [],
        BUSY OFFSET(3) NUMBITS(1) []
    ],
    LCR_H [
        WLEN OFFSET(5) NUMBITS(2) [EightBit = 0b11],
        FEN OFFSET(4) NUMBITS(1) []
    ],
    CR [
        RXE OFFSET(9) NUMBITS(1) [],
        TXE OFFSET(8) NUMBITS(1) [],
        UARTEN OFFSET(0) NUMBITS(1) []
    ]
}

register_structs! {
    Registers {
        (0x00 => dr: ReadWrite<u32>),
        (0x04 => _reserved0),
        (0x18 => fr: ReadOnly<u32, FR::Register>),
        (0x1c => _reserved1),
        (0x24 => ibrd: ReadWrite<u32>),
        (0x28 => fbrd: ReadWrite<u32>),
        (0x2c => lcr_h: ReadWrite<u32, LCR_H::Register>),
        (0x30 => cr: ReadWrite<u32, CR::Register>),
        (0x34 => _reserved2),
        (0x44 => icr: WriteOnly<u32>),
        (0x48 => @END),
    }
}

pub struct Pl011 {
    regs: MmioBlock<Registers>,
}

/// Bounds every wait on the UART, so a wedged device cannot hang logging.
const SPIN_LIMIT: u32 = 1_000_000;

impl Pl011 {
    /// # Safety
    /// `base` must be the mapped address of a PL011.
    pub unsafe fn new(base: usize) -> Pl011 {
        // SAFETY: forwarded from this function's contract.
        Pl011 { regs: unsafe { MmioBlock::new(base) } }
    }

    /// 8N1, FIFOs on; with `clock_hz` known, 115200 baud (QEMU ignores it).
    pub fn init(&self, clock_hz: Option<u32>) {
        self.regs.cr.set(0);
        self.wait_idle();
        self.regs.icr.set(0x7ff);
        if let Some(clock) = clock_hz {
            // Divisor = clock / (16 * baud) in 16.6 fixed point.
            let div64 = (clock as u64 * 4).div_ceil(115_200);
            self.regs.ibrd.set((div64 >> 6) as u32);
            self.regs.fbrd.set((div64 & 0x3f) as u32);
        }
        self.regs.lcr_h.write(LCR_H::WLEN::EightBit + LCR_H::FEN::SET);
        self.regs.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
    }

    fn wait_idle(&self) {
        let mut spins = 0;
        while self.regs.fr.is_set(FR::BUSY) && spins < SPIN_LIMIT {
            spins += 1;
        }
    }

    pub fn write_byte(&self, byte: u8) {
        let mut spins = 0;
        while self.regs.fr.is_set(FR::TXFF) && spins < SPIN_LIMIT {
            spins += 1;
        }
        self.regs.dr.set(byte as u32);
    }
}

impl core::fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(b);
        }
        Ok(())
    }
}
