//! Link and network addresses, for both IP families.

use core::fmt;
use core::str::FromStr;

/// A 48-bit Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// Reads an address from the first six bytes of `data`.
    /// Panics if `data` is shorter; callers pass checked slices.
    pub fn from_bytes(data: &[u8]) -> EthernetAddress {
        let mut bytes = [0; 6];
        bytes.copy_from_slice(&data[..6]);
        EthernetAddress(bytes)
    }
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let b = &self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A 32-bit IPv4 address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ipv4Address(pub [u8; 4]);

impl Ipv4Address {
    pub const UNSPECIFIED: Ipv4Address = Ipv4Address([0; 4]);
    pub const BROADCAST: Ipv4Address = Ipv4Address([255; 4]);

    pub const fn new(a: u8, b: u8, c: u8, d: u8) -> Ipv4Address {
        Ipv4Address([a, b, c, d])
    }
    /// Reads an address from the first four bytes of `data`.
    /// Panics if `data` is shorter; callers pass checked slices.
    pub fn from_bytes(data: &[u8]) -> Ipv4Address {
        let mut bytes = [0; 4];
        bytes.copy_from_slice(&data[..4]);
        Ipv4Address(bytes)
    }
    pub const fn from_u32(v: u32) -> Ipv4Address {
        Ipv4Address(v.to_be_bytes())
    }
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
    pub const fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }
    pub fn is_unspecified(&self) -> bool {
        self.0 == [0; 4]
    }
    pub fn is_broadcast(&self) -> bool {
        self.0 == [255; 4]
    }
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0xf0 == 0xe0
    }
    pub fn is_loopback(&self) -> bool {
        self.0[0] == 127
    }
    pub fn is_link_local(&self) -> bool {
        self.0[0] == 169 && self.0[1] == 254
    }
    /// A unicast address a host may use as its own or as a peer's.
    pub fn is_unicast(&self) -> bool {
        !(self.is_unspecified() || self.is_broadcast() || self.is_multicast() || self.0[0] >= 240)
    }
}

impl fmt::Display for Ipv4Address {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let b = &self.0;
        write!(f, "{}.{}.{}.{}", b[0], b[1], b[2], b[3])
    }
}

impl fmt::Debug for Ipv4Address {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why text did not parse as an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressParseError;

impl fmt::Display for AddressParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("invalid address")
    }
}

/// Dotted-quad text, e.g. `10.0.2.15` (no leading `+`, no empty parts,
/// each part 0..=255 in at most three digits).
impl FromStr for Ipv4Address {
    type Err = AddressParseError;
    fn from_str(s: &str) -> Result<Ipv4Address, AddressParseError> {
        let mut bytes = [0u8; 4];
        let mut parts = s.split('.');
        for byte in bytes.iter_mut() {
            let part = parts.next().ok_or(AddressParseError)?;
            if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AddressParseError);
            }
            *byte = part.parse().map_err(|_| AddressParseError)?;
        }
        if parts.next().is_some() {
            return Err(AddressParseError);
        }
        Ok(Ipv4Address(bytes))
    }
}

/// A 128-bit IPv6 address. Declared now so that endpoints and socket APIs
/// are family-neutral from the start; the IPv6 layer itself comes later.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ipv6Address(pub [u8; 16]);

impl Ipv6Address {
    pub const UNSPECIFIED: Ipv6Address = Ipv6Address([0; 16]);

    pub fn from_bytes(data: &[u8]) -> Ipv6Address {
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&data[..16]);
        Ipv6Address(bytes)
    }
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
    pub fn is_unspecified(&self) -> bool {
        self.0 == [0; 16]
    }
    pub fn is_multicast(&self) -> bool {
        self.0[0] == 0xff
    }
    fn segment(&self, i: usize) -> u16 {
        u16::from_be_bytes([self.0[2 * i], self.0[2 * i + 1]])
    }
}

impl fmt::Display for Ipv6Address {
    /// RFC 5952 text form: lower case, the longest run of two or more zero
    /// groups shortened to `::`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let (mut best_start, mut best_len) = (8, 0);
        let mut i = 0;
        while i < 8 {
            if self.segment(i) == 0 {
                let start = i;
                while i < 8 && self.segment(i) == 0 {
                    i += 1;
                }
                if i - start > best_len && i - start >= 2 {
                    best_start = start;
                    best_len = i - start;
                }
            } else {
                i += 1;
            }
        }
        let mut i = 0;
        while i < 8 {
            if i == best_start {
                f.write_str("::")?;
                i += best_len;
                continue;
            }
            if i != 0 && i != best_start + best_len {
                f.write_str(":")?;
            }
            write!(f, "{:x}", self.segment(i))?;
            i += 1;
        }
        Ok(())
    }
}

