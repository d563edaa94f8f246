//! Many clients against one listener (an echo server) over a lossy
//! in-memory link: more clients than pool sockets and a small SYN queue,
//! so SYN cookies, queue limits and socket reuse are all exercised.

use super::*;
use crate::wire::tcp::Packet as TcpPacket;
use std::collections::VecDeque;

struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

struct Frame {
    at: Instant,
    /// `None`: to the server; `Some(i)`: to client `i`.
    to_client: Option<usize>,
    bytes: Vec<u8>,
}

struct Client {
    socket: TcpSocket<'static>,
    ep: IpEndpoint,
    data: Vec<u8>,
    sent: usize,
    echoed: Vec<u8>,
    start_at: Instant,
    started: bool,
    closed: bool,
}

const SERVER: IpEndpoint = IpEndpoint::new(IpAddress::V4(Ipv4Address([10, 0, 0, 1])), 7);

fn bytes_of(src: IpEndpoint, dst: IpEndpoint, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut b[..]), &src.addr, &dst.addr, payload, true);
    b
}

fn parse(bytes: &[u8], src: IpAddress, dst: IpAddress) -> Option<(TcpRepr, &[u8])> {
    let packet = TcpPacket::new_checked(bytes).ok()?;
    let repr = TcpRepr::parse(&packet, &src, &dst, true).ok()?;
    Some((repr, &bytes[packet.header_len()..]))
}

/// What the link does to frames: loss, and duplication with the copy
/// delivered later than the original (as the impairing forwarder's copy
/// lands behind a frame it held back), so other frames come in between.
#[derive(Clone, Copy)]
struct Faults {
    loss_per_mille: u32,
    dup_per_mille: u32,
}

const LOSSY: fn(u32) -> Faults = |loss_per_mille| Faults { loss_per_mille, dup_per_mille: 0 };

