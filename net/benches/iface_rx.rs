//! Frames per second through an interface's receive path.
//!
//! A replay device hands the interface the same frame over and over (no
//! allocation, no copy on receive) and counts what it sends back:
//! - UDP datagrams (64-byte payload) to a bound socket that the
//!   "application" drains after every poll;
//! - ICMP echo requests (56-byte payload, like `ping`) answered by the
//!   interface;
//! - 4000-byte echo requests in three fragments, reassembled and answered
//!   with three fragments (figures per received fragment);
//! - frames for another station, dropped at the Ethernet layer (the floor:
//!   the cost of polling and parsing one header);
//! - the same UDP and echo cases over IPv6 (an interface with IPv6 on and
//!   a static address), and the IPv4 echo on a dual-stack interface, next
//!   to the IPv4-only figures of the same run.
//!
//! Each case runs with checksums verified in software and with all
//! checksums offloaded. Run with `cargo bench -p net --bench iface_rx`;
//! each figure is the best of several timed rounds.

use std::hint::black_box;
use std::time::{Duration, Instant as StdInstant};

use net::iface::{
    Config, Interface, InterfaceStorage, Ipv6Config, NdpSlot, NeighbourSlot, PendingSlot, ReassemblySlot,
};
use net::phy::{ChecksumCapabilities, Device, DeviceCapabilities, RxToken, TxToken};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketSet, SocketStorage};
use net::storage::PacketBuffer;
use net::time::Instant;
use net::wire::{arp, ethernet, icmpv4, icmpv6, ipv4, ipv6, ipv6fragment, ndp, udp};
use net::wire::{EthernetAddress, IpProtocol, Ipv4Address, Ipv4Cidr, Ipv6Address, Ipv6Cidr};

const OUR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 2]);
const OUR_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
const PEER_IP: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
const OUR_IP6: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const PEER_IP6: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

/// Which families the interface runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stack {
    Ipv4Only,
    DualStack,
}

/// Replays its frames in a cycle, `remaining` frames in all; transmitted
/// frames are written to a reused buffer and counted.
struct ReplayDevice {
    frames: Vec<Vec<u8>>,
    next: usize,
    remaining: usize,
    tx_buf: Vec<u8>,
    sent: usize,
    caps: DeviceCapabilities,
}

struct Rx<'a>(&'a [u8]);

impl RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

struct Tx<'a>(&'a mut Vec<u8>, &'a mut usize);

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        if self.0.len() < len {
            self.0.resize(len, 0);
        }
        *self.1 += 1;
        f(&mut self.0[..len])
    }
}

