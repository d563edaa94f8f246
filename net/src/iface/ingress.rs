//! The receive path: one Ethernet frame through ARP or IPv4 (reassembly
//! included) to ICMP, UDP and the sockets, plus the egress-phase work that
//! comes out of it (deferred echo replies, reassembly timeouts).
//!
//! Every header is parsed with a checked view before any field is read, and
//! every drop is counted under its reason.

use crate::socket::dhcpv4;
use crate::socket::set::{Socket, SocketSet};
use crate::socket::tcp::{rst_reply, TcpReply};
use crate::time::Instant;
use crate::wire::icmpv4::{self, Message};
use crate::wire::tcp::{Packet as TcpPacket, Repr as TcpRepr};
use crate::wire::{arp, ethernet, ipv4, udp};
use crate::wire::{checksum, Error, IpAddress, IpEndpoint, IpProtocol, Ipv4Address};

use super::egress::{OutPacket, TxTokens};
use super::interface::{is_icmp_error, v4_endpoint, Inner, PendingQueue, SendError};
use super::reassembly::{FragmentKey, Reassembler};
use super::stats::{FragmentCounters, TcpStats};

/// What the interface must do with a datagram after delivering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Done,
    /// An echo reply needs several frames: keep the reassembled request and
    /// answer it in the egress phase.
    HoldForReply,
}

impl Delivery {
    /// Frees the reassembly slot `index` unless its datagram is held.
    pub(crate) fn settle(self, reassembly: &mut Reassembler<'_>, index: usize) {
        match self {
            Delivery::Done => reassembly.release(index),
            Delivery::HoldForReply => {}
        }
    }
}

/// A received IPv4 datagram (whole or reassembled).
struct Datagram<'p> {
    src: Ipv4Address,
    dst: Ipv4Address,
    protocol: IpProtocol,
    /// Its IP header as received (synthesized for a reassembled datagram),
    /// for ICMP error quotes.
    header: &'p [u8],
    payload: &'p [u8],
    reassembled: bool,
}

/// Handles one received frame.
pub(crate) fn process_frame<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    reassembly: &mut Reassembler<'_>,
    now: Instant,
    frame: &[u8],
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) {
    let stats = &mut inner.stats.ethernet;
    let Ok(frame) = ethernet::Frame::new_checked(frame) else {
        stats.truncated += 1;
        return;
    };
    let Ok(eth) = ethernet::Repr::parse(&frame) else {
        stats.truncated += 1;
        return;
    };
    let dst = eth.dst_addr;
    let for_us =
        dst == inner.config.mac || dst.is_broadcast() || (dst.is_multicast() && inner.accepts_multicast_mac(dst));
    if !for_us {
        inner.stats.ethernet.not_for_us += 1;
        return;
    }
    match (eth.vlan.map(|t| t.vid), inner.config.vlan_id) {
        (None, None) => {}
        (Some(got), Some(want)) if got == want => {}
        _ => {
            inner.stats.ethernet.vlan_dropped += 1;
            return;
        }
    }
    let payload = frame.payload();
    match eth.ethertype {
        ethernet::EtherType::Arp => process_arp(inner, now, payload, tokens),
        ethernet::EtherType::Ipv4 => process_ipv4(inner, pending, reassembly, now, payload, sockets, tokens),
        ethernet::EtherType::Ipv6 if inner.ipv6.is_some() => {
            let looped = eth.src_addr == inner.config.mac;
            super::ipv6::process_ipv6(inner, pending, reassembly, now, payload, looped, sockets, tokens)
        }
        ethernet::EtherType::Ipv6 | ethernet::EtherType::Vlan | ethernet::EtherType::Unknown(_) => {
            inner.stats.ethernet.unknown_ethertype += 1
        }
    }
}

