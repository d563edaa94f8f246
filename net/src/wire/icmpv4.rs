//! ICMPv4 messages (RFC 792): echo, and the error messages a host sends
//! and must understand (destination unreachable, time exceeded, parameter
//! problem).
//!
//! ```text
//!  0      1      2          4                 8
//!  | type | code | checksum | rest of header  | data ...
//! ```
//!
//! Error messages quote the datagram that caused them: its IP header and
//! at least the first 8 bytes of its payload. [`QuotedDatagram`] reads such
//! a quote (whose total-length field describes bytes that are not there).

use super::checksum;
use super::ipv4;
use super::{Error, IpProtocol, Ipv4Address, Result};

/// Length of the fixed header (type, code, checksum, rest of header).
pub const HEADER_LEN: usize = 8;
/// Error messages are bounded so the whole IP datagram fits in 576 bytes
/// (RFC 1812 4.3.2.3): 576 - 20 (IP) - 8 (ICMP) bytes of quote at most.
pub const MAX_ERROR_DATA_LEN: usize = ipv4::MIN_MTU - ipv4::HEADER_LEN - HEADER_LEN;

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQNO: Range<usize> = 6..8;
    pub const UNUSED: Range<usize> = 4..8;
    pub const PARAM_POINTER: usize = 4;
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
}

/// The ICMP message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    EchoReply,
    DstUnreachable,
    Redirect,
    EchoRequest,
    RouterAdvert,
    RouterSolicit,
    TimeExceeded,
    ParamProblem,
    Timestamp,
    TimestampReply,
    Unknown(u8),
}

impl From<u8> for Message {
    fn from(v: u8) -> Message {
        match v {
            0 => Message::EchoReply,
            3 => Message::DstUnreachable,
            5 => Message::Redirect,
            8 => Message::EchoRequest,
            9 => Message::RouterAdvert,
            10 => Message::RouterSolicit,
            11 => Message::TimeExceeded,
            12 => Message::ParamProblem,
            13 => Message::Timestamp,
            14 => Message::TimestampReply,
            other => Message::Unknown(other),
        }
    }
}

impl From<Message> for u8 {
    fn from(m: Message) -> u8 {
        match m {
            Message::EchoReply => 0,
            Message::DstUnreachable => 3,
            Message::Redirect => 5,
            Message::EchoRequest => 8,
            Message::RouterAdvert => 9,
            Message::RouterSolicit => 10,
            Message::TimeExceeded => 11,
            Message::ParamProblem => 12,
            Message::Timestamp => 13,
            Message::TimestampReply => 14,
            Message::Unknown(other) => other,
        }
    }
}

/// Codes of a destination-unreachable message (RFC 792, RFC 1812).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DstUnreachable {
    NetUnreachable,
    HostUnreachable,
    ProtoUnreachable,
    PortUnreachable,
    /// Fragmentation needed and DF set; carries the next-hop MTU (RFC 1191).
    FragRequired,
    SrcRouteFailed,
    DstNetUnknown,
    DstHostUnknown,
    SrcHostIsolated,
    NetProhibited,
    HostProhibited,
    NetUnreachToS,
    HostUnreachToS,
    CommProhibited,
    HostPrecedenceViolation,
    PrecedenceCutoff,
    Unknown(u8),
}

impl From<u8> for DstUnreachable {
    fn from(v: u8) -> DstUnreachable {
        use DstUnreachable::*;
        match v {
            0 => NetUnreachable,
            1 => HostUnreachable,
            2 => ProtoUnreachable,
            3 => PortUnreachable,
            4 => FragRequired,
            5 => SrcRouteFailed,
            6 => DstNetUnknown,
            7 => DstHostUnknown,
            8 => SrcHostIsolated,
            9 => NetProhibited,
            10 => HostProhibited,
            11 => NetUnreachToS,
            12 => HostUnreachToS,
            13 => CommProhibited,
            14 => HostPrecedenceViolation,
            15 => PrecedenceCutoff,
            other => Unknown(other),
        }
    }
}

