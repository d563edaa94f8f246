//! The appliance's services as sans-IO state machines: they never touch a
//! socket. The event loop moves bytes between `net`'s sockets and these
//! machines, so everything here runs and is tested on the host.
//!
//! - [`echo`]: RFC 862 echo over TCP (with back-pressure) and UDP.
//! - [`http`]: an HTTP/1.1 server connection (home page, `/stats`, `/metrics`).
//! - [`stats`]: what the kernel reports ([`stats::StatsSource`]) and the
//!   JSON and Prometheus renderers.
//! - [`writer`]: a bounded `fmt::Write` sink over a byte slice.

pub mod echo;
pub mod http;
pub mod stats;
pub mod writer;
