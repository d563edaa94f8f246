//! UDP sockets over caller-provided packet buffers.
//!
//! A socket is bound to a port (and optionally one local address), queues
//! received datagrams with their source, and queues datagrams to send with
//! their destination until the interface's next poll. In connected mode
//! ([`UdpSocket::connect`]) it only receives from its peer and can send
//! without naming it.

use crate::storage::{PacketBuffer, PacketMetadata};
use crate::wire::{IpAddress, IpEndpoint, IpListenEndpoint};

/// What is kept with each queued datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpMetadata {
    /// The peer: the source of a received datagram, the destination of one
    /// to send.
    pub endpoint: IpEndpoint,
    /// The local address a datagram was received on (or is to be sent
    /// from); `None` lets the interface choose when sending.
    pub local_address: Option<IpAddress>,
}

/// A metadata slot of a UDP packet buffer.
pub type UdpPacketMetadata = PacketMetadata<UdpMetadata>;
/// The buffer type a UDP socket receives into and sends from.
pub type UdpPacketBuffer<'a> = PacketBuffer<'a, UdpMetadata>;

/// Why [`UdpSocket::bind`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindError {
    /// Port 0 (ephemeral ports are not chosen by the socket).
    Unaddressable,
    /// The socket is already bound.
    InvalidState,
}

/// Why [`UdpSocket::connect`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectError {
    /// The remote address is unspecified or its port is 0.
    Unaddressable,
    /// The socket is not bound yet.
    Unbound,
}

/// Why a datagram could not be queued for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The socket is unbound, or the destination is unspecified or port 0.
    Unaddressable,
    /// No destination given and the socket is not connected.
    NotConnected,
    /// The transmit buffer has no room for the datagram now.
    BufferFull,
}

/// Why nothing was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvError {
    /// No datagram is queued.
    Exhausted,
}

/// Per-socket counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpSocketStats {
    /// Datagrams queued for the application.
    pub received: u64,
    /// Datagrams handed to the interface.
    pub sent: u64,
    /// Datagrams dropped because the receive buffer was full.
    pub dropped_rx_full: u64,
}

/// A UDP socket.
#[derive(Debug)]
pub struct UdpSocket<'a> {
    endpoint: IpListenEndpoint,
    remote: Option<IpEndpoint>,
    rx: UdpPacketBuffer<'a>,
    tx: UdpPacketBuffer<'a>,
    stats: UdpSocketStats,
}

