//! The IPv6 half of the interface: receive (extension headers, reassembly,
//! ICMPv6, neighbour discovery, UDP and TCP to the sockets) and send
//! (next-hop choice, neighbour resolution, path MTU, fragmentation), plus
//! the timers of MLD reports, DAD, router solicitation and neighbour
//! unreachability detection. A duplicate link-local address formed from
//! the MAC turns all of it off (RFC 4862 5.4.5).
//!
//! The state lives in [`Ipv6State`], present once the embedder called
//! [`Interface::enable_ipv6`](super::Interface::enable_ipv6); until then
//! IPv6 frames are counted as an unknown EtherType, as before.

use crate::phy::TxToken;
use crate::socket::set::{Socket, SocketSet};
use crate::socket::udp::UdpMetadata;
use crate::time::{Duration, Instant};
use crate::wire::icmpv6::{self, DstUnreachable, ParamProblem, TimeExceeded};
use crate::wire::ipv6ext::{self, ChainError};
use crate::wire::{ethernet, ipv6, ipv6fragment};
use crate::wire::{mld, ndp};
use crate::wire::{EthernetAddress, IpAddress, IpEndpoint, IpProtocol, Ipv6Address};

use super::egress::{Link, OutPacket, TxTokens};
use super::ingress::Delivery;
use super::interface::{send_fragments, Inner, PendingQueue, SendError};
use super::mld::{Listener, Report};
use super::ndp_cache::{AdvertOutcome, Advertisement, NdpCache, NdpSlot, Solicit};
use super::neighbour::Lookup;
use super::reassembly::{Expired, FragmentKey, Reassembler};
use super::slaac::{self, Autoconf, Due, Ipv6Config, PrefixInfo, RouterAdvertInfo};
use super::stats::FragmentCounters;

/// Destinations whose path MTU is remembered.
pub const PATH_MTU_ENTRIES: usize = 4;
/// How long a lowered path MTU is kept before trying the link MTU again
/// (RFC 8201 5.3 suggests 10 minutes).
pub const PATH_MTU_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PathMtu {
    dst: Ipv6Address,
    mtu: usize,
    until: Instant,
}

/// Everything IPv6 adds to an interface.
#[derive(Debug)]
pub(crate) struct Ipv6State<'a> {
    pub autoconf: Autoconf,
    pub ndp: NdpCache<'a>,
    /// A static default router (used when no router advertised itself).
    pub gateway: Option<Ipv6Address>,
    /// MLD for the solicited-node groups of the addresses.
    pub mld: Listener,
    path_mtus: [Option<PathMtu>; PATH_MTU_ENTRIES],
    next_ident: u32,
}

impl<'a> Ipv6State<'a> {
    pub fn new(config: Ipv6Config, mac: EthernetAddress, neighbours: &'a mut [NdpSlot], now: Instant) -> Self {
        Ipv6State {
            autoconf: Autoconf::new(config, mac, now),
            ndp: NdpCache::new(neighbours),
            gateway: None,
            mld: Listener::new(),
            path_mtus: [None; PATH_MTU_ENTRIES],
            next_ident: config.seed.rotate_left(16) ^ 0x5bd1_e995,
        }
    }

    /// Whether a frame to this `33:33:...` group is for us.
    pub fn accepts_multicast_mac(&self, mac: EthernetAddress) -> bool {
        Ipv6Address::LINK_LOCAL_ALL_NODES.multicast_mac() == mac
            || self
                .autoconf
                .addresses()
                .any(|a| a.state != slaac::AddressState::Duplicate && a.address.solicited_node().multicast_mac() == mac)
    }

    /// The multicast groups to report: the solicited-node groups of the
    /// addresses not found duplicate, each once (all-nodes is never
    /// reported, RFC 3810 6). None while IPv6 is disabled or MLD is off.
    fn wanted_groups(&self) -> ([Ipv6Address; slaac::MAX_IPV6_ADDRESSES], usize) {
        let mut groups = [Ipv6Address::UNSPECIFIED; slaac::MAX_IPV6_ADDRESSES];
        let mut n = 0;
        if self.autoconf.is_disabled() || !self.autoconf.config().mld {
            return (groups, 0);
        }
        for a in self.autoconf.addresses().filter(|a| a.state != slaac::AddressState::Duplicate) {
            let group = a.address.solicited_node();
            if n < groups.len() && !groups[..n].contains(&group) {
                groups[n] = group;
                n += 1;
            }
        }
        (groups, n)
    }

    /// The earliest IPv6 timer: now (the zero instant) when the address
    /// list changed since the groups were last reported. (Path MTU entries
    /// expire lazily: nothing needs sending when they do.)
    pub fn poll_at(&self) -> Option<Instant> {
        let (groups, n) = self.wanted_groups();
        let resync = (!self.mld.in_sync(&groups[..n])).then_some(Instant::ZERO);
        [self.autoconf.poll_at(), self.ndp.poll_at(), self.mld.poll_at(), resync].into_iter().flatten().min()
    }

    /// Forgets lowered path MTUs whose time is up (RFC 8201 5.3: try the
    /// link MTU again).
    fn expire_path_mtus(&mut self, now: Instant) {
        for p in self.path_mtus.iter_mut() {
            if p.is_some_and(|p| now >= p.until) {
                *p = None;
            }
        }
    }

    fn path_mtu(&self, dst: Ipv6Address, now: Instant) -> Option<usize> {
        self.path_mtus.iter().flatten().find(|p| p.dst == dst && now < p.until).map(|p| p.mtu)
    }

    /// Records a packet too big (RFC 8201): only ever lowers the estimate.
    fn lower_path_mtu(&mut self, dst: Ipv6Address, mtu: usize, now: Instant) -> bool {
        let until = now + PATH_MTU_TIMEOUT;
        if let Some(p) = self.path_mtus.iter_mut().flatten().find(|p| p.dst == dst && now < p.until) {
            if mtu >= p.mtu {
                return false;
            }
            *p = PathMtu { dst, mtu, until };
            return true;
        }
        // A free or expired slot, else the one expiring first.
        let slot = self
            .path_mtus
            .iter()
            .position(|p| p.is_none_or(|p| now >= p.until))
            .or_else(|| self.path_mtus.iter().enumerate().min_by_key(|(_, p)| p.map(|p| p.until)).map(|(i, _)| i));
        if let Some(i) = slot {
            self.path_mtus[i] = Some(PathMtu { dst, mtu, until });
        }
        true
    }

    fn take_ident(&mut self) -> u32 {
        self.next_ident = self.next_ident.wrapping_add(1);
        self.next_ident
    }
}

