//! Building outgoing frames: IPv4 datagrams (fragmented when larger than
//! the MTU) and ARP packets, over transmit tokens.
//!
//! An outgoing datagram is an [`OutPacket`]: IP header fields plus an IP
//! payload made of a small, fully built transport header (checksum
//! included) followed by a borrowed data slice. Fragmenting is then only
//! copying byte ranges of that concatenation into frames; nothing is
//! assembled in a scratch buffer.

use crate::phy::{Device, TxToken};
use crate::time::Instant;
use crate::wire::checksum;
use crate::wire::ethernet::{self, EtherType, VlanTag};
use crate::wire::icmpv4::{self, Message};
use crate::wire::tcp::{Packet as TcpPacket, Repr as TcpRepr};
use crate::wire::{arp, ipv4, tcp, udp};
use crate::wire::{EthernetAddress, IpAddress, IpProtocol, Ipv4Address};

/// Room for the largest transport header built here: an ICMP error header
/// (8) with the quoted IP header (up to 60), or a TCP header with options
/// (up to 60).
pub(crate) const MAX_L4_HEADER: usize = icmpv4::HEADER_LEN + ipv4::MAX_HEADER_LEN;
const _: () = assert!(MAX_L4_HEADER >= tcp::MAX_HEADER_LEN);

/// Where transmit tokens come from: the one token a receive yields, or
/// the device itself in the egress phase.
pub(crate) trait TxTokens {
    type Token<'t>: TxToken
    where
        Self: 't;
    fn next(&mut self) -> Option<Self::Token<'_>>;
    /// Whether several frames can be sent in a row (false on the receive
    /// path, which has a single token).
    fn multi(&self) -> bool;
    /// Frames sent so far.
    fn sent(&self) -> usize;
    /// Records one frame sent.
    fn count(&mut self);
}

/// The single token that comes with a received frame.
pub(crate) struct OneToken<T> {
    token: Option<T>,
    sent: usize,
}

impl<T> OneToken<T> {
    pub(crate) fn new(token: T) -> OneToken<T> {
        OneToken { token: Some(token), sent: 0 }
    }
}

impl<T: TxToken> TxTokens for OneToken<T> {
    type Token<'t>
        = T
    where
        Self: 't;
    fn next(&mut self) -> Option<T> {
        self.token.take()
    }
    fn multi(&self) -> bool {
        false
    }
    fn sent(&self) -> usize {
        self.sent
    }
    fn count(&mut self) {
        self.sent += 1;
    }
}

/// Tokens from `Device::transmit`, up to the device's burst limit.
pub(crate) struct DeviceTokens<'d, D: Device> {
    pub(crate) device: &'d mut D,
    pub(crate) now: Instant,
    pub(crate) sent: usize,
    pub(crate) limit: Option<usize>,
}

impl<D: Device> TxTokens for DeviceTokens<'_, D> {
    type Token<'t>
        = D::TxToken<'t>
    where
        Self: 't;
    fn next(&mut self) -> Option<D::TxToken<'_>> {
        if self.limit.is_some_and(|l| self.sent >= l) {
            return None;
        }
        self.device.transmit(self.now)
    }
    fn multi(&self) -> bool {
        true
    }
    fn sent(&self) -> usize {
        self.sent
    }
    fn count(&mut self) {
        self.sent += 1;
    }
}

/// A datagram to send: IPv4 by default, IPv6 with `A = Ipv6Address`
/// (where `ttl` is the hop limit and `dont_frag` is not used).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutPacket<'p, A = Ipv4Address> {
    pub src: A,
    pub dst: A,
    pub protocol: IpProtocol,
    pub ttl: u8,
    pub dont_frag: bool,
    pub(super) header: [u8; MAX_L4_HEADER],
    pub(super) header_len: usize,
    pub(super) data: &'p [u8],
}

