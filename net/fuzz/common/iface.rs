//! An interface over an in-memory device, with the sockets the interface
//! targets share, and the checks every transmitted frame must pass.

use std::collections::VecDeque;

use net::iface::{
    Config, Interface, InterfaceStorage, Ipv6Config, NdpSlot, NeighbourSlot, PendingSlot, ReassemblySlot,
};
use net::phy::{Device, DeviceCapabilities, RxToken, TxToken};
use net::socket::dhcpv4::DhcpClient;
use net::socket::dns::{DnsQuerySlot, DnsResolver, QueryKind};
use net::socket::icmp::{IcmpPacketMetadata, IcmpSocket};
use net::socket::tcp::{ListenerConfig, State, TcpConfig, TcpListener, TcpSocket};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketHandle, SocketSet, SocketStorage};
use net::storage::{PacketBuffer, RingBuffer};
use net::time::Instant;
use net::wire::ethernet::{EtherType, Frame};
use net::wire::{arp, icmpv4, icmpv6, ipv4, ipv6, ipv6ext, ndp, tcp, udp};
use net::wire::{EthernetAddress, IpAddress, IpProtocol, Ipv4Address, Ipv4Cidr, Ipv6Address};

pub const MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
pub const ADDR: Ipv4Address = Ipv4Address([10, 0, 0, 1]);
#[allow(dead_code)] // not every target uses every constant
pub const GATEWAY: Ipv4Address = Ipv4Address([10, 0, 0, 2]);
/// A static IPv6 address beside the link-local one (both usable at once:
/// DAD is off).
pub const ADDR6: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
pub const DNS_SERVER: Ipv4Address = Ipv4Address([10, 0, 0, 53]);
pub const UDP_PORT: u16 = 7;
pub const ICMP_IDENT: u16 = 0x1234;
/// A TCP listener with a pool of two sockets.
pub const LISTENER_PORT: u16 = 80;
/// A single TCP socket in LISTEN.
pub const TCP_PORT: u16 = 81;

/// A device whose received frames come from a queue and whose
/// transmitted frames are kept; `tx_room` frames may go out per poll.
pub struct FuzzDevice {
    pub rx: VecDeque<Vec<u8>>,
    pub tx: Vec<Vec<u8>>,
    pub tx_room: usize,
    pub caps: DeviceCapabilities,
}

impl FuzzDevice {
    pub fn new() -> FuzzDevice {
        FuzzDevice { rx: VecDeque::new(), tx: Vec::new(), tx_room: usize::MAX, caps: DeviceCapabilities::ethernet() }
    }
}

pub struct Rx(Vec<u8>);

impl RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

pub struct Tx<'a> {
    sent: &'a mut Vec<Vec<u8>>,
    max_len: usize,
}

impl TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        assert!(len <= self.max_len, "frame of {len} bytes on a {}-byte device", self.max_len);
        // The stack must write every byte: start from garbage.
        let mut frame = vec![0xa5; len];
        let result = f(&mut frame);
        self.sent.push(frame);
        result
    }
}

