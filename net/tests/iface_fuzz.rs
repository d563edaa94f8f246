//! No panic from input: random and mutated frames through the whole
//! receive path of an interface, IPv4 and IPv6 (with and without checksum
//! verification, so corrupted payloads reach the upper layers), with
//! sockets of every kind open and time jumping around.

mod common;

use common::*;
use net::iface::{Config, Ipv6Config, NdpSlot};
use net::phy::{ChecksumCapabilities, DeviceCapabilities};
use net::socket::dhcpv4::DhcpClient;
use net::socket::dns::{DnsQuerySlot, DnsResolver, QueryKind};
use net::socket::icmp::IcmpSocket;
use net::socket::udp::UdpSocket;
use net::time::Instant;
use net::wire::ndp::{self, PrefixInformation, Prefixes};
use net::wire::{arp, ethernet, icmpv6, ipv6, ipv6fragment, udp};
use net::wire::{EthernetAddress, IpEndpoint, IpProtocol, Ipv4Address, Ipv6Address};

const LL_A: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x0a);
const LL_P: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x09);
const ULA_A: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);

fn ipv6_frame(
    dst_mac: EthernetAddress,
    src: Ipv6Address,
    dst: Ipv6Address,
    next: IpProtocol,
    payload: &[u8],
) -> Vec<u8> {
    let hop_limit = if next == IpProtocol::Icmpv6 { 255 } else { 64 };
    let repr = ipv6::Repr::new(src, dst, next, payload.len(), hop_limit);
    let mut packet = vec![0u8; ipv6::HEADER_LEN + payload.len()];
    repr.emit(&mut ipv6::Packet::new_unchecked(&mut packet[..]));
    packet[ipv6::HEADER_LEN..].copy_from_slice(payload);
    eth(dst_mac, MAC_P, ethernet::EtherType::Ipv6, &packet)
}

fn icmpv6_frame(dst_mac: EthernetAddress, src: Ipv6Address, dst: Ipv6Address, repr: &icmpv6::Repr) -> Vec<u8> {
    let mut m = vec![0u8; repr.buffer_len()];
    repr.emit(&mut icmpv6::Packet::new_unchecked(&mut m[..]), &src, &dst, true);
    ipv6_frame(dst_mac, src, dst, IpProtocol::Icmpv6, &m)
}

