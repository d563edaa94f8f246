//! The appliance image: boots, discovers the machine, and runs the event
//! loop. Board facts live in `bsp`, CPU specifics in `arch`.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod arch;
#[cfg(target_os = "none")]
mod boot_sequence;
#[cfg(target_os = "none")]
mod bsp;
#[cfg(target_os = "none")]
mod drivers;
#[cfg(target_os = "none")]
mod event_loop;
#[cfg(target_os = "none")]
mod heap;
#[cfg(target_os = "none")]
mod irq;
#[cfg(target_os = "none")]
mod logger;
#[cfg(target_os = "none")]
mod nic;
#[cfg(target_os = "none")]
mod panic;
#[cfg(target_os = "none")]
mod platform;
#[cfg(target_os = "none")]
mod selftest;
#[cfg(target_os = "none")]
mod stack_guard;

/// Exit statuses (visible to tests through semihosting).
pub const EXIT_SUCCESS: u32 = 0;
pub const EXIT_PANIC: u32 = 1;
pub const EXIT_SELFTEST_FAILED: u32 = 2;
pub const EXIT_FAULT: u32 = 3;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the kernel runs on aarch64-unknown-none only: use scripts/run");
    std::process::exit(2);
}
