//! Exception handling: IRQs go to the interrupt dispatcher; anything else
//! is a bug, reported with its syndrome before the machine powers off with
//! a failure status.
use aarch64_cpu::registers::{Writeable, VBAR_EL1};

/// The interrupted context as boot/vectors.S saves it.
#[repr(C)]
pub struct ExceptionFrame {
    pub x: [u64; 31],
    pub elr: u64,
    pub spsr: u64,
    pub esr: u64,
    pub far: u64,
    _pad: u64,
}

extern "C" {
    static exception_vectors: u8;
}

/// Points VBAR_EL1 at the vector table.
pub fn install() {
    // Only the address of the linker-provided symbol is taken.
    let base = core::ptr::addr_of!(exception_vectors) as u64;
    VBAR_EL1.set(base);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// The exception class (ESR_EL1.EC) in words.
pub fn class_name(ec: u64) -> &'static str {
    match ec {
        0x00 => "unknown reason",
        0x01 => "trapped WFI/WFE",
        0x07 => "access to SIMD/FP trapped",
        0x0e => "illegal execution state",
        0x15 => "SVC from AArch64",
        0x16 => "HVC from AArch64",
        0x17 => "SMC from AArch64",
        0x18 => "trapped system register access",
        0x20 => "instruction abort from a lower EL",
        0x21 => "instruction abort from the current EL",
        0x22 => "PC alignment fault",
        0x24 => "data abort from a lower EL",
        0x25 => "data abort from the current EL",
        0x26 => "SP alignment fault",
        0x2c => "trapped floating-point exception",
        0x2f => "SError",
        0x30 | 0x31 => "breakpoint",
        0x32 | 0x33 => "software step",
        0x34 | 0x35 => "watchpoint",
        0x3c => "BRK instruction",
        _ => "reserved exception class",
    }
}

/// For aborts: the fault status code (ESR ISS DFSC/IFSC) in words.
fn fault_status_name(fsc: u64) -> &'static str {
    match fsc {
        0x00..=0x03 => "address size fault",
        0x04..=0x07 => "translation fault",
        0x09..=0x0b => "access flag fault",
        0x0d..=0x0f => "permission fault",
        0x10 => "synchronous external abort",
        0x21 => "alignment fault",
        0x30 => "TLB conflict abort",
        _ => "other fault",
    }
}

fn report(kind: &str, frame: &ExceptionFrame) -> ! {
    let ec = (frame.esr >> 26) & 0x3f;
    let is_abort = matches!(ec, 0x20 | 0x21 | 0x24 | 0x25);
    let fsc = frame.esr & 0x3f;
    if !crate::stack_guard::intact() {
        crate::logger::emergency(format_args!("the boot stack has overflowed (canary overwritten)"));
    }
    crate::logger::emergency(format_args!(
        "unexpected exception ({kind}): {} (EC {ec:#04x}){}{} ESR {:#018x} FAR {:#018x} ELR {:#018x} SPSR {:#x}",
        class_name(ec),
        if is_abort { ", " } else { "" },
        if is_abort { fault_status_name(fsc) } else { "" },
        frame.esr,
        frame.far,
        frame.elr,
        frame.spsr,
    ));
    super::power::exit(crate::EXIT_FAULT)
}

#[no_mangle]
extern "C" fn exception_sync(frame: &mut ExceptionFrame) {
    let ec = (frame.esr >> 26) & 0x3f;
    if ec == 0x25 && super::probe::recover(&mut frame.elr, &mut frame.x) {
        return; // a probed device register that is not there
    }
    report("synchronous", frame)
}

#[no_mangle]
extern "C" fn exception_irq(_frame: &mut ExceptionFrame) {
    crate::irq::handle();
}

#[no_mangle]
extern "C" fn exception_serror(frame: &mut ExceptionFrame) {
    report("SError", frame)
}

#[no_mangle]
extern "C" fn exception_unexpected(frame: &mut ExceptionFrame) {
    report("from an unused vector", frame)
}
