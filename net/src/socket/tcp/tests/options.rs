//! Options: MSS, window scaling, timestamps and PAWS, SACK.

use super::*;
use crate::wire::tcp::TcpTimestamp;

fn full_config() -> TcpConfig {
    TcpConfig::default()
}

fn ts(tsval: u32, tsecr: u32) -> Option<TcpTimestamp> {
    Some(TcpTimestamp { tsval, tsecr })
}

/// The peer's SYN offering everything (window scale 7, SACK, TS 500).
const SYN_ALL: TcpRepr = TcpRepr {
    window_scale: Some(7),
    sack_permitted: true,
    timestamp: Some(TcpTimestamp { tsval: 500, tsecr: 0 }),
    ..SYN
};

/// Passive open with options; returns the socket and its SYN-ACK.
fn open(config: TcpConfig, rx: usize, syn: TcpRepr) -> (TcpSocket<'static>, TcpRepr) {
    let mut s = socket_with(config, rx, 8192);
    s.listen(80).unwrap();
    assert_eq!(send(&mut s, ms(0), &syn, &[]), None);
    force_iss(&mut s, LOCAL_SEQ);
    let syn_ack = recv_one(&mut s, ms(0));
    (s, syn_ack)
}

fn open_established(config: TcpConfig, rx: usize, syn: TcpRepr) -> TcpSocket<'static> {
    let (mut s, _) = open(config, rx, syn);
    let ack = TcpRepr { timestamp: syn.timestamp.map(|_| TcpTimestamp { tsval: 501, tsecr: 0 }), ..SEND };
    assert_eq!(send(&mut s, ms(0), &ack, &[]), None);
    assert_eq!(s.state(), State::Established);
    s
}

#[test]
fn syn_offers_every_enabled_option() {
    let mut s = socket_with(full_config(), 200_000, 1024);
    s.connect(LOCAL, REMOTE, ms(7)).unwrap();
    force_iss(&mut s, LOCAL_SEQ);
    assert_eq!(
        recv_one(&mut s, ms(7)),
        TcpRepr {
            control: TcpControl::Syn,
            seq_number: LOCAL_SEQ,
            ack_number: None,
            window_len: 65535,
            max_seg_size: Some(1460),
            window_scale: Some(2),
            sack_permitted: true,
            timestamp: ts(7, 0),
            ..RECV
        }
    );
}

#[test]
fn syn_ack_echoes_offered_options() {
    let (_, syn_ack) = open(full_config(), 200_000, SYN_ALL);
    assert_eq!(
        syn_ack,
        TcpRepr {
            control: TcpControl::Syn,
            seq_number: LOCAL_SEQ,
            window_len: 65535,
            max_seg_size: Some(1460),
            window_scale: Some(2),
            sack_permitted: true,
            timestamp: ts(0, 500),
            ..RECV
        }
    );
}

#[test]
fn syn_ack_omits_options_the_peer_did_not_offer() {
    let (mut s, syn_ack) = open(full_config(), 200_000, SYN);
    assert_eq!(
        syn_ack,
        TcpRepr {
            control: TcpControl::Syn,
            seq_number: LOCAL_SEQ,
            window_len: 65535,
            max_seg_size: Some(1460),
            ..RECV
        }
    );
    send(&mut s, ms(0), &TcpRepr { window_len: 100, ..SEND }, &[]);
    // No scaling either way.
    assert_eq!(s.info().send_window, 100);
    send(&mut s, ms(1), &SEND, b"x");
    // The right edge stays put (receiver SWS avoidance).
    assert_eq!(recv_one(&mut s, ms(50)), TcpRepr { ack_number: Some(seq(10002)), window_len: 65534, ..RECV });
}

#[test]
fn options_not_offered_when_disabled() {
    let (_, syn_ack) = open(plain_config(), 200_000, SYN_ALL);
    assert_eq!(
        syn_ack,
        TcpRepr {
            control: TcpControl::Syn,
            seq_number: LOCAL_SEQ,
            window_len: 65535,
            max_seg_size: Some(1460),
            ..RECV
        }
    );
}

#[test]
fn window_scaling_applies_both_ways() {
    let config = TcpConfig { timestamps: false, sack: false, ..full_config() };
    let syn = TcpRepr { window_scale: Some(7), ..SYN };
    let mut s = open_established(config, 200_000, syn);
    send(&mut s, ms(0), &TcpRepr { window_len: 100, ..SEND }, &[]);
    assert_eq!(s.info().send_window, 12800);
    send(&mut s, ms(1), &SEND, b"abcd");
    // 200000 - 4 free, shifted by 2.
    assert_eq!(recv_one(&mut s, ms(41)), TcpRepr { ack_number: Some(seq(10005)), window_len: 49999, ..RECV });
}

