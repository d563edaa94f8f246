//! Data transfer in ESTABLISHED: sending, receiving, ACKs, windows,
//! acceptability checks.

use super::*;

#[test]
fn receives_in_order_data_with_delayed_ack() {
    let mut s = established();
    assert_eq!(send(&mut s, ms(0), &SEND, b"abcdef"), None);
    assert_eq!(s.recv_queue(), 6);
    assert!(s.can_recv());
    assert_eq!(s.poll_at(), Some(ms(40)));
    recv_nothing(&mut s, ms(39));
    assert_eq!(recv_one(&mut s, ms(40)), TcpRepr { ack_number: Some(seq(10007)), window_len: 4090, ..RECV });
    assert_eq!(app_recv(&mut s), b"abcdef");
    assert_eq!(s.poll_at(), None);
}

#[test]
fn acks_every_second_full_segment_at_once() {
    let mut s = established();
    let data = pattern(0, 1460);
    assert_eq!(send(&mut s, ms(0), &SEND, &data), None);
    assert_eq!(s.poll_at(), Some(ms(40)));
    assert_eq!(send(&mut s, ms(1), &TcpRepr { seq_number: seq(11461), ..SEND }, &data), None);
    assert_eq!(s.poll_at(), Some(ms(1)));
    assert_eq!(recv_one(&mut s, ms(1)), TcpRepr { ack_number: Some(seq(12921)), window_len: 4096 - 2920, ..RECV });
}

#[test]
fn no_ack_delay_acks_every_segment() {
    let mut s = established_with(TcpConfig { ack_delay: None, ..plain_config() });
    assert_eq!(send(&mut s, ms(0), &SEND, b"ab"), None);
    assert_eq!(recv_one(&mut s, ms(0)), TcpRepr { ack_number: Some(seq(10003)), window_len: 4094, ..RECV });
}

#[test]
fn delayed_ack_piggybacks_on_response() {
    let mut s = established();
    send(&mut s, ms(0), &SEND, b"request");
    let segs = app_send(&mut s, ms(5), b"response");
    assert_eq!(
        segs,
        vec![(
            TcpRepr { ack_number: Some(seq(10008)), window_len: 4089, push: true, payload_len: 8, ..RECV },
            b"response".to_vec()
        )]
    );
    // The ACK went out with the data: no separate ACK later.
    recv_nothing(&mut s, ms(50));
}

#[test]
fn sends_data_and_frees_it_on_ack() {
    let mut s = established();
    let segs = app_send(&mut s, ms(0), b"hello");
    assert_eq!(segs, vec![(TcpRepr { push: true, payload_len: 5, ..RECV }, b"hello".to_vec())]);
    assert_eq!(s.send_queue(), 5);
    assert_eq!(s.info().bytes_in_flight, 5);
    // The handshake measured ~0 ms, so the RTO is at its 200 ms floor.
    assert_eq!(s.poll_at(), Some(ms(200)));
    assert_eq!(send(&mut s, ms(20), &TcpRepr { ack_number: Some(seq(1006)), ..SEND }, &[]), None);
    assert_eq!(s.send_queue(), 0);
    assert_eq!(s.info().bytes_in_flight, 0);
    // srtt = 7/8 * 0 + 1/8 * 20 ms
    assert_eq!(s.info().srtt, Some(Duration::from_micros(2500)));
    assert_eq!(s.poll_at(), None);
}

#[test]
fn splits_into_mss_segments() {
    let mut s = established();
    let data = pattern(0, 3000);
    let mut segs = app_send(&mut s, ms(0), &data);
    // Nagle holds the 80-byte tail while full segments are unacknowledged.
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[0].0, TcpRepr { payload_len: 1460, ..RECV });
    assert_eq!(segs[1].0, TcpRepr { seq_number: seq(2461), payload_len: 1460, ..RECV });
    send(&mut s, ms(5), &TcpRepr { ack_number: Some(seq(3921)), ..SEND }, &[]);
    let tail = recv_all(&mut s, ms(5));
    assert_eq!(tail[0].0, TcpRepr { seq_number: seq(3921), payload_len: 80, push: true, ..RECV });
    segs.extend(tail);
    let all: Vec<u8> = segs.iter().flat_map(|s| s.1.clone()).collect();
    assert_eq!(all, data);
}

#[test]
fn respects_mss_limit_of_route() {
    let mut s = established_with(TcpConfig { nagle: false, ..plain_config() });
    s.send_slice(&pattern(0, 1000)).unwrap();
    let segs = recv_all_mss(&mut s, ms(0), 400);
    let lens: Vec<usize> = segs.iter().map(|s| s.0.payload_len).collect();
    assert_eq!(lens, vec![400, 400, 200]);
}

