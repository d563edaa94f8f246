//! `process_with_sum`: the socket sums a payload itself (in order: while
//! copying it into the receive buffer). Fed the same segments, it must
//! answer, send and deliver exactly what `process` does after a verified
//! checksum, and a segment whose sum fails must change nothing.

use super::*;
use crate::wire::tcp::Packet as TcpPacket;

/// The pseudo-header and header sum of the segment the peer sends.
fn header_sum(repr: &TcpRepr, payload: &[u8]) -> u16 {
    let repr = TcpRepr { payload_len: payload.len(), ..*repr };
    let mut bytes = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut bytes[..]), &REMOTE.addr, &LOCAL.addr, payload, true);
    TcpPacket::new_checked(&bytes[..]).unwrap().header_sum(&REMOTE.addr, &LOCAL.addr)
}

/// Feeds one segment through `process_with_sum`: (verified, answer).
fn send_unverified(
    s: &mut TcpSocket,
    now: Instant,
    repr: &TcpRepr,
    payload: &[u8],
    sum: u16,
) -> (bool, Option<TcpRepr>) {
    let repr = TcpRepr { payload_len: payload.len(), ..*repr };
    let mut verified = true;
    let reply = s.process_with_sum(now, LOCAL, REMOTE, &repr, payload, Some(sum), &mut verified);
    (verified, reply.map(|r| r.repr))
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed)).collect()
}

/// Segments that take every receive path: in order, out of order,
/// filling a hole, duplicate, partly duplicate, trimmed at the window,
/// wrapping the buffer, with FIN.
fn script() -> Vec<(TcpRepr, Vec<u8>)> {
    let at = |offset: u32| TcpRepr { seq_number: seq(10001 + offset), ..SEND };
    vec![
        (at(0), bytes(1000, 1)),
        (at(1500), bytes(500, 2)),
        (at(1000), bytes(500, 3)),
        (at(0), bytes(300, 4)),
        (at(1800), bytes(700, 5)),
        (at(2500), bytes(3000, 6)),
        (at(2500), bytes(100, 7)),
        // More than the window: trimmed (not copied before its sum).
        (at(5500), bytes(5000, 9)),
    ]
}

#[test]
fn process_with_sum_does_what_process_does() {
    let (mut plain, mut summed) = (established(), established());
    for (i, (repr, payload)) in script().into_iter().enumerate() {
        let now = ms(10 * i as i64);
        let expected = send(&mut plain, now, &repr, &payload);
        let (verified, reply) = send_unverified(&mut summed, now, &repr, &payload, header_sum(&repr, &payload));
        assert!(verified, "segment {i}");
        assert_eq!(reply, expected, "segment {i}");
        assert_eq!(recv_all(&mut summed, now), recv_all(&mut plain, now), "segment {i}");
        assert_eq!(app_recv(&mut summed), app_recv(&mut plain), "segment {i}");
        assert_eq!(summed.state(), plain.state());
    }
    // A FIN with data, after the buffer wrapped.
    let fin = TcpRepr { control: TcpControl::Fin, seq_number: seq(10001 + 5500 + BUF as u32), ..SEND };
    let data = bytes(2500, 8);
    let expected = send(&mut plain, ms(100), &fin, &data);
    let (verified, reply) = send_unverified(&mut summed, ms(100), &fin, &data, header_sum(&fin, &data));
    assert!(verified);
    assert_eq!(reply, expected);
    assert_eq!(app_recv(&mut summed), app_recv(&mut plain));
    assert_eq!((summed.state(), plain.state()), (State::CloseWait, State::CloseWait));
    assert_eq!(recv_all(&mut summed, ms(200)), recv_all(&mut plain, ms(200)));
}

#[test]
fn a_failed_sum_changes_nothing() {
    let (mut plain, mut summed) = (established(), established());
    for (i, (repr, payload)) in script().into_iter().enumerate() {
        let now = ms(10 * i as i64);
        // First corrupt (one bit of the payload, or of the header sum),
        // then intact: the corrupt copy must leave no trace.
        let sum = header_sum(&repr, &payload);
        let mut corrupt = payload.clone();
        corrupt[payload.len() / 3] ^= 0x04;
        assert_eq!(send_unverified(&mut summed, now, &repr, &corrupt, sum), (false, None), "segment {i}");
        assert_eq!(send_unverified(&mut summed, now, &repr, &payload, sum ^ 0x0100), (false, None), "segment {i}");
        assert_eq!(summed.recv_queue(), plain.recv_queue(), "segment {i}");
        let expected = send(&mut plain, now, &repr, &payload);
        assert_eq!(send_unverified(&mut summed, now, &repr, &payload, sum), (true, expected), "segment {i}");
        assert_eq!(recv_all(&mut summed, now), recv_all(&mut plain, now), "segment {i}");
        assert_eq!(app_recv(&mut summed), app_recv(&mut plain), "segment {i}");
    }
    // An RST that fails its sum does not reset.
    let rst = TcpRepr { control: TcpControl::Rst, seq_number: seq(10001 + 5500 + BUF as u32), ..SEND };
    assert_eq!(send_unverified(&mut summed, ms(100), &rst, &[], header_sum(&rst, &[]) ^ 1), (false, None));
    assert_eq!(summed.state(), State::Established);
}
