//! TCP socket and listener state machines, driven by a sequence of
//! operations read from the input: peer segments (any flags, sequence and
//! acknowledgment numbers absolute or near what the socket last said,
//! window, options, payload), time steps, application send / recv /
//! close / abort / reopen, and a dispatch into a full device. After every
//! operation the socket is dispatched until it has nothing due.
//!
//! Starting points: LISTEN, SYN-SENT, ESTABLISHED (passive and active
//! open), and a listener with a pool of three sockets.
//!
//! Checked beyond "no panic":
//! - every segment the socket sends emits and parses back unchanged (SACK
//!   blocks may be cut to what fits), from LOCAL to REMOTE;
//! - a SYN carries no data; sent data is exactly what the application
//!   queued, at the sequence numbers it belongs to;
//! - received data read by the application is exactly what the peer sent
//!   at those sequence numbers (the peer's bytes are a function of their
//!   sequence number, so this holds however segments overlap);
//! - queues never exceed their buffers;
//! - once dispatch has emitted everything due, `poll_at` is in the future
//!   (else the interface would spin).
#![no_main]

#[path = "../common/input.rs"]
mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use net::socket::tcp::{CongestionKind, ListenerConfig, State, TcpConfig, TcpListener, TcpReply, TcpSocket};
use net::storage::RingBuffer;
use net::time::{Duration, Instant};
use net::wire::tcp::{Packet as TcpPacket, Repr as TcpRepr, SeqNumber, TcpControl, TcpTimestamp};
use net::wire::{IpAddress, IpEndpoint, Ipv4Address};

const LOCAL_PORT: u16 = 80;
const LOCAL: IpEndpoint = IpEndpoint::new(IpAddress::V4(Ipv4Address([10, 0, 0, 1])), LOCAL_PORT);
const REMOTE_ADDR: IpAddress = IpAddress::V4(Ipv4Address([10, 0, 0, 2]));
const REMOTE_PORTS: [u16; 3] = [49500, 49501, 49502];
const REMOTE: IpEndpoint = IpEndpoint::new(REMOTE_ADDR, REMOTE_PORTS[0]);
const BUFFER_SIZES: [usize; 8] = [1, 7, 64, 536, 1460, 4096, 16384, 65536];
const MSS_LIMITS: [usize; 8] = [1, 64, 536, 536, 1220, 1460, 1460, 8960];
/// Dispatch calls per drain: more than any window's worth of segments.
const DRAIN_LIMIT: usize = 5000;
const MAX_OPS: usize = 300;

/// Set `FUZZ_TRACE=1` to print every operation and segment (when
/// replaying a crash: `cargo +nightly fuzz run tcp_socket <file>`).
fn tracing() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

macro_rules! trace {
    ($($arg:tt)*) => {
        if tracing() {
            eprintln!($($arg)*);
        }
    };
}

/// The byte the peer sends at sequence number `seq`.
fn peer_byte(seq: SeqNumber) -> u8 {
    (seq.0.wrapping_mul(0x9e37_79b1) >> 24) as u8
}

/// The byte the application queues at offset `n` of its stream.
fn app_byte(n: usize) -> u8 {
    ((n as u32).wrapping_mul(0x85eb_ca6b) >> 24) as u8
}

/// What the peer knows of the connection, from the segments it received.
#[derive(Clone, Copy)]
struct Peer {
    port: u16,
    /// The socket's last ACK: where the peer's next byte goes.
    seq: SeqNumber,
    /// The end of the socket's sequence space seen so far.
    ack: SeqNumber,
    /// The peer's timestamp clock, and the socket's last TSval.
    tsval: u32,
    ts_recent: u32,
}

impl Peer {
    fn new(port: u16) -> Peer {
        Peer { port, seq: SeqNumber(10_000), ack: SeqNumber(0), tsval: 1, ts_recent: 0 }
    }

