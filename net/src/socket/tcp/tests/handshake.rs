//! Opening: LISTEN, SYN-SENT, SYN-RECEIVED, simultaneous open.

use super::*;

#[test]
fn listen_validates_endpoint_and_state() {
    let mut s = socket();
    assert_eq!(s.listen(0), Err(ListenError::Unaddressable));
    assert_eq!(s.listen(80), Ok(()));
    assert_eq!(s.listen(80), Ok(()));
    assert_eq!(s.listen(81), Err(ListenError::InvalidState));
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.poll_at(), None);
}

#[test]
fn listen_accepts_only_its_port_and_address() {
    let s = listening();
    assert!(s.accepts(LOCAL, REMOTE, &SYN));
    let other = IpEndpoint::new(LOCAL.addr, 81);
    assert!(!s.accepts(other, REMOTE, &TcpRepr { dst_port: 81, ..SYN }));
    let mut bound = socket();
    bound.listen(IpListenEndpoint { addr: Some(Ipv4Address::new(10, 0, 0, 9).into()), port: 80 }).unwrap();
    assert!(!bound.accepts(LOCAL, REMOTE, &SYN));
}

#[test]
fn closed_socket_accepts_nothing() {
    let s = socket();
    assert!(!s.accepts(LOCAL, REMOTE, &SYN));
    assert_eq!(s.poll_at(), None);
}

#[test]
fn listen_syn_answered_with_syn_ack() {
    let mut s = listening();
    assert_eq!(send(&mut s, ms(0), &SYN, &[]), None);
    force_iss(&mut s, LOCAL_SEQ);
    assert_eq!(s.state(), State::SynReceived);
    assert_eq!(s.remote_endpoint(), Some(REMOTE));
    assert_eq!(s.local_endpoint(), Some(LOCAL));
    assert_eq!(s.poll_at(), Some(Instant::ZERO));
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr {
            control: TcpControl::Syn,
            seq_number: LOCAL_SEQ,
            ack_number: Some(seq(10001)),
            max_seg_size: Some(1460),
            ..RECV
        }
    );
    recv_nothing(&mut s, ms(0));
    // The retransmission timer runs for the SYN-ACK.
    assert_eq!(s.poll_at(), Some(ms(1000)));
}

#[test]
fn listen_ignores_rst() {
    let mut s = listening();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Rst, ack_number: None, ..SEND }, &[]), None);
    assert_eq!(s.state(), State::Listen);
}

#[test]
fn listen_answers_ack_with_rst() {
    let mut s = listening();
    assert_eq!(
        send(&mut s, ms(0), &TcpRepr { ack_number: Some(seq(555)), ..SEND }, &[]),
        Some(TcpRepr {
            src_port: LOCAL_PORT,
            dst_port: REMOTE_PORT,
            control: TcpControl::Rst,
            seq_number: seq(555),
            ack_number: None,
            ..TcpRepr::default()
        })
    );
    assert_eq!(s.state(), State::Listen);
}

#[test]
fn listen_drops_segment_without_syn_or_ack() {
    let mut s = listening();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { ack_number: None, ..SEND }, b"data"), None);
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Fin, ack_number: None, ..SEND }, &[]), None);
    assert_eq!(s.state(), State::Listen);
}

#[test]
fn syn_received_ack_establishes() {
    let mut s = syn_received();
    assert_eq!(send(&mut s, ms(5), &SEND, &[]), None);
    assert_eq!(s.state(), State::Established);
    assert!(s.may_send() && s.may_recv());
    assert_eq!(s.info().send_window, 8192);
    // Nothing outstanding: no timer left.
    assert_eq!(s.poll_at(), None);
    recv_nothing(&mut s, ms(5));
}

#[test]
fn syn_received_ack_with_data_establishes_and_queues() {
    let mut s = syn_received();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { push: true, ..SEND }, b"hello"), None);
    assert_eq!(s.state(), State::Established);
    assert_eq!(app_recv(&mut s), b"hello");
    // Delayed ACK due after 40 ms.
    assert_eq!(s.poll_at(), Some(ms(40)));
    recv_nothing(&mut s, ms(39));
    // Receiver SWS avoidance: reading 5 bytes does not move the right edge.
    assert_eq!(recv_one(&mut s, ms(40)), TcpRepr { ack_number: Some(seq(10006)), window_len: 4091, ..RECV });
}