/// Well-formed IPv6 frames: neighbour discovery, a router advertisement,
/// pings (whole and in fragments), UDP, an error quoting our datagram,
/// extension headers.
fn seeds6() -> Vec<Vec<u8>> {
    let all = Ipv6Address::LINK_LOCAL_ALL_NODES;
    let ns = |target: Ipv6Address, src| {
        let repr = ndp::Repr::NeighborSolicit {
            target_addr: target,
            src_lladdr: Some(MAC_P).filter(|_| src != Ipv6Address::UNSPECIFIED),
        };
        icmpv6_frame(target.solicited_node().multicast_mac(), src, target.solicited_node(), &icmpv6::Repr::Ndp(repr))
    };
    let na = |target, solicited| {
        let repr = ndp::Repr::NeighborAdvert {
            router: true,
            solicited,
            override_: true,
            target_addr: target,
            target_lladdr: Some(MAC_P),
        };
        icmpv6_frame(MAC_A, LL_P, LL_A, &icmpv6::Repr::Ndp(repr))
    };
    let prefixes: &'static [PrefixInformation] = vec![PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: 600,
        preferred_lifetime: 300,
        prefix: Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
    }]
    .leak();
    let ra = ndp::Repr::RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other: false,
        router_lifetime: 600,
        reachable_time: 1000,
        retrans_time: 500,
        src_lladdr: Some(MAC_P),
        mtu: Some(1400),
        prefixes: Prefixes::List(prefixes),
    };
    let echo =
        |dst, data: &[u8]| icmpv6_frame(MAC_A, LL_P, dst, &icmpv6::Repr::EchoRequest { ident: 5, seq_no: 6, data });
    let udp6 = |port: u16, payload: &[u8]| {
        let repr = udp::Repr { src_port: 4000, dst_port: port, payload };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut udp::Packet::new_unchecked(&mut b[..]), &LL_P.into(), &ULA_A.into(), true);
        ipv6_frame(MAC_A, LL_P, ULA_A, IpProtocol::Udp, &b)
    };
    let mut s = vec![
        ns(LL_A, LL_P),
        ns(ULA_A, Ipv6Address::UNSPECIFIED),
        na(LL_P, true),
        na(LL_A, false),
        icmpv6_frame(all.multicast_mac(), LL_P, all, &icmpv6::Repr::Ndp(ra)),
        echo(LL_A, b"ping"),
        echo(ULA_A, &[7; 100]),
        icmpv6_frame(MAC_A, LL_P, LL_A, &icmpv6::Repr::EchoReply { ident: 0x4242, seq_no: 1, data: b"pong" }),
        udp6(7, b"to the bound socket"),
        udp6(9999, b"to a closed port"),
        // Hop-by-hop (PadN), then destination options, then UDP.
        ipv6_frame(MAC_A, LL_P, ULA_A, IpProtocol::HopByHop, &{
            let mut p = vec![60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0];
            let u = udp::Repr { src_port: 1, dst_port: 7, payload: b"x" };
            let mut b = vec![0u8; u.buffer_len()];
            u.emit(&mut udp::Packet::new_unchecked(&mut b[..]), &LL_P.into(), &ULA_A.into(), true);
            p.extend_from_slice(&b);
            p
        }),
    ];
    // A packet too big quoting one of our datagrams.
    let quoted = {
        let mut q = vec![0u8; 48];
        ipv6::Repr::new(ULA_A, Ipv6Address::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 1), IpProtocol::Udp, 8, 64)
            .emit(&mut ipv6::Packet::new_unchecked(&mut q[..]));
        q
    };
    s.push(icmpv6_frame(MAC_A, LL_P, ULA_A, &icmpv6::Repr::PacketTooBig { mtu: 1300, data: &quoted }));
    // A 3000-byte ping in fragments.
    let mut big = vec![0u8; 3008];
    icmpv6::Repr::EchoRequest { ident: 9, seq_no: 9, data: &[0x5a; 3000] }.emit(
        &mut icmpv6::Packet::new_unchecked(&mut big[..]),
        &LL_P,
        &LL_A,
        true,
    );
    for (from, to) in [(0usize, 1448usize), (1448, 2896), (2896, 3008)] {
        let frag = ipv6fragment::Repr {
            next_header: IpProtocol::Icmpv6,
            frag_offset: from as u16,
            more_frags: to < 3008,
            ident: 77,
        };
        let mut p = vec![0u8; 8 + to - from];
        frag.emit(&mut ipv6fragment::Header::new_unchecked(&mut p[..8]));
        p[8..].copy_from_slice(&big[from..to]);
        s.push(ipv6_frame(MAC_A, LL_P, LL_A, IpProtocol::Ipv6Frag, &p));
    }
    s
}

