//! Sockets (being written).

pub mod dhcpv4;
pub mod dns;
pub mod tcp;
