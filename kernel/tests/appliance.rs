//! The appliance against a second `net` stack (the "client") over an
//! in-memory Ethernet link, in simulated time: ping (small and fragmented),
//! UDP echo of every size up to 1472 bytes, TCP echo (1 MiB, many clients),
//! HTTP (pages, errors, keep-alive, /stats as JSON, 503 at the limit), the
//! DHCP fallback address.
use kernel::appliance::{Appliance, NicReport, Settings, Storage, DHCP_FALLBACK_AFTER, HTTP_CONNECTIONS};
use kernel::bootargs::{Address6Mode, AddressMode};
use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
use net::phy::{Device, DeviceCapabilities, Link, TxToken};
use net::socket::icmp::{IcmpPacketMetadata, IcmpSocket};
use net::socket::tcp::{State, TcpConfig, TcpSocket};
use net::socket::udp::{UdpPacketMetadata, UdpSocket};
use net::socket::{SocketHandle, SocketSet, SocketStorage};
use net::storage::{PacketBuffer, RingBuffer};
use net::time::{Duration, Instant};
use net::wire::{EthernetAddress, IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr, Ipv6Address};

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
    let mut sockets = SocketSet::new(Vec::from_iter((0..128).map(|_| SocketStorage::EMPTY)).leak());
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
        address6: Address6Mode::Slaac,
        gateway6: None,
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
        appliance.poll(*now, &mut a, NicReport::default());
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

fn ping(
    now: &mut Instant,
    link: &Link<Vec<u8>>,
    appliance: &mut Appliance,
    client: &mut Client,
    seq: u16,
    size: usize,
) -> bool {
    ping_to(APPLIANCE_IP.into(), now, link, appliance, client, seq, size)
}

