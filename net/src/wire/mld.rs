//! Multicast listener discovery messages: queries in both formats (MLDv1,
//! RFC 2710 3; MLDv2, RFC 3810 5.1) and MLDv2 reports (RFC 3810 5.2), plus
//! the MLDv1 report and done a host sends to an MLDv1 querier.
//!
//! ```text
//! query:     | 130 | code | checksum | max resp code(2) | reserved(2) | group(16)
//!            | S,QRV(1) | QQIC(1) | sources(2) | source(16) ...        (v2 only)
//! v2 report: | 143 | 0 | checksum | reserved(2) | records(2) | record ...
//! record:    | type | aux len (words) | sources(2) | group(16) | source(16) ... | aux
//! ```
//!
//! All MLD messages travel with hop limit 1, a link-local (or, for a
//! report, unspecified) source and a hop-by-hop header carrying the router
//! alert option; those IPv6-level checks belong to the receiver.

use super::checksum;
use super::{Error, IpProtocol, Ipv6Address, Result};

/// The hop limit of every MLD message.
pub const HOP_LIMIT: u8 = 1;
/// The length of an MLDv1 query (and of an MLDv1 report).
pub const QUERY_V1_LEN: usize = 24;
/// The shortest MLDv2 query (no sources).
pub const QUERY_V2_MIN_LEN: usize = 28;
/// The fixed part of an MLDv2 report.
pub const REPORT_HEADER_LEN: usize = 8;
/// A multicast address record without sources or auxiliary data.
pub const RECORD_LEN: usize = 20;
/// Where MLDv2 reports go (RFC 3810 5.2.14).
pub const ALL_MLDV2_ROUTERS: Ipv6Address = Ipv6Address::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);

const TYPE_QUERY: u8 = 130;
const TYPE_REPORT_V1: u8 = 131;
const TYPE_DONE_V1: u8 = 132;
const TYPE_REPORT_V2: u8 = 143;

/// Which format a query came in; an MLDv1 querier only understands MLDv1
/// reports (RFC 3810 8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// A multicast listener query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub version: Version,
    /// The longest a listener may wait before answering, in milliseconds
    /// (the MLDv2 code decoded, RFC 3810 5.1.3).
    pub max_response_ms: u32,
    /// Unspecified for a general query, else the group asked about.
    pub group: Ipv6Address,
    /// MLDv2 only (zero for MLDv1): the S flag, QRV and QQIC.
    pub suppress_router_processing: bool,
    pub robustness: u8,
    pub query_interval_code: u8,
    /// The sources of a group-and-source-specific query (MLDv2).
    pub sources: u16,
}

impl Query {
    /// Whether the query asks about every group.
    pub fn is_general(&self) -> bool {
        self.group.is_unspecified()
    }

    /// Reads a query from a whole ICMPv6 message, verifying its checksum
    /// when `verify` is set. A length of 24 is MLDv1, 28 and more MLDv2
    /// with every source present; others are malformed (RFC 3810 8.1), as
    /// is a group that is neither multicast nor unspecified, or a
    /// general query that names sources.
    pub fn parse(message: &[u8], src: &Ipv6Address, dst: &Ipv6Address, verify: bool) -> Result<Query> {
        if message.len() < QUERY_V1_LEN {
            return Err(Error::Truncated);
        }
        if message[0] != TYPE_QUERY {
            return Err(Error::Unsupported);
        }
        let version = match message.len() {
            QUERY_V1_LEN => Version::V1,
            n if n >= QUERY_V2_MIN_LEN => Version::V2,
            _ => return Err(Error::Malformed),
        };
        if verify && !checksum::is_valid(message_sum(src, dst, message)) {
            return Err(Error::Checksum);
        }
        let code = u16::from_be_bytes([message[4], message[5]]);
        let mut group = Ipv6Address([0; 16]);
        group.0.copy_from_slice(&message[8..24]);
        if !group.is_unspecified() && !group.is_multicast() {
            return Err(Error::Malformed);
        }
        let mut query = Query {
            version,
            max_response_ms: u32::from(code),
            group,
            suppress_router_processing: false,
            robustness: 0,
            query_interval_code: 0,
            sources: 0,
        };
        if version == Version::V2 {
            query.max_response_ms = decode_max_response(code);
            query.suppress_router_processing = message[24] & 0x08 != 0;
            query.robustness = message[24] & 0x07;
            query.query_interval_code = message[25];
            query.sources = u16::from_be_bytes([message[26], message[27]]);
            let needed = QUERY_V2_MIN_LEN + 16 * usize::from(query.sources);
            if message.len() < needed {
                return Err(Error::Truncated);
            }
            if query.sources != 0 && group.is_unspecified() {
                return Err(Error::Malformed);
            }
        }
        Ok(query)
    }