fn process_arp<T: TxTokens>(inner: &mut Inner<'_>, now: Instant, payload: &[u8], tokens: &mut T) {
    let Ok(packet) = arp::Packet::new_checked(payload) else {
        inner.stats.arp.malformed += 1;
        return;
    };
    let Ok(repr) = arp::Repr::parse(&packet) else {
        inner.stats.arp.malformed += 1;
        return;
    };
    let (sha, spa, tpa) = (repr.source_hardware_addr, repr.source_protocol_addr, repr.target_protocol_addr);
    // A probe (RFC 5227) has no sender address; anything else must be a
    // unicast address at a unicast MAC.
    if sha.is_multicast() || !(spa.is_unicast() || spa.is_unspecified()) {
        inner.stats.arp.malformed += 1;
        return;
    }
    match repr.operation {
        arp::Operation::Request => inner.stats.arp.requests_received += 1,
        arp::Operation::Reply | arp::Operation::Unknown(_) => inner.stats.arp.replies_received += 1,
    }
    if inner.has_address(spa) {
        if sha != inner.config.mac {
            inner.stats.arp.address_conflict += 1;
        }
        return;
    }
    let for_us = inner.has_address(tpa);
    if !spa.is_unspecified() {
        if for_us {
            if inner.neighbours.fill(spa, sha, now) {
                inner.stats.arp.cache_evictions += 1;
            }
        } else {
            inner.neighbours.update_existing(spa, sha, now);
        }
    }
    if !for_us {
        inner.stats.arp.not_for_us += 1;
        return;
    }
    if repr.operation == arp::Operation::Request {
        let reply = arp::Repr {
            operation: arp::Operation::Reply,
            source_hardware_addr: inner.config.mac,
            source_protocol_addr: tpa,
            target_hardware_addr: sha,
            target_protocol_addr: spa,
        };
        if inner.emit_arp(tokens, sha, &reply).is_ok() {
            inner.stats.arp.replies_sent += 1;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn process_ipv4<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    reassembly: &mut Reassembler<'_>,
    now: Instant,
    bytes: &[u8],
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) {
    let stats = &mut inner.stats.ipv4;
    stats.rx_packets += 1;
    let packet = match ipv4::Packet::new_checked(bytes) {
        Ok(p) => p,
        Err(e) => {
            match (bytes.first().map(|b| b >> 4), e) {
                (Some(v), _) if v != 4 => stats.bad_version += 1,
                (_, Error::Truncated) => stats.truncated += 1,
                _ => stats.bad_length += 1,
            }
            return;
        }
    };
    if inner.caps.checksum.ipv4.rx() && !packet.verify_checksum() {
        stats.bad_checksum += 1;
        return;
    }
    let fragment_end = usize::from(packet.frag_offset()) + packet.payload().len();
    if packet.is_fragment() && fragment_end > ipv4::MAX_PACKET_LEN {
        stats.fragments_received += 1;
        stats.fragments_too_big += 1;
        return;
    }
    // `new_checked` above validated the header.
    let Ok(repr) = ipv4::Repr::parse_checked(&packet, false) else {
        stats.bad_length += 1;
        return;
    };
    let src = repr.src_addr;
    if src.is_broadcast() || src.is_multicast() || src.is_loopback() || inner.is_broadcast(src) {
        inner.stats.ipv4.bad_source += 1;
        return;
    }
    let dst = repr.dst_addr;
    // Before it has an address the interface takes UDP to any address, so a
    // DHCP server may unicast its offer to the address it offers.
    let unconfigured_udp = !inner.has_any_address() && repr.protocol == IpProtocol::Udp;
    let for_us = inner.has_address(dst) || inner.is_broadcast(dst) || inner.in_group(dst) || unconfigured_udp;
    if !for_us {
        inner.stats.ipv4.not_for_us += 1;
        return;
    }
    if repr.ttl == 0 {
        inner.stats.ipv4.ttl_expired += 1;
        return;
    }
    if !repr.is_fragment() {
        let datagram = Datagram {
            src: repr.src_addr,
            dst,
            protocol: repr.protocol,
            header: packet.header(),
            payload: packet.payload(),
            reassembled: false,
        };
        // Whole datagrams never need holding: one frame in, one frame out.
        let _ = deliver(inner, pending, now, &datagram, sockets, tokens);
        return;
    }

    inner.stats.ipv4.fragments_received += 1;
    let key = FragmentKey::v4(repr.src_addr, dst, repr.protocol, repr.ident);
    let offset = usize::from(repr.frag_offset);
    let added = reassembly.add(now, key, offset, repr.more_frags, packet.header(), packet.payload());
    let Some(index) = inner.stats.ipv4.count_fragment(added, reassembly.take_evictions()) else { return };
    let Some((key, payload)) = reassembly.datagram(index) else { return };
    let mut header = [0u8; ipv4::HEADER_LEN];
    synthesize_header(repr.src_addr, dst, &key, payload.len(), repr.ttl, &mut header);
    let datagram =
        Datagram { src: repr.src_addr, dst, protocol: key.protocol, header: &header, payload, reassembled: true };
    deliver(inner, pending, now, &datagram, sockets, tokens).settle(reassembly, index);
}

/// The header a reassembled datagram would have had unfragmented.
fn synthesize_header(
    src: Ipv4Address,
    dst: Ipv4Address,
    key: &FragmentKey,
    payload_len: usize,
    ttl: u8,
    out: &mut [u8; ipv4::HEADER_LEN],
) {
    let ident = key.ident as u16;
    let repr = ipv4::Repr { ident, ..ipv4::Repr::new(src, dst, key.protocol, payload_len, ttl) };
    repr.emit(&mut ipv4::Packet::new_unchecked(&mut out[..]), true);
}

fn deliver<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) -> Delivery {
    match datagram.protocol {
        IpProtocol::Icmp => process_icmp(inner, pending, now, datagram, sockets, tokens),
        IpProtocol::Udp => {
            process_udp(inner, pending, now, datagram, sockets, tokens);
            Delivery::Done
        }
        IpProtocol::Tcp => {
            process_tcp(inner, pending, now, datagram, sockets, tokens);
            Delivery::Done
        }
        IpProtocol::Icmpv6
        | IpProtocol::HopByHop
        | IpProtocol::Ipv6Route
        | IpProtocol::Ipv6Frag
        | IpProtocol::Ipv6NoNxt
        | IpProtocol::Ipv6Opts
        | IpProtocol::Unknown(_) => {
            inner.stats.ipv4.unknown_protocol += 1;
            Delivery::Done
        }
    }
}

fn process_icmp<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) -> Delivery {
    let stats = &mut inner.stats.icmp;
    stats.rx_messages += 1;
    let Ok(packet) = icmpv4::Packet::new_checked(datagram.payload) else {
        stats.truncated += 1;
        return Delivery::Done;
    };
    let repr = match icmpv4::Repr::parse(&packet, inner.caps.checksum.icmpv4.rx()) {
        Ok(r) => r,
        Err(Error::Checksum) => {
            stats.bad_checksum += 1;
            return Delivery::Done;
        }
        Err(Error::Unsupported) => {
            stats.unknown_type += 1;
            return Delivery::Done;
        }
        Err(Error::Truncated | Error::Malformed) => {
            stats.truncated += 1;
            return Delivery::Done;
        }
    };
    match repr {
        icmpv4::Repr::EchoRequest { ident, seq_no, data } => {
            stats.echo_requests_received += 1;
            let to_us = inner.has_address(datagram.dst);
            if !to_us && !inner.config.reply_to_broadcast_ping {
                inner.stats.icmp.echo_broadcast_ignored += 1;
                return Delivery::Done;
            }
            let src = if to_us { Some(datagram.dst) } else { inner.source_for(datagram.src) };
            let Some(src) = src else { return Delivery::Done };
            if !datagram.src.is_unicast() {
                return Delivery::Done;
            }
            let checksum = inner.caps.checksum.icmpv4.tx();
            let reply = OutPacket::icmp_echo(src, datagram.src, inner.config.ttl, true, ident, seq_no, data, checksum);
            match inner.send_ip(now, pending, tokens, &reply) {
                Ok(()) => inner.stats.icmp.echo_replied += 1,
                Err(SendError::NeedsMultiFrame) if datagram.reassembled && to_us => {
                    return Delivery::HoldForReply;
                }
                Err(SendError::NeedsMultiFrame) => inner.stats.tx.reply_dropped += 1,
                Err(SendError::DeviceBusy | SendError::Dropped) => {}
            }
        }
        icmpv4::Repr::EchoReply { ident, seq_no, data } => {
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
        // Errors about our own datagrams: counted. (TCP and UDP sockets
        // could be told here: the quote names the conversation.)
        icmpv4::Repr::DstUnreachable { .. } | icmpv4::Repr::TimeExceeded { .. } | icmpv4::Repr::ParamProblem { .. } => {
            stats.errors_received += 1;
        }
    }
    Delivery::Done
}

fn process_udp<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) {
    let (src, dst) = (IpAddress::V4(datagram.src), IpAddress::V4(datagram.dst));
    let Some(repr) = parse_udp(inner, datagram.payload, &src, &dst) else { return };
    let local = v4_endpoint(datagram.dst, repr.dst_port);
    let remote = v4_endpoint(datagram.src, repr.src_port);
    let mut delivered = false;
    for (_, socket) in sockets.sockets_mut() {
        match socket {
            Socket::Udp(s) if s.accepts(local, remote) => {
                if !s.process(local, remote, repr.payload) {
                    inner.stats.udp.socket_buffer_full += 1;
                }
                delivered = true;
                break;
            }
            Socket::Dhcpv4(client) if repr.dst_port == dhcpv4::CLIENT_PORT && repr.src_port == dhcpv4::SERVER_PORT => {
                client.process(now, datagram.src, repr.payload);
                if let Some(event) = client.take_event() {
                    inner.apply_dhcp(event);
                }
                delivered = true;
                break;
            }
            // Resolvers share the interface's DNS port; each ignores
            // answers to queries it did not send.
            Socket::Dns(resolver) if repr.dst_port == inner.dns_port => {
                resolver.process(now, remote, repr.payload);
                delivered = true;
            }
            Socket::Udp(_)
            | Socket::Icmp(_)
            | Socket::Dhcpv4(_)
            | Socket::Dns(_)
            | Socket::Tcp(_)
            | Socket::TcpListener(_) => {}
        }
    }
    if delivered {
        return;
    }
    inner.stats.udp.no_socket += 1;
    // No port unreachable for broadcasts, multicasts or odd sources.
    if inner.has_address(datagram.dst) && datagram.src.is_unicast() {
        inner.send_icmp_error(
            now,
            pending,
            tokens,
            datagram.dst,
            datagram.src,
            Message::DstUnreachable,
            icmpv4::DstUnreachable::PortUnreachable.into(),
            datagram.header,
            datagram.payload,
        );
    }
}

