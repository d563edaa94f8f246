//! RST handling in every state, RFC 5961 challenge ACKs, abort.

use super::*;

const RST: TcpRepr = TcpRepr { control: TcpControl::Rst, ack_number: None, ..SEND };

fn exact_rst_closes(mut s: TcpSocket, rcv_nxt: u32) {
    assert_eq!(send(&mut s, ms(1), &TcpRepr { seq_number: seq(rcv_nxt), ..RST }, &[]), None);
    assert_eq!(s.state(), State::Closed);
    recv_nothing(&mut s, ms(100_000));
}

#[test]
fn rst_closes_established() {
    exact_rst_closes(established(), 10001);
}
#[test]
fn rst_closes_fin_wait_1() {
    exact_rst_closes(fin_wait_1(), 10001);
}
#[test]
fn rst_closes_fin_wait_2() {
    exact_rst_closes(fin_wait_2(), 10001);
}
#[test]
fn rst_closes_close_wait() {
    exact_rst_closes(close_wait(), 10002);
}
#[test]
fn rst_closes_closing() {
    exact_rst_closes(closing(), 10002);
}
#[test]
fn rst_closes_last_ack() {
    exact_rst_closes(last_ack(), 10002);
}
#[test]
fn rst_closes_time_wait() {
    exact_rst_closes(time_wait(), 10002);
}

#[test]
fn rst_discards_queued_data() {
    let mut s = established();
    send(&mut s, ms(0), &SEND, b"unread");
    s.send_slice(b"unsent").unwrap();
    exact_rst_closes_ref(&mut s);
    assert_eq!(s.recv_queue(), 0);
    assert_eq!(s.send_queue(), 0);
}

