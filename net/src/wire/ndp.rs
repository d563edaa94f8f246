//! Neighbour discovery (RFC 4861): the bodies of router solicitation and
//! advertisement, neighbour solicitation and advertisement and redirect
//! messages, and their options. The fixed ICMPv6 part (type, code,
//! checksum) is [`super::icmpv6`]'s.
//!
//! ```text
//! RS:  | 133 | 0 | checksum | reserved (4)                                | options
//! RA:  | 134 | 0 | checksum | hop limit | M O | router lifetime (2)     |
//!      | reachable time (4) | retrans timer (4)                            | options
//! NS:  | 135 | 0 | checksum | reserved (4) | target address (16)         | options
//! NA:  | 136 | 0 | checksum | R S O + reserved (4) | target address (16) | options
//! Redirect: | 137 | 0 | checksum | reserved (4) | target (16) | destination (16) | options
//! option:   | type | length (8-byte units, 0 is invalid) | data ...
//! ```
//!
//! Parsing applies the validity checks of RFC 4861 sections 6.1 and 7.1
//! that need only the message and its addresses (code 0, lengths, option
//! lengths, addresses). The hop limit of 255 is the caller's to check
//! ([`HOP_LIMIT`]): only the IPv6 header carries it.

use super::icmpv6::{Message, Packet};
use super::{Error, EthernetAddress, Ipv6Address, Result};

/// NDP messages are sent with, and only accepted with, this hop limit.
pub const HOP_LIMIT: u8 = 255;

/// Lengths of each message before its options.
pub const RS_LEN: usize = 8;
pub const RA_LEN: usize = 16;
pub const NS_LEN: usize = 24;
pub const NA_LEN: usize = 24;
pub const REDIRECT_LEN: usize = 40;

mod field {
    use core::ops::Range;
    pub const CUR_HOP_LIMIT: usize = 4;
    pub const ROUTER_FLAGS: usize = 5;
    pub const ROUTER_LIFETIME: Range<usize> = 6..8;
    pub const REACHABLE_TIME: Range<usize> = 8..12;
    pub const RETRANS_TIME: Range<usize> = 12..16;
    pub const NEIGHBOR_FLAGS: usize = 4;
    pub const TARGET_ADDR: Range<usize> = 8..24;
    pub const DEST_ADDR: Range<usize> = 24..40;
}

const FLAG_MANAGED: u8 = 0x80;
const FLAG_OTHER: u8 = 0x40;
const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;

/// NDP fields of the ICMPv6 view; callers check the length first.
impl<T: AsRef<[u8]>> Packet<T> {
    /// Current hop limit advertised by a router (RA; 0 = unspecified).
    pub fn cur_hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::CUR_HOP_LIMIT]
    }
    /// RA: addresses are available by DHCPv6.
    pub fn managed_flag(&self) -> bool {
        self.buffer.as_ref()[field::ROUTER_FLAGS] & FLAG_MANAGED != 0
    }
    /// RA: other configuration is available by DHCPv6.
    pub fn other_flag(&self) -> bool {
        self.buffer.as_ref()[field::ROUTER_FLAGS] & FLAG_OTHER != 0
    }
    /// RA: seconds the router may be used as a default router (0 = not a
    /// default router).
    pub fn router_lifetime(&self) -> u16 {
        self.read_u16(field::ROUTER_LIFETIME)
    }
    /// RA: milliseconds (0 = unspecified).
    pub fn reachable_time(&self) -> u32 {
        self.read_u32(field::REACHABLE_TIME)
    }
    /// RA: milliseconds between retransmitted NS (0 = unspecified).
    pub fn retrans_time(&self) -> u32 {
        self.read_u32(field::RETRANS_TIME)
    }
    pub fn router_flag(&self) -> bool {
        self.buffer.as_ref()[field::NEIGHBOR_FLAGS] & FLAG_ROUTER != 0
    }
    pub fn solicited_flag(&self) -> bool {
        self.buffer.as_ref()[field::NEIGHBOR_FLAGS] & FLAG_SOLICITED != 0
    }
    pub fn override_flag(&self) -> bool {
        self.buffer.as_ref()[field::NEIGHBOR_FLAGS] & FLAG_OVERRIDE != 0
    }
    /// NS, NA, redirect.
    pub fn target_addr(&self) -> Ipv6Address {
        Ipv6Address::from_bytes(&self.buffer.as_ref()[field::TARGET_ADDR])
    }
    /// Redirect: the destination being redirected.
    pub fn dest_addr(&self) -> Ipv6Address {
        Ipv6Address::from_bytes(&self.buffer.as_ref()[field::DEST_ADDR])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_cur_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[field::CUR_HOP_LIMIT] = v;
    }
    pub fn set_router_flags(&mut self, managed: bool, other: bool) {
        let v = if managed { FLAG_MANAGED } else { 0 } | if other { FLAG_OTHER } else { 0 };
        self.buffer.as_mut()[field::ROUTER_FLAGS] = v;
    }
    pub fn set_router_lifetime(&mut self, v: u16) {
        self.write_u16(field::ROUTER_LIFETIME, v)
    }
    pub fn set_reachable_time(&mut self, v: u32) {
        self.write_u32(field::REACHABLE_TIME, v)
    }
    pub fn set_retrans_time(&mut self, v: u32) {
        self.write_u32(field::RETRANS_TIME, v)
    }
    /// Writes R, S, O and zeroes the 29 reserved bits.
    pub fn set_neighbor_flags(&mut self, router: bool, solicited: bool, override_: bool) {
        let v = if router { FLAG_ROUTER } else { 0 }
            | if solicited { FLAG_SOLICITED } else { 0 }
            | if override_ { FLAG_OVERRIDE } else { 0 };
        self.write_u32(4..8, u32::from(v) << 24);
    }
    pub fn set_target_addr(&mut self, a: Ipv6Address) {
        self.buffer.as_mut()[field::TARGET_ADDR].copy_from_slice(a.as_bytes());
    }
    pub fn set_dest_addr(&mut self, a: Ipv6Address) {
        self.buffer.as_mut()[field::DEST_ADDR].copy_from_slice(a.as_bytes());
    }
}

