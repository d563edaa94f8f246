//! ICMP echo sockets: a ping client, over IPv4 (ICMP) or IPv6 (ICMPv6).
//!
//! A socket is bound to an echo identifier, queues echo requests (a
//! destination, a sequence number and data) for the interface to send, and
//! receives the echo replies that carry its identifier, from either family.
//! Echo requests from others are answered by the interface itself, with or
//! without a socket.

use crate::storage::{PacketBuffer, PacketMetadata};
use crate::wire::IpAddress;

/// What is kept with each queued echo message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpMetadata {
    /// The peer: the destination of a request, the source of a reply.
    pub addr: IpAddress,
    pub seq_no: u16,
}

/// A metadata slot of an ICMP packet buffer.
pub type IcmpPacketMetadata = PacketMetadata<IcmpMetadata>;
/// The buffer type an ICMP socket uses.
pub type IcmpPacketBuffer<'a> = PacketBuffer<'a, IcmpMetadata>;

/// Why an ICMP socket operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    /// Bind on a bound socket.
    InvalidState,
    /// Send on an unbound socket, or to an address that is not unicast.
    Unaddressable,
    /// The transmit buffer has no room.
    BufferFull,
    /// Nothing received.
    Exhausted,
}

/// An echo reply taken from the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply {
    /// Who answered.
    pub src: IpAddress,
    pub seq_no: u16,
    /// Data bytes copied out (the reply may have been longer).
    pub len: usize,
}

/// Per-socket counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IcmpSocketStats {
    pub requests_sent: u64,
    pub replies_received: u64,
    /// Replies dropped because the receive buffer was full.
    pub dropped_rx_full: u64,
}

/// An ICMP echo (ping) socket.
#[derive(Debug)]
pub struct IcmpSocket<'a> {
    ident: Option<u16>,
    rx: IcmpPacketBuffer<'a>,
    tx: IcmpPacketBuffer<'a>,
    stats: IcmpSocketStats,
}

impl<'a> IcmpSocket<'a> {
    /// An unbound socket over a receive and a transmit buffer.
    pub fn new(rx: IcmpPacketBuffer<'a>, tx: IcmpPacketBuffer<'a>) -> IcmpSocket<'a> {
        IcmpSocket { ident: None, rx, tx, stats: IcmpSocketStats::default() }
    }

    /// Binds to an echo identifier: requests carry it, replies with it are
    /// received.
    pub fn bind(&mut self, ident: u16) -> Result<(), IcmpError> {
        if self.ident.is_some() {
            return Err(IcmpError::InvalidState);
        }
        self.ident = Some(ident);
        Ok(())
    }

    /// The bound identifier.
    pub fn ident(&self) -> Option<u16> {
        self.ident
    }

    /// Unbinds and drops everything queued.
    pub fn close(&mut self) {
        self.ident = None;
        self.rx.clear();
        self.tx.clear();
    }

    /// Whether a request can be queued now.
    pub fn can_send(&self) -> bool {
        !self.tx.is_full()
    }

    /// Whether a reply is waiting.
    pub fn can_recv(&self) -> bool {
        !self.rx.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> IcmpSocketStats {
        self.stats
    }

    /// Queues an echo request to `dst` (either family) carrying `data`.
    pub fn send_echo(&mut self, dst: impl Into<IpAddress>, seq_no: u16, data: &[u8]) -> Result<(), IcmpError> {
        let dst = dst.into();
        let unicast = match dst {
            IpAddress::V4(a) => a.is_unicast(),
            IpAddress::V6(a) => !(a.is_unspecified() || a.is_multicast() || a.0 == LOOPBACK_V6),
        };
        if self.ident.is_none() || !unicast {
            return Err(IcmpError::Unaddressable);
        }
        self.tx.enqueue_slice(IcmpMetadata { addr: dst, seq_no }, data).map_err(|_| IcmpError::BufferFull)
    }

    /// Takes the oldest echo reply, copying its data into `buf` (cut to
    /// fit).
    pub fn recv_echo_reply(&mut self, buf: &mut [u8]) -> Result<EchoReply, IcmpError> {
        let (meta, data) = self.rx.dequeue().ok_or(IcmpError::Exhausted)?;
        let len = data.len().min(buf.len());
        buf[..len].copy_from_slice(&data[..len]);
        Ok(EchoReply { src: meta.addr, seq_no: meta.seq_no, len })
    }

    // ---- Interface side ----

    /// Whether an echo reply with `ident` is this socket's.
    pub(crate) fn accepts_reply(&self, ident: u16) -> bool {
        self.ident == Some(ident)
    }

    /// Queues a received echo reply; `false` (and counted) when full.
    pub(crate) fn process_reply(&mut self, src: IpAddress, seq_no: u16, data: &[u8]) -> bool {
        match self.rx.enqueue_slice(IcmpMetadata { addr: src, seq_no }, data) {
            Ok(()) => {
                self.stats.replies_received += 1;
                true
            }
            Err(_) => {
                self.stats.dropped_rx_full += 1;
                false
            }
        }
    }

    pub(crate) fn has_pending_tx(&self) -> bool {
        !self.tx.is_empty()
    }

    /// Offers the oldest queued request to `emit(ident, metadata, data)`;
    /// see [`UdpSocket::dispatch`](super::udp::UdpSocket) for the contract.
    pub(crate) fn dispatch<E>(
        &mut self,
        emit: impl FnOnce(u16, &IcmpMetadata, &[u8]) -> Result<(), E>,
    ) -> Result<bool, E> {
        let Some(ident) = self.ident else { return Ok(false) };
        let Some((meta, data)) = self.tx.peek() else { return Ok(false) };
        emit(ident, meta, data)?;
        self.tx.dequeue();
        self.stats.requests_sent += 1;
        Ok(true)
    }
}

