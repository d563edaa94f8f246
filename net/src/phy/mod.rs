//! The device layer: how the stack exchanges Ethernet frames with a NIC.
//!
//! A device hands out tokens rather than buffers, so a driver can lend the
//! stack its own DMA memory: a receive yields an [`RxToken`] (a received
//! frame, read in place) together with a [`TxToken`] (room for one reply),
//! and a transmit yields a [`TxToken`] alone. Tokens are consumed once;
//! dropping one unconsumed gives its buffer back untouched.

use crate::time::Instant;

/// How the stack treats one protocol's checksum on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Checksum {
    /// The stack computes it on transmit and verifies it on receive.
    #[default]
    Both,
    /// The stack computes it on transmit; the device verified received ones.
    Tx,
    /// The stack verifies it on receive; the device fills it on transmit.
    Rx,
    /// The device does both.
    None,
}

impl Checksum {
    /// Whether the stack must verify received checksums.
    pub fn rx(&self) -> bool {
        matches!(self, Checksum::Both | Checksum::Rx)
    }
    /// Whether the stack must compute transmitted checksums.
    pub fn tx(&self) -> bool {
        matches!(self, Checksum::Both | Checksum::Tx)
    }
}

/// Checksum offload, per protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChecksumCapabilities {
    pub ipv4: Checksum,
    pub udp: Checksum,
    pub tcp: Checksum,
    pub icmpv4: Checksum,
}

impl ChecksumCapabilities {
    /// Every checksum offloaded (for links that cannot corrupt, such as an
    /// in-memory wire in a benchmark where both ends trust each other).
    pub const fn ignored() -> ChecksumCapabilities {
        ChecksumCapabilities { ipv4: Checksum::None, udp: Checksum::None, tcp: Checksum::None, icmpv4: Checksum::None }
    }
}

/// What a device can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCapabilities {
    /// The largest IP packet (the layer-3 MTU): 1500 on standard Ethernet.
    /// Frames are up to `ip_mtu + 14` bytes (+4 with a VLAN tag).
    pub ip_mtu: usize,
    /// How many frames the device accepts back to back before the stack
    /// should yield; `None` for no limit.
    pub max_burst: Option<usize>,
    pub checksum: ChecksumCapabilities,
}

impl DeviceCapabilities {
    /// Standard Ethernet with all checksums done in software.
    pub const fn ethernet() -> DeviceCapabilities {
        DeviceCapabilities {
            ip_mtu: 1500,
            max_burst: None,
            checksum: ChecksumCapabilities {
                ipv4: Checksum::Both,
                udp: Checksum::Both,
                tcp: Checksum::Both,
                icmpv4: Checksum::Both,
            },
        }
    }
    /// The largest Ethernet frame (without FCS) the device carries.
    pub const fn max_frame_len(&self) -> usize {
        self.ip_mtu + 14
    }
}

impl Default for DeviceCapabilities {
    fn default() -> DeviceCapabilities {
        DeviceCapabilities::ethernet()
    }
}

/// A network device that moves Ethernet frames (without FCS).
pub trait Device {
    type RxToken<'a>: RxToken
    where
        Self: 'a;
    type TxToken<'a>: TxToken
    where
        Self: 'a;

    /// A received frame, if one is waiting, with room for one reply.
    fn receive(&mut self, now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)>;
    /// Room for one frame, if the device can take one now.
    fn transmit(&mut self, now: Instant) -> Option<Self::TxToken<'_>>;
    fn capabilities(&self) -> DeviceCapabilities;
}

/// One received frame.
pub trait RxToken {
    /// Calls `f` with the frame's bytes.
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R;
}

/// Room for one frame to transmit.
pub trait TxToken {
    /// Calls `f` with a buffer of `len` bytes to fill with a frame, then
    /// sends it. The buffer's prior contents are unspecified: the stack
    /// writes every byte. `len` must not exceed the device's frame size.
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R;
}

pub mod fault_injector;
mod frame_queue;
pub mod loopback;
pub mod pcap;
#[cfg(feature = "std")]
pub mod tap;
#[cfg(feature = "std")]
pub mod udp_link;
#[cfg(feature = "std")]
mod wait;

pub use fault_injector::{FaultConfig, FaultCounters, FaultInjector, RateLimit};
pub use frame_queue::FrameQueue;
pub use loopback::{Link, LinkEnd, Loopback, Side};
pub use pcap::{PcapMode, PcapSink, PcapWriter, SliceSink};
#[cfg(feature = "std")]
pub use tap::TapDevice;
#[cfg(feature = "std")]
pub use udp_link::UdpLink;
#[cfg(feature = "std")]
pub use wait::wait_readable;
