//! A FIFO of variable-sized packets over two caller-provided slices: one of
//! metadata slots (a header of type `H` and a size per packet) and one
//! payload byte ring.
//!
//! A packet's bytes are always contiguous: when a packet does not fit
//! between the write position and the end of the ring, the tail is filled
//! with a padding record (a metadata slot without header) and the packet
//! starts at offset 0. A packet therefore costs one metadata slot, two when
//! it needs padding.

/// One metadata slot: the caller provides an array of these
/// (`[PacketMetadata::EMPTY; N]`).
#[derive(Debug, Clone, Copy)]
pub struct PacketMetadata<H> {
    size: usize,
    /// `None` marks padding: bytes skipped to keep the next packet whole.
    header: Option<H>,
}

impl<H> PacketMetadata<H> {
    /// An unused slot.
    pub const EMPTY: PacketMetadata<H> = PacketMetadata { size: 0, header: None };
}

/// The buffer cannot take a packet of that size now (no metadata slot or
/// not enough contiguous payload room).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// A ring of packets, each a header `H` and a byte payload.
#[derive(Debug)]
pub struct PacketBuffer<'a, H> {
    metadata: &'a mut [PacketMetadata<H>],
    meta_read: usize,
    meta_len: usize,
    payload: &'a mut [u8],
    /// Offset of the oldest byte in use.
    read: usize,
    /// Bytes in use, padding included.
    len: usize,
}

