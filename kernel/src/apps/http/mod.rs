//! An HTTP/1.1 server for the appliance: GET and HEAD of the built-in home
//! page, `/stats` (JSON) and `/metrics` (Prometheus text), with keep-alive,
//! pipelining, bounded buffers and timeouts. Sans-IO: [`HttpConnection`]
//! never touches a socket; the event loop moves the bytes.
//!
//! The glue for one connection over a `net` TCP socket, run whenever the
//! socket may have changed or the connection's deadline has passed:
//!
//! ```text
//! fn serve(sock: &mut TcpSocket, http: &mut HttpConnection, now: Instant, stats: &dyn StatsSource) -> bool {
//!     loop {
//!         let mut progress = false;
//!         if let Ok(n) = sock.recv_slice(http.input_space()) {   // Err once the peer's FIN is read
//!             http.input_written(n);
//!             progress |= n > 0;
//!         }
//!         if !sock.may_recv() {
//!             http.peer_closed();
//!         }
//!         let action = http.poll(now, stats);
//!         if !http.output().is_empty() {
//!             if let Ok(n) = sock.send_slice(http.output()) {
//!                 http.output_consumed(n);
//!                 progress |= n > 0;
//!             }
//!         }
//!         match action {
//!             Action::Close => { sock.close(); return true }      // slot free once the socket is closed
//!             Action::Abort => { sock.abort(); return true }
//!             Action::Continue | Action::CloseAfterFlush => {}
//!         }
//!         if !progress { return false }                           // then arm the timer for http.next_deadline()
//!     }
//! }
//! ```
//!
//! A connection the loop has no slot for gets [`service_unavailable`]
//! (`send_slice`, then `close`). A socket reset by the peer (state CLOSED)
//! just frees its slot. [`HttpConnection::reset`] readies a slot's buffers
//! for the next connection.

pub mod connection;
pub mod request;
pub mod response;
pub mod routes;
pub mod status;

pub use connection::{Action, HttpConnection, INPUT_CAPACITY, OUTPUT_CAPACITY};
pub use response::service_unavailable;
pub use status::Status;
