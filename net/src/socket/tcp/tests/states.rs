//! The same checks in every synchronized state: each answer asserted as
//! the exact segment (RFC 9293 3.10.7.4 and RFC 5961).

use super::*;

/// Our ACK in a state where we expect `rcv_nxt` and send from `snd_nxt`.
fn ack_from(snd_nxt: u32, rcv_nxt: u32) -> TcpRepr {
    // One sequence number of the window went to the peer's FIN.
    let window = if rcv_nxt == 10002 { 4095 } else { 4096 };
    TcpRepr { seq_number: seq(snd_nxt), ack_number: Some(seq(rcv_nxt)), window_len: window, ..RECV }
}

macro_rules! state_checks {
    ($name:ident, $make:expr, $state:expr, snd_nxt = $snd:expr, rcv_nxt = $rcv:expr) => {
        mod $name {
            use super::*;

            fn make() -> TcpSocket<'static> {
                $make
            }

            #[test]
            fn old_segment_answered_with_ack() {
                let mut s = make();
                let old = TcpRepr { seq_number: seq($rcv - 100), ack_number: Some(seq($snd)), ..SEND };
                assert_eq!(send(&mut s, ms(1), &old, b"0123456789"), Some(ack_from($snd, $rcv)));
                assert_eq!(s.state(), $state);
            }

            #[test]
            fn segment_beyond_window_answered_with_ack() {
                let mut s = make();
                let far = TcpRepr { seq_number: seq($rcv + 10_000), ack_number: Some(seq($snd)), ..SEND };
                assert_eq!(send(&mut s, ms(1), &far, b"x"), Some(ack_from($snd, $rcv)));
                assert_eq!(s.state(), $state);
            }

            #[test]
            fn syn_answered_with_challenge_ack() {
                let mut s = make();
                let syn = TcpRepr { control: TcpControl::Syn, seq_number: seq($rcv), ack_number: None, ..SEND };
                assert_eq!(send(&mut s, ms(1), &syn, &[]), Some(ack_from($snd, $rcv)));
                assert_eq!(s.state(), $state);
            }

            #[test]
            fn in_window_rst_answered_with_challenge_ack() {
                let mut s = make();
                let rst = TcpRepr { control: TcpControl::Rst, seq_number: seq($rcv + 10), ack_number: None, ..SEND };
                assert_eq!(send(&mut s, ms(1), &rst, &[]), Some(ack_from($snd, $rcv)));
                assert_eq!(s.state(), $state);
            }

            #[test]
            fn rst_outside_window_ignored() {
                let mut s = make();
                let rst = TcpRepr { control: TcpControl::Rst, seq_number: seq($rcv - 1), ack_number: None, ..SEND };
                assert_eq!(send(&mut s, ms(1), &rst, &[]), None);
                assert_eq!(s.state(), $state);
            }

            #[test]
            fn ack_of_unsent_data_answered_with_challenge_ack() {
                let mut s = make();
                let ack = TcpRepr { seq_number: seq($rcv), ack_number: Some(seq($snd + 5000)), ..SEND };
                assert_eq!(send(&mut s, ms(1), &ack, &[]), Some(ack_from($snd, $rcv)));
                assert_eq!(s.state(), $state);
            }

            #[test]
            fn segment_without_ack_flag_dropped() {
                let mut s = make();
                let seg = TcpRepr { seq_number: seq($rcv), ack_number: None, ..SEND };
                assert_eq!(send(&mut s, ms(1), &seg, b"data"), None);
                assert_eq!(s.state(), $state);
                assert_eq!(s.recv_queue(), 0);
            }
        }
    };
}

state_checks!(established_state, established(), State::Established, snd_nxt = 1001, rcv_nxt = 10001);
state_checks!(fin_wait_1_state, fin_wait_1(), State::FinWait1, snd_nxt = 1002, rcv_nxt = 10001);
state_checks!(fin_wait_2_state, fin_wait_2(), State::FinWait2, snd_nxt = 1002, rcv_nxt = 10001);
state_checks!(close_wait_state, close_wait(), State::CloseWait, snd_nxt = 1001, rcv_nxt = 10002);
state_checks!(closing_state, closing(), State::Closing, snd_nxt = 1002, rcv_nxt = 10002);
state_checks!(last_ack_state, last_ack(), State::LastAck, snd_nxt = 1002, rcv_nxt = 10002);
state_checks!(time_wait_state, time_wait(), State::TimeWait, snd_nxt = 1002, rcv_nxt = 10002);

