//! Drivers for the AST1030 blocks the BMC role needs, each small and polled.
//!
//! Every driver documents the register facts it relies on (offsets, bits, reset
//! values) and where they were verified: on QEMU 7.2's `ast1030-evb` model (see
//! `../shared/design/HIL-FIRMWARE.md`) and in QEMU's device sources. Where
//! embedded-hal 1.0 has a trait the driver implements it (GPIO: `OutputPin`,
//! `StatefulOutputPin`, `InputPin`; I2C: `I2c`); embedded-hal 1.0 has no serial,
//! watchdog or monotonic-clock trait, so those keep a small API of their own.
//!
//! Concurrency: the firmware runs one main loop with interrupts masked (PRIMASK set;
//! interrupts only wake `wfi`), so no register block is touched from two contexts and
//! read-modify-write sequences need no locking.

pub(crate) mod gpio;
pub(crate) mod i2c;
mod mmio;
pub(crate) mod timer;
pub(crate) mod uart;
pub(crate) mod wdt;

pub(crate) use mmio::Mmio;