/// Runs the clients to completion; returns the listener's counters and
/// how many times a client's connection was reset (or gave up) and it
/// connected again.
fn run(seed: u32, clients: usize, pool_size: usize, syn_backlog: usize, faults: Faults) -> (ListenerStats, usize) {
    let config = TcpConfig { isn_secret: [9; 16], msl: Duration::from_millis(500), ..TcpConfig::default() };
    let pool: Vec<TcpSocket<'static>> = (0..pool_size).map(|_| socket_with(config, 8192, 8192)).collect();
    let limits = ListenerConfig { syn_backlog, accept_backlog: 4, syn_cookies: true };
    let mut server = TcpListener::new(7, pool.leak(), config, limits);
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9) | 1);
    let mut cs: Vec<Client> = (0..clients)
        .map(|i| {
            let ep = IpEndpoint::new(IpAddress::V4(Ipv4Address::new(10, 0, 1, 1 + i as u8)), 40000 + i as u16);
            let len = 1000 + (rng.next() % 30_000) as usize;
            Client {
                socket: socket_with(config, 8192, 8192),
                ep,
                data: (0..len).map(|_| rng.next() as u8).collect(),
                sent: 0,
                echoed: Vec::new(),
                start_at: Instant::from_millis(i64::from(rng.next() % 50)),
                started: false,
                closed: false,
            }
        })
        .collect();
    let mut link: VecDeque<Frame> = VecDeque::new();
    let push = |link: &mut VecDeque<Frame>, rng: &mut Rng, now: Instant, to_client: Option<usize>, bytes: Vec<u8>| {
        if rng.next() % 1000 < faults.loss_per_mille {
            return;
        }
        let at = now + Duration::from_millis(2 + u64::from(rng.next() % 3));
        if rng.next() % 1000 < faults.dup_per_mille {
            let later = at + Duration::from_millis(1 + u64::from(rng.next() % 3));
            link.push_back(Frame { at: later, to_client, bytes: bytes.clone() });
        }
        link.push_back(Frame { at, to_client, bytes });
    };
    let mut accepted: Vec<usize> = Vec::new();
    let mut now = Instant::ZERO;
    let mut done = false;
    let mut reconnects = 0;
    for _ in 0..2_000_000 {
        // Deliver due frames.
        while let Some(pos) = link.iter().position(|f| f.at <= now) {
            let Some(f) = link.remove(pos) else { break };
            match f.to_client {
                None => {
                    let src_idx = cs.iter().position(|c| {
                        parse(&f.bytes, c.ep.addr, SERVER.addr).is_some_and(|(r, _)| r.src_port == c.ep.port)
                    });
                    let Some(ci) = src_idx else { continue };
                    let remote = cs[ci].ep;
                    let Some((repr, payload)) = parse(&f.bytes, remote.addr, SERVER.addr) else { continue };
                    if let Some(reply) = server.process(now, SERVER, remote, &repr, payload) {
                        push(&mut link, &mut rng, now, Some(ci), bytes_of(reply.local, reply.remote, &reply.repr, &[]));
                    }
                }
                Some(ci) => {
                    let c = &mut cs[ci];
                    let Some((repr, payload)) = parse(&f.bytes, SERVER.addr, c.ep.addr) else { continue };
                    let reply = if c.socket.accepts(c.ep, SERVER, &repr) {
                        c.socket.process(now, c.ep, SERVER, &repr, payload)
                    } else {
                        rst_reply(c.ep, SERVER, &repr)
                    };
                    if let Some(reply) = reply {
                        push(&mut link, &mut rng, now, None, bytes_of(reply.local, reply.remote, &reply.repr, &[]));
                    }
                }
            }
        }

        // Server application: accept, echo, close after the client does.
        while let Some(i) = server.accept() {
            accepted.push(i);
        }
        accepted.retain(|&i| {
            let s = server.socket(i).unwrap();
            let mut buf = [0u8; 2048];
            while s.can_send() && s.can_recv() {
                let room = s.send_capacity() - s.send_queue();
                let n = s.recv_slice(&mut buf[..room.min(2048)]).unwrap();
                assert_eq!(s.send_slice(&buf[..n]), Ok(n));
            }
            if s.state() == State::CloseWait && !s.can_recv() {
                s.close();
            }
            let finished = s.state() == State::Closed;
            if finished {
                server.release(i);
            }
            !finished
        });

        // Clients: connect when due, send, read the echo, close.
        for c in cs.iter_mut() {
            if !c.started && now >= c.start_at {
                c.socket.connect(c.ep, SERVER, now).unwrap();
                c.started = true;
            }
            if c.socket.may_send() && c.sent < c.data.len() {
                c.sent += c.socket.send_slice(&c.data[c.sent..]).unwrap();
            }
            while c.socket.can_recv() {
                let mut buf = [0u8; 4096];
                let n = c.socket.recv_slice(&mut buf).unwrap();
                c.echoed.extend_from_slice(&buf[..n]);
            }
            if !c.closed && c.echoed.len() == c.data.len() && c.socket.may_send() {
                c.socket.close();
                c.closed = true;
            }
            // A client whose connection died (reset, gave up) retries.
            if c.started && !c.closed && c.socket.state() == State::Closed {
                c.sent = 0;
                c.echoed.clear();
                c.socket.connect(c.ep, SERVER, now).unwrap();
                reconnects += 1;
            }
        }

        // Transmit.
        loop {
            let mut out = None;
            server
                .dispatch(now, 1460, |l, r, repr, p| {
                    out = Some((*r, bytes_of(*l, *r, repr, p)));
                    Ok::<(), ()>(())
                })
                .unwrap();
            let Some((remote, bytes)) = out else { break };
            let ci = cs.iter().position(|c| c.ep == remote).unwrap();
            push(&mut link, &mut rng, now, Some(ci), bytes);
        }
        for c in cs.iter_mut() {
            loop {
                let mut out = None;
                c.socket
                    .dispatch(now, 1460, |l, r, repr, p| {
                        out = Some(bytes_of(*l, *r, repr, p));
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                let Some(bytes) = out else { break };
                push(&mut link, &mut rng, now, None, bytes);
            }
        }

        let all_done = cs.iter().all(|c| c.closed && c.socket.state() == State::Closed)
            && accepted.is_empty()
            && server.syn_queue_len() == 0
            && server.accept_queue_len() == 0;
        if all_done {
            done = true;
            break;
        }
        let mut next = [server.poll_at(), link.iter().map(|f| f.at).min()]
            .into_iter()
            .chain(cs.iter().map(|c| c.socket.poll_at()))
            .chain(cs.iter().filter(|c| !c.started).map(|c| Some(c.start_at)))
            .flatten()
            .min()
            .unwrap_or(now + Duration::from_millis(1));
        if !accepted.is_empty() {
            next = next.min(now + Duration::from_millis(1));
        }
        now = next.max(now + Duration::from_micros(1));
        assert!(now < Instant::from_secs(600), "seed {seed}: stuck at {now}");
    }
    assert!(done, "seed {seed}: did not finish");
    for (i, c) in cs.iter().enumerate() {
        assert!(c.echoed == c.data, "seed {seed}: client {i} echo mismatch");
    }
    (server.stats(), reconnects)
}

#[test]
fn echo_server_many_clients_clean() {
    let (stats, _) = run(1, 12, 4, 2, LOSSY(0));
    // More clients than sockets: some came in through cookies.
    assert!(stats.cookies_accepted > 0, "{stats:?}");
}

#[test]
fn echo_server_many_clients_lossy() {
    for seed in 1..=6 {
        let (stats, _) = run(seed, 10, 4, 2, LOSSY(20));
        assert!(stats.syns_queued > 0, "{stats:?}");
    }
}

/// Hundreds of seeds, 16 clients, 10% loss. Run with
/// `cargo test -p net --release -- --ignored listener_stress`.
#[test]
#[ignore]
fn listener_stress() {
    for seed in 1..=300 {
        run(seed, 16, 4, 2, LOSSY(100));
    }
}

/// Enough sockets for every client (nothing is evicted) but a SYN queue of
/// two, over a link that duplicates: a SYN answered with a cookie may have
/// its copy queued after another handshake completed, and the client,
/// holding the cookie SYN-ACK, must still get its connection, never a reset.
#[test]
fn duplicated_syns_never_reset_a_client() {
    let mut cookies = 0;
    for seed in 1..=8 {
        let (stats, reconnects) = run(seed, 12, 12, 2, Faults { loss_per_mille: 0, dup_per_mille: 100 });
        assert_eq!(reconnects, 0, "seed {seed}: {stats:?}");
        cookies += stats.cookies_accepted;
    }
    assert!(cookies > 0);
}