fn ping_to(
    dst: IpAddress,
    now: &mut Instant,
    link: &Link<Vec<u8>>,
    appliance: &mut Appliance,
    client: &mut Client,
    seq: u16,
    size: usize,
) -> bool {
    let data: Vec<u8> = (0..size).map(|i| (i * 7 + seq as usize) as u8).collect();
    client.sockets.get_mut::<IcmpSocket>(client.icmp).send_echo(dst, seq, &data).unwrap();
    run(now, Duration::from_millis(50), link, appliance, client);
    let mut buf = vec![0u8; 65536];
    match client.sockets.get_mut::<IcmpSocket>(client.icmp).recv_echo_reply(&mut buf) {
        Ok(reply) => reply.src == dst && reply.seq_no == seq && buf[..reply.len] == data[..],
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
    // A static appliance with nothing to do has no deadline once IPv6 has
    // done DAD and its router solicitations (unanswered): it sleeps until
    // a frame.
    let first = appliance.poll(now, &mut a, NicReport::default());
    assert!(first.is_none() || first > Some(now), "deadline {first:?} is not in the past");
    let mut next = first;
    let mut polls = 0;
    while let Some(t) = next {
        assert!(t < now + Duration::from_secs(15), "IPv6 start-up is over in 1 + 1 + 3 * 4 s");
        next = appliance.poll(t, &mut a, NicReport::default());
        polls += 1;
        assert!(polls < 100);
    }
    let idle = appliance.poll(now + Duration::from_secs(20), &mut a, NicReport::default());
    assert_eq!(idle, None);
    assert!(appliance.interface().stats().ndp.router_solicitations_sent == 3);
    let (now, link, mut appliance, _client) = setup(AddressMode::Dhcp);
    let (mut a, _b) = link.ends();
    let next = appliance.poll(now, &mut a, NicReport::default()).expect("DHCP has a retransmit deadline");
    assert!(next > now && next <= now + DHCP_FALLBACK_AFTER);
}

fn tcp_client(client: &mut Client, now: Instant, port: u16, remote_port: u16) -> SocketHandle {
    tcp_client_to(client, now, (CLIENT_IP.into(), APPLIANCE_IP.into()), port, remote_port)
}

/// A TCP client from `addrs.0` to the appliance at `addrs.1`.
fn tcp_client_to(
    client: &mut Client,
    now: Instant,
    addrs: (IpAddress, IpAddress),
    port: u16,
    remote_port: u16,
) -> SocketHandle {
    let mut socket = TcpSocket::new(
        RingBuffer::new(leak(0u8, 65536)),
        RingBuffer::new(leak(0u8, 65536)),
        TcpConfig { isn_secret: [7; 16], ..TcpConfig::default() },
    );
    socket.connect(IpEndpoint::new(addrs.0, port), IpEndpoint::new(addrs.1, remote_port), now).unwrap();
    client.sockets.add(socket)
}

/// Runs until `done` holds or `limit` of simulated time passes.
fn run_until(
    now: &mut Instant,
    limit: Duration,
    link: &Link<Vec<u8>>,
    appliance: &mut Appliance,
    client: &mut Client,
    mut done: impl FnMut(&mut Client) -> bool,
) -> bool {
    let end = *now + limit;
    while *now < end {
        run(now, Duration::from_millis(1), link, appliance, client);
        if done(client) {
            return true;
        }
    }
    false
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn tcp_echo_returns_a_mebibyte_byte_for_byte() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let h = tcp_client(&mut client, now, 41000, 7);
    let data = pattern(1 << 20, 42);
    let (mut sent, mut back) = (0, Vec::new());
    let ok = run_until(&mut now, Duration::from_secs(60), &link, &mut appliance, &mut client, |c| {
        let s = c.sockets.get_mut::<TcpSocket>(h);
        if s.may_send() && sent < data.len() {
            sent += s.send_slice(&data[sent..]).unwrap_or(0);
        }
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.recv_slice(&mut buf) {
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        back.len() == data.len()
    });
    assert!(ok, "echoed {} of {} bytes", back.len(), data.len());
    assert!(back == data, "echoed bytes differ");
    client.sockets.get_mut::<TcpSocket>(h).close();
    let closed = run_until(&mut now, Duration::from_secs(5), &link, &mut appliance, &mut client, |c| {
        matches!(c.sockets.get_mut::<TcpSocket>(h).state(), State::TimeWait | State::Closed)
    });
    assert!(closed, "echo closes after the client does");
}

#[test]
fn tcp_echo_serves_32_clients_at_once() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let handles: Vec<_> = (0..32).map(|i| tcp_client(&mut client, now, 42000 + i, 7)).collect();
    let messages: Vec<Vec<u8>> = (0..32).map(|i| pattern(20_000 + i * 100, i as u64 + 1)).collect();
    let mut sent = vec![0usize; 32];
    let mut back: Vec<Vec<u8>> = vec![Vec::new(); 32];
    let ok = run_until(&mut now, Duration::from_secs(30), &link, &mut appliance, &mut client, |c| {
        for (i, h) in handles.iter().enumerate() {
            let s = c.sockets.get_mut::<TcpSocket>(*h);
            if s.may_send() && sent[i] < messages[i].len() {
                sent[i] += s.send_slice(&messages[i][sent[i]..]).unwrap_or(0);
            }
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.recv_slice(&mut buf) {
                if n == 0 {
                    break;
                }
                back[i].extend_from_slice(&buf[..n]);
            }
        }
        back.iter().zip(&messages).all(|(b, m)| b.len() == m.len())
    });
    assert!(ok, "not every client got its echo");
    assert!(back == messages, "some echo differs");
}

/// Sends `request` on a new connection and collects the reply until the
/// server closes or `expect_len` bytes arrived.
fn http_exchange(
    now: &mut Instant,
    link: &Link<Vec<u8>>,
    appliance: &mut Appliance,
    client: &mut Client,
    port: u16,
    request: &[u8],
) -> String {
    http_exchange_at((CLIENT_IP.into(), APPLIANCE_IP.into()), now, link, appliance, client, port, request)
}

fn http_exchange_at(
    addrs: (IpAddress, IpAddress),
    now: &mut Instant,
    link: &Link<Vec<u8>>,
    appliance: &mut Appliance,
    client: &mut Client,
    port: u16,
    request: &[u8],
) -> String {
    let h = tcp_client_to(client, *now, addrs, port, 80);
    let mut sent = 0;
    let mut reply = Vec::new();
    let mut opened = false;
    run_until(now, Duration::from_secs(5), link, appliance, client, |c| {
        let s = c.sockets.get_mut::<TcpSocket>(h);
        opened |= s.state() != State::SynSent;
        if s.may_send() && sent < request.len() {
            sent += s.send_slice(&request[sent..]).unwrap_or(0);
        }
        let mut buf = [0u8; 8192];
        while let Ok(n) = s.recv_slice(&mut buf) {
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
        }
        opened && !s.may_recv()
    });
    client.sockets.get_mut::<TcpSocket>(h).close();
    // Let the close finish, then give the slot back.
    run_until(now, Duration::from_secs(2), link, appliance, client, |c| {
        matches!(c.sockets.get_mut::<TcpSocket>(h).state(), State::Closed | State::TimeWait)
    });
    client.sockets.remove(h);
    String::from_utf8_lossy(&reply).into_owned()
}

fn header<'r>(response: &'r str, name: &str) -> Option<&'r str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

