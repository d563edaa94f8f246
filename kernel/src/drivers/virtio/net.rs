//! virtio-net behind `net::phy::Device`: receive buffers kept posted,
//! transmit completions reaped, all frames in DMA buffers the driver owns
//! (a received frame is read in place; a transmitted one is written in place).
//!
//! With a device that offers them (QEMU's virtio-net on a TAP with a
//! virtio-net header), TCP checksums and segmentation are offloaded both
//! ways: the stack sends TCP segments of up to 64 KiB that the host cuts,
//! and receives the host's merged segments whole, so a bulk transfer moves
//! a few large frames instead of one per 1,448 bytes. Buffers are then
//! large enough for a 64 KiB packet.
use super::hal::KernelHal;
use super::transport::NetTransport;
use alloc::boxed::Box;
use alloc::vec;
use kernel::apps::stats::{Metric, NicRings};
use kernel::virtio_net_offload::{feature, NetHeader, GSO_NONE};
use net::phy::{self, Checksum, DeviceCapabilities, RxMetadata};
use net::time::Instant;
use net::wire::EthernetAddress;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::SomeTransport;

/// Descriptors per virtqueue.
pub const QUEUE_SIZE: usize = 256;
/// Receive buffers kept posted to the device.
const RX_BUFFERS: usize = 128;
/// Transmit buffers (frames in flight at once).
const TX_BUFFERS: usize = 64;
/// A buffer holds the virtio-net header (10 or 12 bytes) and a frame of up
/// to 1514 bytes; virtio wants receive buffers of at least 1526 bytes.
const SMALL_BUFFER_LEN: usize = 2048;
/// With segmentation offload: the header and a frame with a 64 KiB IP
/// packet (virtio asks for 65,562-byte receive buffers without MRG_RXBUF).
const LARGE_BUFFER_LEN: usize = 66 * 1024;
/// The largest IP packet the stack may hand over for segmentation.
const TSO_MAX_LEN: usize = 65535;
const NO_SLOT: u16 = u16::MAX;
/// Room for any frame the stack could build (an IPv4 datagram is at most
/// 65535 bytes), used when a frame cannot be sent so it is built and dropped.
const DISCARD_LEN: usize = 65536 + 64;

type Raw = VirtIONetRaw<KernelHal, NetTransport, QUEUE_SIZE>;

/// Equal-sized DMA buffers in one allocation.
struct Buffers {
    bytes: Box<[u8]>,
    len: usize,
}

impl Buffers {
    fn new(count: usize, len: usize) -> Buffers {
        Buffers { bytes: vec![0; count * len].into_boxed_slice(), len }
    }
    fn get(&self, slot: u16) -> &[u8] {
        let start = usize::from(slot) * self.len;
        &self.bytes[start..start + self.len]
    }
    fn get_mut(&mut self, slot: u16) -> &mut [u8] {
        let start = usize::from(slot) * self.len;
        &mut self.bytes[start..start + self.len]
    }
}

/// Which offloads were negotiated.
#[derive(Clone, Copy, Debug, Default)]
struct Offloads {
    /// The device completes TCP checksums we leave partial (CSUM).
    tx_checksum: bool,
    /// The device cuts TCP segments (HOST_TSO4).
    tx_segmentation: bool,
    /// Received frames may be large merged segments (GUEST_TSO4).
    rx_large: bool,
}

impl Offloads {
    fn from_features(features: u64) -> Offloads {
        Offloads {
            tx_checksum: features & feature::CSUM != 0,
            tx_segmentation: features & feature::HOST_TSO4 != 0,
            rx_large: features & feature::GUEST_TSO4 != 0,
        }
    }
}

/// Ring and traffic counters, for logs and `/stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NicStats {
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub rx_errors: u64,
    pub rx_reposted: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    pub tx_errors: u64,
    /// Frames the stack produced when every transmit buffer was in flight.
    pub tx_ring_full: u64,
    pub interrupts: u64,
    /// Frames sent for the device to segment (TCP segmentation offload).
    pub tx_segmented: u64,
    /// Received frames larger than the MTU (merged by the host).
    pub rx_large: u64,
}