#[test]
fn syn_received_bad_ack_answered_with_rst() {
    for ack in [1000, 1002, 5000] {
        let mut s = syn_received();
        assert_eq!(
            send(&mut s, ms(0), &TcpRepr { ack_number: Some(seq(ack)), ..SEND }, &[]),
            Some(TcpRepr {
                src_port: LOCAL_PORT,
                dst_port: REMOTE_PORT,
                control: TcpControl::Rst,
                seq_number: seq(ack),
                ..TcpRepr::default()
            })
        );
        assert_eq!(s.state(), State::SynReceived);
    }
}

#[test]
fn syn_received_without_ack_flag_dropped() {
    let mut s = syn_received();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { ack_number: None, ..SEND }, b"x"), None);
    assert_eq!(s.state(), State::SynReceived);
}

#[test]
fn syn_received_rst_returns_to_listen() {
    let mut s = syn_received();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Rst, ack_number: None, ..SEND }, &[]), None);
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.remote_endpoint(), None);
    // And it serves the next client.
    assert_eq!(send(&mut s, ms(1), &SYN, &[]), None);
    assert_eq!(s.state(), State::SynReceived);
}

#[test]
fn syn_received_from_open_from_syn_rst_closes() {
    let mut s = socket();
    s.open_from_syn(ms(0), LOCAL, REMOTE, &SYN).unwrap();
    force_iss(&mut s, LOCAL_SEQ);
    assert_eq!(s.state(), State::SynReceived);
    recv_all(&mut s, ms(0));
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Rst, ack_number: None, ..SEND }, &[]), None);
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn open_from_syn_rejects_non_syn() {
    let mut s = socket();
    assert_eq!(s.open_from_syn(ms(0), LOCAL, REMOTE, &SEND), Err(ConnectError::InvalidState));
    let mut e = established();
    assert_eq!(e.open_from_syn(ms(0), LOCAL, REMOTE, &SYN), Err(ConnectError::InvalidState));
}

#[test]
fn syn_received_retransmitted_syn_resends_syn_ack() {
    let mut s = syn_received();
    assert_eq!(send(&mut s, ms(300), &SYN, &[]), None);
    assert_eq!(
        recv_one(&mut s, ms(300)),
        TcpRepr {
            control: TcpControl::Syn,
            seq_number: LOCAL_SEQ,
            ack_number: Some(seq(10001)),
            max_seg_size: Some(1460),
            ..RECV
        }
    );
}

#[test]
fn syn_received_retransmits_syn_ack_with_backoff() {
    let mut s = syn_received();
    let syn_ack = TcpRepr {
        control: TcpControl::Syn,
        seq_number: LOCAL_SEQ,
        ack_number: Some(seq(10001)),
        max_seg_size: Some(1460),
        ..RECV
    };
    recv_nothing(&mut s, ms(999));
    assert_eq!(recv_one(&mut s, ms(1000)), syn_ack);
    assert_eq!(s.poll_at(), Some(ms(3000)));
    recv_nothing(&mut s, ms(2999));
    assert_eq!(recv_one(&mut s, ms(3000)), syn_ack);
    assert_eq!(s.poll_at(), Some(ms(7000)));
    // Then the ACK arrives and the connection opens.
    assert_eq!(send(&mut s, ms(3100), &SEND, &[]), None);
    assert_eq!(s.state(), State::Established);
}

#[test]
fn connect_validates_arguments() {
    let mut s = socket();
    let unspecified = IpEndpoint::new(IpAddress::V4(Ipv4Address::UNSPECIFIED), 80);
    assert_eq!(s.connect(LOCAL, unspecified, ms(0)), Err(ConnectError::Unaddressable));
    assert_eq!(s.connect(IpEndpoint::new(LOCAL.addr, 0), REMOTE, ms(0)), Err(ConnectError::Unaddressable));
    let v6 = IpEndpoint::new(IpAddress::V6(crate::wire::Ipv6Address([1; 16])), 80);
    assert_eq!(s.connect(LOCAL, v6, ms(0)), Err(ConnectError::Unaddressable));
    assert_eq!(s.connect(LOCAL, REMOTE, ms(0)), Ok(()));
    assert_eq!(s.connect(LOCAL, REMOTE, ms(0)), Err(ConnectError::InvalidState));
}

#[test]
fn connect_sends_syn() {
    let mut s = socket();
    s.connect(LOCAL, REMOTE, ms(0)).unwrap();
    force_iss(&mut s, LOCAL_SEQ);
    assert_eq!(s.state(), State::SynSent);
    assert_eq!(s.poll_at(), Some(Instant::ZERO));
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr { control: TcpControl::Syn, seq_number: LOCAL_SEQ, ack_number: None, max_seg_size: Some(1460), ..RECV }
    );
    assert_eq!(s.poll_at(), Some(ms(1000)));
}

