//! The appliance against a second `net` stack (the "client") over an
//! in-memory Ethernet link, in simulated time: ping (small and fragmented),
//! UDP echo of every size up to 1472 bytes, the DHCP fallback address.
use kernel::appliance::{Appliance, Settings, Storage, DHCP_FALLBACK_AFTER};
use kernel::bootargs::AddressMode;
use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
use net::phy::{DeviceCapabilities, Link};
use net::socket::icmp::{IcmpPacketMetadata, IcmpSocket};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketHandle, SocketSet, SocketStorage};
use net::storage::PacketBuffer;
use net::time::{Duration, Instant};
use net::wire::{EthernetAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};

const APPLIANCE_MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
const CLIENT_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
const APPLIANCE_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
const CLIENT_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);

fn leak<T: Clone>(value: T, n: usize) -> &'static mut [T] {
    vec![value; n].leak()
}

struct Client {
    iface: Interface<'static>,
    sockets: SocketSet<'static>,
    udp: SocketHandle,
    icmp: SocketHandle,
}

fn client() -> Client {
    let mut iface = Interface::new(
        Config::new(CLIENT_MAC),
        InterfaceStorage {
            neighbours: leak(NeighbourSlot::EMPTY, 8),
            pending_slots: leak(PendingSlot::EMPTY, 16),
            pending_bytes: leak(0u8, 65536),
            reassembly_slots: leak(ReassemblySlot::EMPTY, 2),
            reassembly_bytes: leak(0u8, 2 * 65536),
        },
    );
    iface.add_address(Ipv4Cidr::new(CLIENT_IP, 24).unwrap()).unwrap();
    let mut sockets = SocketSet::new(Vec::from_iter((0..4).map(|_| SocketStorage::EMPTY)).leak());
    let mut udp = UdpSocket::new(
        PacketBuffer::new(leak(UdpPacketMetadata::EMPTY, 16), leak(0u8, 65536)),
        PacketBuffer::new(leak(UdpPacketMetadata::EMPTY, 16), leak(0u8, 65536)),
    );
    udp.bind(40000).unwrap();
    let mut icmp = IcmpSocket::new(
        PacketBuffer::new(leak(IcmpPacketMetadata::EMPTY, 8), leak(0u8, 65536)),
        PacketBuffer::new(leak(IcmpPacketMetadata::EMPTY, 8), leak(0u8, 65536)),
    );
    icmp.bind(0x1234).unwrap();
    let udp = sockets.add(udp);
    let icmp = sockets.add(icmp);
    Client { iface, sockets, udp, icmp }
}

fn settings(address: AddressMode) -> Settings {
    Settings {
        mac: APPLIANCE_MAC,
        address,
        gateway: Some(CLIENT_IP),
        seed: 0x5eed,
        fallback: Ipv4Cidr::new(APPLIANCE_IP, 24).unwrap(),
        fallback_gateway: CLIENT_IP,
    }
}

fn static_address() -> AddressMode {
    AddressMode::Static(Ipv4Cidr::new(APPLIANCE_IP, 24).unwrap())
}

/// Runs both stacks for `span` of simulated time in 1 ms steps.
fn run(now: &mut Instant, span: Duration, link: &Link<Vec<u8>>, appliance: &mut Appliance, client: &mut Client) {
    let end = *now + span;
    let (mut a, mut b) = link.ends();
    while *now < end {
        appliance.poll(*now, &mut a);
        client.iface.poll(*now, &mut b, &mut client.sockets);
        *now += Duration::from_millis(1);
    }
}

fn setup(address: AddressMode) -> (Instant, Link<Vec<u8>>, Appliance<'static>, Client) {
    let now = Instant::from_secs(1);
    let link = Link::with_capacity(256, DeviceCapabilities::ethernet());
    let appliance = Appliance::new(settings(address), Storage::allocate(), now);
    (now, link, appliance, client())
}

