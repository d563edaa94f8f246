//! IPv4, ICMP and UDP through one interface, driven by scripted frames:
//! echo replies, every counted drop, port unreachable, reassembly.

mod common;

use common::*;
use net::iface::{Config, Interface};
use net::socket::udp::UdpSocket;
use net::socket::SocketSet;
use net::wire::ethernet::EtherType;
use net::wire::{arp, icmpv4, ipv4, EthernetAddress, IpEndpoint, IpProtocol, Ipv4Address};

/// An interface at 10.0.0.1 that already knows P (it ARPed us).
fn with_peer(config: Config) -> (Interface<'static>, TestDevice, SocketSet<'static>) {
    let mut iface = interface_with(config, "10.0.0.1/24", 8, 16384);
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    dev.rx.push_back(arp_frame(
        EthernetAddress::BROADCAST,
        arp::Operation::Request,
        MAC_P,
        IP_P,
        EthernetAddress([0; 6]),
        IP_A,
    ));
    iface.poll(secs(0), &mut dev, &mut sockets);
    dev.take_tx();
    (iface, dev, sockets)
}

fn ping_frame(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    Ip::new(IP_P, IP_A, IpProtocol::Icmp).frame(MAC_A, MAC_P, &icmp_echo(true, ident, seq, data))
}

#[test]
fn answers_ping_with_the_exact_reply() {
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    dev.rx.push_back(ping_frame(0x1234, 1, b"abcdefgh"));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    #[rustfmt::skip]
    let expected = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x66, 0xd0,
        0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x09,
        0x00, 0x00, 0x5c, 0x35, 0x12, 0x34, 0x00, 0x01,
        0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    ];
    assert_eq!(frames, [expected.to_vec()]);
    let s = iface.stats().icmp;
    assert_eq!((s.echo_requests_received, s.echo_replied), (1, 1));
}

#[test]
fn ping_from_an_unknown_host_waits_for_arp() {
    let mut iface = interface(MAC_A, "10.0.0.1/24");
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    iface.poll(secs(0), &mut dev, &mut sockets);
    dev.take_tx();
    dev.rx.push_back(ping_frame(1, 1, b"hi"));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    assert_eq!(parse_arp(&frames[0]).unwrap().target_protocol_addr, IP_P);
    dev.rx.push_back(arp_reply_from(MAC_P, IP_P, MAC_A, IP_A));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    let (_, ip, payload) = parse_ip(&frames[0]).unwrap();
    assert_eq!((ip.src_addr, ip.dst_addr), (IP_A, IP_P));
    assert_eq!(payload, icmp_echo(false, 1, 1, b"hi"));
}

#[test]
fn broadcast_and_multicast_pings_are_ignored_unless_configured() {
    let bcast = Ipv4Address::new(10, 0, 0, 255);
    let frame = |dst| {
        Ip::new(IP_P, dst, IpProtocol::Icmp).frame(EthernetAddress::BROADCAST, MAC_P, &icmp_echo(true, 1, 1, b"x"))
    };
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    dev.rx.push_back(frame(bcast));
    dev.rx.push_back(frame(Ipv4Address::BROADCAST));
    dev.rx.push_back(frame(net::iface::ALL_HOSTS));
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    assert_eq!(iface.stats().icmp.echo_broadcast_ignored, 3);

    let config = Config { reply_to_broadcast_ping: true, ..Config::new(MAC_A) };
    let (mut iface, mut dev, mut sockets) = with_peer(config);
    dev.rx.push_back(frame(bcast));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let (_, ip, _) = parse_ip(&dev.take_tx()[0]).unwrap();
    assert_eq!((ip.src_addr, ip.dst_addr), (IP_A, IP_P), "answered from our unicast address");
}

