//! The listener: SYN queue, accept queue, SYN cookies, many clients.

use super::*;
use crate::wire::tcp::TcpTimestamp;

fn pool(n: usize, config: TcpConfig) -> &'static mut [TcpSocket<'static>] {
    let v: Vec<TcpSocket<'static>> = (0..n).map(|_| socket_with(config, BUF, BUF)).collect();
    v.leak()
}

fn listener(n: usize, limits: ListenerConfig) -> TcpListener<'static, 'static> {
    TcpListener::new(80, pool(n, plain_config()), plain_config(), limits)
}

fn client(port: u16) -> IpEndpoint {
    IpEndpoint::new(REMOTE.addr, port)
}

fn syn_from(port: u16) -> TcpRepr {
    TcpRepr { src_port: port, ..SYN }
}

/// Feeds a segment from client `port`.
fn feed(l: &mut TcpListener, now: Instant, port: u16, repr: &TcpRepr, payload: &[u8]) -> Option<TcpRepr> {
    let repr = TcpRepr { src_port: port, payload_len: payload.len(), ..*repr };
    assert!(l.accepts(LOCAL, client(port), &repr));
    l.process(now, LOCAL, client(port), &repr, payload).map(|r| {
        assert_eq!((r.local, r.remote), (LOCAL, client(port)));
        r.repr
    })
}

/// Every segment the listener emits at `now`, with the client port.
fn drain(l: &mut TcpListener, now: Instant) -> Vec<(u16, TcpRepr, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        let mut got = None;
        l.dispatch(now, MSS, |local, remote, repr, payload| {
            assert_eq!(*local, LOCAL);
            got = Some((remote.port, *repr, payload.to_vec()));
            Ok::<(), ()>(())
        })
        .unwrap();
        match got {
            Some(g) => out.push(g),
            None => return out,
        }
    }
}

/// Completes a handshake for `port`; returns our ISS for it.
fn connect(l: &mut TcpListener, now: Instant, port: u16) -> SeqNumber {
    assert_eq!(feed(l, now, port, &syn_from(port), &[]), None);
    let out = drain(l, now);
    let syn_ack = out.iter().find(|o| o.0 == port).expect("SYN-ACK").1;
    assert_eq!(syn_ack.control, TcpControl::Syn);
    let iss = syn_ack.seq_number;
    assert_eq!(feed(l, now, port, &TcpRepr { ack_number: Some(iss + 1), ..SEND }, &[]), None);
    iss
}

#[test]
fn syn_takes_a_pool_socket() {
    let mut l = listener(2, ListenerConfig::default());
    assert_eq!(feed(&mut l, ms(0), 5000, &syn_from(5000), &[]), None);
    assert_eq!(l.syn_queue_len(), 1);
    assert_eq!(l.poll_at(), Some(Instant::ZERO));
    let out = drain(&mut l, ms(0));
    assert_eq!(out.len(), 1);
    let (port, syn_ack, _) = &out[0];
    assert_eq!(*port, 5000);
    assert_eq!(
        *syn_ack,
        TcpRepr {
            dst_port: 5000,
            control: TcpControl::Syn,
            seq_number: syn_ack.seq_number,
            max_seg_size: Some(1460),
            ..RECV
        }
    );
    assert_eq!(l.accept(), None);
}

#[test]
fn accept_after_handshake_and_exchange_data() {
    let mut l = listener(2, ListenerConfig::default());
    let iss = connect(&mut l, ms(0), 5000);
    assert_eq!(l.syn_queue_len(), 0);
    assert_eq!(l.accept_queue_len(), 1);
    let i = l.accept().unwrap();
    assert_eq!(l.accept(), None);
    let s = l.socket(i).unwrap();
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.remote_endpoint(), Some(client(5000)));
    s.send_slice(b"hello").unwrap();
    let out = drain(&mut l, ms(1));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].1.seq_number, iss + 1);
    assert_eq!(out[0].2, b"hello");
    feed(&mut l, ms(2), 5000, &TcpRepr { ack_number: Some(iss + 6), ..SEND }, b"world");
    assert_eq!(app_recv(l.socket(i).unwrap()), b"world");
}