/// A received IPv6 datagram (whole or reassembled), at its upper layer.
struct Datagram6<'p> {
    src: Ipv6Address,
    dst: Ipv6Address,
    hop_limit: u8,
    protocol: IpProtocol,
    /// The upper-layer bytes.
    payload: &'p [u8],
    /// The fixed header as received (synthesized when reassembled) and
    /// what followed it, for the quotes of ICMPv6 errors.
    quote_header: &'p [u8],
    quote_rest: &'p [u8],
    reassembled: bool,
    /// Where the next-header field naming `protocol` is in the quote (for
    /// a parameter problem).
    next_header_pointer: u32,
    /// Sent to one of our addresses still in DAD: only NDP is looked at.
    to_tentative: bool,
    /// A hop-by-hop router alert came with it (MLD requires one).
    router_alert: bool,
}

/// Handles one received IPv6 packet (the Ethernet payload); `looped` when
/// the frame came from our own MAC (a link that echoes multicast back).
/// Kept out of line: inlined, it would weigh on the IPv4 receive path it
/// sits beside.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn process_ipv6<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    reassembly: &mut Reassembler<'_>,
    now: Instant,
    bytes: &[u8],
    looped: bool,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) {
    let stats = &mut inner.stats.ipv6;
    stats.rx_packets += 1;
    let packet = match ipv6::Packet::new_checked(bytes) {
        Ok(p) => p,
        Err(crate::wire::Error::Truncated) => {
            stats.truncated += 1;
            return;
        }
        Err(_) => {
            stats.bad_version += 1;
            return;
        }
    };
    let Ok(repr) = ipv6::Repr::parse(&packet) else {
        stats.bad_source += 1;
        return;
    };
    let Some(v6) = inner.ipv6.as_ref() else { return };
    if v6.autoconf.is_disabled() {
        inner.stats.ipv6.disabled += 1;
        return;
    }
    if looped {
        // Our own DAD probe coming back would look like another node
        // claiming the address (RFC 7527 2).
        inner.stats.ndp.looped_back += 1;
        return;
    }
    let (src, dst) = (repr.src_addr, repr.dst_addr);
    let to_tentative = v6.autoconf.is_tentative(dst);
    let for_us = v6.autoconf.is_assigned(dst) || (dst.is_multicast() && v6.autoconf.in_group(dst)) || to_tentative;
    if !for_us {
        inner.stats.ipv6.not_for_us += 1;
        return;
    }
    let payload = packet.payload();
    let quote_header = &bytes[..ipv6::HEADER_LEN];
    let chain = match ipv6ext::walk(payload, repr.next_header, dst.is_multicast()) {
        Ok(chain) => chain,
        Err(e) => {
            inner.stats.ipv6.bad_extension += 1;
            if let ChainError::ParamProblem { code, pointer } = e {
                if !to_tentative {
                    let error = icmpv6::Repr::ParamProblem { reason: code, pointer, data: &[] };
                    inner.send_icmpv6_error(now, pending, tokens, src, dst, &error, quote_header, payload);
                }
            }
            return;
        }
    };
    let Some(fragment) = chain.fragment else {
        let datagram = Datagram6 {
            src,
            dst,
            hop_limit: repr.hop_limit,
            protocol: chain.upper,
            payload: &payload[chain.upper_offset.min(payload.len())..],
            quote_header,
            quote_rest: payload,
            reassembled: false,
            next_header_pointer: chain.next_header_pointer as u32,
            to_tentative,
            router_alert: chain.router_alert,
        };
        // Whole datagrams never need holding: one frame in, one frame out.
        let _ = deliver(inner, pending, now, &datagram, sockets, tokens);
        return;
    };
    inner.stats.ipv6.fragments_received += 1;
    if to_tentative {
        inner.stats.ipv6.to_tentative += 1;
        return;
    }
    let data = &payload[chain.upper_offset.min(payload.len())..];
    if fragment.is_atomic() {
        // RFC 6946: no reassembly, just what follows the fragment header.
        inner.stats.ipv6.atomic_fragments += 1;
        deliver_fragmentable(
            inner,
            pending,
            now,
            src,
            dst,
            repr.hop_limit,
            fragment.next_header,
            data,
            quote_header,
            payload,
            Some((chain.fragment_offset, chain.upper_offset)),
            sockets,
            tokens,
        );
        return;
    }
    if fragment.more_frags && data.len() % 8 != 0 {
        // RFC 8200 4.5: a parameter problem pointing at the payload length.
        inner.stats.ipv6.fragments_tiny += 1;
        let error = icmpv6::Repr::ParamProblem { reason: ParamProblem::ErroneousHeaderField, pointer: 4, data: &[] };
        inner.send_icmpv6_error(now, pending, tokens, src, dst, &error, quote_header, payload);
        return;
    }
    if fragment.frag_offset == 0 && ipv6ext::walk(data, fragment.next_header, dst.is_multicast()).is_err() {
        // RFC 7112: the first fragment carries the whole header chain.
        inner.stats.ipv6.fragments_tiny += 1;
        return;
    }
    let key = FragmentKey { src: src.into(), dst: dst.into(), protocol: fragment.next_header, ident: fragment.ident };
    let offset = usize::from(fragment.frag_offset);
    let added = reassembly.add(now, key, offset, fragment.more_frags, quote_header, data);
    let Some(index) = inner.stats.ipv6.count_fragment(added, reassembly.take_evictions()) else { return };
    let Some((key, whole)) = reassembly.datagram(index) else { return };
    let mut header = [0u8; ipv6::HEADER_LEN];
    synthesize_header(src, dst, key.protocol, whole.len(), repr.hop_limit, &mut header);
    let delivery = deliver_fragmentable(
        inner,
        pending,
        now,
        src,
        dst,
        repr.hop_limit,
        key.protocol,
        whole,
        &header,
        whole,
        None,
        sockets,
        tokens,
    );
    delivery.settle(reassembly, index);
}

/// The header a reassembled datagram would have had unfragmented.
fn synthesize_header(
    src: Ipv6Address,
    dst: Ipv6Address,
    next_header: IpProtocol,
    payload_len: usize,
    hop_limit: u8,
    out: &mut [u8; ipv6::HEADER_LEN],
) {
    let repr = ipv6::Repr::new(src, dst, next_header, payload_len, hop_limit);
    repr.emit(&mut ipv6::Packet::new_unchecked(&mut out[..]));
}

