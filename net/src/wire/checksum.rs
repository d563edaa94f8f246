//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! Vocabulary used throughout `wire`:
//! - a *sum* is the 16-bit ones' complement sum of some bytes, folded but
//!   not complemented ([`data`], [`pseudo_header_v4`], [`combine`]);
//! - a *checksum* is the complement of a sum ([`finish`]), the value that
//!   goes on the wire;
//! - a received header verifies when the sum over it, checksum field
//!   included, is `0xffff` ([`is_valid`]).
//!
//! Sums are byte-order independent (RFC 1071 section 2), so [`data`] adds
//! native-endian words and swaps once at the end.

use super::{IpAddress, IpProtocol, Ipv4Address, Ipv6Address};

/// Folds a wide ones' complement accumulator down to 16 bits. Since
/// 2^16 = 1 (mod 0xffff), adding the halves keeps the value mod 0xffff.
const fn fold(acc: u64) -> u16 {
    let a = (acc & 0xffff_ffff) + (acc >> 32); // < 2^33
    let a = (a & 0xffff) + (a >> 16); // < 2^18
    let a = (a & 0xffff) + (a >> 16); // < 2^16 + 4
    let a = (a & 0xffff) + (a >> 16); // <= 0xffff
    a as u16
}

/// Bytes summed per block before the accumulators are folded: a block of
/// at most 2^27 eight-byte words keeps the exact sums in [`Sum`] below
/// 2^59, so nothing can overflow. Unit tests use a small block so their
/// random lengths cross blocks.
const BLOCK: usize = if cfg!(test) { 1 << 10 } else { 1 << 30 };

/// An unfolded native-endian sum of eight-byte words, kept as two
/// accumulators: `total`, the words added modulo 2^64 (carries dropped),
/// and `high`, the exact sum of their upper 32-bit halves. The exact sum
/// of the lower halves is then `total - (high << 32)` modulo 2^64 (it is
/// below 2^59, so the subtraction recovers it exactly). That is two
/// operations per word (an add; a shift and an add), one fewer than
/// splitting each word into halves, and the loops over words have no
/// carry dependency, so the compiler vectorises them (SSE2, NEON).
#[derive(Clone, Copy)]
struct Sum {
    total: u64,
    high: u64,
}

impl Sum {
    const ZERO: Sum = Sum { total: 0, high: 0 };

    #[inline(always)]
    fn add_word(&mut self, word: [u8; 8]) {
        let w = u64::from_ne_bytes(word);
        self.total = self.total.wrapping_add(w);
        self.high += w >> 32;
    }

    /// The sum as one u64 congruent to it modulo 0xffff (below 2^60):
    /// a word is `low + high * 2^32`, and 2^32 = 1 (mod 0xffff).
    #[inline(always)]
    fn value(&self) -> u64 {
        let low = self.total.wrapping_sub(self.high << 32);
        (low & 0xffff_ffff) + (low >> 32) + self.high
    }
}

/// The native-endian ones' complement sum of the last `rest.len() < 8`
/// bytes of a block, starting at an even offset.
#[inline(always)]
fn sum_tail_ne(mut rest: &[u8]) -> u64 {
    // Any native-endian 16- or 32-bit read at an even offset adds its
    // 16-bit words (mod 0xffff), and a lone last byte is read as the word
    // [byte, 0]: the high half in big-endian terms, as RFC 1071 pads odd
    // lengths.
    let mut acc = 0u64;
    if let [a, b, c, d, tail @ ..] = rest {
        acc += u64::from(u32::from_ne_bytes([*a, *b, *c, *d]));
        rest = tail;
    }
    if let [a, b, tail @ ..] = rest {
        acc += u64::from(u16::from_ne_bytes([*a, *b]));
        rest = tail;
    }
    if let [a] = rest {
        acc += u64::from(u16::from_ne_bytes([*a, 0]));
    }
    acc
}

/// An eight-byte chunk as an array.
#[inline(always)]
fn word(chunk: &[u8]) -> [u8; 8] {
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    word
}

