//! A small seeded pseudo-random generator for simulations and tests.
//!
//! xoshiro256** seeded through SplitMix64: fast, good enough statistically
//! for fault injection and simulated traffic, and fully determined by its
//! seed, so a failing simulation can be replayed exactly. It is not a
//! cryptographic generator: never use it for sequence numbers or ports an
//! attacker must not guess.

/// One step of SplitMix64: advances `state` and returns a well-mixed value.
/// Used to spread a single `u64` seed over xoshiro's 256-bit state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A deterministic pseudo-random generator (xoshiro256**).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let state = [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)];
        // SplitMix64 never yields four zero words from one seed, so the
        // all-zero state (a fixed point of xoshiro) cannot occur.
        Rng { state }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// The next 32 random bits (the high half of a 64-bit draw, which are
    /// the better-mixed bits of xoshiro).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniformly distributed value in `range` (start inclusive, end
    /// exclusive). An empty range yields its start without drawing.
    pub fn gen_range(&mut self, range: core::ops::Range<u64>) -> u64 {
        let span = match range.end.checked_sub(range.start) {
            Some(span) if span > 0 => span,
            _ => return range.start,
        };
        // Reject the low `2^64 mod span` values so every residue is
        // equally likely (no modulo bias).
        let threshold = span.wrapping_neg() % span;
        loop {
            let x = self.next_u64();
            if x >= threshold {
                return range.start + x % span;
            }
        }
    }

    /// True with probability `per_million / 1_000_000` (always true from
    /// one million up). Always draws exactly one value, so the sequence of
    /// later draws does not depend on the probability configured.
    pub fn chance(&mut self, per_million: u32) -> bool {
        self.gen_range(0..1_000_000) < u64::from(per_million)
    }

    /// Fills `buf` with random bytes.
    pub fn fill_bytes(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs of SplitMix64 from state 0 (published reference).
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(&mut s), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(splitmix64(&mut s), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn xoshiro_reference_values() {
        // xoshiro256** from the state {1, 2, 3, 4}, checked against the
        // reference algorithm computed independently (Python, 64-bit masks).
        let mut rng = Rng { state: [1, 2, 3, 4] };
        assert_eq!(rng.next_u64(), 11520);
        assert_eq!(rng.next_u64(), 0);
        assert_eq!(rng.next_u64(), 1509978240);
        assert_eq!(rng.next_u64(), 1215971899390074240);
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = Rng::new(43);
        let mut a = Rng::new(42);
        let same = (0..64).filter(|_| a.next_u64() == c.next_u64()).count();
        assert_eq!(same, 0);
    }

    #[test]
    fn gen_range_stays_in_range() {
        let mut rng = Rng::new(7);
        for _ in 0..10_000 {
            let v = rng.gen_range(10..17);
            assert!((10..17).contains(&v));
        }
        assert_eq!(rng.gen_range(5..5), 5);
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 9..3;
        assert_eq!(rng.gen_range(reversed), 9);
        // The full span minus one still works (threshold arithmetic).
        let v = rng.gen_range(1..u64::MAX);
        assert!(v >= 1);
    }

    #[test]
    fn gen_range_covers_every_value() {
        let mut rng = Rng::new(1);
        let mut seen = [false; 6];
        for _ in 0..1000 {
            seen[rng.gen_range(0..6) as usize] = true;
        }
        assert_eq!(seen, [true; 6]);
    }

    #[test]
    fn chance_extremes_and_rate() {
        let mut rng = Rng::new(3);
        assert!((0..1000).all(|_| !rng.chance(0)));
        assert!((0..1000).all(|_| rng.chance(1_000_000)));
        assert!((0..1000).all(|_| rng.chance(u32::MAX)));
        // A correctness sanity bound, not a statistical test: 10% over
        // 100k draws lands far inside 8%..12% for any sane generator.
        let hits = (0..100_000).filter(|_| rng.chance(100_000)).count();
        assert!((8_000..12_000).contains(&hits), "hits = {hits}");
    }

    #[test]
    fn chance_draws_once_regardless_of_probability() {
        let mut a = Rng::new(9);
        let mut b = Rng::new(9);
        a.chance(0);
        b.chance(999_999);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn fill_bytes_uses_little_endian_words() {
        let mut a = Rng::new(11);
        let mut b = Rng::new(11);
        let mut buf = [0u8; 11];
        a.fill_bytes(&mut buf);
        let w0 = b.next_u64().to_le_bytes();
        let w1 = b.next_u64().to_le_bytes();
        assert_eq!(&buf[..8], &w0);
        assert_eq!(&buf[8..], &w1[..3]);
    }
}
