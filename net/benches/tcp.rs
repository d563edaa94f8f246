//! TCP: our stack against smoltcp 0.12 on the same in-memory wire, in the
//! same run.
//!
//! Both stacks are complete (interface, ARP, IPv4, TCP, sockets) and talk
//! to a copy of themselves over one simulated Ethernet wire: a pool of
//! frame buffers allocated once (no allocation per frame), per-direction
//! FIFO queues, and optionally a one-way delay, a bandwidth cap with a
//! drop-tail queue, and seeded loss. Checksums are computed and verified
//! in software on both sides. Time is simulated: when nothing moves, the
//! clock jumps to the next deadline either stack (or the wire) announces.
//!
//! Shapes (MTU 1500 and 9000, 16 KiB and 64 KiB socket buffers):
//! - bulk: a one-way transfer without loss, bytes per second of wall time
//!   (the CPU cost of the stacks); and over a link with a 10 ms RTT, a
//!   100 Mbit/s cap and 1% seeded loss each way, bytes per *simulated*
//!   second (the protocol: congestion control and loss recovery);
//! - request/response: 64-byte echo transactions over one connection,
//!   per second of wall time;
//! - connection rate: connect, a 90-byte request, a 230-byte response,
//!   close; connections per second of wall time (16 clients at once);
//! - idle poll: the fixed cost of one poll with an open, idle connection.
//!
//! With `TCP_BENCH_VERBOSE=1` each run also prints the frames it put on
//! the wire per unit of work, the frames the wire dropped, and the heap
//! allocations made while timed (a counting global allocator: zero for
//! both stacks). `TCP_BENCH_ROUNDS=n` sets the rounds per figure,
//! `TCP_BENCH_OURS_ONLY` / `TCP_BENCH_SMOL_ONLY` time one stack only (to
//! profile it), `TCP_BENCH_NO_LOSSY` leaves out the lossy bulk rows.
//!
//! Run with `cargo bench -p net --bench tcp` (or `-- bulk`, `-- rr`,
//! `-- conn` for one shape). Each wall-time figure is the best of five
//! rounds, ours and smoltcp alternating. Nagle is off in request/response and connection
//! rate for both stacks; congestion control is NewReno (ours) and Reno
//! (smoltcp), with CUBIC on both in a second lossy row.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Instant as WallInstant;

use net::rand::Rng;

/// Counts heap allocations, to show the timed loops make none.
struct CountingAlloc;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: same contract as ours.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// One-way link parameters.
#[derive(Debug, Clone, Copy)]
struct LinkParams {
    delay_us: i64,
    /// Bytes per second; 0: unlimited.
    rate: u64,
    /// Frames waiting for the cap before drop-tail.
    queue_frames: usize,
    loss_ppm: u32,
}

impl LinkParams {
    const CLEAN: LinkParams = LinkParams { delay_us: 0, rate: 0, queue_frames: usize::MAX, loss_ppm: 0 };
    const LOSSY_WAN: LinkParams =
        LinkParams { delay_us: 5_000, rate: 100_000_000 / 8, queue_frames: 128, loss_ppm: 10_000 };
}

struct Frame {
    buf: Box<[u8]>,
    len: usize,
    deliver_at: i64,
}

/// The wire: a frame pool and two directions (0: towards A, 1: towards B).
struct Wire {
    free: Vec<Box<[u8]>>,
    queues: [VecDeque<Frame>; 2],
    busy_until: [i64; 2],
    params: LinkParams,
    rng: Rng,
    now: i64,
    tx_frames: u64,
    dropped: u64,
}

type WireRef = Rc<RefCell<Wire>>;

impl Wire {
    fn new(frame_len: usize, frames: usize, params: LinkParams, seed: u64) -> WireRef {
        let free = (0..frames).map(|_| vec![0u8; frame_len].into_boxed_slice()).collect();
        Rc::new(RefCell::new(Wire {
            free,
            queues: [VecDeque::with_capacity(frames), VecDeque::with_capacity(frames)],
            busy_until: [0; 2],
            params,
            rng: Rng::new(seed),
            now: 0,
            tx_frames: 0,
            dropped: 0,
        }))
    }

