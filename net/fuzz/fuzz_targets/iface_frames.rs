//! The interface over time: the input is a sequence of operations on the
//! stack of `iface_receive`: raw frames; IPv4 datagrams and fragments
//! built from fuzzed fields (valid header checksum, optional UDP or ICMP
//! echo header with a valid checksum) so that reassembly is reached; ARP
//! requests and replies; time steps (ARP retries and expiry, reassembly
//! timeouts, DNS retransmissions); datagrams and pings sent by the
//! application (ARP resolution, the pending queue, fragmentation); a device
//! that refuses transmits; TCP segments to the listener (port 80) and the
//! socket (port 81) from three peers, with sequence and acknowledgment
//! numbers near what the stack last sent each peer, so connections open,
//! carry data (echoed by the application) and close; with a DHCP client in
//! the set (chosen by the input), replies to its current transaction; DNS
//! responses built from the resolver's last query. A lease the client
//! holds must be applied to the interface. After every operation the interface is polled;
//! every frame it sends must parse with valid checksums.
#![no_main]

#[path = "../common/iface.rs"]
mod iface;
#[path = "../common/input.rs"]
mod input;

use iface::{
    drain_icmp, poll_and_check, tcp_app, udp_echo, with_stack, FuzzDevice, Sent, ADDR, DNS_SERVER, GATEWAY, MAC,
};
use input::Input;
use libfuzzer_sys::fuzz_target;
use net::socket::dhcpv4::DhcpClient;
use net::socket::dns::{DnsResolver, QueryKind};
use net::socket::icmp::IcmpSocket;
use net::socket::udp::UdpSocket;
use net::time::{Duration, Instant};
use net::wire::checksum;
use net::wire::dhcpv4::MAGIC_COOKIE;
use net::wire::tcp::{self, SeqNumber, TcpControl, TcpTimestamp};
use net::wire::{EthernetAddress, IpAddress, IpEndpoint, IpProtocol, Ipv4Address};
use std::collections::HashMap;

const MAX_OPS: usize = 100;

fn peer_mac(n: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0, 0, 0, 1, n % 4])
}

/// An address near ours: the gateway, neighbours, broadcast, off-subnet.
fn address(inp: &mut Input) -> Ipv4Address {
    match inp.u8() % 10 {
        0 => GATEWAY,
        1 => ADDR,
        2 => DNS_SERVER,
        3 => Ipv4Address([10, 0, 0, 3]),
        4 => Ipv4Address([10, 0, 0, 255]),
        5 => Ipv4Address::BROADCAST,
        6 => Ipv4Address([224, 0, 0, 1]),
        7 => Ipv4Address([192, 0, 2, 1]),
        8 => Ipv4Address::UNSPECIFIED,
        _ => Ipv4Address::from_u32(inp.u32()),
    }
}

