//! DHCPv4 (RFC 2131) messages and the options of RFC 2132 a client needs.
//!
//! A DHCP message is a BOOTP message (a fixed 236-byte header) followed by
//! the magic cookie and a list of type-length-value options. [`Packet`] is
//! the byte view; [`Repr`] is the parsed meaning, holding only the options
//! this stack uses (everything else is skipped). Only Ethernet hardware
//! addresses are handled.

use super::{Error, EthernetAddress, Ipv4Address, Result};

/// The UDP port DHCP servers (and relays) listen on.
pub const SERVER_PORT: u16 = 67;
/// The UDP port DHCP clients listen on.
pub const CLIENT_PORT: u16 = 68;

/// Marks the start of DHCP options after the BOOTP header (RFC 2131 §3).
pub const MAGIC_COOKIE: u32 = 0x6382_5363;

/// The smallest BOOTP message relays are required to accept (RFC 1542 §2.1);
/// emitted messages are padded up to this size.
pub const MIN_MESSAGE_LEN: usize = 300;

const HTYPE_ETHERNET: u8 = 1;
const HLEN_ETHERNET: u8 = 6;
const FLAG_BROADCAST: u16 = 0x8000;

/// Byte ranges of the fixed header.
mod field {
    use core::ops::Range;
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    /// `sname` and `file`: unused here, emitted as zeros.
    pub const SNAME_FILE: Range<usize> = 44..236;
    pub const MAGIC: Range<usize> = 236..240;
    pub const OPTIONS: usize = 240;
}

/// Option codes (RFC 2132) this module knows.
pub mod option {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS_SERVER: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_IDENTIFIER: u8 = 54;
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    pub const RENEWAL_TIME: u8 = 58;
    pub const REBINDING_TIME: u8 = 59;
    pub const CLIENT_IDENTIFIER: u8 = 61;
    pub const END: u8 = 255;
}

/// The BOOTP `op` field: which direction a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    Request,
    Reply,
}

impl OpCode {
    fn to_u8(self) -> u8 {
        match self {
            OpCode::Request => 1,
            OpCode::Reply => 2,
        }
    }
}

/// The DHCP message type (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
}

impl MessageType {
    fn from_u8(v: u8) -> Option<MessageType> {
        Some(match v {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            _ => return None,
        })
    }

    fn to_u8(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
        }
    }

    /// The BOOTP direction this message type must travel in.
    pub fn opcode(self) -> OpCode {
        match self {
            MessageType::Discover
            | MessageType::Request
            | MessageType::Decline
            | MessageType::Release
            | MessageType::Inform => OpCode::Request,
            MessageType::Offer | MessageType::Ack | MessageType::Nak => OpCode::Reply,
        }
    }
}

/// One option as found in the options area: its code and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    pub kind: u8,
    pub data: &'a [u8],
}

/// Walks the options area, skipping pads and stopping at the end option
/// (or at the end of the buffer). A length running past the buffer yields
/// one `Err(Truncated)` and then nothing.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    data: &'a [u8],
    done: bool,
}

impl<'a> OptionIter<'a> {
    /// Walks `data`, which starts at the first option.
    pub fn new(data: &'a [u8]) -> OptionIter<'a> {
        OptionIter { data, done: false }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<DhcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let (&kind, rest) = match self.data.split_first() {
                Some(split) => split,
                None => {
                    // Ran off the end without an end option: tolerated, since
                    // some servers omit it when the options fill the buffer.
                    self.done = true;
                    return None;
                }
            };
            match kind {
                option::PAD => self.data = rest,
                option::END => {
                    self.done = true;
                    return None;
                }
                _ => {
                    let parsed = rest.split_first().and_then(|(&len, rest)| {
                        let len = usize::from(len);
                        (rest.len() >= len).then(|| rest.split_at(len))
                    });
                    match parsed {
                        Some((data, rest)) => {
                            self.data = rest;
                            return Some(Ok(DhcpOption { kind, data }));
                        }
                        None => {
                            self.done = true;
                            return Some(Err(Error::Truncated));
                        }
                    }
                }
            }
        }
        None
    }
}