#[test]
fn connect_isn_is_keyed_hash_of_tuple() {
    let mut a = socket();
    a.connect(LOCAL, REMOTE, ms(0)).unwrap();
    let mut b = socket();
    b.connect(LOCAL, REMOTE, ms(0)).unwrap();
    assert_eq!(a.iss, b.iss);
    assert_eq!(a.iss, initial_sequence_number(&[0; 16], LOCAL, REMOTE, ms(0)));
    let mut c = socket_with(TcpConfig { isn_secret: [7; 16], ..plain_config() }, 16, 16);
    c.connect(LOCAL, REMOTE, ms(0)).unwrap();
    assert_ne!(a.iss, c.iss);
}

#[test]
fn syn_sent_syn_ack_establishes_and_acks() {
    let mut s = syn_sent();
    let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, max_seg_size: Some(1400), ..SEND };
    assert_eq!(send(&mut s, ms(10), &syn_ack, &[]), None);
    assert_eq!(s.state(), State::Established);
    assert_eq!(recv_one(&mut s, ms(10)), RECV);
    assert_eq!(s.info().mss, 1400);
    // The SYN's round trip was timed.
    assert_eq!(s.info().srtt, Some(Duration::from_millis(10)));
}

#[test]
fn syn_sent_unacceptable_ack_answered_with_rst() {
    for ack in [999, 1000, 1002] {
        let mut s = syn_sent();
        let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ack_number: Some(seq(ack)), ..SEND };
        assert_eq!(
            send(&mut s, ms(0), &syn_ack, &[]),
            Some(TcpRepr {
                src_port: LOCAL_PORT,
                dst_port: REMOTE_PORT,
                control: TcpControl::Rst,
                seq_number: seq(ack),
                ..TcpRepr::default()
            })
        );
        assert_eq!(s.state(), State::SynSent);
    }
}

#[test]
fn syn_sent_rst_with_acceptable_ack_refuses() {
    let mut s = syn_sent();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Rst, seq_number: seq(0), ..SEND }, &[]), None);
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.poll_at(), None);
}

#[test]
fn syn_sent_rst_without_ack_ignored() {
    let mut s = syn_sent();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Rst, ack_number: None, ..SEND }, &[]), None);
    assert_eq!(s.state(), State::SynSent);
}

#[test]
fn syn_sent_rst_with_bad_ack_ignored() {
    let mut s = syn_sent();
    let rst = TcpRepr { control: TcpControl::Rst, ack_number: Some(seq(1005)), ..SEND };
    assert_eq!(send(&mut s, ms(0), &rst, &[]), None);
    assert_eq!(s.state(), State::SynSent);
}

#[test]
fn syn_sent_ack_without_syn_dropped() {
    let mut s = syn_sent();
    assert_eq!(send(&mut s, ms(0), &SEND, &[]), None);
    assert_eq!(s.state(), State::SynSent);
    recv_nothing(&mut s, ms(0));
}

#[test]
fn syn_sent_retransmits_syn_with_backoff() {
    let mut s = syn_sent();
    let syn =
        TcpRepr { control: TcpControl::Syn, seq_number: LOCAL_SEQ, ack_number: None, max_seg_size: Some(1460), ..RECV };
    recv_nothing(&mut s, ms(999));
    assert_eq!(recv_one(&mut s, ms(1000)), syn);
    recv_nothing(&mut s, ms(2999));
    assert_eq!(recv_one(&mut s, ms(3000)), syn);
    assert_eq!(recv_one(&mut s, ms(7000)), syn);
    assert_eq!(s.info().rto, Duration::from_secs(8));
    // A SYN-ACK after retransmissions: no RTT sample (Karn).
    let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ..SEND };
    send(&mut s, ms(7100), &syn_ack, &[]);
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.info().srtt, None);
}

