//! The kernel heap: free RAM the device tree reports, for driver DMA memory
//! and boot-time tables. The network stack never allocates from it.
use crate::arch::mmu::MemoryKind;
use crate::platform::Platform;
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use linked_list_allocator::Heap;
use spin::Mutex;

struct KernelHeap(Mutex<Heap>);

// SAFETY: allocation and deallocation go through linked_list_allocator
// under a lock; interrupt handlers never allocate, so the lock cannot be
// re-entered on this single core.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.lock().allocate_first_fit(layout).map_or(ptr::null_mut(), |p| p.as_ptr())
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        let ptr = unsafe { self.alloc(layout) };
        if !ptr.is_null() {
            // SAFETY: a fresh block of `layout.size()` bytes of heap RAM (Normal memory).
            unsafe { crate::arch::cpu::zero_memory(ptr, layout.size()) };
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: `ptr` came from `alloc` with this layout (GlobalAlloc's contract).
            unsafe { self.0.lock().deallocate(p, layout) };
        }
    }
}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(Mutex::new(Heap::empty()));

extern "C" {
    static __image_end: u8;
}

/// The heap's extent, for the banner.
pub struct HeapExtent {
    pub start: usize,
    pub size: usize,
}

/// Gives the heap the RAM above the image, leaving out the device tree
/// blob if it lies there.
pub fn init(platform: &Platform) -> HeapExtent {
    // Only the address of the linker symbol is taken.
    let image_end = ptr::addr_of!(__image_end) as usize;
    // Only RAM the early memory map covers (the board may map less than
    // the device tree reports, e.g. the Pi 4's first GiB).
    let mapped_end = crate::bsp::MEMORY_MAP
        .iter()
        .find(|r| r.kind == MemoryKind::Normal && r.base <= image_end as u64 && image_end as u64 <= r.base + r.size)
        .map_or(0, |r| (r.base + r.size) as usize);
    let ram_end = ((platform.ram_base + platform.ram_size) as usize).min(mapped_end);
    let mut start = image_end.next_multiple_of(4096);
    let mut end = ram_end;
    if let Some((dtb, dtb_size)) = platform.dtb {
        let dtb_end = dtb + dtb_size;
        if dtb_end > start && dtb < end {
            // Keep the larger side of the blob.
            if dtb.saturating_sub(start) >= end.saturating_sub(dtb_end) {
                end = dtb;
            } else {
                start = dtb_end.next_multiple_of(4096);
            }
        }
    }
    let size = end.saturating_sub(start);
    if size > 0 {
        // [start, end) is RAM (from the device tree or board defaults).
        // SAFETY: it holds neither the image, its stack nor the DTB, and nothing else uses it.
        unsafe { HEAP.0.lock().init(start as *mut u8, size) };
    }
    HeapExtent { start, size }
}