    /// A frame sent by `side` (0: A, 1: B) towards the other.
    fn push(&mut self, from: usize, buf: Box<[u8]>, len: usize) {
        self.tx_frames += 1;
        let to = 1 - from;
        let p = self.params;
        if (p.loss_ppm > 0 && self.rng.chance(p.loss_ppm)) || self.queues[to].len() >= p.queue_frames {
            self.dropped += 1;
            self.free.push(buf);
            return;
        }
        let mut at = self.now;
        if p.rate > 0 {
            let start = self.busy_until[to].max(self.now);
            self.busy_until[to] = start + (len as i64 * 1_000_000) / p.rate as i64;
            at = self.busy_until[to];
        }
        self.queues[to].push_back(Frame { buf, len, deliver_at: at + p.delay_us });
    }

    fn pop(&mut self, to: usize) -> Option<Frame> {
        if self.queues[to].front()?.deliver_at > self.now {
            return None;
        }
        self.queues[to].pop_front()
    }

    fn deliverable(&self) -> bool {
        self.queues.iter().any(|q| q.front().is_some_and(|f| f.deliver_at <= self.now))
    }

    fn next_delivery(&self) -> Option<i64> {
        self.queues.iter().filter_map(|q| q.front().map(|f| f.deliver_at)).min()
    }
}

/// One end of the wire, for either stack's device trait.
struct WireEnd {
    wire: WireRef,
    side: usize,
    mtu: usize,
}

/// A received frame; its buffer goes back to the pool after use.
struct RxFrame {
    wire: WireRef,
    frame: Option<Frame>,
}

impl RxFrame {
    fn with<R>(mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let frame = self.frame.take().unwrap();
        let r = f(&frame.buf[..frame.len]);
        self.wire.borrow_mut().free.push(frame.buf);
        r
    }
}

/// Room for one frame from the pool.
struct TxFrame {
    wire: WireRef,
    side: usize,
}

impl TxFrame {
    fn with<R>(self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let mut buf = self.wire.borrow_mut().free.pop().expect("transmit checked the pool");
        let r = f(&mut buf[..len]);
        self.wire.borrow_mut().push(self.side, buf, len);
        r
    }
}

impl WireEnd {
    fn receive(&mut self) -> Option<(RxFrame, TxFrame)> {
        let mut w = self.wire.borrow_mut();
        if w.free.is_empty() {
            return None;
        }
        let frame = w.pop(self.side)?;
        drop(w);
        Some((
            RxFrame { wire: self.wire.clone(), frame: Some(frame) },
            TxFrame { wire: self.wire.clone(), side: self.side },
        ))
    }

    fn transmit(&mut self) -> Option<TxFrame> {
        if self.wire.borrow().free.is_empty() {
            return None;
        }
        Some(TxFrame { wire: self.wire.clone(), side: self.side })
    }
}

// ---- The device traits of both stacks over a wire end ----

impl net::phy::RxToken for RxFrame {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        self.with(f)
    }
}

impl net::phy::TxToken for TxFrame {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.with(len, f)
    }
}

impl net::phy::Device for WireEnd {
    type RxToken<'a> = RxFrame;
    type TxToken<'a> = TxFrame;
    fn receive(&mut self, _: net::time::Instant) -> Option<(RxFrame, TxFrame)> {
        WireEnd::receive(self)
    }
    fn transmit(&mut self, _: net::time::Instant) -> Option<TxFrame> {
        WireEnd::transmit(self)
    }
    fn capabilities(&self) -> net::phy::DeviceCapabilities {
        net::phy::DeviceCapabilities { ip_mtu: self.mtu, ..net::phy::DeviceCapabilities::ethernet() }
    }
}

impl smoltcp::phy::RxToken for RxFrame {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        self.with(f)
    }
}

impl smoltcp::phy::TxToken for TxFrame {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.with(len, f)
    }
}

impl smoltcp::phy::Device for WireEnd {
    type RxToken<'a> = RxFrame;
    type TxToken<'a> = TxFrame;
    fn receive(&mut self, _: smoltcp::time::Instant) -> Option<(RxFrame, TxFrame)> {
        WireEnd::receive(self)
    }
    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<TxFrame> {
        WireEnd::transmit(self)
    }
    fn capabilities(&self) -> smoltcp::phy::DeviceCapabilities {
        let mut caps = smoltcp::phy::DeviceCapabilities::default();
        caps.medium = smoltcp::phy::Medium::Ethernet;
        caps.max_transmission_unit = self.mtu + 14;
        caps
    }
}

// ---- A common face for both stacks ----

/// Connection states the applications care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Closed,
    Opening,
    Open,
    /// The peer sent FIN and we have not closed yet.
    PeerClosed,
    Closing,
    TimeWait,
}

