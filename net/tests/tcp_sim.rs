//! Simulation: two complete stacks (an `Interface` and a `SocketSet`
//! each) over an in-memory `phy::Link` whose ends are wrapped in
//! `phy::FaultInjector`s with seeded loss (up to 10%), duplication,
//! reordering, corruption and delay. For every seed one connection
//! carries a seeded byte stream each way; every byte is checked, both
//! sides close, TIME-WAIT runs out, and nothing may be left behind:
//! socket states, listener queues, the interfaces' ARP queues and
//! reassembly slots, the links' queues, and every timer.
//!
//! Time is simulated: when nothing moves, the clock jumps to the next
//! deadline any stack or device announces. Some seeds run over IPv6
//! (neighbour discovery instead of ARP, the IPv6 MSS).

mod common;
mod tcp_common;

use common::*;
use net::iface::{Ipv6Config, NdpSlot};
use net::phy::{DeviceCapabilities, FaultConfig, FaultInjector, FrameQueue, Link, Side};
use net::rand::Rng;
use net::socket::tcp::{CongestionKind, ListenerConfig, RecvError, State, TcpConfig, TcpListener, TcpSocket};
use net::socket::{SocketHandle, SocketSet};
use net::time::{Duration, Instant};
use net::wire::{IpAddress, IpEndpoint, Ipv6Address};
use tcp_common::*;

/// What one seed runs.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    seed: u64,
    /// Bytes each way.
    bytes: usize,
    faults: FaultConfig,
    buffer: usize,
    listener: bool,
    congestion: CongestionKind,
    /// Over IPv6 (static ULAs, no DAD) instead of IPv4.
    ipv6: bool,
}

impl Scenario {
    /// Faults, buffer sizes and socket kinds drawn from the seed.
    fn from_seed(seed: u64, bytes: usize) -> Scenario {
        let mut rng = Rng::new(seed);
        let faults = FaultConfig {
            drop_ppm: rng.gen_range(0..100_001) as u32,
            duplicate_ppm: rng.gen_range(0..20_001) as u32,
            reorder_ppm: rng.gen_range(0..50_001) as u32,
            corrupt_ppm: rng.gen_range(0..20_001) as u32,
            delay: Duration::from_millis(rng.gen_range(0..20)),
            ..FaultConfig::clean()
        };
        let buffer = [4096, 16384, 65536][rng.gen_range(0..3) as usize];
        let congestion = if rng.chance(500_000) { CongestionKind::NewReno } else { CongestionKind::Cubic };
        Scenario { seed, bytes, faults, buffer, listener: rng.chance(500_000), congestion, ipv6: false }
    }
}

/// The server side: a socket in LISTEN, or a listener with a pool.
enum Server {
    Socket(SocketHandle),
    Listener { handle: SocketHandle, accepted: Option<usize>, released: bool },
}

fn with_server<R>(
    sockets: &mut SocketSet<'static>,
    server: &mut Server,
    f: impl FnOnce(&mut TcpSocket) -> R,
) -> Option<R> {
    match server {
        Server::Socket(h) => Some(f(sockets.get_mut::<TcpSocket>(*h))),
        Server::Listener { handle, accepted, released } => {
            let l = sockets.get_mut::<TcpListener>(*handle);
            if accepted.is_none() && !*released {
                *accepted = l.accept();
            }
            let i = (*accepted)?;
            let r = f(l.socket(i).unwrap());
            if l.socket(i).unwrap().state() == State::Closed {
                l.release(i);
                *accepted = None;
                *released = true;
            }
            Some(r)
        }
    }
}

/// One side's application: push its stream, check the peer's, close once
/// everything is queued, and note when the peer has finished.
fn drive(s: &mut TcpSocket, out: &mut Transfer, inbound: &mut Transfer, closed: &mut bool, peer_done: &mut bool) {
    if !matches!(s.state(), State::Established | State::CloseWait) && !*closed {
        inbound.pull(s);
        return;
    }
    out.push(s);
    inbound.pull(s);
    if out.all_sent() && !*closed {
        s.close();
        *closed = true;
    }
    if inbound.done() {
        let mut probe = [0u8; 1];
        if matches!(s.recv_slice(&mut probe), Err(RecvError::Finished)) {
            *peer_done = true;
        }
    }
}