/// Parses a UDP datagram of either family, counting it or why it was
/// dropped.
pub(crate) fn parse_udp<'p>(
    inner: &mut Inner<'_>,
    payload: &'p [u8],
    src: &IpAddress,
    dst: &IpAddress,
) -> Option<udp::Repr<'p>> {
    let stats = &mut inner.stats.udp;
    let packet = match udp::Packet::new_checked(payload) {
        Ok(p) => p,
        Err(Error::Truncated) => {
            stats.truncated += 1;
            return None;
        }
        Err(_) => {
            stats.malformed += 1;
            return None;
        }
    };
    // Over IPv6 the checksum is mandatory (RFC 8200 8.1): a zero one never
    // verifies. (Not checked when the device vouched for it.)
    match udp::Repr::parse(&packet, src, dst, inner.caps.checksum.udp.rx()) {
        Ok(repr) => {
            stats.rx_datagrams += 1;
            Some(repr)
        }
        Err(Error::Checksum) => {
            stats.bad_checksum += 1;
            None
        }
        Err(_) => {
            stats.malformed += 1;
            None
        }
    }
}

/// Hands a segment to the socket or listener it belongs to and sends the
/// socket's immediate answer; a segment nobody wants gets an RST.
fn process_tcp<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    datagram: &Datagram,
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) {
    let unicast = inner.has_address(datagram.dst) && datagram.src.is_unicast();
    let (src, dst) = (IpAddress::V4(datagram.src), IpAddress::V4(datagram.dst));
    process_tcp_segment(inner, pending, now, src, dst, unicast, datagram.payload, sockets, tokens);
}

