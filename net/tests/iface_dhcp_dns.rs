//! DHCP and DNS end to end through the interface, against a scripted
//! server on the other end of the link that also answers ARP.

mod common;

use common::*;
use net::iface::{Config, Interface};
use net::socket::dhcpv4::{DhcpClient, DhcpState};
use net::socket::dns::{DnsQuerySlot, DnsResolver, QueryKind};
use net::socket::{SocketHandle, SocketSet};
use net::time::Instant;
use net::wire::dhcpv4::{self, MessageType};
use net::wire::{arp, EthernetAddress, IpAddress, IpProtocol, Ipv4Address, Ipv4Cidr};

const SERVER_MAC: EthernetAddress = EthernetAddress([0x52, 0x55, 0x0a, 0, 2, 2]);
const SERVER: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
const DNS: Ipv4Address = Ipv4Address::new(10, 0, 2, 3);
const OFFERED: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
const ANSWER: Ipv4Address = Ipv4Address::new(93, 184, 216, 34);

/// How the scripted DHCP server behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dhcp {
    /// Offers, then acknowledges.
    Ack,
    /// Offers, then refuses the request.
    Nak,
    /// Silent.
    Off,
}

/// What the scripted network saw.
#[derive(Default, Debug)]
struct Seen {
    dhcp: Vec<(MessageType, Ipv4Address, Ipv4Address)>,
    dns_queries: Vec<(Ipv4Address, u16, Ipv4Address, u16)>,
    gratuitous: Vec<Ipv4Address>,
}

/// Answers every frame the interface sent: ARP for 10.0.2.x (all at the
/// server's MAC), DHCP as `dhcp` says, and DNS A queries.
fn serve(dev: &mut TestDevice, seen: &mut Seen, dhcp: Dhcp) {
    for frame in dev.take_tx() {
        if let Some(a) = parse_arp(&frame) {
            if a.source_protocol_addr == a.target_protocol_addr {
                seen.gratuitous.push(a.source_protocol_addr);
            } else if a.operation == arp::Operation::Request && a.target_protocol_addr != OFFERED {
                dev.rx.push_back(arp_reply_from(
                    SERVER_MAC,
                    a.target_protocol_addr,
                    a.source_hardware_addr,
                    a.source_protocol_addr,
                ));
            }
            continue;
        }
        let Some((ip, sport, dport, payload)) = parse_udp(&frame) else { continue };
        if dport == dhcpv4::SERVER_PORT && dhcp != Dhcp::Off {
            let packet = dhcpv4::Packet::new_checked(&payload[..]).unwrap();
            let request = dhcpv4::Repr::parse(&packet).unwrap();
            seen.dhcp.push((request.message_type, ip.src_addr, ip.dst_addr));
            assert_eq!(sport, dhcpv4::CLIENT_PORT);
            let kind = match request.message_type {
                MessageType::Discover => MessageType::Offer,
                MessageType::Request if dhcp == Dhcp::Nak => MessageType::Nak,
                MessageType::Request => MessageType::Ack,
                _ => continue,
            };
            let mut reply = dhcpv4::Repr::new(kind, request.transaction_id, request.client_hardware_address);
            reply.server_identifier = Some(SERVER);
            reply.your_ip = OFFERED;
            reply.subnet_mask = Some(Ipv4Address::new(255, 255, 255, 0));
            reply.router = Some(SERVER);
            reply.dns_servers = Some([Some(DNS), None, None]);
            reply.lease_duration = Some(3600);
            let mut buf = vec![0u8; reply.buffer_len()];
            reply.emit(&mut dhcpv4::Packet::new_unchecked(&mut buf[..])).unwrap();
            dev.rx.push_back(udp_frame(
                SERVER,
                Ipv4Address::BROADCAST,
                67,
                68,
                &buf,
                EthernetAddress::BROADCAST,
                SERVER_MAC,
            ));
        } else if dport == 53 {
            seen.dns_queries.push((ip.src_addr, sport, ip.dst_addr, dport));
            // Echo the question back with one A record pointing at it.
            let mut m = payload.clone();
            m[2..4].copy_from_slice(&[0x81, 0x80]);
            m[6..8].copy_from_slice(&[0, 1]);
            m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
            m.extend_from_slice(ANSWER.as_bytes());
            dev.rx.push_back(udp_frame(ip.dst_addr, ip.src_addr, 53, sport, &m, MAC_A, SERVER_MAC));
        }
    }
}

