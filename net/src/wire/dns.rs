//! DNS messages (RFC 1035): the header, query emission, and a bounded walk
//! over the questions and resource records of a response.
//!
//! Names are never copied out implicitly: a [`Name`] is a validated
//! reference into the message, read label by label (following compression
//! pointers) or copied into a caller-provided buffer. Compression pointers
//! must point strictly backwards and their number per name is bounded, so a
//! hostile message cannot make a parser loop.

use super::{Error, Ipv4Address, Ipv6Address, Result};

/// The UDP port DNS servers listen on.
pub const SERVER_PORT: u16 = 53;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;

/// The longest name in wire form, length bytes and root label included
/// (RFC 1035 §2.3.4).
pub const MAX_NAME_WIRE_LEN: usize = 255;

/// The longest name in dotted text form, without a trailing dot.
pub const MAX_NAME_TEXT_LEN: usize = 253;

/// The longest label.
pub const MAX_LABEL_LEN: usize = 63;

/// Compression pointers followed per name before the name is rejected.
/// Real messages use one or two; the bound keeps the work per name small.
const MAX_POINTER_JUMPS: usize = 16;

/// The Internet class.
pub const CLASS_IN: u16 = 1;

mod field {
    use core::ops::Range;
    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QDCOUNT: Range<usize> = 4..6;
    pub const ANCOUNT: Range<usize> = 6..8;
    pub const NSCOUNT: Range<usize> = 8..10;
    pub const ARCOUNT: Range<usize> = 10..12;
}

mod flag {
    pub const QR: u16 = 0x8000;
    pub const OPCODE_SHIFT: u16 = 11;
    pub const OPCODE_MASK: u16 = 0x0f;
    pub const AA: u16 = 0x0400;
    pub const TC: u16 = 0x0200;
    pub const RD: u16 = 0x0100;
    pub const RA: u16 = 0x0080;
    pub const RCODE_MASK: u16 = 0x000f;
}

/// The kind of request a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Query,
    Status,
    Notify,
    Update,
    Other(u8),
}

impl From<u8> for Opcode {
    fn from(v: u8) -> Opcode {
        match v {
            0 => Opcode::Query,
            2 => Opcode::Status,
            4 => Opcode::Notify,
            5 => Opcode::Update,
            other => Opcode::Other(other),
        }
    }
}

impl From<Opcode> for u8 {
    fn from(v: Opcode) -> u8 {
        match v {
            Opcode::Query => 0,
            Opcode::Status => 2,
            Opcode::Notify => 4,
            Opcode::Update => 5,
            Opcode::Other(other) => other,
        }
    }
}

/// The response code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    FormatError,
    ServerFailure,
    /// NXDOMAIN: the name does not exist.
    NameError,
    NotImplemented,
    Refused,
    Other(u8),
}

impl From<u8> for Rcode {
    fn from(v: u8) -> Rcode {
        match v {
            0 => Rcode::NoError,
            1 => Rcode::FormatError,
            2 => Rcode::ServerFailure,
            3 => Rcode::NameError,
            4 => Rcode::NotImplemented,
            5 => Rcode::Refused,
            other => Rcode::Other(other),
        }
    }
}

impl From<Rcode> for u8 {
    fn from(v: Rcode) -> u8 {
        match v {
            Rcode::NoError => 0,
            Rcode::FormatError => 1,
            Rcode::ServerFailure => 2,
            Rcode::NameError => 3,
            Rcode::NotImplemented => 4,
            Rcode::Refused => 5,
            Rcode::Other(other) => other,
        }
    }
}

/// A record (or question) type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    A,
    Ns,
    Cname,
    Soa,
    Ptr,
    Mx,
    Txt,
    Aaaa,
    Opt,
    Other(u16),
}

impl From<u16> for Type {
    fn from(v: u16) -> Type {
        match v {
            1 => Type::A,
            2 => Type::Ns,
            5 => Type::Cname,
            6 => Type::Soa,
            12 => Type::Ptr,
            15 => Type::Mx,
            16 => Type::Txt,
            28 => Type::Aaaa,
            41 => Type::Opt,
            other => Type::Other(other),
        }
    }
}

impl From<Type> for u16 {
    fn from(v: Type) -> u16 {
        match v {
            Type::A => 1,
            Type::Ns => 2,
            Type::Cname => 5,
            Type::Soa => 6,
            Type::Ptr => 12,
            Type::Mx => 15,
            Type::Txt => 16,
            Type::Aaaa => 28,
            Type::Opt => 41,
            Type::Other(other) => other,
        }
    }
}

