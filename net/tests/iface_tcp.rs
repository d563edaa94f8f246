//! TCP through the interface: two interfaces on an in-memory link (the
//! test device of `common`) carry handshakes, data both ways and closes;
//! an interface answers segments for closed ports with the exact RST of
//! RFC 9293; one listener with a backlog serves many clients.

mod common;
mod tcp_common;

use common::*;
use net::iface::{Config, Interface};
use net::socket::tcp::{ListenerConfig, RecvError, State, TcpConfig, TcpListener, TcpSocket};
use net::socket::SocketSet;
use net::time::{Duration, Instant};
use net::wire::tcp::{Repr as TcpRepr, SeqNumber, TcpControl};
use net::wire::{arp, IpAddress, IpEndpoint, IpProtocol};
use tcp_common::*;

/// Two interfaces joined by the test device, and simulated time.
struct Net {
    a: Interface<'static>,
    dev_a: TestDevice,
    sa: SocketSet<'static>,
    b: Interface<'static>,
    dev_b: TestDevice,
    sb: SocketSet<'static>,
    now: Instant,
    /// Every frame A sent, in order.
    from_a: Vec<Vec<u8>>,
}

impl Net {
    fn new(slots_a: usize, slots_b: usize) -> Net {
        Net {
            a: interface(MAC_A, "10.0.0.1/24"),
            dev_a: TestDevice::new(),
            sa: socket_set_of(slots_a),
            b: interface(MAC_B, "10.0.0.2/24"),
            dev_b: TestDevice::new(),
            sb: socket_set_of(slots_b),
            now: Instant::from_secs(1),
            from_a: Vec::new(),
        }
    }

    /// Polls both sides once and carries their frames across; whether
    /// any frame moved.
    fn step(&mut self) -> bool {
        self.a.poll(self.now, &mut self.dev_a, &mut self.sa);
        let from_a = self.dev_a.take_tx();
        self.from_a.extend(from_a.iter().cloned());
        self.b.poll(self.now, &mut self.dev_b, &mut self.sb);
        let from_b = self.dev_b.take_tx();
        let moved = !from_a.is_empty() || !from_b.is_empty();
        self.dev_b.rx.extend(from_a);
        self.dev_a.rx.extend(from_b);
        moved
    }

    /// Runs the applications and the link until `app` says it is done,
    /// jumping to the next deadline when the link is quiet. Panics after
    /// `limit` of simulated time.
    fn run(
        &mut self,
        limit: Duration,
        mut app: impl FnMut(Instant, &mut SocketSet<'static>, &mut SocketSet<'static>) -> bool,
    ) {
        let end = self.now + limit;
        loop {
            if app(self.now, &mut self.sa, &mut self.sb) {
                return;
            }
            if self.step() || !self.dev_a.rx.is_empty() || !self.dev_b.rx.is_empty() {
                continue;
            }
            let next =
                [self.a.poll_at(self.now, &self.sa), self.b.poll_at(self.now, &self.sb)].into_iter().flatten().min();
            self.now = match next {
                Some(t) if t > self.now => t,
                _ => self.now + Duration::from_millis(1),
            };
            assert!(self.now < end, "not done after {limit:?}");
        }
    }
}

fn config() -> TcpConfig {
    TcpConfig { isn_secret: [7; 16], msl: Duration::from_millis(500), ..TcpConfig::default() }
}

fn ep(addr: net::wire::Ipv4Address, port: u16) -> IpEndpoint {
    IpEndpoint::new(IpAddress::V4(addr), port)
}

