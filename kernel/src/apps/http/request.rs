//! Parsing a request head (RFC 9112 sections 2-3 and 5): request line and
//! header fields, up to and including the empty line that ends them.
//!
//! Choices, where the RFC leaves room:
//! - A bare LF ends a line like CRLF does (RFC 9112 2.2 allows it); a CR
//!   anywhere else is malformed.
//! - Exactly one SP between the parts of the request line; the target must
//!   be printable ASCII.
//! - Obsolete line folding (a header line starting with SP or HTAB) is
//!   rejected with 400, as is whitespace between a field name and its colon.
//! - HTTP/1.1 requests need exactly one `Host` field, HTTP/1.0 at most one.
//! - `Content-Length` must be digits only; repeated fields must agree.
//!   `Transfer-Encoding` gets 501 (no request body coding is implemented),
//!   or 400 together with `Content-Length` (RFC 9112 6.3 smuggling rule).
//! - `HTTP/1.x` with x > 1 is served as 1.1; other majors get 505.

use super::status::Status;

/// The longest request line accepted (without its line ending); longer
/// gets 414.
pub const MAX_REQUEST_LINE: usize = 2048;
/// The longest request head accepted (request line, fields and the empty
/// line); longer gets 431.
pub const MAX_HEAD: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// Any other well-formed method (answered with 405).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// A parsed request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHead<'a> {
    pub method: Method,
    /// The request target as sent (see [`path`]).
    pub target: &'a [u8],
    pub version: Version,
    /// Whether the client wants the connection kept open: `Connection`
    /// tokens, else the version's default (1.1 keep-alive, 1.0 close).
    pub keep_alive: bool,
    /// Bytes of body that follow the head.
    pub content_length: u64,
}

/// Finds the end of a request head in `buf` (the index just past its empty
/// line). `line_start` is where the scan resumes: the start of a line not
/// yet examined (0 for a new request); it is advanced past every complete
/// line, so repeated calls as bytes arrive cost linear time overall.
pub fn find_head_end(buf: &[u8], line_start: &mut usize) -> Option<usize> {
    let mut start = (*line_start).min(buf.len());
    while let Some(offset) = buf[start..].iter().position(|&b| b == b'\n') {
        let lf = start + offset;
        let line = &buf[start..lf];
        if start > 0 && (line.is_empty() || line == b"\r") {
            *line_start = start;
            return Some(lf + 1);
        }
        start = lf + 1;
    }
    *line_start = start;
    None
}

/// Checks the start of a head that is not complete yet, so a request line
/// that is already too long or holds bytes no request line may hold is
/// answered now rather than when the buffer fills.
pub fn check_partial(buf: &[u8]) -> Result<(), Status> {
    let line = match buf.iter().position(|&b| b == b'\n') {
        Some(lf) => &buf[..lf],
        None => buf,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_REQUEST_LINE {
        return Err(Status::UriTooLong);
    }
    if !line.iter().all(|&b| is_request_line_byte(b)) {
        return Err(Status::BadRequest);
    }
    Ok(())
}

/// Parses a complete head (as delimited by [`find_head_end`]).
pub fn parse_head(head: &[u8]) -> Result<RequestHead<'_>, Status> {
    let mut lines = Lines { rest: head };
    let request_line = lines.next().ok_or(Status::BadRequest)??;
    if request_line.len() > MAX_REQUEST_LINE {
        return Err(Status::UriTooLong);
    }
    if !request_line.iter().all(|&b| is_request_line_byte(b)) {
        return Err(Status::BadRequest);
    }
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Status::BadRequest);
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) || target.is_empty() {
        return Err(Status::BadRequest);
    }
    let version = parse_version(version)?;
    let method = match method {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        _ => Method::Other,
    };

    let mut fields = Fields::default();
    for line in lines {
        let line = line?;
        if line.is_empty() {
            break;
        }
        fields.add(line)?;
    }

    let hosts_ok = match version {
        Version::Http11 => fields.hosts == 1,
        Version::Http10 => fields.hosts <= 1,
    };
    if !hosts_ok {
        return Err(Status::BadRequest);
    }
    if fields.transfer_encoding {
        return Err(if fields.content_length.is_some() { Status::BadRequest } else { Status::NotImplemented });
    }
    let keep_alive = if fields.close { false } else { fields.keep_alive || version == Version::Http11 };
    Ok(RequestHead { method, target, version, keep_alive, content_length: fields.content_length.unwrap_or(0) })
}

