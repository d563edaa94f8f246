//! IPv6 fixed headers (RFC 8200 section 3).
//!
//! ```text
//!  0       4               12                              31
//!  |version| traffic class |          flow label           |
//!  |        payload length         | next header | hop limit |
//!  |                source address (16 bytes)               |
//!  |             destination address (16 bytes)             |
//! ```
//!
//! [`Packet::new_checked`] validates the version and the payload length
//! against the buffer, so the payload is always exactly `payload length`
//! bytes (link-layer padding is cut off). Extension headers are walked by
//! [`super::ipv6ext`].

use super::{Error, IpProtocol, Ipv6Address, Result};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;
/// Every link must carry packets of this size (RFC 8200 section 5).
pub const MIN_MTU: usize = 1280;
/// Largest payload the payload-length field can describe (jumbograms,
/// RFC 2675, are not supported: no link this stack drives carries them).
pub const MAX_PAYLOAD_LEN: usize = 65535;

mod field {
    use core::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// Offset of the next-header field in the fixed header: the pointer of an
/// ICMPv6 parameter problem about the first next-header value.
pub const NEXT_HEADER_OFFSET: usize = field::NEXT_HEADER;

/// A view of an IPv6 packet (fixed header and payload).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short
    /// buffer. Use [`Packet::new_checked`] on received data.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`Packet::check`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check()?;
        Ok(packet)
    }

    /// Validates the header: the buffer holds 40 bytes, version is 6, and
    /// the payload length fits the buffer.
    pub fn check(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 6 {
            return Err(Error::Malformed);
        }
        if len - HEADER_LEN < usize::from(self.payload_len()) {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u32(&self, at: core::ops::Range<usize>) -> u32 {
        let b = &self.buffer.as_ref()[at];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }
    /// DSCP and ECN, the byte that straddles the first two nibbles.
    pub fn traffic_class(&self) -> u8 {
        (self.read_u32(field::VER_TC_FLOW) >> 20) as u8
    }
    /// The 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        self.read_u32(field::VER_TC_FLOW) & 0x000f_ffff
    }
    /// The payload-length field: everything after the fixed header,
    /// extension headers included.
    pub fn payload_len(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]])
    }
    /// The first next-header value: an extension header or the upper layer.
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NEXT_HEADER].into()
    }
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }
    pub fn src_addr(&self) -> Ipv6Address {
        Ipv6Address::from_bytes(&self.buffer.as_ref()[field::SRC_ADDR])
    }
    pub fn dst_addr(&self) -> Ipv6Address {
        Ipv6Address::from_bytes(&self.buffer.as_ref()[field::DST_ADDR])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload (extension headers included), cut to the payload
    /// length, with the buffer's lifetime.
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        &data[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }

    /// Header and payload, cut to the payload length (link padding
    /// removed): what an ICMPv6 error quotes (`icmpv6::Repr::emit` bounds it).
    pub fn datagram(&self) -> &'a [u8] {
        &self.buffer.as_ref()[..HEADER_LEN + usize::from(self.payload_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes version 6, the traffic class and the flow label (its low
    /// 20 bits).
    pub fn set_version_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let v = (6u32 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_payload_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_next_header(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = v.into();
    }
    pub fn set_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = v;
    }
    pub fn set_src_addr(&mut self, a: Ipv6Address) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(a.as_bytes());
    }
    pub fn set_dst_addr(&mut self, a: Ipv6Address) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(a.as_bytes());
    }
    /// The payload, mutably, cut to the payload length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an IPv6 fixed header. `next_header` is the first
/// next-header value (an extension header or the upper layer) and
/// `payload_len` counts every byte after the fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub src_addr: Ipv6Address,
    pub dst_addr: Ipv6Address,
    pub next_header: IpProtocol,
    pub payload_len: usize,
    pub hop_limit: u8,
    pub traffic_class: u8,
    /// 20 bits; higher bits are dropped on emit.
    pub flow_label: u32,
}

impl Repr {
    /// A header with traffic class and flow label zero.
    pub const fn new(
        src_addr: Ipv6Address,
        dst_addr: Ipv6Address,
        next_header: IpProtocol,
        payload_len: usize,
        hop_limit: u8,
    ) -> Repr {
        Repr { src_addr, dst_addr, next_header, payload_len, hop_limit, traffic_class: 0, flow_label: 0 }
    }

    /// Parses a checked packet. A multicast source is `Malformed` (RFC 4291
    /// 2.7: never a source); everything else is left to the caller.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check()?;
        let src_addr = packet.src_addr();
        if src_addr.is_multicast() {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            src_addr,
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Always 40.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header into a buffer of at least [`Repr::header_len`]
    /// bytes (the payload follows it). `payload_len` must not exceed
    /// [`MAX_PAYLOAD_LEN`] (it is clamped); the interface fragments first.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_version_tc_flow(self.traffic_class, self.flow_label);
        packet.set_payload_len(u16::try_from(self.payload_len).unwrap_or(u16::MAX));
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // fe80::1 -> ff02::1, traffic class 0xb8, flow label 0x12345, UDP,
    // hop limit 64, payload "abcd", then two bytes of link padding.
    static PACKET: [u8; 46] = [
        0x6b, 0x81, 0x23, 0x45, 0x00, 0x04, 0x11, 0x40, // version..hop limit
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // src
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // dst
        b'a', b'b', b'c', b'd', 0, 0,
    ];

    fn packet_repr() -> Repr {
        Repr {
            src_addr: Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
            dst_addr: Ipv6Address::LINK_LOCAL_ALL_NODES,
            next_header: IpProtocol::Udp,
            payload_len: 4,
            hop_limit: 64,
            traffic_class: 0xb8,
            flow_label: 0x12345,
        }
    }

    #[test]
    fn parse_fields() {
        let packet = Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(packet.version(), 6);
        assert_eq!(packet.traffic_class(), 0xb8);
        assert_eq!(packet.flow_label(), 0x12345);
        assert_eq!(packet.payload_len(), 4);
        assert_eq!(packet.payload(), b"abcd");
        assert_eq!(packet.datagram(), &PACKET[..44]);
        assert_eq!(Repr::parse(&packet).unwrap(), packet_repr());
    }

    #[test]
    fn emit_exact_bytes() {
        let repr = packet_repr();
        let mut buf = [0xeeu8; 44];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        buf[40..].copy_from_slice(b"abcd");
        assert_eq!(buf[..], PACKET[..44]);
        assert_eq!(repr.buffer_len(), 44);
    }

    #[test]
    fn round_trip_new() {
        let repr = Repr::new(
            Ipv6Address::LOOPBACK,
            Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5),
            IpProtocol::Tcp,
            0,
            255,
        );
        let mut buf = [0u8; 40];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        assert_eq!(buf[..8], [0x60, 0, 0, 0, 0, 0, 6, 255]);
    }

    #[test]
    fn malformed() {
        assert_eq!(Packet::new_checked(&PACKET[..39]).unwrap_err(), Error::Truncated);
        // Payload length beyond the buffer.
        assert_eq!(Packet::new_checked(&PACKET[..43]).unwrap_err(), Error::Truncated);
        let mut bad = PACKET;
        bad[0] = 0x45;
        assert_eq!(Packet::new_checked(&bad[..]).unwrap_err(), Error::Malformed);
        let mut bad = PACKET;
        bad[4] = 0xff;
        assert_eq!(Packet::new_checked(&bad[..]).unwrap_err(), Error::Truncated);
        // Multicast source.
        let mut bad = PACKET;
        bad[8] = 0xff;
        assert_eq!(Repr::parse(&Packet::new_checked(&bad[..]).unwrap()).unwrap_err(), Error::Malformed);
        // Empty payload is fine.
        let mut empty = PACKET;
        empty[5] = 0;
        assert_eq!(Packet::new_checked(&empty[..40]).unwrap().payload(), b"");
    }

    #[test]
    fn emit_clamps_oversized_payload_len() {
        let mut repr = packet_repr();
        repr.payload_len = 70000;
        let mut buf = [0u8; 40];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(Packet::new_unchecked(&buf[..]).payload_len(), 0xffff);
    }
}
