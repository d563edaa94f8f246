//! Two sockets connected directly to each other through an in-memory link
//! that drops, duplicates, reorders and corrupts segments (seeded), moving
//! a megabyte each way and closing cleanly.
//!
//! Segments cross the link as bytes (emitted with `TcpRepr::emit`, parsed
//! back with checksum verification), so corruption is caught the way a
//! real interface would catch it.

use super::*;
use crate::wire::tcp::Packet as TcpPacket;
use std::collections::VecDeque;

/// xorshift32: tiny, seeded, good enough to pick faults.
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
    /// True with probability `per_mille`/1000.
    fn chance(&mut self, per_mille: u32) -> bool {
        self.next() % 1000 < per_mille
    }
}

#[derive(Clone, Copy)]
struct Faults {
    drop: u32,
    duplicate: u32,
    reorder: u32,
    corrupt: u32,
}

struct InFlight {
    deliver_at: Instant,
    to_b: bool,
    bytes: Vec<u8>,
}

struct Link {
    rng: Rng,
    faults: Faults,
    delay: Duration,
    queue: VecDeque<InFlight>,
    sent: usize,
}

impl Link {
    fn push(&mut self, now: Instant, to_b: bool, bytes: Vec<u8>) {
        self.sent += 1;
        if self.rng.chance(self.faults.drop) {
            return;
        }
        let copies = if self.rng.chance(self.faults.duplicate) { 2 } else { 1 };
        for _ in 0..copies {
            let mut bytes = bytes.clone();
            if self.rng.chance(self.faults.corrupt) {
                let i = self.rng.next() as usize % bytes.len();
                bytes[i] ^= 1 << (self.rng.next() % 8);
            }
            let mut deliver_at = now + self.delay;
            if self.rng.chance(self.faults.reorder) {
                deliver_at += Duration::from_millis(u64::from(1 + self.rng.next() % 20));
            }
            self.queue.push_back(InFlight { deliver_at, to_b, bytes });
        }
    }

    fn next_delivery(&self) -> Option<Instant> {
        self.queue.iter().map(|f| f.deliver_at).min()
    }

    fn take_due(&mut self, now: Instant) -> Option<InFlight> {
        let i = self.queue.iter().position(|f| f.deliver_at <= now)?;
        self.queue.remove(i)
    }
}

struct Peer {
    socket: TcpSocket<'static>,
    local: IpEndpoint,
    remote: IpEndpoint,
    to_send: Vec<u8>,
    sent: usize,
    received: Vec<u8>,
    closed: bool,
}

impl Peer {
    fn app(&mut self) {
        while self.socket.can_recv() {
            let mut buf = [0u8; 4096];
            let n = self.socket.recv_slice(&mut buf).unwrap();
            self.received.extend_from_slice(&buf[..n]);
        }
        if self.socket.may_send() && self.sent < self.to_send.len() {
            self.sent += self.socket.send_slice(&self.to_send[self.sent..]).unwrap();
        }
        if !self.closed && self.sent == self.to_send.len() && self.socket.may_send() {
            self.socket.close();
            self.closed = true;
        }
    }
}

const MTU_PAYLOAD: usize = 1460;

fn emit_bytes(src: IpEndpoint, dst: IpEndpoint, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &src.addr, &dst.addr, payload, true);
    bytes
}

fn deliver(peer: &mut Peer, now: Instant, bytes: &[u8], link: &mut Link, to_b: bool) {
    let Ok(packet) = TcpPacket::new_checked(bytes) else { return };
    let Ok(repr) = TcpRepr::parse(&packet, &peer.remote.addr, &peer.local.addr, true) else {
        return;
    };
    let local = IpEndpoint::new(peer.local.addr, repr.dst_port);
    let remote = IpEndpoint::new(peer.remote.addr, repr.src_port);
    let reply = if peer.socket.accepts(local, remote, &repr) {
        peer.socket.process(now, local, remote, &repr, packet.payload())
    } else {
        rst_reply(local, remote, &repr)
    };
    if let Some(reply) = reply {
        link.push(now, !to_b, emit_bytes(reply.local, reply.remote, &reply.repr, &[]));
    }
}

