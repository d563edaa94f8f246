//! A sans-IO DHCPv4 client (RFC 2131).
//!
//! The client owns no socket. The embedder (the interface) asks it for a
//! message to send with [`DhcpClient::poll`], sends that payload as a UDP
//! datagram from port [`CLIENT_PORT`] to port [`SERVER_PORT`], hands every
//! datagram received on port 68 to [`DhcpClient::process`], polls again no
//! later than [`DhcpClient::poll_at`], and applies the
//! [`DhcpEvent`]s it takes with [`DhcpClient::take_event`].
//!
//! ```text
//!   Discovering --OFFER--> Requesting --ACK--> Bound --T1--> Renewing
//!        ^                     |  NAK/give up     ^   ACK       | T2
//!        +---------------------+                  +-------- Rebinding
//!        ^  NAK or lease end (Deconfigured)                      |
//!        +-------------------------------------------------------+
//! ```

use crate::time::{Duration, Instant};
use crate::wire::dhcpv4::{MessageType, Packet, Repr};
use crate::wire::{EthernetAddress, Ipv4Address, Ipv4Cidr};

pub use crate::wire::dhcpv4::{CLIENT_PORT, SERVER_PORT};

/// The largest payload [`DhcpClient::poll`] writes; an `out` buffer of this
/// size always suffices.
pub const MAX_PAYLOAD_LEN: usize = crate::wire::dhcpv4::MIN_MESSAGE_LEN;

/// First DISCOVER/REQUEST retransmission delay (RFC 2131 §4.1).
const INITIAL_RETRANSMIT: Duration = Duration::from_secs(4);
/// Retransmission delays double up to this.
const MAX_RETRANSMIT: Duration = Duration::from_secs(64);
/// REQUESTs sent while selecting before starting over with a DISCOVER.
const MAX_REQUEST_ATTEMPTS: u32 = 4;
/// Floor of renewing/rebinding retransmission delays (RFC 2131 §4.4.5).
const MIN_RENEW_RETRANSMIT: Duration = Duration::from_secs(60);
/// Shorter leases are stretched to this, so a misconfigured server cannot
/// make the client loop through DISCOVER/REQUEST as fast as it can.
const MIN_LEASE: Duration = Duration::from_secs(60);
/// Options asked for: subnet mask, router, DNS servers.
const PARAMETER_REQUEST_LIST: [u8; 3] = [1, 3, 6];
/// A lease of 0xffffffff seconds never ends (RFC 2131 §3.3).
const INFINITE_LEASE: u32 = u32::MAX;
const NEVER: Instant = Instant::from_micros(i64::MAX);

/// One payload to send, written at the start of `poll`'s `out` buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpTransmit {
    /// Payload length in bytes.
    pub len: usize,
    /// Source address: unspecified until the client holds a lease.
    pub src: Ipv4Address,
    /// Destination: the limited broadcast, or the server when renewing or
    /// releasing. A broadcast goes to the Ethernet broadcast address.
    pub dst: Ipv4Address,
}

/// An acquired configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpConfig {
    pub address: Ipv4Cidr,
    pub router: Option<Ipv4Address>,
    pub dns_servers: [Option<Ipv4Address>; 3],
    /// The lease as granted (after the 60 s floor); [`Duration::MAX`] for an
    /// infinite lease.
    pub lease: Duration,
    /// The server's identifier (its address).
    pub server: Ipv4Address,
}

/// A change the interface has to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpEvent {
    /// Use this address, route and resolvers (replacing any previous ones).
    Configured(DhcpConfig),
    /// Withdraw the address (and the route and resolvers) given earlier.
    Deconfigured,
}

/// Where the client is, for observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpState {
    Discovering,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
    /// After [`DhcpClient::release`]: idle until [`DhcpClient::reset`].
    Released,
}

/// A held lease and its deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lease {
    config: DhcpConfig,
    renew_at: Instant,
    rebind_at: Instant,
    expires_at: Instant,
}

/// A retransmitted exchange: when the next message is due, how many have
/// gone out, and when the exchange began (for the `secs` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exchange {
    next_tx: Instant,
    attempts: u32,
    /// `None` until the first message goes out.
    started: Option<Instant>,
}

