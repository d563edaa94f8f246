//! The response status codes this server sends (RFC 9110 section 15).

/// A response status: code and reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    ContentTooLarge,
    UriTooLong,
    HeaderFieldsTooLarge,
    InternalServerError,
    NotImplemented,
    ServiceUnavailable,
    VersionNotSupported,
}

impl Status {
    pub const fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::RequestTimeout => 408,
            Status::ContentTooLarge => 413,
            Status::UriTooLong => 414,
            Status::HeaderFieldsTooLarge => 431,
            Status::InternalServerError => 500,
            Status::NotImplemented => 501,
            Status::ServiceUnavailable => 503,
            Status::VersionNotSupported => 505,
        }
    }

    pub const fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::RequestTimeout => "Request Timeout",
            Status::ContentTooLarge => "Content Too Large",
            Status::UriTooLong => "URI Too Long",
            Status::HeaderFieldsTooLarge => "Request Header Fields Too Large",
            Status::InternalServerError => "Internal Server Error",
            Status::NotImplemented => "Not Implemented",
            Status::ServiceUnavailable => "Service Unavailable",
            Status::VersionNotSupported => "HTTP Version Not Supported",
        }
    }

    /// Whether the connection must close after this response: every error
    /// but 404 (after which the request stream is still in sync).
    pub const fn closes_connection(self) -> bool {
        !matches!(self, Status::Ok | Status::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_reasons() {
        let all = [
            (Status::Ok, 200, "OK", false),
            (Status::BadRequest, 400, "Bad Request", true),
            (Status::NotFound, 404, "Not Found", false),
            (Status::MethodNotAllowed, 405, "Method Not Allowed", true),
            (Status::RequestTimeout, 408, "Request Timeout", true),
            (Status::ContentTooLarge, 413, "Content Too Large", true),
            (Status::UriTooLong, 414, "URI Too Long", true),
            (Status::HeaderFieldsTooLarge, 431, "Request Header Fields Too Large", true),
            (Status::InternalServerError, 500, "Internal Server Error", true),
            (Status::NotImplemented, 501, "Not Implemented", true),
            (Status::ServiceUnavailable, 503, "Service Unavailable", true),
            (Status::VersionNotSupported, 505, "HTTP Version Not Supported", true),
        ];
        for (status, code, reason, closes) in all {
            assert_eq!((status.code(), status.reason(), status.closes_connection()), (code, reason, closes));
        }
    }
}
