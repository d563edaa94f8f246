//! Shared helpers for the interface tests: an in-memory device, leaked
//! 'static storage, frame builders and frame parsers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::vec::Vec;

use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
use net::phy::{Device, DeviceCapabilities, RxToken, TxToken};
use net::socket::icmp::{IcmpPacketMetadata, IcmpSocket};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketSet, SocketStorage};
use net::storage::PacketBuffer;
use net::time::Instant;
use net::wire::{arp, checksum, ethernet, icmpv4, ipv4, udp};
use net::wire::{EthernetAddress, IpAddress, IpProtocol, Ipv4Address};

pub const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
pub const MAC_B: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0b]);
pub const MAC_P: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x09]);
pub const IP_A: Ipv4Address = Ipv4Address::new(10, 0, 0, 1);
pub const IP_B: Ipv4Address = Ipv4Address::new(10, 0, 0, 2);
pub const IP_P: Ipv4Address = Ipv4Address::new(10, 0, 0, 9);

/// A device over two frame queues; `tx_room` limits how many frames
/// `transmit` still hands out (None: unlimited).
#[derive(Debug, Default)]
pub struct TestDevice {
    pub rx: VecDeque<Vec<u8>>,
    pub tx: Vec<Vec<u8>>,
    pub caps: DeviceCapabilities,
    pub tx_room: Option<usize>,
}

pub struct Rx(Vec<u8>);

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

pub struct Tx<'a>(&'a mut Vec<Vec<u8>>);

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0xa5; len];
        let r = f(&mut buf);
        self.0.push(buf);
        r
    }
}

impl Device for TestDevice {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((Rx(frame), Tx(&mut self.tx)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        if let Some(room) = self.tx_room.as_mut() {
            if *room == 0 {
                return None;
            }
            *room -= 1;
        }
        Some(Tx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

impl TestDevice {
    pub fn new() -> TestDevice {
        TestDevice::default()
    }
    pub fn take_tx(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.tx)
    }
}

pub fn leak<T>(v: T) -> &'static mut T {
    Box::leak(Box::new(v))
}

pub fn secs(s: i64) -> Instant {
    Instant::from_secs(s)
}

pub fn millis(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

/// An interface with generous storage: 8 neighbours, 8 pending packets in
/// 16 KiB, 4 reassembly slots of 16 KiB.
pub fn interface(mac: EthernetAddress, cidr: &str) -> Interface<'static> {
    interface_with(Config::new(mac), cidr, 8, 16384)
}

pub fn interface_with(config: Config, cidr: &str, pending_slots: usize, pending_bytes: usize) -> Interface<'static> {
    let storage = InterfaceStorage {
        neighbours: leak([NeighbourSlot::EMPTY; 8]),
        pending_slots: vec![PendingSlot::EMPTY; pending_slots].leak(),
        pending_bytes: vec![0u8; pending_bytes].leak(),
        reassembly_slots: leak([ReassemblySlot::EMPTY; 4]),
        reassembly_bytes: vec![0u8; 4 * 16384].leak(),
    };
    let mut iface = Interface::new(config, storage);
    if !cidr.is_empty() {
        iface.add_address(cidr.parse().unwrap()).unwrap();
    }
    iface
}

pub fn socket_set() -> SocketSet<'static> {
    let storage: &'static mut [SocketStorage<'static>] = Vec::from_iter((0..8).map(|_| SocketStorage::EMPTY)).leak();
    SocketSet::new(storage)
}

pub fn udp_socket() -> UdpSocket<'static> {
    UdpSocket::new(
        PacketBuffer::new(vec![UdpPacketMetadata::EMPTY; 8].leak(), vec![0u8; 16384].leak()),
        PacketBuffer::new(vec![UdpPacketMetadata::EMPTY; 8].leak(), vec![0u8; 16384].leak()),
    )
}

