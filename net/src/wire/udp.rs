//! UDP datagrams (RFC 768).
//!
//! ```text
//!  0          2          4        6          8
//!  | src port | dst port | length | checksum | payload ...
//! ```
//!
//! The checksum covers a pseudo-header of the IP addresses (see
//! [`checksum::pseudo_header`]). Over IPv4 a zero checksum means "none
//! computed", so a computed zero is sent as `0xffff`; over IPv6 a zero
//! checksum is not allowed.

use super::checksum;
use super::{Error, IpAddress, IpProtocol, Result};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// A view of a UDP datagram.
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

    /// Wraps a buffer after [`Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The buffer holds the header; the length field is at least 8
    /// (`Malformed`) and at most the buffer (`Truncated`).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let field_len = usize::from(self.len());
        if field_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if field_len > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u16(&self, at: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[at];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn src_port(&self) -> u16 {
        self.read_u16(field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        self.read_u16(field::DST_PORT)
    }
    /// The length field: header plus payload.
    pub fn len(&self) -> u16 {
        self.read_u16(field::LENGTH)
    }
    /// Whether the length field says there is no payload.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }

    /// Whether the checksum verifies for these IP addresses. A zero
    /// checksum over IPv4 means none was sent and always verifies; over
    /// IPv6 it never does.
    pub fn verify_checksum(&self, src: &IpAddress, dst: &IpAddress) -> bool {
        if self.checksum() == 0 {
            return matches!(src, IpAddress::V4(_));
        }
        let datagram = &self.buffer.as_ref()[..usize::from(self.len())];
        let sum = checksum::combine(&[
            checksum::pseudo_header(src, dst, IpProtocol::Udp, u32::from(self.len())),
            checksum::data(datagram),
        ]);
        checksum::is_valid(sum)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload, cut to the length field, with the buffer's lifetime.
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write_u16(&mut self, at: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[at].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_src_port(&mut self, v: u16) {
        self.write_u16(field::SRC_PORT, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        self.write_u16(field::DST_PORT, v)
    }
    pub fn set_len(&mut self, v: u16) {
        self.write_u16(field::LENGTH, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        self.write_u16(field::CHECKSUM, v)
    }
    /// The payload, mutably, cut to the length field.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
    /// Computes the checksum over the pseudo-header and the datagram (as
    /// long as the length field says) and writes it; a computed zero is
    /// written as `0xffff`.
    pub fn fill_checksum(&mut self, src: &IpAddress, dst: &IpAddress) {
        self.set_checksum(0);
        let len = self.len();
        let sum = checksum::combine(&[
            checksum::pseudo_header(src, dst, IpProtocol::Udp, u32::from(len)),
            checksum::data(&self.buffer.as_ref()[..usize::from(len)]),
        ]);
        let c = match checksum::finish(sum) {
            0 => 0xffff,
            c => c,
        };
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a datagram carried between `src` and `dst`. With
    /// `verify_checksum` (the device's `Checksum::rx()`) a bad checksum is
    /// `Checksum`. Destination port 0 is `Malformed` (RFC 768 reserves it).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        src: &IpAddress,
        dst: &IpAddress,
        verify_checksum: bool,
    ) -> Result<Repr<'a>> {
        packet.check_len()?;
        if packet.dst_port() == 0 {
            return Err(Error::Malformed);
        }
        if verify_checksum && !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(Repr { src_port: packet.src_port(), dst_port: packet.dst_port(), payload: packet.payload() })
    }

    /// Always 8.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes only the header, for a `payload_len`-byte payload the caller
    /// writes itself (straight from a socket buffer, say; `self.payload` is
    /// ignored). The checksum is left zero: call
    /// [`Packet::fill_checksum`] once the payload is in place.
    pub fn emit_header<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>, payload_len: usize) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        let len = HEADER_LEN.saturating_add(payload_len);
        packet.set_len(u16::try_from(len).unwrap_or(u16::MAX));
        packet.set_checksum(0);
    }

    /// Writes the datagram (header and payload) into a buffer of at least
    /// [`Repr::buffer_len`] bytes, which must not exceed 65535. With
    /// `compute_checksum` (the device's `Checksum::tx()`) the checksum is
    /// filled, otherwise left zero ("none" on IPv4, or for the device).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut Packet<&mut T>,
        src: &IpAddress,
        dst: &IpAddress,
        compute_checksum: bool,
    ) {
        self.emit_header(packet, self.payload.len());
        packet.payload_mut().copy_from_slice(self.payload);
        if compute_checksum {
            packet.fill_checksum(src, dst);
        } else {
            packet.set_checksum(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Ipv4Address, Ipv6Address};

    const SRC: IpAddress = IpAddress::V4(Ipv4Address::new(192, 168, 1, 1));
    const DST: IpAddress = IpAddress::V4(Ipv4Address::new(192, 168, 1, 2));

    // 12345 -> 53, payload "abcd"; checksum computed independently.
    static DATAGRAM: [u8; 12] = [0x30, 0x39, 0x00, 0x35, 0x00, 0x0c, 0x87, 0x4d, 0x61, 0x62, 0x63, 0x64];

    #[test]
    fn parse_fields() {
        let packet = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(packet.src_port(), 12345);
        assert_eq!(packet.dst_port(), 53);
        assert_eq!(packet.len(), 12);
        assert_eq!(packet.payload(), b"abcd");
        assert!(packet.verify_checksum(&SRC, &DST));
        let repr = Repr::parse(&packet, &SRC, &DST, true).unwrap();
        assert_eq!(repr, Repr { src_port: 12345, dst_port: 53, payload: b"abcd" });
    }

    #[test]
    fn emit_exact_bytes_and_round_trip() {
        let repr = Repr { src_port: 12345, dst_port: 53, payload: b"abcd" };
        let mut buf = [0u8; 12];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &SRC, &DST, true);
        assert_eq!(buf, DATAGRAM);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, &SRC, &DST, true).unwrap(), repr);
    }

    #[test]
    fn zero_checksum_means_none_on_ipv4() {
        let repr = Repr { src_port: 1, dst_port: 2, payload: b"xyz" };
        let mut buf = [0u8; 11];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &SRC, &DST, false);
        assert_eq!(&buf[6..8], &[0, 0]);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, &SRC, &DST, true).unwrap(), repr);
        // Not on IPv6.
        let v6 = IpAddress::V6(Ipv6Address([1; 16]));
        assert_eq!(Repr::parse(&packet, &v6, &v6, true).unwrap_err(), Error::Checksum);
    }

    #[test]
    fn computed_zero_sent_as_ffff() {
        // Choose a payload word that makes the checksum come out as zero:
        // with the word 0, compute c; then adding c to the sum gives 0xffff,
        // whose complement is 0.
        let mut buf = [0u8; 10];
        let repr = Repr { src_port: 1000, dst_port: 2000, payload: &[0, 0] };
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &SRC, &DST, true);
        let c = u16::from_be_bytes([buf[6], buf[7]]);
        let payload = c.to_be_bytes();
        let repr = Repr { src_port: 1000, dst_port: 2000, payload: &payload };
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &SRC, &DST, true);
        assert_eq!(&buf[6..8], &[0xff, 0xff]);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(&SRC, &DST));
        assert_eq!(Repr::parse(&packet, &SRC, &DST, true).unwrap(), repr);
    }

    #[test]
    fn payload_cut_to_length_field() {
        let mut buf = [0u8; 20];
        buf[..12].copy_from_slice(&DATAGRAM);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.payload(), b"abcd");
        assert!(Repr::parse(&packet, &SRC, &DST, true).is_ok());
    }

    #[test]
    fn truncated_header_rejected() {
        for len in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&DATAGRAM[..len]).unwrap_err(), Error::Truncated);
        }
    }

    #[test]
    fn length_field_checks() {
        for bad in 0..8u16 {
            let mut buf = DATAGRAM;
            buf[4..6].copy_from_slice(&bad.to_be_bytes());
            assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Malformed);
        }
        let mut buf = DATAGRAM;
        buf[4..6].copy_from_slice(&13u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
        assert_eq!(Repr::parse(&Packet::new_unchecked(&buf[..]), &SRC, &DST, false).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn bad_checksum_rejected() {
        let mut buf = DATAGRAM;
        buf[9] ^= 1;
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, &SRC, &DST, true).unwrap_err(), Error::Checksum);
        assert!(Repr::parse(&packet, &SRC, &DST, false).is_ok());
        // The pseudo-header counts: other addresses do not verify.
        let other = IpAddress::V4(Ipv4Address::new(192, 168, 1, 3));
        let packet = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert!(!packet.verify_checksum(&SRC, &other));
    }

    #[test]
    fn emit_header_then_payload_in_place() {
        let repr = Repr { src_port: 12345, dst_port: 53, payload: &[] };
        let mut buf = [0xaau8; 12];
        let mut packet = Packet::new_unchecked(&mut buf[..]);
        repr.emit_header(&mut packet, 4);
        assert_eq!(packet.checksum(), 0);
        packet.payload_mut().copy_from_slice(b"abcd");
        packet.fill_checksum(&SRC, &DST);
        assert_eq!(buf, DATAGRAM);
    }

    #[test]
    fn zero_destination_port_rejected() {
        let repr = Repr { src_port: 1, dst_port: 0, payload: &[] };
        let mut buf = [0u8; 8];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &SRC, &DST, true);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, &SRC, &DST, true).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn ipv6_pseudo_header_round_trip() {
        let src = IpAddress::V6(Ipv6Address([0xfe; 16]));
        let dst = IpAddress::V6(Ipv6Address([0x20; 16]));
        let repr = Repr { src_port: 5353, dst_port: 5353, payload: b"hello" };
        let mut buf = [0u8; 13];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst, true);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_ne!(packet.checksum(), 0);
        assert_eq!(Repr::parse(&packet, &src, &dst, true).unwrap(), repr);
    }
}