/// NDP option types (RFC 4861 4.6).
pub const OPT_SOURCE_LLADDR: u8 = 1;
pub const OPT_TARGET_LLADDR: u8 = 2;
pub const OPT_PREFIX_INFO: u8 = 3;
pub const OPT_REDIRECTED_HEADER: u8 = 4;
pub const OPT_MTU: u8 = 5;

/// A prefix information option's meaning (RFC 4861 4.6.2). Lifetimes are
/// seconds; `0xffff_ffff` is infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixInformation {
    pub prefix_len: u8,
    /// L: the prefix is on-link.
    pub on_link: bool,
    /// A: the prefix may be used for SLAAC.
    pub autonomous: bool,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
    pub prefix: Ipv6Address,
}

/// Lifetime value meaning "forever".
pub const INFINITE_LIFETIME: u32 = 0xffff_ffff;

/// One NDP option. Options with a known type but a length that does not
/// fit it are `Malformed` on parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NdpOption<'a> {
    SourceLinkLayerAddr(EthernetAddress),
    TargetLinkLayerAddr(EthernetAddress),
    PrefixInformation(PrefixInformation),
    /// The quoted packet of a redirect (after the 6 reserved bytes).
    RedirectedHeader(&'a [u8]),
    Mtu(u32),
    /// Any other type; receivers ignore it (RFC 4861 4.6).
    Unknown {
        option_type: u8,
        data: &'a [u8],
    },
}

impl<'a> NdpOption<'a> {
    /// Parses the option at the start of `buffer` and returns it with the
    /// rest. Length 0 is `Malformed` (RFC 4861 4.6: such a packet must be
    /// discarded); a length past the buffer is `Truncated`.
    pub fn parse(buffer: &'a [u8]) -> Result<(NdpOption<'a>, &'a [u8])> {
        let (&option_type, &units) = match buffer {
            [t, l, ..] => (t, l),
            _ => return Err(Error::Truncated),
        };
        if units == 0 {
            return Err(Error::Malformed);
        }
        let len = usize::from(units) * 8;
        if buffer.len() < len {
            return Err(Error::Truncated);
        }
        let (option, rest) = buffer.split_at(len);
        let data = &option[2..];
        let repr = match option_type {
            OPT_SOURCE_LLADDR | OPT_TARGET_LLADDR => {
                // Ethernet addresses take exactly one unit (RFC 2464 6).
                if units != 1 {
                    return Err(Error::Malformed);
                }
                let mac = EthernetAddress::from_bytes(data);
                if option_type == OPT_SOURCE_LLADDR {
                    NdpOption::SourceLinkLayerAddr(mac)
                } else {
                    NdpOption::TargetLinkLayerAddr(mac)
                }
            }
            OPT_PREFIX_INFO => {
                if units != 4 {
                    return Err(Error::Malformed);
                }
                let prefix_len = data[0];
                if prefix_len > 128 {
                    return Err(Error::Malformed);
                }
                let u32_at = |i: usize| u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
                NdpOption::PrefixInformation(PrefixInformation {
                    prefix_len,
                    on_link: data[1] & 0x80 != 0,
                    autonomous: data[1] & 0x40 != 0,
                    valid_lifetime: u32_at(2),
                    preferred_lifetime: u32_at(6),
                    prefix: Ipv6Address::from_bytes(&data[14..30]),
                })
            }
            OPT_REDIRECTED_HEADER => NdpOption::RedirectedHeader(&data[6..]),
            OPT_MTU => {
                if units != 1 {
                    return Err(Error::Malformed);
                }
                NdpOption::Mtu(u32::from_be_bytes([data[2], data[3], data[4], data[5]]))
            }
            _ => NdpOption::Unknown { option_type, data },
        };
        Ok((repr, rest))
    }