/// Delivers the fragmentable part of a datagram (after reassembly, or of
/// an atomic fragment): it may hold more extension headers. `atomic` gives
/// an atomic fragment's fragment header and data offsets in the payload
/// (`None`: reassembled, quoted with a synthesized header).
#[allow(clippy::too_many_arguments)]
fn deliver_fragmentable<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    src: Ipv6Address,
    dst: Ipv6Address,
    hop_limit: u8,
    next_header: IpProtocol,
    data: &[u8],
    quote_header: &[u8],
    quote_rest: &[u8],
    atomic: Option<(usize, usize)>,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) -> Delivery {
    let chain = match ipv6ext::walk(data, next_header, dst.is_multicast()) {
        Ok(c) if c.fragment.is_none() => c,
        Ok(_) | Err(_) => {
            inner.stats.ipv6.bad_extension += 1;
            return Delivery::Done;
        }
    };
    let datagram = Datagram6 {
        src,
        dst,
        hop_limit,
        protocol: chain.upper,
        payload: &data[chain.upper_offset.min(data.len())..],
        quote_header,
        quote_rest,
        reassembled: atomic.is_none(),
        next_header_pointer: match atomic {
            Some((fragment_offset, _)) if chain.headers == 0 => (ipv6::HEADER_LEN + fragment_offset) as u32,
            Some((_, data_offset)) => (chain.next_header_pointer + data_offset) as u32,
            None => chain.next_header_pointer as u32,
        },
        to_tentative: false,
        router_alert: false,
    };
    deliver(inner, pending, now, &datagram, sockets, tokens)
}

fn deliver<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram6,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) -> Delivery {
    if datagram.to_tentative && datagram.protocol != IpProtocol::Icmpv6 {
        inner.stats.ipv6.to_tentative += 1;
        return Delivery::Done;
    }
    // Only neighbour discovery (DAD) comes from the unspecified address.
    if datagram.src.is_unspecified() && datagram.protocol != IpProtocol::Icmpv6 {
        inner.stats.ipv6.bad_source += 1;
        return Delivery::Done;
    }
    match datagram.protocol {
        IpProtocol::Icmpv6 => process_icmpv6(inner, pending, now, datagram, sockets, tokens),
        IpProtocol::Udp => {
            process_udp6(inner, pending, now, datagram, sockets, tokens);
            Delivery::Done
        }
        IpProtocol::Tcp => {
            let unicast = !datagram.dst.is_multicast() && datagram.src.is_unicast();
            let (src, dst) = (IpAddress::V6(datagram.src), IpAddress::V6(datagram.dst));
            super::ingress::process_tcp_segment(
                inner,
                pending,
                now,
                src,
                dst,
                unicast,
                datagram.payload,
                sockets,
                tokens,
            );
            Delivery::Done
        }
        IpProtocol::Ipv6NoNxt => Delivery::Done,
        IpProtocol::Icmp
        | IpProtocol::HopByHop
        | IpProtocol::Ipv6Route
        | IpProtocol::Ipv6Frag
        | IpProtocol::Ipv6Opts
        | IpProtocol::Unknown(_) => {
            inner.stats.ipv6.unknown_protocol += 1;
            // RFC 8200 4: parameter problem code 1 at the next-header
            // field that named it.
            if !datagram.dst.is_multicast() {
                let error = icmpv6::Repr::ParamProblem {
                    reason: ParamProblem::UnrecognizedNextHeader,
                    pointer: datagram.next_header_pointer,
                    data: &[],
                };
                send_error_about(inner, pending, now, tokens, datagram, &error);
            }
            Delivery::Done
        }
    }
}

fn process_icmpv6<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram6,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) -> Delivery {
    let stats = &mut inner.stats.icmpv6;
    stats.rx_messages += 1;
    let Ok(packet) = icmpv6::Packet::new_checked(datagram.payload) else {
        stats.truncated += 1;
        return Delivery::Done;
    };
    let verify = inner.caps.checksum.icmpv4.rx();
    match packet.msg_type() {
        icmpv6::Message::MldQuery => {
            process_mld_query(inner, now, datagram, verify);
            return Delivery::Done;
        }
        icmpv6::Message::MldReport | icmpv6::Message::MldDone | icmpv6::Message::MldReportV2 => {
            // Another listener's: a host does not act on it (RFC 3810 6).
            inner.stats.mld.others_reports += 1;
            return Delivery::Done;
        }
        _ => {}
    }
    let repr = match icmpv6::Repr::parse(&packet, &datagram.src, &datagram.dst, verify) {
        Ok(r) => r,
        Err(crate::wire::Error::Checksum) => {
            stats.bad_checksum += 1;
            return Delivery::Done;
        }
        Err(crate::wire::Error::Unsupported) => {
            stats.unknown_type += 1;
            return Delivery::Done;
        }
        Err(crate::wire::Error::Malformed) if is_ndp(packet.msg_type()) => {
            inner.stats.ndp.invalid += 1;
            return Delivery::Done;
        }
        Err(crate::wire::Error::Truncated | crate::wire::Error::Malformed) => {
            stats.truncated += 1;
            return Delivery::Done;
        }
    };
    if datagram.to_tentative && !matches!(repr, icmpv6::Repr::Ndp(_)) {
        inner.stats.ipv6.to_tentative += 1;
        return Delivery::Done;
    }
    match repr {
        icmpv6::Repr::EchoRequest { .. } if datagram.src.is_unspecified() => {
            inner.stats.ipv6.bad_source += 1;
        }
        icmpv6::Repr::EchoRequest { ident, seq_no, data } => {
            stats.echo_requests_received += 1;
            let to_us = !datagram.dst.is_multicast();
            if !to_us && !inner.config.reply_to_broadcast_ping {
                inner.stats.icmpv6.echo_multicast_ignored += 1;
                return Delivery::Done;
            }
            let src = if to_us { Some(datagram.dst) } else { inner.source_for6(datagram.src) };
            let Some(src) = src else { return Delivery::Done };
            let reply = icmpv6::Repr::EchoReply { ident, seq_no, data };
            let packet =
                OutPacket::icmpv6(src, datagram.src, inner.hop_limit6(), &reply, inner.caps.checksum.icmpv4.tx());
            match inner.send_ipv6(now, pending, tokens, &packet) {
                Ok(()) => inner.stats.icmpv6.echo_replied += 1,
                Err(SendError::NeedsMultiFrame) if datagram.reassembled && to_us => return Delivery::HoldForReply,
                Err(SendError::NeedsMultiFrame) => inner.stats.tx.reply_dropped += 1,
                Err(SendError::DeviceBusy | SendError::Dropped) => {}
            }
        }
        icmpv6::Repr::EchoReply { ident, seq_no, data } => {
            let socket = sockets.sockets_mut().find_map(|(_, s)| match s {
                Socket::Icmp(s) if s.accepts_reply(ident) => Some(s),
                _ => None,
            });
            match socket {
                Some(s) => {
                    s.process_reply(datagram.src.into(), seq_no, data);
                }
                None => stats.echo_reply_unmatched += 1,
            }
        }
        icmpv6::Repr::PacketTooBig { mtu, data } => {
            stats.errors_received += 1;
            stats.packet_too_big_received += 1;
            let quoted = icmpv6::QuotedDatagram::parse(data);
            let mtu = usize::try_from(mtu).unwrap_or(usize::MAX);
            // RFC 8201 4: never below the IPv6 minimum MTU.
            if let (Ok(q), true, Some(v6)) = (quoted, mtu >= ipv6::MIN_MTU, inner.ipv6.as_mut()) {
                let ours = q.src_addr == datagram.dst || v6.autoconf.is_assigned(q.src_addr);
                if ours && v6.lower_path_mtu(q.dst_addr, mtu, now) {
                    inner.stats.ipv6.pmtu_updates += 1;
                }
            }
        }
        icmpv6::Repr::DstUnreachable { .. } | icmpv6::Repr::TimeExceeded { .. } | icmpv6::Repr::ParamProblem { .. } => {
            stats.errors_received += 1;
        }
        icmpv6::Repr::Ndp(ndp) => process_ndp(inner, pending, now, datagram, &ndp, tokens),
    }
    Delivery::Done
}