pub fn icmp_socket() -> IcmpSocket<'static> {
    IcmpSocket::new(
        PacketBuffer::new(vec![IcmpPacketMetadata::EMPTY; 8].leak(), vec![0u8; 16384].leak()),
        PacketBuffer::new(vec![IcmpPacketMetadata::EMPTY; 8].leak(), vec![0u8; 16384].leak()),
    )
}

// ---- Frame builders ----

pub fn eth(dst: EthernetAddress, src: EthernetAddress, ethertype: ethernet::EtherType, payload: &[u8]) -> Vec<u8> {
    let repr = ethernet::Repr { src_addr: src, dst_addr: dst, ethertype, vlan: None };
    let mut buf = vec![0u8; repr.buffer_len(payload.len())];
    repr.emit(&mut ethernet::Frame::new_unchecked(&mut buf[..]));
    buf[repr.header_len()..].copy_from_slice(payload);
    buf
}

pub fn arp_frame(
    eth_dst: EthernetAddress,
    op: arp::Operation,
    sha: EthernetAddress,
    spa: Ipv4Address,
    tha: EthernetAddress,
    tpa: Ipv4Address,
) -> Vec<u8> {
    let repr = arp::Repr {
        operation: op,
        source_hardware_addr: sha,
        source_protocol_addr: spa,
        target_hardware_addr: tha,
        target_protocol_addr: tpa,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut arp::Packet::new_unchecked(&mut buf[..]));
    eth(eth_dst, sha, ethernet::EtherType::Arp, &buf)
}

/// The ARP reply the peer `P` would send to `to` (at `to_mac`).
pub fn arp_reply_from(mac: EthernetAddress, ip: Ipv4Address, to_mac: EthernetAddress, to: Ipv4Address) -> Vec<u8> {
    arp_frame(to_mac, arp::Operation::Reply, mac, ip, to_mac, to)
}

/// IPv4 header fields for a built packet.
#[derive(Clone, Copy, Debug)]
pub struct Ip {
    pub src: Ipv4Address,
    pub dst: Ipv4Address,
    pub protocol: IpProtocol,
    pub ident: u16,
    pub ttl: u8,
    pub dont_frag: bool,
    pub more_frags: bool,
    pub offset: u16,
}

impl Ip {
    pub fn new(src: Ipv4Address, dst: Ipv4Address, protocol: IpProtocol) -> Ip {
        Ip { src, dst, protocol, ident: 0x4242, ttl: 64, dont_frag: false, more_frags: false, offset: 0 }
    }
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let repr = ipv4::Repr {
            src_addr: self.src,
            dst_addr: self.dst,
            protocol: self.protocol,
            payload_len: payload.len(),
            ttl: self.ttl,
            ident: self.ident,
            dont_frag: self.dont_frag,
            more_frags: self.more_frags,
            frag_offset: self.offset,
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut ipv4::Packet::new_unchecked(&mut buf[..]), true);
        buf[ipv4::HEADER_LEN..].copy_from_slice(payload);
        buf
    }
    /// The packet in a frame from `src_mac` to `dst_mac`.
    pub fn frame(&self, dst_mac: EthernetAddress, src_mac: EthernetAddress, payload: &[u8]) -> Vec<u8> {
        eth(dst_mac, src_mac, ethernet::EtherType::Ipv4, &self.packet(payload))
    }
    /// The payload cut into fragments of at most `step` bytes (a multiple
    /// of 8), as frames.
    pub fn fragment_frames(
        &self,
        dst_mac: EthernetAddress,
        src_mac: EthernetAddress,
        payload: &[u8],
        step: usize,
    ) -> Vec<Vec<u8>> {
        let mut frames = vec![];
        let mut offset = 0;
        while offset < payload.len() {
            let end = (offset + step).min(payload.len());
            let ip = Ip { offset: offset as u16, more_frags: end < payload.len(), ..*self };
            frames.push(ip.frame(dst_mac, src_mac, &payload[offset..end]));
            offset = end;
        }
        frames
    }
}

