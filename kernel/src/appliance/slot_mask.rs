//! Which slots of a connection pool are in use, as a bit set, so each
//! service round touches only live connections instead of the whole pool.

/// Most slots a mask tracks.
pub const CAPACITY: usize = 128;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotMask(u128);

impl SlotMask {
    pub fn insert(&mut self, i: usize) {
        if i < CAPACITY {
            self.0 |= 1 << i;
        }
    }
    pub fn remove(&mut self, i: usize) {
        if i < CAPACITY {
            self.0 &= !(1 << i);
        }
    }
    /// The slots in use, lowest first (a copy: the mask may change meanwhile).
    pub fn iter(&self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        core::iter::from_fn(move || {
            (bits != 0).then(|| {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                i
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn tracks_slots_in_order() {
        let mut m = SlotMask::default();
        assert_eq!(m.iter().next(), None);
        for i in [0, 5, 64, 127, 128, 300] {
            m.insert(i);
        }
        assert_eq!(m.iter().collect::<Vec<_>>(), [0, 5, 64, 127], "slots past the capacity are ignored");
        m.remove(5);
        m.remove(300);
        assert_eq!(m.iter().collect::<Vec<_>>(), [0, 64, 127]);
    }
}