#[test]
fn scaled_window_limits_sending() {
    let config = TcpConfig { timestamps: false, sack: false, nagle: false, ..full_config() };
    let mut s = open_established(config, 4096, TcpRepr { window_scale: Some(4), ..SYN });
    // 2 << 4 = 32 bytes of window.
    send(&mut s, ms(0), &TcpRepr { window_len: 2, ..SEND }, &[]);
    // Below half the largest window seen: held until the persist timer.
    assert_eq!(app_send(&mut s, ms(0), &pattern(0, 100)).len(), 0);
    let segs = recv_all(&mut s, ms(200));
    assert_eq!(segs.len(), 1);
    assert_eq!(segs[0].0.payload_len, 32);
}

#[test]
fn largest_window_shift_is_fourteen() {
    let config = TcpConfig { timestamps: false, sack: false, ..full_config() };
    let mut s = open_established(config, 4096, TcpRepr { window_scale: Some(14), ..SYN });
    send(&mut s, ms(0), &TcpRepr { window_len: 3, ..SEND }, &[]);
    assert_eq!(s.info().send_window, 3 << 14);
}

#[test]
fn timestamps_echoed_on_acks() {
    let mut s = open_established(full_config(), 4096, SYN_ALL);
    send(&mut s, ms(10), &TcpRepr { timestamp: ts(600, 5), ..SEND }, b"hi");
    assert_eq!(
        recv_one(&mut s, ms(50)),
        TcpRepr { ack_number: Some(seq(10003)), window_len: 4094, timestamp: ts(50, 600), ..RECV }
    );
}

#[test]
fn timestamps_shrink_the_payload_per_segment() {
    let mut s = open_established(TcpConfig { nagle: false, ..full_config() }, 4096, SYN_ALL);
    assert_eq!(s.info().mss, 1448);
    let segs = app_send(&mut s, ms(1), &pattern(0, 2000));
    assert_eq!(segs[0].0.payload_len, 1448);
    assert_eq!(segs[0].0.timestamp, ts(1, 501));
}

#[test]
fn rtt_sampled_from_timestamp_echo() {
    let mut s = open_established(full_config(), 4096, SYN_ALL);
    let segs = app_send(&mut s, ms(100), b"x");
    assert_eq!(segs[0].0.timestamp, ts(100, 501));
    send(&mut s, ms(130), &TcpRepr { timestamp: ts(502, 100), ack_number: Some(seq(1002)), ..SEND }, &[]);
    // The SYN-ACK gave a 0 ms sample; then 30 ms: srtt = 30/8.
    assert_eq!(s.info().srtt, Some(Duration::from_micros(3750)));
}

#[test]
fn paws_drops_old_timestamp_with_ack() {
    let mut s = open_established(full_config(), 4096, SYN_ALL);
    send(&mut s, ms(1), &TcpRepr { timestamp: ts(600, 0), ..SEND }, b"a");
    recv_all(&mut s, ms(50));
    let stale = TcpRepr { seq_number: seq(10002), timestamp: ts(599, 0), ..SEND };
    assert_eq!(
        send(&mut s, ms(60), &stale, b"b"),
        Some(TcpRepr { ack_number: Some(seq(10002)), window_len: 4095, timestamp: ts(60, 600), ..RECV })
    );
    assert_eq!(s.recv_queue(), 1);
}

#[test]
fn paws_accepts_timestamp_that_wrapped() {
    let syn = TcpRepr { timestamp: ts(u32::MAX - 10, 0), ..SYN_ALL };
    // The handshake's ACK carries 501: newer across the wrap.
    let mut s = open_established(full_config(), 4096, syn);
    assert_eq!(s.ts_recent, 501);
    send(&mut s, ms(1), &TcpRepr { timestamp: ts(502, 0), ..SEND }, b"a");
    assert_eq!(s.recv_queue(), 1);
}

#[test]
fn paws_ignores_timestamps_idle_for_24_days() {
    let mut s = open_established(full_config(), 4096, SYN_ALL);
    let later = Instant::from_secs(25 * 24 * 3600);
    send(&mut s, later, &TcpRepr { timestamp: ts(1, 0), ..SEND }, b"a");
    assert_eq!(s.recv_queue(), 1);
}

