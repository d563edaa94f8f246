//! The Raspberry Pi 4's GENET: found through the device tree (or the
//! board's defaults), brought up, or reported absent. QEMU's `raspi4b` has
//! no GENET: it drops the node from its tree, and an access to the block
//! aborts, which the probing read catches and reports.
use super::{Nic, NicDriver, NicMetrics};
use crate::arch::{probe, timer};
use crate::drivers::genet::{GenetNic, MmioRegisters, RamBuffers};
use crate::drivers::gic::Trigger;
use crate::platform::Platform;
use kernel::apps::stats::{Metric, NicRings};
use kernel::genet::{Genet, LinkState, RING_SIZE};
use log::{info, warn};
use net::wire::EthernetAddress;

/// `offload` is ignored: the driver uses no checksum or segmentation
/// offload of the GENET yet.
pub fn probe(platform: &Platform, _offload: bool) -> Option<Nic<GenetNic>> {
    let Some(config) = platform.genet else {
        info!("nic: no GENET in the device tree");
        return None;
    };
    if !config.enabled {
        info!("nic: GENET at {:#x} is disabled in the device tree: not probed", config.base);
        return None;
    }
    // Something must answer at the block before the driver touches it.
    // SAFETY: SYS_REV_CTRL is read-only and side-effect free; an abort is caught.
    if unsafe { probe::read_u32(config.base + kernel::genet::regs::SYS_REV_CTRL) }.is_none() {
        warn!("nic: GENET at {:#x}: nothing answers (external abort on SYS_REV_CTRL)", config.base);
        return None;
    }
    let mac = match config.mac {
        Some(mac) => EthernetAddress(mac),
        None => {
            let mac = local_mac();
            warn!("nic: no MAC address in the device tree: using the locally administered {mac}");
            mac
        }
    };
    // The GENET window comes from the device tree or the board defaults and
    // is mapped as device memory (MEMORY_MAP); its first register just answered.
    // SAFETY: a mapped MMIO window that only this driver uses.
    let registers = unsafe { MmioRegisters::new(config.base) };
    match Genet::new(registers, RamBuffers::new(), RamBuffers::new(), mac, config.phy_address) {
        Ok(device) => {
            let (phy_address, phy_id) = device.phy();
            info!(
                "nic: GENET v5 at {:#x}, PHY {phy_id:#010x} at MDIO address {phy_address}, MAC {mac}, INTID {}; \
                 auto-negotiating",
                config.base, config.intid
            );
            Some(Nic { device, intid: config.intid, trigger: Trigger::Level, location: "GENET" })
        }
        Err(e) => {
            warn!("nic: GENET at {:#x}: {e}", config.base);
            None
        }
    }
}

/// A locally administered unicast address from the counter (the firmware
/// normally puts the board's own in the device tree).
fn local_mac() -> EthernetAddress {
    let bits = timer::uptime_micros().rotate_left(29) ^ 0x5deece66d;
    let b = bits.to_le_bytes();
    EthernetAddress([0x02, b[0], b[1], b[2], b[3], b[4]])
}

impl NicDriver for GenetNic {
    fn mac_address(&self) -> EthernetAddress {
        Genet::mac_address(self)
    }

    fn acknowledge_interrupt(&mut self) {
        Genet::acknowledge_interrupt(self);
    }

    fn metrics(&self) -> NicMetrics {
        let c = self.counters();
        NicMetrics::new(&[
            Metric::counter("rx_frames", c.rx_frames),
            Metric::counter("rx_bytes", c.rx_bytes),
            Metric::counter("rx_errors", c.rx_errors).with_help("Receive descriptors with error status, skipped"),
            Metric::counter("rx_no_buffer", c.rx_no_buffer).with_help("Frames the device dropped: ring full"),
            Metric::counter("tx_frames", c.tx_frames),
            Metric::counter("tx_bytes", c.tx_bytes),
            Metric::counter("tx_completed", c.tx_completed),
            Metric::counter("tx_errors", c.tx_errors),
            Metric::counter("tx_ring_full", c.tx_ring_full)
                .with_help("Frames dropped: every transmit descriptor in flight"),
            Metric::counter("interrupts", c.interrupts),
            Metric::counter("link_changes", c.link_changes),
            Metric::counter("mdio_errors", c.mdio_errors),
        ])
    }

    fn rings(&self) -> NicRings {
        let (rx_posted, tx_in_flight) = self.ring_use();
        NicRings {
            rx_size: RING_SIZE as u32,
            rx_posted: rx_posted as u32,
            tx_size: RING_SIZE as u32,
            tx_in_flight: tx_in_flight as u32,
        }
    }

    fn link_up(&self) -> bool {
        matches!(self.link(), LinkState::Up(_))
    }

    fn poll_link(&mut self, now_us: u64) -> Option<u64> {
        Some(Genet::poll_link(self, now_us))
    }

    fn frame_counts(&self) -> (u64, u64) {
        let c = self.counters();
        (c.rx_frames, c.tx_frames)
    }
}