/// An MLD query (RFC 3810 5.1.14, 5.1.15, 6.2): from a link-local source
/// with hop limit 1 and a router alert, a general one to all-nodes, one
/// about a group to that group; else dropped. Answers are scheduled.
fn process_mld_query(inner: &mut Inner<'_>, now: Instant, datagram: &Datagram6, verify: bool) {
    let stats = &mut inner.stats.mld;
    let well_sent = |q: &mld::Query| {
        let dst_fits = datagram.dst == Ipv6Address::LINK_LOCAL_ALL_NODES || datagram.dst == q.group;
        datagram.hop_limit == mld::HOP_LIMIT && datagram.src.is_link_local() && datagram.router_alert && dst_fits
    };
    let query = match mld::Query::parse(datagram.payload, &datagram.src, &datagram.dst, verify) {
        Ok(q) if well_sent(&q) => q,
        Ok(_) | Err(_) => {
            stats.queries_malformed += 1;
            return;
        }
    };
    let Some(v6) = inner.ipv6.as_mut() else { return };
    if v6.mld.query(&query, now, |max| v6.autoconf.random_delay(max)) == 0 {
        inner.stats.mld.queries_not_for_us += 1;
        return;
    }
    inner.stats.mld.queries_received += 1;
}

fn is_ndp(message: icmpv6::Message) -> bool {
    use icmpv6::Message;
    matches!(
        message,
        Message::RouterSolicit
            | Message::RouterAdvert
            | Message::NeighborSolicit
            | Message::NeighborAdvert
            | Message::Redirect
    )
}

/// Neighbour discovery: RFC 4861 7.2 (solicitations, advertisements),
/// 6.3.4 (router advertisements) and RFC 4862 5.4.3 (DAD).
fn process_ndp<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram6,
    repr: &ndp::Repr,
    tokens: &mut T,
) {
    // Only messages from the link itself (RFC 4861 6.1, 7.1).
    if datagram.hop_limit != ndp::HOP_LIMIT {
        inner.stats.ndp.invalid += 1;
        return;
    }
    let mac = inner.config.mac;
    let src = datagram.src;
    let Some(v6) = inner.ipv6.as_mut() else { return };
    match *repr {
        ndp::Repr::NeighborSolicit { target_addr, src_lladdr } => {
            inner.stats.ndp.solicitations_received += 1;
            if v6.autoconf.is_tentative(target_addr) {
                // Another node's DAD probe for the same address: both
                // lose it (RFC 4862 5.4.3). Resolution for a tentative
                // address is ignored.
                if src.is_unspecified() && v6.autoconf.duplicate_detected(now, target_addr) {
                    inner.stats.ndp.dad_conflicts += 1;
                }
                return;
            }
            if !v6.autoconf.is_assigned(target_addr) {
                inner.stats.ndp.not_for_us += 1;
                return;
            }
            // A DAD probe for an address we use: defend it to all nodes.
            let (na_dst, solicited) =
                if src.is_unspecified() { (Ipv6Address::LINK_LOCAL_ALL_NODES, false) } else { (src, true) };
            if let (Some(lladdr), false) = (src_lladdr, src.is_unspecified()) {
                if v6.ndp.learn(src, lladdr, now) {
                    inner.stats.ndp.cache_evictions += 1;
                }
            }
            let na = ndp::Repr::NeighborAdvert {
                router: false,
                solicited,
                override_: true,
                target_addr,
                target_lladdr: Some(mac),
            };
            let packet = OutPacket::icmpv6(target_addr, na_dst, ndp::HOP_LIMIT, &icmpv6::Repr::Ndp(na), true);
            // Straight back to the sender's link address when it gave one
            // (no resolution needed for the answer).
            let sent = match (src_lladdr, na_dst.is_multicast()) {
                (Some(lladdr), false) => inner.emit_ipv6(now, tokens, lladdr, &packet),
                _ => inner.send_ipv6(now, pending, tokens, &packet),
            };
            if sent.is_ok() {
                inner.stats.ndp.advertisements_sent += 1;
            }
        }
        ndp::Repr::NeighborAdvert { router, solicited, override_, target_addr, target_lladdr } => {
            inner.stats.ndp.advertisements_received += 1;
            if v6.autoconf.is_tentative(target_addr) {
                if v6.autoconf.duplicate_detected(now, target_addr) {
                    inner.stats.ndp.dad_conflicts += 1;
                }
                return;
            }
            if v6.autoconf.is_assigned(target_addr) {
                if target_lladdr.is_some_and(|m| m != mac) {
                    inner.stats.ndp.address_conflict += 1;
                    #[cfg(feature = "log")]
                    log::warn!("ipv6: another node claims {target_addr}");
                }
                return;
            }
            let na = Advertisement { target: target_addr, mac: target_lladdr, router, solicited, override_ };
            if v6.ndp.advertisement(&na, now) == AdvertOutcome::NoLongerRouter {
                v6.autoconf.router_gone(target_addr);
            }
        }
        ndp::Repr::RouterAdvert {
            cur_hop_limit,
            router_lifetime,
            reachable_time,
            retrans_time,
            src_lladdr,
            mtu,
            prefixes,
            ..
        } => {
            inner.stats.ndp.router_advertisements_received += 1;
            if !src.is_link_local() {
                inner.stats.ndp.ra_bad_source += 1;
                return;
            }
            let info = RouterAdvertInfo {
                source: src,
                router_lifetime_secs: router_lifetime,
                reachable_time_ms: reachable_time,
                retrans_timer_ms: retrans_time,
                hop_limit: cur_hop_limit,
                mtu,
            };
            let (reachable, retrans) = v6.autoconf.router_advert(now, &info);
            v6.ndp.set_timers(reachable, retrans);
            if let Some(lladdr) = src_lladdr {
                if v6.ndp.learn(src, lladdr, now) {
                    inner.stats.ndp.cache_evictions += 1;
                }
                v6.ndp.set_router(src);
            }
            for p in prefixes.iter() {
                let info = PrefixInfo {
                    prefix: p.prefix,
                    prefix_len: p.prefix_len,
                    on_link: p.on_link,
                    autonomous: p.autonomous,
                    valid_lifetime: p.valid_lifetime,
                    preferred_lifetime: p.preferred_lifetime,
                };
                if v6.autoconf.prefix_info(now, &info) {
                    inner.stats.ndp.slaac_addresses += 1;
                }
            }
        }
        ndp::Repr::RouterSolicit { .. } => {} // For routers; a host ignores it.
        ndp::Repr::Redirect { .. } => inner.stats.ndp.redirects_ignored += 1,
    }
}

