//! A bounded FIFO of Ethernet frames in one fixed block of storage.
//!
//! The storage is cut into equal slots, each a small header (frame length
//! and a 64-bit tag the owner may use, e.g. a release time) followed by room
//! for one frame. One slot beyond the capacity is a discard slot: a push
//! into a full queue still gets a buffer to write into (a [`TxToken`] must
//! always run its closure), and the frame is then dropped and counted.
//! Nothing is allocated per frame.
//!
//! [`TxToken`]: crate::phy::TxToken

/// Bytes of per-slot header: a `u16` length and an `i64` tag.
const HEADER_LEN: usize = 10;

/// A bounded FIFO of frames over caller-provided storage.
#[derive(Debug)]
pub struct FrameQueue<S> {
    storage: S,
    slot_len: usize,
    capacity: usize,
    head: usize,
    len: usize,
    overflows: u64,
}

impl FrameQueue<()> {
    /// Bytes of storage needed for `frames` frames of up to
    /// `max_frame_len` bytes each (includes the discard slot).
    pub const fn storage_len(frames: usize, max_frame_len: usize) -> usize {
        (frames + 1) * (HEADER_LEN + max_frame_len)
    }
}

#[cfg(any(test, feature = "std"))]
impl FrameQueue<std::vec::Vec<u8>> {
    /// A queue of `frames` frames of up to `max_frame_len` bytes, its
    /// storage allocated once here.
    pub fn with_capacity(frames: usize, max_frame_len: usize) -> Self {
        let storage = std::vec![0u8; FrameQueue::storage_len(frames, max_frame_len)];
        FrameQueue::new(storage, max_frame_len)
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> FrameQueue<S> {
    /// A queue over `storage`, holding frames of up to `max_frame_len`
    /// bytes (at most 65535). Capacity is what fits after the discard slot.
    ///
    /// # Panics
    /// If `storage` holds fewer than two slots (a configuration error) or
    /// `max_frame_len` exceeds 65535.
    pub fn new(storage: S, max_frame_len: usize) -> Self {
        assert!(max_frame_len <= usize::from(u16::MAX), "frame slots are limited to 65535 bytes");
        let slot_len = HEADER_LEN + max_frame_len;
        let slots = storage.as_ref().len() / slot_len;
        assert!(slots >= 2, "frame queue storage must hold at least two slots");
        FrameQueue { storage, slot_len, capacity: slots - 1, head: 0, len: 0, overflows: 0 }
    }

    /// The largest frame a slot holds.
    pub fn max_frame_len(&self) -> usize {
        self.slot_len - HEADER_LEN
    }
    /// How many frames fit.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// How many frames are queued.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn is_full(&self) -> bool {
        self.len == self.capacity
    }
    /// Free slots.
    pub fn free(&self) -> usize {
        self.capacity - self.len
    }
    /// Frames discarded because the queue was full.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// Storage slot number of queue position `pos` (0 = front).
    fn slot_of(&self, pos: usize) -> usize {
        (self.head + pos) % self.capacity
    }

    fn slot(&self, slot: usize) -> &[u8] {
        let start = slot * self.slot_len;
        &self.storage.as_ref()[start..start + self.slot_len]
    }

    fn slot_mut(&mut self, slot: usize) -> &mut [u8] {
        let start = slot * self.slot_len;
        let slot_len = self.slot_len;
        &mut self.storage.as_mut()[start..start + slot_len]
    }

    fn write_header(slot: &mut [u8], len: usize, tag: i64) {
        slot[0..2].copy_from_slice(&(len as u16).to_le_bytes());
        slot[2..HEADER_LEN].copy_from_slice(&tag.to_le_bytes());
    }

    fn read_header(slot: &[u8]) -> (usize, i64) {
        let len = u16::from_le_bytes([slot[0], slot[1]]) as usize;
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&slot[2..HEADER_LEN]);
        (len, i64::from_le_bytes(tag))
    }

    /// Appends a frame of `len` bytes written by `f`, tagged `tag`.
    ///
    /// If the queue is full, `f` writes into the discard slot, the frame is
    /// dropped and counted in [`overflows`](Self::overflows), and the
    /// return value says `false`. `f`'s result is returned either way.
    /// Returns `None` without calling `f` if `len` exceeds the slot size.
    pub fn push_with<R, F: FnOnce(&mut [u8]) -> R>(&mut self, len: usize, tag: i64, f: F) -> Option<(bool, R)> {
        if len > self.max_frame_len() {
            return None;
        }
        let (slot, kept) = if self.is_full() {
            self.overflows += 1;
            (self.capacity, false) // the discard slot
        } else {
            (self.slot_of(self.len), true)
        };
        let buf = self.slot_mut(slot);
        Self::write_header(buf, len, tag);
        let result = f(&mut buf[HEADER_LEN..HEADER_LEN + len]);
        if kept {
            self.len += 1;
        }
        Some((kept, result))
    }

    /// Appends a copy of `frame`; false if it was dropped (queue full or
    /// frame too long; only the former counts as an overflow).
    pub fn push(&mut self, frame: &[u8], tag: i64) -> bool {
        matches!(self.push_with(frame.len(), tag, |buf| buf.copy_from_slice(frame)), Some((true, ())))
    }

    /// The frame at queue position `pos` (0 = front) and its tag.
    pub fn get(&self, pos: usize) -> Option<(i64, &[u8])> {
        if pos >= self.len {
            return None;
        }
        let slot = self.slot(self.slot_of(pos));
        let (len, tag) = Self::read_header(slot);
        Some((tag, &slot[HEADER_LEN..HEADER_LEN + len]))
    }

