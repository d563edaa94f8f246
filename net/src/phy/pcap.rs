//! Packet capture: a device wrapper that records every frame in the
//! classic pcap format (readable by tcpdump and Wireshark).
//!
//! The file is little-endian pcap 2.4 with microsecond timestamps and
//! `LINKTYPE_ETHERNET`; each record's time is the `now` the stack passed to
//! the device call that moved the frame. Output goes to a [`PcapSink`]:
//! any `std::io::Write` with feature `std`, or a [`SliceSink`] over a
//! caller's buffer without it.

use core::cell::RefCell;

use super::{Device, DeviceCapabilities, RxToken, TxToken};
use crate::time::Instant;

/// The pcap global header's magic number for microsecond timestamps.
const PCAP_MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// `LINKTYPE_ETHERNET`: records are Ethernet frames without FCS.
const LINKTYPE_ETHERNET: u32 = 1;
/// Length of the global header.
pub const GLOBAL_HEADER_LEN: usize = 24;
/// Length of each record's header.
pub const RECORD_HEADER_LEN: usize = 16;

/// Where pcap bytes go.
pub trait PcapSink {
    /// Appends `data`. A sink that cannot take it all should take none of
    /// it (a partial write corrupts the file).
    fn write(&mut self, data: &[u8]);

    /// Asked before each record with the record's total length; a sink
    /// that returns `false` is not given the record (it is skipped whole).
    fn reserve(&mut self, _len: usize) -> bool {
        true
    }
}

/// Any `std::io::Write` is a sink. Write errors are not reported (the
/// capture is a diagnostic aid and must not disturb the device); wrap the
/// writer in one that records errors if that matters.
#[cfg(any(test, feature = "std"))]
impl<W: std::io::Write> PcapSink for W {
    fn write(&mut self, data: &[u8]) {
        let _ = self.write_all(data);
    }
}

/// A sink over a caller-provided byte buffer; records that do not fit are
/// skipped and counted, so the buffer always holds a valid capture.
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
    skipped: usize,
}

impl<'a> SliceSink<'a> {
    pub fn new(buf: &'a mut [u8]) -> SliceSink<'a> {
        SliceSink { buf, len: 0, skipped: 0 }
    }
    /// The capture written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    /// Records (or the global header) that did not fit.
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

impl PcapSink for SliceSink<'_> {
    fn write(&mut self, data: &[u8]) {
        match self.buf.get_mut(self.len..self.len.saturating_add(data.len())) {
            Some(dest) => {
                dest.copy_from_slice(data);
                self.len += data.len();
            }
            None => self.skipped += 1,
        }
    }

    fn reserve(&mut self, len: usize) -> bool {
        let fits = self.buf.len() - self.len >= len;
        if !fits {
            self.skipped += 1;
        }
        fits
    }
}

/// Which frames a [`PcapWriter`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcapMode {
    Both,
    RxOnly,
    TxOnly,
}

