//! One echo client: a sender thread writes the pattern and half-closes;
//! this thread reads the echo, checks every byte and waits for the close.
use crate::options::Options;
use crate::pattern::{Checker, Mismatch, Pattern, BLOCK_LEN};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Bytes asked for per read.
const READ_LEN: usize = 256 * 1024;

/// Time left until `deadline`, never zero (a zero socket timeout is refused).
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
}

/// Runs client `index`; `Err` says what went wrong.
pub fn run(options: &Options, index: usize, deadline: Instant) -> Result<(), String> {
    let pattern = Pattern::new(options.seed, index as u64, options.bytes);
    let address = (options.host.as_str(), options.port)
        .to_socket_addrs()
        .map_err(|e| format!("resolve {}: {e}", options.host))?
        .next()
        .ok_or_else(|| format!("no address for {}", options.host))?;
    let stream = TcpStream::connect_timeout(&address, left(deadline)).map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().map_err(|e| format!("clone socket: {e}"))?;
    let sender = std::thread::spawn(move || -> Result<(), String> {
        let mut block = Box::new([0; BLOCK_LEN]);
        for i in 0..pattern.blocks() {
            let n = pattern.block(i, &mut block);
            writer.set_write_timeout(Some(left(deadline))).map_err(|e| format!("send: {e}"))?;
            writer.write_all(&block[..n]).map_err(|e| format!("send at block {i}: {e}"))?;
        }
        writer.shutdown(Shutdown::Write).map_err(|e| format!("shutdown: {e}"))
    });
    let received = receive(&stream, Pattern::new(options.seed, index as u64, options.bytes), deadline);
    if received.is_err() {
        // Unblock the sender (the server may have stopped reading).
        let _ = stream.shutdown(Shutdown::Both);
    }
    let sent = sender.join().unwrap_or_else(|_| Err("sender panicked".into()));
    outcome(received, sent)
}

/// Both threads' errors: the two share one socket, and Linux reports a
/// reset to only one of them (the other then sees a plain end of stream),
/// so "closed after N bytes" alone cannot tell a FIN from an RST.
fn outcome(received: Result<(), String>, sent: Result<(), String>) -> Result<(), String> {
    match (received, sent) {
        (Ok(()), sent) => sent,
        (Err(r), Ok(())) => Err(r),
        (Err(r), Err(s)) => Err(format!("{r} (sender: {s})")),
    }
}

/// Reads until the server closes, checking every byte.
fn receive(stream: &TcpStream, pattern: Pattern, deadline: Instant) -> Result<(), String> {
    let mut checker = Checker::new(pattern);
    let mut buffer = vec![0; READ_LEN];
    let mut reader = stream;
    loop {
        reader.set_read_timeout(Some(left(deadline))).map_err(|e| format!("recv: {e}"))?;
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("recv after {} bytes: {e}", checker.matched)),
        };
        checker.check(&buffer[..n]).map_err(|m| match m {
            Mismatch::Byte(at) => format!("byte mismatch at offset {at}"),
            Mismatch::TooLong(len) => format!("more than the {len} bytes sent came back"),
        })?;
    }
    if checker.complete() {
        Ok(())
    } else {
        Err(format!("closed after {} bytes", checker.matched))
    }
}

#[cfg(test)]
mod tests {
    use super::outcome;

    #[test]
    fn reports_both_threads_errors() {
        assert_eq!(outcome(Ok(()), Ok(())), Ok(()));
        assert_eq!(outcome(Err("closed after 0 bytes".into()), Ok(())), Err("closed after 0 bytes".into()));
        assert_eq!(outcome(Ok(()), Err("shutdown: x".into())), Err("shutdown: x".into()));
        assert_eq!(
            outcome(Err("closed after 0 bytes".into()), Err("send at block 0: reset".into())),
            Err("closed after 0 bytes (sender: send at block 0: reset)".into())
        );
    }
}
