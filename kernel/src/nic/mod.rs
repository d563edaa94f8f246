//! The appliance's network device: what every NIC driver offers the event
//! loop, and the device the board found. Which drivers a board has is a
//! board fact: `bsp::NicDevice` and `bsp::probe_nic`.
#[cfg_attr(not(feature = "board-rpi4"), allow(dead_code))]
pub mod genet;
#[cfg_attr(not(feature = "board-qemu-virt"), allow(dead_code))]
pub mod virtio;

use crate::bsp;
use crate::drivers::gic::Trigger;
use crate::platform::Platform;
use kernel::apps::stats::{Metric, NicRings};
use net::wire::EthernetAddress;

/// Most counters a driver reports.
pub const MAX_NIC_METRICS: usize = 12;

/// A driver's counters for `/stats` and `/metrics`.
pub struct NicMetrics {
    items: [Metric<'static>; MAX_NIC_METRICS],
    len: usize,
}

impl NicMetrics {
    pub fn new(metrics: &[Metric<'static>]) -> NicMetrics {
        let mut items = [Metric::counter("", 0); MAX_NIC_METRICS];
        let len = metrics.len().min(MAX_NIC_METRICS);
        items[..len].copy_from_slice(&metrics[..len]);
        NicMetrics { items, len }
    }

    pub fn as_slice(&self) -> &[Metric<'static>] {
        &self.items[..self.len]
    }
}

/// What the event loop and self-tests need of a NIC driver beyond
/// `net::phy::Device`.
pub trait NicDriver: net::phy::Device {
    fn mac_address(&self) -> EthernetAddress;
    /// Acknowledges the device's interrupt; called before the rings are
    /// drained (a completion after this raises the interrupt again).
    fn acknowledge_interrupt(&mut self);
    fn metrics(&self) -> NicMetrics;
    fn rings(&self) -> NicRings;
    /// Whether frames can pass (the cable's link where the driver knows it).
    fn link_up(&self) -> bool;
    /// Link supervision at `now_us` (microseconds since boot); returns when
    /// it is next due, or `None` if the driver needs none.
    fn poll_link(&mut self, now_us: u64) -> Option<u64>;
    /// Frames received and sent so far.
    fn frame_counts(&self) -> (u64, u64);
}

/// The NIC and the interrupt line it raises (a board's driver, by default
/// the one this image's board uses).
pub struct Nic<D = bsp::NicDevice> {
    pub device: D,
    pub intid: u32,
    pub trigger: Trigger,
    /// Where it was found, for the log and `/stats`.
    pub location: &'static str,
}

/// The board's network device, if it has one that works; `offload` asks
/// for the device's checksum and segmentation offloads where it has them.
pub fn probe(platform: &Platform, offload: bool) -> Option<Nic> {
    bsp::probe_nic(platform, offload)
}