#[test]
fn accept_finds_each_connection_after_polls_that_found_none() {
    let mut l = listener(3, ListenerConfig::default());
    assert_eq!(l.accept(), None);
    feed(&mut l, ms(0), 5000, &syn_from(5000), &[]);
    let syn_ack = drain(&mut l, ms(0))[0].1;
    assert_eq!(l.accept(), None);
    // The handshake's last ACK establishes it.
    feed(&mut l, ms(1), 5000, &TcpRepr { ack_number: Some(syn_ack.seq_number + 1), ..SEND }, &[]);
    let first = l.accept().unwrap();
    assert_eq!(l.accept(), None);
    // A second client, whose FIN comes with its handshake's ACK (CLOSE-WAIT
    // before any accept).
    feed(&mut l, ms(2), 5001, &syn_from(5001), &[]);
    let syn_ack = drain(&mut l, ms(2)).iter().find(|o| o.0 == 5001).unwrap().1;
    assert_eq!(l.accept(), None);
    let fin = TcpRepr { control: TcpControl::Fin, ack_number: Some(syn_ack.seq_number + 1), ..SEND };
    feed(&mut l, ms(3), 5001, &fin, &[]);
    let second = l.accept().unwrap();
    assert_ne!(second, first);
    assert_eq!(l.socket(second).unwrap().state(), State::CloseWait);
    assert_eq!(l.accept(), None);
}

#[test]
fn released_connection_is_not_accepted_again_while_in_time_wait() {
    let mut l = listener(2, ListenerConfig::default());
    let iss = connect(&mut l, ms(0), 5000);
    let i = l.accept().unwrap();
    // We close first: FIN, the client ACKs it and sends its own FIN.
    l.socket(i).unwrap().close();
    let fin = drain(&mut l, ms(1));
    assert_eq!(fin[0].1.control, TcpControl::Fin);
    feed(&mut l, ms(2), 5000, &TcpRepr { control: TcpControl::Fin, ack_number: Some(iss + 2), ..SEND }, &[]);
    assert_eq!(l.socket(i).unwrap().state(), State::TimeWait);
    l.release(i);
    assert_eq!(l.accept(), None, "a released TIME-WAIT socket is not a new connection");
    assert_eq!(l.accept_queue_len(), 0);
}

#[test]
fn several_clients_share_the_port() {
    let mut l = listener(3, ListenerConfig::default());
    for port in [5000, 5001, 5002] {
        connect(&mut l, ms(0), port);
    }
    let mut remotes = Vec::new();
    while let Some(i) = l.accept() {
        remotes.push(l.socket(i).unwrap().remote_endpoint().unwrap().port);
    }
    remotes.sort();
    assert_eq!(remotes, vec![5000, 5001, 5002]);
}

#[test]
fn full_syn_queue_answers_with_cookie() {
    let limits = ListenerConfig { syn_backlog: 1, ..ListenerConfig::default() };
    let mut l = listener(4, limits);
    feed(&mut l, ms(0), 5000, &syn_from(5000), &[]);
    let reply = feed(&mut l, ms(0), 5001, &syn_from(5001), &[]).expect("cookie SYN-ACK");
    let (cookie, _) = cookie::make(&[0; 16], LOCAL, client(5001), REMOTE_SEQ, 1460, ms(0));
    assert_eq!(
        reply,
        TcpRepr { dst_port: 5001, control: TcpControl::Syn, seq_number: cookie, max_seg_size: Some(536), ..RECV }
    );
    // No state was kept for it.
    assert_eq!(l.syn_queue_len(), 1);
    assert_eq!(l.stats().cookies_sent, 1);
}

#[test]
fn syn_queue_is_counted_past_a_free_socket() {
    // The free socket comes first in the pool, the full SYN queue after it.
    let limits = ListenerConfig { syn_backlog: 2, ..ListenerConfig::default() };
    let mut l = listener(4, limits);
    connect(&mut l, ms(0), 5000);
    let first = l.accept().unwrap();
    assert_eq!(first, 0);
    feed(&mut l, ms(1), 5001, &syn_from(5001), &[]);
    feed(&mut l, ms(1), 5002, &syn_from(5002), &[]);
    l.release(first);
    drain(&mut l, ms(2));
    assert_eq!(l.socket(first).unwrap().state(), State::Closed);
    assert_eq!(l.syn_queue_len(), 2);
    let reply = feed(&mut l, ms(3), 5003, &syn_from(5003), &[]).expect("cookie SYN-ACK");
    let (cookie, _) = cookie::make(&[0; 16], LOCAL, client(5003), REMOTE_SEQ, 1460, ms(3));
    assert_eq!(reply.seq_number, cookie);
    assert_eq!(l.syn_queue_len(), 2);
    assert_eq!(l.stats().cookies_sent, 1);
}