impl fmt::Debug for Ipv6Address {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An address of either IP family.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpAddress {
    V4(Ipv4Address),
    V6(Ipv6Address),
}

impl IpAddress {
    pub fn is_unspecified(&self) -> bool {
        match self {
            IpAddress::V4(a) => a.is_unspecified(),
            IpAddress::V6(a) => a.is_unspecified(),
        }
    }
    pub fn is_multicast(&self) -> bool {
        match self {
            IpAddress::V4(a) => a.is_multicast(),
            IpAddress::V6(a) => a.is_multicast(),
        }
    }
}

impl From<Ipv4Address> for IpAddress {
    fn from(a: Ipv4Address) -> IpAddress {
        IpAddress::V4(a)
    }
}

impl From<Ipv6Address> for IpAddress {
    fn from(a: Ipv6Address) -> IpAddress {
        IpAddress::V6(a)
    }
}

impl fmt::Display for IpAddress {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            IpAddress::V4(a) => fmt::Display::fmt(a, f),
            IpAddress::V6(a) => fmt::Display::fmt(a, f),
        }
    }
}

impl fmt::Debug for IpAddress {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An address and a port: one end of a UDP or TCP conversation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpEndpoint {
    pub addr: IpAddress,
    pub port: u16,
}

impl IpEndpoint {
    pub const fn new(addr: IpAddress, port: u16) -> IpEndpoint {
        IpEndpoint { addr, port }
    }
}

impl fmt::Display for IpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.addr {
            IpAddress::V4(a) => write!(f, "{}:{}", a, self.port),
            IpAddress::V6(a) => write!(f, "[{}]:{}", a, self.port),
        }
    }
}

impl fmt::Debug for IpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What a listening or bound socket accepts: a port, and optionally one
/// local address (none means every address of the interface, any family).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct IpListenEndpoint {
    pub addr: Option<IpAddress>,
    pub port: u16,
}

impl IpListenEndpoint {
    pub const fn any(port: u16) -> IpListenEndpoint {
        IpListenEndpoint { addr: None, port }
    }
    /// Whether a datagram or segment sent to `dst` belongs to this endpoint.
    pub fn accepts(&self, dst: IpEndpoint) -> bool {
        self.port == dst.port && self.addr.is_none_or(|a| a == dst.addr)
    }
}

impl From<u16> for IpListenEndpoint {
    fn from(port: u16) -> IpListenEndpoint {
        IpListenEndpoint::any(port)
    }
}

/// An IPv4 address with a prefix length: an interface address and the
/// subnet it is on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv4Cidr {
    address: Ipv4Address,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// `None` when the prefix is longer than 32 bits.
    pub const fn new(address: Ipv4Address, prefix_len: u8) -> Option<Ipv4Cidr> {
        if prefix_len > 32 {
            None
        } else {
            Some(Ipv4Cidr { address, prefix_len })
        }
    }
    pub const fn address(&self) -> Ipv4Address {
        self.address
    }
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }
    pub const fn netmask(&self) -> Ipv4Address {
        let mask = if self.prefix_len == 0 { 0 } else { u32::MAX << (32 - self.prefix_len as u32) };
        Ipv4Address::from_u32(mask)
    }
    pub const fn network(&self) -> Ipv4Address {
        Ipv4Address::from_u32(self.address.to_u32() & self.netmask().to_u32())
    }
    /// The subnet's directed broadcast address (none for /31 and /32).
    pub fn broadcast(&self) -> Option<Ipv4Address> {
        if self.prefix_len >= 31 {
            None
        } else {
            Some(Ipv4Address::from_u32(self.address.to_u32() | !self.netmask().to_u32()))
        }
    }
    pub const fn contains(&self, addr: Ipv4Address) -> bool {
        addr.to_u32() & self.netmask().to_u32() == self.network().to_u32()
    }
}