impl Device for ReplayDevice {
    type RxToken<'a> = Rx<'a>;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let frame = &self.frames[self.next];
        self.next = (self.next + 1) % self.frames.len();
        Some((Rx(frame), Tx(&mut self.tx_buf, &mut self.sent)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        Some(Tx(&mut self.tx_buf, &mut self.sent))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

fn ip_frame(dst_mac: EthernetAddress, protocol: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let ip = ipv4::Repr::new(PEER_IP, OUR_IP, protocol, payload.len(), 64);
    let eth =
        ethernet::Repr { src_addr: PEER_MAC, dst_addr: dst_mac, ethertype: ethernet::EtherType::Ipv4, vlan: None };
    let mut frame = vec![0u8; eth.buffer_len(ip.buffer_len())];
    eth.emit(&mut ethernet::Frame::new_unchecked(&mut frame[..]));
    let packet = &mut frame[eth.header_len()..];
    ip.emit(&mut ipv4::Packet::new_unchecked(&mut *packet), true);
    packet[ipv4::HEADER_LEN..].copy_from_slice(payload);
    frame
}

fn udp_frame() -> Vec<u8> {
    let data = [0x55u8; 64];
    let repr = udp::Repr { src_port: 4000, dst_port: 7, payload: &data };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut udp::Packet::new_unchecked(&mut buf[..]), &PEER_IP.into(), &OUR_IP.into(), true);
    ip_frame(OUR_MAC, IpProtocol::Udp, &buf)
}

fn ping_frame() -> Vec<u8> {
    let data = [0x42u8; 56];
    let repr = icmpv4::Repr::EchoRequest { ident: 1, seq_no: 1, data: &data };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut icmpv4::Packet::new_unchecked(&mut buf[..]), true);
    ip_frame(OUR_MAC, IpProtocol::Icmp, &buf)
}

/// A 4000-byte echo request as three fragments (1480 + 1480 + 1048).
fn big_ping_fragments() -> Vec<Vec<u8>> {
    let data = [0x42u8; 4000];
    let repr = icmpv4::Repr::EchoRequest { ident: 1, seq_no: 1, data: &data };
    let mut icmp = vec![0u8; repr.buffer_len()];
    repr.emit(&mut icmpv4::Packet::new_unchecked(&mut icmp[..]), true);
    icmp.chunks(1480)
        .enumerate()
        .map(|(i, chunk)| {
            let more = (i + 1) * 1480 < icmp.len();
            let ip = ipv4::Repr {
                ident: 7,
                more_frags: more,
                frag_offset: (i * 1480) as u16,
                ..ipv4::Repr::new(PEER_IP, OUR_IP, IpProtocol::Icmp, chunk.len(), 64)
            };
            let eth = ethernet::Repr {
                src_addr: PEER_MAC,
                dst_addr: OUR_MAC,
                ethertype: ethernet::EtherType::Ipv4,
                vlan: None,
            };
            let mut frame = vec![0u8; eth.buffer_len(ip.buffer_len())];
            eth.emit(&mut ethernet::Frame::new_unchecked(&mut frame[..]));
            let packet = &mut frame[eth.header_len()..];
            ip.emit(&mut ipv4::Packet::new_unchecked(&mut *packet), true);
            packet[ipv4::HEADER_LEN..].copy_from_slice(chunk);
            frame
        })
        .collect()
}

fn ipv6_frame(next_header: IpProtocol, payload: &[u8]) -> Vec<u8> {
    let ip = ipv6::Repr::new(PEER_IP6, OUR_IP6, next_header, payload.len(), 64);
    let eth =
        ethernet::Repr { src_addr: PEER_MAC, dst_addr: OUR_MAC, ethertype: ethernet::EtherType::Ipv6, vlan: None };
    let mut frame = vec![0u8; eth.buffer_len(ip.buffer_len())];
    eth.emit(&mut ethernet::Frame::new_unchecked(&mut frame[..]));
    let packet = &mut frame[eth.header_len()..];
    ip.emit(&mut ipv6::Packet::new_unchecked(&mut *packet));
    packet[ipv6::HEADER_LEN..].copy_from_slice(payload);
    frame
}

fn icmpv6_message(repr: &icmpv6::Repr, src: Ipv6Address, dst: Ipv6Address) -> Vec<u8> {
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut icmpv6::Packet::new_unchecked(&mut buf[..]), &src, &dst, true);
    buf
}

fn udp6_frame() -> Vec<u8> {
    let data = [0x55u8; 64];
    let repr = udp::Repr { src_port: 4000, dst_port: 7, payload: &data };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut udp::Packet::new_unchecked(&mut buf[..]), &PEER_IP6.into(), &OUR_IP6.into(), true);
    ipv6_frame(IpProtocol::Udp, &buf)
}

fn ping6_frame() -> Vec<u8> {
    let repr = icmpv6::Repr::EchoRequest { ident: 1, seq_no: 1, data: &[0x42u8; 56] };
    ipv6_frame(IpProtocol::Icmpv6, &icmpv6_message(&repr, PEER_IP6, OUR_IP6))
}

/// A 4000-byte ICMPv6 echo request in three fragments (1448 + 1448 + 1112).
fn big_ping6_fragments() -> Vec<Vec<u8>> {
    let repr = icmpv6::Repr::EchoRequest { ident: 1, seq_no: 1, data: &[0x42u8; 4000] };
    let icmp = icmpv6_message(&repr, PEER_IP6, OUR_IP6);
    icmp.chunks(1448)
        .enumerate()
        .map(|(i, chunk)| {
            let header = ipv6fragment::Repr {
                next_header: IpProtocol::Icmpv6,
                frag_offset: (i * 1448) as u16,
                more_frags: (i + 1) * 1448 < icmp.len(),
                ident: 7,
            };
            let mut payload = vec![0u8; ipv6fragment::HEADER_LEN + chunk.len()];
            header.emit(&mut ipv6fragment::Header::new_unchecked(&mut payload[..ipv6fragment::HEADER_LEN]));
            payload[ipv6fragment::HEADER_LEN..].copy_from_slice(chunk);
            ipv6_frame(IpProtocol::Ipv6Frag, &payload)
        })
        .collect()
}