struct RxRing {
    buffers: Buffers,
    /// Which buffer each descriptor token (the chain head) holds.
    slot_of_token: [u16; QUEUE_SIZE],
    /// Buffers whose frames were handed to the stack, to post again.
    to_post: [u16; RX_BUFFERS],
    to_post_len: usize,
}

struct TxRing {
    buffers: Buffers,
    slot_of_token: [u16; QUEUE_SIZE],
    /// Length (header + frame) of each in-flight buffer, for completion.
    len: [u32; TX_BUFFERS],
    free: [u16; TX_BUFFERS],
    free_len: usize,
    /// Where frames go that cannot be sent (ring full, device error).
    discard: Box<[u8]>,
    offloads: Offloads,
}

pub struct VirtioNet {
    /// Boxed: the queues' shadow descriptor tables make it large.
    raw: Box<Raw>,
    rx: RxRing,
    tx: TxRing,
    stats: NicStats,
    mac: EthernetAddress,
    offloads: Offloads,
}

/// Why the device could not be brought up.
#[derive(Debug)]
pub enum NicError {
    NotANetworkDevice,
    Init(virtio_drivers::Error),
}

impl core::fmt::Display for NicError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            NicError::NotANetworkDevice => f.write_str("not a network device"),
            NicError::Init(e) => write!(f, "initialisation failed: {e}"),
        }
    }
}

impl VirtioNet {
    /// Negotiates features (offloads too, if `offload` and the device
    /// offers them), sets up both queues and posts every receive buffer;
    /// the device interrupts only once buffers are posted.
    pub fn new(transport: SomeTransport<'static>, offload: bool) -> Result<VirtioNet, NicError> {
        use virtio_drivers::transport::{DeviceType, Transport};
        if transport.device_type() != DeviceType::Network {
            return Err(NicError::NotANetworkDevice);
        }
        let transport = NetTransport::new(transport, offload);
        let offloads = Offloads::from_features(transport.offloads());
        log::info!("nic: offloads: {offloads:?}");
        let raw = Box::new(Raw::new(transport).map_err(NicError::Init)?);
        let mac = EthernetAddress(raw.mac_address());
        let rx_len = if offloads.rx_large { LARGE_BUFFER_LEN } else { SMALL_BUFFER_LEN };
        let tx_len = if offloads.tx_segmentation { LARGE_BUFFER_LEN } else { SMALL_BUFFER_LEN };
        let mut nic = VirtioNet {
            raw,
            rx: RxRing {
                buffers: Buffers::new(RX_BUFFERS, rx_len),
                slot_of_token: [NO_SLOT; QUEUE_SIZE],
                to_post: [0; RX_BUFFERS],
                to_post_len: 0,
            },
            tx: TxRing {
                buffers: Buffers::new(TX_BUFFERS, tx_len),
                slot_of_token: [NO_SLOT; QUEUE_SIZE],
                len: [0; TX_BUFFERS],
                free: core::array::from_fn(|i| i as u16),
                free_len: TX_BUFFERS,
                discard: vec![0; DISCARD_LEN].into_boxed_slice(),
                offloads,
            },
            stats: NicStats::default(),
            mac,
            offloads,
        };
        for slot in 0..RX_BUFFERS as u16 {
            nic.rx.to_post[slot as usize] = slot;
        }
        nic.rx.to_post_len = RX_BUFFERS;
        nic.post_receive_buffers();
        nic.raw.enable_interrupts();
        Ok(nic)
    }

    pub fn mac_address(&self) -> EthernetAddress {
        self.mac
    }

    pub fn stats(&self) -> NicStats {
        self.stats
    }

