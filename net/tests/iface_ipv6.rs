//! IPv6 through one interface, driven by scripted frames (ping, neighbour
//! solicitation, DAD, router advertisements and SLAAC, fragments, errors),
//! and between two interfaces on an in-memory link (UDP, TCP, ICMP).

mod common;

use common::*;
use net::iface::{AddressOrigin, AddressState, Config, Interface, Ipv6Config, Ipv6Event, NdpSlot, NeighbourState};
use net::socket::icmp::IcmpSocket;
use net::socket::tcp::{ListenerConfig, State, TcpListener, TcpSocket};
use net::socket::udp::UdpSocket;
use net::socket::SocketSet;
use net::storage::RingBuffer;
use net::wire::ethernet::EtherType;
use net::wire::ndp::{self, PrefixInformation, Prefixes};
use net::wire::{icmpv6, ipv6, ipv6fragment, udp};
use net::wire::{EthernetAddress, IpAddress, IpEndpoint, IpListenEndpoint, IpProtocol, Ipv6Address};

/// fe80::ff:fe00:a, A's EUI-64 link-local address.
const LL_A: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x0a);
/// fe80::ff:fe00:b.
const LL_B: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x0b);
/// fe80::ff:fe00:9, the scripted peer.
const LL_P: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x09);
const PREFIX: Ipv6Address = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
/// A's SLAAC address on PREFIX.
const GLOBAL_A: Ipv6Address = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0xff, 0xfe00, 0x0a);
const FAR: Ipv6Address = Ipv6Address::new(0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 5);

/// Deterministic: no DAD delay to wait for, no router solicitations.
fn quiet_config() -> Ipv6Config {
    Ipv6Config { dad_transmits: 0, router_solicitations: false, mld: false, ..Ipv6Config::new() }
}

/// An IPv6-only interface (no IPv4 address, so no gratuitous ARP).
fn v6_interface(mac: EthernetAddress, config: Ipv6Config) -> Interface<'static> {
    let mut iface = interface_with(Config::new(mac), "", 8, 16384);
    iface.enable_ipv6(config, leak([NdpSlot::EMPTY; 8]), secs(0));
    iface
}

fn icmpv6_message(src: Ipv6Address, dst: Ipv6Address, repr: &icmpv6::Repr) -> Vec<u8> {
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut icmpv6::Packet::new_unchecked(&mut buf[..]), &src, &dst, true);
    buf
}

fn ipv6_packet(src: Ipv6Address, dst: Ipv6Address, next: IpProtocol, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let repr = ipv6::Repr::new(src, dst, next, payload.len(), hop_limit);
    let mut buf = vec![0u8; ipv6::HEADER_LEN + payload.len()];
    repr.emit(&mut ipv6::Packet::new_unchecked(&mut buf[..]));
    buf[ipv6::HEADER_LEN..].copy_from_slice(payload);
    buf
}

fn frame6(dst_mac: EthernetAddress, src_mac: EthernetAddress, packet: &[u8]) -> Vec<u8> {
    eth(dst_mac, src_mac, EtherType::Ipv6, packet)
}

/// An ICMPv6 message from `src` at `src_mac` in a frame to `dst_mac`.
fn icmpv6_frame(
    dst_mac: EthernetAddress,
    src_mac: EthernetAddress,
    src: Ipv6Address,
    dst: Ipv6Address,
    hop_limit: u8,
    repr: &icmpv6::Repr,
) -> Vec<u8> {
    let message = icmpv6_message(src, dst, repr);
    frame6(dst_mac, src_mac, &ipv6_packet(src, dst, IpProtocol::Icmpv6, hop_limit, &message))
}

/// A parsed IPv6 frame: Ethernet header, IPv6 header, payload.
fn parse6(frame: &[u8]) -> (net::wire::ethernet::Repr, ipv6::Repr, Vec<u8>) {
    let (e, payload) = parse_eth(frame);
    assert_eq!(e.ethertype, EtherType::Ipv6, "an IPv6 frame");
    let p = ipv6::Packet::new_checked(payload).expect("IPv6 header");
    let repr = ipv6::Repr::parse(&p).unwrap();
    (e, repr, p.payload().to_vec())
}

/// The ICMPv6 message of a frame (checksum verified), with its IPv6 header.
fn parse_icmpv6(frame: &[u8]) -> (ipv6::Repr, Vec<u8>) {
    let (_, ip, payload) = parse6(frame);
    assert_eq!(ip.next_header, IpProtocol::Icmpv6);
    let p = icmpv6::Packet::new_checked(&payload[..]).unwrap();
    assert!(p.verify_checksum(&ip.src_addr, &ip.dst_addr), "ICMPv6 checksum");
    (ip, payload)
}

fn ndp_of(frame: &[u8]) -> (ipv6::Repr, ndp::Repr<'static>) {
    let (ip, payload) = parse_icmpv6(frame);
    let payload: &'static [u8] = payload.leak();
    let p = icmpv6::Packet::new_checked(payload).unwrap();
    match icmpv6::Repr::parse(&p, &ip.src_addr, &ip.dst_addr, true).unwrap() {
        icmpv6::Repr::Ndp(n) => (ip, n),
        other => panic!("not NDP: {other:?}"),
    }
}

/// The one's-complement sum over the IPv6 pseudo-header and `message`,
/// written independently of the stack's checksum code paths.
fn icmpv6_checksum(src: Ipv6Address, dst: Ipv6Address, message: &[u8]) -> u16 {
    let mut data = Vec::new();
    data.extend_from_slice(&src.0);
    data.extend_from_slice(&dst.0);
    data.extend_from_slice(&(message.len() as u32).to_be_bytes());
    data.extend_from_slice(&[0, 0, 0, 58]);
    data.extend_from_slice(message);
    internet_checksum(&data)
}

/// A neighbour solicitation from the peer P for `target`.
fn ns_from_peer(target: Ipv6Address) -> Vec<u8> {
    let ns = icmpv6::Repr::Ndp(ndp::Repr::NeighborSolicit { target_addr: target, src_lladdr: Some(MAC_P) });
    let group = target.solicited_node();
    icmpv6_frame(group.multicast_mac(), MAC_P, LL_P, group, 255, &ns)
}

#[test]
fn answers_a_neighbour_solicitation_with_the_exact_advertisement() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    a.poll(secs(0), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty(), "nothing to say without DAD or RS");
    assert!(a.has_ipv6_address(LL_A));
    dev.rx.push_back(ns_from_peer(LL_A));
    a.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    let mut na = vec![
        0x88, 0, 0, 0, // type 136, code 0, checksum (filled below)
        0x60, 0, 0, 0, // solicited, override
    ];
    na.extend_from_slice(&LL_A.0);
    na.extend_from_slice(&[2, 1, 0x02, 0, 0, 0, 0, 0x0a]); // target link-layer address option
    let sum = icmpv6_checksum(LL_A, LL_P, &na);
    na[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut expected = vec![0x02, 0, 0, 0, 0, 0x09, 0x02, 0, 0, 0, 0, 0x0a, 0x86, 0xdd];
    expected.extend_from_slice(&[0x60, 0, 0, 0, 0, 32, 58, 255]);
    expected.extend_from_slice(&LL_A.0);
    expected.extend_from_slice(&LL_P.0);
    expected.extend_from_slice(&na);
    assert_eq!(frames, [expected]);
    let s = a.stats().ndp;
    assert_eq!((s.solicitations_received, s.advertisements_sent), (1, 1));
    // The solicitation taught A the peer's address (STALE, RFC 4861 7.2.3).
    let n: Vec<_> = a.ipv6_neighbours(secs(1)).collect();
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].ip, n[0].mac, n[0].state), (LL_P, Some(MAC_P), NeighbourState::Stale));
}

