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

/// A 128-bit IPv6 address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ipv6Address(pub [u8; 16]);

impl Ipv6Address {
    pub const UNSPECIFIED: Ipv6Address = Ipv6Address([0; 16]);
    /// `::1`.
    pub const LOOPBACK: Ipv6Address = Ipv6Address::new(0, 0, 0, 0, 0, 0, 0, 1);
    /// `ff02::1`: every node on the link.
    pub const LINK_LOCAL_ALL_NODES: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    /// `ff02::2`: every router on the link.
    pub const LINK_LOCAL_ALL_ROUTERS: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    /// `fe80::/64`'s network part: the prefix of every link-local address.
    pub const LINK_LOCAL_PREFIX: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 0);

    /// An address from its eight 16-bit groups, as written in text.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(a: u16, b: u16, c: u16, d: u16, e: u16, f: u16, g: u16, h: u16) -> Ipv6Address {
        let w = [a, b, c, d, e, f, g, h];
        let mut bytes = [0u8; 16];
        let mut i = 0;
        while i < 8 {
            let be = w[i].to_be_bytes();
            bytes[2 * i] = be[0];
            bytes[2 * i + 1] = be[1];
            i += 1;
        }
        Ipv6Address(bytes)
    }
    /// Reads an address from the first sixteen bytes of `data`.
    /// Panics if `data` is shorter; callers pass checked slices.
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
    pub fn is_loopback(&self) -> bool {
        *self == Self::LOOPBACK
    }
    pub fn is_multicast(&self) -> bool {
        self.0[0] == 0xff
    }
    /// Unicast link-local, `fe80::/10`.
    pub fn is_link_local(&self) -> bool {
        self.0[0] == 0xfe && self.0[1] & 0xc0 == 0x80
    }
    /// A unicast address a host may use as its own or as a peer's: not
    /// unspecified, loopback or multicast.
    pub fn is_unicast(&self) -> bool {
        !(self.is_unspecified() || self.is_loopback() || self.is_multicast())
    }
    /// The scope field of a multicast address (2 = link-local); `None`
    /// for other addresses.
    pub fn multicast_scope(&self) -> Option<u8> {
        if self.is_multicast() {
            Some(self.0[1] & 0x0f)
        } else {
            None
        }
    }
    /// Whether this is a solicited-node multicast address, `ff02::1:ffXX:XXXX`.
    pub fn is_solicited_node_multicast(&self) -> bool {
        self.0[..13] == Self::SOLICITED_NODE_PREFIX
    }
    const SOLICITED_NODE_PREFIX: [u8; 13] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff];
    /// The solicited-node multicast group of this address (RFC 4291 2.7.1):
    /// `ff02::1:ff` followed by its low 24 bits. Neighbour solicitations
    /// for the address are sent there.
    pub fn solicited_node(&self) -> Ipv6Address {
        let mut bytes = [0u8; 16];
        bytes[..13].copy_from_slice(&Self::SOLICITED_NODE_PREFIX);
        bytes[13..].copy_from_slice(&self.0[13..]);
        Ipv6Address(bytes)
    }
    /// The Ethernet group a multicast address maps to (RFC 2464 7):
    /// `33:33` followed by its low 32 bits. Meaningless (but harmless) for
    /// unicast addresses.
    pub fn multicast_mac(&self) -> EthernetAddress {
        let b = &self.0;
        EthernetAddress([0x33, 0x33, b[12], b[13], b[14], b[15]])
    }
    /// The last 64 bits: the interface identifier of a unicast address.
    pub fn interface_id(&self) -> [u8; 8] {
        let mut iid = [0u8; 8];
        iid.copy_from_slice(&self.0[8..]);
        iid
    }
    /// The first 64 bits of `prefix` followed by `interface_id` (SLAAC,
    /// RFC 4862 5.5.3, for the usual /64 prefixes).
    pub fn from_prefix_and_interface_id(prefix: &Ipv6Address, interface_id: &[u8; 8]) -> Ipv6Address {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&prefix.0[..8]);
        bytes[8..].copy_from_slice(interface_id);
        Ipv6Address(bytes)
    }
    /// The link-local address `fe80::/64` + the modified EUI-64 identifier
    /// of `mac` (RFC 4291 appendix A, RFC 2464 4).
    pub fn link_local_from_mac(mac: &EthernetAddress) -> Ipv6Address {
        Ipv6Address::from_prefix_and_interface_id(&Self::LINK_LOCAL_PREFIX, &mac.eui64_interface_id())
    }
    /// Whether the first `prefix_len` bits of `self` and `other` agree
    /// (`prefix_len` above 128 counts as 128).
    pub fn same_prefix(&self, other: &Ipv6Address, prefix_len: u8) -> bool {
        let bits = usize::from(prefix_len.min(128));
        let (whole, rest) = (bits / 8, bits % 8);
        if self.0[..whole] != other.0[..whole] {
            return false;
        }
        if rest == 0 {
            return true;
        }
        let mask = 0xffu8 << (8 - rest);
        self.0[whole] & mask == other.0[whole] & mask
    }
    /// This address with every bit after the first `prefix_len` cleared.
    pub fn mask(&self, prefix_len: u8) -> Ipv6Address {
        let bits = usize::from(prefix_len.min(128));
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            let keep = bits.saturating_sub(i * 8).min(8);
            let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
            *byte = self.0[i] & mask;
        }
        Ipv6Address(bytes)
    }
    fn segment(&self, i: usize) -> u16 {
        u16::from_be_bytes([self.0[2 * i], self.0[2 * i + 1]])
    }
}

