//! DNS stub resolver: queries started, answered with arbitrary datagrams
//! from configured or other sources, collected, cancelled, with time
//! steps and server changes in between. A response is either raw bytes or
//! the last query sent turned into a response (QR set, rcode and counts
//! chosen) followed by fuzzed records, so the fuzzer reaches the answer
//! walk, CNAME chains and re-queries.
//!
//! Checked: every datagram the resolver sends is a query with one
//! question, to port 53 of a configured server; results hold one to four
//! addresses of the family asked for; a collected handle is then invalid;
//! once polled until quiet, `poll_at` is in the future.
#![no_main]

#[path = "../common/input.rs"]
mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use net::socket::dns::{DnsError, DnsQuerySlot, DnsResolver, QueryHandle, QueryKind, MAX_ADDRESSES, MAX_PAYLOAD_LEN};
use net::time::{Duration, Instant};
use net::wire::dns::{Entry, Packet, SERVER_PORT};
use net::wire::{IpAddress, IpEndpoint, Ipv4Address, Ipv6Address};

const SERVERS: [IpAddress; 3] = [
    IpAddress::V4(Ipv4Address([10, 0, 2, 3])),
    IpAddress::V4(Ipv4Address([1, 1, 1, 1])),
    IpAddress::V6(Ipv6Address([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53])),
];
const NAMES: [&str; 4] = ["example.com", "www.example.com.", "a.b.c.d.e.f", "x"];
const MAX_OPS: usize = 200;

struct Run<'a> {
    resolver: DnsResolver<'a>,
    now: Instant,
    handles: Vec<(QueryHandle, QueryKind)>,
    /// The last query sent.
    last_query: Vec<u8>,
}

impl Run<'_> {
    fn poll(&mut self) {
        let mut out = [0u8; MAX_PAYLOAD_LEN];
        for _ in 0..16 {
            let Some((dst, len)) = self.resolver.poll(self.now, &mut out) else { break };
            assert!(len <= MAX_PAYLOAD_LEN);
            assert_eq!(dst.port, SERVER_PORT);
            assert!(self.resolver.servers().any(|s| s == dst.addr), "query to {dst}");
            let packet = Packet::new_checked(&out[..len]).expect("sent query checks");
            assert!(!packet.is_response());
            assert_eq!(packet.question_count(), 1);
            assert!(matches!(packet.entries().next(), Some(Ok(Entry::Question(_)))));
            self.last_query = out[..len].to_vec();
        }
        let poll_at = self.resolver.poll_at();
        assert!(poll_at.is_none_or(|t| t > self.now), "poll_at {poll_at:?} at {}", self.now);
    }

    fn start(&mut self, inp: &mut Input) {
        let kind = if inp.bool() { QueryKind::Aaaa } else { QueryKind::A };
        let choice = inp.u8();
        let fuzzed;
        let name = if choice < 0xf0 {
            NAMES[usize::from(choice % 4)]
        } else {
            let len = usize::from(inp.u8());
            fuzzed = String::from_utf8_lossy(inp.bytes(len)).into_owned();
            &fuzzed
        };
        if let Ok(handle) = self.resolver.start_query(name, kind, self.now) {
            self.handles.push((handle, kind));
        }
    }

    fn respond(&mut self, inp: &mut Input) {
        let mode = inp.u8();
        let src = match mode >> 6 {
            0 | 1 => IpEndpoint::new(SERVERS[usize::from(mode & 1)], SERVER_PORT),
            2 => IpEndpoint::new(SERVERS[2], SERVER_PORT),
            _ => IpEndpoint::new(IpAddress::V4(Ipv4Address::from_u32(inp.u32())), inp.u16()),
        };
        let len = usize::from(inp.u16() % 1024);
        let body = inp.bytes(len);
        let mut payload;
        if mode & 2 != 0 && self.last_query.len() >= 12 {
            // The last query as a response: flags (QR set, opcode kept at
            // QUERY) and answer/authority/additional counts from the input.
            payload = self.last_query.clone();
            let flags = 0x8000 | (inp.u16() & 0x07ff);
            payload[2..4].copy_from_slice(&flags.to_be_bytes());
            payload[6..8].copy_from_slice(&u16::from(inp.u8() % 8).to_be_bytes());
            payload[8..10].copy_from_slice(&u16::from(inp.u8() % 4).to_be_bytes());
            payload[10..12].copy_from_slice(&u16::from(inp.u8() % 4).to_be_bytes());
            payload.extend_from_slice(body);
        } else {
            payload = body.to_vec();
        }
        self.resolver.process(self.now, src, &payload);
    }

    fn collect(&mut self, index: usize, cancel: bool) {
        if self.handles.is_empty() {
            return;
        }
        let (handle, kind) = self.handles[index % self.handles.len()];
        if cancel {
            let _ = self.resolver.cancel_query(handle);
            assert_eq!(self.resolver.query_result(handle), Err(DnsError::InvalidHandle));
            return;
        }
        match self.resolver.query_result(handle) {
            Ok(None) => return,
            Ok(Some(addrs)) => {
                let addrs = addrs.as_slice();
                assert!(!addrs.is_empty() && addrs.len() <= MAX_ADDRESSES);
                for a in addrs {
                    match (kind, a) {
                        (QueryKind::A, IpAddress::V4(_)) | (QueryKind::Aaaa, IpAddress::V6(_)) => {}
                        _ => panic!("{kind:?} query gave {a}"),
                    }
                }
            }
            Err(DnsError::InvalidHandle) => {}
            Err(_) => {}
        }
        assert_eq!(self.resolver.query_result(handle), Err(DnsError::InvalidHandle));
    }
}

fn time_step(inp: &mut Input) -> Duration {
    let b = inp.u8();
    let n = u64::from(b & 0x3f);
    match b >> 6 {
        0 => Duration::from_millis(n * 10),
        1 => Duration::from_millis(n * 100),
        2 => Duration::from_secs(n),
        _ => Duration::from_secs(n * 60),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let mut slots = [DnsQuerySlot::EMPTY; 3];
    let mut run = Run {
        resolver: DnsResolver::new(&mut slots, inp.u32()),
        now: Instant::from_millis(i64::from(inp.u16())),
        handles: Vec::new(),
        last_query: Vec::new(),
    };
    run.resolver.set_servers(&SERVERS[..2]);
    for _ in 0..MAX_OPS {
        if inp.is_empty() {
            break;
        }
        match inp.u8() % 12 {
            0 | 1 => run.start(&mut inp),
            2..=6 => run.respond(&mut inp),
            7 | 8 => run.now += time_step(&mut inp),
            9 => {
                let index = usize::from(inp.u8());
                run.collect(index, false);
            }
            10 => {
                let index = usize::from(inp.u8());
                run.collect(index, true);
            }
            _ => {
                let from = usize::from(inp.u8() % 3);
                let to = from + usize::from(inp.u8() % 3);
                run.resolver.set_servers(&SERVERS[from..to.min(3)]);
            }
        }
        run.poll();
    }
});
