//! The `log` backend: lines on the PL011 console, each stamped with the
//! time since boot.
use crate::arch::timer;
use crate::drivers::pl011::Pl011;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};
use log::{LevelFilter, Log, Metadata, Record};
use spin::Mutex;

struct Console {
    uart: Mutex<Option<Pl011>>,
}

static CONSOLE: Console = Console { uart: Mutex::new(None) };
/// The UART's address, for `emergency` output that must not wait for the
/// lock (a fault or panic may have struck while it was held).
static UART_BASE: AtomicUsize = AtomicUsize::new(0);

/// Starts logging to the PL011 at `uart_base`.
pub fn init(uart_base: usize, clock_hz: Option<u32>, level: LevelFilter) {
    // SAFETY: the console UART from the device tree or board defaults, mapped as device memory.
    let uart = unsafe { Pl011::new(uart_base) };
    uart.init(clock_hz);
    *CONSOLE.uart.lock() = Some(uart);
    UART_BASE.store(uart_base, Ordering::Relaxed);
    // A second init (none happens) would keep the first logger.
    let _ = log::set_logger(&CONSOLE);
    log::set_max_level(level);
}

fn write_line(out: &mut impl Write, level: &str, args: core::fmt::Arguments) {
    let us = timer::uptime_micros();
    let _ = write!(out, "[{:5}.{:06}] {:5} ", us / 1_000_000, us % 1_000_000, level);
    let _ = out.write_fmt(args);
    let _ = out.write_str("\n");
}

impl Log for Console {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if let Some(uart) = self.uart.lock().as_mut() {
            write_line(uart, record.level().as_str(), *record.args());
        }
    }

    fn flush(&self) {}
}

/// Points `emergency` output at the board's default UART before the device
/// tree is read, so a fault or panic there is still reported (the firmware
/// or QEMU has the UART running).
pub fn early(uart_base: usize) {
    UART_BASE.store(uart_base, Ordering::Relaxed);
}

/// Writes one line straight to the UART, bypassing the lock: for the
/// exception and panic paths only.
pub fn emergency(args: core::fmt::Arguments) {
    let base = UART_BASE.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    // Concurrent output can at worst interleave characters on the way down.
    // SAFETY: the same mapped UART `init` set up.
    let mut uart = unsafe { Pl011::new(base) };
    write_line(&mut uart, "FATAL", args);
}