struct Setup {
    iface: Interface<'static>,
    dev: TestDevice,
    sockets: SocketSet<'static>,
    dhcp: SocketHandle,
    dns: SocketHandle,
    seen: Seen,
}

fn run(s: &mut Setup, now: Instant, dhcp: Dhcp) {
    for _ in 0..10 {
        s.iface.poll(now, &mut s.dev, &mut s.sockets);
        serve(&mut s.dev, &mut s.seen, dhcp);
        if s.dev.rx.is_empty() {
            break;
        }
    }
}

fn setup() -> Setup {
    let iface = interface_with(Config { seed: 0x1234_5678, ..Config::new(MAC_A) }, "", 8, 16384);
    let mut sockets = socket_set();
    let dhcp = sockets.add(DhcpClient::new(MAC_A, 42));
    let slots: &'static mut [DnsQuerySlot] = vec![DnsQuerySlot::EMPTY; 2].leak();
    let dns = sockets.add(DnsResolver::new(slots, 7));
    Setup { iface, dev: TestDevice::new(), sockets, dhcp, dns, seen: Seen::default() }
}

#[test]
fn dhcp_configures_the_interface_and_dns_resolves_through_it() {
    let mut s = setup();
    assert_eq!(s.iface.poll_at(secs(0), &s.sockets), Some(secs(0)), "DHCP wants to start");
    run(&mut s, secs(0), Dhcp::Ack);

    let any = Ipv4Address::UNSPECIFIED;
    assert_eq!(
        s.seen.dhcp,
        [(MessageType::Discover, any, Ipv4Address::BROADCAST), (MessageType::Request, any, Ipv4Address::BROADCAST)]
    );
    assert_eq!(s.sockets.get::<DhcpClient>(s.dhcp).state(), DhcpState::Bound);
    let addrs: Vec<_> = s.iface.addresses().collect();
    assert_eq!(addrs, [Ipv4Cidr::new(OFFERED, 24).unwrap()]);
    assert_eq!(s.iface.default_gateway(), Some(SERVER));
    assert_eq!(s.iface.dns_servers().collect::<Vec<_>>(), [DNS]);
    assert_eq!(s.seen.gratuitous, [OFFERED], "the new address is announced");
    assert_eq!(s.sockets.get::<DnsResolver>(s.dns).servers().collect::<Vec<_>>(), [IpAddress::V4(DNS)]);
    // A resolver added later gets them too.
    let late = s.sockets.add(DnsResolver::new(vec![DnsQuerySlot::EMPTY; 1].leak(), 9));
    s.iface.poll(secs(0), &mut s.dev, &mut s.sockets);
    assert_eq!(s.sockets.get::<DnsResolver>(late).servers().count(), 1);
    s.sockets.remove(late);

    // DNS through the interface, from its resolver port, to the server DHCP gave.
    let h = s.sockets.get_mut::<DnsResolver>(s.dns).start_query("example.com", QueryKind::A, secs(1)).unwrap();
    assert_eq!(s.iface.poll_at(secs(1), &s.sockets), Some(secs(1)));
    run(&mut s, secs(1), Dhcp::Ack);
    assert_eq!(s.seen.dns_queries, [(OFFERED, s.iface.dns_port(), DNS, 53)]);
    let addrs = s.sockets.get_mut::<DnsResolver>(s.dns).query_result(h).unwrap().unwrap();
    assert_eq!(addrs.as_slice(), [IpAddress::V4(ANSWER)]);

    // Renewal at T1 (half the lease) goes unicast to the server.
    run(&mut s, secs(1802), Dhcp::Ack);
    let last = *s.seen.dhcp.last().unwrap();
    assert_eq!(last, (MessageType::Request, OFFERED, SERVER));
    assert_eq!(s.sockets.get::<DhcpClient>(s.dhcp).state(), DhcpState::Bound);
}