    /// Bytes the option takes (redirected header and unknown data padded
    /// to a multiple of 8, at most 255 units).
    pub fn buffer_len(&self) -> usize {
        match self {
            NdpOption::SourceLinkLayerAddr(_) | NdpOption::TargetLinkLayerAddr(_) | NdpOption::Mtu(_) => 8,
            NdpOption::PrefixInformation(_) => 32,
            NdpOption::RedirectedHeader(data) => (8 + data.len()).div_ceil(8).min(255) * 8,
            NdpOption::Unknown { data, .. } => (2 + data.len()).div_ceil(8).clamp(1, 255) * 8,
        }
    }

    /// Writes the option at the start of `buffer` (at least
    /// [`NdpOption::buffer_len`] bytes) and returns the rest.
    pub fn emit<'b>(&self, buffer: &'b mut [u8]) -> &'b mut [u8] {
        let len = self.buffer_len();
        let (out, rest) = buffer.split_at_mut(len);
        out.fill(0);
        out[1] = (len / 8) as u8;
        match *self {
            NdpOption::SourceLinkLayerAddr(mac) | NdpOption::TargetLinkLayerAddr(mac) => {
                out[0] = if matches!(self, NdpOption::SourceLinkLayerAddr(_)) {
                    OPT_SOURCE_LLADDR
                } else {
                    OPT_TARGET_LLADDR
                };
                out[2..8].copy_from_slice(mac.as_bytes());
            }
            NdpOption::PrefixInformation(p) => {
                out[0] = OPT_PREFIX_INFO;
                out[2] = p.prefix_len;
                out[3] = if p.on_link { 0x80 } else { 0 } | if p.autonomous { 0x40 } else { 0 };
                out[4..8].copy_from_slice(&p.valid_lifetime.to_be_bytes());
                out[8..12].copy_from_slice(&p.preferred_lifetime.to_be_bytes());
                out[16..32].copy_from_slice(p.prefix.as_bytes());
            }
            NdpOption::RedirectedHeader(data) => {
                out[0] = OPT_REDIRECTED_HEADER;
                let n = data.len().min(len - 8);
                out[8..8 + n].copy_from_slice(&data[..n]);
            }
            NdpOption::Mtu(mtu) => {
                out[0] = OPT_MTU;
                out[4..8].copy_from_slice(&mtu.to_be_bytes());
            }
            NdpOption::Unknown { option_type, data } => {
                out[0] = option_type;
                let n = data.len().min(len - 2);
                out[2..2 + n].copy_from_slice(&data[..n]);
            }
        }
        rest
    }
}

/// Iterates over an option area. After the first error it yields nothing
/// more.
#[derive(Debug, Clone)]
pub struct NdpOptions<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> NdpOptions<'a> {
    pub const fn new(area: &'a [u8]) -> NdpOptions<'a> {
        NdpOptions { rest: area, failed: false }
    }
}

