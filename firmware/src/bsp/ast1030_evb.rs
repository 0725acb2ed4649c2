//! ASPEED AST1030 evaluation board, as QEMU's `ast1030-evb` models it.
//!
//! UARTs are 16550s with a 4-byte register stride. QEMU wires `-serial` number 0 to
//! UART5, which is the console here.

/// UART5: QEMU `serial0`, the console (and, later, path L to the host).
pub(crate) const CONSOLE_UART_BASE: usize = 0x7E78_4000;