#[test]
fn handshake_data_both_ways_and_close() {
    let mut net = Net::new(4, 4);
    let client = net.sa.add(tcp_socket(65536, 65536, config()));
    let server = net.sb.add(tcp_socket(65536, 65536, config()));
    net.sb.get_mut::<TcpSocket>(server).listen(80).unwrap();
    let now = net.now;
    net.sa.get_mut::<TcpSocket>(client).connect(ep(IP_A, 49152), ep(IP_B, 80), now).unwrap();
    net.run(Duration::from_secs(5), |_, sa, sb| {
        sa.get::<TcpSocket>(client).state() == State::Established
            && sb.get::<TcpSocket>(server).state() == State::Established
    });

    // The SYN went out after ARP, with the MSS of a 1500-byte MTU.
    let syn = net
        .from_a
        .iter()
        .filter_map(|f| parse_ip(f))
        .find(|(_, ip, _)| ip.protocol == IpProtocol::Tcp)
        .map(|(_, ip, payload)| parse_tcp(ip.src_addr, ip.dst_addr, &payload).0)
        .expect("a SYN");
    assert_eq!(syn.control, TcpControl::Syn);
    assert_eq!((syn.src_port, syn.dst_port, syn.ack_number), (49152, 80, None));
    assert_eq!(syn.max_seg_size, Some(1460));
    assert!(syn.sack_permitted && syn.timestamp.is_some() && syn.window_scale == Some(1));

    let mut up = Transfer::new(1, 300_000);
    let mut down = Transfer::new(2, 150_000);
    net.run(Duration::from_secs(30), |_, sa, sb| {
        up.push(sa.get_mut::<TcpSocket>(client));
        down.push(sb.get_mut::<TcpSocket>(server));
        up.pull(sb.get_mut::<TcpSocket>(server));
        down.pull(sa.get_mut::<TcpSocket>(client));
        up.done() && down.done()
    });

    // The client closes first, then the server: the client goes through
    // TIME-WAIT, the server through LAST-ACK.
    net.sa.get_mut::<TcpSocket>(client).close();
    net.run(Duration::from_secs(5), |_, _, sb| {
        let s = sb.get_mut::<TcpSocket>(server);
        let mut buf = [0u8; 16];
        matches!(s.recv_slice(&mut buf), Err(RecvError::Finished))
    });
    net.sb.get_mut::<TcpSocket>(server).close();
    let mut saw_time_wait = false;
    net.run(Duration::from_secs(5), |_, sa, sb| {
        let c = sa.get::<TcpSocket>(client).state();
        saw_time_wait |= c == State::TimeWait;
        c == State::Closed && sb.get::<TcpSocket>(server).state() == State::Closed
    });
    assert!(saw_time_wait, "the side that closed first waits 2*MSL");
    for iface in [&net.a, &net.b] {
        let tcp = iface.stats().tcp;
        assert_eq!((tcp.bad_checksum, tcp.no_socket, tcp.rst_sent, tcp.truncated, tcp.malformed), (0, 0, 0, 0, 0));
        assert!(tcp.rx_segments > 100 && tcp.tx_segments > 100);
        assert_eq!(iface.pending_packets(), 0);
    }
    assert_eq!(net.a.poll_at(net.now, &net.sa), None, "nothing left to do");
    assert_eq!(net.b.poll_at(net.now, &net.sb), None);
}

/// An interface alone on the test device, with the peer P already known
/// (learnt from its ARP request).
fn lone_interface() -> (Interface<'static>, TestDevice, SocketSet<'static>) {
    let mut iface = interface(MAC_B, "10.0.0.2/24");
    let mut dev = TestDevice::new();
    let mut sockets = socket_set_of(2);
    dev.rx.push_back(arp_frame(
        net::wire::EthernetAddress::BROADCAST,
        arp::Operation::Request,
        MAC_P,
        IP_P,
        net::wire::EthernetAddress([0; 6]),
        IP_B,
    ));
    iface.poll(secs(1), &mut dev, &mut sockets);
    dev.take_tx();
    (iface, dev, sockets)
}

fn segment_frame(repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    Ip::new(IP_P, IP_B, IpProtocol::Tcp).frame(MAC_B, MAC_P, &tcp_bytes(IP_P, IP_B, repr, payload))
}

