//! Segment-level tests: build the exact segment the peer sends, feed it to
//! `process`, and assert the exact segments the socket answers from
//! `process` and `dispatch`.
//!
//! Conventions: we are 10.0.0.1:80, the peer is 10.0.0.2:49500. Our ISS is
//! forced to `LOCAL_SEQ` (1000) and the peer's is `REMOTE_SEQ` (10000), so
//! after a handshake we send from 1001 and expect 10001. `mss_limit` is
//! 1460 unless a test says otherwise.

mod checksum;
mod close;
mod congestion;
mod established;
mod handshake;
mod listener;
mod listener_shuttle;
mod offload;
mod options;
mod quiet;
mod reassembly;
mod robustness;
mod rst;
mod shuttle;
mod states;
mod timers;

use super::*;
use crate::wire::tcp::{SeqNumber, TcpControl};
use crate::wire::{IpEndpoint, Ipv4Address};
use std::vec;
use std::vec::Vec;

pub const LOCAL_PORT: u16 = 80;
pub const REMOTE_PORT: u16 = 49500;
pub const LOCAL: IpEndpoint = IpEndpoint::new(IpAddress::V4(Ipv4Address([10, 0, 0, 1])), LOCAL_PORT);
pub const REMOTE: IpEndpoint = IpEndpoint::new(IpAddress::V4(Ipv4Address([10, 0, 0, 2])), REMOTE_PORT);
pub const LOCAL_SEQ: SeqNumber = SeqNumber(1000);
pub const REMOTE_SEQ: SeqNumber = SeqNumber(10000);
pub const MSS: usize = 1460;
pub const BUF: usize = 4096;

/// A segment from the peer to us; tests override fields.
pub const SEND: TcpRepr = TcpRepr {
    src_port: REMOTE_PORT,
    dst_port: LOCAL_PORT,
    control: TcpControl::None,
    seq_number: SeqNumber(10001),
    ack_number: Some(SeqNumber(1001)),
    window_len: 8192,
    window_scale: None,
    max_seg_size: None,
    sack_permitted: false,
    sack_ranges: [None; 4],
    timestamp: None,
    push: false,
    urgent: None,
    ece: false,
    cwr: false,
    payload_len: 0,
};

/// A segment from us to the peer; tests override fields.
pub const RECV: TcpRepr = TcpRepr {
    src_port: LOCAL_PORT,
    dst_port: REMOTE_PORT,
    control: TcpControl::None,
    seq_number: SeqNumber(1001),
    ack_number: Some(SeqNumber(10001)),
    window_len: BUF as u16,
    window_scale: None,
    max_seg_size: None,
    sack_permitted: false,
    sack_ranges: [None; 4],
    timestamp: None,
    push: false,
    urgent: None,
    ece: false,
    cwr: false,
    payload_len: 0,
};

pub fn ms(n: i64) -> Instant {
    Instant::from_millis(n)
}

pub fn seq(n: u32) -> SeqNumber {
    SeqNumber(n)
}

/// Options off, so segments are plain unless a test turns them on.
pub fn plain_config() -> TcpConfig {
    TcpConfig { window_scaling: false, timestamps: false, sack: false, ..TcpConfig::default() }
}

pub fn socket_with(config: TcpConfig, rx: usize, tx: usize) -> TcpSocket<'static> {
    let rx = RingBuffer::new(vec![0u8; rx].leak());
    let tx = RingBuffer::new(vec![0u8; tx].leak());
    TcpSocket::new(rx, tx, config)
}

pub fn socket() -> TcpSocket<'static> {
    socket_with(plain_config(), BUF, BUF)
}

/// Forces the initial sequence number so tests can use constants.
pub fn force_iss(s: &mut TcpSocket, iss: SeqNumber) {
    s.iss = iss;
    s.snd_una = iss;
    s.snd_nxt = iss;
    s.snd_max = iss;
    s.recover = iss;
    s.snd_wl2 = iss;
    s.ts_offset = 0;
}

/// Feeds one peer segment; returns the immediate reply, checking its
/// addresses.
pub fn send(s: &mut TcpSocket, now: Instant, repr: &TcpRepr, payload: &[u8]) -> Option<TcpRepr> {
    assert!(s.accepts(LOCAL, REMOTE, &TcpRepr { payload_len: payload.len(), ..*repr }), "not accepted: {}", repr);
    let reply = s.process(now, LOCAL, REMOTE, &TcpRepr { payload_len: payload.len(), ..*repr }, payload);
    reply.map(|r| {
        assert_eq!((r.local, r.remote), (LOCAL, REMOTE));
        r.repr
    })
}

/// Every segment `dispatch` emits at `now` (until it stops), with payloads.
pub fn recv_all(s: &mut TcpSocket, now: Instant) -> Vec<(TcpRepr, Vec<u8>)> {
    recv_all_mss(s, now, MSS)
}

pub fn recv_all_mss(s: &mut TcpSocket, now: Instant, mss: usize) -> Vec<(TcpRepr, Vec<u8>)> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let mut got = None;
        s.dispatch(now, mss, |local, remote, repr, payload| {
            assert_eq!((*local, *remote), (LOCAL, REMOTE));
            assert_eq!(repr.payload_len, payload.len());
            got = Some((*repr, payload.to_vec()));
            Ok::<(), ()>(())
        })
        .unwrap();
        match got {
            Some(seg) => out.push(seg),
            None => return out,
        }
    }
    panic!("dispatch never stops");
}

