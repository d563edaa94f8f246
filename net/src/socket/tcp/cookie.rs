//! SYN cookies: a stateless answer to a SYN when the SYN queue is full.
//!
//! The SYN-ACK's sequence number carries everything needed to rebuild the
//! connection when the client's ACK comes back:
//!
//! ```text
//!  31      27 26  24 23                      0
//! +----------+------+-------------------------+
//! | time (5) | MSS  |  keyed hash (24 bits)   |
//! +----------+------+-------------------------+
//! ```
//!
//! `time` counts 64-second periods (a cookie is good for one to two
//! periods), `MSS` indexes a table of common values, and the hash (SipHash
//! keyed by the embedder's secret) covers the 4-tuple, the client's ISN,
//! the time and the MSS index, so a cookie cannot be forged or replayed on
//! another connection. When the client offered timestamps, the window
//! scale and SACK-permitted options ride in the low bits of our TSval and
//! come back in its TSecr.

use super::isn::siphash24;
use crate::time::Instant;
use crate::wire::tcp::SeqNumber;
use crate::wire::{IpAddress, IpEndpoint};

/// MSS values a cookie can express (the largest not above the peer's is
/// used).
pub const MSS_TABLE: [u16; 8] = [536, 1220, 1360, 1440, 1452, 1460, 4312, 8960];

/// Length of one cookie time period in seconds.
const PERIOD_SECS: i64 = 64;
/// Periods a cookie stays valid after the one it was made in.
const MAX_AGE: u32 = 1;

fn period(now: Instant) -> u32 {
    (now.total_micros().max(0) / 1_000_000 / PERIOD_SECS) as u32
}

fn hash(secret: &[u8; 16], local: IpEndpoint, remote: IpEndpoint, irs: SeqNumber, time: u32, mss_index: u8) -> u32 {
    let mut message = [0u8; 1 + 2 * 18 + 4 + 4 + 1];
    message[0] = 2;
    let mut at = 1;
    for ep in [local, remote] {
        let addr: &[u8] = match &ep.addr {
            IpAddress::V4(a) => a.as_bytes(),
            IpAddress::V6(a) => a.as_bytes(),
        };
        message[at..at + addr.len()].copy_from_slice(addr);
        at += 16;
        message[at..at + 2].copy_from_slice(&ep.port.to_be_bytes());
        at += 2;
    }
    message[at..at + 4].copy_from_slice(&irs.0.to_be_bytes());
    message[at + 4..at + 8].copy_from_slice(&time.to_be_bytes());
    message[at + 8] = mss_index;
    siphash24(secret, &message) as u32 & 0x00ff_ffff
}

/// The cookie ISN for a SYN with sequence number `irs` and MSS option
/// `peer_mss`; also returns the MSS the cookie encodes.
pub fn make(
    secret: &[u8; 16],
    local: IpEndpoint,
    remote: IpEndpoint,
    irs: SeqNumber,
    peer_mss: u16,
    now: Instant,
) -> (SeqNumber, u16) {
    let index = MSS_TABLE.iter().rposition(|&m| m <= peer_mss).unwrap_or(0);
    let time = period(now);
    let h = hash(secret, local, remote, irs, time & 0x1f, index as u8);
    let cookie = ((time & 0x1f) << 27) | ((index as u32) << 24) | h;
    (SeqNumber(cookie), MSS_TABLE[index])
}

/// Checks the cookie `ack - 1` of an ACK whose sequence number is
/// `seq` (so the client's ISN was `seq - 1`); returns the encoded MSS.
pub fn check(
    secret: &[u8; 16],
    local: IpEndpoint,
    remote: IpEndpoint,
    seq: SeqNumber,
    ack: SeqNumber,
    now: Instant,
) -> Option<u16> {
    if !is_current(ack, now) {
        return None;
    }
    let cookie = (ack - 1).0;
    let time_bits = cookie >> 27;
    let index = ((cookie >> 24) & 7) as u8;
    (hash(secret, local, remote, seq - 1, time_bits, index) == cookie & 0x00ff_ffff)
        .then_some(MSS_TABLE[usize::from(index)])
}