/// The path of a request target: origin-form (`/path?query`) or
/// absolute-form (`http://host/path?query`), without the query.
/// Anything else (asterisk-form, authority-form) is a bad request for GET
/// and HEAD.
pub fn path(target: &[u8]) -> Result<&[u8], Status> {
    const SCHEME: &[u8] = b"http://";
    let from_slash = if target.first() == Some(&b'/') {
        target
    } else if target.len() >= SCHEME.len() && target[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        let rest = &target[SCHEME.len()..];
        match rest.iter().position(|&b| b == b'/' || b == b'?') {
            Some(i) if rest[i] == b'/' => &rest[i..],
            _ => b"/",
        }
    } else {
        return Err(Status::BadRequest);
    };
    let end = from_slash.iter().position(|&b| b == b'?' || b == b'#').unwrap_or(from_slash.len());
    Ok(&from_slash[..end])
}

fn parse_version(v: &[u8]) -> Result<Version, Status> {
    let digits = v.strip_prefix(b"HTTP/").ok_or(Status::BadRequest)?;
    match *digits {
        [b'1', b'.', b'0'] => Ok(Version::Http10),
        [b'1', b'.', minor] if minor.is_ascii_digit() => Ok(Version::Http11),
        [major, b'.', minor] if major.is_ascii_digit() && minor.is_ascii_digit() => Err(Status::VersionNotSupported),
        [major] if major.is_ascii_digit() && major != b'1' => Err(Status::VersionNotSupported),
        _ => Err(Status::BadRequest),
    }
}

/// What the head's fields say, accumulated line by line.
#[derive(Default)]
struct Fields {
    hosts: u32,
    content_length: Option<u64>,
    transfer_encoding: bool,
    close: bool,
    keep_alive: bool,
}

impl Fields {
    fn add(&mut self, line: &[u8]) -> Result<(), Status> {
        // Obsolete line folding, or a field name starting with whitespace.
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Err(Status::BadRequest);
        }
        let colon = line.iter().position(|&b| b == b':').ok_or(Status::BadRequest)?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(Status::BadRequest);
        }
        if !value.iter().all(|&b| b == b'\t' || b >= 0x20 && b != 0x7f) {
            return Err(Status::BadRequest);
        }
        let value = trim_ows(value);
        if name.eq_ignore_ascii_case(b"host") {
            self.hosts += 1;
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let length = parse_content_length(value)?;
            if self.content_length.is_some_and(|earlier| earlier != length) {
                return Err(Status::BadRequest);
            }
            self.content_length = Some(length);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.transfer_encoding = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for option in value.split(|&b| b == b',').map(trim_ows) {
                if option.eq_ignore_ascii_case(b"close") {
                    self.close = true;
                } else if option.eq_ignore_ascii_case(b"keep-alive") {
                    self.keep_alive = true;
                }
            }
        }
        Ok(())
    }
}

fn parse_content_length(value: &[u8]) -> Result<u64, Status> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(Status::BadRequest);
    }
    value.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))).ok_or(Status::ContentTooLarge)
    })
}

