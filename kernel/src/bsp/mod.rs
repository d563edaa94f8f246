//! Board support: the facts of one board (memory map, default device
//! addresses, load address). Exactly one board is built in, chosen by a
//! cargo feature; a new board is a new folder here.
#[cfg(feature = "board-qemu-virt")]
mod qemu_virt;
#[cfg(feature = "board-qemu-virt")]
pub use qemu_virt::*;

#[cfg(not(any(feature = "board-qemu-virt")))]
compile_error!("choose a board: --features board-qemu-virt");