#[test]
fn cookie_ack_opens_connection_with_its_data() {
    let limits = ListenerConfig { syn_backlog: 0, ..ListenerConfig::default() };
    let mut l = listener(2, limits);
    let syn_ack = feed(&mut l, ms(0), 5000, &TcpRepr { max_seg_size: Some(1400), ..syn_from(5000) }, &[]).unwrap();
    let ack = TcpRepr { ack_number: Some(syn_ack.seq_number + 1), ..SEND };
    assert_eq!(feed(&mut l, ms(10), 5000, &ack, b"GET /"), None);
    assert_eq!(l.stats().cookies_accepted, 1);
    let i = l.accept().unwrap();
    let s = l.socket(i).unwrap();
    assert_eq!(s.state(), State::Established);
    assert_eq!(app_recv(s), b"GET /");
    s.send_slice(b"200").unwrap();
    let out = drain(&mut l, ms(11));
    // The MSS came back through the cookie (rounded to the table).
    assert_eq!(l.socket(i).unwrap().info().mss, 1360);
    assert_eq!(out[0].1.seq_number, syn_ack.seq_number + 1);
    assert_eq!(out[0].1.ack_number, Some(seq(10006)));
}

#[test]
fn forged_cookie_ack_gets_rst() {
    let mut l = listener(2, ListenerConfig::default());
    let ack = TcpRepr { ack_number: Some(seq(123_456)), ..SEND };
    assert_eq!(
        feed(&mut l, ms(0), 5000, &ack, &[]),
        Some(TcpRepr {
            src_port: LOCAL_PORT,
            dst_port: 5000,
            control: TcpControl::Rst,
            seq_number: seq(123_456),
            ..TcpRepr::default()
        })
    );
    assert_eq!(l.stats().cookies_rejected, 1);
    assert_eq!(l.accept_queue_len(), 0);
}

#[test]
fn cookie_with_timestamps_keeps_window_scale_and_sack() {
    let sockets = pool(1, TcpConfig::default());
    let mut l = TcpListener::new(
        80,
        sockets,
        TcpConfig::default(),
        ListenerConfig { syn_backlog: 0, ..ListenerConfig::default() },
    );
    let syn = TcpRepr {
        window_scale: Some(5),
        sack_permitted: true,
        timestamp: Some(TcpTimestamp { tsval: 777, tsecr: 0 }),
        ..syn_from(5000)
    };
    let syn_ack = feed(&mut l, ms(1000), 5000, &syn, &[]).unwrap();
    assert_eq!(syn_ack.window_scale, Some(0));
    assert!(syn_ack.sack_permitted);
    let tsval = syn_ack.timestamp.unwrap().tsval;
    assert_eq!(syn_ack.timestamp.unwrap().tsecr, 777);
    let ack = TcpRepr {
        ack_number: Some(syn_ack.seq_number + 1),
        window_len: 10,
        timestamp: Some(TcpTimestamp { tsval: 778, tsecr: tsval }),
        ..SEND
    };
    feed(&mut l, ms(1010), 5000, &ack, &[]);
    let i = l.accept().unwrap();
    let s = l.socket(i).unwrap();
    assert_eq!(s.info().send_window, 10 << 5);
    assert!(s.sack_ok);
    // Our next TSval is not older than the cookie's.
    s.send_slice(b"x").unwrap();
    let out = drain(&mut l, ms(1010));
    let next = out[0].1.timestamp.unwrap().tsval;
    assert!((next.wrapping_sub(tsval) as i32) > 0);
}

#[test]
fn cookie_without_timestamps_offers_no_scaling() {
    let sockets = pool(1, TcpConfig::default());
    let mut l = TcpListener::new(
        80,
        sockets,
        TcpConfig::default(),
        ListenerConfig { syn_backlog: 0, ..ListenerConfig::default() },
    );
    let syn = TcpRepr { window_scale: Some(5), sack_permitted: true, ..syn_from(5000) };
    let syn_ack = feed(&mut l, ms(0), 5000, &syn, &[]).unwrap();
    assert_eq!(syn_ack.window_scale, None);
    assert!(!syn_ack.sack_permitted);
    assert_eq!(syn_ack.timestamp, None);
}