impl From<DstUnreachable> for u8 {
    fn from(c: DstUnreachable) -> u8 {
        use DstUnreachable::*;
        match c {
            NetUnreachable => 0,
            HostUnreachable => 1,
            ProtoUnreachable => 2,
            PortUnreachable => 3,
            FragRequired => 4,
            SrcRouteFailed => 5,
            DstNetUnknown => 6,
            DstHostUnknown => 7,
            SrcHostIsolated => 8,
            NetProhibited => 9,
            HostProhibited => 10,
            NetUnreachToS => 11,
            HostUnreachToS => 12,
            CommProhibited => 13,
            HostPrecedenceViolation => 14,
            PrecedenceCutoff => 15,
            Unknown(other) => other,
        }
    }
}

/// Codes of a time-exceeded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeExceeded {
    /// TTL reached zero in transit.
    TtlExpired,
    /// Fragment reassembly timed out.
    FragReassembly,
    Unknown(u8),
}

impl From<u8> for TimeExceeded {
    fn from(v: u8) -> TimeExceeded {
        match v {
            0 => TimeExceeded::TtlExpired,
            1 => TimeExceeded::FragReassembly,
            other => TimeExceeded::Unknown(other),
        }
    }
}

impl From<TimeExceeded> for u8 {
    fn from(c: TimeExceeded) -> u8 {
        match c {
            TimeExceeded::TtlExpired => 0,
            TimeExceeded::FragReassembly => 1,
            TimeExceeded::Unknown(other) => other,
        }
    }
}

/// Codes of a parameter-problem message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamProblem {
    /// The pointer field says which byte is wrong.
    PointerIndicatesError,
    MissingOption,
    BadLength,
    Unknown(u8),
}

impl From<u8> for ParamProblem {
    fn from(v: u8) -> ParamProblem {
        match v {
            0 => ParamProblem::PointerIndicatesError,
            1 => ParamProblem::MissingOption,
            2 => ParamProblem::BadLength,
            other => ParamProblem::Unknown(other),
        }
    }
}

impl From<ParamProblem> for u8 {
    fn from(c: ParamProblem) -> u8 {
        match c {
            ParamProblem::PointerIndicatesError => 0,
            ParamProblem::MissingOption => 1,
            ParamProblem::BadLength => 2,
            ParamProblem::Unknown(other) => other,
        }
    }
}