#[derive(Debug, Clone, Copy)]
struct StackParams {
    mtu: usize,
    buffer: usize,
    nagle: bool,
    cubic: bool,
    /// Client sockets, or listener pool size.
    sockets: usize,
    /// Our RTO floor in ms (smoltcp's is fixed at 10 ms; ours defaults to
    /// 200 ms like Linux).
    rto_min_ms: Option<u64>,
}

const IP_A: [u8; 4] = [10, 0, 0, 1];
const IP_B: [u8; 4] = [10, 0, 0, 2];
const SERVER_PORT: u16 = 80;

trait Stack {
    fn new(wire: WireRef, side: usize, p: StackParams, listen: bool) -> Self;
    fn poll(&mut self, now: i64);
    fn poll_at(&mut self, now: i64) -> Option<i64>;
    fn connect(&mut self, s: usize, local_port: u16);
    fn send(&mut self, s: usize, data: &[u8]) -> usize;
    fn recv(&mut self, s: usize, buf: &mut [u8]) -> usize;
    fn close(&mut self, s: usize);
    fn abort(&mut self, s: usize);
    fn state(&mut self, s: usize) -> St;
    /// Server: the next established connection not yet handed out.
    fn accept(&mut self) -> Option<usize>;
    /// Server: a closed connection goes back to listening.
    fn release(&mut self, s: usize);
    const NAME: &'static str;
}

// ---- Ours ----

mod ours {
    use super::*;
    use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
    use net::socket::tcp::{CongestionKind, ListenerConfig, State, TcpConfig, TcpListener, TcpSocket};
    use net::socket::{SocketHandle, SocketSet, SocketStorage};
    use net::storage::RingBuffer;
    use net::time::{Duration, Instant};
    use net::wire::{EthernetAddress, IpAddress, IpEndpoint, Ipv4Address, Ipv4Cidr};

    pub struct Ours {
        iface: Interface<'static>,
        dev: WireEnd,
        sockets: SocketSet<'static>,
        clients: Vec<SocketHandle>,
        listener: Option<SocketHandle>,
        now: i64,
        ip: Ipv4Address,
    }

