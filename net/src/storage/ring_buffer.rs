//! A byte ring buffer over caller-provided storage.
//!
//! Bytes are *allocated* (queued, between the read pointer and the write
//! pointer) or *unallocated* (free). Besides plain enqueue/dequeue, TCP
//! needs to read queued bytes without consuming them (retransmission) and
//! to write free bytes ahead of the write pointer without committing them
//! (out-of-order segments waiting for a hole to fill).

use crate::wire::checksum;

/// A fixed-capacity FIFO of bytes.
#[derive(Debug)]
pub struct RingBuffer<'a> {
    storage: &'a mut [u8],
    read_at: usize,
    length: usize,
}

impl<'a> RingBuffer<'a> {
    /// A ring over `storage`; its whole length is the capacity.
    pub fn new(storage: &'a mut [u8]) -> RingBuffer<'a> {
        RingBuffer { storage, read_at: 0, length: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.storage.len()
    }
    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.length
    }
    /// Bytes free.
    pub fn window(&self) -> usize {
        self.capacity() - self.length
    }
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }
    pub fn is_full(&self) -> bool {
        self.window() == 0
    }
    /// Drops every queued byte.
    pub fn clear(&mut self) {
        self.read_at = 0;
        self.length = 0;
    }

    /// Index of the byte `offset` past the read pointer (offset < 2*capacity).
    fn index(&self, offset: usize) -> usize {
        let cap = self.capacity();
        if cap == 0 {
            return 0;
        }
        // Offsets are below 2*capacity: a subtraction, not a division
        // (this runs for every segment sent and received).
        let offset = if offset < cap { offset } else { (offset - cap) % cap };
        let i = self.read_at + offset;
        if i >= cap {
            i - cap
        } else {
            i
        }
    }