impl Exchange {
    fn due_at(now: Instant) -> Exchange {
        Exchange { next_tx: now, attempts: 0, started: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Discovering(Exchange),
    Requesting { exchange: Exchange, address: Ipv4Address, server: Ipv4Address },
    Bound(Lease),
    Renewing(Lease, Exchange),
    Rebinding(Lease, Exchange),
    Released,
}

/// A DHCPv4 client for one Ethernet interface.
#[derive(Debug)]
pub struct DhcpClient {
    mac: EthernetAddress,
    state: State,
    /// Transaction id of the current exchange.
    xid: u32,
    /// xorshift32 state, from the caller's seed.
    rng: u32,
    /// The address last held, asked for again when discovering.
    last_address: Option<Ipv4Address>,
    event: Option<DhcpEvent>,
}

impl DhcpClient {
    /// A client that starts discovering on its first poll. `seed` should
    /// differ between boots and hosts; it drives transaction ids and jitter.
    pub fn new(mac: EthernetAddress, seed: u32) -> DhcpClient {
        let mut client = DhcpClient {
            mac,
            state: State::Discovering(Exchange::due_at(Instant::ZERO)),
            xid: 0,
            // xorshift must not start from zero.
            rng: if seed == 0 { 0x9e37_79b9 } else { seed },
            last_address: None,
            event: None,
        };
        client.xid = client.next_random();
        client
    }

    /// The current state.
    pub fn state(&self) -> DhcpState {
        match self.state {
            State::Discovering(_) => DhcpState::Discovering,
            State::Requesting { .. } => DhcpState::Requesting,
            State::Bound(_) => DhcpState::Bound,
            State::Renewing(..) => DhcpState::Renewing,
            State::Rebinding(..) => DhcpState::Rebinding,
            State::Released => DhcpState::Released,
        }
    }

    /// The configuration currently held, if any.
    pub fn config(&self) -> Option<DhcpConfig> {
        match self.state {
            State::Bound(lease) | State::Renewing(lease, _) | State::Rebinding(lease, _) => Some(lease.config),
            State::Discovering(_) | State::Requesting { .. } | State::Released => None,
        }
    }

    /// The next change for the interface to apply. Only the latest matters
    /// (each event describes the whole configuration), so one is kept.
    pub fn take_event(&mut self) -> Option<DhcpEvent> {
        self.event.take()
    }

    /// When `poll` next has something to do; `None` when idle for good.
    /// An instant at or before now means "poll now".
    pub fn poll_at(&self) -> Option<Instant> {
        match self.state {
            State::Discovering(ex) | State::Requesting { exchange: ex, .. } => Some(ex.next_tx),
            State::Bound(lease) => Some(lease.renew_at.min(lease.expires_at)),
            State::Renewing(lease, ex) => Some(ex.next_tx.min(lease.rebind_at)),
            State::Rebinding(lease, ex) => Some(ex.next_tx.min(lease.expires_at)),
            State::Released => None,
        }
        .filter(|&t| t != NEVER)
    }

    /// Starts over with a DISCOVER at `now`, withdrawing any held address
    /// (e.g. after the link came back up, or after [`release`](Self::release)).
    pub fn reset(&mut self, now: Instant) {
        if self.config().is_some() {
            self.event = Some(DhcpEvent::Deconfigured);
        }
        self.restart(now);
    }

    /// Gives the lease back: writes a RELEASE to the server into `out`,
    /// withdraws the address and goes idle until [`reset`](Self::reset).
    /// `None` (and no change) when no lease is held or `out` is too small.
    pub fn release(&mut self, out: &mut [u8]) -> Option<DhcpTransmit> {
        let config = self.config()?;
        let xid = self.next_random();
        let client_id = self.client_id();
        let mut repr = Repr::new(MessageType::Release, xid, self.mac);
        repr.client_ip = config.address.address();
        repr.server_identifier = Some(config.server);
        repr.client_identifier = Some(&client_id);
        let len = emit(&repr, out)?;
        self.event = Some(DhcpEvent::Deconfigured);
        self.state = State::Released;
        Some(DhcpTransmit { len, src: config.address.address(), dst: config.server })
    }

    /// Writes the message due at `now`, if any, into `out` and schedules its
    /// retransmission. Lease deadlines (T1, T2, expiry) are acted on here.
    /// `None` when nothing is due or `out` is shorter than needed (at most
    /// [`MAX_PAYLOAD_LEN`]).
    pub fn poll(&mut self, now: Instant, out: &mut [u8]) -> Option<DhcpTransmit> {
        self.advance_timers(now);
        match self.state {
            State::Discovering(ex) if now >= ex.next_tx => {
                let mut repr = self.request_repr(MessageType::Discover, now, ex);
                repr.broadcast = true;
                repr.requested_ip = self.last_address;
                let client_id = self.client_id();
                repr.client_identifier = Some(&client_id);
                let len = emit(&repr, out)?;
                let ex = self.backoff(now, ex);
                self.state = State::Discovering(ex);
                Some(DhcpTransmit { len, src: Ipv4Address::UNSPECIFIED, dst: Ipv4Address::BROADCAST })
            }
            State::Requesting { exchange, address, server } if now >= exchange.next_tx => {
                if exchange.attempts >= MAX_REQUEST_ATTEMPTS {
                    // No answer to repeated REQUESTs: the offer is stale.
                    self.restart(now);
                    return self.poll(now, out);
                }
                let mut repr = self.request_repr(MessageType::Request, now, exchange);
                repr.broadcast = true;
                repr.requested_ip = Some(address);
                repr.server_identifier = Some(server);
                let client_id = self.client_id();
                repr.client_identifier = Some(&client_id);
                let len = emit(&repr, out)?;
                let exchange = self.backoff(now, exchange);
                self.state = State::Requesting { exchange, address, server };
                Some(DhcpTransmit { len, src: Ipv4Address::UNSPECIFIED, dst: Ipv4Address::BROADCAST })
            }
            State::Renewing(lease, ex) if now >= ex.next_tx => {
                let len = self.emit_extend(now, ex, lease, out)?;
                let ex = renew_backoff(now, ex, lease.rebind_at);
                self.state = State::Renewing(lease, ex);
                Some(DhcpTransmit { len, src: lease.config.address.address(), dst: lease.config.server })
            }
            State::Rebinding(lease, ex) if now >= ex.next_tx => {
                let len = self.emit_extend(now, ex, lease, out)?;
                let ex = renew_backoff(now, ex, lease.expires_at);
                self.state = State::Rebinding(lease, ex);
                Some(DhcpTransmit { len, src: lease.config.address.address(), dst: Ipv4Address::BROADCAST })
            }
            State::Discovering(_)
            | State::Requesting { .. }
            | State::Bound(_)
            | State::Renewing(..)
            | State::Rebinding(..)
            | State::Released => None,
        }
    }

    /// Handles a UDP payload received on port 68 from `src`. Anything that
    /// is not a well-formed reply to the current exchange is ignored.
    pub fn process(&mut self, now: Instant, src: Ipv4Address, payload: &[u8]) {
        self.advance_timers(now);
        let Ok(packet) = Packet::new_checked(payload) else { return };
        let Ok(repr) = Repr::parse(&packet) else { return };
        if repr.transaction_id != self.xid || repr.client_hardware_address != self.mac {
            return;
        }
        // Prefer the server identifier; a server that omits it is named by
        // the source address of its reply.
        let server = repr.server_identifier.or(Some(src).filter(Ipv4Address::is_unicast));

        match (self.state, repr.message_type) {
            (State::Discovering(ex), MessageType::Offer) => {
                let Some(server) = server else { return };
                if !repr.your_ip.is_unicast() {
                    return;
                }
                // First acceptable offer wins; the REQUEST goes out now.
                let exchange = Exchange { next_tx: now, attempts: 0, started: ex.started };
                self.state = State::Requesting { exchange, address: repr.your_ip, server };
            }
            (State::Requesting { server: chosen, .. }, MessageType::Ack) => {
                if server != Some(chosen) {
                    return;
                }
                if let Some(lease) = lease_from_ack(now, &repr, chosen) {
                    self.bind(lease);
                }
            }
            (State::Requesting { server: chosen, .. }, MessageType::Nak) => {
                if repr.server_identifier.is_none_or(|s| s == chosen) {
                    self.restart(now);
                }
            }
            (State::Renewing(held, _) | State::Rebinding(held, _), MessageType::Ack) => {
                // Renewing talks to the leasing server only; rebinding
                // accepts any server.
                let server = match server {
                    Some(s) => s,
                    None => return,
                };
                if matches!(self.state, State::Renewing(..)) && server != held.config.server {
                    return;
                }
                if let Some(lease) = lease_from_ack(now, &repr, server) {
                    self.bind(lease);
                }
            }
            (State::Renewing(held, _), MessageType::Nak) => {
                if repr.server_identifier.is_none_or(|s| s == held.config.server) {
                    self.event = Some(DhcpEvent::Deconfigured);
                    self.restart(now);
                }
            }
            (State::Rebinding(..), MessageType::Nak) => {
                self.event = Some(DhcpEvent::Deconfigured);
                self.restart(now);
            }
            // Late offers, replies in Bound, client-to-server messages.
            (State::Discovering(_), _)
            | (State::Requesting { .. }, _)
            | (State::Bound(_), _)
            | (State::Renewing(..), _)
            | (State::Rebinding(..), _)
            | (State::Released, _) => {}
        }
    }

    /// Acts on lease deadlines that have passed by `now`.
    fn advance_timers(&mut self, now: Instant) {
        let lease = match self.state {
            State::Bound(lease) | State::Renewing(lease, _) | State::Rebinding(lease, _) => lease,
            State::Discovering(_) | State::Requesting { .. } | State::Released => return,
        };
        if now >= lease.expires_at {
            self.event = Some(DhcpEvent::Deconfigured);
            self.restart(now);
        } else if now >= lease.rebind_at {
            if !matches!(self.state, State::Rebinding(..)) {
                self.xid = self.next_random();
                self.state = State::Rebinding(lease, Exchange::due_at(now));
            }
        } else if now >= lease.renew_at && matches!(self.state, State::Bound(_)) {
            self.xid = self.next_random();
            self.state = State::Renewing(lease, Exchange::due_at(now));
        }
    }

    /// Back to discovering with a fresh transaction, first DISCOVER due now.
    fn restart(&mut self, now: Instant) {
        self.xid = self.next_random();
        self.state = State::Discovering(Exchange::due_at(now));
    }

    fn bind(&mut self, lease: Lease) {
        if self.config() != Some(lease.config) {
            self.event = Some(DhcpEvent::Configured(lease.config));
        }
        self.last_address = Some(lease.config.address.address());
        self.state = State::Bound(lease);
    }

    /// The parts every client message shares.
    fn request_repr(&self, kind: MessageType, now: Instant, ex: Exchange) -> Repr<'static> {
        let mut repr = Repr::new(kind, self.xid, self.mac);
        let elapsed = now - ex.started.unwrap_or(now);
        repr.secs = (elapsed.total_micros() / 1_000_000).min(u64::from(u16::MAX)) as u16;
        repr.parameter_request_list = Some(&PARAMETER_REQUEST_LIST);
        repr
    }

    /// A renewing or rebinding REQUEST: our address in `ciaddr`, no
    /// requested-address or server-identifier option (RFC 2131 §4.3.2).
    fn emit_extend(&self, now: Instant, ex: Exchange, lease: Lease, out: &mut [u8]) -> Option<usize> {
        let mut repr = self.request_repr(MessageType::Request, now, ex);
        repr.client_ip = lease.config.address.address();
        let client_id = self.client_id();
        repr.client_identifier = Some(&client_id);
        emit(&repr, out)
    }

    /// RFC 2132 §9.14 client identifier: hardware type 1 and the MAC.
    fn client_id(&self) -> [u8; 7] {
        let mut id = [1u8; 7];
        id[1..].copy_from_slice(self.mac.as_bytes());
        id
    }

    /// Records a transmission and schedules the next one: 4 s, 8 s, ... up
    /// to 64 s, each moved by a random -1..+1 s (RFC 2131 §4.1).
    fn backoff(&mut self, now: Instant, ex: Exchange) -> Exchange {
        let shift = ex.attempts.min(4);
        let base = INITIAL_RETRANSMIT.saturating_mul(1 << shift).min(MAX_RETRANSMIT);
        let jitter = Duration::from_micros(u64::from(self.next_random()) % 2_000_001);
        let delay = base - Duration::from_secs(1) + jitter;
        Exchange {
            next_tx: now + delay,
            attempts: ex.attempts.saturating_add(1),
            started: Some(ex.started.unwrap_or(now)),
        }
    }

    fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }
}

