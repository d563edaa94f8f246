//! A sans-IO DNS stub resolver: A and AAAA lookups against recursive
//! servers, over caller-provided query slots.
//!
//! The resolver owns no socket. The embedder (the interface) binds a UDP
//! socket to an ephemeral port, sends what [`DnsResolver::poll`] writes to
//! the endpoint it names (port [`SERVER_PORT`]), hands every datagram
//! received on that port to [`DnsResolver::process`], and polls again no
//! later than [`DnsResolver::poll_at`]. Applications start lookups with
//! [`DnsResolver::start_query`] and collect them with
//! [`DnsResolver::query_result`].
//!
//! Each try waits twice as long as the one before (1 s, 2 s, 4 s, 8 s) and
//! goes to the next configured server. A response is accepted only from a
//! configured server, with the query's id and exactly its question. CNAMEs
//! in the answer are followed; a chain that ends without addresses is asked
//! for again by its final name.

use crate::time::{Duration, Instant};
use crate::wire::dns::{
    self, text_name_wire_len, Entry, Name, Packet, QueryRepr, RecordData, Section, Type, MAX_NAME_TEXT_LEN,
};
use crate::wire::{IpAddress, IpEndpoint};

pub use crate::wire::dns::SERVER_PORT;

/// Servers kept by [`DnsResolver::set_servers`].
pub const MAX_SERVERS: usize = 3;
/// Addresses kept per answer.
pub const MAX_ADDRESSES: usize = 4;
/// The largest payload [`DnsResolver::poll`] writes: header, a 255-byte
/// name, type and class.
pub const MAX_PAYLOAD_LEN: usize = dns::HEADER_LEN + dns::MAX_NAME_WIRE_LEN + 4;

/// Timeout of the first try; each further try doubles it.
const INITIAL_TIMEOUT: Duration = Duration::from_secs(1);
/// Tries per query (each to the next server) before giving up.
const MAX_ATTEMPTS: u8 = 4;
/// CNAMEs followed within one answer.
const MAX_CNAME_HOPS: usize = 8;
/// New queries for the target of a CNAME chain that ended without
/// addresses.
const MAX_REQUERIES: u8 = 3;

/// The address family looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// IPv4 addresses (A records).
    A,
    /// IPv6 addresses (AAAA records).
    Aaaa,
}

impl QueryKind {
    fn record_type(self) -> Type {
        match self {
            QueryKind::A => Type::A,
            QueryKind::Aaaa => Type::Aaaa,
        }
    }
}

/// Why a query could not be started or did not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// The name is empty, has an empty label or a label over 63 bytes, or is
    /// longer than 253 bytes.
    InvalidName,
    /// Every query slot is in use.
    NoFreeSlot,
    /// No server is configured.
    NoServers,
    /// The handle does not name a query (it was collected or cancelled).
    InvalidHandle,
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
    /// The name exists but has no address of the asked family.
    NoAddresses,
    /// The servers refused or failed, or the answer was truncated.
    Failed,
    /// No answer after every try.
    TimedOut,
}

/// The addresses a query resolved to, in answer order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DnsAddresses {
    addrs: [IpAddress; MAX_ADDRESSES],
    len: usize,
}

impl DnsAddresses {
    const EMPTY: DnsAddresses =
        DnsAddresses { addrs: [IpAddress::V4(crate::wire::Ipv4Address::UNSPECIFIED); MAX_ADDRESSES], len: 0 };

    pub fn as_slice(&self) -> &[IpAddress] {
        &self.addrs[..self.len]
    }

    fn push(&mut self, addr: IpAddress) {
        if let Some(slot) = self.addrs.get_mut(self.len) {
            *slot = addr;
            self.len += 1;
        }
    }
}

impl core::fmt::Debug for DnsAddresses {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// Names a started query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryHandle {
    index: usize,
    /// Tells this query apart from later ones in the same slot.
    tag: u32,
}

#[derive(Debug, Clone, Copy)]
struct PendingQuery {
    /// Dotted name, no trailing dot, checked by `text_name_wire_len`.
    name: [u8; MAX_NAME_TEXT_LEN],
    name_len: usize,
    kind: QueryKind,
    id: u16,
    next_tx: Instant,
    /// Tries sent so far for the current id.
    attempts: u8,
    timeout: Duration,
    requeries: u8,
}

