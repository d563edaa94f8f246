//! Board-independent parts of the appliance, testable on the host.
#![no_std]
#![forbid(unsafe_code)]

// Boot-time allocation only (buffers sized once); the data path does not allocate.
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod appliance;
pub mod apps;
pub mod bootargs;
pub mod devicetree;
pub mod genet;
pub mod virtio_net_offload;

/// The appliance's version, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
