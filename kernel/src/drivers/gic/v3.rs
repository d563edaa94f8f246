//! GICv3: memory-mapped distributor and redistributor, system-register CPU
//! interface (ICC_*_EL1).
use super::{Trigger, DEFAULT_PRIORITY};
use crate::drivers::mmio::MmioBlock;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite};

register_structs! {
    Distributor {
        (0x0000 => ctlr: ReadWrite<u32>),
        (0x0004 => typer: ReadOnly<u32>),
        (0x0008 => _reserved0),
        (0x0080 => igroupr: [ReadWrite<u32>; 32]),
        (0x0100 => isenabler: [ReadWrite<u32>; 32]),
        (0x0180 => icenabler: [ReadWrite<u32>; 32]),
        (0x0200 => _reserved1),
        (0x0280 => icpendr: [ReadWrite<u32>; 32]),
        (0x0300 => _reserved2),
        (0x0400 => ipriorityr: [ReadWrite<u8>; 1020]),
        (0x07fc => _reserved3),
        (0x0c00 => icfgr: [ReadWrite<u32>; 64]),
        (0x0d00 => _reserved4),
        (0x6100 => irouter: [ReadWrite<u64>; 988]),
        (0x7fe0 => _reserved5),
        (0x8000 => @END),
    }
}

// The control frame (RD_base) of one core's redistributor.
register_structs! {
    RedistributorControl {
        (0x0000 => ctlr: ReadWrite<u32>),
        (0x0004 => iidr: ReadOnly<u32>),
        (0x0008 => typer: ReadOnly<u64>),
        (0x0010 => _reserved0),
        (0x0014 => waker: ReadWrite<u32>),
        (0x0018 => @END),
    }
}

// The SGI/PPI frame (SGI_base = RD_base + 64 KiB).
register_structs! {
    RedistributorSgi {
        (0x0000 => _reserved0),
        (0x0080 => igroupr0: ReadWrite<u32>),
        (0x0084 => _reserved1),
        (0x0100 => isenabler0: ReadWrite<u32>),
        (0x0104 => _reserved2),
        (0x0180 => icenabler0: ReadWrite<u32>),
        (0x0184 => _reserved3),
        (0x0280 => icpendr0: ReadWrite<u32>),
        (0x0284 => _reserved4),
        (0x0400 => ipriorityr: [ReadWrite<u8>; 32]),
        (0x0420 => _reserved5),
        (0x0c00 => icfgr: [ReadWrite<u32>; 2]),
        (0x0c08 => @END),
    }
}

const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
const TYPER_LAST: u64 = 1 << 4;
const GICD_CTLR_ARE: u32 = 1 << 4;
const GICD_CTLR_RWP: u32 = 1 << 31;
const SPIN_LIMIT: u32 = 1_000_000;

pub struct GicV3 {
    gicd: MmioBlock<Distributor>,
    gicr: MmioBlock<RedistributorControl>,
    sgi: MmioBlock<RedistributorSgi>,
}

impl GicV3 {
    /// Finds this core's redistributor in the region at `redistributors`.
    ///
    /// # Safety
    /// The addresses must be a mapped GICv3 distributor and redistributor
    /// region of `redistributors_size` bytes.
    pub unsafe fn new(distributor: usize, redistributors: usize, redistributors_size: usize) -> GicV3 {
        let affinity = crate::arch::cpu::affinity();
        let mut frame = redistributors;
        let end = redistributors.saturating_add(redistributors_size.max(0x20000));
        let mut chosen = redistributors;
        while frame + 0x20000 <= end {
            // SAFETY: inside the mapped redistributor region (contract).
            let rd: MmioBlock<RedistributorControl> = unsafe { MmioBlock::new(frame) };
            let typer = rd.typer.get();
            let aff = typer >> 32;
            let packed = (aff & 0xff_ffff) | ((aff >> 24 & 0xff) << 32);
            if packed == affinity {
                chosen = frame;
                break;
            }
            if typer & TYPER_LAST != 0 {
                break;
            }
            frame += 0x20000;
        }
        // SAFETY: forwarded from this function's contract.
        unsafe {
            GicV3 {
                gicd: MmioBlock::new(distributor),
                gicr: MmioBlock::new(chosen),
                sgi: MmioBlock::new(chosen + 0x10000),
            }
        }
    }

    pub fn lines(&self) -> u32 {
        ((self.gicd.typer.get() & 0x1f) + 1) * 32
    }