    /// Writes the query (without sources) and its checksum; `buf` must hold
    /// 24 (MLDv1) or 28 (MLDv2) bytes. For tests and tools: a host never
    /// sends queries. MLDv2 max response times at or above 32768 ms are
    /// written in the exponential form (rounded down).
    pub fn emit(&self, buf: &mut [u8], src: &Ipv6Address, dst: &Ipv6Address) {
        buf.fill(0);
        buf[0] = TYPE_QUERY;
        let code = match self.version {
            Version::V1 => self.max_response_ms.min(0xffff) as u16,
            Version::V2 => encode_max_response(self.max_response_ms),
        };
        buf[4..6].copy_from_slice(&code.to_be_bytes());
        buf[8..24].copy_from_slice(&self.group.0);
        if self.version == Version::V2 {
            buf[24] = (u8::from(self.suppress_router_processing) << 3) | (self.robustness & 7);
            buf[25] = self.query_interval_code;
        }
        fill_checksum(buf, src, dst);
    }
}

/// RFC 3810 5.1.3: below 32768 the code is milliseconds; above, a 3-bit
/// exponent and 12-bit mantissa: `(mant | 0x1000) << (exp + 3)`.
pub fn decode_max_response(code: u16) -> u32 {
    if code < 0x8000 {
        return u32::from(code);
    }
    let exp = u32::from((code >> 12) & 0x7);
    let mant = u32::from(code & 0x0fff);
    (mant | 0x1000) << (exp + 3)
}

fn encode_max_response(ms: u32) -> u16 {
    if ms < 0x8000 {
        return ms as u16;
    }
    for exp in 0..8u32 {
        let mant = (ms >> (exp + 3)).saturating_sub(0x1000);
        if mant <= 0x0fff {
            return 0x8000 | ((exp as u16) << 12) | mant as u16;
        }
    }
    0xffff
}

/// The type of a multicast address record (RFC 3810 5.2.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// Current state, in answer to a query.
    ModeIsInclude,
    ModeIsExclude,
    /// State changes: joining (to exclude, no sources) and leaving (to
    /// include, no sources).
    ChangeToInclude,
    ChangeToExclude,
    AllowNewSources,
    BlockOldSources,
    Unknown(u8),
}

impl From<u8> for RecordType {
    fn from(v: u8) -> RecordType {
        match v {
            1 => RecordType::ModeIsInclude,
            2 => RecordType::ModeIsExclude,
            3 => RecordType::ChangeToInclude,
            4 => RecordType::ChangeToExclude,
            5 => RecordType::AllowNewSources,
            6 => RecordType::BlockOldSources,
            other => RecordType::Unknown(other),
        }
    }
}

impl From<RecordType> for u8 {
    fn from(v: RecordType) -> u8 {
        match v {
            RecordType::ModeIsInclude => 1,
            RecordType::ModeIsExclude => 2,
            RecordType::ChangeToInclude => 3,
            RecordType::ChangeToExclude => 4,
            RecordType::AllowNewSources => 5,
            RecordType::BlockOldSources => 6,
            RecordType::Unknown(other) => other,
        }
    }
}

/// One multicast address record of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub record_type: RecordType,
    pub group: Ipv6Address,
    pub sources: u16,
}

/// A checked MLDv2 report: its records lie within the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report<'a> {
    records: &'a [u8],
    count: u16,
}

