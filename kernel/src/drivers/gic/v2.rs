//! GICv2 (and the GIC-400 of the Raspberry Pi 4): memory-mapped distributor
//! and CPU interface.
use super::{Trigger, DEFAULT_PRIORITY};
use crate::drivers::mmio::MmioBlock;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

register_structs! {
    Distributor {
        (0x000 => ctlr: ReadWrite<u32>),
        (0x004 => typer: ReadOnly<u32>),
        (0x008 => _reserved0),
        (0x100 => isenabler: [ReadWrite<u32>; 32]),
        (0x180 => icenabler: [ReadWrite<u32>; 32]),
        (0x200 => _reserved1),
        (0x280 => icpendr: [ReadWrite<u32>; 32]),
        (0x300 => _reserved2),
        (0x400 => ipriorityr: [ReadWrite<u8>; 1020]),
        (0x7fc => _reserved3),
        (0x800 => itargetsr: [ReadWrite<u8>; 1020]),
        (0xbfc => _reserved4),
        (0xc00 => icfgr: [ReadWrite<u32>; 64]),
        (0xd00 => @END),
    }
}

register_structs! {
    CpuInterface {
        (0x000 => ctlr: ReadWrite<u32>),
        (0x004 => pmr: ReadWrite<u32>),
        (0x008 => bpr: ReadWrite<u32>),
        (0x00c => iar: ReadOnly<u32>),
        (0x010 => eoir: WriteOnly<u32>),
        (0x014 => @END),
    }
}

pub struct GicV2 {
    gicd: MmioBlock<Distributor>,
    gicc: MmioBlock<CpuInterface>,
}

impl GicV2 {
    /// # Safety
    /// The addresses must be a mapped GICv2 distributor and CPU interface.
    pub unsafe fn new(distributor: usize, cpu_interface: usize) -> GicV2 {
        // SAFETY: forwarded from this function's contract.
        unsafe { GicV2 { gicd: MmioBlock::new(distributor), gicc: MmioBlock::new(cpu_interface) } }
    }

    pub fn lines(&self) -> u32 {
        ((self.gicd.typer.get() & 0x1f) + 1) * 32
    }

    pub fn init(&self) {
        self.gicd.ctlr.set(0);
        let words = (self.lines() / 32) as usize;
        for i in 0..words.min(32) {
            self.gicd.icenabler[i].set(u32::MAX);
            self.gicd.icpendr[i].set(u32::MAX);
        }
        for intid in 32..self.lines().min(1020) as usize {
            self.gicd.itargetsr[intid].set(1); // core 0
        }
        // Group 0 and group 1 forwarding: without security extensions the
        // lines are group 0; under Pi firmware they are non-secure group 1.
        self.gicd.ctlr.set(0b11);
        self.gicc.pmr.set(0xff);
        self.gicc.bpr.set(0);
        self.gicc.ctlr.set(0b11);
    }

    pub fn enable(&self, intid: u32, trigger: Trigger) {
        let i = intid as usize;
        if i >= 1020 {
            return;
        }
        self.gicd.ipriorityr[i].set(DEFAULT_PRIORITY);
        if intid >= 32 {
            let (word, shift) = (i / 16, (i % 16) * 2);
            let edge = matches!(trigger, Trigger::Edge) as u32;
            let cfg = self.gicd.icfgr[word].get() & !(0b10 << shift);
            self.gicd.icfgr[word].set(cfg | (edge << (shift + 1)));
            self.gicd.itargetsr[i].set(1);
        }
        self.set_enabled(intid, true);
    }

    pub fn set_enabled(&self, intid: u32, enabled: bool) {
        let (word, bit) = ((intid / 32) as usize, 1 << (intid % 32));
        if word < 32 {
            if enabled {
                self.gicd.isenabler[word].set(bit);
            } else {
                self.gicd.icenabler[word].set(bit);
            }
        }
    }

    pub fn acknowledge(&self) -> u32 {
        self.gicc.iar.get() & 0x3ff
    }

    pub fn end_of_interrupt(&self, intid: u32) {
        self.gicc.eoir.set(intid);
    }
}