fn process_udp6<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram6,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) {
    let (src, dst) = (IpAddress::V6(datagram.src), IpAddress::V6(datagram.dst));
    let Some(repr) = super::ingress::parse_udp(inner, datagram.payload, &src, &dst) else { return };
    let local = IpEndpoint::new(dst, repr.dst_port);
    let remote = IpEndpoint::new(src, repr.src_port);
    for (_, socket) in sockets.sockets_mut() {
        if let Socket::Udp(s) = socket {
            if s.accepts(local, remote) {
                if !s.process(local, remote, repr.payload) {
                    inner.stats.udp.socket_buffer_full += 1;
                }
                return;
            }
        }
    }
    inner.stats.udp.no_socket += 1;
    if !datagram.dst.is_multicast() && datagram.src.is_unicast() {
        let error = icmpv6::Repr::DstUnreachable { reason: DstUnreachable::PortUnreachable, data: &[] };
        send_error_about(inner, pending, now, tokens, datagram, &error);
    }
}

/// Sends the ICMPv6 `error` about `datagram` back to its source.
fn send_error_about<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    tokens: &mut T,
    datagram: &Datagram6,
    error: &icmpv6::Repr,
) {
    let (quote_header, quote_rest) = (datagram.quote_header, datagram.quote_rest);
    inner.send_icmpv6_error(now, pending, tokens, datagram.src, datagram.dst, error, quote_header, quote_rest);
}

/// Answers an echo request held because its reply needs several frames.
pub(crate) fn send_held_echo_reply6<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    tokens: &mut T,
    key: &FragmentKey,
    payload: &[u8],
) -> Result<(), SendError> {
    let (IpAddress::V6(src), IpAddress::V6(dst)) = (key.src, key.dst) else { return Ok(()) };
    let Ok(chain) = ipv6ext::walk(payload, key.protocol, false) else { return Ok(()) };
    if chain.upper != IpProtocol::Icmpv6 {
        return Ok(());
    }
    let Some(message) = payload.get(chain.upper_offset..) else { return Ok(()) };
    let Ok(packet) = icmpv6::Packet::new_checked(message) else { return Ok(()) };
    let Ok(icmpv6::Repr::EchoRequest { ident, seq_no, data }) = icmpv6::Repr::parse(&packet, &src, &dst, false) else {
        return Ok(());
    };
    let reply = icmpv6::Repr::EchoReply { ident, seq_no, data };
    let packet = OutPacket::icmpv6(dst, src, inner.hop_limit6(), &reply, inner.caps.checksum.icmpv4.tx());
    match inner.send_ipv6(now, pending, tokens, &packet) {
        Ok(()) => inner.stats.icmpv6.echo_replied += 1,
        Err(SendError::DeviceBusy) => return Err(SendError::DeviceBusy),
        Err(SendError::Dropped | SendError::NeedsMultiFrame) => inner.stats.tx.reply_dropped += 1,
    }
    Ok(())
}

/// A reassembly that timed out: ICMPv6 time exceeded (code 1) when the
/// first fragment had come (RFC 8200 4.5).
pub(crate) fn reassembly_timed_out6<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    tokens: &mut T,
    expired: &Expired,
) {
    inner.stats.ipv6.fragments_timed_out += 1;
    let (IpAddress::V6(src), IpAddress::V6(dst)) = (expired.key.src, expired.key.dst) else { return };
    let quote = expired.quote();
    if !inner.config.reassembly_time_exceeded || quote.len() < ipv6::HEADER_LEN || dst.is_multicast() {
        return;
    }
    let (header, rest) = quote.split_at(ipv6::HEADER_LEN);
    let error = icmpv6::Repr::TimeExceeded { reason: TimeExceeded::FragReassembly, data: &[] };
    inner.send_icmpv6_error(now, pending, tokens, src, dst, &error, header, rest);
}

