//! Out-of-order reassembly bookkeeping: which byte ranges past the next
//! expected sequence number have already arrived.
//!
//! Offsets are relative to the receive buffer's write pointer (RCV.NXT).
//! The number of ranges is bounded; a segment that would need one more is
//! refused (dropped, the peer retransmits it later).

/// The most disjoint ranges (so holes) tracked at once.
pub const MAX_RANGES: usize = 8;
/// One spare slot: a range at offset 0 is always taken, because the caller
/// removes it at once with [`Assembler::remove_front`].
const SLOTS: usize = MAX_RANGES + 1;

/// A segment would create more than [`MAX_RANGES`] ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyHoles;

/// Sorted, disjoint, non-adjacent `[start, end)` ranges of received data.
/// Only the first `len` slots mean anything (emptying it just sets `len`),
/// so comparing and printing look at those alone.
#[derive(Clone, Copy, Default)]
pub struct Assembler {
    ranges: [(usize, usize); SLOTS],
    len: usize,
}

impl PartialEq for Assembler {
    fn eq(&self, other: &Assembler) -> bool {
        self.ranges() == other.ranges()
    }
}

impl Eq for Assembler {}

impl core::fmt::Debug for Assembler {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.debug_struct("Assembler").field("ranges", &self.ranges()).finish()
    }
}

impl Assembler {
    pub const fn new() -> Assembler {
        Assembler { ranges: [(0, 0); SLOTS], len: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn clear(&mut self) {
        self.len = 0;
    }
    /// Bytes covered by all ranges.
    #[inline]
    pub fn covered(&self) -> usize {
        self.ranges().iter().map(|r| r.1 - r.0).sum()
    }
    /// The origin moved `n` bytes forward: drop what now lies before it.
    pub fn advance(&mut self, n: usize) {
        let mut kept = 0;
        for i in 0..self.len {
            let (start, end) = self.ranges[i];
            if end > n {
                self.ranges[kept] = (start.saturating_sub(n), end - n);
                kept += 1;
            }
        }
        self.len = kept;
    }
    /// The ranges held, in order.
    pub fn ranges(&self) -> &[(usize, usize)] {
        &self.ranges[..self.len]
    }

    /// Records `[start, end)` as received, merging with overlapping or
    /// adjacent ranges. On error nothing changes.
    pub fn add(&mut self, start: usize, end: usize) -> Result<(), TooManyHoles> {
        if start >= end {
            return Ok(());
        }
        let mut merged = (start, end);
        let mut out = [(0, 0); SLOTS];
        let mut n = 0;
        let mut placed = false;
        let mut push = |r: (usize, usize), n: &mut usize| -> Result<(), TooManyHoles> {
            let slot = out.get_mut(*n).ok_or(TooManyHoles)?;
            *slot = r;
            *n += 1;
            Ok(())
        };
        for &r in self.ranges() {
            if r.1 < merged.0 {
                push(r, &mut n)?;
            } else if r.0 > merged.1 {
                if !placed {
                    push(merged, &mut n)?;
                    placed = true;
                }
                push(r, &mut n)?;
            } else {
                merged = (merged.0.min(r.0), merged.1.max(r.1));
            }
        }
        if !placed {
            push(merged, &mut n)?;
        }
        if n > MAX_RANGES && out[0].0 != 0 {
            return Err(TooManyHoles);
        }
        self.ranges = out;
        self.len = n;
        Ok(())
    }

    /// If data starts at offset 0, removes that range, shifts the others
    /// down by its length, and returns the length (else 0).
    pub fn remove_front(&mut self) -> usize {
        match self.ranges().first() {
            Some(&(0, n)) => {
                self.ranges.copy_within(1..self.len, 0);
                self.len -= 1;
                for r in &mut self.ranges[..self.len] {
                    r.0 -= n;
                    r.1 -= n;
                }
                n
            }
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_fills_holes() {
        let mut a = Assembler::new();
        a.add(10, 20).unwrap();
        a.add(30, 40).unwrap();
        assert_eq!(a.ranges(), &[(10, 20), (30, 40)]);
        a.add(20, 25).unwrap(); // adjacent: merges
        assert_eq!(a.ranges(), &[(10, 25), (30, 40)]);
        a.add(5, 35).unwrap(); // bridges both
        assert_eq!(a.ranges(), &[(5, 40)]);
        assert_eq!(a.remove_front(), 0);
        a.add(0, 5).unwrap();
        assert_eq!(a.remove_front(), 40);
        assert!(a.is_empty());
    }

    #[test]
    fn remove_front_shifts_rest() {
        let mut a = Assembler::new();
        a.add(0, 4).unwrap();
        a.add(6, 9).unwrap();
        assert_eq!(a.remove_front(), 4);
        assert_eq!(a.ranges(), &[(2, 5)]);
    }

    #[test]
    fn bounded_number_of_ranges() {
        let mut a = Assembler::new();
        for i in 0..MAX_RANGES {
            a.add(10 * i + 1, 10 * i + 5).unwrap();
        }
        let before = a;
        assert_eq!(a.add(200, 210), Err(TooManyHoles));
        assert_eq!(a, before);
        // Filling within or merging still works when full.
        a.add(5, 11).unwrap();
        assert_eq!(a.ranges().len(), MAX_RANGES - 1);
        a.add(0, 1).unwrap();
        assert_eq!(a.ranges()[0], (0, 15));
    }

    #[test]
    fn in_order_range_always_fits() {
        let mut a = Assembler::new();
        for i in 0..MAX_RANGES {
            a.add(10 * i + 5, 10 * i + 8).unwrap();
        }
        a.add(0, 2).unwrap();
        assert_eq!(a.remove_front(), 2);
        assert_eq!(a.ranges().len(), MAX_RANGES);
        assert_eq!(a.ranges()[0], (3, 6));
    }

    #[test]
    fn advance_drops_and_clips() {
        let mut a = Assembler::new();
        a.add(2, 4).unwrap();
        a.add(6, 10).unwrap();
        assert_eq!(a.covered(), 6);
        a.advance(7);
        assert_eq!(a.ranges(), &[(0, 3)]);
        a.advance(3);
        assert!(a.is_empty());
    }

    #[test]
    fn empty_range_ignored() {
        let mut a = Assembler::new();
        a.add(5, 5).unwrap();
        assert!(a.is_empty());
    }
}
