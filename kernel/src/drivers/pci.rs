//! The ECAM PCIe host bridge: bus-0 discovery, BAR assignment from the
//! bridge's 32-bit window, and legacy INTx routing from the device tree.
use crate::platform::PciHost;
use core::ptr;
use virtio_drivers::transport::pci::bus::{BarInfo, Cam, Command, DeviceFunction, MmioCam, PciRoot};

/// Vendor and device ID of one function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciFunction {
    pub device: u8,
    pub vendor_id: u16,
    pub device_id: u16,
    pub class: u32,
}

impl PciFunction {
    pub fn description(&self) -> &'static str {
        match (self.vendor_id, self.device_id) {
            (0x1b36, 0x0008) => "host bridge",
            (0x1af4, 0x1000) | (0x1af4, 0x1041) => "virtio-net",
            (0x1af4, 0x1001) | (0x1af4, 0x1042) => "virtio-block",
            (0x1af4, 0x1005) | (0x1af4, 0x1044) => "virtio-entropy",
            (0x1af4, _) => "virtio device",
            _ => "device",
        }
    }

    pub fn is_virtio_net(&self) -> bool {
        self.vendor_id == 0x1af4 && matches!(self.device_id, 0x1000 | 0x1041)
    }
}

fn config_address(host: &PciHost, device: u8, offset: usize) -> usize {
    host.ecam_base + ((device as usize) << 15) + offset
}

/// Calls `f` for function 0 of every device present on bus 0.
///
/// # Safety
/// `host.ecam_base` must be a mapped ECAM window covering bus 0 (1 MiB).
pub unsafe fn scan_bus0(host: &PciHost, mut f: impl FnMut(PciFunction)) {
    if host.ecam_size < 1 << 20 {
        return;
    }
    for device in 0..32u8 {
        // Configuration reads of absent functions return all ones.
        // SAFETY: inside bus 0 of the mapped ECAM window (this function's contract).
        let (id, class) = unsafe {
            (
                ptr::read_volatile(config_address(host, device, 0) as *const u32),
                ptr::read_volatile(config_address(host, device, 8) as *const u32),
            )
        };
        if id & 0xffff == 0xffff {
            continue;
        }
        f(PciFunction { device, vendor_id: id as u16, device_id: (id >> 16) as u16, class: class >> 8 });
    }
}

/// A bus-0 function made ready for a driver: BARs assigned, memory
/// decoding and bus mastering on.
pub struct ConfiguredFunction {
    pub root: PciRoot<MmioCam<'static>>,
    pub function: DeviceFunction,
    /// The INTID its INTx pin is routed to, from the device tree.
    pub intid: Option<u32>,
}

/// Why a function could not be configured.
#[derive(Debug)]
pub enum PciSetupError {
    NoMemoryWindow,
    WindowExhausted { needed: u64 },
    Bar(virtio_drivers::transport::pci::bus::PciError),
}

impl core::fmt::Display for PciSetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            PciSetupError::NoMemoryWindow => f.write_str("the host bridge has no 32-bit memory window"),
            PciSetupError::WindowExhausted { needed } => write!(f, "no room for a {needed}-byte BAR in the window"),
            PciSetupError::Bar(e) => write!(f, "BAR sizing failed: {e}"),
        }
    }
}

/// Assigns `device`'s memory BARs from the host's 32-bit window (naturally
/// aligned, one after another) and enables it.
///
/// # Safety
/// `host.ecam_base` must be a mapped ECAM window, and the 32-bit window must
/// be mapped device memory that nothing else uses.
pub unsafe fn configure(host: &PciHost, device: u8) -> Result<ConfiguredFunction, PciSetupError> {
    let (window, window_size) = host.mmio32.ok_or(PciSetupError::NoMemoryWindow)?;
    // SAFETY: the ECAM window is mapped (this function's contract) and lives forever.
    let cam = unsafe { MmioCam::new(host.ecam_base as *mut u8, Cam::Ecam) };
    let mut root = PciRoot::new(cam);
    let function = DeviceFunction { bus: 0, device, function: 0 };
    let mut next = window as u64;
    let end = window as u64 + window_size as u64;
    let bars = root.bars(function).map_err(PciSetupError::Bar)?;
    for (index, bar) in bars.iter().enumerate() {
        let Some(BarInfo::Memory { size, address_type, .. }) = bar else { continue };
        if *size == 0 {
            continue;
        }
        let base = next.next_multiple_of(*size);
        if base + size > end {
            return Err(PciSetupError::WindowExhausted { needed: *size });
        }
        if bar.as_ref().is_some_and(BarInfo::takes_two_entries) {
            root.set_bar_64(function, index as u8, base);
        } else {
            let _ = address_type;
            root.set_bar_32(function, index as u8, base as u32);
        }
        next = base + size;
    }
    root.set_command(function, Command::MEMORY_SPACE | Command::BUS_MASTER);
    // SAFETY: inside bus 0 of the mapped ECAM window; byte 0x3d is the interrupt pin.
    let pin = unsafe { ptr::read_volatile(config_address(host, device, 0x3d) as *const u8) };
    Ok(ConfiguredFunction { root, function, intid: host.intx_intid(device, pin) })
}