/// The native-endian ones' complement sum of `block` (at most [`BLOCK`]
/// bytes, starting at an even offset of the message), not yet folded.
fn sum_block_ne(block: &[u8]) -> u64 {
    let mut sum = Sum::ZERO;
    let mut words = block.chunks_exact(8);
    for w in &mut words {
        sum.add_word(word(w));
    }
    sum.value() + sum_tail_ne(words.remainder())
}

/// Copies `src` into `dst` (the same length) and returns the same
/// native-endian sum as [`sum_block_ne`] over it, in one pass.
#[inline(always)]
fn copy_and_sum_block_ne(dst: &mut [u8], src: &[u8]) -> u64 {
    let mut sum = Sum::ZERO;
    let mut dst_words = dst.chunks_exact_mut(8);
    let mut src_words = src.chunks_exact(8);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        let w = word(s);
        d.copy_from_slice(&w);
        sum.add_word(w);
    }
    let (dst_rest, src_rest) = (dst_words.into_remainder(), src_words.remainder());
    let n = dst_rest.len().min(src_rest.len());
    dst_rest[..n].copy_from_slice(&src_rest[..n]);
    sum.value() + sum_tail_ne(src_rest)
}

/// Lengths up to which [`data`] sums inline, eight bytes at a time with
/// the carry chained: protocol headers, and small segments with them (a
/// 64-byte request and its 32-byte header), for which a call and the
/// set-up of the vectorised loop cost more than the words. Measured on
/// x86-64: the chain is faster up to about 192 bytes (4.8 ns against 6.6
/// for 96), slower from 256.
const SHORT: usize = 160;

/// The ones' complement sum of `data` as big-endian 16-bit words (an odd
/// last byte is padded with a zero), folded to 16 bits, not complemented.
///
/// Works on any length and alignment. To sum a message in parts, every
/// part but the last must have an even length (see [`combine`]).
#[inline]
pub fn data(data: &[u8]) -> u16 {
    if data.len() <= SHORT {
        // Eight bytes at a time with the carry added back in (end-around
        // carry: the sum modulo 2^64 - 1, a multiple of 0xffff). The carry
        // chain keeps the compiler from vectorising a loop this short.
        // `sum + carry` cannot overflow: after a carry the sum is at most
        // 2^64 - 2. Only all-zero input leaves 0, as with an exact sum.
        let mut words = data.chunks_exact(8);
        let mut acc = 0u64;
        for w in &mut words {
            let (sum, carry) = acc.overflowing_add(u64::from_ne_bytes(word(w)));
            acc = sum + u64::from(carry);
        }
        let (sum, carry) = acc.overflowing_add(sum_tail_ne(words.remainder()));
        u16::from_be(fold(sum + u64::from(carry)))
    } else {
        data_long(data)
    }
}

/// [`data`] for longer input: eight bytes at a time, vectorised.
#[inline(never)]
fn data_long(data: &[u8]) -> u16 {
    let folded = if data.len() <= BLOCK {
        fold(sum_block_ne(data))
    } else {
        let mut acc = 0u64;
        for block in data.chunks(BLOCK) {
            acc += u64::from(fold(sum_block_ne(block)));
        }
        fold(acc)
    };
    // The native-endian sum is the big-endian sum with its bytes swapped on
    // little-endian machines (RFC 1071 2(B)); `from_be` undoes exactly that.
    u16::from_be(folded)
}

/// Payload length from which the network stack sums a payload while
/// copying it ([`copy_and_sum`]) rather than copying it and then summing
/// it with its header in one [`data`] call: below it the separate calls
/// are as fast (measured on x86-64: equal at 128 bytes, twice as slow at
/// 256) and the split costs an extra header sum.
pub(crate) const COPY_AND_SUM_MIN: usize = 256;

/// Copies `src` into the start of `dst` and returns `data(src)`: one pass
/// over the bytes instead of a copy and then a sum. Copies and sums only
/// `min(dst.len(), src.len())` bytes (equal lengths are the intended use).
pub fn copy_and_sum(dst: &mut [u8], src: &[u8]) -> u16 {
    let n = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..n], &src[..n]);
    let folded = if n <= BLOCK {
        fold(copy_and_sum_block_ne(dst, src))
    } else {
        let mut acc = 0u64;
        for (d, s) in dst.chunks_mut(BLOCK).zip(src.chunks(BLOCK)) {
            acc += u64::from(fold(copy_and_sum_block_ne(d, s)));
        }
        fold(acc)
    };
    u16::from_be(folded)
}

