//! A `core::fmt::Write` sink over a fixed byte slice that never writes
//! past its end, and can roll back to a mark so a renderer can drop an
//! element that did not fit whole (instead of leaving half of it).

use core::fmt;

/// Writes into a caller-provided slice. A write that would not fit
/// entirely writes nothing and fails with `fmt::Error`, so the bytes
/// written so far are always a sequence of complete `write_str` calls.
///
/// A *reserve* keeps the last bytes of the slice for the closing part of
/// a document: while it is set, writes fail once they would reach into it.
#[derive(Debug)]
pub struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
    reserve: usize,
}

impl<'a> SliceWriter<'a> {
    pub fn new(buf: &'a mut [u8]) -> SliceWriter<'a> {
        SliceWriter { buf, len: 0, reserve: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// A position to [`rollback`](Self::rollback) to.
    pub fn mark(&self) -> usize {
        self.len
    }

    /// Forget everything written after `mark` (a value from [`mark`](Self::mark)).
    pub fn rollback(&mut self, mark: usize) {
        self.len = self.len.min(mark);
    }

    /// Keep the last `bytes` of the slice free until the reserve is set
    /// back to zero.
    pub fn set_reserve(&mut self, bytes: usize) {
        self.reserve = bytes;
    }

    /// Bytes that can still be written under the current reserve.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.reserve).saturating_sub(self.len)
    }

    /// Run `f`, and if it fails, forget whatever it wrote: the output then
    /// holds all of `f`'s bytes or none of them.
    pub fn atomic(&mut self, f: impl FnOnce(&mut Self) -> fmt::Result) -> fmt::Result {
        let mark = self.mark();
        let result = f(self);
        if result.is_err() {
            self.rollback(mark);
        }
        result
    }

    /// Append raw bytes (all or nothing).
    pub fn write_bytes(&mut self, bytes: &[u8]) -> fmt::Result {
        if bytes.len() > self.remaining() {
            return Err(fmt::Error);
        }
        let end = self.len + bytes.len();
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn writes_until_full_and_never_partially() {
        let mut buf = [0u8; 8];
        let mut w = SliceWriter::new(&mut buf);
        assert_eq!(w.write_str("abcde"), Ok(()));
        assert_eq!(w.write_str("fghi"), Err(fmt::Error));
        assert_eq!(w.written(), b"abcde");
        assert_eq!(w.write_str("fgh"), Ok(()));
        assert_eq!(w.written(), b"abcdefgh");
        assert_eq!(w.remaining(), 0);
        assert_eq!(w.write_str(""), Ok(()));
    }

    #[test]
    fn rollback_drops_what_came_after_the_mark() {
        let mut buf = [0u8; 16];
        let mut w = SliceWriter::new(&mut buf);
        write!(w, "{}-", 12).unwrap();
        let mark = w.mark();
        write!(w, "{}", 345).unwrap();
        w.rollback(mark);
        assert_eq!(w.written(), b"12-");
        w.rollback(100);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn reserve_keeps_the_tail_free() {
        let mut buf = [0u8; 10];
        let mut w = SliceWriter::new(&mut buf);
        w.set_reserve(4);
        assert_eq!(w.remaining(), 6);
        assert_eq!(w.write_str("1234567"), Err(fmt::Error));
        assert_eq!(w.write_str("123456"), Ok(()));
        w.set_reserve(0);
        assert_eq!(w.write_str("}}}}"), Ok(()));
        assert_eq!(w.written(), b"123456}}}}");
    }

    #[test]
    fn a_formatted_value_that_overflows_midway_is_rolled_back_by_the_caller() {
        // `write!` may succeed on its first pieces and fail on a later one;
        // renderers mark before and roll back on error.
        let mut buf = [0u8; 6];
        let mut w = SliceWriter::new(&mut buf);
        let mark = w.mark();
        assert!(write!(w, "{}:{}", 1234, 5678).is_err());
        assert!(w.len() <= 5);
        w.rollback(mark);
        assert!(w.is_empty());
    }

    #[test]
    fn atomic_writes_all_or_nothing() {
        let mut buf = [0u8; 6];
        let mut w = SliceWriter::new(&mut buf);
        assert_eq!(w.atomic(|w| write!(w, "{}", 12)), Ok(()));
        assert_eq!(w.atomic(|w| write!(w, "[{}]", 345)), Err(fmt::Error));
        assert_eq!(w.written(), b"12");
        assert_eq!(w.atomic(|w| write!(w, "[{}]", 3)), Ok(()));
        assert_eq!(w.written(), b"12[3]");
    }
}
