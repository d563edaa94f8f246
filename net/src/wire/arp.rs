//! ARP (RFC 826) packets. The view handles any hardware and protocol
//! address lengths; [`Repr`] only Ethernet/IPv4, the one pairing this stack
//! speaks.
//!
//! ```text
//!  0      2      4    5    6      8
//!  | htype | ptype | hlen | plen | oper | sha | spa | tha | tpa |
//! ```

use super::{Error, EthernetAddress, Ipv4Address, Result};

/// Hardware type for Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;
/// Protocol type for IPv4 (the IPv4 EtherType).
pub const PTYPE_IPV4: u16 = 0x0800;
/// Fixed part before the addresses.
pub const FIXED_LEN: usize = 8;
/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = FIXED_LEN + 2 * (6 + 4);

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
}

/// What an ARP packet asks or answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Request,
    Reply,
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Operation {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            other => Operation::Unknown(other),
        }
    }
}

impl From<Operation> for u16 {
    fn from(op: Operation) -> u16 {
        match op {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(other) => other,
        }
    }
}

/// A view of an ARP packet.
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

    /// Wraps a buffer after checking it holds the fixed part and the four
    /// addresses at the lengths the packet declares.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the buffer against the declared address lengths.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < FIXED_LEN {
            return Err(Error::Truncated);
        }
        if len < self.total_len() {
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

    pub fn hardware_type(&self) -> u16 {
        self.read_u16(field::HTYPE)
    }
    pub fn protocol_type(&self) -> u16 {
        self.read_u16(field::PTYPE)
    }
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }
    pub fn operation(&self) -> Operation {
        self.read_u16(field::OPER).into()
    }

    /// The packet's length as declared by its address lengths (at most
    /// 8 + 2 * 510, so no overflow).
    pub fn total_len(&self) -> usize {
        FIXED_LEN + 2 * (usize::from(self.hardware_len()) + usize::from(self.protocol_len()))
    }

    fn sha_range(&self) -> core::ops::Range<usize> {
        let start = FIXED_LEN;
        start..start + usize::from(self.hardware_len())
    }
    fn spa_range(&self) -> core::ops::Range<usize> {
        let start = self.sha_range().end;
        start..start + usize::from(self.protocol_len())
    }
    fn tha_range(&self) -> core::ops::Range<usize> {
        let start = self.spa_range().end;
        start..start + usize::from(self.hardware_len())
    }
    fn tpa_range(&self) -> core::ops::Range<usize> {
        let start = self.tha_range().end;
        start..start + usize::from(self.protocol_len())
    }

    pub fn source_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.sha_range()]
    }
    pub fn source_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.spa_range()]
    }
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tha_range()]
    }
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[self.tpa_range()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write_u16(&mut self, at: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[at].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_hardware_type(&mut self, v: u16) {
        self.write_u16(field::HTYPE, v)
    }
    pub fn set_protocol_type(&mut self, v: u16) {
        self.write_u16(field::PTYPE, v)
    }
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v
    }
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v
    }
    pub fn set_operation(&mut self, op: Operation) {
        self.write_u16(field::OPER, op.into())
    }
    /// Address setters use the lengths already written to the header.
    pub fn set_source_hardware_addr(&mut self, addr: &[u8]) {
        let r = self.sha_range();
        self.buffer.as_mut()[r].copy_from_slice(addr)
    }
    pub fn set_source_protocol_addr(&mut self, addr: &[u8]) {
        let r = self.spa_range();
        self.buffer.as_mut()[r].copy_from_slice(addr)
    }
    pub fn set_target_hardware_addr(&mut self, addr: &[u8]) {
        let r = self.tha_range();
        self.buffer.as_mut()[r].copy_from_slice(addr)
    }
    pub fn set_target_protocol_addr(&mut self, addr: &[u8]) {
        let r = self.tpa_range();
        self.buffer.as_mut()[r].copy_from_slice(addr)
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// An Ethernet/IPv4 ARP request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub operation: Operation,
    pub source_hardware_addr: EthernetAddress,
    pub source_protocol_addr: Ipv4Address,
    pub target_hardware_addr: EthernetAddress,
    pub target_protocol_addr: Ipv4Address,
}