/// The single TCP segment the interface sent, as IP payload bytes.
fn only_segment(dev: &mut TestDevice) -> Vec<u8> {
    let tx = dev.take_tx();
    assert_eq!(tx.len(), 1, "exactly one frame");
    let (eth, ip, payload) = parse_ip(&tx[0]).expect("IPv4");
    assert_eq!((eth.src_addr, eth.dst_addr), (MAC_B, MAC_P));
    assert_eq!((ip.src_addr, ip.dst_addr, ip.protocol), (IP_B, IP_P, IpProtocol::Tcp));
    payload
}

#[test]
fn closed_port_answers_with_the_exact_rst() {
    let (mut iface, mut dev, mut sockets) = lone_interface();
    // SYN to a port nobody listens on: RST/ACK, SEQ 0, ACK = SEG.SEQ + SEG.LEN.
    let syn = TcpRepr {
        src_port: 40000,
        dst_port: 81,
        control: TcpControl::Syn,
        seq_number: SeqNumber(1000),
        window_len: 4096,
        max_seg_size: Some(1460),
        ..TcpRepr::default()
    };
    dev.rx.push_back(segment_frame(&syn, &[]));
    iface.poll(secs(2), &mut dev, &mut sockets);
    let rst = TcpRepr {
        src_port: 81,
        dst_port: 40000,
        control: TcpControl::Rst,
        seq_number: SeqNumber(0),
        ack_number: Some(SeqNumber(1001)),
        ..TcpRepr::default()
    };
    assert_eq!(only_segment(&mut dev), tcp_bytes(IP_B, IP_P, &rst, &[]));

    // A segment with ACK and data: RST with SEQ = SEG.ACK and no ACK flag.
    let data = TcpRepr {
        src_port: 40001,
        dst_port: 81,
        seq_number: SeqNumber(5),
        ack_number: Some(SeqNumber(777)),
        window_len: 100,
        ..TcpRepr::default()
    };
    dev.rx.push_back(segment_frame(&data, &[0x55; 10]));
    iface.poll(secs(2), &mut dev, &mut sockets);
    let rst = TcpRepr {
        src_port: 81,
        dst_port: 40001,
        control: TcpControl::Rst,
        seq_number: SeqNumber(777),
        ..TcpRepr::default()
    };
    assert_eq!(only_segment(&mut dev), tcp_bytes(IP_B, IP_P, &rst, &[]));

    // A FIN without ACK counts its FIN: ACK = SEG.SEQ + len + 1.
    let fin = TcpRepr { control: TcpControl::Fin, ack_number: None, ..data };
    dev.rx.push_back(segment_frame(&fin, &[1, 2, 3]));
    iface.poll(secs(2), &mut dev, &mut sockets);
    let rst = TcpRepr { seq_number: SeqNumber(0), ack_number: Some(SeqNumber(9)), ..rst };
    assert_eq!(only_segment(&mut dev), tcp_bytes(IP_B, IP_P, &rst, &[]));

    // Never an RST for an RST.
    let reset = TcpRepr { control: TcpControl::Rst, ..data };
    dev.rx.push_back(segment_frame(&reset, &[]));
    iface.poll(secs(2), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty());

    let tcp = iface.stats().tcp;
    assert_eq!((tcp.rx_segments, tcp.no_socket, tcp.rst_sent, tcp.tx_segments), (4, 4, 3, 3));
}