/// A byte view of a DHCP message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short
    /// buffer. Use for buffers this stack is about to fill.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking that the fixed header and cookie fit and
    /// that every option length stays inside the buffer.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the lengths `new_checked` checks.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() < field::OPTIONS {
            return Err(Error::Truncated);
        }
        for opt in OptionIter::new(&data[field::OPTIONS..]) {
            opt?;
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn opcode_raw(&self) -> u8 {
        self.data()[field::OP]
    }
    pub fn hardware_type(&self) -> u8 {
        self.data()[field::HTYPE]
    }
    pub fn hardware_len(&self) -> u8 {
        self.data()[field::HLEN]
    }
    pub fn hops(&self) -> u8 {
        self.data()[field::HOPS]
    }
    pub fn transaction_id(&self) -> u32 {
        let d = &self.data()[field::XID];
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }
    pub fn secs(&self) -> u16 {
        let d = &self.data()[field::SECS];
        u16::from_be_bytes([d[0], d[1]])
    }
    pub fn flags(&self) -> u16 {
        let d = &self.data()[field::FLAGS];
        u16::from_be_bytes([d[0], d[1]])
    }
    /// Whether the client asked for replies to be broadcast.
    pub fn broadcast_flag(&self) -> bool {
        self.flags() & FLAG_BROADCAST != 0
    }
    pub fn client_ip(&self) -> Ipv4Address {
        Ipv4Address::from_bytes(&self.data()[field::CIADDR])
    }
    pub fn your_ip(&self) -> Ipv4Address {
        Ipv4Address::from_bytes(&self.data()[field::YIADDR])
    }
    pub fn server_ip(&self) -> Ipv4Address {
        Ipv4Address::from_bytes(&self.data()[field::SIADDR])
    }
    pub fn relay_agent_ip(&self) -> Ipv4Address {
        Ipv4Address::from_bytes(&self.data()[field::GIADDR])
    }
    /// The first six bytes of `chaddr` (the Ethernet address).
    pub fn client_hardware_address(&self) -> EthernetAddress {
        EthernetAddress::from_bytes(&self.data()[field::CHADDR])
    }
    pub fn magic_cookie(&self) -> u32 {
        let d = &self.data()[field::MAGIC];
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The options, borrowed for as long as the underlying buffer.
    pub fn options(&self) -> OptionIter<'a> {
        let data = self.buffer.as_ref();
        OptionIter::new(data.get(field::OPTIONS..).unwrap_or(&[]))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn data_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    pub fn set_opcode(&mut self, op: OpCode) {
        self.data_mut()[field::OP] = op.to_u8();
    }
    pub fn set_hardware_type(&mut self, v: u8) {
        self.data_mut()[field::HTYPE] = v;
    }
    pub fn set_hardware_len(&mut self, v: u8) {
        self.data_mut()[field::HLEN] = v;
    }
    pub fn set_hops(&mut self, v: u8) {
        self.data_mut()[field::HOPS] = v;
    }
    pub fn set_transaction_id(&mut self, v: u32) {
        self.data_mut()[field::XID].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_secs(&mut self, v: u16) {
        self.data_mut()[field::SECS].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_flags(&mut self, v: u16) {
        self.data_mut()[field::FLAGS].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_client_ip(&mut self, a: Ipv4Address) {
        self.data_mut()[field::CIADDR].copy_from_slice(a.as_bytes());
    }
    pub fn set_your_ip(&mut self, a: Ipv4Address) {
        self.data_mut()[field::YIADDR].copy_from_slice(a.as_bytes());
    }
    pub fn set_server_ip(&mut self, a: Ipv4Address) {
        self.data_mut()[field::SIADDR].copy_from_slice(a.as_bytes());
    }
    pub fn set_relay_agent_ip(&mut self, a: Ipv4Address) {
        self.data_mut()[field::GIADDR].copy_from_slice(a.as_bytes());
    }
    /// Writes the Ethernet address and zeroes the rest of `chaddr`.
    pub fn set_client_hardware_address(&mut self, a: EthernetAddress) {
        let chaddr = &mut self.data_mut()[field::CHADDR];
        chaddr.fill(0);
        chaddr[..6].copy_from_slice(a.as_bytes());
    }
    pub fn set_magic_cookie(&mut self, v: u32) {
        self.data_mut()[field::MAGIC].copy_from_slice(&v.to_be_bytes());
    }
    /// The options area, for writing.
    pub fn options_mut(&mut self) -> &mut [u8] {
        &mut self.data_mut()[field::OPTIONS..]
    }
}

/// Up to three DNS servers from option 6, in the server's order.
pub type DnsServers = [Option<Ipv4Address>; 3];

/// The parsed meaning of a DHCP message, limited to what a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    pub message_type: MessageType,
    pub transaction_id: u32,
    pub secs: u16,
    /// The broadcast flag: the client cannot receive unicast yet.
    pub broadcast: bool,
    pub client_hardware_address: EthernetAddress,
    /// `ciaddr`: the client's current address (renewing, releasing).
    pub client_ip: Ipv4Address,
    /// `yiaddr`: the address offered or assigned to the client.
    pub your_ip: Ipv4Address,
    /// `siaddr`: the next server in bootstrap (not the DHCP server id).
    pub server_ip: Ipv4Address,
    /// `giaddr`: the relay agent, unspecified when none.
    pub relay_agent_ip: Ipv4Address,
    pub server_identifier: Option<Ipv4Address>,
    pub requested_ip: Option<Ipv4Address>,
    pub parameter_request_list: Option<&'a [u8]>,
    pub subnet_mask: Option<Ipv4Address>,
    /// The first router of option 3 (the rest are backups this stack ignores).
    pub router: Option<Ipv4Address>,
    pub dns_servers: Option<DnsServers>,
    /// Lease, renewal (T1) and rebinding (T2) times, in seconds.
    pub lease_duration: Option<u32>,
    pub renew_duration: Option<u32>,
    pub rebind_duration: Option<u32>,
    pub client_identifier: Option<&'a [u8]>,
    pub max_message_size: Option<u16>,
    pub hostname: Option<&'a [u8]>,
}

impl<'a> Repr<'a> {
    /// A message of type `message_type` with every optional field empty.
    pub fn new(message_type: MessageType, transaction_id: u32, client_hardware_address: EthernetAddress) -> Repr<'a> {
        Repr {
            message_type,
            transaction_id,
            secs: 0,
            broadcast: false,
            client_hardware_address,
            client_ip: Ipv4Address::UNSPECIFIED,
            your_ip: Ipv4Address::UNSPECIFIED,
            server_ip: Ipv4Address::UNSPECIFIED,
            relay_agent_ip: Ipv4Address::UNSPECIFIED,
            server_identifier: None,
            requested_ip: None,
            parameter_request_list: None,
            subnet_mask: None,
            router: None,
            dns_servers: None,
            lease_duration: None,
            renew_duration: None,
            rebind_duration: None,
            client_identifier: None,
            max_message_size: None,
            hostname: None,
        }
    }

    /// Parses a message checked by [`Packet::new_checked`].
    ///
    /// Errors: `Unsupported` for a non-Ethernet hardware type or a plain
    /// BOOTP message (no message type) or an unknown message type;
    /// `Malformed` for a bad cookie, hardware length, op code that does
    /// not match the message type, or an option with an impossible length.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        if packet.hardware_type() != HTYPE_ETHERNET {
            return Err(Error::Unsupported);
        }
        if packet.hardware_len() != HLEN_ETHERNET {
            return Err(Error::Malformed);
        }
        if packet.magic_cookie() != MAGIC_COOKIE {
            return Err(Error::Malformed);
        }
        let opcode = match packet.opcode_raw() {
            1 => OpCode::Request,
            2 => OpCode::Reply,
            _ => return Err(Error::Malformed),
        };

        let mut message_type = None;
        let mut repr = Repr::new(MessageType::Discover, packet.transaction_id(), packet.client_hardware_address());
        repr.secs = packet.secs();
        repr.broadcast = packet.broadcast_flag();
        repr.client_ip = packet.client_ip();
        repr.your_ip = packet.your_ip();
        repr.server_ip = packet.server_ip();
        repr.relay_agent_ip = packet.relay_agent_ip();

        for opt in packet.options() {
            let DhcpOption { kind, data } = opt?;
            match kind {
                option::MESSAGE_TYPE => {
                    let v = exact::<1>(data)?[0];
                    message_type = Some(MessageType::from_u8(v).ok_or(Error::Unsupported)?);
                }
                option::SERVER_IDENTIFIER => repr.server_identifier = Some(address(data)?),
                option::REQUESTED_IP => repr.requested_ip = Some(address(data)?),
                option::SUBNET_MASK => repr.subnet_mask = Some(address(data)?),
                option::ROUTER => repr.router = Some(address_list(data)?.0),
                option::DNS_SERVER => {
                    let (first, rest) = address_list(data)?;
                    let mut servers = [Some(first), None, None];
                    // Keep at most three; the rest are rarely useful.
                    for (slot, chunk) in servers[1..].iter_mut().zip(rest.chunks_exact(4)) {
                        *slot = Some(Ipv4Address::from_bytes(chunk));
                    }
                    repr.dns_servers = Some(servers);
                }
                option::LEASE_TIME => repr.lease_duration = Some(u32::from_be_bytes(exact(data)?)),
                option::RENEWAL_TIME => repr.renew_duration = Some(u32::from_be_bytes(exact(data)?)),
                option::REBINDING_TIME => repr.rebind_duration = Some(u32::from_be_bytes(exact(data)?)),
                option::PARAMETER_REQUEST_LIST => repr.parameter_request_list = Some(non_empty(data, 1)?),
                // RFC 2132 §9.14: a type byte and at least one byte of id.
                option::CLIENT_IDENTIFIER => repr.client_identifier = Some(non_empty(data, 2)?),
                option::MAX_MESSAGE_SIZE => {
                    let size = u16::from_be_bytes(exact(data)?);
                    // RFC 2132 §9.10: 576 is the smallest legal value.
                    if size < 576 {
                        return Err(Error::Malformed);
                    }
                    repr.max_message_size = Some(size);
                }
                option::HOSTNAME => repr.hostname = Some(non_empty(data, 1)?),
                _ => {} // Unknown options are skipped.
            }
        }

        repr.message_type = message_type.ok_or(Error::Unsupported)?;
        if repr.message_type.opcode() != opcode {
            return Err(Error::Malformed);
        }
        Ok(repr)
    }

    /// Length of the options this repr emits, end option included.
    fn options_len(&self) -> usize {
        let addr = |a: Option<Ipv4Address>| if a.is_some() { 6 } else { 0 };
        let num = |n: Option<u32>| if n.is_some() { 6 } else { 0 };
        let bytes = |b: Option<&[u8]>| b.map_or(0, |b| 2 + b.len());
        let dns = self.dns_servers.map_or(0, |s| 2 + 4 * s.iter().flatten().count());
        3 + addr(self.server_identifier)
            + addr(self.requested_ip)
            + addr(self.subnet_mask)
            + addr(self.router)
            + dns
            + num(self.lease_duration)
            + num(self.renew_duration)
            + num(self.rebind_duration)
            + bytes(self.parameter_request_list)
            + bytes(self.client_identifier)
            + bytes(self.hostname)
            + if self.max_message_size.is_some() { 4 } else { 0 }
            + 1
    }

    /// The length of the emitted message, padded to [`MIN_MESSAGE_LEN`].
    pub fn buffer_len(&self) -> usize {
        (field::OPTIONS + self.options_len()).max(MIN_MESSAGE_LEN)
    }

    /// Writes the message into the first `buffer_len()` bytes of `packet`.
    ///
    /// Errors: `Truncated` if the buffer is shorter than `buffer_len()`,
    /// `Malformed` if a variable-length option is empty or longer than 255
    /// bytes, or the DNS server list is empty.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) -> Result<()> {
        let len = self.buffer_len();
        let buf = packet.buffer.as_mut().get_mut(..len).ok_or(Error::Truncated)?;
        let mut packet = Packet::new_unchecked(buf);
        let too_long = |b: Option<&[u8]>| b.is_some_and(|b| b.is_empty() || b.len() > 255);
        if too_long(self.parameter_request_list)
            || too_long(self.client_identifier)
            || too_long(self.hostname)
            || self.dns_servers.is_some_and(|s| s.iter().flatten().next().is_none())
        {
            return Err(Error::Malformed);
        }

        packet.set_opcode(self.message_type.opcode());
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_hardware_len(HLEN_ETHERNET);
        packet.set_hops(0);
        packet.set_transaction_id(self.transaction_id);
        packet.set_secs(self.secs);
        packet.set_flags(if self.broadcast { FLAG_BROADCAST } else { 0 });
        packet.set_client_ip(self.client_ip);
        packet.set_your_ip(self.your_ip);
        packet.set_server_ip(self.server_ip);
        packet.set_relay_agent_ip(self.relay_agent_ip);
        packet.set_client_hardware_address(self.client_hardware_address);
        packet.buffer[field::SNAME_FILE].fill(0);
        packet.set_magic_cookie(MAGIC_COOKIE);

        let mut w = OptionWriter { buf: packet.options_mut(), pos: 0 };
        w.put(option::MESSAGE_TYPE, &[self.message_type.to_u8()]);
        if let Some(id) = self.client_identifier {
            w.put(option::CLIENT_IDENTIFIER, id);
        }
        let addrs = [
            (option::REQUESTED_IP, self.requested_ip),
            (option::SERVER_IDENTIFIER, self.server_identifier),
            (option::SUBNET_MASK, self.subnet_mask),
            (option::ROUTER, self.router),
        ];
        for (kind, addr) in addrs {
            if let Some(a) = addr {
                w.put(kind, a.as_bytes());
            }
        }
        if let Some(servers) = self.dns_servers {
            let mut list = [0u8; 12];
            let mut n = 0;
            for a in servers.iter().flatten() {
                list[n..n + 4].copy_from_slice(a.as_bytes());
                n += 4;
            }
            w.put(option::DNS_SERVER, &list[..n]);
        }
        let times = [
            (option::LEASE_TIME, self.lease_duration),
            (option::RENEWAL_TIME, self.renew_duration),
            (option::REBINDING_TIME, self.rebind_duration),
        ];
        for (kind, time) in times {
            if let Some(t) = time {
                w.put(kind, &t.to_be_bytes());
            }
        }
        if let Some(list) = self.parameter_request_list {
            w.put(option::PARAMETER_REQUEST_LIST, list);
        }
        if let Some(size) = self.max_message_size {
            w.put(option::MAX_MESSAGE_SIZE, &size.to_be_bytes());
        }
        if let Some(name) = self.hostname {
            w.put(option::HOSTNAME, name);
        }
        w.buf[w.pos] = option::END;
        // Pad after the end option (RFC 2131 §4.1: pad with zeros).
        w.buf[w.pos + 1..].fill(option::PAD);
        Ok(())
    }
}

