//! The socket set: every socket an interface serves, in caller storage.
//!
//! ```
//! use net::socket::set::{SocketSet, SocketStorage};
//! use net::socket::udp::{UdpSocket, UdpPacketMetadata};
//! use net::storage::PacketBuffer;
//!
//! let (mut rx_meta, mut rx_bytes) = ([UdpPacketMetadata::EMPTY; 4], [0u8; 1500]);
//! let (mut tx_meta, mut tx_bytes) = ([UdpPacketMetadata::EMPTY; 4], [0u8; 1500]);
//! let mut storage = [SocketStorage::EMPTY; 2];
//! let mut sockets = SocketSet::new(&mut storage[..]);
//! let udp = UdpSocket::new(
//!     PacketBuffer::new(&mut rx_meta, &mut rx_bytes),
//!     PacketBuffer::new(&mut tx_meta, &mut tx_bytes),
//! );
//! let handle = sockets.add(udp);
//! sockets.get_mut::<UdpSocket>(handle).bind(7).unwrap();
//! ```
//!
//! # Adding a socket type
//!
//! A new kind of socket is a new [`Socket`] variant plus one
//! `impl_any_socket!` line below; matches on `Socket` in the interface are
//! exhaustive, so the compiler lists every place to extend. TCP is the
//! model: a received segment goes to the first socket whose
//! `accepts(local, remote, &repr)` is true and what `process` returns is
//! sent at once; the egress phase calls `dispatch(now, mss, emit)` while it
//! emits, and `poll_at()` is folded into the interface's `poll_at`.

use core::fmt;

use super::dhcpv4::DhcpClient;
use super::dns::DnsResolver;
use super::icmp::IcmpSocket;
use super::tcp::{TcpListener, TcpSocket};
use super::udp::UdpSocket;

/// Any socket the interface serves.
///
/// Every slot is as large as the largest variant (a TCP socket): without
/// an allocator there is nothing to box them into, and a slot is cheap
/// next to the buffers the caller lends each socket.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Socket<'a> {
    Udp(UdpSocket<'a>),
    Icmp(IcmpSocket<'a>),
    /// A DHCPv4 client: the interface carries its messages on UDP 67/68 and
    /// applies the configuration it acquires.
    Dhcpv4(DhcpClient),
    /// A DNS resolver: the interface carries its queries from its own
    /// ephemeral port and gives it the DNS servers learnt by DHCP.
    Dns(DnsResolver<'a>),
    /// One TCP connection (or a socket in LISTEN serving one at a time).
    Tcp(TcpSocket<'a>),
    /// A listening TCP port with a backlog over a pool of sockets.
    TcpListener(TcpListener<'a, 'a>),
}

/// Names a socket in a [`SocketSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketHandle(usize);

impl SocketHandle {
    /// The slot index (for logs).
    pub fn index(&self) -> usize {
        self.0
    }
}

impl fmt::Display for SocketHandle {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One slot of socket storage (`[SocketStorage::EMPTY; N]`).
#[derive(Debug)]
pub struct SocketStorage<'a> {
    socket: Option<Socket<'a>>,
}

impl SocketStorage<'_> {
    /// An unused slot.
    pub const EMPTY: Self = SocketStorage { socket: None };
}

/// Conversion between a concrete socket type and [`Socket`].
pub trait AnySocket<'a>: Sized {
    fn upcast(self) -> Socket<'a>;
    fn downcast_mut<'s>(socket: &'s mut Socket<'a>) -> Option<&'s mut Self>;
    fn downcast<'s>(socket: &'s Socket<'a>) -> Option<&'s Self>;
}

macro_rules! impl_any_socket {
    ($variant:ident, $ty:ty) => {
        impl<'a> AnySocket<'a> for $ty {
            fn upcast(self) -> Socket<'a> {
                Socket::$variant(self)
            }
            fn downcast_mut<'s>(socket: &'s mut Socket<'a>) -> Option<&'s mut Self> {
                match socket {
                    Socket::$variant(s) => Some(s),
                    _ => None,
                }
            }
            fn downcast<'s>(socket: &'s Socket<'a>) -> Option<&'s Self> {
                match socket {
                    Socket::$variant(s) => Some(s),
                    _ => None,
                }
            }
        }
    };
}

