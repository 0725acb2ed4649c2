//! I2C master on one bus of the AST1030's I2C controller, byte mode, polled; an
//! embedded-hal 1.0 [`I2c`].
//!
//! Register facts relied on (QEMU 7.2 `aspeed.i2c-ast1030`, `hw/i2c/aspeed_i2c.c`;
//! the "old" register mode, which is the reset state: global control `0x0C` bit 2
//! clear). Bus `n` (0..=13) is the block at controller base + `0x80` + `0x80 * n`:
//!
//! | offset | register      | bits used |
//! |--------|---------------|-----------|
//! | `0x00` | function ctrl | bit 0: master enable |
//! | `0x0C` | interrupt enable | QEMU ANDs the status with it, so it is set to `0x7F` even though we poll |
//! | `0x10` | status (write 1 to clear) | 0 TX ACK, 1 TX NAK, 2 RX done, 3 arbitration lost, 4 normal stop, 5 abnormal (stop without a transfer), 6 SCL timeout |
//! | `0x14` | command       | 0 START (sends the address byte from the buffer), 1 TX, 3 RX, 4 RX last (NACK after it), 5 STOP |
//! | `0x20` | byte buffer   | TX byte in 7:0, received byte in 15:8 |
//!
//! - A START takes the address byte (7-bit address << 1 | read) from the byte buffer
//!   and answers TX ACK, or TX NAK when nobody answers (a missing device NAKs).
//! - A START while a transfer is active is a repeated start.
//! - An RX command is ignored while RX done is still set: the status is cleared before
//!   every command.
//! - QEMU completes each command before the register write returns; silicon takes a
//!   byte time, so every wait is a bounded poll of the status register.
//!
//! Not done (not modelled by QEMU): the AC timing registers that set the bus speed on
//! silicon, the SCU pin multiplexing and bus reset.

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation, SevenBitAddress};

use super::Mmio;

const FUN_CTRL: usize = 0x00;
const INTR_CTRL: usize = 0x0C;
const INTR_STS: usize = 0x10;
const CMD: usize = 0x14;
const BYTE_BUF: usize = 0x20;

const MASTER_EN: u32 = 1 << 0;
const INTR_ALL: u32 = 0x7F;

const STS_TX_ACK: u32 = 1 << 0;
const STS_TX_NAK: u32 = 1 << 1;
const STS_RX_DONE: u32 = 1 << 2;
const STS_ARB_LOSS: u32 = 1 << 3;
const STS_STOP: u32 = 1 << 4;
const STS_ABNORMAL: u32 = 1 << 5;
const STS_SCL_TIMEOUT: u32 = 1 << 6;
const STS_FAULTS: u32 = STS_ARB_LOSS | STS_ABNORMAL | STS_SCL_TIMEOUT;

const CMD_START: u32 = 1 << 0;
const CMD_TX: u32 = 1 << 1;
const CMD_RX: u32 = 1 << 3;
const CMD_RX_LAST: u32 = 1 << 4;
const CMD_STOP: u32 = 1 << 5;

/// Status polls before a command counts as timed out: at 200 MHz, well over the
/// ~100 us a byte takes at 100 kHz.
const POLLS: u32 = 200_000;

/// Why a transfer failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum I2cError {
    /// Nobody acknowledged the address.
    AddressNak,
    /// The device refused a data byte.
    DataNak,
    /// Arbitration lost, an abnormal condition or SCL held low.
    Bus,
    /// The controller did not finish a command in time.
    Timeout,
}

impl embedded_hal::i2c::Error for I2cError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::AddressNak => ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address),
            Self::DataNak => ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data),
            Self::Bus => ErrorKind::Bus,
            Self::Timeout => ErrorKind::Other,
        }
    }
}

/// One bus of the controller, as master.
#[derive(Debug)]
pub(crate) struct I2cBus {
    regs: Mmio,
}

impl I2cBus {
    /// The bus whose registers are `regs`, enabled as master.
    pub(crate) fn new(regs: Mmio) -> Self {
        regs.write(FUN_CTRL, MASTER_EN);
        regs.write(INTR_CTRL, INTR_ALL);
        regs.write(INTR_STS, u32::MAX);
        Self { regs }
    }

    /// Issue `cmd` and wait for any of `done`; the status bits seen.
    fn command(&mut self, cmd: u32, done: u32) -> Result<u32, I2cError> {
        self.regs.write(INTR_STS, u32::MAX);
        self.regs.write(CMD, cmd);
        for _ in 0..POLLS {
            let sts = self.regs.read(INTR_STS);
            if sts & STS_FAULTS != 0 && done & STS_ABNORMAL == 0 {
                return Err(I2cError::Bus);
            }
            if sts & done != 0 {
                return Ok(sts);
            }
        }
        Err(I2cError::Timeout)
    }

    fn start(&mut self, address: u8, read: bool) -> Result<(), I2cError> {
        self.regs.write(BYTE_BUF, u32::from(address << 1 | u8::from(read)));
        let sts = self.command(CMD_START, STS_TX_ACK | STS_TX_NAK)?;
        if sts & STS_TX_NAK != 0 { Err(I2cError::AddressNak) } else { Ok(()) }
    }

    fn send(&mut self, byte: u8) -> Result<(), I2cError> {
        self.regs.write(BYTE_BUF, u32::from(byte));
        let sts = self.command(CMD_TX, STS_TX_ACK | STS_TX_NAK)?;
        if sts & STS_TX_NAK != 0 { Err(I2cError::DataNak) } else { Ok(()) }
    }

    fn receive(&mut self, last: bool) -> Result<u8, I2cError> {
        let cmd = if last { CMD_RX | CMD_RX_LAST } else { CMD_RX };
        self.command(cmd, STS_RX_DONE)?;
        Ok((self.regs.read(BYTE_BUF) >> 8) as u8)
    }

    /// STOP; after a NAK'd address QEMU reports it as "abnormal", which is fine here.
    fn stop(&mut self) -> Result<(), I2cError> {
        self.command(CMD_STOP, STS_STOP | STS_ABNORMAL).map(drop)
    }

    fn run(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), I2cError> {
        let mut previous_read = None;
        for i in 0..operations.len() {
            let next_read = operations.get(i + 1).map(|op| matches!(op, Operation::Read(_)));
            let read = matches!(operations[i], Operation::Read(_));
            // A START (or repeated start) whenever the direction changes; adjacent
            // operations of one direction continue the same transfer.
            if previous_read != Some(read) {
                self.start(address, read)?;
                previous_read = Some(read);
            }
            match &mut operations[i] {
                Operation::Write(bytes) => bytes.iter().try_for_each(|&b| self.send(b))?,
                Operation::Read(buf) => {
                    // NACK the last byte read before a direction change or the STOP.
                    let nack_last = next_read != Some(true);
                    let n = buf.len();
                    for (j, b) in buf.iter_mut().enumerate() {
                        *b = self.receive(nack_last && j + 1 == n)?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl ErrorType for I2cBus {
    type Error = I2cError;
}

impl I2c<SevenBitAddress> for I2cBus {
    fn transaction(&mut self, address: u8, operations: &mut [Operation<'_>]) -> Result<(), I2cError> {
        let result = self.run(address, operations);
        // Always release the bus; the transfer's own error is the one to report.
        let stopped = self.stop();
        result.and(stopped)
    }
}