/// Appends options; `emit` sized the buffer with `options_len`, so writes
/// stay in bounds.
struct OptionWriter<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl OptionWriter<'_> {
    fn put(&mut self, kind: u8, data: &[u8]) {
        self.buf[self.pos] = kind;
        self.buf[self.pos + 1] = data.len() as u8;
        self.buf[self.pos + 2..self.pos + 2 + data.len()].copy_from_slice(data);
        self.pos += 2 + data.len();
    }
}

/// Option data of exactly `N` bytes.
fn exact<const N: usize>(data: &[u8]) -> Result<[u8; N]> {
    data.try_into().map_err(|_| Error::Malformed)
}

fn address(data: &[u8]) -> Result<Ipv4Address> {
    exact::<4>(data).map(Ipv4Address)
}

/// A non-empty list of addresses: the first, and the bytes of the rest.
fn address_list(data: &[u8]) -> Result<(Ipv4Address, &[u8])> {
    if data.is_empty() || data.len() % 4 != 0 {
        return Err(Error::Malformed);
    }
    let (first, rest) = data.split_at(4);
    Ok((Ipv4Address::from_bytes(first), rest))
}

fn non_empty(data: &[u8], min: usize) -> Result<&[u8]> {
    if data.len() < min {
        Err(Error::Malformed)
    } else {
        Ok(data)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    const XID: u32 = 0x3903_f326;

    /// An OFFER laid out the way dnsmasq sends one: BOOTP header, cookie,
    /// then message type, server id, lease, T1, T2, netmask, broadcast,
    /// router, DNS, end, and zero padding to 300 bytes.
    fn dnsmasq_offer() -> Vec<u8> {
        let mut b = vec![0u8; 300];
        b[..4].copy_from_slice(&[0x02, 0x01, 0x06, 0x00]);
        b[4..8].copy_from_slice(&XID.to_be_bytes());
        b[8..12].copy_from_slice(&[0x00, 0x00, 0x00, 0x00]); // secs, flags
        b[16..20].copy_from_slice(&[10, 0, 2, 15]); // yiaddr
        b[20..24].copy_from_slice(&[10, 0, 2, 2]); // siaddr
        b[28..34].copy_from_slice(&MAC.0);
        b[236..240].copy_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        let opts: &[u8] = &[
            53, 1, 2, // OFFER
            54, 4, 10, 0, 2, 2, // server identifier
            51, 4, 0x00, 0x00, 0x0e, 0x10, // lease 3600 s
            58, 4, 0x00, 0x00, 0x07, 0x08, // T1 1800 s
            59, 4, 0x00, 0x00, 0x0c, 0x4e, // T2 3150 s
            1, 4, 255, 255, 255, 0, // subnet mask
            28, 4, 10, 0, 2, 255, // broadcast address (not kept)
            3, 4, 10, 0, 2, 2, // router
            6, 8, 10, 0, 2, 3, 1, 1, 1, 1, // DNS servers
            255,
        ];
        b[240..240 + opts.len()].copy_from_slice(opts);
        b
    }

    fn parse(bytes: &[u8]) -> Result<Repr<'_>> {
        Repr::parse(&Packet::new_checked(bytes)?)
    }

    #[test]
    fn parses_dnsmasq_offer() {
        let bytes = dnsmasq_offer();
        let repr = parse(&bytes).unwrap();
        assert_eq!(repr.message_type, MessageType::Offer);
        assert_eq!(repr.transaction_id, XID);
        assert_eq!(repr.client_hardware_address, MAC);
        assert!(!repr.broadcast);
        assert_eq!(repr.your_ip, Ipv4Address::new(10, 0, 2, 15));
        assert_eq!(repr.server_ip, Ipv4Address::new(10, 0, 2, 2));
        assert_eq!(repr.server_identifier, Some(Ipv4Address::new(10, 0, 2, 2)));
        assert_eq!(repr.lease_duration, Some(3600));
        assert_eq!(repr.renew_duration, Some(1800));
        assert_eq!(repr.rebind_duration, Some(3150));
        assert_eq!(repr.subnet_mask, Some(Ipv4Address::new(255, 255, 255, 0)));
        assert_eq!(repr.router, Some(Ipv4Address::new(10, 0, 2, 2)));
        assert_eq!(
            repr.dns_servers,
            Some([Some(Ipv4Address::new(10, 0, 2, 3)), Some(Ipv4Address::new(1, 1, 1, 1)), None])
        );
        assert_eq!(repr.requested_ip, None);
        assert_eq!(repr.client_identifier, None);
    }

    #[test]
    fn emits_discover_exactly() {
        let mut repr = Repr::new(MessageType::Discover, XID, MAC);
        repr.broadcast = true;
        repr.secs = 3;
        let client_id = [1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        repr.client_identifier = Some(&client_id);
        repr.parameter_request_list = Some(&[1, 3, 6]);
        repr.max_message_size = Some(1500);
        assert_eq!(repr.buffer_len(), 300);
        let mut buf = vec![0xaau8; 300];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(&buf[..12], &[1, 1, 6, 0, 0x39, 0x03, 0xf3, 0x26, 0, 3, 0x80, 0]);
        assert!(buf[12..28].iter().all(|&b| b == 0));
        assert_eq!(&buf[28..44], &[0x52, 0x54, 0, 0x12, 0x34, 0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(buf[44..236].iter().all(|&b| b == 0));
        assert_eq!(&buf[236..240], &[0x63, 0x82, 0x53, 0x63]);
        let opts: &[u8] =
            &[53, 1, 1, 61, 7, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 55, 3, 1, 3, 6, 57, 2, 0x05, 0xdc, 255];
        assert_eq!(&buf[240..240 + opts.len()], opts);
        assert!(buf[240 + opts.len()..].iter().all(|&b| b == 0));
    }

    #[test]
    fn round_trips_every_field() {
        let mut repr = Repr::new(MessageType::Ack, 0xdead_beef, MAC);
        repr.secs = 7;
        repr.broadcast = true;
        repr.client_ip = Ipv4Address::new(10, 0, 0, 1);
        repr.your_ip = Ipv4Address::new(10, 0, 0, 2);
        repr.server_ip = Ipv4Address::new(10, 0, 0, 3);
        repr.relay_agent_ip = Ipv4Address::new(10, 0, 0, 4);
        repr.server_identifier = Some(Ipv4Address::new(10, 0, 0, 5));
        repr.requested_ip = Some(Ipv4Address::new(10, 0, 0, 6));
        repr.parameter_request_list = Some(&[1, 3]);
        repr.subnet_mask = Some(Ipv4Address::new(255, 255, 0, 0));
        repr.router = Some(Ipv4Address::new(10, 0, 0, 7));
        repr.dns_servers = Some([
            Some(Ipv4Address::new(8, 8, 8, 8)),
            Some(Ipv4Address::new(8, 8, 4, 4)),
            Some(Ipv4Address::new(9, 9, 9, 9)),
        ]);
        repr.lease_duration = Some(86400);
        repr.renew_duration = Some(43200);
        repr.rebind_duration = Some(75600);
        repr.client_identifier = Some(&[1, 2, 3]);
        repr.max_message_size = Some(1500);
        repr.hostname = Some(b"appliance");
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(parse(&buf).unwrap(), repr);

        // A minimal message round trips too (and is padded to 300 bytes).
        let small = Repr::new(MessageType::Nak, 1, MAC);
        let mut buf = vec![0u8; small.buffer_len()];
        assert_eq!(buf.len(), 300);
        small.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(parse(&buf).unwrap(), small);
    }

    #[test]
    fn emit_rejects_short_buffer_and_bad_options() {
        let repr = Repr::new(MessageType::Discover, 1, MAC);
        let mut buf = vec![0u8; 299];
        assert_eq!(repr.emit(&mut Packet::new_unchecked(&mut buf[..])), Err(Error::Truncated));
        let mut buf = vec![0u8; 300];
        let mut bad = repr;
        bad.hostname = Some(b"");
        assert_eq!(bad.emit(&mut Packet::new_unchecked(&mut buf[..])), Err(Error::Malformed));
        let long = [b'a'; 256];
        let mut bad = repr;
        bad.hostname = Some(&long);
        let mut big = vec![0u8; 1000];
        assert_eq!(bad.emit(&mut Packet::new_unchecked(&mut big[..])), Err(Error::Malformed));
        let mut bad = repr;
        bad.dns_servers = Some([None; 3]);
        assert_eq!(bad.emit(&mut Packet::new_unchecked(&mut buf[..])), Err(Error::Malformed));
    }

    #[test]
    fn keeps_three_dns_servers_and_first_router() {
        let mut bytes = dnsmasq_offer();
        let opts: &[u8] =
            &[53, 1, 2, 3, 8, 10, 0, 0, 1, 10, 0, 0, 2, 6, 16, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 255];
        bytes[240..240 + opts.len()].copy_from_slice(opts);
        let repr = parse(&bytes).unwrap();
        assert_eq!(repr.router, Some(Ipv4Address::new(10, 0, 0, 1)));
        assert_eq!(
            repr.dns_servers,
            Some([
                Some(Ipv4Address::new(1, 1, 1, 1)),
                Some(Ipv4Address::new(2, 2, 2, 2)),
                Some(Ipv4Address::new(3, 3, 3, 3)),
            ])
        );
    }

    #[test]
    fn skips_pads_and_unknown_options_and_tolerates_missing_end() {
        let mut bytes = vec![0u8; 240];
        bytes.copy_from_slice(&dnsmasq_offer()[..240]);
        bytes.extend_from_slice(&[0, 0, 200, 3, 9, 9, 9, 0, 53, 1, 5, 224, 0]);
        let repr = parse(&bytes).unwrap();
        assert_eq!(repr.message_type, MessageType::Ack);
        assert_eq!(repr.server_identifier, None);
    }

    /// Replaces the options area of the dnsmasq offer by `opts`.
    fn offer_with_options(opts: &[u8]) -> Vec<u8> {
        let mut bytes = dnsmasq_offer()[..240].to_vec();
        bytes.extend_from_slice(opts);
        bytes
    }

    #[test]
    fn rejects_short_header() {
        let bytes = dnsmasq_offer();
        for len in 0..240 {
            assert_eq!(parse(&bytes[..len]), Err(Error::Truncated), "len {len}");
        }
    }

    #[test]
    fn rejects_option_running_past_buffer() {
        // Length byte present but data short.
        let bytes = offer_with_options(&[53, 1, 2, 54, 4, 10, 0, 2]);
        assert_eq!(Packet::new_checked(&bytes[..]).unwrap_err(), Error::Truncated);
        // Kind byte present, length byte missing.
        let bytes = offer_with_options(&[53, 1, 2, 54]);
        assert_eq!(parse(&bytes), Err(Error::Truncated));
        // An unknown option's length runs past the end.
        let bytes = offer_with_options(&[53, 1, 2, 200, 255]);
        assert_eq!(parse(&bytes), Err(Error::Truncated));
        // Every prefix of the options area of a real offer either parses
        // (cut between options: no end option is tolerated) or is truncated.
        let full = dnsmasq_offer();
        for len in 240..full.len() {
            match parse(&full[..len]) {
                Ok(_) | Err(Error::Truncated) | Err(Error::Unsupported) => {}
                Err(e) => panic!("len {len}: {e:?}"),
            }
        }
    }

    #[test]
    fn rejects_bad_header_fields() {
        let mut bytes = dnsmasq_offer();
        bytes[1] = 6; // IEEE 802 hardware type
        assert_eq!(parse(&bytes), Err(Error::Unsupported));
        let mut bytes = dnsmasq_offer();
        bytes[2] = 16;
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        let mut bytes = dnsmasq_offer();
        bytes[239] = 0x64;
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        let mut bytes = dnsmasq_offer();
        bytes[0] = 3;
        assert_eq!(parse(&bytes), Err(Error::Malformed));
        // An OFFER must travel as a BOOTREPLY.
        let mut bytes = dnsmasq_offer();
        bytes[0] = 1;
        assert_eq!(parse(&bytes), Err(Error::Malformed));
    }

    #[test]
    fn rejects_missing_or_unknown_message_type() {
        assert_eq!(parse(&offer_with_options(&[54, 4, 10, 0, 2, 2, 255])), Err(Error::Unsupported));
        assert_eq!(parse(&offer_with_options(&[53, 1, 9, 255])), Err(Error::Unsupported));
        assert_eq!(parse(&offer_with_options(&[53, 1, 0, 255])), Err(Error::Unsupported));
    }

    #[test]
    fn rejects_options_with_wrong_lengths() {
        let cases: &[&[u8]] = &[
            &[53, 2, 2, 0],
            &[53, 0],
            &[54, 3, 10, 0, 2],
            &[50, 5, 10, 0, 2, 2, 2],
            &[1, 0],
            &[3, 0],
            &[3, 5, 1, 2, 3, 4, 5],
            &[6, 0],
            &[6, 6, 1, 2, 3, 4, 5, 6],
            &[51, 2, 0, 1],
            &[58, 3, 0, 0, 1],
            &[59, 8, 0, 0, 0, 1, 0, 0, 0, 1],
            &[55, 0],
            &[61, 1, 1],
            &[57, 1, 5],
            &[57, 2, 0x02, 0x3f], // 575: below the legal minimum
            &[12, 0],
        ];
        for case in cases {
            let mut opts = vec![53, 1, 2];
            opts.extend_from_slice(case);
            opts.push(255);
            assert_eq!(parse(&offer_with_options(&opts)), Err(Error::Malformed), "{case:?}");
        }
    }

    /// A reply laid out the way QEMU's user-mode network (slirp) sends it:
    /// the whole 548-byte BOOTP payload (312-byte options area), `siaddr`
    /// set, lease time but no T1/T2; a NAK carries only the message type and
    /// a text message (option 56), no server identifier.
    pub(crate) fn slirp_reply(kind: u8, xid: u32, mac: EthernetAddress) -> Vec<u8> {
        let mut b = vec![0u8; 548];
        b[..4].copy_from_slice(&[2, 1, 6, 0]);
        b[4..8].copy_from_slice(&xid.to_be_bytes());
        if kind != 6 {
            b[16..20].copy_from_slice(&[10, 0, 2, 15]);
        }
        b[20..24].copy_from_slice(&[10, 0, 2, 2]);
        b[28..34].copy_from_slice(&mac.0);
        b[236..240].copy_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        let mut opts = vec![53, 1, kind];
        if kind == 6 {
            opts.extend_from_slice(&[56, 31]);
            opts.extend_from_slice(b"requested address not available");
        } else {
            opts.extend_from_slice(&[
                54, 4, 10, 0, 2, 2, // server identifier
                1, 4, 255, 255, 255, 0, // subnet mask
                3, 4, 10, 0, 2, 2, // router
                6, 4, 10, 0, 2, 3, // DNS server
                51, 4, 0x00, 0x01, 0x51, 0x80, // lease 86400 s
            ]);
        }
        opts.push(255);
        b[240..240 + opts.len()].copy_from_slice(&opts);
        b
    }

    #[test]
    fn parses_slirp_ack_and_nak() {
        let bytes = slirp_reply(5, XID, MAC);
        let repr = parse(&bytes).unwrap();
        assert_eq!(repr.message_type, MessageType::Ack);
        assert_eq!(repr.your_ip, Ipv4Address::new(10, 0, 2, 15));
        assert_eq!(repr.server_identifier, Some(Ipv4Address::new(10, 0, 2, 2)));
        assert_eq!(repr.lease_duration, Some(86400));
        assert_eq!((repr.renew_duration, repr.rebind_duration), (None, None));
        assert_eq!(repr.dns_servers, Some([Some(Ipv4Address::new(10, 0, 2, 3)), None, None]));

        let bytes = slirp_reply(6, XID, MAC);
        let repr = parse(&bytes).unwrap();
        assert_eq!(repr.message_type, MessageType::Nak);
        assert_eq!(repr.your_ip, Ipv4Address::UNSPECIFIED);
        assert_eq!(repr.server_identifier, None);
    }

    /// Random corruptions of real messages: parsing returns, never panics,
    /// and whatever parses re-emits and parses to the same meaning.
    #[test]
    fn corrupted_messages_never_panic() {
        let mut rng = 0x1234_5678u32;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng
        };
        let seeds = [dnsmasq_offer(), slirp_reply(5, XID, MAC), slirp_reply(6, XID, MAC)];
        for round in 0..3000 {
            let mut bytes = seeds[round % seeds.len()].clone();
            for _ in 0..1 + next() % 4 {
                // Mostly hit the options area, where the lengths are.
                let at = if next() % 4 == 0 { next() as usize } else { 236 + next() as usize % 40 };
                let at = at % bytes.len();
                bytes[at] = next() as u8;
            }
            bytes.truncate(next() as usize % (bytes.len() + 1));
            if let Ok(repr) = parse(&bytes) {
                let mut out = vec![0u8; repr.buffer_len()];
                if repr.emit(&mut Packet::new_unchecked(&mut out[..])).is_ok() {
                    assert_eq!(parse(&out).unwrap(), repr);
                }
            }
        }
    }

    #[test]
    fn option_iter_stops_after_error() {
        let mut it = OptionIter::new(&[1, 4, 1, 2, 3, 4, 3, 9, 1]);
        assert_eq!(it.next(), Some(Ok(DhcpOption { kind: 1, data: &[1, 2, 3, 4] })));
        assert_eq!(it.next(), Some(Err(Error::Truncated)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn accessors_and_setters_agree() {
        let mut buf = vec![0u8; 300];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        p.set_transaction_id(0x0102_0304);
        p.set_flags(0x8000);
        p.set_your_ip(Ipv4Address::new(1, 2, 3, 4));
        p.set_client_hardware_address(MAC);
        assert_eq!(p.transaction_id(), 0x0102_0304);
        assert!(p.broadcast_flag());
        assert_eq!(p.your_ip(), Ipv4Address::new(1, 2, 3, 4));
        assert_eq!(p.client_hardware_address(), MAC);
    }
}
