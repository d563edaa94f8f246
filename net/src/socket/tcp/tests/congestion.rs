//! Congestion control: initial window, slow start, fast retransmit and
//! NewReno fast recovery, timeout collapse.

use super::*;

/// ESTABLISHED with a 64 KiB send buffer and a 65535-byte peer window,
/// 14600 bytes (10 segments) of initial congestion window.
fn big() -> TcpSocket<'static> {
    let mut s = socket_with(TcpConfig { nagle: false, ..plain_config() }, BUF, 65536);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &TcpRepr { window_len: 65535, ..SYN }, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &TcpRepr { window_len: 65535, ..SEND }, &[]);
    s
}

const PEER: TcpRepr = TcpRepr { window_len: 65535, ..SEND };

fn ack(n: u32) -> TcpRepr {
    TcpRepr { ack_number: Some(seq(n)), ..PEER }
}

fn seg_start(i: u32) -> u32 {
    1001 + i * 1460
}

#[test]
fn initial_window_is_ten_segments() {
    let mut s = big();
    assert_eq!(s.info().cwnd, 14600);
    let segs = app_send(&mut s, ms(0), &pattern(0, 30000));
    assert_eq!(segs.len(), 10);
    assert_eq!(segs[9].0.seq_number, seq(seg_start(9)));
    assert_eq!(s.info().bytes_in_flight, 14600);
}

#[test]
fn slow_start_grows_window_per_ack() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 60000));
    send(&mut s, ms(10), &ack(seg_start(2)), &[]);
    // Two segments acknowledged: cwnd grows by 2 MSS and 4 segments go.
    assert_eq!(s.info().cwnd, 14600 + 2920);
    let segs = recv_all(&mut s, ms(10));
    assert_eq!(segs.len(), 4);
    assert_eq!(segs[0].0.seq_number, seq(seg_start(10)));
}

#[test]
fn third_duplicate_ack_triggers_fast_retransmit() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    send(&mut s, ms(10), &ack(seg_start(1)), &[]);
    recv_all(&mut s, ms(10));
    // Segment 1 is lost; later segments produce duplicate ACKs.
    send(&mut s, ms(11), &ack(seg_start(1)), &[]);
    send(&mut s, ms(11), &ack(seg_start(1)), &[]);
    recv_nothing(&mut s, ms(11));
    send(&mut s, ms(11), &ack(seg_start(1)), &[]);
    let segs = recv_all(&mut s, ms(11));
    assert_eq!(segs[0].0, TcpRepr { seq_number: seq(seg_start(1)), payload_len: 1460, ..RECV });
    assert_eq!(segs[0].1, pattern(1460, 1460));
    // ssthresh = flight / 2; cwnd = ssthresh + 3 MSS.
    let info = s.info();
    assert_eq!(info.ssthresh, 13140 / 2);
    assert_eq!(info.cwnd, 13140 / 2 + 3 * 1460);
    assert_eq!(info.retransmits, 1);
}

#[test]
fn duplicate_acks_with_data_or_window_change_do_not_count() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    for _ in 0..3 {
        send(&mut s, ms(5), &TcpRepr { window_len: 60000, ..ack(1001) }, &[]);
        send(&mut s, ms(5), &TcpRepr { window_len: 65535, ..ack(1001) }, &[]);
    }
    assert_eq!(s.dup_acks, 0);
    for rx in 10001..10004 {
        send(&mut s, ms(5), &TcpRepr { seq_number: seq(rx), ..ack(1001) }, b"d");
    }
    assert_eq!(s.dup_acks, 0);
    assert!(s.recovery.is_none());
}

#[test]
fn further_duplicates_inflate_window_and_release_data() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 30000));
    for _ in 0..3 {
        send(&mut s, ms(5), &ack(1001), &[]);
    }
    let segs = recv_all(&mut s, ms(5));
    // Only the retransmission: cwnd 7300 + 4380 < 14600 in flight.
    assert_eq!(segs.len(), 1);
    for _ in 0..5 {
        send(&mut s, ms(6), &ack(1001), &[]);
    }
    // cwnd = 7300 + 8 * 1460 = 18980, 14600 in flight: 3 new segments.
    let segs = recv_all(&mut s, ms(6));
    let seqs: Vec<SeqNumber> = segs.iter().map(|s| s.0.seq_number).collect();
    assert_eq!(seqs, vec![seq(seg_start(10)), seq(seg_start(11)), seq(seg_start(12))]);
}

