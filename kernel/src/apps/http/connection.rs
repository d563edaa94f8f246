//! One HTTP/1.1 server connection as a sans-IO state machine.
//!
//! The event loop owns the socket; this machine owns two caller-provided
//! buffers: *input* (bytes received, not yet parsed: [`INPUT_CAPACITY`] is
//! the intended size and bounds the request head) and *output* (the
//! response being sent: [`OUTPUT_CAPACITY`] bounds one response).
//!
//! ```text
//!   socket --recv--> input_space()/input_written() --poll()--> output() --send--> socket
//!                                                              output_consumed()
//! ```
//!
//! Requests are answered one at a time and in order. A response is built
//! only when the output is empty, so while one is waiting to be sent the
//! input fills, the loop stops reading, and TCP's window pushes back on a
//! pipelining client.
//!
//! Timeouts (checked by [`poll`](HttpConnection::poll), announced by
//! [`next_deadline`](HttpConnection::next_deadline)):
//! - [`REQUEST_TIMEOUT`] from the first byte of a request (or from when the
//!   previous response left, for pipelined bytes) until its head and body
//!   are in: `408` and close.
//! - [`IDLE_TIMEOUT`] without a byte in either direction between requests:
//!   close silently.
//! - [`SEND_TIMEOUT`] with a response pending and no byte of it taken by
//!   the socket: abort (the client is not reading).
//!
//! A request body (only GET and HEAD are served, so it has no use) of up
//! to [`MAX_DISCARDED_BODY`] bytes is read and thrown away; a longer one
//! gets `413` and a close. After any error response but `404` the
//! connection closes.

use net::time::{Duration, Instant};

use super::request::{self, check_partial, find_head_end, parse_head, Method, MAX_HEAD};
use super::response::{write_error_body, Response, MAX_HEAD_LEN, TEXT_PLAIN};
use super::routes::Route;
use super::status::Status;
use crate::apps::stats::StatsSource;
use crate::apps::writer::SliceWriter;

/// The input buffer size the limits are designed for: the whole request
/// head (at most [`MAX_HEAD`] bytes) must fit.
pub const INPUT_CAPACITY: usize = MAX_HEAD;
/// The output buffer size: one complete response (head and body); live
/// pages are cut to fit.
pub const OUTPUT_CAPACITY: usize = 32 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest request body read and discarded rather than refused.
pub const MAX_DISCARDED_BODY: u64 = 64 * 1024;

/// What the event loop should do with the socket after [`HttpConnection::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep going: send [`output`](HttpConnection::output) as space allows,
    /// feed what arrives.
    Continue,
    /// Send the rest of the output; the next poll after it is gone says
    /// `Close`. Input is still accepted (and discarded) so the peer's data
    /// does not pile up in the socket.
    CloseAfterFlush,
    /// Close the socket (FIN) now; nothing is left to send.
    Close,
    /// Reset the connection: the peer stopped taking our data.
    Abort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for, or parsing, a request head.
    Reading,
    /// Throwing away the body of the request just answered.
    DiscardingBody { remaining: u64 },
    /// The last response is queued; input is discarded.
    Closing,
    Closed,
    Aborted,
}

/// One connection's HTTP state; see the module docs.
#[derive(Debug)]
pub struct HttpConnection<'a> {
    input: &'a mut [u8],
    input_len: usize,
    /// Where [`find_head_end`] resumes within the input.
    head_scan: usize,
    output: &'a mut [u8],
    output_start: usize,
    output_end: usize,
    phase: Phase,
    /// When the current request began (set while one is incomplete).
    request_started: Option<Instant>,
    /// The last byte in either direction.
    last_activity: Instant,
    /// When the pending response was queued or last had bytes taken.
    last_send_progress: Instant,
    /// Set by `input_written`/`output_consumed`, turned into times by `poll`.
    received: bool,
    sent: bool,
    peer_closed: bool,
    responses: u64,
}