    /// Learns from a segment the socket sent.
    fn observe(&mut self, repr: &TcpRepr) {
        if repr.control == TcpControl::Rst {
            return;
        }
        let end = repr.seq_number + repr.segment_len();
        if repr.control == TcpControl::Syn || end > self.ack {
            self.ack = end;
        }
        if let Some(ack) = repr.ack_number {
            self.seq = ack;
        }
        if let Some(ts) = repr.timestamp {
            self.ts_recent = ts.tsval;
        }
    }

    /// A segment read from the input.
    fn segment(&mut self, inp: &mut Input) -> (TcpRepr, Vec<u8>) {
        let kind = inp.u8();
        let control = match kind & 3 {
            0 => TcpControl::None,
            1 => TcpControl::Syn,
            2 => TcpControl::Fin,
            _ => TcpControl::Rst,
        };
        let absolute = kind & 0x80 != 0;
        let near = |base: SeqNumber, d: u16| SeqNumber(base.0.wrapping_add(d as i16 as i32 as u32));
        let seq = if absolute { SeqNumber(inp.u32()) } else { near(self.seq, inp.u16()) };
        let ack = if absolute { SeqNumber(inp.u32()) } else { near(self.ack, inp.u16()) };
        let options = inp.u8();
        let mut repr = TcpRepr {
            src_port: self.port,
            dst_port: LOCAL_PORT,
            control,
            seq_number: seq,
            ack_number: (kind & 4 == 0).then_some(ack),
            window_len: inp.u16(),
            push: kind & 8 != 0,
            urgent: (kind & 0x10 != 0).then(|| inp.u16()),
            ece: kind & 0x20 != 0,
            cwr: kind & 0x40 != 0,
            ..TcpRepr::default()
        };
        if options & 1 != 0 {
            repr.max_seg_size = Some(inp.u16());
        }
        if options & 2 != 0 {
            repr.window_scale = Some(inp.u8() % 16);
        }
        repr.sack_permitted = options & 4 != 0;
        if options & 8 != 0 {
            let step = inp.u8();
            self.tsval = if step == 0xff { inp.u32() } else { self.tsval.wrapping_add(u32::from(step)) };
            repr.timestamp = Some(TcpTimestamp { tsval: self.tsval, tsecr: self.ts_recent });
        }
        if options & 0x10 != 0 {
            for slot in repr.sack_ranges.iter_mut().take(usize::from(inp.u8() % 4) + 1) {
                let left = near(self.ack, inp.u16());
                *slot = Some((left, left + usize::from(inp.u16() % 4096)));
            }
        }
        let len = match options >> 6 {
            0 => 0,
            1 => usize::from(inp.u8()),
            2 => usize::from(inp.u8()) * 8,
            _ => usize::from(inp.u16() % 4000),
        };
        let first = seq + usize::from(control == TcpControl::Syn);
        let payload: Vec<u8> = (0..len).map(|i| peer_byte(first + i)).collect();
        repr.payload_len = len;
        (repr, payload)
    }
}

/// Emits `repr` and `payload` to bytes and parses them back: what the
/// interface would hand the socket.
fn through_wire(repr: &TcpRepr, payload: &[u8], src: &IpAddress, dst: &IpAddress) -> (TcpRepr, Vec<u8>) {
    let mut bytes = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), src, dst, payload, true);
    let packet = TcpPacket::new_checked(&bytes[..]).expect("emitted segment checks");
    let back = TcpRepr::parse(&packet, src, dst, true).expect("emitted segment parses");
    (back, packet.payload().to_vec())
}

