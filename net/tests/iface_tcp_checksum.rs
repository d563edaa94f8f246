//! TCP checksums on the receive path with software checksums: a
//! connection's in-order data is summed while it is copied into the
//! socket's buffer, so these tests check that a segment that fails its
//! checksum there leaves nothing behind (no data, no answer, no state),
//! through a plain socket and through a listener's socket, also when
//! out-of-order data is held, and that the counters are those of a
//! verify-first receive path.

mod common;
mod tcp_common;

use common::*;
use net::iface::Interface;
use net::socket::tcp::{ListenerConfig, State, TcpListener, TcpSocket};
use net::socket::{SocketHandle, SocketSet};
use net::wire::tcp::{Repr as TcpRepr, SeqNumber, TcpControl};
use net::wire::{arp, IpProtocol};
use tcp_common::*;

const PORT: u16 = 80;
const PEER_PORT: u16 = 40000;
const PEER_ISS: u32 = 5000;

/// How the interface owns the connection.
#[derive(Clone, Copy, Debug)]
enum Owner {
    Socket,
    Listener,
}

/// An interface (10.0.0.2) with an open connection from the scripted peer
/// P: the interface, its device, its sockets, the handle, and our ISS.
struct Conn {
    iface: Interface<'static>,
    dev: TestDevice,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    owner: Owner,
    iss: SeqNumber,
}

impl Conn {
    fn open(owner: Owner) -> Conn {
        let mut iface = interface(MAC_B, "10.0.0.2/24");
        let mut dev = TestDevice::new();
        let mut sockets = socket_set_of(2);
        // The peer is known from its ARP request.
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
        let config = iface.tcp_config();
        let handle = match owner {
            Owner::Socket => {
                let mut s = tcp_socket(4096, 4096, config);
                s.listen(PORT).unwrap();
                sockets.add(s)
            }
            Owner::Listener => {
                let pool = vec![tcp_socket(4096, 4096, config), tcp_socket(4096, 4096, config)].leak();
                let limits = ListenerConfig { syn_backlog: 2, accept_backlog: 2, syn_cookies: false };
                sockets.add(TcpListener::new(PORT, pool, config, limits))
            }
        };
        let mut conn = Conn { iface, dev, sockets, handle, owner, iss: SeqNumber(0) };
        let syn = TcpRepr {
            control: TcpControl::Syn,
            seq_number: SeqNumber(PEER_ISS),
            ack_number: None,
            max_seg_size: Some(1460),
            ..conn.peer(0)
        };
        let synack = conn.exchange(&syn, &[]);
        let [(reply, _)] = synack.as_slice() else { panic!("one SYN-ACK, got {synack:?}") };
        assert_eq!(reply.control, TcpControl::Syn);
        conn.iss = reply.seq_number;
        assert!(conn.exchange(&conn.peer(0), &[]).is_empty());
        assert_eq!(conn.socket().state(), State::Established);
        conn
    }

    /// A segment from the peer, `offset` bytes into its data, acknowledging
    /// our SYN.
    fn peer(&self, offset: u32) -> TcpRepr {
        TcpRepr {
            src_port: PEER_PORT,
            dst_port: PORT,
            seq_number: SeqNumber(PEER_ISS + 1 + offset),
            ack_number: Some(self.iss + 1),
            window_len: 8192,
            ..TcpRepr::default()
        }
    }