impl<'p, A: Copy + Into<IpAddress>> OutPacket<'p, A> {
    /// A datagram whose IP payload is `data` as is (already built).
    pub fn raw(src: A, dst: A, protocol: IpProtocol, ttl: u8, dont_frag: bool, data: &'p [u8]) -> OutPacket<'p, A> {
        OutPacket { src, dst, protocol, ttl, dont_frag, header: [0; MAX_L4_HEADER], header_len: 0, data }
    }

    /// A UDP datagram; the checksum is computed when `checksum` is set
    /// (over IPv6 it always is: RFC 8200 8.1).
    #[allow(clippy::too_many_arguments)]
    pub fn udp(
        src: A,
        dst: A,
        ttl: u8,
        src_port: u16,
        dst_port: u16,
        data: &'p [u8],
        compute_checksum: bool,
    ) -> OutPacket<'p, A> {
        let mut p = OutPacket::raw(src, dst, IpProtocol::Udp, ttl, false, data);
        p.header_len = udp::HEADER_LEN;
        let len = u16::try_from(udp::HEADER_LEN + data.len()).unwrap_or(u16::MAX);
        let mut h = udp::Packet::new_unchecked(&mut p.header[..udp::HEADER_LEN]);
        h.set_src_port(src_port);
        h.set_dst_port(dst_port);
        h.set_len(len);
        h.set_checksum(0);
        let (s, d): (IpAddress, IpAddress) = (src.into(), dst.into());
        if compute_checksum || matches!(s, IpAddress::V6(_)) {
            let sum = checksum::combine(&[
                checksum::pseudo_header(&s, &d, IpProtocol::Udp, u32::from(len)),
                checksum::data(&p.header[..udp::HEADER_LEN]),
                checksum::data(data),
            ]);
            let c = match checksum::finish(sum) {
                0 => 0xffff,
                c => c,
            };
            udp::Packet::new_unchecked(&mut p.header[..udp::HEADER_LEN]).set_checksum(c);
        }
        p
    }

    /// A TCP segment: `repr`'s header (options included) then `data`; the
    /// checksum is computed over both when `compute_checksum` is set.
    pub fn tcp(src: A, dst: A, ttl: u8, repr: &TcpRepr, data: &'p [u8], compute_checksum: bool) -> OutPacket<'p, A> {
        let mut p = OutPacket::raw(src, dst, IpProtocol::Tcp, ttl, false, data);
        // `data` is the truth about the payload (a copy of the header
        // only when the two disagree).
        let corrected;
        let repr = if repr.payload_len == data.len() {
            repr
        } else {
            corrected = TcpRepr { payload_len: data.len(), ..*repr };
            &corrected
        };
        p.header_len = repr.header_len().min(tcp::MAX_HEADER_LEN);
        // The header is written alone (checksum zero), then the checksum
        // is summed over header and data where they lie. The header length
        // is a multiple of four, so the sums combine.
        repr.emit_header(&mut TcpPacket::new_unchecked(&mut p.header[..p.header_len]));
        let (s, d): (IpAddress, IpAddress) = (src.into(), dst.into());
        if compute_checksum {
            let len = u32::try_from(p.header_len + data.len()).unwrap_or(u32::MAX);
            let sum = checksum::combine(&[
                checksum::pseudo_header(&s, &d, IpProtocol::Tcp, len),
                checksum::data(&p.header[..p.header_len]),
                checksum::data(data),
            ]);
            TcpPacket::new_unchecked(&mut p.header[..p.header_len]).set_checksum(checksum::finish(sum));
        }
        p
    }

    /// Length of the IP payload.
    pub fn payload_len(&self) -> usize {
        self.header_len + self.data.len()
    }

    /// For a TCP segment, its header length (data offset field), when the
    /// payload holds a whole, well-formed header.
    pub fn tcp_header_len(&self) -> Option<usize> {
        if self.protocol != IpProtocol::Tcp || self.payload_len() < tcp::HEADER_LEN {
            return None;
        }
        let mut offset = [0u8; 1];
        self.copy_payload(12, &mut offset);
        let len = usize::from(offset[0] >> 4) * 4;
        (tcp::HEADER_LEN..=self.payload_len()).contains(&len).then_some(len)
    }

    /// Copies IP payload bytes `[from, from + out.len())` into `out`.
    pub fn copy_payload(&self, from: usize, out: &mut [u8]) {
        let header = &self.header[..self.header_len];
        let mut written = 0;
        if from < header.len() {
            let n = (header.len() - from).min(out.len());
            out[..n].copy_from_slice(&header[from..from + n]);
            written = n;
        }
        if written < out.len() {
            let start = (from + written).saturating_sub(header.len());
            let n = out.len() - written;
            out[written..].copy_from_slice(&self.data[start..start + n]);
        }
    }

    /// Copies the whole IP payload into `out` (exactly `payload_len` bytes).
    pub fn write_payload(&self, out: &mut [u8]) {
        self.copy_payload(0, out)
    }
}

impl<'p> OutPacket<'p, Ipv4Address> {
    /// An ICMP echo request or reply.
    #[allow(clippy::too_many_arguments)]
    pub fn icmp_echo(
        src: Ipv4Address,
        dst: Ipv4Address,
        ttl: u8,
        reply: bool,
        ident: u16,
        seq_no: u16,
        data: &'p [u8],
        compute_checksum: bool,
    ) -> OutPacket<'p> {
        let mut p = OutPacket::raw(src, dst, IpProtocol::Icmp, ttl, false, data);
        p.header_len = icmpv4::HEADER_LEN;
        let mut h = icmpv4::Packet::new_unchecked(&mut p.header[..icmpv4::HEADER_LEN]);
        h.set_msg_type(if reply { Message::EchoReply } else { Message::EchoRequest });
        h.set_msg_code(0);
        h.set_echo_ident(ident);
        h.set_echo_seq_no(seq_no);
        p.finish_icmp(compute_checksum);
        p
    }

