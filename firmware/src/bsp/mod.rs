//! Board support: one module per board; exactly one is selected by a cargo feature.
//!
//! A board module says where everything is (register blocks, which UART is which
//! path, which pins are the fence lines, which I2C bus and address the enclosure's
//! fence controller answers on) and builds a [`Board`] of ready drivers from that.
//! The rest of the firmware sees only [`Board`].

use crate::drivers::gpio::{Input, Output};
use crate::drivers::i2c::I2cBus;
use crate::drivers::timer::Monotonic;
use crate::drivers::uart::Uart;
use crate::drivers::wdt::Watchdog;

#[cfg(feature = "board-ast1030-evb")]
pub(crate) mod ast1030_evb;
#[cfg(feature = "board-ast1030-evb")]
pub(crate) use ast1030_evb as board;

#[cfg(not(feature = "board-ast1030-evb"))]
compile_error!("select a board with a `board-*` feature (only `board-ast1030-evb` exists)");

/// An NVIC interrupt line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Irq(pub(crate) u16);

// SAFETY: `number` returns the line number the board module names, always below the
// NVIC's 256 lines (`num-irq` of the AST1030's ARMv7-M core).
unsafe impl cortex_m::interrupt::InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

/// The board's drivers, ready to use.
#[derive(Debug)]
pub(crate) struct Board {
    /// Human-readable log and reports (not a protocol path).
    pub(crate) console: Uart,
    /// Path L: our own host.
    pub(crate) host: Uart,
    /// Path B: the peer controller's BMC.
    pub(crate) peer: Uart,
    /// Microseconds since boot.
    pub(crate) clock: Monotonic,
    /// The hardware watchdog (stopped until the main loop arms it).
    pub(crate) watchdog: Watchdog,
    /// The bus the enclosure fence controller is on.
    pub(crate) fence_bus: I2cBus,
    /// The fence controller's 7-bit address.
    pub(crate) fence_address: u8,
    /// Whether the fence controller is a blank register file standing in for the CPLD
    /// (see the board module): seeded with the CPLD's reset values when blank.
    pub(crate) fence_standin: bool,
    /// High: cut the peer controller's SAS expander ports.
    pub(crate) cut_peer_ports: Output,
    /// High: hold the peer host in reset (pulsed).
    pub(crate) reset_peer_host: Output,
    /// High: our own host is hung or dead (an indicator for the enclosure / front panel).
    pub(crate) host_fault: Output,
    /// High: our own host is powered off or held in reset.
    pub(crate) host_in_reset: Input,
    /// The interrupt lines that wake the main loop (the path UARTs' receive interrupts).
    pub(crate) wake_irqs: [Irq; 2],
}
