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
    let k0 = u64::from_le_bytes([key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7]]);
    let k1 = u64::from_le_bytes([key[8], key[9], key[10], key[11], key[12], key[13], key[14], key[15]]);
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
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
    let compress = |v: &mut [u64; 4], m: u64| {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    };
    let mut chunks = message.chunks_exact(8);
    for c in &mut chunks {
        compress(&mut v, u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
    }
    let mut last = [0u8; 8];
    let rest = chunks.remainder();
    last[..rest.len()].copy_from_slice(rest);
    last[7] = message.len() as u8;
    compress(&mut v, u64::from_le_bytes(last));
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// Hash of a connection's 4-tuple with a one-byte purpose tag (so the same
/// secret can key several independent values). The message is as short as
/// the addresses allow (13 bytes for IPv4: two SipHash blocks), with the
/// families in it so no two tuples share a message.
pub fn tuple_hash(secret: &[u8; 16], local: IpEndpoint, remote: IpEndpoint, tag: u8) -> u64 {
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
