//! Ethernet II frames (without FCS), with receive-side support for one
//! IEEE 802.1Q VLAN tag.
//!
//! ```text
//!  0      6      12        14 (untagged)       18 (tagged)
//!  | dst  | src  | type    | payload ...
//!  | dst  | src  | 0x8100  | TCI | type | payload ...
//! ```

use core::fmt;

use super::{Error, EthernetAddress, Result};

/// Length of an untagged Ethernet II header.
pub const HEADER_LEN: usize = 14;
/// Length of the 802.1Q tag (TPID is the outer EtherType; TCI + inner type).
pub const VLAN_TAG_LEN: usize = 4;

mod field {
    use core::ops::Range;
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    /// Tag control information, when the outer type is 0x8100.
    pub const VLAN_TCI: Range<usize> = 14..16;
    pub const VLAN_ETHERTYPE: Range<usize> = 16..18;
}

/// The protocol an Ethernet frame (or VLAN tag) says it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EtherType {
    Ipv4,
    Arp,
    Ipv6,
    /// An IEEE 802.1Q tag follows.
    Vlan,
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> EtherType {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x86dd => EtherType::Ipv6,
            0x8100 => EtherType::Vlan,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        match t {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Ipv6 => 0x86dd,
            EtherType::Vlan => 0x8100,
            EtherType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            EtherType::Ipv4 => f.write_str("IPv4"),
            EtherType::Arp => f.write_str("ARP"),
            EtherType::Ipv6 => f.write_str("IPv6"),
            EtherType::Vlan => f.write_str("802.1Q"),
            EtherType::Unknown(v) => write!(f, "0x{v:04x}"),
        }
    }
}

/// An 802.1Q tag's control information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanTag {
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (12 bits).
    pub vid: u16,
}

impl VlanTag {
    fn from_tci(tci: u16) -> VlanTag {
        VlanTag { pcp: (tci >> 13) as u8, dei: tci & 0x1000 != 0, vid: tci & 0x0fff }
    }
    fn to_tci(self) -> u16 {
        (u16::from(self.pcp & 0x7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }
}

/// A view of an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

fn read_u16(data: &[u8], at: core::ops::Range<usize>) -> u16 {
    let b = &data[at];
    u16::from_be_bytes([b[0], b[1]])
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short
    /// buffer. Use [`Frame::new_checked`] on received data.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer after checking it holds the whole header, including
    /// the VLAN tag when the outer EtherType announces one.
    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let frame = Frame::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer holds the header (and tag, if any).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.ethertype() == EtherType::Vlan && len < HEADER_LEN + VLAN_TAG_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::DESTINATION])
    }

    pub fn src_addr(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.buffer.as_ref()[field::SOURCE])
    }

    /// The outer EtherType (`Vlan` for a tagged frame).
    pub fn ethertype(&self) -> EtherType {
        read_u16(self.buffer.as_ref(), field::ETHERTYPE).into()
    }

    /// The 802.1Q tag, if the frame carries one.
    pub fn vlan_tag(&self) -> Option<VlanTag> {
        match self.ethertype() {
            EtherType::Vlan => Some(VlanTag::from_tci(read_u16(self.buffer.as_ref(), field::VLAN_TCI))),
            _ => None,
        }
    }

    /// The EtherType of the payload: the inner one for a tagged frame.
    pub fn payload_ethertype(&self) -> EtherType {
        match self.ethertype() {
            EtherType::Vlan => read_u16(self.buffer.as_ref(), field::VLAN_ETHERTYPE).into(),
            other => other,
        }
    }

    /// Header length including the VLAN tag, i.e. where the payload starts.
    pub fn payload_offset(&self) -> usize {
        match self.ethertype() {
            EtherType::Vlan => HEADER_LEN + VLAN_TAG_LEN,
            _ => HEADER_LEN,
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    /// The bytes after the header (and tag), with the buffer's lifetime.
    pub fn payload(&self) -> &'a [u8] {
        let offset = self.payload_offset();
        &self.buffer.as_ref()[offset..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(addr.as_bytes());
    }

    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(addr.as_bytes());
    }

    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&u16::from(ethertype).to_be_bytes());
    }

    /// Writes the tag and inner EtherType; the outer type must be `Vlan`.
    fn set_vlan(&mut self, tag: VlanTag, inner: EtherType) {
        let data = self.buffer.as_mut();
        data[field::VLAN_TCI].copy_from_slice(&tag.to_tci().to_be_bytes());
        data[field::VLAN_ETHERTYPE].copy_from_slice(&u16::from(inner).to_be_bytes());
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let offset = self.payload_offset();
        &mut self.buffer.as_mut()[offset..]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Frame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub src_addr: EthernetAddress,
    pub dst_addr: EthernetAddress,
    /// The payload's EtherType (the inner one for a tagged frame).
    pub ethertype: EtherType,
    /// The 802.1Q tag, if any.
    pub vlan: Option<VlanTag>,
}