impl<'a> UdpSocket<'a> {
    /// An unbound socket over a receive and a transmit buffer.
    pub fn new(rx: UdpPacketBuffer<'a>, tx: UdpPacketBuffer<'a>) -> UdpSocket<'a> {
        UdpSocket { endpoint: IpListenEndpoint::default(), remote: None, rx, tx, stats: UdpSocketStats::default() }
    }

    /// Binds to a port (and optionally one local address). Port 0 is
    /// refused; a socket binds once.
    pub fn bind(&mut self, endpoint: impl Into<IpListenEndpoint>) -> Result<(), BindError> {
        let endpoint = endpoint.into();
        if endpoint.port == 0 {
            return Err(BindError::Unaddressable);
        }
        if self.is_bound() {
            return Err(BindError::InvalidState);
        }
        self.endpoint = endpoint;
        Ok(())
    }

    /// Whether the socket has a port.
    pub fn is_bound(&self) -> bool {
        self.endpoint.port != 0
    }

    /// The bound endpoint (port 0 when unbound).
    pub fn endpoint(&self) -> IpListenEndpoint {
        self.endpoint
    }

    /// Restricts the socket to one peer: only its datagrams are received
    /// (others are left to other sockets or answered as a closed port), and
    /// [`send_connected`](Self::send_connected) sends to it.
    pub fn connect(&mut self, remote: IpEndpoint) -> Result<(), ConnectError> {
        if !self.is_bound() {
            return Err(ConnectError::Unbound);
        }
        if remote.port == 0 || remote.addr.is_unspecified() {
            return Err(ConnectError::Unaddressable);
        }
        self.remote = Some(remote);
        Ok(())
    }

    /// Leaves connected mode.
    pub fn disconnect(&mut self) {
        self.remote = None;
    }

    /// The peer in connected mode.
    pub fn remote(&self) -> Option<IpEndpoint> {
        self.remote
    }

    /// Unbinds and drops every queued datagram (counters are kept).
    pub fn close(&mut self) {
        self.endpoint = IpListenEndpoint::default();
        self.remote = None;
        self.rx.clear();
        self.tx.clear();
    }

    /// Whether a datagram can be queued now (room for at least an empty
    /// one).
    pub fn can_send(&self) -> bool {
        !self.tx.is_full()
    }

    /// Whether a received datagram is waiting.
    pub fn can_recv(&self) -> bool {
        !self.rx.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> UdpSocketStats {
        self.stats
    }

    /// Queues a datagram of `len` bytes to `remote` and returns its payload
    /// to fill.
    pub fn send(&mut self, len: usize, remote: IpEndpoint) -> Result<&mut [u8], SendError> {
        if !self.is_bound() || remote.port == 0 || remote.addr.is_unspecified() {
            return Err(SendError::Unaddressable);
        }
        // Bound to an unspecified address: the interface picks the source.
        let local_address = self.endpoint.addr.filter(|a| !a.is_unspecified());
        let meta = UdpMetadata { endpoint: remote, local_address };
        self.tx.enqueue(len, meta).map_err(|_| SendError::BufferFull)
    }

    /// Queues a copy of `data` to `remote`.
    pub fn send_slice(&mut self, data: &[u8], remote: IpEndpoint) -> Result<(), SendError> {
        self.send(data.len(), remote)?.copy_from_slice(data);
        Ok(())
    }

    /// Queues a datagram of `len` bytes to the connected peer.
    pub fn send_connected(&mut self, len: usize) -> Result<&mut [u8], SendError> {
        let remote = self.remote.ok_or(SendError::NotConnected)?;
        self.send(len, remote)
    }

    /// Queues a copy of `data` to the connected peer.
    pub fn send_slice_connected(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_connected(data.len())?.copy_from_slice(data);
        Ok(())
    }

    /// Takes the oldest received datagram and its source.
    pub fn recv(&mut self) -> Result<(&[u8], IpEndpoint), RecvError> {
        let (meta, data) = self.rx.dequeue().ok_or(RecvError::Exhausted)?;
        Ok((data, meta.endpoint))
    }

    /// Takes the oldest received datagram, copying it into `buf`; returns
    /// the bytes copied (a datagram longer than `buf` is cut) and its
    /// source.
    pub fn recv_slice(&mut self, buf: &mut [u8]) -> Result<(usize, IpEndpoint), RecvError> {
        let (data, remote) = self.recv()?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok((n, remote))
    }

    /// The oldest received datagram with its metadata, left queued.
    pub fn peek(&mut self) -> Result<(&[u8], &UdpMetadata), RecvError> {
        let (meta, data) = self.rx.peek().ok_or(RecvError::Exhausted)?;
        Ok((data, meta))
    }

    // ---- Interface side ----

    /// Whether a datagram from `remote` to `local` is this socket's.
    pub(crate) fn accepts(&self, local: IpEndpoint, remote: IpEndpoint) -> bool {
        self.is_bound() && self.endpoint.accepts(local) && self.remote.is_none_or(|r| r == remote)
    }

    /// Queues a received datagram; `false` (and counted) when the receive
    /// buffer has no room.
    pub(crate) fn process(&mut self, local: IpEndpoint, remote: IpEndpoint, payload: &[u8]) -> bool {
        let meta = UdpMetadata { endpoint: remote, local_address: Some(local.addr) };
        match self.rx.enqueue_slice(meta, payload) {
            Ok(()) => {
                self.stats.received += 1;
                true
            }
            Err(_) => {
                self.stats.dropped_rx_full += 1;
                false
            }
        }
    }

    /// Whether a datagram is waiting to be sent.
    pub(crate) fn has_pending_tx(&self) -> bool {
        !self.tx.is_empty()
    }

    /// Offers the oldest queued datagram to `emit(local_port, metadata,
    /// payload)`. On `Ok` the datagram is done (sent, queued for ARP or
    /// dropped by the interface and counted there); on `Err` it stays for a
    /// later poll. `Ok(false)` when nothing was queued.
    pub(crate) fn dispatch<E>(
        &mut self,
        emit: impl FnOnce(u16, &UdpMetadata, &[u8]) -> Result<(), E>,
    ) -> Result<bool, E> {
        let port = self.endpoint.port;
        let Some((meta, payload)) = self.tx.peek() else { return Ok(false) };
        emit(port, meta, payload)?;
        self.tx.dequeue();
        self.stats.sent += 1;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Ipv4Address;

    const PEER: IpEndpoint = IpEndpoint::new(IpAddress::V4(Ipv4Address::new(10, 0, 0, 2)), 4000);
    const OTHER: IpEndpoint = IpEndpoint::new(IpAddress::V4(Ipv4Address::new(10, 0, 0, 3)), 4000);
    const LOCAL: IpEndpoint = IpEndpoint::new(IpAddress::V4(Ipv4Address::new(10, 0, 0, 1)), 7);

    struct Storage {
        rx_meta: [UdpPacketMetadata; 2],
        rx_bytes: [u8; 16],
        tx_meta: [UdpPacketMetadata; 2],
        tx_bytes: [u8; 16],
    }

    impl Storage {
        fn new() -> Storage {
            Storage {
                rx_meta: [UdpPacketMetadata::EMPTY; 2],
                rx_bytes: [0; 16],
                tx_meta: [UdpPacketMetadata::EMPTY; 2],
                tx_bytes: [0; 16],
            }
        }
        fn socket(&mut self) -> UdpSocket<'_> {
            UdpSocket::new(
                PacketBuffer::new(&mut self.rx_meta, &mut self.rx_bytes),
                PacketBuffer::new(&mut self.tx_meta, &mut self.tx_bytes),
            )
        }
    }

    #[test]
    fn bind_errors() {
        let mut s = Storage::new();
        let mut sock = s.socket();
        assert_eq!(sock.bind(0), Err(BindError::Unaddressable));
        assert_eq!(sock.send_slice(b"x", PEER), Err(SendError::Unaddressable), "unbound");
        sock.bind(7).unwrap();
        assert_eq!(sock.bind(8), Err(BindError::InvalidState));
        assert_eq!(sock.endpoint(), IpListenEndpoint::any(7));
        sock.close();
        assert!(!sock.is_bound());
        sock.bind(8).unwrap();
    }

    #[test]
    fn receive_queue_and_overflow() {
        let mut s = Storage::new();
        let mut sock = s.socket();
        sock.bind(7).unwrap();
        assert!(!sock.can_recv());
        assert_eq!(sock.recv(), Err(RecvError::Exhausted));
        assert!(sock.accepts(LOCAL, PEER));
        assert!(!sock.accepts(IpEndpoint::new(LOCAL.addr, 8), PEER));
        assert!(sock.process(LOCAL, PEER, b"hello"));
        assert!(sock.process(LOCAL, OTHER, b"world!"));
        assert!(!sock.process(LOCAL, PEER, b"x"), "two slots");
        assert_eq!(sock.stats(), UdpSocketStats { received: 2, sent: 0, dropped_rx_full: 1 });
        let (data, meta) = sock.peek().unwrap();
        assert_eq!((data, meta.local_address), (&b"hello"[..], Some(LOCAL.addr)));
        assert_eq!(sock.recv(), Ok((&b"hello"[..], PEER)));
        let mut buf = [0u8; 4];
        assert_eq!(sock.recv_slice(&mut buf), Ok((4, OTHER)));
        assert_eq!(&buf, b"worl");
        assert!(!sock.can_recv());
    }

    #[test]
    fn send_queue_and_dispatch() {
        let mut s = Storage::new();
        let mut sock = s.socket();
        sock.bind(IpListenEndpoint { addr: Some(LOCAL.addr), port: 7 }).unwrap();
        assert_eq!(
            sock.send_slice(b"x", IpEndpoint::new(Ipv4Address::UNSPECIFIED.into(), 1)),
            Err(SendError::Unaddressable)
        );
        assert_eq!(sock.send_slice(b"x", IpEndpoint::new(PEER.addr, 0)), Err(SendError::Unaddressable));
        assert_eq!(sock.send_slice_connected(b"x"), Err(SendError::NotConnected));
        sock.send(3, PEER).unwrap().copy_from_slice(b"abc");
        sock.send_slice(b"0123456789", OTHER).unwrap();
        assert!(!sock.can_send());
        assert_eq!(sock.send_slice(b"", PEER), Err(SendError::BufferFull));

        // A refused emit keeps the datagram.
        assert_eq!(sock.dispatch(|_, _, _| Err::<(), ()>(())), Err(()));
        let mut seen = std::vec::Vec::new();
        while sock
            .dispatch(|port, meta, data| {
                seen.push((port, *meta, data.to_vec()));
                Ok::<(), ()>(())
            })
            .unwrap()
        {}
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], (7, UdpMetadata { endpoint: PEER, local_address: Some(LOCAL.addr) }, b"abc".to_vec()));
        assert_eq!(seen[1].2, b"0123456789".to_vec());
        assert_eq!(sock.stats().sent, 2);
        assert!(!sock.has_pending_tx());
    }

    #[test]
    fn connected_mode_filters_and_sends() {
        let mut s = Storage::new();
        let mut sock = s.socket();
        assert_eq!(sock.connect(PEER), Err(ConnectError::Unbound));
        sock.bind(7).unwrap();
        assert_eq!(sock.connect(IpEndpoint::new(PEER.addr, 0)), Err(ConnectError::Unaddressable));
        sock.connect(PEER).unwrap();
        assert!(sock.accepts(LOCAL, PEER));
        assert!(!sock.accepts(LOCAL, OTHER));
        sock.send_slice_connected(b"hi").unwrap();
        let mut dst = None;
        sock.dispatch(|_, meta, _| {
            dst = Some(meta.endpoint);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(dst, Some(PEER));
        sock.disconnect();
        assert!(sock.accepts(LOCAL, OTHER));
    }
}
