//! A listening endpoint with a backlog: one port, many connections.
//!
//! The caller lends the listener a pool of closed sockets (each with its
//! own buffers). A SYN takes a free socket into SYN-RECEIVED (the SYN
//! queue); once the handshake completes the socket waits in the accept
//! queue until [`TcpListener::accept`] hands it to the application, which
//! gives it back with [`TcpListener::release`]. Both queues are bounded.
//! When the SYN queue is full, or no socket is free, a SYN is answered
//! with a SYN cookie ([`cookie`](super::cookie)) and no state is kept: a
//! SYN flood then costs nothing, and a real client's ACK still opens a
//! connection: if no socket is free, it takes the place of a half-open
//! connection that has not proven its address. A client may hold both a
//! cookie SYN-ACK and, from a duplicate of its SYN queued once the SYN
//! queue had room, a half-open socket's: an ACK of the cookie replaces that
//! socket. While cookies are current, an ACK that reads as one but cannot
//! be checked (its sequence number is past the client's ISN + 1) is dropped
//! rather than reset: the client's retransmission will prove it.
//!
//! The interface drives a listener exactly like a [`TcpSocket`]:
//! `accepts`, `process`, `dispatch`, `poll_at`.

use super::cookie::{self, TimestampOptions};
use super::isn;
use super::{rst_reply, State, TcpConfig, TcpReply, TcpSocket};
use crate::time::Instant;
use crate::wire::tcp::{Repr as TcpRepr, SeqNumber, TcpControl, TcpTimestamp};
use crate::wire::{checksum, IpAddress, IpEndpoint, IpListenEndpoint};

/// Queue limits and SYN cookie switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Most sockets in SYN-RECEIVED at once.
    pub syn_backlog: usize,
    /// Most established connections waiting for `accept`.
    pub accept_backlog: usize,
    /// Answer SYNs with cookies when the SYN queue is full.
    pub syn_cookies: bool,
}

impl Default for ListenerConfig {
    fn default() -> ListenerConfig {
        ListenerConfig { syn_backlog: 16, accept_backlog: 16, syn_cookies: true }
    }
}

/// Counters for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListenerStats {
    pub syns_queued: u32,
    pub cookies_sent: u32,
    pub cookies_accepted: u32,
    pub cookies_rejected: u32,
    /// SYNs or cookie ACKs dropped because a queue was full.
    pub dropped: u32,
    /// Half-open connections dropped to make room for cookie clients.
    pub evicted: u32,
    /// ACKs that may answer a recent cookie but could not be checked (not
    /// at the client's ISN + 1): dropped rather than reset.
    pub cookies_unverified: u32,
}

/// Valid cookie ACKs the listener remembers after dropping them for a
/// full accept queue or pool (a small fixed table: the oldest is
/// forgotten first).
const PARKED_COOKIES: usize = 4;

/// A client whose valid cookie ACK was dropped. It believes it is
/// connected, and its later segments no longer carry ISN + 1 (which the
/// cookie hash covers), so its ISN is kept here: the cookie stays good
/// for its next segments with the same acknowledgment number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ParkedCookie {
    local: IpEndpoint,
    remote: IpEndpoint,
    irs: SeqNumber,
    ack: SeqNumber,
}

/// A listening TCP endpoint over a pool of sockets.
#[derive(Debug)]
pub struct TcpListener<'a, 'b> {
    endpoint: IpListenEndpoint,
    config: TcpConfig,
    limits: ListenerConfig,
    sockets: &'a mut [TcpSocket<'b>],
    /// Where the next `dispatch` starts looking, for fairness.
    cursor: usize,
    /// Route MSS from the last `dispatch` (for cookie SYN-ACKs).
    mss_limit: usize,
    /// Given to every pool socket (see `TcpSocket::set_segmentation_offload`).
    offload_len: usize,
    stats: ListenerStats,
    parked: [Option<ParkedCookie>; PARKED_COOKIES],
    /// The slot the next parked cookie takes (round-robin).
    parked_next: usize,
    /// When the last cookie SYN-ACK went out.
    last_cookie_at: Option<Instant>,
    /// A pool socket may wait for `accept`: set when the listener's input
    /// may have established one (or `release` left one open), cleared by
    /// an `accept` that finds none, so polling `accept` with nothing new
    /// skips the pass over the pool.
    accept_ready: bool,
}

