//! The send path: building segments and deciding what `dispatch` emits
//! (data, retransmissions, SYN, FIN, ACKs, window updates, probes), and
//! `poll_at`.

use super::*;

impl<'a> TcpSocket<'a> {
    // ---------------------------------------------------------------
    // Segment construction
    // ---------------------------------------------------------------

    #[inline]
    pub(super) fn ts_val(&self, now: Instant) -> u32 {
        (now.total_millis() as u32).wrapping_add(self.ts_offset)
    }

    #[inline]
    pub(super) fn timestamp_option(&self, now: Instant) -> Option<TcpTimestamp> {
        self.timestamps.then(|| TcpTimestamp { tsval: self.ts_val(now), tsecr: self.ts_recent })
    }

    /// The MSS we announce: what one segment can carry on this interface.
    #[inline]
    pub(super) fn advertised_mss(&self) -> usize {
        self.mss_limit.min(0xffff)
    }

    /// Payload bytes per full segment we send.
    #[inline]
    pub(super) fn send_mss(&self) -> usize {
        let overhead = if self.timestamps { TIMESTAMP_OVERHEAD } else { 0 };
        self.remote_mss.min(self.mss_limit).saturating_sub(overhead).max(1)
    }

    /// The most new data one segment may carry: one MSS, or a whole number
    /// of them when the device segments (and the peer takes full-sized
    /// segments, so the device's cut at the MTU is exactly `mss`).
    pub(super) fn max_segment_payload(&self, mss: usize) -> usize {
        if self.offload_len > mss && self.remote_mss >= self.mss_limit {
            self.offload_len / mss * mss
        } else {
            mss
        }
    }

