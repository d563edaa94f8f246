//! Identity-mapped translation tables and MMU/cache enable.
//!
//! 4 KiB granule, 39-bit virtual addresses (T0SZ = 25), so the walk starts
//! at level 1 with 1 GiB blocks; a 1 GiB slot that is only partly one kind
//! of memory is split into 2 MiB blocks through a level-2 table. Regions the
//! board does not list stay unmapped: touching them faults.
use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    ReadWriteable, Readable, Writeable, ID_AA64MMFR0_EL1, MAIR_EL1, SCTLR_EL1, TCR_EL1, TTBR0_EL1,
};
use core::cell::UnsafeCell;

/// What kind of memory a region is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    /// RAM: normal, write-back cacheable, inner shareable, executable.
    Normal,
    /// Device registers: device-nGnRE, never executable.
    Device,
}

/// One region of the physical (= virtual) address space.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    pub base: u64,
    pub size: u64,
    pub kind: MemoryKind,
}

const GIB: u64 = 1 << 30;
const MIB2: u64 = 2 << 20;
const ENTRIES: usize = 512;
const L2_TABLES: usize = 8;

// Descriptor bits (ARM ARM D8.3).
const VALID: u64 = 1 << 0;
const TABLE: u64 = 1 << 1; // at levels 1-2: next-level table (else block)
const ATTR_INDEX_SHIFT: u64 = 2;
const SH_INNER: u64 = 3 << 8;
const AF: u64 = 1 << 10;
const PXN: u64 = 1 << 53;
const UXN: u64 = 1 << 54;

// MAIR slots.
const MAIR_DEVICE: u64 = 0;
const MAIR_NORMAL: u64 = 1;

#[repr(C, align(4096))]
struct Table([u64; ENTRIES]);

struct Tables {
    l1: Table,
    l2: [Table; L2_TABLES],
}

struct TableStorage(UnsafeCell<Tables>);
// SAFETY: written only by `enable`, once, on the boot core before the MMU
// is on and before any other code can observe the tables.
unsafe impl Sync for TableStorage {}

#[link_section = ".page_tables"]
static TABLES: TableStorage =
    TableStorage(UnsafeCell::new(Tables { l1: Table([0; ENTRIES]), l2: [const { Table([0; ENTRIES]) }; L2_TABLES] }));

fn block(addr: u64, kind: MemoryKind) -> u64 {
    match kind {
        MemoryKind::Normal => addr | VALID | (MAIR_NORMAL << ATTR_INDEX_SHIFT) | SH_INNER | AF | UXN,
        MemoryKind::Device => addr | VALID | (MAIR_DEVICE << ATTR_INDEX_SHIFT) | AF | PXN | UXN,
    }
}

/// The kind of memory at `addr` for a block of `size`, if the whole block is
/// inside one region; `Err(())` if regions of different kinds or holes
/// share it (it must be split).
fn kind_of_block(regions: &[Region], addr: u64, size: u64) -> Result<Option<MemoryKind>, ()> {
    let end = addr + size;
    let mut found = None;
    for r in regions {
        let r_end = r.base.saturating_add(r.size);
        if r_end <= addr || r.base >= end {
            continue; // disjoint
        }
        if r.base <= addr && r_end >= end {
            return Ok(Some(r.kind));
        }
        found = Some(r.kind);
    }
    match found {
        None => Ok(None),
        Some(_) => Err(()),
    }
}

/// Maps `regions` and turns on the MMU with data and instruction caches.
/// Region boundaries finer than 2 MiB are rounded: such a 2 MiB block takes
/// the kind of the first region that overlaps it.
///
/// # Safety
/// Call once, on the boot core, with IRQs masked; every address the kernel
/// uses afterwards (image, stack, DTB, devices) must be inside `regions`.
pub unsafe fn enable(regions: &[Region]) {
    // SAFETY: per this function's contract nothing else references TABLES.
    let tables = unsafe { &mut *TABLES.0.get() };
    let mut next_l2 = 0;
    for gib in 0..ENTRIES {
        let addr = gib as u64 * GIB;
        match kind_of_block(regions, addr, GIB) {
            Ok(None) => tables.l1.0[gib] = 0,
            Ok(Some(kind)) => tables.l1.0[gib] = block(addr, kind),
            Err(()) if next_l2 < L2_TABLES => {
                let l2 = &mut tables.l2[next_l2];
                next_l2 += 1;
                for (i, entry) in l2.0.iter_mut().enumerate() {
                    let a = addr + i as u64 * MIB2;
                    *entry = match kind_of_block(regions, a, MIB2) {
                        Ok(None) => 0,
                        Ok(Some(kind)) => block(a, kind),
                        // Sub-2 MiB mix: the kind of the first region there.
                        Err(()) => regions
                            .iter()
                            .find(|r| r.base < a + MIB2 && r.base.saturating_add(r.size) > a)
                            .map_or(0, |r| block(a, r.kind)),
                    };
                }
                tables.l1.0[gib] = l2.0.as_ptr() as u64 | VALID | TABLE;
            }
            Err(()) => tables.l1.0[gib] = 0,
        }
    }

    MAIR_EL1.write(
        MAIR_EL1::Attr0_Device::nonGathering_nonReordering_EarlyWriteAck
            + MAIR_EL1::Attr1_Normal_Outer::WriteBack_NonTransient_ReadWriteAlloc
            + MAIR_EL1::Attr1_Normal_Inner::WriteBack_NonTransient_ReadWriteAlloc,
    );
    // Physical address size: what the CPU supports, at most 40 bits here.
    let pa_range = ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::PARange).min(2);
    TCR_EL1.write(
        TCR_EL1::T0SZ.val(25)
            + TCR_EL1::TG0::KiB_4
            + TCR_EL1::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable
            + TCR_EL1::SH0::Inner
            + TCR_EL1::EPD1::DisableTTBR1Walks
            + TCR_EL1::IPS.val(pa_range),
    );
    TTBR0_EL1.set_baddr(tables.l1.0.as_ptr() as u64);

    barrier::dsb(barrier::ISHST);
    // SAFETY: invalidating stale TLB entries before the first walk.
    unsafe { core::arch::asm!("tlbi vmalle1", options(nostack)) };
    barrier::dsb(barrier::ISH);
    barrier::isb(barrier::SY);

    SCTLR_EL1.modify(SCTLR_EL1::M::Enable + SCTLR_EL1::C::Cacheable + SCTLR_EL1::I::Cacheable);
    barrier::isb(barrier::SY);
}

/// Whether the MMU is on (for the banner).
pub fn is_enabled() -> bool {
    SCTLR_EL1.matches_all(SCTLR_EL1::M::Enable)
}