/// Renewing/rebinding retransmission: half the time left to `deadline`,
/// but at least 60 s (RFC 2131 §4.4.5).
fn renew_backoff(now: Instant, ex: Exchange, deadline: Instant) -> Exchange {
    let half = Duration::from_micros((deadline - now).total_micros() / 2);
    Exchange {
        next_tx: now + half.max(MIN_RENEW_RETRANSMIT),
        attempts: ex.attempts.saturating_add(1),
        started: Some(ex.started.unwrap_or(now)),
    }
}

fn emit(repr: &Repr, out: &mut [u8]) -> Option<usize> {
    let len = repr.buffer_len();
    repr.emit(&mut Packet::new_unchecked(out)).ok()?;
    Some(len)
}

/// The lease an ACK grants, or `None` if the ACK is unusable (no address,
/// no lease time).
fn lease_from_ack(now: Instant, repr: &Repr, server: Ipv4Address) -> Option<Lease> {
    if !repr.your_ip.is_unicast() {
        return None;
    }
    let lease_secs = repr.lease_duration?;
    let prefix_len = repr.subnet_mask.and_then(mask_prefix_len).unwrap_or_else(|| classful_prefix_len(repr.your_ip));
    let address = Ipv4Cidr::new(repr.your_ip, prefix_len)?;
    let mut dns_servers = [None; 3];
    let offered = repr.dns_servers.unwrap_or([None; 3]);
    for (slot, addr) in dns_servers.iter_mut().zip(offered.iter().flatten().filter(|a| a.is_unicast())) {
        *slot = Some(*addr);
    }
    let (lease, renew_at, rebind_at, expires_at) = if lease_secs == INFINITE_LEASE {
        (Duration::MAX, NEVER, NEVER, NEVER)
    } else {
        let lease = Duration::from_secs(u64::from(lease_secs)).max(MIN_LEASE);
        // Defaults of RFC 2131 §4.4.5: T1 = lease / 2, T2 = lease * 7/8;
        // the server's values only when they are ordered sensibly.
        let default_t1 = Duration::from_micros(lease.total_micros() / 2);
        let default_t2 = Duration::from_micros(lease.total_micros() / 8 * 7);
        let secs = |s: Option<u32>| s.map(|s| Duration::from_secs(u64::from(s)));
        let (t1, t2) = match (secs(repr.renew_duration), secs(repr.rebind_duration)) {
            (Some(t1), Some(t2)) if t1 <= t2 && t2 <= lease => (t1, t2),
            (Some(t1), None) if t1 <= default_t2 => (t1, default_t2),
            (None, Some(t2)) if default_t1 <= t2 && t2 <= lease => (default_t1, t2),
            _ => (default_t1, default_t2),
        };
        (lease, now + t1, now + t2, now + lease)
    };
    Some(Lease {
        config: DhcpConfig { address, router: repr.router.filter(Ipv4Address::is_unicast), dns_servers, lease, server },
        renew_at,
        rebind_at,
        expires_at,
    })
}

