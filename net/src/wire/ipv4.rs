//! IPv4 headers (RFC 791).
//!
//! ```text
//!  0       4       8              16      19             31
//!  |version| IHL   |  DSCP/ECN    |     total length       |
//!  |        identification        |flags| fragment offset  |
//!  |  TTL          |  protocol    |    header checksum     |
//!  |                     source address                    |
//!  |                  destination address                  |
//!  |                 options (IHL > 5) ...                 |
//! ```
//!
//! [`Packet::new_checked`] validates version, IHL, total length against the
//! buffer and the option list, so the payload is always exactly
//! `total length - header length` bytes (link-layer padding is cut off).

use super::checksum;
use super::{Error, IpProtocol, Ipv4Address, Result};

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Largest header: IHL 15.
pub const MAX_HEADER_LEN: usize = 60;
/// Largest datagram the total-length field can describe.
pub const MAX_PACKET_LEN: usize = 65535;
/// Every host must accept datagrams of this size (RFC 791, RFC 1122).
pub const MIN_MTU: usize = 576;

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC_ADDR: Range<usize> = 12..16;
    pub const DST_ADDR: Range<usize> = 16..20;
}

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DONT_FRAG: u16 = 0x4000;
const FLAG_MORE_FRAGS: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// Option type: end of option list.
pub const OPTION_END: u8 = 0;
/// Option type: no operation (padding between options).
pub const OPTION_NOP: u8 = 1;

/// Walks an option list: single-byte END/NOP, every other option a
/// type-length-value whose length covers itself and fits the list.
fn check_options(options: &[u8]) -> Result<()> {
    let mut i = 0;
    while let Some(&kind) = options.get(i) {
        match kind {
            OPTION_END => return Ok(()),
            OPTION_NOP => i += 1,
            _ => {
                let len = usize::from(*options.get(i + 1).ok_or(Error::Malformed)?);
                if len < 2 || len > options.len() - i {
                    return Err(Error::Malformed);
                }
                i += len;
            }
        }
    }
    Ok(())
}

/// A view of an IPv4 packet (header and payload).
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

    /// Validates the header: the buffer holds 20 bytes, version is 4, IHL
    /// at least 5 and the header fits the buffer, total length covers the
    /// header and fits the buffer, and the option list is well-formed.
    pub fn check(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 {
            return Err(Error::Malformed);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len < header_len {
            return Err(Error::Truncated);
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len {
            return Err(Error::Malformed);
        }
        if len < total_len {
            return Err(Error::Truncated);
        }
        // Nearly every header has no options: no call to walk none.
        if header_len == HEADER_LEN {
            return Ok(());
        }
        check_options(self.options())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u16(&self, at: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[at];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }
    /// Header length in bytes (IHL * 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }
    pub fn dscp_ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }
    /// The total-length field: header plus payload.
    pub fn total_len(&self) -> u16 {
        self.read_u16(field::LENGTH)
    }
    pub fn ident(&self) -> u16 {
        self.read_u16(field::IDENT)
    }
    /// The reserved ("evil") flag bit, which senders must leave clear.
    pub fn reserved_flag(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_RESERVED != 0
    }
    pub fn dont_frag(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_DONT_FRAG != 0
    }
    pub fn more_frags(&self) -> bool {
        self.read_u16(field::FLG_OFF) & FLAG_MORE_FRAGS != 0
    }
    /// Fragment offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (self.read_u16(field::FLG_OFF) & OFFSET_MASK) * 8
    }
    /// Whether this is a fragment (not a whole datagram).
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }
    pub fn protocol(&self) -> IpProtocol {
        self.buffer.as_ref()[field::PROTOCOL].into()
    }
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }
    pub fn src_addr(&self) -> Ipv4Address {
        Ipv4Address::from_bytes(&self.buffer.as_ref()[field::SRC_ADDR])
    }
    pub fn dst_addr(&self) -> Ipv4Address {
        Ipv4Address::from_bytes(&self.buffer.as_ref()[field::DST_ADDR])
    }
    /// The raw option bytes (empty when IHL is 5).
    #[inline]
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }
    /// The whole header, options included.
    #[inline]
    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }
    /// Whether the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::is_valid(checksum::data(self.header()))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload, cut to the total length, with the buffer's lifetime.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        &data[self.header_len()..usize::from(self.total_len())]
    }

    /// Header and payload, cut to the total length (link padding removed):
    /// what an ICMP error quotes (`icmpv4::Repr::emit` bounds it).
    pub fn datagram(&self) -> &'a [u8] {
        &self.buffer.as_ref()[..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write_u16(&mut self, at: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[at].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets version 4 and the header length (a multiple of 4, 20..=60).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }
    pub fn set_dscp_ecn(&mut self, v: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = v;
    }
    pub fn set_total_len(&mut self, v: u16) {
        self.write_u16(field::LENGTH, v)
    }
    pub fn set_ident(&mut self, v: u16) {
        self.write_u16(field::IDENT, v)
    }
    /// Writes flags and offset together; `frag_offset` is in bytes and is
    /// truncated to a multiple of 8.
    pub fn set_flags_and_offset(&mut self, dont_frag: bool, more_frags: bool, frag_offset: u16) {
        let mut v = (frag_offset / 8) & OFFSET_MASK;
        if dont_frag {
            v |= FLAG_DONT_FRAG;
        }
        if more_frags {
            v |= FLAG_MORE_FRAGS;
        }
        self.write_u16(field::FLG_OFF, v)
    }
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }
    pub fn set_protocol(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = v.into();
    }
    pub fn set_checksum(&mut self, v: u16) {
        self.write_u16(field::CHECKSUM, v)
    }
    pub fn set_src_addr(&mut self, a: Ipv4Address) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(a.as_bytes());
    }
    pub fn set_dst_addr(&mut self, a: Ipv4Address) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(a.as_bytes());
    }
    /// Computes and writes the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.header());
        self.set_checksum(c);
    }
    /// Decrements TTL and patches the checksum incrementally (RFC 1624),
    /// for a router-style forward. Returns the new TTL; a TTL of 0 stays 0.
    pub fn decrement_ttl(&mut self) -> u8 {
        let ttl = self.ttl();
        let new_ttl = ttl.saturating_sub(1);
        let proto = self.buffer.as_ref()[field::PROTOCOL];
        let old_word = u16::from_be_bytes([ttl, proto]);
        let new_word = u16::from_be_bytes([new_ttl, proto]);
        let c = checksum::update(self.checksum(), old_word, new_word);
        self.set_ttl(new_ttl);
        self.set_checksum(c);
        new_ttl
    }
    /// The payload, mutably, cut to the total length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.header_len(), usize::from(self.total_len()));
        &mut self.buffer.as_mut()[start..end]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an IPv4 header. Options are not kept: received ones are
