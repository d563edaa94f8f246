//! A token bucket, for ICMP error rate limiting (RFC 1812 4.3.2.8).

use crate::time::{Duration, Instant};

/// Allows `burst` events at once and `per_second` on average.
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    /// Tokens in millionths, so refills need no division remainder.
    micro_tokens: u64,
    burst: u32,
    per_second: u32,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub const fn new(per_second: u32, burst: u32) -> TokenBucket {
        TokenBucket { micro_tokens: burst as u64 * 1_000_000, burst, per_second, last: Instant::ZERO }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed: Duration = now - self.last;
        self.last = self.last.max(now);
        let added = elapsed.total_micros().saturating_mul(u64::from(self.per_second));
        let cap = u64::from(self.burst) * 1_000_000;
        self.micro_tokens = self.micro_tokens.saturating_add(added).min(cap);
    }

    /// Takes a token if one is available.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.micro_tokens >= 1_000_000 {
            self.micro_tokens -= 1_000_000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let mut b = TokenBucket::new(10, 10);
        let t0 = Instant::from_secs(100);
        assert_eq!((0..20).filter(|_| b.try_take(t0)).count(), 10);
        assert!(!b.try_take(t0 + Duration::from_millis(99)));
        assert!(b.try_take(t0 + Duration::from_millis(100)));
        assert!(!b.try_take(t0 + Duration::from_millis(100)));
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..20).filter(|_| b.try_take(later)).count(), 10, "capped at the burst");
        assert!(!b.try_take(t0), "time going backwards adds nothing");
    }
}
