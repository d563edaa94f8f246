//! Congestion control: how much unacknowledged data the sender may have in
//! flight.
//!
//! The socket runs loss detection and the recovery mechanics (fast
//! retransmit, window inflation during NewReno fast recovery); a
//! [`Controller`] decides how the window grows on ACKs and how far it falls
//! on a congestion event. [`Congestion`] selects one per socket, so further
//! algorithms (CUBIC) slot in as new variants.

use crate::time::Instant;

/// The algorithm a socket uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CongestionKind {
    /// RFC 5681 slow start and congestion avoidance with RFC 6582 recovery.
    #[default]
    NewReno,
}

/// What every congestion control algorithm provides.
pub trait Controller {
    /// The congestion window in bytes.
    fn window(&self) -> usize;
    /// The slow-start threshold in bytes.
    fn ssthresh(&self) -> usize;
    /// Sets the window directly (recovery inflation and deflation).
    fn set_window(&mut self, cwnd: usize);
    /// New data was acknowledged outside loss recovery.
    fn on_ack(&mut self, now: Instant, acked: usize, mss: usize);
    /// Loss detected by duplicate ACKs: lower ssthresh (the socket then
    /// inflates the window for fast recovery).
    fn on_loss(&mut self, now: Instant, flight: usize, mss: usize);
    /// Fast recovery ended with a full ACK.
    fn on_recovery_end(&mut self, now: Instant, flight: usize, mss: usize);
    /// The retransmission timer fired.
    fn on_timeout(&mut self, now: Instant, flight: usize, mss: usize);
}

/// RFC 5681 / RFC 6582 NewReno window management.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewReno {
    cwnd: usize,
    ssthresh: usize,
    /// Bytes acknowledged since the window last grew in congestion avoidance.
    acked_in_avoidance: usize,
}

/// Upper bound on the window, so arithmetic on it never overflows.
const MAX_WINDOW: usize = 1 << 30;

impl NewReno {
    /// Initial window per RFC 6928: min(10*MSS, max(2*MSS, 14600)).
    pub fn new(mss: usize) -> NewReno {
        NewReno {
            cwnd: (10 * mss).min((2 * mss).max(14600)),
            ssthresh: MAX_WINDOW,
            acked_in_avoidance: 0,
        }
    }
}

impl Controller for NewReno {
    fn window(&self) -> usize {
        self.cwnd
    }
    fn ssthresh(&self) -> usize {
        self.ssthresh
    }
    fn set_window(&mut self, cwnd: usize) {
        self.cwnd = cwnd.min(MAX_WINDOW);
    }
    fn on_ack(&mut self, _now: Instant, acked: usize, mss: usize) {
        if self.cwnd < self.ssthresh {
            // Slow start with appropriate byte counting, L = 2 (RFC 3465).
            self.cwnd = (self.cwnd + acked.min(2 * mss)).min(MAX_WINDOW);
        } else {
            self.acked_in_avoidance += acked;
            if self.acked_in_avoidance >= self.cwnd {
                self.acked_in_avoidance -= self.cwnd;
                self.cwnd = (self.cwnd + mss).min(MAX_WINDOW);
            }
        }
    }
    fn on_loss(&mut self, _now: Instant, flight: usize, mss: usize) {
        self.ssthresh = (flight / 2).max(2 * mss);
        self.acked_in_avoidance = 0;
    }
    fn on_recovery_end(&mut self, _now: Instant, flight: usize, mss: usize) {
        // RFC 6582 3.2 step 3, option 1.
        self.cwnd = self.ssthresh.min(flight.max(mss) + mss);
    }
    fn on_timeout(&mut self, _now: Instant, flight: usize, mss: usize) {
        self.ssthresh = (flight / 2).max(2 * mss);
        self.cwnd = mss;
        self.acked_in_avoidance = 0;
    }
}

/// The controller a socket runs, chosen by [`CongestionKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Congestion {
    NewReno(NewReno),
}

impl Congestion {
    pub fn new(kind: CongestionKind, mss: usize) -> Congestion {
        match kind {
            CongestionKind::NewReno => Congestion::NewReno(NewReno::new(mss)),
        }
    }
    fn inner(&self) -> &dyn Controller {
        match self {
            Congestion::NewReno(c) => c,
        }
    }
    fn inner_mut(&mut self) -> &mut dyn Controller {
        match self {
            Congestion::NewReno(c) => c,
        }
    }
}

impl Controller for Congestion {
    fn window(&self) -> usize {
        self.inner().window()
    }
    fn ssthresh(&self) -> usize {
        self.inner().ssthresh()
    }
    fn set_window(&mut self, cwnd: usize) {
        self.inner_mut().set_window(cwnd)
    }
    fn on_ack(&mut self, now: Instant, acked: usize, mss: usize) {
        self.inner_mut().on_ack(now, acked, mss)
    }
    fn on_loss(&mut self, now: Instant, flight: usize, mss: usize) {
        self.inner_mut().on_loss(now, flight, mss)
    }
    fn on_recovery_end(&mut self, now: Instant, flight: usize, mss: usize) {
        self.inner_mut().on_recovery_end(now, flight, mss)
    }
    fn on_timeout(&mut self, now: Instant, flight: usize, mss: usize) {
        self.inner_mut().on_timeout(now, flight, mss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Instant = Instant::ZERO;

    #[test]
    fn initial_window_rfc6928() {
        assert_eq!(NewReno::new(1460).window(), 14600);
        assert_eq!(NewReno::new(536).window(), 5360);
        assert_eq!(NewReno::new(9000).window(), 18000);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = NewReno::new(1000);
        c.on_ack(T, 1000, 1000);
        assert_eq!(c.window(), 11000);
        c.on_ack(T, 5000, 1000); // counted as at most 2 MSS
        assert_eq!(c.window(), 13000);
        c.on_loss(T, 13000, 1000);
        assert_eq!(c.ssthresh(), 6500);
        c.on_recovery_end(T, 6000, 1000);
        assert_eq!(c.window(), 6500);
        // Avoidance: one MSS per window's worth of ACKed bytes.
        c.on_ack(T, 6000, 1000);
        assert_eq!(c.window(), 6500);
        c.on_ack(T, 500, 1000);
        assert_eq!(c.window(), 7500);
    }

    #[test]
    fn timeout_collapses_window() {
        let mut c = Congestion::new(CongestionKind::NewReno, 1000);
        c.on_timeout(T, 3000, 1000);
        assert_eq!(c.window(), 1000);
        assert_eq!(c.ssthresh(), 2000);
    }
}
