//! IPv4 and IPv6 reassembly over caller storage: a few datagrams at once,
//! each in its own equal share of one byte slice.
//!
//! Rules (RFC 791 and RFC 8200 with the hardening of RFC 5722 and RFC 1858):
//! - IPv4: a fragment that overlaps data already held *with different
//!   bytes* discards the whole datagram; one that only repeats held bytes
//!   is ignored as a duplicate;
//! - IPv6 (RFC 5722): any overlap discards the whole datagram, except a
//!   fragment that lies wholly within data already held and repeats it
//!   exactly, which is dropped as a duplicate (RFC 8200 4.5 allows this);
//! - inconsistent lengths (two different final fragments, data past the
//!   final fragment's end) discard the datagram too;
//! - a datagram may not grow past 65535 bytes, nor past its buffer share;
//! - empty non-final fragments and TCP fragments at offset 8 (which could
//!   rewrite TCP flags) are refused;
//! - a datagram not complete within [`REASSEMBLY_TIMEOUT`] of its first
//!   fragment is dropped (the interface may send ICMP time exceeded if the
//!   first fragment had arrived, which is why its header is kept);
//! - when every slot is busy, a new datagram takes the slot of the oldest
//!   incomplete one if that one is at least [`EVICTION_AGE`] old.

use crate::time::{Duration, Instant};
use crate::wire::{ipv4, IpAddress, IpProtocol, Ipv4Address};

/// How long the fragments of one datagram are kept (RFC 1122 suggests
/// 60-120 s; 30 s, as Linux does, ties up buffers for less time).
pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How old an incomplete datagram must be before a new one may take its
/// slot when every slot is busy.
pub const EVICTION_AGE: Duration = Duration::from_secs(1);
/// Disjoint received byte ranges tracked per datagram.
const MAX_RANGES: usize = 16;
/// Payload bytes of the first fragment kept for an ICMP quote.
const QUOTED_PAYLOAD: usize = 8;

/// Which datagram a fragment belongs to (RFC 791; RFC 8200 4.5 for IPv6,
/// where `protocol` is the fragment header's next header, the same in
/// every fragment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentKey {
    pub src: IpAddress,
    pub dst: IpAddress,
    pub protocol: IpProtocol,
    /// The 16-bit IPv4 or 32-bit IPv6 identification.
    pub ident: u32,
}

impl FragmentKey {
    /// The key of an IPv4 fragment.
    pub fn v4(src: Ipv4Address, dst: Ipv4Address, protocol: IpProtocol, ident: u16) -> FragmentKey {
        FragmentKey { src: IpAddress::V4(src), dst: IpAddress::V4(dst), protocol, ident: u32::from(ident) }
    }

    /// The IPv4 source and destination (`None` for IPv6).
    pub fn v4_addrs(&self) -> Option<(Ipv4Address, Ipv4Address)> {
        match (self.src, self.dst) {
            (IpAddress::V4(s), IpAddress::V4(d)) => Some((s, d)),
            _ => None,
        }
    }

    fn is_v6(&self) -> bool {
        matches!(self.src, IpAddress::V6(_))
    }
}

#[derive(Debug, Clone, Copy)]
struct Assembly {
    key: FragmentKey,
    /// Sorted, disjoint, non-adjacent `[start, end)` ranges received.
    ranges: [(usize, usize); MAX_RANGES],
    range_count: usize,
    /// Known once the final fragment arrived.
    total_len: Option<usize>,
    expires_at: Instant,
    /// The first fragment's IP header (0 bytes until it arrives).
    first_header: [u8; ipv4::MAX_HEADER_LEN],
    first_header_len: usize,
}

#[derive(Debug, Clone, Copy)]
enum SlotState {
    Free,
    Assembling(Assembly),
    /// Complete and held by the interface (for a reply still to send).
    Complete(Assembly),
}

