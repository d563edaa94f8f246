//! The interface's IPv6 receive and send paths over time: the input is a
//! sequence of operations on an interface with IPv6 enabled (link-local
//! address from the MAC, static fd00::1/64, SLAAC on, one DAD probe or
//! none): IPv6 packets with valid checksums built from fuzzed fields, to
//! our addresses, all-nodes or our solicited-node group, from a few peers
//! (link-local, global, unspecified): ICMPv6 echo, UDP to the echo port,
//! TCP to the listener, behind optional hop-by-hop/destination-options/
//! routing headers (fuzzed option types); fragments with fuzzed offsets,
//! idents and M flags, overlapping ones included; NDP (NS, NA with fuzzed
//! flags and targets, our own included for DAD conflicts, RS, RA with
//! prefixes, lifetimes and MTU from small sets, redirect) with hop limit
//! 255 or not; MLD queries (both versions, checks passed or not); ICMPv6 errors quoting our packets (packet too big with
//! fuzzed MTUs); raw IPv6 bytes; time steps (DAD, RS, NUD, lifetimes,
//! reassembly); application datagrams and pings to IPv6 peers (neighbour
//! resolution, fragmentation); a device that refuses transmits. After
//! every operation the interface is polled; every frame it sends must
//! parse with valid checksums (`common/iface.rs`), and every address it
//! holds must be unicast.
#![no_main]

#[path = "../common/iface.rs"]
mod iface;
#[path = "../common/input.rs"]
mod input;

use iface::{drain_icmp, poll_and_check, tcp_app, udp_echo, FuzzDevice, ICMP_IDENT, LISTENER_PORT, MAC, UDP_PORT};
use input::Input;
use libfuzzer_sys::fuzz_target;
use net::iface::{
    Config, Interface, InterfaceStorage, Ipv6Config, NdpSlot, NeighbourSlot, PendingSlot, ReassemblySlot,
};
use net::socket::icmp::{IcmpPacketMetadata, IcmpSocket};
use net::socket::tcp::{ListenerConfig, TcpConfig, TcpListener, TcpSocket};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketSet, SocketStorage};
use net::storage::{PacketBuffer, RingBuffer};
use net::time::{Duration, Instant};
use net::wire::icmpv6::{self, DstUnreachable, ParamProblem, TimeExceeded};
use net::wire::ndp::{self, PrefixInformation, Prefixes};
use net::wire::{checksum, ipv6, ipv6fragment, tcp};
use net::wire::{EthernetAddress, IpAddress, IpEndpoint, IpProtocol, Ipv4Cidr, Ipv6Address, Ipv6Cidr};

const MAX_OPS: usize = 100;
const STATIC: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const PREFIXES: [Ipv6Address; 3] = [
    Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
    Ipv6Address::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0),
    Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 0),
];

fn peer_mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, 2, n % 4])
}

fn peer_link_local(n: u8) -> Ipv6Address {
    Ipv6Address::link_local_from_mac(&peer_mac(n))
}

/// Our addresses as a peer would aim at them (some not ours yet).
fn our_address(inp: &mut Input) -> Ipv6Address {
    let iid = MAC.eui64_interface_id();
    match inp.u8() % 8 {
        0 | 1 => Ipv6Address::link_local_from_mac(&MAC),
        2 => STATIC,
        3 | 4 => Ipv6Address::from_prefix_and_interface_id(&PREFIXES[usize::from(inp.u8()) % 3], &iid),
        5 => Ipv6Address::LINK_LOCAL_ALL_NODES,
        6 => Ipv6Address::link_local_from_mac(&MAC).solicited_node(),
        _ => Ipv6Address::from_bytes(inp.bytes(16).iter().copied().chain([0; 16]).collect::<Vec<_>>().as_slice()),
    }
}

fn peer_address(inp: &mut Input) -> Ipv6Address {
    match inp.u8() % 6 {
        0..=2 => peer_link_local(inp.u8()),
        3 => Ipv6Address::from_prefix_and_interface_id(
            &PREFIXES[usize::from(inp.u8()) % 3],
            &[0, 0, 0, 0, 0, 0, 0, inp.u8()],
        ),
        4 => Ipv6Address::UNSPECIFIED,
        _ => Ipv6Address::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, u16::from(inp.u8())),
    }
}

