//! Random segments and application calls against sockets in every state:
//! nothing may panic, dispatch must always stop, and the sequence
//! variables must stay ordered.

use super::*;
use crate::wire::tcp::TcpTimestamp;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

fn starting_points() -> Vec<TcpSocket<'static>> {
    vec![
        listening(),
        syn_sent(),
        syn_received(),
        established(),
        established_with(TcpConfig::default()),
        with_options(),
        fin_wait_1(),
        fin_wait_2(),
        close_wait(),
        closing(),
        last_ack(),
        time_wait(),
    ]
}

/// ESTABLISHED with window scaling, SACK and timestamps negotiated.
fn with_options() -> TcpSocket<'static> {
    let syn = TcpRepr {
        window_scale: Some(3),
        sack_permitted: true,
        timestamp: Some(TcpTimestamp { tsval: 1000, tsecr: 0 }),
        ..SYN
    };
    let mut s = syn_received_with(TcpConfig::default(), syn);
    let ack = TcpRepr { timestamp: Some(TcpTimestamp { tsval: 1001, tsecr: 0 }), ..SEND };
    send(&mut s, ms(0), &ack, &[]);
    assert_eq!(s.state(), State::Established);
    assert!(s.timestamps && s.sack_ok);
    s
}

fn random_seq(rng: &mut Rng, near: SeqNumber) -> SeqNumber {
    match rng.below(4) {
        0 => SeqNumber(rng.next()),
        1 => near,
        _ => near + rng.below(6000) as usize - 3000,
    }
}

fn random_segment(rng: &mut Rng, s: &TcpSocket) -> (TcpRepr, Vec<u8>) {
    let control = match rng.below(10) {
        0 => TcpControl::Syn,
        1 => TcpControl::Fin,
        2 => TcpControl::Rst,
        _ => TcpControl::None,
    };
    let mut sack = [None; 4];
    for slot in sack.iter_mut().take(rng.below(5) as usize) {
        let l = random_seq(rng, s.snd_una);
        *slot = Some((l, l + rng.below(3000) as usize));
    }
    let repr = TcpRepr {
        control,
        seq_number: random_seq(rng, s.rcv_nxt),
        ack_number: (rng.below(8) != 0).then(|| random_seq(rng, s.snd_una)),
        window_len: if rng.below(4) == 0 { 0 } else { rng.next() as u16 },
        window_scale: (rng.below(4) == 0).then(|| rng.below(16) as u8),
        max_seg_size: (rng.below(4) == 0).then(|| rng.next() as u16),
        sack_permitted: rng.below(2) == 0,
        sack_ranges: sack,
        timestamp: (rng.below(3) != 0).then(|| TcpTimestamp {
            tsval: s.ts_recent.wrapping_add(rng.below(100)).wrapping_sub(20),
            tsecr: rng.next(),
        }),
        urgent: (rng.below(20) == 0).then(|| rng.next() as u16),
        ..SEND
    };
    let len = if rng.below(3) == 0 { 0 } else { rng.below(2000) as usize };
    let payload = (0..len).map(|_| rng.next() as u8).collect();
    (repr, payload)
}

fn check_invariants(s: &TcpSocket) {
    if matches!(s.state(), State::Closed | State::Listen) {
        return;
    }
    assert!(s.snd_una <= s.snd_nxt, "una {} nxt {} in {}", s.snd_una, s.snd_nxt, s.state());
    assert!(s.snd_nxt <= s.snd_max, "nxt {} max {} in {}", s.snd_nxt, s.snd_max, s.state());
    let flight = s.snd_max.distance_from(s.snd_una);
    assert!(flight <= s.tx_buffer.len() + 2, "flight {flight} > queued {}", s.tx_buffer.len());
    assert!(s.rx_buffer.len() <= s.rx_buffer.capacity());
    assert!(s.scoreboard.ranges().iter().all(|r| r.1 <= flight.max(1) + 65536));
}

#[test]
fn random_input_in_every_state() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..60 {
        for mut s in starting_points() {
            let mut now = 0i64;
            for _ in 0..150 {
                match rng.below(10) {
                    0..=5 => {
                        let (repr, payload) = random_segment(&mut rng, &s);
                        let _ = s.process(
                            ms(now),
                            LOCAL,
                            REMOTE,
                            &TcpRepr { payload_len: payload.len(), ..repr },
                            &payload,
                        );
                    }
                    6 => {
                        let _ = s.send_slice(&pattern(0, rng.below(3000) as usize));
                    }
                    7 => {
                        let mut buf = [0; 700];
                        let _ = s.recv_slice(&mut buf);
                    }
                    8 => {
                        now += i64::from(rng.below(3000));
                    }
                    _ => match rng.below(20) {
                        0 => s.close(),
                        1 => s.abort(),
                        _ => {}
                    },
                }
                check_invariants(&s);
                let mss = 1 + rng.below(9000) as usize;
                recv_all_mss(&mut s, ms(now), mss);
                check_invariants(&s);
                let _ = s.poll_at();
                let _ = s.info();
            }
            let _ = round;
        }
    }
}

#[test]
fn random_input_at_a_listener() {
    let mut rng = Rng(0xfeed_beef_1234_5678);
    let pool: Vec<TcpSocket<'static>> = (0..3).map(|_| socket_with(TcpConfig::default(), 2048, 2048)).collect();
    let limits = ListenerConfig { syn_backlog: 2, accept_backlog: 2, syn_cookies: true };
    let mut l = TcpListener::new(80, pool.leak(), TcpConfig::default(), limits);
    let probe = socket();
    let mut now = 0i64;
    let mut held: Vec<usize> = Vec::new();
    for _ in 0..20_000 {
        let port = 5000 + rng.below(6) as u16;
        let remote = IpEndpoint::new(REMOTE.addr, port);
        match rng.below(10) {
            0..=5 => {
                let (mut repr, payload) = random_segment(&mut rng, &probe);
                repr.src_port = port;
                repr.payload_len = payload.len();
                if l.accepts(LOCAL, remote, &repr) {
                    let _ = l.process(ms(now), LOCAL, remote, &repr, &payload);
                }
            }
            6 => {
                if let Some(i) = l.accept() {
                    held.push(i);
                }
            }
            7 => {
                if let Some(i) = held.pop() {
                    l.release(i);
                }
            }
            _ => now += i64::from(rng.below(2000)),
        }
        for _ in 0..100 {
            let mut sent = false;
            l.dispatch(ms(now), 1460, |_, _, _, _| {
                sent = true;
                Ok::<(), ()>(())
            })
            .unwrap();
            if !sent {
                break;
            }
        }
        assert!(l.syn_queue_len() <= 2);
        let _ = l.poll_at();
    }
}