/// The peer's neighbour solicitation for our address (teaches us its MAC).
fn neighbour_solicitation() -> Vec<u8> {
    let group = OUR_IP6.solicited_node();
    let ns = icmpv6::Repr::Ndp(ndp::Repr::NeighborSolicit { target_addr: OUR_IP6, src_lladdr: Some(PEER_MAC) });
    let message = icmpv6_message(&ns, PEER_IP6, group);
    let ip = ipv6::Repr::new(PEER_IP6, group, IpProtocol::Icmpv6, message.len(), 255);
    let eth = ethernet::Repr {
        src_addr: PEER_MAC,
        dst_addr: group.multicast_mac(),
        ethertype: ethernet::EtherType::Ipv6,
        vlan: None,
    };
    let mut frame = vec![0u8; eth.buffer_len(ip.buffer_len())];
    eth.emit(&mut ethernet::Frame::new_unchecked(&mut frame[..]));
    let packet = &mut frame[eth.header_len()..];
    ip.emit(&mut ipv6::Packet::new_unchecked(&mut *packet));
    packet[ipv6::HEADER_LEN..].copy_from_slice(&message);
    frame
}

fn foreign_frame() -> Vec<u8> {
    ip_frame(EthernetAddress([0x02, 0, 0, 0, 0, 0x77]), IpProtocol::Udp, &[0; 72])
}

fn arp_request() -> Vec<u8> {
    let repr = arp::Repr {
        operation: arp::Operation::Request,
        source_hardware_addr: PEER_MAC,
        source_protocol_addr: PEER_IP,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: OUR_IP,
    };
    let eth = ethernet::Repr {
        src_addr: PEER_MAC,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: ethernet::EtherType::Arp,
        vlan: None,
    };
    let mut frame = vec![0u8; eth.buffer_len(repr.buffer_len())];
    eth.emit(&mut ethernet::Frame::new_unchecked(&mut frame[..]));
    repr.emit(&mut arp::Packet::new_unchecked(&mut frame[eth.header_len()..]));
    frame
}