#[test]
fn data_after_fin_ignored_in_close_wait() {
    let mut s = close_wait();
    let more = TcpRepr { seq_number: seq(10002), ..SEND };
    assert_eq!(send(&mut s, ms(1), &more, b"late"), None);
    assert_eq!(s.recv_queue(), 0);
    recv_nothing(&mut s, ms(100));
}

#[test]
fn retransmitted_syn_ack_in_established_answered_with_ack() {
    // Our ACK of the SYN-ACK was lost; the peer sends it again.
    let mut s = syn_sent();
    let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ..SEND };
    send(&mut s, ms(0), &syn_ack, &[]);
    assert_eq!(recv_one(&mut s, ms(0)), RECV);
    assert_eq!(send(&mut s, ms(300), &syn_ack, &[]), Some(RECV));
    assert_eq!(s.state(), State::Established);
}

#[test]
fn syn_ack_data_is_not_taken_before_established() {
    let mut s = syn_sent();
    let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ..SEND };
    send(&mut s, ms(0), &syn_ack, b"early");
    // The ACK asks for the data again.
    assert_eq!(recv_one(&mut s, ms(0)), RECV);
    assert_eq!(s.recv_queue(), 0);
}

#[test]
fn zero_window_probe_answered_with_zero_window() {
    let mut s = socket_with(plain_config(), 8, 64);
    s.listen(80).unwrap();
    send(&mut s, ms(0), &SYN, &[]);
    force_iss(&mut s, LOCAL_SEQ);
    recv_all(&mut s, ms(0));
    send(&mut s, ms(0), &SEND, &[]);
    send(&mut s, ms(0), &SEND, b"12345678");
    assert_eq!(recv_one(&mut s, ms(40)), TcpRepr { ack_number: Some(seq(10009)), window_len: 0, ..RECV });
    // A Linux-style probe (one below RCV.NXT, no data).
    let probe = TcpRepr { seq_number: seq(10008), ..SEND };
    assert_eq!(
        send(&mut s, ms(200), &probe, &[]),
        Some(TcpRepr { ack_number: Some(seq(10009)), window_len: 0, ..RECV })
    );
    // Reading opens the window; the update goes out.
    app_recv(&mut s);
    assert_eq!(recv_one(&mut s, ms(210)), TcpRepr { ack_number: Some(seq(10009)), window_len: 8, ..RECV });
}

#[test]
fn out_of_order_segment_acked_even_with_delayed_ack_pending() {
    let mut s = established();
    send(&mut s, ms(0), &SEND, b"a");
    assert_eq!(s.poll_at(), Some(ms(40)));
    let ooo = TcpRepr { seq_number: seq(10010), ..SEND };
    assert_eq!(
        send(&mut s, ms(1), &ooo, b"z"),
        Some(TcpRepr { ack_number: Some(seq(10002)), window_len: 4095, ..RECV })
    );
    // That ACK covered the pending one.
    recv_nothing(&mut s, ms(50));
}

#[test]
fn four_sack_blocks_offered_without_timestamps() {
    let config = TcpConfig { sack: true, ..plain_config() };
    let mut s = syn_received_with(config, TcpRepr { sack_permitted: true, ..SYN });
    send(&mut s, ms(0), &SEND, &[]);
    for i in 0..5u32 {
        send(&mut s, ms(0), &TcpRepr { seq_number: seq(10101 + 100 * i), ..SEND }, b"xx");
    }
    let reply = send(&mut s, ms(0), &TcpRepr { seq_number: seq(10601), ..SEND }, b"yy").unwrap();
    assert_eq!(reply.sack_ranges[0], Some((seq(10601), seq(10603))));
    assert!(reply.sack_ranges.iter().all(|b| b.is_some()));
}