fn ethernet(dst: EthernetAddress, src: EthernetAddress, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(14 + payload.len());
    frame.extend_from_slice(&dst.0);
    frame.extend_from_slice(&src.0);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// An IPv4 datagram or fragment to us (or a broadcast), from fuzzed fields.
fn ipv4_frame(inp: &mut Input, dns_port: u16) -> Vec<u8> {
    let src = address(inp);
    let dst = if inp.u8() < 0xc0 { ADDR } else { address(inp) };
    let proto = match inp.u8() % 4 {
        0 => 1,
        1 => 17,
        2 => 6,
        _ => inp.u8(),
    };
    let ident = u16::from(inp.u8() % 4);
    let flags = inp.u8();
    let frag_offset = if flags & 1 != 0 { (inp.u16() % 1024) * 8 } else { 0 };
    let more_frags = flags & 2 != 0;
    let ttl = if flags & 4 != 0 { inp.u8() } else { 64 };
    let len = match flags >> 6 {
        0 => usize::from(inp.u8()),
        1 => usize::from(inp.u8()) * 8,
        _ => usize::from(inp.u16() % 2000),
    };
    let mut payload = inp.bytes(len).to_vec();
    // Whole datagrams (and first fragments) may get a valid transport
    // header; a later fragment is raw bytes.
    if frag_offset == 0 && flags & 8 != 0 {
        match proto {
            17 => {
                let src_port = if inp.bool() { 53 } else { inp.u16() };
                let dst_port = match inp.u8() % 4 {
                    0 => 7,
                    1 => 68,
                    2 => dns_port,
                    _ => inp.u16(),
                };
                payload = udp_datagram(src, dst, src_port, dst_port, &payload, flags & 0x10 != 0 && !more_frags);
            }
            1 => {
                let mut icmp = vec![if flags & 0x10 != 0 { 0 } else { 8 }, 0, 0, 0];
                icmp.extend_from_slice(&iface::ICMP_IDENT.to_be_bytes());
                icmp.extend_from_slice(&inp.u16().to_be_bytes());
                icmp.extend_from_slice(&payload);
                if !more_frags {
                    let sum = checksum::checksum(&icmp);
                    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
                }
                payload = icmp;
            }
            _ => {}
        }
    }
    if more_frags {
        // Non-final fragments carry a multiple of 8 bytes.
        payload.truncate(payload.len() / 8 * 8);
    }
    let frag = (frag_offset / 8) | if more_frags { 0x2000 } else { 0 } | if flags & 0x20 != 0 { 0x4000 } else { 0 };
    ip_frame(src, dst, proto, ident, frag, ttl, &payload, inp.u8())
}

/// A UDP header (checksum zero or valid) and `payload`.
fn udp_datagram(
    src: Ipv4Address,
    dst: Ipv4Address,
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
    sum: bool,
) -> Vec<u8> {
    let mut udp = Vec::with_capacity(8 + payload.len());
    udp.extend_from_slice(&src_port.to_be_bytes());
    udp.extend_from_slice(&dst_port.to_be_bytes());
    udp.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    if sum {
        let pseudo = checksum::pseudo_header_v4(&src, &dst, IpProtocol::Udp, udp.len() as u16);
        let sum = checksum::finish(checksum::combine(&[pseudo, checksum::data(&udp)]));
        let sum = if sum == 0 { 0xffff } else { sum };
        udp[6..8].copy_from_slice(&sum.to_be_bytes());
    }
    udp
}

/// A DHCP reply from the gateway to the client's current transaction:
/// header fields right, message type chosen, the rest fuzzed.
fn dhcp_frame(inp: &mut Input, xid: u32) -> Vec<u8> {
    let kind = inp.u8();
    let len = usize::from(inp.u16() % 600);
    let mut dhcp = inp.bytes(len).to_vec();
    dhcp.resize(dhcp.len().max(243), 0);
    dhcp[..4].copy_from_slice(&[2, 1, 6, 0]);
    dhcp[4..8].copy_from_slice(&xid.to_be_bytes());
    dhcp[28..34].copy_from_slice(&MAC.0);
    dhcp[236..240].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    dhcp[240..243].copy_from_slice(&[53, 1, kind % 9]);
    let dst = if kind & 0x80 != 0 { ADDR } else { Ipv4Address::BROADCAST };
    let udp = udp_datagram(GATEWAY, dst, 67, 68, &dhcp, true);
    ip_frame(GATEWAY, dst, 17, 0, 0, 64, &udp, 0)
}

/// The last DNS query turned into a response from the server (flags and
/// counts chosen), with fuzzed records after the question.
fn dns_frame(inp: &mut Input, query: &[u8], dns_port: u16) -> Vec<u8> {
    let mut dns = query.to_vec();
    if dns.len() >= 12 {
        let flags = 0x8000 | (inp.u16() & 0x07ff);
        dns[2..4].copy_from_slice(&flags.to_be_bytes());
        dns[6..8].copy_from_slice(&u16::from(inp.u8() % 8).to_be_bytes());
    }
    let len = usize::from(inp.u16() % 600);
    dns.extend_from_slice(inp.bytes(len));
    let udp = udp_datagram(DNS_SERVER, ADDR, 53, dns_port, &dns, true);
    ip_frame(DNS_SERVER, ADDR, 17, 0, 0, 64, &udp, 0)
}

/// An Ethernet frame with an IPv4 header (valid checksum) and `payload`.
#[allow(clippy::too_many_arguments)]
fn ip_frame(
    src: Ipv4Address,
    dst: Ipv4Address,
    proto: u8,
    ident: u16,
    frag: u16,
    ttl: u8,
    payload: &[u8],
    mac: u8,
) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&ident.to_be_bytes());
    ip.extend_from_slice(&frag.to_be_bytes());
    ip.extend_from_slice(&[ttl, proto, 0, 0]);
    ip.extend_from_slice(&src.0);
    ip.extend_from_slice(&dst.0);
    let sum = checksum::checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(payload);
    let eth_dst = if dst == ADDR { MAC } else { EthernetAddress::BROADCAST };
    ethernet(eth_dst, peer_mac(mac), 0x0800, &ip)
}

