//! Lists the functions on bus 0 of an ECAM PCIe host bridge, for
//! discovery; drivers bind to them with the appliance.
use core::ptr;

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
}

/// Calls `f` for function 0 of every device present on bus 0.
///
/// # Safety
/// `ecam_base` must be a mapped ECAM window covering bus 0 (1 MiB).
pub unsafe fn scan_bus0(ecam_base: usize, mut f: impl FnMut(PciFunction)) {
    for device in 0..32u8 {
        let config = ecam_base + ((device as usize) << 15);
        // Configuration reads of absent functions return all ones.
        // SAFETY: inside bus 0 of the mapped ECAM window (this function's contract).
        let (id, class) = unsafe {
            (ptr::read_volatile(config as *const u32), ptr::read_volatile((config + 8) as *const u32))
        };
        if id & 0xffff == 0xffff {
            continue;
        }
        f(PciFunction { device, vendor_id: id as u16, device_id: (id >> 16) as u16, class: class >> 8 });
    }
}