#[test]
fn every_drop_is_counted() {
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    let good = ping_frame(1, 1, b"abcd");
    let ip = |f: &mut Vec<u8>, i: usize, v: u8| f[14 + i] = v;
    let mut frames = vec![];
    // Ethernet.
    frames.push(good[..10].to_vec());
    let mut f = good.clone();
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x77]);
    frames.push(f);
    frames.push(eth(MAC_A, MAC_P, EtherType::Unknown(0x88b5), b"whatever"));
    let mut tagged = good[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    tagged.extend_from_slice(&good[12..]);
    frames.push(tagged);
    // IPv4.
    let mut f = good.clone();
    ip(&mut f, 0, 0x65);
    frames.push(f);
    let mut f = good.clone();
    f[14 + 11] ^= 1;
    frames.push(f);
    let mut f = good.clone();
    f.truncate(14 + 24);
    frames.push(f);
    let mut f = good.clone();
    ip(&mut f, 0, 0x44); // IHL 4
    frames.push(f);
    let other = Ipv4Address::new(10, 0, 0, 50);
    frames.push(Ip::new(IP_P, other, IpProtocol::Icmp).frame(MAC_A, MAC_P, &icmp_echo(true, 1, 1, b"")));
    frames.push(Ip { ttl: 0, ..Ip::new(IP_P, IP_A, IpProtocol::Icmp) }.frame(
        MAC_A,
        MAC_P,
        &icmp_echo(true, 1, 1, b""),
    ));
    frames.push(Ip::new(IP_P, IP_A, IpProtocol::Unknown(99)).frame(MAC_A, MAC_P, b"data"));
    frames.push(Ip::new(Ipv4Address::BROADCAST, IP_A, IpProtocol::Icmp).frame(
        MAC_A,
        MAC_P,
        &icmp_echo(true, 1, 1, b""),
    ));
    frames.push(Ip::new(Ipv4Address::new(127, 0, 0, 1), IP_A, IpProtocol::Icmp).frame(
        MAC_A,
        MAC_P,
        &icmp_echo(true, 1, 1, b""),
    ));
    // ICMP.
    let mut bad = icmp_echo(true, 1, 1, b"abcd");
    bad[2] ^= 0xff;
    frames.push(Ip::new(IP_P, IP_A, IpProtocol::Icmp).frame(MAC_A, MAC_P, &bad));
    frames.push(Ip::new(IP_P, IP_A, IpProtocol::Icmp).frame(MAC_A, MAC_P, &[8, 0, 0, 0]));
    let mut unknown = vec![42u8, 0, 0, 0, 0, 0, 0, 0];
    let c = internet_checksum(&unknown);
    unknown[2..4].copy_from_slice(&c.to_be_bytes());
    frames.push(Ip::new(IP_P, IP_A, IpProtocol::Icmp).frame(MAC_A, MAC_P, &unknown));
    // UDP.
    let mut bad = udp_datagram(IP_P, IP_A, 1, 7, b"abc");
    bad[6] ^= 0xff;
    frames.push(Ip::new(IP_P, IP_A, IpProtocol::Udp).frame(MAC_A, MAC_P, &bad));
    frames.push(Ip::new(IP_P, IP_A, IpProtocol::Udp).frame(MAC_A, MAC_P, &[0, 1, 0, 7, 0]));
    let mut short_len = udp_datagram(IP_P, IP_A, 1, 7, b"abc");
    short_len[4..6].copy_from_slice(&[0, 4]);
    frames.push(Ip::new(IP_P, IP_A, IpProtocol::Udp).frame(MAC_A, MAC_P, &short_len));

    dev.rx.extend(frames);
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty(), "no answer to any of them");
    let s = iface.stats();
    assert_eq!(
        (s.ethernet.truncated, s.ethernet.not_for_us, s.ethernet.unknown_ethertype, s.ethernet.vlan_dropped),
        (1, 1, 1, 1)
    );
    let i = s.ipv4;
    assert_eq!(
        (
            i.bad_version,
            i.bad_checksum,
            i.truncated,
            i.bad_length,
            i.not_for_us,
            i.ttl_expired,
            i.unknown_protocol,
            i.bad_source
        ),
        (1, 1, 1, 1, 1, 1, 1, 2)
    );
    assert_eq!((s.icmp.bad_checksum, s.icmp.truncated, s.icmp.unknown_type), (1, 1, 1));
    assert_eq!((s.udp.bad_checksum, s.udp.truncated, s.udp.malformed), (1, 1, 1));
    assert_eq!(s.icmp.echo_replied, 0);
}

