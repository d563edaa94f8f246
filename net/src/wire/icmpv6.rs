//! ICMPv6 messages (RFC 4443): echo, the error messages a host sends and
//! must understand (destination unreachable, packet too big, time
//! exceeded, parameter problem), and the neighbour discovery messages
//! (RFC 4861) whose bodies [`super::ndp`] reads.
//!
//! ```text
//!  0      1      2          4                 8
//!  | type | code | checksum | message body    | data ...
//! ```
//!
//! The checksum covers the IPv6 pseudo-header (RFC 8200 8.1), so parse and
//! emit take the addresses. Error messages quote as much of the invoking
//! packet as fits in the minimum MTU; [`QuotedDatagram`] reads the quote.

use super::checksum;
use super::ipv6;
use super::ndp;
use super::{Error, IpProtocol, Ipv6Address, Result};

/// Length of the fixed part (type, code, checksum, 4 bytes of body).
pub const HEADER_LEN: usize = 8;
/// Error messages are bounded so the whole packet fits the IPv6 minimum
/// MTU (RFC 4443 2.4 (c)): 1280 - 40 - 8 bytes of quote at most.
pub const MAX_ERROR_DATA_LEN: usize = ipv6::MIN_MTU - ipv6::HEADER_LEN - HEADER_LEN;

mod field {
    use core::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQNO: Range<usize> = 6..8;
    pub const BODY: Range<usize> = 4..8;
}

/// The ICMPv6 message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    DstUnreachable,
    PacketTooBig,
    TimeExceeded,
    ParamProblem,
    EchoRequest,
    EchoReply,
    MldQuery,
    MldReport,
    MldDone,
    RouterSolicit,
    RouterAdvert,
    NeighborSolicit,
    NeighborAdvert,
    Redirect,
    MldReportV2,
    Unknown(u8),
}

impl Message {
    /// Error messages have types below 128 (RFC 4443 2.1); a node never
    /// answers an error with an error.
    pub fn is_error(&self) -> bool {
        u8::from(*self) < 128
    }
}

impl From<u8> for Message {
    fn from(v: u8) -> Message {
        match v {
            1 => Message::DstUnreachable,
            2 => Message::PacketTooBig,
            3 => Message::TimeExceeded,
            4 => Message::ParamProblem,
            128 => Message::EchoRequest,
            129 => Message::EchoReply,
            130 => Message::MldQuery,
            131 => Message::MldReport,
            132 => Message::MldDone,
            133 => Message::RouterSolicit,
            134 => Message::RouterAdvert,
            135 => Message::NeighborSolicit,
            136 => Message::NeighborAdvert,
            137 => Message::Redirect,
            143 => Message::MldReportV2,
            other => Message::Unknown(other),
        }
    }
}

impl From<Message> for u8 {
    fn from(m: Message) -> u8 {
        match m {
            Message::DstUnreachable => 1,
            Message::PacketTooBig => 2,
            Message::TimeExceeded => 3,
            Message::ParamProblem => 4,
            Message::EchoRequest => 128,
            Message::EchoReply => 129,
            Message::MldQuery => 130,
            Message::MldReport => 131,
            Message::MldDone => 132,
            Message::RouterSolicit => 133,
            Message::RouterAdvert => 134,
            Message::NeighborSolicit => 135,
            Message::NeighborAdvert => 136,
            Message::Redirect => 137,
            Message::MldReportV2 => 143,
            Message::Unknown(other) => other,
        }
    }
}

/// Codes of a destination-unreachable message (RFC 4443 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DstUnreachable {
    NoRoute,
    AdminProhibited,
    BeyondScope,
    AddrUnreachable,
    PortUnreachable,
    FailedPolicy,
    RejectRoute,
    Unknown(u8),
}

impl From<u8> for DstUnreachable {
    fn from(v: u8) -> DstUnreachable {
        use DstUnreachable::*;
        match v {
            0 => NoRoute,
            1 => AdminProhibited,
            2 => BeyondScope,
            3 => AddrUnreachable,
            4 => PortUnreachable,
            5 => FailedPolicy,
            6 => RejectRoute,
            other => Unknown(other),
        }
    }
}

impl From<DstUnreachable> for u8 {
    fn from(c: DstUnreachable) -> u8 {
        use DstUnreachable::*;
        match c {
            NoRoute => 0,
            AdminProhibited => 1,
            BeyondScope => 2,
            AddrUnreachable => 3,
            PortUnreachable => 4,
            FailedPolicy => 5,
            RejectRoute => 6,
            Unknown(other) => other,
        }
    }
}

