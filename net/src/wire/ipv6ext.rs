//! IPv6 extension headers (RFC 8200 section 4) and the walk over the
//! header chain from the fixed header to the upper layer.
//!
//! Hop-by-hop options, routing and destination options share one layout:
//!
//! ```text
//!  | next header | header ext length (8-byte units, not counting the first 8) |
//!  | header-specific data ...                                                |
//! ```
//!
//! The fragment header has its own fixed layout ([`super::ipv6fragment`]).
//! [`walk`] follows the chain with a bound on its length, applies the
//! receive rules of RFC 8200 (hop-by-hop first only, unknown option
//! actions, routing headers with segments left) and says either where the
//! upper layer starts or which ICMPv6 parameter problem to send.

use super::icmpv6::ParamProblem;
use super::ipv6;
use super::ipv6fragment;
use super::ipv6option::{OptionRepr, Options, UnknownOptionAction};
use super::{Error, IpProtocol, Result};

/// Most extension headers [`walk`] goes through before giving up. RFC 8200
/// 4.1 allows each header once (destination options twice), so a legal
/// chain has at most 6.
pub const MAX_HEADERS: usize = 8;

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const LENGTH: usize = 1;
    pub const ROUTING_TYPE: usize = 2;
    pub const SEGMENTS_LEFT: usize = 3;
}

/// A view of a hop-by-hop, routing or destination-options header at the
/// start of a buffer.
#[derive(Debug, Clone)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer after checking it holds the whole header as its
    /// length field declares it.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let header = Header::new_unchecked(buffer);
        let len = header.buffer.as_ref().len();
        if len < 2 || len < header.header_len() {
            return Err(Error::Truncated);
        }
        Ok(header)
    }

    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NEXT_HEADER].into()
    }
    /// The whole header's length in bytes: `(ext length + 1) * 8`.
    pub fn header_len(&self) -> usize {
        (usize::from(self.buffer.as_ref()[field::LENGTH]) + 1) * 8
    }
    /// Routing type (routing header only).
    pub fn routing_type(&self) -> u8 {
        self.buffer.as_ref()[field::ROUTING_TYPE]
    }
    /// Segments left (routing header only).
    pub fn segments_left(&self) -> u8 {
        self.buffer.as_ref()[field::SEGMENTS_LEFT]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Header<&'a T> {
    /// Everything after the two common bytes: the option area of a
    /// hop-by-hop or destination-options header, or routing type, segments
    /// left and the type-specific data of a routing header.
    pub fn data(&self) -> &'a [u8] {
        &self.buffer.as_ref()[2..self.header_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    pub fn set_next_header(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = v.into();
    }
    /// Sets the length field for a header of `len` bytes (a multiple of 8,
    /// 8..=2048).
    pub fn set_header_len(&mut self, len: usize) {
        self.buffer.as_mut()[field::LENGTH] = (len / 8).saturating_sub(1) as u8;
    }
    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[2..end]
    }
}

/// Where a walk of the header chain ended: at a header it does not walk
/// (the upper layer, "no next header", or an unknown value the caller
/// must answer with [`ParamProblem::UnrecognizedNextHeader`]), or at a
/// fragment header (reassembly comes first; the fragmentable part then
/// gets its own walk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chain {
    /// The upper-layer protocol (for a fragment: the fragment header's
    /// next header).
    pub upper: IpProtocol,
    /// Offset of the upper-layer header (for a fragment: of the fragment
    /// data) in the walked payload.
    pub upper_offset: usize,
    /// Offset, from the start of the IPv6 header, of the next-header field
    /// that named `upper`: the pointer of a parameter problem about it.
    pub next_header_pointer: usize,
    /// The fragment header, if the walk stopped at one.
    pub fragment: Option<ipv6fragment::Repr>,
    /// Offset of the fragment header in the walked payload (0 if none):
    /// the bytes before it are the unfragmentable part.
    pub fragment_offset: usize,
    /// Extension headers walked, the fragment header included.
    pub headers: usize,
    /// A router alert option was present in the hop-by-hop header.
    pub router_alert: bool,
}

/// Why a walk did not reach the upper layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainError {
    /// Drop the packet silently and count it: a header runs past the
    /// payload or is malformed, the chain is longer than [`MAX_HEADERS`],
    /// or an unknown option's action is "discard" (`Unsupported`).
    Drop(Error),
    /// Drop the packet and answer with an ICMPv6 parameter problem with
    /// this code and pointer (an offset from the start of the IPv6 header).
    ParamProblem { code: ParamProblem, pointer: u32 },
}

impl From<Error> for ChainError {
    fn from(e: Error) -> ChainError {
        ChainError::Drop(e)
    }
}

