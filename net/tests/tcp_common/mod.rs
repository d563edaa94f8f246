//! Shared helpers for the TCP interface tests: sockets over leaked
//! buffers, a seeded byte stream to check transfers against, and frame
//! builders and parsers for TCP segments.
#![allow(dead_code)]

use net::socket::tcp::{TcpConfig, TcpSocket};
use net::socket::{SocketSet, SocketStorage};
use net::storage::RingBuffer;
use net::wire::tcp::{Packet as TcpPacket, Repr as TcpRepr};
use net::wire::{IpAddress, Ipv4Address};

/// A closed socket over leaked buffers of the given sizes.
pub fn tcp_socket(rx: usize, tx: usize, config: TcpConfig) -> TcpSocket<'static> {
    TcpSocket::new(RingBuffer::new(vec![0u8; rx].leak()), RingBuffer::new(vec![0u8; tx].leak()), config)
}

/// A socket set with `n` slots.
pub fn socket_set_of(n: usize) -> SocketSet<'static> {
    let storage: &'static mut [SocketStorage<'static>] = Vec::from_iter((0..n).map(|_| SocketStorage::EMPTY)).leak();
    SocketSet::new(storage)
}

/// A reproducible byte stream: byte `i` of stream `seed`.
#[derive(Debug, Clone)]
pub struct Stream {
    state: u64,
    buf: [u8; 8],
    used: usize,
}

impl Stream {
    pub fn new(seed: u64) -> Stream {
        Stream { state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1, buf: [0; 8], used: 8 }
    }

    pub fn next_byte(&mut self) -> u8 {
        if self.used == 8 {
            // xorshift64*
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            self.buf = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            self.used = 0;
        }
        let b = self.buf[self.used];
        self.used += 1;
        b
    }

    pub fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            *b = self.next_byte();
        }
    }
}

/// The sending and receiving ends of one direction of a transfer: bytes
/// are generated, sent, received and checked against the same stream.
#[derive(Debug)]
pub struct Transfer {
    pub total: usize,
    pub sent: usize,
    pub received: usize,
    tx: Stream,
    rx: Stream,
    seed: u64,
}

impl Transfer {
    pub fn new(seed: u64, total: usize) -> Transfer {
        Transfer { total, sent: 0, received: 0, tx: Stream::new(seed), rx: Stream::new(seed), seed }
    }

    /// Queues as much as fits in the socket.
    pub fn push(&mut self, socket: &mut TcpSocket) {
        while self.sent < self.total && socket.can_send() {
            let want = self.total - self.sent;
            let tx = &mut self.tx;
            let n = socket
                .send(|buf| {
                    let n = buf.len().min(want);
                    tx.fill(&mut buf[..n]);
                    (n, n)
                })
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            self.sent += n;
        }
    }

    /// Reads what arrived and checks every byte.
    pub fn pull(&mut self, socket: &mut TcpSocket) {
        while socket.can_recv() {
            let rx = &mut self.rx;
            let seed = self.seed;
            let at = self.received;
            let n = socket
                .recv(|buf| {
                    for (i, &b) in buf.iter().enumerate() {
                        let want = rx.next_byte();
                        assert_eq!(b, want, "stream {seed:#x}: byte {} differs", at + i);
                    }
                    (buf.len(), buf.len())
                })
                .unwrap_or(0);
            if n == 0 {
                break;
            }
            self.received += n;
        }
        assert!(self.received <= self.total, "stream {:#x}: more bytes than sent", self.seed);
    }

    pub fn all_sent(&self) -> bool {
        self.sent == self.total
    }

    pub fn done(&self) -> bool {
        self.received == self.total
    }
}

/// A TCP segment's bytes, checksum filled.
pub fn tcp_bytes(src: Ipv4Address, dst: Ipv4Address, repr: &TcpRepr, payload: &[u8]) -> Vec<u8> {
    let repr = TcpRepr { payload_len: payload.len(), ..*repr };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut TcpPacket::new_unchecked(&mut b[..]), &IpAddress::V4(src), &IpAddress::V4(dst), payload, true);
    b
}

/// A TCP segment's header (checksum verified) and payload.
pub fn parse_tcp(src: Ipv4Address, dst: Ipv4Address, bytes: &[u8]) -> (TcpRepr, Vec<u8>) {
    let packet = TcpPacket::new_checked(bytes).expect("tcp header");
    let repr = TcpRepr::parse(&packet, &IpAddress::V4(src), &IpAddress::V4(dst), true).expect("valid tcp segment");
    (repr, packet.payload().to_vec())
}