#[test]
fn cookies_off_drops_syn_when_full() {
    let limits = ListenerConfig { syn_backlog: 1, syn_cookies: false, ..ListenerConfig::default() };
    let mut l = listener(3, limits);
    feed(&mut l, ms(0), 5000, &syn_from(5000), &[]);
    assert_eq!(feed(&mut l, ms(0), 5001, &syn_from(5001), &[]), None);
    assert_eq!(l.stats().dropped, 1);
    // And an ACK that is not for a known connection is reset.
    let ack = TcpRepr { ack_number: Some(seq(5)), ..SEND };
    assert_eq!(feed(&mut l, ms(0), 5002, &ack, &[]).unwrap().control, TcpControl::Rst);
}

#[test]
fn full_accept_queue_drops_syn() {
    let limits = ListenerConfig { accept_backlog: 1, ..ListenerConfig::default() };
    let mut l = listener(3, limits);
    connect(&mut l, ms(0), 5000);
    assert_eq!(feed(&mut l, ms(0), 5001, &syn_from(5001), &[]), None);
    assert_eq!(l.syn_queue_len(), 0);
    assert_eq!(l.stats().dropped, 1);
    l.accept().unwrap();
    connect(&mut l, ms(1), 5001);
}

#[test]
fn pool_exhausted_falls_back_to_cookies() {
    let mut l = listener(1, ListenerConfig::default());
    connect(&mut l, ms(0), 5000);
    let i = l.accept().unwrap();
    let syn_ack = feed(&mut l, ms(1), 5001, &syn_from(5001), &[]).expect("cookie");
    // The client's ACK finds no socket: dropped, the cookie stays good.
    let ack = TcpRepr { ack_number: Some(syn_ack.seq_number + 1), ..SEND };
    assert_eq!(feed(&mut l, ms(2), 5001, &ack, &[]), None);
    // The application finishes with the first connection...
    l.release(i);
    drain(&mut l, ms(3));
    // ...and the retransmitted ACK opens the second.
    assert_eq!(feed(&mut l, ms(4), 5001, &ack, b"hi"), None);
    let j = l.accept().unwrap();
    assert_eq!(app_recv(l.socket(j).unwrap()), b"hi");
}

#[test]
fn release_aborts_open_connection() {
    let mut l = listener(1, ListenerConfig::default());
    let iss = connect(&mut l, ms(0), 5000);
    let i = l.accept().unwrap();
    l.release(i);
    let out = drain(&mut l, ms(1));
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].1,
        TcpRepr { dst_port: 5000, control: TcpControl::Rst, seq_number: iss + 1, window_len: 0, ..RECV }
    );
    assert_eq!(l.socket(i).unwrap().state(), State::Closed);
}

#[test]
fn accepted_socket_not_reused_after_reset() {
    let mut l = listener(1, ListenerConfig::default());
    connect(&mut l, ms(0), 5000);
    let i = l.accept().unwrap();
    feed(&mut l, ms(1), 5000, &TcpRepr { control: TcpControl::Rst, ack_number: None, ..SEND }, &[]);
    assert_eq!(l.socket(i).unwrap().state(), State::Closed);
    // Still held by the application: a new SYN gets a cookie, not it.
    let reply = feed(&mut l, ms(2), 5001, &syn_from(5001), &[]).unwrap();
    assert_eq!(reply.control, TcpControl::Syn);
    assert_eq!(l.syn_queue_len(), 0);
}

#[test]
fn rst_in_syn_received_frees_the_socket() {
    let mut l = listener(1, ListenerConfig { syn_cookies: false, ..ListenerConfig::default() });
    feed(&mut l, ms(0), 5000, &syn_from(5000), &[]);
    drain(&mut l, ms(0));
    feed(&mut l, ms(1), 5000, &TcpRepr { control: TcpControl::Rst, ack_number: None, ..SEND }, &[]);
    assert_eq!(l.syn_queue_len(), 0);
    assert_eq!(feed(&mut l, ms(2), 5001, &syn_from(5001), &[]), None);
    assert_eq!(l.syn_queue_len(), 1);
}