impl<'a> HttpConnection<'a> {
    /// A connection accepted at `now`. `input` should hold
    /// [`INPUT_CAPACITY`] bytes and `output` [`OUTPUT_CAPACITY`]; smaller
    /// buffers work but lower the limits (a response that does not fit
    /// aborts the connection).
    pub fn new(input: &'a mut [u8], output: &'a mut [u8], now: Instant) -> HttpConnection<'a> {
        HttpConnection {
            input,
            input_len: 0,
            head_scan: 0,
            output,
            output_start: 0,
            output_end: 0,
            phase: Phase::Reading,
            request_started: None,
            last_activity: now,
            last_send_progress: now,
            received: false,
            sent: false,
            peer_closed: false,
            responses: 0,
        }
    }

    /// Starts over for a new connection accepted at `now`, keeping the buffers.
    pub fn reset(&mut self, now: Instant) {
        *self = HttpConnection::new(core::mem::take(&mut self.input), core::mem::take(&mut self.output), now);
    }

    /// Free input space: copy received bytes to its start, then call
    /// [`input_written`](Self::input_written). Empty when the input is full
    /// (stop reading the socket until a poll frees some).
    pub fn input_space(&mut self) -> &mut [u8] {
        &mut self.input[self.input_len..]
    }

    /// `n` bytes were copied into [`input_space`](Self::input_space).
    pub fn input_written(&mut self, n: usize) {
        let n = n.min(self.input.len() - self.input_len);
        self.input_len += n;
        self.received |= n > 0;
    }

    /// Copies as much of `bytes` as fits into the input; returns the count.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        let space = self.input_space();
        let n = bytes.len().min(space.len());
        space[..n].copy_from_slice(&bytes[..n]);
        self.input_written(n);
        n
    }

    /// The peer closed its sending side (the socket says it may not receive
    /// any more): requests already in are answered, then the connection
    /// closes.
    pub fn peer_closed(&mut self) {
        self.peer_closed = true;
    }

    /// Bytes waiting to be sent.
    pub fn output(&self) -> &[u8] {
        &self.output[self.output_start..self.output_end]
    }

    /// The socket took the first `n` bytes of [`output`](Self::output).
    pub fn output_consumed(&mut self, n: usize) {
        let n = n.min(self.output_end - self.output_start);
        self.output_start += n;
        if self.output_start == self.output_end {
            self.output_start = 0;
            self.output_end = 0;
        }
        self.sent |= n > 0;
    }

    /// No request in progress and nothing to send: a keep-alive connection
    /// the loop could close to make room for a new one.
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Reading && self.input_len == 0 && self.output().is_empty()
    }

    /// Responses queued so far.
    pub fn responses(&self) -> u64 {
        self.responses
    }

    /// Parses what has arrived, queues a response if the output is free,
    /// applies the timeouts, and says what to do with the socket. Call after
    /// new input, after output was consumed, and at
    /// [`next_deadline`](Self::next_deadline).
    pub fn poll(&mut self, now: Instant, source: &dyn StatsSource) -> Action {
        if core::mem::take(&mut self.received) {
            self.last_activity = now;
        }
        if core::mem::take(&mut self.sent) {
            self.last_activity = now;
            self.last_send_progress = now;
        }
        match self.phase {
            Phase::Reading | Phase::DiscardingBody { .. } => self.process(now, source),
            Phase::Closing => self.discard_input(),
            Phase::Closed | Phase::Aborted => {}
        }
        self.check_timers(now, source);
        match self.phase {
            Phase::Reading | Phase::DiscardingBody { .. } => Action::Continue,
            Phase::Closing if self.output().is_empty() => {
                self.phase = Phase::Closed;
                Action::Close
            }
            Phase::Closing => Action::CloseAfterFlush,
            Phase::Closed => Action::Close,
            Phase::Aborted => Action::Abort,
        }
    }

    /// When [`poll`](Self::poll) must next be called if nothing else
    /// happens; `None` once closed.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Closed | Phase::Aborted => None,
            _ if !self.output().is_empty() => Some(self.last_send_progress + SEND_TIMEOUT),
            Phase::Closing => None,
            Phase::Reading | Phase::DiscardingBody { .. } => Some(match self.request_started {
                Some(started) => started + REQUEST_TIMEOUT,
                None => self.last_activity + IDLE_TIMEOUT,
            }),
        }
    }

    fn process(&mut self, now: Instant, source: &dyn StatsSource) {
        loop {
            if let Phase::DiscardingBody { remaining } = self.phase {
                let n = remaining.min(self.input_len as u64);
                self.consume_input(n as usize);
                if remaining > n {
                    self.phase = Phase::DiscardingBody { remaining: remaining - n };
                    if self.peer_closed {
                        self.phase = Phase::Closing;
                    }
                    return;
                }
                self.phase = Phase::Reading;
                self.request_started = None;
            }
            if !self.output().is_empty() {
                return; // back-pressure: one response at a time
            }
            if self.head_scan == 0 {
                // RFC 9112 2.2: empty lines before a request line are ignored.
                let blank = self.input[..self.input_len].iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
                self.consume_input(blank);
            }
            if self.input_len == 0 {
                self.request_started = None;
                if self.peer_closed {
                    self.phase = Phase::Closing;
                }
                return;
            }
            self.request_started.get_or_insert(now);
            let limit = self.input.len().min(MAX_HEAD);
            match find_head_end(&self.input[..self.input_len], &mut self.head_scan) {
                Some(end) if end > limit => return self.fail(Status::HeaderFieldsTooLarge, now, source),
                Some(end) => {
                    let started = self.request_started;
                    let answer = answer(&self.input[..end], self.output, source);
                    self.consume_input(end);
                    self.head_scan = 0;
                    self.request_started = None;
                    let Some(answer) = answer else {
                        self.phase = Phase::Aborted;
                        return;
                    };
                    self.queued(answer.output, now);
                    if !answer.keep_alive {
                        self.phase = Phase::Closing;
                        self.discard_input();
                        return;
                    }
                    if answer.body > 0 {
                        self.phase = Phase::DiscardingBody { remaining: answer.body };
                        // Until the body is in, the request is not complete.
                        self.request_started = started;
                    }
                }
                None => {
                    if let Err(status) = check_partial(&self.input[..self.input_len]) {
                        return self.fail(status, now, source);
                    }
                    if self.input_len >= limit {
                        return self.fail(Status::HeaderFieldsTooLarge, now, source);
                    }
                    if self.peer_closed {
                        // Half a request and no more coming: nothing to answer.
                        self.phase = Phase::Closing;
                        self.discard_input();
                    }
                    return;
                }
            }
        }
    }

    fn check_timers(&mut self, now: Instant, source: &dyn StatsSource) {
        if matches!(self.phase, Phase::Closed | Phase::Aborted) {
            return;
        }
        if !self.output().is_empty() {
            if now >= self.last_send_progress + SEND_TIMEOUT {
                self.phase = Phase::Aborted;
            }
            return;
        }
        match self.phase {
            Phase::Reading | Phase::DiscardingBody { .. } => match self.request_started {
                Some(started) if now >= started + REQUEST_TIMEOUT => self.fail(Status::RequestTimeout, now, source),
                Some(_) => {}
                None if now >= self.last_activity + IDLE_TIMEOUT => self.phase = Phase::Closed,
                None => {}
            },
            Phase::Closing | Phase::Closed | Phase::Aborted => {}
        }
    }

    /// Answers with an error status and closes after it. Only called with
    /// the output empty.
    fn fail(&mut self, status: Status, now: Instant, source: &dyn StatsSource) {
        self.discard_input();
        self.request_started = None;
        let reply = Reply { status, route: None, keep_alive: false, head_only: false };
        match write_response(&reply, self.output, source) {
            Some(range) => {
                self.queued(range, now);
                self.phase = Phase::Closing;
            }
            None => self.phase = Phase::Aborted,
        }
    }

    fn queued(&mut self, (start, end): (usize, usize), now: Instant) {
        self.output_start = start;
        self.output_end = end;
        self.last_send_progress = now;
        self.responses += 1;
    }

    fn consume_input(&mut self, n: usize) {
        let n = n.min(self.input_len);
        self.input.copy_within(n..self.input_len, 0);
        self.input_len -= n;
    }

    fn discard_input(&mut self) {
        self.input_len = 0;
        self.head_scan = 0;
    }
}

