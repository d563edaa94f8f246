//! TCP sockets: the RFC 9293 connection state machine over caller-provided
//! ring buffers.
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
//! half-close, simultaneous close, TIME-WAIT for 2*MSL), the RFC 9293
//! acceptability tests, RFC 5961 challenge ACKs (RST not at RCV.NXT, SYN in
//! a synchronized state, ACK outside the acceptable range), MSS, window
//! scaling, timestamps with PAWS (RFC 7323), SACK generation (RFC 2018),
//! RFC 6298 RTO (Karn's rule or timestamp samples, exponential backoff),
//! go-back-N retransmission on timeout, fast retransmit and NewReno fast
//! recovery (RFC 5681/6582), delayed ACKs, Nagle, sender and receiver
//! silly-window avoidance, zero-window probes, keepalive, out-of-order
//! reassembly with a bounded number of holes, and RFC 6528 ISNs.

mod assembler;
mod congestion;
pub mod cookie;
mod isn;
mod listener;
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
use isn::tuple_hash;

use crate::storage::RingBuffer;
use crate::time::{Duration, Instant};
use crate::wire::tcp::{SackBlock, SeqNumber, TcpControl, TcpRepr, TcpTimestamp, MAX_WINDOW_SHIFT};
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
    recover: SeqNumber,
    fast_retransmit: bool,
    /// SACKed ranges above SND.UNA, as offsets from it (RFC 6675
    /// scoreboard).
    scoreboard: Assembler,
    /// Highest sequence number retransmitted in this recovery (HighRxt).
    high_rxt: SeqNumber,
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
            sack_ok: false,
            timestamps: false,
            ts_recent: 0,
            ts_recent_at: Instant::ZERO,
            ts_offset: 0,
            rtt_timed: None,
            rto_at: None,
            retransmits: 0,
            total_retransmits: 0,
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
        }
    }

    /// Returns every connection variable to its closed value, keeping the
    /// buffers' contents (unread data stays readable after a close).
    fn reset_connection(&mut self) {
        let (config, accepted) = (self.config, self.accepted);
        let (rx, tx) = (
            core::mem::replace(&mut self.rx_buffer, RingBuffer::new(&mut [])),
            core::mem::replace(&mut self.tx_buffer, RingBuffer::new(&mut [])),
        );
        *self = TcpSocket::new(rx, tx, config);
        self.accepted = accepted;
    }

    /// Goes to CLOSED after an RST or abort: queued data is discarded.
    fn reset_hard(&mut self) {
        self.reset_connection();
        self.rx_buffer.clear();
        self.tx_buffer.clear();
    }

    pub fn config(&self) -> &TcpConfig {
        &self.config
    }
    /// Replaces the tunables; timing changes apply from the next timer.
    pub fn set_config(&mut self, config: TcpConfig) {
        self.config = config;
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

    // ---------------------------------------------------------------
    // Application API
    // ---------------------------------------------------------------

    /// Starts an active open: the SYN goes out on the next `dispatch`.
    pub fn connect(&mut self, local: IpEndpoint, remote: IpEndpoint, now: Instant) -> Result<(), ConnectError> {
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
        self.state = State::SynSent;
        Ok(())
    }

    /// Waits for a connection on `endpoint`.
    pub fn listen(&mut self, endpoint: impl Into<IpListenEndpoint>) -> Result<(), ListenError> {
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
        self.state = State::Listen;
        Ok(())
    }

    /// Sets the 4-tuple and everything derived from it.
    fn open_tuple(&mut self, local: IpEndpoint, remote: IpEndpoint, now: Instant) {
        self.tuple = Some((local, remote));
        self.iss = isn::initial_sequence_number(&self.config.isn_secret, local, remote, now);
        self.ts_offset = tuple_hash(&self.config.isn_secret, local, remote, 1) as u32;
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
        self.state = State::SynReceived;
        self.passive = true;
        Ok(())
    }

    /// Completes the state of a socket opened by [`open_from_syn`](Self::open_from_syn) from a
    /// SYN cookie: our SYN-ACK (ISS `iss`, TSval offset `ts_offset`) is
    /// already out, so the client's ACK will establish the connection.
    fn adopt_cookie(&mut self, iss: SeqNumber, ts_offset: u32) {
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
        Ok(self.tx_buffer.enqueue_slice(data))
    }

    /// Zero-copy send: `f` writes into the free space it is given (one
    /// contiguous part of the ring) and returns how many bytes it wrote.
    pub fn send<R>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, R)) -> Result<R, SendError> {
        if !self.send_allowed() {
            return Err(SendError::InvalidState);
        }
        Ok(self.tx_buffer.enqueue_many_with(f).1)
    }

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
    pub fn recv_slice(&mut self, buf: &mut [u8]) -> Result<usize, RecvError> {
        self.recv_allowed()?;
        Ok(self.rx_buffer.dequeue_slice(buf))
    }

    /// Zero-copy receive: `f` reads from one contiguous part of the
    /// received data and returns how many bytes it consumed.
    pub fn recv<R>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, R)) -> Result<R, RecvError> {
        self.recv_allowed()?;
        Ok(self.rx_buffer.dequeue_many_with(f).1)
    }

    /// Closes the send side: a FIN follows the queued data. Receiving
    /// continues until the peer closes too (half-close).
    pub fn close(&mut self) {
        match self.state {
            State::Listen | State::SynSent => self.reset_hard(),
            State::SynReceived => self.close_pending = true,
            State::Established => self.state = State::FinWait1,
            State::CloseWait => self.state = State::LastAck,
            State::Closed
            | State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait => {}
        }
    }

    /// Drops the connection: an RST goes out on the next `dispatch` if the
    /// peer knows of the connection, and the socket is CLOSED afterwards.
    pub fn abort(&mut self) {
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

    // ---------------------------------------------------------------
    // Interface API
    // ---------------------------------------------------------------

    /// Whether a segment from `remote` to `local` belongs to this socket.
    pub fn accepts(&self, local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> bool {
        if repr.dst_port != local.port || repr.src_port != remote.port {
            return false;
        }
        match self.state {
            State::Closed => false,
            State::Listen => self.tuple.is_none() && self.listen_endpoint.is_some_and(|ep| ep.accepts(local)),
            State::SynSent
            | State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait => self.tuple == Some((local, remote)),
        }
    }

    /// Handles one incoming segment (already matched by `accepts`),
    /// returning a segment to send immediately, if any (an RST, a
    /// challenge or duplicate ACK, or the ACK for out-of-order data).
    pub fn process(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
        payload: &[u8],
    ) -> Option<TcpReply> {
        // The payload slice is the truth about the segment's length.
        let repr = &TcpRepr { payload_len: payload.len(), ..*repr };
        match self.state {
            State::Closed => rst_reply(local, remote, repr),
            State::Listen => self.process_listen(now, local, remote, repr),
            State::SynSent => self.process_syn_sent(now, local, remote, repr),
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait => self.process_synchronized(now, local, remote, repr, payload),
        }
    }

    fn process_listen(&mut self, now: Instant, local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> Option<TcpReply> {
        if repr.control == TcpControl::Rst {
            return None;
        }
        if repr.ack_number.is_some() {
            return rst_reply(local, remote, repr);
        }
        if repr.control != TcpControl::Syn {
            return None;
        }
        // A SYN from a broadcast or multicast source is not a connection.
        if remote.addr.is_multicast() || remote.addr.is_unspecified() {
            return None;
        }
        self.open_tuple(local, remote, now);
        self.take_syn(now, repr);
        self.state = State::SynReceived;
        self.passive = true;
        None
    }

    fn process_syn_sent(&mut self, now: Instant, local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> Option<TcpReply> {
        if let Some(ack) = repr.ack_number {
            if ack <= self.iss || ack > self.snd_max {
                return rst_reply(local, remote, repr);
            }
        }
        match repr.control {
            TcpControl::Rst => {
                // Only an RST that acknowledges our SYN refuses the
                // connection (RFC 5961 3.2 for SYN-SENT).
                if repr.ack_number.is_some() {
                    self.reset_hard();
                }
                None
            }
            TcpControl::Syn => {
                self.take_syn(now, repr);
                match repr.ack_number {
                    Some(ack) => {
                        self.on_ack_advance(now, ack, repr);
                        self.state = State::Established;
                        self.enter_established();
                        // ACK the SYN-ACK at once.
                        self.ack_at = Some(now);
                    }
                    None => {
                        // Simultaneous open: answer SYN-ACK from ISS.
                        self.state = State::SynReceived;
                        self.snd_nxt = self.iss;
                        self.rto_at = None;
                    }
                }
                None
            }
            TcpControl::None | TcpControl::Fin => None,
        }
    }

    fn enter_established(&mut self) {
        self.congestion = Congestion::new(self.config.congestion, self.send_mss());
        if self.close_pending {
            self.close_pending = false;
            self.state = State::FinWait1;
        }
    }

    fn process_synchronized(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
        payload: &[u8],
    ) -> Option<TcpReply> {
        if self.reuse_time_wait(now, local, remote, repr) {
            return None;
        }

        // A retransmitted SYN while our SYN-ACK is unanswered: send it again.
        if self.state == State::SynReceived
            && repr.control == TcpControl::Syn
            && repr.ack_number.is_none()
            && repr.seq_number == self.irs
        {
            self.snd_nxt = self.iss;
            return None;
        }

        // RFC 7323: once timestamps are on, non-RST segments carry them.
        if self.timestamps && repr.control != TcpControl::Rst {
            let ts = repr.timestamp?;
            // PAWS (RFC 7323 5.3).
            if (ts.tsval.wrapping_sub(self.ts_recent) as i32) < 0
                && now.saturating_duration_since(self.ts_recent_at) < PAWS_IDLE_LIMIT
            {
                return Some(self.ack_reply(now));
            }
        }

        let seg_len = repr.segment_len();
        if !self.acceptable(repr.seq_number, seg_len) {
            if repr.control == TcpControl::Rst {
                return None;
            }
            if self.state == State::TimeWait && repr.control == TcpControl::Fin {
                self.time_wait_until = Some(now + self.config.msl.saturating_mul(2));
            }
            return Some(self.ack_reply(now));
        }

        match repr.control {
            TcpControl::Rst => {
                if repr.seq_number != self.rcv_nxt {
                    // In the window but not exact: maybe blind (RFC 5961 3.2).
                    return self.challenge_ack(now);
                }
                if self.state == State::SynReceived && self.listen_endpoint.is_some() {
                    let endpoint = self.listen_endpoint;
                    self.reset_hard();
                    self.listen_endpoint = endpoint;
                    self.state = State::Listen;
                } else {
                    self.reset_hard();
                }
                return None;
            }
            // RFC 5961 4.2: whatever its sequence number.
            TcpControl::Syn => return self.challenge_ack(now),
            TcpControl::None | TcpControl::Fin => {}
        }

        let ack = repr.ack_number?;
        self.last_rx_at = now;
        self.last_keepalive_at = None;
        self.keepalive_probes_sent = 0;

        if self.timestamps {
            if let Some(ts) = repr.timestamp {
                // RFC 7323 4.3: remember the timestamp of the segment that
                // covers the ACK we sent last.
                if repr.seq_number <= self.last_ack_sent && (ts.tsval.wrapping_sub(self.ts_recent) as i32) >= 0 {
                    self.ts_recent = ts.tsval;
                    self.ts_recent_at = now;
                }
            }
        }

        if self.state == State::SynReceived {
            if ack <= self.snd_una || ack > self.snd_max {
                return rst_reply(local, remote, repr);
            }
            self.state = State::Established;
            self.snd_wnd = usize::from(repr.window_len) << self.snd_shift;
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = repr.seq_number;
            self.snd_wl2 = ack;
            self.enter_established();
        }

        // RFC 5961 5.2 ACK acceptability.
        if ack > self.snd_max || ack < self.snd_una - self.max_snd_wnd {
            return self.challenge_ack(now);
        }

        let old_wnd = self.snd_wnd;
        let advanced = ack > self.snd_una;
        if advanced {
            let fin_acked = self.on_ack_advance(now, ack, repr);
            if fin_acked {
                match self.state {
                    State::FinWait1 => self.state = State::FinWait2,
                    State::Closing => self.enter_time_wait(now),
                    State::LastAck => {
                        self.reset_connection();
                        return None;
                    }
                    _ => {}
                }
            }
        }
        if self.sack_ok {
            self.record_sack(repr);
        }
        if !advanced
            && ack == self.snd_una
            && payload.is_empty()
            && repr.control == TcpControl::None
            && self.snd_max > self.snd_una
            && usize::from(repr.window_len) << self.snd_shift == old_wnd
        {
            self.on_duplicate_ack(now);
        }
        // RFC 6675 IsLost(SND.UNA): more than two segments SACKed above it
        // also starts recovery, without waiting for three duplicates.
        if self.sack_ok
            && self.recovery.is_none()
            && self.snd_una > self.recover
            && self.scoreboard.covered() > 2 * self.send_mss()
        {
            self.enter_recovery(now);
        }

        // Window update (RFC 9293 3.10.7.4, fifth, ESTABLISHED).
        if self.snd_wl1 < repr.seq_number || (self.snd_wl1 == repr.seq_number && self.snd_wl2 <= ack) {
            self.snd_wnd = usize::from(repr.window_len) << self.snd_shift;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = repr.seq_number;
            self.snd_wl2 = ack;
            if self.snd_wnd > 0 {
                self.persist_at = None;
                self.persist_backoff = 0;
            }
        }

        self.process_data_and_fin(now, repr, payload)
    }

    /// RFC 6191: a new SYN for the 4-tuple of a passive connection in
    /// TIME-WAIT starts a new connection when it is provably not an old
    /// duplicate (a newer timestamp, or without timestamps a sequence
    /// number above the old connection's). The new ISS is above the old
    /// SND.MAX. Returns whether the SYN was taken.
    fn reuse_time_wait(&mut self, now: Instant, local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> bool {
        if self.state != State::TimeWait
            || repr.control != TcpControl::Syn
            || repr.ack_number.is_some()
            || !self.passive
            || (self.listen_endpoint.is_none() && self.accepted)
        {
            return false;
        }
        let newer = match (self.timestamps, repr.timestamp) {
            (true, Some(ts)) => (ts.tsval.wrapping_sub(self.ts_recent) as i32) > 0,
            _ => repr.seq_number > self.rcv_nxt,
        };
        if !newer {
            return false;
        }
        let old_snd_max = self.snd_max;
        let endpoint = self.listen_endpoint;
        self.reset_hard();
        self.listen_endpoint = endpoint;
        self.state = if endpoint.is_some() { State::Listen } else { State::Closed };
        if self.open_from_syn(now, local, remote, repr).is_err() {
            return false;
        }
        if self.iss <= old_snd_max {
            let iss = old_snd_max + 1;
            self.iss = iss;
            self.snd_una = iss;
            self.snd_nxt = iss;
            self.snd_max = iss;
            self.recover = iss;
        }
        true
    }

    /// An ACK answering a suspicious segment, within the per-second
    /// budget (RFC 5961 section 7), so that the answers cannot be used to
    /// probe the connection or amplify an attack.
    fn challenge_ack(&mut self, now: Instant) -> Option<TcpReply> {
        if now.saturating_duration_since(self.challenge_window_start) >= Duration::from_secs(1) {
            self.challenge_window_start = now;
            self.challenge_acks = 0;
        }
        if self.challenge_acks >= self.config.challenge_ack_limit {
            return None;
        }
        self.challenge_acks += 1;
        Some(self.ack_reply(now))
    }

    /// RFC 9293 3.10.7.4 "first, check sequence number".
    fn acceptable(&self, seq: SeqNumber, seg_len: usize) -> bool {
        let wnd = self.rx_buffer.window();
        let in_window = |s: SeqNumber| s >= self.rcv_nxt && s < self.rcv_nxt + wnd;
        match (seg_len, wnd) {
            (0, 0) => seq == self.rcv_nxt,
            (0, _) => in_window(seq),
            // A zero window still takes the ACK, window and RST of a
            // segment at RCV.NXT; its data is trimmed away later.
            (_, 0) => seq == self.rcv_nxt,
            (_, _) => in_window(seq) || in_window(seq + (seg_len - 1)),
        }
    }

    /// SND.UNA moves to `ack`. Returns whether our FIN is now acknowledged.
    fn on_ack_advance(&mut self, now: Instant, ack: SeqNumber, repr: &TcpRepr) -> bool {
        let acked = ack.distance_from(self.snd_una);
        let syn_len = usize::from(!self.syn_acked);
        let data_end = self.snd_una + syn_len + self.tx_buffer.len();
        let data_acked = acked.saturating_sub(syn_len).min(self.tx_buffer.len());
        let fin_acked = self.fin_wanted() && ack == data_end + 1;
        self.tx_buffer.dequeue_allocated(data_acked);
        self.syn_acked = true;
        let flight_before = self.snd_max.distance_from(self.snd_una);
        self.scoreboard.advance(acked);
        self.snd_una = ack;
        if self.snd_nxt < self.snd_una {
            self.snd_nxt = self.snd_una;
        }
        self.retransmits = 0;

        // RTT sample: timestamps when on (RFC 7323 4.1), else Karn timing.
        match (self.timestamps, repr.timestamp) {
            (true, Some(ts)) if ts.tsecr != 0 => {
                let ms = self.ts_val(now).wrapping_sub(ts.tsecr);
                if ms < 600_000 {
                    self.rtt.sample(Duration::from_millis(u64::from(ms)));
                }
            }
            _ => {
                if let Some((seq, sent_at)) = self.rtt_timed {
                    if ack >= seq {
                        self.rtt.sample(now - sent_at);
                        self.rtt_timed = None;
                    }
                }
            }
        }
        if self.rtt_timed.is_some_and(|(seq, _)| seq <= self.snd_una) {
            self.rtt_timed = None;
        }

        let mss = self.send_mss();
        match self.recovery {
            Some(recover) if ack >= recover => {
                // Full ACK: recovery is over (RFC 6582 3.2 step 3).
                self.recovery = None;
                let flight = self.snd_max.distance_from(self.snd_una);
                self.congestion.on_recovery_end(now, flight, mss);
            }
            Some(_) if self.sack_ok => {
                // SACK recovery: the scoreboard drives retransmission.
                self.high_rxt = self.high_rxt.max(self.snd_una);
            }
            Some(_) => {
                // Partial ACK: retransmit the next hole, deflate (RFC 6582
                // 3.2 step 4).
                self.fast_retransmit = true;
                let cwnd = self.congestion.window().saturating_sub(acked);
                let cwnd = if acked >= mss { cwnd + mss } else { cwnd };
                self.congestion.set_window(cwnd.max(mss));
            }
            None => {
                if self.state != State::SynSent && flight_before > 0 {
                    let srtt = self.rtt.srtt().unwrap_or_default();
                    self.congestion.on_ack(now, data_acked, mss, srtt);
                }
            }
        }
        self.dup_acks = 0;

        self.rto_at = if self.snd_una == self.snd_max { None } else { Some(now + self.rtt.rto()) };
        fin_acked
    }

    fn on_duplicate_ack(&mut self, now: Instant) {
        self.dup_acks = self.dup_acks.saturating_add(1);
        let mss = self.send_mss();
        match self.recovery {
            Some(_) if self.sack_ok => {}
            Some(_) => {
                // Each further duplicate means a segment left the network.
                let cwnd = self.congestion.window() + mss;
                self.congestion.set_window(cwnd);
            }
            None if self.dup_acks == 3 && self.snd_una > self.recover => self.enter_recovery(now),
            None => {}
        }
    }

    /// Fast retransmit and the start of fast recovery: NewReno (RFC 6582)
    /// inflates the window by the three duplicates; SACK recovery (RFC
    /// 6675) counts the pipe instead.
    fn enter_recovery(&mut self, now: Instant) {
        let mss = self.send_mss();
        let flight = self.snd_max.distance_from(self.snd_una);
        self.congestion.on_loss(now, flight, mss);
        let ssthresh = self.congestion.ssthresh();
        self.congestion.set_window(if self.sack_ok { ssthresh } else { ssthresh + 3 * mss });
        self.recovery = Some(self.snd_max);
        self.recover = self.snd_max;
        self.fast_retransmit = true;
        self.rtt_timed = None;
        self.high_rxt = self.snd_una;
    }

    /// Adds the peer's SACK blocks that lie within (SND.UNA, SND.MAX].
    fn record_sack(&mut self, repr: &TcpRepr) {
        for &(left, right) in repr.sack_ranges.iter().flatten() {
            if left <= self.snd_una || right > self.snd_max || left >= right {
                continue;
            }
            // A full scoreboard just forgets the block.
            let _ = self.scoreboard.add(left.distance_from(self.snd_una), right.distance_from(self.snd_una));
        }
    }

    /// The first not yet retransmitted hole below the highest SACKed
    /// byte, as (offset from SND.UNA, length up to one MSS).
    fn next_hole(&self) -> Option<(usize, usize)> {
        let from = self.high_rxt.distance_from(self.snd_una);
        let mut prev_end = 0;
        for &(start, end) in self.scoreboard.ranges() {
            let hole = prev_end.max(from);
            if hole < start {
                let len = (start - hole).min(self.send_mss()).min(self.tx_buffer.len().saturating_sub(hole));
                if len > 0 {
                    return Some((hole, len));
                }
            }
            prev_end = end;
        }
        None
    }

    fn sack_hole_due(&self) -> bool {
        self.recovery.is_some()
            && self.sack_ok
            && self.syn_acked
            && self.pipe() < self.congestion.window()
            && self.next_hole().is_some()
    }

    /// RFC 6675 pipe: bytes believed in the network (sent, neither
    /// acknowledged, SACKed, nor lost and not yet retransmitted).
    fn pipe(&self) -> usize {
        let from = self.high_rxt.distance_from(self.snd_una);
        let mut lost = 0;
        let mut prev_end = 0;
        for &(start, end) in self.scoreboard.ranges() {
            lost += start.saturating_sub(prev_end.max(from));
            prev_end = end;
        }
        self.snd_max
            .distance_from(self.snd_una)
            .saturating_sub(self.scoreboard.covered())
            .saturating_sub(lost)
    }

    fn process_data_and_fin(&mut self, now: Instant, repr: &TcpRepr, payload: &[u8]) -> Option<TcpReply> {
        let receiving = matches!(self.state, State::Established | State::FinWait1 | State::FinWait2);
        if !receiving {
            return None;
        }
        let mut reply_now = false;
        let mut data = payload;
        let mut offset = repr.seq_number.diff(self.rcv_nxt);
        if offset < 0 {
            let skip = offset.unsigned_abs() as usize;
            data = data.get(skip..).unwrap_or(&[]);
            offset = 0;
        }
        let offset = offset as usize;
        let window = self.rx_buffer.window();
        let room = window.saturating_sub(offset);
        let trimmed = data.len() > room;
        if trimmed {
            data = &data[..room];
            reply_now = true;
        }

        if !data.is_empty() {
            self.rcv_mss = self.rcv_mss.max(data.len()).min(self.advertised_mss().max(DEFAULT_MSS_V4));
            self.rx_buffer.write_unallocated(offset, data);
            let filled_hole = !self.assembler.is_empty() && offset == 0;
            if self.assembler.add(offset, offset + data.len()).is_ok() {
                let ready = self.assembler.remove_front();
                if ready > 0 {
                    self.rx_buffer.enqueue_unallocated(ready);
                    self.rcv_nxt += ready;
                    self.unacked_bytes += ready;
                }
            }
            if offset > 0 {
                // Out of order: a duplicate ACK with SACK at once.
                self.recent_ooo = Some(repr.seq_number);
                reply_now = true;
            } else if filled_hole {
                reply_now = true;
            } else {
                match self.config.ack_delay {
                    Some(delay) if self.unacked_bytes < 2 * self.rcv_mss => {
                        if self.ack_at.is_none() {
                            self.ack_at = Some(now + delay);
                        }
                    }
                    _ => self.ack_at = Some(now),
                }
            }
        } else if repr.payload_len > 0 && repr.control != TcpControl::Fin {
            // All duplicate or beyond the window: tell the peer where we are.
            reply_now = true;
        }

        if repr.control == TcpControl::Fin && !trimmed && repr.seq_number + repr.payload_len == self.rcv_nxt {
            self.rcv_nxt += 1;
            self.ack_at = Some(now);
            match self.state {
                State::Established => self.state = State::CloseWait,
                State::FinWait1 => self.state = State::Closing,
                State::FinWait2 => self.enter_time_wait(now),
                _ => {}
            }
        } else if repr.control == TcpControl::Fin && !reply_now {
            reply_now = true;
        }

        if reply_now {
            return Some(self.ack_reply(now));
        }
        None
    }

    fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.time_wait_until = Some(now + self.config.msl.saturating_mul(2));
        self.rto_at = None;
        self.persist_at = None;
    }

    // ---------------------------------------------------------------
    // Segment construction
    // ---------------------------------------------------------------

    fn ts_val(&self, now: Instant) -> u32 {
        (now.total_millis() as u32).wrapping_add(self.ts_offset)
    }

    fn timestamp_option(&self, now: Instant) -> Option<TcpTimestamp> {
        self.timestamps.then(|| TcpTimestamp { tsval: self.ts_val(now), tsecr: self.ts_recent })
    }

    /// The MSS we announce: what one segment can carry on this interface.
    fn advertised_mss(&self) -> usize {
        self.mss_limit.min(0xffff)
    }

    /// Payload bytes per full segment we send.
    fn send_mss(&self) -> usize {
        let overhead = if self.timestamps { TIMESTAMP_OVERHEAD } else { 0 };
        self.remote_mss.min(self.mss_limit).saturating_sub(overhead).max(1)
    }

    /// The window to announce, with receiver silly-window avoidance: the
    /// right edge only moves once it can move by min(MSS, buffer/2).
    fn advertised_window(&self) -> usize {
        let free = self.rx_buffer.window().min(0xffff << self.rcv_shift);
        let promised = self.rcv_adv_edge.distance_from(self.rcv_nxt);
        let threshold = (self.rx_buffer.capacity() / 2).min(self.rcv_mss).max(1);
        if free >= promised + threshold || free < promised {
            free
        } else {
            promised
        }
    }

    /// Fills ACK, window and timestamp of an outgoing segment and records
    /// that an ACK went out.
    fn stamp_ack(&mut self, now: Instant, repr: &mut TcpRepr) {
        let window = self.advertised_window();
        let field = (window >> self.rcv_shift).min(0xffff);
        repr.window_len = field as u16;
        repr.ack_number = Some(self.rcv_nxt);
        repr.timestamp = self.timestamp_option(now);
        self.rcv_adv_edge = self.rcv_nxt + (field << self.rcv_shift);
        self.last_ack_sent = self.rcv_nxt;
        self.ack_at = None;
        self.unacked_bytes = 0;
    }

    /// (local, remote); only called once the 4-tuple is known.
    fn endpoints(&self) -> (IpEndpoint, IpEndpoint) {
        self.tuple.unwrap_or_else(|| {
            let any = IpEndpoint::new(IpAddress::V4(Default::default()), 0);
            (any, any)
        })
    }

    fn base_repr(&self, control: TcpControl, seq: SeqNumber) -> TcpRepr {
        let (local, remote) = self.endpoints();
        TcpRepr {
            src_port: local.port,
            dst_port: remote.port,
            control,
            seq_number: seq,
            ..TcpRepr::default()
        }
    }

    fn sack_blocks(&self) -> [Option<SackBlock>; 4] {
        let mut blocks = [None; 4];
        if !self.sack_ok {
            return blocks;
        }
        let to_seq = |r: &(usize, usize)| (self.rcv_nxt + r.0, self.rcv_nxt + r.1);
        let mut n = 0;
        let recent = self.recent_ooo.and_then(|seq| {
            self.assembler.ranges().iter().map(to_seq).find(|&(l, r)| seq >= l && seq < r)
        });
        if let Some(block) = recent {
            blocks[0] = Some(block);
            n = 1;
        }
        for block in self.assembler.ranges().iter().map(to_seq) {
            if n == 4 {
                break;
            }
            if Some(block) != recent {
                blocks[n] = Some(block);
                n += 1;
            }
        }
        blocks
    }

    /// A bare ACK reflecting the current state (with SACK blocks).
    fn ack_reply(&mut self, now: Instant) -> TcpReply {
        let mut repr = self.base_repr(TcpControl::None, self.snd_nxt);
        self.stamp_ack(now, &mut repr);
        repr.sack_ranges = self.sack_blocks();
        let (local, remote) = self.endpoints();
        TcpReply { local, remote, repr }
    }

    // ---------------------------------------------------------------
    // Sending
    // ---------------------------------------------------------------

    /// The application closed the send side (a FIN is or was due).
    fn fin_wanted(&self) -> bool {
        matches!(
            self.state,
            State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait
        )
    }

    /// What the next data/FIN segment would be: (offset into the send
    /// buffer, payload length, FIN), if one may be sent now.
    fn plan_data(&self) -> Option<(usize, usize, bool)> {
        let can_send = matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck
        );
        if !can_send || !self.syn_acked {
            return None;
        }
        let mss = self.send_mss();
        let offset = self.snd_nxt.distance_from(self.snd_una);
        let queued = self.tx_buffer.len();
        let unsent = queued.saturating_sub(offset);
        let in_flight = if self.recovery.is_some() && self.sack_ok { self.pipe() } else { offset };
        let usable = self.snd_wnd.saturating_sub(offset).min(self.congestion.window().saturating_sub(in_flight));
        let len = unsent.min(usable).min(mss);
        let fin = self.fin_wanted()
            && matches!(self.state, State::FinWait1 | State::Closing | State::LastAck)
            && offset + len == queued
            && offset <= queued;
        let retransmitting = self.snd_nxt < self.snd_max;
        let send_data = len > 0
            && (len == mss
                || retransmitting
                || (len == unsent && (!self.config.nagle || offset == 0 || fin))
                || (self.max_snd_wnd > 0 && len >= self.max_snd_wnd / 2));
        if send_data || (fin && len == 0) {
            Some((offset, if send_data { len } else { 0 }, fin && (send_data || len == 0)))
        } else {
            None
        }
    }

    /// Whether the receive window moved far enough to announce.
    fn window_update_due(&self) -> bool {
        if !matches!(self.state, State::Established | State::FinWait1 | State::FinWait2) {
            return false;
        }
        let field = (self.advertised_window() >> self.rcv_shift).min(0xffff);
        let edge = self.rcv_nxt + (field << self.rcv_shift);
        edge > self.rcv_adv_edge
    }

    fn keepalive_due_at(&self) -> Option<Instant> {
        let interval = self.config.keep_alive?;
        let idle = matches!(self.state, State::Established | State::CloseWait)
            && self.snd_max == self.snd_una
            && self.tx_buffer.is_empty();
        if !idle {
            return None;
        }
        let since = self.last_keepalive_at.unwrap_or(self.last_rx_at).max(self.last_rx_at);
        Some(since + interval)
    }

    fn syn_due(&self) -> bool {
        matches!(self.state, State::SynSent | State::SynReceived) && self.snd_nxt == self.iss
    }

    /// When `dispatch` should next be called. An instant at or before now
    /// (`Instant::ZERO` is used) means as soon as possible; `None` means
    /// only after new input.
    pub fn poll_at(&self) -> Option<Instant> {
        match self.state {
            State::Closed | State::Listen => return None,
            State::SynSent
            | State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait
            | State::Closing
            | State::LastAck
            | State::TimeWait => {}
        }
        if self.rst_pending
            || self.syn_due()
            || (self.fast_retransmit && self.syn_acked)
            || self.sack_hole_due()
            || self.plan_data().is_some()
            || self.window_update_due()
        {
            return Some(Instant::ZERO);
        }
        [self.rto_at, self.persist_at, self.ack_at, self.time_wait_until, self.keepalive_due_at()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Emits the next segment that is due at `now`, if any, by calling
    /// `emit(local, remote, header, payload)`. At most one segment per
    /// call: the interface calls again while segments come out (and stops
    /// when `emit` is not called or fails). `mss_limit` is the payload one
    /// segment with a 20-byte header can carry on the route (MTU - IP
    /// header - 20).
    pub fn dispatch<E>(
        &mut self,
        now: Instant,
        mss_limit: usize,
        emit: impl FnOnce(IpEndpoint, IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if matches!(self.state, State::Closed | State::Listen) {
            return Ok(());
        }
        let Some((local, remote)) = self.tuple else {
            return Ok(());
        };
        self.mss_limit = mss_limit.max(1);

        if self.state == State::TimeWait && self.time_wait_until.is_some_and(|t| now >= t) {
            self.reset_connection();
            return Ok(());
        }

        if self.rst_pending {
            let repr = TcpRepr { ack_number: Some(self.rcv_nxt), ..self.base_repr(TcpControl::Rst, self.snd_nxt) };
            self.reset_hard();
            return emit(local, remote, &repr, &[]);
        }

        if self.rto_at.is_some_and(|t| now >= t) {
            self.rto_at = None;
            if self.retransmits >= self.config.max_retransmits {
                let synchronized = self.state != State::SynSent;
                let repr = TcpRepr { ack_number: Some(self.rcv_nxt), ..self.base_repr(TcpControl::Rst, self.snd_nxt) };
                self.reset_hard();
                return if synchronized { emit(local, remote, &repr, &[]) } else { Ok(()) };
            }
            self.retransmits += 1;
            self.rtt.back_off();
            if self.syn_acked {
                let flight = self.snd_max.distance_from(self.snd_una);
                self.congestion.on_timeout(now, flight, self.send_mss());
                self.recover = self.snd_max;
            }
            self.recovery = None;
            self.dup_acks = 0;
            self.fast_retransmit = false;
            self.rtt_timed = None;
            self.snd_nxt = self.snd_una;
            // RFC 2018 section 8: the receiver may have discarded SACKed
            // data, so forget it and resend from SND.UNA.
            self.scoreboard.clear();
            self.high_rxt = self.snd_una;
        }

        if self.syn_due() {
            return self.send_syn(now, local, remote, emit);
        }

        if self.fast_retransmit && self.syn_acked {
            self.fast_retransmit = false;
            // With SACK, only the hole at SND.UNA, not SACKed data after it.
            let len = match self.next_hole() {
                Some((0, len)) if self.sack_ok => len,
                _ => self.send_mss(),
            };
            return self.send_retransmission(now, local, remote, 0, len, emit);
        }

        // SACK recovery: fill holes while the pipe has room (RFC 6675 5).
        if self.sack_hole_due() {
            if let Some((offset, len)) = self.next_hole() {
                return self.send_retransmission(now, local, remote, offset, len, emit);
            }
        }

        if let Some((offset, len, fin)) = self.plan_data() {
            return self.send_data(now, offset, len, fin, emit);
        }

        // Data waiting, nothing in flight, and the window too small to
        // send (zero, or below the silly-window threshold): the persist
        // timer probes a zero window and overrides silly-window avoidance.
        let unsent = self.tx_buffer.len().saturating_sub(self.snd_nxt.distance_from(self.snd_una));
        let persist_needed = self.syn_acked
            && unsent > 0
            && self.snd_nxt == self.snd_una
            && matches!(self.state, State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck);
        if !persist_needed {
            self.persist_at = None;
            self.persist_backoff = 0;
        } else if let Some(at) = self.persist_at {
            if now >= at {
                self.persist_backoff = (self.persist_backoff + 1).min(16);
                self.persist_at = Some(now + self.persist_interval());
                let usable = self.snd_wnd.min(self.congestion.window());
                if usable == 0 {
                    return self.send_probe(now, local, remote, self.snd_una - 1, emit);
                }
                let len = usable.min(unsent).min(self.send_mss());
                return self.send_data(now, 0, len, false, emit);
            }
        } else {
            self.persist_at = Some(now + self.persist_interval());
        }

        if self.keepalive_due_at().is_some_and(|t| now >= t) {
            if self.keepalive_probes_sent >= self.config.keep_alive_probes {
                // The peer is gone: give up.
                let repr = TcpRepr { ack_number: Some(self.rcv_nxt), ..self.base_repr(TcpControl::Rst, self.snd_nxt) };
                self.reset_hard();
                return emit(local, remote, &repr, &[]);
            }
            self.keepalive_probes_sent += 1;
            self.last_keepalive_at = Some(now);
            return self.send_probe(now, local, remote, self.snd_nxt - 1, emit);
        }

        if self.ack_at.is_some_and(|t| now >= t) || self.window_update_due() {
            let saved = self.ack_state();
            let reply = self.ack_reply(now);
            let result = emit(local, remote, &reply.repr, &[]);
            if result.is_err() {
                self.restore_ack_state(saved);
            }
            return result;
        }
        Ok(())
    }

    fn persist_interval(&self) -> Duration {
        self.rtt.rto().saturating_mul(1 << self.persist_backoff.min(16)).min(self.config.rto_max)
    }

    fn send_syn<E>(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        emit: impl FnOnce(IpEndpoint, IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut repr = self.base_repr(TcpControl::Syn, self.iss);
        repr.max_seg_size = Some(self.advertised_mss() as u16);
        repr.window_len = self.rx_buffer.window().min(0xffff) as u16;
        if self.state == State::SynSent {
            repr.window_scale = self.config.window_scaling.then_some(self.rcv_shift);
            repr.sack_permitted = self.config.sack;
            repr.timestamp = self.config.timestamps.then(|| TcpTimestamp { tsval: self.ts_val(now), tsecr: 0 });
        } else {
            repr.ack_number = Some(self.rcv_nxt);
            repr.window_scale = self.window_scaling.then_some(self.rcv_shift);
            repr.sack_permitted = self.sack_ok;
            repr.timestamp = self.timestamp_option(now);
            self.last_ack_sent = self.rcv_nxt;
            self.rcv_adv_edge = self.rcv_nxt + usize::from(repr.window_len);
            self.ack_at = None;
        }
        emit(local, remote, &repr, &[])?;
        self.snd_nxt = self.iss + 1;
        self.snd_max = self.snd_max.max(self.snd_nxt);
        if self.retransmits == 0 && self.rtt_timed.is_none() {
            self.rtt_timed = Some((self.snd_nxt, now));
        }
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        Ok(())
    }

    fn send_data<E>(
        &mut self,
        now: Instant,
        offset: usize,
        len: usize,
        fin: bool,
        emit: impl FnOnce(IpEndpoint, IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let (local, remote) = self.endpoints();
        let seq = self.snd_nxt;
        let control = if fin { TcpControl::Fin } else { TcpControl::None };
        let mut repr = self.base_repr(control, seq);
        repr.payload_len = len;
        repr.push = len > 0 && offset + len == self.tx_buffer.len();
        let retransmission = seq < self.snd_max;
        self.emit_from_buffer(now, local, remote, &mut repr, offset, emit)?;
        let fin = repr.control == TcpControl::Fin;
        self.snd_nxt = seq + repr.payload_len + usize::from(fin);
        if self.snd_nxt > self.snd_max {
            if self.rtt_timed.is_none() && !retransmission {
                self.rtt_timed = Some((self.snd_nxt, now));
            }
            self.snd_max = self.snd_nxt;
        }
        if retransmission {
            self.total_retransmits = self.total_retransmits.saturating_add(1);
        }
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        Ok(())
    }

    /// Resends one segment `offset` bytes past SND.UNA (fast retransmit,
    /// a NewReno partial ACK, a SACK hole) without moving SND.NXT.
    fn send_retransmission<E>(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        offset: usize,
        max_len: usize,
        emit: impl FnOnce(IpEndpoint, IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let outstanding = self.snd_max.distance_from(self.snd_una);
        let len = self
            .tx_buffer
            .len()
            .saturating_sub(offset)
            .min(max_len)
            .min(outstanding.saturating_sub(offset));
        let fin = self.fin_wanted()
            && offset + len == self.tx_buffer.len()
            && self.snd_max == self.snd_una + offset + len + 1;
        if len == 0 && !fin {
            return Ok(());
        }
        let seq = self.snd_una + offset;
        let control = if fin { TcpControl::Fin } else { TcpControl::None };
        let mut repr = self.base_repr(control, seq);
        repr.payload_len = len;
        self.emit_from_buffer(now, local, remote, &mut repr, offset, emit)?;
        self.high_rxt = self.high_rxt.max(seq + repr.payload_len);
        self.total_retransmits = self.total_retransmits.saturating_add(1);
        self.rtt_timed = None;
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        Ok(())
    }

    fn emit_from_buffer<E>(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &mut TcpRepr,
        offset: usize,
        emit: impl FnOnce(IpEndpoint, IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        // Undo on failure: `stamp_ack` records an ACK as sent.
        let saved = self.ack_state();
        self.stamp_ack(now, repr);
        // Zero-copy: a segment never spans the ring's wrap point; the rest
        // follows in the next segment.
        let data = self.tx_buffer.get_allocated(offset, repr.payload_len);
        if data.len() < repr.payload_len {
            repr.payload_len = data.len();
            repr.push = false;
            if repr.control == TcpControl::Fin {
                repr.control = TcpControl::None;
            }
        }
        let result = emit(local, remote, repr, data);
        if result.is_err() {
            self.restore_ack_state(saved);
        }
        result
    }

    /// What `stamp_ack` changes, to undo it when a segment is not sent.
    fn ack_state(&self) -> (SeqNumber, SeqNumber, Option<Instant>, usize) {
        (self.rcv_adv_edge, self.last_ack_sent, self.ack_at, self.unacked_bytes)
    }

    fn restore_ack_state(&mut self, saved: (SeqNumber, SeqNumber, Option<Instant>, usize)) {
        (self.rcv_adv_edge, self.last_ack_sent, self.ack_at, self.unacked_bytes) = saved;
    }

    fn send_probe<E>(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        seq: SeqNumber,
        emit: impl FnOnce(IpEndpoint, IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let saved = self.ack_state();
        let mut repr = self.base_repr(TcpControl::None, seq);
        self.stamp_ack(now, &mut repr);
        let result = emit(local, remote, &repr, &[]);
        if result.is_err() {
            self.restore_ack_state(saved);
        }
        result
    }
}

/// The RST answering a segment no connection wants (RFC 9293 3.10.7.1),
/// or `None` when the segment is itself an RST.
pub fn rst_reply(local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> Option<TcpReply> {
    if repr.control == TcpControl::Rst {
        return None;
    }
    let mut reply = TcpRepr {
        src_port: repr.dst_port,
        dst_port: repr.src_port,
        control: TcpControl::Rst,
        ..TcpRepr::default()
    };
    match repr.ack_number {
        Some(ack) => reply.seq_number = ack,
        None => reply.ack_number = Some(repr.seq_number + repr.segment_len()),
    }
    Some(TcpReply { local, remote, repr: reply })
}
