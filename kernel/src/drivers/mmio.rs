//! A typed view of a block of device registers at a fixed address.
use core::marker::PhantomData;
use core::ops::Deref;

/// Registers of type `T` (a `tock_registers` struct) at `base`.
pub struct MmioBlock<T> {
    base: usize,
    _registers: PhantomData<fn() -> T>,
}

impl<T> MmioBlock<T> {
    /// # Safety
    /// `base` must be the identity-mapped (device memory) address of a
    /// register block laid out as `T`, valid for the rest of the run, and
    /// nothing else may treat that memory as ordinary data.
    pub const unsafe fn new(base: usize) -> MmioBlock<T> {
        MmioBlock { base, _registers: PhantomData }
    }
}

impl<T> Deref for MmioBlock<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // tock_registers accesses the block only with volatile reads and writes.
        // SAFETY: `new`'s contract: a live, mapped register block of type T.
        unsafe { &*(self.base as *const T) }
    }
}

// SAFETY: the registers are accessed with volatile operations only; the
// kernel runs on one core and serialises use of each device itself.
unsafe impl<T> Send for MmioBlock<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for MmioBlock<T> {}