/// `::1`.
const LOOPBACK_V6: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wire::{Ipv4Address, Ipv6Address};

    const PEER: IpAddress = IpAddress::V4(Ipv4Address::new(10, 0, 0, 2));

    #[test]
    fn echo_round_trip_through_the_socket() {
        let (mut rm, mut rb, mut tm, mut tb) =
            ([IcmpPacketMetadata::EMPTY; 1], [0u8; 8], [IcmpPacketMetadata::EMPTY; 1], [0u8; 8]);
        let mut s = IcmpSocket::new(PacketBuffer::new(&mut rm, &mut rb), PacketBuffer::new(&mut tm, &mut tb));
        assert_eq!(s.send_echo(PEER, 1, b"x"), Err(IcmpError::Unaddressable), "unbound");
        s.bind(0x1234).unwrap();
        assert_eq!(s.bind(1), Err(IcmpError::InvalidState));
        assert_eq!(s.send_echo(Ipv4Address::BROADCAST, 1, b"x"), Err(IcmpError::Unaddressable));
        assert_eq!(s.send_echo(Ipv6Address([0xff; 16]), 1, b"x"), Err(IcmpError::Unaddressable));
        assert_eq!(s.send_echo(Ipv6Address::UNSPECIFIED, 1, b"x"), Err(IcmpError::Unaddressable));
        s.send_echo(PEER, 7, b"ping").unwrap();
        assert_eq!(s.send_echo(PEER, 8, b"ping"), Err(IcmpError::BufferFull));
        let mut sent = None;
        assert_eq!(
            s.dispatch(|ident, meta, data| {
                sent = Some((ident, *meta, data.to_vec()));
                Ok::<(), ()>(())
            }),
            Ok(true)
        );
        assert_eq!(sent, Some((0x1234, IcmpMetadata { addr: PEER, seq_no: 7 }, b"ping".to_vec())));
        assert!(s.accepts_reply(0x1234));
        assert!(!s.accepts_reply(0x1235));
        assert!(s.process_reply(PEER, 7, b"pong!"));
        assert!(!s.process_reply(PEER, 8, b"p"));
        let mut buf = [0u8; 4];
        assert_eq!(s.recv_echo_reply(&mut buf), Ok(EchoReply { src: PEER, seq_no: 7, len: 4 }));
        assert_eq!(&buf, b"pong");
        assert_eq!(s.recv_echo_reply(&mut buf), Err(IcmpError::Exhausted));
        assert_eq!(s.stats(), IcmpSocketStats { requests_sent: 1, replies_received: 1, dropped_rx_full: 1 });
    }
}