impl_any_socket!(Udp, UdpSocket<'a>);
impl_any_socket!(Icmp, IcmpSocket<'a>);
impl_any_socket!(Dhcpv4, DhcpClient);
impl_any_socket!(Dns, DnsResolver<'a>);
impl_any_socket!(Tcp, TcpSocket<'a>);
impl_any_socket!(TcpListener, TcpListener<'a, 'a>);

/// A socket the egress phase serves in its pass before TCP's.
fn is_other(socket: &Socket<'_>) -> bool {
    match socket {
        Socket::Udp(_) | Socket::Icmp(_) | Socket::Dhcpv4(_) | Socket::Dns(_) => true,
        Socket::Tcp(_) | Socket::TcpListener(_) => false,
    }
}

/// Every slot is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetFull;

/// A fixed-capacity set of sockets over caller storage.
#[derive(Debug)]
pub struct SocketSet<'a> {
    slots: &'a mut [SocketStorage<'a>],
    /// One past the highest taken slot: every pass over the set stops
    /// there (a set sized for the worst case is mostly empty slots).
    used: usize,
    /// Sockets other than TCP ones (UDP, ICMP, DHCP, DNS): without any,
    /// the egress phase skips its pass for them on every poll. Recounted
    /// after [`iter_mut`](Self::iter_mut), through which a socket may be
    /// replaced by one of another kind.
    others: usize,
    others_stale: bool,
}

impl<'a> SocketSet<'a> {
    /// A set over caller storage; its length bounds the socket count.
    pub fn new(slots: &'a mut [SocketStorage<'a>]) -> SocketSet<'a> {
        let used = slots.iter().rposition(|s| s.socket.is_some()).map_or(0, |i| i + 1);
        SocketSet { slots, used, others: 0, others_stale: true }
    }

    /// Adds a socket; `SetFull` when every slot is taken.
    pub fn try_add<T: AnySocket<'a>>(&mut self, socket: T) -> Result<SocketHandle, SetFull> {
        let index = self.slots.iter().position(|s| s.socket.is_none()).ok_or(SetFull)?;
        let socket = socket.upcast();
        self.others += usize::from(is_other(&socket));
        self.slots[index].socket = Some(socket);
        self.used = self.used.max(index + 1);
        Ok(SocketHandle(index))
    }

    /// Adds a socket. Panics when the storage is full (a sizing mistake of
    /// the embedder, not a run-time condition); see [`try_add`](Self::try_add).
    pub fn add<T: AnySocket<'a>>(&mut self, socket: T) -> SocketHandle {
        match self.try_add(socket) {
            Ok(handle) => handle,
            Err(SetFull) => panic!("socket set full: give it more SocketStorage slots"),
        }
    }

    /// The socket of type `T` at `handle`, if there is one.
    pub fn try_get_mut<T: AnySocket<'a>>(&mut self, handle: SocketHandle) -> Option<&mut T> {
        self.slots.get_mut(handle.0)?.socket.as_mut().and_then(T::downcast_mut)
    }

    /// The socket of type `T` at `handle`, shared.
    pub fn try_get<T: AnySocket<'a>>(&self, handle: SocketHandle) -> Option<&T> {
        self.slots.get(handle.0)?.socket.as_ref().and_then(T::downcast)
    }

    /// The socket of type `T` at `handle`. Panics on a removed handle or a
    /// wrong type (programming errors); see [`try_get_mut`](Self::try_get_mut).
    pub fn get_mut<T: AnySocket<'a>>(&mut self, handle: SocketHandle) -> &mut T {
        match self.try_get_mut(handle) {
            Some(s) => s,
            None => panic!("no socket of this type at handle {handle}"),
        }
    }

    /// Shared counterpart of [`get_mut`](Self::get_mut).
    pub fn get<T: AnySocket<'a>>(&self, handle: SocketHandle) -> &T {
        match self.try_get(handle) {
            Some(s) => s,
            None => panic!("no socket of this type at handle {handle}"),
        }
    }

    /// Takes a socket out, freeing its slot.
    pub fn remove(&mut self, handle: SocketHandle) -> Option<Socket<'a>> {
        let socket = self.slots.get_mut(handle.0)?.socket.take();
        if socket.as_ref().is_some_and(is_other) {
            self.others = self.others.saturating_sub(1);
        }
        while self.used > 0 && self.slots[self.used - 1].socket.is_none() {
            self.used -= 1;
        }
        socket
    }

    /// Every socket with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (SocketHandle, &Socket<'a>)> {
        self.slots[..self.used].iter().enumerate().filter_map(|(i, s)| Some((SocketHandle(i), s.socket.as_ref()?)))
    }

    /// Every socket with its handle, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (SocketHandle, &mut Socket<'a>)> {
        // The caller may put a socket of another kind in a slot.
        self.others_stale = true;
        self.sockets_mut()
    }

    /// [`iter_mut`](Self::iter_mut) for the interface, which changes
    /// sockets only through their methods (never their kind).
    pub(crate) fn sockets_mut(&mut self) -> impl Iterator<Item = (SocketHandle, &mut Socket<'a>)> {
        self.slots[..self.used].iter_mut().enumerate().filter_map(|(i, s)| Some((SocketHandle(i), s.socket.as_mut()?)))
    }

    /// Whether the set holds a socket other than TCP ones (UDP, ICMP,
    /// DHCP, DNS).
    #[inline]
    pub(crate) fn has_other_sockets(&mut self) -> bool {
        if self.others_stale {
            self.others = self.slots[..self.used].iter().filter(|s| s.socket.as_ref().is_some_and(is_other)).count();
            self.others_stale = false;
        }
        self.others > 0
    }

    /// The socket in slot `index`, if any (for passes that start at a
    /// given slot and wrap around).
    pub(crate) fn slot_mut(&mut self, index: usize) -> Option<&mut Socket<'a>> {
        self.slots.get_mut(index)?.socket.as_mut()
    }

    /// One past the highest taken slot: every socket's index is below.
    pub(crate) fn slots_in_use(&self) -> usize {
        self.used
    }

    /// Slots in the set (taken or free): every handle's index is below.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Number of sockets in the set.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the set holds no socket.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::icmp::IcmpPacketMetadata;
    use crate::socket::udp::UdpPacketMetadata;
    use crate::storage::PacketBuffer;
    use crate::wire::EthernetAddress;

    #[test]
    fn add_get_remove_iterate() {
        let (mut a, mut b, mut c, mut d) =
            ([UdpPacketMetadata::EMPTY; 1], [0u8; 4], [UdpPacketMetadata::EMPTY; 1], [0u8; 4]);
        let (mut e, mut f, mut g, mut h) =
            ([IcmpPacketMetadata::EMPTY; 1], [0u8; 4], [IcmpPacketMetadata::EMPTY; 1], [0u8; 4]);
        let mut storage = [SocketStorage::EMPTY, SocketStorage::EMPTY];
        let mut set = SocketSet::new(&mut storage);
        assert!(set.is_empty());
        let udp = set.add(UdpSocket::new(PacketBuffer::new(&mut a, &mut b), PacketBuffer::new(&mut c, &mut d)));
        let icmp = set.add(IcmpSocket::new(PacketBuffer::new(&mut e, &mut f), PacketBuffer::new(&mut g, &mut h)));
        assert_eq!(set.try_add(DhcpClient::new(EthernetAddress([2, 0, 0, 0, 0, 1]), 1)), Err(SetFull));
        set.get_mut::<UdpSocket>(udp).bind(7).unwrap();
        assert!(set.try_get_mut::<IcmpSocket>(udp).is_none(), "wrong type");
        assert_eq!(set.get::<UdpSocket>(udp).endpoint().port, 7);
        set.get_mut::<IcmpSocket>(icmp).bind(9).unwrap();
        assert_eq!(set.len(), 2);
        let handles: std::vec::Vec<_> = set.iter().map(|(h, _)| h).collect();
        assert_eq!(handles, [udp, icmp]);
        assert!(matches!(set.remove(udp), Some(Socket::Udp(_))));
        assert!(set.remove(udp).is_none());
        assert!(set.try_get_mut::<UdpSocket>(udp).is_none());
        let dhcp = set.add(DhcpClient::new(EthernetAddress([2, 0, 0, 0, 0, 1]), 1));
        assert_eq!(dhcp, udp, "the freed slot is reused");
        assert_eq!(set.iter_mut().count(), 2);
    }

    #[test]
    fn knows_whether_sockets_other_than_tcp_are_in() {
        use crate::socket::tcp::TcpConfig;
        use crate::storage::RingBuffer;
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
        let (mut rx, mut tx) = ([0u8; 8], [0u8; 8]);
        let mut storage = [SocketStorage::EMPTY, SocketStorage::EMPTY];
        let mut set = SocketSet::new(&mut storage);
        assert!(!set.has_other_sockets());
        let tcp = set.add(TcpSocket::new(RingBuffer::new(&mut rx), RingBuffer::new(&mut tx), TcpConfig::default()));
        assert!(!set.has_other_sockets(), "TCP only");
        let dhcp = set.add(DhcpClient::new(mac, 1));
        assert!(set.has_other_sockets());
        set.remove(dhcp);
        assert!(!set.has_other_sockets());
        // A socket of another kind put in a slot through `iter_mut`.
        for (handle, socket) in set.iter_mut() {
            if handle == tcp {
                *socket = Socket::Dhcpv4(DhcpClient::new(mac, 1));
            }
        }
        assert!(set.has_other_sockets());
        set.remove(tcp);
        assert!(!set.has_other_sockets());
    }

    #[test]
    fn passes_stop_after_the_highest_taken_slot() {
        let (mut a, mut b, mut c, mut d) =
            ([UdpPacketMetadata::EMPTY; 1], [0u8; 4], [UdpPacketMetadata::EMPTY; 1], [0u8; 4]);
        let mut storage = [SocketStorage::EMPTY, SocketStorage::EMPTY, SocketStorage::EMPTY, SocketStorage::EMPTY];
        let mut set = SocketSet::new(&mut storage);
        assert_eq!(set.slots_in_use(), 0);
        let first = set.add(DhcpClient::new(EthernetAddress([2, 0, 0, 0, 0, 1]), 1));
        let second = set.add(UdpSocket::new(PacketBuffer::new(&mut a, &mut b), PacketBuffer::new(&mut c, &mut d)));
        assert_eq!(set.slots_in_use(), 2);
        set.remove(first);
        assert_eq!(set.slots_in_use(), 2, "a hole below stays");
        assert_eq!(set.iter().map(|(h, _)| h).collect::<std::vec::Vec<_>>(), [second]);
        set.remove(second);
        assert_eq!(set.slots_in_use(), 0, "trailing free slots are dropped");
        let again = set.add(DhcpClient::new(EthernetAddress([2, 0, 0, 0, 0, 1]), 1));
        assert_eq!((again.index(), set.slots_in_use(), set.capacity()), (0, 1, 4));
    }
}