fn read_u16(data: &[u8], at: usize) -> Result<u16> {
    match data.get(at..at.checked_add(2).ok_or(Error::Truncated)?) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(Error::Truncated),
    }
}

fn read_u32(data: &[u8], at: usize) -> Result<u32> {
    match data.get(at..at.checked_add(4).ok_or(Error::Truncated)?) {
        Some(b) => Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(Error::Truncated),
    }
}

/// One step of a name: a label, or the end of the name.
enum NameStep<'a> {
    Label(&'a [u8]),
    Root,
}

/// Walks the labels of a name, following compression pointers, and enforcing
/// every rule: pointers strictly backwards and into the message body, at
/// most [`MAX_POINTER_JUMPS`] of them, at most [`MAX_NAME_WIRE_LEN`] bytes.
#[derive(Debug, Clone)]
struct NameWalker<'a> {
    message: &'a [u8],
    pos: usize,
    /// Where the name ends in place (after its first pointer or root byte),
    /// known once the walker has left the bytes where the name starts.
    end_in_place: Option<usize>,
    jumps: usize,
    wire_len: usize,
    done: bool,
}

impl<'a> NameWalker<'a> {
    fn new(message: &'a [u8], pos: usize) -> NameWalker<'a> {
        NameWalker { message, pos, end_in_place: None, jumps: 0, wire_len: 0, done: false }
    }

    fn step(&mut self) -> Result<NameStep<'a>> {
        loop {
            let &len = self.message.get(self.pos).ok_or(Error::Truncated)?;
            match len & 0xc0 {
                0x00 => {
                    let len = usize::from(len);
                    self.wire_len += len + 1;
                    if self.wire_len > MAX_NAME_WIRE_LEN {
                        return Err(Error::Malformed);
                    }
                    let start = self.pos + 1;
                    if len == 0 {
                        self.end_in_place.get_or_insert(start);
                        self.done = true;
                        return Ok(NameStep::Root);
                    }
                    let label = self.message.get(start..start + len).ok_or(Error::Truncated)?;
                    self.pos = start + len;
                    return Ok(NameStep::Label(label));
                }
                0xc0 => {
                    let target = usize::from(read_u16(self.message, self.pos)? & 0x3fff);
                    self.end_in_place.get_or_insert(self.pos + 2);
                    self.jumps += 1;
                    // Strictly backwards and past the header: a loop needs a
                    // forward pointer somewhere, so this alone ends every
                    // walk; the jump bound caps the work on long chains.
                    if target >= self.pos || target < HEADER_LEN || self.jumps > MAX_POINTER_JUMPS {
                        return Err(Error::Malformed);
                    }
                    self.pos = target;
                }
                // 0x40 and 0x80: extended and reserved label types.
                _ => return Err(Error::Malformed),
            }
        }
    }
}

/// A validated name inside a message.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    message: &'a [u8],
    start: usize,
}

impl<'a> Name<'a> {
    /// Validates the name starting at `offset` in `message`. Returns it and
    /// the offset just past it in place (after its first pointer, if any).
    pub fn parse(message: &'a [u8], offset: usize) -> Result<(Name<'a>, usize)> {
        let mut walker = NameWalker::new(message, offset);
        while !walker.done {
            walker.step()?;
        }
        let end = walker.end_in_place.ok_or(Error::Malformed)?;
        Ok((Name { message, start: offset }, end))
    }

    /// The labels, outermost last, with compression pointers followed.
    pub fn labels(&self) -> Labels<'a> {
        Labels { walker: NameWalker::new(self.message, self.start) }
    }

    /// Whether this is the root name (no labels).
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }

    /// Compares with a dotted text name, ASCII case-insensitively; one
    /// trailing dot in `text` is allowed.
    pub fn eq_text(&self, text: &str) -> bool {
        let text = text.strip_suffix('.').unwrap_or(text);
        let mut labels = self.labels();
        if text.is_empty() {
            return labels.next().is_none();
        }
        for part in text.split('.') {
            match labels.next() {
                Some(label) if label.eq_ignore_ascii_case(part.as_bytes()) => {}
                _ => return false,
            }
        }
        labels.next().is_none()
    }

    /// Compares with another name (possibly in another message), ASCII
    /// case-insensitively.
    pub fn eq_name(&self, other: &Name<'_>) -> bool {
        let (mut a, mut b) = (self.labels(), other.labels());
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return false,
            }
        }
    }

    /// Copies the name in dotted form (no trailing dot) into `out`.
    ///
    /// Errors: `Truncated` if `out` is too short; `Unsupported` if a label
    /// holds a byte that is not printable ASCII or is a dot (such a name has
    /// no faithful text form).
    pub fn copy_text<'b>(&self, out: &'b mut [u8]) -> Result<&'b str> {
        let mut len = 0;
        for label in self.labels() {
            if label.iter().any(|&b| !b.is_ascii_graphic() || b == b'.') {
                return Err(Error::Unsupported);
            }
            let dot = usize::from(len != 0);
            let dst = out.get_mut(len..len + dot + label.len()).ok_or(Error::Truncated)?;
            dst[..dot].fill(b'.');
            dst[dot..].copy_from_slice(label);
            len += dot + label.len();
        }
        core::str::from_utf8(&out[..len]).map_err(|_| Error::Unsupported)
    }
}