    /// An ICMP error quoting `quote_header` (an IP header, at most 60
    /// bytes) and the start of `quote_payload`, bounded so the datagram
    /// stays within 576 bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn icmp_error(
        src: Ipv4Address,
        dst: Ipv4Address,
        ttl: u8,
        message: Message,
        code: u8,
        quote_header: &[u8],
        quote_payload: &'p [u8],
        compute_checksum: bool,
    ) -> OutPacket<'p> {
        let qh = &quote_header[..quote_header.len().min(ipv4::MAX_HEADER_LEN)];
        let room = icmpv4::MAX_ERROR_DATA_LEN.saturating_sub(qh.len());
        let data = &quote_payload[..quote_payload.len().min(room)];
        let mut p = OutPacket::raw(src, dst, IpProtocol::Icmp, ttl, false, data);
        p.header_len = icmpv4::HEADER_LEN + qh.len();
        p.header[icmpv4::HEADER_LEN..p.header_len].copy_from_slice(qh);
        let mut h = icmpv4::Packet::new_unchecked(&mut p.header[..icmpv4::HEADER_LEN]);
        h.set_msg_type(message);
        h.set_msg_code(code);
        h.clear_rest_of_header();
        p.finish_icmp(compute_checksum);
        p
    }

    /// Fills the ICMP checksum over header and data. The header length is
    /// even (8 plus a multiple of 4), so the two sums combine exactly.
    fn finish_icmp(&mut self, compute_checksum: bool) {
        let mut h = icmpv4::Packet::new_unchecked(&mut self.header[..icmpv4::HEADER_LEN]);
        h.set_checksum(0);
        if compute_checksum {
            let sum = checksum::combine(&[checksum::data(&self.header[..self.header_len]), checksum::data(self.data)]);
            icmpv4::Packet::new_unchecked(&mut self.header[..icmpv4::HEADER_LEN]).set_checksum(checksum::finish(sum));
        }
    }
}

/// Link-layer facts every frame needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub mac: EthernetAddress,
    pub vlan_id: Option<u16>,
    pub ip_mtu: usize,
    pub ipv4_checksum: bool,
    /// The largest TCP packet the device segments itself (0: none).
    pub tso_max_len: usize,
}

impl Link {
    /// Ethernet header length: 14, or 18 with a VLAN tag.
    pub fn eth_header_len(&self) -> usize {
        match self.vlan_id {
            Some(_) => ethernet::HEADER_LEN + ethernet::VLAN_TAG_LEN,
            None => ethernet::HEADER_LEN,
        }
    }

