//! Wire formats: stateless views over byte slices.
//!
//! Every format has a `Packet`-style view whose checked constructor
//! (`new_checked`) validates lengths and fields up front, so accessors never
//! read out of bounds, and a `Repr` that is the parsed, owned meaning of a
//! header with `parse` and `emit`. Nothing here keeps state or allocates.

mod address;
pub mod arp;
pub mod checksum;
pub mod dhcpv4;
pub mod dns;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
#[cfg(test)]
mod ipv6_captures;
pub mod ipv6ext;
pub mod ipv6fragment;
pub mod ipv6option;
pub mod mld;
pub mod ndp;
pub mod tcp;
pub mod udp;

pub use address::{
    AddressParseError, EthernetAddress, IpAddress, IpEndpoint, IpListenEndpoint, IpProtocol, Ipv4Address, Ipv4Cidr,
    Ipv6Address, Ipv6Cidr,
};

use core::fmt;

/// Why a buffer could not be parsed (or a header could not be emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the header or the length it declares.
    Truncated,
    /// A field holds a value the format does not allow.
    Malformed,
    /// The checksum does not verify.
    Checksum,
    /// Well-formed, but a version or feature this stack does not handle.
    Unsupported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::Malformed => "malformed",
            Error::Checksum => "bad checksum",
            Error::Unsupported => "unsupported",
        })
    }
}

pub type Result<T> = core::result::Result<T, Error>;
