//! Closing: active, passive, simultaneous, half-close, TIME-WAIT.

use super::*;

const FIN: TcpRepr = TcpRepr { control: TcpControl::Fin, ..SEND };

#[test]
fn active_close_full_sequence() {
    let mut s = fin_wait_1();
    assert_eq!(s.poll_at(), Some(ms(200)));
    assert_eq!(send(&mut s, ms(1), &TcpRepr { ack_number: Some(seq(1002)), ..SEND }, &[]), None);
    assert_eq!(s.state(), State::FinWait2);
    assert_eq!(s.poll_at(), None);
    assert_eq!(send(&mut s, ms(2), &TcpRepr { ack_number: Some(seq(1002)), ..FIN }, &[]), None);
    assert_eq!(s.state(), State::TimeWait);
    assert_eq!(
        recv_one(&mut s, ms(2)),
        TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
    // 2 * MSL = 60 s by default.
    assert_eq!(s.poll_at(), Some(ms(60_002)));
    recv_nothing(&mut s, ms(60_001));
    assert_eq!(s.state(), State::TimeWait);
    recv_nothing(&mut s, ms(60_002));
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.poll_at(), None);
}

#[test]
fn fin_follows_queued_data_on_last_segment() {
    let mut s = established();
    s.send_slice(b"bye").unwrap();
    s.close();
    assert_eq!(s.state(), State::FinWait1);
    let segs = recv_all(&mut s, ms(0));
    assert_eq!(segs, vec![(TcpRepr { control: TcpControl::Fin, push: true, payload_len: 3, ..RECV }, b"bye".to_vec())]);
    // ACK of the data only: still FIN-WAIT-1.
    send(&mut s, ms(1), &TcpRepr { ack_number: Some(seq(1004)), ..SEND }, &[]);
    assert_eq!(s.state(), State::FinWait1);
    send(&mut s, ms(1), &TcpRepr { ack_number: Some(seq(1005)), ..SEND }, &[]);
    assert_eq!(s.state(), State::FinWait2);
}

#[test]
fn fin_waits_for_data_the_window_holds_back() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { window_len: 2, ..SEND }, &[]);
    s.send_slice(b"abcd").unwrap();
    s.close();
    // Window 2 (the largest so far was 8192): nothing until the persist
    // timer forces the two bytes out, without the FIN.
    recv_nothing(&mut s, ms(0));
    let segs = recv_all(&mut s, ms(200));
    assert_eq!(segs, vec![(TcpRepr { payload_len: 2, ..RECV }, b"ab".to_vec())]);
    send(&mut s, ms(210), &TcpRepr { ack_number: Some(seq(1003)), window_len: 100, ..SEND }, &[]);
    let segs = recv_all(&mut s, ms(210));
    assert_eq!(
        segs,
        vec![(
            TcpRepr { seq_number: seq(1003), control: TcpControl::Fin, push: true, payload_len: 2, ..RECV },
            b"cd".to_vec()
        )]
    );
}

#[test]
fn fin_wait_1_fin_ack_goes_to_time_wait() {
    let mut s = fin_wait_1();
    assert_eq!(send(&mut s, ms(1), &TcpRepr { ack_number: Some(seq(1002)), ..FIN }, &[]), None);
    assert_eq!(s.state(), State::TimeWait);
    assert_eq!(
        recv_one(&mut s, ms(1)),
        TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
}

#[test]
fn simultaneous_close() {
    let mut s = closing();
    assert_eq!(s.poll_at(), Some(ms(200)));
    assert_eq!(
        send(&mut s, ms(1), &TcpRepr { seq_number: seq(10002), ack_number: Some(seq(1002)), ..SEND }, &[]),
        None
    );
    assert_eq!(s.state(), State::TimeWait);
    assert_eq!(s.poll_at(), Some(ms(60_001)));
}

#[test]
fn closing_retransmits_fin() {
    let mut s = closing();
    assert_eq!(
        recv_one(&mut s, ms(200)),
        TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
}

#[test]
fn passive_close_full_sequence() {
    let mut s = close_wait();
    assert!(!s.may_recv());
    assert_eq!(s.recv_slice(&mut [0; 4]), Err(RecvError::Finished));
    assert!(s.may_send());
    s.close();
    assert_eq!(s.state(), State::LastAck);
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
    assert_eq!(
        send(&mut s, ms(1), &TcpRepr { seq_number: seq(10002), ack_number: Some(seq(1002)), ..SEND }, &[]),
        None
    );
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn last_ack_retransmits_fin_then_gives_up() {
    let mut s = last_ack();
    let fin = TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(10002)), window_len: 4095, ..RECV };
    assert_eq!(recv_one(&mut s, ms(200)), fin);
    assert_eq!(recv_one(&mut s, ms(600)), fin);
}

#[test]
fn close_wait_still_sends_data() {
    let mut s = close_wait();
    let segs = app_send(&mut s, ms(1), b"late");
    assert_eq!(
        segs,
        vec![(
            TcpRepr { push: true, payload_len: 4, ack_number: Some(seq(10002)), window_len: 4095, ..RECV },
            b"late".to_vec()
        )]
    );
}

#[test]
fn half_close_keeps_receiving_in_fin_wait_2() {
    let mut s = fin_wait_2();
    assert!(s.may_recv());
    send(&mut s, ms(1), &TcpRepr { ack_number: Some(seq(1002)), ..SEND }, b"more");
    assert_eq!(app_recv(&mut s), b"more");
    assert_eq!(
        recv_one(&mut s, ms(41)),
        TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10005)), window_len: 4092, ..RECV }
    );
}