/// The lines of a head, without their CRLF or LF; `Err` for a bare CR.
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<&'a [u8], Status>;

    fn next(&mut self) -> Option<Self::Item> {
        let lf = self.rest.iter().position(|&b| b == b'\n')?;
        let line = &self.rest[..lf];
        self.rest = &self.rest[lf + 1..];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Some(if line.contains(&b'\r') { Err(Status::BadRequest) } else { Ok(line) })
    }
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// RFC 9110 5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Printable ASCII and SP; a trailing CR is stripped before this check.
fn is_request_line_byte(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn head(text: &str) -> Result<RequestHead<'_>, Status> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn a_plain_get() {
        let h = head("GET /stats?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\n\r\n").unwrap();
        assert_eq!(
            h,
            RequestHead {
                method: Method::Get,
                target: b"/stats?x=1",
                version: Version::Http11,
                keep_alive: true,
                content_length: 0,
            }
        );
    }

    #[test]
    fn keep_alive_defaults_and_connection_tokens() {
        assert!(!head("GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nHost: a\r\nconnection: upgrade, CLOSE\r\n\r\n").unwrap().keep_alive);
        assert!(
            !head("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
                .unwrap()
                .keep_alive
        );
        assert!(head("HEAD / HTTP/1.1\r\nHOST: a\r\n\r\n").unwrap().keep_alive);
    }

    #[test]
    fn methods() {
        assert_eq!(head("HEAD / HTTP/1.0\r\n\r\n").unwrap().method, Method::Head);
        assert_eq!(head("POST / HTTP/1.0\r\n\r\n").unwrap().method, Method::Other);
        // Methods are case-sensitive.
        assert_eq!(head("get / HTTP/1.0\r\n\r\n").unwrap().method, Method::Other);
        assert_eq!(head("G@T / HTTP/1.0\r\n\r\n"), Err(Status::BadRequest));
    }

    #[test]
    fn bare_lf_ends_lines() {
        let h = head("GET / HTTP/1.1\nHost: a\n\n").unwrap();
        assert_eq!((h.method, h.target, h.version), (Method::Get, &b"/"[..], Version::Http11));
    }

    #[test]
    fn versions() {
        assert_eq!(head("GET / HTTP/1.0\r\n\r\n").unwrap().version, Version::Http10);
        assert_eq!(head("GET / HTTP/1.9\r\nHost: a\r\n\r\n").unwrap().version, Version::Http11);
        for v in ["HTTP/2.0", "HTTP/2", "HTTP/3", "HTTP/0.9"] {
            assert_eq!(head(&std::format!("GET / {v}\r\n\r\n")), Err(Status::VersionNotSupported), "{v}");
        }
        for v in ["HTTP/1", "http/1.1", "HTTP/1.1 ", "HTTP/11", "HTTP/1.x", "HTP/1.1", "HTTP/"] {
            assert_eq!(head(&std::format!("GET / {v}\r\n\r\n")), Err(Status::BadRequest), "{v:?}");
        }
    }

    #[test]
    fn malformed_request_lines() {
        for bad in [
            "GET /\r\n\r\n",
            "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
            " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /é HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
            "\r\n",
        ] {
            assert_eq!(head(bad), Err(Status::BadRequest), "{bad:?}");
        }
    }

    #[test]
    fn malformed_fields() {
        for bad in [
            "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n continued\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n\tX: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n",
        ] {
            assert_eq!(head(bad), Err(Status::BadRequest), "{bad:?}");
        }
        // Tabs and obs-text are allowed in values.
        assert!(head("GET / HTTP/1.1\r\nHost: a\r\nX-A:\tbé \r\n\r\n").is_ok());
    }

    #[test]
    fn host_rules() {
        assert_eq!(head("GET / HTTP/1.1\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(head("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(head("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), Err(Status::BadRequest));
        assert!(head("GET / HTTP/1.0\r\n\r\n").is_ok());
    }

    #[test]
    fn body_framing() {
        assert_eq!(head("GET / HTTP/1.0\r\nContent-Length:  12 \r\n\r\n").unwrap().content_length, 12);
        assert_eq!(head("GET / HTTP/1.0\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").unwrap().content_length, 5);
        assert_eq!(head("GET / HTTP/1.0\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(head("GET / HTTP/1.0\r\nContent-Length: 5, 5\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(head("GET / HTTP/1.0\r\nContent-Length: -1\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(head("GET / HTTP/1.0\r\nContent-Length:\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(
            head("GET / HTTP/1.0\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            Err(Status::ContentTooLarge)
        );
        assert_eq!(head("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), Err(Status::NotImplemented));
        assert_eq!(
            head("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            Err(Status::BadRequest)
        );
    }

    #[test]
    fn request_line_limit() {
        let target = "/".repeat(MAX_REQUEST_LINE - "GET  HTTP/1.0".len());
        let ok = std::format!("GET {target} HTTP/1.0\r\n\r\n");
        assert!(head(&ok).is_ok());
        let long = std::format!("GET {target}x HTTP/1.0\r\n\r\n");
        assert_eq!(head(&long), Err(Status::UriTooLong));
        assert_eq!(check_partial(ok.as_bytes()), Ok(()));
        assert_eq!(check_partial(&long.as_bytes()[..MAX_REQUEST_LINE + 1]), Err(Status::UriTooLong));
        assert_eq!(check_partial(&long.as_bytes()[..MAX_REQUEST_LINE]), Ok(()));
    }

    #[test]
    fn partial_heads_with_junk_are_rejected_early() {
        assert_eq!(check_partial(b"GET / HT"), Ok(()));
        assert_eq!(check_partial(b"GET / HTTP/1.1\r"), Ok(()));
        assert_eq!(check_partial(b"\x16\x03\x01\x02\x00"), Err(Status::BadRequest));
        assert_eq!(check_partial(b"GET /\x00"), Err(Status::BadRequest));
        // Only the request line is checked; fields are checked when complete.
        assert_eq!(check_partial(b"GET / HTTP/1.1\r\nX: \x01"), Ok(()));
    }

    #[test]
    fn head_end_search_resumes() {
        let text = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next";
        let mut line_start = 0;
        assert_eq!(find_head_end(&text[..20], &mut line_start), None);
        assert_eq!(line_start, 16);
        assert_eq!(find_head_end(&text[..26], &mut line_start), None);
        assert_eq!(line_start, 25);
        assert_eq!(find_head_end(&text[..], &mut line_start), Some(27));
        let mut line_start = 0;
        assert_eq!(find_head_end(b"GET / HTTP/1.0\n\nrest", &mut line_start), Some(16));
        let mut line_start = 0;
        assert_eq!(find_head_end(b"GET / HTTP/1.0\r\n\r", &mut line_start), None);
        // A line start past the end (caller bug) is clamped, not a panic.
        let mut line_start = 99;
        assert_eq!(find_head_end(b"abc", &mut line_start), None);
    }

    #[test]
    fn paths() {
        assert_eq!(path(b"/"), Ok(&b"/"[..]));
        assert_eq!(path(b"/stats?pretty=1"), Ok(&b"/stats"[..]));
        assert_eq!(path(b"/a#frag"), Ok(&b"/a"[..]));
        assert_eq!(path(b"http://10.0.2.15/metrics?x"), Ok(&b"/metrics"[..]));
        assert_eq!(path(b"HTTP://host:8080"), Ok(&b"/"[..]));
        assert_eq!(path(b"http://host?q"), Ok(&b"/"[..]));
        assert_eq!(path(b"*"), Err(Status::BadRequest));
        assert_eq!(path(b"host:80"), Err(Status::BadRequest));
        assert_eq!(path(b"https://host/"), Err(Status::BadRequest));
    }

    #[test]
    fn every_prefix_of_a_head_is_safe() {
        let text = b"GET /stats HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        for n in 0..text.len() {
            let mut line_start = 0;
            assert_eq!(find_head_end(&text[..n], &mut line_start), None);
            assert_eq!(check_partial(&text[..n]), Ok(()));
            let _ = parse_head(&text[..n]);
        }
        let garbage: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let _ = parse_head(&garbage);
        let _ = check_partial(&garbage);
    }
}