    pub(super) fn write_eth(&self, buf: &mut [u8], dst: EthernetAddress, ethertype: EtherType) -> usize {
        let repr = ethernet::Repr {
            src_addr: self.mac,
            dst_addr: dst,
            ethertype,
            vlan: self.vlan_id.map(|vid| VlanTag { pcp: 0, dei: false, vid }),
        };
        repr.emit(&mut ethernet::Frame::new_unchecked(&mut *buf));
        repr.header_len()
    }

    /// Writes one frame carrying IP payload bytes `[offset, offset + len)`
    /// of `packet`.
    #[allow(clippy::too_many_arguments)]
    pub fn write_ip_frame(
        &self,
        buf: &mut [u8],
        dst: EthernetAddress,
        packet: &OutPacket<'_, Ipv4Address>,
        ident: u16,
        offset: usize,
        len: usize,
        more_frags: bool,
    ) {
        let eth_len = self.write_eth(buf, dst, EtherType::Ipv4);
        let repr = ipv4::Repr {
            src_addr: packet.src,
            dst_addr: packet.dst,
            protocol: packet.protocol,
            payload_len: len,
            ttl: packet.ttl,
            ident,
            dont_frag: packet.dont_frag,
            more_frags,
            frag_offset: offset as u16,
        };
        let ip = &mut buf[eth_len..eth_len + ipv4::HEADER_LEN + len];
        repr.emit(&mut ipv4::Packet::new_unchecked(&mut *ip), self.ipv4_checksum);
        packet.copy_payload(offset, &mut ip[ipv4::HEADER_LEN..]);
    }

    /// Writes one frame carrying a whole TCP segment: Ethernet, IPv4 and
    /// TCP headers built in place, then `data`, then the checksums over
    /// what lies in the frame (no intermediate copy of the segment).
    /// `buf` is `eth_header_len() + 20 + header_len + data.len()` bytes,
    /// where `header_len` is `repr.header_len()`.
    #[allow(clippy::too_many_arguments)]
    pub fn write_tcp_frame(
        &self,
        buf: &mut [u8],
        dst_mac: EthernetAddress,
        ip: &ipv4::Repr,
        repr: &TcpRepr,
        header_len: usize,
        data: &[u8],
        tcp_checksum: bool,
    ) {
        let eth_len = self.write_eth(buf, dst_mac, EtherType::Ipv4);
        let (ip_header, segment) = buf[eth_len..].split_at_mut(ipv4::HEADER_LEN);
        ip.emit(&mut ipv4::Packet::new_unchecked(&mut *ip_header), self.ipv4_checksum);
        let (header, payload) = segment.split_at_mut(header_len);
        repr.emit_header_into(header);
        if tcp_checksum && data.len() >= checksum::COPY_AND_SUM_MIN {
            // The payload is summed as it is copied (one pass over it, not
            // two); the header length is a multiple of four, so the sums of
            // header and payload combine.
            let payload_sum = checksum::copy_and_sum(payload, data);
            let len = (header_len + data.len()) as u16;
            let sum = checksum::combine(&[
                checksum::pseudo_header_v4(&ip.src_addr, &ip.dst_addr, IpProtocol::Tcp, len),
                checksum::data(header),
                payload_sum,
            ]);
            TcpPacket::new_unchecked(segment).set_checksum(checksum::finish(sum));
        } else {
            payload.copy_from_slice(data);
            if tcp_checksum {
                let len = (header_len + data.len()) as u16;
                let sum = checksum::combine(&[
                    checksum::pseudo_header_v4(&ip.src_addr, &ip.dst_addr, IpProtocol::Tcp, len),
                    checksum::data(segment),
                ]);
                TcpPacket::new_unchecked(segment).set_checksum(checksum::finish(sum));
            }
        }
    }

    /// Frame length of an ARP packet.
    pub fn arp_frame_len(&self) -> usize {
        self.eth_header_len() + arp::ETHERNET_IPV4_LEN
    }

    /// Writes a frame carrying an ARP packet.
    pub fn write_arp_frame(&self, buf: &mut [u8], dst: EthernetAddress, repr: &arp::Repr) {
        let eth_len = self.write_eth(buf, dst, EtherType::Arp);
        repr.emit(&mut arp::Packet::new_unchecked(&mut buf[eth_len..]));
    }