impl core::fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let mut first = true;
        for label in self.labels() {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            for &b in label {
                if b.is_ascii_graphic() && b != b'.' {
                    write!(f, "{}", b as char)?;
                } else {
                    write!(f, "\\{:03}", b)?;
                }
            }
        }
        if first {
            f.write_str(".")?;
        }
        Ok(())
    }
}

/// The labels of a [`Name`]. Stops early (rather than panicking) if the
/// bytes are not a valid name, which cannot happen for a parsed `Name`.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    walker: NameWalker<'a>,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.walker.done {
            return None;
        }
        match self.walker.step() {
            Ok(NameStep::Label(label)) => Some(label),
            Ok(NameStep::Root) => None,
            Err(_) => {
                self.walker.done = true;
                None
            }
        }
    }
}

/// Checks a dotted text name: labels of 1 to 63 bytes, at most 253 bytes in
/// all, one optional trailing dot. Returns its wire length.
pub fn text_name_wire_len(text: &str) -> Result<usize> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > MAX_NAME_TEXT_LEN {
        return Err(Error::Malformed);
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(Error::Malformed);
        }
    }
    Ok(name.len() + 2)
}

/// Writes a checked text name in wire form at the start of `out`; returns
/// the number of bytes written.
fn emit_text_name(text: &str, out: &mut [u8]) -> Result<usize> {
    let len = text_name_wire_len(text)?;
    let out = out.get_mut(..len).ok_or(Error::Truncated)?;
    let name = text.strip_suffix('.').unwrap_or(text);
    let mut pos = 0;
    for label in name.split('.') {
        out[pos] = label.len() as u8;
        out[pos + 1..pos + 1 + label.len()].copy_from_slice(label.as_bytes());
        pos += 1 + label.len();
    }
    out[pos] = 0;
    Ok(len)
}

/// An entry of the question section.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub name: Name<'a>,
    pub qtype: Type,
    pub qclass: u16,
}

/// The section a resource record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Answer,
    Authority,
    Additional,
}

/// The data of a resource record: the types a resolver follows, and the raw
/// bytes of every other type.
#[derive(Debug, Clone, Copy)]
pub enum RecordData<'a> {
    A(Ipv4Address),
    Aaaa(Ipv6Address),
    Cname(Name<'a>),
    Other(&'a [u8]),
}

/// A resource record.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub name: Name<'a>,
    pub rtype: Type,
    pub class: u16,
    pub ttl: u32,
    pub data: RecordData<'a>,
}

/// An item of a message body, in message order.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    Question(Question<'a>),
    Record(Section, Record<'a>),
}

/// Walks the questions and records of a message as its header counts them.
/// After the first error it yields nothing more.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    message: &'a [u8],
    pos: usize,
    /// Entries left in the question, answer, authority, additional sections.
    remaining: [u16; 4],
    failed: bool,
}

impl<'a> Entries<'a> {
    fn new(message: &'a [u8]) -> Entries<'a> {
        let count = |at| read_u16(message, at).unwrap_or(0);
        Entries {
            message,
            pos: HEADER_LEN,
            remaining: [count(4), count(6), count(8), count(10)],
            failed: message.len() < HEADER_LEN,
        }
    }

    fn question(&mut self) -> Result<Question<'a>> {
        let (name, end) = Name::parse(self.message, self.pos)?;
        let qtype = Type::from(read_u16(self.message, end)?);
        let qclass = read_u16(self.message, end + 2)?;
        self.pos = end + 4;
        Ok(Question { name, qtype, qclass })
    }

