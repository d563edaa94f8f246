//! Sockets (being written).

pub mod dhcpv4;
pub mod dns;
pub mod icmp;
pub mod set;
pub mod tcp;
pub mod udp;

pub use set::{AnySocket, Socket, SocketHandle, SocketSet, SocketStorage};