impl Repr {
    /// Parses a frame checked with [`Frame::new_checked`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &Frame<&T>) -> Result<Repr> {
        frame.check_len()?;
        Ok(Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.payload_ethertype(),
            vlan: frame.vlan_tag(),
        })
    }

    /// Header length: 14, or 18 with a VLAN tag.
    pub const fn header_len(&self) -> usize {
        match self.vlan {
            Some(_) => HEADER_LEN + VLAN_TAG_LEN,
            None => HEADER_LEN,
        }
    }

    /// Frame length for a payload of `payload_len` bytes.
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        self.header_len() + payload_len
    }

    /// Writes the header. The frame's buffer must hold at least
    /// [`Repr::header_len`] bytes (the stack sizes it with
    /// [`Repr::buffer_len`]). Transmit normally uses untagged frames;
    /// a tag is written only when `vlan` is set.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, frame: &mut Frame<&mut T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        match self.vlan {
            Some(tag) => {
                frame.set_ethertype(EtherType::Vlan);
                frame.set_vlan(tag, self.ethertype);
            }
            None => frame.set_ethertype(self.ethertype),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DST: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    const SRC: EthernetAddress = EthernetAddress([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);

    static UNTAGGED: [u8; 18] =
        [0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0xaa, 0xbb, 0xcc, 0xdd];

    static TAGGED: [u8; 20] = [
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0xb0, 0x2a, 0x08, 0x06,
        0xaa, 0xbb,
    ];

    #[test]
    fn parse_untagged() {
        let frame = Frame::new_checked(&UNTAGGED[..]).unwrap();
        assert_eq!(frame.dst_addr(), DST);
        assert_eq!(frame.src_addr(), SRC);
        assert_eq!(frame.ethertype(), EtherType::Ipv4);
        assert_eq!(frame.vlan_tag(), None);
        assert_eq!(frame.payload_offset(), 14);
        assert_eq!(frame.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
        let repr = Repr::parse(&frame).unwrap();
        assert_eq!(repr, Repr { src_addr: SRC, dst_addr: DST, ethertype: EtherType::Ipv4, vlan: None });
    }

    #[test]
    fn parse_vlan_tagged() {
        let frame = Frame::new_checked(&TAGGED[..]).unwrap();
        assert_eq!(frame.ethertype(), EtherType::Vlan);
        // TCI 0xb02a: pcp 5, dei 1, vid 42.
        assert_eq!(frame.vlan_tag(), Some(VlanTag { pcp: 5, dei: true, vid: 42 }));
        assert_eq!(frame.payload_ethertype(), EtherType::Arp);
        assert_eq!(frame.payload_offset(), 18);
        assert_eq!(frame.payload(), &[0xaa, 0xbb]);
        let repr = Repr::parse(&frame).unwrap();
        assert_eq!(repr.ethertype, EtherType::Arp);
        assert_eq!(repr.header_len(), 18);
    }

    #[test]
    fn emit_untagged_exact_bytes() {
        let repr = Repr { src_addr: SRC, dst_addr: DST, ethertype: EtherType::Ipv4, vlan: None };
        let mut buf = [0u8; 18];
        assert_eq!(repr.buffer_len(4), 18);
        let mut frame = Frame::new_unchecked(&mut buf[..]);
        repr.emit(&mut frame);
        frame.payload_mut().copy_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(buf, UNTAGGED);
    }

    #[test]
    fn emit_tagged_round_trip() {
        let repr = Repr {
            src_addr: SRC,
            dst_addr: DST,
            ethertype: EtherType::Arp,
            vlan: Some(VlanTag { pcp: 5, dei: true, vid: 42 }),
        };
        let mut buf = [0u8; 20];
        let mut frame = Frame::new_unchecked(&mut buf[..]);
        repr.emit(&mut frame);
        frame.payload_mut().copy_from_slice(&[0xaa, 0xbb]);
        assert_eq!(buf, TAGGED);
        assert_eq!(Repr::parse(&Frame::new_checked(&buf[..]).unwrap()).unwrap(), repr);
    }

    #[test]
    fn truncated_header_rejected() {
        for len in 0..HEADER_LEN {
            assert_eq!(Frame::new_checked(&UNTAGGED[..len]).unwrap_err(), Error::Truncated);
        }
        assert!(Frame::new_checked(&UNTAGGED[..HEADER_LEN]).is_ok());
    }

    #[test]
    fn truncated_vlan_tag_rejected() {
        for len in HEADER_LEN..HEADER_LEN + VLAN_TAG_LEN {
            assert_eq!(Frame::new_checked(&TAGGED[..len]).unwrap_err(), Error::Truncated);
            let unchecked = Frame::new_unchecked(&TAGGED[..len]);
            assert_eq!(Repr::parse(&unchecked).unwrap_err(), Error::Truncated);
        }
        let frame = Frame::new_checked(&TAGGED[..18]).unwrap();
        assert_eq!(frame.payload(), &[] as &[u8]);
    }

    #[test]
    fn ethertype_values() {
        for v in [0x0800u16, 0x0806, 0x86dd, 0x8100, 0x88cc] {
            assert_eq!(u16::from(EtherType::from(v)), v);
        }
        assert_eq!(EtherType::from(0x88cc), EtherType::Unknown(0x88cc));
    }
}
