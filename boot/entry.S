// Entry point of the image: the first instructions every core runs.
//
// In:  x0 = physical address of the device tree blob (0 when none).
// Out: kernel_main(dtb, entry_el) on the boot core, at EL1, with the stack
//      set, BSS zeroed, FP/SIMD enabled and IRQs masked. Other cores park.

.section .text.boot, "ax"
.global _start
_start:
    // Only core 0 boots; the others wait forever (they are not used).
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    cbnz    x9, park

    mov     x19, x0                     // keep the DTB pointer
    mrs     x20, CurrentEL
    lsr     x20, x20, #2                // x20 = exception level at entry
    and     x20, x20, #3

    cmp     x20, #2
    b.ne    at_el1

    // ---- Entered at EL2: configure EL2 and drop to EL1 ----------------
    // EL1 may use the physical counter and timer; no virtual offset.
    mrs     x9, cnthctl_el2
    orr     x9, x9, #3                  // EL1PCTEN | EL1PCEN
    msr     cnthctl_el2, x9
    msr     cntvoff_el2, xzr
    // No traps of FP/SIMD or other features to EL2.
    mov     x9, #0x33ff
    msr     cptr_el2, x9
    msr     hstr_el2, xzr
    // EL1 runs AArch64; nothing else is routed to EL2.
    mov     x9, #(1 << 31)              // HCR_EL2.RW
    msr     hcr_el2, x9
    // With a GICv3 system-register interface, let EL1 use it (SRE and
    // Enable in ICC_SRE_EL2), or EL1's accesses trap to EL2.
    mrs     x9, id_aa64pfr0_el1
    ubfx    x9, x9, #24, #4             // GIC field
    cbz     x9, 1f
    mrs     x9, S3_4_C12_C9_5           // ICC_SRE_EL2
    mov     x10, #0x9                   // SRE | Enable
    orr     x9, x9, x10
    msr     S3_4_C12_C9_5, x9
    isb
1:
    // EL1 starts with its MMU and caches off (RES1 bits set).
    ldr     x9, =0x30d00800
    msr     sctlr_el1, x9
    // Return to EL1h with DAIF masked, at at_el1, on our stack.
    mov     x9, #0x3c5
    msr     spsr_el2, x9
    adr     x9, at_el1
    msr     elr_el2, x9
    ldr     x9, =__stack_top
    msr     sp_el1, x9
    eret

at_el1:
    // FP/SIMD on before any Rust code: the compiler uses q registers for
    // plain copies, and they would trap while CPACR_EL1.FPEN is 0.
    mov     x9, #(3 << 20)
    msr     cpacr_el1, x9
    isb

    msr     daifset, #0xf
    ldr     x9, =__stack_top
    mov     sp, x9

    // Zero BSS (16-byte aligned by the linker script).
    ldr     x9, =__bss_start
    ldr     x10, =__bss_end
2:  cmp     x9, x10
    b.hs    3f
    stp     xzr, xzr, [x9], #16
    b       2b
3:
    mov     x0, x19
    mov     x1, x20
    bl      kernel_main
    // kernel_main never returns; if it did, stop here.
park:
    wfe
    b       park
