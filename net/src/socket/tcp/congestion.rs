//! Congestion control: how much unacknowledged data the sender may have in
//! flight.
//!
//! The socket runs loss detection and the recovery mechanics (fast
//! retransmit, window inflation during NewReno fast recovery); a
//! [`Controller`] decides how the window grows on ACKs and how far it falls
//! on a congestion event. [`Congestion`] selects one per socket: NewReno
//! (RFC 5681) or CUBIC (RFC 9438).

use crate::time::{Duration, Instant};

/// The algorithm a socket uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CongestionKind {
    /// RFC 5681 slow start and congestion avoidance with RFC 6582 recovery.
    #[default]
    NewReno,
    /// RFC 9438 CUBIC: window growth by a cubic function of the time since
    /// the last congestion event, with a Reno-friendly floor.
    Cubic,
}

/// What every congestion control algorithm provides.
pub trait Controller {
    /// The congestion window in bytes.
    fn window(&self) -> usize;
    /// The slow-start threshold in bytes.
    fn ssthresh(&self) -> usize;
    /// Sets the window directly (recovery inflation and deflation).
    fn set_window(&mut self, cwnd: usize);
    /// New data was acknowledged outside loss recovery; `srtt` is the
    /// current smoothed round-trip time (zero before the first sample).
    fn on_ack(&mut self, now: Instant, acked: usize, mss: usize, srtt: Duration);
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
        NewReno { cwnd: (10 * mss).min((2 * mss).max(14600)), ssthresh: MAX_WINDOW, acked_in_avoidance: 0 }
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
    fn on_ack(&mut self, _now: Instant, acked: usize, mss: usize, _srtt: Duration) {
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

/// RFC 9438 CUBIC, in integer arithmetic (bytes and milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cubic {
    cwnd: usize,
    ssthresh: usize,
    /// Window just before the last reduction (W_max).
    w_max: usize,
    /// W_max before that, for fast convergence.
    w_last_max: usize,
    /// Start of the current avoidance epoch and its K (ms).
    epoch: Option<(Instant, u64)>,
    /// Reno-friendly estimate (W_est) in bytes.
    w_est: usize,
    /// Remainders of the per-ACK fractional increases.
    cubic_acc: u64,
    est_acc: u64,
}

/// beta_cubic = 0.7, as a fraction of 10.
const BETA_TENTHS: usize = 7;

/// Integer cube root (floor), for n < 2^64.
fn cbrt(n: u64) -> u64 {
    let (mut lo, mut hi) = (0u64, 1u64 << 21);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if mid * mid * mid <= n {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

impl Cubic {
    pub fn new(mss: usize) -> Cubic {
        let cwnd = NewReno::new(mss).window();
        Cubic {
            cwnd,
            ssthresh: MAX_WINDOW,
            w_max: 0,
            w_last_max: 0,
            epoch: None,
            w_est: cwnd,
            cubic_acc: 0,
            est_acc: 0,
        }
    }

    /// W_cubic(t) = C (t - K)^3 + W_max, C = 0.4 segments/s^3, in bytes.
    fn w_cubic(&self, t_ms: u64, k_ms: u64, mss: usize) -> usize {
        let d = i128::from(t_ms) - i128::from(k_ms);
        let delta = 4 * (mss as i128) * d * d * d / 10_000_000_000;
        (self.w_max as i128 + delta).clamp(0, MAX_WINDOW as i128) as usize
    }

    fn reduce(&mut self, mss: usize) {
        // Fast convergence (RFC 9438 4.7): release bandwidth to newcomers.
        self.w_max = if self.cwnd < self.w_last_max { self.cwnd * (10 + BETA_TENTHS) / 20 } else { self.cwnd };
        self.w_last_max = self.cwnd;
        self.ssthresh = (self.cwnd * BETA_TENTHS / 10).max(2 * mss);
        self.epoch = None;
    }
}

impl Controller for Cubic {
    fn window(&self) -> usize {
        self.cwnd
    }
    fn ssthresh(&self) -> usize {
        self.ssthresh
    }
    fn set_window(&mut self, cwnd: usize) {
        self.cwnd = cwnd.min(MAX_WINDOW);
    }
    fn on_ack(&mut self, now: Instant, acked: usize, mss: usize, srtt: Duration) {
        if self.cwnd < self.ssthresh {
            self.cwnd = (self.cwnd + acked.min(2 * mss)).min(MAX_WINDOW);
            return;
        }
        let (start, k_ms) = match self.epoch {
            Some(epoch) => epoch,
            None => {
                // A new avoidance epoch (RFC 9438 4.2).
                let k_ms = if self.cwnd < self.w_max {
                    cbrt((self.w_max - self.cwnd) as u64 * 2_500_000_000 / mss as u64)
                } else {
                    self.w_max = self.cwnd;
                    0
                };
                self.w_est = self.cwnd;
                self.cubic_acc = 0;
                self.est_acc = 0;
                self.epoch = Some((now, k_ms));
                (now, k_ms)
            }
        };
        let t_ms = (now.saturating_duration_since(start) + srtt).total_millis();
        let target = self.w_cubic(t_ms, k_ms, mss).clamp(self.cwnd, self.cwnd + self.cwnd / 2);
        // cwnd += (target - cwnd) / cwnd per acknowledged byte-segment.
        self.cubic_acc += ((target - self.cwnd) * acked) as u64;
        let grow = self.cubic_acc / self.cwnd as u64;
        self.cubic_acc -= grow * self.cwnd as u64;
        let cubic = self.cwnd + grow as usize;
        // Reno-friendly region: W_est grows by alpha = 3(1-b)/(1+b) = 0.529
        // segments per window.
        self.est_acc += (529 * mss * acked) as u64;
        let est_grow = self.est_acc / (1000 * self.cwnd as u64);
        self.est_acc -= est_grow * 1000 * self.cwnd as u64;
        self.w_est = (self.w_est + est_grow as usize).min(MAX_WINDOW);
        self.cwnd = cubic.max(self.w_est).min(MAX_WINDOW);
    }
    fn on_loss(&mut self, _now: Instant, _flight: usize, mss: usize) {
        self.reduce(mss);
    }
    fn on_recovery_end(&mut self, _now: Instant, _flight: usize, _mss: usize) {
        self.cwnd = self.ssthresh;
    }
    fn on_timeout(&mut self, _now: Instant, _flight: usize, mss: usize) {
        self.reduce(mss);
        self.cwnd = mss;
    }
}

/// The controller a socket runs, chosen by [`CongestionKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Congestion {
    NewReno(NewReno),
    Cubic(Cubic),
}

impl Congestion {
    pub fn new(kind: CongestionKind, mss: usize) -> Congestion {
        match kind {
            CongestionKind::NewReno => Congestion::NewReno(NewReno::new(mss)),
            CongestionKind::Cubic => Congestion::Cubic(Cubic::new(mss)),
        }
    }
}

/// Calls the same method on whichever controller runs: a static call per
/// variant (inlined where it is small, as the window read on every send
/// plan is), not one through a trait object.
macro_rules! each_controller {
    ($self:ident, $c:ident => $call:expr) => {
        match $self {
            Congestion::NewReno($c) => $call,
            Congestion::Cubic($c) => $call,
        }
    };
}

impl Controller for Congestion {
    #[inline]
    fn window(&self) -> usize {
        each_controller!(self, c => c.window())
    }
    #[inline]
    fn ssthresh(&self) -> usize {
        each_controller!(self, c => c.ssthresh())
    }
    fn set_window(&mut self, cwnd: usize) {
        each_controller!(self, c => c.set_window(cwnd))
    }
    fn on_ack(&mut self, now: Instant, acked: usize, mss: usize, srtt: Duration) {
        each_controller!(self, c => c.on_ack(now, acked, mss, srtt))
    }
    fn on_loss(&mut self, now: Instant, flight: usize, mss: usize) {
        each_controller!(self, c => c.on_loss(now, flight, mss))
    }
    fn on_recovery_end(&mut self, now: Instant, flight: usize, mss: usize) {
        each_controller!(self, c => c.on_recovery_end(now, flight, mss))
    }
    fn on_timeout(&mut self, now: Instant, flight: usize, mss: usize) {
        each_controller!(self, c => c.on_timeout(now, flight, mss))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Instant = Instant::ZERO;
    const Z: Duration = Duration::ZERO;

    #[test]
    fn initial_window_rfc6928() {
        assert_eq!(NewReno::new(1460).window(), 14600);
        assert_eq!(NewReno::new(536).window(), 5360);
        assert_eq!(NewReno::new(9000).window(), 18000);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = NewReno::new(1000);
        c.on_ack(T, 1000, 1000, Z);
        assert_eq!(c.window(), 11000);
        c.on_ack(T, 5000, 1000, Z); // counted as at most 2 MSS
        assert_eq!(c.window(), 13000);
        c.on_loss(T, 13000, 1000);
        assert_eq!(c.ssthresh(), 6500);
        c.on_recovery_end(T, 6000, 1000);
        assert_eq!(c.window(), 6500);
        // Avoidance: one MSS per window's worth of ACKed bytes.
        c.on_ack(T, 6000, 1000, Z);
        assert_eq!(c.window(), 6500);
        c.on_ack(T, 500, 1000, Z);
        assert_eq!(c.window(), 7500);
    }

    #[test]
    fn timeout_collapses_window() {
        let mut c = Congestion::new(CongestionKind::NewReno, 1000);
        c.on_timeout(T, 3000, 1000);
        assert_eq!(c.window(), 1000);
        assert_eq!(c.ssthresh(), 2000);
    }

    #[test]
    fn integer_cube_root() {
        assert_eq!(cbrt(0), 0);
        assert_eq!(cbrt(26), 2);
        assert_eq!(cbrt(27), 3);
        assert_eq!(cbrt(1_000_000_000), 1000);
        assert_eq!(cbrt(u64::MAX), 1 << 21);
    }

    #[test]
    fn cubic_reduces_by_beta_and_remembers_w_max() {
        let mut c = Cubic::new(1000);
        c.set_window(100_000);
        c.on_loss(T, 100_000, 1000);
        assert_eq!(c.ssthresh(), 70_000);
        c.on_recovery_end(T, 0, 1000);
        assert_eq!(c.window(), 70_000);
        assert_eq!(c.w_max, 100_000);
        // A second loss below the last maximum: fast convergence.
        c.on_loss(T, 70_000, 1000);
        assert_eq!(c.w_max, 70_000 * 17 / 20);
        assert_eq!(c.ssthresh(), 49_000);
    }

    #[test]
    fn cubic_k_and_plateau_at_w_max() {
        let mss = 1000;
        let mut c = Cubic::new(mss);
        c.set_window(100_000);
        c.on_loss(T, 0, mss);
        c.on_recovery_end(T, 0, mss);
        // W_max = 100 segments: K = cbrt(100 * 0.3 / 0.4) s = 4.217 s.
        c.on_ack(T, mss, mss, Z);
        let (_, k_ms) = c.epoch.unwrap();
        assert_eq!(k_ms, 4217);
        // Near K the window approaches W_max and grows slowly (concave).
        let mut now = T;
        for _ in 0..4200 {
            now += Duration::from_millis(1);
            c.on_ack(now, mss, mss, Z);
        }
        let at_k = c.window();
        assert!(at_k > 95_000 && at_k <= 100_500, "{at_k}");
        // Well past K it probes beyond W_max (convex).
        for _ in 0..4000 {
            now += Duration::from_millis(1);
            c.on_ack(now, mss, mss, Z);
        }
        assert!(c.window() > 110_000, "{}", c.window());
    }

    #[test]
    fn cubic_timeout_and_slow_start() {
        let mut c = Congestion::new(CongestionKind::Cubic, 1000);
        assert_eq!(c.window(), 10_000);
        c.on_ack(T, 1000, 1000, Z);
        assert_eq!(c.window(), 11_000);
        c.on_timeout(T, 11_000, 1000);
        assert_eq!(c.window(), 1000);
        assert_eq!(c.ssthresh(), 7700);
    }

    #[test]
    fn cubic_reno_friendly_floor() {
        // With a tiny W_max the cubic curve is flat; W_est keeps growing.
        let mss = 1000;
        let mut c = Cubic::new(mss);
        c.set_window(4000);
        c.on_loss(T, 0, mss);
        c.on_recovery_end(T, 0, mss);
        let start = c.window();
        for _ in 0..100 {
            c.on_ack(T, mss, mss, Z);
        }
        assert!(c.window() > start, "{} <= {}", c.window(), start);
    }
}
