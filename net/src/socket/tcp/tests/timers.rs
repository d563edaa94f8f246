//! Retransmission timeout, backoff, Karn's rule, persist and keepalive.

use super::*;

const DATA: TcpRepr = TcpRepr { push: true, payload_len: 3, ..RECV };

#[test]
fn retransmits_with_exponential_backoff() {
    let mut s = established();
    assert_eq!(app_send(&mut s, ms(0), b"abc"), vec![(DATA, b"abc".to_vec())]);
    // RTO 200 ms (the floor), then 400, 800, 1600.
    recv_nothing(&mut s, ms(199));
    assert_eq!(recv_all(&mut s, ms(200)), vec![(DATA, b"abc".to_vec())]);
    assert_eq!(s.poll_at(), Some(ms(600)));
    recv_nothing(&mut s, ms(599));
    assert_eq!(recv_all(&mut s, ms(600)), vec![(DATA, b"abc".to_vec())]);
    assert_eq!(s.poll_at(), Some(ms(1400)));
    assert_eq!(recv_all(&mut s, ms(1400)), vec![(DATA, b"abc".to_vec())]);
    assert_eq!(s.poll_at(), Some(ms(3000)));
    assert_eq!(s.info().retransmits, 3);
}

#[test]
fn rto_floor_is_configurable() {
    let mut s = established_with(TcpConfig { rto_min: Duration::from_secs(1), ..plain_config() });
    app_send(&mut s, ms(0), b"abc");
    assert_eq!(s.poll_at(), Some(ms(1000)));
}

#[test]
fn rto_ceiling_caps_backoff() {
    let mut s = established_with(TcpConfig { rto_max: Duration::from_millis(500), ..plain_config() });
    app_send(&mut s, ms(0), b"abc");
    assert_eq!(recv_all(&mut s, ms(200)).len(), 1);
    assert_eq!(s.poll_at(), Some(ms(600)));
    assert_eq!(recv_all(&mut s, ms(600)).len(), 1);
    assert_eq!(s.poll_at(), Some(ms(1100)));
}

#[test]
fn timeout_goes_back_to_first_unacknowledged_byte() {
    let mut s = established_with(TcpConfig { nagle: false, ..plain_config() });
    app_send(&mut s, ms(0), b"abc");
    app_send(&mut s, ms(0), b"def");
    // The peer acknowledges "abc" only.
    send(&mut s, ms(10), &TcpRepr { ack_number: Some(seq(1004)), ..SEND }, &[]);
    // The timer restarts at the ACK: 10 ms + RTO (srtt 1.25 ms -> floor).
    assert_eq!(s.poll_at(), Some(ms(210)));
    let segs = recv_all(&mut s, ms(210));
    assert_eq!(segs, vec![(TcpRepr { seq_number: seq(1004), ..DATA }, b"def".to_vec())]);
}

#[test]
fn karn_no_rtt_sample_from_retransmitted_data() {
    let mut s = established();
    app_send(&mut s, ms(0), b"abc");
    recv_all(&mut s, ms(200));
    let before = s.info().srtt;
    send(&mut s, ms(900), &TcpRepr { ack_number: Some(seq(1004)), ..SEND }, &[]);
    assert_eq!(s.info().srtt, before);
    // The next, fresh segment is timed again.
    app_send(&mut s, ms(1000), b"d");
    send(&mut s, ms(1080), &TcpRepr { ack_number: Some(seq(1005)), ..SEND }, &[]);
    assert_eq!(s.info().srtt, Some(Duration::from_millis(10)));
}

#[test]
fn ack_resets_backoff_counter() {
    let mut s = established_with(TcpConfig { max_retransmits: 2, ..plain_config() });
    app_send(&mut s, ms(0), b"abc");
    recv_all(&mut s, ms(200));
    recv_all(&mut s, ms(600));
    send(&mut s, ms(700), &TcpRepr { ack_number: Some(seq(1004)), ..SEND }, &[]);
    app_send(&mut s, ms(700), b"d");
    let rto = s.info().rto;
    let t1 = ms(700) + rto;
    assert_eq!(recv_all(&mut s, t1).len(), 1);
    assert_eq!(s.state(), State::Established);
}

