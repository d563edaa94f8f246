//! Device drivers: register access lives here, policy elsewhere.
//! Every image builds every board's drivers, so that none rots unnoticed;
//! the ones another board uses are dead code in it.
#[cfg_attr(not(feature = "board-rpi4"), allow(dead_code))]
pub mod genet;
pub mod gic;
#[cfg_attr(not(feature = "board-rpi4"), allow(dead_code))]
pub mod gpio;
pub mod mmio;
#[cfg_attr(not(feature = "board-qemu-virt"), allow(dead_code))]
pub mod pci;
pub mod pl011;
#[cfg_attr(not(feature = "board-qemu-virt"), allow(dead_code))]
pub mod virtio;
pub mod virtio_probe;