/// xorshift64*: a tiny deterministic PRNG.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Well-formed frames of every kind the interface handles.
fn seeds(dns_port: u16) -> Vec<Vec<u8>> {
    let zero = EthernetAddress([0; 6]);
    let mut s = vec![
        arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, MAC_P, IP_P, zero, IP_A),
        arp_reply_from(MAC_P, IP_P, MAC_A, IP_A),
        Ip::new(IP_P, IP_A, IpProtocol::Icmp).frame(MAC_A, MAC_P, &icmp_echo(true, 1, 2, b"ping data")),
        Ip::new(IP_P, IP_A, IpProtocol::Icmp).frame(MAC_A, MAC_P, &icmp_echo(false, 0x4242, 2, b"reply")),
        udp_frame(IP_P, IP_A, 4000, 7, b"to the bound socket", MAC_A, MAC_P),
        udp_frame(IP_P, IP_A, 4000, 9999, b"to a closed port", MAC_A, MAC_P),
        udp_frame(IP_P, Ipv4Address::BROADCAST, 67, 68, &[2u8; 300], EthernetAddress::BROADCAST, MAC_P),
        udp_frame(
            IP_P,
            IP_A,
            53,
            dns_port,
            &[0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, b'a', 0, 0, 1, 0, 1, 0xc0, 12],
            MAC_A,
            MAC_P,
        ),
        // An ICMP error quoting one of our datagrams.
        Ip::new(IP_P, IP_A, IpProtocol::Icmp).frame(MAC_A, MAC_P, &{
            let quote = Ip::new(IP_A, IP_P, IpProtocol::Udp).packet(&udp_datagram(IP_A, IP_P, 7, 9, b"x"));
            let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
            m.extend_from_slice(&quote);
            let c = internet_checksum(&m);
            m[2..4].copy_from_slice(&c.to_be_bytes());
            m
        }),
    ];
    let big = icmp_echo(true, 9, 9, &[0x5a; 3000]);
    for ident in [1u16, 2] {
        s.extend(Ip { ident, ..Ip::new(IP_P, IP_A, IpProtocol::Icmp) }.fragment_frames(MAC_A, MAC_P, &big, 1480));
    }
    s.extend(Ip::new(IP_P, IP_A, IpProtocol::Udp).fragment_frames(
        MAC_A,
        MAC_P,
        &udp_datagram(IP_P, IP_A, 1, 7, &[1; 2000]),
        512,
    ));
    s.extend(seeds6());
    s
}

fn mutate(rng: &mut Rng, frame: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0..=2 if !frame.is_empty() => {
                let i = rng.below(frame.len());
                frame[i] = rng.byte();
            }
            3 => frame.truncate(rng.below(frame.len() + 1)),
            4 => {
                let extra = rng.below(64);
                frame.extend((0..extra).map(|_| rng.byte()));
            }
            _ if frame.get(12..14) == Some(&[0x86, 0xdd]) => {
                // IPv6: payload length, next header, hop limit, and the
                // first bytes after the header (extension headers,
                // fragment offsets, ICMPv6 type/code, NDP flags).
                if frame.len() > 64 {
                    let i = 14 + [4, 5, 6, 7, 40, 41, 42, 43, 44, 45, 48][rng.below(11)];
                    frame[i] = rng.byte();
                }
            }
            _ => {
                // Land on the interesting fields: IP flags/offset/length.
                if frame.len() > 24 {
                    let i = 14 + [2, 3, 6, 7, 9, 0][rng.below(6)];
                    frame[i] = rng.byte();
                }
            }
        }
    }
}