impl Repr {
    /// Parses an Ethernet/IPv4 request or reply. Other hardware or protocol
    /// types, address lengths or operations are `Unsupported`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.hardware_type() != HTYPE_ETHERNET
            || packet.protocol_type() != PTYPE_IPV4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        let operation = match packet.operation() {
            op @ (Operation::Request | Operation::Reply) => op,
            Operation::Unknown(_) => return Err(Error::Unsupported),
        };
        Ok(Repr {
            operation,
            source_hardware_addr: EthernetAddress::from_bytes(packet.source_hardware_addr()),
            source_protocol_addr: Ipv4Address::from_bytes(packet.source_protocol_addr()),
            target_hardware_addr: EthernetAddress::from_bytes(packet.target_hardware_addr()),
            target_protocol_addr: Ipv4Address::from_bytes(packet.target_protocol_addr()),
        })
    }

    /// Always 28 bytes.
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet into a buffer of at least [`Repr::buffer_len`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_protocol_type(PTYPE_IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(self.source_hardware_addr.as_bytes());
        packet.set_source_protocol_addr(self.source_protocol_addr.as_bytes());
        packet.set_target_hardware_addr(self.target_hardware_addr.as_bytes());
        packet.set_target_protocol_addr(self.target_protocol_addr.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Who has 10.0.2.15? Tell 10.0.2.2 (52:55:0a:00:02:02).
    static REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x02,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x0f,
    ];

    fn request_repr() -> Repr {
        Repr {
            operation: Operation::Request,
            source_hardware_addr: EthernetAddress([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02]),
            source_protocol_addr: Ipv4Address::new(10, 0, 2, 2),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: Ipv4Address::new(10, 0, 2, 15),
        }
    }

    #[test]
    fn parse_request() {
        let packet = Packet::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(packet.hardware_type(), 1);
        assert_eq!(packet.protocol_type(), 0x0800);
        assert_eq!(packet.operation(), Operation::Request);
        assert_eq!(packet.total_len(), 28);
        assert_eq!(Repr::parse(&packet).unwrap(), request_repr());
    }

    #[test]
    fn emit_exact_bytes_and_round_trip() {
        let mut buf = [0xa5u8; 28];
        let repr = request_repr();
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, REQUEST);

        let reply = Repr { operation: Operation::Reply, ..repr };
        reply.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[6..8], &[0, 2]);
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), reply);
    }

    #[test]
    fn trailing_padding_ignored() {
        let mut buf = [0u8; 46];
        buf[..28].copy_from_slice(&REQUEST);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet).unwrap(), request_repr());
    }

    #[test]
    fn truncated_fixed_part_rejected() {
        for len in 0..FIXED_LEN {
            assert_eq!(Packet::new_checked(&REQUEST[..len]).unwrap_err(), Error::Truncated);
        }
    }

    #[test]
    fn truncated_addresses_rejected() {
        for len in FIXED_LEN..28 {
            assert_eq!(Packet::new_checked(&REQUEST[..len]).unwrap_err(), Error::Truncated);
            assert_eq!(Repr::parse(&Packet::new_unchecked(&REQUEST[..len])).unwrap_err(), Error::Truncated);
        }
        // Declared lengths beyond the buffer: hlen 255 needs 8 + 2*259 bytes.
        let mut buf = REQUEST;
        buf[4] = 255;
        assert_eq!(Packet::new_checked(&buf[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn other_types_unsupported() {
        let cases: [(usize, u8); 5] = [(1, 6), (2, 0x86), (4, 8), (5, 16), (7, 3)];
        for (at, value) in cases {
            let mut buf = [0u8; 64];
            buf[..28].copy_from_slice(&REQUEST);
            buf[at] = value;
            let packet = Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(Repr::parse(&packet).unwrap_err(), Error::Unsupported, "byte {at}");
        }
    }

    #[test]
    fn generic_lengths_view() {
        // A (made-up) packet with hlen 2 and plen 1: the view still works.
        let buf = [0, 9, 0, 9, 2, 1, 0, 1, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf];
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(packet.source_hardware_addr(), &[0xa, 0xb]);
        assert_eq!(packet.source_protocol_addr(), &[0xc]);
        assert_eq!(packet.target_hardware_addr(), &[0xd, 0xe]);
        assert_eq!(packet.target_protocol_addr(), &[0xf]);
        assert_eq!(Repr::parse(&packet).unwrap_err(), Error::Unsupported);
    }
}
