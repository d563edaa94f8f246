//! TCP segments (RFC 9293) and their options (RFC 7323, RFC 2018).
//!
//! [`Packet`] is a checked view over a segment's bytes; [`Repr`] is the
//! parsed header (the payload stays in the packet; `Repr::payload_len`
//! says how long it is). [`SeqNumber`] does the modulo-2^32 arithmetic and
//! comparisons sequence space needs.

use core::{cmp, fmt, ops};

use super::{checksum, Error, IpAddress, IpProtocol, Result};

/// A TCP sequence number: a point in modulo-2^32 sequence space.
///
/// Comparisons are by signed distance (RFC 1982 style), so `a < b` means
/// `b` lies within 2^31 after `a`. That is not a total order, which is why
/// only `PartialOrd` is implemented.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The signed distance from `other` to `self` (`self - other`).
    pub const fn diff(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
    /// The number of sequence numbers from `earlier` to `self`, zero when
    /// `earlier` is actually later.
    pub fn distance_from(self, earlier: SeqNumber) -> usize {
        self.diff(earlier).max(0) as usize
    }
    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if self > other {
            self
        } else {
            other
        }
    }
    pub fn min(self, other: SeqNumber) -> SeqNumber {
        if self < other {
            self
        } else {
            other
        }
    }
}

impl fmt::Debug for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl ops::Add<usize> for SeqNumber {
    type Output = SeqNumber;
    /// Advances by `n` modulo 2^32 (the caller keeps `n` below 2^31 for
    /// the result to compare sensibly).
    fn add(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n as u32))
    }
}

impl ops::AddAssign<usize> for SeqNumber {
    fn add_assign(&mut self, n: usize) {
        *self = *self + n;
    }
}

impl ops::Sub<usize> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(n as u32))
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &SeqNumber) -> Option<cmp::Ordering> {
        Some(self.diff(*other).cmp(&0))
    }
}

/// The raw flag bits of the header (the 8 defined ones).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub const fn contains(self, bit: u8) -> bool {
        self.0 & bit == bit
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        const NAMES: [(u8, &str); 8] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
        ];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.contains(bit) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Longest header: a data offset of 15 words.
pub const MAX_HEADER_LEN: usize = 60;
/// The largest window shift RFC 7323 allows.
pub const MAX_WINDOW_SHIFT: u8 = 14;

/// A view over a TCP segment (header, options, payload).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; accessors may panic on a short one.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking that the fixed header fits and that
    /// the data offset is at least 5 words and within the buffer.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if header_len > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn read_u16(&self, r: ops::Range<usize>) -> u16 {
        let d = &self.buffer.as_ref()[r];
        u16::from_be_bytes([d[0], d[1]])
    }
    fn read_u32(&self, r: ops::Range<usize>) -> u32 {
        let d = &self.buffer.as_ref()[r];
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    pub fn src_port(&self) -> u16 {
        self.read_u16(field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        self.read_u16(field::DST_PORT)
    }
    pub fn seq_number(&self) -> SeqNumber {
        SeqNumber(self.read_u32(field::SEQ))
    }
    pub fn ack_number(&self) -> SeqNumber {
        SeqNumber(self.read_u32(field::ACK))
    }
    /// Header length in bytes (data offset times four).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::OFFSET] >> 4) * 4
    }
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref()[field::FLAGS])
    }
    pub fn window_len(&self) -> u16 {
        self.read_u16(field::WINDOW)
    }
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM)
    }
    pub fn urgent_at(&self) -> u16 {
        self.read_u16(field::URGENT)
    }
    /// The option bytes between the fixed header and the payload.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
    /// Sequence space the segment occupies: payload plus one each for SYN
    /// and FIN.
    pub fn segment_len(&self) -> usize {
        let flags = self.flags();
        self.payload().len() + usize::from(flags.contains(TcpFlags::SYN)) + usize::from(flags.contains(TcpFlags::FIN))
    }

    /// Whether the checksum over the segment and the IP pseudo-header of
    /// `src`/`dst` verifies.
    pub fn verify_checksum(&self, src: &IpAddress, dst: &IpAddress) -> bool {
        let data = self.buffer.as_ref();
        checksum::is_valid(segment_sum(src, dst, data))
    }

    /// The sum of the pseudo-header and the header, options included: the
    /// checksum verifies when this and the payload's sum
    /// ([`checksum::data`]) combine to a valid sum. The header length is
    /// a multiple of four, so the two sums combine exactly. For a
    /// receiver that sums the payload as it copies it.
    #[inline]
    pub fn header_sum(&self, src: &IpAddress, dst: &IpAddress) -> u16 {
        let data = self.buffer.as_ref();
        let header = &data[..self.header_len().min(data.len())];
        checksum::combine(&[
            checksum::pseudo_header(src, dst, IpProtocol::Tcp, data.len() as u32),
            checksum::data(header),
        ])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write_u16(&mut self, r: ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes())
    }
    fn write_u32(&mut self, r: ops::Range<usize>, v: u32) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes())
    }
    pub fn set_src_port(&mut self, v: u16) {
        self.write_u16(field::SRC_PORT, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        self.write_u16(field::DST_PORT, v)
    }
    pub fn set_seq_number(&mut self, v: SeqNumber) {
        self.write_u32(field::SEQ, v.0)
    }
    pub fn set_ack_number(&mut self, v: SeqNumber) {
        self.write_u32(field::ACK, v.0)
    }
    /// Sets the data offset from a header length in bytes (a multiple of
    /// four between 20 and 60).
    pub fn set_header_len(&mut self, len: usize) {
        let words = (len / 4).min(15) as u8;
        let b = &mut self.buffer.as_mut()[field::OFFSET];
        *b = (*b & 0x0f) | (words << 4);
    }
    pub fn set_flags(&mut self, flags: TcpFlags) {
        self.buffer.as_mut()[field::FLAGS] = flags.0;
        // The reserved bits in the offset byte are zero on transmit.
        self.buffer.as_mut()[field::OFFSET] &= 0xf0;
    }
    pub fn set_window_len(&mut self, v: u16) {
        self.write_u16(field::WINDOW, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        self.write_u16(field::CHECKSUM, v)
    }
    pub fn set_urgent_at(&mut self, v: u16) {
        self.write_u16(field::URGENT, v)
    }
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        &mut self.buffer.as_mut()[start..]
    }
    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: &IpAddress, dst: &IpAddress) {
        self.set_checksum(0);
        let data = self.buffer.as_ref();
        let value = checksum::finish(segment_sum(src, dst, data));
        self.set_checksum(value);
    }
}