/// Codes of a time-exceeded message (RFC 4443 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeExceeded {
    HopLimitExceeded,
    FragReassembly,
    Unknown(u8),
}

impl From<u8> for TimeExceeded {
    fn from(v: u8) -> TimeExceeded {
        match v {
            0 => TimeExceeded::HopLimitExceeded,
            1 => TimeExceeded::FragReassembly,
            other => TimeExceeded::Unknown(other),
        }
    }
}

impl From<TimeExceeded> for u8 {
    fn from(c: TimeExceeded) -> u8 {
        match c {
            TimeExceeded::HopLimitExceeded => 0,
            TimeExceeded::FragReassembly => 1,
            TimeExceeded::Unknown(other) => other,
        }
    }
}

/// Codes of a parameter-problem message (RFC 4443 3.4, RFC 7112).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamProblem {
    ErroneousHeaderField,
    UnrecognizedNextHeader,
    UnrecognizedOption,
    /// The first fragment does not hold the whole header chain.
    IncompleteHeaderChain,
    Unknown(u8),
}

impl From<u8> for ParamProblem {
    fn from(v: u8) -> ParamProblem {
        match v {
            0 => ParamProblem::ErroneousHeaderField,
            1 => ParamProblem::UnrecognizedNextHeader,
            2 => ParamProblem::UnrecognizedOption,
            3 => ParamProblem::IncompleteHeaderChain,
            other => ParamProblem::Unknown(other),
        }
    }
}

impl From<ParamProblem> for u8 {
    fn from(c: ParamProblem) -> u8 {
        match c {
            ParamProblem::ErroneousHeaderField => 0,
            ParamProblem::UnrecognizedNextHeader => 1,
            ParamProblem::UnrecognizedOption => 2,
            ParamProblem::IncompleteHeaderChain => 3,
            ParamProblem::Unknown(other) => other,
        }
    }
}

