//! TCP segmentation offload: with a segmenting device the socket sends
//! several MSS per segment, keeps the Nagle rule for a short tail, and
//! falls back to one MSS when the peer takes less than the route's MSS.

use super::*;

/// ESTABLISHED with Nagle on, a 64 KiB send buffer, a 65535-byte peer
/// window and the peer's MSS `peer_mss`; offload of up to 8 MSS.
fn offloading(peer_mss: u16) -> TcpSocket<'static> {
    let mut s = socket_with(plain_config(), BUF, 65536);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &TcpRepr { window_len: 65535, max_seg_size: Some(peer_mss), ..SYN }, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &TcpRepr { window_len: 65535, ..SEND }, &[]);
    s.set_segmentation_offload(8 * MSS);
    s
}

fn lengths(segs: &[(TcpRepr, Vec<u8>)]) -> Vec<usize> {
    segs.iter().map(|(_, data)| data.len()).collect()
}

#[test]
fn segments_carry_whole_mss_multiples_up_to_the_offload_limit() {
    let mut s = offloading(1460);
    // 10 MSS of initial window: one segment of 8 MSS, then 2 MSS.
    let segs = app_send(&mut s, ms(0), &pattern(0, 20 * MSS));
    assert_eq!(lengths(&segs), [8 * MSS, 2 * MSS]);
    assert_eq!(segs[1].0.seq_number, seq(1001 + 8 * MSS as u32));
    assert_eq!(segs[0].1, pattern(0, 8 * MSS));
}

#[test]
fn a_short_tail_waits_for_nagle_while_data_is_in_flight() {
    let mut s = offloading(1460);
    // Nothing in flight: the whole 3.5 MSS go at once, tail included.
    let first = app_send(&mut s, ms(0), &pattern(0, 3 * MSS + 700));
    assert_eq!(lengths(&first), [3 * MSS + 700]);
    // With that in flight, 3.5 MSS more: the 3 full ones go, the tail
    // waits for the ACK, as it would without offload.
    let second = app_send(&mut s, ms(1), &pattern(0, 3 * MSS + 700));
    assert_eq!(lengths(&second), [3 * MSS]);
    let first_acked = 1001 + (3 * MSS + 700) as u32;
    send(&mut s, ms(2), &TcpRepr { ack_number: Some(seq(first_acked)), window_len: 65535, ..SEND }, &[]);
    assert_eq!(lengths(&recv_all(&mut s, ms(2))), [0; 0], "still data in flight");
    let all_acked = first_acked + 3 * MSS as u32;
    send(&mut s, ms(3), &TcpRepr { ack_number: Some(seq(all_acked)), window_len: 65535, ..SEND }, &[]);
    let tail = recv_all(&mut s, ms(3));
    assert_eq!(lengths(&tail), [700]);
}

#[test]
fn a_peer_with_a_smaller_mss_gets_single_segments() {
    // The device cuts at the route's MSS, more than this peer takes.
    let mut s = offloading(1000);
    let segs = app_send(&mut s, ms(0), &pattern(0, 5000));
    assert!(segs.iter().all(|(_, data)| data.len() <= 1000), "{:?}", lengths(&segs));
    // Offload off: one MSS per segment again.
    let mut s = offloading(1460);
    s.set_segmentation_offload(0);
    let segs = app_send(&mut s, ms(0), &pattern(0, 3 * MSS));
    assert_eq!(lengths(&segs), [MSS, MSS, MSS]);
}