/// The single segment `dispatch` emits at `now` (payload must be empty).
#[track_caller]
pub fn recv_one(s: &mut TcpSocket, now: Instant) -> TcpRepr {
    let segs = recv_all(s, now);
    assert_eq!(segs.len(), 1, "expected one segment, got {:?}", segs);
    assert!(segs[0].1.is_empty());
    segs[0].0
}

#[track_caller]
pub fn recv_nothing(s: &mut TcpSocket, now: Instant) {
    let segs = recv_all(s, now);
    assert!(segs.is_empty(), "expected nothing, got {:?}", segs);
}

/// A socket in LISTEN on port 80.
pub fn listening() -> TcpSocket<'static> {
    listening_with(plain_config())
}

pub fn listening_with(config: TcpConfig) -> TcpSocket<'static> {
    let mut s = socket_with(config, BUF, BUF);
    s.listen(LOCAL_PORT).unwrap();
    s
}

/// The peer's SYN (ISS 10000, MSS 1460).
pub const SYN: TcpRepr =
    TcpRepr { control: TcpControl::Syn, seq_number: REMOTE_SEQ, ack_number: None, max_seg_size: Some(1460), ..SEND };

/// A socket in SYN-RECEIVED that has sent its SYN-ACK.
pub fn syn_received() -> TcpSocket<'static> {
    syn_received_with(plain_config(), SYN)
}

pub fn syn_received_with(config: TcpConfig, syn: TcpRepr) -> TcpSocket<'static> {
    let mut s = listening_with(config);
    assert_eq!(send(&mut s, ms(0), &syn, &[]), None);
    force_iss(&mut s, LOCAL_SEQ);
    assert_eq!(s.state(), State::SynReceived);
    let segs = recv_all(&mut s, ms(0));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.control, TcpControl::Syn);
    s
}

/// An ESTABLISHED socket (passive open), plain options, peer window 8192.
pub fn established() -> TcpSocket<'static> {
    established_with(plain_config())
}

pub fn established_with(config: TcpConfig) -> TcpSocket<'static> {
    let mut s = syn_received_with(config, SYN);
    assert_eq!(send(&mut s, ms(0), &SEND, &[]), None);
    assert_eq!(s.state(), State::Established);
    recv_nothing(&mut s, ms(0));
    s
}

/// A socket in SYN-SENT that has sent its SYN.
pub fn syn_sent() -> TcpSocket<'static> {
    syn_sent_with(plain_config())
}

pub fn syn_sent_with(config: TcpConfig) -> TcpSocket<'static> {
    let mut s = socket_with(config, BUF, BUF);
    s.connect(LOCAL, REMOTE, ms(0)).unwrap();
    force_iss(&mut s, LOCAL_SEQ);
    let segs = recv_all(&mut s, ms(0));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.control, TcpControl::Syn);
    s
}

/// Sends `data` from the application and returns the segments it causes.
pub fn app_send(s: &mut TcpSocket, now: Instant, data: &[u8]) -> Vec<(TcpRepr, Vec<u8>)> {
    assert_eq!(s.send_slice(data), Ok(data.len()));
    recv_all(s, now)
}

/// Reads everything received.
pub fn app_recv(s: &mut TcpSocket) -> Vec<u8> {
    let mut out = vec![0; s.recv_queue()];
    let n = s.recv_slice(&mut out).unwrap();
    out.truncate(n);
    out
}

/// A socket in FIN-WAIT-1 whose FIN (seq 1001) is out.
pub fn fin_wait_1() -> TcpSocket<'static> {
    let mut s = established();
    s.close();
    assert_eq!(recv_one(&mut s, ms(0)), TcpRepr { control: TcpControl::Fin, ..RECV });
    assert_eq!(s.state(), State::FinWait1);
    s
}

pub fn fin_wait_2() -> TcpSocket<'static> {
    let mut s = fin_wait_1();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { ack_number: Some(seq(1002)), ..SEND }, &[]), None);
    assert_eq!(s.state(), State::FinWait2);
    s
}

pub fn close_wait() -> TcpSocket<'static> {
    let mut s = established();
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Fin, ..SEND }, &[]), None);
    assert_eq!(recv_one(&mut s, ms(0)), TcpRepr { ack_number: Some(seq(10002)), window_len: 4095, ..RECV });
    assert_eq!(s.state(), State::CloseWait);
    s
}

pub fn last_ack() -> TcpSocket<'static> {
    let mut s = close_wait();
    s.close();
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
    assert_eq!(s.state(), State::LastAck);
    s
}

pub fn closing() -> TcpSocket<'static> {
    let mut s = fin_wait_1();
    // Peer's FIN crosses ours: it does not acknowledge our FIN.
    assert_eq!(send(&mut s, ms(0), &TcpRepr { control: TcpControl::Fin, ..SEND }, &[]), None);
    assert_eq!(s.state(), State::Closing);
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
    s
}

pub fn time_wait() -> TcpSocket<'static> {
    let mut s = fin_wait_2();
    assert_eq!(
        send(&mut s, ms(0), &TcpRepr { control: TcpControl::Fin, ack_number: Some(seq(1002)), ..SEND }, &[]),
        None
    );
    assert_eq!(s.state(), State::TimeWait);
    assert_eq!(
        recv_one(&mut s, ms(0)),
        TcpRepr { seq_number: seq(1002), ack_number: Some(seq(10002)), window_len: 4095, ..RECV }
    );
    s
}

/// Sequence-number-relative payload pattern, to check bytes exactly.
pub fn pattern(start: usize, len: usize) -> Vec<u8> {
    (start..start + len).map(|i| (i % 251) as u8).collect()
}
