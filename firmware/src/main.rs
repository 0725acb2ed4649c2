//! BMC firmware for the ASPEED AST1030 (Cortex-M4F), running `failover-core`'s BMC role.
//!
//! The BMC is the controller's independent witness and hard fence: it watches its own
//! host over a UART (path L: the host heartbeats it, it relays what it knows of the
//! peer), heartbeats the peer controller's BMC over another UART (path B), declares
//! its host hung when the host's heartbeats stop, and executes the fences on the peer
//! (enclosure port cut by GPIO line and I2C register, host reset pulse). Its hardware
//! watchdog is kicked only while the main loop runs.
//!
//! # Layout
//! - [`bsp`]: where things are on the board (addresses, UART roles, pins, I2C bus);
//! - [`drivers`]: UART, watchdog, GPIO, I2C master, monotonic timer; small, polled,
//!   embedded-hal 1.0 where a trait exists;
//! - [`app`]: the main loop around the core's `BmcNode`;
//! - [`link`]: one protocol path on a UART (COBS framing, counters);
//! - [`fence`] and [`smbus`]: the peer's fences, the enclosure register protocol of
//!   `failover_core::enclosure` over SMBus-style register access;
//! - [`persist`]: boot counter, epoch and reset cause in RAM that survives a reset;
//! - [`config`]: node identity, key and timings, baked in at build time;
//! - [`console`], [`report`]: one-line text reports; [`panic`]: record and reset;
//!   [`stack`]: the stack's high-water mark;
//! - `debug` (feature `test-hooks`, test images only): debug frames on path L.
//!
//! # Guarantees
//! No heap; every buffer is a fixed array. Bad input on any UART is counted and
//! dropped (the core's decoders never panic). Nothing in the loop waits on a link.
//!
//! Build (from the workspace root; `FAILOVER_FW_CONFIG` picks the node's file):
//! `cargo build -p failover-firmware --target thumbv7em-none-eabihf --profile firmware`.
#![no_std]
#![no_main]

mod app;
mod bsp;
mod config;
mod console;
#[cfg(feature = "test-hooks")]
mod debug;
mod drivers;
mod fence;
mod link;
mod panic;
mod persist;
mod report;
mod smbus;
mod stack;

use cortex_m::peripheral::SCB;
use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    // Interrupts stay masked for good: they only wake `wfi` (see `app::idle`).
    cortex_m::interrupt::disable();
    let (Some(board), Some(core)) = (bsp::board::take(), cortex_m::Peripherals::take()) else {
        // Unreachable: both are taken once, here.
        SCB::sys_reset()
    };
    app::run(board, core.SYST)
}
