//! HTTP/1.1 on one listener: each listener socket has an `HttpConnection`
//! beside it (same index). Past the connection limit, a new client gets a
//! 503 and the connection is closed.
//!
//! A round has three phases so that rendering `/stats` can read every
//! socket: [`receive`](HttpService::receive) (sockets borrowed mutably),
//! [`respond`](HttpService::respond) (only the connections; the stats view
//! borrows the sockets), [`transmit`](HttpService::transmit). Each phase
//! visits only the slots in use.
use super::slot_mask::{SlotMask, CAPACITY};
use crate::apps::http::{self, Action, HttpConnection};
use crate::apps::stats::StatsSource;
use net::socket::tcp::{State, TcpListener};
use net::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Free,
    /// Serving requests; holds the action the last `respond` returned.
    Serving(Action),
    /// Sent a 503, or closed: waiting for the socket to finish.
    Closing,
}

pub struct HttpService<'a> {
    connections: &'a mut [HttpConnection<'a>],
    slots: &'a mut [Slot],
    /// Slots that are not `Free`.
    in_use: SlotMask,
    serving: usize,
    /// Connections served at once; the rest of the pool answers 503.
    limit: usize,
    pub accepted: u64,
    pub rejected_busy: u64,
}

impl<'a> HttpService<'a> {
    /// One connection state and one slot per listener socket (the first
    /// [`CAPACITY`] are used); `limit` of them serve at once, the others
    /// only send 503.
    pub fn new(connections: &'a mut [HttpConnection<'a>], slots: &'a mut [Slot], limit: usize) -> HttpService<'a> {
        let n = connections.len().min(slots.len()).min(CAPACITY);
        let (connections, _) = connections.split_at_mut(n);
        let (slots, _) = slots.split_at_mut(n);
        HttpService {
            connections,
            slots,
            in_use: SlotMask::default(),
            serving: 0,
            limit,
            accepted: 0,
            rejected_busy: 0,
        }
    }

    fn set(&mut self, i: usize, slot: Slot) {
        let was_serving = matches!(self.slots[i], Slot::Serving(_));
        let is_serving = matches!(slot, Slot::Serving(_));
        self.serving = self.serving + is_serving as usize - was_serving as usize;
        self.slots[i] = slot;
        if slot == Slot::Free {
            self.in_use.remove(i);
        } else {
            self.in_use.insert(i);
        }
    }

    /// Accepts new clients and moves received bytes into their connections.
    pub fn receive(&mut self, now: Instant, listener: &mut TcpListener) -> bool {
        let mut progress = false;
        while let Some(i) = listener.accept() {
            progress = true;
            self.accepted += 1;
            let Some(socket) = listener.socket(i) else { continue };
            if i >= self.slots.len() {
                socket.abort();
                listener.release(i);
            } else if self.serving >= self.limit {
                self.rejected_busy += 1;
                let _ = socket.send_slice(http::service_unavailable());
                socket.close();
                self.set(i, Slot::Closing);
            } else {
                self.connections[i].reset(now);
                self.set(i, Slot::Serving(Action::Continue));
            }
        }
        for i in self.in_use.iter() {
            if !matches!(self.slots[i], Slot::Serving(_)) {
                continue;
            }
            let (Some(socket), conn) = (listener.socket(i), &mut self.connections[i]) else { continue };
            if let Ok(n) = socket.recv_slice(conn.input_space()) {
                conn.input_written(n);
                progress |= n > 0;
            }
            if !socket.may_recv() {
                conn.peer_closed();
            }
        }
        progress
    }

    /// Parses requests and renders responses into each connection's output.
    pub fn respond(&mut self, now: Instant, stats: &dyn StatsSource) {
        for i in self.in_use.iter() {
            if let Slot::Serving(action) = &mut self.slots[i] {
                *action = self.connections[i].poll(now, stats);
            }
        }
    }

    /// Sends rendered output, closes where asked, frees finished sockets.
    pub fn transmit(&mut self, listener: &mut TcpListener) -> bool {
        let mut progress = false;
        for i in self.in_use.iter() {
            let Some(socket) = listener.socket(i) else { continue };
            if let Slot::Serving(action) = self.slots[i] {
                let conn = &mut self.connections[i];
                if !conn.output().is_empty() {
                    if let Ok(n) = socket.send_slice(conn.output()) {
                        conn.output_consumed(n);
                        progress |= n > 0;
                    }
                }
                match action {
                    // With the whole response in the socket, close now: the
                    // FIN then leaves in the response's last segment (one
                    // frame less, and the client closes second, so its side
                    // keeps no TIME-WAIT).
                    Action::Close | Action::CloseAfterFlush if action == Action::Close || conn.output().is_empty() => {
                        socket.close();
                        self.set(i, Slot::Closing);
                        progress = true;
                    }
                    Action::Abort => {
                        socket.abort();
                        self.set(i, Slot::Closing);
                        progress = true;
                    }
                    Action::Close | Action::Continue | Action::CloseAfterFlush => {}
                }
            }
            let Some(socket) = listener.socket(i) else { continue };
            if matches!(socket.state(), State::Closed | State::TimeWait) {
                listener.release(i);
                self.set(i, Slot::Free);
            }
        }
        progress
    }

    /// The earliest HTTP timer (request, idle, send timeouts).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.in_use
            .iter()
            .filter(|i| matches!(self.slots[*i], Slot::Serving(_)))
            .filter_map(|i| self.connections[i].next_deadline())
            .min()
    }

    /// Connections being served now.
    pub fn active(&self) -> usize {
        self.serving
    }
}