/// One datagram being reassembled (caller storage:
/// `[ReassemblySlot::EMPTY; N]`).
#[derive(Debug, Clone, Copy)]
pub struct ReassemblySlot {
    state: SlotState,
}

impl ReassemblySlot {
    /// A free slot.
    pub const EMPTY: ReassemblySlot = ReassemblySlot { state: SlotState::Free };
}

impl Default for ReassemblySlot {
    fn default() -> ReassemblySlot {
        ReassemblySlot::EMPTY
    }
}

/// Why a fragment was refused (the datagram it belongs to, if any, is
/// discarded for every reason but `NoBuffer` on a new datagram).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentError {
    /// No free slot, or the datagram exceeds a slot's share of the bytes,
    /// or it is too scattered to track.
    NoBuffer,
    /// The datagram would be longer than 65535 bytes.
    TooBig,
    /// Overlapping data with different contents, or inconsistent lengths.
    Overlap,
    /// An empty non-final fragment, or TCP at offset 8.
    Tiny,
}

/// What happened to an accepted fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored; more are needed.
    Incomplete,
    /// Only repeated bytes already held.
    Duplicate,
    /// The datagram is complete in this slot: read it with
    /// [`Reassembler::datagram`], then [`Reassembler::release`] it.
    Complete(usize),
}

/// A datagram dropped for timing out, with the quote an ICMP time
/// exceeded message needs (empty when the first fragment never came).
#[derive(Debug, Clone, Copy)]
pub struct Expired {
    pub key: FragmentKey,
    /// Whether fragments were still missing (else it was complete but
    /// held for a reply that could not be sent in time).
    pub incomplete: bool,
    quote: [u8; ipv4::MAX_HEADER_LEN + QUOTED_PAYLOAD],
    quote_len: usize,
}

impl Expired {
    /// The first fragment's header and up to 8 bytes of its payload.
    pub fn quote(&self) -> &[u8] {
        &self.quote[..self.quote_len]
    }
}

/// The reassembly buffers.
#[derive(Debug)]
pub struct Reassembler<'a> {
    slots: &'a mut [ReassemblySlot],
    bytes: &'a mut [u8],
    evictions: u64,
    /// A slot may be in use: set when one is taken, cleared by a pass of
    /// [`next_expired`](Self::next_expired) that finds every slot free, so
    /// the per-poll passes are skipped while nothing is reassembled.
    maybe_active: bool,
}

