//! The appliance image.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("the kernel runs on aarch64-unknown-none only: use scripts/run");
    std::process::exit(2);
}