    fn record(&mut self) -> Result<Record<'a>> {
        let msg = self.message;
        let (name, end) = Name::parse(msg, self.pos)?;
        let rtype = Type::from(read_u16(msg, end)?);
        let class = read_u16(msg, end + 2)?;
        let ttl = read_u32(msg, end + 4)?;
        let rdlength = usize::from(read_u16(msg, end + 8)?);
        let rdata_start = end + 10;
        let rdata_end = rdata_start + rdlength;
        let rdata = msg.get(rdata_start..rdata_end).ok_or(Error::Truncated)?;
        let data = match (rtype, class) {
            (Type::A, CLASS_IN) => {
                let bytes: [u8; 4] = rdata.try_into().map_err(|_| Error::Malformed)?;
                RecordData::A(Ipv4Address(bytes))
            }
            (Type::Aaaa, CLASS_IN) => {
                let bytes: [u8; 16] = rdata.try_into().map_err(|_| Error::Malformed)?;
                RecordData::Aaaa(Ipv6Address(bytes))
            }
            (Type::Cname, _) => {
                // Parse within the RDATA bounds so the name cannot run on
                // into the next record, but against the whole message so
                // pointers can reach earlier names.
                let (target, name_end) = Name::parse(&msg[..rdata_end], rdata_start).map_err(|e| {
                    if e == Error::Truncated {
                        Error::Malformed
                    } else {
                        e
                    }
                })?;
                if name_end != rdata_end {
                    return Err(Error::Malformed);
                }
                RecordData::Cname(Name { message: msg, start: target.start })
            }
            _ => RecordData::Other(rdata),
        };
        self.pos = rdata_end;
        Ok(Record { name, rtype, class, ttl, data })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let section = self.remaining.iter().position(|&n| n > 0)?;
        self.remaining[section] -= 1;
        let entry = match section {
            0 => self.question().map(Entry::Question),
            1 => self.record().map(|r| Entry::Record(Section::Answer, r)),
            2 => self.record().map(|r| Entry::Record(Section::Authority, r)),
            _ => self.record().map(|r| Entry::Record(Section::Additional, r)),
        };
        self.failed = entry.is_err();
        Some(entry)
    }
}

/// A byte view of a DNS message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it; header accessors may panic on a
    /// buffer shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after checking the header and walking every question
    /// and record the header counts (names, pointers, record lengths).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks what `new_checked` checks. Bytes after the counted records
    /// are allowed and ignored.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        for entry in Entries::new(data) {
            entry?;
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn get_u16(&self, range: core::ops::Range<usize>) -> u16 {
        let d = &self.buffer.as_ref()[range];
        u16::from_be_bytes([d[0], d[1]])
    }

    pub fn id(&self) -> u16 {
        self.get_u16(field::ID)
    }
    pub fn flags(&self) -> u16 {
        self.get_u16(field::FLAGS)
    }
    pub fn is_response(&self) -> bool {
        self.flags() & flag::QR != 0
    }
    pub fn opcode(&self) -> Opcode {
        Opcode::from(((self.flags() >> flag::OPCODE_SHIFT) & flag::OPCODE_MASK) as u8)
    }
    pub fn authoritative(&self) -> bool {
        self.flags() & flag::AA != 0
    }
    pub fn truncated(&self) -> bool {
        self.flags() & flag::TC != 0
    }
    pub fn recursion_desired(&self) -> bool {
        self.flags() & flag::RD != 0
    }
    pub fn recursion_available(&self) -> bool {
        self.flags() & flag::RA != 0
    }
    pub fn rcode(&self) -> Rcode {
        Rcode::from((self.flags() & flag::RCODE_MASK) as u8)
    }
    pub fn question_count(&self) -> u16 {
        self.get_u16(field::QDCOUNT)
    }
    pub fn answer_count(&self) -> u16 {
        self.get_u16(field::ANCOUNT)
    }
    pub fn authority_count(&self) -> u16 {
        self.get_u16(field::NSCOUNT)
    }
    pub fn additional_count(&self) -> u16 {
        self.get_u16(field::ARCOUNT)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The questions and records, borrowed for as long as the buffer.
    pub fn entries(&self) -> Entries<'a> {
        Entries::new(self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_u16(&mut self, range: core::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[range].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_id(&mut self, v: u16) {
        self.set_u16(field::ID, v)
    }
    pub fn set_flags(&mut self, v: u16) {
        self.set_u16(field::FLAGS, v)
    }
    pub fn set_question_count(&mut self, v: u16) {
        self.set_u16(field::QDCOUNT, v)
    }
    pub fn set_answer_count(&mut self, v: u16) {
        self.set_u16(field::ANCOUNT, v)
    }
    pub fn set_authority_count(&mut self, v: u16) {
        self.set_u16(field::NSCOUNT, v)
    }
    pub fn set_additional_count(&mut self, v: u16) {
        self.set_u16(field::ARCOUNT, v)
    }
}

/// The parsed meaning of a message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub id: u16,
    pub is_response: bool,
    pub opcode: Opcode,
    pub authoritative: bool,
    pub truncated: bool,
    pub recursion_desired: bool,
    pub recursion_available: bool,
    pub rcode: Rcode,
    pub question_count: u16,
    pub answer_count: u16,
    pub authority_count: u16,
    pub additional_count: u16,
}

impl Repr {
    /// Parses the header, after checking the whole message as
    /// [`Packet::new_checked`] does.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            id: packet.id(),
            is_response: packet.is_response(),
            opcode: packet.opcode(),
            authoritative: packet.authoritative(),
            truncated: packet.truncated(),
            recursion_desired: packet.recursion_desired(),
            recursion_available: packet.recursion_available(),
            rcode: packet.rcode(),
            question_count: packet.question_count(),
            answer_count: packet.answer_count(),
            authority_count: packet.authority_count(),
            additional_count: packet.additional_count(),
        })
    }

    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header (only; the body is the caller's).
    ///
    /// Errors: `Truncated` for a buffer shorter than the header;
    /// `Unsupported` for an opcode above 15 or an rcode above 15 (extended
    /// rcodes live in an EDNS record this module does not write).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) -> Result<()> {
        let buf = packet.buffer.as_mut().get_mut(..HEADER_LEN).ok_or(Error::Truncated)?;
        let (opcode, rcode) = (u8::from(self.opcode), u8::from(self.rcode));
        if opcode > 15 || rcode > 15 {
            return Err(Error::Unsupported);
        }
        let bit = |set: bool, mask: u16| if set { mask } else { 0 };
        let flags = bit(self.is_response, flag::QR)
            | (u16::from(opcode) << flag::OPCODE_SHIFT)
            | bit(self.authoritative, flag::AA)
            | bit(self.truncated, flag::TC)
            | bit(self.recursion_desired, flag::RD)
            | bit(self.recursion_available, flag::RA)
            | u16::from(rcode);
        let mut p = Packet::new_unchecked(buf);
        p.set_id(self.id);
        p.set_flags(flags);
        p.set_question_count(self.question_count);
        p.set_answer_count(self.answer_count);
        p.set_authority_count(self.authority_count);
        p.set_additional_count(self.additional_count);
        Ok(())
    }
}