#[test]
fn loss_right_after_a_recovery_is_fast_retransmitted() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 30000));
    for _ in 0..3 {
        send(&mut s, ms(5), &ack(1001), &[]);
    }
    recv_all(&mut s, ms(5));
    // The full ACK ends recovery exactly at its recovery point; new
    // segments 10.. go out.
    send(&mut s, ms(10), &ack(seg_start(10)), &[]);
    assert!(s.recovery.is_none());
    let segs = recv_all(&mut s, ms(10));
    assert_eq!(segs[0].0.seq_number, seq(seg_start(10)));
    // Segment 10, the first sent after the recovery began, is lost: three
    // duplicates start a new recovery (RFC 6582: the ACK covers all that
    // was sent before), no need to wait for the RTO.
    for _ in 0..3 {
        send(&mut s, ms(15), &ack(seg_start(10)), &[]);
    }
    assert!(s.recovery.is_some());
    let segs = recv_all(&mut s, ms(15));
    assert_eq!(segs[0].0, TcpRepr { seq_number: seq(seg_start(10)), payload_len: 1460, ..RECV });
    assert_eq!(segs[0].1, pattern(10 * 1460, 1460));
    assert_eq!(s.info().retransmits, 2);
}

#[test]
fn partial_ack_retransmits_next_hole() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    for _ in 0..3 {
        send(&mut s, ms(5), &ack(1001), &[]);
    }
    recv_all(&mut s, ms(5));
    // Segments 0..3 arrive after the retransmission; 3 was also lost.
    send(&mut s, ms(15), &ack(seg_start(3)), &[]);
    let segs = recv_all(&mut s, ms(15));
    assert_eq!(segs[0].0, TcpRepr { seq_number: seq(seg_start(3)), payload_len: 1460, ..RECV });
    assert!(s.recovery.is_some());
}

#[test]
fn full_ack_ends_recovery() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    for _ in 0..3 {
        send(&mut s, ms(5), &ack(1001), &[]);
    }
    recv_all(&mut s, ms(5));
    send(&mut s, ms(15), &ack(seg_start(10)), &[]);
    assert!(s.recovery.is_none());
    // cwnd = min(ssthresh, max(flight, MSS) + MSS) = min(7300, 2920)
    assert_eq!(s.info().cwnd, 2920);
    assert_eq!(s.info().ssthresh, 7300);
}

#[test]
fn no_second_fast_retransmit_for_same_window() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    for _ in 0..3 {
        send(&mut s, ms(5), &ack(1001), &[]);
    }
    recv_all(&mut s, ms(5));
    // Timeout, then more duplicates for data sent before it.
    recv_all(&mut s, ms(1000));
    for _ in 0..3 {
        send(&mut s, ms(1001), &ack(1001), &[]);
    }
    assert!(s.recovery.is_none());
    // Limited transmit may continue the go-back, but SND.UNA is not
    // fast-retransmitted again.
    let segs = recv_all(&mut s, ms(1001));
    assert!(segs.iter().all(|seg| seg.0.seq_number != seq(1001)), "{segs:?}");
}

#[test]
fn timeout_collapses_window_to_one_segment() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    let segs = recv_all(&mut s, ms(200));
    // Go-back-N from SND.UNA with a one-segment window.
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.seq_number, seq(1001));
    assert_eq!(s.info().cwnd, 1460);
    assert_eq!(s.info().ssthresh, 7300);
    // Its ACK lets two more go (slow start).
    send(&mut s, ms(300), &ack(seg_start(1)), &[]);
    let segs = recv_all(&mut s, ms(300));
    let seqs: Vec<SeqNumber> = segs.iter().map(|s| s.0.seq_number).collect();
    assert_eq!(seqs, vec![seq(seg_start(1)), seq(seg_start(2))]);
}

#[test]
fn congestion_avoidance_above_ssthresh() {
    let mut s = big();
    s.congestion = Congestion::new(CongestionKind::NewReno, 1460);
    s.congestion.on_loss(ms(0), 5840, 1460);
    s.congestion.set_window(2920);
    app_send(&mut s, ms(0), &pattern(0, 60000));
    send(&mut s, ms(10), &ack(seg_start(2)), &[]);
    // 2920 acked with cwnd 2920: one MSS more.
    assert_eq!(s.info().cwnd, 4380);
}

