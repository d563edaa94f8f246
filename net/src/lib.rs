//! `net`: a `no_std`, allocation-free TCP/IP stack driven by an explicit poll
//! model.
//!
//! Layers, each usable and testable alone:
//! - [`wire`]: stateless parse/emit views over byte slices.
//! - [`phy`]: the device trait and test devices (loopback, fault injection,
//!   pcap capture, and with feature `std` a Linux TAP device).
//! - [`iface`]: an Ethernet interface, IPv4 and IPv6: addresses (SLAAC,
//!   DAD), routes, neighbour caches (ARP, NDP), fragmentation and
//!   reassembly, ICMP and ICMPv6, socket dispatch.
//! - [`socket`]: protocol state machines over caller-provided buffers.
//! - [`storage`]: the ring buffers sockets keep their data in.
//!
//! The embedding program owns every buffer; the stack never allocates.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_debug_implementations)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod iface;
pub mod phy;
pub mod rand;
pub mod socket;
pub mod storage;
pub mod time;
pub mod wire;