impl<'a> Report<'a> {
    /// Reads a report from a whole ICMPv6 message: every record (sources
    /// and auxiliary data included) must fit, and nothing may follow them.
    pub fn parse(message: &'a [u8], src: &Ipv6Address, dst: &Ipv6Address, verify: bool) -> Result<Report<'a>> {
        if message.len() < REPORT_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if message[0] != TYPE_REPORT_V2 {
            return Err(Error::Unsupported);
        }
        if verify && !checksum::is_valid(message_sum(src, dst, message)) {
            return Err(Error::Checksum);
        }
        let count = u16::from_be_bytes([message[6], message[7]]);
        let records = &message[REPORT_HEADER_LEN..];
        let mut at = 0;
        for _ in 0..count {
            at += record_len(records.get(at..).ok_or(Error::Truncated)?)?;
        }
        if at != records.len() {
            return Err(Error::Malformed);
        }
        Ok(Report { records, count })
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The records, in order.
    pub fn records(&self) -> impl Iterator<Item = Record> + 'a {
        let mut rest = self.records;
        (0..self.count).map_while(move |_| {
            let len = record_len(rest).ok()?;
            let r = &rest[..len];
            rest = &rest[len..];
            let mut group = Ipv6Address([0; 16]);
            group.0.copy_from_slice(&r[4..20]);
            Some(Record { record_type: r[0].into(), group, sources: u16::from_be_bytes([r[2], r[3]]) })
        })
    }
}

/// The length of the record at the start of `bytes`, checked to fit.
fn record_len(bytes: &[u8]) -> Result<usize> {
    let header = bytes.get(..RECORD_LEN).ok_or(Error::Truncated)?;
    let sources = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let len = RECORD_LEN + 16 * sources + 4 * usize::from(header[1]);
    if bytes.len() < len {
        return Err(Error::Truncated);
    }
    Ok(len)
}

/// The length of an MLDv2 report of `records` records without sources.
pub const fn report_len(records: usize) -> usize {
    REPORT_HEADER_LEN + RECORD_LEN * records
}

/// Writes an MLDv2 report of source-less records and its checksum into
/// `buf` (exactly [`report_len`] bytes).
pub fn emit_report(buf: &mut [u8], src: &Ipv6Address, dst: &Ipv6Address, records: &[(RecordType, Ipv6Address)]) {
    buf.fill(0);
    buf[0] = TYPE_REPORT_V2;
    buf[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
    for (chunk, (record_type, group)) in buf[REPORT_HEADER_LEN..].chunks_exact_mut(RECORD_LEN).zip(records) {
        chunk[0] = (*record_type).into();
        chunk[4..20].copy_from_slice(&group.0);
    }
    fill_checksum(buf, src, dst);
}

/// Writes an MLDv1 report for `group` (24 bytes, RFC 2710 3).
pub fn emit_report_v1(buf: &mut [u8], src: &Ipv6Address, dst: &Ipv6Address, group: Ipv6Address) {
    buf.fill(0);
    buf[0] = TYPE_REPORT_V1;
    buf[8..24].copy_from_slice(&group.0);
    fill_checksum(buf, src, dst);
}

/// Writes an MLDv1 done (leave) for `group` (24 bytes, RFC 2710 3), sent
/// to all-routers.
pub fn emit_done_v1(buf: &mut [u8], src: &Ipv6Address, dst: &Ipv6Address, group: Ipv6Address) {
    emit_report_v1(buf, src, dst, group);
    buf[0] = TYPE_DONE_V1;
    fill_checksum(buf, src, dst);
}

/// The group an MLDv1 report names, checked (type, length, checksum).
pub fn parse_report_v1(message: &[u8], src: &Ipv6Address, dst: &Ipv6Address, verify: bool) -> Result<Ipv6Address> {
    parse_v1(TYPE_REPORT_V1, message, src, dst, verify)
}

/// The group an MLDv1 done names, checked (type, length, checksum).
pub fn parse_done_v1(message: &[u8], src: &Ipv6Address, dst: &Ipv6Address, verify: bool) -> Result<Ipv6Address> {
    parse_v1(TYPE_DONE_V1, message, src, dst, verify)
}

fn parse_v1(msg_type: u8, message: &[u8], src: &Ipv6Address, dst: &Ipv6Address, verify: bool) -> Result<Ipv6Address> {
    if message.len() < QUERY_V1_LEN {
        return Err(Error::Truncated);
    }
    if message[0] != msg_type {
        return Err(Error::Unsupported);
    }
    if verify && !checksum::is_valid(message_sum(src, dst, message)) {
        return Err(Error::Checksum);
    }
    let mut group = Ipv6Address([0; 16]);
    group.0.copy_from_slice(&message[8..24]);
    Ok(group)
}

fn message_sum(src: &Ipv6Address, dst: &Ipv6Address, message: &[u8]) -> u16 {
    checksum::combine(&[
        checksum::pseudo_header_v6(src, dst, IpProtocol::Icmpv6, message.len() as u32),
        checksum::data(message),
    ])
}

fn fill_checksum(buf: &mut [u8], src: &Ipv6Address, dst: &Ipv6Address) {
    buf[2..4].copy_from_slice(&[0, 0]);
    let sum = checksum::finish(message_sum(src, dst, buf));
    buf[2..4].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv6;
    use crate::wire::ipv6_captures::MLD;
    use std::vec;

    const LL: Ipv6Address = Ipv6Address::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0xa);
    const ALL_NODES: Ipv6Address = Ipv6Address::LINK_LOCAL_ALL_NODES;

    fn query_bytes(q: &Query) -> std::vec::Vec<u8> {
        let len = if q.version == Version::V1 { QUERY_V1_LEN } else { QUERY_V2_MIN_LEN };
        let mut buf = vec![0xee; len];
        q.emit(&mut buf, &LL, &ALL_NODES);
        buf
    }

    fn general(version: Version, ms: u32) -> Query {
        Query {
            version,
            max_response_ms: ms,
            group: Ipv6Address::UNSPECIFIED,
            suppress_router_processing: false,
            robustness: if version == Version::V2 { 2 } else { 0 },
            query_interval_code: if version == Version::V2 { 125 } else { 0 },
            sources: 0,
        }
    }

    #[test]
    fn linux_report_parses() {
        let ip = ipv6::Packet::new_checked(&MLD[..]).unwrap();
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        let message = &ip.payload()[8..];
        let report = Report::parse(message, &src, &dst, true).unwrap();
        let records: std::vec::Vec<_> = report.records().collect();
        let group = |last| Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, last);
        assert_eq!(
            records,
            [
                Record { record_type: RecordType::ChangeToExclude, group: group(0xa), sources: 0 },
                Record { record_type: RecordType::ChangeToExclude, group: group(1), sources: 0 },
            ]
        );
        // Our emitter writes the same bytes for the same records.
        let mut buf = [0u8; report_len(2)];
        let ours = [(RecordType::ChangeToExclude, group(0xa)), (RecordType::ChangeToExclude, group(1))];
        emit_report(&mut buf, &src, &dst, &ours);
        assert_eq!(&buf[..], message);
    }