pub fn udp_datagram(src: Ipv4Address, dst: Ipv4Address, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let repr = udp::Repr { src_port, dst_port, payload };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut udp::Packet::new_unchecked(&mut buf[..]), &src.into(), &dst.into(), true);
    buf
}

pub fn udp_frame(
    src: Ipv4Address,
    dst: Ipv4Address,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
    dst_mac: EthernetAddress,
    src_mac: EthernetAddress,
) -> Vec<u8> {
    Ip::new(src, dst, IpProtocol::Udp).frame(dst_mac, src_mac, &udp_datagram(src, dst, src_port, dst_port, payload))
}

pub fn icmp_echo(request: bool, ident: u16, seq_no: u16, data: &[u8]) -> Vec<u8> {
    let repr = if request {
        icmpv4::Repr::EchoRequest { ident, seq_no, data }
    } else {
        icmpv4::Repr::EchoReply { ident, seq_no, data }
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut icmpv4::Packet::new_unchecked(&mut buf[..]), true);
    buf
}

// ---- Frame parsers (for assertions) ----

/// An Ethernet frame's header and payload.
pub fn parse_eth(frame: &[u8]) -> (ethernet::Repr, &[u8]) {
    let f = ethernet::Frame::new_checked(frame).expect("ethernet");
    let repr = ethernet::Repr::parse(&f).unwrap();
    (repr, f.payload())
}

pub fn parse_arp(frame: &[u8]) -> Option<arp::Repr> {
    let (e, payload) = parse_eth(frame);
    if e.ethertype != ethernet::EtherType::Arp {
        return None;
    }
    arp::Repr::parse(&arp::Packet::new_checked(payload).ok()?).ok()
}

/// An IPv4 frame's header (checksum verified) and payload.
pub fn parse_ip(frame: &[u8]) -> Option<(ethernet::Repr, ipv4::Repr, Vec<u8>)> {
    let (e, payload) = parse_eth(frame);
    if e.ethertype != ethernet::EtherType::Ipv4 {
        return None;
    }
    let p = ipv4::Packet::new_checked(payload).ok()?;
    let repr = ipv4::Repr::parse(&p, true).expect("valid IPv4 header checksum");
    Some((e, repr, p.payload().to_vec()))
}

/// A UDP frame's endpoints and payload, checksum verified.
pub fn parse_udp(frame: &[u8]) -> Option<(ipv4::Repr, u16, u16, Vec<u8>)> {
    let (_, ip, payload) = parse_ip(frame)?;
    if ip.protocol != IpProtocol::Udp || ip.is_fragment() {
        return None;
    }
    let p = udp::Packet::new_checked(&payload[..]).ok()?;
    let r = udp::Repr::parse(&p, &IpAddress::V4(ip.src_addr), &IpAddress::V4(ip.dst_addr), true).expect("udp checksum");
    Some((ip, r.src_port, r.dst_port, r.payload.to_vec()))
}

pub fn internet_checksum(data: &[u8]) -> u16 {
    checksum::checksum(data)
}

/// Moves frames both ways between two devices, polling both interfaces,
/// until the link is quiet. Returns the number of frames moved.
pub fn run_link(
    now: Instant,
    a: &mut Interface<'static>,
    dev_a: &mut TestDevice,
    sa: &mut SocketSet<'static>,
    b: &mut Interface<'static>,
    dev_b: &mut TestDevice,
    sb: &mut SocketSet<'static>,
) -> usize {
    let mut moved = 0;
    for _ in 0..50 {
        a.poll(now, dev_a, sa);
        let from_a = dev_a.take_tx();
        b.poll(now, dev_b, sb);
        let from_b = dev_b.take_tx();
        if from_a.is_empty() && from_b.is_empty() && dev_a.rx.is_empty() && dev_b.rx.is_empty() {
            break;
        }
        moved += from_a.len() + from_b.len();
        dev_b.rx.extend(from_a);
        dev_a.rx.extend(from_b);
    }
    moved
}