#[test]
fn info_reports_connection_state() {
    let mut s = big();
    app_send(&mut s, ms(0), &pattern(0, 3000));
    let info = s.info();
    assert_eq!(info.state, State::Established);
    assert_eq!(info.bytes_in_flight, 3000);
    assert_eq!(info.send_window, 65535);
    assert_eq!(info.mss, 1460);
    assert_eq!(info.retransmits, 0);
    assert_eq!(info.rto, Duration::from_millis(200));
}

/// Like `big`, with SACK negotiated.
fn big_sack() -> TcpSocket<'static> {
    let config = TcpConfig { nagle: false, sack: true, ..plain_config() };
    let mut s = socket_with(config, BUF, 65536);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &TcpRepr { window_len: 65535, sack_permitted: true, ..SYN }, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &PEER, &[]);
    assert!(s.sack_ok);
    s
}

fn sack_ack(blocks: &[(u32, u32)]) -> TcpRepr {
    let mut ranges = [None; 4];
    for (slot, &(l, r)) in ranges.iter_mut().zip(blocks) {
        *slot = Some((seq(seg_start(l)), seq(seg_start(r))));
    }
    TcpRepr { sack_ranges: ranges, ..ack(1001) }
}

#[test]
fn sack_recovery_retransmits_first_hole_without_inflation() {
    let mut s = big_sack();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    send(&mut s, ms(5), &sack_ack(&[(1, 2)]), &[]);
    send(&mut s, ms(5), &sack_ack(&[(1, 3)]), &[]);
    assert!(s.recovery.is_none());
    send(&mut s, ms(5), &sack_ack(&[(1, 4)]), &[]);
    assert!(s.recovery.is_some());
    let segs = recv_all(&mut s, ms(5));
    assert_eq!(segs[0].0, TcpRepr { seq_number: seq(1001), payload_len: 1460, ..RECV });
    assert_eq!(s.info().cwnd, 7300);
    assert_eq!(s.info().ssthresh, 7300);
}

#[test]
fn sack_recovery_fills_every_hole_then_sends_new_data() {
    let mut s = big_sack();
    app_send(&mut s, ms(0), &pattern(0, 30000));
    // Segments 0 and 4 lost; one ACK reports the rest.
    send(&mut s, ms(5), &sack_ack(&[(5, 10), (1, 4)]), &[]);
    assert!(s.recovery.is_some());
    let segs = recv_all(&mut s, ms(5));
    let seqs: Vec<SeqNumber> = segs.iter().map(|s| s.0.seq_number).collect();
    // Both holes, then new data while pipe < cwnd (pipe 2920, cwnd 7300).
    assert_eq!(
        seqs,
        vec![seq(seg_start(0)), seq(seg_start(4)), seq(seg_start(10)), seq(seg_start(11)), seq(seg_start(12))]
    );
    assert_eq!(segs[1].1, pattern(4 * 1460, 1460));
    assert_eq!(s.info().retransmits, 2);
}

#[test]
fn sack_hole_retransmission_stops_at_sacked_data() {
    let mut s = big_sack();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    // A 500-byte hole at the start of segment 2.
    let mut ranges = [None; 4];
    ranges[0] = Some((seq(seg_start(2) + 500), seq(seg_start(10))));
    ranges[1] = Some((seq(seg_start(0) + 100), seq(seg_start(2))));
    send(&mut s, ms(5), &TcpRepr { sack_ranges: ranges, ..ack(1001) }, &[]);
    let segs = recv_all(&mut s, ms(5));
    let holes: Vec<(SeqNumber, usize)> = segs.iter().map(|s| (s.0.seq_number, s.0.payload_len)).collect();
    assert_eq!(holes[0], (seq(1001), 100));
    assert_eq!(holes[1], (seq(seg_start(2)), 500));
}

#[test]
fn sack_blocks_outside_the_window_ignored() {
    let mut s = big_sack();
    app_send(&mut s, ms(0), &pattern(0, 4380));
    let mut ranges = [None; 4];
    ranges[0] = Some((seq(500), seq(900))); // below SND.UNA
    ranges[1] = Some((seq(seg_start(2)), seq(seg_start(9)))); // beyond SND.MAX
    ranges[2] = Some((seq(seg_start(2)), seq(seg_start(1)))); // inverted
    send(&mut s, ms(5), &TcpRepr { sack_ranges: ranges, ..ack(1001) }, &[]);
    assert!(s.scoreboard.is_empty());
}