impl PendingQuery {
    fn name(&self) -> &str {
        // Only ever filled from a `&str` or an ASCII-checked name copy.
        core::str::from_utf8(&self.name[..self.name_len]).unwrap_or("")
    }
}

// Slots are the caller's fixed storage: there is no heap to box the large
// variant into, and every slot must be able to hold a pending query anyway.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy)]
enum SlotState {
    Free,
    Pending(PendingQuery),
    Done(Result<DnsAddresses, DnsError>),
}

/// Storage for one query; the embedder provides an array of these.
#[derive(Debug, Clone, Copy)]
pub struct DnsQuerySlot {
    tag: u32,
    state: SlotState,
}

impl DnsQuerySlot {
    /// An unused slot (for static arrays: `[DnsQuerySlot::EMPTY; 4]`).
    pub const EMPTY: DnsQuerySlot = DnsQuerySlot { tag: 0, state: SlotState::Free };
}

impl Default for DnsQuerySlot {
    fn default() -> DnsQuerySlot {
        DnsQuerySlot::EMPTY
    }
}

/// A DNS stub resolver over caller-provided query slots.
#[derive(Debug)]
pub struct DnsResolver<'a> {
    slots: &'a mut [DnsQuerySlot],
    servers: [Option<IpAddress>; MAX_SERVERS],
    /// xorshift32 state for query ids.
    rng: u32,
    next_tag: u32,
}

impl<'a> DnsResolver<'a> {
    /// A resolver with no servers yet. `seed` should differ between boots:
    /// it makes query ids hard to guess.
    pub fn new(slots: &'a mut [DnsQuerySlot], seed: u32) -> DnsResolver<'a> {
        for slot in slots.iter_mut() {
            *slot = DnsQuerySlot::EMPTY;
        }
        DnsResolver {
            slots,
            servers: [None; MAX_SERVERS],
            rng: if seed == 0 { 0x2545_f491 } else { seed },
            next_tag: 1,
        }
    }

    /// Replaces the servers (the first [`MAX_SERVERS`] unspecified-free
    /// ones are kept). Pending queries continue with the new list.
    pub fn set_servers(&mut self, servers: &[IpAddress]) {
        self.servers = [None; MAX_SERVERS];
        let usable = servers.iter().filter(|a| !a.is_unspecified() && !a.is_multicast());
        for (slot, addr) in self.servers.iter_mut().zip(usable) {
            *slot = Some(*addr);
        }
    }

    /// The configured servers.
    pub fn servers(&self) -> impl Iterator<Item = IpAddress> + '_ {
        self.servers.iter().flatten().copied()
    }

    /// Starts looking up `name` (dotted, one trailing dot allowed). The
    /// first query goes out on the next poll.
    pub fn start_query(&mut self, name: &str, kind: QueryKind, now: Instant) -> Result<QueryHandle, DnsError> {
        text_name_wire_len(name).map_err(|_| DnsError::InvalidName)?;
        if self.servers().next().is_none() {
            return Err(DnsError::NoServers);
        }
        let index = self.slots.iter().position(|s| matches!(s.state, SlotState::Free)).ok_or(DnsError::NoFreeSlot)?;
        let name = name.strip_suffix('.').unwrap_or(name);
        let mut query = PendingQuery {
            name: [0; MAX_NAME_TEXT_LEN],
            name_len: name.len(),
            kind,
            id: self.fresh_id(),
            next_tx: now,
            attempts: 0,
            timeout: INITIAL_TIMEOUT,
            requeries: 0,
        };
        query.name[..name.len()].copy_from_slice(name.as_bytes());
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        self.slots[index] = DnsQuerySlot { tag, state: SlotState::Pending(query) };
        Ok(QueryHandle { index, tag })
    }

    /// `Ok(None)` while pending; the addresses or the error once done, at
    /// which point the slot is freed and the handle becomes invalid.
    pub fn query_result(&mut self, handle: QueryHandle) -> Result<Option<DnsAddresses>, DnsError> {
        let slot = self.slot_mut(handle)?;
        match slot.state {
            SlotState::Pending(_) => Ok(None),
            SlotState::Done(result) => {
                slot.state = SlotState::Free;
                result.map(Some)
            }
            SlotState::Free => Err(DnsError::InvalidHandle),
        }
    }