/// The family-neutral part of [`process_tcp`]: `unicast` says whether the
/// segment came from a unicast source to one of our addresses.
#[allow(clippy::too_many_arguments)]
pub(crate) fn process_tcp_segment<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    src: IpAddress,
    dst: IpAddress,
    unicast: bool,
    bytes: &[u8],
    sockets: &mut SocketSet<'_>,
    tokens: &mut T,
) {
    let stats = &mut inner.stats.tcp;
    let packet = match TcpPacket::new_checked(bytes) {
        Ok(p) => p,
        Err(Error::Truncated) => {
            stats.truncated += 1;
            return;
        }
        Err(_) => {
            stats.malformed += 1;
            return;
        }
    };
    // With software checksums, a segment for a connection with a payload
    // worth it is summed by the socket that takes it: it sums in-order data
    // while copying it into its buffer (one pass over the payload, not two)
    // and leaves no trace when the sum fails. Every other segment is
    // verified here before anything acts on it (a small payload at once
    // with its header). `header_sum` is the part still owed.
    let verify = inner.caps.checksum.tcp.rx();
    let deferred = verify && packet.payload().len() >= checksum::COPY_AND_SUM_MIN;
    let header_sum = deferred.then(|| packet.header_sum(&src, &dst));
    // Parsed in place (a header returned by value is moved once more).
    let mut parsed = TcpRepr::default();
    if parsed.parse_in_place(&packet, &src, &dst, verify && !deferred).is_err() {
        count_tcp_parse_error(stats, &packet, &src, &dst, verify);
        return;
    }
    let repr = &parsed;
    let payload = packet.payload();
    // TCP is unicast only (RFC 9293 3.9.1.1 says to drop the rest).
    if !unicast {
        if checksum::owed_sum_verifies(header_sum, payload) {
            stats.not_unicast += 1;
        } else {
            stats.bad_checksum += 1;
        }
        return;
    }
    let local = IpEndpoint::new(dst, repr.dst_port);
    let remote = IpEndpoint::new(src, repr.src_port);
    // A connection that owns the 4-tuple wins over a listener on its port
    // (a socket in LISTEN has no remote endpoint yet).
    let connected = sockets.sockets_mut().find_map(|(_, socket)| match socket {
        Socket::Tcp(s) if s.owns_tuple(&local, &remote) => Some(s),
        Socket::Tcp(_)
        | Socket::TcpListener(_)
        | Socket::Udp(_)
        | Socket::Icmp(_)
        | Socket::Dhcpv4(_)
        | Socket::Dns(_) => None,
    });
    // Each owner's answer is sent where it is returned.
    let mut verified = true;
    if let Some(s) = connected {
        let reply = s.process_with_sum(now, local, remote, repr, payload, header_sum, &mut verified);
        send_tcp_answer(inner, pending, now, tokens, verified, reply.as_ref());
        return;
    }
    for (_, socket) in sockets.sockets_mut() {
        match socket {
            Socket::Tcp(s) if s.accepts(local, remote, repr) => {
                verified = checksum::owed_sum_verifies(header_sum, payload);
                let reply = if verified { s.process(now, local, remote, repr, payload) } else { None };
                send_tcp_answer(inner, pending, now, tokens, verified, reply.as_ref());
                return;
            }
            Socket::TcpListener(l) if l.accepts(local, remote, repr) => {
                let reply = l.process_with_sum(now, local, remote, repr, payload, header_sum, &mut verified);
                send_tcp_answer(inner, pending, now, tokens, verified, reply.as_ref());
                return;
            }
            Socket::Tcp(_)
            | Socket::TcpListener(_)
            | Socket::Udp(_)
            | Socket::Icmp(_)
            | Socket::Dhcpv4(_)
            | Socket::Dns(_) => {}
        }
    }
    let stats = &mut inner.stats.tcp;
    if !checksum::owed_sum_verifies(header_sum, payload) {
        stats.bad_checksum += 1;
        return;
    }
    stats.rx_segments += 1;
    stats.no_socket += 1;
    // `rst_reply` never answers an RST with an RST.
    if let Some(rst) = rst_reply(local, remote, repr) {
        if send_tcp_reply(inner, pending, now, tokens, &rst) {
            inner.stats.tcp.rst_sent += 1;
        }
    }
}