fn flush(peer: &mut Peer, now: Instant, link: &mut Link, to_b: bool) {
    for _ in 0..10_000 {
        let mut out = None;
        peer.socket
            .dispatch(now, MTU_PAYLOAD, |l, r, repr, payload| {
                out = Some(emit_bytes(*l, *r, repr, payload));
                Ok::<(), ()>(())
            })
            .unwrap();
        match out {
            Some(bytes) => link.push(now, to_b, bytes),
            None => return,
        }
    }
    panic!("dispatch loops");
}

fn config(congestion: CongestionKind) -> TcpConfig {
    TcpConfig { isn_secret: [3; 16], msl: Duration::from_secs(1), congestion, ..TcpConfig::default() }
}

fn run(seed: u32, size: usize, faults: Faults) -> (usize, Instant) {
    run_with(seed, size, faults, CongestionKind::NewReno)
}

/// Runs one transfer; returns (segments sent, simulated time).
fn run_with(seed: u32, size: usize, faults: Faults, congestion: CongestionKind) -> (usize, Instant) {
    run_config(seed, size, faults, config(congestion))
}

fn run_config(seed: u32, size: usize, faults: Faults, config: TcpConfig) -> (usize, Instant) {
    let a_ep = IpEndpoint::new(IpAddress::V4(Ipv4Address::new(10, 0, 0, 2)), 49500);
    let b_ep = IpEndpoint::new(IpAddress::V4(Ipv4Address::new(10, 0, 0, 1)), 80);
    let mut rng = Rng(seed.wrapping_mul(2_654_435_761) | 1);
    let data = |rng: &mut Rng| (0..size).map(|_| rng.next() as u8).collect::<Vec<u8>>();
    let a_data = data(&mut rng);
    let b_data = data(&mut rng);
    let mut a = Peer {
        socket: socket_with(config, 65536, 65536),
        local: a_ep,
        remote: b_ep,
        to_send: a_data.clone(),
        sent: 0,
        received: Vec::new(),
        closed: false,
    };
    let mut b = Peer {
        socket: socket_with(config, 32768, 32768),
        local: b_ep,
        remote: a_ep,
        to_send: b_data.clone(),
        sent: 0,
        received: Vec::new(),
        closed: false,
    };
    b.socket.listen(80).unwrap();
    a.socket.connect(a_ep, b_ep, Instant::ZERO).unwrap();
    let mut link = Link { rng, faults, delay: Duration::from_millis(5), queue: VecDeque::new(), sent: 0 };

    let mut now = Instant::ZERO;
    let limit = Instant::from_secs(3600);
    loop {
        while let Some(f) = link.take_due(now) {
            if f.to_b {
                deliver(&mut b, now, &f.bytes, &mut link, true);
            } else {
                deliver(&mut a, now, &f.bytes, &mut link, false);
            }
        }
        a.app();
        b.app();
        flush(&mut a, now, &mut link, true);
        flush(&mut b, now, &mut link, false);

        let done = a.socket.state() == State::Closed && b.socket.state() == State::Closed && link.queue.is_empty();
        if done {
            break;
        }
        let next =
            [a.socket.poll_at(), b.socket.poll_at(), link.next_delivery()].into_iter().flatten().min().unwrap_or_else(
                || panic!("seed {seed}: stalled at {now}: a {} b {}", a.socket.state(), b.socket.state()),
            );
        now = next.max(now + Duration::from_micros(1));
        assert!(now < limit, "seed {seed}: no progress by {now}: a {} b {}", a.socket.state(), b.socket.state());
    }
    // Drain what the sockets hold after closing.
    a.app();
    b.app();
    assert_eq!(a.received.len(), b_data.len(), "seed {seed}: a received length");
    assert!(a.received == b_data, "seed {seed}: a received wrong bytes");
    assert_eq!(b.received.len(), a_data.len(), "seed {seed}: b received length");
    assert!(b.received == a_data, "seed {seed}: b received wrong bytes");
    (link.sent, now)
}