fn ethernet(dst: EthernetAddress, src: EthernetAddress, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + payload.len());
    frame.extend_from_slice(&dst.0);
    frame.extend_from_slice(&src.0);
    frame.extend_from_slice(&0x86ddu16.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// The frame carrying an IPv6 packet: to our MAC, or to the group of a
/// multicast destination.
fn ipv6_frame(src_mac: EthernetAddress, dst: Ipv6Address, packet: &[u8]) -> Vec<u8> {
    let dst_mac = if dst.is_multicast() { dst.multicast_mac() } else { MAC };
    ethernet(dst_mac, src_mac, packet)
}

/// An IPv6 header and `payload` after it.
fn ipv6_packet(src: Ipv6Address, dst: Ipv6Address, next: IpProtocol, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let repr = ipv6::Repr::new(src, dst, next, payload.len(), hop_limit);
    let mut out = vec![0u8; ipv6::HEADER_LEN + payload.len()];
    repr.emit(&mut ipv6::Packet::new_unchecked(&mut out[..]));
    out[ipv6::HEADER_LEN..].copy_from_slice(payload);
    out
}

fn icmpv6_bytes(repr: &icmpv6::Repr, src: Ipv6Address, dst: Ipv6Address) -> Vec<u8> {
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut icmpv6::Packet::new_unchecked(&mut out[..]), &src, &dst, true);
    out
}

/// Up to three extension headers in front of an upper layer: hop-by-hop
/// (with a fuzzed option), destination options, routing (segments left
/// fuzzed). Returns the first next-header value and the headers.
fn extension_headers(inp: &mut Input, upper: IpProtocol) -> (IpProtocol, Vec<u8>) {
    let mut kinds = Vec::new();
    let n = inp.u8() % 8;
    if n & 1 != 0 {
        kinds.push(IpProtocol::HopByHop);
    }
    if n & 2 != 0 {
        kinds.push(IpProtocol::Ipv6Opts);
    }
    if n & 4 != 0 {
        kinds.push(IpProtocol::Ipv6Route);
    }
    if inp.u8() == 0xff {
        kinds.reverse(); // hop-by-hop out of place
    }
    let mut bytes = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let next = kinds.get(i + 1).copied().unwrap_or(upper);
        let mut header = vec![u8::from(next), 0, 0, 0, 0, 0, 0, 0];
        if *kind == IpProtocol::Ipv6Route {
            header[2] = inp.u8() % 4; // routing type
            header[3] = if inp.u8() < 0x40 { inp.u8() } else { 0 }; // segments left
        } else {
            // One option of fuzzed type filling the 6 bytes (PadN-shaped).
            header[2] = if inp.bool() { inp.u8() } else { 1 };
            header[3] = 4;
        }
        bytes.extend_from_slice(&header);
    }
    (kinds.first().copied().unwrap_or(upper), bytes)
}

