//! The network interface: an Ethernet interface with IPv4 addresses,
//! routes, a neighbour cache over ARP, IPv4 reassembly and fragmentation,
//! automatic ICMP echo replies and errors, and dispatch to sockets.
//!
//! ```
//! use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
//! use net::wire::EthernetAddress;
//!
//! let mut neighbours = [NeighbourSlot::EMPTY; 8];
//! let (mut pending_slots, mut pending_bytes) = ([PendingSlot::EMPTY; 8], [0u8; 4096]);
//! let (mut frag_slots, mut frag_bytes) = ([ReassemblySlot::EMPTY; 2], [0u8; 16384]);
//! let mut iface = Interface::new(
//!     Config::new(EthernetAddress([0x02, 0, 0, 0, 0, 1])),
//!     InterfaceStorage {
//!         neighbours: &mut neighbours,
//!         pending_slots: &mut pending_slots,
//!         pending_bytes: &mut pending_bytes,
//!         reassembly_slots: &mut frag_slots,
//!         reassembly_bytes: &mut frag_bytes,
//!     },
//! );
//! iface.add_address("10.0.2.15/24".parse().unwrap()).unwrap();
//! iface.set_default_gateway(Some("10.0.2.2".parse().unwrap()));
//! ```

mod egress;
mod ingress;
mod interface;
pub mod neighbour;
mod rate_limit;
pub mod reassembly;
pub mod route;
pub mod stats;

pub use interface::{
    AddressError, Config, Interface, InterfaceStorage, PendingPacket, PendingSlot, PollResult, ALL_HOSTS,
    MAX_ADDRESSES, MAX_DNS_SERVERS, MAX_MULTICAST_GROUPS,
};
pub use neighbour::NeighbourSlot;
pub use reassembly::ReassemblySlot;
pub use route::{Route, Routes, RoutesFull};
pub use stats::Stats;