/// Whether `ack - 1`, read as a cookie, was made within its lifetime (what
/// can be told of an ACK without the client's ISN).
pub fn is_current(ack: SeqNumber, now: Instant) -> bool {
    let time_bits = (ack - 1).0 >> 27;
    period(now).wrapping_sub(time_bits) & 0x1f <= MAX_AGE
}

/// Whether a cookie made at `made` is still within its lifetime at `now`.
pub fn within_lifetime(made: Instant, now: Instant) -> bool {
    period(now).wrapping_sub(period(made)) <= MAX_AGE
}

/// Options folded into the low bits of the SYN-ACK's TSval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOptions {
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
}

const TS_BITS: u32 = 0x1f;

impl TimestampOptions {
    /// `tsval` with its low five bits replaced by the options.
    pub fn encode(&self, tsval: u32) -> u32 {
        let ws = u32::from(self.window_scale.map_or(15, |s| s.min(14)));
        (tsval & !TS_BITS) | ws | (u32::from(self.sack_permitted) << 4)
    }
    pub fn decode(tsecr: u32) -> TimestampOptions {
        let ws = (tsecr & 0xf) as u8;
        TimestampOptions { window_scale: (ws != 15).then_some(ws), sack_permitted: tsecr & 0x10 != 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use crate::wire::Ipv4Address;

    const KEY: [u8; 16] = [5; 16];

    fn ep(last: u8, port: u16) -> IpEndpoint {
        IpEndpoint::new(Ipv4Address::new(10, 0, 0, last).into(), port)
    }

    #[test]
    fn cookie_round_trip() {
        let now = Instant::from_secs(1000);
        let irs = SeqNumber(12345);
        let (cookie, mss) = make(&KEY, ep(1, 80), ep(2, 5000), irs, 1460, now);
        assert_eq!(mss, 1460);
        let later = now + Duration::from_secs(30);
        assert_eq!(check(&KEY, ep(1, 80), ep(2, 5000), irs + 1, cookie + 1, later), Some(1460));
    }

    #[test]
    fn mss_rounded_down_to_table() {
        let now = Instant::from_secs(5);
        let (cookie, mss) = make(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(1), 1400, now);
        assert_eq!(mss, 1360);
        assert_eq!(check(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(2), cookie + 1, now), Some(1360));
        let (_, mss) = make(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(1), 100, now);
        assert_eq!(mss, 536);
    }

    #[test]
    fn cookie_bound_to_tuple_isn_and_secret() {
        let now = Instant::from_secs(1000);
        let (cookie, _) = make(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(7), 1460, now);
        let ack = cookie + 1;
        assert!(check(&KEY, ep(1, 80), ep(2, 5001), SeqNumber(8), ack, now).is_none());
        assert!(check(&KEY, ep(1, 80), ep(3, 5000), SeqNumber(8), ack, now).is_none());
        assert!(check(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(9), ack, now).is_none());
        assert!(check(&[6; 16], ep(1, 80), ep(2, 5000), SeqNumber(8), ack, now).is_none());
        assert!(check(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(8), ack + 1, now).is_none());
        // Tampering with the MSS bits breaks the hash.
        let tampered = SeqNumber(cookie.0 ^ (1 << 24)) + 1;
        assert!(check(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(8), tampered, now).is_none());
    }

    #[test]
    fn cookie_expires() {
        let now = Instant::from_secs(640);
        let (cookie, _) = make(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(7), 1460, now);
        let ok = now + Duration::from_secs(127);
        assert!(check(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(8), cookie + 1, ok).is_some());
        let late = now + Duration::from_secs(128);
        assert!(check(&KEY, ep(1, 80), ep(2, 5000), SeqNumber(8), cookie + 1, late).is_none());
    }

    #[test]
    fn options_ride_in_timestamp() {
        let o = TimestampOptions { window_scale: Some(7), sack_permitted: true };
        let tsval = o.encode(0xabcd_ef00);
        assert_eq!(tsval, 0xabcd_ef00 | 7 | 0x10);
        assert_eq!(TimestampOptions::decode(tsval), o);
        let none = TimestampOptions { window_scale: None, sack_permitted: false };
        assert_eq!(TimestampOptions::decode(none.encode(0xffff_ffff)), none);
    }
}