#[test]
fn neighbour_discovery_messages_are_checked() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    // A hop limit below 255 means it crossed a router: dropped.
    let ns = icmpv6::Repr::Ndp(ndp::Repr::NeighborSolicit { target_addr: LL_A, src_lladdr: Some(MAC_P) });
    let group = LL_A.solicited_node();
    dev.rx.push_back(icmpv6_frame(group.multicast_mac(), MAC_P, LL_P, group, 254, &ns));
    // For an address that is not ours: ignored.
    dev.rx.push_back(ns_from_peer(LL_B));
    // A solicited-node group we are not in: not even received.
    let other = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x77).solicited_node();
    dev.rx.push_back(icmpv6_frame(other.multicast_mac(), MAC_P, LL_P, other, 255, &ns));
    a.poll(secs(1), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    let s = a.stats();
    assert_eq!(s.ndp.invalid, 1);
    assert_eq!(s.ethernet.not_for_us, 2, "the groups of LL_B and of fe80::77");
    assert_eq!(s.ndp.advertisements_sent, 0);
}

#[test]
fn answers_ping_over_ipv6_with_the_exact_reply() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    dev.rx.push_back(ns_from_peer(LL_A));
    a.poll(secs(0), &mut dev, &mut sockets);
    dev.take_tx();
    let request = icmpv6::Repr::EchoRequest { ident: 0x1234, seq_no: 1, data: b"abcdefgh" };
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, LL_P, LL_A, 64, &request));
    a.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    let mut reply = vec![0x81, 0, 0, 0, 0x12, 0x34, 0x00, 0x01];
    reply.extend_from_slice(b"abcdefgh");
    let sum = icmpv6_checksum(LL_A, LL_P, &reply);
    reply[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut expected = vec![0x02, 0, 0, 0, 0, 0x09, 0x02, 0, 0, 0, 0, 0x0a, 0x86, 0xdd];
    expected.extend_from_slice(&[0x60, 0, 0, 0, 0, 16, 58, 64]);
    expected.extend_from_slice(&LL_A.0);
    expected.extend_from_slice(&LL_P.0);
    expected.extend_from_slice(&reply);
    assert_eq!(frames, [expected]);
    let s = a.stats().icmpv6;
    assert_eq!((s.echo_requests_received, s.echo_replied), (1, 1));
    // The STALE entry was used: DELAY, then a unicast probe after 5 s.
    assert_eq!(a.ipv6_neighbours(secs(1)).next().unwrap().state, NeighbourState::Delay);
    a.poll(secs(6), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    let (ip, ns) = ndp_of(&frames[0]);
    assert_eq!((ip.src_addr, ip.dst_addr, ip.hop_limit), (LL_A, LL_P, 255));
    assert_eq!(ns, ndp::Repr::NeighborSolicit { target_addr: LL_P, src_lladdr: Some(MAC_A) });
    assert_eq!(parse_eth(&frames[0]).0.dst_addr, MAC_P, "a unicast probe");
}

#[test]
fn ping_from_an_unknown_neighbour_waits_for_neighbour_discovery() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let request = icmpv6::Repr::EchoRequest { ident: 7, seq_no: 9, data: b"hi" };
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, LL_P, LL_A, 64, &request));
    a.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1, "the reply waits; a multicast solicitation goes out");
    let (ip, ns) = ndp_of(&frames[0]);
    assert_eq!((ip.src_addr, ip.dst_addr), (LL_A, LL_P.solicited_node()));
    assert_eq!(parse_eth(&frames[0]).0.dst_addr, LL_P.solicited_node().multicast_mac());
    assert_eq!(ns, ndp::Repr::NeighborSolicit { target_addr: LL_P, src_lladdr: Some(MAC_A) });
    assert_eq!(a.pending_packets(), 1);
    let na = icmpv6::Repr::Ndp(ndp::Repr::NeighborAdvert {
        router: false,
        solicited: true,
        override_: true,
        target_addr: LL_P,
        target_lladdr: Some(MAC_P),
    });
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, LL_P, LL_A, 255, &na));
    a.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    let (ip, payload) = parse_icmpv6(&frames[0]);
    assert_eq!((ip.src_addr, ip.dst_addr), (LL_A, LL_P));
    assert_eq!(&payload[..2], &[129, 0]);
    assert_eq!(&payload[4..], &[0, 7, 0, 9, b'h', b'i']);
    assert_eq!(a.ipv6_neighbours(secs(1)).next().unwrap().state, NeighbourState::Reachable);
    // Unanswered resolution gives up after three solicitations.
    let request = icmpv6::Repr::EchoRequest { ident: 7, seq_no: 10, data: b"x" };
    let other = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x55);
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, other, LL_A, 64, &request));
    for t in 2..=5 {
        a.poll(secs(t), &mut dev, &mut sockets);
    }
    let solicitations =
        dev.take_tx().iter().filter(|f| matches!(ndp_of(f).1, ndp::Repr::NeighborSolicit { .. })).count();
    assert_eq!(solicitations, 3);
    assert_eq!(a.pending_packets(), 0);
    assert_eq!(a.stats().ndp.resolution_failed, 1);
}

/// Polls at every instant the interface asks for, up to `until`, and
/// returns every frame sent with the time.
fn run_until(
    iface: &mut Interface<'static>,
    dev: &mut TestDevice,
    sockets: &mut SocketSet<'static>,
    from: Instant,
    until: Instant,
) -> Vec<(Instant, Vec<u8>)> {
    let mut out = Vec::new();
    let mut now = from;
    for _ in 0..1000 {
        iface.poll(now, dev, sockets);
        out.extend(dev.take_tx().into_iter().map(|f| (now, f)));
        match iface.poll_at(now, sockets) {
            Some(t) if t <= until => now = t.max(now),
            _ => break,
        }
    }
    out
}

use net::time::Instant;

fn router_advert(prefix_valid: u32, prefix_preferred: u32) -> Vec<u8> {
    let prefixes: &'static [PrefixInformation] = leak([PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: prefix_valid,
        preferred_lifetime: prefix_preferred,
        prefix: PREFIX,
    }]);
    let ra = icmpv6::Repr::Ndp(ndp::Repr::RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other: false,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_time: 0,
        src_lladdr: Some(MAC_P),
        mtu: Some(1500),
        prefixes: Prefixes::List(prefixes),
    });
    icmpv6_frame(
        Ipv6Address::LINK_LOCAL_ALL_NODES.multicast_mac(),
        MAC_P,
        LL_P,
        Ipv6Address::LINK_LOCAL_ALL_NODES,
        255,
        &ra,
    )
}

