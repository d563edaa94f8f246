//! An HTTP/1.1 server for the appliance: GET and HEAD of the built-in home
//! page, `/stats` (JSON) and `/metrics` (Prometheus text), with keep-alive,
//! pipelining, bounded buffers and timeouts. Sans-IO: see
//! [`HttpConnection`] for what the event loop calls.

pub mod connection;
pub mod request;
pub mod response;
pub mod routes;
pub mod status;

pub use connection::{Action, HttpConnection, INPUT_CAPACITY, OUTPUT_CAPACITY};
pub use response::service_unavailable;
pub use status::Status;