#[test]
fn http_serves_the_home_page_errors_and_stats() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let page = http_exchange(
        &mut now,
        &link,
        &mut appliance,
        &mut client,
        43000,
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page:.80}");
    let body = page.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(header(&page, "Content-Length").unwrap().parse::<usize>().unwrap(), body.len());
    assert!(body.contains("<html"));

    let missing = http_exchange(
        &mut now,
        &link,
        &mut appliance,
        &mut client,
        43001,
        b"GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(missing.starts_with("HTTP/1.1 404 "), "{missing:.80}");

    let head = http_exchange(
        &mut now,
        &link,
        &mut appliance,
        &mut client,
        43002,
        b"HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(head.split_once("\r\n\r\n").unwrap().1, "", "HEAD has no body");
    assert_eq!(header(&head, "Content-Length"), header(&page, "Content-Length"));

    let bad = http_exchange(&mut now, &link, &mut appliance, &mut client, 43003, b"GARBAGE\r\n\r\n");
    assert!(bad.starts_with("HTTP/1.1 400 "), "{bad:.80}");

    let stats = http_exchange(
        &mut now,
        &link,
        &mut appliance,
        &mut client,
        43004,
        b"GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    let json = stats.split_once("\r\n\r\n").unwrap().1;
    let value: serde_json::Value = serde_json::from_str(json).expect("/stats is JSON");
    assert!(
        value.get("uptime_seconds").is_some()
            || value.get("uptime_us").is_some()
            || value.as_object().is_some_and(|o| !o.is_empty())
    );

    let metrics = http_exchange(
        &mut now,
        &link,
        &mut appliance,
        &mut client,
        43005,
        b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(metrics.contains("appliance_ipv4_"), "{metrics:.300}");
    assert!(metrics.contains("appliance_services_http_connections_total"));
}

#[test]
fn http_keeps_a_connection_alive_for_100_requests() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let h = tcp_client(&mut client, now, 44000, 80);
    let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut responses = 0;
    let mut pending = Vec::new();
    let mut in_flight = false;
    let ok = run_until(&mut now, Duration::from_secs(30), &link, &mut appliance, &mut client, |c| {
        let s = c.sockets.get_mut::<TcpSocket>(h);
        if !in_flight && s.may_send() && responses < 100 {
            assert_eq!(s.send_slice(request).unwrap(), request.len());
            in_flight = true;
        }
        let mut buf = [0u8; 8192];
        while let Ok(n) = s.recv_slice(&mut buf) {
            if n == 0 {
                break;
            }
            pending.extend_from_slice(&buf[..n]);
        }
        // One whole response: head plus Content-Length bytes of body.
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let len: usize = header(&(head.clone() + "\r\n\r\n"), "Content-Length").unwrap().parse().unwrap();
            if pending.len() >= end + 4 + len {
                assert!(head.starts_with("HTTP/1.1 200"));
                pending.drain(..end + 4 + len);
                responses += 1;
                in_flight = false;
            }
        }
        responses == 100
    });
    assert!(ok, "{responses} responses over one connection");
}

#[test]
fn http_answers_503_past_the_connection_limit() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    // Open the limit's worth of idle keep-alive connections, then one more.
    let idle: Vec<_> = (0..HTTP_CONNECTIONS as u16).map(|i| tcp_client(&mut client, now, 45000 + i, 80)).collect();
    let all_open = run_until(&mut now, Duration::from_secs(2), &link, &mut appliance, &mut client, |c| {
        idle.iter().all(|h| c.sockets.get_mut::<TcpSocket>(*h).state() == State::Established)
    });
    let open = idle.iter().filter(|h| client.sockets.get_mut::<TcpSocket>(**h).state() == State::Established).count();
    assert!(all_open, "{open} of {HTTP_CONNECTIONS} connections established");
    run(&mut now, Duration::from_millis(10), &link, &mut appliance, &mut client);
    assert_eq!(appliance.http_active(), HTTP_CONNECTIONS, "the server serves every idle connection");
    let extra =
        http_exchange(&mut now, &link, &mut appliance, &mut client, 46000, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(extra.starts_with("HTTP/1.1 503 "), "{extra:.80}");
}

/// A device that keeps a copy of every frame the appliance sends.
struct Recorder<D> {
    inner: D,
    sent: Vec<Vec<u8>>,
}

struct RecordingTx<'r, T> {
    inner: T,
    sent: &'r mut Vec<Vec<u8>>,
}

