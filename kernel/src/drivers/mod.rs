//! Device drivers: register access lives here, policy elsewhere.
pub mod gic;
pub mod mmio;
pub mod pci_probe;
pub mod pl011;
pub mod virtio_probe;