#[test]
fn gives_up_after_max_retransmits_with_rst() {
    let mut s = established_with(TcpConfig { max_retransmits: 2, ..plain_config() });
    app_send(&mut s, ms(0), b"abc");
    assert_eq!(recv_all(&mut s, ms(200)).len(), 1);
    assert_eq!(recv_all(&mut s, ms(600)).len(), 1);
    // The RST carries SND.NXT.
    assert_eq!(
        recv_one(&mut s, ms(1400)),
        TcpRepr { control: TcpControl::Rst, seq_number: seq(1004), window_len: 0, ..RECV }
    );
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn zero_window_probes_with_backoff() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { window_len: 0, ..SEND }, &[]);
    s.send_slice(b"blocked").unwrap();
    recv_nothing(&mut s, ms(0));
    assert_eq!(s.poll_at(), Some(ms(200)));
    let probe = TcpRepr { seq_number: seq(1000), ..RECV };
    assert_eq!(recv_one(&mut s, ms(200)), probe);
    assert_eq!(s.poll_at(), Some(ms(600)));
    assert_eq!(recv_one(&mut s, ms(600)), probe);
    assert_eq!(s.poll_at(), Some(ms(1400)));
    // The probe's answer still shows a zero window: keep waiting.
    send(&mut s, ms(610), &TcpRepr { window_len: 0, ..SEND }, &[]);
    recv_nothing(&mut s, ms(700));
    // Then the window opens.
    send(&mut s, ms(800), &TcpRepr { window_len: 100, ..SEND }, &[]);
    assert_eq!(recv_all(&mut s, ms(800)), vec![(TcpRepr { push: true, payload_len: 7, ..RECV }, b"blocked".to_vec())]);
    assert_eq!(s.info().retransmits, 0);
}

#[test]
fn zero_window_probes_never_abort() {
    let mut s = established_with(TcpConfig { max_retransmits: 1, ..plain_config() });
    send(&mut s, ms(0), &TcpRepr { window_len: 0, ..SEND }, &[]);
    s.send_slice(b"x").unwrap();
    let mut now = ms(0);
    for _ in 0..10 {
        recv_all(&mut s, now);
        now = s.poll_at().unwrap();
    }
    assert_eq!(s.state(), State::Established);
}

#[test]
fn keepalive_probes_idle_connection() {
    let mut s = established_with(TcpConfig { keep_alive: Some(Duration::from_secs(10)), ..plain_config() });
    assert_eq!(s.poll_at(), Some(ms(10_000)));
    recv_nothing(&mut s, ms(9_999));
    let probe = TcpRepr { seq_number: seq(1000), ..RECV };
    assert_eq!(recv_one(&mut s, ms(10_000)), probe);
    assert_eq!(s.poll_at(), Some(ms(20_000)));
    // An answer from the peer restarts the idle clock.
    send(&mut s, ms(10_005), &SEND, &[]);
    assert_eq!(s.poll_at(), Some(ms(20_005)));
    assert_eq!(recv_one(&mut s, ms(20_005)), probe);
}

#[test]
fn keepalive_off_by_default() {
    let s = established();
    assert_eq!(s.poll_at(), None);
}

#[test]
fn keepalive_waits_while_data_outstanding() {
    let mut s = established_with(TcpConfig { keep_alive: Some(Duration::from_secs(1)), ..plain_config() });
    app_send(&mut s, ms(0), b"abc");
    // The retransmission timer, not the keepalive, is next.
    assert_eq!(s.poll_at(), Some(ms(200)));
}

#[test]
fn delayed_ack_timer_shown_in_poll_at() {
    let mut s = established_with(TcpConfig { ack_delay: Some(Duration::from_millis(100)), ..plain_config() });
    send(&mut s, ms(5), &SEND, b"x");
    assert_eq!(s.poll_at(), Some(ms(105)));
    // A later segment does not push the deadline back.
    send(&mut s, ms(50), &TcpRepr { seq_number: seq(10002), ..SEND }, b"y");
    assert_eq!(s.poll_at(), Some(ms(105)));
}