    /// Abandons a query and frees its slot.
    pub fn cancel_query(&mut self, handle: QueryHandle) -> Result<(), DnsError> {
        self.slot_mut(handle)?.state = SlotState::Free;
        Ok(())
    }

    /// When `poll` next has something to send or time out.
    pub fn poll_at(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| match s.state {
                SlotState::Pending(q) => Some(q.next_tx),
                SlotState::Free | SlotState::Done(_) => None,
            })
            .min()
    }

    /// Writes one due query into `out` and returns where to send it and its
    /// length; call again until `None`. Queries out of tries finish here
    /// with [`DnsError::TimedOut`]. `None` also when `out` is shorter than
    /// the query (at most [`MAX_PAYLOAD_LEN`]).
    pub fn poll(&mut self, now: Instant, out: &mut [u8]) -> Option<(IpEndpoint, usize)> {
        let mut servers = [IpAddress::V4(crate::wire::Ipv4Address::UNSPECIFIED); MAX_SERVERS];
        let mut server_count = 0;
        for addr in self.servers() {
            servers[server_count] = addr;
            server_count += 1;
        }
        for slot in self.slots.iter_mut() {
            let SlotState::Pending(mut query) = slot.state else { continue };
            if now < query.next_tx {
                continue;
            }
            if server_count == 0 {
                slot.state = SlotState::Done(Err(DnsError::NoServers));
                continue;
            }
            if query.attempts >= MAX_ATTEMPTS {
                slot.state = SlotState::Done(Err(DnsError::TimedOut));
                continue;
            }
            let server = servers[usize::from(query.attempts) % server_count];
            let repr = QueryRepr { id: query.id, name: query.name(), qtype: query.kind.record_type() };
            let len = repr.emit(&mut Packet::new_unchecked(&mut *out)).ok()?;
            query.attempts += 1;
            query.next_tx = now + query.timeout;
            query.timeout = query.timeout.saturating_mul(2);
            slot.state = SlotState::Pending(query);
            return Some((IpEndpoint::new(server, SERVER_PORT), len));
        }
        None
    }

    /// Handles a UDP payload received from `src` on the resolver's port.
    /// Anything that is not a well-formed answer to a pending query, from a
    /// configured server, is ignored.
    pub fn process(&mut self, now: Instant, src: IpEndpoint, payload: &[u8]) {
        if src.port != SERVER_PORT || !self.servers().any(|s| s == src.addr) {
            return;
        }
        let Ok(packet) = Packet::new_checked(payload) else { return };
        if !packet.is_response() || packet.opcode() != dns::Opcode::Query {
            return;
        }
        let id = packet.id();
        let Some(index) = self.slots.iter().position(|s| match s.state {
            SlotState::Pending(q) => q.id == id,
            SlotState::Free | SlotState::Done(_) => false,
        }) else {
            return;
        };
        let SlotState::Pending(mut query) = self.slots[index].state else { return };
        let Some(qname) = matching_question(&packet, &query) else { return };

        let state = match packet.rcode() {
            dns::Rcode::NoError => {
                let (target, hops) = follow_cnames(&packet, qname, query.kind);
                let addrs = collect_addresses(&packet, target, query.kind);
                if addrs.len > 0 {
                    SlotState::Done(Ok(addrs))
                } else if packet.truncated() {
                    // The answer did not fit in UDP and there is no TCP here.
                    SlotState::Done(Err(DnsError::Failed))
                } else if hops > 0 {
                    // The server gave the alias but not its addresses: ask
                    // for the final name, under a new id.
                    match requery(query, target) {
                        Some(mut next) => {
                            next.id = self.fresh_id();
                            next.next_tx = now;
                            SlotState::Pending(next)
                        }
                        None => SlotState::Done(Err(DnsError::Failed)),
                    }
                } else {
                    SlotState::Done(Err(DnsError::NoAddresses))
                }
            }
            dns::Rcode::NameError => SlotState::Done(Err(DnsError::NoSuchName)),
            dns::Rcode::FormatError
            | dns::Rcode::ServerFailure
            | dns::Rcode::NotImplemented
            | dns::Rcode::Refused
            | dns::Rcode::Other(_) => {
                // The server failed or refused: the next try goes out at
                // once, to the next server, if any tries are left.
                query.next_tx = now;
                if query.attempts < MAX_ATTEMPTS {
                    SlotState::Pending(query)
                } else {
                    SlotState::Done(Err(DnsError::Failed))
                }
            }
        };
        self.slots[index].state = state;
    }

    fn slot_mut(&mut self, handle: QueryHandle) -> Result<&mut DnsQuerySlot, DnsError> {
        match self.slots.get_mut(handle.index) {
            Some(slot) if slot.tag == handle.tag && !matches!(slot.state, SlotState::Free) => Ok(slot),
            _ => Err(DnsError::InvalidHandle),
        }
    }

    /// A query id not used by any pending query.
    fn fresh_id(&mut self) -> u16 {
        loop {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 17;
            self.rng ^= self.rng << 5;
            let id = (self.rng >> 16) as u16;
            let taken = self.slots.iter().any(|s| match s.state {
                SlotState::Pending(q) => q.id == id,
                SlotState::Free | SlotState::Done(_) => false,
            });
            if !taken {
                return id;
            }
        }
    }
}

