//! TCP echo (RFC 862) for many clients through one listener. Back-pressure
//! instead of loss: a connection reads only as much as it can send back, so
//! a client that stops reading fills its own window and stalls.
use super::slot_mask::SlotMask;
use crate::apps::echo::{self, EchoSocket};
use net::socket::tcp::{State, TcpListener, TcpSocket};

impl EchoSocket for TcpSocket<'_> {
    fn received(&self) -> usize {
        self.recv_queue()
    }
    fn send_free(&self) -> usize {
        self.send_capacity() - self.send_queue()
    }
    fn read(&mut self, buf: &mut [u8]) -> usize {
        self.recv_slice(buf).unwrap_or(0)
    }
    fn write(&mut self, data: &[u8]) -> usize {
        self.send_slice(data).unwrap_or(0)
    }
}

/// Which listener sockets carry an echo connection.
#[derive(Debug, Default)]
pub struct TcpEcho {
    live: SlotMask,
    /// Bytes echoed since boot.
    pub bytes: u64,
    pub connections: u64,
}

impl TcpEcho {
    /// Takes new connections, echoes what arrived, closes after the peer
    /// closed and everything was sent back, frees finished sockets.
    /// Returns whether anything moved.
    pub fn serve(&mut self, listener: &mut TcpListener, scratch: &mut [u8]) -> bool {
        let mut progress = false;
        while let Some(i) = listener.accept() {
            if i < super::slot_mask::CAPACITY {
                self.live.insert(i);
            } else {
                listener.release(i);
            }
            self.connections += 1;
            progress = true;
        }
        for i in self.live.iter() {
            let Some(socket) = listener.socket(i) else { continue };
            loop {
                let n = echo::pump(socket, scratch);
                if n == 0 {
                    break;
                }
                self.bytes += n as u64;
                progress = true;
            }
            if !socket.may_recv() && socket.recv_queue() == 0 && socket.may_send() {
                socket.close();
                progress = true;
            }
            if matches!(socket.state(), State::Closed | State::TimeWait) {
                listener.release(i);
                self.live.remove(i);
            }
        }
        progress
    }
}
