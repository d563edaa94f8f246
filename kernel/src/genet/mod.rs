//! Driver for the Broadcom GENET v5 Ethernet controller of the Raspberry
//! Pi 4, written against two small traits so that host tests drive it
//! against a register-level model of the device:
//! - [`Registers`]: 32-bit reads and writes at offsets into the 64 KiB
//!   register block (descriptors live there too), and a delay;
//! - [`DmaBuffers`]: the frame buffers the descriptors point at, with the
//!   cache maintenance DMA needs on hardware.
//!
//! The kernel supplies the MMIO and RAM versions (`drivers/genet.rs`).
//! Every wait is bounded: an absent or silent device is reported, never
//! waited for.
mod device;
pub mod mdio;
pub mod phy;
pub mod regs;
mod rings;

#[cfg(test)]
mod appliance_tests;
#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use device::{Genet, GenetCounters, GenetError, GenetRxToken, GenetTxToken, LinkState};
pub use phy::Link;

/// Bytes in each DMA buffer (the ring's configured buffer length).
pub const BUFFER_LEN: usize = 2048;
/// Descriptors (and buffers) per ring.
pub const RING_SIZE: usize = regs::DESCRIPTOR_COUNT;

/// Access to the controller's registers.
pub trait Registers {
    fn read(&mut self, offset: usize) -> u32;
    fn write(&mut self, offset: usize, value: u32);
    /// Waits at least `us` microseconds.
    fn delay_us(&mut self, us: u32);
}

/// `RING_SIZE` buffers of `BUFFER_LEN` bytes the device reads or writes by
/// DMA (one set per ring).
pub trait DmaBuffers {
    /// The address the device uses for buffer `index`.
    fn bus_address(&self, index: usize) -> u64;
    /// Buffer `index`, `BUFFER_LEN` bytes.
    fn buffer(&mut self, index: usize) -> &mut [u8];
    /// Buffer `index` is written (its first `len` bytes): make it visible
    /// to the device (clean the cache).
    fn for_device(&mut self, index: usize, len: usize);
    /// The device wrote buffer `index`: drop stale cached copies before the
    /// CPU reads it (invalidate the cache).
    fn for_cpu(&mut self, index: usize, len: usize);
}