#[test]
fn router_advertisement_gives_a_slaac_address_after_dad() {
    let mut a = v6_interface(MAC_A, Ipv6Config { seed: 7, mld: false, ..Ipv6Config::new() });
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    assert!(!a.has_ipv6_address(LL_A), "tentative");
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(0), secs(3));
    // DAD for the link-local address, then a router solicitation from it.
    assert_eq!(sent.len(), 2, "{sent:?}");
    let (t_dad, dad) = &sent[0];
    assert!(*t_dad < secs(1), "within MAX_RTR_SOLICITATION_DELAY");
    let (ip, ns) = ndp_of(dad);
    assert_eq!((ip.src_addr, ip.dst_addr, ip.hop_limit), (Ipv6Address::UNSPECIFIED, LL_A.solicited_node(), 255));
    assert_eq!(ns, ndp::Repr::NeighborSolicit { target_addr: LL_A, src_lladdr: None });
    assert_eq!(parse_eth(dad).0.dst_addr, EthernetAddress([0x33, 0x33, 0xff, 0x00, 0x00, 0x0a]));
    let (t_rs, rs) = &sent[1];
    assert_eq!(*t_rs, *t_dad + net::time::Duration::from_secs(1), "one RetransTimer later");
    let (ip, rs) = ndp_of(rs);
    assert_eq!((ip.src_addr, ip.dst_addr), (LL_A, Ipv6Address::LINK_LOCAL_ALL_ROUTERS));
    assert_eq!(rs, ndp::Repr::RouterSolicit { src_lladdr: Some(MAC_A) });
    assert!(a.has_ipv6_address(LL_A));
    assert_eq!(a.take_ipv6_event(), Some(Ipv6Event::AddressPreferred(LL_A)));

    // The router answers: a prefix to autoconfigure from.
    let t = secs(3);
    dev.rx.push_back(router_advert(86400, 14400));
    let sent = run_until(&mut a, &mut dev, &mut sockets, t, t + net::time::Duration::from_secs(3));
    let dads: Vec<_> = sent.iter().map(|(_, f)| ndp_of(f)).collect();
    assert_eq!(dads.len(), 1, "DAD for the new address, and no more solicitations");
    assert_eq!(dads[0].1, ndp::Repr::NeighborSolicit { target_addr: GLOBAL_A, src_lladdr: None });
    let info = a.ipv6_addresses().find(|i| i.origin == AddressOrigin::Slaac).unwrap();
    assert_eq!((info.address, info.prefix_len, info.state), (GLOBAL_A, 64, AddressState::Preferred));
    assert_eq!(info.valid_until, Some(t + net::time::Duration::from_secs(86400)));
    assert_eq!(a.ipv6_address(), Some(GLOBAL_A));
    assert_eq!(a.ipv6_default_router(t), Some(LL_P));
    assert_eq!(a.take_ipv6_event(), Some(Ipv6Event::RouterAdded(LL_P)));
    assert_eq!(a.take_ipv6_event(), Some(Ipv6Event::AddressPreferred(GLOBAL_A)));
    let s = a.stats().ndp;
    assert_eq!((s.router_advertisements_received, s.slaac_addresses, s.dad_probes_sent), (1, 1, 2));

    // A ping from off the link is answered through the router.
    let now = t + net::time::Duration::from_secs(10);
    let request = icmpv6::Repr::EchoRequest { ident: 1, seq_no: 1, data: b"far" };
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, FAR, GLOBAL_A, 60, &request));
    a.poll(now, &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    let (e, ip, _) = parse6(&frames[0]);
    assert_eq!((e.dst_addr, ip.src_addr, ip.dst_addr), (MAC_P, GLOBAL_A, FAR));
    assert_eq!(a.ipv6_neighbours(now).find(|n| n.ip == LL_P).map(|n| n.is_router), Some(true));
}

#[test]
fn dad_conflict_leaves_the_address_unused_and_says_so() {
    let mut a = v6_interface(MAC_A, Ipv6Config { router_solicitations: false, mld: false, ..Ipv6Config::new() });
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(0), millis(999));
    assert_eq!(sent.len(), 1, "the DAD probe");
    // Another node defends the address.
    let na = icmpv6::Repr::Ndp(ndp::Repr::NeighborAdvert {
        router: false,
        solicited: false,
        override_: true,
        target_addr: LL_A,
        target_lladdr: Some(MAC_P),
    });
    let all = Ipv6Address::LINK_LOCAL_ALL_NODES;
    dev.rx.push_back(icmpv6_frame(all.multicast_mac(), MAC_P, LL_A, all, 255, &na));
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(1), secs(10));
    assert!(sent.is_empty(), "{sent:?}");
    let info = a.ipv6_addresses().next().unwrap();
    assert_eq!((info.address, info.state), (LL_A, AddressState::Duplicate));
    assert!(!a.has_ipv6_address(LL_A));
    assert_eq!(a.ipv6_address(), None);
    assert_eq!(a.take_ipv6_event(), Some(Ipv6Event::AddressDuplicate(LL_A)));
    // It was formed from the MAC: IPv6 stops (RFC 4862 5.4.5).
    assert_eq!(a.take_ipv6_event(), Some(Ipv6Event::Disabled(LL_A)));
    assert_eq!(a.stats().ndp.dad_conflicts, 1);
    // Nothing is answered on it, nor is anything else received.
    let request = icmpv6::Repr::EchoRequest { ident: 1, seq_no: 1, data: b"x" };
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, LL_P, LL_A, 64, &request));
    dev.rx.push_back(ns_from_peer(LL_A));
    a.poll(secs(11), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    // The ping (to our MAC) is dropped as IPv6 is off; the solicitation's
    // group was left, so the Ethernet layer already drops it.
    assert_eq!(a.stats().ipv6.disabled, 1);
}

#[test]
fn simultaneous_dad_probe_from_another_node_is_a_conflict() {
    let mut a = v6_interface(MAC_A, Ipv6Config { router_solicitations: false, mld: false, ..Ipv6Config::new() });
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    a.poll(secs(0), &mut dev, &mut sockets);
    let ns = icmpv6::Repr::Ndp(ndp::Repr::NeighborSolicit { target_addr: LL_A, src_lladdr: None });
    let group = LL_A.solicited_node();
    dev.rx.push_back(icmpv6_frame(group.multicast_mac(), MAC_P, Ipv6Address::UNSPECIFIED, group, 255, &ns));
    a.poll(millis(10), &mut dev, &mut sockets);
    assert_eq!(a.ipv6_addresses().next().unwrap().state, AddressState::Duplicate);
    assert_eq!(a.stats().ndp.dad_conflicts, 1);
}

#[test]
fn a_used_address_is_defended_against_a_dad_probe() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let ns = icmpv6::Repr::Ndp(ndp::Repr::NeighborSolicit { target_addr: LL_A, src_lladdr: None });
    let group = LL_A.solicited_node();
    dev.rx.push_back(icmpv6_frame(group.multicast_mac(), MAC_P, Ipv6Address::UNSPECIFIED, group, 255, &ns));
    a.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 1);
    let (ip, na) = ndp_of(&frames[0]);
    assert_eq!((ip.src_addr, ip.dst_addr), (LL_A, Ipv6Address::LINK_LOCAL_ALL_NODES));
    assert_eq!(
        na,
        ndp::Repr::NeighborAdvert {
            router: false,
            solicited: false,
            override_: true,
            target_addr: LL_A,
            target_lladdr: Some(MAC_A)
        }
    );
    assert!(a.has_ipv6_address(LL_A), "still ours");
}

#[test]
fn slaac_address_is_deprecated_then_removed_with_its_lifetimes() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    dev.rx.push_back(router_advert(7200 + 100, 60));
    a.poll(secs(0), &mut dev, &mut sockets);
    assert_eq!(a.ipv6_address(), Some(GLOBAL_A));
    a.poll(secs(60), &mut dev, &mut sockets);
    let state = |a: &Interface| a.ipv6_addresses().find(|i| i.address == GLOBAL_A).map(|i| i.state);
    assert_eq!(state(&a), Some(AddressState::Deprecated));
    assert_eq!(a.ipv6_address(), Some(GLOBAL_A), "deprecated but still valid");
    // A refresh with a short valid lifetime cannot cut it below two hours.
    dev.rx.push_back(router_advert(10, 10));
    a.poll(secs(61), &mut dev, &mut sockets);
    assert_eq!(state(&a), Some(AddressState::Preferred));
    a.poll(secs(7200), &mut dev, &mut sockets);
    assert_eq!(state(&a), Some(AddressState::Deprecated));
    assert_eq!(a.poll_at(secs(7200), &sockets), Some(secs(7261)));
    a.poll(secs(7261), &mut dev, &mut sockets);
    assert_eq!(state(&a), None, "expired");
    let events: Vec<_> = std::iter::from_fn(|| a.take_ipv6_event()).collect();
    assert!(events.contains(&Ipv6Event::AddressExpired(GLOBAL_A)), "{events:?}");
}