#[test]
fn fin_wait_1_receives_data() {
    let mut s = fin_wait_1();
    send(&mut s, ms(1), &SEND, b"crossing");
    assert_eq!(app_recv(&mut s), b"crossing");
    assert_eq!(s.state(), State::FinWait1);
}

#[test]
fn fin_with_data_read_then_finished() {
    let mut s = established();
    send(&mut s, ms(0), &TcpRepr { control: TcpControl::Fin, ..SEND }, b"last");
    assert_eq!(s.state(), State::CloseWait);
    assert_eq!(recv_one(&mut s, ms(0)), TcpRepr { ack_number: Some(seq(10006)), window_len: 4091, ..RECV });
    assert!(s.may_recv());
    assert_eq!(app_recv(&mut s), b"last");
    assert_eq!(s.recv_slice(&mut [0; 1]), Err(RecvError::Finished));
}

#[test]
fn out_of_order_fin_not_taken() {
    let mut s = established();
    let fin = TcpRepr { control: TcpControl::Fin, seq_number: seq(10005), ..SEND };
    assert_eq!(send(&mut s, ms(0), &fin, b"tail"), Some(TcpRepr { window_len: 4096, ..RECV }));
    assert_eq!(s.state(), State::Established);
    // The hole fills; the FIN must be retransmitted to count.
    send(&mut s, ms(1), &SEND, b"head");
    assert_eq!(s.recv_queue(), 8);
    assert_eq!(s.state(), State::Established);
    send(&mut s, ms(2), &TcpRepr { seq_number: seq(10009), ..fin }, &[]);
    assert_eq!(s.state(), State::CloseWait);
}

#[test]
fn time_wait_acks_retransmitted_fin_and_restarts_timer() {
    let mut s = time_wait();
    let fin = TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(1002)), ..SEND };
    assert_eq!(
        send(&mut s, ms(30_000), &fin, &[]),
        Some(TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10002)), window_len: 4095, ..RECV })
    );
    assert_eq!(s.poll_at(), Some(ms(90_000)));
}

#[test]
fn time_wait_length_is_configurable() {
    let mut s = established_with(TcpConfig { msl: Duration::from_secs(2), ..plain_config() });
    s.close();
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(1002)), ..SEND }, &[]);
    assert_eq!(s.state(), State::TimeWait);
    recv_all(&mut s, ms(0));
    assert_eq!(s.poll_at(), Some(ms(4000)));
    recv_nothing(&mut s, ms(4000));
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn time_wait_ignores_data_and_answers_syn_with_challenge_ack() {
    let mut s = time_wait();
    let ack = TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10002)), window_len: 4095, ..RECV };
    let syn = TcpRepr { control: TcpControl::Syn, seq_number: seq(10002), ack_number: None, ..SEND };
    assert_eq!(send(&mut s, ms(5), &syn, &[]), Some(ack));
    assert_eq!(s.state(), State::TimeWait);
}