impl<'a, H: Copy> PacketBuffer<'a, H> {
    /// A buffer over `metadata` (bounds the packet count) and `payload`
    /// (bounds the bytes).
    pub fn new(metadata: &'a mut [PacketMetadata<H>], payload: &'a mut [u8]) -> PacketBuffer<'a, H> {
        PacketBuffer { metadata, meta_read: 0, meta_len: 0, payload, read: 0, len: 0 }
    }

    /// Whether no packet is queued.
    pub fn is_empty(&self) -> bool {
        self.packet_count() == 0
    }

    /// Whether every metadata slot is taken (no packet can be added).
    pub fn is_full(&self) -> bool {
        self.meta_len == self.metadata.len()
    }

    /// Metadata slots in use (packets plus padding records): zero means
    /// empty, without walking the slots.
    pub(crate) fn slots_in_use(&self) -> usize {
        self.meta_len
    }

    /// Packets queued (padding records are not packets).
    pub fn packet_count(&self) -> usize {
        (0..self.meta_len)
            .filter(|i| self.metadata[(self.meta_read + i) % self.metadata.len()].header.is_some())
            .count()
    }

    /// Largest number of packets the buffer can hold.
    pub fn packet_capacity(&self) -> usize {
        self.metadata.len()
    }

    /// Size of the payload ring: the largest packet that can ever fit.
    pub fn payload_capacity(&self) -> usize {
        self.payload.len()
    }

    /// Whether a packet of `size` bytes fits now.
    pub fn can_enqueue(&self, size: usize) -> bool {
        self.placement(size).is_some()
    }

    /// Where a packet of `size` would go: (offset, padding before it).
    fn placement(&self, size: usize) -> Option<(usize, usize)> {
        let cap = self.payload.len();
        let free_slots = self.metadata.len() - self.meta_len;
        if free_slots == 0 {
            return None;
        }
        if self.len == 0 {
            // Empty: start over at 0, the whole ring is contiguous.
            return (size <= cap).then_some((0, 0));
        }
        let write = self.read + self.len;
        if write >= cap {
            // Wrapped: free room is between the write position and read.
            let write = write - cap;
            (size <= self.read - write).then_some((write, 0))
        } else if size <= cap - write {
            Some((write, 0))
        } else if size <= self.read && free_slots >= 2 {
            Some((0, cap - write))
        } else {
            None
        }
    }

    fn push_meta(&mut self, size: usize, header: Option<H>) {
        let slot = (self.meta_read + self.meta_len) % self.metadata.len();
        self.metadata[slot] = PacketMetadata { size, header };
        self.meta_len += 1;
    }

    /// Reserves room for a packet and records its metadata; returns the
    /// offset of its bytes.
    fn reserve(&mut self, size: usize, header: H) -> Result<usize, Full> {
        let (offset, padding) = self.placement(size).ok_or(Full)?;
        if self.len == 0 {
            self.read = 0;
        }
        if padding > 0 {
            self.push_meta(padding, None);
            self.len += padding;
        }
        self.push_meta(size, Some(header));
        self.len += size;
        Ok(offset)
    }

    /// Queues a packet of `size` bytes with `header`, returning its bytes to
    /// fill (their prior contents are unspecified).
    pub fn enqueue(&mut self, size: usize, header: H) -> Result<&mut [u8], Full> {
        let offset = self.reserve(size, header)?;
        Ok(&mut self.payload[offset..offset + size])
    }

    /// Queues a copy of `data` with `header`.
    pub fn enqueue_slice(&mut self, header: H, data: &[u8]) -> Result<(), Full> {
        self.enqueue(data.len(), header)?.copy_from_slice(data);
        Ok(())
    }

    /// Drops leading padding records so the front record is a packet.
    fn skip_padding(&mut self) {
        while self.meta_len > 0 {
            let meta = self.metadata[self.meta_read];
            if meta.header.is_some() {
                return;
            }
            self.pop_meta(meta.size);
        }
    }

    fn pop_meta(&mut self, size: usize) {
        self.meta_read = (self.meta_read + 1) % self.metadata.len();
        self.meta_len -= 1;
        self.len -= size;
        self.read = if self.len == 0 { 0 } else { (self.read + size) % self.payload.len() };
    }

    /// The front packet's header, offset and size.
    fn front(&mut self) -> Option<(H, usize, usize)> {
        self.skip_padding();
        if self.meta_len == 0 {
            return None;
        }
        let meta = self.metadata[self.meta_read];
        meta.header.map(|h| (h, self.read, meta.size))
    }

    /// The oldest packet, without removing it.
    pub fn peek(&mut self) -> Option<(&H, &[u8])> {
        let (_, offset, size) = self.front()?;
        let header = self.metadata[self.meta_read].header.as_ref()?;
        Some((header, &self.payload[offset..offset + size]))
    }

    /// Removes the oldest packet; its bytes stay readable until the next
    /// enqueue.
    pub fn dequeue(&mut self) -> Option<(H, &mut [u8])> {
        let (header, offset, size) = self.front()?;
        self.pop_meta(size);
        Some((header, &mut self.payload[offset..offset + size]))
    }

    /// Moves the oldest packet to the back of the queue (to let packets
    /// behind it go first). Returns `false`, and drops the packet, in the
    /// rare case it cannot be re-queued (no spare slot for padding).
    pub fn requeue_front(&mut self) -> bool {
        let Some((header, offset, size)) = self.front() else { return false };
        if self.meta_len == 1 {
            return true;
        }
        self.pop_meta(size);
        match self.reserve(size, header) {
            Ok(new_offset) => {
                self.payload.copy_within(offset..offset + size, new_offset);
                true
            }
            Err(Full) => false,
        }
    }

    /// Drops every packet.
    pub fn clear(&mut self) {
        self.meta_read = 0;
        self.meta_len = 0;
        self.read = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer<'a>(meta: &'a mut [PacketMetadata<u32>], payload: &'a mut [u8]) -> PacketBuffer<'a, u32> {
        PacketBuffer::new(meta, payload)
    }

    #[test]
    fn fifo_order_and_contents() {
        let mut meta = [PacketMetadata::EMPTY; 4];
        let mut bytes = [0u8; 16];
        let mut b = buffer(&mut meta, &mut bytes);
        assert!(b.is_empty());
        b.enqueue_slice(1, b"abc").unwrap();
        b.enqueue(2, 2).unwrap().copy_from_slice(b"de");
        assert_eq!(b.packet_count(), 2);
        assert_eq!(b.peek(), Some((&1, &b"abc"[..])));
        let (h, data) = b.dequeue().unwrap();
        assert_eq!((h, &data[..]), (1, &b"abc"[..]));
        let (h, data) = b.dequeue().unwrap();
        assert_eq!((h, &data[..]), (2, &b"de"[..]));
        assert!(b.dequeue().is_none());
        assert!(b.peek().is_none());
    }

    #[test]
    fn full_on_metadata_and_on_bytes() {
        let mut meta = [PacketMetadata::EMPTY; 2];
        let mut bytes = [0u8; 8];
        let mut b = buffer(&mut meta, &mut bytes);
        assert_eq!(b.enqueue(9, 0).err(), Some(Full), "larger than the ring");
        b.enqueue_slice(1, b"a").unwrap();
        b.enqueue_slice(2, b"b").unwrap();
        assert!(b.is_full());
        assert_eq!(b.enqueue_slice(3, b"c"), Err(Full), "no slot");
        b.dequeue().unwrap();
        assert_eq!(b.enqueue_slice(3, b"1234567"), Err(Full), "7 bytes do not fit beside 1");
        b.enqueue_slice(3, b"123456").unwrap();
        assert_eq!(b.dequeue().map(|(h, d)| (h, d.to_vec())), Some((2, b"b".to_vec())));
        assert_eq!(b.dequeue().map(|(h, d)| (h, d.to_vec())), Some((3, b"123456".to_vec())));
    }

    #[test]
    fn a_packet_never_wraps_it_is_padded_to_the_start() {
        let mut meta = [PacketMetadata::EMPTY; 4];
        let mut bytes = [0u8; 10];
        let mut b = buffer(&mut meta, &mut bytes);
        b.enqueue_slice(1, b"123456").unwrap();
        b.enqueue_slice(2, b"78").unwrap();
        b.dequeue().unwrap();
        // 2 bytes free at the tail, 6 at the head: a 5-byte packet goes to 0.
        assert!(b.can_enqueue(5));
        b.enqueue_slice(3, b"abcde").unwrap();
        assert_eq!(b.packet_count(), 2);
        assert_eq!(b.dequeue().map(|(h, d)| (h, d.to_vec())), Some((2, b"78".to_vec())));
        assert_eq!(b.dequeue().map(|(h, d)| (h, d.to_vec())), Some((3, b"abcde".to_vec())));
        assert!(b.is_empty());
    }

    #[test]
    fn padding_needs_a_spare_slot() {
        let mut meta = [PacketMetadata::EMPTY; 2];
        let mut bytes = [0u8; 10];
        let mut b = buffer(&mut meta, &mut bytes);
        b.enqueue_slice(1, b"123456").unwrap();
        b.enqueue_slice(2, b"78").unwrap();
        b.dequeue().unwrap();
        assert!(!b.can_enqueue(5), "padding and packet need two slots");
        assert!(b.can_enqueue(2), "fits at the tail without padding");
    }

    #[test]
    fn wrapped_room_is_between_write_and_read() {
        let mut meta = [PacketMetadata::EMPTY; 8];
        let mut bytes = [0u8; 8];
        let mut b = buffer(&mut meta, &mut bytes);
        b.enqueue_slice(1, b"1234").unwrap();
        b.enqueue_slice(2, b"5678").unwrap();
        b.dequeue().unwrap();
        b.enqueue_slice(3, b"ab").unwrap(); // at 0, wrapped
        assert!(b.can_enqueue(2));
        assert!(!b.can_enqueue(3));
        b.enqueue_slice(4, b"cd").unwrap();
        assert_eq!(b.enqueue_slice(5, b""), Ok(()), "zero-size packets fit a full ring");
        let got: std::vec::Vec<_> = core::iter::from_fn(|| b.dequeue().map(|(h, d)| (h, d.to_vec()))).collect();
        assert_eq!(got, [(2, b"5678".to_vec()), (3, b"ab".to_vec()), (4, b"cd".to_vec()), (5, b"".to_vec())]);
    }

    #[test]
    fn zero_capacity_payload() {
        let mut meta = [PacketMetadata::EMPTY; 2];
        let mut bytes = [0u8; 0];
        let mut b = buffer(&mut meta, &mut bytes);
        assert_eq!(b.enqueue(1, 0).err(), Some(Full));
        b.enqueue(0, 7).unwrap();
        assert_eq!(b.dequeue().map(|(h, d)| (h, d.len())), Some((7, 0)));
        let mut none: [PacketMetadata<u32>; 0] = [];
        let mut bytes = [0u8; 4];
        let mut b = PacketBuffer::new(&mut none, &mut bytes);
        assert_eq!(b.enqueue(1, 0).err(), Some(Full));
        assert!(b.dequeue().is_none());
    }

    #[test]
    fn requeue_front_rotates_and_keeps_bytes() {
        let mut meta = [PacketMetadata::EMPTY; 4];
        let mut bytes = [0u8; 12];
        let mut b = buffer(&mut meta, &mut bytes);
        b.enqueue_slice(1, b"aaaa").unwrap();
        b.enqueue_slice(2, b"bbbbb").unwrap();
        assert!(b.requeue_front());
        assert!(b.requeue_front());
        assert!(b.requeue_front());
        assert_eq!(b.dequeue().map(|(h, d)| (h, d.to_vec())), Some((2, b"bbbbb".to_vec())));
        assert_eq!(b.dequeue().map(|(h, d)| (h, d.to_vec())), Some((1, b"aaaa".to_vec())));
        assert!(!b.requeue_front());
    }

    #[test]
    fn randomized_against_a_model() {
        use std::collections::VecDeque;
        use std::vec::Vec;
        let mut meta = [PacketMetadata::EMPTY; 5];
        let mut bytes = [0u8; 37];
        let mut b = buffer(&mut meta, &mut bytes);
        let mut model: VecDeque<(u32, Vec<u8>)> = VecDeque::new();
        let mut seed = 0x1234_5678u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for i in 0..20_000u32 {
            match next() % 3 {
                0 | 1 => {
                    let size = (next() % 20) as usize;
                    let data: Vec<u8> = (0..size).map(|j| (i as usize + j) as u8).collect();
                    let could = b.can_enqueue(size);
                    let res = b.enqueue_slice(i, &data);
                    assert_eq!(res.is_ok(), could);
                    if res.is_ok() {
                        model.push_back((i, data));
                    }
                }
                _ => {
                    if next() % 4 == 0 {
                        let ok = b.requeue_front();
                        if let Some(front) = model.pop_front() {
                            if ok {
                                model.push_back(front);
                            }
                        }
                    } else {
                        let got = b.dequeue().map(|(h, d)| (h, d.to_vec()));
                        assert_eq!(got, model.pop_front());
                    }
                }
            }
            assert_eq!(b.packet_count(), model.len());
        }
    }
}