#[test]
fn listener_ignores_rst_and_resets_syn_ack() {
    let mut l = listener(1, ListenerConfig::default());
    assert_eq!(feed(&mut l, ms(0), 5000, &TcpRepr { control: TcpControl::Rst, ..SEND }, &[]), None);
    let syn_ack = TcpRepr { control: TcpControl::Syn, ack_number: Some(seq(77)), ..SEND };
    assert_eq!(feed(&mut l, ms(0), 5000, &syn_ack, &[]).unwrap().control, TcpControl::Rst);
    assert_eq!(feed(&mut l, ms(0), 5000, &TcpRepr { ack_number: None, ..SEND }, b"x"), None);
}

#[test]
fn listener_port_and_address_matching() {
    let l = listener(1, ListenerConfig::default());
    assert!(!l.accepts(IpEndpoint::new(LOCAL.addr, 81), REMOTE, &TcpRepr { dst_port: 81, ..SYN }));
    assert_eq!(l.endpoint(), IpListenEndpoint::any(80));
}

#[test]
fn dispatch_is_round_robin() {
    let mut l = TcpListener::new(
        80,
        pool(2, TcpConfig { nagle: false, ..plain_config() }),
        plain_config(),
        ListenerConfig::default(),
    );
    connect(&mut l, ms(0), 5000);
    connect(&mut l, ms(0), 5001);
    let a = l.accept().unwrap();
    let b = l.accept().unwrap();
    l.socket(a).unwrap().send_slice(&pattern(0, 3000)).unwrap();
    l.socket(b).unwrap().send_slice(&pattern(0, 3000)).unwrap();
    let ports: Vec<u16> = drain(&mut l, ms(1)).iter().map(|o| o.0).collect();
    assert_eq!(ports.len(), 6);
    // Alternates between the two connections.
    assert!(ports.windows(2).all(|w| w[0] != w[1]), "{ports:?}");
}

#[test]
fn poll_at_covers_pool_timers() {
    let mut l = listener(2, ListenerConfig::default());
    assert_eq!(l.poll_at(), None);
    feed(&mut l, ms(0), 5000, &syn_from(5000), &[]);
    drain(&mut l, ms(0));
    // The SYN-ACK's retransmission timer.
    assert_eq!(l.poll_at(), Some(ms(1000)));
}

#[test]
fn syn_flood_does_not_lock_out_a_real_client() {
    let limits = ListenerConfig { syn_backlog: 4, accept_backlog: 4, syn_cookies: true };
    let mut l = listener(4, limits);
    // 1000 spoofed SYNs never complete.
    for port in 10_000..11_000u16 {
        feed(&mut l, ms(0), port, &syn_from(port), &[]);
    }
    assert_eq!(l.syn_queue_len(), 4);
    // A real client gets a cookie and completes.
    let syn_ack = feed(&mut l, ms(5), 5000, &syn_from(5000), &[]).unwrap();
    drain(&mut l, ms(5));
    // Its ACK proves its address: it takes a half-open flood slot.
    let ack = TcpRepr { ack_number: Some(syn_ack.seq_number + 1), ..SEND };
    assert_eq!(feed(&mut l, ms(10), 5000, &ack, b"req"), None);
    assert_eq!(l.stats().evicted, 1);
    let i = l.accept().expect("the client got in");
    assert_eq!(app_recv(l.socket(i).unwrap()), b"req");
}

#[test]
fn released_time_wait_socket_lingers_then_is_recycled() {
    let mut l = listener(1, ListenerConfig { syn_cookies: false, ..ListenerConfig::default() });
    let iss = connect(&mut l, ms(0), 5000);
    let i = l.accept().unwrap();
    // The server closes first and ends in TIME-WAIT.
    l.socket(i).unwrap().close();
    drain(&mut l, ms(1));
    let fin = TcpRepr { control: TcpControl::Fin, ack_number: Some(iss + 2), ..SEND };
    feed(&mut l, ms(2), 5000, &fin, &[]);
    assert_eq!(l.socket(i).unwrap().state(), State::TimeWait);
    l.release(i);
    assert_eq!(l.socket(i).unwrap().state(), State::TimeWait);
    // A retransmitted FIN is still answered from TIME-WAIT.
    assert!(feed(&mut l, ms(3), 5000, &fin, &[]).is_some());
    // A new client, no free socket: the TIME-WAIT one is recycled.
    assert_eq!(feed(&mut l, ms(4), 5001, &syn_from(5001), &[]), None);
    assert_eq!(l.syn_queue_len(), 1);
    assert_eq!(l.socket(i).unwrap().remote_endpoint(), Some(client(5001)));
}

