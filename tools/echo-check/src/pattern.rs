//! The data a client sends: a seeded pseudo-random byte stream that both
//! the sending and the checking side regenerate block by block, so no
//! client holds its whole transfer in memory and any offset can be told
//! from the seed alone.

/// Bytes per generated block.
pub const BLOCK_LEN: usize = 64 * 1024;

/// One SplitMix64 step: a well-mixed 64-bit value from a counter.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The byte stream of one client: `len` bytes in blocks of [`BLOCK_LEN`]
/// (the last one shorter), each block derived from (seed, client, index).
#[derive(Debug, Clone)]
pub struct Pattern {
    seed: u64,
    client: u64,
    len: u64,
}

impl Pattern {
    pub fn new(seed: u64, client: u64, len: u64) -> Pattern {
        Pattern { seed, client, len }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// How many blocks the stream has.
    pub fn blocks(&self) -> u64 {
        self.len.div_ceil(BLOCK_LEN as u64)
    }

    /// Fills `out` with block `index` and returns its length (0 past the end).
    pub fn block(&self, index: u64, out: &mut [u8; BLOCK_LEN]) -> usize {
        let start = index.saturating_mul(BLOCK_LEN as u64);
        let len = self.len.saturating_sub(start).min(BLOCK_LEN as u64) as usize;
        let mut state = self.seed ^ self.client.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ index.rotate_left(32);
        // Mix the key once so neighbouring blocks do not share a prefix.
        splitmix64(&mut state);
        for word in out[..len.next_multiple_of(8).min(BLOCK_LEN)].chunks_exact_mut(8) {
            word.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
        }
        len
    }
}

/// Walks a [`Pattern`] as a receiver sees it: compares arbitrary slices of
/// received bytes against the stream, in order.
#[derive(Debug)]
pub struct Checker {
    pattern: Pattern,
    block: Box<[u8; BLOCK_LEN]>,
    block_index: u64,
    block_len: usize,
    /// Bytes of the current block already matched.
    in_block: usize,
    /// Bytes matched so far.
    pub matched: u64,
}

/// Where received data first differed from the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// A byte differs at this stream offset.
    Byte(u64),
    /// More bytes arrived than were sent; this many were expected in all.
    TooLong(u64),
}

impl Checker {
    pub fn new(pattern: Pattern) -> Checker {
        let mut block = Box::new([0; BLOCK_LEN]);
        let block_len = pattern.block(0, &mut block);
        Checker { pattern, block, block_index: 0, block_len, in_block: 0, matched: 0 }
    }

    /// Checks the next `data` of the stream.
    pub fn check(&mut self, mut data: &[u8]) -> Result<(), Mismatch> {
        while !data.is_empty() {
            if self.in_block == self.block_len {
                if self.block_len < BLOCK_LEN || self.block_index + 1 >= self.pattern.blocks() {
                    return Err(Mismatch::TooLong(self.pattern.len()));
                }
                self.block_index += 1;
                self.block_len = self.pattern.block(self.block_index, &mut self.block);
                self.in_block = 0;
            }
            let n = data.len().min(self.block_len - self.in_block);
            let expected = &self.block[self.in_block..self.in_block + n];
            if expected != &data[..n] {
                let at = expected.iter().zip(&data[..n]).position(|(a, b)| a != b).unwrap_or(0);
                return Err(Mismatch::Byte(self.matched + at as u64));
            }
            self.in_block += n;
            self.matched += n as u64;
            data = &data[n..];
        }
        Ok(())
    }

    /// Whether every byte of the stream has been matched.
    pub fn complete(&self) -> bool {
        self.matched == self.pattern.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(p: &Pattern) -> Vec<u8> {
        let mut out = Vec::new();
        let mut block = Box::new([0; BLOCK_LEN]);
        for i in 0..p.blocks() {
            let n = p.block(i, &mut block);
            out.extend_from_slice(&block[..n]);
        }
        out
    }

    #[test]
    fn stream_has_the_asked_length_and_depends_on_seed_and_client() {
        let a = whole(&Pattern::new(1, 0, 3 * BLOCK_LEN as u64 + 5));
        assert_eq!(a.len(), 3 * BLOCK_LEN + 5);
        assert_eq!(a, whole(&Pattern::new(1, 0, 3 * BLOCK_LEN as u64 + 5)));
        let b = whole(&Pattern::new(1, 1, 3 * BLOCK_LEN as u64 + 5));
        let c = whole(&Pattern::new(2, 0, 3 * BLOCK_LEN as u64 + 5));
        assert_ne!(a, b);
        assert_ne!(a, c);
        // Blocks differ from one another (no repeating period).
        assert_ne!(a[..BLOCK_LEN], a[BLOCK_LEN..2 * BLOCK_LEN]);
        assert!(whole(&Pattern::new(1, 0, 0)).is_empty());
    }

    #[test]
    fn checker_accepts_the_stream_in_any_split() {
        let p = Pattern::new(7, 3, 2 * BLOCK_LEN as u64 + 100);
        let data = whole(&p);
        for step in [1, 7, 1000, BLOCK_LEN - 1, BLOCK_LEN, BLOCK_LEN + 3, data.len()] {
            let mut c = Checker::new(p.clone());
            for piece in data.chunks(step) {
                assert_eq!(c.check(piece), Ok(()), "step {step}");
            }
            assert!(c.complete(), "step {step}");
        }
    }

    #[test]
    fn checker_reports_the_first_wrong_byte_and_extra_bytes() {
        let p = Pattern::new(7, 3, BLOCK_LEN as u64 + 10);
        let mut data = whole(&p);
        data[BLOCK_LEN + 4] ^= 1;
        let mut c = Checker::new(p.clone());
        assert_eq!(c.check(&data[..BLOCK_LEN]), Ok(()));
        assert_eq!(c.check(&data[BLOCK_LEN..]), Err(Mismatch::Byte(BLOCK_LEN as u64 + 4)));
        assert!(!c.complete());

        let mut good = whole(&p);
        let mut c = Checker::new(p.clone());
        good.push(0);
        assert_eq!(c.check(&good), Err(Mismatch::TooLong(BLOCK_LEN as u64 + 10)));

        let short = Pattern::new(1, 0, 3);
        let mut c = Checker::new(short.clone());
        let mut three = whole(&short);
        assert_eq!(c.check(&three), Ok(()));
        assert!(c.complete());
        three.truncate(1);
        assert_eq!(c.check(&three), Err(Mismatch::TooLong(3)));
    }
}
