//! Board support: the facts of one board (memory map, default device
//! addresses, load address). Exactly one board is built in, chosen by a
//! cargo feature; a new board is a new folder here.
#[cfg(feature = "board-qemu-virt")]
mod qemu_virt;
#[cfg(feature = "board-qemu-virt")]
pub use qemu_virt::*;

#[cfg(feature = "board-rpi4")]
mod rpi4;
#[cfg(feature = "board-rpi4")]
pub use rpi4::*;

#[cfg(not(any(feature = "board-qemu-virt", feature = "board-rpi4")))]
compile_error!("choose a board: --features board-qemu-virt or --no-default-features --features board-rpi4");
#[cfg(all(feature = "board-qemu-virt", feature = "board-rpi4"))]
compile_error!("one board at a time: --no-default-features --features board-rpi4");
