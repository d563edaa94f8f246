//! A device whose Ethernet frames travel as UDP datagrams, one frame per
//! datagram, to and from one peer address.
//!
//! This is the wire format of QEMU's `-netdev dgram` backend with
//! `local.type=inet` and `remote.type=inet`: a host program holding a
//! [`UdpLink`] bound to QEMU's remote address, with QEMU's local address as
//! its peer, sits on the guest's wire (see `qemu/README.md`).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;
use std::vec::Vec;

use super::{Device, DeviceCapabilities, RxToken, TxToken};
use crate::time::Instant;

/// The largest UDP payload over IPv4: any datagram fits the receive buffer
/// whole, so no frame is ever silently cut.
const MAX_DATAGRAM: usize = 65507;

/// What a [`UdpLink`] saw besides frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UdpLinkCounters {
    pub rx_frames: u64,
    pub tx_frames: u64,
    /// Datagrams from an address other than the peer (ignored).
    pub rx_foreign: u64,
    /// Sends that failed (e.g. the peer is not listening yet); the frame
    /// is lost, as on a wire.
    pub tx_errors: u64,
}

/// A frame link over a non-blocking UDP socket.
#[derive(Debug)]
pub struct UdpLink {
    socket: UdpSocket,
    peer: SocketAddr,
    rx_buf: Vec<u8>,
    rx_len: usize,
    tx_buf: Vec<u8>,
    caps: DeviceCapabilities,
    counters: UdpLinkCounters,
}

impl UdpLink {
    /// Binds `local` and exchanges frames with `peer`.
    pub fn bind(local: SocketAddr, peer: SocketAddr) -> io::Result<UdpLink> {
        UdpLink::from_socket(UdpSocket::bind(local)?, peer)
    }

    /// Uses an already bound socket (made non-blocking here).
    pub fn from_socket(socket: UdpSocket, peer: SocketAddr) -> io::Result<UdpLink> {
        socket.set_nonblocking(true)?;
        Ok(UdpLink {
            socket,
            peer,
            rx_buf: std::vec![0; MAX_DATAGRAM],
            rx_len: 0,
            tx_buf: std::vec![0; MAX_DATAGRAM],
            caps: DeviceCapabilities::ethernet(),
            counters: UdpLinkCounters::default(),
        })
    }

    /// Sets the IP MTU reported in the capabilities (default 1500).
    pub fn set_ip_mtu(&mut self, ip_mtu: usize) {
        self.caps.ip_mtu = ip_mtu;
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    pub fn counters(&self) -> &UdpLinkCounters {
        &self.counters
    }

    /// Blocks until a datagram may be waiting or `timeout` passes.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        super::wait::wait_readable(&[self], timeout)
    }

    /// Reads the next datagram from the peer into `rx_buf`.
    fn read_frame(&mut self) -> Option<usize> {
        // Bounded so a flood of foreign datagrams cannot stall the caller.
        for _ in 0..64 {
            match self.socket.recv_from(&mut self.rx_buf) {
                Ok((len, from)) if from == self.peer => {
                    self.counters.rx_frames += 1;
                    return Some(len);
                }
                Ok(_) => self.counters.rx_foreign += 1,
                // WouldBlock: nothing waiting. Other errors (e.g. an ICMP
                // port unreachable reported on a later call) lose nothing.
                Err(_) => return None,
            }
        }
        None
    }
}

impl AsRawFd for UdpLink {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

/// A received datagram.
#[derive(Debug)]
pub struct UdpRxToken<'a> {
    frame: &'a [u8],
}

impl RxToken for UdpRxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one datagram to the peer.
#[derive(Debug)]
pub struct UdpTxToken<'a> {
    socket: &'a UdpSocket,
    peer: SocketAddr,
    buf: &'a mut [u8],
    counters: &'a mut UdpLinkCounters,
}

impl TxToken for UdpTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let Some(buf) = self.buf.get_mut(..len) else {
            panic!("transmit of {len} bytes exceeds the largest datagram");
        };
        let result = f(buf);
        match self.socket.send_to(buf, self.peer) {
            Ok(_) => self.counters.tx_frames += 1,
            Err(_) => self.counters.tx_errors += 1,
        }
        result
    }
}

impl Device for UdpLink {
    type RxToken<'a>
        = UdpRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = UdpTxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        self.rx_len = self.read_frame()?;
        Some((
            UdpRxToken { frame: &self.rx_buf[..self.rx_len] },
            UdpTxToken { socket: &self.socket, peer: self.peer, buf: &mut self.tx_buf, counters: &mut self.counters },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        Some(UdpTxToken { socket: &self.socket, peer: self.peer, buf: &mut self.tx_buf, counters: &mut self.counters })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Option<Duration> = Some(Duration::from_secs(5));

    fn pair() -> (UdpLink, UdpLink) {
        let sa = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sb = UdpSocket::bind("127.0.0.1:0").unwrap();
        let (aa, ab) = (sa.local_addr().unwrap(), sb.local_addr().unwrap());
        (UdpLink::from_socket(sa, ab).unwrap(), UdpLink::from_socket(sb, aa).unwrap())
    }

    fn send(dev: &mut UdpLink, frame: &[u8]) {
        let tx = dev.transmit(Instant::ZERO).unwrap();
        tx.consume(frame.len(), |buf| buf.copy_from_slice(frame));
    }

    fn recv(dev: &mut UdpLink) -> Option<Vec<u8>> {
        // Loopback delivery is immediate, but wait (bounded) to be sure.
        dev.wait(LIMIT).unwrap();
        let (rx, _) = dev.receive(Instant::ZERO)?;
        Some(rx.consume(|f| f.to_vec()))
    }

    #[test]
    fn frames_cross_both_ways() {
        let (mut a, mut b) = pair();
        assert!(a.receive(Instant::ZERO).is_none());
        let frame: Vec<u8> = (0..1514).map(|i| i as u8).collect();
        send(&mut a, &frame);
        assert_eq!(recv(&mut b), Some(frame));
        send(&mut b, &[1, 2, 3]);
        assert_eq!(recv(&mut a), Some(std::vec![1, 2, 3]));
        assert_eq!(a.counters().tx_frames, 1);
        assert_eq!(a.counters().rx_frames, 1);
    }

    #[test]
    fn reply_token_goes_to_peer() {
        let (mut a, mut b) = pair();
        send(&mut a, &[7]);
        b.wait(LIMIT).unwrap();
        let (rx, tx) = b.receive(Instant::ZERO).unwrap();
        let v = rx.consume(|f| f[0]);
        tx.consume(1, |buf| buf[0] = v + 1);
        assert_eq!(recv(&mut a), Some(std::vec![8]));
    }

    #[test]
    fn foreign_datagrams_are_ignored() {
        let (mut a, mut b) = pair();
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        stranger.send_to(b"not from the peer", b.local_addr().unwrap()).unwrap();
        send(&mut a, &[5, 5]);
        // Both datagrams are queued in order: the stranger's is skipped.
        b.wait(LIMIT).unwrap();
        let mut got = None;
        for _ in 0..100 {
            if let Some((rx, _)) = b.receive(Instant::ZERO) {
                got = Some(rx.consume(|f| f.to_vec()));
                break;
            }
            b.wait(LIMIT).unwrap();
        }
        assert_eq!(got, Some(std::vec![5, 5]));
        assert_eq!(b.counters().rx_foreign, 1);
    }
}
