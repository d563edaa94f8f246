//! ARP through the interface: replies, learning, expiry, the pending queue,
//! rate limiting, giving up, gratuitous announcements.

mod common;

use common::*;
use net::iface::Config;
use net::socket::udp::UdpSocket;
use net::wire::{arp, EthernetAddress, IpEndpoint, Ipv4Address};

const ZERO_MAC: EthernetAddress = EthernetAddress([0; 6]);

fn peer_endpoint(port: u16) -> IpEndpoint {
    IpEndpoint::new(IP_P.into(), port)
}

#[test]
fn announces_its_address_with_gratuitous_arp() {
    let mut iface = interface(MAC_A, "10.0.0.1/24");
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    iface.poll(secs(0), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    #[rustfmt::skip]
    let expected: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x02, 0, 0, 0, 0, 0x0a, 10, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 10, 0, 0, 1,
    ];
    assert_eq!(frames[0], expected);
    assert_eq!(iface.stats().arp.announcements_sent, 1);
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty(), "announced once");

    // Changing the address announces the new one.
    iface.remove_address(IP_A);
    iface.add_address("10.0.0.7/24".parse().unwrap()).unwrap();
    iface.poll(secs(2), &mut dev, &mut sockets);
    let a = parse_arp(&dev.take_tx()[0]).unwrap();
    assert_eq!(
        (a.source_protocol_addr, a.target_protocol_addr),
        (Ipv4Address::new(10, 0, 0, 7), Ipv4Address::new(10, 0, 0, 7))
    );
}

fn settled() -> (net::iface::Interface<'static>, TestDevice, net::socket::SocketSet<'static>) {
    let mut iface = interface(MAC_A, "10.0.0.1/24");
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    iface.poll(secs(0), &mut dev, &mut sockets);
    dev.take_tx();
    (iface, dev, sockets)
}

#[test]
fn answers_requests_for_its_address_and_learns_the_sender() {
    let (mut iface, mut dev, mut sockets) = settled();
    dev.rx.push_back(arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, MAC_P, IP_P, ZERO_MAC, IP_A));
    iface.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    #[rustfmt::skip]
    let expected: [u8; 42] = [
        0x02, 0, 0, 0, 0, 0x09, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
        0x02, 0, 0, 0, 0, 0x0a, 10, 0, 0, 1,
        0x02, 0, 0, 0, 0, 0x09, 10, 0, 0, 9,
    ];
    assert_eq!(frames[0], expected);
    let learnt: Vec<_> = iface.neighbours(secs(1)).collect();
    assert_eq!(learnt, [(IP_P, MAC_P, secs(61))]);
    let s = iface.stats().arp;
    assert_eq!((s.requests_received, s.replies_sent), (1, 1));
}

#[test]
fn ignores_requests_for_other_addresses() {
    let (mut iface, mut dev, mut sockets) = settled();
    let other = Ipv4Address::new(10, 0, 0, 77);
    dev.rx.push_back(arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, MAC_P, IP_P, ZERO_MAC, other));
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    assert_eq!(iface.neighbours(secs(1)).count(), 0, "not learnt from a request for someone else");
    assert_eq!(iface.stats().arp.not_for_us, 1);

    // Someone claiming our address is counted, not learnt.
    dev.rx.push_back(arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, MAC_P, IP_A, ZERO_MAC, IP_A));
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert_eq!(iface.stats().arp.address_conflict, 1);

    // Malformed: truncated, and a multicast sender.
    let mut short = arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, MAC_P, IP_P, ZERO_MAC, IP_A);
    short.truncate(30);
    dev.rx.push_back(short);
    dev.rx.push_back(arp_frame(
        EthernetAddress::BROADCAST,
        arp::Operation::Request,
        EthernetAddress([1, 0, 0, 0, 0, 1]),
        IP_P,
        ZERO_MAC,
        IP_A,
    ));
    iface.poll(secs(1), &mut dev, &mut sockets);
    assert_eq!(iface.stats().arp.malformed, 2);
    assert!(dev.take_tx().is_empty());
}

