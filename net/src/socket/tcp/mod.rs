//! TCP sockets: the RFC 9293 connection state machine over caller-provided
//! ring buffers, and [`TcpListener`], a listening port with a backlog.
//!
//! A [`TcpSocket`] never touches a device. The interface drives it with
//! four calls: [`accepts`](TcpSocket::accepts) (does this segment belong to
//! the socket), [`process`](TcpSocket::process) (handle one incoming
//! segment, possibly answering at once), [`dispatch`](TcpSocket::dispatch)
//! (emit the next segment that is due: data, retransmission, ACK, FIN,
//! probes) and [`poll_at`](TcpSocket::poll_at) (when to call `dispatch`
//! next). The application uses `connect`/`listen`, `send`/`recv` and
//! `close`/`abort`.
//!
//! Implemented: all eleven states (active, passive and simultaneous open,
//! half-close, simultaneous close, TIME-WAIT for 2*MSL with RFC 6191
//! reuse), the RFC 9293 acceptability tests, RFC 5961 challenge ACKs (RST
//! not at RCV.NXT, SYN in a synchronized state, ACK outside the acceptable
//! range; rate limited), MSS, window scaling, timestamps with PAWS (RFC
//! 7323), SACK generation (RFC 2018) and SACK-based loss recovery (RFC
//! 6675), RFC 6298 RTO (Karn's rule or timestamp samples, exponential
//! backoff), fast retransmit and NewReno fast recovery (RFC 5681/6582),
//! NewReno or CUBIC (RFC 9438) per socket, delayed ACKs, Nagle, sender and
//! receiver silly-window avoidance, zero-window probes, keepalive,
//! out-of-order reassembly with a bounded number of holes, RFC 6528 ISNs,
//! and SYN cookies in the listener.
//!
//! # Driving sockets from an interface
//!
//! Receive: parse the segment with [`TcpRepr::parse`] (which verifies the
//! checksum), then offer it to the sockets, exact 4-tuple matches first
//! (sockets past LISTEN), then listeners (a [`TcpListener`] or a
//! [`TcpSocket`] in LISTEN): the first whose `accepts(local, remote,
//! &repr)` is true gets `process(now, local, remote, &repr, payload)`; a
//! returned [`TcpReply`] is sent at once (it never carries payload). If
//! nothing accepts the segment, send [`rst_reply`] instead.
//!
//! Transmit: call `dispatch(now, mss_limit, emit)` on each socket until
//! it stops calling `emit` (one segment per call), where `mss_limit` is
//! the path MTU minus the IP header minus 20. `emit(&local, &remote, repr,
//! payload)` builds the frame (`repr.emit(..)` with the IP addresses) and
//! returns `Err` when the device has no room; the socket then keeps the
//! segment due.
//!
//! Sleep: `poll_at()` is the earliest deadline of all TCP timers; an
//! instant at or before now (it uses `Instant::ZERO`) means "dispatch
//! again at once", `None` means "only after input or an application
//! call".
//!
//! Two sockets wired back to back, the way an interface drives them:
//!
//! ```
//! use net::socket::tcp::{State, TcpConfig, TcpSocket};
//! use net::storage::RingBuffer;
//! use net::time::Instant;
//! use net::wire::{IpEndpoint, Ipv4Address};
//!
//! let (mut b1, mut b2, mut b3, mut b4) = ([0u8; 4096], [0u8; 4096], [0u8; 4096], [0u8; 4096]);
//! let config = TcpConfig { isn_secret: [7; 16], ..TcpConfig::default() };
//! let mut client = TcpSocket::new(RingBuffer::new(&mut b1), RingBuffer::new(&mut b2), config);
//! let mut server = TcpSocket::new(RingBuffer::new(&mut b3), RingBuffer::new(&mut b4), config);
//! let c = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 2).into(), 49152);
//! let s = IpEndpoint::new(Ipv4Address::new(10, 0, 0, 1).into(), 80);
//! server.listen(80).unwrap();
//! client.connect(c, s, Instant::ZERO).unwrap();
//! client.send_slice(b"hello").unwrap();
//!
//! // One poll round: every segment one side emits is processed by the
//! // other (a real interface would emit and parse bytes in between).
//! fn round(now: Instant, from: &mut TcpSocket, to: &mut TcpSocket) {
//!     loop {
//!         let mut out = None;
//!         from.dispatch(now, 1460, |local, remote, repr, payload| {
//!             out = Some((*local, *remote, *repr, payload.to_vec()));
//!             Ok::<(), ()>(())
//!         }).unwrap();
//!         let Some((local, remote, repr, payload)) = out else { break };
//!         if to.accepts(remote, local, &repr) {
//!             if let Some(reply) = to.process(now, remote, local, &repr, &payload) {
//!                 assert!(from.accepts(reply.remote, reply.local, &reply.repr));
//!                 from.process(now, reply.remote, reply.local, &reply.repr, &[]);
//!             }
//!         }
//!     }
//! }
//! for ms in 0..100 {
//!     let now = Instant::from_millis(ms);
//!     round(now, &mut client, &mut server);
//!     round(now, &mut server, &mut client);
//! }
//! assert_eq!(server.state(), State::Established);
//! let mut buf = [0u8; 16];
//! assert_eq!(server.recv_slice(&mut buf), Ok(5));
//! assert_eq!(&buf[..5], b"hello");
//! ```