impl<'p> OutPacket<'p, Ipv6Address> {
    /// An ICMPv6 message built in the header buffer (echo and NDP bodies
    /// up to [`MAX_L4_HEADER`](super::egress::MAX_L4_HEADER) bytes; echo
    /// data is borrowed). Errors: see [`OutPacket::icmpv6_error`].
    pub fn icmpv6(
        src: Ipv6Address,
        dst: Ipv6Address,
        hop_limit: u8,
        repr: &icmpv6::Repr<'p>,
        compute_checksum: bool,
    ) -> OutPacket<'p, Ipv6Address> {
        let (header_len, data) = match *repr {
            icmpv6::Repr::EchoRequest { data, .. } | icmpv6::Repr::EchoReply { data, .. } => (icmpv6::HEADER_LEN, data),
            _ => (repr.buffer_len().min(super::egress::MAX_L4_HEADER), &[][..]),
        };
        let mut p = OutPacket::raw(src, dst, IpProtocol::Icmpv6, hop_limit, false, data);
        p.header_len = header_len;
        // Emit a header-only message (the data is summed separately).
        let header_only = match *repr {
            icmpv6::Repr::EchoRequest { ident, seq_no, .. } => icmpv6::Repr::EchoRequest { ident, seq_no, data: &[] },
            icmpv6::Repr::EchoReply { ident, seq_no, .. } => icmpv6::Repr::EchoReply { ident, seq_no, data: &[] },
            other => other,
        };
        header_only.emit(&mut icmpv6::Packet::new_unchecked(&mut p.header[..header_len]), &src, &dst, false);
        p.finish_icmpv6(compute_checksum);
        p
    }

    /// An ICMPv6 error quoting `quote_header` (the 40-byte IPv6 header)
    /// and the start of `quote_rest`, bounded so the message fits the
    /// minimum MTU (RFC 4443 2.4).
    pub fn icmpv6_error(
        src: Ipv6Address,
        dst: Ipv6Address,
        hop_limit: u8,
        error: &icmpv6::Repr,
        quote_header: &[u8],
        quote_rest: &'p [u8],
        compute_checksum: bool,
    ) -> OutPacket<'p, Ipv6Address> {
        let qh = &quote_header[..quote_header.len().min(ipv6::HEADER_LEN)];
        let room = icmpv6::MAX_ERROR_DATA_LEN.saturating_sub(qh.len());
        let data = &quote_rest[..quote_rest.len().min(room)];
        let mut p = OutPacket::raw(src, dst, IpProtocol::Icmpv6, hop_limit, false, data);
        p.header_len = icmpv6::HEADER_LEN + qh.len();
        let bare = match *error {
            icmpv6::Repr::DstUnreachable { reason, .. } => icmpv6::Repr::DstUnreachable { reason, data: &[] },
            icmpv6::Repr::PacketTooBig { mtu, .. } => icmpv6::Repr::PacketTooBig { mtu, data: &[] },
            icmpv6::Repr::TimeExceeded { reason, .. } => icmpv6::Repr::TimeExceeded { reason, data: &[] },
            icmpv6::Repr::ParamProblem { reason, pointer, .. } => {
                icmpv6::Repr::ParamProblem { reason, pointer, data: &[] }
            }
            icmpv6::Repr::EchoRequest { .. } | icmpv6::Repr::EchoReply { .. } | icmpv6::Repr::Ndp(_) => {
                icmpv6::Repr::ParamProblem { reason: ParamProblem::ErroneousHeaderField, pointer: 0, data: &[] }
            }
        };
        bare.emit(&mut icmpv6::Packet::new_unchecked(&mut p.header[..icmpv6::HEADER_LEN]), &src, &dst, false);
        p.header[icmpv6::HEADER_LEN..p.header_len].copy_from_slice(qh);
        p.finish_icmpv6(compute_checksum);
        p
    }

    /// Fills the checksum over the pseudo-header, header and data (the
    /// header length is even, so the sums combine).
    fn finish_icmpv6(&mut self, compute_checksum: bool) {
        use crate::wire::checksum;
        icmpv6::Packet::new_unchecked(&mut self.header[..icmpv6::HEADER_LEN]).set_checksum(0);
        if compute_checksum {
            let len = (self.header_len + self.data.len()) as u32;
            let (s, d) = (IpAddress::V6(self.src), IpAddress::V6(self.dst));
            let sum = checksum::combine(&[
                checksum::pseudo_header(&s, &d, IpProtocol::Icmpv6, len),
                checksum::data(&self.header[..self.header_len]),
                checksum::data(self.data),
            ]);
            icmpv6::Packet::new_unchecked(&mut self.header[..icmpv6::HEADER_LEN]).set_checksum(checksum::finish(sum));
        }
    }
}

/// Writes one frame carrying IP payload bytes `[offset, offset + len)` of
/// `packet`, behind a fragment header when `fragment` is given (ident,
/// more fragments).
fn write_ipv6_frame(
    link: &Link,
    buf: &mut [u8],
    dst: EthernetAddress,
    packet: &OutPacket<'_, Ipv6Address>,
    fragment: Option<(u32, bool)>,
    offset: usize,
    len: usize,
) {
    let eth_len = link.write_eth(buf, dst, ethernet::EtherType::Ipv6);
    let frag_len = if fragment.is_some() { ipv6fragment::HEADER_LEN } else { 0 };
    let next_header = if fragment.is_some() { IpProtocol::Ipv6Frag } else { packet.protocol };
    let repr = ipv6::Repr::new(packet.src, packet.dst, next_header, frag_len + len, packet.ttl);
    let ip = &mut buf[eth_len..eth_len + ipv6::HEADER_LEN + frag_len + len];
    repr.emit(&mut ipv6::Packet::new_unchecked(&mut *ip));
    if let Some((ident, more_frags)) = fragment {
        let frag = ipv6fragment::Repr { next_header: packet.protocol, frag_offset: offset as u16, more_frags, ident };
        frag.emit(&mut ipv6fragment::Header::new_unchecked(&mut ip[ipv6::HEADER_LEN..ipv6::HEADER_LEN + frag_len]));
    }
    packet.copy_payload(offset, &mut ip[ipv6::HEADER_LEN + frag_len..]);
}

impl<'a> Inner<'a> {
    /// The hop limit of datagrams we originate.
    pub(crate) fn hop_limit6(&self) -> u8 {
        self.ipv6.as_ref().map_or(64, |v6| v6.autoconf.hop_limit())
    }

    /// The IPv6 link MTU: the device's, lowered by a router's MTU option
    /// (never raised: a device below the IPv6 minimum of 1280 only gets
    /// what fits, in fragments).
    pub(crate) fn link_mtu6(&self) -> usize {
        let advertised =
            self.ipv6.as_ref().and_then(|v6| v6.autoconf.advertised_mtu()).map_or(usize::MAX, |m| m as usize);
        self.caps.ip_mtu.min(advertised)
    }

    /// The MTU towards `dst`: the link's, or lower after a packet too big.
    pub(crate) fn mtu_to(&self, dst: Ipv6Address, now: Instant) -> usize {
        let link = self.link_mtu6();
        self.ipv6.as_ref().and_then(|v6| v6.path_mtu(dst, now)).map_or(link, |p| p.min(link))
    }

    /// The TCP payload one segment with a bare header carries to `remote`.
    pub(crate) fn tcp_mss6(&self, remote: Ipv6Address) -> usize {
        // Poll time is not at hand here: an expired entry counts until the
        // next poll forgets it, which only errs on the small side.
        let link = self.link_mtu6();
        let mtu = self
            .ipv6
            .as_ref()
            .and_then(|v6| v6.path_mtus.iter().flatten().find(|p| p.dst == remote).map(|p| p.mtu))
            .map_or(link, |p| p.min(link));
        mtu.saturating_sub(ipv6::HEADER_LEN + crate::wire::tcp::HEADER_LEN).max(1)
    }

    /// The source address for `dst` (RFC 6724, simplified).
    pub(crate) fn source_for6(&self, dst: Ipv6Address) -> Option<Ipv6Address> {
        self.ipv6.as_ref().and_then(|v6| v6.autoconf.source_for(dst))
    }

    fn next_hop6(&self, dst: Ipv6Address, now: Instant) -> Option<Ipv6Address> {
        let v6 = self.ipv6.as_ref()?;
        if v6.autoconf.is_on_link(dst, now) {
            Some(dst)
        } else {
            v6.autoconf.default_router(now).or(v6.gateway)
        }
    }

