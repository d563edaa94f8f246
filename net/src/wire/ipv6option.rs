//! Options of the IPv6 hop-by-hop and destination-options headers
//! (RFC 8200 section 4.2): a list of type-length-value entries, except
//! Pad1, a single zero byte.
//!
//! ```text
//!  | type | data length | data (data length bytes) ...
//! ```
//!
//! The two high bits of an option's type say what a node that does not
//! know the option must do ([`UnknownOptionAction`]).

use super::{Error, Result};

/// Option type: one byte of padding.
pub const PAD1: u8 = 0;
/// Option type: N bytes of padding.
pub const PADN: u8 = 1;
/// Option type: router alert (RFC 2711), carried by MLD reports.
pub const ROUTER_ALERT: u8 = 5;

/// What a node must do with an option whose type it does not recognise,
/// from the two high bits of the type (RFC 8200 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnknownOptionAction {
    /// `00`: skip the option and go on.
    Skip,
    /// `01`: discard the packet silently.
    Discard,
    /// `10`: discard and send an ICMPv6 parameter problem (code 2) pointing
    /// at the option type, whatever the destination.
    DiscardAndReport,
    /// `11`: as above, but only when the destination is not multicast.
    DiscardAndReportUnlessMulticast,
}

impl UnknownOptionAction {
    pub const fn of(option_type: u8) -> UnknownOptionAction {
        match option_type >> 6 {
            0 => UnknownOptionAction::Skip,
            1 => UnknownOptionAction::Discard,
            2 => UnknownOptionAction::DiscardAndReport,
            _ => UnknownOptionAction::DiscardAndReportUnlessMulticast,
        }
    }
}

/// The meaning of one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionRepr<'a> {
    Pad1,
    /// Padding of `2 + n` bytes in all (the data is zeros on emit and
    /// ignored on parse).
    PadN(u8),
    /// Router alert with its 16-bit value (0 = MLD).
    RouterAlert(u16),
    /// Any other option; `option_type` keeps the action bits.
    Unknown {
        option_type: u8,
        data: &'a [u8],
    },
}

impl<'a> OptionRepr<'a> {
    /// Parses the option at the start of `buffer` and returns it with the
    /// rest of the buffer. Data running past the buffer is `Truncated`; a
    /// router alert whose length is not 2 is `Malformed`.
    pub fn parse(buffer: &'a [u8]) -> Result<(OptionRepr<'a>, &'a [u8])> {
        let (&option_type, rest) = buffer.split_first().ok_or(Error::Truncated)?;
        if option_type == PAD1 {
            return Ok((OptionRepr::Pad1, rest));
        }
        let (&len, rest) = rest.split_first().ok_or(Error::Truncated)?;
        let len = usize::from(len);
        if rest.len() < len {
            return Err(Error::Truncated);
        }
        let (data, rest) = rest.split_at(len);
        let repr = match option_type {
            PADN => OptionRepr::PadN(len as u8),
            ROUTER_ALERT => match data {
                [a, b] => OptionRepr::RouterAlert(u16::from_be_bytes([*a, *b])),
                _ => return Err(Error::Malformed),
            },
            _ => OptionRepr::Unknown { option_type, data },
        };
        Ok((repr, rest))
    }