fn fragment_frames(
    src: Ipv6Address,
    dst: Ipv6Address,
    ident: u32,
    upper: IpProtocol,
    data: &[u8],
    pieces: &[(usize, usize)],
) -> Vec<Vec<u8>> {
    pieces
        .iter()
        .map(|&(from, to)| {
            let mut payload = vec![0u8; ipv6fragment::HEADER_LEN + (to - from)];
            let repr =
                ipv6fragment::Repr { next_header: upper, frag_offset: from as u16, more_frags: to < data.len(), ident };
            repr.emit(&mut ipv6fragment::Header::new_unchecked(&mut payload[..8]));
            payload[8..].copy_from_slice(&data[from..to]);
            frame6(MAC_A, MAC_P, &ipv6_packet(src, dst, IpProtocol::Ipv6Frag, 64, &payload))
        })
        .collect()
}

fn udp6(src: Ipv6Address, dst: Ipv6Address, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let repr = udp::Repr { src_port, dst_port, payload };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut udp::Packet::new_unchecked(&mut buf[..]), &src.into(), &dst.into(), true);
    buf
}

fn with_udp_socket(port: u16) -> (Interface<'static>, TestDevice, SocketSet<'static>, net::socket::SocketHandle) {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let h = sockets.add(udp_socket());
    sockets.get_mut::<UdpSocket>(h).bind(port).unwrap();
    dev.rx.push_back(ns_from_peer(LL_A));
    a.poll(secs(0), &mut dev, &mut sockets);
    dev.take_tx();
    (a, dev, sockets, h)
}

#[test]
fn fragments_are_reassembled_and_overlaps_rejected() {
    let (mut a, mut dev, mut sockets, h) = with_udp_socket(7);
    let data: Vec<u8> = (0..3000).map(|i| (i % 251) as u8).collect();
    let datagram = udp6(LL_P, LL_A, 9, 7, &data);
    let n = datagram.len();
    // Out of order.
    for f in fragment_frames(LL_P, LL_A, 1, IpProtocol::Udp, &datagram, &[(1448, n), (0, 1448)]) {
        dev.rx.push_back(f);
    }
    a.poll(secs(1), &mut dev, &mut sockets);
    let (got, from) = sockets.get_mut::<UdpSocket>(h).recv().map(|(d, f)| (d.to_vec(), f)).unwrap();
    assert_eq!((got, from), (data.clone(), IpEndpoint::new(LL_P.into(), 9)));
    // Overlapping (even with the same bytes): the whole datagram goes.
    for f in fragment_frames(LL_P, LL_A, 2, IpProtocol::Udp, &datagram, &[(0, 1448), (1440, n)]) {
        dev.rx.push_back(f);
    }
    a.poll(secs(2), &mut dev, &mut sockets);
    assert!(sockets.get_mut::<UdpSocket>(h).recv().is_err());
    // An atomic fragment is delivered at once (RFC 6946).
    let small = udp6(LL_P, LL_A, 9, 7, b"atomic");
    dev.rx.extend(fragment_frames(LL_P, LL_A, 3, IpProtocol::Udp, &small, &[(0, small.len())]));
    a.poll(secs(3), &mut dev, &mut sockets);
    assert_eq!(sockets.get_mut::<UdpSocket>(h).recv().unwrap().0, b"atomic");
    let s = a.stats().ipv6;
    assert_eq!((s.fragments_received, s.fragments_reassembled, s.fragments_overlap, s.atomic_fragments), (5, 1, 1, 1));
    assert_eq!(a.reassembly_slots_in_use(), 0);
    // A lone first fragment times out with time exceeded (code 1).
    dev.rx.extend(fragment_frames(LL_P, LL_A, 4, IpProtocol::Udp, &datagram, &[(0, 1448)]));
    a.poll(secs(4), &mut dev, &mut sockets);
    a.poll(secs(34), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    let (ip, payload) = parse_icmpv6(frames.last().unwrap());
    assert_eq!(ip.dst_addr, LL_P);
    assert_eq!(&payload[..2], &[3, 1]);
    assert_eq!(a.stats().ipv6.fragments_timed_out, 1);
}

#[test]
fn closed_port_and_unknown_protocol_get_icmpv6_errors() {
    let (mut a, mut dev, mut sockets, _) = with_udp_socket(7);
    let to_closed_port = ipv6_packet(LL_P, LL_A, IpProtocol::Udp, 64, &udp6(LL_P, LL_A, 9, 8, b"?"));
    dev.rx.push_back(frame6(MAC_A, MAC_P, &to_closed_port));
    dev.rx.push_back(frame6(MAC_A, MAC_P, &ipv6_packet(LL_P, LL_A, IpProtocol::Unknown(200), 64, b"12345678")));
    a.poll(secs(1), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 2);
    let (_, unreachable) = parse_icmpv6(&frames[0]);
    assert_eq!(&unreachable[..2], &[1, 4], "port unreachable");
    assert_eq!(&unreachable[8..], &to_closed_port[..], "quotes the whole packet");
    let (_, problem) = parse_icmpv6(&frames[1]);
    assert_eq!(&problem[..2], &[4, 1], "unrecognized next header");
    assert_eq!(&problem[4..8], &6u32.to_be_bytes(), "points at the next header field");
    // Behind a destination options header (PadN only), the pointer names
    // that header's next-header byte.
    let options = [200u8, 0, 1, 4, 0, 0, 0, 0, b'x'];
    dev.rx.push_back(frame6(MAC_A, MAC_P, &ipv6_packet(LL_P, LL_A, IpProtocol::Ipv6Opts, 64, &options)));
    a.poll(secs(2), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    let (_, problem) = parse_icmpv6(&frames[0]);
    assert_eq!(&problem[..8], &[4, 1, problem[2], problem[3], 0, 0, 0, 40]);
    assert_eq!(a.stats().ipv6.unknown_protocol, 2);
    assert_eq!(a.stats().icmpv6.errors_sent, 3);
}

#[test]
fn packet_too_big_lowers_the_path_mtu_and_our_datagrams_are_fragmented() {
    let (mut a, mut dev, mut sockets, h) = with_udp_socket(7);
    dev.rx.push_back(router_advert(86400, 14400));
    a.poll(secs(1), &mut dev, &mut sockets);
    dev.take_tx();
    assert_eq!(a.ipv6_path_mtu(FAR, secs(1)), 1500);
    // A router says 1280 for FAR, quoting a datagram we sent.
    let quoted = ipv6_packet(GLOBAL_A, FAR, IpProtocol::Udp, 64, &udp6(GLOBAL_A, FAR, 7, 9, &[0; 1400]));
    let ptb = icmpv6::Repr::PacketTooBig { mtu: 1280, data: &quoted[..1232] };
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, LL_P, GLOBAL_A, 64, &ptb));
    // Below the IPv6 minimum: ignored.
    let tiny = icmpv6::Repr::PacketTooBig { mtu: 1000, data: &quoted[..1232] };
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, LL_P, GLOBAL_A, 64, &tiny));
    a.poll(secs(2), &mut dev, &mut sockets);
    assert_eq!(a.ipv6_path_mtu(FAR, secs(2)), 1280);
    assert_eq!(a.stats().ipv6.pmtu_updates, 1);
    sockets.get_mut::<UdpSocket>(h).send_slice(&[0x5a; 1400], IpEndpoint::new(FAR.into(), 9)).unwrap();
    a.poll(secs(3), &mut dev, &mut sockets);
    let frames = dev.take_tx();
    assert_eq!(frames.len(), 2, "fragmented to fit 1280");
    for f in &frames {
        let (e, ip, _) = parse6(f);
        assert_eq!((e.dst_addr, ip.next_header), (MAC_P, IpProtocol::Ipv6Frag));
        assert!(ipv6::HEADER_LEN + ip.payload_len <= 1280);
    }
    assert_eq!(a.stats().ipv6.tx_fragments, 2);
    assert_eq!(a.ipv6_path_mtu(FAR, secs(2 + 600)), 1500, "forgotten after ten minutes");
    // An expired entry never makes the interface ask for polls at once.
    a.poll(secs(700), &mut dev, &mut sockets);
    let next = a.poll_at(secs(700), &sockets);
    assert!(next.is_none_or(|t| t > secs(700)), "{next:?}");
}

