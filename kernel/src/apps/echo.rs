//! The echo service (RFC 862): every byte received is sent back.
//!
//! TCP: back-pressure instead of loss. [`pump`] reads from the socket only
//! as many bytes as it can write back right now, so when a client stops
//! reading, our send buffer fills, we stop reading, our receive window
//! closes, and the client's own sender stalls. Nothing is buffered here
//! beyond one scratch slice the caller owns.
//!
//! UDP: [`udp_reply_to`] says where (and whether) to send a datagram back;
//! the payload of the reply is the payload received.
//!
//! The glue implements [`EchoSocket`] for `net`'s `TcpSocket` (four
//! one-line methods) and calls, for each connection:
//!
//! ```text
//! let mut scratch = [0u8; 2048];
//! while echo::pump(&mut sock, &mut scratch) > 0 {}
//! if !sock.may_recv() && sock.send_queue() == 0 { sock.close(); }
//! ```

use net::wire::{IpAddress, IpEndpoint};

/// Bytes to move in one step: what was received, capped by the free send
/// space and the scratch space the bytes pass through.
pub fn budget(received: usize, send_free: usize, scratch: usize) -> usize {
    received.min(send_free).min(scratch)
}

/// What the echo service needs from a TCP socket.
pub trait EchoSocket {
    /// Received bytes not yet read (`recv_queue()`).
    fn received(&self) -> usize;
    /// Free send buffer space (`send_capacity() - send_queue()`).
    fn send_free(&self) -> usize;
    /// Reads up to `buf.len()` bytes (`recv_slice`, 0 on error).
    fn read(&mut self, buf: &mut [u8]) -> usize;
    /// Queues `data` (`send_slice`, 0 on error); returns the count.
    fn write(&mut self, data: &[u8]) -> usize;
}

/// One echo step: reads at most as many bytes as the socket can take back
/// right now (and as fit in `scratch`) and writes them back. Returns the
/// number of bytes echoed; call again while it is not 0.
///
/// If `write` took fewer bytes than `send_free` promised, the rest would be
/// lost: that is a broken socket, flagged by `debug_assert` in tests.
pub fn pump(sock: &mut impl EchoSocket, scratch: &mut [u8]) -> usize {
    let n = budget(sock.received(), sock.send_free(), scratch.len());
    if n == 0 {
        return 0;
    }
    let got = sock.read(&mut scratch[..n]).min(n);
    if got == 0 {
        return 0;
    }
    let sent = sock.write(&scratch[..got]).min(got);
    debug_assert_eq!(sent, got, "the send buffer took fewer bytes than it had room for");
    sent
}

/// Source ports of services that answer every datagram (echo, daytime,
/// quote of the day, chargen, time) and port 0: replying to them could
/// start an endless exchange between two such servers.
const LOOPING_PORTS: [u16; 6] = [0, 7, 13, 17, 19, 37];

