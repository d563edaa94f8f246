//! Raspberry Pi 4 Model B (BCM2711), low-peripheral mode. The firmware
//! (start4.elf) loads kernel8.img at 0x8_0000 and enters it at EL2 with the
//! DTB pointer in x0; the tree it passes wins where it speaks, these
//! defaults stand in when there is none. Addresses checked against
//! bcm2711-rpi-4-b.dtb and QEMU's raspi4b (see README).
use crate::arch::mmu::{MemoryKind, Region};
use crate::arch::power::PsciConduit;
use crate::drivers::gpio;
use crate::platform::{GicConfig, Platform};
use net::wire::{Ipv4Address, Ipv4Cidr};

pub const BOARD_NAME: &str = "Raspberry Pi 4";

/// The firmware always passes the DTB in x0; there is no fixed place to
/// look when it does not.
pub const DEFAULT_DTB_ADDRESS: Option<usize> = None;

/// The first GiB of RAM (every Pi 4 has it; the firmware's share at its top
/// is never touched) and the peripheral window 0xFC00_0000-0xFFFF_FFFF
/// (PCIe/GENET at 0xFC.., main peripherals at 0xFE.., ARM local and GIC-400
/// at 0xFF8..). RAM above 1 GiB (2/4/8 GiB boards) is not used.
pub const MEMORY_MAP: &[Region] = &[
    Region { base: 0, size: 0x4000_0000, kind: MemoryKind::Normal },
    Region { base: 0xfc00_0000, size: 0x400_0000, kind: MemoryKind::Device },
];

/// The appliance's address when DHCP does not answer in time on a LAN
/// (override with `ip=A/N gw=G`).
pub const FALLBACK_ADDRESS: Ipv4Cidr = match Ipv4Cidr::new(Ipv4Address::new(192, 168, 1, 250), 24) {
    Some(cidr) => cidr,
    None => panic!("invalid fallback prefix"),
};
pub const FALLBACK_GATEWAY: Ipv4Address = Ipv4Address::new(192, 168, 1, 1);

/// The 54 MHz crystal drives the generic timer (the firmware sets CNTFRQ_EL0).
pub const FALLBACK_TIMER_HZ: u64 = 54_000_000;

/// GPIO block, for the console pins.
const GPIO_BASE: usize = 0xfe20_0000;
/// PL011 UART0 (bus address 0x7E20_1000).
const UART0_BASE: usize = 0xfe20_1000;
/// The UART clock the firmware fixes with `init_uart_clock=48000000` (and
/// its default on the Pi 4).
const UART_CLOCK_HZ: u32 = 48_000_000;

/// The NIC driver: the BCM2711's GENET v5.
pub type NicDevice = crate::drivers::genet::GenetNic;
pub use crate::nic::genet::probe as probe_nic;

/// Board set-up before the console starts: the PL011 takes GPIO14/15
/// (ALT0); the firmware gives them to the mini UART when `enable_uart=1`,
/// or to nothing. Harmless under QEMU.
pub fn early_init() {
    // SAFETY: the GPIO block of the BCM2711, mapped as device memory by MEMORY_MAP.
    let gpio = unsafe { gpio::Bcm2711Gpio::new(GPIO_BASE) };
    gpio.select_alt0_no_pull(14);
    gpio.select_alt0_no_pull(15);
}

/// The machine without a device tree.
pub fn defaults() -> Platform {
    Platform {
        board: BOARD_NAME,
        ram_base: 0,
        // The firmware's default split (gpu_mem=76): ARM RAM ends at 0x3B40_0000.
        ram_size: 0x3b40_0000,
        uart_base: UART0_BASE,
        uart_clock_hz: Some(UART_CLOCK_HZ),
        gic: GicConfig::V2 { distributor: 0xff84_1000, cpu_interface: 0xff84_2000 },
        timer_intid: 30,
        genet: Some(crate::platform::GenetConfig {
            base: 0xfd58_0000,
            enabled: true,
            intid: 189,
            mac: None,
            phy_address: Some(1),
        }),
        // Spin tables, no PSCI: powering off is not possible.
        psci: PsciConduit::None,
        ..Platform::empty()
    }
}