// ---- Two interfaces on one link ----

const ULA_A: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const ULA_B: Ipv6Address = Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

/// A and B with static ULAs (after DAD) and IPv4 addresses.
fn two_interfaces(
) -> (Interface<'static>, TestDevice, SocketSet<'static>, Interface<'static>, TestDevice, SocketSet<'static>) {
    let config = Ipv6Config { router_solicitations: false, mld: false, ..Ipv6Config::new() };
    let (mut a, mut b) = (interface(MAC_A, "10.0.0.1/24"), interface(MAC_B, "10.0.0.2/24"));
    a.enable_ipv6(config, leak([NdpSlot::EMPTY; 8]), secs(0));
    b.enable_ipv6(Ipv6Config { seed: 99, ..config }, leak([NdpSlot::EMPTY; 8]), secs(0));
    a.add_ipv6_address(secs(0), "fd00::1/64".parse().unwrap()).unwrap();
    b.add_ipv6_address(secs(0), "fd00::2/64".parse().unwrap()).unwrap();
    let (mut dev_a, mut dev_b) = (TestDevice::new(), TestDevice::new());
    let (mut sa, mut sb) = (socket_set(), socket_set());
    for ms in (0..3000).step_by(100) {
        run_link(millis(ms), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    }
    assert!(a.has_ipv6_address(ULA_A) && b.has_ipv6_address(ULA_B) && a.has_ipv6_address(LL_A));
    (a, dev_a, sa, b, dev_b, sb)
}

#[test]
fn udp_over_ipv6_between_two_interfaces() {
    let (mut a, mut dev_a, mut sa, mut b, mut dev_b, mut sb) = two_interfaces();
    let ha = sa.add(udp_socket());
    let hb = sb.add(udp_socket());
    sa.get_mut::<UdpSocket>(ha).bind(1000).unwrap();
    sb.get_mut::<UdpSocket>(hb).bind(2000).unwrap();
    sa.get_mut::<UdpSocket>(ha).send_slice(b"hello", IpEndpoint::new(ULA_B.into(), 2000)).unwrap();
    run_link(secs(5), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    let (data, from) = sb.get_mut::<UdpSocket>(hb).recv().map(|(d, f)| (d.to_vec(), f)).unwrap();
    assert_eq!((&data[..], from), (&b"hello"[..], IpEndpoint::new(ULA_A.into(), 1000)));
    // The same socket answers over IPv4 and IPv6 alike.
    sb.get_mut::<UdpSocket>(hb).send_slice(b"world", from).unwrap();
    sb.get_mut::<UdpSocket>(hb).send_slice(b"v4", IpEndpoint::new(IP_A.into(), 1000)).unwrap();
    run_link(secs(6), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    let s = sa.get_mut::<UdpSocket>(ha);
    assert_eq!(s.recv(), Ok((&b"world"[..], IpEndpoint::new(ULA_B.into(), 2000))));
    assert_eq!(s.recv(), Ok((&b"v4"[..], IpEndpoint::new(IP_B.into(), 2000))));
    assert_eq!(a.stats().ndp.solicitations_sent, 1, "A resolved B once");
    assert_eq!(b.stats().ndp.solicitations_sent, 0, "B learnt A from its solicitation");
    // A 4000-byte datagram is fragmented by A and reassembled by B.
    let big: Vec<u8> = (0..4000).map(|i| (i * 13 % 256) as u8).collect();
    sa.get_mut::<UdpSocket>(ha).send_slice(&big, IpEndpoint::new(ULA_B.into(), 2000)).unwrap();
    run_link(secs(7), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    assert_eq!(sb.get_mut::<UdpSocket>(hb).recv().unwrap().0, &big[..]);
    assert_eq!((a.stats().ipv6.tx_fragmented, a.stats().ipv6.tx_fragments), (1, 3));
    assert_eq!(b.stats().ipv6.fragments_reassembled, 1);
}

#[test]
fn a_4000_byte_ping_over_ipv6() {
    let (mut a, mut dev_a, mut sa, mut b, mut dev_b, mut sb) = two_interfaces();
    let h = sa.add(icmp_socket());
    let ping = sa.get_mut::<IcmpSocket>(h);
    ping.bind(0x4242).unwrap();
    let data: Vec<u8> = (0..4000).map(|i| (i % 256) as u8).collect();
    ping.send_echo(ULA_B, 1, &data).unwrap();
    ping.send_echo(LL_B, 2, b"link-local").unwrap();
    run_link(secs(5), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    let ping = sa.get_mut::<IcmpSocket>(h);
    let mut buf = vec![0u8; 5000];
    let mut replies = vec![];
    while let Ok(r) = ping.recv_echo_reply(&mut buf) {
        replies.push((r, buf[..r.len].to_vec()));
    }
    replies.sort_by_key(|(r, _)| r.seq_no);
    assert_eq!(replies.len(), 2);
    assert_eq!((replies[0].0.src, replies[0].0.seq_no, &replies[0].1[..]), (IpAddress::V6(ULA_B), 1, &data[..]));
    assert_eq!((replies[1].0.src, &replies[1].1[..]), (IpAddress::V6(LL_B), &b"link-local"[..]));
    assert_eq!(b.stats().icmpv6.echo_replied, 2);
    assert_eq!(b.stats().ipv6.tx_fragmented, 1, "the large reply, after reassembly");
}

fn tcp_socket(iface: &Interface) -> TcpSocket<'static> {
    TcpSocket::new(RingBuffer::new(vec![0u8; 8192].leak()), RingBuffer::new(vec![0u8; 8192].leak()), iface.tcp_config())
}

#[test]
fn tcp_over_ipv6_and_one_listener_for_both_families() {
    let (mut a, mut dev_a, mut sa, mut b, mut dev_b, mut sb) = two_interfaces();
    let pool: &'static mut [TcpSocket<'static>] = vec![tcp_socket(&a), tcp_socket(&a)].leak();
    let limits = ListenerConfig { syn_backlog: 2, accept_backlog: 2, syn_cookies: false };
    let listener = sa.add(TcpListener::new(IpListenEndpoint::any(80), pool, a.tcp_config(), limits));
    let c6 = sb.add(tcp_socket(&b));
    let c4 = sb.add(tcp_socket(&b));
    let now = secs(5);
    sb.get_mut::<TcpSocket>(c6)
        .connect(IpEndpoint::new(ULA_B.into(), 40000), IpEndpoint::new(ULA_A.into(), 80), now)
        .unwrap();
    sb.get_mut::<TcpSocket>(c4)
        .connect(IpEndpoint::new(IP_B.into(), 40001), IpEndpoint::new(IP_A.into(), 80), now)
        .unwrap();
    run_link(now, &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    assert_eq!(sb.get_mut::<TcpSocket>(c6).state(), State::Established);
    assert_eq!(sb.get_mut::<TcpSocket>(c4).state(), State::Established);
    let l = sa.get_mut::<TcpListener>(listener);
    let mut remotes = vec![];
    while let Some(i) = l.accept() {
        let s = l.socket(i).unwrap();
        remotes.push(s.remote_endpoint().unwrap());
        s.send_slice(b"hello from A").unwrap();
    }
    remotes.sort();
    assert_eq!(remotes, [IpEndpoint::new(IP_B.into(), 40001), IpEndpoint::new(ULA_B.into(), 40000)]);
    let data: Vec<u8> = (0..6000).map(|i| (i % 241) as u8).collect();
    sb.get_mut::<TcpSocket>(c6).send_slice(&data).unwrap();
    for t in 0..5 {
        run_link(
            now + net::time::Duration::from_millis(t * 10),
            &mut a,
            &mut dev_a,
            &mut sa,
            &mut b,
            &mut dev_b,
            &mut sb,
        );
    }
    let mut buf = [0u8; 64];
    let n = sb.get_mut::<TcpSocket>(c6).recv_slice(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello from A");
    let l = sa.get_mut::<TcpListener>(listener);
    let server6 = (0..2)
        .find(|&i| l.socket(i).and_then(|s| s.remote_endpoint()).is_some_and(|r| r.addr == ULA_B.into()))
        .unwrap();
    let mut got = vec![0u8; 8000];
    let n = l.socket(server6).unwrap().recv_slice(&mut got).unwrap();
    assert_eq!(&got[..n], &data[..]);
    // The listener's IPv6 connection sends full-sized segments that fit
    // the MTU: 1500 - 40 (IPv6) - 20 (TCP) - 12 (timestamps).
    l.socket(server6).unwrap().send_slice(&data).unwrap();
    dev_a.take_tx();
    a.poll(now + net::time::Duration::from_millis(100), &mut dev_a, &mut sa);
    let sizes: Vec<usize> = dev_a.take_tx().iter().map(|f| parse6(f).1.payload_len).collect();
    assert!(!sizes.is_empty());
    assert!(sizes.iter().all(|&n| n <= 1460), "{sizes:?}");
    assert_eq!(sizes[0], 20 + 12 + 1428, "{sizes:?}");
    assert_eq!(a.stats().ipv6.tx_fragmented + b.stats().ipv6.tx_fragmented, 0, "TCP segments are never fragmented");
}

#[test]
fn tcp_over_ipv6_on_an_offloading_device_is_summed_and_cut_by_the_stack() {
    use net::phy::{Checksum, ChecksumCapabilities, DeviceCapabilities};
    let (mut a, mut dev_a, mut sa, mut b, mut dev_b, mut sb) = two_interfaces();
    // A device that fills IPv4 TCP checksums and segments IPv4 TCP (as
    // virtio-net with CSUM and HOST_TSO4 does): neither covers IPv6.
    dev_a.caps = DeviceCapabilities {
        tso_max_len: 65535,
        checksum: ChecksumCapabilities { tcp: Checksum::Rx, ..ChecksumCapabilities::default() },
        ..DeviceCapabilities::ethernet()
    };
    let server = sb.add(tcp_socket(&b));
    sb.get_mut::<TcpSocket>(server).listen(7).unwrap();
    let client = sa.add(tcp_socket(&a));
    let now = secs(5);
    sa.get_mut::<TcpSocket>(client)
        .connect(IpEndpoint::new(ULA_A.into(), 40000), IpEndpoint::new(ULA_B.into(), 7), now)
        .unwrap();
    run_link(now, &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    assert_eq!(sa.get_mut::<TcpSocket>(client).state(), State::Established);
    let data: Vec<u8> = (0..6000).map(|i| (i % 251) as u8).collect();
    sa.get_mut::<TcpSocket>(client).send_slice(&data).unwrap();
    a.poll(now, &mut dev_a, &mut sa);
    let frames = dev_a.take_tx();
    assert!(frames.len() >= 4, "{}", frames.len());
    for f in &frames {
        let (_, ip, payload) = parse6(f);
        assert!(f.len() <= 1514 && ip.next_header == IpProtocol::Tcp);
        let p = net::wire::tcp::Packet::new_checked(&payload[..]).unwrap();
        assert!(p.verify_checksum(&ULA_A.into(), &ULA_B.into()), "summed by the stack");
    }
    dev_b.rx.extend(frames);
    b.poll(now, &mut dev_b, &mut sb);
    let mut got = vec![0u8; 8000];
    let n = sb.get_mut::<TcpSocket>(server).recv_slice(&mut got).unwrap();
    assert!(n >= 4 * 1428 && got[..n] == data[..n], "{n} bytes in order");
    assert_eq!(b.stats().tcp.bad_checksum, 0);
}

#[test]
fn only_neighbour_discovery_may_come_from_the_unspecified_address() {
    let (mut a, mut dev, mut sockets, h) = with_udp_socket(7);
    let any = Ipv6Address::UNSPECIFIED;
    let request = icmpv6::Repr::EchoRequest { ident: 1, seq_no: 1, data: b"x" };
    dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, any, LL_A, 64, &request));
    dev.rx.push_back(frame6(MAC_A, MAC_P, &ipv6_packet(any, LL_A, IpProtocol::Udp, 64, &udp6(any, LL_A, 9, 7, b"?"))));
    a.poll(secs(1), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());
    assert!(sockets.get_mut::<UdpSocket>(h).recv().is_err());
    assert_eq!(a.stats().ipv6.bad_source, 2);
}

/// Found by the `iface_ipv6` fuzz target: a reply waiting for neighbour
/// discovery outlived its source address (a SLAAC address whose valid
/// lifetime ended meanwhile) and went out from it once the neighbour
/// answered.
#[test]
fn a_reply_whose_source_expired_while_waiting_is_dropped() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    dev.rx.push_back(router_advert(30, 30));
    a.poll(secs(0), &mut dev, &mut sockets);
    assert!(a.has_ipv6_address(GLOBAL_A));
    dev.take_tx();
    // A ping to the SLAAC address from a neighbour whose MAC is unknown.
    let mac_q = EthernetAddress([0x02, 0, 0, 0, 0, 0x55]);
    let ll_q = Ipv6Address::link_local_from_mac(&mac_q);
    let request = icmpv6::Repr::EchoRequest { ident: 7, seq_no: 1, data: b"late" };
    dev.rx.push_back(icmpv6_frame(MAC_A, mac_q, ll_q, GLOBAL_A, 64, &request));
    a.poll(secs(1), &mut dev, &mut sockets);
    assert_eq!(a.pending_packets(), 1, "the reply waits for neighbour discovery");
    dev.take_tx();
    // The next poll comes after the address expired; then the neighbour answers.
    a.poll(secs(31), &mut dev, &mut sockets);
    assert!(!a.has_ipv6_address(GLOBAL_A), "expired");
    let na = icmpv6::Repr::Ndp(ndp::Repr::NeighborAdvert {
        router: false,
        solicited: true,
        override_: true,
        target_addr: ll_q,
        target_lladdr: Some(mac_q),
    });
    dev.rx.push_back(icmpv6_frame(MAC_A, mac_q, ll_q, LL_A, 255, &na));
    a.poll(secs(31), &mut dev, &mut sockets);
    for frame in dev.take_tx() {
        let (_, ip, _) = parse6(&frame);
        assert_ne!(ip.src_addr, GLOBAL_A, "sent from the expired address");
    }
    assert_eq!(a.pending_packets(), 0);
    assert_eq!(a.stats().ipv6.tx_source_gone, 1);
}

/// The same for TCP: a connection from a SLAAC address keeps retrying
/// (the peer answers neighbour discovery, never the SYN) after the address
/// expired; no retransmission may leave from it.
#[test]
fn tcp_retransmissions_stop_leaving_from_an_expired_address() {
    let mut a = v6_interface(MAC_A, quiet_config());
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    dev.rx.push_back(router_advert(30, 30));
    a.poll(secs(0), &mut dev, &mut sockets);
    dev.take_tx();
    let socket = sockets.add(tcp_socket(&a));
    sockets
        .get_mut::<TcpSocket>(socket)
        .connect(IpEndpoint::new(GLOBAL_A.into(), 40000), IpEndpoint::new(LL_P.into(), 80), secs(1))
        .unwrap();
    let na = icmpv6::Repr::Ndp(ndp::Repr::NeighborAdvert {
        router: true,
        solicited: true,
        override_: true,
        target_addr: LL_P,
        target_lladdr: Some(MAC_P),
    });
    let (mut before, mut after, mut now) = (0, 0, secs(1));
    for _ in 0..200 {
        a.poll(now, &mut dev, &mut sockets);
        for frame in dev.take_tx() {
            let (_, ip, payload) = parse6(&frame);
            if ip.next_header == IpProtocol::Icmpv6 && payload[0] == 135 {
                dev.rx.push_back(icmpv6_frame(MAC_A, MAC_P, LL_P, LL_A, 255, &na));
            }
            if ip.src_addr == GLOBAL_A {
                if now < secs(30) {
                    before += 1;
                } else {
                    after += 1;
                }
            }
        }
        match a.poll_at(now, &sockets) {
            Some(t) if t <= secs(100) => now = t.max(now),
            _ => break,
        }
    }
    assert!(before >= 4, "SYNs from the address while it is valid ({before})");
    assert_eq!(after, 0, "nothing from the expired address");
    assert!(a.stats().ipv6.tx_source_gone >= 1);
}

#[test]
fn a_socket_bound_to_the_unspecified_address_serves_both_families() {
    let (mut a, mut dev_a, mut sa, mut b, mut dev_b, mut sb) = two_interfaces();
    let ha = sa.add(udp_socket());
    let hb = sb.add(udp_socket());
    sa.get_mut::<UdpSocket>(ha).bind(1000).unwrap();
    let wildcard = IpListenEndpoint { addr: Some(IpAddress::V6(Ipv6Address::UNSPECIFIED)), port: 2000 };
    sb.get_mut::<UdpSocket>(hb).bind(wildcard).unwrap();
    sa.get_mut::<UdpSocket>(ha).send_slice(b"six", IpEndpoint::new(ULA_B.into(), 2000)).unwrap();
    sa.get_mut::<UdpSocket>(ha).send_slice(b"four", IpEndpoint::new(IP_B.into(), 2000)).unwrap();
    run_link(secs(5), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    let server = sb.get_mut::<UdpSocket>(hb);
    let mut buf = [0u8; 16];
    for _ in 0..2 {
        let (n, from) = server.recv_slice(&mut buf).unwrap();
        server.send_slice(&buf[..n], from).unwrap();
    }
    run_link(secs(6), &mut a, &mut dev_a, &mut sa, &mut b, &mut dev_b, &mut sb);
    let client = sa.get_mut::<UdpSocket>(ha);
    assert_eq!(client.recv(), Ok((&b"six"[..], IpEndpoint::new(ULA_B.into(), 2000))), "answered from ULA_B");
    assert_eq!(client.recv(), Ok((&b"four"[..], IpEndpoint::new(IP_B.into(), 2000))), "answered from IP_B");
}

#[test]
fn our_own_dad_probe_echoed_back_by_the_link_is_no_conflict() {
    let mut a = v6_interface(MAC_A, Ipv6Config { router_solicitations: false, mld: false, ..Ipv6Config::new() });
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(0), millis(999));
    assert_eq!(sent.len(), 1, "the DAD probe");
    // The link hands our own probe back (same source MAC).
    dev.rx.push_back(sent[0].1.clone());
    run_until(&mut a, &mut dev, &mut sockets, sent[0].0, secs(3));
    assert!(a.has_ipv6_address(LL_A), "DAD passed");
    let s = a.stats().ndp;
    assert_eq!((s.looped_back, s.dad_conflicts), (1, 0));
}

/// ff02::16, where MLDv2 reports go.
const ALL_MLDV2_ROUTERS: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);
/// The hop-by-hop header every MLD message carries: router alert (MLD), PadN.
const HBH_ROUTER_ALERT: [u8; 8] = [58, 0, 5, 2, 0, 0, 1, 0];

fn with_checksum(src: Ipv6Address, dst: Ipv6Address, mut message: Vec<u8>) -> Vec<u8> {
    let sum = icmpv6_checksum(src, dst, &message);
    message[2..4].copy_from_slice(&sum.to_be_bytes());
    message
}

/// The exact frame of an MLD message from A: hop limit 1, hop-by-hop
/// router alert, then the message.
fn mld_frame_from_a(src: Ipv6Address, dst: Ipv6Address, message: Vec<u8>) -> Vec<u8> {
    let message = with_checksum(src, dst, message);
    let payload = [&HBH_ROUTER_ALERT[..], &message].concat();
    frame6(dst.multicast_mac(), MAC_A, &ipv6_packet(src, dst, IpProtocol::HopByHop, 1, &payload))
}

/// An MLDv2 report from A with one source-less record.
fn v2_report_frame(src: Ipv6Address, record_type: u8, group: Ipv6Address) -> Vec<u8> {
    let message = [&[143, 0, 0, 0, 0, 0, 0, 1, record_type, 0, 0, 0][..], &group.0].concat();
    mld_frame_from_a(src, ALL_MLDV2_ROUTERS, message)
}

/// A query from the peer (a querier at LL_P unless `src` says otherwise).
fn query_frame(
    v2: bool,
    group: Ipv6Address,
    max_ms: u16,
    src: Ipv6Address,
    hop_limit: u8,
    router_alert: bool,
) -> Vec<u8> {
    let mut message = [&[130, 0, 0, 0][..], &max_ms.to_be_bytes(), &[0, 0], &group.0].concat();
    if v2 {
        message.extend_from_slice(&[2, 125, 0, 0]);
    }
    let dst = if group.is_unspecified() { Ipv6Address::LINK_LOCAL_ALL_NODES } else { group };
    let message = with_checksum(src, dst, message);
    let packet = if router_alert {
        let payload = [&HBH_ROUTER_ALERT[..], &message].concat();
        ipv6_packet(src, dst, IpProtocol::HopByHop, hop_limit, &payload)
    } else {
        ipv6_packet(src, dst, IpProtocol::Icmpv6, hop_limit, &message)
    };
    frame6(dst.multicast_mac(), MAC_P, &packet)
}

const TO_EXCLUDE: u8 = 4;
const TO_INCLUDE: u8 = 3;
const IS_EXCLUDE: u8 = 2;

#[test]
fn mld_joins_from_the_unspecified_address_while_tentative_then_leaves() {
    let config = Ipv6Config { router_solicitations: false, seed: 3, ..Ipv6Config::new() };
    let mut a = v6_interface(MAC_A, config);
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let group = LL_A.solicited_node();
    // The join goes out first, before the DAD probe, from :: (the address
    // is tentative), to ff02::16 with a change-to-exclude record.
    a.poll(secs(0), &mut dev, &mut sockets);
    assert_eq!(dev.take_tx(), [v2_report_frame(Ipv6Address::UNSPECIFIED, TO_EXCLUDE, group)]);
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(0), secs(5));
    let reports: Vec<_> = sent.iter().filter(|(_, f)| f[12..14] == [0x86, 0xdd] && f[20] == 0).collect();
    // Robustness 2: one repeat within the unsolicited report interval.
    assert_eq!(reports.len(), 1, "{sent:?}");
    assert!(reports[0].0 < secs(1));
    let src = if reports[0].0 < sent.iter().find(|(_, f)| f[20] == 58).unwrap().0 + net::time::Duration::from_secs(1) {
        // Sent before DAD ended (the probe's retransmit timer is 1 s).
        Ipv6Address::UNSPECIFIED
    } else {
        LL_A
    };
    assert_eq!(reports[0].1, v2_report_frame(src, TO_EXCLUDE, group));
    assert!(a.has_ipv6_address(LL_A));
    assert_eq!(a.stats().mld.reports_sent, 2);
    // A second address with the same interface identifier shares the
    // group: nothing new. One with another identifier joins its own,
    // now from the link-local address.
    let other: Ipv6Address = "2001:db8:1::77".parse().unwrap();
    a.add_ipv6_address(secs(10), net::wire::Ipv6Cidr::new(other, 64).unwrap()).unwrap();
    a.poll(secs(10), &mut dev, &mut sockets);
    assert_eq!(dev.take_tx()[0], v2_report_frame(LL_A, TO_EXCLUDE, other.solicited_node()));
    run_until(&mut a, &mut dev, &mut sockets, secs(10), secs(15));
    // Removing it leaves the group, twice.
    assert!(a.remove_ipv6_address(other));
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(20), secs(25));
    let frames: Vec<_> = sent.iter().map(|(_, f)| f.clone()).collect();
    let leave = v2_report_frame(LL_A, TO_INCLUDE, other.solicited_node());
    assert_eq!(frames, [leave.clone(), leave]);
    assert!(sent[1].0 - sent[0].0 < net::time::Duration::from_secs(1));
    assert_eq!(a.stats().mld.leaves_sent, 2);
    assert_eq!(a.poll_at(secs(25), &sockets), None);
}