#[test]
fn unread_data_survives_close() {
    let mut s = established();
    send(&mut s, ms(0), &SEND, b"keep");
    s.close();
    recv_all(&mut s, ms(0));
    send(
        &mut s,
        ms(1),
        &TcpRepr { control: TcpControl::Fin, seq_number: seq(10005), ack_number: Some(seq(1002)), ..SEND },
        &[],
    );
    assert_eq!(s.state(), State::TimeWait);
    recv_all(&mut s, ms(1));
    recv_all(&mut s, ms(100_000));
    assert_eq!(s.state(), State::Closed);
    assert_eq!(app_recv(&mut s), b"keep");
}

#[test]
fn close_twice_is_harmless() {
    let mut s = fin_wait_1();
    s.close();
    assert_eq!(s.state(), State::FinWait1);
    recv_nothing(&mut s, ms(1));
}

#[test]
fn time_wait_reused_by_syn_with_higher_sequence() {
    let mut s = time_wait();
    let syn = TcpRepr { seq_number: seq(50_000), ..SYN };
    assert_eq!(send(&mut s, ms(5), &syn, &[]), None);
    assert_eq!(s.state(), State::SynReceived);
    let syn_ack = recv_one(&mut s, ms(5));
    assert_eq!(syn_ack.control, TcpControl::Syn);
    assert_eq!(syn_ack.ack_number, Some(seq(50_001)));
    // The new connection starts above the old one's sequence space.
    assert!(syn_ack.seq_number > seq(1002));
}

#[test]
fn time_wait_not_reused_while_data_unread() {
    // Found by fuzzing (net/fuzz tcp_socket): reuse reset the socket and
    // dropped data the peer had sent, and we had acknowledged, before the
    // application read it.
    let mut s = fin_wait_2();
    let ack = Some(seq(1002));
    assert_eq!(send(&mut s, ms(0), &TcpRepr { ack_number: ack, ..SEND }, b"hello"), None);
    let fin = TcpRepr { control: TcpControl::Fin, seq_number: seq(10006), ack_number: ack, ..SEND };
    assert_eq!(send(&mut s, ms(0), &fin, &[]), None);
    assert_eq!(s.state(), State::TimeWait);
    recv_all(&mut s, ms(0));
    let reply = send(&mut s, ms(5), &TcpRepr { seq_number: seq(50_000), ..SYN }, &[]).unwrap();
    assert_eq!(reply.control, TcpControl::None);
    assert_eq!(s.state(), State::TimeWait);
    assert_eq!(app_recv(&mut s), b"hello");
}

#[test]
fn time_wait_reuse_keeps_iss_above_old_connection() {
    let mut s = time_wait();
    // Pretend the old connection sent more than the ISN clock moved.
    let fresh = initial_sequence_number(&[0; 16], LOCAL, REMOTE, ms(5));
    s.snd_max = fresh + 1000;
    let old = s.snd_max;
    send(&mut s, ms(5), &TcpRepr { seq_number: seq(50_000), ..SYN }, &[]);
    assert_eq!(recv_one(&mut s, ms(5)).seq_number, old + 1);
}

#[test]
fn time_wait_of_active_open_not_reused() {
    let mut s = syn_sent();
    send(&mut s, ms(0), &TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ..SEND }, &[]);
    recv_all(&mut s, ms(0));
    s.close();
    recv_all(&mut s, ms(0));
    send(&mut s, ms(1), &TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(1002)), ..SEND }, &[]);
    assert_eq!(s.state(), State::TimeWait);
    recv_all(&mut s, ms(1));
    let reply = send(&mut s, ms(2), &TcpRepr { seq_number: seq(50_000), ..SYN }, &[]).unwrap();
    assert_eq!(reply.control, TcpControl::None);
    assert_eq!(s.state(), State::TimeWait);
}