/// Checks a segment the socket sent: it must survive the wire unchanged.
fn check_sent(repr: &TcpRepr, payload: &[u8]) {
    assert_eq!(repr.payload_len, payload.len());
    assert!(repr.window_scale.is_none_or(|s| s <= 14));
    if repr.control == TcpControl::Syn {
        assert!(payload.is_empty(), "SYN with data: {repr}");
    }
    let (back, back_payload) = through_wire(repr, payload, &LOCAL.addr, &REMOTE_ADDR);
    let sent_blocks = repr.sack_ranges.iter().flatten().count();
    let kept_blocks = back.sack_ranges.iter().flatten().count();
    assert!(kept_blocks <= sent_blocks);
    assert_eq!(back.sack_ranges[..kept_blocks], repr.sack_ranges[..kept_blocks]);
    assert_eq!(TcpRepr { sack_ranges: back.sack_ranges, ..*repr }, back);
    assert_eq!(back_payload, payload);
}

fn config(inp: &mut Input) -> TcpConfig {
    let bits = inp.u8();
    let more = inp.u8();
    TcpConfig {
        isn_secret: [bits; 16],
        window_scaling: bits & 1 != 0,
        timestamps: bits & 2 != 0,
        sack: bits & 4 != 0,
        nagle: bits & 8 != 0,
        ack_delay: (bits & 0x10 != 0).then(|| Duration::from_millis(40)),
        keep_alive: (bits & 0x20 != 0).then(|| Duration::from_secs(1 + u64::from(more & 0x0f))),
        congestion: if bits & 0x40 != 0 { CongestionKind::Cubic } else { CongestionKind::NewReno },
        max_retransmits: if bits & 0x80 != 0 { 3 } else { 12 },
        keep_alive_probes: 1 + u32::from(more >> 6),
        msl: Duration::from_secs(1 + u64::from((more >> 4) & 3) * 10),
        ..TcpConfig::default()
    }
}

fn time_step(inp: &mut Input) -> Duration {
    let b = inp.u8();
    let n = u64::from(b & 0x3f);
    match b >> 6 {
        0 => Duration::from_millis(n),
        1 => Duration::from_millis(n * 50),
        2 => Duration::from_secs(n),
        _ => Duration::from_secs(n * 60),
    }
}

/// One socket, with the peer at REMOTE.
struct SocketRun<'a> {
    socket: TcpSocket<'a>,
    peer: Peer,
    now: Instant,
    mss_limit: usize,
    /// Our ISS, once a SYN of the current connection is out.
    iss: Option<SeqNumber>,
    /// Bytes the application queued on the current connection.
    app_sent: usize,
    /// Sequence number of the next byte the application reads.
    rx_seq: Option<SeqNumber>,
}