/// The folded sum of the pseudo-header and the whole segment.
fn segment_sum(src: &IpAddress, dst: &IpAddress, segment: &[u8]) -> u16 {
    checksum::combine(&[
        checksum::pseudo_header(src, dst, IpProtocol::Tcp, segment.len() as u32),
        checksum::data(segment),
    ])
}

/// A SACK block: the left edge and the right edge (one past the end).
pub type SackBlock = (SeqNumber, SeqNumber);

/// One option from the option list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    EndOfList,
    NoOperation,
    MaxSegmentSize(u16),
    /// The shift as sent; [`Repr::parse`] clamps it to 14.
    WindowScale(u8),
    SackPermitted,
    /// Up to four blocks; unused slots are `None`.
    Sack([Option<SackBlock>; 4]),
    Timestamp {
        tsval: u32,
        tsecr: u32,
    },
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
}

impl<'a> TcpOption<'a> {
    /// Parses the option at the start of `buffer`, returning it and the
    /// rest of the list. A length byte that is too short, runs past the
    /// list, or does not match the option's fixed length is `Malformed`.
    #[inline]
    pub fn parse(buffer: &'a [u8]) -> Result<(&'a [u8], TcpOption<'a>)> {
        let (&k, rest) = buffer.split_first().ok_or(Error::Truncated)?;
        match k {
            kind::EOL => return Ok((&[], TcpOption::EndOfList)),
            kind::NOP => return Ok((rest, TcpOption::NoOperation)),
            _ => {}
        }
        let &len = rest.first().ok_or(Error::Malformed)?;
        let len = usize::from(len);
        if len < 2 || len > buffer.len() {
            return Err(Error::Malformed);
        }
        let data = &buffer[2..len];
        let rest = &buffer[len..];
        let be16 = |d: &[u8]| u16::from_be_bytes([d[0], d[1]]);
        let be32 = |d: &[u8]| u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        let option = match k {
            kind::MSS if len == 4 => TcpOption::MaxSegmentSize(be16(data)),
            kind::WINDOW_SCALE if len == 3 => TcpOption::WindowScale(data[0]),
            kind::SACK_PERMITTED if len == 2 => TcpOption::SackPermitted,
            kind::SACK if len >= 10 && (len - 2) % 8 == 0 && len <= 34 => {
                let mut blocks = [None; 4];
                for (slot, chunk) in blocks.iter_mut().zip(data.chunks_exact(8)) {
                    *slot = Some((SeqNumber(be32(&chunk[..4])), SeqNumber(be32(&chunk[4..]))));
                }
                TcpOption::Sack(blocks)
            }
            kind::TIMESTAMP if len == 10 => TcpOption::Timestamp { tsval: be32(&data[..4]), tsecr: be32(&data[4..]) },
            kind::MSS | kind::WINDOW_SCALE | kind::SACK_PERMITTED | kind::SACK | kind::TIMESTAMP => {
                return Err(Error::Malformed)
            }
            _ => TcpOption::Unknown { kind: k, data },
        };
        Ok((rest, option))
    }