mod assembler;
mod congestion;
pub mod cookie;
mod input;
mod isn;
mod listener;
mod output;
mod recovery;
mod rtt;
#[cfg(test)]
mod tests;

pub use assembler::MAX_RANGES as MAX_REASSEMBLY_RANGES;
pub use congestion::{Congestion, CongestionKind, Controller, Cubic, NewReno};
pub use isn::{initial_sequence_number, siphash24};
pub use listener::{ListenerConfig, ListenerStats, TcpListener};
pub use rtt::RttEstimator;

use core::fmt;

use assembler::Assembler;

use crate::storage::RingBuffer;
use crate::time::{Duration, Instant};
use crate::wire::tcp::{Repr as TcpRepr, SackBlock, SeqNumber, TcpControl, TcpTimestamp, MAX_WINDOW_SHIFT};
use crate::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

/// The connection states of RFC 9293 section 3.3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        })
    }
}

/// Per-socket tunables. `Default` gives sensible values for a LAN or the
/// Internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Secret keying initial sequence numbers (RFC 6528) and timestamp
    /// offsets. The embedder seeds it from a random source; every socket of
    /// a stack may share one.
    pub isn_secret: [u8; 16],
    /// RTO before any RTT sample (RFC 6298: 1 s).
    pub rto_initial: Duration,
    /// Floor of the RTO (RFC 6298 says 1 s; 200 ms like Linux by default).
    pub rto_min: Duration,
    /// Ceiling of the RTO and of backoff.
    pub rto_max: Duration,
    /// Consecutive timeouts after which the connection is aborted.
    pub max_retransmits: u32,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this.
    pub msl: Duration,
    /// Delay for ACKs of in-order data (`None`: ACK every segment).
    pub ack_delay: Option<Duration>,
    /// Nagle's algorithm (RFC 9293 3.7.4).
    pub nagle: bool,
    /// Idle time after which a keepalive probe is sent, and the interval
    /// between probes (`None`: off).
    pub keep_alive: Option<Duration>,
    /// Unanswered keepalive probes after which the connection is aborted.
    pub keep_alive_probes: u32,
    /// Most challenge ACKs (RFC 5961 section 7) sent per second.
    pub challenge_ack_limit: u32,
    /// Offer window scaling (RFC 7323).
    pub window_scaling: bool,
    /// Offer timestamps and PAWS (RFC 7323).
    pub timestamps: bool,
    /// Offer SACK (RFC 2018): we then send SACK blocks.
    pub sack: bool,
    /// Congestion control algorithm.
    pub congestion: CongestionKind,
}

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            isn_secret: [0; 16],
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            max_retransmits: 12,
            msl: Duration::from_secs(30),
            ack_delay: Some(Duration::from_millis(40)),
            nagle: true,
            keep_alive: None,
            keep_alive_probes: 9,
            challenge_ack_limit: 10,
            window_scaling: true,
            timestamps: true,
            sack: true,
            congestion: CongestionKind::NewReno,
        }
    }
}

/// A segment to send at once, in answer to one just processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpReply {
    pub local: IpEndpoint,
    pub remote: IpEndpoint,
    pub repr: TcpRepr,
}

/// Why `connect` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// The socket is not closed.
    InvalidState,
    /// An unspecified address or a zero port, or mixed address families.
    Unaddressable,
}

/// Why `listen` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenError {
    InvalidState,
    Unaddressable,
}

/// Why `send` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The send side is closed (or never opened).
    InvalidState,
}

/// Why `recv` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// The connection is not open for receiving.
    InvalidState,
    /// The peer closed its side and everything it sent has been read.
    Finished,
}

