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
//! connection closes. One empty line before a request is ignored (RFC 9112
//! 2.2); a second one makes the request malformed. Line-ending and field
//! rules are in [`request`].

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
    DiscardingBody {
        remaining: u64,
    },
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
    /// An empty line before the current request was ignored.
    skipped_blank_line: bool,
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
            skipped_blank_line: false,
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
            // The output has gone: due now, the next poll says `Close`.
            Phase::Closing => Some(self.last_send_progress),
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
            if self.head_scan == 0 && !self.skipped_blank_line {
                // RFC 9112 2.2: one empty line before a request line is
                // ignored (some clients send CRLF after a body). Only one,
                // so a stream of them cannot hold the connection forever.
                let input = &self.input[..self.input_len];
                let blank = if input.starts_with(b"\r\n") { 2 } else { usize::from(input.starts_with(b"\n")) };
                self.consume_input(blank);
                self.skipped_blank_line = blank > 0;
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
        self.skipped_blank_line = false;
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
                Ok(Some(route)) => {
                    Reply { status: Status::Ok, route: Some(route), keep_alive: req.keep_alive, head_only }
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::http::routes::HOME_PAGE;
    use crate::apps::stats::fixture::FixedStats;
    use crate::apps::stats::{json, prometheus};
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    const SERVER_LINE: &str = concat!("Server: appliance/", env!("CARGO_PKG_VERSION"), "\r\n");

    /// The exact bytes of a response.
    fn response(
        status: &str,
        content_type: &str,
        body: &str,
        keep_alive: bool,
        extra: &str,
        head_only: bool,
    ) -> String {
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let mut r = std::format!(
            "HTTP/1.1 {status}\r\n{SERVER_LINE}Content-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: {connection}\r\n\r\n",
            body.len()
        );
        if !head_only {
            r.push_str(body);
        }
        r
    }

    fn error(status: &str) -> String {
        let extra = if status.starts_with("405") { "Allow: GET, HEAD\r\n" } else { "" };
        response(status, "text/plain; charset=utf-8", &std::format!("{status}\n"), false, extra, false)
    }

    fn not_found(keep_alive: bool) -> String {
        response("404 Not Found", "text/plain; charset=utf-8", "404 Not Found\n", keep_alive, "", false)
    }

    fn home(keep_alive: bool, head_only: bool) -> String {
        response("200 OK", "text/html; charset=utf-8", HOME_PAGE, keep_alive, "", head_only)
    }

    /// A connection with real-size buffers and a clock.
    struct Client {
        input: Vec<u8>,
        output: Vec<u8>,
    }

    impl Client {
        fn new() -> Client {
            Client { input: vec![0; INPUT_CAPACITY], output: vec![0; OUTPUT_CAPACITY] }
        }
        fn conn(&mut self) -> HttpConnection<'_> {
            HttpConnection::new(&mut self.input, &mut self.output, Instant::ZERO)
        }
    }

    fn stats() -> FixedStats {
        FixedStats::new(2)
    }

    /// Takes everything in the output.
    fn take(conn: &mut HttpConnection) -> String {
        let out = String::from_utf8(conn.output().to_vec()).unwrap();
        conn.output_consumed(out.len());
        out
    }

    /// Sends `bytes`, then polls and drains until nothing more happens;
    /// returns everything sent back and the last action.
    fn exchange(conn: &mut HttpConnection, now: Instant, bytes: &str) -> (String, Action) {
        assert_eq!(conn.feed(bytes.as_bytes()), bytes.len());
        let mut out = String::new();
        loop {
            let action = conn.poll(now, &stats());
            let chunk = take(conn);
            if chunk.is_empty() {
                return (out, action);
            }
            out.push_str(&chunk);
        }
    }

    #[test]
    fn get_home_page() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, action) = exchange(&mut conn, Instant::ZERO, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, home(true, false));
        assert_eq!(action, Action::Continue);
        assert!(conn.is_idle());
        assert_eq!(conn.responses(), 1);
    }

    #[test]
    fn head_sends_the_get_headers_without_a_body() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, _) = exchange(&mut conn, Instant::ZERO, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, home(true, true));
        assert!(out.contains(&std::format!("Content-Length: {}\r\n", HOME_PAGE.len())));
    }

    fn rendered_stats() -> String {
        let mut buf = vec![0u8; 8192];
        let mut w = SliceWriter::new(&mut buf);
        json::render(&stats(), concat!("appliance/", env!("CARGO_PKG_VERSION")), &mut w).unwrap();
        String::from_utf8(w.written().to_vec()).unwrap()
    }

    #[test]
    fn stats_and_metrics() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let live = "Cache-Control: no-store\r\n";
        let (out, _) = exchange(&mut conn, Instant::ZERO, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, response("200 OK", "application/json", &rendered_stats(), true, live, false));
        let (out, _) = exchange(&mut conn, Instant::ZERO, "HEAD /stats?x HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, response("200 OK", "application/json", &rendered_stats(), true, live, true));

        let mut buf = vec![0u8; 16384];
        let mut w = SliceWriter::new(&mut buf);
        prometheus::render(&stats(), crate::VERSION, &mut w).unwrap();
        let metrics = String::from_utf8(w.written().to_vec()).unwrap();
        let (out, _) = exchange(&mut conn, Instant::ZERO, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, response("200 OK", "text/plain; version=0.0.4; charset=utf-8", &metrics, true, live, false));
    }

    #[test]
    fn not_found_keeps_the_connection() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, action) = exchange(&mut conn, Instant::ZERO, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, not_found(true));
        assert_eq!(action, Action::Continue);
        let (out, _) = exchange(&mut conn, Instant::ZERO, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, home(true, false));
    }

    #[test]
    fn http_1_0_closes_unless_asked_to_keep_alive() {
        let mut c = Client::new();
        let mut conn = c.conn();
        conn.feed(b"GET /nope HTTP/1.0\r\n\r\n");
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
        assert_eq!(take(&mut conn), not_found(false));
        assert_eq!(conn.next_deadline(), Some(Instant::ZERO));
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Close);
        assert_eq!(conn.next_deadline(), None);

        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, action) = exchange(&mut conn, Instant::ZERO, "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!((out, action), (not_found(true), Action::Continue));
    }

    #[test]
    fn connection_close_on_1_1() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, action) =
            exchange(&mut conn, Instant::ZERO, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!((out, action), (home(false, false), Action::Close));
    }

    #[test]
    fn pipelined_requests_are_answered_in_order_one_at_a_time() {
        let mut c = Client::new();
        let mut conn = c.conn();
        conn.feed(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Continue);
        // Only the first response is staged; the rest waits.
        assert_eq!(String::from_utf8(conn.output().to_vec()).unwrap(), not_found(true));
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Continue);
        assert_eq!(conn.responses(), 1);
        // Partial sends keep the order.
        conn.output_consumed(10);
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Continue);
        assert_eq!(take(&mut conn), not_found(true)[10..]);
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Continue);
        assert_eq!(take(&mut conn), home(true, true));
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
        assert_eq!(take(&mut conn), not_found(false));
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Close);
    }

    #[test]
    fn a_full_input_stops_reading_until_a_response_leaves() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let request = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        let many = request.repeat(INPUT_CAPACITY / request.len() + 10);
        let taken = conn.feed(many.as_bytes());
        assert_eq!(taken, INPUT_CAPACITY);
        conn.poll(Instant::ZERO, &stats());
        assert_eq!(conn.input_space().len(), request.len());
        let mut answered = 1;
        let mut offset = taken;
        loop {
            assert_eq!(take(&mut conn), not_found(true));
            offset += conn.feed(&many.as_bytes()[offset..]);
            conn.poll(Instant::ZERO, &stats());
            if conn.output().is_empty() {
                break;
            }
            answered += 1;
        }
        assert_eq!(answered, many.len() / request.len());
    }

    #[test]
    fn a_request_trickling_in_byte_by_byte() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let request = b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for (i, &b) in request.iter().enumerate() {
            assert!(conn.output().is_empty(), "answered early at byte {i}");
            conn.feed(&[b]);
            assert_eq!(conn.poll(Instant::from_millis(i as i64), &stats()), Action::Continue);
        }
        assert_eq!(take(&mut conn), home(true, false));
    }

    #[test]
    fn error_statuses_close_the_connection() {
        let cases = [
            ("GARBAGE\r\n\r\n", "400 Bad Request"),
            ("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "400 Bad Request"),
            ("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n", "400 Bad Request"),
            ("GET / HTTP/1.1\r\n\r\n", "400 Bad Request"),
            ("GET * HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request"),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "405 Method Not Allowed"),
            ("DELETE /stats HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed"),
            ("GET / HTTP/2.0\r\n\r\n", "505 HTTP Version Not Supported"),
            ("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n", "413 Content Too Large"),
            ("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "501 Not Implemented"),
        ];
        for (request, status) in cases {
            let mut c = Client::new();
            let mut conn = c.conn();
            conn.feed(request.as_bytes());
            assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush, "{request:?}");
            // Whatever else arrives is ignored.
            conn.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
            assert_eq!(take(&mut conn), error(status), "{request:?}");
            assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Close);
            assert!(conn.output().is_empty());
        }
    }

    #[test]
    fn one_empty_line_before_a_request_is_ignored_not_two() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, _) = exchange(
            &mut conn,
            Instant::ZERO,
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert_eq!(out, not_found(true) + &home(true, false));
        let (out, action) = exchange(&mut conn, Instant::ZERO, "\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((out, action), (error("400 Bad Request"), Action::Close));
    }

    #[test]
    fn junk_is_refused_before_the_buffer_fills() {
        let mut c = Client::new();
        let mut conn = c.conn();
        conn.feed(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
        assert_eq!(take(&mut conn), error("400 Bad Request"));
    }

    #[test]
    fn an_overlong_request_line_gets_414_as_soon_as_it_is_too_long() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let line = std::format!("GET /{}", "a".repeat(2043));
        assert_eq!(line.len(), 2048);
        conn.feed(line.as_bytes());
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Continue);
        conn.feed(b"a");
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
        assert_eq!(take(&mut conn), error("414 URI Too Long"));
    }

    #[test]
    fn an_oversized_header_section_gets_431() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let mut request = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        while request.len() < INPUT_CAPACITY {
            request.push_str("X-Filler: 0123456789012345678901234567890123456789\r\n");
        }
        let n = conn.feed(request.as_bytes());
        assert_eq!(n, INPUT_CAPACITY);
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
        assert_eq!(take(&mut conn), error("431 Request Header Fields Too Large"));

        // Just under the limit is fine.
        let mut c = Client::new();
        let mut conn = c.conn();
        let mut request = String::from("GET / HTTP/1.1\r\nHost: x\r\nX: ");
        request.push_str(&"y".repeat(INPUT_CAPACITY - request.len() - 4));
        request.push_str("\r\n\r\n");
        assert_eq!(request.len(), INPUT_CAPACITY);
        let (out, _) = exchange(&mut conn, Instant::ZERO, &request);
        assert_eq!(out, home(true, false));
    }

    #[test]
    fn a_stalled_request_gets_408_after_the_timeout() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let t0 = Instant::from_secs(100);
        conn.feed(b"GET / HTTP/1.1\r\n");
        assert_eq!(conn.poll(t0, &stats()), Action::Continue);
        assert_eq!(conn.next_deadline(), Some(t0 + REQUEST_TIMEOUT));
        // More bytes do not extend the deadline: it runs from the first.
        conn.feed(b"Host: x\r\n");
        assert_eq!(conn.poll(t0 + Duration::from_secs(9), &stats()), Action::Continue);
        assert_eq!(conn.next_deadline(), Some(t0 + REQUEST_TIMEOUT));
        assert_eq!(conn.poll(t0 + REQUEST_TIMEOUT - Duration::from_micros(1), &stats()), Action::Continue);
        assert_eq!(conn.poll(t0 + REQUEST_TIMEOUT, &stats()), Action::CloseAfterFlush);
        assert_eq!(take(&mut conn), error("408 Request Timeout"));
        assert_eq!(conn.poll(t0 + REQUEST_TIMEOUT, &stats()), Action::Close);
    }

    #[test]
    fn an_idle_keep_alive_connection_closes_silently() {
        let mut c = Client::new();
        let mut conn = c.conn();
        assert_eq!(conn.next_deadline(), Some(Instant::ZERO + IDLE_TIMEOUT));
        let t1 = Instant::from_secs(5);
        exchange(&mut conn, t1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        // The idle clock starts when the response has left.
        assert_eq!(conn.next_deadline(), Some(t1 + IDLE_TIMEOUT));
        assert_eq!(conn.poll(t1 + IDLE_TIMEOUT - Duration::from_micros(1), &stats()), Action::Continue);
        assert_eq!(conn.poll(t1 + IDLE_TIMEOUT, &stats()), Action::Close);
        assert!(conn.output().is_empty());
        assert_eq!(conn.next_deadline(), None);
    }

    #[test]
    fn a_client_that_does_not_read_is_aborted() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let t0 = Instant::from_secs(1);
        conn.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        conn.poll(t0, &stats());
        assert_eq!(conn.next_deadline(), Some(t0 + SEND_TIMEOUT));
        // Progress resets the clock.
        let t1 = t0 + Duration::from_secs(20);
        conn.output_consumed(100);
        assert_eq!(conn.poll(t1, &stats()), Action::Continue);
        assert_eq!(conn.next_deadline(), Some(t1 + SEND_TIMEOUT));
        assert_eq!(conn.poll(t1 + SEND_TIMEOUT, &stats()), Action::Abort);
        assert_eq!(conn.next_deadline(), None);
        assert_eq!(conn.poll(t1 + SEND_TIMEOUT, &stats()), Action::Abort);
    }

    #[test]
    fn a_small_body_is_read_and_discarded() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, action) =
            exchange(&mut conn, Instant::ZERO, "GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
        assert_eq!((out, action), (not_found(true), Action::Continue));
        assert!(!conn.is_idle());
        // The rest of the body and the next request in one chunk.
        let (out, _) = exchange(&mut conn, Instant::ZERO, "cdeGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, home(true, false));
        assert!(conn.is_idle());
    }

    #[test]
    fn a_body_that_stalls_times_out() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let (out, _) = exchange(&mut conn, Instant::ZERO, "GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
        assert_eq!(out, not_found(true));
        assert_eq!(conn.next_deadline(), Some(Instant::ZERO + REQUEST_TIMEOUT));
        assert_eq!(conn.poll(Instant::ZERO + REQUEST_TIMEOUT, &stats()), Action::CloseAfterFlush);
        assert_eq!(take(&mut conn), error("408 Request Timeout"));
    }

    #[test]
    fn peer_half_close_answers_what_is_complete_then_closes() {
        let mut c = Client::new();
        let mut conn = c.conn();
        conn.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\nGET / HT");
        conn.peer_closed();
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Continue);
        assert_eq!(take(&mut conn), home(true, false));
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Continue);
        assert_eq!(take(&mut conn), not_found(true));
        // The incomplete third request is dropped.
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Close);

        let mut c = Client::new();
        let mut conn = c.conn();
        conn.peer_closed();
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Close);
    }

    #[test]
    fn service_unavailable_response() {
        let expected =
            error("503 Service Unavailable").replace("Connection: close", "Retry-After: 1\r\nConnection: close");
        assert_eq!(crate::apps::http::service_unavailable(), expected.as_bytes());
    }

    #[test]
    fn a_large_connection_table_is_cut_to_fit_the_output() {
        let mut c = Client::new();
        let mut conn = c.conn();
        let big = FixedStats::new(1000);
        conn.feed(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(conn.poll(Instant::ZERO, &big), Action::Continue);
        let out = conn.output().to_vec();
        assert!(out.len() <= OUTPUT_CAPACITY);
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let (head, body) = out.split_at(split);
        let head = std::str::from_utf8(head).unwrap();
        assert!(head.contains(&std::format!("Content-Length: {}\r\n", body.len())), "{head}");
        assert!(body.ends_with(b"],\"truncated\":true}"));
        assert!(json::tests::is_valid_json(body));

        conn.output_consumed(out.len());
        conn.feed(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        conn.poll(Instant::ZERO, &big);
        assert!(conn.output().ends_with(b"# truncated\n"));
    }

    #[test]
    fn tiny_buffers_degrade_without_panicking() {
        let mut input = [0u8; 64];
        let mut output = [0u8; 300];
        let mut conn = HttpConnection::new(&mut input, &mut output, Instant::ZERO);
        // The home page cannot fit: a 500 does.
        conn.feed(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
        let out = String::from_utf8(conn.output().to_vec()).unwrap();
        assert!(out.starts_with("HTTP/1.1 500 Internal Server Error\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\n500 Internal Server Error\n"), "{out}");

        // A head longer than the input gets 431.
        let mut input = [0u8; 64];
        let mut output = [0u8; 1024];
        let mut conn = HttpConnection::new(&mut input, &mut output, Instant::ZERO);
        conn.feed(b"GET / HTTP/1.1\r\nHost: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::CloseAfterFlush);
        assert!(conn.output().starts_with(b"HTTP/1.1 431 "));

        // No room even for an error: abort.
        let mut input = [0u8; 64];
        let mut output = [0u8; 16];
        let mut conn = HttpConnection::new(&mut input, &mut output, Instant::ZERO);
        conn.feed(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(conn.poll(Instant::ZERO, &stats()), Action::Abort);
    }

    #[test]
    fn reset_reuses_the_buffers() {
        let mut c = Client::new();
        let mut conn = c.conn();
        conn.feed(b"GET / HTTP/1.0\r\n\r\nleftover");
        conn.poll(Instant::ZERO, &stats());
        conn.reset(Instant::from_secs(7));
        assert!(conn.is_idle());
        assert_eq!(conn.input_space().len(), INPUT_CAPACITY);
        assert_eq!(conn.responses(), 0);
        assert_eq!(conn.next_deadline(), Some(Instant::from_secs(7) + IDLE_TIMEOUT));
        let (out, _) = exchange(&mut conn, Instant::from_secs(7), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(out, home(true, false));
    }

    #[test]
    fn random_input_never_panics_and_always_ends_or_answers() {
        // A small xorshift generator: deterministic, no dependencies.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 12] = [
            b"GET ",
            b"HEAD ",
            b"/ ",
            b"/stats ",
            b"HTTP/1.1",
            b"HTTP/1.0",
            b"\r\n",
            b"\n",
            b"Host: x",
            b"Content-Length: 3",
            b"Connection: close",
            b"\x00\xff ",
        ];
        for _ in 0..300 {
            let mut c = Client::new();
            let mut conn = c.conn();
            let mut now = Instant::ZERO;
            for _ in 0..40 {
                let piece = pieces[(next() % pieces.len() as u64) as usize];
                conn.feed(piece);
                now += Duration::from_millis(next() % 2000);
                let action = conn.poll(now, &stats());
                let out = conn.output().len();
                conn.output_consumed((next() as usize) % (out + 1));
                assert!(conn.output().len() <= OUTPUT_CAPACITY);
                if matches!(action, Action::Close | Action::Abort) {
                    assert_eq!(conn.next_deadline(), None);
                    break;
                }
                assert!(conn.next_deadline().is_some());
            }
        }
    }
}