    fn leak<T>(v: Vec<T>) -> &'static mut [T] {
        v.leak()
    }

    impl Ours {
        fn sock(&mut self, s: usize) -> &mut TcpSocket<'static> {
            match self.listener {
                Some(l) => self.sockets.get_mut::<TcpListener>(l).socket(s).unwrap(),
                None => self.sockets.get_mut::<TcpSocket>(self.clients[s]),
            }
        }
    }

    impl Stack for Ours {
        const NAME: &'static str = "ours";
        fn new(wire: WireRef, side: usize, p: StackParams, listen: bool) -> Self {
            let mac = EthernetAddress([2, 0, 0, 0, 0, 1 + side as u8]);
            let ip = Ipv4Address(if side == 0 { IP_A } else { IP_B });
            let storage = InterfaceStorage {
                neighbours: leak(vec![NeighbourSlot::EMPTY; 4]),
                pending_slots: leak(vec![PendingSlot::EMPTY; 8]),
                pending_bytes: leak(vec![0u8; 4 * p.mtu]),
                reassembly_slots: leak(vec![ReassemblySlot::EMPTY; 1]),
                reassembly_bytes: leak(vec![0u8; p.mtu]),
            };
            let config = Config { tcp_secret: [side as u8 + 1; 16], ..Config::new(mac) };
            let mut iface = Interface::new(config, storage);
            iface.add_address(Ipv4Cidr::new(ip, 24).unwrap()).unwrap();
            let tcp = TcpConfig {
                nagle: p.nagle,
                congestion: if p.cubic { CongestionKind::Cubic } else { CongestionKind::NewReno },
                msl: Duration::from_secs(5),
                ..iface.tcp_config()
            };
            let tcp = match p.rto_min_ms {
                Some(ms) => TcpConfig { rto_min: Duration::from_millis(ms), ..tcp },
                None => tcp,
            };
            let socket = || {
                TcpSocket::new(RingBuffer::new(leak(touched(p.buffer))), RingBuffer::new(leak(touched(p.buffer))), tcp)
            };
            let mut sockets = SocketSet::new(leak((0..p.sockets + 1).map(|_| SocketStorage::EMPTY).collect()));
            let mut clients = Vec::new();
            let mut listener = None;
            if listen {
                let pool: Vec<TcpSocket<'static>> = (0..p.sockets).map(|_| socket()).collect();
                let limits = ListenerConfig { syn_backlog: p.sockets, accept_backlog: p.sockets, syn_cookies: true };
                listener = Some(sockets.add(TcpListener::new(SERVER_PORT, leak(pool), tcp, limits)));
            } else {
                for _ in 0..p.sockets {
                    clients.push(sockets.add(socket()));
                }
            }
            let dev = WireEnd { wire, side, mtu: p.mtu };
            Ours { iface, dev, sockets, clients, listener, now: 0, ip }
        }
        fn poll(&mut self, now: i64) {
            self.now = now;
            self.iface.poll(Instant::from_micros(now), &mut self.dev, &mut self.sockets);
        }
        fn poll_at(&mut self, now: i64) -> Option<i64> {
            self.iface.poll_at(Instant::from_micros(now), &self.sockets).map(|t| t.total_micros())
        }
        fn connect(&mut self, s: usize, local_port: u16) {
            let local = IpEndpoint::new(IpAddress::V4(self.ip), local_port);
            let remote = IpEndpoint::new(IpAddress::V4(Ipv4Address(IP_B)), SERVER_PORT);
            let now = Instant::from_micros(self.now);
            self.sock(s).connect(local, remote, now).unwrap();
        }
        fn send(&mut self, s: usize, data: &[u8]) -> usize {
            self.sock(s).send_slice(data).unwrap_or(0)
        }
        fn recv(&mut self, s: usize, buf: &mut [u8]) -> usize {
            self.sock(s).recv_slice(buf).unwrap_or(0)
        }
        fn close(&mut self, s: usize) {
            self.sock(s).close()
        }
        fn abort(&mut self, s: usize) {
            self.sock(s).abort()
        }
        fn state(&mut self, s: usize) -> St {
            match self.sock(s).state() {
                State::Closed | State::Listen => St::Closed,
                State::SynSent | State::SynReceived => St::Opening,
                State::Established => St::Open,
                State::CloseWait => St::PeerClosed,
                State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck => St::Closing,
                State::TimeWait => St::TimeWait,
            }
        }
        fn accept(&mut self) -> Option<usize> {
            self.sockets.get_mut::<TcpListener>(self.listener?).accept()
        }
        fn release(&mut self, s: usize) {
            let l = self.listener.unwrap();
            self.sockets.get_mut::<TcpListener>(l).release(s)
        }
    }
}

// ---- smoltcp ----

mod smol {
    use super::*;
    use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
    use smoltcp::socket::tcp::{CongestionControl, Socket, SocketBuffer, State};
    use smoltcp::time::Instant;
    use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

    pub struct Smol {
        iface: Interface,
        dev: WireEnd,
        sockets: SocketSet<'static>,
        handles: Vec<SocketHandle>,
        listening: bool,
        handed_out: Vec<bool>,
    }

