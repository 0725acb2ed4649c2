//! 16550-compatible UART, polled, with a transmit queue so the main loop never waits
//! for a slow or dead link.
//!
//! Register facts relied on (AST1030 layout, 4-byte register stride; QEMU's
//! `serial-mm` with `regshift` 2, checked on QEMU 7.2's `ast1030-evb`):
//!
//! | offset | read         | write        | notes |
//! |--------|--------------|--------------|-------|
//! | `0x00` | RBR          | THR          | DLL while LCR.DLAB (bit 7) is set |
//! | `0x04` | IER          | IER          | DLM while DLAB; bit 0 = receive data interrupt |
//! | `0x08` | IIR          | FCR          | FCR `0xC7`: FIFOs on, both cleared, RX trigger 14 bytes |
//! | `0x0C` | LCR          | LCR          | `0x03` = 8 data bits, no parity, 1 stop bit |
//! | `0x14` | LSR          | -            | bit 0 DR (data ready), bits 1..=4 OE/PE/FE/BI (cleared by reading), bit 5 THRE (TX FIFO empty) |
//!
//! - TX and RX FIFOs are 16 bytes: when THRE is set, 16 bytes may be written at once.
//! - QEMU delivers received bytes only as fast as the guest drains the FIFO (it offers
//!   the trigger level, 14, to an empty FIFO, then one byte at a time up to 16), and
//!   it back-pressures the sender; nothing is lost while both ends are connected.
//!   With trigger 1 QEMU would offer one byte per drain, so keep FCR at `0xC7`.
//! - QEMU does not time transmission: THR bytes go out at once unless the chardev
//!   pushes back, in which case THRE stays clear until it drains. A dead peer thus
//!   fills our [`TxQueue`], never stalls the loop.
//! - The divisor sets the baud rate on silicon (UART clock 24 MHz / 13 / 16 / divisor:
//!   1 = 115200 baud, an assumption from the ASPEED family, not verified here); QEMU
//!   uses it only for its receive-timeout interrupt (4 character times).

use super::Mmio;

const RBR_THR: usize = 0x00;
const IER: usize = 0x04;
const FCR: usize = 0x08;
const LCR: usize = 0x0C;
const LSR: usize = 0x14;

const LCR_DLAB: u32 = 1 << 7;
const LCR_8N1: u32 = 0x03;
const FCR_FIFO_RX14: u32 = 0xC7;
const IER_RX_DATA: u32 = 1 << 0;
const LSR_DR: u32 = 1 << 0;
const LSR_ERRORS: u32 = 0b1_1110;
const LSR_THRE: u32 = 1 << 5;
/// Depth of the transmit FIFO.
const TX_FIFO: usize = 16;

/// One UART.
#[derive(Debug)]
pub(crate) struct Uart {
    regs: Mmio,
    /// Line errors (overrun, parity, framing, break) seen in LSR, for the counters.
    line_errors: u32,
}

impl Uart {
    /// The UART whose registers are `regs`.
    pub(crate) const fn new(regs: Mmio) -> Self {
        Self { regs, line_errors: 0 }
    }

    /// 8N1 at `divisor`, FIFOs on with the receive trigger at 14 bytes, and the receive
    /// interrupt enabled when `rx_irq` (it only wakes the main loop from `wfi`).
    pub(crate) fn init(&mut self, divisor: u16, rx_irq: bool) {
        self.regs.write(IER, 0);
        self.regs.write(LCR, LCR_DLAB | LCR_8N1);
        self.regs.write(RBR_THR, u32::from(divisor & 0xFF));
        self.regs.write(IER, u32::from(divisor >> 8));
        self.regs.write(LCR, LCR_8N1);
        self.regs.write(FCR, FCR_FIFO_RX14);
        // Drop whatever arrived before we were listening.
        let _ = self.regs.read(LSR);
        while self.regs.read(LSR) & LSR_DR != 0 {
            let _ = self.regs.read(RBR_THR);
        }
        if rx_irq {
            self.regs.write(IER, IER_RX_DATA);
        }
    }

    /// Move received bytes into `buf` (as many as are waiting and fit); returns how many.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let lsr = self.regs.read(LSR);
            if lsr & LSR_ERRORS != 0 {
                self.line_errors = self.line_errors.wrapping_add(1);
            }
            if lsr & LSR_DR == 0 {
                break;
            }
            buf[n] = self.regs.read(RBR_THR) as u8;
            n += 1;
        }
        n
    }

    /// Line errors seen so far.
    pub(crate) fn line_errors(&self) -> u32 {
        self.line_errors
    }

    /// Write up to one FIFO's worth of `bytes` if the transmitter is empty; returns how
    /// many were taken.
    fn write_fifo(&mut self, bytes: &[u8]) -> usize {
        if self.regs.read(LSR) & LSR_THRE == 0 {
            return 0;
        }
        let n = bytes.len().min(TX_FIFO);
        for &b in &bytes[..n] {
            self.regs.write(RBR_THR, u32::from(b));
        }
        n
    }
}

/// A byte queue in front of a UART's transmitter: whole frames go in or are refused,
/// [`Self::pump`] moves bytes out as the FIFO empties.
#[derive(Debug)]
pub(crate) struct TxQueue<const N: usize> {
    buf: [u8; N],
    head: usize,
    len: usize,
    /// Frames refused because the queue was full (the line is slow or dead).
    dropped: u32,
}

impl<const N: usize> TxQueue<N> {
    /// An empty queue.
    pub(crate) const fn new() -> Self {
        Self { buf: [0; N], head: 0, len: 0, dropped: 0 }
    }

    /// Queue all of `bytes`, or none of them (counted as dropped) if they do not fit.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > N - self.len {
            self.dropped = self.dropped.wrapping_add(1);
            return false;
        }
        for &b in bytes {
            self.buf[(self.head + self.len) % N] = b;
            self.len += 1;
        }
        true
    }

    /// Hand queued bytes to `uart` while its FIFO takes them.
    pub(crate) fn pump(&mut self, uart: &mut Uart) {
        while self.len > 0 {
            let first = &self.buf[self.head..(self.head + self.len).min(N)];
            let n = uart.write_fifo(first);
            if n == 0 {
                return;
            }
            self.head = (self.head + n) % N;
            self.len -= n;
        }
    }

    /// Bytes waiting.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Frames refused so far.
    pub(crate) fn dropped(&self) -> u32 {
        self.dropped
    }
}