#[test]
fn same_client_reconnects_through_time_wait() {
    let mut l = listener(1, ListenerConfig { syn_cookies: false, ..ListenerConfig::default() });
    let iss = connect(&mut l, ms(0), 5000);
    let i = l.accept().unwrap();
    l.socket(i).unwrap().close();
    drain(&mut l, ms(1));
    let fin = TcpRepr { control: TcpControl::Fin, ack_number: Some(iss + 2), ..SEND };
    feed(&mut l, ms(2), 5000, &fin, &[]);
    l.release(i);
    // Same 4-tuple, higher sequence number: RFC 6191 reuse.
    let syn = TcpRepr { seq_number: seq(90_000), ..syn_from(5000) };
    assert_eq!(feed(&mut l, ms(3), 5000, &syn, &[]), None);
    assert_eq!(l.socket(i).unwrap().state(), State::SynReceived);
    let out = drain(&mut l, ms(3));
    assert_eq!(out[0].1.ack_number, Some(seq(90_001)));
}

#[test]
fn cookie_client_dropped_for_a_full_accept_queue_is_not_reset_later() {
    let limits = ListenerConfig { syn_backlog: 0, accept_backlog: 1, syn_cookies: true };
    let mut l = listener(3, limits);
    // Client 5001 gets its cookie while the accept queue has room...
    let syn_ack = feed(&mut l, ms(0), 5001, &syn_from(5001), &[]).expect("cookie SYN-ACK");
    let cookie_ack = Some(syn_ack.seq_number + 1);
    // ...then client 5000 fills it.
    let other = feed(&mut l, ms(0), 5000, &syn_from(5000), &[]).expect("cookie SYN-ACK");
    assert_eq!(feed(&mut l, ms(1), 5000, &TcpRepr { ack_number: Some(other.seq_number + 1), ..SEND }, &[]), None);
    assert_eq!(l.accept_queue_len(), 1);
    // 5001's ACK with its first data is dropped: the queue is full.
    let first = TcpRepr { ack_number: cookie_ack, ..SEND };
    assert_eq!(feed(&mut l, ms(2), 5001, &first, b"abc"), None);
    assert_eq!(l.stats().dropped, 1);
    // Its next segment (past ISN + 1) is dropped too, not reset.
    let second = TcpRepr { seq_number: REMOTE_SEQ + 4, ack_number: cookie_ack, ..SEND };
    assert_eq!(feed(&mut l, ms(3), 5001, &second, b"def"), None);
    assert_eq!(l.stats().cookies_rejected, 0);
    // Once the application accepts, the next segment opens the connection:
    // its data is out of order, so the ACK asks for ISN + 1 again.
    let first_conn = l.accept().unwrap();
    let reply = feed(&mut l, ms(4), 5001, &second, b"def").expect("ACK for out-of-order data");
    assert_eq!(
        reply,
        TcpRepr {
            src_port: LOCAL_PORT,
            dst_port: 5001,
            seq_number: syn_ack.seq_number + 1,
            ack_number: Some(REMOTE_SEQ + 1),
            window_len: reply.window_len,
            ..TcpRepr::default()
        }
    );
    assert_eq!(l.stats().cookies_accepted, 2);
    // The client's retransmission fills the hole.
    feed(&mut l, ms(5), 5001, &first, b"abc");
    let i = l.accept().unwrap();
    assert_ne!(i, first_conn);
    let s = l.socket(i).unwrap();
    assert_eq!(s.state(), State::Established);
    assert_eq!(app_recv(s), b"abcdef");
}