fn ping(now: &mut Instant, link: &Link<Vec<u8>>, appliance: &mut Appliance, client: &mut Client, seq: u16, size: usize) -> bool {
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + seq as usize) as u8).collect();
    client.sockets.get_mut::<IcmpSocket>(client.icmp).send_echo(APPLIANCE_IP, seq, &data).unwrap();
    run(now, Duration::from_millis(50), link, appliance, client);
    let mut buf = vec![0u8; 65536];
    match client.sockets.get_mut::<IcmpSocket>(client.icmp).recv_echo_reply(&mut buf) {
        Ok(reply) => reply.src == APPLIANCE_IP && reply.seq_no == seq && buf[..reply.len] == data[..],
        Err(_) => false,
    }
}

#[test]
fn answers_pings_small_and_fragmented() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    for seq in 0..100 {
        assert!(ping(&mut now, &link, &mut appliance, &mut client, seq, 56), "ping {seq}");
    }
    assert!(ping(&mut now, &link, &mut appliance, &mut client, 100, 4000), "4000-byte ping");
    assert!(ping(&mut now, &link, &mut appliance, &mut client, 101, 65000), "65000-byte ping");
    let stats = appliance.interface().stats();
    assert_eq!(stats.icmp.echo_replied, 102);
}

#[test]
fn echoes_udp_datagrams_of_every_size() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let echo = IpEndpoint::new(APPLIANCE_IP.into(), 7);
    let mut buf = vec![0u8; 2048];
    for size in 1..=1472usize {
        let data: Vec<u8> = (0..size).map(|i| (i ^ size) as u8).collect();
        client.sockets.get_mut::<UdpSocket>(client.udp).send_slice(&data, echo).unwrap();
        run(&mut now, Duration::from_millis(3), &link, &mut appliance, &mut client);
        let (n, from) = client.sockets.get_mut::<UdpSocket>(client.udp).recv_slice(&mut buf).expect("echo");
        assert_eq!((from, &buf[..n]), (echo, &data[..]), "size {size}");
    }
    assert_eq!(appliance.counters().udp_echo_replies, 1472);
}

#[test]
fn refuses_to_echo_to_port_zero_or_other_echo_ports() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let sockets = &mut client.sockets;
    let mut bad = UdpSocket::new(
        PacketBuffer::new(leak(UdpPacketMetadata::EMPTY, 4), leak(0u8, 4096)),
        PacketBuffer::new(leak(UdpPacketMetadata::EMPTY, 4), leak(0u8, 4096)),
    );
    bad.bind(19).unwrap(); // chargen: echoing to it could loop forever
    let bad = sockets.add(bad);
    sockets.get_mut::<UdpSocket>(bad).send_slice(b"loop?", IpEndpoint::new(APPLIANCE_IP.into(), 7)).unwrap();
    run(&mut now, Duration::from_millis(20), &link, &mut appliance, &mut client);
    assert!(client.sockets.get_mut::<UdpSocket>(bad).recv().is_err());
    assert_eq!(appliance.counters().udp_echo_refused, 1);
}

#[test]
fn falls_back_to_the_static_address_without_dhcp() {
    let (mut now, link, mut appliance, mut client) = setup(AddressMode::Dhcp);
    run(&mut now, DHCP_FALLBACK_AFTER - Duration::from_millis(100), &link, &mut appliance, &mut client);
    assert_eq!(appliance.address(), None, "no address before the fallback deadline");
    run(&mut now, Duration::from_millis(200), &link, &mut appliance, &mut client);
    assert_eq!(appliance.address(), Some(Ipv4Cidr::new(APPLIANCE_IP, 24).unwrap()));
    assert!(ping(&mut now, &link, &mut appliance, &mut client, 1, 56));
}

#[test]
fn poll_reports_the_next_deadline_and_nothing_when_idle() {
    let (now, link, mut appliance, _client) = setup(static_address());
    let (mut a, _b) = link.ends();
    // A static appliance with nothing to do has no deadline: it sleeps until a frame.
    let first = appliance.poll(now, &mut a);
    let idle = appliance.poll(now + Duration::from_secs(1), &mut a);
    assert!(first.is_none() || first > Some(now), "deadline {first:?} is not in the past");
    assert_eq!(idle, None);
    let (now, link, mut appliance, _client) = setup(AddressMode::Dhcp);
    let (mut a, _b) = link.ends();
    let next = appliance.poll(now, &mut a).expect("DHCP has a retransmit deadline");
    assert!(next > now && next <= now + DHCP_FALLBACK_AFTER);
}