/// A recursive query for one name: the whole message a stub resolver sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryRepr<'n> {
    pub id: u16,
    /// Dotted text, checked by [`text_name_wire_len`].
    pub name: &'n str,
    pub qtype: Type,
}

impl QueryRepr<'_> {
    /// The message length; `Malformed` for an invalid name.
    pub fn buffer_len(&self) -> Result<usize> {
        Ok(HEADER_LEN + text_name_wire_len(self.name)? + 4)
    }

    /// Writes the query (header with RD set, one question of class IN).
    /// Returns its length.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) -> Result<usize> {
        let len = self.buffer_len()?;
        let buf = packet.buffer.as_mut().get_mut(..len).ok_or(Error::Truncated)?;
        let header = Repr {
            id: self.id,
            is_response: false,
            opcode: Opcode::Query,
            authoritative: false,
            truncated: false,
            recursion_desired: true,
            recursion_available: false,
            rcode: Rcode::NoError,
            question_count: 1,
            answer_count: 0,
            authority_count: 0,
            additional_count: 0,
        };
        header.emit(&mut Packet::new_unchecked(&mut *buf))?;
        let name_len = emit_text_name(self.name, &mut buf[HEADER_LEN..])?;
        let tail = &mut buf[HEADER_LEN + name_len..];
        tail[..2].copy_from_slice(&u16::from(self.qtype).to_be_bytes());
        tail[2..4].copy_from_slice(&CLASS_IN.to_be_bytes());
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// A response to `www.example.com A`: a CNAME to `example.com`
    /// (compressed), an A for it, and an AAAA, an NS in authority
    /// (skipped by type) and an OPT in additional.
    fn response() -> Vec<u8> {
        let mut m = vec![
            0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 3, 0, 1, 0, 1, // header
            3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0,
            1, // question at 12; "example" at 16
        ];
        // answer 1 (at 33): www.example.com CNAME example.com
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 2, 0xc0, 16]);
        // answer 2 (at 47): example.com A 93.184.216.34
        m.extend_from_slice(&[0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34]);
        // answer 3: example.com AAAA 2606:2800::1
        m.extend_from_slice(&[0xc0, 16, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
        m.extend_from_slice(&[0x26, 0x06, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        // authority: example.com NS a.iana-servers.net (opaque here)
        m.extend_from_slice(&[0xc0, 16, 0, 2, 0, 1, 0, 0, 0, 60, 0, 4, 1, b'a', 0xc0, 24]);
        // additional: OPT with root name
        m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
        m
    }

    fn header_only(flags: u16, qd: u16, an: u16) -> Vec<u8> {
        let mut m = vec![0u8; 12];
        m[2..4].copy_from_slice(&flags.to_be_bytes());
        m[4..6].copy_from_slice(&qd.to_be_bytes());
        m[6..8].copy_from_slice(&an.to_be_bytes());
        m
    }

    #[test]
    fn parses_header_flags() {
        let m = response();
        let p = Packet::new_checked(&m[..]).unwrap();
        let repr = Repr::parse(&p).unwrap();
        assert_eq!(
            repr,
            Repr {
                id: 0xbeef,
                is_response: true,
                opcode: Opcode::Query,
                authoritative: false,
                truncated: false,
                recursion_desired: true,
                recursion_available: true,
                rcode: Rcode::NoError,
                question_count: 1,
                answer_count: 3,
                authority_count: 1,
                additional_count: 1,
            }
        );
    }

    #[test]
    fn header_round_trips_every_flag() {
        let repr = Repr {
            id: 0x1234,
            is_response: true,
            opcode: Opcode::Update,
            authoritative: true,
            truncated: true,
            recursion_desired: false,
            recursion_available: true,
            rcode: Rcode::NameError,
            question_count: 0,
            answer_count: 0,
            authority_count: 0,
            additional_count: 0,
        };
        let mut buf = [0u8; 12];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(buf, [0x12, 0x34, 0xae, 0x83, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(p.truncated());
        assert_eq!(p.rcode(), Rcode::NameError);

        let mut bad = repr;
        bad.rcode = Rcode::Other(16);
        assert_eq!(bad.emit(&mut Packet::new_unchecked(&mut buf[..])), Err(Error::Unsupported));
        assert_eq!(repr.emit(&mut Packet::new_unchecked(&mut buf[..11])), Err(Error::Truncated));
    }

    #[test]
    fn emits_query_exactly() {
        let q = QueryRepr { id: 0xabcd, name: "www.Example.com.", qtype: Type::Aaaa };
        assert_eq!(q.buffer_len(), Ok(33));
        let mut buf = [0u8; 40];
        assert_eq!(q.emit(&mut Packet::new_unchecked(&mut buf[..])), Ok(33));
        let expected: &[u8] = &[
            0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 7, b'E', b'x', b'a', b'm', b'p', b'l',
            b'e', 3, b'c', b'o', b'm', 0, 0, 28, 0, 1,
        ];
        assert_eq!(&buf[..33], expected);
        // It parses back as one question for the same name.
        let p = Packet::new_checked(&buf[..33]).unwrap();
        let mut entries = p.entries();
        match entries.next() {
            Some(Ok(Entry::Question(q))) => {
                assert!(q.name.eq_text("www.example.com"));
                assert_eq!(q.qtype, Type::Aaaa);
                assert_eq!(q.qclass, CLASS_IN);
            }
            other => panic!("{other:?}"),
        }
        assert!(entries.next().is_none());
        assert_eq!(q.emit(&mut Packet::new_unchecked(&mut buf[..32])), Err(Error::Truncated));
    }

    #[test]
    fn validates_text_names() {
        assert_eq!(text_name_wire_len("a"), Ok(3));
        assert_eq!(text_name_wire_len("a.b."), Ok(5));
        let label63 = "a".repeat(63);
        assert_eq!(text_name_wire_len(&label63), Ok(65));
        for bad in ["", ".", "a..b", ".a", "a.b..", &"a".repeat(64)] {
            assert_eq!(text_name_wire_len(bad), Err(Error::Malformed), "{bad:?}");
        }
        // 253 characters is the limit.
        let long = [label63.as_str(); 4].join(".");
        assert_eq!(long.len(), 255);
        assert_eq!(text_name_wire_len(&long[..253]), Ok(255));
        assert_eq!(text_name_wire_len(&long[..254]), Err(Error::Malformed));
        let q = QueryRepr { id: 1, name: "a..b", qtype: Type::A };
        assert_eq!(q.emit(&mut Packet::new_unchecked(&mut [0u8; 64][..])), Err(Error::Malformed));
    }

    #[test]
    fn walks_questions_and_records_with_compression() {
        let m = response();
        let p = Packet::new_checked(&m[..]).unwrap();
        let entries: Vec<Entry> = p.entries().map(|e| e.unwrap()).collect();
        assert_eq!(entries.len(), 6);
        let mut text = [0u8; 64];
        match entries[0] {
            Entry::Question(q) => {
                assert_eq!(q.name.copy_text(&mut text).unwrap(), "www.example.com");
                assert_eq!(q.qtype, Type::A);
            }
            ref other => panic!("{other:?}"),
        }
        match entries[1] {
            Entry::Record(Section::Answer, r) => {
                assert!(r.name.eq_text("WWW.example.COM."));
                assert_eq!(r.rtype, Type::Cname);
                assert_eq!(r.ttl, 3600);
                match r.data {
                    RecordData::Cname(target) => {
                        assert_eq!(target.copy_text(&mut text).unwrap(), "example.com")
                    }
                    other => panic!("{other:?}"),
                }
            }
            ref other => panic!("{other:?}"),
        }
        match entries[2] {
            Entry::Record(Section::Answer, r) => {
                assert!(r.name.eq_text("example.com"));
                assert!(matches!(r.data, RecordData::A(a) if a == Ipv4Address::new(93, 184, 216, 34)));
            }
            ref other => panic!("{other:?}"),
        }
        match entries[3] {
            Entry::Record(Section::Answer, r) => match r.data {
                RecordData::Aaaa(a) => assert_eq!(std::format!("{a}"), "2606:2800::1"),
                other => panic!("{other:?}"),
            },
            ref other => panic!("{other:?}"),
        }
        match entries[4] {
            Entry::Record(Section::Authority, r) => {
                assert_eq!(r.rtype, Type::Ns);
                assert!(matches!(r.data, RecordData::Other(d) if d == [1, b'a', 0xc0, 24]));
            }
            ref other => panic!("{other:?}"),
        }
        match entries[5] {
            Entry::Record(Section::Additional, r) => {
                assert!(r.name.is_root());
                assert_eq!(r.rtype, Type::Opt);
            }
            ref other => panic!("{other:?}"),
        }
    }

    #[test]
    fn compares_names_across_pointers() {
        let m = response();
        let (question, end) = Name::parse(&m, 12).unwrap();
        assert_eq!(end, 29);
        let (owner, end) = Name::parse(&m, 33).unwrap();
        assert_eq!(end, 35);
        assert!(question.eq_name(&owner));
        let (apex, _) = Name::parse(&m, 47).unwrap();
        assert!(!question.eq_name(&apex));
        assert!(!apex.eq_text("example"));
        assert!(!apex.eq_text("example.com.org"));
        assert!(!apex.eq_text(""));
        assert_eq!(std::format!("{apex:?}"), "example.com");
        let mut small = [0u8; 10];
        assert_eq!(apex.copy_text(&mut small), Err(Error::Truncated));
    }

    #[test]
    fn every_prefix_of_a_response_is_an_error() {
        let m = response();
        for len in 0..m.len() {
            assert!(Packet::new_checked(&m[..len]).is_err(), "prefix {len} accepted");
        }
        assert!(Packet::new_checked(&m[..]).is_ok());
    }

    #[test]
    fn rejects_pointer_loops() {
        // The question name is a pointer to itself.
        let mut m = header_only(0x8180, 1, 0);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
        // Two names pointing at each other: label then pointer forward,
        // whose target points back.
        let mut m = header_only(0x8180, 1, 0);
        m.extend_from_slice(&[1, b'a', 0xc0, 16, 1, b'b', 0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
        // The loop is also refused when reached through an answer.
        let mut m = header_only(0x8180, 1, 1);
        m.extend_from_slice(&[1, b'a', 0, 0, 1, 0, 1]); // question at 12
        m.extend_from_slice(&[0xc0, 21, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn rejects_forward_pointers_and_pointers_past_end_or_into_header() {
        let mut m = header_only(0x8180, 1, 0);
        m.extend_from_slice(&[0xc0, 18, 0, 1, 0, 1, 1, b'a', 0]);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
        let mut m = header_only(0x8180, 1, 0);
        m.extend_from_slice(&[0xff, 0xff, 0, 1, 0, 1]);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
        let mut m = header_only(0x8180, 1, 0);
        m.extend_from_slice(&[1, b'a', 0xc0, 2, 0, 1, 0, 1]);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn bounds_pointer_chains() {
        // A chain of backward pointers, each to the previous one, longer
        // than the jump bound.
        let mut m = header_only(0x8180, 1, 0);
        m.extend_from_slice(&[0]); // root at 12
        for i in 0..=MAX_POINTER_JUMPS {
            let target = if i == 0 { 12 } else { 13 + 2 * (i - 1) };
            m.extend_from_slice(&[0xc0, target as u8]);
        }
        let last = m.len() - 2;
        // Reuse the header: question count 0 and parse the chain directly.
        assert_eq!(Name::parse(&m, last).unwrap_err(), Error::Malformed);
        assert!(Name::parse(&m, last - 2).is_ok());
    }

    #[test]
    fn rejects_names_longer_than_255() {
        let mut m = header_only(0x8180, 1, 0);
        for _ in 0..4 {
            m.push(63);
            m.extend_from_slice(&[b'x'; 63]);
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]); // 4 * 64 + 1 = 257 bytes
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
        // Also when the length comes from pointers: 3 labels + pointer to
        // an earlier 2-label name.
        let mut m = header_only(0x8180, 2, 0);
        for _ in 0..2 {
            m.push(63);
            m.extend_from_slice(&[b'x'; 63]);
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        for _ in 0..2 {
            m.push(63);
            m.extend_from_slice(&[b'y'; 63]);
        }
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn rejects_reserved_label_types() {
        for first in [0x40u8, 0x80] {
            let mut m = header_only(0x8180, 1, 0);
            m.extend_from_slice(&[first, 0, 0, 1, 0, 1]);
            assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Malformed);
        }
    }

    #[test]
    fn rejects_bad_record_lengths() {
        let record = |rtype: u16, rdata: &[u8]| {
            let mut m = header_only(0x8180, 0, 1);
            m.extend_from_slice(&[0]);
            m.extend_from_slice(&rtype.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
            m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            m.extend_from_slice(rdata);
            m
        };
        let err = |m: Vec<u8>| Packet::new_checked(&m[..]).unwrap_err();
        assert_eq!(err(record(1, &[1, 2, 3])), Error::Malformed);
        assert_eq!(err(record(28, &[0; 4])), Error::Malformed);
        // CNAME data running past its RDLENGTH, or ending before it.
        assert_eq!(err(record(5, &[1, b'a'])), Error::Malformed);
        assert_eq!(err(record(5, &[0, 0])), Error::Malformed);
        // RDLENGTH past the end of the message.
        let mut m = record(16, &[1, 2, 3]);
        m.truncate(m.len() - 1);
        assert_eq!(err(m), Error::Truncated);
        // Unknown types of any length are skipped.
        assert!(Packet::new_checked(&record(99, &[7; 40])[..]).is_ok());
    }

    #[test]
    fn counts_beyond_the_message_are_truncated() {
        let m = header_only(0x8180, 0, 1);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Truncated);
        let m = header_only(0x8180, 0xffff, 0xffff);
        assert_eq!(Packet::new_checked(&m[..]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn reads_nxdomain_and_tc() {
        let mut m = header_only(0x8183, 1, 0);
        m.extend_from_slice(&[1, b'x', 0, 0, 1, 0, 1]);
        let p = Packet::new_checked(&m[..]).unwrap();
        assert_eq!(p.rcode(), Rcode::NameError);
        assert!(!p.truncated());
        let m = header_only(0x8380, 0, 0);
        let p = Packet::new_checked(&m[..]).unwrap();
        assert!(p.truncated());
        assert_eq!(p.rcode(), Rcode::NoError);
    }

    /// Random corruptions of a real response: checking returns, never
    /// panics, and a message that checks walks without an error.
    #[test]
    fn corrupted_messages_never_panic() {
        let mut rng = 0x0bad_cafeu32;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            rng
        };
        let seed = response();
        let mut text = [0u8; 300];
        for _ in 0..3000 {
            let mut m = seed.clone();
            for _ in 0..1 + next() % 4 {
                let at = next() as usize % m.len();
                // Pointer-looking bytes are the interesting ones.
                m[at] = if next() % 2 == 0 { 0xc0 | (next() as u8 & 0x3f) } else { next() as u8 };
            }
            m.truncate(m.len() - next() as usize % 8);
            let Ok(p) = Packet::new_checked(&m[..]) else { continue };
            for entry in p.entries() {
                let name = match entry.unwrap() {
                    Entry::Question(q) => q.name,
                    Entry::Record(_, r) => r.name,
                };
                let _ = name.copy_text(&mut text);
                assert!(name.labels().count() <= 127);
            }
        }
    }

    #[test]
    fn text_copy_refuses_unprintable_labels() {
        let mut m = header_only(0x8180, 1, 0);
        m.extend_from_slice(&[3, b'a', b'.', b'b', 0, 0, 1, 0, 1]);
        let (name, _) = Name::parse(&m, 12).unwrap();
        assert_eq!(name.copy_text(&mut [0u8; 16]), Err(Error::Unsupported));
        assert_eq!(std::format!("{name:?}"), "a\\046b");
    }
}