    /// The window to announce, with receiver silly-window avoidance: the
    /// right edge only moves once it can move by min(MSS, buffer/2).
    #[inline]
    pub(super) fn advertised_window(&self) -> usize {
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
    pub(super) fn stamp_ack(&mut self, now: Instant, repr: &mut TcpRepr) {
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
    #[inline]
    pub(super) fn endpoints(&self) -> (IpEndpoint, IpEndpoint) {
        self.tuple.unwrap_or_else(|| {
            let any = IpEndpoint::new(IpAddress::V4(Default::default()), 0);
            (any, any)
        })
    }

    /// (local, remote), borrowed: what `dispatch` hands to `emit` (a copy
    /// of both endpoints per segment otherwise); only called once the
    /// 4-tuple is known.
    #[inline]
    pub(super) fn tuple_ref(&self) -> (&IpEndpoint, &IpEndpoint) {
        match &self.tuple {
            Some((local, remote)) => (local, remote),
            None => (&NO_ENDPOINT, &NO_ENDPOINT),
        }
    }

    pub(super) fn base_repr(&self, control: TcpControl, seq: SeqNumber) -> TcpRepr {
        // The ports from their word (0 without a 4-tuple, as `endpoints`).
        let (src_port, dst_port) = ((self.tuple_ports >> 16) as u16, self.tuple_ports as u16);
        TcpRepr { src_port, dst_port, control, seq_number: seq, ..TcpRepr::default() }
    }

    pub(super) fn sack_blocks(&self) -> [Option<SackBlock>; 4] {
        let mut blocks = [None; 4];
        if !self.sack_ok {
            return blocks;
        }
        let to_seq = |r: &(usize, usize)| (self.rcv_nxt + r.0, self.rcv_nxt + r.1);
        let mut n = 0;
        let recent = self
            .recent_ooo
            .and_then(|seq| self.assembler.ranges().iter().map(to_seq).find(|&(l, r)| seq >= l && seq < r));
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

    /// The sequence number for segments without data (ACKs, RSTs): the
    /// highest sent, even while retransmitting from an earlier point, so
    /// the peer (whose RCV.NXT may be anywhere up to it) finds it in its
    /// window; but not past the right edge of the peer's window.
    #[inline]
    pub(super) fn ack_seq(&self) -> SeqNumber {
        let edge = self.snd_una + self.snd_wnd;
        if self.snd_max <= edge || !self.syn_acked {
            self.snd_max
        } else {
            edge
        }
    }

    /// A bare ACK reflecting the current state (with SACK blocks).
    pub(super) fn ack_reply(&mut self, now: Instant) -> TcpReply {
        let repr = self.ack_repr(now);
        let (local, remote) = self.endpoints();
        TcpReply { local, remote, repr }
    }

    /// The header of [`ack_reply`](Self::ack_reply), for `dispatch`.
    pub(super) fn ack_repr(&mut self, now: Instant) -> TcpRepr {
        let mut repr = self.base_repr(TcpControl::None, self.ack_seq());
        self.stamp_ack(now, &mut repr);
        repr.sack_ranges = self.sack_blocks();
        repr
    }

    // ---------------------------------------------------------------
    // Sending
    // ---------------------------------------------------------------

    /// The application closed the send side (a FIN is or was due).
    #[inline]
    pub(super) fn fin_wanted(&self) -> bool {
        matches!(self.state, State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait)
    }

    /// What the next data/FIN segment would be: (offset into the send
    /// buffer, payload length, FIN), if one may be sent now.
    #[inline]
    pub(super) fn plan_data(&self) -> Option<(usize, usize, bool)> {
        // Nothing queued beyond what is in flight, and no FIN wanted or it
        // went out already (SND.NXT past the data: the common cases once
        // the last segment went out): answered inline.
        let offset = self.snd_nxt.distance_from(self.snd_una);
        let queued = self.tx_buffer.len();
        let unsent = queued.saturating_sub(offset);
        if !self.syn_acked || (unsent == 0 && (offset > queued || !self.fin_wanted())) {
            return None;
        }
        self.plan_data_with_queue()
    }

    fn plan_data_with_queue(&self) -> Option<(usize, usize, bool)> {
        let can_send = matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck
        );
        if !can_send || !self.syn_acked {
            return None;
        }
        let offset = self.snd_nxt.distance_from(self.snd_una);
        let queued = self.tx_buffer.len();
        let unsent = queued.saturating_sub(offset);
        // Nothing queued and no FIN wanted: nothing to plan (the common
        // case of a dispatch after the last segment went out).
        if unsent == 0 && !self.fin_wanted() {
            return None;
        }
        let mss = self.send_mss();
        let in_flight = if self.recovery.is_some() && self.sack_ok { self.pipe() } else { offset };
        // Limited transmit (RFC 3042): each of the first two duplicate
        // ACKs lets one new segment out beyond the congestion window, so
        // a small window still produces the third duplicate.
        let limited_transmit = if self.recovery.is_none() { self.dup_acks.min(2) as usize * mss } else { 0 };
        let cwnd = self.congestion.window() + limited_transmit;
        let usable = self.snd_wnd.saturating_sub(offset).min(cwnd.saturating_sub(in_flight));
        let mut len = unsent.min(usable).min(self.max_segment_payload(mss));
        // A segment of several MSS (for the device to cut) ends in a short
        // piece only where a lone short segment could go (Nagle below).
        let short_tail_ok = len == unsent && (!self.config.nagle || offset == 0 || self.fin_wanted());
        if len > mss && !short_tail_ok {
            len -= len % mss;
        }
        let fin = self.fin_wanted()
            && matches!(self.state, State::FinWait1 | State::Closing | State::LastAck)
            && offset + len == queued
            && offset <= queued;
        let retransmitting = self.snd_nxt < self.snd_max;
        let send_data = len > 0
            && (len >= mss
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
    #[inline]
    pub(super) fn window_update_due(&self) -> bool {
        if !matches!(self.state, State::Established | State::FinWait1 | State::FinWait2) {
            return false;
        }
        let field = (self.advertised_window() >> self.rcv_shift).min(0xffff);
        let edge = self.rcv_nxt + (field << self.rcv_shift);
        edge > self.rcv_adv_edge
    }

    #[inline]
    pub(super) fn keepalive_due_at(&self) -> Option<Instant> {
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

    #[inline]
    pub(super) fn syn_due(&self) -> bool {
        matches!(self.state, State::SynSent | State::SynReceived) && self.snd_nxt == self.iss
    }

    /// When `dispatch` should next be called. An instant at or before now
    /// (`Instant::ZERO` is used) means as soon as possible; `None` means
    /// only after new input.
    pub fn poll_at(&self) -> Option<Instant> {
        if let Some(quiet) = self.quiet {
            return quiet.until;
        }
        if matches!(self.state, State::Closed | State::Listen) {
            return None;
        }
        if self.due_now() {
            return Some(Instant::ZERO);
        }
        self.timer_deadline(self.persist_at)
    }

    /// Whether a `dispatch(now, mss_limit, ..)` would return at once
    /// because an earlier one found nothing due before a later instant
    /// (lets the interface skip the call).
    #[inline]
    pub(crate) fn is_quiet(&self, now: Instant, mss_limit: usize) -> bool {
        self.quiet.is_some_and(|q| q.mss_limit == mss_limit.max(1) && q.until.is_none_or(|t| now < t))
    }

    /// Whether `dispatch` has something to do whatever the time (a
    /// segment to send, or a persist timer to arm).
    fn due_now(&self) -> bool {
        match self.state {
            State::Closed | State::Listen => return false,
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
            return true;
        }
        // A persist timer that is needed but not yet armed: dispatch arms it.
        self.persist_at.is_none() && self.persist_needed()
    }

    /// The earliest of the armed timers, with `persist` for the persist
    /// timer.
    #[inline]
    fn timer_deadline(&self, persist: Option<Instant>) -> Option<Instant> {
        let due = earliest(earliest(self.rto_at, persist), earliest(self.ack_at, self.time_wait_until));
        earliest(due, self.keepalive_due_at())
    }

    /// Emits the next segment that is due at `now`, if any, by calling
    /// `emit(&local, &remote, header, payload)` (the endpoints borrowed
    /// from the socket, not copied per segment). At most one segment per
    /// call: the interface calls again while segments come out (and stops
    /// when `emit` is not called or fails). `mss_limit` is the payload one
    /// segment with a 20-byte header can carry on the route (MTU - IP
    /// header - 20).
    pub fn dispatch<E>(
        &mut self,
        now: Instant,
        mss_limit: usize,
        emit: impl FnOnce(&IpEndpoint, &IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.is_quiet(now, mss_limit) {
            return Ok(());
        }
        self.quiet = None;
        if matches!(self.state, State::Closed | State::Listen) {
            return Ok(());
        }
        if self.tuple.is_none() {
            return Ok(());
        }
        self.mss_limit = mss_limit.max(1);

        if self.state == State::TimeWait && self.time_wait_until.is_some_and(|t| now >= t) {
            self.reset_connection();
            return Ok(());
        }

        if self.rst_pending {
            let repr = TcpRepr { ack_number: Some(self.rcv_nxt), ..self.base_repr(TcpControl::Rst, self.ack_seq()) };
            let (local, remote) = self.endpoints();
            self.reset_hard();
            return emit(&local, &remote, &repr, &[]);
        }

        if self.rto_at.is_some_and(|t| now >= t) {
            self.rto_at = None;
            if self.retransmits >= self.config.max_retransmits {
                let synchronized = self.state != State::SynSent;
                let repr =
                    TcpRepr { ack_number: Some(self.rcv_nxt), ..self.base_repr(TcpControl::Rst, self.ack_seq()) };
                let (local, remote) = self.endpoints();
                self.reset_hard();
                return if synchronized { emit(&local, &remote, &repr, &[]) } else { Ok(()) };
            }
            self.retransmits += 1;
            if !self.syn_acked {
                // The SYN or SYN-ACK goes again (data retransmissions are
                // counted as they are sent).
                self.total_retransmits = self.total_retransmits.saturating_add(1);
                self.handshake_timed_out = true;
            }
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
            return self.send_syn(now, emit);
        }

        if self.fast_retransmit && self.syn_acked {
            self.fast_retransmit = false;
            // With SACK, only the hole at SND.UNA, not SACKed data after it.
            let len = match self.next_hole() {
                Some((0, len)) if self.sack_ok => len,
                _ => self.send_mss(),
            };
            return self.send_retransmission(now, 0, len, emit);
        }

        // SACK recovery: fill holes while the pipe has room (RFC 6675 5).
        if self.sack_hole_due() {
            if let Some((offset, len)) = self.next_hole() {
                return self.send_retransmission(now, offset, len, emit);
            }
        }

        if let Some((offset, len, fin)) = self.plan_data() {
            self.send_data(now, offset, len, fin, emit)?;
            self.settle_after_data(now);
            return Ok(());
        }

        // Data waiting, nothing in flight, and the window too small to
        // send (zero, or below the silly-window threshold): the persist
        // timer probes a zero window and overrides silly-window avoidance.
        let unsent = self.tx_buffer.len().saturating_sub(self.snd_nxt.distance_from(self.snd_una));
        if !self.persist_needed() {
            self.persist_at = None;
            self.persist_backoff = 0;
        } else if let Some(at) = self.persist_at {
            if now >= at {
                self.persist_backoff = (self.persist_backoff + 1).min(16);
                self.persist_at = Some(now + self.persist_interval());
                let usable = self.snd_wnd.min(self.congestion.window());
                if usable == 0 {
                    return self.send_probe(now, self.snd_una - 1, emit);
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
                let repr =
                    TcpRepr { ack_number: Some(self.rcv_nxt), ..self.base_repr(TcpControl::Rst, self.ack_seq()) };
                let (local, remote) = self.endpoints();
                self.reset_hard();
                return emit(&local, &remote, &repr, &[]);
            }
            self.keepalive_probes_sent += 1;
            self.last_keepalive_at = Some(now);
            return self.send_probe(now, self.snd_nxt - 1, emit);
        }

        if self.ack_at.is_some_and(|t| now >= t) || self.window_update_due() {
            let saved = self.ack_state();
            let repr = self.ack_repr(now);
            let (local, remote) = self.tuple_ref();
            let result = emit(local, remote, &repr, &[]);
            match result {
                // Every check above came out empty and the ACK changed
                // none of their inputs: the next call would only go quiet.
                Ok(()) => self.go_quiet(),
                Err(_) => self.restore_ack_state(saved),
            }
            return result;
        }
        // Every check above came out empty: nothing is due before the
        // next timer unless something touches the socket.
        self.go_quiet();
        Ok(())
    }

    /// Nothing is due before the next timer unless something touches the
    /// socket: the next `dispatch` (and `poll_at`) answer without planning.
    #[inline]
    fn go_quiet(&mut self) {
        self.quiet = Some(Quiet { until: self.timer_deadline(self.persist_at), mss_limit: self.mss_limit });
    }

    /// After new data (or a FIN) went out: goes quiet at once when the next
    /// `dispatch` would find nothing due, sparing it the full pass. Of the
    /// checks that come before `plan_data` there, sending changes only the
    /// RTO (armed, normally in the future) and the SACK pipe; the segment
    /// carried the current ACK and window, and keepalive needs an idle
    /// connection. The persist timer is disarmed as that pass would.
    #[inline]
    fn settle_after_data(&mut self, now: Instant) {
        if self.rto_at.is_some_and(|t| now >= t)
            || self.sack_hole_due()
            || self.plan_data().is_some()
            || self.persist_needed()
            || self.keepalive_due_at().is_some_and(|t| now >= t)
        {
            return;
        }
        self.persist_at = None;
        self.persist_backoff = 0;
        self.go_quiet();
    }

    /// Data waiting, nothing in flight, and nothing sendable (checked by
    /// the caller): the persist timer must run.
    #[inline]
    pub(super) fn persist_needed(&self) -> bool {
        let unsent = self.tx_buffer.len().saturating_sub(self.snd_nxt.distance_from(self.snd_una));
        self.syn_acked
            && unsent > 0
            && self.snd_nxt == self.snd_una
            && matches!(
                self.state,
                State::Established | State::CloseWait | State::FinWait1 | State::Closing | State::LastAck
            )
    }

    pub(super) fn persist_interval(&self) -> Duration {
        self.rtt.rto().saturating_mul(1 << self.persist_backoff.min(16)).min(self.config.rto_max)
    }

    pub(super) fn send_syn<E>(
        &mut self,
        now: Instant,
        emit: impl FnOnce(&IpEndpoint, &IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
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
        let (local, remote) = self.tuple_ref();
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

    pub(super) fn send_data<E>(
        &mut self,
        now: Instant,
        offset: usize,
        len: usize,
        fin: bool,
        emit: impl FnOnce(&IpEndpoint, &IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let seq = self.snd_nxt;
        let control = if fin { TcpControl::Fin } else { TcpControl::None };
        let mut repr = self.base_repr(control, seq);
        repr.payload_len = len;
        repr.push = len > 0 && offset + len == self.tx_buffer.len();
        let retransmission = seq < self.snd_max;
        self.emit_from_buffer(now, &mut repr, offset, emit)?;
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
    pub(super) fn send_retransmission<E>(
        &mut self,
        now: Instant,
        offset: usize,
        max_len: usize,
        emit: impl FnOnce(&IpEndpoint, &IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let outstanding = self.snd_max.distance_from(self.snd_una);
        let len = self.tx_buffer.len().saturating_sub(offset).min(max_len).min(outstanding.saturating_sub(offset));
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
        self.emit_from_buffer(now, &mut repr, offset, emit)?;
        self.high_rxt = self.high_rxt.max(seq + repr.payload_len);
        self.total_retransmits = self.total_retransmits.saturating_add(1);
        self.rtt_timed = None;
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rtt.rto());
        }
        Ok(())
    }

    #[inline]
    pub(super) fn emit_from_buffer<E>(
        &mut self,
        now: Instant,
        repr: &mut TcpRepr,
        offset: usize,
        emit: impl FnOnce(&IpEndpoint, &IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
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
        let (local, remote) = self.tuple_ref();
        let result = emit(local, remote, repr, data);
        if result.is_err() {
            self.restore_ack_state(saved);
        }
        result
    }

    /// What `stamp_ack` changes, to undo it when a segment is not sent.
    #[inline]
    pub(super) fn ack_state(&self) -> (SeqNumber, SeqNumber, Option<Instant>, usize) {
        (self.rcv_adv_edge, self.last_ack_sent, self.ack_at, self.unacked_bytes)
    }

    #[inline]
    pub(super) fn restore_ack_state(&mut self, saved: (SeqNumber, SeqNumber, Option<Instant>, usize)) {
        (self.rcv_adv_edge, self.last_ack_sent, self.ack_at, self.unacked_bytes) = saved;
    }

    pub(super) fn send_probe<E>(
        &mut self,
        now: Instant,
        seq: SeqNumber,
        emit: impl FnOnce(&IpEndpoint, &IpEndpoint, &TcpRepr, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let saved = self.ack_state();
        let mut repr = self.base_repr(TcpControl::None, seq);
        self.stamp_ack(now, &mut repr);
        let (local, remote) = self.tuple_ref();
        let result = emit(local, remote, &repr, &[]);
        if result.is_err() {
            self.restore_ack_state(saved);
        }
        result
    }
}

/// What [`TcpSocket::tuple_ref`] gives a socket without a 4-tuple (never
/// emitted: `dispatch` checks for the tuple first).
static NO_ENDPOINT: IpEndpoint = IpEndpoint { addr: IpAddress::V4(crate::wire::Ipv4Address::UNSPECIFIED), port: 0 };

/// The earlier of two optional deadlines.
#[inline]
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    // Without a branch per case: an unarmed timer counts as the end of
    // time (no timer is ever armed there).
    let never = Instant::from_micros(i64::MAX);
    let t = a.unwrap_or(never).min(b.unwrap_or(never));
    (t != never).then_some(t)
}