    /// For a TCP segment the device can cut (TCP segmentation offload):
    /// the payload of each piece, so that piece and headers fill the MTU.
    pub fn tcp_segment_size(&self, packet: &OutPacket) -> Option<u16> {
        if self.tso_max_len == 0 || ipv4::HEADER_LEN + packet.payload_len() > self.tso_max_len {
            return None;
        }
        let header_len = packet.tcp_header_len()?;
        let piece = self.ip_mtu.checked_sub(ipv4::HEADER_LEN + header_len).filter(|&n| n > 0)?;
        u16::try_from(piece).ok()
    }

    /// Largest fragment payload: the MTU minus the header, a multiple of 8.
    pub fn max_fragment_payload(&self) -> usize {
        self.ip_mtu.saturating_sub(ipv4::HEADER_LEN) & !7
    }
}

/// The Ethernet group address of an IPv4 multicast group (RFC 1112).
pub(crate) fn multicast_mac(group: Ipv4Address) -> EthernetAddress {
    let b = group.as_bytes();
    EthernetAddress([0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn payload_is_header_then_data_in_any_window() {
        let data = [10u8, 11, 12, 13, 14];
        let p = OutPacket::udp(Ipv4Address::new(1, 2, 3, 4), Ipv4Address::new(5, 6, 7, 8), 64, 1, 2, &data, false);
        let mut all = [0u8; 13];
        p.write_payload(&mut all);
        assert_eq!(all, [0, 1, 0, 2, 0, 13, 0, 0, 10, 11, 12, 13, 14]);
        for from in 0..13 {
            for len in 0..=13 - from {
                let mut out = vec![0u8; len];
                p.copy_payload(from, &mut out);
                assert_eq!(&out[..], &all[from..from + len]);
            }
        }
    }

    #[test]
    fn checksums_verify() {
        let (src, dst) = (Ipv4Address::new(10, 0, 0, 1), Ipv4Address::new(10, 0, 0, 2));
        let data = [1u8, 2, 3];
        let p = OutPacket::udp(src, dst, 64, 7, 9, &data, true);
        let mut buf = vec![0u8; p.payload_len()];
        p.write_payload(&mut buf);
        assert!(udp::Packet::new_checked(&buf[..]).unwrap().verify_checksum(&src.into(), &dst.into()));

        let p = OutPacket::icmp_echo(src, dst, 64, true, 5, 6, &data, true);
        let mut buf = vec![0u8; p.payload_len()];
        p.write_payload(&mut buf);
        assert!(icmpv4::Packet::new_checked(&buf[..]).unwrap().verify_checksum());

        let quote = [0x45u8; 20];
        let long = [7u8; 1000];
        let p = OutPacket::icmp_error(src, dst, 64, Message::DstUnreachable, 3, &quote, &long, true);
        assert_eq!(p.payload_len(), 8 + icmpv4::MAX_ERROR_DATA_LEN, "bounded to 576 bytes of IP");
        let mut buf = vec![0u8; p.payload_len()];
        p.write_payload(&mut buf);
        let pkt = icmpv4::Packet::new_checked(&buf[..]).unwrap();
        assert!(pkt.verify_checksum());
        assert_eq!(&buf[8..28], &quote);
    }

    #[test]
    fn tcp_segment_is_header_then_data_with_a_valid_checksum() {
        use crate::wire::tcp::{SeqNumber, TcpControl, TcpTimestamp};
        let (src, dst) = (Ipv4Address::new(10, 0, 0, 1), Ipv4Address::new(10, 0, 0, 2));
        let data = [1u8, 2, 3, 4, 5];
        let repr = TcpRepr {
            src_port: 80,
            dst_port: 4000,
            control: TcpControl::Fin,
            seq_number: SeqNumber(100),
            ack_number: Some(SeqNumber(200)),
            window_len: 1000,
            timestamp: Some(TcpTimestamp { tsval: 7, tsecr: 9 }),
            push: true,
            ..TcpRepr::default()
        };
        let p = OutPacket::tcp(src, dst, 64, &repr, &data, true);
        assert_eq!(p.payload_len(), 32 + 5);
        let mut buf = vec![0u8; p.payload_len()];
        p.write_payload(&mut buf);
        let packet = TcpPacket::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(&src.into(), &dst.into()));
        assert_eq!(packet.payload(), &data);
        let parsed = TcpRepr::parse(&packet, &src.into(), &dst.into(), true).unwrap();
        assert_eq!(parsed, TcpRepr { payload_len: 5, ..repr });
        // Without checksum computation the field is zero.
        let p = OutPacket::tcp(src, dst, 64, &repr, &data, false);
        p.write_payload(&mut buf);
        assert_eq!(TcpPacket::new_checked(&buf[..]).unwrap().checksum(), 0);
    }

    #[test]
    fn tcp_frame_checksum_is_summed_while_copying() {
        use crate::wire::tcp::{SeqNumber, TcpTimestamp};
        let link = Link {
            mac: EthernetAddress([2, 0, 0, 0, 0, 1]),
            vlan_id: None,
            ip_mtu: 1500,
            ipv4_checksum: true,
            tso_max_len: 0,
        };
        let (src, dst) = (Ipv4Address::new(10, 0, 0, 1), Ipv4Address::new(10, 0, 0, 2));
        let data: std::vec::Vec<u8> =
            (0..1460u32).map(|i| (i * 131 + i / 7) as u8 | if i % 5 == 0 { 0xf0 } else { 0 }).collect();
        // Every payload length up to one MSS with both header sizes (20
        // bytes, and 32 with timestamps): the frame is exact and the
        // checksum is the one a plain sum over the segment gives.
        for ts in [None, Some(TcpTimestamp { tsval: 0xfedc_ba98, tsecr: 0x0123_4567 })] {
            for len in (0..=1448).chain([checksum::COPY_AND_SUM_MIN - 1, checksum::COPY_AND_SUM_MIN]) {
                let repr = TcpRepr {
                    src_port: 49152,
                    dst_port: 80,
                    seq_number: SeqNumber(0x89ab_cdef),
                    ack_number: Some(SeqNumber(7)),
                    window_len: 0xffff,
                    timestamp: ts,
                    payload_len: len,
                    ..TcpRepr::default()
                };
                let header_len = repr.header_len();
                let ip = ipv4::Repr::new(src, dst, IpProtocol::Tcp, header_len + len, 64);
                let mut frame = vec![0u8; 14 + 20 + header_len + len];
                link.write_tcp_frame(
                    &mut frame,
                    EthernetAddress([2, 0, 0, 0, 0, 2]),
                    &ip,
                    &repr,
                    header_len,
                    &data[..len],
                    true,
                );
                let segment = &frame[34..];
                assert_eq!(&segment[header_len..], &data[..len]);
                let packet = TcpPacket::new_checked(segment).unwrap();
                assert!(packet.verify_checksum(&src.into(), &dst.into()), "len {len}");
                let mut zeroed = segment.to_vec();
                zeroed[16] = 0;
                zeroed[17] = 0;
                let expected = checksum::finish(checksum::combine(&[
                    checksum::pseudo_header_v4(&src, &dst, IpProtocol::Tcp, (header_len + len) as u16),
                    checksum::data(&zeroed),
                ]));
                assert_eq!(packet.checksum(), expected, "len {len}");
                // Without checksum computation the field stays zero and
                // the payload is still copied.
                let mut plain = vec![0u8; frame.len()];
                link.write_tcp_frame(
                    &mut plain,
                    EthernetAddress([2, 0, 0, 0, 0, 2]),
                    &ip,
                    &repr,
                    header_len,
                    &data[..len],
                    false,
                );
                assert_eq!(TcpPacket::new_checked(&plain[34..]).unwrap().checksum(), 0);
                assert_eq!(plain[34 + header_len..], data[..len]);
            }
        }
    }

    #[test]
    fn multicast_mapping() {
        assert_eq!(multicast_mac(Ipv4Address::new(224, 0, 0, 1)), EthernetAddress([1, 0, 0x5e, 0, 0, 1]));
        assert_eq!(multicast_mac(Ipv4Address::new(239, 255, 1, 2)), EthernetAddress([1, 0, 0x5e, 0x7f, 1, 2]));
    }
}