    impl Smol {
        fn sock(&mut self, s: usize) -> &mut Socket<'static> {
            self.sockets.get_mut::<Socket>(self.handles[s])
        }
    }

    impl Stack for Smol {
        const NAME: &'static str = "smoltcp";
        fn new(wire: WireRef, side: usize, p: StackParams, listen: bool) -> Self {
            let mut dev = WireEnd { wire, side, mtu: p.mtu };
            let mac = EthernetAddress([2, 0, 0, 0, 0, 1 + side as u8]);
            let mut config = Config::new(HardwareAddress::Ethernet(mac));
            config.random_seed = side as u64 + 1;
            let mut iface = Interface::new(config, &mut dev, Instant::from_micros(0));
            let [a, b, c, d] = if side == 0 { IP_A } else { IP_B };
            iface.update_ip_addrs(|addrs| addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), 24)).unwrap());
            let mut sockets = SocketSet::new(vec![]);
            let mut handles = Vec::new();
            for _ in 0..p.sockets {
                let mut s = Socket::new(SocketBuffer::new(touched(p.buffer)), SocketBuffer::new(touched(p.buffer)));
                s.set_nagle_enabled(p.nagle);
                s.set_congestion_control(if p.cubic { CongestionControl::Cubic } else { CongestionControl::Reno });
                if listen {
                    s.listen(SERVER_PORT).unwrap();
                }
                handles.push(sockets.add(s));
            }
            Smol { iface, dev, sockets, handles, listening: listen, handed_out: vec![false; p.sockets] }
        }
        fn poll(&mut self, now: i64) {
            self.iface.poll(Instant::from_micros(now), &mut self.dev, &mut self.sockets);
        }
        fn poll_at(&mut self, now: i64) -> Option<i64> {
            self.iface.poll_at(Instant::from_micros(now), &self.sockets).map(|t| t.total_micros())
        }
        fn connect(&mut self, s: usize, local_port: u16) {
            let h = self.handles[s];
            let socket = self.sockets.get_mut::<Socket>(h);
            let [a, b, c, d] = IP_B;
            socket.connect(self.iface.context(), (IpAddress::v4(a, b, c, d), SERVER_PORT), local_port).unwrap();
        }
        fn send(&mut self, s: usize, data: &[u8]) -> usize {
            self.sock(s).send_slice(data).unwrap_or(0)
        }
        fn recv(&mut self, s: usize, buf: &mut [u8]) -> usize {
            self.sock(s).recv_slice(buf).unwrap_or(0)
        }
        fn close(&mut self, s: usize) {
            self.sock(s).close()
        }
        fn abort(&mut self, s: usize) {
            self.sock(s).abort()
        }
        fn state(&mut self, s: usize) -> St {
            match self.sock(s).state() {
                State::Closed | State::Listen => St::Closed,
                State::SynSent | State::SynReceived => St::Opening,
                State::Established => St::Open,
                State::CloseWait => St::PeerClosed,
                State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck => St::Closing,
                State::TimeWait => St::TimeWait,
            }
        }
        fn accept(&mut self) -> Option<usize> {
            for i in 0..self.handles.len() {
                if !self.handed_out[i] && matches!(self.state(i), St::Open | St::PeerClosed) {
                    self.handed_out[i] = true;
                    return Some(i);
                }
            }
            None
        }
        fn release(&mut self, s: usize) {
            debug_assert!(self.listening);
            self.handed_out[s] = false;
            let socket = self.sock(s);
            socket.abort();
            socket.listen(SERVER_PORT).unwrap();
        }
    }
}

// ---- The driver ----

/// What an application step did.
struct Step {
    done: bool,
    worked: bool,
}

/// Polls both stacks and runs `app` until it is done; simulated time
/// jumps to the next deadline when nothing moves. Returns the simulated
/// microseconds elapsed.
fn run<A: Stack, B: Stack>(
    wire: &WireRef,
    a: &mut A,
    b: &mut B,
    mut app: impl FnMut(&mut A, &mut B, i64) -> Step,
    limit_us: i64,
) -> i64 {
    let start = wire.borrow().now;
    loop {
        let now = wire.borrow().now;
        if app(a, b, now).done {
            return now - start;
        }
        let before = wire.borrow().tx_frames;
        a.poll(now);
        b.poll(now);
        let after = app(a, b, now);
        if after.done {
            return now - start;
        }
        let w = wire.borrow();
        if w.tx_frames != before || w.deliverable() || after.worked {
            continue;
        }
        let next_wire = w.next_delivery();
        drop(w);
        let next = [a.poll_at(now), b.poll_at(now), next_wire].into_iter().flatten().filter(|&t| t > now).min();
        let next = next.unwrap_or(now + 1_000);
        assert!(next - start < limit_us, "stalled: {} / {}", A::NAME, B::NAME);
        wire.borrow_mut().now = next;
    }
}

/// Opens connection `s` from A to B; returns B's socket id.
fn open<A: Stack, B: Stack>(wire: &WireRef, a: &mut A, b: &mut B, s: usize, port: u16) -> usize {
    a.connect(s, port);
    let mut server = None;
    run(
        wire,
        a,
        b,
        |a, b, _| {
            if server.is_none() {
                server = b.accept();
            }
            Step { done: server.is_some() && a.state(s) == St::Open, worked: false }
        },
        60_000_000,
    );
    server.unwrap()
}

const PATTERN_LEN: usize = 65536;