/// validated and skipped, emitted headers never carry any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub src_addr: Ipv4Address,
    pub dst_addr: Ipv4Address,
    pub protocol: IpProtocol,
    /// Payload bytes after the header (of this fragment, if it is one).
    pub payload_len: usize,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// Offset of this fragment's payload in the datagram, in bytes (a
    /// multiple of 8).
    pub frag_offset: u16,
}

impl Repr {
    /// A whole (unfragmented) datagram with DF clear and ident 0; the
    /// interface fills in `ident` (and fragment fields) when it sends.
    pub const fn new(
        src_addr: Ipv4Address,
        dst_addr: Ipv4Address,
        protocol: IpProtocol,
        payload_len: usize,
        ttl: u8,
    ) -> Repr {
        Repr {
            src_addr,
            dst_addr,
            protocol,
            payload_len,
            ttl,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        }
    }

    /// Parses a checked packet. With `verify_checksum` (the device's
    /// `Checksum::rx()`), a bad header checksum is `Checksum`. A fragment
    /// that would end beyond 65535 bytes, or a non-final fragment whose
    /// payload is not a multiple of 8, is `Malformed`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, verify_checksum: bool) -> Result<Repr> {
        packet.check()?;
        Repr::parse_checked(packet, verify_checksum)
    }

    /// [`parse`](Self::parse) for a packet that already passed
    /// [`Packet::check`] (the receive path checks once, not twice).
    pub(crate) fn parse_checked<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, verify_checksum: bool) -> Result<Repr> {
        if verify_checksum && !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        let payload_len = packet.payload().len();
        let frag_offset = packet.frag_offset();
        let more_frags = packet.more_frags();
        if usize::from(frag_offset) + payload_len > MAX_PACKET_LEN {
            return Err(Error::Malformed);
        }
        if more_frags && payload_len % 8 != 0 {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len,
            ttl: packet.ttl(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags,
            frag_offset,
        })
    }

    /// Always 20: emitted headers carry no options.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Whether this header describes a fragment.
    pub const fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }

    /// Writes the header into a buffer of at least [`Repr::header_len`]
    /// bytes (the payload follows it). With `compute_checksum` (the
    /// device's `Checksum::tx()`) the header checksum is filled, otherwise
    /// left zero for the device. `buffer_len()` must not exceed 65535; the
    /// interface fragments before that.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>, compute_checksum: bool) {
        // Built in a local array in one pass (every segment sent comes
        // through here), then stored at once.
        let mut h = [0u8; HEADER_LEN];
        h[field::VER_IHL] = 0x40 | (HEADER_LEN / 4) as u8;
        h[field::LENGTH].copy_from_slice(&u16::try_from(self.buffer_len()).unwrap_or(u16::MAX).to_be_bytes());
        h[field::IDENT].copy_from_slice(&self.ident.to_be_bytes());
        let mut flags = (self.frag_offset / 8) & OFFSET_MASK;
        if self.dont_frag {
            flags |= FLAG_DONT_FRAG;
        }
        if self.more_frags {
            flags |= FLAG_MORE_FRAGS;
        }
        h[field::FLG_OFF].copy_from_slice(&flags.to_be_bytes());
        h[field::TTL] = self.ttl;
        h[field::PROTOCOL] = self.protocol.into();
        h[field::SRC_ADDR].copy_from_slice(self.src_addr.as_bytes());
        h[field::DST_ADDR].copy_from_slice(self.dst_addr.as_bytes());
        if compute_checksum {
            let c = checksum::checksum(&h);
            h[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
        }
        packet.buffer.as_mut()[..HEADER_LEN].copy_from_slice(&h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 192.168.0.1 -> 192.168.0.199, UDP, total length 24 (4 payload bytes),
    // DF, TTL 64, ident 0x1234.
    static PACKET: [u8; 24] = [
        0x45, 0x00, 0x00, 0x18, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0xa6, 0x88, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
        0x00, 0xc7, 0xde, 0xad, 0xbe, 0xef,
    ];

    fn packet_repr() -> Repr {
        Repr {
            src_addr: Ipv4Address::new(192, 168, 0, 1),
            dst_addr: Ipv4Address::new(192, 168, 0, 199),
            protocol: IpProtocol::Udp,
            payload_len: 4,
            ttl: 64,
            ident: 0x1234,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        }
    }

    /// Rewrites the checksum of a hand-edited header.
    fn fix_checksum(buf: &mut [u8]) {
        Packet::new_unchecked(buf).fill_checksum();
    }

    #[test]
    fn parse_fields() {
        let packet = Packet::new_checked(&PACKET[..]).unwrap();
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.total_len(), 24);
        assert_eq!(packet.ident(), 0x1234);
        assert!(packet.dont_frag());
        assert!(!packet.more_frags());
        assert!(!packet.is_fragment());
        assert_eq!(packet.ttl(), 64);
        assert_eq!(packet.protocol(), IpProtocol::Udp);
        assert!(packet.verify_checksum());
        assert_eq!(packet.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(Repr::parse(&packet, true).unwrap(), packet_repr());
    }

    #[test]
    fn emit_exact_bytes_and_round_trip() {
        let repr = packet_repr();
        let mut buf = [0u8; 24];
        let mut packet = Packet::new_unchecked(&mut buf[..]);
        repr.emit(&mut packet, true);
        packet.payload_mut().copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(buf, PACKET);
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap(), true).unwrap(), repr);
    }

    #[test]
    fn emit_without_checksum_leaves_zero() {
        let mut buf = [0xffu8; 24];
        packet_repr().emit(&mut Packet::new_unchecked(&mut buf[..]), false);
        assert_eq!(&buf[10..12], &[0, 0]);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Checksum);
        assert_eq!(Repr::parse(&packet, false).unwrap(), packet_repr());
    }

    #[test]
    fn fragment_fields_round_trip() {
        let repr = Repr { more_frags: true, dont_frag: false, frag_offset: 1480, payload_len: 8, ..packet_repr() };
        assert!(repr.is_fragment());
        let mut buf = [0u8; 28];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), true);
        // 1480 / 8 = 185 = 0x0b9, with MF: 0x20b9.
        assert_eq!(&buf[6..8], &[0x20, 0xb9]);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert!(packet.is_fragment());
        assert_eq!(Repr::parse(&packet, true).unwrap(), repr);
    }

    #[test]
    fn payload_cut_to_total_length() {
        // Ethernet pads short frames; the padding is not payload.
        let mut buf = [0u8; 46];
        buf[..24].copy_from_slice(&PACKET);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.payload(), &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(packet.datagram(), &PACKET[..]);
        assert_eq!(Repr::parse(&packet, true).unwrap().payload_len, 4);
    }

    #[test]
    fn options_skipped() {
        // IHL 8: NOP, record route (len 7, pointer 4, one empty slot),
        // timestamp-ish TLV (len 3), END, padding.
        let mut buf = [0u8; 36];
        buf[..20].copy_from_slice(&PACKET[..20]);
        buf[0] = 0x48;
        buf[2..4].copy_from_slice(&36u16.to_be_bytes());
        buf[20..32].copy_from_slice(&[1, 7, 7, 4, 0, 0, 0, 0, 68, 3, 5, 0]);
        buf[32..36].copy_from_slice(&[1, 2, 3, 4]);
        fix_checksum(&mut buf);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.header_len(), 32);
        assert_eq!(packet.options().len(), 12);
        assert_eq!(packet.payload(), &[1, 2, 3, 4]);
        let repr = Repr::parse(&packet, true).unwrap();
        assert_eq!(repr.payload_len, 4);
    }

    #[test]
    fn truncated_header_rejected() {
        for len in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&PACKET[..len]).unwrap_err(), Error::Truncated);
        }
    }

    #[test]
    fn bad_version_rejected() {
        let mut buf = PACKET;
        buf[0] = 0x65;
        assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn ihl_below_five_rejected() {
        for ihl in 0..5u8 {
            let mut buf = PACKET;
            buf[0] = 0x40 | ihl;
            assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Malformed);
        }
    }

    #[test]
    fn ihl_beyond_buffer_rejected() {
        let mut buf = PACKET;
        buf[0] = 0x47; // 28-byte header in a 24-byte buffer
        buf[2..4].copy_from_slice(&28u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn total_length_below_header_rejected() {
        let mut buf = PACKET;
        buf[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn total_length_beyond_buffer_rejected() {
        let mut buf = PACKET;
        buf[2..4].copy_from_slice(&25u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&PACKET[..23]).unwrap_err(), Error::Truncated);
    }

    fn with_options(options: &[u8; 8]) -> [u8; 28] {
        let mut buf = [0u8; 28];
        buf[..20].copy_from_slice(&PACKET[..20]);
        buf[0] = 0x47;
        buf[2..4].copy_from_slice(&28u16.to_be_bytes());
        buf[20..].copy_from_slice(options);
        fix_checksum(&mut buf);
        buf
    }

    #[test]
    fn malformed_options_rejected() {
        let bad: [[u8; 8]; 4] = [
            [1, 1, 1, 1, 1, 1, 1, 7],  // a TLV type with no length byte
            [7, 1, 0, 0, 0, 0, 0, 0],  // length 1 < 2
            [7, 0, 0, 0, 0, 0, 0, 0],  // length 0
            [1, 68, 8, 0, 0, 0, 0, 0], // length 8 runs past the list
        ];
        for options in bad {
            let buf = with_options(&options);
            assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Malformed, "{options:?}");
        }
        let good: [[u8; 8]; 3] = [
            [1, 1, 1, 1, 1, 1, 1, 1],
            [0, 0xff, 0xff, 0, 0, 0, 0, 0], // anything after END is ignored
            [68, 8, 0, 0, 0, 0, 0, 0],      // exactly fills the list
        ];
        for options in good {
            let buf = with_options(&options);
            assert!(Packet::new_checked(&buf[..]).is_ok(), "{options:?}");
        }
    }

    #[test]
    fn bad_checksum_rejected() {
        let mut buf = PACKET;
        buf[11] ^= 1;
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert!(!packet.verify_checksum());
        assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Checksum);
        assert!(Repr::parse(&packet, false).is_ok());
    }

    #[test]
    fn oversized_fragment_rejected() {
        // Offset 65528 plus 8 bytes of payload ends past 65535.
        let mut buf = [0u8; 28];
        buf[..20].copy_from_slice(&PACKET[..20]);
        buf[2..4].copy_from_slice(&28u16.to_be_bytes());
        buf[6..8].copy_from_slice(&0x1fffu16.to_be_bytes());
        fix_checksum(&mut buf);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.frag_offset(), 65528);
        assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn non_final_fragment_of_odd_size_rejected() {
        let mut buf = [0u8; 27];
        buf[..20].copy_from_slice(&PACKET[..20]);
        buf[2..4].copy_from_slice(&27u16.to_be_bytes());
        buf[6..8].copy_from_slice(&0x2000u16.to_be_bytes());
        fix_checksum(&mut buf);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Malformed);
        // The same size as the last fragment is fine.
        buf[6..8].copy_from_slice(&0x0001u16.to_be_bytes());
        fix_checksum(&mut buf);
        assert!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap(), true).is_ok());
    }

    #[test]
    fn decrement_ttl_keeps_checksum_valid() {
        let mut buf = PACKET;
        let mut packet = Packet::new_unchecked(&mut buf[..]);
        assert_eq!(packet.decrement_ttl(), 63);
        assert!(packet.verify_checksum());
        let mut fresh = buf;
        fix_checksum(&mut fresh);
        assert_eq!(buf, fresh);
    }
}
