//! Polled 16550 UART driver (AST1030 layout: 4-byte register stride).
//!
//! Register facts relied on: THR at +0x00 (write), LSR at +0x14, LSR bit 5 (THRE) set
//! when the transmit holding register can take a byte.

const THR: usize = 0x00;
const LSR: usize = 0x14;
const LSR_THRE: u32 = 1 << 5;

/// A 16550 UART at a fixed MMIO base.
pub(crate) struct Uart16550 {
    base: usize,
}

impl Uart16550 {
    /// The UART whose registers start at `base`.
    pub(crate) const fn new(base: usize) -> Self {
        Self { base }
    }

    fn read(&self, off: usize) -> u32 {
        // SAFETY: `base` is a UART register block from the board support module; the
        // offset is a register of that block and reads have no side effects on LSR.
        unsafe { core::ptr::read_volatile((self.base + off) as *const u32) }
    }

    fn write(&self, off: usize, v: u32) {
        // SAFETY: as in `read`; writing THR queues one byte for transmission.
        unsafe { core::ptr::write_volatile((self.base + off) as *mut u32, v) }
    }

    /// Send every byte of `bytes`, waiting for room in the transmitter.
    pub(crate) fn write_all(&self, bytes: &[u8]) {
        for &b in bytes {
            while self.read(LSR) & LSR_THRE == 0 {}
            self.write(THR, u32::from(b));
        }
    }
}