#[test]
fn bad_segments_are_dropped_and_counted() {
    let (mut iface, mut dev, mut sockets) = lone_interface();
    let syn = TcpRepr {
        src_port: 40000,
        dst_port: 81,
        control: TcpControl::Syn,
        seq_number: SeqNumber(1000),
        ..TcpRepr::default()
    };
    let ip = Ip::new(IP_P, IP_B, IpProtocol::Tcp);
    // Bad checksum.
    let mut bytes = tcp_bytes(IP_P, IP_B, &syn, &[]);
    bytes[16] ^= 0x01;
    dev.rx.push_back(ip.frame(MAC_B, MAC_P, &bytes));
    // Shorter than a header.
    dev.rx.push_back(ip.frame(MAC_B, MAC_P, &tcp_bytes(IP_P, IP_B, &syn, &[])[..19]));
    // Data offset beyond the segment.
    let mut bytes = tcp_bytes(IP_P, IP_B, &syn, &[]);
    bytes[12] = 0xf0;
    dev.rx.push_back(ip.frame(MAC_B, MAC_P, &bytes));
    // SYN and FIN together (checksum right).
    let mut bytes = tcp_bytes(IP_P, IP_B, &syn, &[]);
    bytes[13] |= 0x01;
    bytes[16] = 0;
    bytes[17] = 0;
    let sum = net::wire::checksum::combine(&[
        net::wire::checksum::pseudo_header(&IP_P.into(), &IP_B.into(), IpProtocol::Tcp, bytes.len() as u32),
        net::wire::checksum::data(&bytes),
    ]);
    bytes[16..18].copy_from_slice(&net::wire::checksum::finish(sum).to_be_bytes());
    dev.rx.push_back(ip.frame(MAC_B, MAC_P, &bytes));
    // To the broadcast address.
    let bcast = net::wire::Ipv4Address::new(10, 0, 0, 255);
    let to_bcast = Ip::new(IP_P, bcast, IpProtocol::Tcp);
    dev.rx.push_back(to_bcast.frame(net::wire::EthernetAddress::BROADCAST, MAC_P, &tcp_bytes(IP_P, bcast, &syn, &[])));
    iface.poll(secs(2), &mut dev, &mut sockets);
    assert!(dev.take_tx().is_empty(), "no answer to any of them");
    let tcp = iface.stats().tcp;
    assert_eq!((tcp.bad_checksum, tcp.truncated, tcp.malformed, tcp.not_unicast), (1, 2, 1, 1));
    assert_eq!((tcp.rx_segments, tcp.rst_sent), (0, 0));
}

#[test]
fn sockets_without_a_secret_get_the_interfaces() {
    let secret = [0x42; 16];
    let mut iface = Interface::new(Config { tcp_secret: secret, ..Config::new(MAC_A) }, interface_storage());
    iface.add_address("10.0.0.1/24".parse().unwrap()).unwrap();
    assert_eq!(iface.tcp_config().isn_secret, secret);
    assert_eq!(iface.tcp_mss(), 1460);
    let mut sockets = socket_set_of(2);
    let plain = sockets.add(tcp_socket(1024, 1024, TcpConfig::default()));
    let own = sockets.add(tcp_socket(1024, 1024, config()));
    iface.poll(secs(1), &mut TestDevice::new(), &mut sockets);
    assert_eq!(sockets.get::<TcpSocket>(plain).config().isn_secret, secret);
    assert_eq!(sockets.get::<TcpSocket>(own).config().isn_secret, [7; 16], "a chosen secret stays");
}

fn interface_storage() -> net::iface::InterfaceStorage<'static> {
    use net::iface::{NeighbourSlot, PendingSlot, ReassemblySlot};
    net::iface::InterfaceStorage {
        neighbours: leak([NeighbourSlot::EMPTY; 8]),
        pending_slots: vec![PendingSlot::EMPTY; 8].leak(),
        pending_bytes: vec![0u8; 16384].leak(),
        reassembly_slots: leak([ReassemblySlot::EMPTY; 2]),
        reassembly_bytes: vec![0u8; 2 * 16384].leak(),
    }
}

