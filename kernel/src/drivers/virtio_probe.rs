//! Identifies what sits in a virtio-mmio slot (magic, version, device ID),
//! for discovery; the drivers themselves come with the appliance.
use super::mmio::MmioBlock;
use tock_registers::interfaces::Readable;
use tock_registers::register_structs;
use tock_registers::registers::ReadOnly;

register_structs! {
    Header {
        (0x000 => magic: ReadOnly<u32>),
        (0x004 => version: ReadOnly<u32>),
        (0x008 => device_id: ReadOnly<u32>),
        (0x00c => vendor_id: ReadOnly<u32>),
        (0x010 => @END),
    }
}

const MAGIC: u32 = 0x7472_6976; // "virt"

/// What a virtio-mmio slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioSlot {
    /// 1 = legacy, 2 = modern.
    pub version: u32,
    pub device_id: u32,
}

impl VirtioSlot {
    pub fn device_name(&self) -> &'static str {
        match self.device_id {
            1 => "net",
            2 => "block",
            3 => "console",
            4 => "entropy",
            5 => "balloon",
            9 => "9p",
            16 => "gpu",
            18 => "input",
            _ => "other",
        }
    }
}

/// Reads the slot at `base`; `None` if it is empty or not virtio.
///
/// # Safety
/// `base` must be a mapped virtio-mmio register window.
pub unsafe fn probe(base: usize) -> Option<VirtioSlot> {
    // SAFETY: forwarded from this function's contract.
    let header: MmioBlock<Header> = unsafe { MmioBlock::new(base) };
    if header.magic.get() != MAGIC {
        return None;
    }
    let device_id = header.device_id.get();
    (device_id != 0).then(|| VirtioSlot { version: header.version.get(), device_id })
}