/// A with its link-local address in use and its join reports sent.
fn joined_interface() -> (Interface<'static>, TestDevice, SocketSet<'static>) {
    let config = Ipv6Config { dad_transmits: 0, router_solicitations: false, seed: 5, ..Ipv6Config::new() };
    let mut a = v6_interface(MAC_A, config);
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(0), secs(5));
    let join = v2_report_frame(LL_A, TO_EXCLUDE, LL_A.solicited_node());
    assert_eq!(sent.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(), [join.clone(), join]);
    (a, dev, sockets)
}

#[test]
fn mld_answers_a_general_query_within_its_max_response_delay() {
    let (mut a, mut dev, mut sockets) = joined_interface();
    dev.rx.push_back(query_frame(true, Ipv6Address::UNSPECIFIED, 2000, LL_P, 1, true));
    a.poll(secs(10), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty(), "answered after a random delay");
    let due = a.poll_at(secs(10), &sockets).unwrap();
    assert!(due > secs(10) && due < millis(12_000), "{due:?}");
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(10), secs(20));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, due);
    assert_eq!(sent[0].1, v2_report_frame(LL_A, IS_EXCLUDE, LL_A.solicited_node()));
    assert_eq!(a.stats().mld.queries_received, 1);
    assert_eq!(a.stats().mld.reports_sent, 3);
}

