//! The ARM Generic Interrupt Controller, version 2 or 3 as the device tree
//! says. The kernel uses it on one core: every interrupt targets core 0.
mod v2;
mod v3;

pub use v2::GicV2;
pub use v3::GicV3;

/// The interrupt ID the CPU interface returns when nothing is pending.
pub const SPURIOUS: u32 = 1023;
/// Priority given to every interrupt (lower is more urgent; all are equal).
const DEFAULT_PRIORITY: u8 = 0xa0;

/// How an interrupt line signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Level,
    #[allow(dead_code)] // virtio-mmio lines are edge-triggered (NIC driver)
    Edge,
}

pub enum Gic {
    V2(GicV2),
    V3(GicV3),
}

impl Gic {
    pub fn version(&self) -> u8 {
        match self {
            Gic::V2(_) => 2,
            Gic::V3(_) => 3,
        }
    }

    /// Resets the distributor and this core's interface: every interrupt
    /// disabled, all routed to this core, the interface accepting all.
    pub fn init(&self) {
        match self {
            Gic::V2(g) => g.init(),
            Gic::V3(g) => g.init(),
        }
    }

    /// How many interrupt IDs the distributor implements.
    pub fn lines(&self) -> u32 {
        match self {
            Gic::V2(g) => g.lines(),
            Gic::V3(g) => g.lines(),
        }
    }

    /// Configures and enables one interrupt.
    pub fn enable(&self, intid: u32, trigger: Trigger) {
        match self {
            Gic::V2(g) => g.enable(intid, trigger),
            Gic::V3(g) => g.enable(intid, trigger),
        }
    }

    pub fn unmask(&self, intid: u32) {
        match self {
            Gic::V2(g) => g.set_enabled(intid, true),
            Gic::V3(g) => g.set_enabled(intid, true),
        }
    }

    pub fn mask(&self, intid: u32) {
        match self {
            Gic::V2(g) => g.set_enabled(intid, false),
            Gic::V3(g) => g.set_enabled(intid, false),
        }
    }

    /// The highest-priority pending interrupt, now active; `None` if spurious.
    pub fn acknowledge(&self) -> Option<u32> {
        let intid = match self {
            Gic::V2(g) => g.acknowledge(),
            Gic::V3(g) => g.acknowledge(),
        };
        (intid < SPURIOUS).then_some(intid)
    }

    pub fn end_of_interrupt(&self, intid: u32) {
        match self {
            Gic::V2(g) => g.end_of_interrupt(intid),
            Gic::V3(g) => g.end_of_interrupt(intid),
        }
    }
}
