//! QEMU `-M virt`. Everything here is a fallback: the device tree QEMU
//! passes describes the machine, and wins where it speaks.
use crate::arch::mmu::{MemoryKind, Region};
use crate::platform::{GicConfig, Platform};
use net::wire::{Ipv4Address, Ipv4Cidr};

pub const BOARD_NAME: &str = "QEMU virt";

/// QEMU puts the DTB at the start of RAM for a bare ELF `-kernel`, and may
/// leave x0 zero.
pub const DEFAULT_DTB_ADDRESS: Option<usize> = Some(0x4000_0000);

/// The address space the MMU maps before the device tree is read: low MMIO
/// (UART, GIC, virtio-mmio, PCIe windows) as device memory, RAM (up to the
/// 255 GiB QEMU virt allows) as normal memory, and the high PCIe ECAM.
pub const MEMORY_MAP: &[Region] = &[
    Region { base: 0, size: 0x4000_0000, kind: MemoryKind::Device },
    Region { base: 0x4000_0000, size: 0x3f_c000_0000, kind: MemoryKind::Normal },
    Region { base: 0x40_0000_0000, size: 0x40_0000_0000, kind: MemoryKind::Device },
];

/// QEMU user networking's guest address and gateway: the appliance's
/// address when DHCP does not answer in time.
pub const FALLBACK_ADDRESS: Ipv4Cidr = match Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24) {
    Some(cidr) => cidr,
    None => panic!("invalid fallback prefix"),
};
pub const FALLBACK_GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);

/// Counter frequency if firmware left CNTFRQ_EL0 unset (QEMU sets it).
pub const FALLBACK_TIMER_HZ: u64 = 62_500_000;

/// The NIC driver: virtio-net (MMIO or PCI).
pub type NicDevice = crate::drivers::virtio::net::VirtioNet;
pub use crate::nic::virtio::probe as probe_nic;

/// Nothing to set up before the console.
pub fn early_init() {}

/// The machine without a device tree.
pub fn defaults() -> Platform {
    Platform {
        board: BOARD_NAME,
        ram_base: 0x4000_0000,
        ram_size: 128 << 20,
        uart_base: 0x0900_0000,
        uart_clock_hz: None,
        gic: GicConfig::V2 { distributor: 0x0800_0000, cpu_interface: 0x0801_0000 },
        timer_intid: 30,
        ..Platform::empty()
    }
}
