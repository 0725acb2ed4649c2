//! The console: human-readable lines on the console UART, and the fixed-size line
//! buffer every report is formatted into (no heap).

use core::fmt;

use crate::drivers::uart::{TxQueue, Uart};

/// Longest line; longer ones are cut (and end in `~`).
pub(crate) const LINE_LEN: usize = 200;

/// One line being formatted.
pub(crate) struct Line {
    buf: [u8; LINE_LEN],
    len: usize,
    cut: bool,
}

impl Line {
    /// An empty line.
    pub(crate) const fn new() -> Self {
        Self { buf: [0; LINE_LEN], len: 0, cut: false }
    }

    /// The text so far (without a line end).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len < LINE_LEN {
                self.buf[self.len] = b;
                self.len += 1;
            } else if !self.cut {
                self.cut = true;
                self.buf[LINE_LEN - 1] = b'~';
            }
        }
        Ok(())
    }
}

/// Format `args` into a [`Line`].
pub(crate) fn line(args: fmt::Arguments<'_>) -> Line {
    let mut l = Line::new();
    let _ = fmt::write(&mut l, args);
    l
}

/// The console UART behind a transmit queue.
#[derive(Debug)]
pub(crate) struct Console {
    uart: Uart,
    tx: TxQueue<2048>,
}

impl Console {
    /// The console on `uart`.
    pub(crate) const fn new(uart: Uart) -> Self {
        Self { uart, tx: TxQueue::new() }
    }

    /// Queue `line` and a line end (dropped whole if the queue is full).
    pub(crate) fn write_line(&mut self, line: &Line) {
        let mut out = [0u8; LINE_LEN + 2];
        let n = line.as_bytes().len();
        out[..n].copy_from_slice(line.as_bytes());
        out[n..n + 2].copy_from_slice(b"\r\n");
        self.tx.push(&out[..n + 2]);
    }

    /// Move queued bytes to the UART.
    pub(crate) fn pump(&mut self) {
        self.tx.pump(&mut self.uart);
    }

    /// Whether output waits for the UART.
    pub(crate) fn tx_pending(&self) -> bool {
        self.tx.len() > 0
    }
}