#[test]
fn a_vlan_interface_takes_its_tagged_frames_and_tags_replies() {
    let config = Config { vlan_id: Some(5), ..Config::new(MAC_A) };
    let mut iface = interface_with(config, "10.0.0.1/24", 8, 16384);
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    iface.poll(secs(0), &mut dev, &mut sockets);
    let announce = dev.take_tx();
    assert_eq!(&announce[0][12..16], &[0x81, 0x00, 0x00, 0x05]);
    let request = arp_frame(MAC_A, arp::Operation::Request, MAC_P, IP_P, EthernetAddress([0; 6]), IP_A);
    let mut tagged = request[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    tagged.extend_from_slice(&request[12..]);
    dev.rx.push_back(request);
    dev.rx.push_back(tagged);
    iface.poll(secs(1), &mut dev, &mut sockets);
    let replies = dev.take_tx();
    assert_eq!(replies.len(), 1, "the untagged request is dropped");
    assert_eq!(iface.stats().ethernet.vlan_dropped, 1);
    let (e, _) = parse_eth(&replies[0]);
    assert_eq!(e.vlan.map(|t| t.vid), Some(5));
    assert_eq!(e.ethertype, EtherType::Arp);
}

#[test]
fn closed_ports_get_rate_limited_port_unreachable() {
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    let datagram = udp_datagram(IP_P, IP_A, 4000, 9999, b"knock knock");
    let packet = Ip::new(IP_P, IP_A, IpProtocol::Udp).packet(&datagram);
    dev.rx.push_back(eth(MAC_A, MAC_P, EtherType::Ipv4, &packet));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    let (e, ip, icmp) = parse_ip(&frames[0]).unwrap();
    assert_eq!(e.dst_addr, MAC_P);
    assert_eq!((ip.src_addr, ip.dst_addr, ip.protocol), (IP_A, IP_P, IpProtocol::Icmp));
    let mut expected = vec![3, 3, 0, 0, 0, 0, 0, 0];
    expected.extend_from_slice(&packet);
    let c = internet_checksum(&expected);
    expected[2..4].copy_from_slice(&c.to_be_bytes());
    assert_eq!(icmp, expected, "type 3 code 3 quoting the whole datagram");
    assert_eq!(iface.stats().udp.no_socket, 1);

    // A burst of 10, then one per 100 ms.
    for _ in 0..20 {
        dev.rx.push_back(eth(MAC_A, MAC_P, EtherType::Ipv4, &packet));
    }
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert_eq!(dev.take_tx().len(), 9);
    assert_eq!(iface.stats().icmp.errors_rate_limited, 11);
    dev.rx.push_back(eth(MAC_A, MAC_P, EtherType::Ipv4, &packet));
    iface.poll(millis(1100), &mut dev, &mut sockets);
    assert_eq!(dev.take_tx().len(), 1);

    // Never for broadcasts.
    let bcast = Ipv4Address::new(10, 0, 0, 255);
    dev.rx.push_back(udp_frame(IP_P, bcast, 4000, 9999, b"x", EthernetAddress::BROADCAST, MAC_P));
    iface.poll(secs(5), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    assert_eq!(iface.stats().udp.no_socket, 23);
}

#[test]
fn delivers_to_bound_sockets_and_counts_full_buffers() {
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(7).unwrap();
    for i in 0..10u8 {
        dev.rx.push_back(udp_frame(IP_P, IP_A, 4000, 7, &[i; 3], MAC_A, MAC_P));
    }
    iface.poll(secs(1), &mut dev, &mut sockets);
    let sock = sockets.get_mut::<UdpSocket>(h);
    assert_eq!(sock.recv(), Ok((&[0u8; 3][..], IpEndpoint::new(IP_P.into(), 4000))));
    assert_eq!(sock.stats().dropped_rx_full, 2, "eight metadata slots");
    assert_eq!(iface.stats().udp.socket_buffer_full, 2);
    assert_eq!(iface.stats().udp.rx_datagrams, 10);
}

// ---- Reassembly ----

fn udp_fragments(payload: &[u8], ident: u16) -> Vec<Vec<u8>> {
    let datagram = udp_datagram(IP_P, IP_A, 4000, 7, payload);
    let ip = Ip { ident, ..Ip::new(IP_P, IP_A, IpProtocol::Udp) };
    ip.fragment_frames(MAC_A, MAC_P, &datagram, 1480)
}

fn with_udp_socket() -> (Interface<'static>, TestDevice, SocketSet<'static>, net::socket::SocketHandle) {
    let (iface, dev, mut sockets) = with_peer(Config::new(MAC_A));
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(7).unwrap();
    (iface, dev, sockets, h)
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn reassembles_in_order_out_of_order_and_duplicated() {
    let data = payload(4000);
    let orders: [&[usize]; 3] = [&[0, 1, 2], &[2, 0, 1], &[1, 1, 2, 0]];
    for (n, order) in orders.iter().enumerate() {
        let (mut iface, mut dev, mut sockets, h) = with_udp_socket();
        let frags = udp_fragments(&data, 100 + n as u16);
        assert_eq!(frags.len(), 3);
        for &i in order.iter() {
            dev.rx.push_back(frags[i].clone());
        }
        iface.poll(secs(1), &mut dev, &mut sockets);
        let sock = sockets.get_mut::<UdpSocket>(h);
        let (got, from) = sock.recv().unwrap();
        assert_eq!((got, from), (&data[..], IpEndpoint::new(IP_P.into(), 4000)), "order {order:?}");
        assert!(sock.recv().is_err(), "delivered once");
        let s = iface.stats().ipv4;
        assert_eq!((s.fragments_received, s.fragments_reassembled), (order.len() as u64, 1));
        assert_eq!(s.fragments_duplicate, order.len() as u64 - 3);
        assert!(dev.take_tx().is_empty());
    }
}

#[test]
fn an_overlap_with_different_bytes_discards_the_datagram() {
    let (mut iface, mut dev, mut sockets, h) = with_udp_socket();
    let data = payload(4000);
    let frags = udp_fragments(&data, 9);
    let mut evil = data.clone();
    evil[1500] ^= 0xff;
    // The evil copy of the second fragment, shifted to overlap the first.
    let evil_frags = udp_fragments(&evil, 9);
    dev.rx.push_back(frags[0].clone());
    dev.rx.push_back(evil_frags[1].clone());
    dev.rx.push_back(frags[1].clone());
    dev.rx.push_back(frags[2].clone());
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(sockets.get_mut::<UdpSocket>(h).recv().is_err(), "nothing delivered");
    let s = iface.stats().ipv4;
    assert_eq!(s.fragments_overlap, 1);
    assert_eq!(s.fragments_reassembled, 0);
}

#[test]
fn a_missing_fragment_times_out_with_time_exceeded() {
    let (mut iface, mut dev, mut sockets, h) = with_udp_socket();
    let frags = udp_fragments(&payload(4000), 77);
    dev.rx.push_back(frags[0].clone());
    dev.rx.push_back(frags[2].clone());
    iface.poll(secs(10), &mut dev, &mut sockets);
    assert_eq!(iface.poll_at(secs(10), &sockets), Some(secs(40)));
    iface.poll(secs(39), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    iface.poll(secs(40), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    let (_, ip, icmp) = parse_ip(&frames[0]).unwrap();
    assert_eq!((ip.src_addr, ip.dst_addr), (IP_A, IP_P));
    assert_eq!(&icmp[..2], &[11, 1], "time exceeded, reassembly");
    let first = &frames_ip_payload(&frags[0])[..ipv4::HEADER_LEN + 8];
    assert_eq!(&icmp[8..], first, "quotes the first fragment's header and 8 bytes");
    assert!(icmpv4::Packet::new_checked(&icmp[..]).unwrap().verify_checksum());
    assert_eq!(iface.stats().ipv4.fragments_timed_out, 1);
    assert!(sockets.get_mut::<UdpSocket>(h).recv().is_err());
    assert_eq!(iface.poll_at(secs(40), &sockets), None);

    // Without the first fragment there is nothing to quote: no error.
    dev.rx.push_back(frags[1].clone());
    iface.poll(secs(50), &mut dev, &mut sockets);
    iface.poll(secs(80), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    assert_eq!(iface.stats().ipv4.fragments_timed_out, 2);
}

fn frames_ip_payload(frame: &[u8]) -> Vec<u8> {
    frame[14..].to_vec()
}

#[test]
fn refuses_to_reassemble_past_65535_bytes() {
    let (mut iface, mut dev, mut sockets, _) = with_udp_socket();
    let ip = Ip { ident: 5, more_frags: false, offset: 65528, ..Ip::new(IP_P, IP_A, IpProtocol::Udp) };
    dev.rx.push_back(ip.frame(MAC_A, MAC_P, &[0u8; 16]));
    let first = Ip { ident: 5, more_frags: true, ..Ip::new(IP_P, IP_A, IpProtocol::Udp) };
    dev.rx.push_back(first.frame(MAC_A, MAC_P, &[0u8; 64]));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let s = iface.stats().ipv4;
    assert_eq!(s.fragments_too_big, 1);
    assert_eq!(s.fragments_reassembled, 0);
    // Larger than a reassembly buffer (16 KiB here): no buffer.
    let big = Ip { ident: 6, more_frags: true, offset: 16384, ..Ip::new(IP_P, IP_A, IpProtocol::Udp) };
    dev.rx.push_back(big.frame(MAC_A, MAC_P, &[0u8; 64]));
    // Empty non-final fragment: tiny.
    let tiny = Ip { ident: 7, more_frags: true, offset: 8, ..Ip::new(IP_P, IP_A, IpProtocol::Udp) };
    dev.rx.push_back(tiny.frame(MAC_A, MAC_P, &[]));
    // Non-final fragment not a multiple of 8: bad length.
    let odd = Ip { ident: 8, more_frags: true, ..Ip::new(IP_P, IP_A, IpProtocol::Udp) };
    dev.rx.push_back(odd.frame(MAC_A, MAC_P, &[0u8; 13]));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let s = iface.stats().ipv4;
    assert_eq!((s.fragments_no_buffer, s.fragments_tiny, s.bad_length), (1, 1, 1));
}

#[test]
fn a_fragmented_4000_byte_ping_gets_a_fragmented_reply() {
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    let data = payload(4000);
    let request = icmp_echo(true, 0xbeef, 3, &data);
    let ip = Ip { ident: 0x77, ..Ip::new(IP_P, IP_A, IpProtocol::Icmp) };
    dev.rx.extend(ip.fragment_frames(MAC_A, MAC_P, &request, 1480));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 3, "4008 ICMP bytes in 1480 + 1480 + 1048");
    let mut reply = vec![0u8; 4008];
    let mut ident = None;
    for (i, f) in frames.iter().enumerate() {
        let (e, ip, payload) = parse_ip(f).unwrap();
        assert_eq!(e.dst_addr, MAC_P);
        assert_eq!((ip.src_addr, ip.dst_addr, ip.protocol), (IP_A, IP_P, IpProtocol::Icmp));
        assert_eq!(usize::from(ip.frag_offset), i * 1480);
        assert_eq!(ip.more_frags, i < 2);
        assert!(ip.buffer_len() <= 1500);
        assert_eq!(*ident.get_or_insert(ip.ident), ip.ident, "one datagram");
        reply[i * 1480..i * 1480 + payload.len()].copy_from_slice(&payload);
    }
    assert_eq!(reply, icmp_echo(false, 0xbeef, 3, &data));
    assert_eq!(iface.stats().icmp.echo_replied, 1);
    assert_eq!(iface.poll_at(secs(1), &sockets), None, "the held request was released");
}

#[test]
fn a_held_reply_waits_for_a_busy_device() {
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    let request = icmp_echo(true, 1, 1, &payload(3000));
    dev.rx.extend(Ip::new(IP_P, IP_A, IpProtocol::Icmp).fragment_frames(MAC_A, MAC_P, &request, 1480));
    dev.tx_room = Some(1);
    let r = iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(r.tx_blocked);
    assert_eq!(iface.poll_at(secs(1), &sockets), Some(secs(1)), "work is waiting");
    dev.take_tx();
    dev.tx_room = None;
    iface.poll(secs(2), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 3, "sent again whole");
    assert_eq!(iface.stats().icmp.echo_replied, 1);
}

#[test]
fn a_busy_device_keeps_datagrams_in_the_socket() {
    let (mut iface, mut dev, mut sockets) = with_peer(Config::new(MAC_A));
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(7).unwrap();
    for i in 0..3u8 {
        sockets.get_mut::<UdpSocket>(h).send_slice(&[i], IpEndpoint::new(IP_P.into(), 9)).unwrap();
    }
    dev.tx_room = Some(1);
    let r = iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(r.tx_blocked);
    assert_eq!(r.tx_frames, 1);
    assert_eq!(iface.poll_at(secs(1), &sockets), Some(secs(1)), "poll again at once");
    assert_eq!(sockets.get::<UdpSocket>(h).stats().sent, 1);
    dev.tx_room = None;
    let r = iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(!r.tx_blocked);
    let sent: Vec<_> = dev.take_tx().iter().map(|f| parse_udp(f).unwrap().3).collect();
    assert_eq!(sent, [vec![0], vec![1], vec![2]], "in order, none lost");
    assert_eq!(iface.stats().tx.device_busy, 1);
    assert_eq!(iface.poll_at(secs(1), &sockets), None);
}