impl<'a> Reassembler<'a> {
    /// `bytes` is shared equally between the slots: each datagram can be
    /// at most `bytes.len() / slots.len()` bytes long.
    pub fn new(slots: &'a mut [ReassemblySlot], bytes: &'a mut [u8]) -> Reassembler<'a> {
        slots.fill(ReassemblySlot::EMPTY);
        // Slots lent again by a previous reassembler may be in use.
        Reassembler { slots, bytes, evictions: 0, maybe_active: true }
    }

    /// The largest datagram one slot holds.
    pub fn slot_len(&self) -> usize {
        match self.slots.len() {
            0 => 0,
            n => (self.bytes.len() / n).min(ipv4::MAX_PACKET_LEN),
        }
    }

    fn buffer(&mut self, index: usize) -> &mut [u8] {
        let len = self.slot_len();
        &mut self.bytes[index * len..(index + 1) * len]
    }

    /// Adds the fragment `payload` at byte `offset` of the datagram `key`
    /// (`more` is the MF flag; `header` its IP header).
    pub fn add(
        &mut self,
        now: Instant,
        key: FragmentKey,
        offset: usize,
        more: bool,
        header: &[u8],
        payload: &[u8],
    ) -> Result<Accepted, FragmentError> {
        let end = offset + payload.len();
        let existing = self.slots.iter().position(|s| match s.state {
            SlotState::Assembling(a) | SlotState::Complete(a) => a.key == key,
            SlotState::Free => false,
        });
        if let Some(i) = existing {
            if let SlotState::Complete(_) = self.slots[i].state {
                return Ok(Accepted::Duplicate);
            }
        }
        let refusal = if end > ipv4::MAX_PACKET_LEN {
            Some(FragmentError::TooBig)
        } else if (more && payload.is_empty()) || (key.protocol == IpProtocol::Tcp && offset == 8) {
            Some(FragmentError::Tiny)
        } else if end > self.slot_len() {
            Some(FragmentError::NoBuffer)
        } else {
            None
        };
        if let Some(err) = refusal {
            if let Some(i) = existing {
                self.slots[i].state = SlotState::Free;
            }
            return Err(err);
        }
        let index = match existing {
            Some(i) => i,
            None => {
                let i = self.free_slot(now).ok_or(FragmentError::NoBuffer)?;
                self.maybe_active = true;
                self.slots[i].state = SlotState::Assembling(Assembly {
                    key,
                    ranges: [(0, 0); MAX_RANGES],
                    range_count: 0,
                    total_len: None,
                    expires_at: now + REASSEMBLY_TIMEOUT,
                    first_header: [0; ipv4::MAX_HEADER_LEN],
                    first_header_len: 0,
                });
                i
            }
        };
        let result = self.add_to(index, offset, more, header, payload);
        if result.is_err() {
            self.slots[index].state = SlotState::Free;
        }
        result
    }

    /// A free slot, or else the slot of the oldest incomplete datagram if
    /// it started more than [`EVICTION_AGE`] ago: under loss, the oldest
    /// datagram is the one most likely never to complete, and waiting out
    /// its whole timeout would starve every new datagram.
    fn free_slot(&mut self, now: Instant) -> Option<usize> {
        if let Some(i) = self.slots.iter().position(|s| matches!(s.state, SlotState::Free)) {
            return Some(i);
        }
        let (i, expires_at) = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.state {
                SlotState::Assembling(a) => Some((i, a.expires_at)),
                SlotState::Complete(_) | SlotState::Free => None,
            })
            .min_by_key(|&(_, t)| t)?;
        let started = expires_at - REASSEMBLY_TIMEOUT;
        if now < started + EVICTION_AGE {
            return None;
        }
        self.slots[i].state = SlotState::Free;
        self.evictions += 1;
        Some(i)
    }

    /// Incomplete datagrams evicted for newer ones since the last call.
    pub fn take_evictions(&mut self) -> u64 {
        core::mem::take(&mut self.evictions)
    }

    fn add_to(
        &mut self,
        index: usize,
        offset: usize,
        more: bool,
        header: &[u8],
        payload: &[u8],
    ) -> Result<Accepted, FragmentError> {
        let SlotState::Assembling(mut a) = self.slots[index].state else {
            return Err(FragmentError::NoBuffer);
        };
        let end = offset + payload.len();
        let buf = self.buffer(index);
        let held = &a.ranges[..a.range_count];
        let duplicate = held.iter().any(|&(start, stop)| start <= offset && end <= stop);
        for &(start, stop) in held {
            let (from, to) = (start.max(offset), stop.min(end));
            if from < to && (buf[from..to] != payload[from - offset..to - offset] || (a.key.is_v6() && !duplicate)) {
                return Err(FragmentError::Overlap);
            }
        }
        match (more, a.total_len) {
            (false, Some(total)) if total != end => return Err(FragmentError::Overlap),
            (false, _) if held.iter().any(|&(_, stop)| stop > end) => return Err(FragmentError::Overlap),
            (true, Some(total)) if end > total => return Err(FragmentError::Overlap),
            _ => {}
        }
        if duplicate && (more || a.total_len.is_some()) {
            return Ok(Accepted::Duplicate);
        }
        buf[offset..end].copy_from_slice(payload);
        if !more {
            a.total_len = Some(end);
        }
        if offset == 0 && header.len() <= ipv4::MAX_HEADER_LEN {
            a.first_header[..header.len()].copy_from_slice(header);
            a.first_header_len = header.len();
        }
        if !insert_range(&mut a, offset, end) {
            return Err(FragmentError::NoBuffer);
        }
        let complete =
            a.total_len.is_some_and(|t| a.range_count == 1 && a.ranges[0] == (0, t)) || a.total_len == Some(0);
        self.slots[index].state = if complete { SlotState::Complete(a) } else { SlotState::Assembling(a) };
        Ok(if complete { Accepted::Complete(index) } else { Accepted::Incomplete })
    }

    /// A complete datagram: its key and payload.
    pub fn datagram(&self, index: usize) -> Option<(FragmentKey, &[u8])> {
        let SlotState::Complete(a) = self.slots.get(index)?.state else { return None };
        let len = self.slot_len();
        let total = a.total_len?;
        Some((a.key, &self.bytes[index * len..index * len + total]))
    }

    /// Frees a slot.
    pub fn release(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            slot.state = SlotState::Free;
        }
    }

    /// Slots holding a datagram, complete or still assembling.
    pub fn in_use(&self) -> usize {
        self.slots.iter().filter(|s| !matches!(s.state, SlotState::Free)).count()
    }

    /// Complete datagrams still held (for a deferred reply).
    pub fn held(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| match s.state {
            SlotState::Complete(_) => Some(i),
            SlotState::Free | SlotState::Assembling(_) => None,
        })
    }

    /// Frees the next datagram (incomplete or held) whose time is up.
    pub fn next_expired(&mut self, now: Instant) -> Option<Expired> {
        // Called every poll: the slot length (a division) only once a
        // slot has expired.
        if !self.maybe_active {
            return None;
        }
        let (bytes_len, slot_count) = (self.bytes.len(), self.slots.len());
        let mut in_use = false;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let (a, incomplete) = match slot.state {
                SlotState::Assembling(a) => (a, true),
                SlotState::Complete(a) => (a, false),
                SlotState::Free => continue,
            };
            in_use = true;
            if now < a.expires_at {
                continue;
            }
            slot.state = SlotState::Free;
            let len = (bytes_len / slot_count).min(ipv4::MAX_PACKET_LEN);
            let mut expired =
                Expired { key: a.key, incomplete, quote: [0; ipv4::MAX_HEADER_LEN + QUOTED_PAYLOAD], quote_len: 0 };
            if incomplete && a.first_header_len > 0 {
                let data_len = a.ranges[0].1.min(QUOTED_PAYLOAD);
                let h = a.first_header_len;
                expired.quote[..h].copy_from_slice(&a.first_header[..h]);
                expired.quote[h..h + data_len].copy_from_slice(&self.bytes[i * len..i * len + data_len]);
                expired.quote_len = h + data_len;
            }
            return Some(expired);
        }
        self.maybe_active = in_use;
        None
    }

    /// Whether a slot may be in use (false: every slot is free).
    pub fn maybe_active(&self) -> bool {
        self.maybe_active
    }

    /// When the next datagram times out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                SlotState::Assembling(a) | SlotState::Complete(a) => Some(a.expires_at),
                SlotState::Free => None,
            })
            .min()
    }
}