    /// The counters as metrics for `/stats` and `/metrics`.
    pub fn metrics(&self) -> [Metric<'static>; 11] {
        let s = self.stats;
        [
            Metric::counter("rx_frames", s.rx_frames),
            Metric::counter("rx_bytes", s.rx_bytes),
            Metric::counter("rx_errors", s.rx_errors),
            Metric::counter("rx_buffers_reposted", s.rx_reposted),
            Metric::counter("tx_frames", s.tx_frames),
            Metric::counter("tx_bytes", s.tx_bytes),
            Metric::counter("tx_errors", s.tx_errors),
            Metric::counter("tx_ring_full", s.tx_ring_full)
                .with_help("Frames dropped: every transmit buffer in flight"),
            Metric::counter("interrupts", s.interrupts),
            Metric::counter("tx_segmented", s.tx_segmented)
                .with_help("Frames sent for the device to cut into TCP segments"),
            Metric::counter("rx_large", s.rx_large)
                .with_help("Received frames larger than the MTU (merged by the host)"),
        ]
    }

    /// How full the rings are now.
    pub fn rings(&self) -> NicRings {
        NicRings {
            rx_size: RX_BUFFERS as u32,
            rx_posted: (RX_BUFFERS - self.rx.to_post_len) as u32,
            tx_size: TX_BUFFERS as u32,
            tx_in_flight: (TX_BUFFERS - self.tx.free_len) as u32,
        }
    }

    /// Acknowledges the device's interrupt; call before draining the rings
    /// (a completion that lands after this raises the interrupt again).
    pub fn acknowledge_interrupt(&mut self) {
        self.stats.interrupts += 1;
        let _ = self.raw.ack_interrupt();
    }

    /// Gives consumed receive buffers back to the device.
    fn post_receive_buffers(&mut self) {
        while self.rx.to_post_len > 0 {
            let slot = self.rx.to_post[self.rx.to_post_len - 1];
            let buffer = self.rx.buffers.get_mut(slot);
            // receive() reads the buffer only after receive_complete.
            // SAFETY: driver-owned heap memory, untouched until the device completes it.
            match unsafe { self.raw.receive_begin(buffer) } {
                Ok(token) => {
                    self.rx.slot_of_token[token as usize % QUEUE_SIZE] = slot;
                    self.rx.to_post_len -= 1;
                    self.stats.rx_reposted += 1;
                }
                Err(_) => break, // queue full: try again on the next call
            }
        }
    }

    /// Returns completed transmit buffers to the free list.
    fn reap_transmitted(tx: &mut TxRing, raw: &mut Raw, stats: &mut NicStats) {
        while let Some(token) = raw.poll_transmit() {
            let slot = tx.slot_of_token[token as usize % QUEUE_SIZE];
            if slot == NO_SLOT {
                stats.tx_errors += 1;
                return;
            }
            let len = tx.len[slot as usize] as usize;
            // SAFETY: the same buffer and length given to transmit_begin for this token.
            if unsafe { raw.transmit_complete(token, &tx.buffers.get(slot)[..len]) }.is_err() {
                stats.tx_errors += 1;
                return;
            }
            tx.slot_of_token[token as usize % QUEUE_SIZE] = NO_SLOT;
            tx.free[tx.free_len] = slot;
            tx.free_len += 1;
        }
    }
}

pub struct NicRxToken<'a> {
    frame: &'a [u8],
    metadata: RxMetadata,
}

pub struct NicTxToken<'a> {
    raw: &'a mut Raw,
    tx: &'a mut TxRing,
    stats: &'a mut NicStats,
    /// Payload per segment, for a frame the device is to segment.
    segment: Option<u16>,
}

impl phy::RxToken for NicRxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
    fn metadata(&self) -> RxMetadata {
        self.metadata
    }
}

