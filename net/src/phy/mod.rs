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
    /// The same setting for a received frame whose checksum the device
    /// vouched for: the stack no longer verifies it.
    pub const fn vouched(self) -> Checksum {
        match self {
            Checksum::Both | Checksum::Tx => Checksum::Tx,
            Checksum::Rx | Checksum::None => Checksum::None,
        }
    }
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

    /// The settings for one received frame: the transport checksums (TCP,
    /// UDP, ICMP) are not verified when the device vouched for them
    /// ([`RxMetadata::l4_checksum_valid`]); the IPv4 header's still is.
    pub const fn for_received(self, metadata: RxMetadata) -> ChecksumCapabilities {
        if !metadata.l4_checksum_valid {
            return self;
        }
        ChecksumCapabilities {
            ipv4: self.ipv4,
            udp: self.udp.vouched(),
            tcp: self.tcp.vouched(),
            icmpv4: self.icmpv4.vouched(),
        }
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
    /// TCP segmentation offload: the largest IPv4 packet carrying one TCP
    /// segment that the device accepts and cuts into MTU-sized segments
    /// itself (0: none). The stack then sends segments longer than the MSS,
    /// each announced with [`TxToken::set_tcp_segment_size`], and leaves
    /// their TCP checksum to the device (the TCP checksum setting must not
    /// ask the stack to compute it).
    pub tso_max_len: usize,
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
            tso_max_len: 0,
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

/// What the device knows about one received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxMetadata {
    /// The device vouches for the transport checksum (TCP, UDP or ICMP):
    /// it verified it, or the frame comes from the same host and carries a
    /// checksum left for hardware to fill (virtio's NEEDS_CSUM), which a
    /// receiver must then not check.
    pub l4_checksum_valid: bool,
}

/// One received frame.
pub trait RxToken {
    /// Calls `f` with the frame's bytes.
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R;
    /// What the device knows about the frame; nothing by default.
    fn metadata(&self) -> RxMetadata {
        RxMetadata::default()
    }
}

/// Room for one frame to transmit.
pub trait TxToken {
    /// Calls `f` with a buffer of `len` bytes to fill with a frame, then
    /// sends it. The buffer's prior contents are unspecified: the stack
    /// writes every byte. `len` must not exceed the device's frame size.
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R;
    /// Announces that the frame about to be built is one IPv4 TCP segment
    /// longer than the link carries, for the device to cut into segments
    /// of `payload_len` bytes each (the last one shorter), fixing sequence
    /// numbers, IP lengths and checksums. The stack calls it only when the
    /// capabilities give a `tso_max_len`; devices without TCP segmentation
    /// offload keep this default, which ignores it.
    fn set_tcp_segment_size(&mut self, payload_len: u16) {
        let _ = payload_len;
    }
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