fn fuzz(seed: u64, caps: DeviceCapabilities, iterations: usize) {
    let mut rng = Rng(seed);
    let mut iface = interface_with(Config { seed: seed as u32, ..Config::new(MAC_A) }, "10.0.0.1/24", 4, 4096);
    iface.join_multicast_group(Ipv4Address::new(239, 1, 2, 3)).unwrap();
    iface.set_dns_servers(&[IP_P]);
    let v6 = Ipv6Config { seed: seed as u32, dad_transmits: (seed % 2) as u8, ..Ipv6Config::new() };
    iface.enable_ipv6(v6, vec![NdpSlot::EMPTY; 4].leak(), Instant::from_secs(1));
    iface.add_ipv6_address(Instant::from_secs(1), "fd00::1/64".parse().unwrap()).unwrap();
    let mut dev = TestDevice { caps, ..TestDevice::new() };
    let mut sockets = socket_set();
    let udp = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(udp).bind(7).unwrap();
    let icmp = sockets.add(icmp_socket());
    sockets.get_mut::<IcmpSocket>(icmp).bind(0x4242).unwrap();
    sockets.add(DhcpClient::new(MAC_A, 1));
    let dns = sockets.add(DnsResolver::new(vec![DnsQuerySlot::EMPTY; 2].leak(), 3));
    let seeds = seeds(iface.dns_port());
    let mut now = Instant::from_secs(1);

    for _ in 0..iterations {
        let mut frame = if rng.below(10) == 0 {
            (0..rng.below(200)).map(|_| rng.byte()).collect()
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        if rng.below(4) != 0 {
            mutate(&mut rng, &mut frame);
        }
        dev.rx.push_back(frame);
        match rng.below(20) {
            0 => {
                let dst = Ipv4Address::new(10, 0, rng.below(2) as u8, rng.byte());
                let len = rng.below(5000);
                let _ = sockets.get_mut::<UdpSocket>(udp).send_slice(&vec![7; len], IpEndpoint::new(dst.into(), 9));
            }
            1 => {
                let _ = sockets.get_mut::<IcmpSocket>(icmp).send_echo(IP_P, 1, &[1; 100]);
            }
            3 => {
                let dst = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, rng.below(4) as u16);
                let len = rng.below(5000);
                let _ = sockets.get_mut::<UdpSocket>(udp).send_slice(&vec![7; len], IpEndpoint::new(dst.into(), 9));
            }
            4 => {
                let dst = [LL_P, Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)][rng.below(2)];
                let _ = sockets.get_mut::<IcmpSocket>(icmp).send_echo(dst, 1, &vec![1; rng.below(3000)]);
            }
            2 => {
                let r = sockets.get_mut::<DnsResolver>(dns);
                if let Ok(h) = r.start_query("example.com", QueryKind::A, now) {
                    if rng.below(2) == 0 {
                        let _ = r.cancel_query(h);
                    }
                }
            }
            _ => {}
        }
        dev.tx_room = if rng.below(8) == 0 { Some(rng.below(3)) } else { None };
        now += net::time::Duration::from_millis(rng.below(3000) as u64);
        if rng.below(100) == 0 {
            now += net::time::Duration::from_secs(rng.below(4000) as u64);
        }
        iface.poll(now, &mut dev, &mut sockets);
        if let Some(t) = iface.poll_at(now, &sockets) {
            assert!(t >= now);
        }
        dev.take_tx();
        // Drain the sockets now and then, as an application would.
        if rng.below(3) == 0 {
            while sockets.get_mut::<UdpSocket>(udp).recv().is_ok() {}
            let mut buf = [0u8; 64];
            while sockets.get_mut::<IcmpSocket>(icmp).recv_echo_reply(&mut buf).is_ok() {}
        }
    }
    let stats = iface.stats();
    assert!(stats.iter().any(|(_, _, v)| v > 0));
    assert!(stats.ethernet.rx_frames as usize >= iterations);
    if caps.ip_mtu >= 1500 {
        // The mutations must leave enough intact to exercise every layer.
        assert!(stats.arp.replies_sent > 0 && stats.icmp.echo_replied > 0, "{stats:?}");
        assert!(stats.udp.rx_datagrams > 0 && stats.ipv4.fragments_reassembled > 0, "{stats:?}");
        assert!(stats.ipv4.bad_length + stats.ipv4.truncated > 0, "{stats:?}");
        assert!(stats.icmpv6.echo_replied > 0 && stats.ndp.advertisements_sent > 0, "{stats:?}");
        assert!(stats.ipv6.fragments_reassembled > 0 && stats.ndp.router_advertisements_received > 0, "{stats:?}");
    }
}

#[test]
fn random_and_mutated_frames_never_panic() {
    fuzz(0x9e37_79b9_7f4a_7c15, DeviceCapabilities::ethernet(), 40_000);
}

#[test]
fn without_checksums_corruption_reaches_every_layer() {
    let caps = DeviceCapabilities {
        checksum: ChecksumCapabilities::ignored(),
        max_burst: Some(2),
        ..DeviceCapabilities::ethernet()
    };
    fuzz(0x1234_5678_9abc_def1, caps, 40_000);
}

#[test]
fn a_tiny_mtu_never_panics() {
    let caps =
        DeviceCapabilities { ip_mtu: 30, checksum: ChecksumCapabilities::ignored(), ..DeviceCapabilities::ethernet() };
    fuzz(42, caps, 3_000);
    let caps = DeviceCapabilities { ip_mtu: 0, ..DeviceCapabilities::ethernet() };
    fuzz(43, caps, 3_000);
}
