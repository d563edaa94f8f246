//! The receive path: matching and processing one incoming segment
//! (RFC 9293 section 3.10.7, with RFC 5961 and RFC 7323 checks).

use super::*;
use crate::wire::checksum;

impl<'a> TcpSocket<'a> {
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
            // Ports first: the cheapest test that tells connections apart.
            | State::TimeWait => self.tuple.is_some_and(|(l, r)| {
                r.port == remote.port && l.port == local.port && r.addr == remote.addr && l.addr == local.addr
            }),
        }
    }

    /// Whether the socket is a connection (past LISTEN) with exactly this
    /// 4-tuple: `accepts` for a segment whose ports are those of `local`
    /// and `remote` (as the interface builds them), without a socket in
    /// LISTEN. Inlined into the searches of every received segment.
    #[inline]
    pub(crate) fn owns_tuple(&self, local: &IpEndpoint, remote: &IpEndpoint) -> bool {
        // The ports first, as one word: the cheapest test that tells
        // connections apart.
        if self.tuple_ports != ports_key(local.port, remote.port) {
            return false;
        }
        match &self.tuple {
            Some((l, r)) => {
                r.addr == remote.addr && l.addr == local.addr && !matches!(self.state, State::Closed | State::Listen)
            }
            None => false,
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
        self.process_staged(now, local, remote, repr, payload, None)
    }

    /// [`process`](Self::process) for a segment whose checksum may still
    /// be owed: `header_sum` is then the sum of its pseudo-header and TCP
    /// header (options included), and the payload is summed here (`None`:
    /// verified already, exactly `process`). An in-order payload is summed
    /// while it is copied into the receive buffer, where `process` would
    /// put it (one pass over the bytes instead of a verifying pass and then
    /// a copy); any other payload is summed first. A segment that does not
    /// verify clears `verified`, returns `None` and leaves the socket as it
    /// was: the copy went only to free buffer space, which holds nothing
    /// while no out-of-order data is held (and when some is, nothing is
    /// copied before the sum).
    ///
    /// (`verified` rather than a `Result`: wrapping the answer costs a copy
    /// of it on every segment.)
    #[allow(clippy::too_many_arguments)]
    #[inline]
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
        let staged = match header_sum {
            None => None,
            Some(header_sum) => {
                let staged = self.stage_in_order(repr, payload);
                let payload_sum = match staged {
                    Some(sum) => sum,
                    None => checksum::data(payload),
                };
                if !checksum::is_valid(checksum::combine(&[header_sum, payload_sum])) {
                    *verified = false;
                    return None;
                }
                staged.map(|_| (repr.seq_number, payload.len()))
            }
        };
        self.process_staged(now, local, remote, repr, payload, staged)
    }

    /// [`process`](Self::process), with `staged` saying which in-order
    /// payload (sequence number, length) is already in place in the
    /// receive buffer's free space.
    fn process_staged(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
        payload: &[u8],
        staged: Option<(SeqNumber, usize)>,
    ) -> Option<TcpReply> {
        self.quiet = None;
        // Set on every entry, so that it never outlives its segment.
        self.rx_staged = staged;
        // The payload slice is the truth about the segment's length (a
        // copy only when the two disagree).
        let corrected;
        let repr = if repr.payload_len == payload.len() {
            repr
        } else {
            corrected = TcpRepr { payload_len: payload.len(), ..*repr };
            &corrected
        };
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

    /// Copies and sums the payload of an in-order segment into the free
    /// space at the receive buffer's write pointer, when `process` would
    /// take it whole there: a receiving state, nothing held out of order,
    /// room for all of it. Returns its sum, or `None` with nothing copied.
    fn stage_in_order(&mut self, repr: &TcpRepr, payload: &[u8]) -> Option<u16> {
        let receiving = matches!(self.state, State::Established | State::FinWait1 | State::FinWait2);
        if !receiving || payload.is_empty() || repr.seq_number != self.rcv_nxt || !self.assembler.is_empty() {
            return None;
        }
        self.rx_buffer.write_unallocated_summed(0, payload)
    }

    pub(super) fn process_listen(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
    ) -> Option<TcpReply> {
        if repr.control == TcpControl::Rst {
            return None;
        }
        if repr.ack_number.is_some() {
            return rst_reply(local, remote, repr);
        }
        if repr.control != TcpControl::Syn {
            return None;
        }
        // A SYN from or to a multicast address is not a connection.
        if remote.addr.is_multicast() || remote.addr.is_unspecified() || local.addr.is_multicast() {
            return None;
        }
        self.open_tuple(local, remote, now);
        self.take_syn(now, repr);
        self.set_state(State::SynReceived);
        self.passive = true;
        None
    }

    pub(super) fn process_syn_sent(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
    ) -> Option<TcpReply> {
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
                        self.set_state(State::Established);
                        self.enter_established();
                        // ACK the SYN-ACK at once.
                        self.ack_at = Some(now);
                    }
                    None => {
                        // Simultaneous open: answer SYN-ACK from ISS.
                        self.set_state(State::SynReceived);
                        self.snd_nxt = self.iss;
                        self.rto_at = None;
                    }
                }
                None
            }
            TcpControl::None | TcpControl::Fin => None,
        }
    }

    pub(super) fn enter_established(&mut self) {
        self.congestion = Congestion::new(self.config.congestion, self.send_mss());
        if self.handshake_timed_out {
            self.rtt.after_handshake_timeout();
        }
        if self.close_pending {
            self.close_pending = false;
            self.set_state(State::FinWait1);
        }
    }

    pub(super) fn process_synchronized(
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
                    self.set_state(State::Listen);
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
            self.set_state(State::Established);
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
                    State::FinWait1 => self.set_state(State::FinWait2),
                    State::Closing => self.enter_time_wait(now),
                    State::LastAck => {
                        self.reset_connection();
                        return None;
                    }
                    _ => {}
                }
            }
        }
        let sacked_before = self.scoreboard.covered();
        if self.sack_ok && repr.sack_ranges.iter().any(Option::is_some) {
            self.record_sack(repr);
        }
        // RFC 5681: a duplicate ACK is pure and leaves the window alone.
        // RFC 6675 section 2: with SACK, any segment whose SACK blocks
        // cover bytes not SACKed before is one too, whatever it carries: a
        // peer sending data of its own (an echo) or whose window moves
        // with every read (Linux) would otherwise rarely make three, and
        // losses would wait for the RTO.
        // `&` and `|`, not `&&` and `||`: cheap tests, combined without a
        // branch each (on every ACK, and their outcomes vary).
        let plain_duplicate = payload.is_empty()
            & (repr.control == TcpControl::None)
            & (usize::from(repr.window_len) << self.snd_shift == old_wnd);
        let sack_duplicate = self.scoreboard.covered() > sacked_before;
        let duplicate = !advanced & (ack == self.snd_una) & (self.snd_max > self.snd_una);
        if duplicate && (plain_duplicate | sack_duplicate) {
            self.on_duplicate_ack(now);
        }
        // RFC 6675 IsLost(SND.UNA): more than two segments SACKed above it
        // also starts recovery, without waiting for three duplicates.
        if self.sack_ok
            && self.recovery.is_none()
            && self.snd_una >= self.recover
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
    /// number above the old connection's), and the application has read
    /// everything the old one received. The new ISS is above the old
    /// SND.MAX. Returns whether the SYN was taken.
    pub(super) fn reuse_time_wait(
        &mut self,
        now: Instant,
        local: IpEndpoint,
        remote: IpEndpoint,
        repr: &TcpRepr,
    ) -> bool {
        if self.state != State::TimeWait
            || repr.control != TcpControl::Syn
            || repr.ack_number.is_some()
            || !self.passive
            || (self.listen_endpoint.is_none() && self.accepted)
            // Reuse resets the socket: never drop data not yet read.
            || !self.rx_buffer.is_empty()
        {
            return false;
        }
        // RFC 6191: a newer timestamp, or an equal one (a client reusing
        // its port within the same clock tick) with a higher sequence
        // number; without timestamps, a higher sequence number.
        let newer = match (self.timestamps, repr.timestamp) {
            (true, Some(ts)) => match ts.tsval.wrapping_sub(self.ts_recent) as i32 {
                0 => repr.seq_number > self.rcv_nxt,
                diff => diff > 0,
            },
            _ => repr.seq_number > self.rcv_nxt,
        };
        if !newer {
            return false;
        }
        let old_snd_max = self.snd_max;
        let endpoint = self.listen_endpoint;
        self.reset_hard();
        self.listen_endpoint = endpoint;
        self.set_state(if endpoint.is_some() { State::Listen } else { State::Closed });
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
    pub(super) fn challenge_ack(&mut self, now: Instant) -> Option<TcpReply> {
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
    pub(super) fn acceptable(&self, seq: SeqNumber, seg_len: usize) -> bool {
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
    pub(super) fn on_ack_advance(&mut self, now: Instant, ack: SeqNumber, repr: &TcpRepr) -> bool {
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

    // One caller, on every segment: inlined, its prologue and the
    // register saves around the call go (the size heuristic declines).
    #[inline(always)]
    pub(super) fn process_data_and_fin(&mut self, now: Instant, repr: &TcpRepr, payload: &[u8]) -> Option<TcpReply> {
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
            // Already in place when `process_with_sum` copied exactly
            // these bytes to exactly this place (untrimmed, at RCV.NXT).
            let staged = self.rx_staged.take().is_some_and(|(seq, len)| {
                seq == repr.seq_number && seq == self.rcv_nxt && len == data.len() && self.assembler.is_empty()
            });
            if !staged {
                self.rx_buffer.write_unallocated(offset, data);
            }
            let filled_hole = !self.assembler.is_empty() && offset == 0;
            if offset == 0 && self.assembler.is_empty() {
                // In order with nothing held out of order (the common
                // case): what the assembler would hand back is just this.
                self.rx_buffer.enqueue_unallocated(data.len());
                self.rcv_nxt += data.len();
                self.unacked_bytes += data.len();
            } else if self.assembler.add(offset, offset + data.len()).is_ok() {
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
                State::Established => self.set_state(State::CloseWait),
                State::FinWait1 => self.set_state(State::Closing),
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

    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        self.set_state(State::TimeWait);
        self.time_wait_until = Some(now + self.config.msl.saturating_mul(2));
        self.rto_at = None;
        self.persist_at = None;
    }
}