/// Counts a segment whose header did not parse, as a parse that verifies
/// the checksum (when it is computed in software) would: a bad checksum
/// before a bad flag or option.
#[cold]
fn count_tcp_parse_error(
    stats: &mut TcpStats,
    packet: &TcpPacket<&[u8]>,
    src: &IpAddress,
    dst: &IpAddress,
    verify: bool,
) {
    match TcpRepr::parse(packet, src, dst, verify) {
        Err(Error::Checksum) => stats.bad_checksum += 1,
        Err(Error::Truncated) => stats.truncated += 1,
        Err(Error::Malformed | Error::Unsupported) | Ok(_) => stats.malformed += 1,
    }
}

/// Counts a segment a socket took (or that failed its checksum there:
/// not `verified`) and sends the socket's immediate answer, if it has one.
#[inline]
fn send_tcp_answer<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    tokens: &mut T,
    verified: bool,
    reply: Option<&TcpReply>,
) {
    if !verified {
        inner.stats.tcp.bad_checksum += 1;
        return;
    }
    inner.stats.tcp.rx_segments += 1;
    if let Some(reply) = reply {
        if send_tcp_reply(inner, pending, now, tokens, reply) {
            inner.stats.tcp.replies_sent += 1;
        }
    }
}

/// Sends a header-only segment; whether it went out (or waits for ARP).
fn send_tcp_reply<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    now: Instant,
    tokens: &mut T,
    reply: &TcpReply,
) -> bool {
    let sent = match (reply.local.addr, reply.remote.addr) {
        (IpAddress::V4(src), IpAddress::V4(dst)) => {
            inner.send_tcp_segment(now, pending, tokens, src, dst, &reply.repr, &[])
        }
        (IpAddress::V6(src), IpAddress::V6(dst)) => {
            // Summed here: device checksum offload covers IPv4 TCP only.
            let packet = OutPacket::tcp(src, dst, inner.hop_limit6(), &reply.repr, &[], true);
            inner.send_ipv6(now, pending, tokens, &packet)
        }
        (IpAddress::V4(_), IpAddress::V6(_)) | (IpAddress::V6(_), IpAddress::V4(_)) => return false,
    };
    // A lost answer is like a lost segment: the peer retransmits.
    match sent {
        Ok(()) => {
            inner.stats.tcp.tx_segments += 1;
            true
        }
        Err(SendError::DeviceBusy | SendError::Dropped | SendError::NeedsMultiFrame) => false,
    }
}