/// The pcap global header for a capture of Ethernet frames cut at
/// `snaplen` bytes.
pub fn global_header(snaplen: u32) -> [u8; GLOBAL_HEADER_LEN] {
    let mut h = [0u8; GLOBAL_HEADER_LEN];
    h[0..4].copy_from_slice(&PCAP_MAGIC_MICROS.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version major
    h[6..8].copy_from_slice(&4u16.to_le_bytes()); // version minor
                                                  // 8..12 thiszone and 12..16 sigfigs stay zero (UTC, no accuracy claim).
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    h
}

/// The header of one record: captured at `now`, `captured` of `original`
/// bytes stored. Times before the epoch are recorded as zero.
pub fn record_header(now: Instant, captured: u32, original: u32) -> [u8; RECORD_HEADER_LEN] {
    let micros = now.total_micros().max(0);
    let secs = u32::try_from(micros / 1_000_000).unwrap_or(u32::MAX);
    let usecs = (micros % 1_000_000) as u32;
    let mut h = [0u8; RECORD_HEADER_LEN];
    h[0..4].copy_from_slice(&secs.to_le_bytes());
    h[4..8].copy_from_slice(&usecs.to_le_bytes());
    h[8..12].copy_from_slice(&captured.to_le_bytes());
    h[12..16].copy_from_slice(&original.to_le_bytes());
    h
}

/// The capture state shared by a receive token and its reply token.
#[derive(Debug)]
struct Capture<S> {
    sink: S,
    snaplen: u32,
    mode: PcapMode,
}

impl<S: PcapSink> Capture<S> {
    fn record(&mut self, now: Instant, frame: &[u8]) {
        let original = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let captured = original.min(self.snaplen);
        let stored = &frame[..captured as usize];
        if self.sink.reserve(RECORD_HEADER_LEN + stored.len()) {
            self.sink.write(&record_header(now, captured, original));
            self.sink.write(stored);
        }
    }
}

/// A device wrapper that records every received and transmitted frame.
#[derive(Debug)]
pub struct PcapWriter<D, S> {
    inner: D,
    // Both tokens of a receive may record, so they share the sink.
    capture: RefCell<Capture<S>>,
}

impl<D: Device, S: PcapSink> PcapWriter<D, S> {
    /// Wraps `inner`, recording both directions in full; writes the global
    /// header now.
    pub fn new(inner: D, sink: S) -> Self {
        PcapWriter::with_options(inner, sink, PcapMode::Both, 65535)
    }

    /// Wraps `inner`, recording the frames `mode` selects, each cut at
    /// `snaplen` bytes; writes the global header now.
    pub fn with_options(inner: D, mut sink: S, mode: PcapMode, snaplen: u32) -> Self {
        let header = global_header(snaplen);
        if sink.reserve(header.len()) {
            sink.write(&header);
        }
        PcapWriter { inner, capture: RefCell::new(Capture { sink, snaplen, mode }) }
    }

    pub fn inner(&self) -> &D {
        &self.inner
    }
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }
    /// The sink, mutably (e.g. to flush a file).
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.capture.get_mut().sink
    }
    /// Unwraps into the device and the sink.
    pub fn into_parts(self) -> (D, S) {
        (self.inner, self.capture.into_inner().sink)
    }
}

/// A hosted program can wait on the wrapped device's file descriptor.
#[cfg(feature = "std")]
impl<D: std::os::fd::AsRawFd, S> std::os::fd::AsRawFd for PcapWriter<D, S> {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.as_raw_fd()
    }
}

/// A received frame, recorded when consumed.
#[derive(Debug)]
pub struct PcapRxToken<'a, T, S> {
    token: T,
    capture: &'a RefCell<Capture<S>>,
    now: Instant,
}

impl<T: RxToken, S: PcapSink> RxToken for PcapRxToken<'_, T, S> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let PcapRxToken { token, capture, now } = self;
        token.consume(|frame| {
            let mut capture = capture.borrow_mut();
            if capture.mode != PcapMode::TxOnly {
                capture.record(now, frame);
            }
            drop(capture);
            f(frame)
        })
    }
}

/// Room for one frame, recorded once the stack has filled it.
#[derive(Debug)]
pub struct PcapTxToken<'a, T, S> {
    token: T,
    capture: &'a RefCell<Capture<S>>,
    now: Instant,
}

impl<T: TxToken, S: PcapSink> TxToken for PcapTxToken<'_, T, S> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let PcapTxToken { token, capture, now } = self;
        token.consume(len, |buf| {
            let result = f(buf);
            let mut capture = capture.borrow_mut();
            if capture.mode != PcapMode::RxOnly {
                capture.record(now, buf);
            }
            result
        })
    }
}

impl<D: Device, S: PcapSink> Device for PcapWriter<D, S> {
    type RxToken<'a>
        = PcapRxToken<'a, D::RxToken<'a>, S>
    where
        Self: 'a;
    type TxToken<'a>
        = PcapTxToken<'a, D::TxToken<'a>, S>
    where
        Self: 'a;

