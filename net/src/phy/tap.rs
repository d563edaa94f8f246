//! A Linux TAP device: Ethernet frames to and from the host kernel.
//!
//! [`TapDevice::new`] attaches to the TAP interface of that name in the
//! calling process's network namespace (a persistent one made by
//! `ip tuntap add dev NAME mode tap`, as `qemu/rig.sh` does), or creates a
//! temporary one that disappears when the device is dropped. The file
//! descriptor is non-blocking; [`TapDevice::wait`] sleeps until a frame
//! arrives. Opening needs `CAP_NET_ADMIN` (or a TAP owned by the user).
//!
//! The `/dev/net/tun` open and the `TUNSETIFF` ioctl come from the
//! `tun-tap` crate, since this crate forbids unsafe code.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;
use std::vec::Vec;

use tun_tap::{Iface, Mode};

use super::{Device, DeviceCapabilities, RxToken, TxToken};
use crate::time::Instant;

/// Longest interface name Linux accepts (IFNAMSIZ - 1).
const MAX_NAME_LEN: usize = 15;
/// Read buffer size: a TAP never hands out more than 64 KiB at once.
const BUF_LEN: usize = 65536;

/// What a [`TapDevice`] saw besides frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TapCounters {
    pub rx_frames: u64,
    pub tx_frames: u64,
    /// Writes the kernel refused (e.g. the interface is down); the frame
    /// is lost, as on a wire.
    pub tx_errors: u64,
}

/// A TAP interface as a [`Device`].
#[derive(Debug)]
pub struct TapDevice {
    iface: Iface,
    rx_buf: Vec<u8>,
    rx_len: usize,
    tx_buf: Vec<u8>,
    caps: DeviceCapabilities,
    counters: TapCounters,
}

/// Checks a name before it reaches the kernel: `tun-tap` silently cuts
/// long names, which would open a different interface.
fn check_name(name: &str) -> io::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
    if valid {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid interface name"))
    }
}

impl TapDevice {
    /// Opens the TAP interface `name` (without packet-information headers),
    /// non-blocking, with a 1500-byte IP MTU.
    pub fn new(name: &str) -> io::Result<TapDevice> {
        check_name(name)?;
        let iface = Iface::without_packet_info(name, Mode::Tap)?;
        iface.set_non_blocking()?;
        Ok(TapDevice {
            iface,
            rx_buf: std::vec![0; BUF_LEN],
            rx_len: 0,
            tx_buf: std::vec![0; BUF_LEN],
            caps: DeviceCapabilities::ethernet(),
            counters: TapCounters::default(),
        })
    }

    /// Sets the IP MTU reported in the capabilities (match the Linux
    /// side's `ip link set NAME mtu N`).
    pub fn set_ip_mtu(&mut self, ip_mtu: usize) {
        self.caps.ip_mtu = ip_mtu;
    }

    /// The interface name the kernel gave.
    pub fn name(&self) -> &str {
        self.iface.name()
    }

    pub fn counters(&self) -> &TapCounters {
        &self.counters
    }

    /// Blocks until a frame may be waiting or `timeout` passes.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        super::wait::wait_readable(&[self], timeout)
    }
}

impl AsRawFd for TapDevice {
    fn as_raw_fd(&self) -> RawFd {
        self.iface.as_raw_fd()
    }
}

/// A frame read from the TAP.
#[derive(Debug)]
pub struct TapRxToken<'a> {
    frame: &'a [u8],
}

impl RxToken for TapRxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one frame to write to the TAP.
#[derive(Debug)]
pub struct TapTxToken<'a> {
    iface: &'a Iface,
    buf: &'a mut [u8],
    counters: &'a mut TapCounters,
}

impl TxToken for TapTxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let Some(buf) = self.buf.get_mut(..len) else {
            panic!("transmit of {len} bytes exceeds the TAP buffer");
        };
        let result = f(buf);
        match self.iface.send(buf) {
            Ok(_) => self.counters.tx_frames += 1,
            Err(_) => self.counters.tx_errors += 1,
        }
        result
    }
}

impl Device for TapDevice {
    type RxToken<'a>
        = TapRxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TapTxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        // WouldBlock means no frame; other errors (the interface going
        // away) also yield nothing, and the next wait reports readiness.
        let len = self.iface.recv(&mut self.rx_buf).ok()?;
        self.rx_len = len;
        self.counters.rx_frames += 1;
        Some((
            TapRxToken { frame: &self.rx_buf[..self.rx_len] },
            TapTxToken { iface: &self.iface, buf: &mut self.tx_buf, counters: &mut self.counters },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Self::TxToken<'_>> {
        Some(TapTxToken { iface: &self.iface, buf: &mut self.tx_buf, counters: &mut self.counters })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Opening a TAP needs privileges and touches the host's interfaces, so
    // the device itself is exercised through qemu/rig.sh (see
    // qemu/README.md); here only the checks that run before the kernel.

    #[test]
    fn names_are_checked_before_opening() {
        for bad in ["", "0123456789abcdef", "a/b", "a b", "a:b", ".", "..", "é"] {
            assert_eq!(check_name(bad).unwrap_err().kind(), io::ErrorKind::InvalidInput, "{bad:?}");
            assert!(TapDevice::new(bad).is_err());
        }
        for good in ["tap0", "nt-tap0", "0123456789abcde"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
    }
}