#[test]
fn respects_peer_window() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { window_len: 3000, ..SEND }, &[]);
    let segs = app_send(&mut s, ms(0), &pattern(0, 4000));
    let lens: Vec<usize> = segs.iter().map(|s| s.0.payload_len).collect();
    // 80 bytes of window remain: below MSS and below half the largest
    // window seen, so silly-window avoidance holds them.
    assert_eq!(lens, vec![1460, 1460]);
    send(&mut s, ms(10), &TcpRepr { ack_number: Some(seq(1001 + 2920)), window_len: 3000, ..SEND }, &[]);
    let segs = recv_all(&mut s, ms(10));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0, TcpRepr { seq_number: seq(3921), payload_len: 1080, push: true, ..RECV });
    assert_eq!(segs[0].1, pattern(2920, 1080));
}

#[test]
fn sender_sws_override_after_persist_interval() {
    let mut s = established();
    // The largest window seen is 8192; now only 1000 is offered.
    send(&mut s, ms(0), &TcpRepr { window_len: 1000, ..SEND }, &[]);
    s.send_slice(&pattern(0, 3000)).unwrap();
    recv_nothing(&mut s, ms(0));
    // The persist timer (one RTO, 200 ms here) forces out what fits.
    assert_eq!(s.poll_at(), Some(ms(200)));
    let segs = recv_all(&mut s, ms(200));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0, TcpRepr { payload_len: 1000, ..RECV });
    assert_eq!(segs[0].1, pattern(0, 1000));
}

#[test]
fn nagle_holds_small_segment_while_data_in_flight() {
    let mut s = established();
    assert_eq!(app_send(&mut s, ms(0), b"a").len(), 1);
    assert_eq!(app_send(&mut s, ms(0), b"b").len(), 0);
    assert_eq!(app_send(&mut s, ms(0), b"c").len(), 0);
    // The ACK releases "bc" as one segment.
    send(&mut s, ms(10), &TcpRepr { ack_number: Some(seq(1002)), ..SEND }, &[]);
    let segs = recv_all(&mut s, ms(10));
    assert_eq!(segs, vec![(TcpRepr { seq_number: seq(1002), push: true, payload_len: 2, ..RECV }, b"bc".to_vec())]);
}

#[test]
fn nagle_off_sends_small_segments_at_once() {
    let mut s = established_with(TcpConfig { nagle: false, ..plain_config() });
    assert_eq!(app_send(&mut s, ms(0), b"a").len(), 1);
    let segs = app_send(&mut s, ms(0), b"b");
    assert_eq!(segs, vec![(TcpRepr { seq_number: seq(1002), push: true, payload_len: 1, ..RECV }, b"b".to_vec())]);
}

#[test]
fn nagle_sends_full_segments_while_in_flight() {
    let mut s = established();
    app_send(&mut s, ms(0), b"a");
    let segs = app_send(&mut s, ms(0), &pattern(0, 1500));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0, TcpRepr { seq_number: seq(1002), payload_len: 1460, ..RECV });
}

#[test]
fn duplicate_segment_answered_with_ack() {
    let mut s = established();
    send(&mut s, ms(0), &SEND, b"abc");
    assert_eq!(
        send(&mut s, ms(1), &SEND, b"abc"),
        Some(TcpRepr { ack_number: Some(seq(10004)), window_len: 4093, ..RECV })
    );
    assert_eq!(app_recv(&mut s), b"abc");
}

#[test]
fn partially_duplicate_segment_keeps_new_part() {
    let mut s = established();
    send(&mut s, ms(0), &SEND, b"abc");
    send(&mut s, ms(1), &SEND, b"abcdef");
    assert_eq!(app_recv(&mut s), b"abcdef");
}

#[test]
fn segment_beyond_window_answered_with_ack() {
    let mut s = established();
    let far = TcpRepr { seq_number: seq(10001 + 5000), ..SEND };
    assert_eq!(send(&mut s, ms(0), &far, b"x"), Some(TcpRepr { ..RECV }));
    assert_eq!(s.recv_queue(), 0);
}

#[test]
fn old_segment_answered_with_ack() {
    let mut s = established();
    let old = TcpRepr { seq_number: seq(9000), ..SEND };
    assert_eq!(send(&mut s, ms(0), &old, b"xyz"), Some(RECV));
    assert_eq!(send(&mut s, ms(0), &old, &[]), Some(RECV));
}

