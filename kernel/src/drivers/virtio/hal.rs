//! DMA memory for virtio queues and buffers. The MMU maps RAM 1:1, so a
//! buffer's physical address is its virtual address, and QEMU's virtio
//! devices are cache-coherent, so sharing needs no cache maintenance.
use alloc::alloc::{alloc_zeroed, dealloc};
use core::alloc::Layout;
use core::ptr::NonNull;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

const PAGE_SIZE: usize = 4096;

pub struct KernelHal;

fn page_layout(pages: usize) -> Layout {
    match Layout::from_size_align(pages.max(1) * PAGE_SIZE, PAGE_SIZE) {
        Ok(layout) => layout,
        Err(_) => panic!("virtio asked for an impossible DMA size: {pages} pages"),
    }
}

// SAFETY: dma_alloc returns zeroed, page-aligned, identity-mapped memory
// that stays allocated until dma_dealloc; shared buffers are identity
// mapped RAM, so their addresses are what the device must use.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let layout = page_layout(pages);
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        // Queues are allocated once at boot: running out of heap there is fatal.
        let Some(ptr) = NonNull::new(ptr) else { panic!("out of heap for {pages} pages of virtio DMA memory") };
        (ptr.as_ptr() as PhysAddr, ptr)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        // SAFETY: `vaddr` came from dma_alloc with the same page count (Hal's contract).
        unsafe { dealloc(vaddr.as_ptr(), page_layout(pages)) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        let Some(ptr) = NonNull::new(paddr as *mut u8) else { panic!("virtio BAR at physical address 0") };
        ptr
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr() as *mut u8 as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