impl<'a, 'b> TcpListener<'a, 'b> {
    /// A listener on `endpoint` over `sockets` (closed sockets; those not
    /// closed are closed now). `config` supplies the ISN/cookie secret and
    /// the options offered in cookie SYN-ACKs; give every pool socket the
    /// same config and buffer sizes.
    pub fn new(
        endpoint: impl Into<IpListenEndpoint>,
        sockets: &'a mut [TcpSocket<'b>],
        config: TcpConfig,
        limits: ListenerConfig,
    ) -> TcpListener<'a, 'b> {
        for s in sockets.iter_mut() {
            s.reset_hard();
            s.accepted = false;
        }
        TcpListener {
            endpoint: endpoint.into(),
            config,
            limits,
            sockets,
            cursor: 0,
            mss_limit: 536,
            offload_len: 0,
            stats: ListenerStats::default(),
            parked: [None; PARKED_COOKIES],
            parked_next: 0,
            last_cookie_at: None,
            accept_ready: false,
        }
    }

    pub fn endpoint(&self) -> IpListenEndpoint {
        self.endpoint
    }
    pub fn stats(&self) -> ListenerStats {
        self.stats
    }

    fn is_free(s: &TcpSocket) -> bool {
        s.state == State::Closed && !s.accepted
    }

    /// Connections in the SYN queue (handshake in progress).
    pub fn syn_queue_len(&self) -> usize {
        self.sockets.iter().filter(|s| !s.accepted && s.state == State::SynReceived).count()
    }

    /// Connections established and waiting for `accept`.
    pub fn accept_queue_len(&self) -> usize {
        self.sockets.iter().filter(|s| Self::waiting_for_accept(s)).count()
    }

    /// A connection no application has taken yet. Only ESTABLISHED and
    /// CLOSE-WAIT qualify: every other synchronized state needs our FIN,
    /// which only an application that accepted the socket can send, so a
    /// socket in them was accepted and released already (e.g. lingering in
    /// TIME-WAIT) and must not be handed out again.
    fn waiting_for_accept(s: &TcpSocket) -> bool {
        !s.accepted && matches!(s.state, State::Established | State::CloseWait)
    }

    /// Takes the next established connection: the index of its socket.
    /// Connections are those the listener's `process` established (a pool
    /// socket driven directly is the caller's own).
    pub fn accept(&mut self) -> Option<usize> {
        if !self.accept_ready {
            return None;
        }
        match self.sockets.iter().position(Self::waiting_for_accept) {
            Some(i) => {
                self.sockets[i].accepted = true;
                Some(i)
            }
            None => {
                self.accept_ready = false;
                None
            }
        }
    }

    /// A pool socket (for the application, after `accept`).
    /// Every socket of the pool, read-only (for connection tables).
    pub fn sockets(&self) -> &[TcpSocket<'b>] {
        self.sockets
    }
    pub fn socket(&mut self, index: usize) -> Option<&mut TcpSocket<'b>> {
        self.sockets.get_mut(index)
    }

    /// Gives an accepted socket back to the pool. If it is still open it
    /// is aborted (an RST goes out on the next `dispatch`); a socket in
    /// TIME-WAIT finishes it in the pool, and is recycled early only when
    /// no socket is free.
    pub fn release(&mut self, index: usize) {
        if let Some(s) = self.sockets.get_mut(index) {
            if !matches!(s.state, State::Closed | State::TimeWait) {
                s.abort();
            }
            s.accepted = false;
            // Until its RST is out, an aborted socket still reads as open.
            self.accept_ready = true;
        }
    }

    /// A socket for a new connection: a free one, else one lingering in
    /// TIME-WAIT (its 4-tuple loses its protection against old duplicates,
    /// which is better than refusing service), else, for a client that
    /// proved its address, one holding a half-open connection.
    fn take_socket(&mut self, evict_half_open: bool) -> Option<usize> {
        if let Some(i) = self.sockets.iter().position(Self::is_free) {
            return Some(i);
        }
        let time_wait = self.sockets.iter().position(|s| !s.accepted && s.state == State::TimeWait);
        let victim = time_wait.or_else(|| {
            evict_half_open
                .then(|| self.sockets.iter().position(|s| !s.accepted && s.state == State::SynReceived))
                .flatten()
        })?;
        if self.sockets[victim].state == State::SynReceived {
            self.stats.evicted += 1;
        }
        self.sockets[victim].reset_hard();
        Some(victim)
    }

    /// Whether a segment belongs to the listener or one of its sockets.
    pub fn accepts(&self, local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> bool {
        repr.dst_port == local.port && repr.src_port == remote.port && self.endpoint.accepts(local)
    }

    /// Handles one segment: to the socket that owns its 4-tuple, else as a
    /// new connection attempt or the ACK of a SYN cookie.
    pub fn process(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
        payload: &[u8],
    ) -> Option<TcpReply> {
        // Without a sum to complete nothing is verified (nor fails).
        self.process_with_sum(now, local, remote, repr, payload, None, &mut true)
    }

    /// [`process`](Self::process) for a segment whose checksum may still
    /// be owed, `header_sum` being then the sum of its pseudo-header and
    /// TCP header (`None`: verified already, exactly `process`): a
    /// connection's segment goes to its socket's
    /// [`TcpSocket::process_with_sum`] (which sums in-order data while
    /// copying it); any other is verified before anything acts on it. A
    /// segment that does not verify clears `verified` and changes nothing.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn process_with_sum(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
        payload: &[u8],
        header_sum: Option<u16>,
        verified: &mut bool,
    ) -> Option<TcpReply> {
        let ports_match = repr.dst_port == local.port && repr.src_port == remote.port;
        // `accepts`, with the 4-tuple test inlined (a pool socket put in
        // LISTEN by hand still takes what it accepts).
        let owner = |s: &TcpSocket| {
            ports_match
                && (s.owns_tuple(&local, &remote) || (s.state == State::Listen && s.accepts(local, remote, repr)))
        };
        if let Some(i) = self.sockets.iter().position(owner) {
            if let Some((irs, mss)) = self.cookie_over_half_open(now, i, local, remote, repr) {
                if !checksum::owed_sum_verifies(header_sum, payload) {
                    *verified = false;
                    return None;
                }
                // The client answered our cookie SYN-ACK, not this socket's:
                // the socket came from a duplicate of its SYN that arrived
                // once the SYN queue had room. The cookie is what the client
                // knows; the half-open socket would only reset it.
                self.sockets[i].reset_hard();
                return self.open_from_cookie(now, local, remote, repr, payload, irs, mss);
            }
            let reply = self.sockets[i].process_with_sum(now, local, remote, repr, payload, header_sum, verified);
            if Self::waiting_for_accept(&self.sockets[i]) {
                self.accept_ready = true;
            }
            return reply;
        }
        if !checksum::owed_sum_verifies(header_sum, payload) {
            *verified = false;
            return None;
        }
        match (repr.control, repr.ack_number) {
            (TcpControl::Rst, _) => None,
            (TcpControl::Syn, None) => self.on_syn(now, local, remote, repr),
            (TcpControl::Syn, Some(_)) => rst_reply(local, remote, repr),
            (TcpControl::None | TcpControl::Fin, Some(_)) => self.on_ack(now, local, remote, repr, payload),
            (TcpControl::None | TcpControl::Fin, None) => None,
        }
    }

    fn on_syn(&mut self, now: Instant, local: IpEndpoint, remote: IpEndpoint, repr: &TcpRepr) -> Option<TcpReply> {
        if remote.addr.is_multicast() || remote.addr.is_unspecified() || local.addr.is_multicast() {
            return None;
        }
        // One pass over the pool for both queue lengths and a free socket.
        // It ends at the first free socket when the sockets after it are too
        // few to fill either queue: the counts then decide as the full ones
        // would.
        let (accept_backlog, syn_backlog) = (self.limits.accept_backlog, self.limits.syn_backlog);
        let n = self.sockets.len();
        let (mut accept_queue, mut syn_queue, mut free) = (0, 0, None);
        for (i, s) in self.sockets.iter().enumerate() {
            match (s.accepted, s.state) {
                (false, State::Established | State::CloseWait) => accept_queue += 1,
                (false, State::SynReceived) => syn_queue += 1,
                (false, State::Closed) if free.is_none() => {
                    free = Some(i);
                    let rest = n - i - 1;
                    if accept_queue + rest < accept_backlog && syn_queue + rest < syn_backlog {
                        break;
                    }
                }
                _ => {}
            }
        }
        if accept_queue >= accept_backlog {
            // The application is not keeping up: let the client retry.
            self.stats.dropped += 1;
            return None;
        }
        if syn_queue < syn_backlog {
            if let Some(i) = free.or_else(|| self.take_socket(false)) {
                if self.sockets[i].open_from_syn(now, local, remote, repr).is_ok() {
                    self.stats.syns_queued += 1;
                }
                return None;
            }
        }
        if !self.limits.syn_cookies {
            self.stats.dropped += 1;
            return None;
        }
        self.stats.cookies_sent += 1;
        self.last_cookie_at = Some(now);
        Some(self.cookie_syn_ack(now, local, remote, repr))
    }

    fn rcv_shift(&self) -> u8 {
        self.sockets.first().map_or(0, |s| s.wanted_rcv_shift())
    }

    fn ts_offset(&self, local: IpEndpoint, remote: IpEndpoint) -> u32 {
        isn::ts_offset(&self.config.isn_secret, local, remote)
    }

    fn cookie_syn_ack(&self, now: Instant, local: IpEndpoint, remote: IpEndpoint, syn: &TcpRepr) -> TcpReply {
        let (iss, _) =
            cookie::make(&self.config.isn_secret, local, remote, syn.seq_number, syn.max_seg_size.unwrap_or(536), now);
        let window = self.sockets.first().map_or(0, |s| s.rx_buffer.capacity()).min(0xffff);
        let mut reply = TcpRepr {
            src_port: local.port,
            dst_port: remote.port,
            control: TcpControl::Syn,
            seq_number: iss,
            ack_number: Some(syn.seq_number + 1),
            window_len: window as u16,
            max_seg_size: Some(family_mss(self.mss_limit, matches!(remote.addr, IpAddress::V6(_))).min(0xffff) as u16),
            ..TcpRepr::default()
        };
        // Without timestamps there is nowhere to remember window scaling
        // and SACK, so the cookie SYN-ACK does not offer them.
        if let (true, Some(ts)) = (self.config.timestamps, syn.timestamp) {
            let options = TimestampOptions {
                window_scale: syn.window_scale.filter(|_| self.config.window_scaling),
                sack_permitted: syn.sack_permitted && self.config.sack,
            };
            // 32 ms behind the clock, so the connection's later TSvals are
            // never older than this one.
            let tsval = (now.total_millis() as u32).wrapping_add(self.ts_offset(local, remote)).wrapping_sub(32);
            reply.timestamp = Some(TcpTimestamp { tsval: options.encode(tsval), tsecr: ts.tsval });
            reply.window_scale = options.window_scale.map(|_| self.rcv_shift());
            reply.sack_permitted = options.sack_permitted;
        }
        TcpReply { local, remote, repr: reply }
    }

    fn on_ack(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
        payload: &[u8],
    ) -> Option<TcpReply> {
        let ack = repr.ack_number?;
        let cookie = if self.limits.syn_cookies {
            cookie::check(&self.config.isn_secret, local, remote, repr.seq_number, ack, now)
                .map(|mss| (repr.seq_number - 1, mss))
                .or_else(|| self.unpark(now, local, remote, repr.seq_number, ack))
        } else {
            None
        };
        let Some((irs, mss)) = cookie else {
            if self.may_answer_recent_cookie(now, ack) {
                // A cookie client whose segments at ISN + 1 (its ACK and
                // first data, sent back to back, so one burst of loss takes
                // both) were lost or overtaken: an RST would end a
                // connection it believes open, before a byte is echoed; its
                // retransmission from ISN + 1 will prove the cookie.
                self.stats.cookies_unverified += 1;
                return None;
            }
            self.stats.cookies_rejected += 1;
            return rst_reply(local, remote, repr);
        };
        self.open_from_cookie(now, local, remote, repr, payload, irs, mss)
    }

    /// Whether an ACK that failed the cookie check may still answer one:
    /// cookies went out within a cookie's lifetime, and its number reads
    /// as a cookie that is still current.
    fn may_answer_recent_cookie(&self, now: Instant, ack: SeqNumber) -> bool {
        let recent = self.last_cookie_at.is_some_and(|at| cookie::within_lifetime(at, now));
        recent && cookie::is_current(ack, now)
    }

    /// The client's ISN and MSS when a segment for socket `index`, a
    /// half-open connection not yet accepted, acknowledges not its SYN-ACK
    /// but a cookie SYN-ACK sent for the same SYN (same client ISN).
    fn cookie_over_half_open(
        &self,
        now: Instant,
        index: usize,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
    ) -> Option<(SeqNumber, u16)> {
        let s = &self.sockets[index];
        if s.state != State::SynReceived || s.accepted || !self.limits.syn_cookies {
            return None;
        }
        let ack = repr.ack_number?;
        // A pool socket put in LISTEN by hand keeps its own handshake (a
        // reset here would end its listening).
        let plain = matches!(repr.control, TcpControl::None | TcpControl::Fin);
        if !plain || s.listen_endpoint.is_some() {
            return None;
        }
        if ack > s.snd_una && ack <= s.snd_max {
            // It acknowledges this socket's own SYN-ACK.
            return None;
        }
        cookie::check(&self.config.isn_secret, local, remote, s.irs + 1, ack, now).map(|mss| (s.irs, mss))
    }

    /// Opens the connection a valid cookie ACK (client ISN `irs`, MSS
    /// `mss` from the cookie) stands for, or parks it when there is no
    /// room.
    #[allow(clippy::too_many_arguments)]
    fn open_from_cookie(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
        payload: &[u8],
        irs: SeqNumber,
        mss: u16,
    ) -> Option<TcpReply> {
        let ack = repr.ack_number?;
        if self.accept_queue_len() >= self.limits.accept_backlog {
            // The client believes it is connected: keep its ISN so its
            // later segments still find the cookie good.
            self.park(ParkedCookie { local, remote, irs, ack });
            self.stats.dropped += 1;
            return None;
        }
        let ts_offset = self.ts_offset(local, remote);
        let (options, timestamp) = match (self.config.timestamps, repr.timestamp) {
            (true, Some(ts)) => (TimestampOptions::decode(ts.tsecr), Some(TcpTimestamp { tsval: ts.tsval, tsecr: 0 })),
            _ => (TimestampOptions { window_scale: None, sack_permitted: false }, None),
        };
        // A client that returned a valid cookie has proven its address; a
        // half-open connection has not. With no socket free, the proven
        // client takes the place of a half-open one (a SYN flood fills the
        // SYN queue with those), silently, as its peer may be spoofed.
        let Some(i) = self.take_socket(true) else {
            // The cookie stays good: the client's retransmission (or its
            // next segment, through the parked ISN) may find a free socket.
            self.park(ParkedCookie { local, remote, irs, ack });
            self.stats.dropped += 1;
            return None;
        };
        self.forget_parked(local, remote);
        self.accept_ready = true;
        let s = &mut self.sockets[i];
        // Rebuild the SYN the cookie stands for, then let the socket take
        // the ACK (and any data) as in SYN-RECEIVED.
        let syn = TcpRepr {
            src_port: repr.src_port,
            dst_port: repr.dst_port,
            control: TcpControl::Syn,
            seq_number: irs,
            ack_number: None,
            window_len: repr.window_len,
            max_seg_size: Some(mss),
            window_scale: options.window_scale,
            sack_permitted: options.sack_permitted,
            timestamp,
            ..TcpRepr::default()
        };
        s.open_from_syn(now, local, remote, &syn).ok()?;
        s.adopt_cookie(ack - 1, ts_offset);
        self.stats.cookies_accepted += 1;
        s.process(now, local, remote, repr, payload)
    }

    /// Remembers a valid cookie ACK that had to be dropped.
    fn park(&mut self, parked: ParkedCookie) {
        let same_client =
            |p: &Option<ParkedCookie>| p.is_some_and(|p| (p.local, p.remote) == (parked.local, parked.remote));
        let slot = self.parked.iter().position(same_client).unwrap_or_else(|| {
            let next = self.parked_next;
            self.parked_next = (next + 1) % PARKED_COOKIES;
            next
        });
        self.parked[slot] = Some(parked);
    }

    fn forget_parked(&mut self, local: IpEndpoint, remote: IpEndpoint) {
        for p in self.parked.iter_mut() {
            if p.is_some_and(|p| (p.local, p.remote) == (local, remote)) {
                *p = None;
            }
        }
    }

    /// The client's ISN and MSS for a later segment (sequence number
    /// `seq`, past its ISN) of a client whose cookie ACK was parked; the
    /// cookie must still be within its lifetime.
    fn unpark(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        seq: SeqNumber,
        ack: SeqNumber,
    ) -> Option<(SeqNumber, u16)> {
        let slot = self
            .parked
            .iter()
            .position(|p| p.is_some_and(|p| (p.local, p.remote, p.ack) == (local, remote, ack) && seq > p.irs))?;
        let parked = self.parked[slot]?;
        match cookie::check(&self.config.isn_secret, local, remote, parked.irs + 1, ack, now) {
            Some(mss) => Some((parked.irs, mss)),
            None => {
                // Expired.
                self.parked[slot] = None;
                None
            }
        }
    }

    /// TCP segmentation offload for every pool socket, applied at their
    /// next dispatch (see `TcpSocket::set_segmentation_offload`).
    pub fn set_segmentation_offload(&mut self, max_payload: usize) {
        self.offload_len = max_payload;
    }

    /// Emits the next segment any pool socket has due (at most one per
    /// call, round-robin across sockets). `mss_limit` is for IPv4
    /// connections; IPv6 ones get 20 bytes less (their IP header is 20
    /// bytes longer), so one listener serves both families. `emit` is
    /// called at most once; it is `FnMut` so that it can be lent to each
    /// pool socket in turn (moving a `FnOnce` in and out of an `Option`
    /// for every socket looked at cost more).
    pub fn dispatch<E, F>(&mut self, now: Instant, mss_limit: usize, mut emit: F) -> Result<(), E>
    where
        F: FnMut(&IpEndpoint, &IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    {
        self.mss_limit = mss_limit;
        let n = self.sockets.len();
        let start = if self.cursor < n { self.cursor } else { 0 };
        let offload_len = self.offload_len;
        // The pool from `start` to its end, then the part before `start`:
        // two index ranges, so the pass over every pool socket (on every
        // call) needs no wrap-around arithmetic per socket.
        let (mut i, mut end, mut wrapped) = (start, n, false);
        loop {
            if i == end {
                if wrapped || start == 0 {
                    return Ok(());
                }
                (i, end, wrapped) = (0, start, true);
                continue;
            }
            let s = &mut self.sockets[i];
            i += 1;
            // A socket whose last dispatch found nothing due stays quiet
            // until touched; any other is dispatched, which either sends or
            // finds nothing due and goes quiet (one planning pass, not a
            // `poll_at` and then the same planning again).
            if s.state == State::Closed {
                continue;
            }
            // The family from its flag (every pool socket is looked at on
            // every call).
            let v6 = s.tuple_v6;
            let mss = family_mss(mss_limit, v6);
            if s.is_quiet(now, mss) {
                continue;
            }
            // Segmentation offload is for IPv4 (the device's TSO4).
            s.set_segmentation_offload(if v6 { 0 } else { offload_len });
            let mut emitted = false;
            let result = s.dispatch(now, mss, |l, r, repr, p| {
                emitted = true;
                emit(l, r, repr, p)
            });
            if emitted {
                // The next call starts after the socket that sent.
                self.cursor = if i == n { 0 } else { i };
                return result;
            }
            result?;
        }
    }

    /// The earliest time any pool socket needs `dispatch`.
    pub fn poll_at(&self) -> Option<Instant> {
        self.sockets.iter().filter_map(|s| s.poll_at()).min()
    }
}

/// The MSS limit for a connection over IPv6 (`v6`) or IPv4, from the
/// IPv4 one (the IPv6 header is 20 bytes longer).
fn family_mss(mss_limit_v4: usize, v6: bool) -> usize {
    if v6 {
        mss_limit_v4.saturating_sub(20).max(1)
    } else {
        mss_limit_v4
    }
}
