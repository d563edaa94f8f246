//! Time as the stack sees it: an [`Instant`] handed in by the embedder on
//! every poll, and [`Duration`]s between instants. Microsecond resolution;
//! the stack never reads a clock itself.

use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};

/// A point in time, in microseconds since an epoch the embedder chooses
/// (boot, typically). Only differences between instants are meaningful.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    micros: i64,
}

impl Instant {
    pub const ZERO: Instant = Instant { micros: 0 };

    pub const fn from_micros(micros: i64) -> Instant {
        Instant { micros }
    }
    pub const fn from_millis(millis: i64) -> Instant {
        Instant { micros: millis.saturating_mul(1000) }
    }
    pub const fn from_secs(secs: i64) -> Instant {
        Instant { micros: secs.saturating_mul(1_000_000) }
    }
    pub const fn total_micros(self) -> i64 {
        self.micros
    }
    pub const fn total_millis(self) -> i64 {
        self.micros / 1000
    }
    /// Time elapsed since `earlier`, zero if `earlier` is in the future.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros).max(0) as u64)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{:06}s", self.micros / 1_000_000, (self.micros % 1_000_000).abs())
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A span of time in microseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    micros: u64,
}

impl Duration {
    pub const ZERO: Duration = Duration { micros: 0 };
    pub const MAX: Duration = Duration { micros: u64::MAX };

    pub const fn from_micros(micros: u64) -> Duration {
        Duration { micros }
    }
    pub const fn from_millis(millis: u64) -> Duration {
        Duration { micros: millis.saturating_mul(1000) }
    }
    pub const fn from_secs(secs: u64) -> Duration {
        Duration { micros: secs.saturating_mul(1_000_000) }
    }
    pub const fn total_micros(self) -> u64 {
        self.micros
    }
    pub const fn total_millis(self) -> u64 {
        self.micros / 1000
    }
    pub const fn saturating_mul(self, n: u64) -> Duration {
        Duration { micros: self.micros.saturating_mul(n) }
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}.{:06}s", self.micros / 1_000_000, self.micros % 1_000_000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant::from_micros(self.micros.saturating_add(d.micros.min(i64::MAX as u64) as i64))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant::from_micros(self.micros.saturating_sub(d.micros.min(i64::MAX as u64) as i64))
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

/// The (saturating, never negative) span between two instants.
impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.saturating_duration_since(other)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration::from_micros(self.micros.saturating_add(d.micros))
    }
}

impl AddAssign for Duration {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub for Duration {
    type Output = Duration;
    fn sub(self, d: Duration) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(d.micros))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(5);
        assert_eq!(t + Duration::from_millis(2), Instant::from_millis(7));
        assert_eq!(t - Duration::from_millis(2), Instant::from_millis(3));
        assert_eq!(Instant::from_millis(3) - t, Duration::ZERO);
        assert_eq!(t - Instant::from_millis(3), Duration::from_millis(2));
        assert_eq!(Instant::from_micros(i64::MAX) + Duration::MAX, Instant::from_micros(i64::MAX));
        assert_eq!(Duration::from_secs(1) - Duration::from_secs(2), Duration::ZERO);
    }

    #[test]
    fn formats_as_seconds() {
        assert_eq!(std::format!("{}", Instant::from_micros(1_500_000)), "1.500000s");
        assert_eq!(std::format!("{}", Duration::from_millis(20)), "0.020000s");
    }
}