/// Answers echo requests that were held because their reply needs several
/// frames.
pub(crate) fn send_held_echo_replies<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    reassembly: &mut Reassembler<'_>,
    now: Instant,
    tokens: &mut T,
) -> Result<(), SendError> {
    loop {
        let Some(index) = reassembly.held().next() else { break };
        if let Some((key, payload)) = reassembly.datagram(index) {
            let packet = icmpv4::Packet::new_checked(payload).ok();
            let addrs = key.v4_addrs();
            if addrs.is_none() {
                super::ipv6::send_held_echo_reply6(inner, pending, now, tokens, &key, payload)?;
            } else if let (Some(p), Some((src, dst))) = (packet.filter(|p| p.msg_type() == Message::EchoRequest), addrs)
            {
                let checksum = inner.caps.checksum.icmpv4.tx();
                let data = &payload[icmpv4::HEADER_LEN..];
                let reply = OutPacket::icmp_echo(
                    dst,
                    src,
                    inner.config.ttl,
                    true,
                    p.echo_ident(),
                    p.echo_seq_no(),
                    data,
                    checksum,
                );
                match inner.send_ip(now, pending, tokens, &reply) {
                    Ok(()) => inner.stats.icmp.echo_replied += 1,
                    Err(SendError::DeviceBusy) => return Err(SendError::DeviceBusy),
                    Err(SendError::Dropped | SendError::NeedsMultiFrame) => inner.stats.tx.reply_dropped += 1,
                }
            }
        }
        reassembly.release(index);
    }
    Ok(())
}

/// Drops timed-out reassemblies, with ICMP time exceeded (code 1) to the
/// sender when the first fragment had come (RFC 792), unless the datagram
/// was itself an ICMP error or was not addressed to us alone.
pub(crate) fn expire_reassembly<T: TxTokens>(
    inner: &mut Inner<'_>,
    pending: &mut PendingQueue<'_>,
    reassembly: &mut Reassembler<'_>,
    now: Instant,
    tokens: &mut T,
) -> Result<(), SendError> {
    while let Some(expired) = reassembly.next_expired(now) {
        if !expired.incomplete {
            inner.stats.tx.reply_dropped += 1;
            continue;
        }
        let key = expired.key;
        let Some((src, dst)) = key.v4_addrs() else {
            super::ipv6::reassembly_timed_out6(inner, pending, now, tokens, &expired);
            continue;
        };
        inner.stats.ipv4.fragments_timed_out += 1;
        let quote = expired.quote();
        if !inner.config.reassembly_time_exceeded || quote.is_empty() {
            continue;
        }
        if !inner.has_address(dst) || !src.is_unicast() {
            continue;
        }
        let header_len = ipv4::Packet::new_unchecked(quote).header_len().min(quote.len());
        let (header, payload) = quote.split_at(header_len);
        if key.protocol == IpProtocol::Icmp && payload.first().is_some_and(|&t| is_icmp_error(t)) {
            continue;
        }
        inner.send_icmp_error(
            now,
            pending,
            tokens,
            dst,
            src,
            Message::TimeExceeded,
            icmpv4::TimeExceeded::FragReassembly.into(),
            header,
            payload,
        );
    }
    Ok(())
}