impl<'a> Iterator for NdpOptions<'a> {
    type Item = Result<NdpOption<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match NdpOption::parse(self.rest) {
            Ok((option, rest)) => {
                self.rest = rest;
                Some(Ok(option))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// The prefixes of a router advertisement: as received (the validated
/// option area, read lazily, nothing copied) or as given to emit.
#[derive(Debug, Clone, Copy)]
pub enum Prefixes<'a> {
    /// A validated NDP option area; only its prefix options count.
    Options(&'a [u8]),
    List(&'a [PrefixInformation]),
}

impl<'a> Prefixes<'a> {
    pub const NONE: Prefixes<'static> = Prefixes::List(&[]);

    pub fn iter(&self) -> PrefixIter<'a> {
        match *self {
            Prefixes::Options(area) => PrefixIter::Options(NdpOptions::new(area)),
            Prefixes::List(list) => PrefixIter::List(list.iter()),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
    pub fn len(&self) -> usize {
        self.iter().count()
    }
}

impl PartialEq for Prefixes<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Prefixes<'_> {}

/// Iterator over [`Prefixes`].
#[derive(Debug, Clone)]
pub enum PrefixIter<'a> {
    Options(NdpOptions<'a>),
    List(core::slice::Iter<'a, PrefixInformation>),
}

impl Iterator for PrefixIter<'_> {
    type Item = PrefixInformation;
    fn next(&mut self) -> Option<PrefixInformation> {
        match self {
            PrefixIter::Options(options) => loop {
                match options.next()? {
                    Ok(NdpOption::PrefixInformation(p)) => return Some(p),
                    Ok(_) => {}
                    Err(_) => return None,
                }
            },
            PrefixIter::List(list) => list.next().copied(),
        }
    }
}

/// The meaning of an NDP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    RouterSolicit {
        src_lladdr: Option<EthernetAddress>,
    },
    RouterAdvert {
        cur_hop_limit: u8,
        managed: bool,
        other: bool,
        /// Seconds; 0 = not a default router.
        router_lifetime: u16,
        /// Milliseconds; 0 = unspecified.
        reachable_time: u32,
        /// Milliseconds; 0 = unspecified.
        retrans_time: u32,
        src_lladdr: Option<EthernetAddress>,
        mtu: Option<u32>,
        prefixes: Prefixes<'a>,
    },
    NeighborSolicit {
        target_addr: Ipv6Address,
        src_lladdr: Option<EthernetAddress>,
    },
    NeighborAdvert {
        router: bool,
        solicited: bool,
        override_: bool,
        target_addr: Ipv6Address,
        target_lladdr: Option<EthernetAddress>,
    },
    /// Parsed so that it can be validated and ignored (a host may ignore
    /// redirects); emit writes no redirected-header option.
    Redirect {
        target_addr: Ipv6Address,
        dest_addr: Ipv6Address,
        target_lladdr: Option<EthernetAddress>,
    },
}

impl<'a> Repr<'a> {
    /// Parses the NDP message in a checked ICMPv6 packet sent from `src`
    /// to `dst`. `Malformed` when RFC 4861 says to discard it: a code
    /// other than 0, a message shorter than its fixed part, an option of
    /// length 0 or not fitting, a multicast target, an RA or redirect from
    /// a non-link-local source, a source link-layer address with an
    /// unspecified source, a DAD probe (unspecified source) not sent to a
    /// solicited-node group, a solicited NA to a multicast destination.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        src: &Ipv6Address,
        dst: &Ipv6Address,
    ) -> Result<Repr<'a>> {
        packet.check_len()?;
        if packet.msg_code() != 0 {
            return Err(Error::Malformed);
        }
        let message = packet.msg_type();
        let fixed = match message {
            Message::RouterSolicit => RS_LEN,
            Message::RouterAdvert => RA_LEN,
            Message::NeighborSolicit => NS_LEN,
            Message::NeighborAdvert => NA_LEN,
            Message::Redirect => REDIRECT_LEN,
            _ => return Err(Error::Unsupported),
        };
        let bytes: &'a [u8] = packet.buffer.as_ref();
        let area = bytes.get(fixed..).ok_or(Error::Truncated)?;
        let (mut source, mut target, mut mtu) = (None, None, None);
        for option in NdpOptions::new(area) {
            match option? {
                NdpOption::SourceLinkLayerAddr(mac) => source = Some(mac),
                NdpOption::TargetLinkLayerAddr(mac) => target = Some(mac),
                NdpOption::Mtu(m) => mtu = Some(m),
                NdpOption::PrefixInformation(_) | NdpOption::RedirectedHeader(_) | NdpOption::Unknown { .. } => {}
            }
        }
        if src.is_unspecified() && source.is_some() {
            return Err(Error::Malformed);
        }
        match message {
            Message::RouterSolicit => Ok(Repr::RouterSolicit { src_lladdr: source }),
            Message::RouterAdvert => {
                if !src.is_link_local() {
                    return Err(Error::Malformed);
                }
                Ok(Repr::RouterAdvert {
                    cur_hop_limit: packet.cur_hop_limit(),
                    managed: packet.managed_flag(),
                    other: packet.other_flag(),
                    router_lifetime: packet.router_lifetime(),
                    reachable_time: packet.reachable_time(),
                    retrans_time: packet.retrans_time(),
                    src_lladdr: source,
                    mtu,
                    prefixes: Prefixes::Options(area),
                })
            }
            Message::NeighborSolicit => {
                let target_addr = packet.target_addr();
                if target_addr.is_multicast() || (src.is_unspecified() && !dst.is_solicited_node_multicast()) {
                    return Err(Error::Malformed);
                }
                Ok(Repr::NeighborSolicit { target_addr, src_lladdr: source })
            }
            Message::NeighborAdvert => {
                let target_addr = packet.target_addr();
                let solicited = packet.solicited_flag();
                if target_addr.is_multicast() || (solicited && dst.is_multicast()) {
                    return Err(Error::Malformed);
                }
                Ok(Repr::NeighborAdvert {
                    router: packet.router_flag(),
                    solicited,
                    override_: packet.override_flag(),
                    target_addr,
                    target_lladdr: target,
                })
            }
            _ => {
                let dest_addr = packet.dest_addr();
                if !src.is_link_local() || dest_addr.is_multicast() {
                    return Err(Error::Malformed);
                }
                Ok(Repr::Redirect { target_addr: packet.target_addr(), dest_addr, target_lladdr: target })
            }
        }
    }

    /// The message type.
    pub fn message(&self) -> Message {
        match self {
            Repr::RouterSolicit { .. } => Message::RouterSolicit,
            Repr::RouterAdvert { .. } => Message::RouterAdvert,
            Repr::NeighborSolicit { .. } => Message::NeighborSolicit,
            Repr::NeighborAdvert { .. } => Message::NeighborAdvert,
            Repr::Redirect { .. } => Message::Redirect,
        }
    }

    /// Whole message length (ICMPv6 fixed part included).
    pub fn buffer_len(&self) -> usize {
        let lladdr = |o: &Option<EthernetAddress>| if o.is_some() { 8 } else { 0 };
        match self {
            Repr::RouterSolicit { src_lladdr } => RS_LEN + lladdr(src_lladdr),
            Repr::RouterAdvert { src_lladdr, mtu, prefixes, .. } => {
                RA_LEN + lladdr(src_lladdr) + if mtu.is_some() { 8 } else { 0 } + 32 * prefixes.len()
            }
            Repr::NeighborSolicit { src_lladdr, .. } => NS_LEN + lladdr(src_lladdr),
            Repr::NeighborAdvert { target_lladdr, .. } => NA_LEN + lladdr(target_lladdr),
            Repr::Redirect { target_lladdr, .. } => REDIRECT_LEN + lladdr(target_lladdr),
        }
    }

    /// Writes type, code and body (not the checksum) into a packet of
    /// exactly [`Repr::buffer_len`] bytes; `icmpv6::Repr::emit` calls it.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_msg_type(self.message());
        packet.set_msg_code(0);
        let emit_option = |o: NdpOption, area: &mut [u8]| -> usize {
            o.emit(area);
            o.buffer_len()
        };
        match *self {
            Repr::RouterSolicit { src_lladdr } => {
                packet.buffer.as_mut()[4..RS_LEN].fill(0);
                if let Some(mac) = src_lladdr {
                    emit_option(NdpOption::SourceLinkLayerAddr(mac), &mut packet.buffer.as_mut()[RS_LEN..]);
                }
            }
            Repr::RouterAdvert {
                cur_hop_limit,
                managed,
                other,
                router_lifetime,
                reachable_time,
                retrans_time,
                src_lladdr,
                mtu,
                prefixes,
            } => {
                packet.set_cur_hop_limit(cur_hop_limit);
                packet.set_router_flags(managed, other);
                packet.set_router_lifetime(router_lifetime);
                packet.set_reachable_time(reachable_time);
                packet.set_retrans_time(retrans_time);
                // Prefixes, MTU, source address: the order Linux and dnsmasq use.
                let mut at = RA_LEN;
                for p in prefixes.iter() {
                    at += emit_option(NdpOption::PrefixInformation(p), &mut packet.buffer.as_mut()[at..]);
                }
                if let Some(mtu) = mtu {
                    at += emit_option(NdpOption::Mtu(mtu), &mut packet.buffer.as_mut()[at..]);
                }
                if let Some(mac) = src_lladdr {
                    emit_option(NdpOption::SourceLinkLayerAddr(mac), &mut packet.buffer.as_mut()[at..]);
                }
            }
            Repr::NeighborSolicit { target_addr, src_lladdr } => {
                packet.buffer.as_mut()[4..8].fill(0);
                packet.set_target_addr(target_addr);
                if let Some(mac) = src_lladdr {
                    emit_option(NdpOption::SourceLinkLayerAddr(mac), &mut packet.buffer.as_mut()[NS_LEN..]);
                }
            }
            Repr::NeighborAdvert { router, solicited, override_, target_addr, target_lladdr } => {
                packet.set_neighbor_flags(router, solicited, override_);
                packet.set_target_addr(target_addr);
                if let Some(mac) = target_lladdr {
                    emit_option(NdpOption::TargetLinkLayerAddr(mac), &mut packet.buffer.as_mut()[NA_LEN..]);
                }
            }
            Repr::Redirect { target_addr, dest_addr, target_lladdr } => {
                packet.buffer.as_mut()[4..8].fill(0);
                packet.set_target_addr(target_addr);
                packet.set_dest_addr(dest_addr);
                if let Some(mac) = target_lladdr {
                    emit_option(NdpOption::TargetLinkLayerAddr(mac), &mut packet.buffer.as_mut()[REDIRECT_LEN..]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::icmpv6;
    use crate::wire::ipv6;
    use crate::wire::ipv6_captures::{DAD_NS, NA, NS, RA, RS};
    use std::vec;

    const MAC_A: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]);
    const MAC_B: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    const LL_A: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x0a);
    const LL_B: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe12, 0x3456);

    fn split(packet: &[u8]) -> (Ipv6Address, Ipv6Address, &[u8]) {
        let ip = ipv6::Packet::new_checked(packet).unwrap();
        assert_eq!(ip.hop_limit(), HOP_LIMIT);
        (ip.src_addr(), ip.dst_addr(), ip.payload())
    }

    fn parse<'a>(msg: &'a [u8], src: &Ipv6Address, dst: &Ipv6Address) -> Result<Repr<'a>> {
        match icmpv6::Repr::parse(&icmpv6::Packet::new_checked(msg)?, src, dst, true)? {
            icmpv6::Repr::Ndp(repr) => Ok(repr),
            other => panic!("not NDP: {other:?}"),
        }
    }

    fn emit(repr: Repr, src: &Ipv6Address, dst: &Ipv6Address) -> std::vec::Vec<u8> {
        let icmp = icmpv6::Repr::Ndp(repr);
        let mut buf = vec![0xeeu8; icmp.buffer_len()];
        icmp.emit(&mut icmpv6::Packet::new_unchecked(&mut buf[..]), src, dst, true);
        buf
    }

    /// Parses a captured message, compares it with `expected`, and checks
    /// that emitting `expected` gives the captured bytes.
    fn captured(packet: &[u8], expected: Repr) {
        let (src, dst, msg) = split(packet);
        assert_eq!(parse(msg, &src, &dst).unwrap(), expected);
        assert_eq!(emit(expected, &src, &dst), msg);
    }

    #[test]
    fn captured_router_solicit() {
        captured(&RS, Repr::RouterSolicit { src_lladdr: Some(MAC_A) });
    }

    #[test]
    fn captured_router_advert() {
        let prefix = PrefixInformation {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 3600,
            preferred_lifetime: 3600,
            prefix: Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0),
        };
        let list = [prefix];
        let expected = Repr::RouterAdvert {
            cur_hop_limit: 64,
            managed: false,
            other: false,
            router_lifetime: 600,
            reachable_time: 0,
            retrans_time: 0,
            src_lladdr: Some(MAC_A),
            mtu: Some(1500),
            prefixes: Prefixes::List(&list),
        };
        captured(&RA, expected);
        let (src, dst, msg) = split(&RA);
        let Repr::RouterAdvert { prefixes, .. } = parse(msg, &src, &dst).unwrap() else { panic!() };
        assert!(matches!(prefixes, Prefixes::Options(_)));
        assert_eq!(prefixes.iter().collect::<std::vec::Vec<_>>(), [prefix]);
        assert_eq!((prefixes.len(), prefixes.is_empty()), (1, false));
        assert!(Prefixes::NONE.is_empty());
    }

    #[test]
    fn captured_neighbor_solicit_and_advert() {
        captured(&NS, Repr::NeighborSolicit { target_addr: LL_B, src_lladdr: Some(MAC_A) });
        captured(
            &NA,
            Repr::NeighborAdvert {
                router: false,
                solicited: true,
                override_: true,
                target_addr: LL_B,
                target_lladdr: Some(MAC_B),
            },
        );
    }

    #[test]
    fn captured_dad_probe() {
        // From ::, to the solicited-node group, with a nonce option (type
        // 14, RFC 7527) that is skipped as unknown.
        let (src, dst, msg) = split(&DAD_NS);
        assert!(src.is_unspecified());
        assert_eq!(dst, LL_A.solicited_node());
        assert_eq!(parse(msg, &src, &dst).unwrap(), Repr::NeighborSolicit { target_addr: LL_A, src_lladdr: None });
        let options: std::vec::Vec<_> = NdpOptions::new(&msg[NS_LEN..]).collect();
        assert_eq!(options, [Ok(NdpOption::Unknown { option_type: 14, data: &msg[NS_LEN + 2..] })]);
    }

    #[test]
    fn redirect_parsed_to_be_ignored() {
        let target = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 9);
        let dest = Ipv6Address::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1);
        let repr = Repr::Redirect { target_addr: target, dest_addr: dest, target_lladdr: Some(MAC_A) };
        let mut msg = emit(repr, &LL_A, &LL_B);
        assert_eq!(msg.len(), 48);
        assert_eq!(parse(&msg, &LL_A, &LL_B).unwrap(), repr);
        // With a redirected-header option appended.
        let mut opt = [0u8; 56];
        NdpOption::RedirectedHeader(&[0x60; 48]).emit(&mut opt);
        assert_eq!(opt[..8], [4, 7, 0, 0, 0, 0, 0, 0]);
        msg.extend_from_slice(&opt);
        icmpv6::Packet::new_unchecked(&mut msg[..]).fill_checksum(&LL_A, &LL_B);
        assert_eq!(parse(&msg, &LL_A, &LL_B).unwrap(), repr);
        let global = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
        icmpv6::Packet::new_unchecked(&mut msg[..]).fill_checksum(&global, &LL_B);
        assert_eq!(parse(&msg, &global, &LL_B), Err(Error::Malformed));
    }

    #[test]
    fn option_round_trips() {
        let options = [
            NdpOption::SourceLinkLayerAddr(MAC_A),
            NdpOption::TargetLinkLayerAddr(MAC_B),
            NdpOption::Mtu(9000),
            NdpOption::PrefixInformation(PrefixInformation {
                prefix_len: 48,
                on_link: false,
                autonomous: true,
                valid_lifetime: INFINITE_LIFETIME,
                preferred_lifetime: 0,
                prefix: Ipv6Address::new(0x2001, 0xdb8, 7, 0, 0, 0, 0, 0),
            }),
            NdpOption::RedirectedHeader(&[1; 8]),
            NdpOption::Unknown { option_type: 25, data: &[1, 2, 3, 4, 5, 6] },
        ];
        let mut buf = [0u8; 8 + 8 + 8 + 32 + 16 + 8];
        let mut rest = &mut buf[..];
        for o in &options {
            rest = o.emit(rest);
        }
        assert!(rest.is_empty());
        let parsed: std::vec::Vec<_> = NdpOptions::new(&buf).map(|o| o.unwrap()).collect();
        assert_eq!(parsed, options);
        assert_eq!(buf[16..24], [5, 1, 0, 0, 0, 0, 0x23, 0x28]);
        assert_eq!(buf[24..28], [3, 4, 48, 0x40]);
    }

    #[test]
    fn malformed_options() {
        assert_eq!(NdpOption::parse(&[1]).unwrap_err(), Error::Truncated);
        assert_eq!(NdpOption::parse(&[1, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::Malformed);
        assert_eq!(NdpOption::parse(&[99, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::Malformed);
        assert_eq!(NdpOption::parse(&[1, 2, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::Truncated);
        assert_eq!(NdpOption::parse(&[1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::Malformed);
        assert_eq!(NdpOption::parse(&[5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(), Error::Malformed);
        let mut prefix = [0u8; 32];
        prefix[0] = 3;
        prefix[1] = 4;
        prefix[2] = 129;
        assert_eq!(NdpOption::parse(&prefix).unwrap_err(), Error::Malformed);
        prefix[2] = 128;
        assert!(NdpOption::parse(&prefix).is_ok());
        assert_eq!(NdpOption::parse(&prefix[..24]).unwrap_err(), Error::Truncated);
        prefix[1] = 3;
        assert_eq!(NdpOption::parse(&prefix).unwrap_err(), Error::Malformed);
    }

    /// Re-checksums a modified message and parses it.
    fn reparse(msg: &mut [u8], src: &Ipv6Address, dst: &Ipv6Address) -> Result<()> {
        icmpv6::Packet::new_unchecked(&mut msg[..]).fill_checksum(src, dst);
        parse(msg, src, dst).map(|_| ())
    }

    #[test]
    fn malformed_messages() {
        let (src, dst, msg) = split(&NS);
        // Non-zero code.
        let mut m = msg.to_vec();
        m[1] = 1;
        assert_eq!(reparse(&mut m, &src, &dst), Err(Error::Malformed));
        // Zero-length option.
        let mut m = msg.to_vec();
        m[NS_LEN + 1] = 0;
        assert_eq!(reparse(&mut m, &src, &dst), Err(Error::Malformed));
        // Option longer than the message.
        let mut m = msg.to_vec();
        m[NS_LEN + 1] = 2;
        assert_eq!(reparse(&mut m, &src, &dst), Err(Error::Truncated));
        // Shorter than the fixed part.
        let mut m = msg[..NS_LEN - 1].to_vec();
        assert_eq!(reparse(&mut m, &src, &dst), Err(Error::Truncated));
        // Multicast target.
        let mut m = msg.to_vec();
        m[8] = 0xff;
        assert_eq!(reparse(&mut m, &src, &dst), Err(Error::Malformed));
        // Unspecified source with a source link-layer address.
        let mut m = msg.to_vec();
        assert_eq!(reparse(&mut m, &Ipv6Address::UNSPECIFIED, &dst), Err(Error::Malformed));
        // DAD probe not sent to the solicited-node group.
        let (_, _, dad) = split(&DAD_NS);
        let mut m = dad.to_vec();
        assert_eq!(
            reparse(&mut m, &Ipv6Address::UNSPECIFIED, &Ipv6Address::LINK_LOCAL_ALL_NODES),
            Err(Error::Malformed)
        );

        // Solicited NA to a multicast destination; unsolicited is fine.
        let (src, _, msg) = split(&NA);
        let mut m = msg.to_vec();
        assert_eq!(reparse(&mut m, &src, &Ipv6Address::LINK_LOCAL_ALL_NODES), Err(Error::Malformed));
        m[4] = 0x20;
        assert_eq!(reparse(&mut m, &src, &Ipv6Address::LINK_LOCAL_ALL_NODES), Ok(()));

        // RA from a global address.
        let (_, dst, msg) = split(&RA);
        let mut m = msg.to_vec();
        let global = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
        assert_eq!(reparse(&mut m, &global, &dst), Err(Error::Malformed));
        // RA whose prefix option has length 3.
        let mut m = msg.to_vec();
        m[RA_LEN + 1] = 3;
        assert!(reparse(&mut m, &LL_A, &dst).is_err());
    }

    #[test]
    fn solicit_without_lladdr_and_flags() {
        let repr = Repr::NeighborAdvert {
            router: true,
            solicited: false,
            override_: false,
            target_addr: LL_A,
            target_lladdr: None,
        };
        let msg = emit(repr, &LL_A, &Ipv6Address::LINK_LOCAL_ALL_NODES);
        assert_eq!(msg.len(), NA_LEN);
        assert_eq!(msg[4..8], [0x80, 0, 0, 0]);
        assert_eq!(parse(&msg, &LL_A, &Ipv6Address::LINK_LOCAL_ALL_NODES).unwrap(), repr);
        let rs = Repr::RouterSolicit { src_lladdr: None };
        let msg = emit(rs, &Ipv6Address::UNSPECIFIED, &Ipv6Address::LINK_LOCAL_ALL_ROUTERS);
        assert_eq!(msg[..2], [133, 0]);
        assert_eq!(msg.len(), RS_LEN);
        assert_eq!(parse(&msg, &Ipv6Address::UNSPECIFIED, &Ipv6Address::LINK_LOCAL_ALL_ROUTERS).unwrap(), rs);
    }
}