/// Where the reply to a UDP datagram from `source` goes, or `None` when it
/// must not be answered: from a looping service port, or from an address
/// that cannot be a unicast sender (unspecified, multicast, broadcast).
pub fn udp_reply_to(source: IpEndpoint) -> Option<IpEndpoint> {
    if LOOPING_PORTS.contains(&source.port) {
        return None;
    }
    let unicast = match source.addr {
        IpAddress::V4(a) => !a.is_unspecified() && !a.is_multicast() && !a.is_broadcast(),
        IpAddress::V6(a) => !a.is_unspecified() && !a.is_multicast(),
    };
    unicast.then_some(source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use net::wire::{Ipv4Address, Ipv6Address};
    use std::vec::Vec;

    #[test]
    fn budget_is_the_smallest_of_the_three() {
        assert_eq!(budget(1000, 300, 2048), 300);
        assert_eq!(budget(100, 300, 2048), 100);
        assert_eq!(budget(5000, 4000, 2048), 2048);
        assert_eq!(budget(0, 4000, 2048), 0);
        assert_eq!(budget(10, 0, 2048), 0);
    }

    /// A socket model: a receive queue and a bounded send queue.
    struct FakeSocket {
        rx: Vec<u8>,
        tx: Vec<u8>,
        tx_capacity: usize,
    }

    impl EchoSocket for FakeSocket {
        fn received(&self) -> usize {
            self.rx.len()
        }
        fn send_free(&self) -> usize {
            self.tx_capacity - self.tx.len()
        }
        fn read(&mut self, buf: &mut [u8]) -> usize {
            let n = buf.len().min(self.rx.len());
            buf[..n].copy_from_slice(&self.rx[..n]);
            self.rx.drain(..n);
            n
        }
        fn write(&mut self, data: &[u8]) -> usize {
            self.tx.extend_from_slice(data);
            data.len()
        }
    }

    impl FakeSocket {
        fn step(&mut self, scratch: &mut [u8]) -> usize {
            pump(self, scratch)
        }
    }

    #[test]
    fn a_client_that_does_not_read_stalls_without_loss() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut sock = FakeSocket { rx: data.clone(), tx: Vec::new(), tx_capacity: 4096 };
        let mut scratch = [0u8; 1500];
        assert_eq!(sock.step(&mut scratch), 1500);
        assert_eq!(sock.step(&mut scratch), 1500);
        assert_eq!(sock.step(&mut scratch), 1096);
        // Send buffer full: nothing more is read, the rest waits in rx.
        assert_eq!(sock.step(&mut scratch), 0);
        assert_eq!(sock.tx.len(), 4096);
        assert_eq!(sock.rx.len(), 10_000 - 4096);
        assert_eq!(sock.tx[..], data[..4096]);
        // The client reads 1000 bytes: exactly that much more is echoed.
        let mut echoed: Vec<u8> = sock.tx.drain(..1000).collect();
        assert_eq!(sock.step(&mut scratch), 1000);
        assert_eq!(sock.step(&mut scratch), 0);
        // Drain everything: the full stream comes back in order.
        loop {
            echoed.append(&mut sock.tx);
            if sock.step(&mut scratch) == 0 && sock.tx.is_empty() {
                break;
            }
        }
        assert_eq!(echoed, data);
        assert!(sock.rx.is_empty());
    }

    #[test]
    fn nothing_received_reads_nothing() {
        /// Panics if read or written.
        struct Untouchable(usize, usize);
        impl EchoSocket for Untouchable {
            fn received(&self) -> usize {
                self.0
            }
            fn send_free(&self) -> usize {
                self.1
            }
            fn read(&mut self, _: &mut [u8]) -> usize {
                panic!("read")
            }
            fn write(&mut self, _: &[u8]) -> usize {
                panic!("write")
            }
        }
        let mut scratch = [0u8; 16];
        assert_eq!(pump(&mut Untouchable(0, 100), &mut scratch), 0);
        assert_eq!(pump(&mut Untouchable(100, 0), &mut scratch), 0);
        assert_eq!(pump(&mut Untouchable(100, 100), &mut []), 0);
    }

    #[test]
    fn udp_reply_goes_back_to_the_sender() {
        let client = IpEndpoint::new(Ipv4Address::new(10, 0, 2, 2).into(), 40000);
        assert_eq!(udp_reply_to(client), Some(client));
        let v6 = IpEndpoint::new(Ipv6Address([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).into(), 5555);
        assert_eq!(udp_reply_to(v6), Some(v6));
    }

    #[test]
    fn udp_never_answers_looping_ports_or_non_unicast_senders() {
        let addr: IpAddress = Ipv4Address::new(10, 0, 2, 2).into();
        for port in [0, 7, 13, 17, 19, 37] {
            assert_eq!(udp_reply_to(IpEndpoint::new(addr, port)), None, "port {port}");
        }
        for bad in [Ipv4Address::UNSPECIFIED, Ipv4Address::BROADCAST, Ipv4Address::new(224, 0, 0, 1)] {
            assert_eq!(udp_reply_to(IpEndpoint::new(bad.into(), 40000)), None, "{bad}");
        }
        let mut mcast = [0u8; 16];
        mcast[0] = 0xff;
        mcast[15] = 1;
        assert_eq!(udp_reply_to(IpEndpoint::new(Ipv6Address(mcast).into(), 40000)), None);
        assert_eq!(udp_reply_to(IpEndpoint::new(Ipv6Address::UNSPECIFIED.into(), 40000)), None);
    }
}