#[test]
fn mld_answers_a_group_specific_mldv1_query_with_an_mldv1_report() {
    let (mut a, mut dev, mut sockets) = joined_interface();
    let group = LL_A.solicited_node();
    dev.rx.push_back(query_frame(false, group, 500, LL_P, 1, true));
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(10), secs(20));
    assert_eq!(sent.len(), 1);
    assert!(sent[0].0 < millis(10_500));
    // MLDv1 report (RFC 2710 3): to the group itself.
    let message = [&[131, 0, 0, 0, 0, 0, 0, 0][..], &group.0].concat();
    assert_eq!(sent[0].1, mld_frame_from_a(LL_A, group, message));
    // With an MLDv1 querier about, state changes are MLDv1 too (RFC 3810
    // 8.2.1): a join is an MLDv1 report to the group, twice; a leave an
    // MLDv1 done to all-routers, twice.
    let other_address: Ipv6Address = "2001:db8:1::77".parse().unwrap();
    let other_group = other_address.solicited_node();
    a.add_ipv6_address(secs(11), net::wire::Ipv6Cidr::new(other_address, 64).unwrap()).unwrap();
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(11), secs(15));
    let join = mld_frame_from_a(LL_A, other_group, [&[131, 0, 0, 0, 0, 0, 0, 0][..], &other_group.0].concat());
    assert_eq!(sent.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(), [join.clone(), join]);
    assert!(a.remove_ipv6_address(other_address));
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(16), secs(20));
    let routers = Ipv6Address::LINK_LOCAL_ALL_ROUTERS;
    let done = mld_frame_from_a(LL_A, routers, [&[132, 0, 0, 0, 0, 0, 0, 0][..], &other_group.0].concat());
    assert_eq!(sent.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(), [done.clone(), done]);
    assert_eq!(a.stats().mld.leaves_sent, 2);
    // Another group's query is not for us.
    let other = Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0x77);
    dev.rx.push_back(query_frame(true, other, 500, LL_P, 1, true));
    assert!(run_until(&mut a, &mut dev, &mut sockets, secs(30), secs(40)).is_empty());
    assert_eq!(a.stats().mld.queries_received, 1);
}