/// What a TCP peer learnt from the segments the stack sent it.
#[derive(Clone, Copy, Default)]
struct TcpPeer {
    /// The stack's last ACK: where the peer's next byte goes.
    seq: u32,
    /// The end of the stack's sequence space seen so far.
    ack: u32,
    /// The stack's last TSval, and the peer's own clock.
    ts_recent: u32,
    tsval: u32,
}

/// Peers by (address, port).
type TcpPeers = HashMap<(Ipv4Address, u16), TcpPeer>;

/// What the fuzzer's peers learnt from the frames the stack sent.
#[derive(Default)]
struct Learnt {
    tcp: TcpPeers,
    /// Transaction id of the last DHCP message.
    dhcp_xid: u32,
    /// The last DNS query.
    dns_query: Vec<u8>,
}

fn learn(learnt: &mut Learnt, sent: &[Sent]) {
    for s in sent {
        let (addr, repr) = match s {
            Sent::Tcp(addr, repr) => (addr, repr),
            Sent::Udp(67, payload) if payload.len() >= 8 => {
                learnt.dhcp_xid = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
                continue;
            }
            Sent::Udp(53, payload) if payload.len() >= 12 => {
                learnt.dns_query = payload.clone();
                continue;
            }
            Sent::Udp(..) | Sent::Other => continue,
        };
        let peers = &mut learnt.tcp;
        if repr.control == TcpControl::Rst {
            continue;
        }
        let peer = peers.entry((*addr, repr.dst_port)).or_default();
        let end = (repr.seq_number + repr.segment_len()).0;
        if repr.control == TcpControl::Syn || (end.wrapping_sub(peer.ack) as i32) > 0 {
            peer.ack = end;
        }
        if let Some(ack) = repr.ack_number {
            peer.seq = ack.0;
        }
        if let Some(ts) = repr.timestamp {
            peer.ts_recent = ts.tsval;
        }
    }
}

/// A TCP segment to one of our ports, with numbers near what the stack
/// last told this peer (or absolute), fuzzed flags, window and options.
fn tcp_frame(inp: &mut Input, peers: &mut TcpPeers) -> Vec<u8> {
    let src = match inp.u8() % 4 {
        0 | 1 => GATEWAY,
        2 => Ipv4Address([10, 0, 0, 3]),
        _ => Ipv4Address([192, 0, 2, 1]),
    };
    let src_port = 40000 + u16::from(inp.u8() % 3);
    let dst_port = match inp.u8() % 4 {
        0 | 1 => iface::LISTENER_PORT,
        2 => iface::TCP_PORT,
        _ => inp.u16(),
    };
    let peer = peers.entry((src, src_port)).or_default();
    let kind = inp.u8();
    let control = match kind & 3 {
        0 => TcpControl::None,
        1 => TcpControl::Syn,
        2 => TcpControl::Fin,
        _ => TcpControl::Rst,
    };
    let near = |base: u32, d: u16| SeqNumber(base.wrapping_add(d as i16 as i32 as u32));
    let (seq, ack) = if kind & 0x80 != 0 {
        (SeqNumber(inp.u32()), SeqNumber(inp.u32()))
    } else {
        (near(peer.seq, inp.u16()), near(peer.ack, inp.u16()))
    };
    let options = inp.u8();
    let len = match options >> 6 {
        0 => 0,
        1 => usize::from(inp.u8()),
        _ => usize::from(inp.u16() % 1400),
    };
    let mut repr = tcp::Repr {
        src_port,
        dst_port,
        control,
        seq_number: seq,
        ack_number: (kind & 4 == 0).then_some(ack),
        window_len: inp.u16(),
        push: kind & 8 != 0,
        max_seg_size: (options & 1 != 0).then(|| inp.u16()),
        window_scale: (options & 2 != 0).then(|| inp.u8() % 15),
        sack_permitted: options & 4 != 0,
        payload_len: len,
        ..tcp::Repr::default()
    };
    if options & 8 != 0 {
        peer.tsval = peer.tsval.wrapping_add(u32::from(inp.u8()));
        repr.timestamp = Some(TcpTimestamp { tsval: peer.tsval, tsecr: peer.ts_recent });
    }
    if options & 0x10 != 0 {
        let left = near(peer.ack, inp.u16());
        repr.sack_ranges[0] = Some((left, left + usize::from(inp.u16() % 2048)));
    }
    let payload = vec![0x61; len];
    let mut bytes = vec![0u8; repr.buffer_len()];
    let (ip_src, ip_dst) = (IpAddress::V4(src), IpAddress::V4(ADDR));
    repr.emit(&mut tcp::Packet::new_unchecked(&mut bytes[..]), &ip_src, &ip_dst, &payload, true);
    ip_frame(src, ADDR, 6, 0, 0x4000, 64, &bytes, inp.u8())
}

