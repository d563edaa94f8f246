//! HTTP/1.1 on one listener: each listener socket has an `HttpConnection`
//! beside it (same index). Past the connection limit, a new client gets a
//! 503 and the connection is closed.
//!
//! A round has three phases so that rendering `/stats` can read every
//! socket: [`receive`](HttpService::receive) (sockets borrowed mutably),
//! [`respond`](HttpService::respond) (only the connections; the stats view
//! borrows the sockets), [`transmit`](HttpService::transmit).
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
    /// Connections served at once; the rest of the pool answers 503.
    limit: usize,
    pub accepted: u64,
    pub rejected_busy: u64,
}

impl<'a> HttpService<'a> {
    /// `connections` has one entry per listener socket; `limit` of them
    /// serve at once (the others only send 503). `slots` is as long.
    pub fn new(connections: &'a mut [HttpConnection<'a>], slots: &'a mut [Slot], limit: usize) -> HttpService<'a> {
        HttpService { connections, slots, limit, accepted: 0, rejected_busy: 0 }
    }

    fn serving(&self) -> usize {
        self.slots.iter().filter(|s| matches!(s, Slot::Serving(_))).count()
    }

    /// Accepts new clients and moves received bytes into their connections.
    pub fn receive(&mut self, now: Instant, listener: &mut TcpListener) -> bool {
        let mut progress = false;
        while let Some(i) = listener.accept() {
            progress = true;
            self.accepted += 1;
            let busy = self.serving() >= self.limit;
            let Some(socket) = listener.socket(i) else { continue };
            match self.slots.get_mut(i) {
                None => {
                    socket.abort();
                    listener.release(i);
                }
                Some(slot) if busy => {
                    self.rejected_busy += 1;
                    let _ = socket.send_slice(http::service_unavailable());
                    socket.close();
                    *slot = Slot::Closing;
                }
                Some(slot) => {
                    self.connections[i].reset(now);
                    *slot = Slot::Serving(Action::Continue);
                }
            }
        }
        for (i, slot) in self.slots.iter().enumerate() {
            if !matches!(slot, Slot::Serving(_)) {
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
        for (conn, slot) in self.connections.iter_mut().zip(self.slots.iter_mut()) {
            if let Slot::Serving(action) = slot {
                *action = conn.poll(now, stats);
            }
        }
    }

    /// Sends rendered output, closes where asked, frees finished sockets.
    pub fn transmit(&mut self, listener: &mut TcpListener) -> bool {
        let mut progress = false;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let Some(socket) = listener.socket(i) else { continue };
            if let Slot::Serving(action) = *slot {
                let conn = &mut self.connections[i];
                if !conn.output().is_empty() {
                    if let Ok(n) = socket.send_slice(conn.output()) {
                        conn.output_consumed(n);
                        progress |= n > 0;
                    }
                }
                match action {
                    Action::Close => {
                        socket.close();
                        *slot = Slot::Closing;
                        progress = true;
                    }
                    Action::Abort => {
                        socket.abort();
                        *slot = Slot::Closing;
                        progress = true;
                    }
                    Action::Continue | Action::CloseAfterFlush => {}
                }
            }
            if *slot != Slot::Free && matches!(socket.state(), State::Closed | State::TimeWait) {
                listener.release(i);
                *slot = Slot::Free;
            }
        }
        progress
    }

    /// The earliest HTTP timer (request, idle, send timeouts).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.connections
            .iter()
            .zip(self.slots.iter())
            .filter(|(_, s)| matches!(s, Slot::Serving(_)))
            .filter_map(|(c, _)| c.next_deadline())
            .min()
    }

    /// Connections being served now.
    pub fn active(&self) -> usize {
        self.serving()
    }
}