#[test]
fn poll_at_is_earliest_timer() {
    let mut s = established_with(TcpConfig { keep_alive: Some(Duration::from_secs(5)), ..plain_config() });
    send(&mut s, ms(0), &SEND, b"x");
    // ACK delay (40 ms) is sooner than keepalive.
    assert_eq!(s.poll_at(), Some(ms(40)));
    recv_all(&mut s, ms(40));
    assert_eq!(s.poll_at(), Some(ms(5000)));
}

#[test]
fn fin_retransmitted_on_timeout() {
    let mut s = fin_wait_1();
    assert_eq!(recv_one(&mut s, ms(200)), TcpRepr { control: TcpControl::Fin, ..RECV });
    assert_eq!(recv_one(&mut s, ms(600)), TcpRepr { control: TcpControl::Fin, ..RECV });
}

#[test]
fn data_and_fin_retransmitted_together() {
    let mut s = established();
    s.send_slice(b"end").unwrap();
    s.close();
    recv_all(&mut s, ms(0));
    let segs = recv_all(&mut s, ms(200));
    assert_eq!(segs, vec![(TcpRepr { control: TcpControl::Fin, push: true, payload_len: 3, ..RECV }, b"end".to_vec())]);
}

#[test]
fn rtt_estimate_follows_samples() {
    let mut s = established_with(TcpConfig { rto_min: Duration::from_millis(1), ..plain_config() });
    let mut now = 0;
    for i in 0..20u32 {
        app_send(&mut s, ms(now), b"x");
        now += 100;
        send(&mut s, ms(now), &TcpRepr { ack_number: Some(seq(1002 + i)), ..SEND }, &[]);
    }
    let info = s.info();
    let srtt = info.srtt.unwrap();
    assert!(srtt > Duration::from_millis(90) && srtt <= Duration::from_millis(100), "{srtt}");
    assert!(info.rto >= srtt && info.rto < Duration::from_millis(200), "{}", info.rto);
}

#[test]
fn keepalive_gives_up_after_unanswered_probes() {
    let config = TcpConfig { keep_alive: Some(Duration::from_secs(1)), keep_alive_probes: 2, ..plain_config() };
    let mut s = established_with(config);
    let probe = TcpRepr { seq_number: seq(1000), ..RECV };
    assert_eq!(recv_one(&mut s, ms(1000)), probe);
    assert_eq!(recv_one(&mut s, ms(2000)), probe);
    assert_eq!(recv_one(&mut s, ms(3000)), TcpRepr { control: TcpControl::Rst, window_len: 0, ..RECV });
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn acks_carry_highest_sequence_while_retransmitting() {
    let mut s = established_with(TcpConfig { nagle: false, ack_delay: None, ..plain_config() });
    assert_eq!(app_send(&mut s, ms(0), &pattern(0, 3000)).len(), 3);
    // Timeout: go back to SND.UNA with a one-segment window.
    let segs = recv_all(&mut s, ms(200));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.seq_number, seq(1001));
    // The peer may hold everything: our ACK must not look old to it.
    send(&mut s, ms(210), &SEND, b"x");
    assert_eq!(
        recv_one(&mut s, ms(210)),
        TcpRepr { seq_number: seq(4001), ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
}

#[test]
fn ack_sequence_stays_inside_peer_window() {
    let mut s = established_with(TcpConfig { nagle: false, ack_delay: None, ..plain_config() });
    app_send(&mut s, ms(0), &pattern(0, 3000));
    // The peer shrinks its window to 100 bytes (it should not, but may).
    let shrink = TcpRepr { seq_number: seq(10001), window_len: 100, ..SEND };
    send(&mut s, ms(1), &shrink, b"y");
    assert_eq!(recv_one(&mut s, ms(1)).seq_number, seq(1101));
}

#[test]
fn persist_timer_visible_in_poll_at_before_dispatch() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { window_len: 0, ..SEND }, &[]);
    s.send_slice(b"x").unwrap();
    // An interface that only dispatches sockets whose deadline has come
    // must still get this socket to arm its persist timer.
    assert_eq!(s.poll_at(), Some(Instant::ZERO));
    recv_nothing(&mut s, ms(0));
    assert_eq!(s.poll_at(), Some(ms(200)));
}