    /// The frame at queue position `pos`, writable.
    pub fn get_mut(&mut self, pos: usize) -> Option<&mut [u8]> {
        if pos >= self.len {
            return None;
        }
        let slot = self.slot_of(pos);
        let buf = self.slot_mut(slot);
        let (len, _) = Self::read_header(buf);
        Some(&mut buf[HEADER_LEN..HEADER_LEN + len])
    }

    /// The front frame and its tag.
    pub fn front(&self) -> Option<(i64, &[u8])> {
        self.get(0)
    }

    /// Removes the front frame.
    pub fn pop_front(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        self.head = (self.head + 1) % self.capacity;
        self.len -= 1;
        true
    }

    /// Removes the most recently pushed frame.
    pub fn pop_back(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        self.len -= 1;
        true
    }

    /// Swaps the last two frames (used to reorder).
    pub fn swap_last_two(&mut self) -> bool {
        if self.len < 2 {
            return false;
        }
        let a = self.slot_of(self.len - 2);
        let b = self.slot_of(self.len - 1);
        let (lo, hi) = (a.min(b), a.max(b));
        let slot_len = self.slot_len;
        let (first, second) = self.storage.as_mut().split_at_mut(hi * slot_len);
        first[lo * slot_len..(lo + 1) * slot_len].swap_with_slice(&mut second[..slot_len]);
        true
    }

    /// Appends a copy of the frame at position `pos` with the same tag;
    /// false if the queue is full or `pos` is out of range (no overflow is
    /// counted: a duplicate that does not fit is simply not made).
    pub fn duplicate(&mut self, pos: usize) -> bool {
        if pos >= self.len || self.is_full() {
            return false;
        }
        let from = self.slot_of(pos) * self.slot_len;
        let to = self.slot_of(self.len) * self.slot_len;
        let slot_len = self.slot_len;
        self.storage.as_mut().copy_within(from..from + slot_len, to);
        self.len += 1;
        true
    }

    /// Empties the queue.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(frames: usize) -> FrameQueue<std::vec::Vec<u8>> {
        FrameQueue::with_capacity(frames, 8)
    }

    #[test]
    fn storage_len_counts_the_discard_slot() {
        assert_eq!(FrameQueue::storage_len(3, 8), 4 * 18);
        let q = queue(3);
        assert_eq!(q.capacity(), 3);
        assert_eq!(q.max_frame_len(), 8);
    }

    #[test]
    fn caller_storage_array() {
        let mut storage = [0u8; FrameQueue::storage_len(2, 4)];
        let mut q = FrameQueue::new(&mut storage[..], 4);
        assert!(q.push(&[1, 2], 0));
        assert!(q.push(&[3], 0));
        assert!(!q.push(&[4], 0));
        assert_eq!(q.overflows(), 1);
        assert_eq!(q.front(), Some((0, &[1u8, 2][..])));
    }

    #[test]
    fn fifo_order_and_wraparound() {
        let mut q = queue(3);
        for round in 0u8..10 {
            assert!(q.push(&[round, round], i64::from(round)));
            assert!(q.push(&[round + 100], -1));
            assert_eq!(q.front(), Some((i64::from(round), &[round, round][..])));
            assert!(q.pop_front());
            assert_eq!(q.front(), Some((-1, &[round + 100][..])));
            assert!(q.pop_front());
            assert!(q.is_empty());
        }
        assert!(!q.pop_front());
    }

    #[test]
    fn full_queue_writes_discard_slot_and_counts() {
        let mut q = queue(2);
        assert!(q.push(&[1], 0));
        assert!(q.push(&[2], 0));
        let (kept, r) = q
            .push_with(3, 0, |buf| {
                buf.copy_from_slice(&[9, 9, 9]);
                7
            })
            .unwrap();
        assert!(!kept);
        assert_eq!(r, 7);
        assert_eq!(q.overflows(), 1);
        assert_eq!(q.len(), 2);
        assert_eq!(q.get(0).unwrap().1, &[1]);
        assert_eq!(q.get(1).unwrap().1, &[2]);
        assert_eq!(q.get(2), None);
    }

    #[test]
    fn oversized_frame_is_refused_without_calling() {
        let mut q = queue(2);
        assert!(q.push_with(9, 0, |_| panic!("must not be called")).is_none());
        assert!(!q.push(&[0; 9], 0));
        assert_eq!(q.overflows(), 0);
        assert!(q.push(&[0; 8], 0));
        assert!(q.push(&[], 0));
        assert_eq!(q.get(1).unwrap().1.len(), 0);
    }

    #[test]
    fn swap_duplicate_pop_back() {
        let mut q = queue(4);
        // Start mid-ring so swaps cross the wrap point.
        for _ in 0..3 {
            q.push(&[0], 0);
            q.pop_front();
        }
        q.push(&[1], 10);
        q.push(&[2, 2], 20);
        assert!(q.swap_last_two());
        assert_eq!(q.get(0), Some((20, &[2u8, 2][..])));
        assert_eq!(q.get(1), Some((10, &[1u8][..])));
        assert!(q.duplicate(0));
        assert_eq!(q.get(2), Some((20, &[2u8, 2][..])));
        assert!(q.pop_back());
        assert_eq!(q.len(), 2);
        q.get_mut(1).unwrap()[0] = 5;
        assert_eq!(q.get(1), Some((10, &[5u8][..])));
        q.push(&[3], 0);
        q.push(&[4], 0);
        assert!(!q.duplicate(0), "full queue cannot duplicate");
        assert!(!q.duplicate(9));
        q.clear();
        assert!(!q.swap_last_two());
    }

    #[test]
    #[should_panic]
    fn too_small_storage_panics() {
        let _ = FrameQueue::new([0u8; 17], 8);
    }
}