#[test]
fn parked_cookie_needs_the_same_ack_and_a_later_sequence_number() {
    let limits = ListenerConfig { syn_backlog: 0, accept_backlog: 1, syn_cookies: true };
    let mut l = listener(3, limits);
    let syn_ack = feed(&mut l, ms(0), 5001, &syn_from(5001), &[]).unwrap();
    let other = feed(&mut l, ms(0), 5000, &syn_from(5000), &[]).unwrap();
    feed(&mut l, ms(1), 5000, &TcpRepr { ack_number: Some(other.seq_number + 1), ..SEND }, &[]);
    assert_eq!(feed(&mut l, ms(2), 5001, &TcpRepr { ack_number: Some(syn_ack.seq_number + 1), ..SEND }, &[]), None);
    l.accept().unwrap();
    // A different acknowledgment number is no cookie: no connection (and,
    // as it reads as a current cookie, it is dropped rather than reset).
    let wrong_ack = TcpRepr { seq_number: REMOTE_SEQ + 4, ack_number: Some(syn_ack.seq_number + 2), ..SEND };
    assert_eq!(feed(&mut l, ms(3), 5001, &wrong_ack, &[]), None);
    // Another client with the same ACK is no cookie either.
    let elsewhere = TcpRepr { seq_number: REMOTE_SEQ + 4, ack_number: Some(syn_ack.seq_number + 1), ..SEND };
    assert_eq!(feed(&mut l, ms(3), 5002, &elsewhere, &[]), None);
    assert_eq!(l.accept_queue_len(), 0);
    assert_eq!(l.stats().cookies_accepted, 1);
    assert_eq!((l.stats().cookies_unverified, l.stats().cookies_rejected), (2, 0));
    // After the cookie's lifetime (one to two 64 s periods) it is gone.
    assert_eq!(feed(&mut l, ms(200_000), 5001, &elsewhere, &[]).map(|r| r.control), Some(TcpControl::Rst));
    assert_eq!(l.stats().cookies_rejected, 1);
    assert_eq!(l.accept_queue_len(), 0);
}

/// A SYN answered with a cookie while the SYN queue was full, whose
/// duplicate (the impairing path of the end-to-end suite duplicates and
/// reorders) arrives once the queue has room: the client now holds two
/// SYN-ACKs and answers the first, the cookie. Its ACK must open the
/// connection, not be reset by the half-open socket the duplicate made.
/// Client 5001's SYN gets a cookie SYN-ACK (the SYN queue holds 5000's),
/// 5000 completes, then a duplicate of 5001's SYN takes a pool socket.
/// Returns the cookie SYN-ACK.
fn cookie_then_duplicate_syn(l: &mut TcpListener) -> TcpRepr {
    assert_eq!(feed(l, ms(0), 5000, &syn_from(5000), &[]), None);
    let cookie_syn_ack = feed(l, ms(0), 5001, &syn_from(5001), &[]).expect("cookie SYN-ACK");
    let out = drain(l, ms(1));
    assert_eq!(out.len(), 1);
    let other = out[0].1.seq_number;
    assert_eq!(feed(l, ms(2), 5000, &TcpRepr { ack_number: Some(other + 1), ..SEND }, &[]), None);
    assert_eq!(feed(l, ms(3), 5001, &syn_from(5001), &[]), None);
    assert_eq!(l.syn_queue_len(), 1);
    let out = drain(l, ms(3));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0, out[0].1.control), (5001, TcpControl::Syn));
    assert_ne!(out[0].1.seq_number, cookie_syn_ack.seq_number);
    cookie_syn_ack
}

#[test]
fn cookie_ack_takes_over_the_half_open_socket_of_a_duplicate_syn() {
    let limits = ListenerConfig { syn_backlog: 1, ..ListenerConfig::default() };
    let mut l = listener(4, limits);
    let cookie_syn_ack = cookie_then_duplicate_syn(&mut l);
    // The client took the cookie SYN-ACK: its ACK (with data) opens the
    // connection on the cookie's ISS.
    let cookie_ack = TcpRepr { ack_number: Some(cookie_syn_ack.seq_number + 1), ..SEND };
    assert_eq!(feed(&mut l, ms(4), 5001, &cookie_ack, b"abc"), None);
    assert_eq!(l.stats().cookies_accepted, 1);
    assert_eq!(l.syn_queue_len(), 0, "the duplicate's half-open socket is gone");
    let first = l.accept().unwrap();
    let i = l.accept().unwrap();
    assert_eq!(l.accept(), None);
    assert_eq!(l.socket(first).unwrap().remote_endpoint(), Some(client(5000)));
    let s = l.socket(i).unwrap();
    assert_eq!((s.state(), s.remote_endpoint()), (State::Established, Some(client(5001))));
    assert_eq!(app_recv(s), b"abc");
    s.send_slice(b"abc").unwrap();
    let out = drain(&mut l, ms(5));
    assert_eq!(out.len(), 1, "the echo only, no SYN-ACK from the duplicate");
    assert_eq!(out[0].0, 5001);
    assert_eq!(out[0].1.control, TcpControl::None);
    assert_eq!(out[0].1.seq_number, cookie_syn_ack.seq_number + 1);
    assert_eq!(out[0].1.ack_number, Some(REMOTE_SEQ + 4));
    assert_eq!(out[0].2, b"abc");
}