    /// Bytes this option takes when emitted.
    pub fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(blocks) => 2 + 8 * blocks.iter().flatten().count(),
            TcpOption::Timestamp { .. } => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option at the start of `buffer` (at least
    /// [`buffer_len`](Self::buffer_len) long) and returns the rest.
    /// Inlined: the header writer calls it with a known variant, so the
    /// match folds away (not a jump through a table per option).
    #[inline(always)]
    pub fn emit<'b>(&self, buffer: &'b mut [u8]) -> &'b mut [u8] {
        let len = self.buffer_len();
        let (out, rest) = buffer.split_at_mut(len);
        match *self {
            TcpOption::EndOfList => out[0] = kind::EOL,
            TcpOption::NoOperation => out[0] = kind::NOP,
            _ => {
                out[1] = len as u8;
                match *self {
                    TcpOption::MaxSegmentSize(mss) => {
                        out[0] = kind::MSS;
                        out[2..4].copy_from_slice(&mss.to_be_bytes());
                    }
                    TcpOption::WindowScale(shift) => {
                        out[0] = kind::WINDOW_SCALE;
                        out[2] = shift;
                    }
                    TcpOption::SackPermitted => out[0] = kind::SACK_PERMITTED,
                    TcpOption::Sack(blocks) => {
                        out[0] = kind::SACK;
                        for (chunk, (left, right)) in out[2..].chunks_exact_mut(8).zip(blocks.iter().flatten()) {
                            chunk[..4].copy_from_slice(&left.0.to_be_bytes());
                            chunk[4..].copy_from_slice(&right.0.to_be_bytes());
                        }
                    }
                    TcpOption::Timestamp { tsval, tsecr } => {
                        out[0] = kind::TIMESTAMP;
                        out[2..6].copy_from_slice(&tsval.to_be_bytes());
                        out[6..10].copy_from_slice(&tsecr.to_be_bytes());
                    }
                    TcpOption::Unknown { kind, data } => {
                        out[0] = kind;
                        out[2..].copy_from_slice(data);
                    }
                    TcpOption::EndOfList | TcpOption::NoOperation => {}
                }
            }
        }
        rest
    }
}

/// The control bit a segment carries. At most one of SYN, FIN and RST may
/// be set; other combinations are rejected as `Malformed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TcpControl {
    #[default]
    None,
    Syn,
    Fin,
    Rst,
}

impl TcpControl {
    /// Sequence space the control bit occupies.
    pub const fn seq_len(self) -> usize {
        match self {
            TcpControl::Syn | TcpControl::Fin => 1,
            TcpControl::None | TcpControl::Rst => 0,
        }
    }
}

/// A timestamp option's values (RFC 7323).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpTimestamp {
    pub tsval: u32,
    pub tsecr: u32,
}

/// The parsed meaning of a TCP header. The payload is not part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Repr {
    pub src_port: u16,
    pub dst_port: u16,
    pub control: TcpControl,
    pub seq_number: SeqNumber,
    /// `Some` when the ACK flag is set.
    pub ack_number: Option<SeqNumber>,
    /// The window field as sent (not scaled).
    pub window_len: u16,
    /// Window scale option (clamped to 14).
    pub window_scale: Option<u8>,
    pub max_seg_size: Option<u16>,
    pub sack_permitted: bool,
    /// SACK blocks, in the order received; unused slots `None`.
    pub sack_ranges: [Option<SackBlock>; 4],
    pub timestamp: Option<TcpTimestamp>,
    pub push: bool,
    /// `Some(pointer)` when the URG flag is set.
    pub urgent: Option<u16>,
    pub ece: bool,
    pub cwr: bool,
    /// Length of the payload the segment carries.
    pub payload_len: usize,
}

