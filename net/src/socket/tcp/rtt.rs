//! Round-trip time estimation and the retransmission timeout (RFC 6298).

use crate::time::Duration;

/// Smoothed RTT, its variation, and the RTO derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min_rto: Duration,
    max_rto: Duration,
}

/// Clock granularity term `G` of RFC 6298 (our timestamps tick in ms).
const GRANULARITY: Duration = Duration::from_millis(1);

impl RttEstimator {
    pub fn new(initial_rto: Duration, min_rto: Duration, max_rto: Duration) -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial_rto.max(min_rto).min(max_rto),
            min_rto,
            max_rto,
        }
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// Folds in one measurement (taken under Karn's rule by the caller).
    pub fn sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = Duration::from_micros(rtt.total_micros() / 2);
            }
            Some(srtt) => {
                let delta = if srtt > rtt { srtt - rtt } else { rtt - srtt };
                // rttvar = 3/4 rttvar + 1/4 |srtt - r|; srtt = 7/8 srtt + 1/8 r
                self.rttvar =
                    Duration::from_micros((self.rttvar.total_micros().saturating_mul(3) + delta.total_micros()) / 4);
                self.srtt =
                    Some(Duration::from_micros((srtt.total_micros().saturating_mul(7) + rtt.total_micros()) / 8));
            }
        }
        let srtt = self.srtt.unwrap_or_default();
        self.rto = (srtt + GRANULARITY.max(self.rttvar.saturating_mul(4))).max(self.min_rto).min(self.max_rto);
    }

    /// RFC 6298 5.7: a SYN or SYN-ACK timed out and no RTT was measured,
    /// so data starts with a 3 s RTO (within the configured bounds).
    pub fn after_handshake_timeout(&mut self) {
        if self.srtt.is_none() {
            self.rto = Duration::from_secs(3).max(self.min_rto).min(self.max_rto);
        }
    }

    /// Doubles the RTO after a timeout (RFC 6298 5.5), up to the maximum.
    pub fn back_off(&mut self) {
        self.rto = self.rto.saturating_mul(2).min(self.max_rto);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn first_and_later_samples() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(60_000));
        assert_eq!(e.rto(), ms(1000));
        e.sample(ms(100));
        assert_eq!(e.srtt(), Some(ms(100)));
        assert_eq!(e.rttvar(), ms(50));
        assert_eq!(e.rto(), ms(300));
        e.sample(ms(200));
        // rttvar = (3*50 + 100)/4 = 62.5; srtt = (700 + 200)/8 = 112.5
        assert_eq!(e.rttvar(), Duration::from_micros(62_500));
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(e.rto(), Duration::from_micros(362_500));
    }

    #[test]
    fn floor_and_backoff_cap() {
        let mut e = RttEstimator::new(ms(1000), ms(200), ms(3000));
        e.sample(ms(1));
        assert_eq!(e.rto(), ms(200));
        e.back_off();
        assert_eq!(e.rto(), ms(400));
        for _ in 0..10 {
            e.back_off();
        }
        assert_eq!(e.rto(), ms(3000));
    }
}