const CLEAN: Faults = Faults { drop: 0, duplicate: 0, reorder: 0, corrupt: 0 };

#[test]
fn clean_link_one_megabyte_each_way() {
    let (segments, time) = run(1, 1 << 20, CLEAN);
    // Around 720 full segments each way plus ACKs; no retransmissions.
    assert!(segments < 3000, "{segments} segments");
    assert!(time < Instant::from_secs(10), "{time}");
}

#[test]
fn lossy_link_one_megabyte_each_way_many_seeds() {
    let faults = Faults { drop: 20, duplicate: 10, reorder: 20, corrupt: 5 };
    for seed in 1..=20 {
        run(seed, 1 << 20, faults);
    }
}

#[test]
fn very_lossy_link_small_transfers() {
    let faults = Faults { drop: 100, duplicate: 50, reorder: 100, corrupt: 20 };
    for seed in 100..140 {
        run(seed, 20_000, faults);
    }
}

#[test]
fn lossy_link_with_cubic() {
    let faults = Faults { drop: 20, duplicate: 10, reorder: 20, corrupt: 5 };
    for seed in 200..208 {
        run_with(seed, 1 << 19, faults, CongestionKind::Cubic);
    }
}

/// Not a correctness test: CPU cost of a clean 64 MiB transfer each way
/// (segments emitted to bytes, checksummed, parsed back). Run with
/// `cargo test -p net --release -- --ignored --nocapture shuttle_speed`.
#[test]
#[ignore]
fn shuttle_speed() {
    let start = std::time::Instant::now();
    let (segments, sim) = run(7, 64 << 20, CLEAN);
    let wall = start.elapsed().as_secs_f64();
    std::println!(
        "128 MiB moved in {wall:.2} s wall ({:.0} MB/s), {segments} segments, {sim} simulated",
        (128u64 << 20) as f64 / wall / 1e6
    );
}

#[test]
fn ten_percent_loss_with_corruption() {
    let faults = Faults { drop: 100, duplicate: 20, reorder: 50, corrupt: 20 };
    for seed in 300..312 {
        let kind = if seed % 2 == 0 { CongestionKind::Cubic } else { CongestionKind::NewReno };
        run_with(seed, 1 << 18, faults, kind);
    }
}

/// Hundreds of seeds at 10% loss, 1 MiB each way. Run with
/// `cargo test -p net --release -- --ignored shuttle_stress`.
#[test]
#[ignore]
fn shuttle_stress() {
    let faults = Faults { drop: 100, duplicate: 20, reorder: 50, corrupt: 20 };
    for seed in 1000..1300 {
        let kind = if seed % 2 == 0 { CongestionKind::Cubic } else { CongestionKind::NewReno };
        run_with(seed, 1 << 20, faults, kind);
    }
}

#[test]
fn lossy_link_without_options() {
    // No SACK, no timestamps, no window scaling: NewReno partial ACKs and
    // Karn's rule do all the work.
    let faults = Faults { drop: 30, duplicate: 10, reorder: 20, corrupt: 5 };
    let plain = TcpConfig { sack: false, timestamps: false, window_scaling: false, ..config(CongestionKind::NewReno) };
    for seed in 400..408 {
        run_config(seed, 1 << 18, faults, plain);
    }
}

#[test]
fn lossy_link_without_nagle_or_delayed_ack() {
    let faults = Faults { drop: 30, duplicate: 10, reorder: 20, corrupt: 5 };
    let eager = TcpConfig { nagle: false, ack_delay: None, ..config(CongestionKind::Cubic) };
    for seed in 500..506 {
        run_config(seed, 1 << 18, faults, eager);
    }
}