impl Repr {
    /// Parses a segment sent from `src` to `dst`. With `verify_checksum`
    /// (the device's `Checksum::rx()` for TCP) a bad checksum is
    /// `Checksum`. Port 0 on either side, more than one of SYN, FIN and
    /// RST, and any malformed option are `Malformed`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&T>,
        src: &IpAddress,
        dst: &IpAddress,
        verify_checksum: bool,
    ) -> Result<Repr> {
        let mut repr = Repr::default();
        repr.parse_in_place(packet, src, dst, verify_checksum)?;
        Ok(repr)
    }

    /// [`parse`](Self::parse) into `self`, which is wholly overwritten on
    /// success (and left meaningless on error). The receive path parses in
    /// place: a header returned by value is moved once more (about a
    /// hundred bytes per segment).
    #[inline]
    pub(crate) fn parse_in_place<T: AsRef<[u8]> + ?Sized>(
        &mut self,
        packet: &Packet<&T>,
        src: &IpAddress,
        dst: &IpAddress,
        verify_checksum: bool,
    ) -> Result<()> {
        packet.check_len()?;
        if packet.src_port() == 0 || packet.dst_port() == 0 {
            return Err(Error::Malformed);
        }
        if verify_checksum && !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        let flags = packet.flags();
        let control =
            match (flags.contains(TcpFlags::SYN), flags.contains(TcpFlags::FIN), flags.contains(TcpFlags::RST)) {
                (false, false, false) => TcpControl::None,
                (true, false, false) => TcpControl::Syn,
                (false, true, false) => TcpControl::Fin,
                (false, false, true) => TcpControl::Rst,
                _ => return Err(Error::Malformed),
            };
        *self = Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            control,
            seq_number: packet.seq_number(),
            ack_number: flags.contains(TcpFlags::ACK).then(|| packet.ack_number()),
            window_len: packet.window_len(),
            push: flags.contains(TcpFlags::PSH),
            urgent: flags.contains(TcpFlags::URG).then(|| packet.urgent_at()),
            ece: flags.contains(TcpFlags::ECE),
            cwr: flags.contains(TcpFlags::CWR),
            payload_len: packet.payload().len(),
            ..Repr::default()
        };
        self.parse_options(packet.options())
    }

    /// Fills the option fields from a header's option bytes.
    #[inline]
    fn parse_options(&mut self, options: &[u8]) -> Result<()> {
        // The option list of nearly every segment after the handshake: a
        // timestamp alone, as NOP, NOP, TS (Linux, BSD) or TS, EOL, pad
        // (ours). Both are fully checked here, in whole words (the byte
        // patterns compiled to a dozen loads and shifts); anything else is
        // walked.
        if let Ok(bytes) = <&[u8; 12]>::try_from(options) {
            let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            let head = word(0);
            let (nop, ts) = (u32::from(kind::NOP), u32::from(kind::TIMESTAMP));
            let at = if head == nop << 24 | nop << 16 | ts << 8 | 10 {
                Some(4)
            } else if head >> 16 == ts << 8 | 10 && bytes[10] == kind::EOL && bytes[11] == kind::EOL {
                Some(2)
            } else {
                None
            };
            if let Some(at) = at {
                self.timestamp = Some(TcpTimestamp { tsval: word(at), tsecr: word(at + 4) });
                return Ok(());
            }
        }
        if options.is_empty() {
            return Ok(());
        }
        self.walk_options(options)
    }

    /// The general option walk of [`parse_options`](Self::parse_options).
    #[inline(never)]
    fn walk_options(&mut self, mut options: &[u8]) -> Result<()> {
        while !options.is_empty() {
            let (rest, option) = TcpOption::parse(options)?;
            match option {
                TcpOption::EndOfList => break,
                TcpOption::NoOperation | TcpOption::Unknown { .. } => {}
                TcpOption::MaxSegmentSize(mss) => self.max_seg_size = Some(mss),
                TcpOption::WindowScale(shift) => self.window_scale = Some(shift.min(MAX_WINDOW_SHIFT)),
                TcpOption::SackPermitted => self.sack_permitted = true,
                TcpOption::Sack(blocks) => self.sack_ranges = blocks,
                TcpOption::Timestamp { tsval, tsecr } => self.timestamp = Some(TcpTimestamp { tsval, tsecr }),
            }
            options = rest;
        }
        Ok(())
    }

    /// Sequence space the segment occupies.
    pub fn segment_len(&self) -> usize {
        self.payload_len + self.control.seq_len()
    }

    /// SACK blocks that fit beside the other options (three with
    /// timestamps, four without).
    fn sack_blocks_to_emit(&self) -> usize {
        let present = self.sack_ranges.iter().flatten().count();
        if present == 0 {
            return 0;
        }
        let room = (40 - self.fixed_options_len()).saturating_sub(2) / 8;
        present.min(room)
    }

    fn fixed_options_len(&self) -> usize {
        self.max_seg_size.map_or(0, |_| 4)
            + self.window_scale.map_or(0, |_| 3)
            + if self.sack_permitted { 2 } else { 0 }
            + self.timestamp.map_or(0, |_| 10)
    }

    fn options_len(&self) -> usize {
        let sack = self.sack_blocks_to_emit();
        let sack_len = if sack > 0 { 2 + 8 * sack } else { 0 };
        self.fixed_options_len() + sack_len
    }

    /// Header length including options, padded to a multiple of four.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len().div_ceil(4) * 4
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes only the header and options, for a `payload_len`-byte
    /// payload the caller writes itself (straight from a socket buffer);
    /// the checksum is left zero: call [`Packet::fill_checksum`] once the
    /// payload is in place. The buffer must be `header_len() + payload_len`
    /// bytes long.
    pub fn emit_header<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        let header_len = self.header_len();
        self.emit_header_into(&mut packet.buffer.as_mut()[..header_len]);
    }

    /// Writes the header and options into `header`, exactly
    /// [`header_len`](Self::header_len) bytes, checksum zero. Every byte is
    /// written in one pass (the send path builds headers straight in the
    /// frame).
    pub(crate) fn emit_header_into(&self, header: &mut [u8]) {
        let mut flags = 0;
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        flags |= bit(self.control == TcpControl::Syn, TcpFlags::SYN);
        flags |= bit(self.control == TcpControl::Fin, TcpFlags::FIN);
        flags |= bit(self.control == TcpControl::Rst, TcpFlags::RST);
        flags |= bit(self.push, TcpFlags::PSH);
        flags |= bit(self.ack_number.is_some(), TcpFlags::ACK);
        flags |= bit(self.urgent.is_some(), TcpFlags::URG);
        flags |= bit(self.ece, TcpFlags::ECE);
        flags |= bit(self.cwr, TcpFlags::CWR);
        let mut fixed = [0u8; HEADER_LEN];
        fixed[field::SRC_PORT].copy_from_slice(&self.src_port.to_be_bytes());
        fixed[field::DST_PORT].copy_from_slice(&self.dst_port.to_be_bytes());
        fixed[field::SEQ].copy_from_slice(&self.seq_number.0.to_be_bytes());
        fixed[field::ACK].copy_from_slice(&self.ack_number.unwrap_or_default().0.to_be_bytes());
        // Data offset in the high nibble; the reserved bits are zero.
        fixed[field::OFFSET] = ((header.len() / 4).min(15) as u8) << 4;
        fixed[field::FLAGS] = flags;
        fixed[field::WINDOW].copy_from_slice(&self.window_len.to_be_bytes());
        fixed[field::URGENT].copy_from_slice(&self.urgent.unwrap_or(0).to_be_bytes());
        let (head, mut options) = header.split_at_mut(HEADER_LEN);
        head.copy_from_slice(&fixed);
        if let Some(mss) = self.max_seg_size {
            options = TcpOption::MaxSegmentSize(mss).emit(options);
        }
        if let Some(shift) = self.window_scale {
            options = TcpOption::WindowScale(shift).emit(options);
        }
        if self.sack_permitted {
            options = TcpOption::SackPermitted.emit(options);
        }
        if let Some(ts) = self.timestamp {
            // The common case, written without the general option code.
            let (out, rest) = options.split_at_mut(10);
            out[0] = kind::TIMESTAMP;
            out[1] = 10;
            out[2..6].copy_from_slice(&ts.tsval.to_be_bytes());
            out[6..10].copy_from_slice(&ts.tsecr.to_be_bytes());
            options = rest;
        }
        let sack = self.sack_blocks_to_emit();
        if sack > 0 {
            let mut blocks = [None; 4];
            for (slot, block) in blocks.iter_mut().zip(self.sack_ranges.iter().flatten().take(sack)) {
                *slot = Some(*block);
            }
            options = TcpOption::Sack(blocks).emit(options);
        }
        // Padding: end-of-list then zeros (both are zero bytes); at most
        // three, written directly rather than through a `memset` call.
        match options {
            [] => {}
            [a] => *a = 0,
            [a, b] => [*a, *b] = [0; 2],
            [a, b, c] => [*a, *b, *c] = [0; 3],
            longer => longer.fill(0),
        }
    }

    /// Writes header, options and `payload` (`payload_len` bytes) into a
    /// buffer of exactly [`buffer_len`](Self::buffer_len) bytes. With
    /// `compute_checksum` (the device's `Checksum::tx()`) the checksum is
    /// filled, otherwise left zero.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut Packet<&mut T>,
        src: &IpAddress,
        dst: &IpAddress,
        payload: &[u8],
        compute_checksum: bool,
    ) {
        self.emit_header(packet);
        let room = packet.payload_mut();
        let n = room.len().min(payload.len());
        room[..n].copy_from_slice(&payload[..n]);
        if compute_checksum {
            packet.fill_checksum(src, dst);
        }
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "TCP {}->{} ", self.src_port, self.dst_port)?;
        match self.control {
            TcpControl::Syn => f.write_str("SYN ")?,
            TcpControl::Fin => f.write_str("FIN ")?,
            TcpControl::Rst => f.write_str("RST ")?,
            TcpControl::None => {}
        }
        write!(f, "seq={}", self.seq_number)?;
        if let Some(ack) = self.ack_number {
            write!(f, " ack={}", ack)?;
        }
        write!(f, " win={} len={}", self.window_len, self.payload_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Ipv4Address;
    use std::vec;
    use std::vec::Vec;

    const SRC: IpAddress = IpAddress::V4(Ipv4Address([192, 168, 1, 1]));
    const DST: IpAddress = IpAddress::V4(Ipv4Address([192, 168, 1, 2]));

    // A SYN with MSS 1460, SACK-permitted, timestamps, NOP, window scale 7
    // (the layout Linux uses), checksum computed by hand-independent means
    // below (verify_checksum on bytes produced by a separate summer).
    fn linux_syn() -> Vec<u8> {
        let mut b = vec![
            0xc0, 0x01, 0x00, 0x50, // ports 49153 -> 80
            0x01, 0x02, 0x03, 0x04, // seq
            0x00, 0x00, 0x00, 0x00, // ack
            0xa0, 0x02, 0x72, 0x10, // offset 10, SYN, window 29200
            0x00, 0x00, 0x00, 0x00, // checksum, urgent
            0x02, 0x04, 0x05, 0xb4, // MSS 1460
            0x04, 0x02, // SACK permitted
            0x08, 0x0a, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, // TS 7, 0
            0x01, // NOP
            0x03, 0x03, 0x07, // WS 7
        ];
        let sum = reference_checksum(&b);
        b[16..18].copy_from_slice(&sum.to_be_bytes());
        b
    }

    // Independent checksum (RFC 1071 by the book, u32 with carries).
    fn reference_checksum(seg: &[u8]) -> u16 {
        let mut pseudo = vec![192, 168, 1, 1, 192, 168, 1, 2, 0, 6];
        pseudo.extend_from_slice(&(seg.len() as u16).to_be_bytes());
        pseudo.extend_from_slice(seg);
        if pseudo.len() % 2 == 1 {
            pseudo.push(0);
        }
        let mut sum: u32 = 0;
        for w in pseudo.chunks(2) {
            sum += u32::from(w[0]) << 8 | u32::from(w[1]);
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn header_sum_completes_to_the_checksum() {
        // Every header length (20 to 60 bytes, random option bytes) and
        // several payload lengths, odd ones included: the header sum and
        // the payload's sum verify exactly when the whole segment does.
        let mut seed = 0x1234_5678u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        };
        for words in 5..=15u8 {
            for payload_len in [0usize, 1, 2, 3, 7, 100, 1447] {
                let mut seg: Vec<u8> = (0..usize::from(words) * 4 + payload_len).map(|_| next() | 0x80).collect();
                seg[12] = words << 4;
                seg[16] = 0;
                seg[17] = 0;
                let sum = reference_checksum(&seg);
                seg[16..18].copy_from_slice(&sum.to_be_bytes());
                let packet = Packet::new_checked(&seg[..]).unwrap();
                assert!(packet.verify_checksum(&SRC, &DST));
                let header_sum = packet.header_sum(&SRC, &DST);
                let whole = checksum::combine(&[header_sum, checksum::data(packet.payload())]);
                assert!(checksum::is_valid(whole), "{words} words, payload {payload_len}");
                // Any flipped bit, in the header or the payload, fails.
                for at in [0, 5, 17, seg.len() - 1] {
                    seg[at] ^= 0x10;
                    let packet = Packet::new_unchecked(&seg[..]);
                    let whole = checksum::combine(&[packet.header_sum(&SRC, &DST), checksum::data(packet.payload())]);
                    assert!(!checksum::is_valid(whole), "{words} words, payload {payload_len}, byte {at}");
                    seg[at] ^= 0x10;
                }
            }
        }
        // A header longer than the segment is summed as far as it goes
        // (the bytes there are all the segment has).
        let mut seg = vec![0u8; 23];
        seg[12] = 0xf0;
        seg[20] = 0x12;
        seg[21] = 0x34;
        seg[22] = 0x56;
        let packet = Packet::new_unchecked(&seg[..]);
        let expected =
            checksum::combine(&[checksum::pseudo_header(&SRC, &DST, IpProtocol::Tcp, 23), checksum::data(&seg)]);
        assert_eq!(packet.header_sum(&SRC, &DST), expected);
    }

    fn emit(repr: &Repr, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &SRC, &DST, payload, true);
        buf
    }

    fn parse(buf: &[u8]) -> Result<Repr> {
        let packet = Packet::new_checked(buf)?;
        Repr::parse(&packet, &SRC, &DST, true)
    }

    #[test]
    fn seq_number_wraps() {
        let a = SeqNumber(u32::MAX - 1);
        let b = a + 4;
        assert_eq!(b, SeqNumber(2));
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b.diff(a), 4);
        assert_eq!(a.diff(b), -4);
        assert_eq!(b.distance_from(a), 4);
        assert_eq!(a.distance_from(b), 0);
        assert_eq!(b - 4, a);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    #[test]
    fn parses_linux_syn() {
        let b = linux_syn();
        let packet = Packet::new_checked(&b[..]).unwrap();
        assert!(packet.verify_checksum(&SRC, &DST));
        assert_eq!(packet.header_len(), 40);
        assert_eq!(packet.segment_len(), 1);
        let repr = parse(&b).unwrap();
        assert_eq!(repr.src_port, 49153);
        assert_eq!(repr.dst_port, 80);
        assert_eq!(repr.control, TcpControl::Syn);
        assert_eq!(repr.seq_number, SeqNumber(0x01020304));
        assert_eq!(repr.ack_number, None);
        assert_eq!(repr.window_len, 29200);
        assert_eq!(repr.max_seg_size, Some(1460));
        assert!(repr.sack_permitted);
        assert_eq!(repr.timestamp, Some(TcpTimestamp { tsval: 7, tsecr: 0 }));
        assert_eq!(repr.window_scale, Some(7));
        assert_eq!(repr.payload_len, 0);
    }

    #[test]
    fn emitted_checksum_matches_reference() {
        let b = linux_syn();
        let repr = parse(&b).unwrap();
        let out = emit(&repr, &[]);
        let mut zeroed = out.clone();
        zeroed[16] = 0;
        zeroed[17] = 0;
        assert_eq!(u16::from_be_bytes([out[16], out[17]]), reference_checksum(&zeroed));
    }

    #[test]
    fn bad_checksum_rejected_unless_offloaded() {
        let mut b = linux_syn();
        b[16] ^= 1;
        assert_eq!(parse(&b), Err(Error::Checksum));
        let packet = Packet::new_checked(&b[..]).unwrap();
        assert!(Repr::parse(&packet, &SRC, &DST, false).is_ok());
    }

    #[test]
    fn round_trip_data_segment() {
        let repr = Repr {
            src_port: 1234,
            dst_port: 80,
            control: TcpControl::None,
            seq_number: SeqNumber(0xdeadbeef),
            ack_number: Some(SeqNumber(42)),
            window_len: 512,
            push: true,
            timestamp: Some(TcpTimestamp { tsval: 1, tsecr: 2 }),
            payload_len: 5,
            ..Repr::default()
        };
        let b = emit(&repr, b"hello");
        assert_eq!(b.len(), 20 + 12 + 5);
        assert_eq!(&b[12..14], &[0x80, 0x18]);
        // Timestamp then two bytes of end-of-list padding.
        assert_eq!(&b[20..32], &[8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]);
        assert_eq!(parse(&b).unwrap(), repr);
        assert_eq!(Packet::new_checked(&b[..]).unwrap().payload(), b"hello");
    }

    #[test]
    fn round_trip_every_flag() {
        let repr = Repr {
            src_port: 1,
            dst_port: 2,
            control: TcpControl::Fin,
            seq_number: SeqNumber(1),
            ack_number: Some(SeqNumber(2)),
            push: true,
            urgent: Some(3),
            ece: true,
            cwr: true,
            ..Repr::default()
        };
        let b = emit(&repr, &[]);
        assert_eq!(b[13], 0xf9);
        assert_eq!(&b[18..20], &[0, 3]);
        assert_eq!(parse(&b).unwrap(), repr);
        assert_eq!(std::format!("{:?}", TcpFlags(b[13])), "FIN|PSH|ACK|URG|ECE|CWR");
    }

    #[test]
    fn round_trip_syn_options() {
        let repr = Repr {
            src_port: 1,
            dst_port: 2,
            control: TcpControl::Syn,
            seq_number: SeqNumber(100),
            window_len: 65535,
            window_scale: Some(14),
            max_seg_size: Some(1460),
            sack_permitted: true,
            timestamp: Some(TcpTimestamp { tsval: 9, tsecr: 0 }),
            ..Repr::default()
        };
        let b = emit(&repr, &[]);
        assert_eq!(b.len(), 20 + 20);
        assert_eq!(&b[20..39], &[2, 4, 5, 0xb4, 3, 3, 14, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0]);
        assert_eq!(b[39], 0);
        assert_eq!(parse(&b).unwrap(), repr);
    }

    fn sack(n: u32) -> [Option<SackBlock>; 4] {
        let mut blocks = [None; 4];
        for (i, slot) in blocks.iter_mut().enumerate().take(n as usize) {
            let i = i as u32;
            *slot = Some((SeqNumber(1000 * i + 100), SeqNumber(1000 * i + 200)));
        }
        blocks
    }

    #[test]
    fn sack_blocks_four_without_timestamps_three_with() {
        let mut repr =
            Repr { src_port: 1, dst_port: 2, ack_number: Some(SeqNumber(50)), sack_ranges: sack(4), ..Repr::default() };
        let b = emit(&repr, &[]);
        assert_eq!(b.len(), 20 + 36);
        assert_eq!(&b[20..22], &[5, 34]);
        assert_eq!(parse(&b).unwrap().sack_ranges, sack(4));

        repr.timestamp = Some(TcpTimestamp { tsval: 1, tsecr: 1 });
        let b = emit(&repr, &[]);
        assert_eq!(b.len(), 20 + 36);
        assert_eq!(parse(&b).unwrap().sack_ranges, sack(3));
    }

    #[test]
    fn window_scale_clamped_to_14() {
        let mut b = linux_syn();
        b[39] = 15;
        let sum = {
            b[16] = 0;
            b[17] = 0;
            reference_checksum(&b)
        };
        b[16..18].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(parse(&b).unwrap().window_scale, Some(14));
    }

    fn with_options(options: &[u8]) -> Vec<u8> {
        let mut b = vec![0; 20];
        b[0..2].copy_from_slice(&1u16.to_be_bytes());
        b[2..4].copy_from_slice(&2u16.to_be_bytes());
        b.extend_from_slice(options);
        b[12] = ((b.len() / 4) as u8) << 4;
        b[13] = TcpFlags::ACK;
        let sum = reference_checksum(&b);
        b[16..18].copy_from_slice(&sum.to_be_bytes());
        b
    }

    #[test]
    fn unknown_options_skipped_by_length() {
        let b = with_options(&[30, 4, 0xff, 0xff, 2, 4, 0x02, 0x18, 1, 1, 1, 0]);
        let repr = parse(&b).unwrap();
        assert_eq!(repr.max_seg_size, Some(536));
    }

    #[test]
    fn lone_timestamp_layouts_and_their_near_misses() {
        let ts = Some(TcpTimestamp { tsval: 0x0102_0304, tsecr: 0x0506_0708 });
        // NOP, NOP, TS (Linux) and TS, EOL, EOL (ours): the fast path.
        let linux = [1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8];
        let ours = [8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0];
        // TS then two NOPs, and TS then EOL and garbage: walked, same result.
        let nops_after = [8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1];
        let garbage_after_eol = [8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 9];
        for options in [linux, ours, nops_after, garbage_after_eol] {
            let repr = parse(&with_options(&options)).unwrap();
            assert_eq!((repr.timestamp, repr.max_seg_size), (ts, None), "{options:?}");
        }
        // A timestamp of the wrong length in either layout is malformed.
        for options in [[1, 1, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8], [8, 11, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]] {
            assert_eq!(parse(&with_options(&options)), Err(Error::Malformed), "{options:?}");
        }
        // NOP, NOP, MSS-shaped bytes: not a timestamp.
        let repr = parse(&with_options(&[1, 1, 2, 4, 5, 0xb4, 1, 1, 1, 1, 1, 0])).unwrap();
        assert_eq!((repr.timestamp, repr.max_seg_size), (None, Some(1460)));
    }

    #[test]
    fn end_of_list_stops_parsing() {
        // Garbage after EOL is padding and ignored.
        let b = with_options(&[0, 2, 0, 0]);
        assert_eq!(parse(&b).unwrap().max_seg_size, None);
    }

    #[test]
    fn malformed_option_lengths() {
        let cases: &[&[u8]] = &[
            &[2, 4, 5, 0xb4, 2, 0, 0, 0],          // MSS length 0
            &[2, 3, 5, 0],                         // MSS length 3
            &[3, 4, 7, 0],                         // window scale length 4
            &[4, 3, 0, 0],                         // SACK-permitted length 3
            &[8, 8, 0, 0, 0, 0, 0, 0],             // timestamp length 8
            &[5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // SACK not a multiple of 8
            &[5, 2, 0, 0],                         // SACK with no block
            &[30, 1, 0, 0],                        // unknown option length 1
            &[30, 8, 0, 0],                        // runs past the option list
            &[1, 1, 1, 2],                         // kind with no length byte
        ];
        for case in cases {
            assert_eq!(parse(&with_options(case)), Err(Error::Malformed), "{:?}", case);
        }
    }

    #[test]
    fn truncated_and_bad_offsets() {
        let b = linux_syn();
        assert_eq!(Packet::new_checked(&b[..19]).unwrap_err(), Error::Truncated);
        // Offset 10 words but only 30 bytes.
        assert_eq!(Packet::new_checked(&b[..30]).unwrap_err(), Error::Truncated);
        let mut short = b.clone();
        short[12] = 0x40; // 4 words < 5
        assert_eq!(Packet::new_checked(&short[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn illegal_flag_combinations() {
        for flags in [TcpFlags::SYN | TcpFlags::FIN, TcpFlags::SYN | TcpFlags::RST, TcpFlags::FIN | TcpFlags::RST] {
            let mut b = with_options(&[]);
            b[13] = flags;
            b[16] = 0;
            b[17] = 0;
            let sum = reference_checksum(&b);
            b[16..18].copy_from_slice(&sum.to_be_bytes());
            assert_eq!(parse(&b), Err(Error::Malformed));
        }
    }

    #[test]
    fn zero_ports_rejected() {
        let mut b = with_options(&[]);
        b[0] = 0;
        b[1] = 0;
        b[16] = 0;
        b[17] = 0;
        let sum = reference_checksum(&b);
        b[16..18].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(parse(&b), Err(Error::Malformed));
    }

    #[test]
    fn ipv6_pseudo_header_round_trip() {
        let src = IpAddress::V6(crate::wire::Ipv6Address([0xfe; 16]));
        let dst = IpAddress::V6(crate::wire::Ipv6Address([0x20; 16]));
        let repr = Repr { src_port: 5, dst_port: 6, payload_len: 3, ..Repr::default() };
        let mut buf = vec![0; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst, b"abc", true);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        assert!(packet.verify_checksum(&src, &dst));
        assert!(!packet.verify_checksum(&SRC, &DST));
    }

    #[test]
    fn header_only_emit_then_checksum() {
        let repr = Repr { src_port: 5, dst_port: 6, payload_len: 4, push: true, ..Repr::default() };
        let mut buf = vec![0xee; repr.buffer_len()];
        let mut packet = Packet::new_unchecked(&mut buf[..]);
        repr.emit_header(&mut packet);
        assert_eq!(packet.checksum(), 0);
        packet.payload_mut().copy_from_slice(b"data");
        packet.fill_checksum(&SRC, &DST);
        assert_eq!(buf, emit(&repr, b"data"));
    }

    #[test]
    fn unchecked_emit_leaves_checksum_zero() {
        let repr = Repr { src_port: 5, dst_port: 6, ..Repr::default() };
        let mut buf = vec![0xee; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &SRC, &DST, &[], false);
        assert_eq!(&buf[16..18], &[0, 0]);
    }

    #[test]
    fn option_parse_never_panics_on_any_short_list() {
        // Every byte pattern of up to 3 bytes, for each kind.
        for k in 0..=255u8 {
            for l in 0..=255u8 {
                for extra in 0..3usize {
                    let mut buf = vec![k, l];
                    buf.resize(2 + extra, 0);
                    let _ = TcpOption::parse(&buf);
                    let _ = TcpOption::parse(&buf[..1]);
                }
            }
        }
    }
}