#[test]
fn lease_expiry_withdraws_address_gateway_and_servers() {
    let mut s = setup();
    run(&mut s, secs(0), Dhcp::Ack);
    assert_eq!(s.iface.ipv4_address(), Some(OFFERED));
    // The server goes away: renewing and rebinding fail until the lease ends.
    let mut t = 0;
    while t < 3700 {
        t += 30;
        run(&mut s, secs(t), Dhcp::Off);
    }
    assert_eq!(s.iface.ipv4_address(), None);
    assert_eq!(s.iface.default_gateway(), None);
    assert_eq!(s.iface.dns_servers().count(), 0);
    assert_eq!(s.sockets.get::<DnsResolver>(s.dns).servers().count(), 0);
    assert_eq!(s.sockets.get::<DhcpClient>(s.dhcp).state(), DhcpState::Discovering);
}

#[test]
fn an_unconfigured_interface_takes_a_unicast_offer() {
    // Some servers unicast the OFFER to the offered address at our MAC.
    let mut s = setup();
    s.iface.poll(secs(0), &mut s.dev, &mut s.sockets);
    let frames = s.dev.take_tx();
    let (_, _, _, payload) = parse_udp(&frames[0]).unwrap();
    let discover = dhcpv4::Repr::parse(&dhcpv4::Packet::new_checked(&payload[..]).unwrap()).unwrap();
    let mut offer = dhcpv4::Repr::new(MessageType::Offer, discover.transaction_id, MAC_A);
    offer.server_identifier = Some(SERVER);
    offer.your_ip = OFFERED;
    offer.subnet_mask = Some(Ipv4Address::new(255, 255, 255, 0));
    offer.lease_duration = Some(3600);
    let mut buf = vec![0u8; offer.buffer_len()];
    offer.emit(&mut dhcpv4::Packet::new_unchecked(&mut buf[..])).unwrap();
    s.dev.rx.push_back(udp_frame(SERVER, OFFERED, 67, 68, &buf, MAC_A, SERVER_MAC));
    s.iface.poll(secs(1), &mut s.dev, &mut s.sockets);
    assert_eq!(s.sockets.get::<DhcpClient>(s.dhcp).state(), DhcpState::Requesting);
    // Other traffic to that address is still not ours.
    let ping = Ip::new(SERVER, OFFERED, IpProtocol::Icmp).frame(MAC_A, SERVER_MAC, &icmp_echo(true, 1, 1, b""));
    s.dev.rx.push_back(ping);
    s.iface.poll(secs(1), &mut s.dev, &mut s.sockets);
    assert_eq!(s.iface.stats().ipv4.not_for_us, 1);
}

#[test]
fn a_nak_leaves_the_interface_unconfigured() {
    let mut s = setup();
    run(&mut s, secs(0), Dhcp::Nak);
    let kinds: Vec<_> = s.seen.dhcp.iter().map(|d| d.0).take(3).collect();
    assert_eq!(kinds, [MessageType::Discover, MessageType::Request, MessageType::Discover], "NAK: start over");
    assert_eq!(s.iface.ipv4_address(), None);
    assert!(s.seen.gratuitous.is_empty());
    // It starts over and succeeds once the server agrees.
    let mut t = 0;
    while s.iface.ipv4_address().is_none() && t < 120 {
        t += 1;
        run(&mut s, secs(t), Dhcp::Ack);
    }
    assert_eq!(s.iface.ipv4_address(), Some(OFFERED));
}
