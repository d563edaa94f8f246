// EL1 exception vector table: 16 entries of 128 bytes, 2 KiB aligned.
// Each entry saves the interrupted context on the stack as an
// `ExceptionFrame` (see kernel/src/arch/aarch64/exception.rs) and calls the
// Rust handler for its kind with a pointer to it.

.macro SAVE_AND_CALL handler
    sub     sp, sp, #(36 * 8)
    stp     x0, x1, [sp, #(0 * 8)]
    stp     x2, x3, [sp, #(2 * 8)]
    stp     x4, x5, [sp, #(4 * 8)]
    stp     x6, x7, [sp, #(6 * 8)]
    stp     x8, x9, [sp, #(8 * 8)]
    stp     x10, x11, [sp, #(10 * 8)]
    stp     x12, x13, [sp, #(12 * 8)]
    stp     x14, x15, [sp, #(14 * 8)]
    stp     x16, x17, [sp, #(16 * 8)]
    stp     x18, x19, [sp, #(18 * 8)]
    stp     x20, x21, [sp, #(20 * 8)]
    stp     x22, x23, [sp, #(22 * 8)]
    stp     x24, x25, [sp, #(24 * 8)]
    stp     x26, x27, [sp, #(26 * 8)]
    stp     x28, x29, [sp, #(28 * 8)]
    mrs     x9, elr_el1
    mrs     x10, spsr_el1
    stp     x30, x9, [sp, #(30 * 8)]
    mrs     x11, esr_el1
    mrs     x12, far_el1
    stp     x10, x11, [sp, #(32 * 8)]
    str     x12, [sp, #(34 * 8)]
    mov     x0, sp
    bl      \handler
    b       exception_return
.endm

.macro VECTOR handler
.balign 0x80
    SAVE_AND_CALL \handler
.endm

.section .text
.balign 0x800
.global exception_vectors
exception_vectors:
    // Current EL with SP_EL0 (never used by this kernel).
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    // Current EL with SP_ELx: the kernel itself.
    VECTOR exception_sync
    VECTOR exception_irq
    VECTOR exception_unexpected
    VECTOR exception_serror
    // Lower EL, AArch64 and AArch32: there is no lower EL code.
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected
    VECTOR exception_unexpected

exception_return:
    ldp     x10, x11, [sp, #(32 * 8)]
    ldp     x30, x9, [sp, #(30 * 8)]
    msr     elr_el1, x9
    msr     spsr_el1, x10
    ldp     x0, x1, [sp, #(0 * 8)]
    ldp     x2, x3, [sp, #(2 * 8)]
    ldp     x4, x5, [sp, #(4 * 8)]
    ldp     x6, x7, [sp, #(6 * 8)]
    ldp     x8, x9, [sp, #(8 * 8)]
    ldp     x10, x11, [sp, #(10 * 8)]
    ldp     x12, x13, [sp, #(12 * 8)]
    ldp     x14, x15, [sp, #(14 * 8)]
    ldp     x16, x17, [sp, #(16 * 8)]
    ldp     x18, x19, [sp, #(18 * 8)]
    ldp     x20, x21, [sp, #(20 * 8)]
    ldp     x22, x23, [sp, #(22 * 8)]
    ldp     x24, x25, [sp, #(24 * 8)]
    ldp     x26, x27, [sp, #(26 * 8)]
    ldp     x28, x29, [sp, #(28 * 8)]
    add     sp, sp, #(36 * 8)
    eret
