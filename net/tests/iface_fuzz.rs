//! No panic from input: random and mutated frames through the whole
//! receive path of an interface (with and without checksum verification,
//! so corrupted payloads reach the upper layers), with sockets of every
//! kind open and time jumping around.

mod common;

use common::*;
use net::iface::Config;
use net::phy::{ChecksumCapabilities, DeviceCapabilities};
use net::socket::dhcpv4::DhcpClient;
use net::socket::dns::{DnsQuerySlot, DnsResolver, QueryKind};
use net::socket::icmp::IcmpSocket;
use net::socket::udp::UdpSocket;
use net::time::Instant;
use net::wire::{arp, EthernetAddress, IpEndpoint, IpProtocol, Ipv4Address};

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