/// An upper-layer message from `src` to `dst`: echo request, UDP to the
/// echo port, or a TCP segment to the listener.
fn upper_layer(inp: &mut Input, src: Ipv6Address, dst: Ipv6Address) -> (IpProtocol, Vec<u8>) {
    let len = usize::from(inp.u16() % 3000);
    let data = vec![inp.u8(); len];
    match inp.u8() % 3 {
        0 => {
            let repr = icmpv6::Repr::EchoRequest { ident: inp.u16(), seq_no: inp.u16(), data: &data };
            (IpProtocol::Icmpv6, icmpv6_bytes(&repr, src, dst))
        }
        1 => {
            let mut out = vec![0u8; 8 + len];
            out[0..2].copy_from_slice(&inp.u16().to_be_bytes());
            out[2..4].copy_from_slice(&UDP_PORT.to_be_bytes());
            out[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
            out[8..].copy_from_slice(&data);
            let sum = checksum::combine(&[
                checksum::pseudo_header_v6(&src, &dst, IpProtocol::Udp, out.len() as u32),
                checksum::data(&out),
            ]);
            out[6..8].copy_from_slice(&checksum::finish(sum).to_be_bytes());
            (IpProtocol::Udp, out)
        }
        _ => {
            let flags = inp.u8();
            let repr = tcp::Repr {
                src_port: 40000 + u16::from(inp.u8() % 4),
                dst_port: LISTENER_PORT,
                control: match flags % 4 {
                    0 => tcp::TcpControl::Syn,
                    1 => tcp::TcpControl::Rst,
                    2 => tcp::TcpControl::Fin,
                    _ => tcp::TcpControl::None,
                },
                seq_number: tcp::SeqNumber(inp.u32()),
                ack_number: (flags & 4 != 0).then(|| tcp::SeqNumber(inp.u32())),
                window_len: inp.u16(),
                max_seg_size: (flags & 8 != 0).then(|| inp.u16()),
                payload_len: len.min(1200),
                ..tcp::Repr::default()
            };
            let mut out = vec![0u8; repr.buffer_len()];
            let (s, d) = (IpAddress::V6(src), IpAddress::V6(dst));
            repr.emit(&mut tcp::Packet::new_unchecked(&mut out[..]), &s, &d, &data, true);
            (IpProtocol::Tcp, out)
        }
    }
}

/// A whole packet, or fragments of it (fuzzed offsets, sizes, M flags and
/// idents: overlaps and gaps included), each in its own frame.
fn datagram_frames(inp: &mut Input) -> Vec<Vec<u8>> {
    let src = peer_address(inp);
    let dst = our_address(inp);
    let src_mac = peer_mac(inp.u8());
    let hop_limit = if inp.bool() { 64 } else { inp.u8() };
    let (upper, body) = upper_layer(inp, src, dst);
    let (first, headers) = extension_headers(inp, upper);
    let mode = inp.u8();
    if mode < 0xa0 {
        let mut payload = headers;
        payload.extend_from_slice(&body);
        return vec![ipv6_frame(src_mac, dst, &ipv6_packet(src, dst, first, hop_limit, &payload))];
    }
    // The fragmentable part: the upper layer (extension headers go in
    // front of the fragment header, unfragmentable).
    let ident = u32::from(inp.u8() % 3);
    let count = 1 + usize::from(inp.u8() % 5);
    let mut frames = Vec::new();
    for i in 0..count {
        let (offset, len, more) = if inp.u8() < 0xc0 {
            // In order, 1232-byte pieces.
            let offset = i * 1232;
            if offset >= body.len() && i > 0 {
                break;
            }
            let len = (body.len() - offset.min(body.len())).min(1232);
            (offset, len, offset + len < body.len())
        } else {
            (usize::from(inp.u16() % 4000) & !7, usize::from(inp.u16() % 1500), inp.bool())
        };
        let piece = body.get(offset..(offset + len).min(body.len())).unwrap_or(&[]);
        let frag = ipv6fragment::Repr { next_header: upper, frag_offset: offset as u16, more_frags: more, ident };
        let mut payload = headers.clone();
        // Re-point the last extension header (or the fixed header) at the
        // fragment header.
        let first_here = if headers.is_empty() {
            IpProtocol::Ipv6Frag
        } else {
            let last = headers.len() - 8;
            payload[last] = u8::from(IpProtocol::Ipv6Frag);
            first
        };
        let mut fh = [0u8; ipv6fragment::HEADER_LEN];
        frag.emit(&mut ipv6fragment::Header::new_unchecked(&mut fh[..]));
        payload.extend_from_slice(&fh);
        payload.extend_from_slice(piece);
        frames.push(ipv6_frame(src_mac, dst, &ipv6_packet(src, dst, first_here, hop_limit, &payload)));
    }
    frames
}

fn ndp_frame(inp: &mut Input) -> Vec<u8> {
    let peer = inp.u8();
    let mac = peer_mac(peer);
    let mut src = if inp.u8() < 0xe0 { peer_link_local(peer) } else { peer_address(inp) };
    let hop_limit = if inp.u8() < 0xf0 { ndp::HOP_LIMIT } else { inp.u8() };
    let lladdr = inp.bool().then_some(mac);
    let mut dst;
    let prefix_list;
    let repr = match inp.u8() % 6 {
        0 => {
            let target = our_address(inp);
            dst = if inp.bool() { target.solicited_node() } else { target };
            if inp.u8() < 0x40 {
                src = Ipv6Address::UNSPECIFIED; // someone else's DAD
            }
            ndp::Repr::NeighborSolicit { target_addr: target, src_lladdr: lladdr.filter(|_| !src.is_unspecified()) }
        }
        1 | 2 => {
            let flags = inp.u8();
            let target = if flags & 0x80 != 0 { our_address(inp) } else { peer_link_local(peer) };
            dst = if flags & 0x40 != 0 { Ipv6Address::LINK_LOCAL_ALL_NODES } else { our_address(inp) };
            ndp::Repr::NeighborAdvert {
                router: flags & 1 != 0,
                solicited: flags & 2 != 0 && !dst.is_multicast(),
                override_: flags & 4 != 0,
                target_addr: target,
                target_lladdr: (flags & 8 != 0).then_some(mac),
            }
        }
        3 => {
            dst = Ipv6Address::LINK_LOCAL_ALL_NODES;
            let lifetime = |inp: &mut Input| match inp.u8() % 5 {
                0 => 0,
                1 => 1,
                2 => 30,
                3 => ndp::INFINITE_LIFETIME,
                _ => inp.u32(),
            };
            let mut list = Vec::new();
            for _ in 0..inp.u8() % 3 {
                let valid = lifetime(inp);
                list.push(PrefixInformation {
                    prefix_len: if inp.u8() < 0xe0 { 64 } else { inp.u8() % 129 },
                    on_link: inp.bool(),
                    autonomous: inp.u8() < 0xc0,
                    valid_lifetime: valid,
                    preferred_lifetime: if inp.bool() { valid } else { lifetime(inp) },
                    prefix: PREFIXES[usize::from(inp.u8()) % 3],
                });
            }
            prefix_list = list;
            ndp::Repr::RouterAdvert {
                cur_hop_limit: inp.u8(),
                managed: false,
                other: false,
                router_lifetime: if inp.bool() { 1800 } else { inp.u16() },
                reachable_time: u32::from(inp.u16()),
                retrans_time: u32::from(inp.u16()),
                src_lladdr: lladdr,
                mtu: inp.bool().then(|| match inp.u8() % 4 {
                    0 => 1280,
                    1 => 1500,
                    2 => 9000,
                    _ => inp.u32(),
                }),
                prefixes: Prefixes::List(&prefix_list),
            }
        }
        4 => {
            dst = Ipv6Address::LINK_LOCAL_ALL_ROUTERS;
            ndp::Repr::RouterSolicit { src_lladdr: lladdr.filter(|_| !src.is_unspecified()) }
        }
        _ => {
            dst = our_address(inp);
            ndp::Repr::Redirect {
                target_addr: peer_link_local(inp.u8()),
                dest_addr: peer_address(inp),
                target_lladdr: lladdr,
            }
        }
    };
    if dst.is_unspecified() {
        dst = Ipv6Address::LINK_LOCAL_ALL_NODES;
    }
    let body = icmpv6_bytes(&icmpv6::Repr::Ndp(repr), src, dst);
    ipv6_frame(mac, dst, &ipv6_packet(src, dst, IpProtocol::Icmpv6, hop_limit, &body))
}

/// An MLD query (MLDv1 or MLDv2, general or for one of our groups or
/// another) from a peer, mostly with what RFC 3810 requires (link-local
/// source, hop limit 1, router alert), sometimes not.
fn mld_query_frame(inp: &mut Input) -> Vec<u8> {
    use net::wire::mld;
    let peer = inp.u8();
    let src = if inp.u8() < 0xe0 { peer_link_local(peer) } else { peer_address(inp) };
    let hop_limit = if inp.u8() < 0xf0 { mld::HOP_LIMIT } else { inp.u8() };
    let group = match inp.u8() % 3 {
        0 => Ipv6Address::UNSPECIFIED,
        1 => our_address(inp).solicited_node(),
        _ => Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, inp.u16()),
    };
    let v2 = inp.bool();
    let query = mld::Query {
        version: if v2 { mld::Version::V2 } else { mld::Version::V1 },
        max_response_ms: u32::from(inp.u16()) << (inp.u8() % 8),
        group,
        suppress_router_processing: inp.bool(),
        robustness: inp.u8() % 8,
        query_interval_code: inp.u8(),
        sources: 0,
    };
    let dst = if group.is_unspecified() { Ipv6Address::LINK_LOCAL_ALL_NODES } else { group };
    let mut message = vec![0u8; if v2 { mld::QUERY_V2_MIN_LEN } else { mld::QUERY_V1_LEN }];
    query.emit(&mut message, &src, &dst);
    let packet = if inp.u8() < 0xf0 {
        let payload = [&[58, 0, 5, 2, 0, 0, 1, 0][..], &message].concat();
        ipv6_packet(src, dst, IpProtocol::HopByHop, hop_limit, &payload)
    } else {
        ipv6_packet(src, dst, IpProtocol::Icmpv6, hop_limit, &message)
    };
    ipv6_frame(peer_mac(peer), dst, &packet)
}

