//! Board-independent parts of the appliance, testable on the host.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

pub mod apps;
pub mod bootargs;

/// The appliance's version, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