impl phy::TxToken for NicTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        VirtioNet::reap_transmitted(self.tx, self.raw, self.stats);
        let discard_len = len.min(DISCARD_LEN);
        let Some(slot) = self.tx.free_len.checked_sub(1).map(|i| self.tx.free[i]) else {
            // Every buffer is in flight: the frame is built and dropped.
            self.stats.tx_ring_full += 1;
            return f(&mut self.tx.discard[..discard_len]);
        };
        let buffer = self.tx.buffers.get_mut(slot);
        let buffer_len = buffer.len();
        let header_len = match self.raw.fill_buffer_header(buffer) {
            Ok(header_len) if header_len + len <= buffer_len => header_len,
            _ => {
                // Larger than the device's frame size: a caller bug, counted.
                self.stats.tx_errors += 1;
                return f(&mut self.tx.discard[..discard_len]);
            }
        };
        let total = header_len + len;
        let (header, frame) = buffer[..total].split_at_mut(header_len);
        let result = f(frame);
        let offloads = self.tx.offloads;
        let segment = self.segment.filter(|_| offloads.tx_segmentation);
        let net_header = NetHeader::for_transmit(frame, offloads.tx_checksum, segment);
        net_header.emit(header);
        // The slot leaves the free list below, until reap_transmitted completes it.
        // SAFETY: driver-owned heap memory, untouched until the device completes it.
        match unsafe { self.raw.transmit_begin(&buffer[..total]) } {
            Ok(token) => {
                self.tx.free_len -= 1;
                self.tx.slot_of_token[token as usize % QUEUE_SIZE] = slot;
                self.tx.len[slot as usize] = total as u32;
                self.stats.tx_frames += 1;
                self.stats.tx_bytes += len as u64;
                if net_header.gso_type != GSO_NONE {
                    self.stats.tx_segmented += 1;
                }
            }
            Err(_) => self.stats.tx_errors += 1,
        }
        result
    }

    fn set_tcp_segment_size(&mut self, payload_len: u16) {
        self.segment = Some(payload_len);
    }
}

impl phy::Device for VirtioNet {
    type RxToken<'a> = NicRxToken<'a>;
    type TxToken<'a> = NicTxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(NicRxToken<'_>, NicTxToken<'_>)> {
        self.post_receive_buffers();
        let token = self.raw.poll_receive()?;
        let slot = self.rx.slot_of_token[token as usize % QUEUE_SIZE];
        if slot == NO_SLOT {
            self.stats.rx_errors += 1;
            return None;
        }
        self.rx.slot_of_token[token as usize % QUEUE_SIZE] = NO_SLOT;
        let buffer = self.rx.buffers.get_mut(slot);
        let buffer_len = buffer.len();
        // SAFETY: the same buffer given to receive_begin for this token.
        let completed = unsafe { self.raw.receive_complete(token, buffer) };
        // Posted again on the next call, after the stack is done reading it.
        self.rx.to_post[self.rx.to_post_len] = slot;
        self.rx.to_post_len += 1;
        let buffer = self.rx.buffers.get(slot);
        let (frame, metadata) = match completed {
            Ok((header_len, len)) if header_len + len <= buffer_len => {
                let header = NetHeader::parse(&buffer[..header_len]).unwrap_or_default();
                (&buffer[header_len..header_len + len], header.rx_metadata())
            }
            _ => {
                self.stats.rx_errors += 1;
                (&buffer[..0], RxMetadata::default())
            }
        };
        self.stats.rx_frames += 1;
        self.stats.rx_bytes += frame.len() as u64;
        if frame.len() > DeviceCapabilities::ethernet().max_frame_len() {
            self.stats.rx_large += 1;
        }
        let tx = NicTxToken { raw: &mut self.raw, tx: &mut self.tx, stats: &mut self.stats, segment: None };
        Some((NicRxToken { frame, metadata }, tx))
    }

    fn transmit(&mut self, _now: Instant) -> Option<NicTxToken<'_>> {
        VirtioNet::reap_transmitted(&mut self.tx, &mut self.raw, &mut self.stats);
        if self.tx.free_len == 0 {
            return None;
        }
        Some(NicTxToken { raw: &mut self.raw, tx: &mut self.tx, stats: &mut self.stats, segment: None })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities { max_burst: Some(RX_BUFFERS / 2), ..DeviceCapabilities::ethernet() };
        if self.offloads.tx_checksum {
            // TCP checksums are left to the device on transmit (the
            // stack still verifies received ones the device did not).
            caps.checksum.tcp = Checksum::Rx;
            if self.offloads.tx_segmentation {
                caps.tso_max_len = TSO_MAX_LEN;
            }
        }
        caps
    }
}