/// Bulk transfer of `total` bytes A -> B; (wall seconds, simulated seconds).
fn bulk<A: Stack, B: Stack>(p: StackParams, link: LinkParams, total: usize, seed: u64) -> (f64, f64) {
    let frame_len = p.mtu + 14;
    let wire = Wire::new(frame_len, 1024, link, seed);
    let mut a = A::new(wire.clone(), 0, StackParams { sockets: 1, ..p }, false);
    let mut b = B::new(wire.clone(), 1, StackParams { sockets: 1, ..p }, true);
    let srv = open(&wire, &mut a, &mut b, 0, 40000);
    let pattern: Vec<u8> = (0..PATTERN_LEN).map(|i| (i * 7 + i / 256) as u8).collect();
    let mut sink = vec![0u8; 65536];
    let (mut sent, mut received) = (0usize, 0usize);
    let allocs = allocations();
    let wall = WallInstant::now();
    let sim = run(
        &wire,
        &mut a,
        &mut b,
        |a, b, _| {
            let mut worked = false;
            while sent < total {
                let off = sent % PATTERN_LEN;
                let n = a.send(0, &pattern[off..PATTERN_LEN.min(off + total - sent)]);
                if n == 0 {
                    break;
                }
                sent += n;
                worked = true;
            }
            loop {
                let n = b.recv(srv, &mut sink);
                if n == 0 {
                    break;
                }
                received += n;
                worked = true;
            }
            Step { done: received >= total, worked }
        },
        3_600_000_000,
    );
    let wall = wall.elapsed().as_secs_f64();
    verbose(A::NAME, "frames per 64 KiB", &wire, total / 65536, allocations() - allocs);
    (wall, sim as f64 / 1e6)
}

/// `count` 64-byte echo transactions over one connection; wall seconds.
fn request_response<A: Stack, B: Stack>(p: StackParams, count: usize) -> f64 {
    let wire = Wire::new(p.mtu + 14, 256, LinkParams::CLEAN, 1);
    let mut a = A::new(wire.clone(), 0, StackParams { sockets: 1, ..p }, false);
    let mut b = B::new(wire.clone(), 1, StackParams { sockets: 1, ..p }, true);
    let srv = open(&wire, &mut a, &mut b, 0, 40000);
    let request = [0x5au8; 64];
    let mut buf = [0u8; 64];
    let (mut done, mut outstanding, mut at_server, mut at_client) = (0usize, false, 0usize, 0usize);
    let allocs = allocations();
    let wall = WallInstant::now();
    run(
        &wire,
        &mut a,
        &mut b,
        |a, b, _| {
            let mut worked = false;
            if !outstanding && done < count {
                assert_eq!(a.send(0, &request), 64);
                outstanding = true;
                worked = true;
            }
            let n = b.recv(srv, &mut buf[at_server..]);
            at_server += n;
            if at_server == 64 {
                assert_eq!(b.send(srv, &buf), 64);
                at_server = 0;
                worked = true;
            }
            let n = a.recv(0, &mut buf[at_client..]);
            at_client += n;
            if at_client == 64 {
                at_client = 0;
                outstanding = false;
                done += 1;
                worked = true;
            }
            Step { done: done == count, worked: worked || n > 0 }
        },
        3_600_000_000,
    );
    let wall = wall.elapsed().as_secs_f64();
    verbose(A::NAME, "frames per transaction", &wire, count, allocations() - allocs);
    wall
}