/// The name of the response's only question if it is exactly the query's.
fn matching_question<'p>(packet: &Packet<&'p [u8]>, query: &PendingQuery) -> Option<Name<'p>> {
    if packet.question_count() != 1 {
        return None;
    }
    match packet.entries().next()? {
        Ok(Entry::Question(q))
            if q.qtype == query.kind.record_type() && q.qclass == dns::CLASS_IN && q.name.eq_text(query.name()) =>
        {
            Some(q.name)
        }
        _ => None,
    }
}

/// Follows CNAME records in the answer section from `name`, at most
/// [`MAX_CNAME_HOPS`] times (so a CNAME loop ends). Returns the final name
/// and the number of hops taken.
fn follow_cnames<'p>(packet: &Packet<&'p [u8]>, name: Name<'p>, kind: QueryKind) -> (Name<'p>, usize) {
    let mut target = name;
    for hop in 0..MAX_CNAME_HOPS {
        // A name with addresses of its own ends the chain.
        if collect_addresses(packet, target, kind).len > 0 {
            return (target, hop);
        }
        let next = answers(packet).find_map(|r| match r.data {
            RecordData::Cname(alias) if r.name.eq_name(&target) => Some(alias),
            _ => None,
        });
        match next {
            Some(alias) => target = alias,
            None => return (target, hop),
        }
    }
    (target, MAX_CNAME_HOPS)
}

/// The answer-section records (the message is already checked, so errors
/// cannot occur; they would end the walk).
fn answers<'p>(packet: &Packet<&'p [u8]>) -> impl Iterator<Item = dns::Record<'p>> {
    packet.entries().map_while(Result::ok).filter_map(|e| match e {
        Entry::Record(Section::Answer, r) => Some(r),
        Entry::Record(..) | Entry::Question(_) => None,
    })
}

fn collect_addresses(packet: &Packet<&[u8]>, owner: Name<'_>, kind: QueryKind) -> DnsAddresses {
    let mut addrs = DnsAddresses::EMPTY;
    for record in answers(packet) {
        if record.class != dns::CLASS_IN || !record.name.eq_name(&owner) {
            continue;
        }
        match (kind, record.data) {
            (QueryKind::A, RecordData::A(a)) => addrs.push(a.into()),
            (QueryKind::Aaaa, RecordData::Aaaa(a)) => addrs.push(a.into()),
            _ => {}
        }
    }
    addrs
}