impl SocketRun<'_> {
    fn feed(&mut self, repr: &TcpRepr, payload: &[u8]) {
        let (repr, payload) = through_wire(repr, payload, &REMOTE_ADDR, &LOCAL.addr);
        if !self.socket.accepts(LOCAL, REMOTE, &repr) {
            trace!("{}: not accepted: {repr}", self.now);
            return;
        }
        let before = self.socket.state();
        let unread = self.socket.recv_queue();
        let reply = self.socket.process(self.now, LOCAL, REMOTE, &repr, &payload);
        let after = self.socket.state();
        trace!("{}: in  {repr} {:?} ({before} -> {after})", self.now, repr.timestamp);
        if repr.control == TcpControl::Syn
            && matches!(before, State::Listen | State::SynSent | State::TimeWait)
            && matches!(after, State::SynReceived | State::Established)
        {
            // A new connection (TIME-WAIT reused by a new SYN included):
            // its stream starts after the SYN.
            assert_eq!(unread, 0, "{before} -> {after} dropped unread data");
            self.rx_seq = Some(repr.seq_number + 1);
            if before == State::TimeWait {
                // Our side starts over too: a new ISS, an empty stream.
                self.iss = None;
                self.app_sent = 0;
            }
        }
        if let Some(TcpReply { local, remote, repr }) = reply {
            assert_eq!((local, remote), (LOCAL, REMOTE));
            self.sent(&repr, &[]);
        }
    }

    fn sent(&mut self, repr: &TcpRepr, payload: &[u8]) {
        trace!("{}: out {repr} {:?} sack {:?}", self.now, repr.timestamp, repr.sack_ranges);
        check_sent(repr, payload);
        if repr.control == TcpControl::Syn {
            self.iss = Some(repr.seq_number);
        }
        if !payload.is_empty() {
            let iss = self.iss.expect("data before any SYN");
            for (i, &b) in payload.iter().enumerate() {
                let offset = (repr.seq_number + i).0.wrapping_sub(iss.0.wrapping_add(1)) as usize;
                assert!(offset < self.app_sent, "byte {offset} sent, {} queued", self.app_sent);
                assert_eq!(b, app_byte(offset), "sent byte {offset}");
            }
        }
        self.peer.observe(repr);
    }

    /// Dispatches until nothing is due; `fail` makes the device refuse the
    /// first segment.
    fn drain(&mut self, fail: bool) {
        let mut out: Vec<(TcpRepr, Vec<u8>)> = Vec::new();
        if fail {
            let _ = self.socket.dispatch(self.now, self.mss_limit, |_, _, _, _| Err(()));
        }
        for _ in 0..DRAIN_LIMIT {
            if self.socket.poll_at().is_none_or(|t| t > self.now) {
                break;
            }
            self.socket
                .dispatch(self.now, self.mss_limit, |local, remote, repr, payload| {
                    assert_eq!((*local, *remote), (LOCAL, REMOTE));
                    out.push((*repr, payload.to_vec()));
                    Ok::<(), ()>(())
                })
                .unwrap();
            for (repr, payload) in out.drain(..) {
                self.sent(&repr, &payload);
            }
        }
        let poll_at = self.socket.poll_at();
        assert!(
            poll_at.is_none_or(|t| t > self.now),
            "poll_at {poll_at:?} at {} after draining, state {}",
            self.now,
            self.socket.state()
        );
    }

    fn check(&mut self) {
        let s = &self.socket;
        assert!(s.send_queue() <= s.send_capacity());
        assert!(s.recv_queue() <= s.recv_capacity());
        if matches!(s.state(), State::Closed | State::Listen) {
            // The next connection starts a new stream (and a new ISS).
            self.iss = None;
            self.app_sent = 0;
            if s.recv_queue() == 0 {
                self.rx_seq = None;
            }
        }
    }

    fn step(&mut self, inp: &mut Input) {
        match inp.u8() % 14 {
            0..=5 => {
                let (repr, payload) = self.peer.segment(inp);
                self.feed(&repr, &payload);
            }
            6 | 7 => {
                self.now += time_step(inp);
                trace!("{}: time", self.now);
            }
            8 => {
                let n = usize::from(inp.u16() % 5000);
                let data: Vec<u8> = (self.app_sent..self.app_sent + n).map(app_byte).collect();
                if let Ok(k) = self.socket.send_slice(&data) {
                    trace!("{}: app sends {k} of {n}", self.now);
                    assert!(k <= n);
                    self.app_sent += k;
                }
            }
            9 => {
                let mut buf = vec![0u8; usize::from(inp.u16() % 5000)];
                if let Ok(k) = self.socket.recv_slice(&mut buf) {
                    trace!("{}: app reads {k} from {:?}", self.now, self.rx_seq);
                    if let Some(seq) = self.rx_seq {
                        for (i, &b) in buf[..k].iter().enumerate() {
                            assert_eq!(b, peer_byte(seq + i), "received byte {i} of {k}");
                        }
                        self.rx_seq = Some(seq + k);
                    }
                }
            }
            10 => {
                trace!("{}: app closes", self.now);
                self.socket.close()
            }
            11 => {
                trace!("{}: app aborts", self.now);
                self.socket.abort()
            }
            12 => {
                if self.socket.state() == State::Closed {
                    if inp.bool() {
                        self.socket.listen(LOCAL_PORT).unwrap();
                    } else {
                        self.socket.connect(LOCAL, REMOTE, self.now).unwrap();
                    }
                    self.iss = None;
                    self.app_sent = 0;
                    self.rx_seq = None;
                }
            }
            _ => {
                trace!("{}: device full", self.now);
                self.drain(true);
                return;
            }
        }
        self.check();
        self.drain(false);
        self.check();
    }
}

