//! SMBus-style register access over any embedded-hal I2C master: the
//! [`RegisterBus`] the enclosure fence controller's protocol
//! (`failover_core::enclosure`) runs on, the same access the Linux backend makes
//! with `i2c_smbus_read_byte_data` / `i2c_smbus_write_byte_data`:
//! - read byte data: START addr+W, register, repeated START addr+R, one byte NACKed,
//!   STOP;
//! - write byte data: START addr+W, register, value, STOP.

use embedded_hal::i2c::I2c;
use failover_core::enclosure::RegisterBus;

/// One device at a 7-bit address on an I2C bus.
#[derive(Debug)]
pub(crate) struct SmbusDevice<I> {
    bus: I,
    address: u8,
}

impl<I: I2c> SmbusDevice<I> {
    /// The device at `address` on `bus`.
    pub(crate) const fn new(bus: I, address: u8) -> Self {
        Self { bus, address }
    }
}

impl<I: I2c> RegisterBus for SmbusDevice<I> {
    type Error = I::Error;

    fn read_reg(&mut self, reg: u8) -> Result<u8, I::Error> {
        let mut value = [0u8];
        self.bus.write_read(self.address, &[reg], &mut value)?;
        Ok(value[0])
    }

    fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), I::Error> {
        self.bus.write(self.address, &[reg, value])
    }
}
