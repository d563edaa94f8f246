//! The IPv6 fragment header (RFC 8200 section 4.5).
//!
//! ```text
//!  0             8             16                        29  31
//!  | next header |  reserved   |  fragment offset (13 bits) |res|M|
//!  |                     identification                          |
//! ```

use super::{Error, IpProtocol, Result};

/// The header is always 8 bytes.
pub const HEADER_LEN: usize = 8;

mod field {
    use core::ops::Range;
    pub const NEXT_HEADER: usize = 0;
    pub const RESERVED: usize = 1;
    pub const OFF_M: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..8;
}

/// A view of a fragment header at the start of a buffer.
#[derive(Debug, Clone)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer after checking it holds the 8 bytes.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let header = Header::new_unchecked(buffer);
        if header.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(header)
    }

    fn off_m(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::OFF_M];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The header of the fragmentable part (same for every fragment).
    pub fn next_header(&self) -> IpProtocol {
        self.buffer.as_ref()[field::NEXT_HEADER].into()
    }
    /// Offset of this fragment's data in the fragmentable part, in bytes.
    pub fn frag_offset(&self) -> u16 {
        self.off_m() & 0xfff8
    }
    pub fn more_frags(&self) -> bool {
        self.off_m() & 1 != 0
    }
    pub fn ident(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::IDENT];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    pub fn set_next_header(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::NEXT_HEADER] = v.into();
    }
    /// Writes offset (bytes, truncated to a multiple of 8), M and zero
    /// reserved bits.
    pub fn set_offset_and_more(&mut self, frag_offset: u16, more_frags: bool) {
        let v = (frag_offset & 0xfff8) | u16::from(more_frags);
        self.buffer.as_mut()[field::RESERVED] = 0;
        self.buffer.as_mut()[field::OFF_M].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_ident(&mut self, v: u32) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&v.to_be_bytes());
    }
}

/// The meaning of a fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    pub next_header: IpProtocol,
    /// In bytes, a multiple of 8.
    pub frag_offset: u16,
    pub more_frags: bool,
    pub ident: u32,
}

impl Repr {
    /// Reserved bits are ignored (RFC 8200: "ignored on reception").
    pub fn parse<T: AsRef<[u8]>>(header: &Header<T>) -> Result<Repr> {
        if header.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Repr {
            next_header: header.next_header(),
            frag_offset: header.frag_offset(),
            more_frags: header.more_frags(),
            ident: header.ident(),
        })
    }

    /// An atomic fragment (offset 0, no more fragments): a whole datagram
    /// that merely carries a fragment header (RFC 6946: process it as is,
    /// outside reassembly).
    pub const fn is_atomic(&self) -> bool {
        self.frag_offset == 0 && !self.more_frags
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into a buffer of at least 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Header<T>) {
        header.set_next_header(self.next_header);
        header.set_offset_and_more(self.frag_offset, self.more_frags);
        header.set_ident(self.ident);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // UDP follows; offset 1448 bytes (181 units), M set, ident 0xdeadbeef.
    static HEADER: [u8; 8] = [0x11, 0x00, 0x05, 0xa9, 0xde, 0xad, 0xbe, 0xef];

    #[test]
    fn parse_and_emit_exact() {
        let h = Header::new_checked(&HEADER[..]).unwrap();
        let repr = Repr::parse(&h).unwrap();
        assert_eq!(repr, Repr { next_header: IpProtocol::Udp, frag_offset: 1448, more_frags: true, ident: 0xdeadbeef });
        assert!(!repr.is_atomic());
        let mut buf = [0xffu8; 8];
        repr.emit(&mut Header::new_unchecked(&mut buf[..]));
        assert_eq!(buf, HEADER);
    }

    #[test]
    fn reserved_bits_ignored_and_atomic() {
        let bytes = [0x3a, 0xff, 0x00, 0x06, 0, 0, 0, 1];
        let repr = Repr::parse(&Header::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(repr, Repr { next_header: IpProtocol::Icmpv6, frag_offset: 0, more_frags: false, ident: 1 });
        assert!(repr.is_atomic());
    }

    #[test]
    fn truncated() {
        assert_eq!(Header::new_checked(&HEADER[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(Repr::parse(&Header::new_unchecked(&HEADER[..3])).unwrap_err(), Error::Truncated);
    }
}
