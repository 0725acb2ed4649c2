//! GPIO pins of the AST1030's 3.3 V GPIO controller, as embedded-hal 1.0 pins.
//!
//! Register facts relied on (QEMU 7.2 `aspeed.gpio-ast1030`, 151 pins in groups A..U;
//! `hw/gpio/aspeed_gpio.c`):
//! - Pins come in sets of four 8-pin groups sharing one 32-bit data register and one
//!   direction register (1 = output): A-D at `0x000` / `0x004`, E-H `0x020` / `0x024`,
//!   I-L `0x070` / `0x074`, M-P `0x078` / `0x07C`, Q-T `0x080` / `0x084`, U `0x088` /
//!   `0x08C`. A pin's bit is (its group's place in the set) * 8 + its number: GPIOA0
//!   is bit 0, GPIOB0 bit 8, GPIOD7 bit 31.
//! - Writing the data register changes output pins only; reading it returns the level
//!   of every pin of the set (outputs read back what was driven).
//! - After reset every pin is an input and every data bit 0.
//! - A test sees a pin as QOM property `gpio<group><n>` of `/machine/soc/gpio` (QMP
//!   `qom-get`; `qom-set` drives input pins only).
//!
//! Not modelled by QEMU, so not done here: the SCU multi-function pin registers that
//! must route a ball to the GPIO controller on silicon.

use core::convert::Infallible;

use embedded_hal::digital::{ErrorType, InputPin, OutputPin, StatefulOutputPin};

use super::Mmio;

/// Where one pin lives: its set's data and direction registers and its bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PinId {
    data: usize,
    dir: usize,
    mask: u32,
}

impl PinId {
    /// GPIO `group` (`'A'..='U'`) pin `n` (0..=7). A bad pin fails at compile time
    /// when used in a `const` (as the board support module does).
    pub(crate) const fn new(group: u8, n: u8) -> Self {
        assert!(n < 8, "a GPIO group has pins 0..=7");
        let (data, dir, first) = match group {
            b'A'..=b'D' => (0x000, 0x004, b'A'),
            b'E'..=b'H' => (0x020, 0x024, b'E'),
            b'I'..=b'L' => (0x070, 0x074, b'I'),
            b'M'..=b'P' => (0x078, 0x07C, b'M'),
            b'Q'..=b'T' => (0x080, 0x084, b'Q'),
            b'U' => (0x088, 0x08C, b'U'),
            _ => panic!("GPIO groups are A..=U"),
        };
        let bit = (group - first) as u32 * 8 + n as u32;
        Self { data, dir, mask: 1 << bit }
    }
}

/// A pin configured as a push-pull output.
#[derive(Debug)]
pub(crate) struct Output {
    regs: Mmio,
    id: PinId,
}

impl Output {
    /// Make `id` an output driving `high` (the level is set before the direction, so
    /// the pin never glitches to the other level).
    pub(crate) fn new(regs: Mmio, id: PinId, high: bool) -> Self {
        let mut pin = Self { regs, id };
        pin.drive(high);
        regs.modify(id.dir, 0, id.mask);
        pin
    }

    fn drive(&mut self, high: bool) {
        if high {
            self.regs.modify(self.id.data, 0, self.id.mask);
        } else {
            self.regs.modify(self.id.data, self.id.mask, 0);
        }
    }
}

impl ErrorType for Output {
    type Error = Infallible;
}

impl OutputPin for Output {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.drive(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.drive(true);
        Ok(())
    }
}

impl StatefulOutputPin for Output {
    fn is_set_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.regs.read(self.id.data) & self.id.mask != 0)
    }

    fn is_set_low(&mut self) -> Result<bool, Infallible> {
        self.is_set_high().map(|h| !h)
    }
}

/// A pin configured as an input.
#[derive(Debug)]
pub(crate) struct Input {
    regs: Mmio,
    id: PinId,
}

impl Input {
    /// Make `id` an input.
    pub(crate) fn new(regs: Mmio, id: PinId) -> Self {
        regs.modify(id.dir, id.mask, 0);
        Self { regs, id }
    }
}

impl ErrorType for Input {
    type Error = Infallible;
}

impl InputPin for Input {
    fn is_high(&mut self) -> Result<bool, Infallible> {
        Ok(self.regs.read(self.id.data) & self.id.mask != 0)
    }

    fn is_low(&mut self) -> Result<bool, Infallible> {
        self.is_high().map(|h| !h)
    }
}