/// The contribution to a message's sum of bytes whose sum is `sum` and
/// which start at `offset` in the message: at an odd offset every byte
/// sits in the other half of its 16-bit word, which swaps the sum's bytes
/// (RFC 1071 section 2(B)). `combine(&[data(a), at_offset(data(b),
/// a.len())])` is the sum of `a` followed by `b` for any length of `a`.
pub const fn at_offset(sum: u16, offset: usize) -> u16 {
    if offset % 2 == 0 {
        sum
    } else {
        sum.swap_bytes()
    }
}

/// Adds partial sums (ones' complement addition).
#[inline]
pub fn combine(sums: &[u16]) -> u16 {
    let mut acc = 0u64;
    for &s in sums {
        acc += u64::from(s);
    }
    fold(acc)
}

/// The checksum to put on the wire for a sum: its complement.
pub const fn finish(sum: u16) -> u16 {
    !sum
}

/// Whether a sum taken over a header *including* its checksum field
/// verifies.
pub const fn is_valid(sum: u16) -> bool {
    sum == 0xffff
}

/// Whether a message verifies whose checksum is still owed: `head_sum`
/// is the sum of everything before `rest` (for TCP the pseudo-header and
/// the header, `rest` the payload), `None` when the message was verified
/// already.
#[inline]
pub(crate) fn owed_sum_verifies(head_sum: Option<u16>, rest: &[u8]) -> bool {
    head_sum.is_none_or(|sum| is_valid(combine(&[sum, data(rest)])))
}

/// The checksum of `bytes`: `finish(data(bytes))`.
pub fn checksum(bytes: &[u8]) -> u16 {
    finish(data(bytes))
}

/// The sum of the IPv4 pseudo-header that UDP and TCP checksums cover:
/// source, destination, zero, protocol, upper-layer length.
#[inline]
pub fn pseudo_header_v4(src: &Ipv4Address, dst: &Ipv4Address, protocol: IpProtocol, length: u16) -> u16 {
    // Six 16-bit words added in a u64 (no carry is lost), folded once.
    let s = u32::from_be_bytes(src.0);
    let d = u32::from_be_bytes(dst.0);
    let acc = u64::from(s >> 16)
        + u64::from(s & 0xffff)
        + u64::from(d >> 16)
        + u64::from(d & 0xffff)
        + u64::from(u8::from(protocol))
        + u64::from(length);
    fold(acc)
}

/// The sum of the IPv6 pseudo-header (RFC 8200 section 8.1): source,
/// destination, 32-bit upper-layer length, zeros, next header.
pub fn pseudo_header_v6(src: &Ipv6Address, dst: &Ipv6Address, next_header: IpProtocol, length: u32) -> u16 {
    combine(&[
        data(src.as_bytes()),
        data(dst.as_bytes()),
        (length >> 16) as u16,
        length as u16,
        u16::from(u8::from(next_header)),
    ])
}

/// The pseudo-header sum for either family. `length` is the upper-layer
/// length; for IPv4 only its low 16 bits count (the field is 16 bits).
///
/// Mixed families are a caller bug: the addresses are then summed as given
/// (IPv4 ones as their four bytes), which yields a sum that will not verify
/// at any receiver, rather than a panic.
#[inline]
pub fn pseudo_header(src: &IpAddress, dst: &IpAddress, protocol: IpProtocol, length: u32) -> u16 {
    match (src, dst) {
        (IpAddress::V4(s), IpAddress::V4(d)) => pseudo_header_v4(s, d, protocol, length as u16),
        (IpAddress::V6(s), IpAddress::V6(d)) => pseudo_header_v6(s, d, protocol, length),
        (s, d) => combine(&[
            address_sum(s),
            address_sum(d),
            (length >> 16) as u16,
            length as u16,
            u16::from(u8::from(protocol)),
        ]),
    }
}

fn address_sum(addr: &IpAddress) -> u16 {
    match addr {
        IpAddress::V4(a) => data(a.as_bytes()),
        IpAddress::V6(a) => data(a.as_bytes()),
    }
}