fn simulate(sc: Scenario) {
    let seed = sc.seed;
    let caps = DeviceCapabilities::ethernet();
    let len = Link::<Vec<u8>>::storage_len(128, &caps);
    let link = Link::new(vec![0u8; len], vec![0u8; len], caps);
    let (end_a, end_b) = link.ends();
    let queue = FrameQueue::storage_len(128, caps.max_frame_len() + 4);
    let mut dev_a = FaultInjector::new(end_a, vec![0u8; queue], vec![0u8; queue], seed);
    let mut dev_b = FaultInjector::new(end_b, vec![0u8; queue], vec![0u8; queue], seed ^ 0x5151_5151);
    dev_a.set_tx_faults(sc.faults);
    dev_b.set_tx_faults(sc.faults);

    let (mut a, mut b) = (interface(MAC_A, "10.0.0.1/24"), interface(MAC_B, "10.0.0.2/24"));
    let (ula_a, ula_b) = (Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 1), Ipv6Address::new(0xfd00, 0, 0, 0, 0, 0, 0, 2));
    if sc.ipv6 {
        let quiet =
            Ipv6Config { dad_transmits: 0, router_solicitations: false, seed: seed as u32, ..Ipv6Config::new() };
        for (iface, addr) in [(&mut a, "fd00::1/64"), (&mut b, "fd00::2/64")] {
            iface.enable_ipv6(quiet, vec![NdpSlot::EMPTY; 4].leak(), Instant::ZERO);
            iface.add_ipv6_address(Instant::ZERO, addr.parse().unwrap()).unwrap();
        }
    }
    let (addr_a, addr_b) =
        if sc.ipv6 { (IpAddress::V6(ula_a), IpAddress::V6(ula_b)) } else { (IpAddress::V4(IP_A), IpAddress::V4(IP_B)) };
    let (mut sa, mut sb) = (socket_set_of(2), socket_set_of(2));
    let mut secret = [0u8; 16];
    Rng::new(seed ^ 1).fill_bytes(&mut secret);
    let config = TcpConfig {
        isn_secret: secret,
        msl: Duration::from_secs(1),
        congestion: sc.congestion,
        ..TcpConfig::default()
    };
    let client = sa.add(tcp_socket(sc.buffer, sc.buffer, config));
    let mut server = if sc.listener {
        let pool: Vec<TcpSocket<'static>> = (0..2).map(|_| tcp_socket(sc.buffer, sc.buffer, config)).collect();
        let l = TcpListener::new(80, pool.leak(), config, ListenerConfig::default());
        Server::Listener { handle: sb.add(l), accepted: None, released: false }
    } else {
        let h = sb.add(tcp_socket(sc.buffer, sc.buffer, config));
        sb.get_mut::<TcpSocket>(h).listen(80).unwrap();
        Server::Socket(h)
    };
    let mut now = Instant::from_secs(1);
    let local = IpEndpoint::new(addr_a, 40000 + (seed % 20000) as u16);
    sa.get_mut::<TcpSocket>(client).connect(local, IpEndpoint::new(addr_b, 80), now).unwrap();

    let mut up = Transfer::new(seed.wrapping_mul(3), sc.bytes);
    let mut down = Transfer::new(seed.wrapping_mul(5), sc.bytes);
    let (mut client_closed, mut server_closed) = (false, false);
    let (mut client_saw_fin, mut server_saw_fin) = (false, false);
    let deadline = now + Duration::from_secs(1800);
    let mut same_instant = 0u32;
    loop {
        let c = sa.get_mut::<TcpSocket>(client);
        drive(c, &mut up, &mut down, &mut client_closed, &mut client_saw_fin);
        with_server(&mut sb, &mut server, |s| drive(s, &mut down, &mut up, &mut server_closed, &mut server_saw_fin));

        let ra = a.poll(now, &mut dev_a, &mut sa);
        let rb = b.poll(now, &mut dev_b, &mut sb);
        let client_state = sa.get::<TcpSocket>(client).state();
        let server_gone = match &server {
            Server::Socket(h) => sb.get::<TcpSocket>(*h).state() == State::Closed,
            Server::Listener { released, .. } => *released,
        };
        if client_state == State::Closed && server_gone && (client_closed || server_closed) {
            break;
        }
        let queued = link.queued_towards(Side::A) + link.queued_towards(Side::B);
        if ra.did_work() || rb.did_work() || ra.rx_budget_exhausted || rb.rx_budget_exhausted || queued > 0 {
            same_instant += 1;
            assert!(same_instant < 100_000, "seed {seed:#x}: livelock at {now}");
            continue;
        }
        same_instant = 0;
        let next = [a.poll_at(now, &sa), b.poll_at(now, &sb), dev_a.poll_at(now), dev_b.poll_at(now)]
            .into_iter()
            .flatten()
            .filter(|&t| t > now)
            .min();
        now = next.unwrap_or(now + Duration::from_millis(1)).max(now + Duration::from_micros(1));
        assert!(
            now < deadline,
            "seed {seed:#x} {sc:?}: stuck: client {client_state}, up {}/{} down {}/{}",
            up.received,
            up.total,
            down.received,
            down.total
        );
    }

    // Intact and complete both ways, both FINs seen.
    assert!(
        up.done() && down.done(),
        "seed {seed:#x}: up {}/{} down {}/{}",
        up.received,
        up.total,
        down.received,
        down.total
    );
    assert!(client_saw_fin && server_saw_fin, "seed {seed:#x}: clean close both ways");
    // Frames still on the wire (late duplicates, delayed retransmissions)
    // arrive now: they may draw an RST, never revive a connection.
    for _ in 0..100_000 {
        let queued = link.queued_towards(Side::A) + link.queued_towards(Side::B);
        let held = [dev_a.poll_at(now), dev_b.poll_at(now)].into_iter().flatten().min();
        if queued == 0 && held.is_none() && a.poll_at(now, &sa).is_none() && b.poll_at(now, &sb).is_none() {
            break;
        }
        // Interface timers too: neighbour discovery probes a neighbour a
        // few seconds after its last use (RFC 4861 DELAY, PROBE).
        let timers = [held, a.poll_at(now, &sa), b.poll_at(now, &sb)].into_iter().flatten().min();
        now = timers.map_or(now, |t| t.max(now)) + Duration::from_micros(1);
        a.poll(now, &mut dev_a, &mut sa);
        b.poll(now, &mut dev_b, &mut sb);
    }
    assert_eq!(link.queued_towards(Side::A) + link.queued_towards(Side::B), 0, "seed {seed:#x}: link drained");
    assert_eq!((dev_a.poll_at(now), dev_b.poll_at(now)), (None, None), "seed {seed:#x}: fault queues drained");
    assert_eq!(sa.get::<TcpSocket>(client).state(), State::Closed, "seed {seed:#x}");
    if let Server::Socket(h) = server {
        assert_eq!(sb.get::<TcpSocket>(h).state(), State::Closed, "seed {seed:#x}");
    }
    // Nothing left behind.
    if let Server::Listener { handle, .. } = server {
        let l = sb.get_mut::<TcpListener>(handle);
        assert_eq!((l.syn_queue_len(), l.accept_queue_len()), (0, 0), "seed {seed:#x}");
        assert_eq!(l.poll_at(), None, "seed {seed:#x}: listener timers");
        assert!(l.accept().is_none());
    }
    for (iface, sockets) in [(&a, &sa), (&b, &sb)] {
        assert_eq!(iface.pending_packets(), 0, "seed {seed:#x}: ARP queue");
        assert_eq!(iface.reassembly_slots_in_use(), 0, "seed {seed:#x}: reassembly");
        assert_eq!(iface.poll_at(now, sockets), None, "seed {seed:#x}: a timer still runs");
    }
    // Corrupted frames were caught by a checksum, not delivered.
    let corrupted = dev_a.tx_counters().corrupted + dev_b.tx_counters().corrupted;
    if corrupted > 0 {
        // (IPv6 has no header checksum: a corrupted header shows as an
        // address not ours, a bad version or length, ...)
        let rejected = |(_, name, v): (&str, &str, u64)| {
            let kind = name.starts_with("bad_") || name.starts_with("unknown") || name.contains("not_for_us");
            if kind || name == "truncated" || name == "malformed" || name == "invalid" {
                v
            } else {
                0
            }
        };
        let caught = if sc.ipv6 {
            [&a, &b].iter().flat_map(|i| i.stats().iter()).map(rejected).sum::<u64>()
        } else {
            [&a, &b].iter().map(|i| i.stats().tcp.bad_checksum + i.stats().ipv4.bad_checksum).sum::<u64>()
        };
        assert!(caught > 0 || corrupted < 3, "seed {seed:#x}: corruption went unnoticed");
    }
}

