//! Loss recovery on duplicate ACKs: NewReno fast retransmit and fast
//! recovery (RFC 5681, RFC 6582) and, when SACK is on, the RFC 6675
//! scoreboard and pipe.

use super::*;

impl<'a> TcpSocket<'a> {
    pub(super) fn on_duplicate_ack(&mut self, now: Instant) {
        self.dup_acks = self.dup_acks.saturating_add(1);
        let mss = self.send_mss();
        match self.recovery {
            Some(_) if self.sack_ok => {}
            Some(_) => {
                // Each further duplicate means a segment left the network.
                let cwnd = self.congestion.window() + mss;
                self.congestion.set_window(cwnd);
            }
            // RFC 6582 3.2 step 2: the ACK covers everything sent before
            // the last recovery began (`recover` is one past it).
            None if self.dup_acks == 3 && self.snd_una >= self.recover => self.enter_recovery(now),
            None => {}
        }
    }

    /// Fast retransmit and the start of fast recovery: NewReno (RFC 6582)
    /// inflates the window by the three duplicates; SACK recovery (RFC
    /// 6675) counts the pipe instead.
    pub(super) fn enter_recovery(&mut self, now: Instant) {
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
    pub(super) fn record_sack(&mut self, repr: &TcpRepr) {
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
    pub(super) fn next_hole(&self) -> Option<(usize, usize)> {
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

    #[inline]
    pub(super) fn sack_hole_due(&self) -> bool {
        self.recovery.is_some() && self.sack_ok && self.syn_acked && self.sack_hole_fits()
    }

    /// During SACK recovery: the pipe has room and a hole is waiting.
    fn sack_hole_fits(&self) -> bool {
        self.pipe() < self.congestion.window() && self.next_hole().is_some()
    }

    /// RFC 6675 pipe: bytes believed in the network (sent, neither
    /// acknowledged, SACKed, nor lost and not yet retransmitted).
    pub(super) fn pipe(&self) -> usize {
        let from = self.high_rxt.distance_from(self.snd_una);
        let mut lost = 0;
        let mut prev_end = 0;
        for &(start, end) in self.scoreboard.ranges() {
            lost += start.saturating_sub(prev_end.max(from));
            prev_end = end;
        }
        self.snd_max.distance_from(self.snd_una).saturating_sub(self.scoreboard.covered()).saturating_sub(lost)
    }
}
