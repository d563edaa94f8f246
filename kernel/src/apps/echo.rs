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

use net::wire::{IpAddress, IpEndpoint};

/// Bytes to move in one step: what was received, capped by the free send
/// space and the scratch space the bytes pass through.
pub fn budget(received: usize, send_free: usize, scratch: usize) -> usize {
    received.min(send_free).min(scratch)
}

/// One echo step over a TCP connection, given closures onto the socket:
/// `read` fills at most the slice it is given and returns the count;
/// `write` queues bytes and returns how many it took. Returns the number
/// of bytes echoed.
///
/// `send_free` is the socket's free send space (`send_capacity() -
/// send_queue()`), `received` its queued receive bytes (`recv_queue()`).
/// Because `read` is never offered more than `write` can take, `write`
/// accepting fewer bytes than promised is a broken promise by the socket;
/// in that case the return value says what was really echoed and the
/// remainder is lost, which `debug_assert` flags in tests.
pub fn pump(
    received: usize,
    send_free: usize,
    scratch: &mut [u8],
    read: impl FnOnce(&mut [u8]) -> usize,
    write: impl FnOnce(&[u8]) -> usize,
) -> usize {
    let n = budget(received, send_free, scratch.len());
    if n == 0 {
        return 0;
    }
    let got = read(&mut scratch[..n]).min(n);
    if got == 0 {
        return 0;
    }
    let sent = write(&scratch[..got]).min(got);
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

    impl FakeSocket {
        fn step(&mut self, scratch: &mut [u8]) -> usize {
            let received = self.rx.len();
            let free = self.tx_capacity - self.tx.len();
            let rx = &mut self.rx;
            let tx = &mut self.tx;
            pump(
                received,
                free,
                scratch,
                |buf| {
                    let n = buf.len().min(rx.len());
                    buf[..n].copy_from_slice(&rx[..n]);
                    rx.drain(..n);
                    n
                },
                |data| {
                    tx.extend_from_slice(data);
                    data.len()
                },
            )
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
        let mut scratch = [0u8; 16];
        let n = pump(0, 100, &mut scratch, |_| panic!("read without data"), |_| panic!("write without data"));
        assert_eq!(n, 0);
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
