//! DHCPv4 client: arbitrary replies interleaved with time steps, polls,
//! `release` and `reset`. A reply is either raw bytes or bytes patched into
//! a BOOTREPLY for the client's current transaction (op, hardware type and
//! length, xid, chaddr, cookie, a message-type option), so the fuzzer
//! reaches every state.
//!
//! Checked: every message the client sends is a well-formed DHCP request
//! (DISCOVER, REQUEST or RELEASE) from our MAC, no longer than
//! `MAX_PAYLOAD_LEN`; events agree with `config()`; a configured address is
//! unicast; once polled until quiet, `poll_at` is in the future.
#![no_main]

#[path = "../common/input.rs"]
mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use net::socket::dhcpv4::{DhcpClient, DhcpEvent, DhcpState, MAX_PAYLOAD_LEN};
use net::time::{Duration, Instant};
use net::wire::dhcpv4::{MessageType, Packet, Repr, MAGIC_COOKIE};
use net::wire::{EthernetAddress, Ipv4Address};

const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const SERVER: Ipv4Address = Ipv4Address([10, 0, 2, 2]);
const MAX_OPS: usize = 200;

struct Run {
    client: DhcpClient,
    now: Instant,
    /// Transaction id of the last message sent.
    xid: u32,
}

impl Run {
    fn check_event(&mut self) {
        match self.client.take_event() {
            Some(DhcpEvent::Configured(config)) => {
                assert_eq!(self.client.config(), Some(config));
                assert!(config.address.address().is_unicast());
                assert!(config.address.prefix_len() <= 32);
                assert!(config.dns_servers.iter().flatten().all(|a| a.is_unicast()));
                assert!(config.router.is_none_or(|a| a.is_unicast()));
            }
            Some(DhcpEvent::Deconfigured) => assert_eq!(self.client.config(), None),
            None => {}
        }
    }

    fn check_sent(&mut self, out: &[u8], allowed: &[MessageType]) {
        assert!(out.len() <= MAX_PAYLOAD_LEN);
        let packet = Packet::new_checked(out).expect("sent message checks");
        let repr = Repr::parse(&packet).expect("sent message parses");
        assert!(allowed.contains(&repr.message_type), "sent {:?}", repr.message_type);
        assert_eq!(repr.client_hardware_address, MAC);
        self.xid = repr.transaction_id;
    }

    fn poll(&mut self) {
        let mut out = [0u8; MAX_PAYLOAD_LEN];
        for _ in 0..8 {
            let Some(tx) = self.client.poll(self.now, &mut out) else { break };
            self.check_sent(&out[..tx.len], &[MessageType::Discover, MessageType::Request]);
            self.check_event();
        }
        let poll_at = self.client.poll_at();
        assert!(poll_at.is_none_or(|t| t > self.now), "poll_at {poll_at:?} at {}", self.now);
        // A short buffer is refused without a state change.
        let state = self.client.state();
        assert_eq!(self.client.poll(self.now, &mut out[..100]), None);
        assert_eq!(self.client.state(), state);
    }

    fn reply(&mut self, inp: &mut Input) {
        let mode = inp.u8();
        let src = if mode & 0x80 != 0 { Ipv4Address::from_u32(inp.u32()) } else { SERVER };
        let len = usize::from(inp.u16() % 700);
        let mut payload = inp.bytes(len).to_vec();
        if mode & 1 != 0 {
            // A reply to the current transaction: fixed header fields right,
            // the message type chosen, the rest (addresses, options) fuzzed.
            payload.resize(payload.len().max(243), 0);
            payload[..4].copy_from_slice(&[2, 1, 6, 0]);
            payload[4..8].copy_from_slice(&self.xid.to_be_bytes());
            payload[28..34].copy_from_slice(&MAC.0);
            payload[236..240].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
            payload[240..243].copy_from_slice(&[53, 1, (mode >> 1) % 9]);
        }
        self.client.process(self.now, src, &payload);
    }
}

fn time_step(inp: &mut Input) -> Duration {
    let b = inp.u8();
    let n = u64::from(b & 0x3f);
    match b >> 6 {
        0 => Duration::from_millis(n * 100),
        1 => Duration::from_secs(n),
        2 => Duration::from_secs(n * 60),
        _ => Duration::from_secs(n * 3600),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let mut run =
        Run { client: DhcpClient::new(MAC, inp.u32()), now: Instant::from_millis(i64::from(inp.u16())), xid: 0 };
    run.poll();
    for _ in 0..MAX_OPS {
        if inp.is_empty() {
            break;
        }
        match inp.u8() % 10 {
            0..=4 => run.reply(&mut inp),
            5 | 6 => run.now += time_step(&mut inp),
            7 => {
                let mut out = [0u8; MAX_PAYLOAD_LEN];
                let held = run.client.config();
                match run.client.release(&mut out) {
                    Some(tx) => {
                        let held = held.expect("release without a lease");
                        assert_eq!(tx.dst, held.server);
                        assert_eq!(run.client.state(), DhcpState::Released);
                        run.check_sent(&out[..tx.len], &[MessageType::Release]);
                    }
                    None => assert!(held.is_none()),
                }
            }
            8 => run.client.reset(run.now),
            _ => {}
        }
        run.check_event();
        run.poll();
    }
});
