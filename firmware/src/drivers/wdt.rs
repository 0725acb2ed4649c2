//! Watchdog timer 1 (WDT1): resets the whole SoC unless kicked in time.
//!
//! Register facts relied on (QEMU 7.2 `aspeed.wdt-ast1030`, `hw/watchdog/wdt_aspeed.c`;
//! WDTn at `0x7E78_5000 + 0x80 * (n - 1)`):
//! - `0x04` reload value, in microseconds (1 MHz clock; on the AST2600 family the
//!   clock select bit is ignored and the clock is always 1 MHz).
//! - `0x08` restart: writing `0x4755` reloads the counter (a kick).
//! - `0x0C` control: bit 0 enable, bit 1 reset the system on timeout, bit 4 1 MHz
//!   clock. `0x13` arms it.
//! - On timeout QEMU resets the machine and emits the QMP event `WATCHDOG` (action
//!   `reset`) before `RESET`. SRAM is not cleared by that reset.
//! - The counter (`0x00`) does not count down in QEMU, and the timeout status register
//!   (`0x10`) reads 0: the firmware cannot learn the reset cause from the watchdog in
//!   QEMU, so it keeps its own record (`crate::persist`).

use super::Mmio;

const RELOAD: usize = 0x04;
const RESTART: usize = 0x08;
const CTRL: usize = 0x0C;
const RESTART_MAGIC: u32 = 0x4755;
const CTRL_ENABLE: u32 = 1 << 0;
const CTRL_RESET_SYSTEM: u32 = 1 << 1;
const CTRL_1MHZ: u32 = 1 << 4;

/// WDT1.
#[derive(Debug)]
pub(crate) struct Watchdog {
    regs: Mmio,
}

impl Watchdog {
    /// The watchdog whose registers are `regs`, stopped.
    pub(crate) fn new(regs: Mmio) -> Self {
        regs.write(CTRL, 0);
        Self { regs }
    }

    /// Arm it: reset the SoC unless kicked within `timeout_ms`.
    pub(crate) fn start(&mut self, timeout_ms: u32) {
        self.regs.write(RELOAD, timeout_ms.saturating_mul(1000));
        self.regs.write(RESTART, RESTART_MAGIC);
        self.regs.write(CTRL, CTRL_ENABLE | CTRL_RESET_SYSTEM | CTRL_1MHZ);
    }

    /// Reload the counter.
    pub(crate) fn kick(&mut self) {
        self.regs.write(RESTART, RESTART_MAGIC);
    }
}