impl EthernetAddress {
    /// The modified EUI-64 interface identifier (RFC 4291 appendix A):
    /// `ff:fe` inserted in the middle and the universal/local bit flipped.
    pub fn eui64_interface_id(&self) -> [u8; 8] {
        let m = &self.0;
        [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
    }
}

/// RFC 4291 2.2 text: eight groups of up to four hex digits, one `::` at
/// most for a run of zero groups, optionally a dotted-quad IPv4 tail in
/// the last 32 bits (`::ffff:10.0.2.15`). No zone (`%eth0`), no brackets.
impl FromStr for Ipv6Address {
    type Err = AddressParseError;
    fn from_str(s: &str) -> Result<Ipv6Address, AddressParseError> {
        /// Parses `:`-separated groups (possibly ending in an IPv4 tail)
        /// into `out`, returning how many 16-bit groups were written.
        fn groups(s: &str, out: &mut [u16; 8], allow_v4_tail: bool) -> Result<usize, AddressParseError> {
            if s.is_empty() {
                return Ok(0);
            }
            let mut n = 0;
            let mut parts = s.split(':').peekable();
            while let Some(part) = parts.next() {
                let last = parts.peek().is_none();
                if last && allow_v4_tail && part.contains('.') {
                    let v4: Ipv4Address = part.parse()?;
                    let b = v4.0;
                    for w in [u16::from_be_bytes([b[0], b[1]]), u16::from_be_bytes([b[2], b[3]])] {
                        *out.get_mut(n).ok_or(AddressParseError)? = w;
                        n += 1;
                    }
                    break;
                }
                if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(AddressParseError);
                }
                *out.get_mut(n).ok_or(AddressParseError)? =
                    u16::from_str_radix(part, 16).map_err(|_| AddressParseError)?;
                n += 1;
            }
            Ok(n)
        }
        let mut head = [0u16; 8];
        let mut tail = [0u16; 8];
        let (head_len, tail_len, compressed) = match s.split_once("::") {
            Some((h, t)) => {
                if t.contains("::") {
                    return Err(AddressParseError);
                }
                (groups(h, &mut head, false)?, groups(t, &mut tail, true)?, true)
            }
            None => (groups(s, &mut head, true)?, 0, false),
        };
        let total = head_len + tail_len;
        if (compressed && total > 7) || (!compressed && total != 8) {
            return Err(AddressParseError);
        }
        let mut words = [0u16; 8];
        words[..head_len].copy_from_slice(&head[..head_len]);
        words[8 - tail_len..].copy_from_slice(&tail[..tail_len]);
        let mut bytes = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            bytes[2 * i..2 * i + 2].copy_from_slice(&w.to_be_bytes());
        }
        Ok(Ipv6Address(bytes))
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
    /// `169.254/16` or `fe80::/10`.
    pub fn is_link_local(&self) -> bool {
        match self {
            IpAddress::V4(a) => a.is_link_local(),
            IpAddress::V6(a) => a.is_link_local(),
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
    /// An unspecified address (`0.0.0.0` or `::`) is no restriction: it
    /// accepts every address of both families, as `None` does.
    pub fn accepts(&self, dst: IpEndpoint) -> bool {
        self.port == dst.port && self.addr.is_none_or(|a| a.is_unspecified() || a == dst.addr)
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

/// An IPv6 address with a prefix length: an interface address and the
/// prefix it is on (on-link prefix, SLAAC prefix, route).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv6Cidr {
    address: Ipv6Address,
    prefix_len: u8,
}

impl Ipv6Cidr {
    /// `None` when the prefix is longer than 128 bits.
    pub const fn new(address: Ipv6Address, prefix_len: u8) -> Option<Ipv6Cidr> {
        if prefix_len > 128 {
            None
        } else {
            Some(Ipv6Cidr { address, prefix_len })
        }
    }
    pub const fn address(&self) -> Ipv6Address {
        self.address
    }
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }
    /// The address with the host bits cleared.
    pub fn network(&self) -> Ipv6Address {
        self.address.mask(self.prefix_len)
    }
    pub fn contains(&self, addr: &Ipv6Address) -> bool {
        self.address.same_prefix(addr, self.prefix_len)
    }
}

/// `ADDR/N` text, e.g. `2001:db8::5/64`.
impl FromStr for Ipv6Cidr {
    type Err = AddressParseError;
    fn from_str(s: &str) -> Result<Ipv6Cidr, AddressParseError> {
        let (addr, len) = s.split_once('/').ok_or(AddressParseError)?;
        if len.is_empty()
            || len.len() > 3
            || !len.bytes().all(|b| b.is_ascii_digit())
            || len.starts_with('0') && len.len() > 1
        {
            return Err(AddressParseError);
        }
        let len: u8 = len.parse().map_err(|_| AddressParseError)?;
        Ipv6Cidr::new(addr.parse()?, len).ok_or(AddressParseError)
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl fmt::Debug for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The protocol an IP header says follows it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IpProtocol {
    /// IPv6 hop-by-hop options (RFC 8200 4.3): only right after the IPv6 header.
    HopByHop,
    Icmp,
    Tcp,
    Udp,
    /// IPv6 routing header (RFC 8200 4.4).
    Ipv6Route,
    /// IPv6 fragment header (RFC 8200 4.5).
    Ipv6Frag,
    Icmpv6,
    /// IPv6 "no next header" (RFC 8200 4.7): nothing follows.
    Ipv6NoNxt,
    /// IPv6 destination options (RFC 8200 4.6).
    Ipv6Opts,
    Unknown(u8),
}

impl IpProtocol {
    /// Whether this names an IPv6 extension header this stack walks
    /// (hop-by-hop, routing, fragment, destination options).
    pub fn is_ipv6_extension_header(&self) -> bool {
        matches!(self, IpProtocol::HopByHop | IpProtocol::Ipv6Route | IpProtocol::Ipv6Frag | IpProtocol::Ipv6Opts)
    }
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> IpProtocol {
        match v {
            0 => IpProtocol::HopByHop,
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            43 => IpProtocol::Ipv6Route,
            44 => IpProtocol::Ipv6Frag,
            58 => IpProtocol::Icmpv6,
            59 => IpProtocol::Ipv6NoNxt,
            60 => IpProtocol::Ipv6Opts,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::HopByHop => 0,
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Ipv6Route => 43,
            IpProtocol::Ipv6Frag => 44,
            IpProtocol::Icmpv6 => 58,
            IpProtocol::Ipv6NoNxt => 59,
            IpProtocol::Ipv6Opts => 60,
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
        // Bound to an unspecified address of either family: both families.
        let v6 = IpEndpoint::new(Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0, 0, 1).into(), 7);
        for unspecified in [IpAddress::V4(Ipv4Address::UNSPECIFIED), IpAddress::V6(Ipv6Address::UNSPECIFIED)] {
            let wildcard = IpListenEndpoint { addr: Some(unspecified), port: 7 };
            assert!(wildcard.accepts(dst) && wildcard.accepts(v6));
        }
        let bound6 = IpListenEndpoint { addr: Some(v6.addr), port: 7 };
        assert!(bound6.accepts(v6) && !bound6.accepts(dst));
    }
    #[test]
    fn ipv6_text_round_trip() {
        let cases = [
            ("::", Ipv6Address::UNSPECIFIED),
            ("::1", Ipv6Address::LOOPBACK),
            ("fe80::5054:ff:fe12:3456", Ipv6Address::new(0xfe80, 0, 0, 0, 0x5054, 0xff, 0xfe12, 0x3456)),
            ("2001:db8:1::", Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0)),
            ("2001:db8:0:1:1:1:1:1", Ipv6Address::new(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)),
            ("2001:db8::1:0:0:1", Ipv6Address::new(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)),
            ("ff02::1:ff12:3456", Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff12, 0x3456)),
        ];
        for (text, addr) in cases {
            assert_eq!(text.parse(), Ok(addr), "{text}");
            assert_eq!(addr.to_string(), text);
        }
        // Accepted but not canonical.
        assert_eq!("2001:DB8:0:0:0:0:0:1".parse(), Ok(Ipv6Address::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)));
        assert_eq!("::ffff:10.0.2.15".parse(), Ok(Ipv6Address::new(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x020f)));
        assert_eq!("1:2:3:4:5:6:7::".parse(), Ok(Ipv6Address::new(1, 2, 3, 4, 5, 6, 7, 0)));
        assert_eq!("::2:3:4:5:6:7:8".parse(), Ok(Ipv6Address::new(0, 2, 3, 4, 5, 6, 7, 8)));
        for bad in [
            "",
            ":",
            ":::",
            "1::2::3",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::8",
            "12345::",
            "g::",
            "1:2:3:4:5:6:7:8::",
            ":1::",
            "1::2:",
            "fe80::1%eth0",
            "[::1]",
            "::1.2.3",
            "1.2.3.4::",
            "::ffff:1.2.3.4:5",
            " ::1",
            "1:2:3:4:5:6:1.2.3.4:8",
        ] {
            assert_eq!(bad.parse::<Ipv6Address>(), Err(AddressParseError), "{bad:?}");
        }
    }

    #[test]
    fn ipv6_classes_and_derived_addresses() {
        let mac = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(mac.eui64_interface_id(), [0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56]);
        let ll = Ipv6Address::link_local_from_mac(&mac);
        // What Linux configured for this MAC (see ipv6_captures).
        assert_eq!(ll.to_string(), "fe80::5054:ff:fe12:3456");
        assert!(ll.is_link_local() && ll.is_unicast() && !ll.is_multicast());
        assert_eq!(ll.solicited_node().to_string(), "ff02::1:ff12:3456");
        assert!(ll.solicited_node().is_solicited_node_multicast());
        assert!(!Ipv6Address::LINK_LOCAL_ALL_NODES.is_solicited_node_multicast());
        assert_eq!(ll.solicited_node().multicast_mac(), EthernetAddress([0x33, 0x33, 0xff, 0x12, 0x34, 0x56]));
        assert_eq!(Ipv6Address::LINK_LOCAL_ALL_NODES.multicast_mac(), EthernetAddress([0x33, 0x33, 0, 0, 0, 1]));
        assert_eq!(Ipv6Address::LINK_LOCAL_ALL_ROUTERS.multicast_scope(), Some(2));
        assert_eq!(ll.multicast_scope(), None);
        let prefix: Ipv6Address = "2001:db8:1::".parse().unwrap();
        let slaac = Ipv6Address::from_prefix_and_interface_id(&prefix, &ll.interface_id());
        assert_eq!(slaac.to_string(), "2001:db8:1:0:5054:ff:fe12:3456");
        assert!(!slaac.is_link_local() && slaac.is_unicast());
        assert!("febf::1".parse::<Ipv6Address>().unwrap().is_link_local());
        assert!(!"fec0::1".parse::<Ipv6Address>().unwrap().is_link_local());
        assert!(!Ipv6Address::LOOPBACK.is_unicast() && Ipv6Address::LOOPBACK.is_loopback());
        assert!(!Ipv6Address::UNSPECIFIED.is_unicast());
        // A locally administered MAC gets the U/L bit cleared.
        assert_eq!(EthernetAddress([0x02, 0, 0, 0, 0, 0x0a]).eui64_interface_id()[0], 0);
        assert!(IpAddress::V6(ll).is_link_local());
        assert!(IpAddress::V4(Ipv4Address::new(169, 254, 1, 1)).is_link_local());
    }

    #[test]
    fn ipv6_prefixes() {
        let a: Ipv6Address = "2001:db8:abcd:12ff::1".parse().unwrap();
        assert_eq!(a.mask(64).to_string(), "2001:db8:abcd:12ff::");
        assert_eq!(a.mask(52).to_string(), "2001:db8:abcd:1000::");
        assert_eq!(a.mask(0), Ipv6Address::UNSPECIFIED);
        assert_eq!(a.mask(128), a);
        assert_eq!(a.mask(200), a);
        let c: Ipv6Cidr = "2001:db8:abcd:12ff::1/56".parse().unwrap();
        assert_eq!((c.address(), c.prefix_len()), (a, 56));
        assert_eq!(c.network().to_string(), "2001:db8:abcd:1200::");
        assert!(c.contains(&"2001:db8:abcd:12aa::9".parse().unwrap()));
        assert!(!c.contains(&"2001:db8:abcd:1300::".parse().unwrap()));
        assert_eq!(c.to_string(), "2001:db8:abcd:12ff::1/56");
        assert!(Ipv6Cidr::new(a, 129).is_none());
        assert!(Ipv6Cidr::new(a, 0).unwrap().contains(&Ipv6Address::LOOPBACK));
        assert!(a.same_prefix(&"2001:db8:abcd:12fe::".parse().unwrap(), 63));
        assert!(!a.same_prefix(&"2001:db8:abcd:12fe::".parse().unwrap(), 64));
        for bad in [
            "2001:db8::1",
            "2001:db8::1/",
            "2001:db8::1/129",
            "2001:db8::1/064",
            "2001:db8::1/-1",
            "::/1/2",
            "10.0.0.1/8",
        ] {
            assert_eq!(bad.parse::<Ipv6Cidr>(), Err(AddressParseError), "{bad:?}");
        }
        assert_eq!("::/0".parse::<Ipv6Cidr>().unwrap().prefix_len(), 0);
    }

    #[test]
    fn ip_protocol_values_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(IpProtocol::from(v)), v);
        }
        assert_eq!(IpProtocol::from(44), IpProtocol::Ipv6Frag);
        assert!(IpProtocol::HopByHop.is_ipv6_extension_header());
        assert!(!IpProtocol::Ipv6NoNxt.is_ipv6_extension_header());
        assert!(!IpProtocol::Icmpv6.is_ipv6_extension_header());
    }
    /// xorshift64*: enough randomness for a property test, no crates.
    fn next_random(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    #[test]
    fn ipv6_text_properties() {
        let mut rng = 0x1234_5678_9abc_def1u64;
        // Random addresses with runs of zero groups print and parse back.
        for _ in 0..5000 {
            let mut groups = [0u16; 8];
            for g in groups.iter_mut() {
                let r = next_random(&mut rng);
                *g = if r % 3 == 0 { 0 } else { (r >> 8) as u16 >> (r % 16) };
            }
            let [a, b, c, d, e, f, g, h] = groups;
            let addr = Ipv6Address::new(a, b, c, d, e, f, g, h);
            let text = addr.to_string();
            assert_eq!(text.parse(), Ok(addr), "{text}");
            assert!(!text.contains(":::") && text.matches("::").count() <= 1, "{text}");
        }
        // Random strings over the address alphabet never panic, and what
        // parses prints to text that parses to the same address.
        let alphabet = b"0123456789abcdefABCDEFg:.:::/%";
        for _ in 0..20000 {
            let pick = |rng: &mut u64| alphabet[(next_random(rng) % alphabet.len() as u64) as usize] as char;
            let text: std::string::String = if next_random(&mut rng) % 2 == 0 {
                let len = (next_random(&mut rng) % 46) as usize;
                (0..len).map(|_| pick(&mut rng)).collect()
            } else {
                // A valid text with one character replaced, inserted or removed.
                let w = next_random(&mut rng);
                let mut text = Ipv6Address::new(0x2001, 0xdb8, 0, (w >> 16) as u16 & 1, 0, 0, w as u16, 1).to_string();
                let at = (next_random(&mut rng) % text.len() as u64) as usize;
                match next_random(&mut rng) % 3 {
                    0 => text.replace_range(at..at + 1, &pick(&mut rng).to_string()),
                    1 => text.insert(at, pick(&mut rng)),
                    _ => {
                        text.remove(at);
                    }
                }
                text
            };
            if let Ok(addr) = text.parse::<Ipv6Address>() {
                assert_eq!(addr.to_string().parse(), Ok(addr), "{text}");
            }
            let _ = text.parse::<Ipv6Cidr>();
        }
    }
}