/// RFC 1624 incremental update: the new checksum after one 16-bit word of
/// the covered data changes from `old_word` to `new_word`.
///
/// Uses eqn. 3, `HC' = ~(~HC + ~m + m')`, which (unlike RFC 1141's eqn. 2)
/// gives exactly what a full recomputation gives, except when the covered
/// data becomes all zeros (never the case for an IP header: its version
/// nibble is non-zero).
pub fn update(old_checksum: u16, old_word: u16, new_word: u16) -> u16 {
    !combine(&[!old_checksum, !old_word, new_word])
}

/// [`update`] for a 32-bit field (an IPv4 address, a TCP sequence number).
pub fn update_u32(old_checksum: u16, old_value: u32, new_value: u32) -> u16 {
    let c = update(old_checksum, (old_value >> 16) as u16, (new_value >> 16) as u16);
    update(c, old_value as u16, new_value as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte-pair reference straight from RFC 1071's description.
    fn reference(bytes: &[u8]) -> u16 {
        let mut acc: u64 = 0;
        let mut i = 0;
        while i + 1 < bytes.len() {
            acc += u64::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
            i += 2;
        }
        if i < bytes.len() {
            acc += u64::from(bytes[i]) << 8;
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    /// xorshift64*: enough randomness for a property test, no crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn rfc1071_example() {
        // Section 3: words 0001 f203 f4f5 f6f7 sum to 0xddf2.
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(data(&bytes), 0xddf2);
        assert_eq!(checksum(&bytes), 0x220d);
    }

    #[test]
    fn captured_ipv4_header() {
        // A real header (Wikipedia's worked example), checksum 0xb861.
        let mut header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        assert!(is_valid(data(&header)));
        header[10] = 0;
        header[11] = 0;
        assert_eq!(checksum(&header), 0xb861);
    }

    #[test]
    fn captured_ipv4_header_with_carries() {
        // A ping header 10.0.2.2 -> 10.0.2.15 whose sum carries several
        // times; 0x2f4a was computed independently (by hand, in Python).
        let header = [
            0x45, 0x00, 0x00, 0x54, 0xf3, 0x4e, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00,
            0x02, 0x0f,
        ];
        assert_eq!(checksum(&header), 0x2f4a);
        assert_eq!(checksum(&header), reference_checksum(&header));
        let mut with = header;
        let c = checksum(&header).to_be_bytes();
        with[10] = c[0];
        with[11] = c[1];
        assert!(is_valid(data(&with)));
    }

    fn reference_checksum(bytes: &[u8]) -> u16 {
        !reference(bytes)
    }

    #[test]
    fn odd_lengths_pad_high_byte() {
        assert_eq!(data(&[0xab]), 0xab00);
        assert_eq!(data(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        // Nine bytes: a whole word plus one tail byte.
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(data(&bytes), reference(&bytes));
    }

    #[test]
    fn zero_and_ffff_edges() {
        assert_eq!(data(&[]), 0);
        assert_eq!(data(&[0; 64]), 0);
        assert_eq!(checksum(&[0; 20]), 0xffff);
        // Ones' complement: any non-zero data never folds to +0.
        assert_eq!(data(&[0xff; 64]), 0xffff);
        assert_eq!(data(&[0xff, 0xff]), 0xffff);
        assert_eq!(checksum(&[0xff, 0xff]), 0);
        assert_eq!(data(&[0x80, 0x00, 0x7f, 0xff]), 0xffff);
        // A maximal carry chain: many 0xffff words with one 0x0001.
        let mut bytes = [0xffu8; 4098];
        bytes[4096] = 0;
        bytes[4097] = 1;
        assert_eq!(data(&bytes), reference(&bytes));
    }

    #[test]
    fn fast_path_matches_reference_on_random_input() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut buf = [0u8; 2100];
        for _ in 0..2000 {
            for b in buf.iter_mut() {
                *b = rng.next() as u8;
            }
            // Bias some buffers towards 0xff to exercise carries.
            if rng.next() % 4 == 0 {
                for b in buf.iter_mut() {
                    *b |= 0xfe;
                }
            }
            let start = (rng.next() % 17) as usize;
            let len = (rng.next() % 2080) as usize;
            let slice = &buf[start..start + len];
            assert_eq!(data(slice), reference(slice), "start {start} len {len}");
        }
    }

    /// Random bytes, a quarter of the buffers biased towards 0xff so that
    /// sums carry often.
    fn random_bytes(rng: &mut Rng, buf: &mut [u8]) {
        let biased = rng.next() % 4 == 0;
        for b in buf.iter_mut() {
            *b = rng.next() as u8 | if biased { 0xfe } else { 0 };
        }
    }

    #[test]
    fn copy_and_sum_matches_data_for_every_length_and_alignment() {
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        let mut src = [0u8; 2048 + 16];
        let mut dst = [0u8; 2048 + 16];
        for len in 0..=2048 {
            random_bytes(&mut rng, &mut src);
            for align in 0..8 {
                // Source and destination misaligned differently.
                let (s, d) = (align, (align * 3 + 1) % 8);
                dst.fill(0xa5);
                let piece = &src[s..s + len];
                let sum = copy_and_sum(&mut dst[d..d + len], piece);
                assert_eq!(sum, reference(piece), "len {len} align {align}");
                assert_eq!(sum, data(piece), "len {len} align {align}");
                assert_eq!(&dst[d..d + len], piece, "len {len} align {align}");
                // Not a byte outside the destination is touched.
                assert!(dst[..d].iter().chain(&dst[d + len..]).all(|&b| b == 0xa5), "len {len} align {align}");
            }
        }
    }

    #[test]
    fn copy_and_sum_copies_the_shorter_length() {
        let src = [1u8, 2, 3, 4, 5];
        let mut dst = [0u8; 3];
        assert_eq!(copy_and_sum(&mut dst, &src), reference(&src[..3]));
        assert_eq!(dst, [1, 2, 3]);
        let mut dst = [9u8; 8];
        assert_eq!(copy_and_sum(&mut dst, &src), reference(&src));
        assert_eq!(dst, [1, 2, 3, 4, 5, 9, 9, 9]);
        assert_eq!(copy_and_sum(&mut [], &src), 0);
    }

    #[test]
    fn copy_and_sum_crosses_blocks() {
        // `BLOCK` is 1 KiB under test: lengths around its multiples.
        let mut rng = Rng(7);
        let mut src = [0u8; 3 * BLOCK + 9];
        let mut dst = [0u8; 3 * BLOCK + 9];
        random_bytes(&mut rng, &mut src);
        for len in [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 7, 3 * BLOCK + 9] {
            assert_eq!(copy_and_sum(&mut dst[..len], &src[..len]), reference(&src[..len]), "len {len}");
            assert_eq!(dst[..len], src[..len]);
        }
    }

    #[test]
    fn two_pieces_sum_like_one_at_every_split() {
        // A payload split in two (a ring buffer's wrap) at any point, odd
        // ones included: the second piece's sum shifted by the first's
        // length combines to the whole.
        let mut rng = Rng(0xdead_beef);
        let mut bytes = [0u8; 2048 + 1];
        let mut out = [0u8; 2048 + 1];
        for len in 0..=2048usize {
            random_bytes(&mut rng, &mut bytes[..len]);
            let whole = reference(&bytes[..len]);
            // Every split for short payloads, a sample for long ones.
            let splits: &mut dyn Iterator<Item = usize> = if len <= 96 {
                &mut (0..=len)
            } else {
                &mut [0, 1, 2, 3, 7, 8, 9, 31, 32, 33, len / 2, len / 2 + 1, len - 1, len]
                    .into_iter()
                    .chain((0..4).map(|_| (rng.next() as usize) % (len + 1)))
            };
            for split in splits {
                let (a, b) = bytes[..len].split_at(split);
                let (out_a, out_b) = out[..len].split_at_mut(split);
                let sum = combine(&[copy_and_sum(out_a, a), at_offset(copy_and_sum(out_b, b), a.len())]);
                assert_eq!(sum, whole, "len {len} split {split}");
                assert_eq!(combine(&[data(a), at_offset(data(b), split)]), whole, "len {len} split {split}");
                assert_eq!(out[..len], bytes[..len]);
            }
        }
    }

    #[test]
    fn owed_sum_verifies_only_a_message_whose_sum_completes() {
        // A message with its checksum in the first two bytes, checked as a
        // head already summed and the rest still owed.
        let mut msg = [0u8, 0, 0x45, 0x00, 0x12, 0x34, 0xab];
        let sum = checksum(&msg);
        msg[..2].copy_from_slice(&sum.to_be_bytes());
        let (head, rest) = msg.split_at(4);
        assert!(owed_sum_verifies(Some(data(head)), rest));
        let mut bad = [0u8; 3];
        bad.copy_from_slice(rest);
        bad[2] ^= 0x01;
        assert!(!owed_sum_verifies(Some(data(head)), &bad));
        // Nothing owed: verified before.
        assert!(owed_sum_verifies(None, &bad));
    }

    #[test]
    fn combine_matches_whole() {
        let bytes: [u8; 37] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        let (a, b) = bytes.split_at(16);
        assert_eq!(combine(&[data(a), data(b)]), data(&bytes));
        assert_eq!(combine(&[]), 0);
        assert_eq!(combine(&[0xffff, 0xffff]), 0xffff);
        assert_eq!(combine(&[0x8000, 0x8000]), 0x0001);
    }

    #[test]
    fn pseudo_header_v4_known_value() {
        let src = Ipv4Address::new(192, 168, 0, 1);
        let dst = Ipv4Address::new(192, 168, 0, 199);
        let bytes = [192, 168, 0, 1, 192, 168, 0, 199, 0, 17, 0x00, 0x5f];
        assert_eq!(pseudo_header_v4(&src, &dst, IpProtocol::Udp, 0x5f), reference(&bytes));
        assert_eq!(pseudo_header(&src.into(), &dst.into(), IpProtocol::Udp, 0x5f), reference(&bytes));
    }

    #[test]
    fn pseudo_header_v6_layout() {
        let mut s = [0u8; 16];
        s[0] = 0xfe;
        s[1] = 0x80;
        s[15] = 1;
        let mut d = [0u8; 16];
        d[0] = 0xff;
        d[1] = 0x02;
        d[15] = 0x16;
        let mut bytes = [0u8; 40];
        bytes[..16].copy_from_slice(&s);
        bytes[16..32].copy_from_slice(&d);
        bytes[32..36].copy_from_slice(&0x0001_0020u32.to_be_bytes());
        bytes[39] = 58;
        let (src, dst) = (Ipv6Address(s), Ipv6Address(d));
        assert_eq!(pseudo_header_v6(&src, &dst, IpProtocol::Icmpv6, 0x0001_0020), reference(&bytes));
        assert_eq!(pseudo_header(&src.into(), &dst.into(), IpProtocol::Icmpv6, 0x0001_0020), reference(&bytes));
    }

    #[test]
    fn incremental_update_matches_recompute() {
        let mut rng = Rng(42);
        for round in 0..2000 {
            let mut bytes = [0u8; 20];
            for b in bytes.iter_mut() {
                *b = rng.next() as u8;
            }
            // Some rounds with sparse data, so sums near 0 and 0xffff occur.
            if round % 3 == 0 {
                for b in bytes.iter_mut().skip(2) {
                    *b = 0;
                }
            }
            let old = checksum(&bytes);
            let at = (rng.next() % 10) as usize * 2;
            let old_word = u16::from_be_bytes([bytes[at], bytes[at + 1]]);
            let new_word = rng.next() as u16;
            bytes[at..at + 2].copy_from_slice(&new_word.to_be_bytes());
            let updated = update(old, old_word, new_word);
            assert_eq!(updated, checksum(&bytes));
        }
    }

    #[test]
    fn incremental_update_ttl_decrement() {
        // Decrement TTL in the captured header and compare exactly.
        let mut header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        let old = checksum(&header);
        header[8] = 0x3f;
        assert_eq!(update(old, 0x4011, 0x3f11), checksum(&header));
    }

    #[test]
    fn incremental_update_u32_address_rewrite() {
        let mut header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        let old = checksum(&header);
        header[12..16].copy_from_slice(&[10, 0, 2, 15]);
        let updated = update_u32(old, 0xc0a8_0001, 0x0a00_020f);
        assert_eq!(updated, checksum(&header));
    }
}