/// The prefix length of a contiguous netmask.
fn mask_prefix_len(mask: Ipv4Address) -> Option<u8> {
    let bits = mask.to_u32();
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

/// The pre-CIDR default for a server that sends no (or a broken) mask.
fn classful_prefix_len(addr: Ipv4Address) -> u8 {
    match addr.0[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    const SERVER: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
    const OFFERED: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
    const DNS: Ipv4Address = Ipv4Address::new(10, 0, 2, 3);

    fn secs(s: i64) -> Instant {
        Instant::from_secs(s)
    }

    /// A sent message, parsed back: what the server would see.
    #[derive(Debug)]
    struct Sent {
        tx: DhcpTransmit,
        bytes: Vec<u8>,
    }

    impl Sent {
        fn repr(&self) -> Repr<'_> {
            Repr::parse(&Packet::new_checked(&self.bytes[..]).unwrap()).unwrap()
        }
    }

    fn poll(client: &mut DhcpClient, now: Instant) -> Option<Sent> {
        let mut out = [0u8; MAX_PAYLOAD_LEN];
        client.poll(now, &mut out).map(|tx| {
            assert_eq!(tx.len, MAX_PAYLOAD_LEN);
            Sent { tx, bytes: out[..tx.len].to_vec() }
        })
    }

    /// A server reply of `kind` to transaction `xid`, dnsmasq-like.
    fn reply(kind: MessageType, xid: u32) -> Repr<'static> {
        let mut r = Repr::new(kind, xid, MAC);
        r.server_identifier = Some(SERVER);
        if kind != MessageType::Nak {
            r.your_ip = OFFERED;
            r.subnet_mask = Some(Ipv4Address::new(255, 255, 255, 0));
            r.router = Some(SERVER);
            r.dns_servers = Some([Some(DNS), None, None]);
            r.lease_duration = Some(3600);
            r.renew_duration = Some(1800);
            r.rebind_duration = Some(3150);
        }
        r
    }

    fn deliver(client: &mut DhcpClient, now: Instant, repr: &Repr) {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
        client.process(now, SERVER, &buf);
    }

    fn expected_config() -> DhcpConfig {
        DhcpConfig {
            address: Ipv4Cidr::new(OFFERED, 24).unwrap(),
            router: Some(SERVER),
            dns_servers: [Some(DNS), None, None],
            lease: Duration::from_secs(3600),
            server: SERVER,
        }
    }

    /// Runs DISCOVER/OFFER/REQUEST/ACK; the ACK arrives at t = 2 s.
    fn bound_client() -> DhcpClient {
        let mut c = DhcpClient::new(MAC, 7);
        let discover = poll(&mut c, secs(0)).unwrap();
        let xid = discover.repr().transaction_id;
        deliver(&mut c, secs(1), &reply(MessageType::Offer, xid));
        poll(&mut c, secs(1)).unwrap();
        deliver(&mut c, secs(2), &reply(MessageType::Ack, xid));
        assert_eq!(c.state(), DhcpState::Bound);
        assert_eq!(c.take_event(), Some(DhcpEvent::Configured(expected_config())));
        c
    }

    #[test]
    fn acquires_a_lease() {
        let mut c = DhcpClient::new(MAC, 7);
        assert_eq!(c.state(), DhcpState::Discovering);
        assert_eq!(c.poll_at(), Some(Instant::ZERO));

        let discover = poll(&mut c, secs(0)).unwrap();
        assert_eq!(discover.tx.src, Ipv4Address::UNSPECIFIED);
        assert_eq!(discover.tx.dst, Ipv4Address::BROADCAST);
        let d = discover.repr();
        assert_eq!(d.message_type, MessageType::Discover);
        assert!(d.broadcast);
        assert_eq!(d.client_hardware_address, MAC);
        assert_eq!(d.client_ip, Ipv4Address::UNSPECIFIED);
        assert_eq!(d.requested_ip, None);
        assert_eq!(d.server_identifier, None);
        assert_eq!(d.client_identifier, Some(&[1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56][..]));
        assert_eq!(d.parameter_request_list, Some(&[1, 3, 6][..]));
        let xid = d.transaction_id;
        assert!(poll(&mut c, secs(0)).is_none(), "nothing more due");

        deliver(&mut c, secs(1), &reply(MessageType::Offer, xid));
        assert_eq!(c.state(), DhcpState::Requesting);
        assert_eq!(c.poll_at(), Some(secs(1)));
        assert_eq!(c.take_event(), None);

        let request = poll(&mut c, secs(1)).unwrap();
        assert_eq!(request.tx.src, Ipv4Address::UNSPECIFIED);
        assert_eq!(request.tx.dst, Ipv4Address::BROADCAST);
        let r = request.repr();
        assert_eq!(r.message_type, MessageType::Request);
        assert_eq!(r.transaction_id, xid);
        assert!(r.broadcast);
        assert_eq!(r.secs, 1);
        assert_eq!(r.client_ip, Ipv4Address::UNSPECIFIED);
        assert_eq!(r.requested_ip, Some(OFFERED));
        assert_eq!(r.server_identifier, Some(SERVER));

        deliver(&mut c, secs(2), &reply(MessageType::Ack, xid));
        assert_eq!(c.state(), DhcpState::Bound);
        assert_eq!(c.take_event(), Some(DhcpEvent::Configured(expected_config())));
        assert_eq!(c.take_event(), None);
        assert_eq!(c.config(), Some(expected_config()));
        // Renewal is due at T1 after the ACK.
        assert_eq!(c.poll_at(), Some(secs(2 + 1800)));
        assert!(poll(&mut c, secs(1000)).is_none());
    }

    /// The whole exchange against replies laid out as QEMU user-mode
    /// networking (slirp) sends them: broadcast from 10.0.2.2, no T1/T2,
    /// and a NAK without a server identifier.
    #[test]
    fn works_with_qemu_slirp_replies() {
        use crate::wire::dhcpv4::tests::slirp_reply;
        let mut c = DhcpClient::new(MAC, 3);
        let xid = poll(&mut c, secs(0)).unwrap().repr().transaction_id;
        c.process(secs(0), SERVER, &slirp_reply(2, xid, MAC));
        assert_eq!(c.state(), DhcpState::Requesting);
        let sent = poll(&mut c, secs(0)).unwrap();
        assert_eq!(sent.repr().requested_ip, Some(OFFERED));
        c.process(secs(0), SERVER, &slirp_reply(5, xid, MAC));
        let config = DhcpConfig { lease: Duration::from_secs(86400), ..expected_config() };
        assert_eq!(c.take_event(), Some(DhcpEvent::Configured(config)));
        // Default T1: half the lease.
        assert_eq!(c.poll_at(), Some(secs(43200)));
        let xid = poll(&mut c, secs(43200)).unwrap().repr().transaction_id;
        c.process(secs(43200), SERVER, &slirp_reply(6, xid, MAC));
        assert_eq!(c.take_event(), Some(DhcpEvent::Deconfigured));
        assert_eq!(c.state(), DhcpState::Discovering);
    }

    /// Corrupted replies with the right xid, in every state: the client
    /// never panics and never leaves a state it should not.
    #[test]
    fn corrupted_replies_never_panic() {
        use crate::wire::dhcpv4::tests::slirp_reply;
        let mut rng = 0x0d0c_0b0au32;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng
        };
        let mut c = DhcpClient::new(MAC, 11);
        let mut now = secs(0);
        for _ in 0..2000 {
            if let Some(sent) = poll(&mut c, now) {
                let xid = sent.repr().transaction_id;
                let kind = [2, 5, 6][next() as usize % 3];
                let mut bytes = slirp_reply(kind, xid, MAC);
                let at = 236 + next() as usize % 60;
                bytes[at] = next() as u8;
                c.process(now, SERVER, &bytes);
                c.take_event();
            }
            now = c.poll_at().unwrap_or(now).max(now) + Duration::from_millis(u64::from(next() % 5000));
        }
    }

    #[test]
    fn retransmits_discover_with_backoff() {
        let mut c = DhcpClient::new(MAC, 12345);
        let mut last = secs(0);
        let xid = poll(&mut c, last).unwrap().repr().transaction_id;
        for base in [4, 8, 16, 32, 64, 64, 64] {
            let due = c.poll_at().unwrap();
            let delay = (due - last).total_micros();
            assert!((base - 1) * 1_000_000 <= delay && delay <= (base + 1) * 1_000_000, "base {base}: delay {delay}");
            assert!(poll(&mut c, due - Duration::from_micros(1)).is_none());
            let again = poll(&mut c, due).unwrap();
            let r = again.repr();
            assert_eq!(r.message_type, MessageType::Discover);
            assert_eq!(r.transaction_id, xid, "retransmissions keep the xid");
            assert_eq!(i64::from(r.secs), (due - secs(0)).total_micros() as i64 / 1_000_000);
            last = due;
        }
    }

    #[test]
    fn jitter_and_xid_depend_on_the_seed() {
        let mut a = DhcpClient::new(MAC, 1);
        let mut b = DhcpClient::new(MAC, 2);
        let xa = poll(&mut a, secs(0)).unwrap().repr().transaction_id;
        let xb = poll(&mut b, secs(0)).unwrap().repr().transaction_id;
        assert_ne!(xa, xb);
        assert_ne!(a.poll_at(), b.poll_at());
        // Seed zero still works (xorshift needs a non-zero state).
        let mut z = DhcpClient::new(MAC, 0);
        assert!(poll(&mut z, secs(0)).is_some());
    }

    #[test]
    fn nak_while_requesting_restarts_discovery() {
        let mut c = DhcpClient::new(MAC, 7);
        let xid = poll(&mut c, secs(0)).unwrap().repr().transaction_id;
        deliver(&mut c, secs(1), &reply(MessageType::Offer, xid));
        poll(&mut c, secs(1)).unwrap();
        deliver(&mut c, secs(2), &reply(MessageType::Nak, xid));
        assert_eq!(c.state(), DhcpState::Discovering);
        assert_eq!(c.take_event(), None, "nothing was configured");
        assert_eq!(c.poll_at(), Some(secs(2)));
        let sent = poll(&mut c, secs(2)).unwrap();
        let d = sent.repr();
        assert_eq!(d.message_type, MessageType::Discover);
        assert_ne!(d.transaction_id, xid);
        assert_eq!(d.secs, 0);
    }

    #[test]
    fn request_gives_up_after_retries() {
        let mut c = DhcpClient::new(MAC, 7);
        let xid = poll(&mut c, secs(0)).unwrap().repr().transaction_id;
        deliver(&mut c, secs(1), &reply(MessageType::Offer, xid));
        let mut now = secs(1);
        for attempt in 0..MAX_REQUEST_ATTEMPTS {
            let sent = poll(&mut c, now).unwrap();
            let r = sent.repr();
            assert_eq!(r.message_type, MessageType::Request, "attempt {attempt}");
            assert_eq!(r.transaction_id, xid);
            now = c.poll_at().unwrap();
        }
        let sent = poll(&mut c, now).unwrap();
        let d = sent.repr();
        assert_eq!(d.message_type, MessageType::Discover);
        assert_ne!(d.transaction_id, xid);
        assert_eq!(c.state(), DhcpState::Discovering);
    }

    #[test]
    fn ignores_unrelated_and_bad_messages() {
        let mut c = DhcpClient::new(MAC, 7);
        let xid = poll(&mut c, secs(0)).unwrap().repr().transaction_id;

        deliver(&mut c, secs(1), &reply(MessageType::Offer, xid ^ 1));
        let mut other_mac = reply(MessageType::Offer, xid);
        other_mac.client_hardware_address = EthernetAddress([2, 0, 0, 0, 0, 1]);
        deliver(&mut c, secs(1), &other_mac);
        let mut no_address = reply(MessageType::Offer, xid);
        no_address.your_ip = Ipv4Address::UNSPECIFIED;
        deliver(&mut c, secs(1), &no_address);
        deliver(&mut c, secs(1), &reply(MessageType::Ack, xid));
        // A client message echoed back (e.g. our own broadcast).
        deliver(&mut c, secs(1), &Repr::new(MessageType::Discover, xid, MAC));
        c.process(secs(1), SERVER, &[0u8; 100]);
        c.process(secs(1), SERVER, &[]);
        assert_eq!(c.state(), DhcpState::Discovering);

        deliver(&mut c, secs(1), &reply(MessageType::Offer, xid));
        assert_eq!(c.state(), DhcpState::Requesting);
        poll(&mut c, secs(1)).unwrap();
        // A second OFFER while requesting changes nothing.
        let mut second = reply(MessageType::Offer, xid);
        second.your_ip = Ipv4Address::new(10, 0, 2, 99);
        deliver(&mut c, secs(1), &second);
        // ACKs without an address or lease time, or from another server.
        let mut ack = reply(MessageType::Ack, xid);
        ack.your_ip = Ipv4Address::UNSPECIFIED;
        deliver(&mut c, secs(2), &ack);
        let mut ack = reply(MessageType::Ack, xid);
        ack.lease_duration = None;
        deliver(&mut c, secs(2), &ack);
        let mut ack = reply(MessageType::Ack, xid);
        ack.server_identifier = Some(Ipv4Address::new(10, 0, 2, 200));
        deliver(&mut c, secs(2), &ack);
        let mut nak = reply(MessageType::Nak, xid);
        nak.server_identifier = Some(Ipv4Address::new(10, 0, 2, 200));
        deliver(&mut c, secs(2), &nak);
        assert_eq!(c.state(), DhcpState::Requesting);
        assert_eq!(c.take_event(), None);

        deliver(&mut c, secs(2), &reply(MessageType::Ack, xid));
        assert_eq!(c.state(), DhcpState::Bound);
        // Once bound, stray replies are ignored.
        deliver(&mut c, secs(3), &reply(MessageType::Nak, xid));
        assert_eq!(c.state(), DhcpState::Bound);
    }

    #[test]
    fn renews_at_t1_and_extends_the_lease() {
        let mut c = bound_client();
        let t1 = secs(2 + 1800);
        assert!(poll(&mut c, t1 - Duration::from_micros(1)).is_none());
        let renew = poll(&mut c, t1).unwrap();
        assert_eq!(c.state(), DhcpState::Renewing);
        assert_eq!(renew.tx.src, OFFERED);
        assert_eq!(renew.tx.dst, SERVER);
        let r = renew.repr();
        assert_eq!(r.message_type, MessageType::Request);
        assert_eq!(r.client_ip, OFFERED);
        assert_eq!(r.requested_ip, None);
        assert_eq!(r.server_identifier, None);
        assert!(!r.broadcast);
        let xid = r.transaction_id;

        let now = t1 + Duration::from_secs(1);
        deliver(&mut c, now, &reply(MessageType::Ack, xid));
        assert_eq!(c.state(), DhcpState::Bound);
        assert_eq!(c.take_event(), None, "same configuration: nothing to apply");
        assert_eq!(c.poll_at(), Some(now + Duration::from_secs(1800)));

        // A renewal that changes the resolvers is reported.
        let t1 = now + Duration::from_secs(1800);
        let xid = poll(&mut c, t1).unwrap().repr().transaction_id;
        let mut ack = reply(MessageType::Ack, xid);
        ack.dns_servers = Some([Some(Ipv4Address::new(1, 1, 1, 1)), Some(DNS), None]);
        deliver(&mut c, t1, &ack);
        let mut config = expected_config();
        config.dns_servers = [Some(Ipv4Address::new(1, 1, 1, 1)), Some(DNS), None];
        assert_eq!(c.take_event(), Some(DhcpEvent::Configured(config)));
    }

    #[test]
    fn rebinds_at_t2_then_expires() {
        let mut c = bound_client();
        let (t1, t2, end) = (secs(2 + 1800), secs(2 + 3150), secs(2 + 3600));
        let renew = poll(&mut c, t1).unwrap();
        assert_eq!(renew.tx.dst, SERVER);
        // Renewing retransmits after half the time to T2 (675 s).
        assert_eq!(c.poll_at(), Some(t1 + Duration::from_secs(675)));
        let again = poll(&mut c, t1 + Duration::from_secs(675)).unwrap();
        assert_eq!(again.tx.dst, SERVER);
        assert_eq!(again.repr().transaction_id, renew.repr().transaction_id);
        assert_eq!(c.poll_at(), Some(t1 + Duration::from_millis(675_000 + 337_500)));

        let rebind = poll(&mut c, t2).unwrap();
        assert_eq!(c.state(), DhcpState::Rebinding);
        assert_eq!(rebind.tx.src, OFFERED);
        assert_eq!(rebind.tx.dst, Ipv4Address::BROADCAST);
        let r = rebind.repr();
        assert_eq!(r.message_type, MessageType::Request);
        assert_eq!(r.client_ip, OFFERED);
        assert!(!r.broadcast);
        assert_ne!(r.transaction_id, renew.repr().transaction_id);
        // 450 s to expiry: retry after half of what is left, at least 60 s,
        // and never past the expiry.
        let mut now = t2;
        for wait_ms in [225_000, 112_500, 60_000] {
            assert_eq!(c.poll_at(), Some(now + Duration::from_millis(wait_ms)));
            now += Duration::from_millis(wait_ms);
            assert_eq!(poll(&mut c, now).unwrap().repr().message_type, MessageType::Request);
        }
        assert_eq!(c.poll_at(), Some(end));
        assert_eq!(c.take_event(), None);

        let discover = poll(&mut c, end).unwrap();
        assert_eq!(c.take_event(), Some(DhcpEvent::Deconfigured));
        assert_eq!(c.config(), None);
        assert_eq!(discover.tx.src, Ipv4Address::UNSPECIFIED);
        let d = discover.repr();
        assert_eq!(d.message_type, MessageType::Discover);
        // The old address is asked for again.
        assert_eq!(d.requested_ip, Some(OFFERED));
    }

    #[test]
    fn rebinding_accepts_any_server_and_renewing_does_not() {
        let mut c = bound_client();
        let xid = poll(&mut c, secs(2 + 1800)).unwrap().repr().transaction_id;
        let mut other = reply(MessageType::Ack, xid);
        other.server_identifier = Some(Ipv4Address::new(10, 0, 2, 4));
        deliver(&mut c, secs(2 + 1801), &other);
        assert_eq!(c.state(), DhcpState::Renewing);

        let xid = poll(&mut c, secs(2 + 3150)).unwrap().repr().transaction_id;
        let mut other = reply(MessageType::Ack, xid);
        other.server_identifier = Some(Ipv4Address::new(10, 0, 2, 4));
        deliver(&mut c, secs(2 + 3151), &other);
        assert_eq!(c.state(), DhcpState::Bound);
        let mut config = expected_config();
        config.server = Ipv4Address::new(10, 0, 2, 4);
        assert_eq!(c.take_event(), Some(DhcpEvent::Configured(config)));
    }

    #[test]
    fn nak_while_renewing_deconfigures() {
        let mut c = bound_client();
        let xid = poll(&mut c, secs(2 + 1800)).unwrap().repr().transaction_id;
        deliver(&mut c, secs(2 + 1801), &reply(MessageType::Nak, xid));
        assert_eq!(c.take_event(), Some(DhcpEvent::Deconfigured));
        assert_eq!(c.state(), DhcpState::Discovering);
        assert_eq!(poll(&mut c, secs(2 + 1801)).unwrap().repr().message_type, MessageType::Discover);
    }

    #[test]
    fn expiry_while_asleep_goes_straight_to_discovering() {
        let mut c = bound_client();
        let sent = poll(&mut c, secs(100_000)).unwrap();
        let d = sent.repr();
        assert_eq!(d.message_type, MessageType::Discover);
        assert_eq!(c.take_event(), Some(DhcpEvent::Deconfigured));
    }

    #[test]
    fn lease_defaults_and_clamps() {
        let ack = |f: &dyn Fn(&mut Repr)| {
            let mut r = reply(MessageType::Ack, 1);
            f(&mut r);
            lease_from_ack(secs(0), &r, SERVER).unwrap()
        };
        // No T1/T2: lease/2 and lease*7/8.
        let l = ack(&|r| {
            r.renew_duration = None;
            r.rebind_duration = None;
        });
        assert_eq!((l.renew_at, l.rebind_at, l.expires_at), (secs(1800), secs(3150), secs(3600)));
        // Disordered T1/T2 fall back to the defaults.
        let l = ack(&|r| {
            r.renew_duration = Some(4000);
            r.rebind_duration = Some(100);
        });
        assert_eq!((l.renew_at, l.rebind_at), (secs(1800), secs(3150)));
        // Tiny leases are stretched to 60 s.
        let l = ack(&|r| {
            r.lease_duration = Some(0);
            r.renew_duration = None;
            r.rebind_duration = None;
        });
        assert_eq!((l.renew_at, l.expires_at), (secs(30), secs(60)));
        // Infinite lease: no deadlines.
        let l = ack(&|r| r.lease_duration = Some(u32::MAX));
        assert_eq!((l.renew_at, l.config.lease), (NEVER, Duration::MAX));
        // Missing or broken mask: classful default. Multicast router and
        // resolver addresses are dropped.
        let l = ack(&|r| {
            r.subnet_mask = Some(Ipv4Address::new(255, 0, 255, 0));
            r.router = Some(Ipv4Address::new(224, 0, 0, 1));
            r.dns_servers = Some([Some(Ipv4Address::BROADCAST), Some(DNS), None]);
        });
        assert_eq!(l.config.address, Ipv4Cidr::new(OFFERED, 8).unwrap());
        assert_eq!(l.config.router, None);
        assert_eq!(l.config.dns_servers, [Some(DNS), None, None]);
        assert_eq!(mask_prefix_len(Ipv4Address::new(255, 255, 255, 255)), Some(32));
        assert_eq!(mask_prefix_len(Ipv4Address::new(0, 0, 0, 0)), Some(0));
        assert_eq!(mask_prefix_len(Ipv4Address::new(255, 255, 254, 0)), Some(23));
        assert_eq!(mask_prefix_len(Ipv4Address::new(0, 0, 0, 1)), None);
    }

    #[test]
    fn infinite_lease_never_polls_again() {
        let mut c = DhcpClient::new(MAC, 7);
        let xid = poll(&mut c, secs(0)).unwrap().repr().transaction_id;
        deliver(&mut c, secs(1), &reply(MessageType::Offer, xid));
        poll(&mut c, secs(1)).unwrap();
        let mut ack = reply(MessageType::Ack, xid);
        ack.lease_duration = Some(u32::MAX);
        deliver(&mut c, secs(1), &ack);
        assert_eq!(c.state(), DhcpState::Bound);
        assert_eq!(c.poll_at(), None);
        assert!(poll(&mut c, secs(i64::MAX / 1_000_000)).is_none());
    }

    #[test]
    fn releases_and_resets() {
        let mut c = bound_client();
        let mut out = [0u8; MAX_PAYLOAD_LEN];
        assert!(c.release(&mut out[..10]).is_none(), "short buffer: nothing happens");
        assert_eq!(c.state(), DhcpState::Bound);
        let tx = c.release(&mut out).unwrap();
        assert_eq!((tx.src, tx.dst), (OFFERED, SERVER));
        let r = Repr::parse(&Packet::new_checked(&out[..tx.len]).unwrap()).unwrap();
        assert_eq!(r.message_type, MessageType::Release);
        assert_eq!(r.client_ip, OFFERED);
        assert_eq!(r.server_identifier, Some(SERVER));
        assert_eq!(c.take_event(), Some(DhcpEvent::Deconfigured));
        assert_eq!(c.state(), DhcpState::Released);
        assert_eq!(c.poll_at(), None);
        assert!(poll(&mut c, secs(10_000)).is_none());
        assert!(c.release(&mut out).is_none());

        c.reset(secs(10_000));
        assert_eq!(c.take_event(), None);
        assert_eq!(poll(&mut c, secs(10_000)).unwrap().repr().message_type, MessageType::Discover);

        let mut c = bound_client();
        c.reset(secs(5));
        assert_eq!(c.take_event(), Some(DhcpEvent::Deconfigured));
        assert_eq!(c.state(), DhcpState::Discovering);
    }

    #[test]
    fn short_output_buffer_sends_nothing_and_keeps_state() {
        let mut c = DhcpClient::new(MAC, 7);
        let mut out = [0u8; 100];
        assert!(c.poll(secs(0), &mut out).is_none());
        assert_eq!(c.poll_at(), Some(Instant::ZERO));
        assert!(poll(&mut c, secs(0)).is_some());
    }
}