/// Merges `[start, end)` into the sorted range list; `false` when the list
/// would overflow.
fn insert_range(a: &mut Assembly, start: usize, end: usize) -> bool {
    if start == end {
        return true;
    }
    let mut merged = [(0, 0); MAX_RANGES + 1];
    let mut n = 0;
    let mut new = (start, end);
    let mut placed = false;
    for &(s, e) in &a.ranges[..a.range_count] {
        if e < new.0 {
            merged[n] = (s, e);
            n += 1;
        } else if s > new.1 {
            if !placed {
                merged[n] = new;
                n += 1;
                placed = true;
            }
            merged[n] = (s, e);
            n += 1;
        } else {
            new = (new.0.min(s), new.1.max(e));
        }
    }
    if !placed {
        merged[n] = new;
        n += 1;
    }
    if n > MAX_RANGES {
        return false;
    }
    a.ranges[..n].copy_from_slice(&merged[..n]);
    a.range_count = n;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: FragmentKey = FragmentKey {
        src: IpAddress::V4(Ipv4Address::new(10, 0, 0, 2)),
        dst: IpAddress::V4(Ipv4Address::new(10, 0, 0, 1)),
        protocol: IpProtocol::Udp,
        ident: 7,
    };
    const KEY6: FragmentKey = FragmentKey {
        src: IpAddress::V6(crate::wire::Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])),
        dst: IpAddress::V6(crate::wire::Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
        protocol: IpProtocol::Udp,
        ident: 0x8000_0007,
    };
    const HEADER: [u8; 20] = [0x45; 20];

    fn data(len: usize) -> std::vec::Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn add(r: &mut Reassembler, d: &[u8], from: usize, to: usize, more: bool) -> Result<Accepted, FragmentError> {
        r.add(Instant::ZERO, KEY, from, more, &HEADER, &d[from..to])
    }

    #[test]
    fn in_order_and_out_of_order() {
        let d = data(40);
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 2], [0u8; 128]);
            let mut r = Reassembler::new(&mut slots, &mut bytes);
            let parts = [(0, 16, true), (16, 32, true), (32, 40, false)];
            let mut last = Accepted::Incomplete;
            for &i in &order {
                let (a, b, m) = parts[i];
                last = add(&mut r, &d, a, b, m).unwrap();
            }
            let Accepted::Complete(i) = last else { panic!("not complete: {last:?}") };
            assert_eq!(r.datagram(i), Some((KEY, &d[..])));
            r.release(i);
            assert!(r.datagram(i).is_none());
            assert_eq!(r.poll_at(), None);
        }
    }

    #[test]
    fn duplicates_are_ignored_and_differing_overlaps_discard() {
        let d = data(48);
        let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 1], [0u8; 64]);
        let mut r = Reassembler::new(&mut slots, &mut bytes);
        assert_eq!(add(&mut r, &d, 0, 16, true), Ok(Accepted::Incomplete));
        assert_eq!(add(&mut r, &d, 0, 16, true), Ok(Accepted::Duplicate));
        assert_eq!(add(&mut r, &d, 8, 16, true), Ok(Accepted::Duplicate));
        // Identical overlapping bytes extending the data are fine.
        assert_eq!(add(&mut r, &d, 8, 32, true), Ok(Accepted::Incomplete));
        let mut evil = d.clone();
        evil[20] ^= 0xff;
        assert_eq!(add(&mut r, &evil, 16, 40, true), Err(FragmentError::Overlap));
        // The datagram is gone: the good fragments start it over.
        assert_eq!(add(&mut r, &d, 40, 48, false), Ok(Accepted::Incomplete));
        assert_eq!(add(&mut r, &d, 0, 40, true), Ok(Accepted::Complete(0)));
        assert_eq!(r.datagram(0).unwrap().1, &d[..]);
    }

    #[test]
    fn ipv6_rejects_every_overlap_but_exact_repeats() {
        let d = data(48);
        let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 1], [0u8; 64]);
        let mut r = Reassembler::new(&mut slots, &mut bytes);
        let add6 = |r: &mut Reassembler, from: usize, to: usize, more| {
            r.add(Instant::ZERO, KEY6, from, more, &HEADER, &d[from..to])
        };
        assert_eq!(add6(&mut r, 0, 16, true), Ok(Accepted::Incomplete));
        assert_eq!(add6(&mut r, 0, 16, true), Ok(Accepted::Duplicate), "an exact repeat");
        assert_eq!(add6(&mut r, 8, 16, true), Ok(Accepted::Duplicate), "within held data, same bytes");
        // Identical bytes, but reaching past the held data: RFC 5722 drops it all.
        assert_eq!(add6(&mut r, 8, 32, true), Err(FragmentError::Overlap));
        assert_eq!(r.in_use(), 0);
        assert_eq!(add6(&mut r, 16, 32, true), Ok(Accepted::Incomplete));
        let mut evil = d.clone();
        evil[20] ^= 0xff;
        assert_eq!(r.add(Instant::ZERO, KEY6, 16, true, &HEADER, &evil[16..24]), Err(FragmentError::Overlap));
        // Adjacent fragments do not overlap.
        assert_eq!(add6(&mut r, 32, 48, false), Ok(Accepted::Incomplete));
        assert_eq!(add6(&mut r, 16, 32, true), Ok(Accepted::Incomplete));
        assert_eq!(add6(&mut r, 0, 16, true), Ok(Accepted::Complete(0)));
        assert_eq!(r.datagram(0), Some((KEY6, &d[..])));
        // IPv4 and IPv6 datagrams with the same identification are distinct.
        let v4 = FragmentKey { ident: KEY6.ident, ..KEY };
        assert_ne!(v4, KEY6);
        assert_eq!(KEY.v4_addrs(), Some((Ipv4Address::new(10, 0, 0, 2), Ipv4Address::new(10, 0, 0, 1))));
        assert_eq!(KEY6.v4_addrs(), None);
    }

    #[test]
    fn inconsistent_lengths_discard() {
        let d = data(48);
        let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 1], [0u8; 64]);
        let mut r = Reassembler::new(&mut slots, &mut bytes);
        add(&mut r, &d, 32, 40, false).unwrap();
        assert_eq!(add(&mut r, &d, 40, 48, false), Err(FragmentError::Overlap), "second end");
        add(&mut r, &d, 32, 40, false).unwrap();
        assert_eq!(add(&mut r, &d, 32, 48, true), Err(FragmentError::Overlap), "data past the end");
        add(&mut r, &d, 32, 48, true).unwrap();
        assert_eq!(add(&mut r, &d, 0, 8, false), Err(FragmentError::Overlap), "end before held data");
    }

    #[test]
    fn refusals() {
        let d = data(64);
        let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 1], [0u8; 48]);
        let mut r = Reassembler::new(&mut slots, &mut bytes);
        assert_eq!(r.slot_len(), 48);
        assert_eq!(add(&mut r, &d, 8, 8, true), Err(FragmentError::Tiny));
        assert_eq!(add(&mut r, &d, 40, 56, true), Err(FragmentError::NoBuffer), "beyond the share");
        assert_eq!(r.add(Instant::ZERO, KEY, 65528, false, &HEADER, &d[..16]), Err(FragmentError::TooBig));
        let tcp = FragmentKey { protocol: IpProtocol::Tcp, ..KEY };
        assert_eq!(r.add(Instant::ZERO, tcp, 8, true, &HEADER, &d[..8]), Err(FragmentError::Tiny));
        add(&mut r, &d, 0, 8, true).unwrap();
        let other = FragmentKey { ident: 8, ..KEY };
        assert_eq!(r.add(Instant::ZERO, other, 0, true, &HEADER, &d[..8]), Err(FragmentError::NoBuffer), "one slot");
    }

    #[test]
    fn scattered_fragments_overflow_the_range_list() {
        let d = data(8 * 40);
        let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 1], [0u8; 8 * 40]);
        let mut r = Reassembler::new(&mut slots, &mut bytes);
        for i in 0..MAX_RANGES {
            assert_eq!(add(&mut r, &d, 16 * i, 16 * i + 8, true), Ok(Accepted::Incomplete));
        }
        assert_eq!(add(&mut r, &d, 16 * MAX_RANGES, 16 * MAX_RANGES + 8, true), Err(FragmentError::NoBuffer));
    }

    #[test]
    fn timeout_keeps_the_first_fragment_quote() {
        let d = data(40);
        let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 2], [0u8; 128]);
        let mut r = Reassembler::new(&mut slots, &mut bytes);
        add(&mut r, &d, 0, 16, true).unwrap();
        let other = FragmentKey { ident: 8, ..KEY };
        r.add(Instant::from_secs(1), other, 16, false, &HEADER, &d[16..24]).unwrap();
        assert_eq!(r.poll_at(), Some(Instant::ZERO + REASSEMBLY_TIMEOUT));
        assert!(r.next_expired(Instant::from_secs(29)).is_none());
        let e = r.next_expired(Instant::from_secs(30)).unwrap();
        assert_eq!(e.key, KEY);
        assert_eq!(&e.quote()[..20], &HEADER);
        assert_eq!(&e.quote()[20..], &d[..8]);
        let e = r.next_expired(Instant::from_secs(31)).unwrap();
        assert_eq!((e.key, e.quote().len()), (other, 0), "no first fragment, no quote");
        assert!(r.next_expired(Instant::from_secs(99)).is_none());
    }

    #[test]
    fn random_identical_overlaps_in_any_order_reassemble_exactly() {
        let mut seed = 0x2545_f491u32;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as usize % n.max(1)
        };
        for round in 0..300 {
            let len = 1 + next(3000);
            let d = data(len);
            // Cover the datagram with random pieces on 8-byte boundaries,
            // some overlapping (with the same bytes), then shuffle them.
            let mut pieces = std::vec::Vec::new();
            let mut at = 0;
            while at < len {
                let end = (at + 8 * (1 + next(40))).min(len);
                pieces.push((at, end));
                if next(4) == 0 && at >= 8 {
                    pieces.push((at - 8 * (1 + next(at / 8)), end));
                }
                at = end;
            }
            for i in (1..pieces.len()).rev() {
                pieces.swap(i, next(i + 1));
            }
            let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 1], [0u8; 4096]);
            let mut r = Reassembler::new(&mut slots, &mut bytes);
            let mut complete = None;
            for (i, &(from, to)) in pieces.iter().enumerate() {
                let more = to < len;
                let result = r.add(Instant::ZERO, KEY, from, more, &HEADER, &d[from..to]);
                match (complete, result) {
                    (None, Ok(Accepted::Complete(slot))) => complete = Some(slot),
                    (None, Ok(Accepted::Incomplete | Accepted::Duplicate)) => {}
                    (Some(_), Ok(Accepted::Duplicate)) => {}
                    (_, other) => panic!("round {round}, piece {i}: {other:?} for {from}..{to} of {len}"),
                }
            }
            let slot = complete.unwrap_or_else(|| panic!("round {round}: never completed"));
            assert_eq!(r.datagram(slot).unwrap().1, &d[..]);
        }
    }

    #[test]
    fn the_oldest_incomplete_datagram_makes_room_after_a_second() {
        let d = data(16);
        let (mut slots, mut bytes) = ([ReassemblySlot::EMPTY; 1], [0u8; 64]);
        let mut r = Reassembler::new(&mut slots, &mut bytes);
        assert_eq!(add(&mut r, &d, 0, 8, true), Ok(Accepted::Incomplete));
        let other = FragmentKey { ident: 8, ..KEY };
        let at = |ms| Instant::from_millis(ms);
        assert_eq!(r.add(at(999), other, 0, true, &HEADER, &d[..8]), Err(FragmentError::NoBuffer));
        assert_eq!(r.add(at(1000), other, 0, true, &HEADER, &d[..8]), Ok(Accepted::Incomplete));
        assert_eq!(r.take_evictions(), 1);
        assert_eq!(r.take_evictions(), 0);
        assert_eq!(r.add(at(1000), other, 8, false, &HEADER, &d[8..]), Ok(Accepted::Complete(0)));
        assert_eq!(r.add(at(5000), KEY, 0, true, &HEADER, &d[..8]), Err(FragmentError::NoBuffer), "held");
    }
}