fn arp_frame(inp: &mut Input) -> Vec<u8> {
    let op = if inp.bool() { 1u16 } else { 2 };
    let sender_mac = peer_mac(inp.u8());
    let sender_ip = address(inp);
    let target_ip = if inp.u8() < 0xc0 { ADDR } else { address(inp) };
    let mut arp = vec![0, 1, 8, 0, 6, 4];
    arp.extend_from_slice(&op.to_be_bytes());
    arp.extend_from_slice(&sender_mac.0);
    arp.extend_from_slice(&sender_ip.0);
    arp.extend_from_slice(&if op == 2 { MAC.0 } else { [0; 6] });
    arp.extend_from_slice(&target_ip.0);
    let dst = if op == 1 { EthernetAddress::BROADCAST } else { MAC };
    ethernet(dst, sender_mac, 0x0806, &arp)
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
    let dhcp = inp.bool();
    with_stack(
        dhcp,
        |config| {
            config.reply_to_broadcast_ping = setup & 1 != 0;
            config.reassembly_time_exceeded = setup & 2 != 0;
            config.arp_max_tries = 1 + (setup >> 2) % 4;
            config.neighbour_lifetime = Duration::from_secs(1 + u64::from(setup >> 4));
        },
        |iface, sockets, handles| {
            let mut device = FuzzDevice::new();
            let mut now = Instant::from_millis(1);
            let mut learnt = Learnt::default();
            let sent = poll_and_check(iface, &mut device, sockets, now);
            learn(&mut learnt, &sent);
            for _ in 0..MAX_OPS {
                if inp.is_empty() {
                    break;
                }
                match inp.u8() % 18 {
                    0 | 1 => {
                        let len = usize::from(inp.u16() % 1600);
                        device.rx.push_back(inp.bytes(len).to_vec());
                    }
                    2..=5 => {
                        let frame = ipv4_frame(&mut inp, iface.dns_port());
                        device.rx.push_back(frame);
                    }
                    6 => device.rx.push_back(arp_frame(&mut inp)),
                    7 | 8 => now += time_step(&mut inp),
                    9 => {
                        let dst = address(&mut inp);
                        let port = inp.u16().max(1);
                        let len = usize::from(inp.u16() % 4000);
                        let socket = sockets.get_mut::<UdpSocket>(handles.udp);
                        let _ = socket.send_slice(&vec![0x42; len], IpEndpoint::new(IpAddress::V4(dst), port));
                    }
                    10 => {
                        let dst = address(&mut inp);
                        let len = usize::from(inp.u16() % 2000);
                        let socket = sockets.get_mut::<IcmpSocket>(handles.icmp);
                        let _ = socket.send_echo(dst, inp.u16(), &vec![0x24; len]);
                    }
                    11 => device.tx_room = usize::from(inp.u8() % 4),
                    12..=14 => device.rx.push_back(tcp_frame(&mut inp, &mut learnt.tcp)),
                    15 => device.rx.push_back(dhcp_frame(&mut inp, learnt.dhcp_xid)),
                    16 => device.rx.push_back(dns_frame(&mut inp, &learnt.dns_query, iface.dns_port())),
                    _ => {
                        let resolver = sockets.get_mut::<DnsResolver>(handles.dns);
                        let kind = if inp.bool() { QueryKind::A } else { QueryKind::Aaaa };
                        let _ = resolver.start_query("example.com", kind, now);
                    }
                }
                let limited = device.tx_room != usize::MAX;
                let sent = poll_and_check(iface, &mut device, sockets, now);
                learn(&mut learnt, &sent);
                if let (Some(handle), false) = (handles.dhcp, limited) {
                    // The interface applied the client's events in the poll:
                    // a held lease's address is the interface's.
                    if let Some(config) = sockets.get_mut::<DhcpClient>(handle).config() {
                        assert!(iface.has_address(config.address.address()), "lease {config:?} not applied");
                    }
                }
                device.tx_room = usize::MAX;
                udp_echo(sockets, handles);
                drain_icmp(sockets, handles);
                tcp_app(sockets, handles);
            }
        },
    );
});