/// 300 seeds of 256 KiB each way.
#[test]
fn many_seeds_small_transfers() {
    for seed in 0..300u64 {
        simulate(Scenario::from_seed(seed, 256 * 1024));
    }
}

/// 20 seeds of 2 MiB each way.
#[test]
fn some_seeds_large_transfers() {
    for seed in 1000..1020u64 {
        simulate(Scenario::from_seed(seed, 2 * 1024 * 1024));
    }
}

/// The worst case every seed: 10% loss and the other faults at their
/// maximum.
#[test]
fn ten_percent_loss_every_fault() {
    for seed in 2000..2020u64 {
        let mut sc = Scenario::from_seed(seed, 128 * 1024);
        sc.faults = FaultConfig {
            drop_ppm: 100_000,
            duplicate_ppm: 20_000,
            reorder_ppm: 50_000,
            corrupt_ppm: 20_000,
            delay: Duration::from_millis(10),
            ..FaultConfig::clean()
        };
        simulate(sc);
    }
}

/// 60 seeds of 128 KiB each way over IPv6, and 10 at the worst faults.
#[test]
fn ipv6_seeds_small_transfers_and_ten_percent_loss() {
    for seed in 3000..3060u64 {
        simulate(Scenario { ipv6: true, ..Scenario::from_seed(seed, 128 * 1024) });
    }
    for seed in 3100..3110u64 {
        let mut sc = Scenario { ipv6: true, ..Scenario::from_seed(seed, 64 * 1024) };
        sc.faults = FaultConfig {
            drop_ppm: 100_000,
            duplicate_ppm: 20_000,
            reorder_ppm: 50_000,
            corrupt_ppm: 20_000,
            delay: Duration::from_millis(10),
            ..FaultConfig::clean()
        };
        simulate(sc);
    }
}

/// Hundreds of seeds of megabytes: `cargo test -p net --release --test
/// tcp_sim -- --ignored`.
#[test]
#[ignore]
fn long_many_seeds_megabytes() {
    for seed in 10_000..10_300u64 {
        simulate(Scenario::from_seed(seed, 8 * 1024 * 1024));
    }
}