#[test]
fn data_trimmed_to_window() {
    let mut s = socket_with(plain_config(), 10, 64);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &SEND, &[]);
    assert_eq!(
        send(&mut s, ms(0), &SEND, b"0123456789abcdef"),
        Some(TcpRepr { ack_number: Some(seq(10011)), window_len: 0, ..RECV })
    );
    assert_eq!(app_recv(&mut s), b"0123456789");
}

#[test]
fn zero_window_drops_data_but_takes_ack() {
    let mut s = socket_with(plain_config(), 4, 64);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &SEND, b"full");
    recv_all(&mut s, ms(100));
    s.send_slice(b"x").unwrap();
    recv_all(&mut s, ms(100));
    // A probe with data at RCV.NXT while our window is zero: the ACK in it
    // is processed, the byte is not, and we answer with our window.
    let probe = TcpRepr { seq_number: seq(10005), ack_number: Some(seq(1002)), ..SEND };
    assert_eq!(
        send(&mut s, ms(110), &probe, b"z"),
        Some(TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10005)), window_len: 0, ..RECV })
    );
    assert_eq!(s.send_queue(), 0);
    assert_eq!(s.recv_queue(), 4);
}

#[test]
fn ack_of_unsent_data_gets_challenge_ack() {
    let mut s = established();
    app_send(&mut s, ms(0), b"abc");
    let bad = TcpRepr { ack_number: Some(seq(2000)), ..SEND };
    assert_eq!(send(&mut s, ms(0), &bad, b"data"), Some(RECV_AFTER(3)));
    // Neither the ACK nor the data was taken.
    assert_eq!(s.send_queue(), 3);
    assert_eq!(s.recv_queue(), 0);
}

#[allow(non_snake_case)]
fn RECV_AFTER(sent: usize) -> TcpRepr {
    TcpRepr { seq_number: seq(1001) + sent, ..RECV }
}

#[test]
fn ack_far_below_window_gets_challenge_ack() {
    let mut s = established();
    // SND.UNA - MAX.SND.WND = 1001 - 8192
    let old = TcpRepr { ack_number: Some(seq(1001) - 9000), ..SEND };
    assert_eq!(send(&mut s, ms(0), &old, b"data"), Some(RECV));
    assert_eq!(s.recv_queue(), 0);
    // An old but acceptable ACK is fine and its data is taken.
    let fine = TcpRepr { ack_number: Some(seq(900)), ..SEND };
    assert_eq!(send(&mut s, ms(0), &fine, b"data"), None);
    assert_eq!(s.recv_queue(), 4);
}

#[test]
fn segment_without_ack_flag_dropped() {
    let mut s = established();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { ack_number: None, ..SEND }, b"data"), None);
    assert_eq!(s.recv_queue(), 0);
}

#[test]
fn window_update_after_large_read() {
    let mut s = established();
    let data = pattern(0, 1460);
    send(&mut s, ms(0), &SEND, &data);
    send(&mut s, ms(0), &TcpRepr { seq_number: seq(11461), ..SEND }, &data);
    assert_eq!(recv_one(&mut s, ms(0)).window_len, 4096 - 2920);
    // Reading a little does not announce a slightly larger window.
    let mut small = [0; 100];
    s.recv_slice(&mut small).unwrap();
    recv_nothing(&mut s, ms(1));
    // Reading enough does.
    let mut rest = vec![0; 3000];
    s.recv_slice(&mut rest).unwrap();
    assert_eq!(s.poll_at(), Some(Instant::ZERO));
    assert_eq!(recv_one(&mut s, ms(2)), TcpRepr { ack_number: Some(seq(12921)), ..RECV });
}

#[test]
fn peer_window_update_releases_data() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { window_len: 0, ..SEND }, &[]);
    s.send_slice(b"wait").unwrap();
    recv_nothing(&mut s, ms(0));
    send(&mut s, ms(5), &TcpRepr { window_len: 100, ..SEND }, &[]);
    let segs = recv_all(&mut s, ms(5));
    assert_eq!(segs, vec![(TcpRepr { push: true, payload_len: 4, ..RECV }, b"wait".to_vec())]);
}

#[test]
fn stale_window_update_ignored() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { seq_number: seq(10001), window_len: 500, ..SEND }, b"x");
    // An older segment (lower seq) must not shrink or grow the window.
    send(&mut s, ms(1), &TcpRepr { seq_number: seq(10001), window_len: 9000, ..SEND }, &[]);
    assert_eq!(s.info().send_window, 500);
}