/// The peer's SYN or SYN-ACK for `config`, with the options it offers.
fn peer_syn(peer: &mut Peer, config: &TcpConfig, isn: u32, ack: Option<SeqNumber>) -> TcpRepr {
    peer.seq = SeqNumber(isn);
    TcpRepr {
        src_port: peer.port,
        dst_port: LOCAL_PORT,
        control: TcpControl::Syn,
        seq_number: peer.seq,
        ack_number: ack,
        window_len: 65535,
        max_seg_size: Some(1460),
        window_scale: config.window_scaling.then_some(7),
        sack_permitted: config.sack,
        timestamp: config.timestamps.then_some(TcpTimestamp { tsval: peer.tsval, tsecr: peer.ts_recent }),
        ..TcpRepr::default()
    }
}

fn run_socket(inp: &mut Input, start: u8) {
    let config = config(inp);
    let sizes = inp.u8();
    let mut rx = vec![0u8; BUFFER_SIZES[usize::from(sizes & 7)]];
    let mut tx = vec![0u8; BUFFER_SIZES[usize::from((sizes >> 3) & 7)]];
    let mss_limit = MSS_LIMITS[usize::from(sizes >> 5)];
    let mut run = SocketRun {
        socket: TcpSocket::new(RingBuffer::new(&mut rx), RingBuffer::new(&mut tx), config),
        peer: Peer::new(REMOTE.port),
        now: Instant::from_millis(i64::from(inp.u16())),
        mss_limit,
        iss: None,
        app_sent: 0,
        rx_seq: None,
    };
    let isn = inp.u32();
    match start {
        // LISTEN
        0 => run.socket.listen(LOCAL_PORT).unwrap(),
        // SYN-SENT, SYN out
        1 => {
            run.socket.connect(LOCAL, REMOTE, run.now).unwrap();
            run.drain(false);
        }
        // ESTABLISHED by a passive open
        2 => {
            run.socket.listen(LOCAL_PORT).unwrap();
            let syn = peer_syn(&mut run.peer, &config, isn, None);
            run.feed(&syn, &[]);
            run.drain(false);
            let ack = TcpRepr {
                control: TcpControl::None,
                seq_number: run.peer.seq,
                ack_number: Some(run.peer.ack),
                window_scale: None,
                max_seg_size: None,
                sack_permitted: false,
                timestamp: syn.timestamp.map(|_| TcpTimestamp { tsval: run.peer.tsval, tsecr: run.peer.ts_recent }),
                ..syn
            };
            run.feed(&ack, &[]);
            run.drain(false);
            assert_eq!(run.socket.state(), State::Established);
        }
        // ESTABLISHED by an active open
        _ => {
            run.socket.connect(LOCAL, REMOTE, run.now).unwrap();
            run.drain(false);
            let ack = Some(run.peer.ack);
            let syn_ack = peer_syn(&mut run.peer, &config, isn, ack);
            run.feed(&syn_ack, &[]);
            run.drain(false);
            assert_eq!(run.socket.state(), State::Established);
        }
    }
    run.check();
    for _ in 0..MAX_OPS {
        if inp.is_empty() {
            break;
        }
        run.step(inp);
    }
}