#[test]
fn one_listener_serves_many_clients() {
    const CLIENTS: usize = 12;
    let mut net = Net::new(CLIENTS, 1);
    // A SYN queue smaller than the burst of SYNs: the rest are answered
    // with SYN cookies. (With an accept queue smaller than the pool, a
    // cookie client whose ACK is dropped for a full accept queue believes
    // it is connected and its later segments fail the cookie check: it is
    // reset. That is the listener's current behaviour, so the accept
    // queue here is as large as the pool.)
    let pool: Vec<TcpSocket<'static>> = (0..CLIENTS).map(|_| tcp_socket(8192, 8192, config())).collect();
    let limits = ListenerConfig { syn_backlog: 4, accept_backlog: CLIENTS, syn_cookies: true };
    let listener = net.sb.add(TcpListener::new(7, pool.leak(), config(), limits));
    let clients: Vec<_> = (0..CLIENTS).map(|_| net.sa.add(tcp_socket(8192, 8192, config()))).collect();
    let now = net.now;
    for (i, &h) in clients.iter().enumerate() {
        net.sa.get_mut::<TcpSocket>(h).connect(ep(IP_A, 50000 + i as u16), ep(IP_B, 7), now).unwrap();
    }
    let mut sent: Vec<Transfer> = (0..CLIENTS).map(|i| Transfer::new(100 + i as u64, 3000 + 1000 * i)).collect();
    let mut echoed: Vec<Transfer> = (0..CLIENTS).map(|i| Transfer::new(100 + i as u64, 3000 + 1000 * i)).collect();
    let mut serving: Vec<usize> = Vec::new();
    let mut served = 0;
    let mut closed = [false; CLIENTS];
    net.run(Duration::from_secs(60), |_, sa, sb| {
        // Clients: send their stream, check the echo, close once it is back.
        for (i, &h) in clients.iter().enumerate() {
            let s = sa.get_mut::<TcpSocket>(h);
            sent[i].push(s);
            echoed[i].pull(s);
            if echoed[i].done() && !closed[i] {
                s.close();
                closed[i] = true;
            }
        }
        // Server: accept, echo, close when the client has, release once
        // closed.
        let l = sb.get_mut::<TcpListener>(listener);
        while let Some(i) = l.accept() {
            serving.push(i);
        }
        serving.retain(|&i| {
            let s = l.socket(i).unwrap();
            let mut buf = [0u8; 4096];
            loop {
                let room = s.send_capacity() - s.send_queue();
                match s.recv_slice(&mut buf[..room.min(4096)]) {
                    Ok(0) => break,
                    Ok(n) => assert_eq!(s.send_slice(&buf[..n]), Ok(n)),
                    Err(RecvError::Finished) => {
                        s.close();
                        break;
                    }
                    Err(RecvError::InvalidState) => break,
                }
            }
            if s.state() == State::Closed {
                l.release(i);
                served += 1;
                return false;
            }
            true
        });
        served == CLIENTS && clients.iter().all(|&h| sa.get::<TcpSocket>(h).state() == State::Closed)
    });
    let l = net.sb.get::<TcpListener>(listener);
    assert_eq!((l.syn_queue_len(), l.accept_queue_len()), (0, 0));
    let stats = l.stats();
    assert!(stats.cookies_accepted > 0, "the SYN queue overflowed into cookies: {stats:?}");
    assert_eq!(stats.syns_queued + stats.cookies_accepted, CLIENTS as u32, "{stats:?}");
    assert_eq!(net.a.stats().tcp.no_socket + net.b.stats().tcp.no_socket, 0);
    assert_eq!(net.b.stats().tcp.bad_checksum, 0);
}

/// The TCP segments in frames: (source port, header, payload length).
fn segments(frames: &[Vec<u8>]) -> Vec<(u16, TcpRepr, usize)> {
    frames
        .iter()
        .filter_map(|f| parse_ip(f))
        .filter(|(_, ip, _)| ip.protocol == IpProtocol::Tcp)
        .map(|(_, ip, payload)| {
            let (repr, data) = parse_tcp(ip.src_addr, ip.dst_addr, &payload);
            (repr.src_port, repr, data.len())
        })
        .collect()
}

