//! Volatile access to one block of 32-bit memory-mapped registers.

/// A register block at a fixed physical address. Every AST1030 peripheral register
/// the drivers use is 32 bits wide and 4-byte aligned, and QEMU's models accept only
/// 4-byte accesses to them (`valid.min_access_size = 4`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mmio {
    base: usize,
}

impl Mmio {
    /// The block at `base`.
    ///
    /// # Safety
    /// `base` must be the address of a register block of this SoC (from the board
    /// support module), and the caller must be its only user: the drivers own their
    /// blocks, and `bsp::Board::take` creates each driver once.
    pub(crate) const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    /// Read the register at byte offset `off`.
    pub(crate) fn read(self, off: usize) -> u32 {
        // SAFETY: `new`'s contract: `base + off` is a register of a block we own, aligned
        // (every offset used is a multiple of 4) and mapped for the program's lifetime.
        unsafe { core::ptr::read_volatile((self.base + off) as *const u32) }
    }

    /// Write `value` to the register at byte offset `off`.
    pub(crate) fn write(self, off: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile((self.base + off) as *mut u32, value) }
    }

    /// Read-modify-write the register at `off`: clear `clear`, then set `set`.
    pub(crate) fn modify(self, off: usize, clear: u32, set: u32) {
        let v = self.read(off);
        self.write(off, (v & !clear) | set);
    }
}
