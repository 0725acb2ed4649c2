//! ASPEED AST1030 evaluation board, as QEMU 7.2's `ast1030-evb` models it.
//!
//! Memory map and wiring (verified on QEMU 7.2; see `../shared/design/HIL-FIRMWARE.md`;
//! the interrupt numbers are QEMU's `aspeed_ast10x0.c` IRQ map):
//!
//! | what | where | QEMU |
//! |------|-------|------|
//! | console | UART5 `0x7E78_4000`, IRQ 8 | `-serial` #0 |
//! | path L (own host) | UART1 `0x7E78_3000`, IRQ 47 | `-serial` #1 |
//! | path B (peer BMC) | UART2 `0x7E78_D000`, IRQ 48 | `-serial` #2 |
//! | WDT1 | `0x7E78_5000` | QMP event `WATCHDOG` on timeout |
//! | timer 1 | `0x7E78_2000`, APB clock 50 MHz | |
//! | GPIO | `0x7E78_0000` | QOM `/machine/soc/gpio`, property `gpio<group><n>` |
//! | I2C | `0x7E7B_0000`, bus n at `+0x80 + 0x80 n` | bus n is `aspeed.i2c.bus.<n>` |
//!
//! Pins (outputs are active high and start low; the fence lines are for the peer):
//!
//! | pin | direction | meaning |
//! |-----|-----------|---------|
//! | GPIOA0 | out | cut the peer controller's SAS expander ports (enclosure) |
//! | GPIOA1 | out | reset the peer host (pulsed for `reset_pulse_ms`) |
//! | GPIOA2 | out | our host is hung or dead (fault indicator) |
//! | GPIOA3 | in  | our host is powered off or held in reset (high) |
//!
//! The enclosure fence controller (the CPLD of `failover_core::enclosure`) is taken to
//! answer on I2C bus 0 at `0x50`. The EVB has no such CPLD and QEMU no model of one;
//! what QEMU 7.2 puts there is the EVB's 24C08 EEPROM as an `smbus-eeprom`: 256 bytes
//! with SMBus byte-data access (command byte = register address), exactly the access
//! the fence protocol uses, so it stands in for the CPLD. (QEMU 7.2's user-creatable
//! `at24c-eeprom` would not do: even with `rom-size=256` it expects a 16-bit address
//! and reads `0xFF` after an 8-bit one; its backing file must be a multiple of 512
//! bytes.) The stand-in starts
//! blank and goes blank again at every SoC reset, so on this board the firmware
//! writes the CPLD's reset values (`ID`, `VERSION`, `PORT_ENABLE`) into it when all
//! five registers read zero ([`FENCE_STANDIN`]); from then on it behaves like a
//! healthy CPLD (as `i2c-stub` does for the Linux backend), except that its latch
//! does not survive a reset. On EVB silicon this would overwrite the first bytes of
//! that EEPROM: a real appliance board names its CPLD's bus and address here instead
//! and sets [`FENCE_STANDIN`] to false.

use core::sync::atomic::{AtomicBool, Ordering};

use cortex_m::peripheral::NVIC;

use super::{Board, Irq};
use crate::drivers::Mmio;
use crate::drivers::gpio::{Input, Output, PinId};
use crate::drivers::i2c::I2cBus;
use crate::drivers::timer::Monotonic;
use crate::drivers::uart::Uart;
use crate::drivers::wdt::Watchdog;

/// Core clock (SysTick source).
pub(crate) const CORE_CLOCK_HZ: u32 = 200_000_000;
/// APB clock (timer source).
pub(crate) const APB_CLOCK_HZ: u32 = 50_000_000;
/// UART divisor: 115200 baud from the 24 MHz UART clock on silicon.
const UART_DIVISOR: u16 = 1;

const UART5_CONSOLE: usize = 0x7E78_4000;
const UART1_HOST: usize = 0x7E78_3000;
const UART2_PEER: usize = 0x7E78_D000;
const UART1_IRQ: Irq = Irq(47);
const UART2_IRQ: Irq = Irq(48);
const WDT1: usize = 0x7E78_5000;
const TIMER: usize = 0x7E78_2000;
const GPIO: usize = 0x7E78_0000;
const I2C: usize = 0x7E7B_0000;

const fn i2c_bus(n: usize) -> usize {
    I2C + 0x80 + 0x80 * n
}

const PIN_CUT_PEER_PORTS: PinId = PinId::new(b'A', 0);
const PIN_RESET_PEER_HOST: PinId = PinId::new(b'A', 1);
const PIN_HOST_FAULT: PinId = PinId::new(b'A', 2);
const PIN_HOST_IN_RESET: PinId = PinId::new(b'A', 3);

/// The enclosure fence controller's bus and address.
const FENCE_BUS: usize = 0;
const FENCE_ADDRESS: u8 = 0x50;
/// The fence controller is a blank EEPROM standing in for the CPLD (module docs).
pub(crate) const FENCE_STANDIN: bool = true;

/// Build the board's drivers; `None` after the first call (each register block gets
/// one owner).
pub(crate) fn take() -> Option<Board> {
    static TAKEN: AtomicBool = AtomicBool::new(false);
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY (every `Mmio::new` below): the addresses are this SoC's register blocks
    // from the table above, and the guard above lets this run once, so each block has
    // one owner.
    let (console, host, peer, timer, wdt, gpio, fence_bus) = unsafe {
        (
            Mmio::new(UART5_CONSOLE),
            Mmio::new(UART1_HOST),
            Mmio::new(UART2_PEER),
            Mmio::new(TIMER),
            Mmio::new(WDT1),
            Mmio::new(GPIO),
            Mmio::new(i2c_bus(FENCE_BUS)),
        )
    };
    let mut console = Uart::new(console);
    console.init(UART_DIVISOR, false);
    let mut host = Uart::new(host);
    host.init(UART_DIVISOR, true);
    let mut peer = Uart::new(peer);
    peer.init(UART_DIVISOR, true);
    for irq in [UART1_IRQ, UART2_IRQ] {
        // SAFETY: interrupts stay masked by PRIMASK for the firmware's whole life (set
        // in `main` before this runs); enabling a line in the NVIC only lets it end a
        // `wfi`, no handler ever runs, so no critical section can be broken.
        unsafe { NVIC::unmask(irq) };
    }
    Some(Board {
        console,
        host,
        peer,
        clock: Monotonic::start(timer, APB_CLOCK_HZ),
        watchdog: Watchdog::new(wdt),
        fence_bus: I2cBus::new(fence_bus),
        fence_address: FENCE_ADDRESS,
        fence_standin: FENCE_STANDIN,
        cut_peer_ports: Output::new(gpio, PIN_CUT_PEER_PORTS, false),
        reset_peer_host: Output::new(gpio, PIN_RESET_PEER_HOST, false),
        host_fault: Output::new(gpio, PIN_HOST_FAULT, false),
        host_in_reset: Input::new(gpio, PIN_HOST_IN_RESET),
        wake_irqs: [UART1_IRQ, UART2_IRQ],
    })
}