    /// Bytes the option takes on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            OptionRepr::Pad1 => 1,
            OptionRepr::PadN(n) => 2 + usize::from(*n),
            OptionRepr::RouterAlert(_) => 4,
            OptionRepr::Unknown { data, .. } => 2 + data.len().min(255),
        }
    }

    /// Writes the option at the start of `buffer` (at least
    /// [`OptionRepr::buffer_len`] bytes) and returns the rest. Unknown
    /// option data is cut to 255 bytes.
    pub fn emit<'b>(&self, buffer: &'b mut [u8]) -> &'b mut [u8] {
        let len = self.buffer_len();
        let (out, rest) = buffer.split_at_mut(len);
        match *self {
            OptionRepr::Pad1 => out[0] = PAD1,
            OptionRepr::PadN(n) => {
                out[0] = PADN;
                out[1] = n;
                out[2..].fill(0);
            }
            OptionRepr::RouterAlert(v) => {
                out[0] = ROUTER_ALERT;
                out[1] = 2;
                out[2..4].copy_from_slice(&v.to_be_bytes());
            }
            OptionRepr::Unknown { option_type, data } => {
                out[0] = option_type;
                out[1] = (len - 2) as u8;
                out[2..].copy_from_slice(&data[..len - 2]);
            }
        }
        rest
    }
}

/// Iterates over the options of an option area, each with its offset from
/// the start of the area. After the first error it yields nothing more.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Options<'a> {
    pub const fn new(area: &'a [u8]) -> Options<'a> {
        Options { rest: area, offset: 0, failed: false }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(usize, OptionRepr<'a>)>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match OptionRepr::parse(self.rest) {
            Ok((repr, rest)) => {
                let at = self.offset;
                self.offset += self.rest.len() - rest.len();
                self.rest = rest;
                Some(Ok((at, repr)))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_list() {
        // Pad1, router alert 0, PadN(1), unknown 0x3e with 2 bytes.
        let area = [0, 5, 2, 0, 0, 1, 1, 0, 0x3e, 2, 0xab, 0xcd];
        let got: std::vec::Vec<_> = Options::new(&area).map(|r| r.unwrap()).collect();
        assert_eq!(
            got,
            [
                (0, OptionRepr::Pad1),
                (1, OptionRepr::RouterAlert(0)),
                (5, OptionRepr::PadN(1)),
                (8, OptionRepr::Unknown { option_type: 0x3e, data: &[0xab, 0xcd] }),
            ]
        );
    }

    #[test]
    fn emit_exact_bytes_and_round_trip() {
        let reprs = [
            OptionRepr::Pad1,
            OptionRepr::PadN(3),
            OptionRepr::RouterAlert(0x1234),
            OptionRepr::Unknown { option_type: 0xc2, data: &[0, 1, 0, 0] },
        ];
        let mut buf = [0xeeu8; 16];
        let mut rest = &mut buf[..];
        for r in &reprs {
            rest = r.emit(rest);
        }
        assert!(rest.is_empty());
        assert_eq!(buf, [0, 1, 3, 0, 0, 0, 5, 2, 0x12, 0x34, 0xc2, 4, 0, 1, 0, 0]);
        let parsed: std::vec::Vec<_> = Options::new(&buf[..]).map(|r| r.unwrap().1).collect();
        assert_eq!(parsed, reprs);
    }

    #[test]
    fn malformed() {
        assert_eq!(OptionRepr::parse(&[]).unwrap_err(), Error::Truncated);
        assert_eq!(OptionRepr::parse(&[1]).unwrap_err(), Error::Truncated);
        assert_eq!(OptionRepr::parse(&[1, 3, 0, 0]).unwrap_err(), Error::Truncated);
        assert_eq!(OptionRepr::parse(&[5, 3, 0, 0, 0]).unwrap_err(), Error::Malformed);
        let mut it = Options::new(&[0, 1, 9]);
        assert_eq!(it.next(), Some(Ok((0, OptionRepr::Pad1))));
        assert_eq!(it.next(), Some(Err(Error::Truncated)));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn action_bits() {
        assert_eq!(UnknownOptionAction::of(0x1e), UnknownOptionAction::Skip);
        assert_eq!(UnknownOptionAction::of(0x5e), UnknownOptionAction::Discard);
        assert_eq!(UnknownOptionAction::of(0x9e), UnknownOptionAction::DiscardAndReport);
        assert_eq!(UnknownOptionAction::of(0xc2), UnknownOptionAction::DiscardAndReportUnlessMulticast);
    }
}
