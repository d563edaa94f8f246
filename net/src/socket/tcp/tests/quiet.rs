//! The "nothing due before T" memory of an idle socket: it must never hide
//! a segment that input, an application call, a timer or a smaller route
//! MSS makes due.

use super::*;

#[test]
fn idle_dispatch_remembers_the_next_timer() {
    let mut s = established();
    // `established` ends with a dispatch that sent nothing.
    assert_eq!(s.quiet, Some(Quiet { until: None, mss_limit: MSS }));
    assert_eq!(s.poll_at(), None);
    recv_nothing(&mut s, ms(1));
}

#[test]
fn input_makes_a_quiet_socket_plan_again() {
    let mut s = established();
    // In-order data: the ACK is delayed (40 ms by default).
    assert_eq!(send(&mut s, ms(10), &TcpRepr { payload_len: 100, ..SEND }, &[7; 100]), None);
    assert_eq!(s.quiet, None);
    recv_nothing(&mut s, ms(10));
    assert_eq!(s.quiet, Some(Quiet { until: Some(ms(50)), mss_limit: MSS }));
    assert_eq!(s.poll_at(), Some(ms(50)));
    recv_nothing(&mut s, ms(49));
    let ack = recv_one(&mut s, ms(50));
    assert_eq!(ack.ack_number, Some(REMOTE_SEQ + 1 + 100));
    assert_eq!(ack.seq_number, LOCAL_SEQ + 1);
}

#[test]
fn empty_reads_and_writes_keep_it_queued_data_clears_it() {
    let mut s = established();
    let remembered = s.quiet;
    assert!(remembered.is_some());
    assert_eq!(s.recv_slice(&mut [0; 16]), Ok(0));
    assert_eq!(s.send_slice(&[]), Ok(0));
    assert_eq!(s.quiet, remembered);
    let segs = app_send(&mut s, ms(5), b"hello");
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.seq_number, LOCAL_SEQ + 1);
    assert_eq!(segs[0].1, b"hello");
}

#[test]
fn reading_data_opens_the_window_of_a_quiet_socket() {
    let mut s = socket_with(plain_config(), 1024, BUF);
    s.listen(LOCAL_PORT).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    assert_eq!(recv_one(&mut s, ms(0)).control, TcpControl::Syn);
    send(&mut s, ms(0), &SEND, &[]);
    // Fill the 1024-byte receive buffer: the ACK announces a zero window.
    assert_eq!(send(&mut s, ms(1), &TcpRepr { payload_len: 1024, ..SEND }, &[1; 1024]), None);
    let ack = recv_one(&mut s, ms(100));
    assert_eq!((ack.ack_number, ack.window_len), (Some(REMOTE_SEQ + 1 + 1024), 0));
    recv_nothing(&mut s, ms(101));
    assert!(s.quiet.is_some());
    // Reading opens the window: the update goes out at once.
    assert_eq!(s.recv_slice(&mut [0; 1024]), Ok(1024));
    let update = recv_one(&mut s, ms(102));
    assert_eq!(update.window_len, 1024);
}

#[test]
fn a_smaller_route_mss_is_not_hidden_by_the_memory() {
    let mut s = established_with(TcpConfig { ack_delay: None, ..plain_config() });
    // 1460 bytes go; Nagle holds the 540-byte rest while data is in flight.
    let segs = app_send(&mut s, ms(1), &pattern(0, 2000));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].1.len(), MSS);
    assert_eq!(s.quiet.map(|q| q.mss_limit), Some(MSS));
    // With a 500-byte route MSS a full segment is ready.
    let segs = recv_all_mss(&mut s, ms(2), 500);
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.seq_number, LOCAL_SEQ + 1 + MSS);
    assert_eq!(segs[0].1, pattern(MSS, 500));
}

#[test]
fn the_retransmission_timer_ends_the_quiet_period() {
    let mut s = established();
    let rto_at = ms(5) + s.rtt.rto();
    app_send(&mut s, ms(5), b"x");
    assert_eq!(s.quiet, Some(Quiet { until: Some(rto_at), mss_limit: MSS }));
    recv_nothing(&mut s, rto_at - Duration::from_micros(1));
    let again = recv_all(&mut s, rto_at);
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].0.seq_number, again[0].1.as_slice()), (LOCAL_SEQ + 1, &b"x"[..]));
}