#[test]
fn sack_scoreboard_follows_cumulative_ack() {
    let mut s = big_sack();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    send(&mut s, ms(5), &sack_ack(&[(3, 5)]), &[]);
    assert_eq!(s.scoreboard.ranges(), &[(3 * 1460, 5 * 1460)]);
    send(&mut s, ms(6), &ack(seg_start(4)), &[]);
    assert_eq!(s.scoreboard.ranges(), &[(0, 1460)]);
}

#[test]
fn sack_full_ack_ends_recovery() {
    let mut s = big_sack();
    app_send(&mut s, ms(0), &pattern(0, 14600));
    send(&mut s, ms(5), &sack_ack(&[(1, 10)]), &[]);
    recv_all(&mut s, ms(5));
    send(&mut s, ms(10), &ack(seg_start(10)), &[]);
    assert!(s.recovery.is_none());
    assert!(s.scoreboard.is_empty());
}

#[test]
fn timeout_forgets_sack_information() {
    let mut s = big_sack();
    app_send(&mut s, ms(0), &pattern(0, 4380));
    send(&mut s, ms(5), &sack_ack(&[(1, 2)]), &[]);
    assert!(!s.scoreboard.is_empty());
    let segs = recv_all(&mut s, ms(300));
    assert_eq!(segs[0].0.seq_number, seq(1001));
    assert!(s.scoreboard.is_empty());
}

#[test]
fn sack_acks_with_data_or_window_change_count_as_duplicates() {
    // An echo peer: its ACKs carry data and a moving window, each SACKing
    // a little more of segment 1 (too little for IsLost: the count does it).
    let mut s = big_sack();
    s.congestion.set_window(2920);
    app_send(&mut s, ms(0), &pattern(0, 10_000));
    assert_eq!(s.info().bytes_in_flight, 2920);
    let data_segments = |s: &mut TcpSocket| -> Vec<(SeqNumber, usize)> {
        recv_all(s, ms(5))
            .iter()
            .filter(|(r, _)| r.payload_len > 0)
            .map(|(r, _)| (r.seq_number, r.payload_len))
            .collect()
    };
    let peer = |n: u32, sacked: u32, window: u16| {
        let mut ranges = [None; 4];
        ranges[0] = Some((seq(seg_start(1)), seq(seg_start(1) + sacked)));
        TcpRepr { seq_number: seq(10001 + n), window_len: window, sack_ranges: ranges, ..ack(1001) }
    };
    // First and second: limited transmit sends one new segment each.
    send(&mut s, ms(5), &peer(0, 500, 60000), b"a");
    assert_eq!(s.dup_acks, 1);
    assert_eq!(data_segments(&mut s), vec![(seq(seg_start(2)), 1460)]);
    send(&mut s, ms(5), &peer(1, 1000, 61000), b"b");
    assert_eq!(data_segments(&mut s), vec![(seq(seg_start(3)), 1460)]);
    assert!(s.recovery.is_none());
    // The same SACK information again is not a duplicate.
    send(&mut s, ms(5), &peer(2, 1000, 62000), b"c");
    assert_eq!(s.dup_acks, 2);
    // The third new SACK information starts recovery: the hole goes again.
    send(&mut s, ms(5), &peer(3, 1460, 63000), b"d");
    assert!(s.recovery.is_some());
    assert_eq!(data_segments(&mut s)[0], (seq(1001), 1460));
    assert_eq!(s.info().retransmits, 1);
    assert_eq!(app_recv(&mut s), b"abcd");
}

#[test]
fn limited_transmit_on_first_two_duplicates() {
    let mut s = big();
    s.congestion.set_window(2920);
    app_send(&mut s, ms(0), &pattern(0, 10_000));
    assert_eq!(s.info().bytes_in_flight, 2920);
    // First duplicate: one new segment beyond cwnd.
    send(&mut s, ms(5), &ack(1001), &[]);
    let segs = recv_all(&mut s, ms(5));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.seq_number, seq(seg_start(2)));
    // Second duplicate: one more.
    send(&mut s, ms(5), &ack(1001), &[]);
    let segs = recv_all(&mut s, ms(5));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.seq_number, seq(seg_start(3)));
    // The third starts fast retransmit.
    send(&mut s, ms(5), &ack(1001), &[]);
    assert_eq!(recv_all(&mut s, ms(5))[0].0.seq_number, seq(1001));
}