#[test]
fn syn_sent_gives_up_silently() {
    let mut s = socket_with(TcpConfig { max_retransmits: 2, ..plain_config() }, 64, 64);
    s.connect(LOCAL, REMOTE, ms(0)).unwrap();
    force_iss(&mut s, LOCAL_SEQ);
    assert_eq!(recv_all(&mut s, ms(0)).len(), 1);
    assert_eq!(recv_all(&mut s, ms(1000)).len(), 1);
    assert_eq!(recv_all(&mut s, ms(3000)).len(), 1);
    recv_nothing(&mut s, ms(7000));
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn simultaneous_open() {
    let mut s = syn_sent();
    // The peer's SYN crosses ours.
    assert_eq!(send(&mut s, ms(0), &TcpRepr { ack_number: None, ..SYN }, &[]), None);
    assert_eq!(s.state(), State::SynReceived);
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr {
            control: TcpControl::Syn,
            seq_number: LOCAL_SEQ,
            ack_number: Some(seq(10001)),
            max_seg_size: Some(1460),
            ..RECV
        }
    );
    // The peer's SYN-ACK is a duplicate SYN to us: answered with an ACK.
    let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ack_number: Some(seq(1001)), ..SEND };
    assert_eq!(send(&mut s, ms(1), &syn_ack, &[]), Some(RECV));
    // The peer's ACK of our SYN-ACK opens the connection.
    assert_eq!(send(&mut s, ms(1), &SEND, &[]), None);
    assert_eq!(s.state(), State::Established);
}

#[test]
fn data_queued_while_connecting_goes_after_handshake() {
    let mut s = syn_sent();
    assert_eq!(s.send_slice(b"early"), Ok(5));
    assert!(!s.may_send());
    recv_nothing(&mut s, ms(0));
    let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ..SEND };
    send(&mut s, ms(1), &syn_ack, &[]);
    let segs = recv_all(&mut s, ms(1));
    assert_eq!(segs, vec![(TcpRepr { push: true, payload_len: 5, ..RECV }, b"early".to_vec())]);
}

#[test]
fn close_in_listen_and_syn_sent_closes() {
    let mut s = listening();
    s.close();
    assert_eq!(s.state(), State::Closed);
    let mut s = syn_sent();
    s.close();
    assert_eq!(s.state(), State::Closed);
    recv_nothing(&mut s, ms(5000));
}

#[test]
fn close_in_syn_received_sends_fin_once_established() {
    let mut s = syn_received();
    s.close();
    assert_eq!(s.state(), State::SynReceived);
    assert_eq!(send(&mut s, ms(0), &SEND, &[]), None);
    assert_eq!(s.state(), State::FinWait1);
    assert_eq!(recv_one(&mut s, ms(0)), TcpRepr { control: TcpControl::Fin, ..RECV });
}

#[test]
fn abort_in_syn_received_sends_rst() {
    let mut s = syn_received();
    s.abort();
    assert_eq!(s.poll_at(), Some(Instant::ZERO));
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr { control: TcpControl::Rst, seq_number: seq(1001), window_len: 0, ..RECV }
    );
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn second_client_not_accepted_while_first_handshakes() {
    let s = syn_received();
    let other = IpEndpoint::new(REMOTE.addr, 50000);
    assert!(!s.accepts(LOCAL, other, &TcpRepr { src_port: 50000, ..SYN }));
}

#[test]
fn rto_is_three_seconds_after_lost_syn() {
    let mut s = syn_sent();
    recv_all(&mut s, ms(1000));
    assert_eq!(s.info().retransmits, 1);
    let syn_ack = TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ..SEND };
    send(&mut s, ms(1500), &syn_ack, &[]);
    recv_all(&mut s, ms(1500));
    // No RTT sample (Karn): RFC 6298 5.7 says 3 s for the first data.
    assert_eq!(s.info().rto, Duration::from_secs(3));
    app_send(&mut s, ms(1600), b"x");
    assert_eq!(s.poll_at(), Some(ms(4600)));
}

#[test]
fn listen_ignores_syn_from_or_to_multicast() {
    let mut s = listening();
    let group = IpEndpoint::new(Ipv4Address::new(224, 0, 0, 1).into(), 80);
    assert!(s.accepts(group, REMOTE, &SYN));
    assert_eq!(s.process(ms(0), group, REMOTE, &SYN, &[]), None);
    assert_eq!(s.state(), State::Listen);
    let unspecified = IpEndpoint::new(Ipv4Address::UNSPECIFIED.into(), REMOTE_PORT);
    assert_eq!(s.process(ms(0), LOCAL, unspecified, &SYN, &[]), None);
    assert_eq!(s.state(), State::Listen);
}

#[test]
fn config_set_while_closed_times_the_next_handshake() {
    // The RTO comes from the config given after the socket was built.
    let mut s = socket();
    s.set_config(TcpConfig { rto_initial: Duration::from_millis(300), ..plain_config() });
    s.connect(LOCAL, REMOTE, ms(0)).unwrap();
    let syn = recv_one(&mut s, ms(0));
    assert_eq!(syn.control, TcpControl::Syn);
    recv_nothing(&mut s, ms(299));
    let again = recv_one(&mut s, ms(300));
    assert_eq!((again.control, again.seq_number), (TcpControl::Syn, syn.seq_number));
}
