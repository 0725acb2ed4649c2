//! The last resort: a panic or a fault records why in the reset-surviving record and
//! resets the SoC (SYSRESETREQ), so the next boot reports it (`cause=panic detail=<line>`
//! or `cause=fault detail=<pc>`). Nothing here touches the peripherals: the UARTs
//! belong to the main loop, and a fault may have come from one of them.
//!
//! The firmware does not panic on bad input (decoding never panics, every buffer is
//! bounded); a panic is a bug, and a reset is the safe way out of it: the watchdog
//! would do the same, later.

use cortex_m::peripheral::SCB;
use cortex_m_rt::{ExceptionFrame, exception};

use crate::persist::{self, Intent};

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    persist::set_intent(Intent::Panic, info.location().map_or(0, |l| l.line()));
    SCB::sys_reset()
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    persist::set_intent(Intent::Fault, frame.pc());
    SCB::sys_reset()
}
