//! The network interface: an Ethernet interface with IPv4 addresses,
//! routes, a neighbour cache over ARP, IPv4 reassembly and fragmentation,
//! automatic ICMP echo replies and errors, RSTs for closed TCP ports, and
//! dispatch to sockets (UDP, ICMP, DHCP, DNS, TCP sockets and listeners);
//! and, once [`Interface::enable_ipv6`] is called, IPv6 beside it: a
//! link-local address, duplicate address detection, router solicitation
//! and SLAAC ([`slaac`]), neighbour discovery with the RFC 4861
//! reachability states ([`ndp_cache`]), MLDv2 listener reports for the
//! groups it listens to ([`mld`]), extension headers, reassembly,
//! fragmentation, path MTU, ICMPv6, and the same sockets over IPv6 (a
//! socket or listener bound to a port alone takes both families).
//!
//! An embedder owns every buffer, creates the interface and a socket set,
//! and polls:
//!
//! ```
//! # use net::phy::{Device, DeviceCapabilities, RxToken, TxToken};
//! # struct Nic; struct Rx; struct Tx;
//! # impl RxToken for Rx { fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R { f(&[]) } }
//! # impl TxToken for Tx { fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, n: usize, f: F) -> R { f(&mut vec![0; n]) } }
//! # impl Device for Nic {
//! #     type RxToken<'a> = Rx; type TxToken<'a> = Tx;
//! #     fn receive(&mut self, _: net::time::Instant) -> Option<(Rx, Tx)> { None }
//! #     fn transmit(&mut self, _: net::time::Instant) -> Option<Tx> { Some(Tx) }
//! #     fn capabilities(&self) -> DeviceCapabilities { DeviceCapabilities::ethernet() }
//! # }
//! # let mut nic = Nic;
//! use net::iface::{Config, Interface, InterfaceStorage, NeighbourSlot, PendingSlot, ReassemblySlot};
//! use net::socket::udp::{UdpPacketMetadata, UdpSocket};
//! use net::socket::{SocketSet, SocketStorage};
//! use net::storage::PacketBuffer;
//! use net::time::Instant;
//! use net::wire::EthernetAddress;
//!
//! let mut neighbours = [NeighbourSlot::EMPTY; 16];
//! let (mut pending_slots, mut pending_bytes) = ([PendingSlot::EMPTY; 16], [0u8; 8192]);
//! let (mut frag_slots, mut frag_bytes) = ([ReassemblySlot::EMPTY; 2], [0u8; 2 * 8192]);
//! let storage = InterfaceStorage {
//!     neighbours: &mut neighbours,
//!     pending_slots: &mut pending_slots,
//!     pending_bytes: &mut pending_bytes,
//!     reassembly_slots: &mut frag_slots,
//!     reassembly_bytes: &mut frag_bytes,
//! };
//! let mut iface = Interface::new(Config::new(EthernetAddress([0x02, 0, 0, 0, 0, 1])), storage);
//! iface.add_address("10.0.2.15/24".parse().unwrap()).unwrap();
//! iface.set_default_gateway(Some("10.0.2.2".parse().unwrap()));
//!
//! let (mut rx_meta, mut rx_bytes) = ([UdpPacketMetadata::EMPTY; 8], [0u8; 4096]);
//! let (mut tx_meta, mut tx_bytes) = ([UdpPacketMetadata::EMPTY; 8], [0u8; 4096]);
//! let mut udp = UdpSocket::new(
//!     PacketBuffer::new(&mut rx_meta, &mut rx_bytes),
//!     PacketBuffer::new(&mut tx_meta, &mut tx_bytes),
//! );
//! udp.bind(7).unwrap();
//! let mut socket_storage = [SocketStorage::EMPTY, SocketStorage::EMPTY];
//! let mut sockets = SocketSet::new(&mut socket_storage[..]);
//! let echo = sockets.add(udp);
//!
//! let now = Instant::from_millis(0); // from the platform's clock
//! iface.poll(now, &mut nic, &mut sockets);
//! let socket = sockets.get_mut::<UdpSocket>(echo);
//! let mut buf = [0u8; 1500];
//! while let Ok((n, from)) = socket.recv_slice(&mut buf) {
//!     socket.send_slice(&buf[..n], from).unwrap(); // UDP echo
//! }
//! let next = iface.poll_at(now, &sockets); // arm a timer for this
//! # assert_eq!(next, None, "nothing is due: the address was announced");
//! ```
//!
//! IPv6 (dual stack) needs only a neighbour cache of its own; packets
//! waiting for neighbour discovery share the pending queue with ARP:
//!
//! ```
//! # use net::iface::{Config, Interface, InterfaceStorage};
//! # use net::wire::EthernetAddress;
//! use net::iface::{Ipv6Config, Ipv6Event, NdpSlot};
//! use net::time::Instant;
//! # let storage = InterfaceStorage { neighbours: &mut [], pending_slots: &mut [],
//! #     pending_bytes: &mut [], reassembly_slots: &mut [], reassembly_bytes: &mut [] };
//! # let mut iface = Interface::new(Config::new(EthernetAddress([2, 0, 0, 0, 0, 1])), storage);
//! let mut ndp = [NdpSlot::EMPTY; 16];
//! let now = Instant::from_millis(0);
//! // SLAAC from router advertisements, EUI-64 identifiers, one DAD probe.
//! iface.enable_ipv6(Ipv6Config::new(), &mut ndp, now);
//! iface.add_ipv6_address(now, "2001:db8::5/64".parse().unwrap()).unwrap(); // optional static
//! // After each poll: log what autoconfiguration did.
//! while let Some(event) = iface.take_ipv6_event() {
//!     if let Ipv6Event::AddressDuplicate(a) = event {
//!         // another node has `a`: it is not used
//! #       let _ = a;
//!     }
//! }
//! assert_eq!(iface.ipv6_address(), None, "tentative until DAD passes");
//! ```
//!
//! TCP: a listener with a backlog over a pool of sockets (each with its
//! own buffers) serves many clients on one port. Build the sockets with
//! [`Interface::tcp_config`], which carries the ISN secret of
//! [`Config::tcp_secret`]:
//!
//! ```
//! # use net::iface::{Config, Interface, InterfaceStorage};
//! # use net::wire::EthernetAddress;
//! use net::socket::tcp::{ListenerConfig, TcpListener, TcpSocket};
//! use net::socket::{SocketSet, SocketStorage};
//! use net::storage::RingBuffer;
//! # let storage = InterfaceStorage { neighbours: &mut [], pending_slots: &mut [],
//! #     pending_bytes: &mut [], reassembly_slots: &mut [], reassembly_bytes: &mut [] };
//! let config = Config { tcp_secret: [0x5a; 16], ..Config::new(EthernetAddress([2, 0, 0, 0, 0, 1])) };
//! let iface = Interface::new(config, storage); // `tcp_secret` from the platform's entropy
//! let tcp = iface.tcp_config();
//!
//! let mut bytes = [[0u8; 2 * 4096]; 4];
//! let mut pool = bytes.each_mut().map(|b| {
//!     let (rx, tx) = b.split_at_mut(4096);
//!     TcpSocket::new(RingBuffer::new(rx), RingBuffer::new(tx), tcp)
//! });
//! let limits = ListenerConfig { syn_backlog: 4, accept_backlog: 4, syn_cookies: true };
//! let mut slots = [SocketStorage::EMPTY];
//! let mut sockets = SocketSet::new(&mut slots[..]);
//! let http = sockets.add(TcpListener::new(80, &mut pool, tcp, limits));
//!
//! // After each poll: take new connections, serve them, give closed ones back.
//! let listener = sockets.get_mut::<TcpListener>(http);
//! while let Some(index) = listener.accept() {
//!     let connection = listener.socket(index).unwrap();
//!     connection.send_slice(b"hello").unwrap();
//!     connection.close();
//!     // ... later, once `connection.state()` is `State::Closed`:
//!     listener.release(index);
//! }
//! ```

mod egress;
mod ingress;
mod interface;
mod ipv6;
pub mod mld;
pub mod ndp_cache;
pub mod neighbour;
mod rate_limit;
pub mod reassembly;
pub mod route;
pub mod slaac;
pub mod stats;

pub use interface::{
    AddressError, Config, Interface, InterfaceStorage, PendingPacket, PendingSlot, PollResult, ALL_HOSTS,
    MAX_ADDRESSES, MAX_DNS_SERVERS, MAX_MULTICAST_GROUPS,
};
pub use ndp_cache::{NdpEntry, NdpSlot, NeighbourState};
pub use neighbour::NeighbourSlot;
pub use reassembly::ReassemblySlot;
pub use route::{Route, Routes, RoutesFull};
pub use slaac::{
    AddressOrigin, AddressState, InterfaceId, Ipv6AddressError, Ipv6AddressInfo, Ipv6Config, Ipv6Event, Router,
};
pub use stats::Stats;
