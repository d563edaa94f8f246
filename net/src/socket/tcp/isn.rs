//! Initial sequence numbers by RFC 6528: a keyed hash of the connection's
//! 4-tuple plus a clock that ticks every 4 microseconds.
//!
//! The hash is SipHash-2-4 with a 128-bit secret the embedder provides, so
//! an off-path attacker who sees one connection's ISN learns nothing about
//! another 4-tuple's, while a reused 4-tuple still gets increasing ISNs.

use crate::time::Instant;
use crate::wire::tcp::SeqNumber;
use crate::wire::{IpAddress, IpEndpoint};

/// SipHash-2-4 of `message` under `key`.
pub fn siphash24(key: &[u8; 16], message: &[u8]) -> u64 {
    let mut sip = SipHash24::new(key);
    let mut chunks = message.chunks_exact(8);
    for c in &mut chunks {
        sip.compress(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[7] = message.len() as u8;
    sip.finish(u64::from_le_bytes(last))
}

/// SipHash-2-4 fed whole little-endian 64-bit words, so a caller whose
/// message has a fixed layout builds the words without a byte buffer.
struct SipHash24 {
    v: [u64; 4],
}

impl SipHash24 {
    #[inline]
    fn new(key: &[u8; 16]) -> SipHash24 {
        let k0 = u64::from_le_bytes([key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7]]);
        let k1 = u64::from_le_bytes([key[8], key[9], key[10], key[11], key[12], key[13], key[14], key[15]]);
        SipHash24 {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
        }
    }

    #[inline]
    fn round(&mut self) {
        let v = &mut self.v;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    /// One full 8-byte block of the message.
    #[inline]
    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        self.round();
        self.round();
        self.v[0] ^= m;
    }

    /// The hash, given the last block: the message's final 0 to 7 bytes,
    /// zero-padded, with its length (mod 256) in the top byte.
    #[inline]
    fn finish(mut self, last: u64) -> u64 {
        self.compress(last);
        self.v[2] ^= 0xff;
        for _ in 0..4 {
            self.round();
        }
        self.v[0] ^ self.v[1] ^ self.v[2] ^ self.v[3]
    }
}

/// Hash of a connection's 4-tuple with a one-byte purpose tag (so the same
/// secret can key several independent values). The message is as short as
/// the addresses allow (14 bytes for IPv4: two SipHash blocks), with the
/// families in it so no two tuples share a message.
pub fn tuple_hash(secret: &[u8; 16], local: IpEndpoint, remote: IpEndpoint, tag: u8) -> u64 {
    if let (IpAddress::V4(l), IpAddress::V4(r)) = (&local.addr, &remote.addr) {
        // The IPv4 message as its two words (the same bytes as below:
        // tag, no family bits, then each address and port, and the length).
        let [l0, l1, l2, l3] = l.0;
        let [r0, r1, r2, r3] = r.0;
        let [lp0, lp1] = local.port.to_be_bytes();
        let [rp0, rp1] = remote.port.to_be_bytes();
        let mut sip = SipHash24::new(secret);
        sip.compress(u64::from_le_bytes([tag, 0, l0, l1, l2, l3, lp0, lp1]));
        return sip.finish(u64::from_le_bytes([r0, r1, r2, r3, rp0, rp1, 0, 14]));
    }
    let mut message = [0u8; 2 + 2 * (16 + 2)];
    message[0] = tag;
    let mut at = 2;
    for (i, ep) in [local, remote].into_iter().enumerate() {
        let addr: &[u8] = match &ep.addr {
            IpAddress::V4(a) => a.as_bytes(),
            IpAddress::V6(a) => {
                message[1] |= 1 << i;
                a.as_bytes()
            }
        };
        message[at..at + addr.len()].copy_from_slice(addr);
        at += addr.len();
        message[at..at + 2].copy_from_slice(&ep.port.to_be_bytes());
        at += 2;
    }
    siphash24(secret, &message[..at])
}

/// The RFC 6528 initial sequence number for a connection opened at `now`.
pub fn initial_sequence_number(secret: &[u8; 16], local: IpEndpoint, remote: IpEndpoint, now: Instant) -> SeqNumber {
    isn_and_ts_offset(secret, local, remote, now).0
}

/// The initial sequence number and the timestamp offset of a connection,
/// from one keyed hash: its low half keys the ISN, its high half the
/// offset. The halves of a pseudo-random function's output are
/// independent, so seeing one tells nothing about the other, and neither
/// tells anything about another 4-tuple.
pub(crate) fn isn_and_ts_offset(
    secret: &[u8; 16],
    local: IpEndpoint,
    remote: IpEndpoint,
    now: Instant,
) -> (SeqNumber, u32) {
    let hash = tuple_hash(secret, local, remote, 0);
    let clock = (now.total_micros() / 4) as u32;
    (SeqNumber((hash as u32).wrapping_add(clock)), (hash >> 32) as u32)
}

/// The timestamp offset of a connection (see [`isn_and_ts_offset`]).
pub(crate) fn ts_offset(secret: &[u8; 16], local: IpEndpoint, remote: IpEndpoint) -> u32 {
    (tuple_hash(secret, local, remote, 0) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Ipv4Address;

    const KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    #[test]
    fn siphash_reference_vectors() {
        // From the SipHash paper's reference implementation (vectors.h).
        assert_eq!(siphash24(&KEY, &[]), 0x726f_db47_dd0e_0e31);
        let msg: [u8; 15] = core::array::from_fn(|i| i as u8);
        assert_eq!(siphash24(&KEY, &msg), 0xa129_ca61_49be_45e5);
        let msg: [u8; 8] = core::array::from_fn(|i| i as u8);
        assert_eq!(siphash24(&KEY, &msg), 0x93f5_f579_9a93_2462);
    }

    fn ep(last: u8, port: u16) -> IpEndpoint {
        IpEndpoint::new(Ipv4Address::new(10, 0, 0, last).into(), port)
    }

    #[test]
    fn isn_depends_on_tuple_secret_and_clock() {
        let t = Instant::from_secs(1);
        let a = initial_sequence_number(&KEY, ep(1, 80), ep(2, 5000), t);
        assert_ne!(a, initial_sequence_number(&KEY, ep(1, 80), ep(2, 5001), t));
        assert_ne!(a, initial_sequence_number(&KEY, ep(2, 5000), ep(1, 80), t));
        assert_ne!(a, initial_sequence_number(&[9; 16], ep(1, 80), ep(2, 5000), t));
        // 4 us ticks: 400 us later is 100 further on.
        let later = initial_sequence_number(&KEY, ep(1, 80), ep(2, 5000), t + crate::time::Duration::from_micros(400));
        assert_eq!(later.diff(a), 100);
    }

    #[test]
    fn ipv4_tuple_hash_is_siphash_of_the_tuple_message() {
        let (local, remote) = (ep(1, 80), IpEndpoint::new(Ipv4Address::new(192, 168, 7, 9).into(), 0xa1b2));
        let message = [3, 0, 10, 0, 0, 1, 0, 80, 192, 168, 7, 9, 0xa1, 0xb2];
        assert_eq!(tuple_hash(&KEY, local, remote, 3), siphash24(&KEY, &message));
    }

    #[test]
    fn isn_and_timestamp_offset_are_the_two_halves_of_one_hash() {
        let t = Instant::from_secs(3);
        let (isn, offset) = isn_and_ts_offset(&KEY, ep(1, 80), ep(2, 5000), t);
        let hash = tuple_hash(&KEY, ep(1, 80), ep(2, 5000), 0);
        assert_eq!(isn, SeqNumber((hash as u32).wrapping_add(750_000)));
        assert_eq!(offset, (hash >> 32) as u32);
        assert_eq!(isn, initial_sequence_number(&KEY, ep(1, 80), ep(2, 5000), t));
        assert_eq!(offset, ts_offset(&KEY, ep(1, 80), ep(2, 5000)));
        assert_ne!(offset, ts_offset(&KEY, ep(1, 80), ep(2, 5001)));
        // The same address bytes in another family are another message.
        let v6 =
            IpEndpoint::new(crate::wire::Ipv6Address([10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).into(), 80);
        assert_ne!(tuple_hash(&KEY, v6, ep(2, 5000), 0), tuple_hash(&KEY, ep(1, 80), ep(2, 5000), 0));
    }
}