/// An ICMPv6 error from a peer (or a router) quoting a packet we could
/// have sent: from one of our addresses to a peer.
fn error_frame(inp: &mut Input) -> Vec<u8> {
    let peer = inp.u8();
    let src = if inp.bool() { peer_link_local(peer) } else { peer_address(inp) };
    let dst = our_address(inp);
    let quoted_dst = peer_address(inp);
    let (upper, body) = upper_layer(inp, dst, quoted_dst);
    let quote = ipv6_packet(dst, quoted_dst, upper, 64, &body[..body.len().min(64)]);
    let repr = match inp.u8() % 4 {
        0 => icmpv6::Repr::PacketTooBig {
            mtu: match inp.u8() % 4 {
                0 => 1280,
                1 => 1400,
                2 => u32::from(inp.u16()),
                _ => inp.u32(),
            },
            data: &quote,
        },
        1 => icmpv6::Repr::DstUnreachable { reason: DstUnreachable::from(inp.u8() % 8), data: &quote },
        2 => icmpv6::Repr::TimeExceeded { reason: TimeExceeded::from(inp.u8() % 3), data: &quote },
        _ => icmpv6::Repr::ParamProblem {
            reason: ParamProblem::from(inp.u8() % 4),
            pointer: inp.u32() % 80,
            data: &quote,
        },
    };
    let body = icmpv6_bytes(&repr, src, dst);
    ipv6_frame(peer_mac(peer), dst, &ipv6_packet(src, dst, IpProtocol::Icmpv6, 64, &body))
}