/// `count` connections (16 at a time): connect, 90-byte request, 230-byte
/// response, the client closes, then the server; wall seconds.
fn connection_rate<A: Stack, B: Stack>(p: StackParams, count: usize) -> f64 {
    const CLIENTS: usize = 16;
    let wire = Wire::new(p.mtu + 14, 512, LinkParams::CLEAN, 1);
    let mut a = A::new(wire.clone(), 0, StackParams { sockets: CLIENTS, ..p }, false);
    let mut b = B::new(wire.clone(), 1, StackParams { sockets: 2 * CLIENTS, ..p }, true);
    let request = [0x11u8; 90];
    let response = [0x22u8; 230];
    #[derive(Clone, Copy, PartialEq)]
    enum C {
        Idle,
        Connecting,
        Waiting(usize),
        Closing,
    }
    let mut clients = [C::Idle; CLIENTS];
    // Server connections: (id, request bytes received, responded).
    let mut serving: Vec<(usize, usize, bool)> = Vec::new();
    let (mut started, mut finished) = (0usize, 0usize);
    let mut port = 1024u16;
    let mut buf = [0u8; 512];
    serving.reserve(4 * CLIENTS);
    let allocs = allocations();
    let wall = WallInstant::now();
    run(
        &wire,
        &mut a,
        &mut b,
        |a, b, _| {
            let mut worked = false;
            for (i, c) in clients.iter_mut().enumerate() {
                match *c {
                    C::Idle if started < count => {
                        port = if port == u16::MAX { 1024 } else { port + 1 };
                        a.connect(i, port);
                        started += 1;
                        *c = C::Connecting;
                        worked = true;
                    }
                    C::Idle => {}
                    C::Connecting => match a.state(i) {
                        St::Open => {
                            assert_eq!(a.send(i, &request), 90);
                            *c = C::Waiting(0);
                            worked = true;
                        }
                        St::Closed => panic!("connection refused"),
                        _ => {}
                    },
                    C::Waiting(got) => {
                        let n = a.recv(i, &mut buf);
                        if n > 0 {
                            worked = true;
                        }
                        if got + n == 230 {
                            a.close(i);
                            *c = C::Closing;
                        } else {
                            *c = C::Waiting(got + n);
                        }
                    }
                    C::Closing => match a.state(i) {
                        // The client closed first: reuse its socket at once.
                        St::TimeWait | St::Closed => {
                            a.abort(i);
                            finished += 1;
                            *c = C::Idle;
                            worked = true;
                        }
                        _ => {}
                    },
                }
            }
            while let Some(s) = b.accept() {
                serving.push((s, 0, false));
                worked = true;
            }
            serving.retain_mut(|(s, got, responded)| {
                let n = b.recv(*s, &mut buf);
                *got += n;
                if n > 0 {
                    worked = true;
                }
                if *got == 90 && !*responded {
                    assert_eq!(b.send(*s, &response), 230);
                    *responded = true;
                    worked = true;
                }
                match b.state(*s) {
                    St::PeerClosed => {
                        b.close(*s);
                        worked = true;
                        true
                    }
                    St::Closed | St::TimeWait => {
                        b.release(*s);
                        worked = true;
                        false
                    }
                    _ => true,
                }
            });
            Step { done: finished == count, worked }
        },
        3_600_000_000,
    );
    let wall = wall.elapsed().as_secs_f64();
    verbose(A::NAME, "frames per connection", &wire, count, allocations() - allocs);
    wall
}

/// With `TCP_BENCH_VERBOSE` set: frames on the wire per unit of work.
fn verbose(name: &str, what: &str, wire: &WireRef, units: usize, allocs: u64) {
    if std::env::var_os("TCP_BENCH_VERBOSE").is_some() {
        let w = wire.borrow();
        let per = w.tx_frames as f64 / units.max(1) as f64;
        eprintln!("    {name}: {per:.2} {what} ({} dropped, {allocs} allocations while timed)", w.dropped);
    }
}

/// A buffer whose pages are already mapped (`vec![0; n]` maps them at
/// first use, inside the timed region).
fn touched(len: usize) -> Vec<u8> {
    vec![0x55; len]
}