impl<T: TxToken> TxToken for RecordingTx<'_, T> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let sent = self.sent;
        self.inner.consume(len, |buf| {
            let r = f(buf);
            sent.push(buf.to_vec());
            r
        })
    }
}

impl<D: Device> Device for Recorder<D> {
    type RxToken<'a>
        = D::RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = RecordingTx<'a, D::TxToken<'a>>
    where
        Self: 'a;
    fn receive(&mut self, now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let (rx, tx) = self.inner.receive(now)?;
        Some((rx, RecordingTx { inner: tx, sent: &mut self.sent }))
    }
    fn transmit(&mut self, now: Instant) -> Option<Self::TxToken<'_>> {
        Some(RecordingTx { inner: self.inner.transmit(now)?, sent: &mut self.sent })
    }
    fn capabilities(&self) -> DeviceCapabilities {
        self.inner.capabilities()
    }
}

/// (payload length, FIN) of each TCP segment the appliance sent from port 80.
fn http_segments(frames: &[Vec<u8>]) -> Vec<(usize, bool)> {
    use net::wire::{ethernet, ipv4, tcp};
    frames
        .iter()
        .filter_map(|f| {
            let eth = ethernet::Frame::new_checked(&f[..]).ok()?;
            let ip = ipv4::Packet::new_checked(eth.payload()).ok()?;
            let seg = tcp::Packet::new_checked(ip.payload()).ok()?;
            (seg.src_port() == 80).then(|| (seg.payload().len(), seg.flags().contains(tcp::TcpFlags::FIN)))
        })
        .collect()
}

#[test]
fn http_sends_the_fin_with_the_last_segment_of_a_closing_response() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let (a, mut b) = link.ends();
    let mut recorder = Recorder { inner: a, sent: Vec::new() };
    let h = tcp_client(&mut client, now, 47000, 80);
    let request = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let mut sent = false;
    let mut reply = Vec::new();
    let end = now + Duration::from_secs(5);
    while now < end {
        appliance.poll(now, &mut recorder, NicReport::default());
        client.iface.poll(now, &mut b, &mut client.sockets);
        let s = client.sockets.get_mut::<TcpSocket>(h);
        if s.may_send() && !sent {
            sent = s.send_slice(request).unwrap() == request.len();
        }
        let mut buf = [0u8; 8192];
        while let Ok(n @ 1..) = s.recv_slice(&mut buf) {
            reply.extend_from_slice(&buf[..n]);
        }
        if sent && !s.may_recv() {
            break;
        }
        now += Duration::from_millis(1);
    }
    assert!(reply.starts_with(b"HTTP/1.1 200 OK\r\n"));
    let segments = http_segments(&recorder.sent);
    let fins: Vec<_> = segments.iter().filter(|(_, fin)| *fin).collect();
    assert_eq!(fins.len(), 1, "one FIN: {segments:?}");
    assert!(fins[0].0 > 0, "the FIN rides on the response's last segment: {segments:?}");
    assert_eq!(segments.last(), Some(fins[0]), "nothing after the FIN: {segments:?}");
}

/// Many short HTTP connections back to back (for profiling the connection
/// path with callgrind: `cargo test --release --test appliance -- --ignored`).
#[test]
#[ignore]
fn http_many_short_connections() {
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    for i in 0..200u16 {
        let reply = http_exchange(
            &mut now,
            &link,
            &mut appliance,
            &mut client,
            50000 + i,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        );
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "connection {i}: {reply:.60}");
    }
}