    #[test]
    fn report_malformed() {
        let group = Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0xa);
        let mut buf = [0u8; report_len(1)];
        emit_report(&mut buf, &LL, &ALL_MLDV2_ROUTERS, &[(RecordType::ChangeToInclude, group)]);
        assert_eq!(Report::parse(&buf, &LL, &ALL_MLDV2_ROUTERS, true).unwrap().len(), 1);
        assert_eq!(Report::parse(&buf[..7], &LL, &ALL_MLDV2_ROUTERS, false), Err(Error::Truncated));
        assert_eq!(Report::parse(&buf[..27], &LL, &ALL_MLDV2_ROUTERS, false), Err(Error::Truncated));
        assert_eq!(Report::parse(&buf, &ALL_NODES, &ALL_MLDV2_ROUTERS, true), Err(Error::Checksum));
        let mut more = buf;
        more[7] = 2; // two records announced, one present
        assert_eq!(Report::parse(&more, &LL, &ALL_MLDV2_ROUTERS, false), Err(Error::Truncated));
        let mut sources = buf;
        sources[REPORT_HEADER_LEN + 3] = 1; // a source that is not there
        assert_eq!(Report::parse(&sources, &LL, &ALL_MLDV2_ROUTERS, false), Err(Error::Truncated));
        let mut aux = buf;
        aux[REPORT_HEADER_LEN + 1] = 1; // auxiliary data that is not there
        assert_eq!(Report::parse(&aux, &LL, &ALL_MLDV2_ROUTERS, false), Err(Error::Truncated));
        let mut trailing = [0u8; report_len(1) + 4];
        trailing[..report_len(1)].copy_from_slice(&buf);
        assert_eq!(Report::parse(&trailing, &LL, &ALL_MLDV2_ROUTERS, false), Err(Error::Malformed));
        let mut other = buf;
        other[0] = 130;
        assert_eq!(Report::parse(&other, &LL, &ALL_MLDV2_ROUTERS, false), Err(Error::Unsupported));
    }

    #[test]
    fn report_v1_round_trip() {
        let group = Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0xa);
        let mut buf = [0xeeu8; QUERY_V1_LEN];
        emit_report_v1(&mut buf, &LL, &group, group);
        assert_eq!(buf[..2], [131, 0]);
        assert_eq!(buf[4..8], [0; 4]);
        assert_eq!(parse_report_v1(&buf, &LL, &group, true), Ok(group));
        assert_eq!(parse_report_v1(&buf, &LL, &ALL_NODES, true), Err(Error::Checksum));
        assert_eq!(parse_report_v1(&buf[..23], &LL, &group, true), Err(Error::Truncated));
        assert_eq!(parse_done_v1(&buf, &LL, &group, true), Err(Error::Unsupported));
        let routers = Ipv6Address::LINK_LOCAL_ALL_ROUTERS;
        emit_done_v1(&mut buf, &LL, &routers, group);
        assert_eq!(buf[..2], [132, 0]);
        assert_eq!(parse_done_v1(&buf, &LL, &routers, true), Ok(group));
        assert_eq!(parse_done_v1(&buf, &LL, &group, true), Err(Error::Checksum));
    }

    #[test]
    fn queries_round_trip() {
        for q in [general(Version::V1, 10_000), general(Version::V2, 10_000), general(Version::V2, 20)] {
            let buf = query_bytes(&q);
            assert_eq!(Query::parse(&buf, &LL, &ALL_NODES, true), Ok(q));
            assert!(q.is_general());
        }
        let group = Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0xa);
        let specific = Query { group, suppress_router_processing: true, ..general(Version::V2, 1000) };
        let buf = query_bytes(&specific);
        assert_eq!(buf[24], 0x0a);
        assert_eq!(Query::parse(&buf, &LL, &ALL_NODES, true), Ok(specific));
        assert!(!specific.is_general());
    }

    #[test]
    fn max_response_code_exponential_form() {
        assert_eq!(decode_max_response(0x7fff), 32767);
        assert_eq!(decode_max_response(0x8000), 0x1000 << 3);
        assert_eq!(decode_max_response(0xffff), 0x1fff << 10);
        for ms in [0u32, 1, 32767, 32768, 100_000, 0x1fff << 10] {
            let back = decode_max_response(encode_max_response(ms));
            assert!(back <= ms && ms - back < (ms >> 11).max(1), "{ms} -> {back}");
        }
        let long = general(Version::V2, 0x1000 << 3);
        assert_eq!(query_bytes(&long)[4..6], [0x80, 0x00]);
    }

    #[test]
    fn queries_malformed() {
        let v1 = query_bytes(&general(Version::V1, 1000));
        let v2 = query_bytes(&general(Version::V2, 1000));
        assert_eq!(Query::parse(&v1[..23], &LL, &ALL_NODES, false), Err(Error::Truncated));
        // Between the two formats: neither (RFC 3810 8.1).
        for len in 25..28 {
            let mut b = v2.clone();
            b.truncate(len);
            assert_eq!(Query::parse(&b, &LL, &ALL_NODES, false), Err(Error::Malformed), "{len}");
        }
        assert_eq!(Query::parse(&v1, &LL, &LL, true), Err(Error::Checksum));
        assert_eq!(Query::parse(&v2, &LL, &LL, true), Err(Error::Checksum));
        // A group that is not multicast.
        let mut unicast = v2.clone();
        unicast[8..24].copy_from_slice(&LL.0);
        assert_eq!(Query::parse(&unicast, &LL, &ALL_NODES, false), Err(Error::Malformed));
        // Sources announced but absent; present but on a general query.
        let mut missing = v2.clone();
        missing[27] = 1;
        assert_eq!(Query::parse(&missing, &LL, &ALL_NODES, false), Err(Error::Truncated));
        let mut general_with_source = missing.clone();
        general_with_source.extend_from_slice(&LL.0);
        assert_eq!(Query::parse(&general_with_source, &LL, &ALL_NODES, false), Err(Error::Malformed));
        let group = Ipv6Address::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0xa);
        let mut with_source = general_with_source.clone();
        with_source[8..24].copy_from_slice(&group.0);
        assert_eq!(Query::parse(&with_source, &LL, &ALL_NODES, false).map(|q| q.sources), Ok(1));
        let mut report = v1.clone();
        report[0] = 131;
        assert_eq!(Query::parse(&report, &LL, &ALL_NODES, false), Err(Error::Unsupported));
    }
}