    fn receive(&mut self, now: Instant) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let (rx, tx) = self.inner.receive(now)?;
        let capture = &self.capture;
        Some((PcapRxToken { token: rx, capture, now }, PcapTxToken { token: tx, capture, now }))
    }

    fn transmit(&mut self, now: Instant) -> Option<Self::TxToken<'_>> {
        let tx = self.inner.transmit(now)?;
        Some(PcapTxToken { token: tx, capture: &self.capture, now })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        self.inner.capabilities()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phy::loopback::Loopback;
    use std::vec::Vec;

    const HEADER: [u8; 24] = [
        0xd4, 0xc3, 0xb2, 0xa1, // magic, little-endian, microseconds
        0x02, 0x00, 0x04, 0x00, // version 2.4
        0, 0, 0, 0, // thiszone
        0, 0, 0, 0, // sigfigs
        0xff, 0xff, 0x00, 0x00, // snaplen 65535
        0x01, 0x00, 0x00, 0x00, // LINKTYPE_ETHERNET
    ];

    fn loopback() -> Loopback<Vec<u8>> {
        Loopback::with_capacity(4, DeviceCapabilities::ethernet())
    }

    #[test]
    fn global_header_bytes() {
        assert_eq!(global_header(65535), HEADER);
        assert_eq!(&global_header(96)[16..20], &[96, 0, 0, 0]);
    }

    #[test]
    fn record_header_bytes() {
        let h = record_header(Instant::from_micros(3_000_250), 60, 1514);
        assert_eq!(h, [3, 0, 0, 0, 0xfa, 0, 0, 0, 60, 0, 0, 0, 0xea, 0x05, 0, 0]);
        let before_epoch = record_header(Instant::from_micros(-5), 1, 1);
        assert_eq!(&before_epoch[..8], &[0; 8]);
    }

    #[test]
    fn records_tx_then_rx_with_timestamps() {
        let mut storage = [0u8; 256];
        let mut dev = PcapWriter::new(loopback(), SliceSink::new(&mut storage));
        let tx = dev.transmit(Instant::from_micros(1_000_001)).unwrap();
        tx.consume(3, |buf| buf.copy_from_slice(&[0xaa, 0xbb, 0xcc]));
        let (rx, _reply) = dev.receive(Instant::from_secs(2)).unwrap();
        assert_eq!(rx.consume(|f| f.to_vec()), [0xaa, 0xbb, 0xcc]);
        let (_, sink) = dev.into_parts();
        let mut expected = HEADER.to_vec();
        expected.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0xaa, 0xbb, 0xcc]);
        expected.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0xaa, 0xbb, 0xcc]);
        assert_eq!(sink.written(), &expected[..]);
    }

    #[test]
    fn reply_token_from_receive_is_recorded() {
        let mut out = Vec::new();
        let mut dev = PcapWriter::new(loopback(), &mut out);
        dev.transmit(Instant::ZERO).unwrap().consume(1, |b| b[0] = 1);
        let (rx, tx) = dev.receive(Instant::ZERO).unwrap();
        rx.consume(|_| ());
        tx.consume(1, |b| b[0] = 2);
        drop(dev);
        assert_eq!(out.len(), 24 + 3 * 17);
        assert_eq!(out[24 + 16], 1);
        assert_eq!(out[24 + 17 + 16], 1);
        assert_eq!(out[24 + 34 + 16], 2);
    }

    #[test]
    fn snaplen_and_mode() {
        let mut out = Vec::new();
        let mut dev = PcapWriter::with_options(loopback(), &mut out, PcapMode::RxOnly, 2);
        dev.transmit(Instant::ZERO).unwrap().consume(5, |b| b.fill(9));
        let (rx, _) = dev.receive(Instant::ZERO).unwrap();
        assert_eq!(rx.consume(|f| f.len()), 5);
        drop(dev);
        // One record (the receive), cut to 2 of 5 bytes.
        assert_eq!(&out[24..], &[0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 9, 9]);
    }

    #[test]
    fn slice_sink_skips_records_that_do_not_fit() {
        let mut storage = [0u8; 24 + 16 + 4];
        let mut dev = PcapWriter::new(loopback(), SliceSink::new(&mut storage));
        dev.transmit(Instant::ZERO).unwrap().consume(4, |b| b.fill(1));
        dev.transmit(Instant::ZERO).unwrap().consume(1, |b| b.fill(2));
        let (_, sink) = dev.into_parts();
        assert_eq!(sink.written().len(), 44);
        assert_eq!(&sink.written()[40..], &[1, 1, 1, 1]);
        assert_eq!(sink.skipped(), 1);
        let mut tiny = [0u8; 10];
        let sink = PcapWriter::new(loopback(), SliceSink::new(&mut tiny)).into_parts().1;
        assert_eq!(sink.written().len(), 0);
        assert_eq!(sink.skipped(), 1);
    }
}