/// Diagnostics about one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    pub state: State,
    pub srtt: Option<Duration>,
    pub rttvar: Duration,
    pub rto: Duration,
    pub cwnd: usize,
    pub ssthresh: usize,
    pub bytes_in_flight: usize,
    /// Segments retransmitted over the connection's life.
    pub retransmits: u32,
    /// The peer's window in bytes (scaled).
    pub send_window: usize,
    /// Payload bytes per full segment we send.
    pub mss: usize,
}

/// Default MSS when the peer sends none (RFC 9293 3.7.1 / RFC 8200).
const DEFAULT_MSS_V4: usize = 536;
const DEFAULT_MSS_V6: usize = 1220;
/// Smallest peer MSS we honour, so a peer cannot make us send tiny
/// segments.
const MIN_PEER_MSS: usize = 64;
/// Bytes a timestamp option adds to every segment once negotiated.
const TIMESTAMP_OVERHEAD: usize = 12;
/// Timestamps older than this are no longer trusted by PAWS (RFC 7323 5.5).
const PAWS_IDLE_LIMIT: Duration = Duration::from_secs(24 * 24 * 3600);

/// A TCP connection endpoint.
#[derive(Debug)]
pub struct TcpSocket<'a> {
    config: TcpConfig,
    state: State,
    /// Opened from `listen`: an RST in SYN-RECEIVED returns to LISTEN.
    listen_endpoint: Option<IpListenEndpoint>,
    /// (local, remote) once the 4-tuple is known.
    tuple: Option<(IpEndpoint, IpEndpoint)>,
    /// The 4-tuple's ports as one word (see [`ports_key`]), 0 without a
    /// tuple: the searches of every received segment compare it first.
    tuple_ports: u32,
    /// The 4-tuple is IPv6 (a byte to test, for the listener's pass over
    /// its pool on every dispatch).
    tuple_v6: bool,
    rx_buffer: RingBuffer<'a>,
    tx_buffer: RingBuffer<'a>,
    assembler: Assembler,
    /// The sequence number of the most recent out-of-order segment (its
    /// SACK block goes first, RFC 2018 section 4).
    recent_ooo: Option<SeqNumber>,

    // Send sequence space.
    iss: SeqNumber,
    syn_acked: bool,
    snd_una: SeqNumber,
    snd_nxt: SeqNumber,
    /// Highest sequence number sent (SND.NXT before any go-back).
    snd_max: SeqNumber,
    snd_wnd: usize,
    max_snd_wnd: usize,
    snd_wl1: SeqNumber,
    snd_wl2: SeqNumber,
    /// Shift applied to the peer's window field.
    snd_shift: u8,
    /// Both sides offered window scaling.
    window_scaling: bool,
    /// close() was called in SYN-SENT or SYN-RECEIVED: FIN once established.
    close_pending: bool,
    /// abort() was called: the next dispatch sends RST.
    rst_pending: bool,
    /// Handed to the application by a [`TcpListener`]; survives resets so
    /// the listener never reuses a socket the application still holds.
    accepted: bool,
    /// Opened by a SYN (passive open): TIME-WAIT may be reused by a new SYN.
    passive: bool,

    // Receive sequence space.
    irs: SeqNumber,
    rcv_nxt: SeqNumber,
    /// Shift applied to our window field.
    rcv_shift: u8,
    /// Right edge of the window last advertised.
    rcv_adv_edge: SeqNumber,
    /// ACK number last sent.
    last_ack_sent: SeqNumber,
    /// Largest payload seen from the peer (for delayed ACK and SWS).
    rcv_mss: usize,
    /// In-order bytes received since the last ACK we sent.
    unacked_bytes: usize,

    // Options.
    /// The peer's MSS option (or the default).
    remote_mss: usize,
    /// What the interface said fits in one segment (last `dispatch`).
    mss_limit: usize,
    /// Payload one segment may carry when the device segments it (TCP
    /// segmentation offload); 0: every segment is at most one MSS.
    offload_len: usize,
    sack_ok: bool,
    timestamps: bool,
    ts_recent: u32,
    ts_recent_at: Instant,
    ts_offset: u32,

    // Timers and loss recovery.
    rtt: RttEstimator,
    /// Karn timing: (sequence number that must be acknowledged, send time).
    rtt_timed: Option<(SeqNumber, Instant)>,
    rto_at: Option<Instant>,
    retransmits: u32,
    total_retransmits: u32,
    /// Our SYN or SYN-ACK had to be retransmitted.
    handshake_timed_out: bool,
    persist_at: Option<Instant>,
    persist_backoff: u32,
    ack_at: Option<Instant>,
    time_wait_until: Option<Instant>,
    last_rx_at: Instant,
    last_keepalive_at: Option<Instant>,
    keepalive_probes_sent: u32,
    /// Start of the current one-second challenge ACK budget, and its use.
    challenge_window_start: Instant,
    challenge_acks: u32,
    congestion: Congestion,
    dup_acks: u32,
    /// `Some(recover)` during NewReno fast recovery.
    recovery: Option<SeqNumber>,
    /// SND.MAX when the last recovery or timeout began: one past the
    /// highest sequence number sent then (RFC 6582 `recover` + 1). A new
    /// recovery needs SND.UNA at or beyond it.
    recover: SeqNumber,
    fast_retransmit: bool,
    /// SACKed ranges above SND.UNA, as offsets from it (RFC 6675
    /// scoreboard).
    scoreboard: Assembler,
    /// Highest sequence number retransmitted in this recovery (HighRxt).
    high_rxt: SeqNumber,
    /// Set by a `dispatch` that found nothing to send; cleared by every
    /// call that can change what is due (input, application calls).
    quiet: Option<Quiet>,
    /// For the segment being processed (set as each one enters): the
    /// sequence number and length of an in-order payload that
    /// [`process_with_sum`](Self::process_with_sum) already copied
    /// into the receive buffer's free space while summing it, which
    /// `process_data_and_fin` then queues without copying it again.
    rx_staged: Option<(SeqNumber, usize)>,
}