/// Frames per second for `frames` (replayed in a cycle), best of `rounds`
/// rounds of `batch` frames; also checks every frame got the expected
/// number of replies.
fn frames_per_second(
    stack: Stack,
    frames: &[Vec<u8>],
    caps: DeviceCapabilities,
    replies_per_frame: usize,
    batch: usize,
    rounds: u32,
) -> f64 {
    let mut neighbours = [NeighbourSlot::EMPTY; 8];
    let mut ndp_neighbours = [NdpSlot::EMPTY; 8];
    let (mut pending_slots, mut pending_bytes) = ([PendingSlot::EMPTY; 8], vec![0u8; 4096]);
    let (mut frag_slots, mut frag_bytes) = ([ReassemblySlot::EMPTY; 2], vec![0u8; 16384]);
    let mut iface = Interface::new(
        Config::new(OUR_MAC),
        InterfaceStorage {
            neighbours: &mut neighbours,
            pending_slots: &mut pending_slots,
            pending_bytes: &mut pending_bytes,
            reassembly_slots: &mut frag_slots,
            reassembly_bytes: &mut frag_bytes,
        },
    );
    iface.add_address(Ipv4Cidr::new(OUR_IP, 24).unwrap()).unwrap();
    let mut learn = vec![arp_request()];
    if stack == Stack::DualStack {
        let quiet = Ipv6Config { dad_transmits: 0, router_solicitations: false, mld: false, ..Ipv6Config::new() };
        iface.enable_ipv6(quiet, &mut ndp_neighbours, Instant::ZERO);
        iface.add_ipv6_address(Instant::ZERO, Ipv6Cidr::new(OUR_IP6, 64).unwrap()).unwrap();
        learn.push(neighbour_solicitation());
    }
    let (mut rx_meta, mut rx_bytes) = ([UdpPacketMetadata::EMPTY; 64], vec![0u8; 65536]);
    let (mut tx_meta, mut tx_bytes) = ([UdpPacketMetadata::EMPTY; 4], vec![0u8; 4096]);
    let mut storage = [SocketStorage::EMPTY, SocketStorage::EMPTY];
    let mut sockets = SocketSet::new(&mut storage[..]);
    let mut socket =
        UdpSocket::new(PacketBuffer::new(&mut rx_meta, &mut rx_bytes), PacketBuffer::new(&mut tx_meta, &mut tx_bytes));
    socket.bind(7).unwrap();
    let handle = sockets.add(socket);

    // Learn the peer so replies go out directly.
    let remaining = learn.len();
    let mut dev = ReplayDevice { frames: learn, next: 0, remaining, tx_buf: vec![], sent: 0, caps };
    iface.poll(Instant::ZERO, &mut dev, &mut sockets);
    dev.frames = frames.to_vec();
    dev.next = 0;
    let batch = batch - batch % frames.len();

    let mut best = Duration::MAX;
    let now = Instant::from_secs(1);
    for _ in 0..rounds {
        dev.remaining = batch;
        dev.sent = 0;
        let start = StdInstant::now();
        while dev.remaining > 0 {
            black_box(iface.poll(now, &mut dev, &mut sockets));
            let udp = sockets.get_mut::<UdpSocket>(handle);
            while let Ok((data, _)) = udp.recv() {
                black_box(data);
            }
        }
        best = best.min(start.elapsed());
        assert_eq!(dev.sent, batch * replies_per_frame, "every frame handled as expected");
    }
    batch as f64 / best.as_secs_f64()
}

fn main() {
    // `cargo test --benches` passes no `--bench`: run a quick smoke round.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (batch, rounds) = if quick { (1_000, 1) } else { (100_000, 7) };
    let software = DeviceCapabilities::ethernet();
    let offloaded = DeviceCapabilities { checksum: ChecksumCapabilities::ignored(), ..DeviceCapabilities::ethernet() };
    let cases: [(&str, Stack, Vec<Vec<u8>>, usize); 8] = [
        ("UDP 64 B to a bound socket", Stack::Ipv4Only, vec![udp_frame()], 0),
        ("ICMP echo 56 B, answered", Stack::Ipv4Only, vec![ping_frame()], 1),
        ("ICMP echo 4000 B in 3 fragments", Stack::Ipv4Only, big_ping_fragments(), 1),
        ("frame for another station", Stack::Ipv4Only, vec![foreign_frame()], 0),
        ("ICMP echo 56 B, dual stack", Stack::DualStack, vec![ping_frame()], 1),
        ("IPv6 UDP 64 B to a bound socket", Stack::DualStack, vec![udp6_frame()], 0),
        ("ICMPv6 echo 56 B, answered", Stack::DualStack, vec![ping6_frame()], 1),
        ("ICMPv6 echo 4000 B in 3 fragments", Stack::DualStack, big_ping6_fragments(), 1),
    ];
    println!("iface receive path ({batch} frames per round, best of {rounds}):");
    for (name, stack, frames, replies) in &cases {
        // A fragmented echo is answered in the egress phase: let each poll
        // take one datagram's fragments so its reply goes before the next.
        let burst = (frames.len() > 1).then_some(frames.len());
        let software = DeviceCapabilities { max_burst: burst, ..software };
        let offloaded = DeviceCapabilities { max_burst: burst, ..offloaded };
        let sw = frames_per_second(*stack, frames, software, *replies, batch, rounds);
        let off = frames_per_second(*stack, frames, offloaded, *replies, batch, rounds);
        println!(
            "  {name:<33} {:>6.2} Mframes/s ({:>5.0} ns/frame) checksums in software, {:>6.2} Mframes/s ({:>5.0} ns/frame) offloaded",
            sw / 1e6,
            1e9 / sw,
            off / 1e6,
            1e9 / off
        );
    }
}