#[test]
fn closure_send_and_recv_are_zero_copy() {
    let mut s = established();
    let n = s
        .send(|buf| {
            buf[..3].copy_from_slice(b"xyz");
            (3, buf.len())
        })
        .unwrap();
    assert_eq!(n, BUF);
    assert_eq!(recv_all(&mut s, ms(0))[0].1, b"xyz");
    send(&mut s, ms(1), &SEND, b"12345");
    let got = s.recv(|buf| (2, buf.to_vec())).unwrap();
    assert_eq!(got, b"12345");
    assert_eq!(s.recv_queue(), 3);
}

#[test]
fn send_buffer_full() {
    let mut s = socket_with(plain_config(), 64, 8);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &SEND, &[]);
    assert_eq!(s.send_slice(b"0123456789"), Ok(8));
    assert!(!s.can_send());
    assert_eq!(s.send_slice(b"x"), Ok(0));
}

#[test]
fn send_and_recv_rejected_in_wrong_states() {
    let mut s = socket();
    assert_eq!(s.send_slice(b"x"), Err(SendError::InvalidState));
    assert_eq!(s.recv_slice(&mut [0; 4]), Err(RecvError::InvalidState));
    let mut s = listening();
    assert_eq!(s.send_slice(b"x"), Err(SendError::InvalidState));
    let mut s = fin_wait_1();
    assert_eq!(s.send_slice(b"x"), Err(SendError::InvalidState));
    assert!(!s.may_send());
    assert!(s.may_recv());
}

#[test]
fn data_wraps_around_send_ring() {
    let mut s = socket_with(TcpConfig { nagle: false, ..plain_config() }, 64, 16);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &SEND, &[]);
    app_send(&mut s, ms(0), &pattern(0, 12));
    send(&mut s, ms(1), &TcpRepr { ack_number: Some(seq(1013)), ..SEND }, &[]);
    // 10 bytes: 4 before the wrap point, 6 after; two segments.
    let segs = app_send(&mut s, ms(2), &pattern(12, 10));
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[0].0, TcpRepr { seq_number: seq(1013), payload_len: 4, ..RECV_W(64) });
    assert_eq!(segs[1].0, TcpRepr { seq_number: seq(1017), payload_len: 6, push: true, ..RECV_W(64) });
    let all: Vec<u8> = segs.iter().flat_map(|s| s.1.clone()).collect();
    assert_eq!(all, pattern(12, 10));
}

#[allow(non_snake_case)]
fn RECV_W(window: u16) -> TcpRepr {
    TcpRepr { window_len: window, ..RECV }
}

#[test]
fn push_only_on_last_segment_of_queue() {
    let mut s = established_with(TcpConfig { nagle: false, ..plain_config() });
    let segs = app_send(&mut s, ms(0), &pattern(0, 1460 + 10));
    assert!(!segs[0].0.push);
    assert!(segs[1].0.push);
}

#[test]
fn urgent_pointer_ignored_data_still_taken() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { urgent: Some(1), ..SEND }, b"u!");
    assert_eq!(app_recv(&mut s), b"u!");
}

#[test]
fn segment_for_other_tuple_not_accepted() {
    let s = established();
    let other = IpEndpoint::new(REMOTE.addr, 1234);
    assert!(!s.accepts(LOCAL, other, &TcpRepr { src_port: 1234, ..SEND }));
    assert!(!s.accepts(LOCAL, REMOTE, &TcpRepr { dst_port: 81, ..SEND }));
}

#[test]
fn failed_emit_keeps_segment_due() {
    let mut s = established();
    send(&mut s, ms(0), &SEND, b"abc");
    s.send_slice(b"xyz").unwrap();
    // The device is full: nothing counts as sent.
    assert_eq!(s.dispatch(ms(0), MSS, |_, _, _, _| Err::<(), _>("full")), Err("full"));
    assert_eq!(s.info().bytes_in_flight, 0);
    let segs = recv_all(&mut s, ms(1));
    assert_eq!(
        segs,
        vec![(
            TcpRepr { ack_number: Some(seq(10004)), window_len: 4093, push: true, payload_len: 3, ..RECV },
            b"xyz".to_vec()
        )]
    );
}

#[test]
fn failed_emit_of_pure_ack_keeps_it_due() {
    let mut s = established_with(TcpConfig { ack_delay: None, ..plain_config() });
    send(&mut s, ms(0), &SEND, b"abc");
    assert_eq!(s.dispatch(ms(0), MSS, |_, _, _, _| Err::<(), _>(())), Err(()));
    assert_eq!(s.poll_at(), Some(ms(0)));
    assert_eq!(recv_one(&mut s, ms(0)), TcpRepr { ack_number: Some(seq(10004)), window_len: 4093, ..RECV });
}