// ---- IPv6 ----

/// fe80::5054:ff:fe12:3456: the appliance's EUI-64 link-local address.
const APPLIANCE_LL: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe12, 0x3456);
/// Its SLAAC address on the client's 2001:db8:1::/64.
const APPLIANCE_V6: Ipv6Address = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0x5054, 0xff, 0xfe12, 0x3456);
const CLIENT_V6: Ipv6Address = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
const CLIENT_LL: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);

/// A router advertisement from the client for 2001:db8:1::/64, written
/// straight onto the link (the client's stack is a host, not a router).
fn advertise_prefix(now: Instant, link: &Link<Vec<u8>>) {
    use net::phy::{Device, TxToken};
    use net::wire::ndp::{PrefixInformation, Prefixes};
    use net::wire::{ethernet, icmpv6, ipv6, ndp, IpProtocol};
    let prefixes = [PrefixInformation {
        prefix_len: 64,
        on_link: true,
        autonomous: true,
        valid_lifetime: 86400,
        preferred_lifetime: 14400,
        prefix: Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
    }];
    let ra = icmpv6::Repr::Ndp(ndp::Repr::RouterAdvert {
        cur_hop_limit: 64,
        managed: false,
        other: false,
        router_lifetime: 1800,
        reachable_time: 0,
        retrans_time: 0,
        src_lladdr: Some(CLIENT_MAC),
        mtu: None,
        prefixes: Prefixes::List(&prefixes),
    });
    let all = Ipv6Address::LINK_LOCAL_ALL_NODES;
    let ip = ipv6::Repr::new(CLIENT_LL, all, IpProtocol::Icmpv6, ra.buffer_len(), 255);
    let eth = ethernet::Repr {
        src_addr: CLIENT_MAC,
        dst_addr: all.multicast_mac(),
        ethertype: ethernet::EtherType::Ipv6,
        vlan: None,
    };
    let len = 14 + ip.buffer_len();
    let (_, mut b) = link.ends();
    b.transmit(now).expect("room on the link").consume(len, |buf| {
        eth.emit(&mut ethernet::Frame::new_unchecked(&mut buf[..]));
        ip.emit(&mut ipv6::Packet::new_unchecked(&mut buf[14..54]));
        ra.emit(&mut icmpv6::Packet::new_unchecked(&mut buf[54..]), &CLIENT_LL, &all, true);
    });
}