/// A view of an ICMPv6 message: the whole upper-layer payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    pub(super) buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short
    /// buffer. Use [`Packet::new_checked`] on received data.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking it holds the 8-byte fixed part.
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

    pub(super) fn read_u16(&self, at: core::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[at];
        u16::from_be_bytes([b[0], b[1]])
    }
    pub(super) fn read_u32(&self, at: core::ops::Range<usize>) -> u32 {
        let b = &self.buffer.as_ref()[at];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
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
    /// The MTU of a packet-too-big message.
    pub fn mtu(&self) -> u32 {
        self.read_u32(field::BODY)
    }
    /// The pointer of a parameter-problem message: an offset in the
    /// quoted packet.
    pub fn param_pointer(&self) -> u32 {
        self.read_u32(field::BODY)
    }
    /// Whether the checksum over the pseudo-header and the whole message
    /// verifies.
    pub fn verify_checksum(&self, src: &Ipv6Address, dst: &Ipv6Address) -> bool {
        checksum::is_valid(message_sum(src, dst, self.buffer.as_ref()))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The bytes after the 8-byte fixed part, with the buffer's lifetime.
    pub fn data(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub(super) fn write_u16(&mut self, at: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[at].copy_from_slice(&v.to_be_bytes());
    }
    pub(super) fn write_u32(&mut self, at: core::ops::Range<usize>, v: u32) {
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
    pub fn set_mtu(&mut self, v: u32) {
        self.write_u32(field::BODY, v)
    }
    pub fn set_param_pointer(&mut self, v: u32) {
        self.write_u32(field::BODY, v)
    }
    /// Zeroes the four body bytes after the checksum.
    pub fn clear_body(&mut self) {
        self.buffer.as_mut()[field::BODY].fill(0);
    }
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
    /// Computes the checksum over the pseudo-header and the whole buffer
    /// and writes it.
    pub fn fill_checksum(&mut self, src: &Ipv6Address, dst: &Ipv6Address) {
        self.set_checksum(0);
        let c = checksum::finish(message_sum(src, dst, self.buffer.as_ref()));
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The folded sum of the pseudo-header and the whole message.
fn message_sum(src: &Ipv6Address, dst: &Ipv6Address, message: &[u8]) -> u16 {
    checksum::combine(&[
        checksum::pseudo_header_v6(src, dst, IpProtocol::Icmpv6, message.len() as u32),
        checksum::data(message),
    ])
}

/// The meaning of an ICMPv6 message this stack handles. `data` borrows the
/// packet: the echo payload, or for errors the quoted packet (see
/// [`QuotedDatagram`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        data: &'a [u8],
    },
    PacketTooBig {
        mtu: u32,
        data: &'a [u8],
    },
    TimeExceeded {
        reason: TimeExceeded,
        data: &'a [u8],
    },
    ParamProblem {
        reason: ParamProblem,
        /// Offset of the offending byte in the quoted packet.
        pointer: u32,
        data: &'a [u8],
    },
    /// Router/neighbour solicitation and advertisement, redirect.
    Ndp(ndp::Repr<'a>),
}

impl<'a> Repr<'a> {
    /// Parses a checked message sent from `src` to `dst`. With
    /// `verify_checksum` (the device's `Checksum::rx()`) a bad checksum is
    /// `Checksum`. Error messages must quote at least a 40-byte IPv6
    /// header (else `Truncated`); NDP messages are validated as
    /// [`ndp::Repr::parse`] says; other types (MLD, unknown) are
    /// `Unsupported`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        src: &Ipv6Address,
        dst: &Ipv6Address,
        verify_checksum: bool,
    ) -> Result<Repr<'a>> {
        packet.check_len()?;
        if verify_checksum && !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        let data = packet.data();
        let quote = || {
            if data.len() < ipv6::HEADER_LEN {
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
            Message::DstUnreachable => Ok(Repr::DstUnreachable { reason: code.into(), data: quote()? }),
            Message::PacketTooBig => Ok(Repr::PacketTooBig { mtu: packet.mtu(), data: quote()? }),
            Message::TimeExceeded => Ok(Repr::TimeExceeded { reason: code.into(), data: quote()? }),
            Message::ParamProblem => {
                Ok(Repr::ParamProblem { reason: code.into(), pointer: packet.param_pointer(), data: quote()? })
            }
            Message::RouterSolicit
            | Message::RouterAdvert
            | Message::NeighborSolicit
            | Message::NeighborAdvert
            | Message::Redirect => Ok(Repr::Ndp(ndp::Repr::parse(packet, src, dst)?)),
            _ => Err(Error::Unsupported),
        }
    }

    /// The data as emit writes it: echo data whole, error quotes cut to
    /// [`MAX_ERROR_DATA_LEN`], nothing for NDP (its body is separate).
    pub fn emitted_data(&self) -> &'a [u8] {
        match *self {
            Repr::EchoRequest { data, .. } | Repr::EchoReply { data, .. } => data,
            Repr::DstUnreachable { data, .. }
            | Repr::PacketTooBig { data, .. }
            | Repr::TimeExceeded { data, .. }
            | Repr::ParamProblem { data, .. } => &data[..data.len().min(MAX_ERROR_DATA_LEN)],
            Repr::Ndp(_) => &[],
        }
    }

    /// Whether this is an error message (never answered with an error).
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Repr::DstUnreachable { .. }
                | Repr::PacketTooBig { .. }
                | Repr::TimeExceeded { .. }
                | Repr::ParamProblem { .. }
        )
    }

    /// Message length.
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::Ndp(ndp) => ndp.buffer_len(),
            _ => HEADER_LEN + self.emitted_data().len(),
        }
    }

    /// Writes the message into a buffer of exactly [`Repr::buffer_len`]
    /// bytes (the checksum covers the whole buffer). Error quotes longer
    /// than [`MAX_ERROR_DATA_LEN`] are cut. With `compute_checksum` (the
    /// device's `Checksum::tx()`) the checksum is filled, else left zero.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut Packet<&mut T>,
        src: &Ipv6Address,
        dst: &Ipv6Address,
        compute_checksum: bool,
    ) {
        packet.clear_body();
        match *self {
            Repr::EchoRequest { ident, seq_no, .. } | Repr::EchoReply { ident, seq_no, .. } => {
                let m =
                    if matches!(self, Repr::EchoRequest { .. }) { Message::EchoRequest } else { Message::EchoReply };
                packet.set_msg_type(m);
                packet.set_msg_code(0);
                packet.set_echo_ident(ident);
                packet.set_echo_seq_no(seq_no);
            }
            Repr::DstUnreachable { reason, .. } => {
                packet.set_msg_type(Message::DstUnreachable);
                packet.set_msg_code(reason.into());
            }
            Repr::PacketTooBig { mtu, .. } => {
                packet.set_msg_type(Message::PacketTooBig);
                packet.set_msg_code(0);
                packet.set_mtu(mtu);
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
            Repr::Ndp(ref ndp) => ndp.emit(packet),
        }
        if !matches!(self, Repr::Ndp(_)) {
            let data = self.emitted_data();
            packet.data_mut()[..data.len()].copy_from_slice(data);
        }
        if compute_checksum {
            packet.fill_checksum(src, dst);
        } else {
            packet.set_checksum(0);
        }
    }
}