/// `A.B.C.D/N` text, e.g. `10.0.2.15/24`.
impl FromStr for Ipv4Cidr {
    type Err = AddressParseError;
    fn from_str(s: &str) -> Result<Ipv4Cidr, AddressParseError> {
        let (addr, len) = s.split_once('/').ok_or(AddressParseError)?;
        if len.is_empty() || len.len() > 2 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AddressParseError);
        }
        let len: u8 = len.parse().map_err(|_| AddressParseError)?;
        Ipv4Cidr::new(addr.parse()?, len).ok_or(AddressParseError)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl fmt::Debug for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The protocol an IP header says follows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IpProtocol {
    Icmp,
    Tcp,
    Udp,
    Icmpv6,
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> IpProtocol {
        match v {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            58 => IpProtocol::Icmpv6,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Icmpv6 => 58,
            IpProtocol::Unknown(other) => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn cidr_arithmetic() {
        let c = Ipv4Cidr::new(Ipv4Address::new(10, 0, 2, 15), 24).unwrap();
        assert_eq!(c.netmask(), Ipv4Address::new(255, 255, 255, 0));
        assert_eq!(c.network(), Ipv4Address::new(10, 0, 2, 0));
        assert_eq!(c.broadcast(), Some(Ipv4Address::new(10, 0, 2, 255)));
        assert!(c.contains(Ipv4Address::new(10, 0, 2, 2)));
        assert!(!c.contains(Ipv4Address::new(10, 0, 3, 2)));
        assert!(Ipv4Cidr::new(Ipv4Address::UNSPECIFIED, 33).is_none());
        let all = Ipv4Cidr::new(Ipv4Address::UNSPECIFIED, 0).unwrap();
        assert!(all.contains(Ipv4Address::new(8, 8, 8, 8)));
        assert_eq!(Ipv4Cidr::new(Ipv4Address::new(1, 2, 3, 4), 32).unwrap().broadcast(), None);
    }

    #[test]
    fn address_classes() {
        assert!(Ipv4Address::new(224, 0, 0, 1).is_multicast());
        assert!(!Ipv4Address::new(224, 0, 0, 1).is_unicast());
        assert!(Ipv4Address::new(10, 0, 0, 1).is_unicast());
        assert!(EthernetAddress([0x01, 0, 0x5e, 0, 0, 1]).is_multicast());
        assert!(EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]).is_unicast());
    }

    #[test]
    fn text_forms() {
        assert_eq!(EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]).to_string(), "52:54:00:12:34:56");
        assert_eq!(Ipv4Address::new(10, 0, 2, 15).to_string(), "10.0.2.15");
        let mut v6 = [0u8; 16];
        v6[0] = 0xfe;
        v6[1] = 0x80;
        v6[15] = 1;
        assert_eq!(Ipv6Address(v6).to_string(), "fe80::1");
        assert_eq!(Ipv6Address::UNSPECIFIED.to_string(), "::");
        let ep = IpEndpoint::new(Ipv4Address::new(10, 0, 2, 15).into(), 80);
        assert_eq!(ep.to_string(), "10.0.2.15:80");
    }

    #[test]
    fn parses_text() {
        assert_eq!("10.0.2.15".parse(), Ok(Ipv4Address::new(10, 0, 2, 15)));
        assert_eq!("255.255.255.255".parse(), Ok(Ipv4Address::BROADCAST));
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "+1.2.3.4", "1.2.3.0004", " 1.2.3.4"] {
            assert_eq!(bad.parse::<Ipv4Address>(), Err(AddressParseError), "{bad:?}");
        }
        let c: Ipv4Cidr = "10.0.2.15/24".parse().unwrap();
        assert_eq!((c.address(), c.prefix_len()), (Ipv4Address::new(10, 0, 2, 15), 24));
        for bad in ["10.0.2.15", "10.0.2.15/", "10.0.2.15/33", "10.0.2.15/-1", "10.0.2/24", "10.0.2.15/024"] {
            assert_eq!(bad.parse::<Ipv4Cidr>(), Err(AddressParseError), "{bad:?}");
        }
    }

    #[test]
    fn listen_endpoint_matching() {
        let any = IpListenEndpoint::any(7);
        let dst = IpEndpoint::new(Ipv4Address::new(10, 0, 2, 15).into(), 7);
        assert!(any.accepts(dst));
        assert!(!IpListenEndpoint::any(8).accepts(dst));
        let bound = IpListenEndpoint { addr: Some(Ipv4Address::new(10, 0, 2, 16).into()), port: 7 };
        assert!(!bound.accepts(dst));
    }
}
