//! A panic is a bug: print where, then power off with a failure status.
use core::panic::PanicInfo;

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    match info.location() {
        Some(loc) => crate::logger::emergency(format_args!(
            "panic at {}:{}:{}: {}",
            loc.file(),
            loc.line(),
            loc.column(),
            info.message()
        )),
        None => crate::logger::emergency(format_args!("panic: {}", info.message())),
    }
    crate::arch::power::exit(crate::EXIT_PANIC)
}