fn exact_rst_closes_ref(s: &mut TcpSocket) {
    assert_eq!(send(s, ms(1), &TcpRepr { seq_number: seq(10007), ..RST }, &[]), None);
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn in_window_rst_gets_challenge_ack() {
    let mut s = established();
    for offset in [1, 100, 4095] {
        assert_eq!(send(&mut s, ms(1), &TcpRepr { seq_number: seq(10001 + offset), ..RST }, &[]), Some(RECV));
        assert_eq!(s.state(), State::Established);
    }
}

#[test]
fn out_of_window_rst_ignored() {
    let mut s = established();
    for n in [10000, 10001 + 4096, 9000, 200_000] {
        assert_eq!(send(&mut s, ms(1), &TcpRepr { seq_number: seq(n), ..RST }, &[]), None);
        assert_eq!(s.state(), State::Established);
    }
}

#[test]
fn in_window_rst_challenged_in_closing_states() {
    for mut s in [fin_wait_1(), fin_wait_2()] {
        let state = s.state();
        let reply = send(&mut s, ms(1), &TcpRepr { seq_number: seq(10050), ..RST }, &[]).unwrap();
        assert_eq!(reply.control, TcpControl::None);
        assert_eq!(reply.ack_number, Some(seq(10001)));
        assert_eq!(s.state(), state);
    }
}

#[test]
fn syn_in_established_gets_challenge_ack() {
    let mut s = established();
    for n in [10001, 10500, 5] {
        let syn = TcpRepr { control: TcpControl::Syn, seq_number: seq(n), ack_number: None, ..SEND };
        assert_eq!(send(&mut s, ms(1), &syn, &[]), Some(RECV));
        assert_eq!(s.state(), State::Established);
    }
}

#[test]
fn syn_ack_in_established_gets_challenge_ack() {
    let mut s = established();
    let syn = TcpRepr { control: TcpControl::Syn, seq_number: seq(10001), ..SEND };
    assert_eq!(send(&mut s, ms(1), &syn, b"data"), Some(RECV));
    assert_eq!(s.recv_queue(), 0);
}

#[test]
fn syn_in_close_wait_gets_challenge_ack() {
    let mut s = close_wait();
    let syn = TcpRepr { control: TcpControl::Syn, seq_number: seq(10002), ack_number: None, ..SEND };
    assert_eq!(
        send(&mut s, ms(1), &syn, &[]),
        Some(TcpRepr { ack_number: Some(seq(10002)), window_len: 4095, ..RECV })
    );
    assert_eq!(s.state(), State::CloseWait);
}

#[test]
fn in_window_rst_in_syn_received_challenged() {
    let mut s = syn_received();
    assert_eq!(send(&mut s, ms(1), &TcpRepr { seq_number: seq(10010), ..RST }, &[]), Some(RECV));
    assert_eq!(s.state(), State::SynReceived);
}

#[test]
fn abort_sends_rst_and_closes() {
    let mut s = established();
    app_send(&mut s, ms(0), b"abc");
    s.abort();
    assert_eq!(
        recv_one(&mut s, ms(1)),
        TcpRepr { control: TcpControl::Rst, seq_number: seq(1004), window_len: 0, ..RECV }
    );
    assert_eq!(s.state(), State::Closed);
    recv_nothing(&mut s, ms(5000));
}

#[test]
fn abort_in_time_wait_is_silent() {
    let mut s = time_wait();
    s.abort();
    assert_eq!(s.state(), State::Closed);
    recv_nothing(&mut s, ms(1));
}

#[test]
fn abort_in_listen_closes() {
    let mut s = listening();
    s.abort();
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn reset_reply_for_segment_with_ack() {
    let seg = TcpRepr { ack_number: Some(seq(777)), ..SEND };
    let reply = rst_reply(LOCAL, REMOTE, &TcpRepr { payload_len: 3, ..seg }).unwrap();
    assert_eq!((reply.local, reply.remote), (LOCAL, REMOTE));
    assert_eq!(
        reply.repr,
        TcpRepr {
            src_port: LOCAL_PORT,
            dst_port: REMOTE_PORT,
            control: TcpControl::Rst,
            seq_number: seq(777),
            ..TcpRepr::default()
        }
    );
}

#[test]
fn reset_reply_for_segment_without_ack() {
    let seg = TcpRepr { control: TcpControl::Syn, ack_number: None, payload_len: 3, ..SEND };
    let reply = rst_reply(LOCAL, REMOTE, &seg).unwrap();
    assert_eq!(
        reply.repr,
        TcpRepr {
            src_port: LOCAL_PORT,
            dst_port: REMOTE_PORT,
            control: TcpControl::Rst,
            seq_number: seq(0),
            ack_number: Some(seq(10001 + 4)),
            ..TcpRepr::default()
        }
    );
}

#[test]
fn no_reset_for_reset() {
    assert_eq!(rst_reply(LOCAL, REMOTE, &RST), None);
}

#[test]
fn closed_socket_process_answers_rst() {
    let mut s = socket();
    let reply = s.process(ms(0), LOCAL, REMOTE, &SEND, &[]).unwrap();
    assert_eq!(reply.repr.control, TcpControl::Rst);
    assert_eq!(reply.repr.seq_number, seq(1001));
}

#[test]
fn challenge_acks_are_rate_limited() {
    let mut s = established_with(TcpConfig { challenge_ack_limit: 3, ..plain_config() });
    let rst = TcpRepr { seq_number: seq(10050), ..RST };
    for _ in 0..3 {
        assert_eq!(send(&mut s, ms(100), &rst, &[]), Some(RECV));
    }
    assert_eq!(send(&mut s, ms(100), &rst, &[]), None);
    let syn = TcpRepr { control: TcpControl::Syn, ack_number: None, ..SEND };
    assert_eq!(send(&mut s, ms(500), &syn, &[]), None);
    // A new second, a new budget.
    assert_eq!(send(&mut s, ms(1100), &rst, &[]), Some(RECV));
    assert_eq!(s.state(), State::Established);
}

#[test]
fn ack_above_snd_max_challenge_counts_against_budget() {
    let mut s = established_with(TcpConfig { challenge_ack_limit: 1, ..plain_config() });
    let bad = TcpRepr { ack_number: Some(seq(5000)), ..SEND };
    assert_eq!(send(&mut s, ms(0), &bad, &[]), Some(RECV));
    assert_eq!(send(&mut s, ms(0), &bad, &[]), None);
}