    fn socket(&mut self) -> &mut TcpSocket<'static> {
        match self.owner {
            Owner::Socket => self.sockets.get_mut::<TcpSocket>(self.handle),
            Owner::Listener => {
                let l = self.sockets.get_mut::<TcpListener>(self.handle);
                let id =
                    l.accept().or_else(|| (0..2).find(|&i| l.socket(i).is_some_and(|s| s.state() != State::Closed)));
                l.socket(id.expect("the connection")).unwrap()
            }
        }
    }

    /// Sends the segment's bytes (after `mangle`) and returns what the
    /// interface answers at once.
    fn exchange_bytes(&mut self, bytes: &[u8]) -> Vec<(TcpRepr, Vec<u8>)> {
        self.dev.rx.push_back(Ip::new(IP_P, IP_B, IpProtocol::Tcp).frame(MAC_B, MAC_P, bytes));
        self.iface.poll(secs(2), &mut self.dev, &mut self.sockets);
        let tx = self.dev.take_tx();
        tx.iter()
            .map(|frame| {
                let (_, ip, payload) = parse_ip(frame).expect("IPv4");
                assert_eq!((ip.src_addr, ip.dst_addr), (IP_B, IP_P));
                parse_tcp(IP_B, IP_P, &payload)
            })
            .collect()
    }

    fn exchange(&mut self, repr: &TcpRepr, payload: &[u8]) -> Vec<(TcpRepr, Vec<u8>)> {
        self.exchange_bytes(&tcp_bytes(IP_P, IP_B, repr, payload))
    }

    /// Sends the segment with one payload byte flipped after summing.
    fn exchange_corrupt(&mut self, repr: &TcpRepr, payload: &[u8], at: usize) -> Vec<(TcpRepr, Vec<u8>)> {
        let mut bytes = tcp_bytes(IP_P, IP_B, repr, payload);
        let header_len = bytes.len() - payload.len();
        bytes[header_len + at] ^= 0x40;
        self.exchange_bytes(&bytes)
    }

    /// What the application reads, after which the window update the
    /// read makes due goes out (and is checked to be only that).
    fn received(&mut self) -> Vec<u8> {
        let mut out = vec![0u8; 8192];
        let n = self.socket().recv_slice(&mut out).unwrap();
        out.truncate(n);
        self.iface.poll(secs(2), &mut self.dev, &mut self.sockets);
        for frame in self.dev.take_tx() {
            let (_, _, payload) = parse_ip(&frame).expect("IPv4");
            let (repr, data) = parse_tcp(IP_B, IP_P, &payload);
            assert_eq!((repr.control, data.len()), (TcpControl::None, 0), "only an ACK");
        }
        out
    }

    /// (bad checksums, segments taken).
    fn counts(&self) -> (u64, u64) {
        let tcp = self.iface.stats().tcp;
        (tcp.bad_checksum, tcp.rx_segments)
    }
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 0x01).collect()
}

#[test]
fn corrupt_in_order_data_leaves_no_trace() {
    for owner in [Owner::Socket, Owner::Listener] {
        let mut conn = Conn::open(owner);
        let (bad, taken) = conn.counts();
        let payload = data(1000, 7);
        // In order and large enough to be summed while being copied: it
        // must still be dropped whole, without an answer, and counted as a
        // bad checksum.
        for at in [0, 1, 500, 999] {
            assert!(conn.exchange_corrupt(&conn.peer(0), &payload, at).is_empty(), "{owner:?}");
        }
        assert_eq!(conn.counts(), (bad + 4, taken), "{owner:?}");
        assert_eq!(conn.socket().recv_queue(), 0, "{owner:?}");
        assert!(conn.received().is_empty());
        // Nothing is due either: no ACK for data never taken.
        conn.iface.poll(secs(3), &mut conn.dev, &mut conn.sockets);
        assert!(conn.dev.take_tx().is_empty(), "{owner:?}");
        // The same segment intact is taken, with exactly its bytes.
        conn.exchange(&conn.peer(0), &payload);
        assert_eq!(conn.counts(), (bad + 4, taken + 1), "{owner:?}");
        assert_eq!(conn.received(), payload, "{owner:?}");
        // And the next one, corrupt then intact.
        let next = data(777, 9);
        assert!(conn.exchange_corrupt(&conn.peer(1000), &next, 776).is_empty());
        conn.exchange(&conn.peer(1000), &next);
        assert_eq!(conn.received(), next, "{owner:?}");
        assert_eq!(conn.counts(), (bad + 5, taken + 2), "{owner:?}");
    }
}