#[test]
fn egress_takes_sockets_in_turn_with_a_budget_each() {
    let mut net = Net::new(4, 4);
    net.a = interface_with(Config { tcp_segments_per_socket: 2, ..Config::new(MAC_A) }, "10.0.0.1/24", 8, 16384);
    let clients = [net.sa.add(tcp_socket(65536, 65536, config())), net.sa.add(tcp_socket(65536, 65536, config()))];
    let servers = [net.sb.add(tcp_socket(65536, 65536, config())), net.sb.add(tcp_socket(65536, 65536, config()))];
    for (i, (&c, &s)) in clients.iter().zip(&servers).enumerate() {
        net.sb.get_mut::<TcpSocket>(s).listen(80).unwrap();
        let now = net.now;
        net.sa.get_mut::<TcpSocket>(c).connect(ep(IP_A, 50000 + i as u16), ep(IP_B, 80), now).unwrap();
    }
    net.run(Duration::from_secs(5), |_, sa, sb| {
        let open = |set: &SocketSet, h| set.get::<TcpSocket>(h).state() == State::Established;
        clients.iter().all(|&h| open(sa, h)) && servers.iter().all(|&h| open(sb, h))
    });
    for &c in &clients {
        assert_eq!(net.sa.get_mut::<TcpSocket>(c).send_slice(&[7u8; 30000]), Ok(30000));
    }
    // Each poll: at most two segments per socket, and the socket that
    // goes first alternates.
    let mut firsts = Vec::new();
    for _ in 0..4 {
        net.a.poll(net.now, &mut net.dev_a, &mut net.sa);
        let sent = segments(&net.dev_a.take_tx());
        let data: Vec<u16> = sent.iter().filter(|s| s.2 > 0).map(|s| s.0).collect();
        assert_eq!(data.len(), 4, "two segments from each: {data:?}");
        assert_eq!(data.iter().filter(|&&p| p == 50000).count(), 2);
        assert_eq!(data[0], data[1], "a socket's turn is contiguous");
        firsts.push(data[0]);
    }
    assert_ne!(firsts[0], firsts[1]);
    assert_eq!(firsts[0], firsts[2]);
    assert_eq!(net.a.poll_at(net.now, &net.sa), Some(net.now), "more is due at once");
}

#[test]
fn an_rst_goes_out_on_the_receive_token_even_when_transmit_is_busy() {
    let (mut iface, mut dev, mut sockets) = lone_interface();
    dev.tx_room = Some(0);
    let syn = TcpRepr {
        src_port: 40000,
        dst_port: 22,
        control: TcpControl::Syn,
        seq_number: SeqNumber(5),
        ..TcpRepr::default()
    };
    dev.rx.push_back(segment_frame(&syn, &[]));
    iface.poll(secs(2), &mut dev, &mut sockets);
    let (rst, _) = parse_tcp(IP_B, IP_P, &only_segment(&mut dev));
    assert_eq!((rst.control, rst.ack_number), (TcpControl::Rst, Some(SeqNumber(6))));
}

#[test]
fn poll_at_follows_the_tcp_timers() {
    let (mut iface, mut dev, mut sockets) = lone_interface();
    let h = sockets.add(tcp_socket(4096, 4096, config()));
    assert_eq!(iface.poll_at(secs(2), &sockets), None, "a closed socket has no timer");
    sockets.get_mut::<TcpSocket>(h).connect(ep(IP_B, 1234), ep(IP_P, 80), secs(2)).unwrap();
    assert_eq!(iface.poll_at(secs(2), &sockets), Some(secs(2)), "the SYN is due at once");
    iface.poll(secs(2), &mut dev, &mut sockets);
    let (syn, _) = parse_tcp(IP_B, IP_P, &only_segment(&mut dev));
    assert_eq!(syn.control, TcpControl::Syn);
    // Then the retransmission timer: the initial RTO of one second.
    assert_eq!(iface.poll_at(secs(2), &sockets), Some(secs(3)));
    iface.poll(secs(3), &mut dev, &mut sockets);
    let (again, _) = parse_tcp(IP_B, IP_P, &only_segment(&mut dev));
    assert_eq!((again.control, again.seq_number), (TcpControl::Syn, syn.seq_number));
    assert_eq!(iface.stats().tcp.tx_segments, 2);
}