/// What a `dispatch` that sent nothing learnt: no segment is due before
/// `until` (`None`: only after input or an application call) as long as
/// the socket is not touched and the route MSS stays `mss_limit`. It lets
/// `dispatch` and `poll_at` of an idle socket answer without planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quiet {
    until: Option<Instant>,
    mss_limit: usize,
}

impl<'a> TcpSocket<'a> {
    /// A closed socket over two ring buffers.
    pub fn new(rx_buffer: RingBuffer<'a>, tx_buffer: RingBuffer<'a>, config: TcpConfig) -> TcpSocket<'a> {
        TcpSocket {
            rtt: RttEstimator::new(config.rto_initial, config.rto_min, config.rto_max),
            congestion: Congestion::new(config.congestion, DEFAULT_MSS_V4),
            config,
            state: State::Closed,
            listen_endpoint: None,
            tuple: None,
            tuple_ports: 0,
            tuple_v6: false,
            rx_buffer,
            tx_buffer,
            assembler: Assembler::new(),
            recent_ooo: None,
            iss: SeqNumber(0),
            syn_acked: false,
            snd_una: SeqNumber(0),
            snd_nxt: SeqNumber(0),
            snd_max: SeqNumber(0),
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: SeqNumber(0),
            snd_wl2: SeqNumber(0),
            snd_shift: 0,
            window_scaling: false,
            close_pending: false,
            rst_pending: false,
            accepted: false,
            passive: false,
            irs: SeqNumber(0),
            rcv_nxt: SeqNumber(0),
            rcv_shift: 0,
            rcv_adv_edge: SeqNumber(0),
            last_ack_sent: SeqNumber(0),
            rcv_mss: DEFAULT_MSS_V4,
            unacked_bytes: 0,
            remote_mss: DEFAULT_MSS_V4,
            mss_limit: DEFAULT_MSS_V4,
            offload_len: 0,
            sack_ok: false,
            timestamps: false,
            ts_recent: 0,
            ts_recent_at: Instant::ZERO,
            ts_offset: 0,
            rtt_timed: None,
            rto_at: None,
            retransmits: 0,
            total_retransmits: 0,
            handshake_timed_out: false,
            persist_at: None,
            persist_backoff: 0,
            ack_at: None,
            time_wait_until: None,
            last_rx_at: Instant::ZERO,
            last_keepalive_at: None,
            keepalive_probes_sent: 0,
            challenge_window_start: Instant::ZERO,
            challenge_acks: 0,
            dup_acks: 0,
            recovery: None,
            recover: SeqNumber(0),
            fast_retransmit: false,
            scoreboard: Assembler::new(),
            high_rxt: SeqNumber(0),
            quiet: None,
            rx_staged: None,
        }
    }

    /// Returns every connection variable to its closed value (what `new`
    /// sets), keeping the buffers' contents (unread data stays readable
    /// after a close), the config and the listener's mark. Field by field
    /// rather than a whole new socket: the reassembly and SACK ranges only
    /// need emptying, and what is kept is not copied out and back, which
    /// saves a fair share of the stores of every connection. The pattern
    /// names every field, so a new one cannot be forgotten here.
    fn reset_connection(&mut self) {
        self.set_state(State::Closed);
        let TcpSocket {
            config,
            state: _,
            listen_endpoint,
            tuple,
            tuple_ports,
            tuple_v6,
            rx_buffer: _,
            tx_buffer: _,
            assembler,
            recent_ooo,
            iss,
            syn_acked,
            snd_una,
            snd_nxt,
            snd_max,
            snd_wnd,
            max_snd_wnd,
            snd_wl1,
            snd_wl2,
            snd_shift,
            window_scaling,
            close_pending,
            rst_pending,
            accepted: _,
            passive,
            irs,
            rcv_nxt,
            rcv_shift,
            rcv_adv_edge,
            last_ack_sent,
            rcv_mss,
            unacked_bytes,
            remote_mss,
            mss_limit,
            offload_len,
            sack_ok,
            timestamps,
            ts_recent,
            ts_recent_at,
            ts_offset,
            rtt,
            rtt_timed,
            rto_at,
            retransmits,
            total_retransmits,
            handshake_timed_out,
            persist_at,
            persist_backoff,
            ack_at,
            time_wait_until,
            last_rx_at,
            last_keepalive_at,
            keepalive_probes_sent,
            challenge_window_start,
            challenge_acks,
            congestion,
            dup_acks,
            recovery,
            recover,
            fast_retransmit,
            scoreboard,
            high_rxt,
            quiet,
            rx_staged,
        } = self;
        *listen_endpoint = None;
        *tuple = None;
        *tuple_ports = 0;
        *tuple_v6 = false;
        assembler.clear();
        *recent_ooo = None;
        *iss = SeqNumber(0);
        *syn_acked = false;
        *snd_una = SeqNumber(0);
        *snd_nxt = SeqNumber(0);
        *snd_max = SeqNumber(0);
        *snd_wnd = 0;
        *max_snd_wnd = 0;
        *snd_wl1 = SeqNumber(0);
        *snd_wl2 = SeqNumber(0);
        *snd_shift = 0;
        *window_scaling = false;
        *close_pending = false;
        *rst_pending = false;
        *passive = false;
        *irs = SeqNumber(0);
        *rcv_nxt = SeqNumber(0);
        *rcv_shift = 0;
        *rcv_adv_edge = SeqNumber(0);
        *last_ack_sent = SeqNumber(0);
        *rcv_mss = DEFAULT_MSS_V4;
        *unacked_bytes = 0;
        *remote_mss = DEFAULT_MSS_V4;
        *mss_limit = DEFAULT_MSS_V4;
        *offload_len = 0;
        *sack_ok = false;
        *timestamps = false;
        *ts_recent = 0;
        *ts_recent_at = Instant::ZERO;
        *ts_offset = 0;
        *rtt = RttEstimator::new(config.rto_initial, config.rto_min, config.rto_max);
        *rtt_timed = None;
        *rto_at = None;
        *retransmits = 0;
        *total_retransmits = 0;
        *handshake_timed_out = false;
        *persist_at = None;
        *persist_backoff = 0;
        *ack_at = None;
        *time_wait_until = None;
        *last_rx_at = Instant::ZERO;
        *last_keepalive_at = None;
        *keepalive_probes_sent = 0;
        *challenge_window_start = Instant::ZERO;
        *challenge_acks = 0;
        *congestion = Congestion::new(config.congestion, DEFAULT_MSS_V4);
        *dup_acks = 0;
        *recovery = None;
        *recover = SeqNumber(0);
        *fast_retransmit = false;
        scoreboard.clear();
        *high_rxt = SeqNumber(0);
        *quiet = None;
        *rx_staged = None;
    }

    /// Moves to `state` (logging the transition with feature `log`).
    fn set_state(&mut self, state: State) {
        #[cfg(feature = "log")]
        if self.state != state {
            match self.tuple {
                Some((local, remote)) => log::debug!("tcp {local} <-> {remote}: {} -> {state}", self.state),
                None => log::debug!("tcp: {} -> {state}", self.state),
            }
        }
        self.state = state;
    }

    /// Goes to CLOSED after an RST or abort: queued data is discarded.
    fn reset_hard(&mut self) {
        self.quiet = None;
        if self.state == State::Closed {
            // Every way into CLOSED rebuilds the connection variables, and
            // a closed socket changes none but the config (with what is
            // derived from it) and the offload setting: rebuilt here rather
            // than the whole socket, a measurable cost per connection.
            self.rtt = RttEstimator::new(self.config.rto_initial, self.config.rto_min, self.config.rto_max);
            self.congestion = Congestion::new(self.config.congestion, DEFAULT_MSS_V4);
            self.offload_len = 0;
        } else {
            self.reset_connection();
        }
        self.rx_buffer.clear();
        self.tx_buffer.clear();
    }

    pub fn config(&self) -> &TcpConfig {
        &self.config
    }
    /// Replaces the tunables; timing changes apply from the next timer.
    pub fn set_config(&mut self, config: TcpConfig) {
        self.quiet = None;
        self.config = config;
    }
    /// Lets new data go out in segments of up to `max_payload` bytes, a
    /// whole number of MSS each, for a device that cuts them at the MTU
    /// itself (TCP segmentation offload); 0 turns it off. Only while the
    /// peer's MSS is at least the route's, so the device's pieces are never
    /// larger than the peer takes. The interface sets it from the device.
    pub fn set_segmentation_offload(&mut self, max_payload: usize) {
        if self.offload_len != max_payload {
            self.quiet = None;
            self.offload_len = max_payload;
        }
    }
    pub fn state(&self) -> State {
        self.state
    }
    pub fn local_endpoint(&self) -> Option<IpEndpoint> {
        self.tuple.map(|t| t.0)
    }
    pub fn remote_endpoint(&self) -> Option<IpEndpoint> {
        self.tuple.map(|t| t.1)
    }
    /// The peer's address when it is an IPv6 one (without copying the
    /// 4-tuple: the interface asks on every dispatch).
    pub(crate) fn remote_ipv6(&self) -> Option<crate::wire::Ipv6Address> {
        match &self.tuple {
            Some((_, IpEndpoint { addr: IpAddress::V6(addr), .. })) => Some(*addr),
            Some(_) | None => None,
        }
    }

    // ---------------------------------------------------------------
    // Application API
    // ---------------------------------------------------------------

    /// Starts an active open: the SYN goes out on the next `dispatch`.
    pub fn connect(&mut self, local: IpEndpoint, remote: IpEndpoint, now: Instant) -> Result<(), ConnectError> {
        self.quiet = None;
        if self.state != State::Closed {
            return Err(ConnectError::InvalidState);
        }
        let same_family = matches!(
            (local.addr, remote.addr),
            (IpAddress::V4(_), IpAddress::V4(_)) | (IpAddress::V6(_), IpAddress::V6(_))
        );
        if local.port == 0
            || remote.port == 0
            || local.addr.is_unspecified()
            || remote.addr.is_unspecified()
            || remote.addr.is_multicast()
            || !same_family
        {
            return Err(ConnectError::Unaddressable);
        }
        self.reset_hard();
        self.open_tuple(local, remote, now);
        self.set_state(State::SynSent);
        Ok(())
    }

    /// Waits for a connection on `endpoint`.
    pub fn listen(&mut self, endpoint: impl Into<IpListenEndpoint>) -> Result<(), ListenError> {
        self.quiet = None;
        let endpoint = endpoint.into();
        if endpoint.port == 0 {
            return Err(ListenError::Unaddressable);
        }
        match self.state {
            State::Closed => {}
            State::Listen if self.listen_endpoint == Some(endpoint) => return Ok(()),
            _ => return Err(ListenError::InvalidState),
        }
        self.reset_hard();
        self.listen_endpoint = Some(endpoint);
        self.set_state(State::Listen);
        Ok(())
    }

    /// Sets the 4-tuple and everything derived from it.
    fn open_tuple(&mut self, local: IpEndpoint, remote: IpEndpoint, now: Instant) {
        self.tuple = Some((local, remote));
        self.tuple_ports = ports_key(local.port, remote.port);
        self.tuple_v6 = matches!(remote.addr, IpAddress::V6(_));
        (self.iss, self.ts_offset) = isn::isn_and_ts_offset(&self.config.isn_secret, local, remote, now);
        self.snd_una = self.iss;
        self.snd_nxt = self.iss;
        self.snd_max = self.iss;
        self.recover = self.iss;
        self.remote_mss = match remote.addr {
            IpAddress::V4(_) => DEFAULT_MSS_V4,
            IpAddress::V6(_) => DEFAULT_MSS_V6,
        };
        self.rcv_shift = if self.config.window_scaling { self.wanted_rcv_shift() } else { 0 };
        self.last_rx_at = now;
    }

    /// The smallest shift that lets the advertised window cover the
    /// whole receive buffer.
    fn wanted_rcv_shift(&self) -> u8 {
        let mut shift = 0;
        while shift < MAX_WINDOW_SHIFT && (self.rx_buffer.capacity() >> shift) > 0xffff {
            shift += 1;
        }
        shift
    }

    /// Enters SYN-RECEIVED for a SYN that arrived at a listening socket.
    /// A listener that keeps its own SYN queue calls this on a fresh
    /// (CLOSED) socket; such a socket goes back to CLOSED, not LISTEN, on
    /// a reset.
    pub fn open_from_syn(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
    ) -> Result<(), ConnectError> {
        self.quiet = None;
        if !matches!(self.state, State::Closed | State::Listen) {
            return Err(ConnectError::InvalidState);
        }
        if repr.control != TcpControl::Syn || repr.ack_number.is_some() {
            return Err(ConnectError::InvalidState);
        }
        if self.state == State::Closed {
            self.reset_hard();
        }
        self.open_tuple(local, remote, now);
        self.take_syn(now, repr);
        self.set_state(State::SynReceived);
        self.passive = true;
        Ok(())
    }

    /// Completes the state of a socket opened by [`open_from_syn`](Self::open_from_syn) from a
    /// SYN cookie: our SYN-ACK (ISS `iss`, TSval offset `ts_offset`) is
    /// already out, so the client's ACK will establish the connection.
    fn adopt_cookie(&mut self, iss: SeqNumber, ts_offset: u32) {
        self.quiet = None;
        self.iss = iss;
        self.snd_una = iss;
        self.snd_nxt = iss + 1;
        self.snd_max = iss + 1;
        self.recover = iss;
        self.snd_wl2 = iss;
        self.ts_offset = ts_offset;
        self.rto_at = None;
    }

    /// Records what the peer's SYN (or SYN-ACK) tells us.
    fn take_syn(&mut self, now: Instant, repr: &TcpRepr) {
        self.irs = repr.seq_number;
        self.rcv_nxt = repr.seq_number + 1;
        self.last_ack_sent = self.rcv_nxt;
        self.rcv_adv_edge = self.rcv_nxt;
        if let Some(mss) = repr.max_seg_size {
            self.remote_mss = usize::from(mss).max(MIN_PEER_MSS);
        }
        match repr.window_scale {
            Some(shift) if self.config.window_scaling => {
                self.snd_shift = shift;
                self.window_scaling = true;
            }
            _ => {
                self.snd_shift = 0;
                self.rcv_shift = 0;
                self.window_scaling = false;
            }
        }
        self.sack_ok = self.config.sack && repr.sack_permitted;
        match repr.timestamp {
            Some(ts) if self.config.timestamps => {
                self.timestamps = true;
                self.ts_recent = ts.tsval;
                self.ts_recent_at = now;
            }
            _ => self.timestamps = false,
        }
        // The window of a SYN is never scaled (RFC 7323 2.2).
        self.snd_wnd = usize::from(repr.window_len);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = repr.seq_number;
        self.snd_wl2 = repr.ack_number.unwrap_or(self.iss);
        self.last_rx_at = now;
    }

    /// Whether the application may queue data (ESTABLISHED, CLOSE-WAIT).
    pub fn may_send(&self) -> bool {
        matches!(self.state, State::Established | State::CloseWait) && !self.close_pending
    }
    /// Whether the peer may still send us data, or unread data remains.
    pub fn may_recv(&self) -> bool {
        matches!(self.state, State::Established | State::FinWait1 | State::FinWait2) || !self.rx_buffer.is_empty()
    }
    /// Whether `send` would queue at least one byte now.
    pub fn can_send(&self) -> bool {
        self.send_allowed() && !self.tx_buffer.is_full()
    }
    /// Whether `recv` would return at least one byte now.
    pub fn can_recv(&self) -> bool {
        !self.rx_buffer.is_empty()
    }
    /// Bytes queued for sending (including sent, unacknowledged ones).
    pub fn send_queue(&self) -> usize {
        self.tx_buffer.len()
    }
    /// Bytes received and not yet read.
    pub fn recv_queue(&self) -> usize {
        self.rx_buffer.len()
    }
    pub fn send_capacity(&self) -> usize {
        self.tx_buffer.capacity()
    }
    pub fn recv_capacity(&self) -> usize {
        self.rx_buffer.capacity()
    }

    /// Data may be queued while the handshake is in progress too.
    fn send_allowed(&self) -> bool {
        self.may_send() || (matches!(self.state, State::SynSent | State::SynReceived) && !self.close_pending)
    }

    /// Queues as much of `data` as fits; returns the count.
    pub fn send_slice(&mut self, data: &[u8]) -> Result<usize, SendError> {
        if !self.send_allowed() {
            return Err(SendError::InvalidState);
        }
        let n = self.tx_buffer.enqueue_slice(data);
        self.touched_buffer(n);
        Ok(n)
    }

    /// Bytes were queued or read: what `dispatch` sends may have changed
    /// (an unchanged buffer changes nothing).
    fn touched_buffer(&mut self, bytes: usize) {
        if bytes > 0 {
            self.quiet = None;
        }
    }

    /// Zero-copy send: `f` writes into the free space it is given (one
    /// contiguous part of the ring) and returns how many bytes it wrote.
    pub fn send<R>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, R)) -> Result<R, SendError> {
        if !self.send_allowed() {
            return Err(SendError::InvalidState);
        }
        let (n, r) = self.tx_buffer.enqueue_many_with(f);
        self.touched_buffer(n);
        Ok(r)
    }

    #[inline]
    fn recv_allowed(&self) -> Result<(), RecvError> {
        if !self.rx_buffer.is_empty() {
            return Ok(());
        }
        match self.state {
            State::Established | State::FinWait1 | State::FinWait2 => Ok(()),
            State::CloseWait | State::LastAck | State::Closing | State::TimeWait => Err(RecvError::Finished),
            State::Closed | State::Listen | State::SynSent | State::SynReceived => Err(RecvError::InvalidState),
        }
    }

    /// Reads up to `buf.len()` received bytes; returns the count.
    #[inline]
    pub fn recv_slice(&mut self, buf: &mut [u8]) -> Result<usize, RecvError> {
        // Polling an empty buffer is the common call: answered inline.
        if self.rx_buffer.is_empty() {
            return self.recv_allowed().map(|()| 0);
        }
        self.recv_queued(buf)
    }

    fn recv_queued(&mut self, buf: &mut [u8]) -> Result<usize, RecvError> {
        let n = self.rx_buffer.dequeue_slice(buf);
        self.touched_buffer(n);
        Ok(n)
    }

    /// Zero-copy receive: `f` reads from one contiguous part of the
    /// received data and returns how many bytes it consumed.
    pub fn recv<R>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, R)) -> Result<R, RecvError> {
        self.recv_allowed()?;
        let (n, r) = self.rx_buffer.dequeue_many_with(f);
        self.touched_buffer(n);
        Ok(r)
    }

    /// Closes the send side: a FIN follows the queued data. Receiving
    /// continues until the peer closes too (half-close).
    pub fn close(&mut self) {
        self.quiet = None;
        match self.state {
            State::Listen | State::SynSent => self.reset_hard(),
            State::SynReceived => self.close_pending = true,
            State::Established => self.set_state(State::FinWait1),
            State::CloseWait => self.set_state(State::LastAck),
            State::Closed | State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait => {}
        }
    }

    /// Drops the connection: an RST goes out on the next `dispatch` if the
    /// peer knows of the connection, and the socket is CLOSED afterwards.
    pub fn abort(&mut self) {
        self.quiet = None;
        match self.state {
            State::Closed | State::Listen | State::SynSent | State::TimeWait => self.reset_hard(),
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck => self.rst_pending = true,
        }
    }

    /// Diagnostics.
    pub fn info(&self) -> TcpInfo {
        TcpInfo {
            state: self.state,
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            rto: self.rtt.rto(),
            cwnd: self.congestion.window(),
            ssthresh: self.congestion.ssthresh(),
            bytes_in_flight: self.snd_max.distance_from(self.snd_una),
            retransmits: self.total_retransmits,
            send_window: self.snd_wnd,
            mss: self.send_mss(),
        }
    }
}

/// A connection's local and remote ports as one word.
#[inline]
fn ports_key(local: u16, remote: u16) -> u32 {
    u32::from(local) << 16 | u32::from(remote)
}

/// The RST answering a segment no connection wants (RFC 9293 3.10.7.1),
/// or `None` when the segment is itself an RST.
pub fn rst_reply(local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> Option<TcpReply> {
    if repr.control == TcpControl::Rst {
        return None;
    }
    let mut reply =
        TcpRepr { src_port: repr.dst_port, dst_port: repr.src_port, control: TcpControl::Rst, ..TcpRepr::default() };
    match repr.ack_number {
        Some(ack) => reply.seq_number = ack,
        None => reply.ack_number = Some(repr.seq_number + repr.segment_len()),
    }
    Some(TcpReply { local, remote, repr: reply })
}
