//! Waiting for hosted devices (TAP, UDP link) to have a frame, so a hosted
//! program sleeps instead of spinning between polls.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags};

/// Blocks until one of `sources` is readable or `timeout` passes (`None`:
/// no limit). Returns whether something is readable; `false` on timeout or
/// when a signal interrupted the wait (callers poll their devices either
/// way, so a spurious wake-up is harmless).
pub fn wait_readable(sources: &[&dyn AsRawFd], timeout: Option<Duration>) -> io::Result<bool> {
    // At most 64 sources, kept on the stack.
    let mut fds = [PollFd::new(-1, PollFlags::empty()); 64];
    if sources.len() > fds.len() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "too many sources to wait on"));
    }
    for (slot, source) in fds.iter_mut().zip(sources) {
        *slot = PollFd::new(source.as_raw_fd(), PollFlags::POLLIN);
    }
    let fds = &mut fds[..sources.len()];
    match poll(fds, timeout_millis(timeout)) {
        Ok(ready) => Ok(ready > 0),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// poll(2)'s timeout: milliseconds rounded up (so a short wait never turns
/// into a busy loop of zero-length polls), -1 for none.
fn timeout_millis(timeout: Option<Duration>) -> i32 {
    match timeout {
        None => -1,
        Some(t) => {
            let millis = t.as_micros().div_ceil(1000);
            i32::try_from(millis).unwrap_or(i32::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn timeout_rounds_up() {
        assert_eq!(timeout_millis(None), -1);
        assert_eq!(timeout_millis(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_millis(Some(Duration::from_micros(1))), 1);
        assert_eq!(timeout_millis(Some(Duration::from_micros(2001))), 3);
        assert_eq!(timeout_millis(Some(Duration::from_secs(u64::MAX))), i32::MAX);
    }

    #[test]
    fn readable_socket_wakes_the_wait() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(!wait_readable(&[&a, &b], Some(Duration::ZERO)).unwrap());
        a.send_to(b"x", b.local_addr().unwrap()).unwrap();
        assert!(wait_readable(&[&a, &b], Some(Duration::from_secs(5))).unwrap());
    }
}