/// The query re-aimed at `target`, or `None` when out of re-queries or the
/// name has no usable text form.
fn requery(query: PendingQuery, target: Name<'_>) -> Option<PendingQuery> {
    if query.requeries >= MAX_REQUERIES {
        return None;
    }
    let mut next = query;
    let text = target.copy_text(&mut next.name).ok()?;
    text_name_wire_len(text).ok()?;
    next.name_len = text.len();
    next.attempts = 0;
    next.timeout = INITIAL_TIMEOUT;
    next.requeries += 1;
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Ipv4Address, Ipv6Address};
    use std::vec;
    use std::vec::Vec;

    const SERVER_A: Ipv4Address = Ipv4Address::new(10, 0, 2, 3);
    const SERVER_B: Ipv4Address = Ipv4Address::new(1, 1, 1, 1);

    fn from(addr: Ipv4Address) -> IpEndpoint {
        IpEndpoint::new(addr.into(), 53)
    }

    fn secs(s: i64) -> Instant {
        Instant::from_secs(s)
    }

    fn encode(name: &str) -> Vec<u8> {
        let mut out = vec![];
        for label in name.split('.') {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
        out
    }

    /// A response header and the question, written uncompressed.
    fn response_head(id: u16, flags: u16, qname: &str, qtype: u16, answers: u16) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m.extend_from_slice(&answers.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&encode(qname));
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m
    }

    /// Appends a record whose owner is the wire name `owner`.
    fn record(m: &mut Vec<u8>, owner: &[u8], rtype: u16, rdata: &[u8]) {
        m.extend_from_slice(owner);
        m.extend_from_slice(&rtype.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(rdata);
    }

    fn resolver(slots: &mut [DnsQuerySlot]) -> DnsResolver<'_> {
        let mut r = DnsResolver::new(slots, 99);
        r.set_servers(&[SERVER_A.into(), SERVER_B.into()]);
        r
    }

    /// Polls once; returns destination and the query bytes.
    fn sent(r: &mut DnsResolver, now: Instant) -> Option<(IpEndpoint, Vec<u8>)> {
        let mut out = [0u8; MAX_PAYLOAD_LEN];
        r.poll(now, &mut out).map(|(dst, len)| (dst, out[..len].to_vec()))
    }

    fn query_id(query: &[u8]) -> u16 {
        u16::from_be_bytes([query[0], query[1]])
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddress {
        Ipv4Address::new(a, b, c, d).into()
    }

    #[test]
    fn resolves_an_a_record() {
        let mut slots = [DnsQuerySlot::EMPTY; 2];
        let mut r = resolver(&mut slots);
        let h = r.start_query("Example.com.", QueryKind::A, secs(0)).unwrap();
        assert_eq!(r.poll_at(), Some(secs(0)));
        assert_eq!(r.query_result(h), Ok(None));

        let (dst, query) = sent(&mut r, secs(0)).unwrap();
        assert_eq!(dst, from(SERVER_A));
        let id = query_id(&query);
        let mut expected = vec![(id >> 8) as u8, id as u8, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        expected.extend_from_slice(&encode("Example.com"));
        expected.extend_from_slice(&[0, 1, 0, 1]);
        assert_eq!(query, expected);
        assert!(sent(&mut r, secs(0)).is_none());
        assert_eq!(r.poll_at(), Some(secs(1)));

        // Answer with the question name compressed and in another case.
        let mut m = response_head(id, 0x8180, "example.COM", 1, 2);
        record(&mut m, &[0xc0, 12], 1, &[93, 184, 216, 34]);
        record(&mut m, &[0xc0, 12], 1, &[93, 184, 216, 35]);
        r.process(secs(0), from(SERVER_A), &m);
        let addrs = r.query_result(h).unwrap().unwrap();
        assert_eq!(addrs.as_slice(), &[v4(93, 184, 216, 34), v4(93, 184, 216, 35)]);
        assert_eq!(r.query_result(h), Err(DnsError::InvalidHandle), "collected once");
        assert_eq!(r.poll_at(), None);
    }

    #[test]
    fn resolves_aaaa_and_keeps_at_most_four() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("v6.test", QueryKind::Aaaa, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        assert_eq!(&query[query.len() - 4..], &[0, 28, 0, 1]);
        let mut m = response_head(query_id(&query), 0x8180, "v6.test", 28, 6);
        record(&mut m, &[0xc0, 12], 1, &[1, 2, 3, 4]); // wrong family: skipped
        for i in 1..=5u8 {
            let mut a = [0u8; 16];
            a[0] = 0x20;
            a[15] = i;
            record(&mut m, &[0xc0, 12], 28, &a);
        }
        r.process(secs(0), from(SERVER_A), &m);
        let addrs = r.query_result(h).unwrap().unwrap();
        assert_eq!(addrs.as_slice().len(), 4);
        let mut first = [0u8; 16];
        first[0] = 0x20;
        first[15] = 1;
        assert_eq!(addrs.as_slice()[0], IpAddress::V6(Ipv6Address(first)));
    }

    #[test]
    fn follows_a_cname_chain_within_the_answer() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("www.example.com", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let mut m = response_head(query_id(&query), 0x8180, "www.example.com", 1, 4);
        // An unrelated A record first: must not be taken.
        record(&mut m, &encode("other.example.com"), 1, &[9, 9, 9, 9]);
        // Chain listed out of order: edge.cdn.net A, then the CNAMEs.
        let edge_at = m.len();
        record(&mut m, &encode("edge.cdn.net"), 1, &[5, 6, 7, 8]);
        let web_at = m.len() + 2 + 10;
        let web = [3, b'w', b'e', b'b', 0xc0, 16]; // web.example.com
        record(&mut m, &[0xc0, 12], 5, &web);
        record(&mut m, &[0xc0, web_at as u8], 5, &[0xc0, edge_at as u8]);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(h).unwrap().unwrap().as_slice(), &[v4(5, 6, 7, 8)]);
    }

    #[test]
    fn requeries_the_end_of_a_chain_without_addresses() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("alias.test", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let first_id = query_id(&query);
        let mut m = response_head(first_id, 0x8180, "alias.test", 1, 1);
        record(&mut m, &[0xc0, 12], 5, &encode("real.test"));
        r.process(secs(1), from(SERVER_A), &m);
        assert_eq!(r.query_result(h), Ok(None));
        assert_eq!(r.poll_at(), Some(secs(1)));

        let (dst, query) = sent(&mut r, secs(1)).unwrap();
        assert_eq!(dst, from(SERVER_A), "a new query starts at the first server");
        let id = query_id(&query);
        assert_ne!(id, first_id);
        assert_eq!(&query[12..query.len() - 4], &encode("real.test")[..]);
        let mut m = response_head(id, 0x8180, "real.test", 1, 1);
        record(&mut m, &[0xc0, 12], 1, &[7, 7, 7, 7]);
        r.process(secs(1), from(SERVER_B), &m);
        assert_eq!(r.query_result(h).unwrap().unwrap().as_slice(), &[v4(7, 7, 7, 7)]);
    }

    #[test]
    fn cname_loop_ends() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("a.test", QueryKind::A, secs(0)).unwrap();
        let mut now = secs(0);
        for _ in 0..=MAX_REQUERIES {
            let (_, query) = sent(&mut r, now).unwrap();
            let qname = Name::parse(&query, 12).unwrap().0;
            let mut text = [0u8; 64];
            let qname = qname.copy_text(&mut text).unwrap();
            // a.test CNAME b.test, b.test CNAME a.test.
            let mut m = response_head(query_id(&query), 0x8180, qname, 1, 2);
            record(&mut m, &encode("a.test"), 5, &encode("b.test"));
            record(&mut m, &encode("b.test"), 5, &encode("a.test"));
            r.process(now, from(SERVER_A), &m);
            now += Duration::from_millis(10);
        }
        assert_eq!(r.query_result(h), Err(DnsError::Failed));
    }

    #[test]
    fn reports_nxdomain_and_nodata() {
        let mut slots = [DnsQuerySlot::EMPTY; 2];
        let mut r = resolver(&mut slots);
        let h = r.start_query("nope.test", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let m = response_head(query_id(&query), 0x8183, "nope.test", 1, 0);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(h), Err(DnsError::NoSuchName));
        assert_eq!(r.query_result(h), Err(DnsError::InvalidHandle));

        let h = r.start_query("v4only.test", QueryKind::Aaaa, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let m = response_head(query_id(&query), 0x8180, "v4only.test", 28, 0);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(h), Err(DnsError::NoAddresses));
    }

    #[test]
    fn ignores_responses_that_do_not_match() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("example.com", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let id = query_id(&query);
        let good = |id: u16, flags: u16, name: &str, qtype: u16| {
            let mut m = response_head(id, flags, name, qtype, 1);
            record(&mut m, &[0xc0, 12], 1, &[1, 2, 3, 4]);
            m
        };
        let stray = Ipv4Address::new(6, 6, 6, 6);
        r.process(secs(0), from(SERVER_A), &good(id ^ 1, 0x8180, "example.com", 1));
        r.process(secs(0), from(SERVER_A), &good(id, 0x8180, "example.org", 1));
        r.process(secs(0), from(SERVER_A), &good(id, 0x8180, "example.com", 28));
        r.process(secs(0), from(SERVER_A), &good(id, 0x0100, "example.com", 1)); // a query
        r.process(secs(0), from(SERVER_A), &good(id, 0x9180, "example.com", 1)); // opcode 2
        r.process(secs(0), from(stray), &good(id, 0x8180, "example.com", 1));
        r.process(secs(0), IpEndpoint::new(SERVER_A.into(), 5353), &good(id, 0x8180, "example.com", 1));
        // Truncated at every length: never accepted, never a panic.
        let full = good(id, 0x8180, "example.com", 1);
        for len in 0..full.len() {
            r.process(secs(0), from(SERVER_A), &full[..len]);
        }
        // Two questions.
        let mut two = good(id, 0x8180, "example.com", 1);
        two[5] = 2;
        r.process(secs(0), from(SERVER_A), &two);
        assert_eq!(r.query_result(h), Ok(None));

        r.process(secs(0), from(SERVER_B), &full);
        assert_eq!(r.query_result(h).unwrap().unwrap().as_slice(), &[v4(1, 2, 3, 4)]);
    }

    #[test]
    fn compression_loop_in_a_response_is_ignored() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("loop.test", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let id = query_id(&query);
        // Answer owner points at itself; and an answer whose CNAME target
        // points forward to a pointer back at it.
        let mut m = response_head(id, 0x8180, "loop.test", 1, 1);
        let at = m.len() as u8;
        record(&mut m, &[0xc0, at], 1, &[1, 2, 3, 4]);
        r.process(secs(0), from(SERVER_A), &m);
        let mut m = response_head(id, 0x8180, "loop.test", 1, 1);
        let rdata_at = (m.len() + 12) as u8;
        record(&mut m, &[0xc0, 12], 5, &[0xc0, rdata_at + 2, 0xc0, rdata_at]);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(h), Ok(None));
    }

    #[test]
    fn times_out_after_retries_rotating_servers() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("slow.test", QueryKind::A, secs(0)).unwrap();
        let mut ids = vec![];
        for (at, server) in [(0, SERVER_A), (1, SERVER_B), (3, SERVER_A), (7, SERVER_B)] {
            assert_eq!(r.poll_at(), Some(secs(at)));
            assert!(sent(&mut r, secs(at) - Duration::from_micros(1)).is_none());
            let (dst, query) = sent(&mut r, secs(at)).unwrap();
            assert_eq!(dst, from(server), "try at {at} s");
            ids.push(query_id(&query));
        }
        assert!(ids.iter().all(|&id| id == ids[0]), "retries keep the id");
        assert_eq!(r.poll_at(), Some(secs(15)));
        assert!(sent(&mut r, secs(15)).is_none());
        assert_eq!(r.query_result(h), Err(DnsError::TimedOut));
        assert_eq!(r.poll_at(), None);
    }

    #[test]
    fn server_failure_moves_to_the_next_server() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("flaky.test", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let m = response_head(query_id(&query), 0x8182, "flaky.test", 1, 0);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.poll_at(), Some(secs(0)));
        assert_eq!(sent(&mut r, secs(0)).unwrap().0, from(SERVER_B));
        for _ in 0..3 {
            r.process(secs(0), from(SERVER_A), &m);
            sent(&mut r, secs(0));
        }
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(h), Err(DnsError::Failed));
    }

    #[test]
    fn truncated_answer_without_addresses_fails() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let h = r.start_query("big.test", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let m = response_head(query_id(&query), 0x8380, "big.test", 1, 0);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(h), Err(DnsError::Failed));

        // With TC but some addresses, those are used.
        let h = r.start_query("big.test", QueryKind::A, secs(0)).unwrap();
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        let mut m = response_head(query_id(&query), 0x8380, "big.test", 1, 1);
        record(&mut m, &[0xc0, 12], 1, &[4, 3, 2, 1]);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(h).unwrap().unwrap().as_slice(), &[v4(4, 3, 2, 1)]);
    }

    #[test]
    fn validates_names_and_slots() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = DnsResolver::new(&mut slots, 0);
        assert_eq!(r.start_query("a.test", QueryKind::A, secs(0)), Err(DnsError::NoServers));
        r.set_servers(&[IpAddress::V4(Ipv4Address::UNSPECIFIED), SERVER_A.into()]);
        assert_eq!(r.servers().collect::<Vec<_>>(), vec![IpAddress::from(SERVER_A)]);
        let long_label = "a".repeat(64);
        let long_name = ["abcdefghi"; 26].join("."); // 259 bytes
        for bad in ["", ".", "a..test", ".test", long_label.as_str(), long_name.as_str()] {
            assert_eq!(r.start_query(bad, QueryKind::A, secs(0)), Err(DnsError::InvalidName));
        }
        let h = r.start_query("a.test", QueryKind::A, secs(0)).unwrap();
        assert_eq!(r.start_query("b.test", QueryKind::A, secs(0)), Err(DnsError::NoFreeSlot));
        r.cancel_query(h).unwrap();
        assert_eq!(r.query_result(h), Err(DnsError::InvalidHandle));
        assert_eq!(r.cancel_query(h), Err(DnsError::InvalidHandle));
        let h2 = r.start_query("b.test", QueryKind::A, secs(0)).unwrap();
        assert_ne!(h, h2, "a reused slot gets a new handle");
        assert_eq!(r.query_result(h), Err(DnsError::InvalidHandle));
        // Removing every server fails pending queries at the next poll.
        r.set_servers(&[]);
        assert!(sent(&mut r, secs(0)).is_none());
        assert_eq!(r.query_result(h2), Err(DnsError::NoServers));
    }

    #[test]
    fn longest_name_fits_the_payload_bound() {
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        let label = "a".repeat(63);
        let name = [label.as_str(); 4].join(".");
        r.start_query(&name[..253], QueryKind::A, secs(0)).unwrap();
        let mut small = [0u8; MAX_PAYLOAD_LEN - 1];
        assert!(r.poll(secs(0), &mut small).is_none());
        let (_, query) = sent(&mut r, secs(0)).unwrap();
        assert_eq!(query.len(), MAX_PAYLOAD_LEN);
    }

    #[test]
    fn corrupted_responses_never_panic() {
        let mut rng = 0x5eed_1234u32;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng
        };
        let mut slots = [DnsQuerySlot::EMPTY; 1];
        let mut r = resolver(&mut slots);
        for _ in 0..500 {
            let h = r.start_query("www.example.com", QueryKind::A, secs(0)).unwrap();
            let (_, query) = sent(&mut r, secs(0)).unwrap();
            let mut m = response_head(query_id(&query), 0x8180, "www.example.com", 1, 2);
            record(&mut m, &[0xc0, 12], 5, &[3, b'w', b'e', b'b', 0xc0, 16]);
            record(&mut m, &[0xc0, 45], 1, &[1, 2, 3, 4]);
            for _ in 0..1 + next() % 3 {
                let at = 12 + next() as usize % (m.len() - 12);
                m[at] = if next() % 2 == 0 { 0xc0 | (next() as u8 & 0x3f) } else { next() as u8 };
            }
            r.process(secs(0), from(SERVER_A), &m);
            while sent(&mut r, secs(0)).is_some() {}
            r.cancel_query(h).unwrap();
        }
    }

    #[test]
    fn concurrent_queries_get_distinct_ids() {
        let mut slots = [DnsQuerySlot::EMPTY; 3];
        let mut r = resolver(&mut slots);
        let ha = r.start_query("a.test", QueryKind::A, secs(0)).unwrap();
        let hb = r.start_query("b.test", QueryKind::A, secs(0)).unwrap();
        let (_, qa) = sent(&mut r, secs(0)).unwrap();
        let (_, qb) = sent(&mut r, secs(0)).unwrap();
        assert_ne!(query_id(&qa), query_id(&qb));
        let mut m = response_head(query_id(&qb), 0x8180, "b.test", 1, 1);
        record(&mut m, &[0xc0, 12], 1, &[2, 2, 2, 2]);
        r.process(secs(0), from(SERVER_A), &m);
        assert_eq!(r.query_result(ha), Ok(None));
        assert_eq!(r.query_result(hb).unwrap().unwrap().as_slice(), &[v4(2, 2, 2, 2)]);
    }
}
