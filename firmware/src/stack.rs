//! The stack's high-water mark.
//!
//! cortex-m-rt (feature `paint-stack`) fills the stack region, from `_stack_end` (just
//! above the static RAM) up to `_stack_start` (the top of RAM), with `0xCCCC_CCCC`
//! before `main`. The stack grows down from the top, so the lowest word that no longer
//! holds the pattern is as deep as the stack has ever gone. Reading the region costs a
//! pass over it (about 370 KiB here), so it is done on request only.

use core::ptr::addr_of;

use cortex_m_rt::STACK_PAINT_VALUE;

unsafe extern "C" {
    static _stack_end: u32;
    static _stack_start: u32;
}

/// Bytes of stack used so far, at most.
pub(crate) fn peak() -> usize {
    // Only the symbols' addresses are taken (set by cortex-m-rt's linker script).
    let (end, start) = (addr_of!(_stack_end) as usize, addr_of!(_stack_start) as usize);
    let mut p = end;
    // SAFETY: `end..start` is RAM reserved for the stack (word aligned, per the linker
    // script's asserts); the part below the stack pointer is unused and reading it has
    // no effect.
    while p < start && unsafe { core::ptr::read_volatile(p as *const u32) } == STACK_PAINT_VALUE {
        p += 4;
    }
    start - p
}
