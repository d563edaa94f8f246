//! CPU architecture support. Only AArch64 exists; another architecture
//! would be a sibling module with the same items.
pub mod aarch64;
pub use aarch64::*;