#[test]
fn paws_does_not_apply_to_rst() {
    let mut s = open_established(full_config(), 4096, SYN_ALL);
    let rst = TcpRepr { control: TcpControl::Rst, ack_number: None, timestamp: ts(1, 0), ..SEND };
    assert_eq!(send(&mut s, ms(1), &rst, &[]), None);
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn segment_without_timestamp_dropped_once_negotiated() {
    let mut s = open_established(full_config(), 4096, SYN_ALL);
    assert_eq!(send(&mut s, ms(1), &SEND, b"a"), None);
    assert_eq!(s.recv_queue(), 0);
    recv_nothing(&mut s, ms(100));
}

#[test]
fn ts_recent_not_taken_from_segment_beyond_last_ack() {
    let mut s = open_established(full_config(), 4096, SYN_ALL);
    // Out-of-order: its timestamp must not become TS.Recent.
    let ooo = TcpRepr { seq_number: seq(10101), timestamp: ts(900, 0), ..SEND };
    send(&mut s, ms(1), &ooo, b"later");
    assert_eq!(s.ts_recent, 501);
    send(&mut s, ms(2), &TcpRepr { timestamp: ts(700, 0), ..SEND }, b"now");
    assert_eq!(s.ts_recent, 700);
}

#[test]
fn peer_mss_limits_segment_size() {
    let mut s = open_established(
        TcpConfig { nagle: false, ..plain_config() },
        4096,
        TcpRepr { max_seg_size: Some(500), ..SYN },
    );
    let lens: Vec<usize> = app_send(&mut s, ms(0), &pattern(0, 1200)).iter().map(|s| s.0.payload_len).collect();
    assert_eq!(lens, vec![500, 500, 200]);
}

#[test]
fn tiny_peer_mss_clamped() {
    let s = open_established(plain_config(), 4096, TcpRepr { max_seg_size: Some(1), ..SYN });
    assert_eq!(s.info().mss, 64);
}

#[test]
fn missing_mss_defaults_to_536() {
    let s = open_established(plain_config(), 4096, TcpRepr { max_seg_size: None, ..SYN });
    assert_eq!(s.info().mss, 536);
}

#[test]
fn advertised_mss_follows_route_limit() {
    let mut s = socket();
    s.connect(LOCAL, REMOTE, ms(0)).unwrap();
    let segs = recv_all_mss(&mut s, ms(0), 8960);
    assert_eq!(segs[0].0.max_seg_size, Some(8960));
}

fn sack_socket() -> TcpSocket<'static> {
    let config = TcpConfig { timestamps: false, window_scaling: false, ..full_config() };
    open_established(config, 4096, TcpRepr { sack_permitted: true, ..SYN })
}

#[test]
fn out_of_order_ack_carries_sack_block() {
    let mut s = sack_socket();
    let reply = send(&mut s, ms(1), &TcpRepr { seq_number: seq(10101), ..SEND }, &[7; 50]).unwrap();
    assert_eq!(reply, TcpRepr { sack_ranges: [Some((seq(10101), seq(10151))), None, None, None], ..RECV });
}

#[test]
fn most_recent_sack_block_first() {
    let mut s = sack_socket();
    send(&mut s, ms(1), &TcpRepr { seq_number: seq(10101), ..SEND }, &[1; 10]);
    send(&mut s, ms(1), &TcpRepr { seq_number: seq(10301), ..SEND }, &[1; 10]);
    let reply = send(&mut s, ms(1), &TcpRepr { seq_number: seq(10201), ..SEND }, &[1; 10]).unwrap();
    assert_eq!(
        reply.sack_ranges,
        [Some((seq(10201), seq(10211))), Some((seq(10101), seq(10111))), Some((seq(10301), seq(10311))), None]
    );
}

#[test]
fn no_sack_blocks_unless_permitted() {
    let mut s = established_with(TcpConfig { sack: true, ..plain_config() });
    let reply = send(&mut s, ms(1), &TcpRepr { seq_number: seq(10101), ..SEND }, &[7; 50]).unwrap();
    assert_eq!(reply.sack_ranges, [None; 4]);
}

#[test]
fn ipv6_peer_without_mss_gets_1220() {
    let v6l = IpEndpoint::new(IpAddress::V6(crate::wire::Ipv6Address([0xfd; 16])), 80);
    let v6r = IpEndpoint::new(IpAddress::V6(crate::wire::Ipv6Address([0xfe; 16])), 49500);
    let mut s = socket();
    s.listen(80).unwrap();
    assert!(s.accepts(v6l, v6r, &SYN));
    s.process(ms(0), v6l, v6r, &TcpRepr { max_seg_size: None, ..SYN }, &[]);
    assert_eq!(s.info().mss, 1220.min(DEFAULT_MSS_V4.max(s.mss_limit)));
    s.dispatch(ms(0), 1440, |_, _, _, _| Ok::<(), ()>(())).unwrap();
    assert_eq!(s.info().mss, 1220);
}