/// The best (lowest) of `ROUNDS` timings of each, the two measured in
/// alternation so both see the same machine load.
fn best_pair(mut ours: impl FnMut() -> f64, mut smol: impl FnMut() -> f64) -> (f64, f64) {
    let (mut a, mut b) = (f64::INFINITY, f64::INFINITY);
    let rounds = std::env::var("TCP_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(ROUNDS);
    let only_ours = std::env::var_os("TCP_BENCH_OURS_ONLY").is_some();
    let only_smol = std::env::var_os("TCP_BENCH_SMOL_ONLY").is_some();
    for _ in 0..rounds {
        a = if only_smol { 1.0 } else { a.min(ours()) };
        b = if only_ours { 1.0 } else { b.min(smol()) };
    }
    (a, b)
}

const ROUNDS: usize = 5;

fn row(what: &str, unit: &str, ours: f64, smol: f64) {
    println!("{what:<52} ours {ours:>12.1} {unit:<8} smoltcp {smol:>12.1} {unit:<8} ratio {:>6.2}", ours / smol);
}

fn params(mtu: usize, buffer: usize) -> StackParams {
    StackParams { mtu, buffer, nagle: true, cubic: false, sockets: 1, rto_min_ms: None }
}

fn main() {
    use ours::Ours;
    use smol::Smol;
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));

    if wanted("bulk") {
        println!("bulk, no loss, bytes per wall second (64 MiB one way):");
        for mtu in [1500, 9000] {
            for buffer in [16384, 65536] {
                let p = params(mtu, buffer);
                let total = 64 << 20;
                let (ours, smol) = best_pair(
                    || bulk::<Ours, Ours>(p, LinkParams::CLEAN, total, 1).0,
                    || bulk::<Smol, Smol>(p, LinkParams::CLEAN, total, 1).0,
                );
                let label = format!("  MTU {mtu}, {} KiB buffers", buffer / 1024);
                row(&label, "MB/s", total as f64 / ours / 1e6, total as f64 / smol / 1e6);
            }
        }
    }
    // `TCP_BENCH_NO_LOSSY` skips the lossy rows (simulated time: their
    // figures do not measure CPU cost, so profiles leave them out).
    if wanted("bulk") && std::env::var_os("TCP_BENCH_NO_LOSSY").is_none() {
        println!("bulk, 10 ms RTT, 100 Mbit/s, 1% loss each way, bytes per simulated second (8 MiB, 3 seeds):");
        for (cubic, rto_min_ms) in [(false, None), (true, None), (false, Some(10))] {
            for mtu in [1500, 9000] {
                for buffer in [16384, 65536] {
                    let p = StackParams { cubic, rto_min_ms, ..params(mtu, buffer) };
                    let total = 8 << 20;
                    let sim = |f: &dyn Fn(u64) -> f64| (1..=3).map(f).sum::<f64>();
                    let ours = sim(&|seed| bulk::<Ours, Ours>(p, LinkParams::LOSSY_WAN, total, seed).1);
                    let smol = sim(&|seed| bulk::<Smol, Smol>(p, LinkParams::LOSSY_WAN, total, seed).1);
                    let cc = match (cubic, rto_min_ms) {
                        (true, _) => "CUBIC",
                        (false, None) => "NewReno/Reno",
                        (false, Some(_)) => "NewReno/Reno, our RTO floor 10 ms",
                    };
                    let label = format!("  {cc}, MTU {mtu}, {} KiB buffers", buffer / 1024);
                    row(&label, "MB/s", 3.0 * total as f64 / ours / 1e6, 3.0 * total as f64 / smol / 1e6);
                }
            }
        }
    }
    if wanted("rr") {
        println!("request/response, 64-byte echo over one connection, transactions per wall second:");
        for buffer in [16384, 65536] {
            let p = StackParams { nagle: false, ..params(1500, buffer) };
            let count = 100_000;
            let (ours, smol) =
                best_pair(|| request_response::<Ours, Ours>(p, count), || request_response::<Smol, Smol>(p, count));
            let label = format!("  MTU 1500, {} KiB buffers", buffer / 1024);
            row(&label, "tx/s", count as f64 / ours, count as f64 / smol);
        }
    }
    if wanted("idle") {
        // The fixed cost of a poll with nothing to do (one idle connection).
        let p = params(1500, 16384);
        let n = 2_000_000;
        let idle = |ours: bool| {
            let wire = Wire::new(1514, 64, LinkParams::CLEAN, 1);
            let per = |t: f64| t / n as f64 * 1e9;
            if ours {
                let (mut a, mut b) = (Ours::new(wire.clone(), 0, p, false), Ours::new(wire.clone(), 1, p, true));
                open(&wire, &mut a, &mut b, 0, 40000);
                let now = wire.borrow().now + 1000;
                let t = WallInstant::now();
                for _ in 0..n {
                    a.poll(now);
                }
                per(t.elapsed().as_secs_f64())
            } else {
                let (mut a, mut b) = (Smol::new(wire.clone(), 0, p, false), Smol::new(wire.clone(), 1, p, true));
                open(&wire, &mut a, &mut b, 0, 40000);
                let now = wire.borrow().now + 1000;
                let t = WallInstant::now();
                for _ in 0..n {
                    a.poll(now);
                }
                per(t.elapsed().as_secs_f64())
            }
        };
        let (ours, smol) = best_pair(|| idle(true), || idle(false));
        println!("idle poll, one open connection, ns per poll (lower is better: ratio below 1 is ours ahead):");
        row("  MTU 1500, 16 KiB buffers", "ns", ours, smol);
    }
    if wanted("conn") {
        println!("connection rate, 90-byte request, 230-byte response, close, connections per wall second:");
        for buffer in [16384, 65536] {
            let p = StackParams { nagle: false, ..params(1500, buffer) };
            let count = 20_000;
            let (ours, smol) =
                best_pair(|| connection_rate::<Ours, Ours>(p, count), || connection_rate::<Smol, Smol>(p, count));
            let label = format!("  MTU 1500, {} KiB buffers, 16 clients at once", buffer / 1024);
            row(&label, "conn/s", count as f64 / ours, count as f64 / smol);
        }
    }
}