#[test]
fn queues_packets_until_the_reply_arrives() {
    let (mut iface, mut dev, mut sockets) = settled();
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(1000).unwrap();
    sockets.get_mut::<UdpSocket>(h).send_slice(b"first", peer_endpoint(5000)).unwrap();
    sockets.get_mut::<UdpSocket>(h).send_slice(b"second", peer_endpoint(5000)).unwrap();
    iface.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1, "only the ARP request: {frames:?}");
    let req = parse_arp(&frames[0]).unwrap();
    assert_eq!(req.operation, arp::Operation::Request);
    assert_eq!((req.source_hardware_addr, req.source_protocol_addr), (MAC_A, IP_A));
    assert_eq!((req.target_hardware_addr, req.target_protocol_addr), (ZERO_MAC, IP_P));
    assert_eq!(parse_eth(&frames[0]).0.dst_addr, EthernetAddress::BROADCAST);
    assert_eq!(iface.pending_packets(), 2);
    assert_eq!(iface.stats().arp.request_rate_limited, 1, "the second packet did not ask again");
    assert_eq!(iface.poll_at(secs(1), &sockets), Some(secs(2)));

    dev.rx.push_back(arp_reply_from(MAC_P, IP_P, MAC_A, IP_A));
    iface.poll(millis(1200), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 2);
    for (frame, data) in frames.iter().zip([&b"first"[..], b"second"]) {
        let (eth, _) = parse_eth(frame);
        assert_eq!((eth.dst_addr, eth.src_addr), (MAC_P, MAC_A));
        let (ip, sport, dport, payload) = parse_udp(frame).unwrap();
        assert_eq!((ip.src_addr, ip.dst_addr, sport, dport), (IP_A, IP_P, 1000, 5000));
        assert_eq!(payload, data);
    }
    assert_eq!(iface.pending_packets(), 0);
    assert_eq!(iface.stats().arp.replies_received, 1);
}

#[test]
fn retries_once_a_second_then_gives_up_and_drops_the_queue() {
    let (mut iface, mut dev, mut sockets) = settled();
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(1000).unwrap();
    sockets.get_mut::<UdpSocket>(h).send_slice(b"lost", peer_endpoint(5000)).unwrap();
    let mut requests = vec![];
    for ms in (0..=3500).step_by(250) {
        iface.poll(millis(10_000 + ms), &mut dev, &mut sockets);
        for f in dev.take_tx() {
            assert!(parse_arp(&f).is_some());
            requests.push(ms);
        }
    }
    assert_eq!(requests, [0, 1000, 2000], "three tries, one per second");
    let s = iface.stats().arp;
    assert_eq!((s.requests_sent, s.resolution_failed), (3, 1));
    assert_eq!(iface.pending_packets(), 0);
    assert_eq!(iface.poll_at(millis(14_000), &sockets), None, "nothing left to do");

    // A new packet starts over.
    sockets.get_mut::<UdpSocket>(h).send_slice(b"again", peer_endpoint(5000)).unwrap();
    iface.poll(secs(20), &mut dev, &mut sockets);
    assert_eq!(dev.take_tx().len(), 1);
}

#[test]
fn a_full_queue_drops_and_counts() {
    let mut iface = interface_with(Config::new(MAC_A), "10.0.0.1/24", 1, 2048);
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(1000).unwrap();
    for _ in 0..3 {
        sockets.get_mut::<UdpSocket>(h).send_slice(b"x", peer_endpoint(5000)).unwrap();
    }
    iface.poll(secs(0), &mut dev, &mut sockets);
    assert_eq!(iface.pending_packets(), 1);
    assert_eq!(iface.stats().arp.pending_queue_full, 2);
    assert_eq!(sockets.get::<UdpSocket>(h).stats().sent, 3, "the socket handed all three over");
    // A datagram larger than the whole queue is dropped as well.
    sockets.get_mut::<UdpSocket>(h).send_slice(&[0; 4000], peer_endpoint(5000)).unwrap();
    iface.poll(secs(0), &mut dev, &mut sockets);
    assert_eq!(iface.stats().arp.pending_queue_full, 3);
}

#[test]
fn entries_expire_after_a_minute() {
    let (mut iface, mut dev, mut sockets) = settled();
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(1000).unwrap();
    dev.rx.push_back(arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, MAC_P, IP_P, ZERO_MAC, IP_A));
    iface.poll(secs(1), &mut dev, &mut sockets);
    dev.take_tx();

    sockets.get_mut::<UdpSocket>(h).send_slice(b"fresh", peer_endpoint(5000)).unwrap();
    iface.poll(secs(60), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert!(parse_udp(&frames[0]).is_some(), "still cached at 59 s");

    sockets.get_mut::<UdpSocket>(h).send_slice(b"stale", peer_endpoint(5000)).unwrap();
    iface.poll(secs(61), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    assert_eq!(parse_arp(&frames[0]).unwrap().target_protocol_addr, IP_P, "asked again after 60 s");
}

#[test]
fn any_arp_from_a_known_sender_refreshes_it() {
    let (mut iface, mut dev, mut sockets) = settled();
    dev.rx.push_back(arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, MAC_P, IP_P, ZERO_MAC, IP_A));
    iface.poll(secs(1), &mut dev, &mut sockets);
    dev.take_tx();
    // P moved to another MAC and announces itself gratuitously.
    let new_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x99]);
    dev.rx.push_back(arp_frame(EthernetAddress::BROADCAST, arp::Operation::Request, new_mac, IP_P, ZERO_MAC, IP_P));
    iface.poll(secs(2), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    let learnt: Vec<_> = iface.neighbours(secs(2)).collect();
    assert_eq!(learnt, [(IP_P, new_mac, secs(62))]);
}