/// A view of an ICMPv4 message: the whole IP payload.
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

    /// Wraps a buffer after checking it holds the 8-byte header.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
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

    pub fn msg_type(&self) -> Message {
        self.buffer.as_ref()[field::TYPE].into()
    }
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }
    /// Echo identifier (echo request/reply only).
    pub fn echo_ident(&self) -> u16 {
        self.read_u16(field::ECHO_IDENT)
    }
    /// Echo sequence number (echo request/reply only).
    pub fn echo_seq_no(&self) -> u16 {
        self.read_u16(field::ECHO_SEQNO)
    }
    /// Next-hop MTU (destination unreachable, fragmentation needed).
    pub fn next_hop_mtu(&self) -> u16 {
        self.read_u16(field::NEXT_HOP_MTU)
    }
    /// Offending byte (parameter problem).
    pub fn param_pointer(&self) -> u8 {
        self.buffer.as_ref()[field::PARAM_POINTER]
    }
    /// Whether the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::is_valid(checksum::data(self.buffer.as_ref()))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the 8-byte header, with the buffer's lifetime.
    pub fn data(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write_u16(&mut self, at: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[at].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_msg_type(&mut self, m: Message) {
        self.buffer.as_mut()[field::TYPE] = m.into();
    }
    pub fn set_msg_code(&mut self, code: u8) {
        self.buffer.as_mut()[field::CODE] = code;
    }
    pub fn set_checksum(&mut self, v: u16) {
        self.write_u16(field::CHECKSUM, v)
    }
    pub fn set_echo_ident(&mut self, v: u16) {
        self.write_u16(field::ECHO_IDENT, v)
    }
    pub fn set_echo_seq_no(&mut self, v: u16) {
        self.write_u16(field::ECHO_SEQNO, v)
    }
    pub fn set_next_hop_mtu(&mut self, v: u16) {
        self.write_u16(field::NEXT_HOP_MTU, v)
    }
    pub fn set_param_pointer(&mut self, v: u8) {
        self.buffer.as_mut()[field::PARAM_POINTER] = v;
    }
    /// Zeroes the four rest-of-header bytes.
    pub fn clear_rest_of_header(&mut self) {
        self.buffer.as_mut()[field::UNUSED].fill(0);
    }
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
    /// Computes the checksum over the whole buffer and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of an ICMPv4 message this stack handles. `data` borrows the
/// packet: the echo payload, or for errors the quoted datagram (its IP
/// header and the start of its payload; see [`QuotedDatagram`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repr<'a> {
    EchoRequest {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    DstUnreachable {
        reason: DstUnreachable,
        /// Meaningful for `FragRequired` only; 0 otherwise (parse reads it
        /// only for that code, emit writes it only for that code).
        next_hop_mtu: u16,
        data: &'a [u8],
    },
    TimeExceeded {
        reason: TimeExceeded,
        data: &'a [u8],
    },
    ParamProblem {
        reason: ParamProblem,
        pointer: u8,
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses a checked message. With `verify_checksum` (the device's
    /// `Checksum::rx()`) a bad checksum is `Checksum`. Error messages must
    /// quote at least a 20-byte IP header (else `Truncated`); other message
    /// types are `Unsupported`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>, verify_checksum: bool) -> Result<Repr<'a>> {
        packet.check_len()?;
        if verify_checksum && !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        let data = packet.data();
        let quote = || {
            if data.len() < ipv4::HEADER_LEN {
                Err(Error::Truncated)
            } else {
                Ok(data)
            }
        };
        let code = packet.msg_code();
        match packet.msg_type() {
            Message::EchoRequest => {
                Ok(Repr::EchoRequest { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data })
            }
            Message::EchoReply => {
                Ok(Repr::EchoReply { ident: packet.echo_ident(), seq_no: packet.echo_seq_no(), data })
            }
            Message::DstUnreachable => {
                let reason = DstUnreachable::from(code);
                let next_hop_mtu = match reason {
                    DstUnreachable::FragRequired => packet.next_hop_mtu(),
                    _ => 0,
                };
                Ok(Repr::DstUnreachable { reason, next_hop_mtu, data: quote()? })
            }
            Message::TimeExceeded => Ok(Repr::TimeExceeded { reason: code.into(), data: quote()? }),
            Message::ParamProblem => {
                Ok(Repr::ParamProblem { reason: code.into(), pointer: packet.param_pointer(), data: quote()? })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// The data as emit writes it: echo data whole, error quotes cut to
    /// [`MAX_ERROR_DATA_LEN`].
    pub fn emitted_data(&self) -> &'a [u8] {
        match *self {
            Repr::EchoRequest { data, .. } | Repr::EchoReply { data, .. } => data,
            Repr::DstUnreachable { data, .. } | Repr::TimeExceeded { data, .. } | Repr::ParamProblem { data, .. } => {
                &data[..data.len().min(MAX_ERROR_DATA_LEN)]
            }
        }
    }

    /// Message length: 8 plus the (bounded) data.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.emitted_data().len()
    }

    /// Writes the message into a buffer of exactly [`Repr::buffer_len`]
    /// bytes (the checksum covers the whole buffer). Error quotes longer
    /// than [`MAX_ERROR_DATA_LEN`] are cut. With `compute_checksum` (the
    /// device's `Checksum::tx()`) the checksum is filled, else left zero.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>, compute_checksum: bool) {
        packet.clear_rest_of_header();
        match *self {
            Repr::EchoRequest { ident, seq_no, .. } => {
                packet.set_msg_type(Message::EchoRequest);
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
            }
            Repr::EchoReply { ident, seq_no, .. } => {
                packet.set_msg_type(Message::EchoReply);
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
            }
            Repr::DstUnreachable { reason, next_hop_mtu, .. } => {
                packet.set_msg_type(Message::DstUnreachable);
                packet.set_msg_code(reason.into());
                if reason == DstUnreachable::FragRequired {
                    packet.set_next_hop_mtu(next_hop_mtu);
                }
            }
            Repr::TimeExceeded { reason, .. } => {
                packet.set_msg_type(Message::TimeExceeded);
                packet.set_msg_code(reason.into());
            }
            Repr::ParamProblem { reason, pointer, .. } => {
                packet.set_msg_type(Message::ParamProblem);
                packet.set_msg_code(reason.into());
                packet.set_param_pointer(pointer);
            }
        }
        let data = self.emitted_data();
        packet.data_mut()[..data.len()].copy_from_slice(data);
        if compute_checksum {
            packet.fill_checksum();
        } else {
            packet.set_checksum(0);
        }
    }
}

/// The datagram quoted in an ICMP error: enough of its IP header to find
/// the conversation it belongs to. Its total-length field is not checked
/// against the quote, which normally holds just the first 8 payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedDatagram<'a> {
    pub src_addr: Ipv4Address,
    pub dst_addr: Ipv4Address,
    pub protocol: IpProtocol,
    pub ident: u16,
    /// The quoted payload bytes (the first 8 carry the UDP header or the
    /// TCP ports and sequence number).
    pub payload: &'a [u8],
}

impl<'a> QuotedDatagram<'a> {
    /// Reads a quote: at least 20 bytes, version 4, IHL within the quote.
    pub fn parse(data: &'a [u8]) -> Result<QuotedDatagram<'a>> {
        if data.len() < ipv4::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header = ipv4::Packet::new_unchecked(data);
        if header.version() != 4 || header.header_len() < ipv4::HEADER_LEN {
            return Err(Error::Malformed);
        }
        let payload = data.get(header.header_len()..).ok_or(Error::Truncated)?;
        Ok(QuotedDatagram {
            src_addr: header.src_addr(),
            dst_addr: header.dst_addr(),
            protocol: header.protocol(),
            ident: header.ident(),
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Echo request, ident 0x1234, seq 1, data "abcd"; checksum computed
    // independently.
    static ECHO_REQUEST: [u8; 12] = [0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64];

    /// An IP header (UDP, 10.0.2.15 -> 10.0.2.2) plus 8 bytes of UDP header.
    static QUOTE: [u8; 28] = [
        0x45, 0x00, 0x00, 0x30, 0xab, 0xcd, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00,
        0x02, 0x02, 0x30, 0x39, 0x00, 0x35, 0x00, 0x1c, 0x00, 0x00,
    ];

    fn emit_to(repr: &Repr, buf: &mut [u8]) -> usize {
        let len = repr.buffer_len();
        repr.emit(&mut Packet::new_unchecked(&mut buf[..len]), true);
        len
    }

    #[test]
    fn parse_echo_request() {
        let packet = Packet::new_checked(&ECHO_REQUEST[..]).unwrap();
        assert_eq!(packet.msg_type(), Message::EchoRequest);
        assert!(packet.verify_checksum());
        assert_eq!(Repr::parse(&packet, true).unwrap(), Repr::EchoRequest { ident: 0x1234, seq_no: 1, data: b"abcd" });
    }

    #[test]
    fn emit_echo_exact_bytes() {
        let repr = Repr::EchoRequest { ident: 0x1234, seq_no: 1, data: b"abcd" };
        let mut buf = [0xeeu8; 12];
        assert_eq!(emit_to(&repr, &mut buf), 12);
        assert_eq!(buf, ECHO_REQUEST);
    }

    #[test]
    fn echo_reply_round_trip() {
        let repr = Repr::EchoReply { ident: 7, seq_no: 0xfffe, data: &[1, 2, 3] };
        let mut buf = [0u8; 64];
        let len = emit_to(&repr, &mut buf);
        assert_eq!(buf[0], 0);
        let packet = Packet::new_checked(&buf[..len]).unwrap();
        assert_eq!(Repr::parse(&packet, true).unwrap(), repr);
    }

    #[test]
    fn error_messages_round_trip() {
        let reprs = [
            Repr::DstUnreachable { reason: DstUnreachable::PortUnreachable, next_hop_mtu: 0, data: &QUOTE },
            Repr::DstUnreachable { reason: DstUnreachable::FragRequired, next_hop_mtu: 1400, data: &QUOTE },
            Repr::TimeExceeded { reason: TimeExceeded::FragReassembly, data: &QUOTE },
            Repr::ParamProblem { reason: ParamProblem::PointerIndicatesError, pointer: 9, data: &QUOTE },
        ];
        let mut buf = [0u8; 64];
        for repr in reprs {
            let len = emit_to(&repr, &mut buf);
            assert_eq!(len, 36);
            let packet = Packet::new_checked(&buf[..len]).unwrap();
            assert_eq!(Repr::parse(&packet, true).unwrap(), repr);
        }
    }

    #[test]
    fn port_unreachable_exact_bytes() {
        let repr = Repr::DstUnreachable { reason: DstUnreachable::PortUnreachable, next_hop_mtu: 0, data: &QUOTE };
        let mut buf = [0xffu8; 36];
        emit_to(&repr, &mut buf);
        assert_eq!(&buf[..2], &[3, 3]);
        assert_eq!(&buf[4..8], &[0, 0, 0, 0]);
        assert_eq!(&buf[8..], &QUOTE);
        assert!(checksum::is_valid(checksum::data(&buf)));
    }

    #[test]
    fn frag_required_carries_mtu() {
        let repr = Repr::DstUnreachable { reason: DstUnreachable::FragRequired, next_hop_mtu: 1400, data: &QUOTE };
        let mut buf = [0u8; 36];
        emit_to(&repr, &mut buf);
        assert_eq!(&buf[..8], &[3, 4, buf[2], buf[3], 0, 0, 0x05, 0x78]);
        // For other codes the field is unused and read as 0.
        buf[1] = 1;
        Packet::new_unchecked(&mut buf[..]).fill_checksum();
        let repr = Repr::parse(&Packet::new_checked(&buf[..]).unwrap(), true).unwrap();
        assert!(matches!(repr, Repr::DstUnreachable { next_hop_mtu: 0, .. }));
    }

    #[test]
    fn error_quote_bounded_to_576_byte_datagram() {
        let big = [0x45u8; 1000];
        let repr = Repr::TimeExceeded { reason: TimeExceeded::TtlExpired, data: &big };
        assert_eq!(repr.buffer_len(), 8 + 548);
        assert_eq!(ipv4::HEADER_LEN + repr.buffer_len(), 576);
        let mut buf = [0u8; 600];
        let len = emit_to(&repr, &mut buf);
        let packet = Packet::new_checked(&buf[..len]).unwrap();
        assert_eq!(packet.data(), &big[..548]);
        // Echo data is not bounded.
        let echo = Repr::EchoReply { ident: 0, seq_no: 0, data: &big };
        assert_eq!(echo.buffer_len(), 1008);
    }

    #[test]
    fn truncated_header_rejected() {
        for len in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&ECHO_REQUEST[..len]).unwrap_err(), Error::Truncated);
        }
    }

    #[test]
    fn bad_checksum_rejected() {
        let mut buf = ECHO_REQUEST;
        buf[11] ^= 0x40;
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Checksum);
        assert!(Repr::parse(&packet, false).is_ok());
    }

    #[test]
    fn short_error_quote_rejected() {
        let mut buf = [0u8; 8 + 19];
        buf[0] = 11;
        buf[8..].copy_from_slice(&QUOTE[..19]);
        Packet::new_unchecked(&mut buf[..]).fill_checksum();
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Truncated);
        for kind in [3u8, 12] {
            buf[0] = kind;
            Packet::new_unchecked(&mut buf[..]).fill_checksum();
            let packet = Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Truncated);
        }
    }

    #[test]
    fn other_types_unsupported() {
        for kind in [5u8, 9, 10, 13, 14, 42] {
            let mut buf = [0u8; 8];
            buf[0] = kind;
            Packet::new_unchecked(&mut buf[..]).fill_checksum();
            let packet = Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(Repr::parse(&packet, true).unwrap_err(), Error::Unsupported, "type {kind}");
        }
    }

    #[test]
    fn quoted_datagram_fields() {
        let q = QuotedDatagram::parse(&QUOTE).unwrap();
        assert_eq!(q.src_addr, Ipv4Address::new(10, 0, 2, 15));
        assert_eq!(q.dst_addr, Ipv4Address::new(10, 0, 2, 2));
        assert_eq!(q.protocol, IpProtocol::Udp);
        assert_eq!(q.ident, 0xabcd);
        assert_eq!(q.payload, &QUOTE[20..]);
    }

    #[test]
    fn malformed_quotes_rejected() {
        assert_eq!(QuotedDatagram::parse(&QUOTE[..19]).unwrap_err(), Error::Truncated);
        let mut bad = QUOTE;
        bad[0] = 0x65;
        assert_eq!(QuotedDatagram::parse(&bad).unwrap_err(), Error::Malformed);
        bad[0] = 0x44;
        assert_eq!(QuotedDatagram::parse(&bad).unwrap_err(), Error::Malformed);
        bad[0] = 0x48; // 32-byte header in a 28-byte quote
        assert_eq!(QuotedDatagram::parse(&bad).unwrap_err(), Error::Truncated);
    }
}