#[test]
fn corrupt_data_never_overwrites_data_held_out_of_order() {
    for owner in [Owner::Socket, Owner::Listener] {
        let mut conn = Conn::open(owner);
        let whole = data(1500, 3);
        // Bytes 500.. arrive first and are held (a duplicate ACK answers).
        let answers = conn.exchange(&conn.peer(500), &whole[500..]);
        assert_eq!(answers.len(), 1, "{owner:?}");
        assert_eq!(answers[0].0.ack_number, Some(SeqNumber(PEER_ISS + 1)));
        // A corrupt segment over all of it, and one filling the hole.
        assert!(conn.exchange_corrupt(&conn.peer(0), &whole, 1200).is_empty(), "{owner:?}");
        assert!(conn.exchange_corrupt(&conn.peer(0), &whole[..500], 10).is_empty(), "{owner:?}");
        assert_eq!(conn.socket().recv_queue(), 0);
        // The hole filled intact: every byte is the sender's.
        let answers = conn.exchange(&conn.peer(0), &whole[..500]);
        assert_eq!(answers.len(), 1, "a filled hole is acknowledged at once ({owner:?})");
        assert_eq!(answers[0].0.ack_number, Some(SeqNumber(PEER_ISS + 1 + 1500)));
        assert_eq!(conn.received(), whole, "{owner:?}");
    }
}

#[test]
fn corrupt_headers_and_handshakes_are_dropped_before_acting() {
    // Payloads below and above the size from which the socket sums them.
    for (owner, len) in [(Owner::Socket, 100), (Owner::Listener, 100), (Owner::Socket, 1000), (Owner::Listener, 1000)] {
        let mut conn = Conn::open(owner);
        let (bad, taken) = conn.counts();
        // A flipped sequence-number bit (the header, not the payload).
        let mut bytes = tcp_bytes(IP_P, IP_B, &conn.peer(0), &data(len, 1));
        bytes[6] ^= 0x01;
        assert!(conn.exchange_bytes(&bytes).is_empty());
        // A flipped payload bit in a small or large in-order segment.
        assert!(conn.exchange_corrupt(&conn.peer(0), &data(len, 1), len / 2).is_empty());
        // A corrupt RST does not reset the connection.
        let rst = TcpRepr { control: TcpControl::Rst, ..conn.peer(0) };
        let mut bytes = tcp_bytes(IP_P, IP_B, &rst, &[]);
        bytes[19] ^= 0x08;
        assert!(conn.exchange_bytes(&bytes).is_empty());
        assert_eq!(conn.socket().state(), State::Established, "{owner:?}");
        // A corrupt SYN to another port is not answered with an RST.
        let syn = TcpRepr { dst_port: 81, control: TcpControl::Syn, ack_number: None, ..conn.peer(0) };
        let mut bytes = tcp_bytes(IP_P, IP_B, &syn, &[]);
        bytes[4] ^= 0x80;
        assert!(conn.exchange_bytes(&bytes).is_empty());
        // A corrupt SYN from a new client port is not queued.
        let syn = TcpRepr { src_port: PEER_PORT + 1, control: TcpControl::Syn, ack_number: None, ..conn.peer(0) };
        let mut bytes = tcp_bytes(IP_P, IP_B, &syn, &data(len, 2));
        bytes[22] ^= 0x02;
        assert!(conn.exchange_bytes(&bytes).is_empty());
        assert_eq!(conn.counts(), (bad + 5, taken), "{owner:?} {len}");
        assert_eq!(conn.socket().recv_queue(), 0, "{owner:?} {len}");
        // The connection goes on.
        conn.exchange(&conn.peer(0), &data(len, 1));
        assert_eq!(conn.received(), data(len, 1));
        assert_eq!(conn.counts(), (bad + 5, taken + 1), "{owner:?} {len}");
    }
}

#[test]
fn segments_to_nobody_and_multicast_are_verified_first() {
    let mut conn = Conn::open(Owner::Socket);
    let (bad, taken) = conn.counts();
    let stray = TcpRepr { src_port: 1234, dst_port: 4321, ..conn.peer(0) };
    for (i, len) in [9usize, 600].into_iter().enumerate() {
        let i = i as u64;
        let mut bytes = tcp_bytes(IP_P, IP_B, &stray, &vec![9; len]);
        bytes[20] ^= 0x01;
        assert!(conn.exchange_bytes(&bytes).is_empty(), "no RST for a corrupt segment");
        assert_eq!(conn.counts(), (bad + 1 + i, taken + i));
        // Intact, the same segment gets its RST.
        let answers = conn.exchange(&stray, &vec![9; len]);
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].0.control, TcpControl::Rst);
        assert_eq!(conn.counts(), (bad + 1 + i, taken + 1 + i));
        assert_eq!(conn.iface.stats().tcp.no_socket, 1 + i);
    }
}
