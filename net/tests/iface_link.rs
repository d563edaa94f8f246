//! Two interfaces on one in-memory link: UDP both ways, connected mode,
//! and 4000-byte UDP and ICMP datagrams fragmented by one side and
//! reassembled by the other.

mod common;

use common::*;
use net::socket::icmp::{EchoReply, IcmpSocket};
use net::socket::udp::UdpSocket;
use net::wire::IpEndpoint;

fn ep(addr: net::wire::Ipv4Address, port: u16) -> IpEndpoint {
    IpEndpoint::new(addr.into(), port)
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 256) as u8).collect()
}

#[test]
fn udp_both_ways_between_two_interfaces() {
    let (mut a, mut b) = (interface(MAC_A, "10.0.0.1/24"), interface(MAC_B, "10.0.0.2/24"));
    let (mut dev_a, mut dev_b) = (TestDevice::new(), TestDevice::new());
    let (mut sa, mut sb) = (socket_set(), socket_set());
    let ha = sa.add(udp_socket());
    let hb = sb.add(udp_socket());
    sa.get_mut::<UdpSocket>(ha).bind(1000).unwrap();
    sb.get_mut::<UdpSocket>(hb).bind(2000).unwrap();

    sa.get_mut::<UdpSocket>(ha).send_slice(b"hello", ep(IP_B, 2000)).unwrap();
    run_link(secs(1), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    let mut buf = [0u8; 64];
    let (n, from) = sb.get_mut::<UdpSocket>(hb).recv_slice(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"hello"[..], ep(IP_A, 1000)));

    sb.get_mut::<UdpSocket>(hb).send_slice(b"world", from).unwrap();
    run_link(secs(2), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    assert_eq!(sa.get_mut::<UdpSocket>(ha).recv(), Ok((&b"world"[..], ep(IP_B, 2000))));

    assert_eq!(a.stats().arp.requests_sent, 1, "A resolved B once");
    assert_eq!(b.stats().arp.requests_sent, 0, "B learnt A from its request");
    assert_eq!((a.stats().udp.tx_datagrams, b.stats().udp.rx_datagrams), (1, 1));
    assert_eq!(a.poll_at(secs(2), &sa), None);
}

#[test]
fn connected_sockets_only_hear_their_peer() {
    let (mut a, mut b) = (interface(MAC_A, "10.0.0.1/24"), interface(MAC_B, "10.0.0.2/24"));
    let (mut dev_a, mut dev_b) = (TestDevice::new(), TestDevice::new());
    let (mut sa, mut sb) = (socket_set(), socket_set());
    let a1 = sa.add(udp_socket());
    let a2 = sa.add(udp_socket());
    let hb = sb.add(udp_socket());
    sa.get_mut::<UdpSocket>(a1).bind(1000).unwrap();
    sa.get_mut::<UdpSocket>(a2).bind(1001).unwrap();
    let sock = sb.get_mut::<UdpSocket>(hb);
    sock.bind(2000).unwrap();
    sock.connect(ep(IP_A, 1000)).unwrap();
    sock.send_slice_connected(b"to my peer").unwrap();
    sa.get_mut::<UdpSocket>(a1).send_slice(b"from peer", ep(IP_B, 2000)).unwrap();
    sa.get_mut::<UdpSocket>(a2).send_slice(b"from stranger", ep(IP_B, 2000)).unwrap();
    run_link(secs(1), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    assert_eq!(sa.get_mut::<UdpSocket>(a1).recv(), Ok((&b"to my peer"[..], ep(IP_B, 2000))));
    let sock = sb.get_mut::<UdpSocket>(hb);
    assert_eq!(sock.recv(), Ok((&b"from peer"[..], ep(IP_A, 1000))));
    assert!(sock.recv().is_err(), "the stranger's datagram was not taken");
    assert_eq!(b.stats().udp.no_socket, 1);
    assert_eq!(a.stats().icmp.errors_received, 1, "A got B's port unreachable");
}

#[test]
fn a_4000_byte_udp_datagram_is_fragmented_and_reassembled() {
    let (mut a, mut b) = (interface(MAC_A, "10.0.0.1/24"), interface(MAC_B, "10.0.0.2/24"));
    let (mut dev_a, mut dev_b) = (TestDevice::new(), TestDevice::new());
    let (mut sa, mut sb) = (socket_set(), socket_set());
    let ha = sa.add(udp_socket());
    let hb = sb.add(udp_socket());
    sa.get_mut::<UdpSocket>(ha).bind(1000).unwrap();
    sb.get_mut::<UdpSocket>(hb).bind(2000).unwrap();
    let data = payload(4000);
    sa.get_mut::<UdpSocket>(ha).send_slice(&data, ep(IP_B, 2000)).unwrap();
    run_link(secs(1), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    assert_eq!(sb.get_mut::<UdpSocket>(hb).recv(), Ok((&data[..], ep(IP_A, 1000))));
    let (tx, rx) = (a.stats().ipv4, b.stats().ipv4);
    assert_eq!((tx.tx_fragmented, tx.tx_fragments), (1, 3));
    assert_eq!((rx.fragments_received, rx.fragments_reassembled), (3, 1));
}

#[test]
fn a_4000_byte_ping_from_an_icmp_socket() {
    let (mut a, mut b) = (interface(MAC_A, "10.0.0.1/24"), interface(MAC_B, "10.0.0.2/24"));
    let (mut dev_a, mut dev_b) = (TestDevice::new(), TestDevice::new());
    let (mut sa, mut sb) = (socket_set(), socket_set());
    let h = sa.add(icmp_socket());
    let ping = sa.get_mut::<IcmpSocket>(h);
    ping.bind(0x4242).unwrap();
    let data = payload(4000);
    ping.send_echo(IP_B, 1, &data).unwrap();
    ping.send_echo(IP_B, 2, b"small").unwrap();
    run_link(secs(1), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    let ping = sa.get_mut::<IcmpSocket>(h);
    let mut buf = vec![0u8; 5000];
    let first = ping.recv_echo_reply(&mut buf).unwrap();
    let second_data = buf.clone();
    let second = ping.recv_echo_reply(&mut buf).unwrap();
    // The small reply goes out at once; the large one after reassembly.
    let (big, big_data, small) = if first.seq_no == 1 {
        (first, &second_data[..first.len], second)
    } else {
        (second, &buf[..second.len], first)
    };
    assert_eq!(big, EchoReply { src: IP_B.into(), seq_no: 1, len: 4000 });
    assert_eq!(big_data, &data[..]);
    assert_eq!(small, EchoReply { src: IP_B.into(), seq_no: 2, len: 5 });
    assert_eq!(b.stats().icmp.echo_replied, 2);
    assert_eq!(b.stats().ipv4.tx_fragmented, 1);
}
