//! AArch64: entry, exception vectors, MMU, generic timer, power control.
pub mod boot;
pub mod cache;
pub mod cpu;
pub mod exception;
pub mod mmu;
pub mod power;
pub mod probe;
pub mod timer;