/// The packet quoted in an ICMPv6 error: its fixed header (to find the
/// destination, for path MTU) and what follows it (extension headers and
/// the start of the upper layer; walk it with [`super::ipv6ext::walk`]).
/// The quoted payload-length field is not checked against the quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuotedDatagram<'a> {
    pub src_addr: Ipv6Address,
    pub dst_addr: Ipv6Address,
    pub next_header: IpProtocol,
    pub payload: &'a [u8],
}

impl<'a> QuotedDatagram<'a> {
    /// Reads a quote: at least 40 bytes, version 6.
    pub fn parse(data: &'a [u8]) -> Result<QuotedDatagram<'a>> {
        if data.len() < ipv6::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header = ipv6::Packet::new_unchecked(data);
        if header.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(QuotedDatagram {
            src_addr: header.src_addr(),
            dst_addr: header.dst_addr(),
            next_header: header.next_header(),
            payload: &data[ipv6::HEADER_LEN..],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv6_captures::{ECHO_REP, ECHO_REQ, MLD};
    use std::vec;

    /// The addresses and ICMPv6 message of a captured IPv6 packet.
    fn split(packet: &[u8]) -> (Ipv6Address, Ipv6Address, &[u8]) {
        let ip = ipv6::Packet::new_checked(packet).unwrap();
        (ip.src_addr(), ip.dst_addr(), ip.payload())
    }

    fn emit_to(repr: &Repr, src: &Ipv6Address, dst: &Ipv6Address) -> std::vec::Vec<u8> {
        let mut buf = vec![0xeeu8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), src, dst, true);
        buf
    }

    #[test]
    fn captured_echo_request_and_reply() {
        let (src, dst, msg) = split(&ECHO_REQ);
        let packet = Packet::new_checked(msg).unwrap();
        assert!(packet.verify_checksum(&src, &dst));
        let repr = Repr::parse(&packet, &src, &dst, true).unwrap();
        assert_eq!(repr, Repr::EchoRequest { ident: 0x525e, seq_no: 1, data: b"abcd" });
        assert_eq!(emit_to(&repr, &src, &dst), msg);

        let (src, dst, msg) = split(&ECHO_REP);
        let reply = Repr::EchoReply { ident: 0x525e, seq_no: 1, data: b"abcd" };
        assert_eq!(Repr::parse(&Packet::new_checked(msg).unwrap(), &src, &dst, true).unwrap(), reply);
        assert_eq!(emit_to(&reply, &src, &dst), msg);
    }

    #[test]
    fn checksum_covers_pseudo_header() {
        let (src, dst, msg) = split(&ECHO_REQ);
        let packet = Packet::new_checked(msg).unwrap();
        // Another destination address: the same bytes no longer verify.
        let other = Ipv6Address::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 3);
        assert_eq!(Repr::parse(&packet, &src, &other, true), Err(Error::Checksum));
        // Without verification (checksum offload) it parses.
        assert!(Repr::parse(&packet, &src, &other, false).is_ok());
        let mut bad = msg.to_vec();
        bad[9] ^= 1;
        assert_eq!(Repr::parse(&Packet::new_checked(&bad[..]).unwrap(), &src, &dst, true), Err(Error::Checksum));
        // Emit without a checksum leaves it zero.
        let repr = Repr::EchoRequest { ident: 1, seq_no: 2, data: &[] };
        let mut buf = [0xffu8; 8];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst, false);
        assert_eq!(buf, [128, 0, 0, 0, 0, 1, 0, 2]);
    }

    #[test]
    fn errors_round_trip_with_exact_header() {
        let (src, dst, _) = split(&ECHO_REQ);
        let cases = [
            (Repr::DstUnreachable { reason: DstUnreachable::PortUnreachable, data: &ECHO_REQ[..] }, [1, 4, 0, 0, 0, 0]),
            (Repr::PacketTooBig { mtu: 1280, data: &ECHO_REQ[..] }, [2, 0, 0, 0, 0x05, 0x00]),
            (Repr::TimeExceeded { reason: TimeExceeded::FragReassembly, data: &ECHO_REQ[..] }, [3, 1, 0, 0, 0, 0]),
            (
                Repr::ParamProblem {
                    reason: ParamProblem::UnrecognizedNextHeader,
                    pointer: 0x0102,
                    data: &ECHO_REQ[..],
                },
                [4, 1, 0, 0, 0x01, 0x02],
            ),
        ];
        for (repr, head) in cases {
            let buf = emit_to(&repr, &dst, &src);
            assert_eq!(buf.len(), 8 + ECHO_REQ.len());
            assert_eq!((buf[0], buf[1]), (head[0], head[1]));
            assert_eq!(buf[4..8], head[2..6]);
            assert_eq!(&buf[8..], &ECHO_REQ[..]);
            assert!(repr.is_error());
            let packet = Packet::new_checked(&buf[..]).unwrap();
            assert!(packet.msg_type().is_error());
            assert_eq!(Repr::parse(&packet, &dst, &src, true).unwrap(), repr);
        }
    }

    #[test]
    fn error_quote_is_bounded_and_parsed() {
        let (src, dst, _) = split(&ECHO_REQ);
        let mut big = vec![0u8; 1500];
        big[..ECHO_REQ.len()].copy_from_slice(&ECHO_REQ);
        let repr = Repr::PacketTooBig { mtu: 1400, data: &big };
        assert_eq!(repr.buffer_len(), 8 + MAX_ERROR_DATA_LEN);
        assert_eq!(ipv6::HEADER_LEN + repr.buffer_len(), ipv6::MIN_MTU);
        let buf = emit_to(&repr, &dst, &src);
        let parsed = Repr::parse(&Packet::new_checked(&buf[..]).unwrap(), &dst, &src, true).unwrap();
        let Repr::PacketTooBig { mtu: 1400, data } = parsed else { panic!("{parsed:?}") };
        assert_eq!(data.len(), MAX_ERROR_DATA_LEN);
        let quote = QuotedDatagram::parse(data).unwrap();
        assert_eq!((quote.src_addr, quote.dst_addr, quote.next_header), (src, dst, IpProtocol::Icmpv6));
        assert_eq!(&quote.payload[..12], &ECHO_REQ[40..]);
    }

    #[test]
    fn malformed() {
        let (src, dst, msg) = split(&ECHO_REQ);
        assert_eq!(Packet::new_checked(&msg[..7]).unwrap_err(), Error::Truncated);
        // An error quoting less than an IPv6 header.
        let repr = Repr::TimeExceeded { reason: TimeExceeded::HopLimitExceeded, data: &ECHO_REQ[..39] };
        let buf = emit_to(&repr, &src, &dst);
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap(), &src, &dst, true), Err(Error::Truncated));
        // MLD and unknown types are not handled here.
        let (src, dst, msg) = split(&MLD);
        let mld = &msg[8..]; // after the hop-by-hop header
        assert_eq!(Packet::new_checked(mld).unwrap().msg_type(), Message::MldReportV2);
        assert_eq!(Repr::parse(&Packet::new_checked(mld).unwrap(), &src, &dst, true), Err(Error::Unsupported));
        let mut unknown = [200u8, 0, 0, 0, 0, 0, 0, 0];
        Packet::new_unchecked(&mut unknown[..]).fill_checksum(&src, &dst);
        assert_eq!(Repr::parse(&Packet::new_checked(&unknown[..]).unwrap(), &src, &dst, true), Err(Error::Unsupported));
        // Quotes that are not IPv6.
        assert_eq!(QuotedDatagram::parse(&ECHO_REQ[..39]), Err(Error::Truncated));
        let mut v4 = ECHO_REQ;
        v4[0] = 0x45;
        assert_eq!(QuotedDatagram::parse(&v4), Err(Error::Malformed));
    }

    #[test]
    fn codes_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(Message::from(v)), v);
            assert_eq!(u8::from(DstUnreachable::from(v)), v);
            assert_eq!(u8::from(TimeExceeded::from(v)), v);
            assert_eq!(u8::from(ParamProblem::from(v)), v);
        }
        assert!(!Message::EchoRequest.is_error());
        assert!(Message::Unknown(127).is_error());
    }
}