impl Device for FuzzDevice {
    type RxToken<'a> = Rx;
    type TxToken<'a> = Tx<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(Rx, Tx<'_>)> {
        let frame = self.rx.pop_front()?;
        let max_len = self.caps.max_frame_len();
        Some((Rx(frame), Tx { sent: &mut self.tx, max_len }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_>> {
        if self.tx_room == 0 {
            return None;
        }
        self.tx_room -= 1;
        let max_len = self.caps.max_frame_len();
        Some(Tx { sent: &mut self.tx, max_len })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

/// What a sent frame carried, for targets that answer it.
#[allow(dead_code)] // iface_receive does not answer
pub enum Sent {
    Other,
    /// A TCP segment to this address.
    Tcp(Ipv4Address, tcp::Repr),
    /// A UDP datagram to this port.
    Udp(u16, Vec<u8>),
}

/// Checks a frame the interface sent: from our MAC, and every header it
/// carries parses (checksums verified).
pub fn check_sent_frame(frame: &[u8], addresses: &[Ipv4Address], addresses6: &[Ipv6Address]) -> Sent {
    let frame = Frame::new_checked(frame).expect("sent frame checks");
    assert_eq!(frame.src_addr(), MAC);
    assert!(frame.vlan_tag().is_none());
    match frame.ethertype() {
        EtherType::Arp => {
            let packet = arp::Packet::new_checked(frame.payload()).expect("sent ARP checks");
            arp::Repr::parse(&packet).expect("sent ARP parses");
            Sent::Other
        }
        EtherType::Ipv4 => {
            let packet = ipv4::Packet::new_checked(frame.payload()).expect("sent IPv4 checks");
            let ip = ipv4::Repr::parse(&packet, true).expect("sent IPv4 parses");
            assert!(ip.src_addr.is_unspecified() || addresses.contains(&ip.src_addr), "sent from {}", ip.src_addr);
            assert!(ip.ttl > 0);
            if packet.is_fragment() {
                return Sent::Other;
            }
            let (src, dst) = (IpAddress::V4(ip.src_addr), IpAddress::V4(ip.dst_addr));
            match ip.protocol {
                IpProtocol::Udp => {
                    let packet = udp::Packet::new_checked(packet.payload()).expect("sent UDP checks");
                    let repr = udp::Repr::parse(&packet, &src, &dst, true).expect("sent UDP parses");
                    Sent::Udp(repr.dst_port, repr.payload.to_vec())
                }
                IpProtocol::Icmp => {
                    let packet = icmpv4::Packet::new_checked(packet.payload()).expect("sent ICMP checks");
                    icmpv4::Repr::parse(&packet, true).expect("sent ICMP parses");
                    Sent::Other
                }
                IpProtocol::Tcp => {
                    let packet = tcp::Packet::new_checked(packet.payload()).expect("sent TCP checks");
                    let repr = tcp::Repr::parse(&packet, &src, &dst, true).expect("sent TCP parses");
                    Sent::Tcp(ip.dst_addr, repr)
                }
                other => panic!("sent IP protocol {other:?}"),
            }
        }
        EtherType::Ipv6 => check_sent_ipv6(frame.payload(), addresses6),
        other => panic!("sent ethertype {other:?}"),
    }
}

/// Checks an IPv6 packet the interface sent (once the stack has IPv6
/// enabled): one of our addresses as the source (or unspecified, for
/// DAD), a hop limit, a
/// walkable header chain, and upper layers with valid checksums over the
/// IPv6 pseudo-header; NDP with hop limit 255.
fn check_sent_ipv6(bytes: &[u8], addresses6: &[Ipv6Address]) -> Sent {
    let packet = ipv6::Packet::new_checked(bytes).expect("sent IPv6 checks");
    let ip = ipv6::Repr::parse(&packet).expect("sent IPv6 parses");
    assert!(ip.src_addr.is_unspecified() || addresses6.contains(&ip.src_addr), "sent from {}", ip.src_addr);
    assert!(!ip.dst_addr.is_unspecified(), "sent to :: from {}", ip.src_addr);
    assert!(ip.hop_limit > 0);
    let payload = packet.payload();
    let chain = ipv6ext::walk(payload, ip.next_header, ip.dst_addr.is_multicast()).expect("sent header chain walks");
    if chain.fragment.is_some_and(|f| !f.is_atomic()) {
        return Sent::Other;
    }
    let upper = &payload[chain.upper_offset..];
    let (src, dst) = (IpAddress::V6(ip.src_addr), IpAddress::V6(ip.dst_addr));
    match chain.upper {
        IpProtocol::Udp => {
            let packet = udp::Packet::new_checked(upper).expect("sent UDP checks");
            let repr = udp::Repr::parse(&packet, &src, &dst, true).expect("sent UDP parses");
            Sent::Udp(repr.dst_port, repr.payload.to_vec())
        }
        IpProtocol::Tcp => {
            let packet = tcp::Packet::new_checked(upper).expect("sent TCP checks");
            tcp::Repr::parse(&packet, &src, &dst, true).expect("sent TCP parses");
            Sent::Other
        }
        IpProtocol::Icmpv6 => {
            let packet = icmpv6::Packet::new_checked(upper).expect("sent ICMPv6 checks");
            match icmpv6::Repr::parse(&packet, &ip.src_addr, &ip.dst_addr, true) {
                Ok(icmpv6::Repr::Ndp(_)) => assert_eq!(ip.hop_limit, ndp::HOP_LIMIT, "NDP sent with a hop limit"),
                Ok(_) => assert!(!ip.src_addr.is_unspecified(), "ICMPv6 from ::"),
                // MLD reports are the one kind this parser leaves alone.
                Err(_) => check_sent_mld(&ip, chain.router_alert, upper),
            }
            Sent::Other
        }
        other => panic!("sent IPv6 next header {other:?}"),
    }
}

/// Checks an MLD report the interface sent (RFC 3810 5.2, RFC 2710 3):
/// hop limit 1 behind a router alert, from a link-local address (or ::
/// while it is tentative); an MLDv2 report to ff02::16 whose records all
/// fit, join/leave/current-state records of solicited-node groups without
/// sources; or an MLDv1 report to the solicited-node group it names, or
/// an MLDv1 done to all-routers.
fn check_sent_mld(ip: &ipv6::Repr, router_alert: bool, message: &[u8]) {
    use net::wire::mld;
    assert_eq!(ip.hop_limit, mld::HOP_LIMIT, "MLD hop limit");
    assert!(router_alert, "MLD without a router alert");
    assert!(ip.src_addr.is_unspecified() || ip.src_addr.is_link_local(), "MLD from {}", ip.src_addr);
    let (src, dst) = (&ip.src_addr, &ip.dst_addr);
    match icmpv6::Packet::new_checked(message).expect("sent ICMPv6 checks").msg_type() {
        icmpv6::Message::MldReportV2 => {
            assert_eq!(ip.dst_addr, mld::ALL_MLDV2_ROUTERS);
            let report = mld::Report::parse(message, src, dst, true).expect("sent MLDv2 report parses");
            assert!(!report.is_empty());
            assert_eq!(report.records().count(), report.len());
            for r in report.records() {
                assert!(r.group.is_solicited_node_multicast(), "reported {}", r.group);
                assert_eq!(r.sources, 0);
                assert!(matches!(
                    r.record_type,
                    mld::RecordType::ChangeToExclude
                        | mld::RecordType::ChangeToInclude
                        | mld::RecordType::ModeIsExclude
                ));
            }
        }
        icmpv6::Message::MldReport => {
            assert_eq!(message.len(), mld::QUERY_V1_LEN);
            let group = mld::parse_report_v1(message, src, dst, true).expect("sent MLDv1 report parses");
            assert!(group.is_solicited_node_multicast() && group == ip.dst_addr, "MLDv1 report {group}");
        }
        icmpv6::Message::MldDone => {
            assert_eq!(message.len(), mld::QUERY_V1_LEN);
            assert_eq!(ip.dst_addr, Ipv6Address::LINK_LOCAL_ALL_ROUTERS);
            let group = mld::parse_done_v1(message, src, dst, true).expect("sent MLDv1 done parses");
            assert!(group.is_solicited_node_multicast(), "MLDv1 done {group}");
        }
        other => panic!("sent ICMPv6 {other:?}"),
    }
}

/// Handles of the sockets in [`with_stack`]'s set.
#[allow(dead_code)] // not every target uses every socket
pub struct Handles {
    pub udp: SocketHandle,
    pub icmp: SocketHandle,
    pub dns: SocketHandle,
    pub listener: SocketHandle,
    pub tcp: SocketHandle,
    pub dhcp: Option<SocketHandle>,
}

/// Builds an interface at 10.0.0.1/24 (gateway 10.0.0.2, DNS 10.0.0.53),
/// fd00::1/64 and its EUI-64 link-local address,
/// with a UDP socket on port 7, an ICMP socket, a DNS resolver with a
/// query started, a TCP listener on port 80 (two sockets) and a TCP socket
/// listening on port 81 (and, with `dhcp`, a DHCP client), and hands it
/// to `f`.
#[allow(dead_code)] // a target may build its own stack
pub fn with_stack<R>(
    dhcp: bool,
    config: impl FnOnce(&mut Config),
    f: impl FnOnce(&mut Interface, &mut SocketSet, &Handles) -> R,
) -> R {
    let mut neighbours = [NeighbourSlot::EMPTY; 4];
    let mut neighbours6 = [NdpSlot::EMPTY; 4];
    let (mut pending_slots, mut pending_bytes) = ([PendingSlot::EMPTY; 4], [0u8; 4096]);
    let (mut frag_slots, mut frag_bytes) = ([ReassemblySlot::EMPTY; 2], [0u8; 2 * 4096]);
    let storage = InterfaceStorage {
        neighbours: &mut neighbours,
        pending_slots: &mut pending_slots,
        pending_bytes: &mut pending_bytes,
        reassembly_slots: &mut frag_slots,
        reassembly_bytes: &mut frag_bytes,
    };
    let mut iface_config = Config::new(MAC);
    config(&mut iface_config);
    let mut iface = Interface::new(iface_config, storage);
    iface.add_address(Ipv4Cidr::new(ADDR, 24).unwrap()).unwrap();
    iface.set_default_gateway(Some(GATEWAY));
    iface.set_dns_servers(&[DNS_SERVER]);
    let v6 = Ipv6Config { dad_transmits: 0, router_solicitations: false, ..Ipv6Config::new() };
    iface.enable_ipv6(v6, &mut neighbours6, Instant::ZERO);
    iface.add_ipv6_address(Instant::ZERO, net::wire::Ipv6Cidr::new(ADDR6, 64).unwrap()).unwrap();

    let (mut udp_rx_meta, mut udp_rx) = ([UdpPacketMetadata::EMPTY; 4], [0u8; 4096]);
    let (mut udp_tx_meta, mut udp_tx) = ([UdpPacketMetadata::EMPTY; 4], [0u8; 4096]);
    let mut udp = UdpSocket::new(
        PacketBuffer::new(&mut udp_rx_meta, &mut udp_rx),
        PacketBuffer::new(&mut udp_tx_meta, &mut udp_tx),
    );
    udp.bind(UDP_PORT).unwrap();
    let (mut icmp_rx_meta, mut icmp_rx) = ([IcmpPacketMetadata::EMPTY; 4], [0u8; 2048]);
    let (mut icmp_tx_meta, mut icmp_tx) = ([IcmpPacketMetadata::EMPTY; 4], [0u8; 2048]);
    let mut icmp = IcmpSocket::new(
        PacketBuffer::new(&mut icmp_rx_meta, &mut icmp_rx),
        PacketBuffer::new(&mut icmp_tx_meta, &mut icmp_tx),
    );
    icmp.bind(ICMP_IDENT).unwrap();
    let mut dns_slots = [DnsQuerySlot::EMPTY; 2];
    let mut dns = DnsResolver::new(&mut dns_slots, 7);
    dns.set_servers(&[IpAddress::V4(DNS_SERVER)]);
    dns.start_query("example.com", QueryKind::A, Instant::ZERO).unwrap();

    // Small buffers, so that windows fill and the reassembly of
    // out-of-order data is reached with few segments.
    let tcp_config = TcpConfig { isn_secret: [9; 16], ..TcpConfig::default() };
    let mut tcp_bytes = [0u8; 6 * 1024];
    let mut chunks = tcp_bytes.chunks_exact_mut(1024);
    let mut ring = || RingBuffer::new(chunks.next().unwrap());
    let mut pool = [TcpSocket::new(ring(), ring(), tcp_config), TcpSocket::new(ring(), ring(), tcp_config)];
    let limits = ListenerConfig { syn_backlog: 1, accept_backlog: 1, syn_cookies: true };
    let listener = TcpListener::new(LISTENER_PORT, &mut pool, tcp_config, limits);
    let mut tcp = TcpSocket::new(ring(), ring(), tcp_config);
    tcp.listen(TCP_PORT).unwrap();

    let mut socket_storage = [
        SocketStorage::EMPTY,
        SocketStorage::EMPTY,
        SocketStorage::EMPTY,
        SocketStorage::EMPTY,
        SocketStorage::EMPTY,
        SocketStorage::EMPTY,
        SocketStorage::EMPTY,
    ];
    let mut sockets = SocketSet::new(&mut socket_storage[..]);
    let handles = Handles {
        udp: sockets.add(udp),
        icmp: sockets.add(icmp),
        dns: sockets.add(dns),
        listener: sockets.add(listener),
        tcp: sockets.add(tcp),
        dhcp: dhcp.then(|| sockets.add(DhcpClient::new(MAC, 1))),
    };
    f(&mut iface, &mut sockets, &handles)
}

/// Echoes every datagram the UDP socket holds back to its sender.
pub fn udp_echo(sockets: &mut SocketSet, handles: &Handles) {
    let socket = sockets.get_mut::<UdpSocket>(handles.udp);
    let mut buf = [0u8; 2048];
    while let Ok((n, from)) = socket.recv_slice(&mut buf) {
        let _ = socket.send_slice(&buf[..n.min(buf.len())], from);
    }
}

/// Takes every echo reply the ICMP socket holds.
pub fn drain_icmp(sockets: &mut SocketSet, handles: &Handles) {
    let socket = sockets.get_mut::<IcmpSocket>(handles.icmp);
    let mut buf = [0u8; 2048];
    while socket.recv_echo_reply(&mut buf).is_ok() {}
}

/// The application side of the TCP sockets: accept, echo what arrived,
/// and close once the peer has.
pub fn tcp_app(sockets: &mut SocketSet, handles: &Handles) {
    let listener = sockets.get_mut::<TcpListener>(handles.listener);
    // Accepted sockets stay in the pool; the app serves them there and
    // gives them back once closed.
    while listener.accept().is_some() {}
    for index in 0..2 {
        let socket = listener.socket(index).unwrap();
        echo(socket);
        if socket.state() == State::Closed {
            listener.release(index);
        }
    }
    let socket = sockets.get_mut::<TcpSocket>(handles.tcp);
    echo(socket);
    if socket.state() == State::Closed {
        socket.listen(TCP_PORT).unwrap();
    }
}

fn echo(socket: &mut TcpSocket) {
    let mut buf = [0u8; 512];
    if let Ok(n) = socket.recv_slice(&mut buf) {
        let _ = socket.send_slice(&buf[..n]);
    }
    if socket.may_send() && !socket.may_recv() {
        socket.close();
    }
}

/// Polls at `now` and checks what went out and when the next poll is due;
/// returns what the sent frames carried.
pub fn poll_and_check(
    iface: &mut Interface,
    device: &mut FuzzDevice,
    sockets: &mut SocketSet,
    now: Instant,
) -> Vec<Sent> {
    device.tx.clear();
    let result = iface.poll(now, device, sockets);
    let addresses: Vec<Ipv4Address> = iface.addresses().map(|c| c.address()).collect();
    let addresses6: Vec<Ipv6Address> = iface.ipv6_addresses().map(|a| a.address).collect();
    let sent = device.tx.iter().map(|frame| check_sent_frame(frame, &addresses, &addresses6)).collect();
    assert_eq!(result.tx_frames, device.tx.len(), "frames counted as sent");
    if let Some(t) = iface.poll_at(now, sockets) {
        assert!(t >= now);
    }
    sent
}