/// As above, but the cookie ACK was lost: the client's next segment (past
/// its ISN + 1) acknowledges the cookie too, and opens the connection with
/// its data out of order.
#[test]
fn later_segment_acknowledging_the_cookie_takes_over_the_half_open_socket() {
    let limits = ListenerConfig { syn_backlog: 1, ..ListenerConfig::default() };
    let mut l = listener(4, limits);
    let cookie_syn_ack = cookie_then_duplicate_syn(&mut l);
    let cookie_ack = Some(cookie_syn_ack.seq_number + 1);
    let second = TcpRepr { seq_number: REMOTE_SEQ + 4, ack_number: cookie_ack, ..SEND };
    let reply = feed(&mut l, ms(4), 5001, &second, b"def").expect("ACK for out-of-order data");
    assert_eq!(reply.control, TcpControl::None);
    assert_eq!(reply.seq_number, cookie_syn_ack.seq_number + 1);
    assert_eq!(reply.ack_number, Some(REMOTE_SEQ + 1));
    assert_eq!(l.syn_queue_len(), 0);
    feed(&mut l, ms(6), 5001, &TcpRepr { ack_number: cookie_ack, ..SEND }, b"abc");
    l.accept().unwrap();
    let i = l.accept().unwrap();
    let s = l.socket(i).unwrap();
    assert_eq!((s.state(), s.remote_endpoint()), (State::Established, Some(client(5001))));
    assert_eq!(app_recv(s), b"abcdef");
}

/// A cookie client whose ACK and first data segment (both at its ISN + 1,
/// the only segments the cookie can be checked on) were lost: its later
/// segments are dropped, not reset, and its retransmission from ISN + 1
/// opens the connection. Without cookies sent lately, the same segment is
/// reset as before.
#[test]
fn cookie_client_whose_first_segments_were_lost_is_not_reset() {
    let limits = ListenerConfig { syn_backlog: 0, ..ListenerConfig::default() };
    let mut l = listener(2, limits);
    let syn_ack = feed(&mut l, ms(0), 5001, &syn_from(5001), &[]).expect("cookie SYN-ACK");
    let cookie_ack = Some(syn_ack.seq_number + 1);
    let second = TcpRepr { seq_number: REMOTE_SEQ + 4, ack_number: cookie_ack, ..SEND };
    assert_eq!(feed(&mut l, ms(5), 5001, &second, b"def"), None);
    assert_eq!((l.stats().cookies_unverified, l.stats().cookies_rejected), (1, 0));
    assert_eq!(l.accept_queue_len(), 0);
    assert!(drain(&mut l, ms(5)).is_empty());
    feed(&mut l, ms(300), 5001, &TcpRepr { ack_number: cookie_ack, ..SEND }, b"abc");
    let i = l.accept().unwrap();
    assert_eq!(app_recv(l.socket(i).unwrap()), b"abc");
    assert_eq!(l.stats().cookies_accepted, 1);

    // A listener that sent no cookie resets the same segment.
    let mut quiet = listener(2, limits);
    let reply = feed(&mut quiet, ms(5), 5001, &second, b"def").expect("RST");
    assert_eq!((reply.control, reply.seq_number), (TcpControl::Rst, syn_ack.seq_number + 1));
    // And so does this one once its cookies are past their lifetime.
    let reply = feed(&mut l, ms(200_000), 5002, &second, b"def").expect("RST");
    assert_eq!(reply.control, TcpControl::Rst);
}
