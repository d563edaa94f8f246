//! Device drivers: register access lives here, policy elsewhere.
pub mod gic;
pub mod gpio;
pub mod mmio;
pub mod pci;
pub mod pl011;
pub mod virtio;
pub mod virtio_probe;