/// Walks the extension headers of an IPv6 payload, starting with the
/// fixed header's `next_header`. `payload` must be the bytes right after
/// the 40-byte fixed header (pointers count that header).
/// `dst_is_multicast` decides the fate of unknown options of action `11`.
pub fn walk(
    payload: &[u8],
    next_header: IpProtocol,
    dst_is_multicast: bool,
) -> core::result::Result<Chain, ChainError> {
    let pointer = |offset: usize| (ipv6::HEADER_LEN + offset) as u32;
    let mut chain = Chain {
        upper: next_header,
        upper_offset: 0,
        next_header_pointer: ipv6::NEXT_HEADER_OFFSET,
        fragment: None,
        fragment_offset: 0,
        headers: 0,
        router_alert: false,
    };
    loop {
        let offset = chain.upper_offset;
        let rest = payload.get(offset..).ok_or(Error::Truncated)?;
        match chain.upper {
            IpProtocol::HopByHop | IpProtocol::Ipv6Opts | IpProtocol::Ipv6Route => {
                if chain.upper == IpProtocol::HopByHop && chain.headers != 0 {
                    // Hop-by-hop is only allowed right after the fixed header.
                    return Err(ChainError::ParamProblem {
                        code: ParamProblem::UnrecognizedNextHeader,
                        pointer: chain.next_header_pointer as u32,
                    });
                }
                if chain.headers == MAX_HEADERS {
                    return Err(ChainError::Drop(Error::Unsupported));
                }
                let header = Header::new_checked(rest)?;
                if chain.upper == IpProtocol::Ipv6Route {
                    // A host implements no routing type (type 0 is
                    // deprecated, RFC 5095): with segments left it must
                    // report the routing type; without, it ignores it.
                    if header.segments_left() != 0 {
                        return Err(ChainError::ParamProblem {
                            code: ParamProblem::ErroneousHeaderField,
                            pointer: pointer(offset + field::ROUTING_TYPE),
                        });
                    }
                } else {
                    for option in Options::new(header.data()) {
                        let (at, option) = option?;
                        match option {
                            OptionRepr::Pad1 | OptionRepr::PadN(_) => {}
                            OptionRepr::RouterAlert(_) => chain.router_alert |= chain.upper == IpProtocol::HopByHop,
                            OptionRepr::Unknown { option_type, .. } => match UnknownOptionAction::of(option_type) {
                                UnknownOptionAction::Skip => {}
                                UnknownOptionAction::Discard => return Err(ChainError::Drop(Error::Unsupported)),
                                UnknownOptionAction::DiscardAndReportUnlessMulticast if dst_is_multicast => {
                                    return Err(ChainError::Drop(Error::Unsupported))
                                }
                                UnknownOptionAction::DiscardAndReport
                                | UnknownOptionAction::DiscardAndReportUnlessMulticast => {
                                    return Err(ChainError::ParamProblem {
                                        code: ParamProblem::UnrecognizedOption,
                                        pointer: pointer(offset + 2 + at),
                                    })
                                }
                            },
                        }
                    }
                }
                chain.headers += 1;
                chain.next_header_pointer = ipv6::HEADER_LEN + offset + field::NEXT_HEADER;
                chain.upper = header.next_header();
                chain.upper_offset = offset + header.header_len();
            }
            IpProtocol::Ipv6Frag => {
                if chain.headers == MAX_HEADERS {
                    return Err(ChainError::Drop(Error::Unsupported));
                }
                let header = ipv6fragment::Header::new_checked(rest)?;
                let repr = ipv6fragment::Repr::parse(&header)?;
                chain.headers += 1;
                chain.fragment = Some(repr);
                chain.fragment_offset = offset;
                chain.next_header_pointer = ipv6::HEADER_LEN + offset;
                chain.upper = repr.next_header;
                chain.upper_offset = offset + ipv6fragment::HEADER_LEN;
                return Ok(chain);
            }
            _ => return Ok(chain),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(payload: &[u8], nh: IpProtocol) -> Chain {
        walk(payload, nh, false).unwrap()
    }

    #[test]
    fn no_extension_headers() {
        let c = ok(b"udp!", IpProtocol::Udp);
        assert_eq!((c.upper, c.upper_offset, c.next_header_pointer, c.headers), (IpProtocol::Udp, 0, 6, 0));
        assert_eq!(c.fragment, None);
    }

    #[test]
    fn hop_by_hop_router_alert_then_icmpv6() {
        // As Linux sends MLD reports: HBH { RA(0), PadN(0) }, then ICMPv6.
        let payload = [58, 0, 5, 2, 0, 0, 1, 0, 143, 0];
        let c = ok(&payload, IpProtocol::HopByHop);
        assert_eq!((c.upper, c.upper_offset, c.next_header_pointer, c.headers), (IpProtocol::Icmpv6, 8, 40, 1));
        assert!(c.router_alert);
    }

    #[test]
    fn chain_of_all_kinds() {
        let mut p = std::vec::Vec::new();
        p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // HBH -> DO, PadN(4)
        p.extend_from_slice(&[43, 1, 0x1e, 2, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0]); // DO -> routing, skip-able option + PadN
        p.extend_from_slice(&[44, 0, 0, 0, 0, 0, 0, 0]); // routing type 0, 0 segments left -> fragment
        p.extend_from_slice(&[6, 0, 0x00, 0x11, 0, 0, 0, 9]); // fragment: TCP, offset 16, M, ident 9
        p.extend_from_slice(b"data");
        let c = ok(&p, IpProtocol::HopByHop);
        assert_eq!(c.upper, IpProtocol::Tcp);
        assert_eq!(c.upper_offset, 40);
        assert_eq!(c.fragment_offset, 32);
        assert_eq!(c.next_header_pointer, 72);
        assert_eq!(c.headers, 4);
        assert_eq!(
            c.fragment,
            Some(ipv6fragment::Repr { next_header: IpProtocol::Tcp, frag_offset: 16, more_frags: true, ident: 9 })
        );
    }

    #[test]
    fn hop_by_hop_not_first() {
        let payload = [0, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0];
        assert_eq!(
            walk(&payload, IpProtocol::Ipv6Opts, false),
            Err(ChainError::ParamProblem { code: ParamProblem::UnrecognizedNextHeader, pointer: 40 })
        );
    }

    #[test]
    fn unknown_option_actions() {
        // DO with PadN(0) then an unknown option of the given type at offset 4.
        let with = |t: u8| [58u8, 0, 1, 0, t, 0, 1, 0];
        assert_eq!(ok(&with(0x1e), IpProtocol::Ipv6Opts).upper, IpProtocol::Icmpv6);
        assert_eq!(walk(&with(0x5e), IpProtocol::Ipv6Opts, false), Err(ChainError::Drop(Error::Unsupported)));
        let report = Err(ChainError::ParamProblem { code: ParamProblem::UnrecognizedOption, pointer: 44 });
        assert_eq!(walk(&with(0x9e), IpProtocol::Ipv6Opts, false), report);
        assert_eq!(walk(&with(0x9e), IpProtocol::Ipv6Opts, true), report);
        assert_eq!(walk(&with(0xde), IpProtocol::Ipv6Opts, false), report);
        assert_eq!(walk(&with(0xde), IpProtocol::Ipv6Opts, true), Err(ChainError::Drop(Error::Unsupported)));
    }

    #[test]
    fn routing_with_segments_left() {
        let payload = [58, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            walk(&payload, IpProtocol::Ipv6Route, false),
            Err(ChainError::ParamProblem { code: ParamProblem::ErroneousHeaderField, pointer: 42 })
        );
    }

    #[test]
    fn malformed_chains() {
        // Header longer than the payload.
        assert_eq!(
            walk(&[58, 1, 1, 4, 0, 0, 0, 0], IpProtocol::Ipv6Opts, false),
            Err(ChainError::Drop(Error::Truncated))
        );
        assert_eq!(walk(&[58], IpProtocol::Ipv6Opts, false), Err(ChainError::Drop(Error::Truncated)));
        assert_eq!(walk(&[], IpProtocol::HopByHop, false), Err(ChainError::Drop(Error::Truncated)));
        assert_eq!(walk(&[6, 0, 0, 0], IpProtocol::Ipv6Frag, false), Err(ChainError::Drop(Error::Truncated)));
        // Option running past its header.
        assert_eq!(
            walk(&[58, 0, 1, 5, 0, 0, 0, 0], IpProtocol::Ipv6Opts, false),
            Err(ChainError::Drop(Error::Truncated))
        );
        // A chain of destination options headers longer than the bound.
        let mut long = std::vec::Vec::new();
        for _ in 0..MAX_HEADERS + 1 {
            long.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
        }
        assert_eq!(walk(&long, IpProtocol::Ipv6Opts, false), Err(ChainError::Drop(Error::Unsupported)));
        // MAX_HEADERS is allowed.
        long.truncate(8 * MAX_HEADERS);
        long[8 * (MAX_HEADERS - 1)] = 59;
        let c = ok(&long, IpProtocol::Ipv6Opts);
        assert_eq!((c.upper, c.headers, c.upper_offset), (IpProtocol::Ipv6NoNxt, MAX_HEADERS, 8 * MAX_HEADERS));
    }

    #[test]
    fn header_view_and_emit() {
        let mut buf = [0u8; 16];
        let mut h = Header::new_unchecked(&mut buf[..]);
        h.set_next_header(IpProtocol::Udp);
        h.set_header_len(16);
        h.data_mut()[0] = 1;
        h.data_mut()[1] = 12;
        assert_eq!(buf[..3], [17, 1, 1]);
        let h = Header::new_checked(&buf[..]).unwrap();
        assert_eq!(h.header_len(), 16);
        assert_eq!(h.data().len(), 14);
        assert_eq!(Header::new_checked(&buf[..15]).unwrap_err(), Error::Truncated);
        assert_eq!(Header::new_checked(&buf[..1]).unwrap_err(), Error::Truncated);
    }
}
