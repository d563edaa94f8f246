//! QEMU virt's network device: a virtio-net in a virtio-mmio slot, else
//! one on the PCIe bus. The event loop owns what this returns.
use super::{Nic, NicDriver, NicMetrics};
use crate::drivers::gic::Trigger;
use crate::drivers::pci;
use crate::drivers::virtio::net::VirtioNet;
use crate::platform::Platform;
use core::ptr::NonNull;
use kernel::apps::stats::NicRings;
use log::{info, warn};
use net::wire::EthernetAddress;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::{DeviceType, SomeTransport, Transport};

pub fn probe(platform: &Platform, offload: bool) -> Option<Nic<VirtioNet>> {
    for slot in platform.virtio_slots() {
        let Some(header) = NonNull::new(slot.base as *mut VirtIOHeader) else { continue };
        // SAFETY: a virtio-mmio window from the device tree, mapped as device memory, used only here.
        let Ok(transport) = (unsafe { MmioTransport::new(header, slot.size) }) else { continue };
        if transport.device_type() != DeviceType::Network {
            continue;
        }
        // virtio-mmio interrupts are edge-triggered (QEMU virt's DTB flag 1).
        return bring_up(SomeTransport::from(transport), slot.intid, Trigger::Edge, "virtio-mmio", offload);
    }
    let host = platform.pci.as_ref()?;
    let mut device = None;
    // SAFETY: the ECAM window comes from the device tree and is mapped as device memory.
    unsafe {
        pci::scan_bus0(host, |f| {
            if f.is_virtio_net() && device.is_none() {
                device = Some(f.device)
            }
        })
    };
    let device = device?;
    // SAFETY: the ECAM and 32-bit windows come from the device tree; only this driver uses them.
    let mut function = match unsafe { pci::configure(host, device) } {
        Ok(f) => f,
        Err(e) => {
            warn!("nic: PCI 00:{device:02x}.0 could not be configured: {e}");
            return None;
        }
    };
    let Some(intid) = function.intid else {
        warn!("nic: PCI 00:{device:02x}.0 has no INTx route in the device tree");
        return None;
    };
    match PciTransport::new::<crate::drivers::virtio::hal::KernelHal, _>(&mut function.root, function.function) {
        Ok(transport) => bring_up(SomeTransport::from(transport), intid, Trigger::Level, "virtio-pci", offload),
        Err(e) => {
            warn!("nic: PCI 00:{device:02x}.0 is not a usable virtio device: {e:?}");
            None
        }
    }
}

fn bring_up(
    transport: SomeTransport<'static>,
    intid: u32,
    trigger: Trigger,
    location: &'static str,
    offload: bool,
) -> Option<Nic<VirtioNet>> {
    match VirtioNet::new(transport, offload) {
        Ok(device) => {
            info!("nic: {location} virtio-net, MAC {}, INTID {intid}", device.mac_address());
            Some(Nic { device, intid, trigger, location })
        }
        Err(e) => {
            warn!("nic: {location} virtio-net failed to start: {e}");
            None
        }
    }
}

impl NicDriver for VirtioNet {
    fn mac_address(&self) -> EthernetAddress {
        VirtioNet::mac_address(self)
    }

    fn acknowledge_interrupt(&mut self) {
        VirtioNet::acknowledge_interrupt(self);
    }

    fn metrics(&self) -> NicMetrics {
        NicMetrics::new(&VirtioNet::metrics(self))
    }

    fn rings(&self) -> NicRings {
        VirtioNet::rings(self)
    }

    /// The driver cannot read the device's link after start-up: up while it runs.
    fn link_up(&self) -> bool {
        true
    }

    fn poll_link(&mut self, _now_us: u64) -> Option<u64> {
        None
    }

    fn frame_counts(&self) -> (u64, u64) {
        let stats = self.stats();
        (stats.rx_frames, stats.tx_frames)
    }
}