/// A listener over three sockets; peers on three ports.
fn run_listener(inp: &mut Input) {
    let config = config(inp);
    let limits = inp.u8();
    let limits = ListenerConfig {
        syn_backlog: usize::from(limits & 3),
        accept_backlog: usize::from((limits >> 2) & 3),
        syn_cookies: limits & 0x10 != 0,
    };
    let size = BUFFER_SIZES[usize::from(inp.u8() & 7)];
    let mss_limit = MSS_LIMITS[usize::from(inp.u8() & 7)];
    let mut storage = vec![0u8; 6 * size];
    let mut pool: Vec<TcpSocket> = storage
        .chunks_exact_mut(2 * size)
        .map(|both| {
            let (rx, tx) = both.split_at_mut(size);
            TcpSocket::new(RingBuffer::new(rx), RingBuffer::new(tx), config)
        })
        .collect();
    let mut listener = TcpListener::new(LOCAL_PORT, &mut pool, config, limits);
    let mut peers = REMOTE_PORTS.map(Peer::new);
    let mut now = Instant::from_millis(i64::from(inp.u16()));
    let observe = |peers: &mut [Peer; 3], remote: IpEndpoint, repr: &TcpRepr, payload: &[u8]| {
        assert_eq!(remote.addr, REMOTE_ADDR);
        check_sent(repr, payload);
        let peer = peers.iter_mut().find(|p| p.port == remote.port).expect("a known peer");
        peer.observe(repr);
    };

    for _ in 0..MAX_OPS {
        if inp.is_empty() {
            break;
        }
        let mut fail = false;
        match inp.u8() % 12 {
            0..=4 => {
                let peer = &mut peers[usize::from(inp.u8() % 3)];
                let remote = IpEndpoint::new(REMOTE_ADDR, peer.port);
                let (repr, payload) = peer.segment(inp);
                let (repr, payload) = through_wire(&repr, &payload, &REMOTE_ADDR, &LOCAL.addr);
                if listener.accepts(LOCAL, remote, &repr) {
                    if let Some(reply) = listener.process(now, LOCAL, remote, &repr, &payload) {
                        assert_eq!(reply.local, LOCAL);
                        observe(&mut peers, reply.remote, &reply.repr, &[]);
                    }
                }
            }
            5 | 6 => now += time_step(inp),
            7 => {
                listener.accept();
            }
            8 => listener.release(usize::from(inp.u8() % 4)),
            9 => {
                let index = usize::from(inp.u8() % 3);
                let n = usize::from(inp.u16() % 5000);
                if let Some(s) = listener.socket(index) {
                    match inp.u8() % 4 {
                        0 => {
                            let _ = s.send_slice(&vec![0x5a; n]);
                        }
                        1 => {
                            let _ = s.recv_slice(&mut vec![0; n]);
                        }
                        2 => s.close(),
                        _ => s.abort(),
                    }
                }
            }
            10 => fail = true,
            _ => {}
        }
        if fail {
            let _ = listener.dispatch(now, mss_limit, |_, _, _, _| Err(()));
            continue;
        }
        let mut out: Vec<(IpEndpoint, TcpRepr, Vec<u8>)> = Vec::new();
        for _ in 0..DRAIN_LIMIT {
            if listener.poll_at().is_none_or(|t| t > now) {
                break;
            }
            listener
                .dispatch(now, mss_limit, |local, remote, repr, payload| {
                    assert_eq!(*local, LOCAL);
                    out.push((*remote, *repr, payload.to_vec()));
                    Ok::<(), ()>(())
                })
                .unwrap();
            for (remote, repr, payload) in out.drain(..) {
                observe(&mut peers, remote, &repr, &payload);
            }
        }
        let poll_at = listener.poll_at();
        assert!(poll_at.is_none_or(|t| t > now), "listener poll_at {poll_at:?} at {now} after draining");
        assert!(listener.syn_queue_len() + listener.accept_queue_len() <= 3);
        for i in 0..3 {
            let s = listener.socket(i).unwrap();
            assert!(s.send_queue() <= s.send_capacity());
            assert!(s.recv_queue() <= s.recv_capacity());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    match inp.u8() % 5 {
        4 => run_listener(&mut inp),
        start => run_socket(&mut inp, start),
    }
});