    /// Calls `f` with the largest contiguous free region at the write
    /// pointer; `f` returns how many bytes it wrote there (clamped to the
    /// region) and a value passed back.
    pub fn enqueue_many_with<R>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, R)) -> (usize, R) {
        let start = self.index(self.length);
        let contiguous = if self.read_at > start || self.is_full() { self.window() } else { self.capacity() - start }
            .min(self.window());
        let (written, r) = f(&mut self.storage[start..start + contiguous]);
        let written = written.min(contiguous);
        self.length += written;
        (written, r)
    }

    /// Calls `f` with the largest contiguous queued region at the read
    /// pointer; `f` returns how many bytes it consumed (clamped).
    pub fn dequeue_many_with<R>(&mut self, f: impl FnOnce(&mut [u8]) -> (usize, R)) -> (usize, R) {
        let contiguous = (self.capacity() - self.read_at).min(self.length);
        let start = self.read_at;
        let (read, r) = f(&mut self.storage[start..start + contiguous]);
        let read = read.min(contiguous);
        self.consume(read);
        (read, r)
    }

    fn consume(&mut self, n: usize) {
        self.length -= n;
        self.read_at = self.index(n);
    }

    /// Appends as much of `data` as fits; returns the count.
    pub fn enqueue_slice(&mut self, data: &[u8]) -> usize {
        let (first, ()) = self.enqueue_many_with(|buf| {
            let n = buf.len().min(data.len());
            buf[..n].copy_from_slice(&data[..n]);
            (n, ())
        });
        let rest = &data[first..];
        // Only data that reached the end of the storage goes on at its
        // start (a copy call of nothing costs as much as a short copy).
        if rest.is_empty() {
            return first;
        }
        let (second, ()) = self.enqueue_many_with(|buf| {
            let n = buf.len().min(rest.len());
            buf[..n].copy_from_slice(&rest[..n]);
            (n, ())
        });
        first + second
    }

    /// Removes up to `buf.len()` bytes into `buf`; returns the count.
    pub fn dequeue_slice(&mut self, buf: &mut [u8]) -> usize {
        let n = self.read_allocated(0, buf);
        self.consume(n);
        n
    }

    /// Drops up to `count` queued bytes from the front; returns the count.
    pub fn dequeue_allocated(&mut self, count: usize) -> usize {
        let n = count.min(self.length);
        self.consume(n);
        n
    }

    /// Copies queued bytes starting `offset` past the read pointer into
    /// `buf`, without consuming them; returns the count.
    pub fn read_allocated(&self, offset: usize, buf: &mut [u8]) -> usize {
        if offset >= self.length {
            return 0;
        }
        let n = buf.len().min(self.length - offset);
        let start = self.index(offset);
        let first = n.min(self.capacity() - start);
        buf[..first].copy_from_slice(&self.storage[start..start + first]);
        if first < n {
            buf[first..n].copy_from_slice(&self.storage[..n - first]);
        }
        n
    }

    /// The longest contiguous queued slice starting `offset` past the read
    /// pointer, at most `size` long (for zero-copy transmission).
    pub fn get_allocated(&self, offset: usize, size: usize) -> &[u8] {
        if offset >= self.length {
            return &[];
        }
        let start = self.index(offset);
        let n = size.min(self.length - offset).min(self.capacity() - start);
        &self.storage[start..start + n]
    }

    /// Writes `data` into free space starting `offset` past the write
    /// pointer, without queueing it; returns how many bytes fit.
    pub fn write_unallocated(&mut self, offset: usize, data: &[u8]) -> usize {
        let free = self.window();
        if offset >= free {
            return 0;
        }
        let n = data.len().min(free - offset);
        let start = self.index(self.length + offset);
        let first = n.min(self.capacity() - start);
        self.storage[start..start + first].copy_from_slice(&data[..first]);
        if first < n {
            self.storage[..n - first].copy_from_slice(&data[first..n]);
        }
        n
    }

    /// [`write_unallocated`](Self::write_unallocated) of all of `data`,
    /// summing it as it is copied (one pass over the bytes): returns the
    /// Internet checksum sum of `data` ([`checksum::data`]), or `None`
    /// with nothing written when `data` does not fit whole.
    pub fn write_unallocated_summed(&mut self, offset: usize, data: &[u8]) -> Option<u16> {
        if offset.checked_add(data.len())? > self.window() {
            return None;
        }
        let start = self.index(self.length + offset);
        let first = data.len().min(self.capacity() - start);
        let (head, tail) = data.split_at(first);
        let head_sum = checksum::copy_and_sum(&mut self.storage[start..start + first], head);
        if tail.is_empty() {
            return Some(head_sum);
        }
        let tail_sum = checksum::copy_and_sum(&mut self.storage[..tail.len()], tail);
        // Past an odd-length first piece, the second's bytes sit in the
        // other halves of their 16-bit words.
        Some(checksum::combine(&[head_sum, checksum::at_offset(tail_sum, first)]))
    }

    /// Queues `count` bytes already written past the write pointer (by
    /// [`write_unallocated`](Self::write_unallocated)); returns the count.
    pub fn enqueue_unallocated(&mut self, count: usize) -> usize {
        let n = count.min(self.window());
        self.length += n;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enqueue_dequeue_with_wrap() {
        let mut storage = [0; 8];
        let mut ring = RingBuffer::new(&mut storage);
        assert_eq!(ring.enqueue_slice(b"abcdef"), 6);
        let mut out = [0; 4];
        assert_eq!(ring.dequeue_slice(&mut out), 4);
        assert_eq!(&out, b"abcd");
        // Six free bytes: two at the end, four at the start.
        assert_eq!(ring.window(), 6);
        assert_eq!(ring.enqueue_slice(b"ghijklmn"), 6);
        assert!(ring.is_full());
        let mut out = [0; 10];
        assert_eq!(ring.dequeue_slice(&mut out), 8);
        assert_eq!(&out[..8], b"efghijkl");
        assert!(ring.is_empty());
    }

    #[test]
    fn closures_see_contiguous_regions() {
        let mut storage = [0; 8];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue_slice(b"123456");
        ring.dequeue_allocated(5);
        // Write pointer at 6: two contiguous bytes before the wrap.
        let (n, len) = ring.enqueue_many_with(|buf| {
            buf.copy_from_slice(b"ab");
            (buf.len(), buf.len())
        });
        assert_eq!((n, len), (2, 2));
        let (n, len) = ring.enqueue_many_with(|buf| (3, buf.len()));
        assert_eq!((n, len), (3, 5));
        // Read side: "6ab" contiguous at 5..8, then three bytes at 0.
        let (n, first) = ring.dequeue_many_with(|buf| (buf.len(), buf[0]));
        assert_eq!((n, first), (3, b'6'));
        let (n, len) = ring.dequeue_many_with(|buf| (1, buf.len()));
        assert_eq!((n, len), (1, 3));
        assert_eq!(ring.len(), 2);
    }

    #[test]
    fn closure_counts_are_clamped() {
        let mut storage = [0; 4];
        let mut ring = RingBuffer::new(&mut storage);
        assert_eq!(ring.enqueue_many_with(|_| (100, ())).0, 4);
        assert_eq!(ring.dequeue_many_with(|_| (100, ())).0, 4);
    }

    #[test]
    fn read_allocated_does_not_consume() {
        let mut storage = [0; 8];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue_slice(b"xxxxxx");
        ring.dequeue_allocated(6);
        ring.enqueue_slice(b"abcdef"); // wraps after "ab"
        let mut out = [0; 8];
        assert_eq!(ring.read_allocated(1, &mut out), 5);
        assert_eq!(&out[..5], b"bcdef");
        assert_eq!(ring.read_allocated(6, &mut out), 0);
        assert_eq!(ring.get_allocated(0, 10), b"ab");
        assert_eq!(ring.get_allocated(2, 10), b"cdef");
        assert_eq!(ring.get_allocated(3, 2), b"de");
        assert_eq!(ring.get_allocated(7, 2), b"");
        assert_eq!(ring.len(), 6);
    }

    #[test]
    fn write_unallocated_summed_across_the_wrap() {
        // Every capacity parity, write pointer position and length: the
        // bytes land where `write_unallocated` puts them and the sum is
        // that of the data, also when the wrap splits it at an odd point.
        let data: [u8; 23] = core::array::from_fn(|i| (i as u8).wrapping_mul(97) | 0x81);
        for cap in [1usize, 2, 7, 8, 13, 16] {
            for pos in 0..cap {
                for offset in 0..3 {
                    for len in 0..=data.len().min(cap + 1) {
                        let mut storage = [0u8; 16];
                        let mut ring = RingBuffer::new(&mut storage[..cap]);
                        ring.enqueue_slice(&data[..pos]);
                        ring.dequeue_allocated(pos);
                        let mut expected = [0u8; 16];
                        let mut plain = RingBuffer::new(&mut expected[..cap]);
                        plain.enqueue_slice(&data[..pos]);
                        plain.dequeue_allocated(pos);
                        let piece = &data[..len];
                        let fits = offset + len <= cap;
                        let summed = ring.write_unallocated_summed(offset, piece);
                        assert_eq!(
                            summed,
                            fits.then(|| checksum::data(piece)),
                            "cap {cap} pos {pos} off {offset} len {len}"
                        );
                        if fits {
                            assert_eq!(plain.write_unallocated(offset, piece), len);
                        }
                        assert_eq!(ring.len(), 0);
                        // The borrows end here; the storage is compared.
                        let _ = (ring, plain);
                        assert_eq!(storage, expected, "cap {cap} pos {pos} off {offset} len {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn write_unallocated_then_commit() {
        let mut storage = [0; 8];
        let mut ring = RingBuffer::new(&mut storage);
        ring.enqueue_slice(b"abcde");
        ring.dequeue_allocated(5);
        // A later segment arrives first, written ahead of a two-byte hole.
        assert_eq!(ring.write_unallocated(2, b"CDEFGHIJ"), 6);
        assert_eq!(ring.len(), 0);
        assert_eq!(ring.write_unallocated(0, b"AB"), 2);
        assert_eq!(ring.enqueue_unallocated(10), 8);
        let mut out = [0; 8];
        ring.dequeue_slice(&mut out);
        assert_eq!(&out, b"ABCDEFGH");
        assert_eq!(ring.write_unallocated(8, b"z"), 0);
    }

    #[test]
    fn zero_capacity_is_inert() {
        let mut storage = [0u8; 0];
        let mut ring = RingBuffer::new(&mut storage);
        assert_eq!(ring.enqueue_slice(b"a"), 0);
        assert_eq!(ring.dequeue_slice(&mut [0; 1]), 0);
        assert_eq!(ring.write_unallocated(0, b"a"), 0);
        assert_eq!(ring.enqueue_unallocated(1), 0);
        assert!(ring.is_empty() && ring.is_full());
        assert_eq!(ring.enqueue_many_with(|b| (b.len(), ())).0, 0);
    }

    #[test]
    fn matches_a_reference_queue() {
        // A seeded mix of operations against a VecDeque model.
        let mut storage = [0; 13];
        let mut ring = RingBuffer::new(&mut storage);
        let mut model = std::collections::VecDeque::new();
        let mut seed = 0x1234_5678u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for step in 0..2000u32 {
            let n = (next() % 9) as usize;
            if next() % 2 == 0 {
                let data: std::vec::Vec<u8> = (0..n).map(|i| (step as usize + i) as u8).collect();
                let k = ring.enqueue_slice(&data);
                assert_eq!(k, n.min(13 - model.len()));
                model.extend(&data[..k]);
            } else {
                let mut out = [0; 9];
                let k = ring.dequeue_slice(&mut out[..n]);
                assert_eq!(k, n.min(model.len()));
                for b in &out[..k] {
                    assert_eq!(Some(*b), model.pop_front());
                }
            }
            assert_eq!(ring.len(), model.len());
        }
    }
}
