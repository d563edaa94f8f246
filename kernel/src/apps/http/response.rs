//! Response heads: a fixed, deterministic header set (there is no wall
//! clock, so no `Date`), with `Content-Length` always present.

use core::fmt::{self, Write};

use super::status::Status;
use crate::apps::writer::SliceWriter;

/// The `Server` header's value.
pub const SERVER: &str = concat!("appliance/", env!("CARGO_PKG_VERSION"));

pub const TEXT_HTML: &str = "text/html; charset=utf-8";
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
pub const APPLICATION_JSON: &str = "application/json";
/// The Prometheus text exposition format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The longest head [`Response::write_head`] writes (with room to spare).
pub const MAX_HEAD_LEN: usize = 256;

/// What a response head says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    pub content_type: &'static str,
    /// The length of the body a GET gets (a HEAD response says the same
    /// and sends none).
    pub content_length: usize,
    pub keep_alive: bool,
    /// Live data: tell caches not to keep it.
    pub no_store: bool,
}

impl Response {
    /// `HTTP/1.1 <code> <reason>` and the header fields, in this order:
    /// Server, Content-Type, Content-Length, Allow (405), Retry-After (503),
    /// Cache-Control (live data), Connection.
    pub fn write_head(&self, w: &mut SliceWriter) -> fmt::Result {
        write!(w, "HTTP/1.1 {} {}\r\n", self.status.code(), self.status.reason())?;
        write!(
            w,
            "Server: {SERVER}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.content_type, self.content_length
        )?;
        match self.status {
            Status::MethodNotAllowed => w.write_str("Allow: GET, HEAD\r\n")?,
            Status::ServiceUnavailable => w.write_str("Retry-After: 1\r\n")?,
            _ => {}
        }
        if self.no_store {
            w.write_str("Cache-Control: no-store\r\n")?;
        }
        let connection = if self.keep_alive { "keep-alive" } else { "close" };
        write!(w, "Connection: {connection}\r\n\r\n")
    }
}

/// The body of an error response: `<code> <reason>\n`, as plain text.
pub fn write_error_body(status: Status, w: &mut SliceWriter) -> fmt::Result {
    writeln!(w, "{} {}", status.code(), status.reason())
}

/// The complete `503 Service Unavailable` response, for the event loop to
/// send (then close) on a connection it has no slot for.
pub fn service_unavailable() -> &'static [u8] {
    SERVICE_UNAVAILABLE.as_bytes()
}

const SERVICE_UNAVAILABLE: &str = concat!(
    "HTTP/1.1 503 Service Unavailable\r\n",
    "Server: appliance/",
    env!("CARGO_PKG_VERSION"),
    "\r\n",
    "Content-Type: text/plain; charset=utf-8\r\n",
    "Content-Length: 24\r\n",
    "Retry-After: 1\r\n",
    "Connection: close\r\n",
    "\r\n",
    "503 Service Unavailable\n",
);

#[cfg(test)]
mod tests {
    use super::*;

    fn head(r: Response) -> std::string::String {
        let mut buf = [0u8; MAX_HEAD_LEN];
        let mut w = SliceWriter::new(&mut buf);
        r.write_head(&mut w).unwrap();
        std::str::from_utf8(w.written()).unwrap().into()
    }

    #[test]
    fn ok_head() {
        let r = Response {
            status: Status::Ok,
            content_type: APPLICATION_JSON,
            content_length: 1234,
            keep_alive: true,
            no_store: true,
        };
        assert_eq!(
            head(r),
            std::format!(
                "HTTP/1.1 200 OK\r\nServer: appliance/{}\r\nContent-Type: application/json\r\nContent-Length: 1234\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n",
                crate::VERSION
            )
        );
    }

    #[test]
    fn method_not_allowed_says_what_is() {
        let r = Response {
            status: Status::MethodNotAllowed,
            content_type: TEXT_PLAIN,
            content_length: 23,
            keep_alive: false,
            no_store: false,
        };
        assert_eq!(
            head(r),
            std::format!(
                "HTTP/1.1 405 Method Not Allowed\r\nServer: appliance/{}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 23\r\nAllow: GET, HEAD\r\nConnection: close\r\n\r\n",
                crate::VERSION
            )
        );
    }

    #[test]
    fn the_longest_head_fits() {
        let r = Response {
            status: Status::HeaderFieldsTooLarge,
            content_type: PROMETHEUS_TEXT,
            content_length: usize::MAX,
            keep_alive: true,
            no_store: true,
        };
        assert!(head(r).len() < MAX_HEAD_LEN);
    }

    #[test]
    fn service_unavailable_is_what_the_renderer_would_write() {
        let mut buf = [0u8; 512];
        let mut w = SliceWriter::new(&mut buf);
        let mut body = [0u8; 64];
        let mut b = SliceWriter::new(&mut body);
        write_error_body(Status::ServiceUnavailable, &mut b).unwrap();
        let r = Response {
            status: Status::ServiceUnavailable,
            content_type: TEXT_PLAIN,
            content_length: b.len(),
            keep_alive: false,
            no_store: false,
        };
        r.write_head(&mut w).unwrap();
        w.write_bytes(b.written()).unwrap();
        assert_eq!(service_unavailable(), w.written());
        assert!(service_unavailable().ends_with(b"\r\n\r\n503 Service Unavailable\n"));
    }
}