/// The response to one complete request head.
struct Answer {
    /// Where the response lies in the output buffer.
    output: (usize, usize),
    keep_alive: bool,
    /// Request body bytes to discard after the head.
    body: u64,
}

/// What to send back.
struct Reply {
    status: Status,
    route: Option<Route>,
    keep_alive: bool,
    head_only: bool,
}

fn answer(head: &[u8], output: &mut [u8], source: &dyn StatsSource) -> Option<Answer> {
    let (reply, body) = match parse_head(head) {
        Err(status) => (Reply { status, route: None, keep_alive: false, head_only: false }, 0),
        Ok(req) => {
            let head_only = req.method == Method::Head;
            let routed = match req.method {
                Method::Other => Err(Status::MethodNotAllowed),
                _ if req.content_length > MAX_DISCARDED_BODY => Err(Status::ContentTooLarge),
                _ => request::path(req.target).map(Route::from_path),
            };
            let reply = match routed {
                Ok(Some(route)) => Reply { status: Status::Ok, route: Some(route), keep_alive: req.keep_alive, head_only },
                Ok(None) => Reply { status: Status::NotFound, route: None, keep_alive: req.keep_alive, head_only },
                Err(status) => Reply { status, route: None, keep_alive: false, head_only },
            };
            (reply, req.content_length)
        }
    };
    let output = write_response(&reply, output, source)?;
    let keep_alive = reply.keep_alive && !reply.status.closes_connection();
    Some(Answer { output, keep_alive, body })
}