#[test]
fn serves_ping_echo_and_http_over_ipv6_link_local_and_slaac() {
    use net::iface::{AddressOrigin, AddressState, Ipv6Config, NdpSlot};
    let (mut now, link, mut appliance, mut client) = setup(static_address());
    let quiet = Ipv6Config { router_solicitations: false, ..Ipv6Config::new() };
    client.iface.enable_ipv6(quiet, leak(NdpSlot::EMPTY, 8), now);
    client.iface.add_ipv6_address(now, "2001:db8:1::2/64".parse().unwrap()).unwrap();
    run(&mut now, Duration::from_secs(3), &link, &mut appliance, &mut client);
    assert_eq!(appliance.ipv6_address(), Some(APPLIANCE_LL), "link-local after DAD");
    assert!(client.iface.has_ipv6_address(CLIENT_LL));
    assert!(ping_to(APPLIANCE_LL.into(), &mut now, &link, &mut appliance, &mut client, 1, 56), "ping link-local");

    // SLAAC from a router advertisement.
    advertise_prefix(now, &link);
    run(&mut now, Duration::from_secs(3), &link, &mut appliance, &mut client);
    assert_eq!(appliance.ipv6_address(), Some(APPLIANCE_V6));
    let slaac = appliance.interface().ipv6_addresses().find(|a| a.origin == AddressOrigin::Slaac).unwrap();
    assert_eq!(slaac.state, AddressState::Preferred);
    assert_eq!(appliance.interface().ipv6_default_router(now), Some(CLIENT_LL));
    for (seq, size) in [(2, 56), (3, 4000), (4, 65000)] {
        assert!(ping_to(APPLIANCE_V6.into(), &mut now, &link, &mut appliance, &mut client, seq, size), "ping {size}");
    }

    // UDP echo.
    let echo = IpEndpoint::new(APPLIANCE_V6.into(), 7);
    let mut buf = vec![0u8; 2048];
    for size in [1usize, 100, 1232, 1452] {
        let data: Vec<u8> = (0..size).map(|i| (i ^ size) as u8).collect();
        client.sockets.get_mut::<UdpSocket>(client.udp).send_slice(&data, echo).unwrap();
        run(&mut now, Duration::from_millis(5), &link, &mut appliance, &mut client);
        let (n, from) = client.sockets.get_mut::<UdpSocket>(client.udp).recv_slice(&mut buf).expect("echo");
        assert_eq!((from, &buf[..n]), (echo, &data[..]), "size {size}");
    }

    // TCP echo and HTTP, on the listeners that also serve IPv4.
    let h = tcp_client_to(&mut client, now, (CLIENT_V6.into(), APPLIANCE_V6.into()), 45000, 7);
    let data = pattern(100_000, 6);
    let (mut sent, mut got) = (0, Vec::new());
    assert!(run_until(&mut now, Duration::from_secs(10), &link, &mut appliance, &mut client, |c| {
        let s = c.sockets.get_mut::<TcpSocket>(h);
        if s.may_send() && sent < data.len() {
            sent += s.send_slice(&data[sent..]).unwrap_or(0);
        }
        let mut chunk = [0u8; 8192];
        while let Ok(n) = s.recv_slice(&mut chunk) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        got.len() == data.len()
    }));
    assert!(got == data, "TCP echo over IPv6 returns every byte");
    let addrs = (CLIENT_V6.into(), APPLIANCE_V6.into());
    let stats = http_exchange_at(
        addrs,
        &mut now,
        &link,
        &mut appliance,
        &mut client,
        45001,
        b"GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert!(stats.starts_with("HTTP/1.1 200 OK\r\n"), "{stats:.80}");
    let body = stats.split_once("\r\n\r\n").unwrap().1;
    assert!(
        body.contains(
            r#"{"address":"2001:db8:1:0:5054:ff:fe12:3456","prefix_len":64,"state":"preferred","origin":"slaac"}"#
        ),
        "{body}"
    );
    assert!(body.contains(r#""ipv6_router":"fe80::ff:fe00:2""#), "{body}");
    assert!(body.contains(r#"{"ip":"fe80::ff:fe00:2","mac":"02:00:00:00:00:02","#), "{body}");
    assert!(body.contains(r#""local":"[2001:db8:1:0:5054:ff:fe12:3456]:80""#), "the connection itself: {body}");
    let s = appliance.interface().stats();
    assert_eq!(s.ndp.dad_conflicts, 0);
    assert_eq!(s.ipv6.tx_fragmented, 2, "the 4000- and 65000-byte replies");
}

#[test]
fn a_static_ipv6_address_from_the_bootargs_is_used_after_dad() {
    use net::iface::{Ipv6Config, NdpSlot};
    let static6 = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x15);
    let mut now = Instant::from_secs(1);
    let link = Link::with_capacity(256, DeviceCapabilities::ethernet());
    let settings = Settings {
        address6: Address6Mode::Static("2001:db8:1::15/64".parse().unwrap()),
        gateway6: Some(CLIENT_LL),
        ..settings(static_address())
    };
    let mut appliance = Appliance::new(settings, Storage::allocate(), now);
    let mut client = client();
    let quiet = Ipv6Config { router_solicitations: false, ..Ipv6Config::new() };
    client.iface.enable_ipv6(quiet, leak(NdpSlot::EMPTY, 8), now);
    client.iface.add_ipv6_address(now, "2001:db8:1::2/64".parse().unwrap()).unwrap();
    assert_eq!(appliance.ipv6_address(), None, "tentative at first");
    run(&mut now, Duration::from_secs(3), &link, &mut appliance, &mut client);
    assert_eq!(appliance.ipv6_address(), Some(static6));
    assert_eq!(appliance.interface().ipv6_default_router(now), Some(CLIENT_LL));
    assert!(ping_to(static6.into(), &mut now, &link, &mut appliance, &mut client, 1, 1000));
    // SLAAC is off with a static address: an advertisement adds none.
    advertise_prefix(now, &link);
    run(&mut now, Duration::from_secs(3), &link, &mut appliance, &mut client);
    assert_eq!(appliance.interface().ipv6_addresses().count(), 2, "link-local and the static one");
}