#[test]
fn mld_drops_queries_that_fail_its_checks() {
    let (mut a, mut dev, mut sockets) = joined_interface();
    let any = Ipv6Address::UNSPECIFIED;
    let global_querier: Ipv6Address = "2001:db8:1::9".parse().unwrap();
    let mut bad_length = query_frame(true, any, 1000, LL_P, 1, true);
    bad_length.truncate(bad_length.len() - 1); // 27 bytes: neither format
    let len = bad_length.len() - 14 - 40;
    bad_length[18..20].copy_from_slice(&(len as u16).to_be_bytes());
    // A general query sent to our solicited-node group instead of ff02::1.
    let group = LL_A.solicited_node();
    let message = with_checksum(LL_P, group, [&[130, 0, 0, 0, 3, 0xe8, 0, 0][..], &[0; 16], &[2, 125, 0, 0]].concat());
    let payload = [&HBH_ROUTER_ALERT[..], &message].concat();
    let general_to_group =
        frame6(group.multicast_mac(), MAC_P, &ipv6_packet(LL_P, group, IpProtocol::HopByHop, 1, &payload));
    let mut bad_checksum = query_frame(true, any, 1000, LL_P, 1, true);
    let last = bad_checksum.len() - 1;
    bad_checksum[last] ^= 1;
    for frame in [
        query_frame(true, any, 1000, LL_P, 255, true),         // hop limit not 1
        query_frame(true, any, 1000, LL_P, 1, false),          // no router alert
        query_frame(true, any, 1000, global_querier, 1, true), // not link-local
        query_frame(false, LL_A.solicited_node(), 1000, LL_P, 2, true),
        general_to_group,
        bad_length,
        bad_checksum,
    ] {
        dev.rx.push_back(frame);
    }
    let sent = run_until(&mut a, &mut dev, &mut sockets, secs(10), secs(20));
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(a.stats().mld.queries_malformed, 7);
    assert_eq!(a.stats().mld.queries_received, 0);
}

#[test]
fn no_mld_once_ipv6_is_disabled() {
    let mut a = v6_interface(MAC_A, Ipv6Config { router_solicitations: false, seed: 3, ..Ipv6Config::new() });
    let (mut dev, mut sockets) = (TestDevice::new(), socket_set());
    a.poll(secs(0), &mut dev, &mut sockets);
    assert_eq!(dev.take_tx().len(), 1, "the join");
    let na = icmpv6::Repr::Ndp(ndp::Repr::NeighborAdvert {
        router: false,
        solicited: false,
        override_: true,
        target_addr: LL_A,
        target_lladdr: Some(MAC_P),
    });
    let all = Ipv6Address::LINK_LOCAL_ALL_NODES;
    dev.rx.push_back(icmpv6_frame(all.multicast_mac(), MAC_P, LL_A, all, 255, &na));
    let sent = run_until(&mut a, &mut dev, &mut sockets, millis(1), secs(10));
    assert!(sent.is_empty(), "no leave, no repeat: IPv6 is off: {sent:?}");
    assert_eq!(a.poll_at(secs(10), &sockets), None);
    dev.rx.push_back(query_frame(true, Ipv6Address::UNSPECIFIED, 1000, LL_P, 1, true));
    assert!(run_until(&mut a, &mut dev, &mut sockets, secs(11), secs(20)).is_empty());
    assert_eq!(a.stats().ipv6.disabled, 1);
}