    fn wait_for_distributor(&self) {
        let mut spins = 0;
        while self.gicd.ctlr.get() & GICD_CTLR_RWP != 0 && spins < SPIN_LIMIT {
            spins += 1;
        }
    }

    pub fn init(&self) {
        self.gicd.ctlr.set(0);
        self.wait_for_distributor();
        let words = (self.lines() / 32) as usize;
        for i in 1..words.min(32) {
            self.gicd.icenabler[i].set(u32::MAX);
            self.gicd.icpendr[i].set(u32::MAX);
            self.gicd.igroupr[i].set(u32::MAX); // non-secure group 1
        }
        self.wait_for_distributor();
        // Affinity routing on, group 1 (and group 0 where writable) enabled.
        self.gicd.ctlr.set(GICD_CTLR_ARE | 0b11);
        self.wait_for_distributor();

        // Wake this core's redistributor.
        self.gicr.waker.set(self.gicr.waker.get() & !WAKER_PROCESSOR_SLEEP);
        let mut spins = 0;
        while self.gicr.waker.get() & WAKER_CHILDREN_ASLEEP != 0 && spins < SPIN_LIMIT {
            spins += 1;
        }
        self.sgi.icenabler0.set(u32::MAX);
        self.sgi.icpendr0.set(u32::MAX);
        self.sgi.igroupr0.set(u32::MAX);

        // boot/entry.S sets ICC_SRE_EL2 when entered at EL2, so EL1 may use
        // the ICC registers; these writes configure only this core's interface.
        // SAFETY: system-register writes with no effect on memory.
        unsafe {
            core::arch::asm!(
                "mrs {t}, S3_0_C12_C12_5", // ICC_SRE_EL1
                "orr {t}, {t}, #1",        // SRE: system-register interface
                "msr S3_0_C12_C12_5, {t}",
                "isb",
                "msr S3_0_C4_C6_0, {pmr}",  // ICC_PMR_EL1: accept all
                "msr S3_0_C12_C12_3, xzr",  // ICC_BPR1_EL1
                "msr S3_0_C12_C12_7, {one}",// ICC_IGRPEN1_EL1
                "isb",
                t = out(reg) _,
                pmr = in(reg) 0xffu64,
                one = in(reg) 1u64,
                options(nostack),
            );
        }
    }

    pub fn enable(&self, intid: u32, trigger: Trigger) {
        let edge = matches!(trigger, Trigger::Edge) as u32;
        if intid < 32 {
            self.sgi.ipriorityr[intid as usize].set(DEFAULT_PRIORITY);
            if intid >= 16 {
                let shift = (intid % 16) * 2;
                let cfg = self.sgi.icfgr[1].get() & !(0b10 << shift);
                self.sgi.icfgr[1].set(cfg | (edge << (shift + 1)));
            }
        } else if intid < 1020 {
            let i = intid as usize;
            self.gicd.ipriorityr[i].set(DEFAULT_PRIORITY);
            let (word, shift) = (i / 16, (i % 16) * 2);
            let cfg = self.gicd.icfgr[word].get() & !(0b10 << shift);
            self.gicd.icfgr[word].set(cfg | (edge << (shift + 1)));
            self.gicd.irouter[i - 32].set(crate::arch::cpu::affinity());
        } else {
            return;
        }
        self.set_enabled(intid, true);
    }

    pub fn set_enabled(&self, intid: u32, enabled: bool) {
        let bit = 1 << (intid % 32);
        if intid < 32 {
            if enabled {
                self.sgi.isenabler0.set(bit);
            } else {
                self.sgi.icenabler0.set(bit);
            }
        } else if intid < 1020 {
            let word = (intid / 32) as usize;
            if enabled {
                self.gicd.isenabler[word].set(bit);
            } else {
                self.gicd.icenabler[word].set(bit);
            }
        }
    }

    pub fn acknowledge(&self) -> u32 {
        let intid: u64;
        // SAFETY: reading ICC_IAR1_EL1 acknowledges the pending interrupt.
        unsafe { core::arch::asm!("mrs {}, S3_0_C12_C12_0", out(reg) intid, options(nostack)) };
        (intid & 0xff_ffff) as u32
    }

    pub fn end_of_interrupt(&self, intid: u32) {
        // SAFETY: writing ICC_EOIR1_EL1 ends the interrupt we acknowledged.
        unsafe { core::arch::asm!("msr S3_0_C12_C12_1, {}", "isb", in(reg) intid as u64, options(nostack)) };
    }
}
