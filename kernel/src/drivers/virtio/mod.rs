//! virtio devices through the `virtio-drivers` crate: the kernel's DMA
//! `Hal`, and the network device behind `net::phy::Device`.
pub mod hal;
pub mod net;
pub mod transport;