    /// Routes, resolves and sends an IPv6 datagram; one for a neighbour
    /// not yet resolved is queued until NDP answers (that counts as sent).
    pub(crate) fn send_ipv6<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        packet: &OutPacket<'_, Ipv6Address>,
    ) -> Result<(), SendError> {
        if packet.dst.is_multicast() {
            return self.emit_ipv6(now, tokens, packet.dst.multicast_mac(), packet);
        }
        let Some(hop) = self.next_hop6(packet.dst, now) else {
            self.stats.ipv6.tx_no_route += 1;
            return Err(SendError::Dropped);
        };
        let Some(v6) = self.ipv6.as_mut() else { return Err(SendError::Dropped) };
        match v6.ndp.lookup(hop, now) {
            Lookup::Found(mac) => self.emit_ipv6(now, tokens, mac, packet),
            lookup => {
                if packet.payload_len() > ipv6::MAX_PAYLOAD_LEN {
                    self.stats.ipv6.tx_too_big += 1;
                    return Err(SendError::Dropped);
                }
                if !packet.queue_until_resolved(pending, hop, false) {
                    self.stats.ndp.pending_queue_full += 1;
                    return Err(SendError::Dropped);
                }
                match lookup {
                    Lookup::Pending => {}
                    Lookup::Unknown | Lookup::Failed | Lookup::Found(_) => {
                        self.resolution_started = true;
                        if v6.ndp.start(hop, now) == Some(true) {
                            self.stats.ndp.cache_evictions += 1;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Sends an IPv6 datagram to a known link address, in fragments when
    /// it exceeds the path MTU (only the source fragments in IPv6).
    pub(crate) fn emit_ipv6<T: TxTokens>(
        &mut self,
        now: Instant,
        tokens: &mut T,
        dst_mac: EthernetAddress,
        packet: &OutPacket<'_, Ipv6Address>,
    ) -> Result<(), SendError> {
        // Every IPv6 frame passes here: one that waited (for neighbour
        // discovery, for a retransmission) may carry a source that has
        // since expired or lost DAD, and such an address is no source.
        if !packet.src.is_unspecified() && !self.ipv6.as_ref().is_some_and(|v6| v6.autoconf.is_assigned(packet.src)) {
            self.stats.ipv6.tx_source_gone += 1;
            return Err(SendError::Dropped);
        }
        let link = self.link();
        let payload_len = packet.payload_len();
        if payload_len > ipv6::MAX_PAYLOAD_LEN {
            self.stats.ipv6.tx_too_big += 1;
            return Err(SendError::Dropped);
        }
        let mtu = self.mtu_to(packet.dst, now);
        if ipv6::HEADER_LEN + payload_len <= mtu {
            let Some(token) = tokens.next() else {
                self.stats.tx.device_busy += 1;
                return Err(SendError::DeviceBusy);
            };
            let len = link.eth_header_len() + ipv6::HEADER_LEN + payload_len;
            token.consume(len, |buf| write_ipv6_frame(&link, buf, dst_mac, packet, None, 0, payload_len));
            tokens.count();
            self.stats.ipv6.tx_packets += 1;
            return Ok(());
        }
        let step = mtu.saturating_sub(ipv6::HEADER_LEN + ipv6fragment::HEADER_LEN) & !7;
        if step == 0 {
            self.stats.ipv6.tx_too_big += 1;
            return Err(SendError::Dropped);
        }
        if !tokens.multi() {
            return Err(SendError::NeedsMultiFrame);
        }
        let Some(v6) = self.ipv6.as_mut() else { return Err(SendError::Dropped) };
        let ident = v6.take_ident();
        let headers_len = link.eth_header_len() + ipv6::HEADER_LEN + ipv6fragment::HEADER_LEN;
        let stats = &mut self.stats;
        send_fragments(
            tokens,
            &mut stats.tx,
            &mut stats.ipv6.tx_fragments,
            payload_len,
            step,
            headers_len,
            |buf, offset, len, more| write_ipv6_frame(&link, buf, dst_mac, packet, Some((ident, more)), offset, len),
        )?;
        self.stats.ipv6.tx_fragmented += 1;
        self.stats.ipv6.tx_packets += 1;
        Ok(())
    }

    /// Sends an ICMPv6 error to `dst` about a packet it sent us (rate
    /// limited; never to a multicast or unspecified source).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_icmpv6_error<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        dst: Ipv6Address,
        original_dst: Ipv6Address,
        error: &icmpv6::Repr,
        quote_header: &[u8],
        quote_rest: &[u8],
    ) {
        if !dst.is_unicast() {
            return;
        }
        let src = if original_dst.is_multicast() { self.source_for6(dst) } else { Some(original_dst) };
        let Some(src) = src.filter(|s| self.ipv6.as_ref().is_some_and(|v6| v6.autoconf.is_assigned(*s))) else {
            return;
        };
        if !self.icmp_errors.try_take(now) {
            self.stats.icmpv6.errors_rate_limited += 1;
            return;
        }
        let checksum = self.caps.checksum.icmpv4.tx();
        let hop_limit = self.hop_limit6();
        let packet = OutPacket::icmpv6_error(src, dst, hop_limit, error, quote_header, quote_rest, checksum);
        match self.send_ipv6(now, pending, tokens, &packet) {
            Ok(()) => self.stats.icmpv6.errors_sent += 1,
            Err(SendError::NeedsMultiFrame) => self.stats.tx.reply_dropped += 1,
            Err(SendError::DeviceBusy | SendError::Dropped) => {}
        }
    }

    /// Sends an NDP message straight to a link address.
    fn emit_ndp<T: TxTokens>(
        &mut self,
        now: Instant,
        tokens: &mut T,
        src: Ipv6Address,
        dst: Ipv6Address,
        dst_mac: EthernetAddress,
        repr: ndp::Repr,
    ) -> Result<(), SendError> {
        let packet = OutPacket::icmpv6(src, dst, ndp::HOP_LIMIT, &icmpv6::Repr::Ndp(repr), true);
        self.emit_ipv6(now, tokens, dst_mac, &packet)
    }

    /// Sends an MLD report (RFC 3810 5.2.13-14): from the link-local
    /// address, or the unspecified one while it is tentative; hop limit 1
    /// behind a hop-by-hop header with the router alert option.
    fn send_mld_report<T: TxTokens>(&mut self, now: Instant, tokens: &mut T, report: Report) -> Result<(), SendError> {
        // Next header ICMPv6, length 0 (8 bytes), router alert (MLD), PadN.
        const HOP_BY_HOP: [u8; 8] = [58, 0, 5, 2, 0, 0, 1, 0];
        let Some(v6) = self.ipv6.as_ref() else { return Ok(()) };
        let src = v6.autoconf.link_local().unwrap_or(Ipv6Address::UNSPECIFIED);
        let (dst, len) = match report {
            Report::V2(..) => (mld::ALL_MLDV2_ROUTERS, mld::report_len(1)),
            Report::V1(group) => (group, mld::QUERY_V1_LEN),
            Report::DoneV1(_) => (Ipv6Address::LINK_LOCAL_ALL_ROUTERS, mld::QUERY_V1_LEN),
        };
        let mut packet = OutPacket::raw(src, dst, IpProtocol::HopByHop, mld::HOP_LIMIT, false, &[]);
        packet.header_len = HOP_BY_HOP.len() + len;
        packet.header[..HOP_BY_HOP.len()].copy_from_slice(&HOP_BY_HOP);
        let message = &mut packet.header[HOP_BY_HOP.len()..packet.header_len];
        match report {
            Report::V2(record, group) => mld::emit_report(message, &src, &dst, &[(record, group)]),
            Report::V1(group) => mld::emit_report_v1(message, &src, &dst, group),
            Report::DoneV1(group) => mld::emit_done_v1(message, &src, &dst, group),
        }
        self.emit_ipv6(now, tokens, dst.multicast_mac(), &packet)
    }

    /// Brings the MLD groups in line with the addresses and sends the
    /// reports due.
    fn mld_timers<T: TxTokens>(&mut self, now: Instant, tokens: &mut T) -> Result<(), SendError> {
        let Some(v6) = self.ipv6.as_mut() else { return Ok(()) };
        if v6.autoconf.is_disabled() {
            v6.mld.clear();
            return Ok(());
        }
        // (With MLD off, no groups are wanted and the table stays empty.)
        let (groups, n) = v6.wanted_groups();
        if !v6.mld.in_sync(&groups[..n]) {
            v6.mld.sync(&groups[..n], now);
        }
        loop {
            let Some(v6) = self.ipv6.as_mut() else { return Ok(()) };
            let Some(due) = v6.mld.next_due(now, |max| v6.autoconf.random_delay(max)) else { break };
            if let Err(e) = self.send_mld_report(now, tokens, due.report) {
                if let Some(v6) = self.ipv6.as_mut() {
                    v6.mld.unsend(due, now);
                }
                return Err(e);
            }
            self.stats.mld.reports_sent += 1;
            if matches!(due.report, Report::V2(mld::RecordType::ChangeToInclude, _) | Report::DoneV1(_)) {
                self.stats.mld.leaves_sent += 1;
            }
        }
        Ok(())
    }

    /// MLD reports, DAD probes, router solicitations and neighbour
    /// solicitations that are due.
    #[inline(never)]
    pub(crate) fn ipv6_timers<T: TxTokens>(&mut self, now: Instant, tokens: &mut T) -> Result<(), SendError> {
        let mac = self.config.mac;
        if let Some(v6) = self.ipv6.as_mut() {
            v6.expire_path_mtus(now);
        }
        // Joined before the DAD probes go out (RFC 4862 5.4.2).
        self.mld_timers(now, tokens)?;
        loop {
            let Some(v6) = self.ipv6.as_mut() else { return Ok(()) };
            let Some(due) = v6.autoconf.next_due(now) else { break };
            let (src, dst, repr) = match due {
                Due::DadProbe(target) => (
                    Ipv6Address::UNSPECIFIED,
                    target.solicited_node(),
                    ndp::Repr::NeighborSolicit { target_addr: target, src_lladdr: None },
                ),
                Due::RouterSolicitation { source } => {
                    let src_lladdr = (!source.is_unspecified()).then_some(mac);
                    (source, Ipv6Address::LINK_LOCAL_ALL_ROUTERS, ndp::Repr::RouterSolicit { src_lladdr })
                }
            };
            if let Err(e) = self.emit_ndp(now, tokens, src, dst, dst.multicast_mac(), repr) {
                if let Some(v6) = self.ipv6.as_mut() {
                    v6.autoconf.unsend(due);
                }
                return Err(e);
            }
            match due {
                Due::DadProbe(_) => self.stats.ndp.dad_probes_sent += 1,
                Due::RouterSolicitation { .. } => self.stats.ndp.router_solicitations_sent += 1,
            }
        }
        // Addresses that expired just now are left.
        self.mld_timers(now, tokens)?;
        loop {
            let Some(v6) = self.ipv6.as_mut() else { return Ok(()) };
            let Some(solicit) = v6.ndp.next_due(now) else { break };
            let (target, dst, dst_mac) = match solicit {
                Solicit::Multicast(target) => {
                    (target, target.solicited_node(), target.solicited_node().multicast_mac())
                }
                Solicit::Unicast(target, mac) => (target, target, mac),
                Solicit::GaveUp(_) => continue,
            };
            let Some(src) = self.source_for6(target) else { continue };
            let repr = ndp::Repr::NeighborSolicit { target_addr: target, src_lladdr: Some(mac) };
            if let Err(e) = self.emit_ndp(now, tokens, src, dst, dst_mac, repr) {
                if let Some(v6) = self.ipv6.as_mut() {
                    v6.ndp.unsend(target);
                }
                return Err(e);
            }
            self.stats.ndp.solicitations_sent += 1;
        }
        Ok(())
    }

    /// An echo request from an ICMP socket to an IPv6 destination.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_echo_request6<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        dst: Ipv6Address,
        ident: u16,
        seq_no: u16,
        data: &[u8],
    ) -> Result<(), SendError> {
        let Some(src) = self.source_for6(dst) else {
            self.stats.ipv6.tx_no_source += 1;
            return Ok(());
        };
        let request = icmpv6::Repr::EchoRequest { ident, seq_no, data };
        let packet = OutPacket::icmpv6(src, dst, self.hop_limit6(), &request, self.caps.checksum.icmpv4.tx());
        match self.send_ipv6(now, pending, tokens, &packet) {
            Err(SendError::DeviceBusy) => Err(SendError::DeviceBusy),
            Ok(()) | Err(SendError::Dropped | SendError::NeedsMultiFrame) => Ok(()),
        }
    }

    /// A datagram from a UDP socket to an IPv6 destination; only a busy
    /// device is an error (the datagram stays queued).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_udp6<T: TxTokens>(
        &mut self,
        now: Instant,
        pending: &mut PendingQueue<'_>,
        tokens: &mut T,
        port: u16,
        meta: &UdpMetadata,
        dst: Ipv6Address,
        data: &[u8],
    ) -> Result<(), SendError> {
        let src = match meta.local_address {
            Some(IpAddress::V6(a)) if !a.is_unspecified() => Some(a),
            Some(IpAddress::V6(_) | IpAddress::V4(_)) | None => self.source_for6(dst),
        };
        let Some(src) = src else {
            self.stats.ipv6.tx_no_source += 1;
            return Ok(());
        };
        let packet = OutPacket::udp(src, dst, self.hop_limit6(), port, meta.endpoint.port, data, true);
        match self.send_ipv6(now, pending, tokens, &packet) {
            Ok(()) => {
                self.stats.udp.tx_datagrams += 1;
                Ok(())
            }
            Err(SendError::DeviceBusy) => Err(SendError::DeviceBusy),
            Err(SendError::Dropped | SendError::NeedsMultiFrame) => Ok(()),
        }
    }
}