fn time_step(inp: &mut Input) -> Duration {
    let b = inp.u8();
    let n = u64::from(b & 0x3f);
    match b >> 6 {
        0 => Duration::from_millis(n * 10),
        1 => Duration::from_millis(n * 250),
        2 => Duration::from_secs(n),
        _ => Duration::from_secs(n * 60),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let setup = inp.u8();

    let mut neighbours = [NeighbourSlot::EMPTY; 4];
    let (mut pending_slots, mut pending_bytes) = ([PendingSlot::EMPTY; 4], [0u8; 8192]);
    let (mut frag_slots, mut frag_bytes) = ([ReassemblySlot::EMPTY; 2], [0u8; 2 * 4096]);
    let mut ndp_slots = [NdpSlot::EMPTY; 4];
    let storage = InterfaceStorage {
        neighbours: &mut neighbours,
        pending_slots: &mut pending_slots,
        pending_bytes: &mut pending_bytes,
        reassembly_slots: &mut frag_slots,
        reassembly_bytes: &mut frag_bytes,
    };
    let mut iface = Interface::new(Config::new(MAC), storage);
    iface.add_address(Ipv4Cidr::new(iface::ADDR, 24).unwrap()).unwrap();
    let mut now = Instant::from_millis(1);
    let v6 = Ipv6Config { dad_transmits: setup % 2, seed: u32::from(setup), ..Ipv6Config::new() };
    iface.enable_ipv6(v6, &mut ndp_slots, now);
    let _ = iface.add_ipv6_address(now, Ipv6Cidr::new(STATIC, 64).unwrap());

    let (mut udp_rx_meta, mut udp_rx) = ([UdpPacketMetadata::EMPTY; 4], [0u8; 8192]);
    let (mut udp_tx_meta, mut udp_tx) = ([UdpPacketMetadata::EMPTY; 4], [0u8; 8192]);
    let mut udp = UdpSocket::new(
        PacketBuffer::new(&mut udp_rx_meta, &mut udp_rx),
        PacketBuffer::new(&mut udp_tx_meta, &mut udp_tx),
    );
    udp.bind(UDP_PORT).unwrap();
    let (mut icmp_rx_meta, mut icmp_rx) = ([IcmpPacketMetadata::EMPTY; 4], [0u8; 4096]);
    let (mut icmp_tx_meta, mut icmp_tx) = ([IcmpPacketMetadata::EMPTY; 4], [0u8; 4096]);
    let mut icmp = IcmpSocket::new(
        PacketBuffer::new(&mut icmp_rx_meta, &mut icmp_rx),
        PacketBuffer::new(&mut icmp_tx_meta, &mut icmp_tx),
    );
    icmp.bind(ICMP_IDENT).unwrap();
    let tcp_config = TcpConfig { isn_secret: [9; 16], ..TcpConfig::default() };
    let mut tcp_bytes = [0u8; 6 * 1024];
    let mut chunks = tcp_bytes.chunks_exact_mut(1024);
    let mut ring = || RingBuffer::new(chunks.next().unwrap());
    let mut pool = [TcpSocket::new(ring(), ring(), tcp_config), TcpSocket::new(ring(), ring(), tcp_config)];
    let limits = ListenerConfig { syn_backlog: 1, accept_backlog: 1, syn_cookies: true };
    let listener = TcpListener::new(LISTENER_PORT, &mut pool, tcp_config, limits);
    let mut tcp = TcpSocket::new(ring(), ring(), tcp_config);
    tcp.listen(iface::TCP_PORT).unwrap();
    let mut socket_storage =
        [SocketStorage::EMPTY, SocketStorage::EMPTY, SocketStorage::EMPTY, SocketStorage::EMPTY, SocketStorage::EMPTY];
    let mut sockets = SocketSet::new(&mut socket_storage[..]);
    let handles = iface::Handles {
        udp: sockets.add(udp),
        icmp: sockets.add(icmp),
        dns: sockets.add(net::socket::dns::DnsResolver::new(&mut [], 7)),
        listener: sockets.add(listener),
        tcp: sockets.add(tcp),
        dhcp: None,
    };

    let mut device = FuzzDevice::new();
    poll_and_check(&mut iface, &mut device, &mut sockets, now);
    for _ in 0..MAX_OPS {
        if inp.is_empty() {
            break;
        }
        match inp.u8() % 16 {
            0 => {
                let len = usize::from(inp.u16() % 1600);
                let bytes = inp.bytes(len);
                let dst = our_address(&mut inp);
                device.rx.push_back(ipv6_frame(peer_mac(0), dst, bytes));
            }
            1..=5 => device.rx.extend(datagram_frames(&mut inp)),
            6 | 7 => device.rx.push_back(ndp_frame(&mut inp)),
            8 if inp.bool() => device.rx.push_back(mld_query_frame(&mut inp)),
            8 => device.rx.push_back(ndp_frame(&mut inp)),
            9 => device.rx.push_back(error_frame(&mut inp)),
            10 | 11 => now += time_step(&mut inp),
            12 => {
                let dst = peer_address(&mut inp);
                let port = inp.u16().max(1);
                let len = usize::from(inp.u16() % 4000);
                let socket = sockets.get_mut::<UdpSocket>(handles.udp);
                let _ = socket.send_slice(&vec![0x42; len], IpEndpoint::new(IpAddress::V6(dst), port));
            }
            13 => {
                let dst = peer_address(&mut inp);
                let len = usize::from(inp.u16() % 3000);
                let socket = sockets.get_mut::<IcmpSocket>(handles.icmp);
                let _ = socket.send_echo(dst, inp.u16(), &vec![0x24; len]);
            }
            14 => device.tx_room = usize::from(inp.u8() % 4),
            _ => {
                let socket = sockets.get_mut::<TcpSocket>(handles.tcp);
                let _ = socket.send_slice(&[0x61; 100]);
            }
        }
        poll_and_check(&mut iface, &mut device, &mut sockets, now);
        for info in iface.ipv6_addresses() {
            assert!(info.address.is_unicast(), "holds {}", info.address);
        }
        device.tx_room = usize::MAX;
        udp_echo(&mut sockets, &handles);
        drain_icmp(&mut sockets, &handles);
        tcp_app(&mut sockets, &handles);
    }
});
