//! Board-independent parts of the appliance, testable on the host.
#![no_std]

#[cfg(test)]
extern crate std;
