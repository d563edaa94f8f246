//! The kernel's side of the GENET driver (`kernel::genet`): its registers
//! through MMIO, and DMA buffers in RAM with cache maintenance (the GENET's
//! DMA does not snoop the CPU caches).
use crate::arch::{cache, timer};
use alloc::boxed::Box;
use alloc::vec;
use kernel::genet::{DmaBuffers, Genet, Registers, BUFFER_LEN, RING_SIZE};

/// The driver as the Pi 4 board uses it.
pub type GenetNic = Genet<MmioRegisters, RamBuffers>;

/// The 64 KiB register block.
pub struct MmioRegisters {
    base: usize,
}

/// Size of the register block.
const BLOCK_SIZE: usize = 0x1_0000;

impl MmioRegisters {
    /// # Safety
    /// `base` must be the mapped (device memory) address of a 64 KiB
    /// register window that nothing else uses, where reading or writing any
    /// aligned word does not fault (probe it first: `arch::probe`).
    pub unsafe fn new(base: usize) -> MmioRegisters {
        MmioRegisters { base }
    }

    fn address(&self, offset: usize) -> Option<*mut u32> {
        (offset < BLOCK_SIZE && offset % 4 == 0).then(|| (self.base + offset) as *mut u32)
    }
}

impl Registers for MmioRegisters {
    fn read(&mut self, offset: usize) -> u32 {
        match self.address(offset) {
            // SAFETY: an aligned word inside the window `new` was given.
            Some(register) => unsafe { core::ptr::read_volatile(register) },
            None => 0,
        }
    }

    fn write(&mut self, offset: usize, value: u32) {
        if let Some(register) = self.address(offset) {
            // SAFETY: an aligned word inside the window `new` was given.
            unsafe { core::ptr::write_volatile(register, value) }
        }
    }

    fn delay_us(&mut self, us: u32) {
        let until = timer::uptime_micros() + us as u64;
        while timer::uptime_micros() < until {
            core::hint::spin_loop();
        }
    }
}

/// A DMA buffer on its own cache lines.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Buffer([u8; BUFFER_LEN]);

/// One ring's buffers in RAM. The MMU maps RAM 1:1 and the Pi 4's GENET
/// sits on a bus with no DMA offset, so a buffer's address is its bus address.
pub struct RamBuffers {
    buffers: Box<[Buffer]>,
}

impl RamBuffers {
    pub fn new() -> RamBuffers {
        RamBuffers { buffers: vec![Buffer([0; BUFFER_LEN]); RING_SIZE].into_boxed_slice() }
    }

    fn range(&self, index: usize, len: usize) -> Option<(usize, usize)> {
        let buffer = self.buffers.get(index)?;
        Some((buffer.0.as_ptr() as usize, len.min(BUFFER_LEN)))
    }
}

impl DmaBuffers for RamBuffers {
    fn bus_address(&self, index: usize) -> u64 {
        self.buffers.get(index).map_or(0, |b| b.0.as_ptr() as u64)
    }

    fn buffer(&mut self, index: usize) -> &mut [u8] {
        match self.buffers.get_mut(index) {
            Some(buffer) => &mut buffer.0,
            None => &mut [],
        }
    }

    fn for_device(&mut self, index: usize, len: usize) {
        if let Some((start, len)) = self.range(index, len) {
            // Receive buffers are handed over whole: no dirty line may later
            // be written back over what the device puts there.
            cache::clean_and_invalidate(start, len);
        }
    }

    fn for_cpu(&mut self, index: usize, len: usize) {
        if let Some((start, len)) = self.range(index, len) {
            // Lines fetched (speculatively) while the device owned the buffer are stale.
            cache::clean_and_invalidate(start, len);
        }
    }
}