/// Writes the response into `output`: the body first, [`MAX_HEAD_LEN`]
/// bytes in, then the head just before it, so no byte of the body is
/// copied twice. Returns the response's range, or `None` if it does not
/// fit even as a 500.
fn write_response(reply: &Reply, output: &mut [u8], source: &dyn StatsSource) -> Option<(usize, usize)> {
    let body_start = MAX_HEAD_LEN.min(output.len());
    let mut status = reply.status;
    let mut keep_alive = reply.keep_alive && !status.closes_connection();
    let (content_type, no_store, body_len) = {
        let mut body = SliceWriter::new(&mut output[body_start..]);
        let rendered = match reply.route {
            Some(route) => route.write_body(source, &mut body).map(|()| (route.content_type(), route.is_live())),
            None => write_error_body(status, &mut body).map(|()| (TEXT_PLAIN, false)),
        };
        match rendered {
            Ok((content_type, no_store)) => (content_type, no_store, body.len()),
            Err(_) => {
                status = Status::InternalServerError;
                keep_alive = false;
                body.rollback(0);
                write_error_body(status, &mut body).ok()?;
                (TEXT_PLAIN, false, body.len())
            }
        }
    };
    let response = Response { status, content_type, content_length: body_len, keep_alive, no_store };
    let mut head = [0u8; MAX_HEAD_LEN];
    let mut w = SliceWriter::new(&mut head);
    response.write_head(&mut w).ok()?;
    let head_len = w.len();
    let start = body_start.checked_sub(head_len)?;
    output[start..body_start].copy_from_slice(w.written());
    let end = if reply.head_only { body_start } else { body_start + body_len };
    Some((start, end))
}