#[test]
fn time_wait_reuse_by_newer_timestamp() {
    use crate::wire::tcp::TcpTimestamp;
    let ts = |v: u32, e: u32| Some(TcpTimestamp { tsval: v, tsecr: e });
    let config = TcpConfig { timestamps: true, ..plain_config() };
    let mut s = listening_with(config);
    send(&mut s, ms(0), &TcpRepr { timestamp: ts(100, 0), ..SYN }, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &TcpRepr { timestamp: ts(101, 0), ..SEND }, &[]);
    s.close();
    recv_all(&mut s, ms(0));
    let fin = TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(1002)), timestamp: ts(102, 0), ..SEND };
    send(&mut s, ms(1), &fin, &[]);
    assert_eq!(s.state(), State::TimeWait);
    recv_all(&mut s, ms(1));
    // A lower sequence number, but a newer timestamp: a new connection.
    let syn = TcpRepr { seq_number: seq(5), timestamp: ts(200, 0), ..SYN };
    assert_eq!(send(&mut s, ms(2), &syn, &[]), None);
    assert_eq!(s.state(), State::SynReceived);
    // An older timestamp would not have been.
    let mut t = time_wait();
    let stale = TcpRepr { seq_number: seq(5), ..SYN };
    assert!(send(&mut t, ms(2), &stale, &[]).is_some());
    assert_eq!(t.state(), State::TimeWait);
}

/// Builds a passive connection with timestamps that the peer closed last
/// with TSval 102 (its FIN): TIME-WAIT with TS.Recent = 102, RCV.NXT = 10002.
fn time_wait_with_timestamps() -> TcpSocket<'static> {
    use crate::wire::tcp::TcpTimestamp;
    let ts = |v: u32| Some(TcpTimestamp { tsval: v, tsecr: 0 });
    let mut s = listening_with(TcpConfig { timestamps: true, ..plain_config() });
    send(&mut s, ms(0), &TcpRepr { timestamp: ts(100), ..SYN }, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &TcpRepr { timestamp: ts(101), ..SEND }, &[]);
    s.close();
    recv_all(&mut s, ms(0));
    send(
        &mut s,
        ms(1),
        &TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(1002)), timestamp: ts(102), ..SEND },
        &[],
    );
    assert_eq!(s.state(), State::TimeWait);
    recv_all(&mut s, ms(1));
    s
}

#[test]
fn time_wait_reuse_by_equal_timestamp_and_higher_sequence() {
    use crate::wire::tcp::TcpTimestamp;
    // A client reusing its port within the same millisecond (seen with
    // Linux and wrk): same TSval as its FIN, a later ISN (RFC 6191).
    let mut s = time_wait_with_timestamps();
    let syn = TcpRepr { seq_number: seq(50_000), timestamp: Some(TcpTimestamp { tsval: 102, tsecr: 0 }), ..SYN };
    assert_eq!(send(&mut s, ms(2), &syn, &[]), None);
    assert_eq!(s.state(), State::SynReceived);
    assert_eq!(recv_one(&mut s, ms(2)).control, TcpControl::Syn);
}

#[test]
fn time_wait_not_reused_by_equal_timestamp_and_old_sequence() {
    use crate::wire::tcp::TcpTimestamp;
    let mut s = time_wait_with_timestamps();
    let syn = TcpRepr { seq_number: seq(5), timestamp: Some(TcpTimestamp { tsval: 102, tsecr: 0 }), ..SYN };
    let reply = send(&mut s, ms(2), &syn, &[]).expect("the TIME-WAIT acknowledgement");
    assert_eq!(reply.control, TcpControl::None);
    assert_eq!(s.state(), State::TimeWait);
}

#[test]
fn reset_leaves_every_connection_variable_as_a_new_socket_has_it() {
    let mut s = established();
    // Out-of-order data (a reassembly range), data of our own in flight,
    // an RTT sample and timers armed.
    let ooo = TcpRepr { seq_number: REMOTE_SEQ + 1 + 100, ..SEND };
    assert!(send(&mut s, ms(1), &ooo, b"later").is_some());
    s.send_slice(b"hello").unwrap();
    assert!(recv_all(&mut s, ms(2)).iter().any(|(repr, data)| repr.payload_len == 5 && data == b"hello"));
    assert!(s.poll_at().is_some());
    s.abort();
    assert_eq!(recv_all(&mut s, ms(3)).last().map(|(repr, _)| repr.control), Some(TcpControl::Rst));
    assert_eq!(s.state(), State::Closed);
    // The buffers are the caller's (their bytes stay): compare the rest.
    s.rx_buffer = RingBuffer::new(vec![0u8; BUF].leak());
    s.tx_buffer = RingBuffer::new(vec![0u8; BUF].leak());
    let fresh = socket_with(*s.config(), BUF, BUF);
    assert_eq!(std::format!("{s:?}"), std::format!("{fresh:?}"));
}
