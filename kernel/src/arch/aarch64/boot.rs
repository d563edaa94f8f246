//! The entry assembly (boot/entry.S) and the exception vector table
//! (boot/vectors.S), assembled into the image.
core::arch::global_asm!(include_str!("../../../../boot/entry.S"));
core::arch::global_asm!(include_str!("../../../../boot/vectors.S"));
