//! Out-of-order segments and hole filling over the receive ring.

use super::*;

fn at(n: u32) -> TcpRepr {
    TcpRepr { seq_number: seq(10001 + n), ..SEND }
}

#[test]
fn out_of_order_segment_acked_at_once_and_held() {
    let mut s = established();
    assert_eq!(send(&mut s, ms(0), &at(10), &pattern(10, 10)), Some(RECV));
    assert_eq!(s.recv_queue(), 0);
    assert!(!s.can_recv());
}

#[test]
fn filling_the_hole_delivers_everything_and_acks_at_once() {
    let mut s = established();
    send(&mut s, ms(0), &at(10), &pattern(10, 10));
    assert_eq!(
        send(&mut s, ms(1), &at(0), &pattern(0, 10)),
        Some(TcpRepr { ack_number: Some(seq(10021)), window_len: 4076, ..RECV })
    );
    assert_eq!(app_recv(&mut s), pattern(0, 20));
}

#[test]
fn several_holes_filled_in_any_order() {
    let mut s = established();
    for i in [5u32, 1, 7, 3] {
        send(&mut s, ms(0), &at(i * 10), &pattern(i as usize * 10, 10));
    }
    assert_eq!(s.recv_queue(), 0);
    for i in [6u32, 2, 4] {
        send(&mut s, ms(0), &at(i * 10), &pattern(i as usize * 10, 10));
        assert_eq!(s.recv_queue(), 0);
    }
    send(&mut s, ms(0), &at(0), &pattern(0, 10));
    assert_eq!(app_recv(&mut s), pattern(0, 80));
}

#[test]
fn overlapping_segments_merge() {
    let mut s = established();
    send(&mut s, ms(0), &at(5), &pattern(5, 10));
    send(&mut s, ms(0), &at(10), &pattern(10, 10));
    send(&mut s, ms(0), &at(3), &pattern(3, 4));
    send(&mut s, ms(0), &at(0), &pattern(0, 6));
    assert_eq!(app_recv(&mut s), pattern(0, 20));
}

#[test]
fn hole_count_is_bounded() {
    let mut s = established();
    for i in 0..MAX_REASSEMBLY_RANGES as u32 {
        send(&mut s, ms(0), &at(10 + i * 10), &pattern(10 + i as usize * 10, 5));
    }
    // One more disjoint range does not fit: dropped, but still ACKed.
    assert_eq!(send(&mut s, ms(0), &at(1000), &pattern(1000, 5)), Some(RECV));
    assert_eq!(s.assembler.ranges().len(), MAX_REASSEMBLY_RANGES);
    // In-order data is always taken.
    send(&mut s, ms(0), &at(0), &pattern(0, 10));
    assert_eq!(app_recv(&mut s), pattern(0, 15));
}

#[test]
fn out_of_order_data_beyond_window_trimmed() {
    let mut s = socket_with(plain_config(), 64, 64);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &SEND, &[]);
    send(&mut s, ms(0), &at(60), &pattern(60, 10));
    send(&mut s, ms(0), &at(0), &pattern(0, 60));
    assert_eq!(app_recv(&mut s), pattern(0, 64));
}

#[test]
fn out_of_order_then_read_keeps_offsets() {
    let mut s = established();
    send(&mut s, ms(0), &at(0), &pattern(0, 100));
    send(&mut s, ms(0), &at(200), &pattern(200, 50));
    assert_eq!(app_recv(&mut s), pattern(0, 100));
    send(&mut s, ms(0), &at(100), &pattern(100, 100));
    assert_eq!(app_recv(&mut s), pattern(100, 150));
}

#[test]
fn out_of_order_across_ring_wrap() {
    let mut s = socket_with(plain_config(), 64, 64);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &SEND, &[]);
    send(&mut s, ms(0), &at(0), &pattern(0, 50));
    assert_eq!(app_recv(&mut s), pattern(0, 50));
    // Write pointer at 50: the later segment straddles the wrap.
    send(&mut s, ms(0), &at(60), &pattern(60, 20));
    send(&mut s, ms(0), &at(50), &pattern(50, 10));
    assert_eq!(app_recv(&mut s), pattern(50, 30));
}

#[test]
fn duplicate_of_buffered_out_of_order_segment() {
    let mut s = established();
    send(&mut s, ms(0), &at(10), &pattern(10, 10));
    assert_eq!(send(&mut s, ms(0), &at(10), &pattern(10, 10)), Some(RECV));
    send(&mut s, ms(0), &at(0), &pattern(0, 10));
    assert_eq!(app_recv(&mut s), pattern(0, 20));
}
